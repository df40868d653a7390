"""Letters: issued documents (PDF, 文号, delivery status), the reply draft's preview and edit, attachments,
envelopes for post, and the applicant's download of the reply (portal).

`reply_pdf_for_download` is the hook for the applicant portal: it returns the stored, checksum-verified
reply PDF of an application (None while there is none). The portal route checks the applicant's query
code (X-Query-Code, api.routes.applicant); staff routes take the acting user from the token (api.security)
and hide other departments' applications from handlers (404), like the application routes.
"""

from datetime import UTC, date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, Form, HTTPException, Request, Response, UploadFile, status
from pydantic import BaseModel, Field
from sqlalchemy import Engine
from sqlmodel import Session

import notices
from api.deps import CalendarDep, ClientDep, Owned, SessionDep, SettingsDep, catch_up_before_acting, ensure_visible
from api.offloop import blocking, rendering
from api.schemas import _without_by
from api.security import STAFF_READERS, require
from api.temporal_calls import run_query, run_update
from clock.deadline import SHANGHAI
from core import clock
from core.config import Settings
from db import letters_repository as repo
from db.letters_repository import ChecksumMismatch, FileStore
from db.models import Application
from db.models_letters import LetterAttachment, LetterOutbox
from db.models_security import StaffUser
from letters.documents import render_envelope_pdf, render_letter_pdf
from contracts.application_view import ApplicationView, StateQuery
from contracts.consultations import ConsultationView, RecordService
from contracts.reply import ConfirmDelivery, EditReplyDraft
from contracts.service import LetterServed, NoticeEvent

staff = APIRouter(prefix="/api/v1/applications", tags=["letters"])
portal = APIRouter(prefix="/api/v1/portal", tags=["portal"])
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
EditReplyDraftBody = _without_by(EditReplyDraft)
Reader = Annotated[StaffUser, Depends(require(*STAFF_READERS))]
Handler = Annotated[StaffUser, Depends(require("handler"))]
Desk = Annotated[StaffUser, Depends(require("registrar", "handler"))]


class ServiceEvidence(BaseModel):
    """送达证据: what shows that and when the letter reached its addressee (what a court would ask for)."""

    served_on: date | None = Field(None, description="送达日期: the receipt date every window counted from receipt uses")
    method: str | None = Field(None, description="email | post | pickup | portal | hand")
    message_id: str | None = None
    accepted_at: datetime | None = Field(None, description="the instant the mail server accepted the message (250 to DATA)")
    smtp_reply: str | None = Field(None, description="the mail server's reply, as received")
    posted_on: date | None = None
    tracking_number: str | None = None
    received_by: str | None = Field(None, description="签收人 / 领取人 (who signed)")
    handed_over_by: str | None = Field(None, description="pickup: the staff member who handed it over")
    entered_by: str | None = Field(None, description="who entered the receipt evidence")
    entered_at: datetime | None = None
    downloaded_at: datetime | None = Field(None, description="the applicant's first download through the portal")
    downloaded_by: str | None = None
    receipt_scan_sha256: str | None = Field(None, description="the uploaded scan of the signed receipt")
    note: str | None = None
    lines: list[str] = Field(default_factory=list, description="the evidence in words, one fact a line")


def _at(moment: datetime | None) -> str:
    if moment is None:
        return ""
    return f"{_local(moment):%Y-%m-%d %H:%M:%S}（北京时间）"


def _local(moment: datetime) -> datetime:
    """Shanghai time; stored timestamps are UTC (db.models.UTCDateTime)."""
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(SHANGHAI)


def return_lines(rows: list, at) -> tuple[list[str], datetime | None]:
    """Evidence lines, and the instant the addressee's mail system reported delivery (None: not reported)."""
    lines, delivered = [], None
    for row in rows:
        where = f"（{row.reporting_mta}）" if row.reporting_mta else ""
        if row.action == "delivered":
            delivered = delivered or row.reported_at
            lines.append(f"送达状态通知：收件人邮件系统{where}于 {at(row.reported_at)} 确认投递至 {row.recipient}（{row.status}）")
        elif row.action == "failed":
            lines.append(f"退信：收件人邮件系统{where}于 {at(row.reported_at)} 退回（{row.status} {row.diagnostic}），未送达")
        else:
            lines.append(f"延迟：收件人邮件系统{where}于 {at(row.reported_at)} 报告投递延迟（{row.status} {row.diagnostic}）")
    return lines, delivered


