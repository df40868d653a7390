"""Public participation API (issue 26; RULES §13): drafts for comment (tag public-comment) and 在线咨询
(tag inquiries). Actions are workflow Updates (a refusal is 409 with the reason); lists and the public
pages read the tables the workflows' activities write."""

from __future__ import annotations

import inspect
from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, Form, Header, HTTPException, Path, Query, Request, Response, UploadFile, status
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session, col, select

from api.tenancy import registering_agency
from db import tenancy
from api import idempotency
from api.deps import CalendarDep, ClientDep, RegistrationDep, SessionDep, SettingsDep
from api.offloop import blocking
from api.security import STAFF_READERS, rate_limited, require
from api.temporal_calls import run_query, run_update, start_once
from contracts.participation import (
    AnswerInquiry, ApproveDraft, Channel, CommentAttachment, CommentIn, CommentReceipt, ConfirmConversion, DraftInput, DraftKind,
    DraftQuery, DraftView, FeedbackGroup, InquiryInput, InquiryQuery, InquiryView, Invitee, LinkDecision, Meeting,
    Moderate, ProposeConversion, RecordFeedback, ReviewAnswer, ReviewDraft, ReviewFeedback, ReviseDraft,
    RouteInquiry, WithdrawDraft,
)
from api.schemas import ApplicantIn
from contracts.models import DeliveryMethod
from core import clock
from core.security import hash_query_code, new_query_code, query_code_matches
from db.models_participation import Draft, DraftComment, Inquiry
from db.models_security import StaffUser
from participation.rules import why_not_period

ID = Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,59}$", description="编号")
Id = Annotated[str, ID]
Staff = Annotated[StaffUser, Depends(require(*sorted(STAFF_READERS)))]
Editors = Annotated[StaffUser, Depends(require("handler", "supervisor"))]
Reviewer = Annotated[StaffUser, Depends(require("reviewer"))]
Supervisor = Annotated[StaffUser, Depends(require("supervisor"))]
Desk = Annotated[StaffUser, Depends(require("registrar", "handler", "supervisor"))]
Routers = Annotated[StaffUser, Depends(require("registrar", "supervisor"))]
PUBLIC_INTAKE = [Depends(rate_limited("public-intake", "rate_limit_public_intake_per_minute"))]
LOOKUP = [Depends(rate_limited("lookup", "rate_limit_lookup_per_minute"))]
DRAFT_ENDED = "该征求意见稿已办结（已撤回或已关联正式决策文件），不能再办理"
INQUIRY_ENDED = "该咨询已办结，不能再办理"
OPEN_PHASES = ("open", "closed", "feedback-review", "feedback-published")

router = APIRouter(prefix="/api/v1/drafts", tags=["public-comment"])
public_router = APIRouter(prefix="/api/v1/public/drafts", tags=["public-comment"])
inquiry_router = APIRouter(prefix="/api/v1/inquiries", tags=["inquiries"])
public_inquiry_router = APIRouter(prefix="/api/v1/public/inquiries", tags=["inquiries"])


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def _new_id(prefix: str) -> str:
    return f"{prefix}-{clock.today().year}-{idempotency.id_suffix(prefix)}"  # fixed by an Idempotency-Key


# --- drafts for comment -----------------------------------------------------------------------------


class DraftBody(Body):
    title: str = Field(min_length=2, max_length=300)
    kind: DraftKind = Field(description="major-decision: 重大行政决策（不少于30日）; normative-document: 行政规范性文件（一般不少于7个工作日）")
    section: str = Field(min_length=2, max_length=100, description="起草科室")
    content: str = Field(min_length=2, max_length=200_000, description="决策草案")
    basis: str = Field(min_length=2, max_length=50_000, description="决策依据及起草说明")
    days: int = Field(ge=1, le=365, description="征求意见期限：重大行政决策为日，规范性文件为工作日")
    short_reason: str | None = Field(default=None, max_length=2000, description="期限短于一般期限的理由（向社会公开）")
    channels: list[Channel] = Field(min_length=1, max_length=5)
    how_to_comment: str = Field(min_length=2, max_length=4000, description="提交意见的方式（邮箱、地址、传真、听证会安排）")
    name_required: bool | None = Field(default=None, description="是否要求署名；默认为本机关设置")


