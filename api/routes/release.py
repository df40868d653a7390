"""Files released with a reply (issue 22; RULES §14, Reg. 37): upload per item, the pre-screen's progress
and findings, a finding accepted with a reason, a redacted copy made and verified, page images.

Uploads are checked before anything is stored (release/intake.py: a clear Chinese reason for each
refusal) and stored once by hash; the same file uploaded again to the same item is the same file (200).
The screening runs in the background, one Temporal workflow per file hash (workflows/release_screening.py).
"""

import re
from datetime import date, datetime
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, File, HTTPException, Path, Query, Request, Response, UploadFile, status
from pydantic import BaseModel, Field
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select
from temporalio.common import WorkflowIDReusePolicy
from temporalio.service import RPCError, RPCStatusCode
from temporalio.exceptions import WorkflowAlreadyStartedError

from api.deps import ClientDep, Owned, SessionDep, SettingsDep, ensure_visible
from api.offloop import blocking, rendering
from api.security import STAFF_READERS, require
from api.temporal_calls import run_query, run_update
from core import clock
from contracts.release import RedactFileInput, ReleaseChanged, ScreenFileInput
from core.config import Settings
from db import letters_repository as letters
from db import release_repository as repo
from db.letters_repository import FileStore
from db.models import Application
from db.models_release import ReleaseDecision, ReleaseDownload, ReleaseFile, ReleaseRedaction, ReleaseScreening
from db.models_security import StaffUser
from release import links
from release.intake import IntakeError, check_file
from contracts.application_view import ApplicationView
from contracts.reply import ConfirmDelivery
from workflows.release_screening import (
    ReleaseFileRedactionWorkflow,
    ReleaseFileScreeningWorkflow,
    redaction_workflow_id,
    screening_workflow_id,
)

router = APIRouter(prefix="/api/v1/applications", tags=["release-files"])
# A draft's basis files (起草说明 etc.; issue 26) go through the same review: rows keyed by the draft's id.
draft_router = APIRouter(prefix="/api/v1/drafts", tags=["public-comment"])
# Ids and numbers in paths stay within a database integer (a larger one is a 422, never a 500 on PostgreSQL).
FileId = Annotated[int, Path(ge=1, le=2**31 - 1)]
Number = Annotated[int, Path(ge=1, le=100_000)]
# A draft's number (api/routes/participation.py: ZQ-year-…): never an application's, whose files stay behind ensure_visible.
DraftId = Annotated[str, Path(pattern=r"^ZQ-[A-Za-z0-9_-]{1,57}$", description="征求意见稿编号")]
Reader = Annotated[StaffUser, Depends(require(*STAFF_READERS))]
Handler = Annotated[StaffUser, Depends(require("handler"))]
Editors = Annotated[StaffUser, Depends(require("handler", "supervisor"))]
# Above any file the intake accepts (Settings.release_max_bytes) by a margin: the rest is not read.
READ_MARGIN = 1024
# The upload's path (api/middleware.py BodySizeLimit lets its body reach release_max_bytes plus the framing).
UPLOAD_PATH = re.compile(r"/api/v1/applications/[^/]+/items/\d+/release-files|/staff/applications/[^/]+/release-files"
                         r"|/api/v1/drafts/[^/]+/basis-files|/staff/participation/drafts/[^/]+/basis-files")
MULTIPART_MARGIN = 64 * 1024


class ScreeningOut(BaseModel):
    state: str = Field(description="pending | running | done | failed")
    pages_done: int = 0
    pages_total: int | None = None
    error: str | None = None


class DecisionOut(BaseModel):
    reason: str
    decided_by: str
    decided_at: datetime


class FindingOut(BaseModel):
    seq: int
    page: int
    kind: str
    detail: str
    excerpt: str
    place: list[float] | None = Field(None, description="x0, y0, x1, y1 in fractions of the page, origin top-left")
    ref: str | None = Field(None, description="sheet!cell (spreadsheets) or the DOCX table cell")
    accepted: DecisionOut | None = None
    redacted: bool = False


class RedactionOut(BaseModel):
    id: int
    state: str = Field(description="pending (being made) | done (see verified) | failed (could not be made)")
    text_layer: bool
    areas: list[dict]
    released_sha256: str | None
    verified: bool
    problems: list[str]
    made_by: str
    made_at: datetime