def service_evidence(row: LetterOutbox, returns: list | None = None) -> ServiceEvidence:
    """The proof of service of one letter, with each fact worded as staff would cite it. Our relay's acceptance of an
    e-mail is its dispatch; its receipt is the addressee's mail system's delivery report (RULES §3 Service)."""
    lines = []
    if row.message_id and row.sent_at:
        lines.append(f"电子邮件：本机关发信服务器于 {_at(row.sent_at)} 接收（发出），服务器答复「{row.smtp_reply or '250'}」，"
                     f"Message-ID {row.message_id}，收件地址 {row.email}")
    returned, reported_at = return_lines(returns or [], _at)
    lines += returned
    if row.posted_on or row.tracking_number:
        lines.append("邮寄：" + "，".join(filter(None, [
            f"{row.posted_on} 交邮" if row.posted_on else "", f"邮件单号 {row.tracking_number}" if row.tracking_number else ""])))
    entered = f"（{row.served_entered_by} 于 {_at(row.served_entered_at)} 登记）" if row.served_entered_by else ""
    if row.delivered_on and row.served_method == "post":
        lines.append(f"签收：{row.delivered_on} 签收" + (f"，签收人 {row.received_by}" if row.received_by else "") + entered)
    elif row.delivered_on and row.served_method in ("pickup", "hand"):
        lines.append(f"{'领取' if row.served_method == 'pickup' else '直接送达'}：{row.delivered_on}"
                     + (f"，{row.received_by} 签收" if row.received_by else "")
                     + (f"，经办人 {row.handed_over_by}" if row.handed_over_by else "") + entered)
    elif row.posted_on and row.served_entered_by and not row.delivered_on:
        lines.append(f"签收日期尚未登记{entered}")
    if row.downloaded_at:
        lines.append(f"在线下载：{row.downloaded_by or '申请人'}于 {_at(row.downloaded_at)} 下载")
    if row.receipt_scan_sha256:
        lines.append(f"签收单扫描件已上传（SHA-256 {row.receipt_scan_sha256[:16]}…）")
    if row.service_note:
        lines.append(f"备注：{row.service_note}")
    served_on = row.delivered_on
    if served_on is None and reported_at is not None:
        served_on = _local(reported_at).date()  # 到达受送达人特定系统: the addressee's system reported delivery
    if served_on is None and row.kind == "reply" and row.status == "sent" and row.sent_at:
        served_on = _local(row.sent_at).date()  # the reply closes on acceptance (its remedies run from receipt)
    if served_on is None and row.downloaded_at:
        served_on = _local(row.downloaded_at).date()
    return ServiceEvidence(
        served_on=served_on, method=row.served_method or (("portal" if row.downloaded_at else None)),
        message_id=row.message_id, accepted_at=row.sent_at if row.message_id else None, smtp_reply=row.smtp_reply,
        posted_on=row.posted_on, tracking_number=row.tracking_number, received_by=row.received_by,
        handed_over_by=row.handed_over_by, entered_by=row.served_entered_by, entered_at=row.served_entered_at,
        downloaded_at=row.downloaded_at, downloaded_by=row.downloaded_by, receipt_scan_sha256=row.receipt_scan_sha256,
        note=row.service_note, lines=lines or ["尚无送达证据"],
    )


class LetterOut(BaseModel):
    key: str
    kind: str
    method: str
    recipient_name: str
    status: str
    attempts: int
    last_error: str | None
    document_number: str | None
    issued_on: date | None
    pdf_sha256: str | None
    body_sha256: str | None
    attachments: list[dict]
    sent_at: datetime | None
    delivered_on: date | None
    tracking_number: str | None
    message_id: str | None
    evidence: ServiceEvidence = Field(description="送达证据")


class AttachmentOut(BaseModel):
    id: int
    item_no: int
    version: str
    filename: str
    content_type: str
    sha256: str
    size: int
    uploaded_by: str
    uploaded_at: datetime