class DraftCreated(BaseModel):
    draft_id: str


@router.post("", response_model=DraftCreated, status_code=status.HTTP_201_CREATED)
async def register_draft(body: DraftBody, user: Editors, client: ClientDep, settings: SettingsDep,
                         calendar: CalendarDep) -> DraftCreated:
    """The handler registers a draft and its basis; then the confidentiality review and the supervisor's
    approval, which publishes it for comment (RULES §13)."""
    if refusal := why_not_period(body.kind, body.days, body.short_reason):
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, refusal)
    await calendar.fresh()
    draft_id = _new_id("ZQ")
    name_required = settings.participation_comment_name_required if body.name_required is None else body.name_required
    inp = DraftInput(draft_id=draft_id, title=body.title, kind=body.kind, section=body.section, content=body.content,
                     basis=body.basis, days=body.days, short_reason=body.short_reason or None,
                     channels=sorted(set(body.channels)), how_to_comment=body.how_to_comment,
                     name_required=name_required, feedback_days=settings.participation_feedback_days,
                     created_by=user.username, calendar=calendar.since(clock.today().year),
                     supervisor_email=settings.supervisor_email,
                     continue_after=settings.participation_continue_after_events)
    await start_once(client, "DraftForCommentWorkflow", inp, id=draft_id, task_queue=settings.task_queue)
    return DraftCreated(draft_id=draft_id)


class DraftHead(BaseModel):
    draft_id: str
    title: str
    kind: str
    section: str
    phase: str
    opens_on: date | None
    closes_at: datetime | None = Field(description="the instant the period ends (the end of closes_on, Beijing time)")


class DraftRow(DraftHead):
    closes_on: date | None = Field(description="the last day for comments")
    feedback_due_at: datetime | None
    feedback_published_at: datetime | None
    feedback_on_time: bool | None
    url: str | None
    counts: dict


def _row(d: Draft) -> DraftRow:
    closes_on = (d.public.get("period") or {}).get("due_on")
    return DraftRow(draft_id=d.id, title=d.title, kind=d.kind, section=d.section, phase=d.phase, opens_on=d.opens_on,
                    closes_at=d.closes_at, closes_on=closes_on, feedback_due_at=d.feedback_due_at,
                    feedback_published_at=d.feedback_published_at, feedback_on_time=d.feedback_on_time, url=d.url,
                    counts=d.counts)


@router.get("", response_model=list[DraftRow])
def list_drafts(user: Staff, session: SessionDep) -> list[DraftRow]:
    rows = session.exec(select(Draft).order_by(col(Draft.updated_at).desc()).limit(200))
    return [_row(d) for d in rows]


class ParticipationFigures(BaseModel):
    """For the annual report's narrative (sections 一 and 二) and the 考核评议 figures."""

    year: int
    drafts_published: int = Field(description="本年公开征求意见的草案")
    comments_received: int
    comments_adopted: int
    comments_partly_adopted: int
    comments_not_adopted: int
    feedback_published: int
    feedback_on_time: int
    inquiries_answered: int
    inquiries_answered_on_time: int


@router.get("/figures", response_model=ParticipationFigures)
def figures(user: Staff, session: SessionDep, year: Annotated[int, Query(ge=2000, le=2100)]) -> ParticipationFigures:
    """Drafts published for comment in `year`, their comments received and adopted, feedback published on
    time, and questions (received in `year`) answered on time."""
    from db.participation_repository import participation_figures

    return ParticipationFigures(year=year, **participation_figures(session, date(year, 1, 1), date(year, 12, 31)))


@router.get("/{draft_id}", response_model=DraftView)
async def draft(draft_id: Id, user: Staff, client: ClientDep) -> DraftView:
    return await run_query(client, draft_id, "state", DraftQuery(), DraftView, what="征求意见稿")