class ReleaseFileOut(BaseModel):
    id: int
    application_id: str
    item_no: int
    filename: str
    kind: str
    media_type: str
    size: int
    sha256: str
    uploaded_by: str
    uploaded_at: datetime
    screening: ScreeningOut
    open_findings: int | None = Field(None, description="findings neither redacted nor accepted; None until screened")


class ReleaseFileDetail(ReleaseFileOut):
    findings: list[FindingOut]
    redactions: list[RedactionOut]
    page_sizes: list[tuple[float, float]] = Field(default_factory=list,
                                                  description="each page's width and height in points, once screened")


class AcceptBody(BaseModel):
    model_config = {"extra": "forbid"}
    reason: str = Field(min_length=4, max_length=500, description="why this may be released (e.g. 已主动公开的单位名录)")


class ChosenFinding(BaseModel):
    model_config = {"extra": "forbid"}
    seq: int = Field(ge=1, le=100_000)
    basis: str = Field(min_length=2, max_length=40, description="the legal basis shown in the box, e.g. 条例第十五条")


class DrawnArea(BaseModel):
    model_config = {"extra": "forbid"}
    page: int = Field(ge=1, le=100_000)
    box: tuple[float, float, float, float] = Field(description="x0, y0, x1, y1 in fractions of the page")
    basis: str = Field(min_length=2, max_length=40)


class RedactionBody(BaseModel):
    model_config = {"extra": "forbid"}
    findings: list[ChosenFinding] = Field(default_factory=list, max_length=2000)
    areas: list[DrawnArea] = Field(default_factory=list, max_length=2000)
    text_layer: bool = Field(True, description="an OCR text layer of the redacted pixels (searchable copy)")


# --- upload -------------------------------------------------------------------------------------


@router.post("/{application_id}/items/{item_no}/release-files", response_model=ReleaseFileOut,
             status_code=status.HTTP_201_CREATED,
             responses={200: {"description": "同一文件已上传过（按内容哈希）"}, 413: {"description": "文件过大"},
                        422: {"description": "文件被拒绝（附原因）"}})
async def upload_release_file(application_id: str, item_no: Number, response: Response, session: SessionDep,
                              settings: SettingsDep, client: ClientDep, user: Handler,
                              file: Annotated[UploadFile, File(description="the file that answers the item")]) -> ReleaseFileOut:
    """A file that answers an item (PDF, scans, DOCX, XLSX/CSV), checked before anything is stored."""
    await blocking(lambda: _require_item(session, application_id, item_no, changing=True))
    await ensure_visible(user, application_id, client)
    row, created = await receive_file(application_id, item_no, file, session, settings, client, user.username)
    await _tell_application(client, application_id, "uploaded")
    if not created:
        response.status_code = status.HTTP_200_OK
    return await blocking(_file_out, session, row)


async def receive_file(owner_id: str, item_no: int, file: UploadFile, session: Session, settings: Settings, client,
                       by: str) -> tuple[ReleaseFile, bool]:
    """An upload checked (a refusal: 413 or 422 with its reason, nothing stored), stored once by hash for its
    owner (an application's item, or a draft's basis) and screened in the background; created or found again."""
    name = (file.filename or "").strip() or "未命名文件"
    data = await file.read(settings.release_max_bytes + READ_MARGIN)
    try:
        accepted = await blocking(check_file, name, data, max_bytes=settings.release_max_bytes)
    except IntakeError as refused:
        code = status.HTTP_413_CONTENT_TOO_LARGE if refused.code == "too-large" else status.HTTP_422_UNPROCESSABLE_CONTENT
        raise HTTPException(code, refused.message) from None
    row, created = await blocking(_store, session, settings, owner_id, item_no, name, accepted, data, by)
    await _start_screening(client, settings, row)
    return row, created


def _require_item(session: Session, application_id: str, item_no: int, *, changing: bool = False) -> None:
    application = session.get(Application, application_id)
    if application is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"没有编号为 {application_id} 的申请")
    if item_no < 1 or item_no > 200:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"申请 {application_id} 没有第 {item_no} 项")
    if changing:
        _refuse_if_sealed(session, application_id)