class DraftOut(BaseModel):
    application_id: str
    status: str
    version: int
    subject: str
    body: str
    approved_sha256: str | None


def _require_application(session: Session, application_id: str) -> None:
    if session.get(Application, application_id) is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"没有编号为 {application_id} 的申请")


@staff.get("/{application_id}/letters", response_model=list[LetterOut])
async def letters_of(application_id: str, session: SessionDep, client: ClientDep, user: Reader) -> list[LetterOut]:
    """Every letter issued for the application: 文号, checksums, delivery status, attempts and last error."""
    await blocking(_require_application, session, application_id)
    await ensure_visible(user, application_id, client)
    return await blocking(_letters, session, application_id)


def _letters(session: Session, application_id: str) -> list[LetterOut]:
    documents = {d.key: d for d in repo.documents_for_application(session, application_id)}
    rows = repo.outbox_for_application(session, application_id)
    returns = repo.returns_for(session, [row.key for row in rows])
    return [_letter_out(row, documents.get(row.key), returns.get(row.key, [])) for row in rows]


def _letter_out(row: LetterOutbox, document, returns: list | None = None) -> LetterOut:
    return LetterOut(
        key=row.key, kind=row.kind, method=row.method, recipient_name=row.recipient_name, status=row.status,
        attempts=row.attempts, last_error=row.last_error,
        document_number=document.document_number if document else None,
        issued_on=document.issued_on if document else None,
        pdf_sha256=document.pdf_sha256 if document else None, body_sha256=document.body_sha256 if document else None,
        attachments=row.attachments, sent_at=row.sent_at, delivered_on=row.delivered_on,
        tracking_number=row.tracking_number, message_id=row.message_id, evidence=service_evidence(row, returns),
    )


# --- proof of service entered by staff (issue 11 point 14) ---------------------------------------

CONSULTATION_LETTERS = notices.CONSULTATION_LETTER_KINDS
NOTICES = notices.APPLICATION_NOTICE_KINDS


class ServiceIn(BaseModel):
    """Post: the posting date and tracking number, then the signed-for date; pickup: the signature."""

    method: Literal["post", "pickup"]
    posted_on: date | None = Field(None, description="交邮之日 (post)")
    tracking_number: str | None = Field(None, max_length=60, description="邮件单号")
    served_on: date | None = Field(None, description="送达日期: the post's signed-for date (签收日期) or the pickup date")
    received_by: str | None = Field(None, max_length=60, description="签收人 / 领取人")
    handed_over_by: str | None = Field(None, max_length=60, description="pickup: staff who handed it over (default: you)")
    note: str = Field("", max_length=300)


def _evidence_text(body: ServiceIn, row: LetterOutbox, user: str) -> str:
    """The evidence in one phrase, for the workflow's timeline and window basis (what is known so far)."""
    if body.method == "pickup":
        return "，".join(filter(None, [f"{body.received_by} 签名领取" if body.received_by else "",
                                       f"经办人 {body.handed_over_by or user}", body.note]))
    tracking = body.tracking_number or row.tracking_number
    return "，".join(filter(None, [f"邮件单号 {tracking}" if tracking else "",
                                   f"签收人 {body.received_by}" if body.received_by else "",
                                   f"{user} 登记签收日期" if body.served_on else "", body.note]))


@staff.post("/{application_id}/letters/{key}/service", response_model=LetterOut,
            responses={404: {"description": "没有该文书"}, 409: {"description": "不能登记（附原因）"},
                       422: {"description": "缺少日期或签收人"}})