async def _draft_update(client, draft_id: str, name: str, cmd, result_type=DraftView):
    return await run_update(client, draft_id, name, cmd, result_type, what="征求意见稿", ended=lambda: DRAFT_ENDED)


class ReviewBody(Body):
    approve: bool
    comment: str = Field(default="", max_length=2000)


class ApproveBody(Body):
    url: str = Field(default="", max_length=500, description="公开网址；默认为本站征求意见页面")


class ReviseBody(Body):
    content: str = Field(min_length=2, max_length=200_000)
    basis: str | None = Field(default=None, max_length=50_000)
    reason: str = Field(default="", max_length=2000)


class DeskCommentBody(Body):
    channel: Literal["email", "letter", "fax", "hearing"]
    received_on: date = Field(description="收到意见之日（信函、听证会等）")
    name: str | None = Field(default=None, max_length=200)
    contact: str | None = Field(default=None, max_length=300)
    part: str = Field(default="", max_length=300)
    text: str = Field(min_length=2, max_length=20_000)


class ModerateBody(Body):
    receipt_no: str = Field(min_length=1, max_length=80)
    hide: bool = True
    reason: str = Field(min_length=2, max_length=2000)


class FeedbackBody(Body):
    groups: list[FeedbackGroup] = Field(max_length=500)
    note: str = Field(default="", max_length=20_000)


class MeetingBody(Body):
    held_on: date
    title: str = Field(min_length=2, max_length=300)
    invited: list[Invitee] = Field(default_factory=list, max_length=4)
    attendees: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(default_factory=list, max_length=200)
    public: bool


class DecisionBody(Body):
    decision_item_id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,59}$", description="正式决策文件的目录条目编号")


class WithdrawBody(Body):
    reason: str = Field(min_length=2, max_length=2000)


@router.post("/{draft_id}/approve", response_model=DraftView)
async def approve_draft(draft_id: Id, body: ApproveBody, user: Supervisor, client: ClientDep,
                        session: SessionDep) -> DraftView:
    """The supervisor approves: published for comment today, on the public page, until the period ends; refused
    (409) while a basis file has not been through the release review (screened, each finding removed or accepted)."""
    from db import release_repository

    if reason := await blocking(release_repository.why_not_publish_basis, session, draft_id):
        raise HTTPException(status.HTTP_409_CONFLICT, reason)
    cleared = await blocking(release_repository.cleared_files, session, draft_id)
    return await _draft_update(client, draft_id, "approve", ApproveDraft(
        by=user.username, url=body.url or f"/participation/{draft_id}", cleared=cleared))


# The draft's basis files (upload, list, review): api/routes/release.py's draft_router (one home for released files).


@router.post("/{draft_id}/decision", response_model=DraftView)
async def decision(draft_id: Id, body: DecisionBody, user: Editors, client: ClientDep, session: SessionDep) -> DraftView:
    """The decision made on the draft, a document of the proactive catalogue (published with its interpretation
    within 3 working days, RULES §8), linked to the draft's page: the process ends."""
    from db.models_proactive import CatalogueItem

    item = await blocking(session.get, CatalogueItem, body.decision_item_id)
    if item is None or item.kind != "document":
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"主动公开目录中没有编号为 {body.decision_item_id} 的文件")
    return await _draft_update(client, draft_id, "link_decision",
                               LinkDecision(by=user.username, decision_item_id=body.decision_item_id))


# --- the public side of drafts ------------------------------------------------------------------------


class PublicComment(BaseModel):
    receipt_no: str
    channel: str
    part: str
    text: str
    received_on: date
    late: bool
    decision: str | None


class PublishedDocument(BaseModel):
    item_id: str
    title: str
    document_number: str | None
    published_at: datetime | None
    url: str | None