def _store(session: Session, settings: Settings, application_id: str, item_no: int, name: str, accepted, data: bytes,
           by: str) -> tuple[ReleaseFile, bool]:
    sha = letters.sha256_of(data)
    existing = _existing(session, application_id, item_no, sha)
    if existing is not None:
        return existing, False
    FileStore(settings.data_dir).put(data)
    letters.add_stored_file(session, sha, len(data))
    row = ReleaseFile(application_id=application_id, item_no=item_no, sha256=sha, filename=name, kind=accepted.kind,
                      media_type=accepted.media_type, size=len(data), uploaded_by=by)
    session.add(row)
    if session.get(ReleaseScreening, sha) is None:
        session.add(ReleaseScreening(sha256=sha))
    try:
        session.commit()
    except IntegrityError:  # the same upload at the same moment: the other request's row
        session.rollback()
        return _existing(session, application_id, item_no, sha), False
    session.refresh(row)
    return row, True


def _existing(session: Session, application_id: str, item_no: int, sha: str) -> ReleaseFile | None:
    return session.exec(select(ReleaseFile).where(
        ReleaseFile.application_id == application_id, ReleaseFile.item_no == item_no, ReleaseFile.sha256 == sha)).first()


async def _start_screening(client, settings: Settings, row: ReleaseFile) -> None:
    try:
        await client.start_workflow(
            ReleaseFileScreeningWorkflow.run,
            ScreenFileInput(sha256=row.sha256, filename=row.filename, kind=row.kind),
            id=screening_workflow_id(row.sha256), task_queue=settings.task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
        )
    except WorkflowAlreadyStartedError:
        pass  # these bytes are being (or were) screened


async def _tell_application(client, application_id: str, what: str) -> None:
    """The application reads its files' state again (its signature's validator holds it; issue 22 point 4). An
    application that has ended hears nothing: its files were sealed at its signature."""
    try:
        await client.get_workflow_handle(application_id).signal("release_changed", ReleaseChanged(what=what))
    except RPCError as error:
        if error.status != RPCStatusCode.NOT_FOUND:
            raise


def _refuse_if_sealed(session: Session, application_id: str) -> None:
    if repo.seal_of(session, application_id) is not None:
        raise HTTPException(status.HTTP_409_CONFLICT, "答复已签发，随答复公开的文件已封存，不能再更改")


# --- reading ------------------------------------------------------------------------------------


@router.get("/{application_id}/release-files", response_model=list[ReleaseFileOut])
async def list_release_files(application_id: str, session: SessionDep, client: ClientDep, user: Reader) -> list[ReleaseFileOut]:
    await blocking(_require_item, session, application_id, 1)
    await ensure_visible(user, application_id, client)
    return await blocking(lambda: [_file_out(session, row) for row in repo.files_of(session, application_id)])


@router.get("/{application_id}/release-files/{file_id}", response_model=ReleaseFileDetail)
async def release_file_detail(application_id: str, file_id: FileId, session: SessionDep, settings: SettingsDep,
                              client: ClientDep,
                              user: Reader) -> ReleaseFileDetail:
    row = await blocking(_file_of, session, application_id, file_id)
    await ensure_visible(user, application_id, client)
    return await blocking(_detail, session, row, settings)


@draft_router.get("/{draft_id}/basis-files/{file_id}", response_model=ReleaseFileDetail)
async def basis_file_detail(draft_id: DraftId, file_id: FileId, session: SessionDep, settings: SettingsDep,
                            user: Reader) -> ReleaseFileDetail:
    """A basis file's screening, findings and redactions, as for a file released with a reply."""
    return await blocking(_detail, session, await blocking(_file_of, session, draft_id, file_id), settings)


@router.get("/{application_id}/release-files/{file_id}/pages/{page}.png",
            response_class=Response, responses={200: {"content": {"image/png": {}}}})
async def release_file_page(application_id: str, file_id: FileId, page: Number, request: Request, session: SessionDep,
                            settings: SettingsDep, client: ClientDep, user: Reader,
                            redaction: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None) -> Response:
    """A page image for the reviewer: the file as screened, or (`?redaction=ID`) the released copy."""
    row = await blocking(_file_of, session, application_id, file_id)
    await ensure_visible(user, application_id, client)
    return await _page_image(request, session, settings, row, page, redaction)


@draft_router.get("/{draft_id}/basis-files/{file_id}/pages/{page}.png",
                  response_class=Response, responses={200: {"content": {"image/png": {}}}})