async def record_service(application_id: str, key: str, body: ServiceIn, session: SessionDep, client: ClientDep,
                         user: Desk, calendar: CalendarDep) -> LetterOut:
    """送达证据 for a letter staff deliver: posted (tracking number), signed for (date, by whom), picked up (signature).

    The receipt date starts what runs from receipt: a consultation letter's 15 working days (Reg. 32, 34), a
    supplement notice's deadline (Reg. 30), a fee notice's 20 working days (国办函〔2020〕109号); for the reply it
    is the delivery that closes the application.
    """
    await ensure_visible(user, application_id, client)
    row = await blocking(repo.get_outbox, session, key)
    if row is None or row.application_id != application_id:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "没有该文书")
    if body.posted_on is None and body.served_on is None:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "请填写交邮日期或送达（签收、领取）日期")
    if body.method == "pickup" and (body.served_on is None or not (body.received_by or "").strip()):
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "当面领取须填写领取日期和签名领取人")
    if body.method == "post" and body.posted_on and body.served_on and body.served_on < body.posted_on:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "签收日期不能早于交邮日期")
    handed_over_by = (body.handed_over_by or user.username) if body.method == "pickup" else None
    evidence = _evidence_text(body, row, user.username)
    kind = row.kind
    # A posted reply is entered in two steps (posted with its tracking number, then signed for): the
    # delivery carries what the first step recorded.
    tracking_number, posted_on = body.tracking_number or row.tracking_number, body.posted_on or row.posted_on
    await blocking(session.commit)  # no read transaction held while the workflow (and its persistence) runs
    if kind == "reply":
        if body.served_on is not None:
            await run_update(client, application_id, "confirm_delivery", ConfirmDelivery(
                delivered_on=body.served_on, method=body.method, tracking_number=tracking_number, note=body.note,
                posted_on=posted_on, received_by=body.received_by, by=user.username), ApplicationView,
                what="申请", ended=lambda: "本申请已办结")
    elif kind in CONSULTATION_LETTERS:
        consultation_id = key.removesuffix(":letter")
        await run_update(client, consultation_id, "record_service", RecordService(
            dispatched_on=body.posted_on, served_on=body.served_on, evidence=evidence, by=user.username),
            ConsultationView, what="征求意见", ended=lambda: "征求意见已结束，送达日期不再影响期限")
    elif kind in NOTICES:
        # The window from receipt is counted on the agency's published calendar (issue 15 point 4).
        await catch_up_before_acting(client, calendar, session, application_id)
        if body.posted_on is not None:  # dispatched: the reply clock stops (fee); the period waits for receipt
            try:
                await run_update(client, application_id, "notice_event", NoticeEvent(
                    key=key, event="dispatched", on=body.posted_on, detail=evidence, by=user.username),
                    ApplicationView, what="申请", ended=lambda: "本申请已办结")
            except HTTPException as refused:
                if body.served_on is None or refused.status_code != status.HTTP_409_CONFLICT:
                    raise
        if body.served_on is not None:
            await run_update(client, application_id, "letter_served", LetterServed(
                key=key, served_on=body.served_on, method=body.method, evidence=evidence, by=user.username),
                ApplicationView, what="申请", ended=lambda: "本申请已办结")
    return await blocking(_service_recorded, session, row, key, served_on=body.served_on, method=body.method,
                          by=user.username, tracking_number=body.tracking_number, posted_on=body.posted_on,
                          received_by=body.received_by, handed_over_by=handed_over_by, note=body.note or None)


def _service_recorded(session: Session, row: LetterOutbox, key: str, **evidence) -> LetterOut:
    repo.record_service(session, key, **evidence)
    session.commit()
    session.refresh(row)
    return _letter_out(row, repo.get_document(session, key))


class ServiceProblemIn(BaseModel):
    """A notice that cannot be served (退信, 退回, 查无此人), or its 公告送达 after that (RULES §3 Service)."""

    event: Literal["unservable", "public-notice"]
    on: date = Field(description="退回之日 / 公告之日")
    detail: str = Field(min_length=2, max_length=300, description="无法送达的原因，或公告的地点、网址")


@staff.post("/{application_id}/letters/{key}/service-problem", response_model=LetterOut,
            responses={404: {"description": "没有该文书"}, 409: {"description": "不能登记（附原因）"}})
