"""不予处理-2 (Reg. 36(6) 重复申请; RULES §6; issue 24 point 7): the earlier application a repeat names must exist, be
the same applicant's (the same validated identity number), be answered already, and have an item that matches the
repeated one (outcomes/similar.py's score, shown to the handler). The check reads the database; the API runs it
before the handler's proposal reaches the workflow."""

from dataclasses import dataclass

from sqlmodel import Session, col, select

from contracts.status import STAFF_LABELS
from db.models import Application, ApplicationItem
from db.models_fees import ApplicantIdentity
from outcomes.similar import SIMILAR_AT, EarlierItem, similar_items

ANSWERED = ("awaiting-delivery", "closed")  # the reply signed (and sent): the earlier application was answered


@dataclass(frozen=True)
class RepeatCheck:
    refusal: str | None
    score: float | None = None
    earlier_item_no: int | None = None


def check_repeat(session: Session, application_id: str, item_no: int, earlier_id: str) -> RepeatCheck:
    """Why `item_no` of `application_id` is not a repeat of `earlier_id` (None when it is), with the best score."""
    earlier_id = earlier_id.strip()
    this, earlier = session.get(Application, application_id), session.get(Application, earlier_id)
    if this is None or earlier is None or earlier_id == application_id:
        return RepeatCheck(f"没有申请编号为 {earlier_id} 的此前申请，不能认定为重复申请")
    mine, theirs = session.get(ApplicantIdentity, application_id), session.get(ApplicantIdentity, earlier_id)
    if mine is None:
        return RepeatCheck("本申请未登记申请人身份证件号码，无法核对是否为同一申请人的重复申请")
    if theirs is None or theirs.identity != mine.identity:
        return RepeatCheck(f"申请 {earlier_id} 不是同一申请人（身份证件号码不同）提出的，不能认定为重复申请")
    if earlier.received_on > this.received_on:
        return RepeatCheck(f"申请 {earlier_id} 收到于本申请之后，不是此前的申请")
    if earlier.status not in ANSWERED:
        return RepeatCheck(f"申请 {earlier_id} 尚未作出答复（{STAFF_LABELS.get(earlier.status, earlier.status)}），"
                           "不能认定为重复申请")
    item = session.get(ApplicationItem, (application_id, item_no))
    earlier_items = session.exec(select(ApplicationItem).where(col(ApplicationItem.application_id) == earlier_id)).all()
    if item is None or not earlier_items:
        return RepeatCheck(f"无法核对第 {item_no} 项与申请 {earlier_id} 的事项")
    found = similar_items([item.description], [EarlierItem(earlier_id, e.item_no, e.description, e.outcome)
                                                for e in earlier_items], threshold=0)
    best = found[0]
    if best.score < SIMILAR_AT:
        return RepeatCheck(f"第 {item_no} 项与申请 {earlier_id} 的各项内容不相同（最相近的是其第 {best.earlier.item_no} 项，"
                           f"相似度 {best.score:.1f}，须达到 {SIMILAR_AT:.0f}），不能认定为重复申请", best.score,
                           best.earlier.item_no)
    return RepeatCheck(None, best.score, best.earlier.item_no)