class PublicDraft(DraftHead):
    open_for_comment: bool
    public: dict
    counts: dict
    comments: list[PublicComment]
    decision: PublishedDocument | None = Field(default=None, description="the decision made, once published")
    interpretations: list[PublishedDocument] = Field(default_factory=list, description="its published interpretations")


def public_draft(session: Session, draft_id: str) -> PublicDraft | None:
    """A published draft as the public sees it: no contact or name of those who commented, no hidden comment."""
    found = session.get(Draft, draft_id)
    if found is None or found.phase not in OPEN_PHASES:
        return None
    comments = session.exec(select(DraftComment).where(DraftComment.draft_id == draft_id, DraftComment.hidden == False)  # noqa: E712
                            .order_by(col(DraftComment.receipt_no))).all()
    decision, interpretations = None, []
    if decision_id := found.public.get("decision_item_id"):
        from db import proactive_repository
        from db.models_proactive import CatalogueItem

        item = session.get(CatalogueItem, decision_id)
        if item is not None and item.status == "published":  # shown once the catalogue has published it
            decision = _document(item)
            interpretations = [_document(i) for i in proactive_repository.interpretations_of(session, [item.id]).get(item.id, [])]
    return PublicDraft(decision=decision, interpretations=interpretations,
                       draft_id=found.id, title=found.title, kind=found.kind, section=found.section, phase=found.phase,
                       opens_on=found.opens_on, closes_at=found.closes_at, open_for_comment=found.phase == "open",
                       public=found.public, counts=found.counts,
                       comments=[PublicComment(receipt_no=c.receipt_no, channel=c.channel, part=c.part, text=c.text,
                                               received_on=c.received_on, late=c.late, decision=c.decision)
                                 for c in comments])


def _document(item) -> PublishedDocument:
    return PublishedDocument(item_id=item.id, title=item.title, document_number=item.document_number,
                             published_at=item.published_at, url=item.url)


def public_drafts(session: Session) -> list[DraftRow]:
    rows = session.exec(select(Draft).where(col(Draft.phase).in_(OPEN_PHASES))
                        .order_by(col(Draft.opens_on).desc(), col(Draft.id).desc()).limit(200))
    return [_row(d) for d in rows]


@public_router.get("", response_model=list[DraftRow])
def open_drafts(session: SessionDep) -> list[DraftRow]:
    """Drafts published for comment (open, closed, with their feedback), newest first. No log-in."""
    return public_drafts(session)


@public_router.get("/{draft_id}", response_model=PublicDraft)
def published_draft(draft_id: Id, session: SessionDep) -> PublicDraft:
    _published(session, draft_id)
    return public_draft(session, draft_id)


def _published(session: Session, draft_id: str) -> Draft:
    """The draft as published for comment, or 404 (nothing of it is public before the supervisor's approval)."""
    found = session.get(Draft, draft_id)
    if found is None or found.phase not in OPEN_PHASES:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"没有编号为 {draft_id} 的公开征求意见稿")
    return found


class PublicCommentBody(Body):
    name: str | None = Field(default=None, max_length=200)
    contact: str | None = Field(default=None, max_length=300)
    part: str = Field(default="", max_length=300, description="针对的条款或部分")
    text: str = Field(min_length=2, max_length=20_000)


@public_router.post("/{draft_id}/comments", response_model=CommentReceipt, status_code=status.HTTP_201_CREATED,
                    dependencies=PUBLIC_INTAKE, responses={429: {"description": "请求过于频繁"}})
async def public_comment(draft_id: Id, body: PublicCommentBody, client: ClientDep, session: SessionDep) -> CommentReceipt:
    """A comment from the public page (no log-in): a receipt number; after the deadline it is recorded as late."""
    await blocking(_published, session, draft_id)  # off the event loop (api/offloop.py)
    return await _draft_update(client, draft_id, "comment",
                               CommentIn(channel="website", entered_by="online-form", **body.model_dump()), CommentReceipt)


@public_router.get("/{draft_id}/basis-files/{file_id}", response_class=Response,
                   responses={200: {"content": {"application/octet-stream": {}}}, 404: {"description": "没有该文件"}})