async def record_service_problem(application_id: str, key: str, body: ServiceProblemIn, session: SessionDep,
                                 client: ClientDep, user: Desk) -> LetterOut:
    """A notice that starts a period could not be served: nothing runs, staff serve it another way; 公告送达 is the
    last resort, deemed served 30 days after publication (民事诉讼法 第九十五条 by analogy)."""
    await ensure_visible(user, application_id, client)
    row = await blocking(repo.get_outbox, session, key)
    if row is None or row.application_id != application_id:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "没有该文书")
    kind = row.kind
    await blocking(session.commit)
    if kind in NOTICES:
        await run_update(client, application_id, "notice_event", NoticeEvent(
            key=key, event=body.event, on=body.on, detail=body.detail, by=user.username),
            ApplicationView, what="申请", ended=lambda: "本申请已办结")
    elif kind in CONSULTATION_LETTERS:
        problem = ({"unservable_on": body.on, "unservable_reason": body.detail} if body.event == "unservable"
                   else {"published_on": body.on, "published_where": body.detail})
        await run_update(client, key.removesuffix(":letter"), "record_service", RecordService(
            **problem, by=user.username), ConsultationView, what="征求意见", ended=lambda: "征求意见已结束")
    else:
        raise HTTPException(status.HTTP_409_CONFLICT, "该文书不启动期限，无需登记送达问题；请改为其他方式送达")
    note = ("无法送达：" if body.event == "unservable" else "公告送达：") + f"{body.on} {body.detail}"
    await blocking(_note_problem, session, key, note)
    return await blocking(_one_letter, session, key)


def _note_problem(session: Session, key: str, note: str) -> None:
    row = repo.get_outbox(session, key)
    repo.update_outbox(session, key, service_note="；".join(filter(None, [row.service_note, note]))[:1000])
    session.commit()


def _one_letter(session: Session, key: str) -> LetterOut:
    row = repo.get_outbox(session, key)
    return _letter_out(row, repo.get_document(session, key), repo.returns_for(session, [key]).get(key, []))


@staff.post("/{application_id}/letters/{key}/receipt-scan", response_model=LetterOut,
            responses={404: {"description": "没有该文书"}, 422: {"description": "文件为空或过大"}})
async def upload_receipt_scan(application_id: str, key: str, session: SessionDep, settings: SettingsDep,
                              client: ClientDep, user: Desk,
                              file: Annotated[UploadFile, File(description="the signed receipt (签收单), scanned")]) -> LetterOut:
    """The scan of the signed receipt (optional evidence of a pickup or a posted letter's 签收单)."""
    await ensure_visible(user, application_id, client)
    row = await blocking(repo.get_outbox, session, key)
    if row is None or row.application_id != application_id:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "没有该文书")
    data = await file.read(MAX_UPLOAD_BYTES + 1)
    if not data or len(data) > MAX_UPLOAD_BYTES:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "文件为空或超过 50 MB")
    return await blocking(_scan_stored, session, settings, row, key, data)


def _scan_stored(session: Session, settings: Settings, row: LetterOutbox, key: str, data: bytes) -> LetterOut:
    sha = FileStore(settings.data_dir).put(data)
    repo.add_stored_file(session, sha, len(data))
    repo.update_outbox(session, key, receipt_scan_sha256=sha)
    session.commit()
    session.refresh(row)
    return _letter_out(row, repo.get_document(session, key))


@staff.get("/{application_id}/letters/{key}/receipt-scan", response_class=Response)
async def receipt_scan(application_id: str, key: str, session: SessionDep, settings: SettingsDep, client: ClientDep,
                       user: Reader) -> Response:
    await ensure_visible(user, application_id, client)
    row = await blocking(repo.get_outbox, session, key)
    if row is None or row.application_id != application_id or row.receipt_scan_sha256 is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "没有签收单扫描件")
    try:
        data = await blocking(FileStore(settings.data_dir).get_verified, row.receipt_scan_sha256)
    except ChecksumMismatch as error:
        raise HTTPException(status.HTTP_500_INTERNAL_SERVER_ERROR, f"文件校验失败：{error}") from None
    return Response(data, media_type="application/octet-stream", headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{_quote(key + '-签收单')}"})


def _stored_pdf(session: Session, settings: Settings, application_id: str, key: str) -> tuple[bytes, str]:
    document = repo.get_document(session, key)
    if document is None or document.application_id != application_id:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "没有该文书")
    try:
        return FileStore(settings.data_dir).get_verified(document.pdf_sha256), document.document_number
    except ChecksumMismatch as error:
        raise HTTPException(status.HTTP_500_INTERNAL_SERVER_ERROR, f"文书文件校验失败：{error}") from None