async def basis_file_page(draft_id: DraftId, file_id: FileId, page: Number, request: Request, session: SessionDep,
                          settings: SettingsDep, user: Reader,
                          redaction: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None) -> Response:
    row = await blocking(_file_of, session, draft_id, file_id)
    return await _page_image(request, session, settings, row, page, redaction)


async def _page_image(request: Request, session: Session, settings: Settings, row: ReleaseFile, page: int,
                      redaction: int | None) -> Response:
    sha = await blocking(_pages_sha, session, row, redaction)
    from release.redact import image_of_page

    data = await blocking(FileStore(settings.data_dir).get_verified, sha)
    try:
        png = await rendering(request, image_of_page, data, page)
    except IndexError:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"该文件没有第 {page} 页") from None
    return Response(png, media_type="image/png", headers={"Cache-Control": "private, max-age=3600"})


def _pages_sha(session: Session, row: ReleaseFile, redaction_id: int | None) -> str:
    if redaction_id is not None:
        redaction = session.get(ReleaseRedaction, redaction_id)
        if redaction is None or redaction.release_file_id != row.id or not redaction.released_sha256:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "没有该删除处理版本")
        return redaction.released_sha256
    screening = session.get(ReleaseScreening, row.sha256)
    if screening is None or not screening.pages_sha256:
        raise HTTPException(status.HTTP_409_CONFLICT, "文件尚未完成保密预审，暂无页面图像")
    return screening.pages_sha256


def _file_of(session: Session, application_id: str, file_id: int) -> ReleaseFile:
    row = session.get(ReleaseFile, file_id)
    if row is None or row.application_id != application_id:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"{application_id} 没有该文件")
    return row


def _screening_out(session: Session, sha: str) -> ScreeningOut:
    screening = session.get(ReleaseScreening, sha)
    if screening is None:
        return ScreeningOut(state="pending")
    return ScreeningOut(state=screening.state, pages_done=screening.pages_done, pages_total=screening.pages_total,
                        error=screening.error)


def _findings_out(session: Session, row: ReleaseFile) -> list[FindingOut]:
    accepted = repo.decisions_of(session, row.id)
    removed = repo.redacted_seqs(repo.latest_verified_redaction(session, row.id))
    out = []
    for finding in repo.findings_of(session, row.sha256):
        decision = accepted.get(finding.seq)
        out.append(FindingOut(
            seq=finding.seq, page=finding.page, kind=finding.kind, detail=finding.detail, excerpt=finding.excerpt,
            place=finding.place, ref=finding.ref, redacted=finding.seq in removed,
            accepted=DecisionOut(reason=decision.reason, decided_by=decision.decided_by,
                                 decided_at=decision.decided_at) if decision else None,
        ))
    return out


def _file_out(session: Session, row: ReleaseFile) -> ReleaseFileOut:
    screening = _screening_out(session, row.sha256)
    open_count = None
    if screening.state == "done":
        open_count = sum(1 for f in _findings_out(session, row) if not f.accepted and not f.redacted)
    return ReleaseFileOut(**row.model_dump(), screening=screening, open_findings=open_count)


def _detail(session: Session, row: ReleaseFile, settings: Settings) -> ReleaseFileDetail:
    base = _file_out(session, row)
    sizes: list[tuple[float, float]] = []
    screening = session.get(ReleaseScreening, row.sha256)
    if screening is not None and screening.pages_sha256:
        import pypdfium2

        document = pypdfium2.PdfDocument(FileStore(settings.data_dir).get_verified(screening.pages_sha256))
        try:
            sizes = [tuple(document[i].get_size()) for i in range(len(document))]
        finally:
            document.close()
    return ReleaseFileDetail(
        **base.model_dump(), findings=_findings_out(session, row),
        redactions=[RedactionOut(**r.model_dump()) for r in repo.redactions_of(session, row.id)], page_sizes=sizes,
    )


# --- decisions ----------------------------------------------------------------------------------


@router.post("/{application_id}/release-files/{file_id}/findings/{seq}/accept", response_model=FindingOut,
             responses={409: {"description": "已以其他理由接受"}})
async def accept_finding(application_id: str, file_id: FileId, seq: Number, body: AcceptBody, session: SessionDep,
                         client: ClientDep, user: Handler) -> FindingOut:
    """The handler releases what a finding points at, with the reason (e.g. the enterprise list is already public)."""
    row = await blocking(_file_of, session, application_id, file_id)
    await ensure_visible(user, application_id, client)
    await blocking(_refuse_if_sealed, session, application_id)
    accepted = await blocking(_accept, session, row, seq, body.reason.strip(), user.username)
    await _tell_application(client, application_id, "accepted")
    return accepted