async def published_basis_file(draft_id: Id, file_id: Annotated[int, Path(ge=1, le=2**31 - 1)], session: SessionDep,
                               settings: SettingsDep) -> Response:
    """A basis file of a published draft, as it was cleared for publication: its verified redacted copy, or the
    file as uploaded when it needed none (db.release_repository.released_version). No log-in."""
    return await blocking(_basis_download, session, settings, draft_id, file_id)


def _basis_download(session: Session, settings, draft_id: str, file_id: int) -> Response:
    from db.release_repository import released_version
    from db.models_release import ReleaseFile

    found = _published(session, draft_id)
    row = session.get(ReleaseFile, file_id)
    if row is None or file_id not in {f["file_id"] for f in found.public.get("basis_files", [])}:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "该征求意见稿没有此决策依据文件")
    version = released_version(session, row)
    return _download(settings, version["sha256"], version["filename"], version["media_type"])


def _download(settings, sha256: str, filename: str, media_type: str = "application/octet-stream", *,
              what: str = "文件") -> Response:
    """A stored file as a download (checked against its checksum), never shown inline."""
    from urllib.parse import quote

    from db.letters_repository import ChecksumMismatch, FileStore

    try:
        data = FileStore(settings.data_dir).get_verified(sha256)
    except ChecksumMismatch:
        raise HTTPException(status.HTTP_409_CONFLICT, f"{what}与其校验值不符或已缺失，请联系系统管理员") from None
    return Response(data, media_type=media_type,
                    headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename or 'attachment')}",
                             "X-Content-Type-Options": "nosniff"})


# A file sent with a comment: documents and images only (served to staff as a download, never shown inline).
ATTACHMENT_TYPES = {".pdf": "application/pdf", ".doc": "application/msword", ".txt": "text/plain",
                    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                    ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png"}


@public_router.post("/{draft_id}/comments-with-attachment", response_model=CommentReceipt,
                    status_code=status.HTTP_201_CREATED, dependencies=PUBLIC_INTAKE,
                    responses={429: {"description": "请求过于频繁"}, 413: {"description": "附件过大"}})
async def public_comment_with_attachment(
    draft_id: Id, client: ClientDep, session: SessionDep, settings: SettingsDep,
    text: Annotated[str, Form(min_length=2, max_length=20_000)],
    file: Annotated[UploadFile, File(description="附件：PDF、Word、文本或图片")],
    name: Annotated[str | None, Form(max_length=200)] = None,
    contact: Annotated[str | None, Form(max_length=300)] = None,
    part: Annotated[str, Form(max_length=300)] = "",
) -> CommentReceipt:
    """A comment from the public page with an attachment (the request's size cap applies): the file is kept
    content-addressed and only staff can download it."""
    from pathlib import PurePath

    from db.letters_repository import FileStore

    await blocking(_published, session, draft_id)
    filename = PurePath((file.filename or "").replace("\\", "/")).name[:200]
    suffix = PurePath(filename).suffix.lower()
    if suffix not in ATTACHMENT_TYPES:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "附件只接受 PDF、Word（doc、docx）、文本（txt）或图片（jpg、png）")
    data = await file.read(settings.max_request_bytes + 1)
    if not data:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "附件是空文件")
    if len(data) > settings.max_request_bytes:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, "附件过大")
    sha = await blocking(FileStore(settings.data_dir).put, data)
    attachment = CommentAttachment(filename=filename, sha256=sha, size=len(data), content_type=ATTACHMENT_TYPES[suffix])
    cmd = CommentIn(channel="website", entered_by="online-form", name=(name or "").strip() or None,
                    contact=(contact or "").strip() or None, part=part.strip(), text=text, attachment=attachment)
    return await _draft_update(client, draft_id, "comment", cmd, CommentReceipt)


@router.get("/{draft_id}/comments/{receipt_no}/attachment", response_class=Response,
            responses={200: {"content": {"application/octet-stream": {}}}, 404: {"description": "没有该附件"}})