def _pdf_response(data: bytes, filename: str) -> Response:
    return Response(data, media_type="application/pdf", headers={
        "Content-Disposition": f"inline; filename*=UTF-8''{_quote(filename)}"})


def _quote(name: str) -> str:
    from urllib.parse import quote

    return quote(name)


@staff.get("/{application_id}/letters/{key}/document.pdf", response_class=Response)
async def letter_pdf(application_id: str, key: str, session: SessionDep, settings: SettingsDep, client: ClientDep,
                     user: Reader) -> Response:
    """The issued document exactly as stored (and sent): checksum verified."""
    await ensure_visible(user, application_id, client)
    data, number = await blocking(_stored_pdf, session, settings, application_id, key)
    return _pdf_response(data, f"{number}.pdf")


@staff.get("/{application_id}/letters/{key}/envelope.pdf", response_class=Response)
async def envelope_pdf(application_id: str, key: str, session: SessionDep, settings: SettingsDep, client: ClientDep,
                       user: Reader, request: Request) -> Response:
    """A printable DL envelope for a letter going by post."""
    await ensure_visible(user, application_id, client)
    row, document = await blocking(lambda: (repo.get_outbox(session, key), repo.get_document(session, key)))
    if row is None or document is None or row.application_id != application_id:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "没有该文书")
    data = await rendering(request, render_envelope_pdf, recipient_name=row.recipient_name, address=row.address or "",
                               sender=settings.agency_name, number=document.document_number, issued_on=document.issued_on)
    return _pdf_response(data, f"{document.document_number}-信封.pdf")


async def _draft(client, application_id: str) -> tuple[ApplicationView, DraftOut]:
    view: ApplicationView = await run_query(client, application_id, "state", StateQuery(), ApplicationView, what="申请")
    if view.reply_draft is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "尚无答复告知书草稿：提交保密审查时生成")
    return view, DraftOut(application_id=application_id, status=view.status, version=view.reply_draft_version,
                          subject=view.reply_draft.subject, body=view.reply_draft.body,
                          approved_sha256=view.reply_approved_sha256)


@staff.get("/{application_id}/reply-draft", response_model=DraftOut)
async def reply_draft(application_id: str, client: ClientDep, user: Reader) -> DraftOut:
    """The reply draft's text and version, for the handler and the reviewer."""
    await ensure_visible(user, application_id, client)
    return (await _draft(client, application_id))[1]


@staff.get("/{application_id}/reply-draft.pdf", response_class=Response)
async def reply_draft_pdf(application_id: str, client: ClientDep, user: Reader, request: Request) -> Response:
    """A preview of the draft as a PDF, marked 草稿 and without a 文号 (numbered when it is signed)."""
    await ensure_visible(user, application_id, client)
    view, draft = await _draft(client, application_id)
    data = await rendering(request, render_letter_pdf, draft.body, number=None, issued_on=view.as_of, draft=True)
    return _pdf_response(data, f"{application_id}-答复告知书草稿-第{draft.version}稿.pdf")


@staff.post("/{application_id}/reply-draft", response_model=ApplicationView,
             responses={404: {"description": "没有该申请"}, 409: {"description": "当前不能修改（附原因）"}})
async def edit_reply_draft(application_id: str, body: EditReplyDraftBody, client: ClientDep,  # type: ignore[valid-type]
                           user: Handler) -> ApplicationView:
    """The handler edits the draft before approval; it is pre-screened again and must be reviewed again."""
    await ensure_visible(user, application_id, client)
    command = EditReplyDraft.model_validate(body.model_dump() | {"by": user.username})
    return await run_update(client, application_id, "edit_reply", command, ApplicationView, what="申请",
                            ended=lambda: "本申请已办结，不能再修改答复告知书")