@draft_router.post("/{draft_id}/basis-files/{file_id}/findings/{seq}/accept", response_model=FindingOut,
                   responses={409: {"description": "已以其他理由接受"}})
async def accept_basis_finding(draft_id: DraftId, file_id: FileId, seq: Number, body: AcceptBody, session: SessionDep,
                               user: Editors) -> FindingOut:
    """What a finding in a basis file points at is published, with the reason."""
    row = await blocking(_file_of, session, draft_id, file_id)
    return await blocking(_accept, session, row, seq, body.reason.strip(), user.username)


def _accept(session: Session, row: ReleaseFile, seq: int, reason: str, by: str) -> FindingOut:
    if seq not in {f.seq for f in repo.findings_of(session, row.sha256)}:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"该文件没有第 {seq} 条预审发现")
    existing = repo.decisions_of(session, row.id).get(seq)
    if existing is not None and existing.reason != reason:
        raise HTTPException(status.HTTP_409_CONFLICT, f"该发现已由 {existing.decided_by} 以其他理由接受：{existing.reason}")
    if existing is None:
        session.add(ReleaseDecision(release_file_id=row.id, finding_seq=seq, reason=reason, decided_by=by))
        try:
            session.commit()
        except IntegrityError:
            session.rollback()
    return next(f for f in _findings_out(session, row) if f.seq == seq)


@router.post("/{application_id}/release-files/{file_id}/redactions", response_model=RedactionOut,
             status_code=status.HTTP_202_ACCEPTED,
             responses={409: {"description": "未完成预审"}, 422: {"description": "所选发现或区域有误"}})
async def make_redaction(application_id: str, file_id: FileId, body: RedactionBody, session: SessionDep,
                         settings: SettingsDep, client: ClientDep, user: Handler) -> RedactionOut:
    """The released copy (区分处理): chosen findings and drawn areas burned into page pixels, each with its basis,
    then verified (text layer, OCR, structure, x-ray), in the background (a Temporal workflow per redaction:
    OCR of every page takes minutes for a long file). `GET …/release-files/{file_id}` shows its state; a copy
    that fails the check is recorded with the reasons and never released."""
    row = await blocking(_file_of, session, application_id, file_id)
    await ensure_visible(user, application_id, client)
    redaction = await _redact(session, settings, client, row, body, user.username)
    await _tell_application(client, application_id, "redaction-asked")
    return redaction


@draft_router.post("/{draft_id}/basis-files/{file_id}/redactions", response_model=RedactionOut,
                   status_code=status.HTTP_202_ACCEPTED,
                   responses={409: {"description": "未完成预审"}, 422: {"description": "所选发现或区域有误"}})
async def redact_basis_file(draft_id: DraftId, file_id: FileId, body: RedactionBody, session: SessionDep,
                            settings: SettingsDep, client: ClientDep, user: Editors) -> RedactionOut:
    """The published copy of a basis file, redacted and verified as a released file is."""
    row = await blocking(_file_of, session, draft_id, file_id)
    return await _redact(session, settings, client, row, body, user.username)


async def _redact(session: Session, settings: Settings, client, row: ReleaseFile, body: RedactionBody,
                  by: str) -> RedactionOut:
    if not body.findings and not body.areas:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "请至少选择一处预审发现或在页面上划定一个删除区域")
    owner = row.application_id  # read now: the commit below expires the row (a reload would run on the event loop)
    await blocking(_refuse_if_sealed, session, owner)
    areas = await blocking(_plan, session, row, body)
    redaction = await blocking(_record_redaction, session, row, areas, body.text_layer, by)
    await client.start_workflow(
        ReleaseFileRedactionWorkflow.run, RedactFileInput(redaction_id=redaction.id, application_id=owner),
        id=redaction_workflow_id(redaction.id), task_queue=settings.task_queue,
        id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
    )
    return redaction