async def comment_attachment(draft_id: Id, receipt_no: Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,79}$")],
                             user: Staff, session: SessionDep, settings: SettingsDep) -> Response:
    """The file sent with a comment, as a download (checked against its checksum)."""
    row = await blocking(session.get, DraftComment, receipt_no)
    if row is None or row.draft_id != draft_id or not row.attachment:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "没有该附件")
    return await blocking(lambda: _download(settings, row.attachment["sha256"], row.attachment.get("filename"), what="附件"))


# --- 在线咨询 -------------------------------------------------------------------------------------------


class QuestionBody(Body):
    question: str = Field(min_length=5, max_length=4000)
    name: str | None = Field(default=None, max_length=200)
    contact: str | None = Field(default=None, max_length=300, description="电子邮箱或电话，便于联系")
    consent_publish: bool = Field(default=False, description="同意在答复具有普遍性时公开问答（不公开姓名和联系方式）")


class QuestionCreated(BaseModel):
    inquiry_id: str
    query_code: str = Field(description="查询码：与咨询编号一起查询答复，只显示一次")
    received_on: date
    due_on: date


@public_inquiry_router.post("", response_model=QuestionCreated, status_code=status.HTTP_201_CREATED,
                            dependencies=PUBLIC_INTAKE, responses={429: {"description": "请求过于频繁"}})
async def ask(body: QuestionBody, client: ClientDep, settings: SettingsDep, calendar: CalendarDep) -> QuestionCreated:
    """A question from the public site (no log-in): answered within the agency's period (working days)."""
    inquiry_id = _new_id("ZX")
    claim = idempotency.current()
    code = claim.query_code(inquiry_id) if claim else new_query_code()
    await calendar.fresh()
    received_on = clock.today()
    inp = InquiryInput(inquiry_id=inquiry_id, question=body.question, name=body.name or None,
                       contact=body.contact or None, consent_publish=body.consent_publish, received_on=received_on,
                       answer_days=settings.inquiry_answer_working_days, calendar=calendar.since(received_on.year),
                       code_hash=hash_query_code(settings, inquiry_id, code), registered_by="online-form",
                       supervisor_email=settings.supervisor_email, agency_name=settings.agency_name)
    await start_once(client, "InquiryWorkflow", inp, id=inquiry_id, task_queue=settings.task_queue)
    from participation.rules import inquiry_due
    from workcalendar import WorkCalendar

    due = inquiry_due(WorkCalendar(inp.calendar), received_on, inp.answer_days)
    return QuestionCreated(inquiry_id=inquiry_id, query_code=code, received_on=received_on, due_on=due.due_on)


class PublicQA(BaseModel):
    inquiry_id: str
    question: str
    answer: str
    received_on: date
    answered_at: datetime | None


def published_questions(session: Session, limit: int = 100) -> list[PublicQA]:
    rows = session.exec(select(Inquiry).where(Inquiry.published == True)  # noqa: E712
                        .order_by(col(Inquiry.answered_at).desc()).limit(limit))
    return [PublicQA(inquiry_id=r.id, question=r.question, answer=r.answer or "", received_on=r.received_on,
                     answered_at=r.answered_at) for r in rows]


@public_inquiry_router.get("", response_model=list[PublicQA])
def questions_and_answers(session: SessionDep) -> list[PublicQA]:
    """Answers of general interest, published with the asker's consent (no name, no contact)."""
    return published_questions(session)


class MyQuestion(BaseModel):
    inquiry_id: str
    question: str
    received_on: date
    due_on: date
    status: str
    answer: str | None
    answered_at: datetime | None
    application_id: str | None


def _mine(session: Session, settings, inquiry_id: str, code: str) -> Inquiry:
    found = session.get(Inquiry, inquiry_id)
    if found is None or not query_code_matches(settings, inquiry_id, code, found.code_hash):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "咨询编号或查询码不正确")
    return found