@staff.post("/{application_id}/attachments", response_model=AttachmentOut, status_code=status.HTTP_201_CREATED)
async def upload_attachment(
    application_id: str,
    session: SessionDep,
    settings: SettingsDep,
    client: ClientDep,
    user: Handler,
    file: Annotated[UploadFile, File(description="the disclosed file or its redacted version")],
    item_no: Annotated[int, Form(ge=1)],
    version: Annotated[str, Form(pattern="^(original|redacted)$")],
) -> AttachmentOut:
    """Store a file for an item: `original` goes with 予以公开, `redacted` with 部分公开 (区分处理)."""
    await blocking(_require_application, session, application_id)
    await ensure_visible(user, application_id, client)
    data = await file.read(MAX_UPLOAD_BYTES + 1)
    if not data or len(data) > MAX_UPLOAD_BYTES:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "文件为空或超过 50 MB")
    # Hashing, writing and fsyncing up to 50 MB, then the row: in a worker thread.
    return await blocking(_store_attachment, session, settings, application_id, item_no, version, file.filename,
                          file.content_type, data, user.username)


def _store_attachment(session: Session, settings: Settings, application_id: str, item_no: int, version: str,
                      filename: str | None, content_type: str | None, data: bytes, by: str) -> AttachmentOut:
    sha = FileStore(settings.data_dir).put(data)
    repo.add_stored_file(session, sha, len(data))
    row = LetterAttachment(application_id=application_id, item_no=item_no, version=version,
                           filename=filename or f"attachment-{sha[:8]}", sha256=sha, size=len(data),
                           content_type=content_type or "application/octet-stream", uploaded_by=by)
    session.add(row)
    session.commit()
    session.refresh(row)
    return AttachmentOut(**row.model_dump())


@staff.get("/{application_id}/attachments", response_model=list[AttachmentOut])
async def list_attachments(application_id: str, session: SessionDep, client: ClientDep,
                           user: Reader) -> list[AttachmentOut]:
    await blocking(_require_application, session, application_id)
    await ensure_visible(user, application_id, client)
    return await blocking(lambda: [AttachmentOut(**row.model_dump()) for row in repo.attachments_for(session, application_id)])


# --- the applicant's download (portal) ----------------------------------------------------------


def reply_pdf_for_download(engine: Engine, settings: Settings, application_id: str) -> bytes | None:
    """The reply PDF as issued (checksum verified), recording the first download; None if not issued yet."""
    key = f"{application_id}:reply"
    with Session(engine) as session:
        document = repo.get_document(session, key)
        if document is None:
            return None
        data = FileStore(settings.data_dir).get_verified(document.pdf_sha256)
        repo.record_download(session, key, by=PORTAL_DOWNLOADER)
        session.commit()
        return data


@portal.get("/applications/{application_id}/reply.pdf", response_class=Response)
async def portal_reply_pdf(application_id: Owned, session: SessionDep, settings: SettingsDep, client: ClientDep) -> Response:
    """The applicant downloads the reply; a portal delivery is confirmed by the download (its date is the delivery date)."""
    engine = session.get_bind()
    data = await blocking(reply_pdf_for_download, engine, settings, application_id)
    if data is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "答复尚未签发")
    row = await blocking(session.get, Application, application_id)
    if row is not None and row.delivery_method == "portal" and row.status == "awaiting-delivery":
        today = clock.today()
        try:
            await run_update(client, application_id, "confirm_delivery",
                             ConfirmDelivery(delivered_on=today, method="portal", by="applicant-portal",
                                             note="申请人在线下载答复"), ApplicationView, what="申请", ended=lambda: "")
        except HTTPException as refused:
            if refused.status_code != status.HTTP_409_CONFLICT:
                raise
    return _pdf_response(data, f"{application_id}-答复告知书.pdf")


# The applicant's other letters and the files that went with the reply (same query code).
PORTAL_LETTERS = {"ack": "回执", "supplement": "补正告知书", "extension": "延期答复告知书", "fee": "缴费通知",
                  "reasons-request": "说明申请理由告知书",
                  "supplement-2": "补正告知书（重新确定补正期限）", "supplement-3": "补正告知书（重新确定补正期限）"}
# Who downloads: the portal authenticates the applicant by the application number and its query code.
PORTAL_DOWNLOADER = "申请人（凭申请编号和查询码验证）"


class PortalLetter(BaseModel):
    which: str
    title: str
    document_number: str
    issued_on: date


class PortalAttachment(BaseModel):
    attachment_id: int
    filename: str
    size: int
    content_type: str