def _plan(session: Session, row: ReleaseFile, body: RedactionBody) -> list[dict]:
    screening = session.get(ReleaseScreening, row.sha256)
    if screening is None or screening.state != "done" or not screening.pages_sha256:
        raise HTTPException(status.HTTP_409_CONFLICT, "文件尚未完成保密预审，暂不能作删除处理")
    findings = {f.seq: f for f in repo.findings_of(session, row.sha256)}
    missing = [c.seq for c in body.findings if c.seq not in findings]
    if missing:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"该文件没有第 {missing[0]} 条预审发现")
    for area in body.areas:
        x0, y0, x1, y1 = area.box
        if not (0 <= x0 < x1 <= 1 and 0 <= y0 < y1 <= 1):
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"第 {area.page} 页划定的区域超出页面范围")
    areas = [{"page": findings[c.seq].page, "box": findings[c.seq].place, "basis": c.basis, "finding_seq": c.seq}
             for c in body.findings if findings[c.seq].place]
    areas += [{"page": a.page, "box": list(a.box), "basis": a.basis, "finding_seq": None} for a in body.areas]
    return areas


def _record_redaction(session: Session, row: ReleaseFile, areas: list[dict], text_layer: bool, by: str) -> RedactionOut:
    redaction = ReleaseRedaction(release_file_id=row.id, areas=areas, text_layer=text_layer, state="pending", made_by=by)
    session.add(redaction)
    session.commit()
    session.refresh(redaction)
    return RedactionOut(**redaction.model_dump())


# --- the seal and the applicant's downloads (RULES §14; §3 Service) ------------------------------

portal = APIRouter(prefix="/api/v1/portal", tags=["portal"])
Sha = Annotated[str, Path(pattern="^[0-9a-f]{64}$")]


class SealedFileOut(BaseModel):
    item_no: int
    filename: str
    sha256: str
    size: int
    version: str = Field(description="redacted (区分处理后的公开版) | as-uploaded (无需删除)")
    original_sha256: str | None = Field(None, description="staff only: the file kept with the agency")
    media_type: str
    bases: list[str] = Field(default_factory=list, description="the legal bases of the removals")
    accepted: list[str] = Field(default_factory=list, description="findings released with a reason (staff only)")
    pages: int | None = None
    link: str | None = Field(None, description="the signed download link on /track (applicant)")


class DownloadOut(BaseModel):
    sha256: str
    filename: str
    downloaded_on: date
    downloaded_at: datetime
    client: str


class SealOut(BaseModel):
    application_id: str
    signed_by: str
    sealed_at: datetime
    manifest_sha256: str
    delivery: str = Field(description="attached (随答复邮件附送) | link (申请人在查询页面下载) | none")
    link_expires_on: date | None
    files: list[SealedFileOut]
    downloads: list[DownloadOut] = Field(default_factory=list)


@router.get("/{application_id}/release-seal", response_model=SealOut, responses={404: {"description": "尚未签发"}})
async def release_seal(application_id: str, session: SessionDep, client: ClientDep, user: Reader) -> SealOut:
    """The sealed release record: exactly which file versions left with the reply (sha256), with the bases of their
    removals, and each download by the applicant."""
    await blocking(_require_item, session, application_id, 1)
    await ensure_visible(user, application_id, client)
    return await blocking(_seal_out, session, application_id)


def _seal_out(session: Session, application_id: str) -> SealOut:
    seal = repo.seal_of(session, application_id)
    if seal is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "答复尚未签发，公开文件清单尚未封存")
    return SealOut(**seal.model_dump(exclude={"files"}), files=[SealedFileOut(**f) for f in seal.files],
                   downloads=[DownloadOut(**d.model_dump()) for d in repo.downloads_of(session, application_id)])


@portal.get("/applications/{application_id}/released", response_model=list[SealedFileOut])
def portal_released(application_id: Owned, session: SessionDep, settings: SettingsDep) -> list[SealedFileOut]:
    """The files that went with the reply, for the applicant (query code): each with its signed download link."""
    seal = repo.seal_of(session, application_id)
    if seal is None or not seal.files or seal.link_expires_on is None:
        return []
    secret = settings.require_jwt_secret()
    return [SealedFileOut(**(f | {"original_sha256": None, "accepted": []}),
                          link=links.link(secret, application_id, f["sha256"], seal.link_expires_on))
            for f in seal.files]


@portal.get("/applications/{application_id}/released/{sha256}", response_class=Response,
            responses={403: {"description": "链接无效或已过期"}, 404: {"description": "没有该文件"}})
