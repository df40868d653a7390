"""Delivery status notifications and bounces about our e-mails (RULES §3 "Service", issue 21 point 2).

The agency's mail system hands every message that comes back to the envelope sender (a delivery report, a bounce)
to `POST /api/v1/mail/returns`, as raw RFC 5322 bytes, with the shared token (`DISCLOSURE_MAIL_RETURNS_TOKEN`):
Postfix's `pipe` transport or any mail gateway's webhook can do it; the embedded mail sink of `make run` does it
itself (core/mailsink.py). Each report is matched to the letter it is about (its Message-ID, or the ENVID our
relay returns) and applied:

- delivered: the e-mail reached the addressee's own mail system: that day serves a notice that starts a period
  (supplement, fee, reasons: the application's `letter_served`; a consultation letter: its child's `record_service`);
- failed: the notice was not served: `notice_event(unservable)` (or the child's), and staff are told;
- delayed: noted on the letter's evidence only.

Recorded once per (return, recipient): a return posted twice changes nothing the second time.
"""

import hashlib
import hmac

from fastapi import APIRouter, Header, HTTPException, Request, status
from pydantic import BaseModel, Field
from sqlalchemy import func
from sqlmodel import Session, select

import notices
from api.deps import ClientDep, SessionDep, SettingsDep
from api.offloop import blocking
from api.temporal_calls import run_update
from clock import local_date
from contracts.models import StaffAlertInput
from core import clock
from db import letters_repository as repo
from db import repository
from db.letters_repository import FileStore
from db.models_letters import LetterOutbox, MailReturn
from letters.returns import ReturnReport, parse_return
from contracts.application_view import ApplicationView
from contracts.consultations import ConsultationView, RecordService
from contracts.service import LetterServed, NoticeEvent

router = APIRouter(prefix="/api/v1/mail", tags=["mail-returns"])

CONSULTATION_LETTERS = notices.CONSULTATION_LETTER_KINDS
NOTICES = notices.APPLICATION_NOTICE_KINDS
MAX_RETURN_BYTES = 10 * 1024 * 1024


class ReturnApplied(BaseModel):
    recipient: str | None
    action: str
    letter_key: str | None = Field(description="the letter it is about; None: not one of ours")
    applied: str = Field(description="what it changed, in words")


class ReturnsOut(BaseModel):
    reports: list[ReturnApplied]
    already_recorded: bool = False