class PortalLetters(BaseModel):
    letters: list[PortalLetter]
    reply_document_number: str | None = Field(None, description="set once the signed reply has been issued (reply.pdf)")
    attachments: list[PortalAttachment] = []


@portal.get("/applications/{application_id}/letters", response_model=PortalLetters)
def portal_letters(application_id: Owned, session: SessionDep) -> PortalLetters:
    """The letters issued to the applicant so far (not the reply: see reply.pdf), and the reply's files once signed."""
    letters = []
    for which, title in PORTAL_LETTERS.items():
        document = repo.get_document(session, f"{application_id}:{which}")
        if document is not None:
            letters.append(PortalLetter(which=which, title=title, document_number=document.document_number,
                                        issued_on=document.issued_on))
    reply = repo.get_outbox(session, f"{application_id}:reply")
    reply_document = repo.get_document(session, f"{application_id}:reply")
    files = [PortalAttachment(**{k: a[k] for k in ("attachment_id", "filename", "size", "content_type")})
             for a in (reply.attachments if reply else [])]
    return PortalLetters(letters=letters, attachments=files,
                         reply_document_number=reply_document.document_number if reply_document else None)


@portal.get("/applications/{application_id}/letters/{which}.pdf", response_class=Response)
async def portal_letter_pdf(application_id: Owned, which: str, session: SessionDep, settings: SettingsDep,
                            client: ClientDep) -> Response:
    """回执, 补正告知书, 延期答复告知书 or 缴费通知 as issued (checksum verified); the first download is recorded,
    and for a supplement or fee notice not yet shown to be received it is the receipt that starts the applicant's window."""
    if which not in PORTAL_LETTERS:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "没有该文书")
    key = f"{application_id}:{which}"
    data, number, first, kind = await blocking(_portal_download, session, settings, application_id, key, which)
    if first and kind in NOTICES:
        # The applicant's download is the notice's receipt when nothing earlier shows it (the workflow decides).
        try:
            await run_update(client, application_id, "letter_served", LetterServed(
                key=key, served_on=clock.today(), method="portal", by="applicant-portal",
                evidence=f"{PORTAL_DOWNLOADER}于 {_at(clock.now())} 在线下载"), ApplicationView, what="申请",
                ended=lambda: "")
        except HTTPException as refused:
            if refused.status_code != status.HTTP_409_CONFLICT:
                raise
    return _pdf_response(data, f"{number}.pdf")


def _portal_download(session: Session, settings: Settings, application_id: str, key: str,
                     which: str) -> tuple[bytes, str, bool, str | None]:
    """The letter as issued, and its download recorded: (pdf, its number, the first download?, the letter's kind)."""
    if repo.get_document(session, key) is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"{PORTAL_LETTERS[which]}尚未生成，请稍后再试")
    data, number = _stored_pdf(session, settings, application_id, key)
    first = (row := repo.get_outbox(session, key)) is not None and row.downloaded_at is None
    repo.record_download(session, key, by=PORTAL_DOWNLOADER)
    kind = row.kind if row is not None else None
    session.commit()
    return data, number, first, kind


@portal.get("/applications/{application_id}/attachments/{attachment_id}", response_class=Response)
def portal_attachment(application_id: Owned, attachment_id: int, session: SessionDep,
                            settings: SettingsDep) -> Response:
    """A file that went with the signed reply (only those: the outbox row lists them), checksum verified."""
    reply = repo.get_outbox(session, f"{application_id}:reply")
    sent = next((a for a in (reply.attachments if reply else []) if a["attachment_id"] == attachment_id), None)
    if sent is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "没有该文件")
    try:
        data = FileStore(settings.data_dir).get_verified(sent["sha256"])
    except ChecksumMismatch as error:
        raise HTTPException(status.HTTP_500_INTERNAL_SERVER_ERROR, f"文件校验失败：{error}") from None
    return Response(data, media_type=sent.get("content_type") or "application/octet-stream", headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{_quote(sent['filename'])}"})


# What api.main mounts (one line there): the staff routes and the portal hook.
router = APIRouter()
router.include_router(staff)
router.include_router(portal)