async def portal_released_file(application_id: str, sha256: Sha, request: Request, session: SessionDep,
                               settings: SettingsDep, client: ClientDep,
                               expires: Annotated[str, Query(max_length=10)] = "",
                               sig: Annotated[str, Query(max_length=64)] = "") -> Response:
    """A released file by its signed link (the reply's e-mail, the /track page). Only a file sealed for this
    application leaves (the redacted and verified copy, or one that needed no removal), never an original kept
    with the agency; each download is recorded (the file reached the applicant: RULES §3 Service). A portal reply
    still awaiting delivery is delivered by it, as by the reply's own download."""
    refusal = links.why_not_download(settings.require_jwt_secret(), application_id, sha256, expires, sig,
                                     clock.today())
    if refusal is not None:
        raise HTTPException(status.HTTP_403_FORBIDDEN, refusal)
    peer = request.client.host if request.client else ""
    found = await blocking(_record_download, session, application_id, sha256, peer)
    data = await blocking(FileStore(settings.data_dir).get_verified, sha256)
    row = await blocking(session.get, Application, application_id)
    if row is not None and row.delivery_method == "portal" and row.status == "awaiting-delivery":
        try:
            await run_update(client, application_id, "confirm_delivery",
                             ConfirmDelivery(delivered_on=clock.today(), method="portal", by="applicant-portal",
                                             note=f"申请人在线下载公开文件“{found['filename']}”"),
                             ApplicationView, what="申请", ended=lambda: "")
        except HTTPException as refused:
            if refused.status_code != status.HTTP_409_CONFLICT:
                raise
    return Response(data, media_type=found["media_type"], headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(found['filename'])}",
        "Cache-Control": "no-store", "X-Content-SHA256": sha256})


def _record_download(session: Session, application_id: str, sha256: str, peer: str) -> dict:
    seal = repo.seal_of(session, application_id)
    found = next((f for f in (seal.files if seal else []) if f["sha256"] == sha256), None)
    if found is None:
        # An original kept with the agency, another application's file, or nothing: the same answer.
        raise HTTPException(status.HTTP_404_NOT_FOUND, "本申请没有该公开文件")
    session.add(ReleaseDownload(application_id=application_id, sha256=sha256, filename=found["filename"],
                                downloaded_on=clock.today(), downloaded_at=clock.now(), client=peer[:100]))
    session.commit()
    return found


# --- a draft for comment's basis files (issue 26): uploaded and listed here, reviewed like released files ----------

DRAFT_ENDED = "该征求意见稿已办结（已撤回或已关联正式决策文件），不能再办理"


@draft_router.post("/{draft_id}/basis-files", status_code=status.HTTP_201_CREATED,
             responses={200: {"description": "同一文件已附上过（按内容哈希）"}, 409: {"description": "征求意见稿已公布"},
                        413: {"description": "文件过大"}, 422: {"description": "文件被拒绝（附原因）"}})
async def attach_basis_file(draft_id: DraftId, response: Response, user: Editors, client: ClientDep, session: SessionDep,
                            settings: SettingsDep, file: Annotated[UploadFile, File(description="起草说明等决策依据文件")]):
    """A basis file (起草说明 etc.), checked, screened and reviewed as a file released with a reply (RULES §14):
    `GET /api/v1/drafts/{id}/basis-files/{file_id}` shows its findings, which are redacted or accepted there."""
    from contracts.participation import AttachBasisFile, BasisFile, DraftQuery, DraftView

    view: DraftView = await run_query(client, draft_id, "state", DraftQuery(), DraftView, what="征求意见稿")
    if view.phase not in ("in-review", "returned", "reviewed"):
        raise HTTPException(status.HTTP_409_CONFLICT, "征求意见稿已公布，不能再附上决策依据文件")
    row, created = await receive_file(draft_id, 1, file, session, settings, client, user.username)
    await run_update(client, draft_id, "attach_basis", AttachBasisFile(file=BasisFile(
        file_id=row.id, filename=row.filename, sha256=row.sha256, by=user.username)), DraftView, what="征求意见稿",
        ended=lambda: DRAFT_ENDED)
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return await blocking(_file_out, session, row)


@draft_router.get("/{draft_id}/basis-files")
async def basis_files(draft_id: DraftId, user: Reader, session: SessionDep):
    """The draft's basis files with their screening and open findings."""
    from db import release_repository

    return await blocking(lambda: [_file_out(session, r) for r in release_repository.files_of(session, draft_id)])