@public_inquiry_router.get("/{inquiry_id}", response_model=MyQuestion, dependencies=LOOKUP)
def my_question(inquiry_id: Id, session: SessionDep, settings: SettingsDep,
                code: Annotated[str, Header(alias="X-Query-Code", min_length=4, max_length=40, description="查询码")],
                ) -> MyQuestion:
    """The asker's own question (its number and query code): the answer once given, or the proposal to
    turn it into a disclosure application awaiting their confirmation."""
    found = _mine(session, settings, inquiry_id, code)
    return MyQuestion(inquiry_id=found.id, question=found.question, received_on=found.received_on,
                      due_on=found.due_on, status=found.status, answer=found.answer, answered_at=found.answered_at,
                      application_id=found.application_id)


class ConvertBody(Body):
    code: str = Field(min_length=4, max_length=40, description="查询码")
    applicant: ApplicantIn = Field(description="申请人信息（与依申请公开的申请表相同）")
    description: str | None = Field(default=None, min_length=2, max_length=4000, description="所需政府信息；默认为咨询内容")
    delivery_method: DeliveryMethod = "email"


@public_inquiry_router.post("/{inquiry_id}/convert", status_code=status.HTTP_201_CREATED, dependencies=LOOKUP)
async def convert(inquiry_id: Id, body: ConvertBody, request: Request, session: SessionDep, settings: SettingsDep,
                  client: ClientDep, writes: RegistrationDep, calendar: CalendarDep):
    """The asker confirms that the question is a disclosure application: it is registered through the
    application intake (its own number, query code and receipt date: the day of the confirmation)."""
    from api.intake import ONLINE_FORM, register
    from api.schemas import ApplicationCreate

    found = await blocking(_mine, session, settings, inquiry_id, body.code)
    view: InquiryView = await run_query(client, inquiry_id, "state", InquiryQuery(), InquiryView, what="咨询")
    if view.status != "awaiting-confirmation":
        raise HTTPException(status.HTTP_409_CONFLICT, "该咨询没有待确认的转为申请事项")
    try:
        application = ApplicationCreate.model_validate({
            "channel": "online", "received_on": clock.today().isoformat(), "applicant": body.applicant.model_dump(),
            "items": [{"description": body.description or found.question}], "delivery_method": body.delivery_method})
    except ValueError as error:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"申请信息不完整：{_first_error(error)}") from None
    # 在线咨询 are the installation's own agency's (issue 25: inquiries are not yet per agency).
    agency = await blocking(registering_agency, request.app.state.engine, tenancy.FIRST_AGENCY)
    created = await register(application, ONLINE_FORM, writes, client, settings, calendar, agency)
    await run_update(client, inquiry_id, "confirm_conversion",
                     ConfirmConversion(application_id=created.application_id, received_on=created.received_on),
                     InquiryView, what="咨询", ended=lambda: INQUIRY_ENDED)
    request.state.audit_application_id = created.application_id
    return created


def _first_error(error: ValueError) -> str:
    errors = getattr(error, "errors", None)
    if callable(errors):
        first = errors()[0]
        msg = str(first.get("msg", "")).removeprefix("Value error, ")
        return msg if not msg.isascii() else "请填写申请人姓名及联系方式"
    return str(error)


# --- staff: 在线咨询 ------------------------------------------------------------------------------------


@inquiry_router.get("", response_model=list[dict])
def list_inquiries(user: Staff, session: SessionDep) -> list[dict]:
    rows = session.exec(select(Inquiry).order_by(col(Inquiry.due_on).desc(), col(Inquiry.id).desc()).limit(200))
    return [r.model_dump(mode="json", exclude={"code_hash"}) for r in rows]


@inquiry_router.get("/{inquiry_id}", response_model=InquiryView)
async def inquiry(inquiry_id: Id, user: Staff, client: ClientDep) -> InquiryView:
    return await run_query(client, inquiry_id, "state", InquiryQuery(), InquiryView, what="咨询")




class RouteBody(Body):
    section: str = Field(min_length=2, max_length=100)


