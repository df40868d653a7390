"""Service (送达) of a notice that starts a period (RULES §3 "Service"). Pure: no clock, no I/O.

One implementation for the four notices that start a period: the supplement notice (Reg. 30, 补正期限), the fee
notice (国办函〔2020〕109号: 自收到收费通知之日起20个工作日), a consultation letter (Reg. 32, 34: 自收到征求意见书之日起15个
工作日) and the request for reasons (Reg. 35). Each is

- **dispatched**: it left the agency (our mail relay accepted it, staff handed it to the post, it was put on the
  portal). The reply period stops here where a pause applies (the fee, a consultation); the addressee's period has not
  started.
- **served**: it provably reached its addressee: the post's signed-for date (return card or tracking), the signature
  when handed over, for e-mail the day it reached the addressee's own mail system (民事诉讼法 第九十条 by analogy:
  到达受送达人特定系统的日期, shown by a delivery status notification, the addressee's server accepting it, a download
  or a reply), for the portal the day the addressee opened it. The period runs from that day.
- or **unservable**: the e-mail bounced, the letter came back. Staff are told and serve it another way; 公告送达 is the
  last resort, deemed served `public_notice_days` days after publication (民事诉讼法 第九十五条 by analogy; 30 days
  by default, an agency setting).

Until served, nothing runs: no lapse, no 其他处理-1/-2, no "silence" of a consultee. A proof recorded late counts
from the true date. Every period's explanation says which proof started it.
"""

from datetime import date, timedelta

from clock import add_working_days_from
from contracts.service import NoticeService, ServiceHow
from workcalendar import WorkCalendar

# 民事诉讼法 第九十五条 (by analogy): 自发出公告之日起，经过三十日，即视为送达. An agency setting may change it.
PUBLIC_NOTICE_DAYS = 30

HOW_WORDS: dict[ServiceHow, str] = {
    "post": "邮寄签收",
    "hand": "直接送达签收",
    "pickup": "当面领取签收",
    "email": "电子邮件到达收件人邮件系统",
    "portal": "申请人在线查看",
    "reply": "收件人回复确认",
    "public-notice": "公告送达",
}

# The letter kinds whose receipt starts a period: the application's notices (served through its `letter_served` and
# `notice_event`) and the consultation letters (served through the consultation child's `record_service`).
APPLICATION_NOTICE_KINDS = ("supplement-notice", "fee-notice", "reasons-request")
CONSULTATION_LETTER_KINDS = ("consultation-letter", "agency-consultation-letter")
PERIOD_NOTICE_KINDS = APPLICATION_NOTICE_KINDS + CONSULTATION_LETTER_KINDS

__all__ = ["APPLICATION_NOTICE_KINDS", "CONSULTATION_LETTER_KINDS", "PERIOD_NOTICE_KINDS", "PUBLIC_NOTICE_DAYS", "HOW_WORDS", "NoticeService", "new_notice", "dispatch", "serve", "unservable",
           "publish", "recount", "running", "status_words", "why_not_serve"]


def new_notice(key: str, what: str, days: int) -> NoticeService:
    return NoticeService(key=key, what=what, days=days)


def dispatch(n: NoticeService, on: date, evidence: str = "") -> NoticeService:
    """It left the agency on `on` (first dispatch only: a later one does not move the date)."""
    if n.dispatched_on is not None:
        return n
    return n.model_copy(update={"dispatched_on": on, "dispatch_evidence": evidence})


def serve(n: NoticeService, cal: WorkCalendar, on: date, how: ServiceHow, evidence: str = "",
          by: str = "system") -> NoticeService:
    """Proven receipt on `on`: the addressee's `days` working days run from it (day 0), to the end of the last."""
    ends_on, provisional = add_working_days_from(cal, on, n.days)
    return n.model_copy(update={
        "dispatched_on": n.dispatched_on or on, "served_on": on, "served_how": how, "served_evidence": evidence,
        "served_by": by, "ends_on": ends_on, "ends_provisional": provisional,
    })


def unservable(n: NoticeService, on: date, reason: str) -> NoticeService:
    """Could not be served (bounce, returned letter): nothing runs; staff serve it another way."""
    return n.model_copy(update={"unservable_on": on, "unservable_reason": reason})


def publish(n: NoticeService, cal: WorkCalendar, published_on: date, where: str, by: str,
            public_notice_days: int = PUBLIC_NOTICE_DAYS) -> NoticeService:
    """公告送达: deemed served `public_notice_days` calendar days after publication (民事诉讼法 第九十五条 by analogy)."""
    deemed = published_on + timedelta(days=public_notice_days)
    served = serve(n, cal, deemed, "public-notice",
                   f"{published_on} 在{where}公告，经过 {public_notice_days} 日视为送达", by)
    return served.model_copy(update={"public_notice_on": published_on})


def recount(n: NoticeService, cal: WorkCalendar) -> NoticeService:
    """The same period on another calendar (a year published): counted again from the same receipt."""
    if n.served_on is None:
        return n
    ends_on, provisional = add_working_days_from(cal, n.served_on, n.days)
    return n.model_copy(update={"ends_on": ends_on, "ends_provisional": provisional})


def running(n: NoticeService | None) -> bool:
    """The addressee's period runs (served): only then can it end, lapse or be silent."""
    return n is not None and n.served_on is not None and n.ends_on is not None


def why_not_serve(n: NoticeService, on: date, today: date, issued_on: date) -> str | None:
    """A proof of receipt staff enter: once, not before the notice was made, not in the future."""
    if n.served_on is not None and n.served_how != "public-notice":
        return f"{n.what}已于 {n.served_on} 送达，送达日期已登记"
    if not issued_on <= on <= today:
        return f"送达日期须在{n.what}制作之日 {issued_on} 至今天之间"
    if n.dispatched_on is not None and on < n.dispatched_on:
        return f"送达日期不能早于{n.what}发出之日 {n.dispatched_on}"
    return None


def status_words(n: NoticeService) -> str:
    """Where the notice stands and, once served, which proof started the period (shown with every deadline)."""
    if n.served_on is not None and n.ends_on is not None:
        proof = HOW_WORDS[n.served_how] if n.served_how else "送达"
        text = (f"{n.what}于 {n.served_on} 送达（{proof}" + (f"：{n.served_evidence}" if n.served_evidence else "")
                + f"），自收到之日起 {n.days} 个工作日，至 {n.ends_on} 止")
        if n.ends_provisional:
            text += "（所涉年度放假安排尚未公布，按周末及固定节假日暂算）"
        return text
    if n.unservable_on is not None:
        return (f"{n.what}未能送达（{n.unservable_on}：{n.unservable_reason}），期限尚未起算；"
                "请以其他方式送达，确实无法送达的可公告送达")
    if n.dispatched_on is not None:
        return (f"{n.what}已于 {n.dispatched_on} 发出" + (f"（{n.dispatch_evidence}）" if n.dispatch_evidence else "")
                + f"，尚无送达证据：{n.days} 个工作日自收到之日起计算，送达前期限不起算")
    return f"{n.what}尚未发出：{n.days} 个工作日自收到之日起计算"