def _return_id(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def _match(session: Session, report: ReturnReport) -> LetterOutbox | None:
    if report.original_message_id:
        row = session.exec(select(LetterOutbox).where(LetterOutbox.message_id == report.original_message_id)).first()
        if row is not None:
            return row
    if report.envelope_id:  # the ENVID is our key; a relay may have changed its case
        return repo.get_outbox(session, report.envelope_id) or session.exec(
            select(LetterOutbox).where(func.upper(LetterOutbox.key) == report.envelope_id.upper())).first()
    return None


def _record(session: Session, settings, raw: bytes, reports: list[ReturnReport]) -> list[tuple[ReturnReport, LetterOutbox | None, bool]]:
    """Store the returned message and one row per recipient; (report, letter, new) each."""
    sha = FileStore(settings.data_dir).put(raw)
    repo.add_stored_file(session, sha, len(raw))
    return_id = _return_id(raw)
    out = []
    for report in reports:
        row = _match(session, report)
        recipient = (report.recipient or "")[:300]
        existing = session.exec(select(MailReturn).where(MailReturn.return_id == return_id,
                                                         MailReturn.recipient == recipient)).first()
        if existing is None:
            session.add(MailReturn(return_id=return_id, recipient=recipient, letter_key=row.key if row else None,
                                   action=report.action, status=report.status[:20], diagnostic=report.diagnostic[:500],
                                   reporting_mta=report.reporting_mta[:200], reported_at=report.at, raw_sha256=sha))
            if row is not None and report.action == "failed" and row.kind not in NOTICES + CONSULTATION_LETTERS:
                repository.insert_staff_alert(session, StaffAlertInput(
                    key=f"{row.key}:bounced", application_id=row.application_id, kind="delivery-problem",
                    role="handler", message=f"{row.application_id} 的文书电子邮件被退回（{report.status} "
                    f"{report.diagnostic[:120]}），未送达申请人，请改为邮寄或联系申请人"))
        out.append((report, row, existing is None))
    session.commit()
    return out


def _evidence(report: ReturnReport) -> str:
    when = report.at.isoformat() if report.at else ""
    return (f"送达状态通知：收件人邮件系统{f'（{report.reporting_mta}）' if report.reporting_mta else ''}"
            f"{when and f'于 {when} '}确认已投递至 {report.recipient}（{report.status}）")


async def _apply(client, report: ReturnReport, row: LetterOutbox) -> str:
    today = clock.today()
    on = local_date(report.at) if report.at else today  # the workflow refuses a date after its own today
    if report.action == "delivered":
        if row.kind in NOTICES:
            await run_update(client, row.application_id, "letter_served", LetterServed(
                key=row.key, served_on=on, method="email", evidence=_evidence(report), by="mail-returns"),
                ApplicationView, what="申请", ended=lambda: "本申请已办结")
            return f"已送达（{on}）：期限自该日起计算"
        if row.kind in CONSULTATION_LETTERS:
            await run_update(client, row.key.removesuffix(":letter"), "record_service", RecordService(
                served_on=on, how="email", evidence=_evidence(report), by="mail-returns"),
                ConsultationView, what="征求意见", ended=lambda: "征求意见已结束")
            return f"已送达（{on}）：意见期限自该日起计算"
        return f"已送达（{on}）"
    if report.action == "failed":
        reason = f"电子邮件被退回：{report.status} {report.diagnostic}".strip()[:400]
        if row.kind in NOTICES:
            await run_update(client, row.application_id, "notice_event", NoticeEvent(
                key=row.key, event="unservable", on=today, detail=reason, by="mail-returns"),
                ApplicationView, what="申请", ended=lambda: "本申请已办结")
            return "未能送达：期限不起算，已告知承办人"
        if row.kind in CONSULTATION_LETTERS:
            await run_update(client, row.key.removesuffix(":letter"), "record_service", RecordService(
                unservable_on=today, unservable_reason=reason, by="mail-returns"),
                ConsultationView, what="征求意见", ended=lambda: "征求意见已结束")
            return "未能送达：意见期限不起算，已告知承办人"
        return "未能送达：已告知承办人"
    return "已记录"


@router.post("/returns", response_model=ReturnsOut,
             responses={401: {"description": "口令不正确"}, 404: {"description": "未启用"},
                        413: {"description": "邮件过大"}, 422: {"description": "不是送达状态通知或退信"}})
async def mail_returns(request: Request, session: SessionDep, settings: SettingsDep, client: ClientDep,
                       x_mail_returns_token: str = Header(default="", description="DISCLOSURE_MAIL_RETURNS_TOKEN")) -> ReturnsOut:
    """One returned message (a delivery status notification or a bounce), raw, as the mail system received it."""
    expected = settings.mail_returns_token
    if not expected:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "未启用退信处理（DISCLOSURE_MAIL_RETURNS_TOKEN 未设置）")
    if not hmac.compare_digest(x_mail_returns_token.encode(), expected.encode()):
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "口令不正确")
    raw = await request.body()
    if len(raw) > MAX_RETURN_BYTES:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, "邮件超过 10 MB")
    reports = parse_return(raw)
    if not reports:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "该邮件不是送达状态通知或退信，未作处理")
    recorded = await blocking(_record, session, settings, raw, reports)
    out, fresh = [], False
    for report, row, new in recorded:
        fresh = fresh or new
        if row is None:
            out.append(ReturnApplied(recipient=report.recipient, action=report.action, letter_key=None,
                                     applied="不是本机关发出的文书，未作处理"))
            continue
        try:
            applied = await _apply(client, report, row) if new else "此前已处理"
        except HTTPException as refused:
            if refused.status_code not in (status.HTTP_409_CONFLICT, status.HTTP_404_NOT_FOUND):
                raise
            applied = f"已记录，未改变期限：{refused.detail}"
        out.append(ReturnApplied(recipient=report.recipient, action=report.action, letter_key=row.key, applied=applied))
    return ReturnsOut(reports=out, already_recorded=not fresh)