class AnswerBody(Body):
    answer: str = Field(min_length=2, max_length=20_000)
    general_interest: bool = False


class ProposeBody(Body):
    reason: str = Field(min_length=2, max_length=2000)


# --- the human steps that are one Update each ------------------------------------------------------------


def _step(router: APIRouter, key: str, what: str, ended: str, name: str, path: str, update: str, body: type, role,
          command, doc: str = "", *, result: type, code: int = status.HTTP_200_OK) -> None:
    """POST `path`: the workflow's Update `update` with `command(username, body)`; a refusal is 409 with its
    reason, an ended process 409 with `ended` (api/temporal_calls.py run_update)."""

    async def endpoint(**given):
        cmd = command(given["user"].username, given["body"])
        return await run_update(given["client"], given[key], update, cmd, result, what=what, ended=lambda: ended)

    endpoint.__signature__ = inspect.Signature([
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation)
        for name, annotation in ((key, Id), ("body", body), ("user", role), ("client", ClientDep))])
    endpoint.__doc__, endpoint.__name__ = doc or None, name
    router.add_api_route(path, endpoint, methods=["POST"], response_model=result, status_code=code, name=name)


def _by(field: str, cmd: type):
    return lambda username, body: cmd(**{field: username}, **body.model_dump())


for _name, _path, _update, _body, _role, _command, _doc in (
    ("review_draft", "/review", "review", ReviewBody, Reviewer, _by("by", ReviewDraft),
     "Confidentiality review of the draft and its basis (谁签发、谁把关): a reviewer who did not write it."),
    ("revise_draft", "/revise", "revise", ReviseBody, Editors, _by("by", ReviseDraft), ""),
    ("moderate", "/moderate", "moderate", ModerateBody, Editors, _by("by", Moderate),
     "Hide an abusive comment (or show it again) with the reason: audited, never deleted."),
    ("feedback", "/feedback", "feedback", FeedbackBody, Editors, _by("by", RecordFeedback),
     "Group the comments; for each group, adopted / partly / not adopted and why; then review."),
    ("review_feedback", "/feedback-review", "review_feedback", ReviewBody, Reviewer, _by("by", ReviewFeedback),
     "Approved: the 意见收集和采纳情况 is published on the draft's page (seed 001)."),
    ("meeting", "/meetings", "meeting", MeetingBody, Editors, _by("recorded_by", Meeting),
     "列席 (seed 003): a meeting on the matter, who was invited and attended, whether it was public."),
    ("withdraw", "/withdraw", "withdraw", WithdrawBody, Editors, _by("by", WithdrawDraft), ""),
):
    _step(router, "draft_id", "征求意见稿", DRAFT_ENDED, _name, "/{draft_id}" + _path, _update, _body, _role, _command, _doc,
          result=DraftView)
_step(router, "draft_id", "征求意见稿", DRAFT_ENDED, "desk_comment", "/{draft_id}/comments", "comment", DeskCommentBody, Desk,
      _by("entered_by", CommentIn), "A comment received by letter, e-mail, fax or at a hearing, entered by the desk "
      "with its date.", result=CommentReceipt, code=status.HTTP_201_CREATED)
for _name, _path, _update, _body, _role, _command, _doc in (
    ("route", "/route", "route", RouteBody, Routers, _by("by", RouteInquiry), ""),
    ("answer", "/answer", "answer", AnswerBody, Editors, _by("by", AnswerInquiry), ""),
    ("review_answer", "/review", "review", ReviewBody, Reviewer, _by("by", ReviewAnswer), ""),
    ("propose_conversion", "/propose-conversion", "propose_conversion", ProposeBody, Editors, _by("by", ProposeConversion),
     "The question is really a disclosure application: the asker is asked to confirm (nothing is registered until "
     "they do; the application's receipt date is the day they confirm)."),
):
    _step(inquiry_router, "inquiry_id", "咨询", INQUIRY_ENDED, _name, "/{inquiry_id}" + _path, _update, _body, _role, _command,
          _doc, result=InquiryView)
