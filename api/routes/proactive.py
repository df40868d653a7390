"""政务公开 API: the proactive catalogue (tag proactive), policy interpretations (interpretation) and
public-opinion events (public-opinion). Actions are workflow Updates (a refusal is 409 with the
reason); lists and the public catalogue search read the tables the workflows' activities write."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session

from api import idempotency
from api.deps import CalendarDep, ClientDep, ItemId, SessionDep, SettingsDep
from api.offloop import blocking
from api.security import STAFF_READERS, require
from api.temporal_calls import run_query, run_update, start_once
from core import clock
from db import proactive_repository as repo
from db.models_proactive import CatalogueCategory, CatalogueItem
from db.models_security import StaffUser
from proactive.rules import Deadline, interpretation_due, publication_due
from workcalendar import WorkCalendar
from contracts.proactive import (
    CatalogueItemInput, CatalogueItemView, ChangeItem, CloseEvent, ItemQuery, LegalKind, OpinionEventInput,
    OpinionEventView, Platform, PublishItem, RecordResponse, ReviewItem, WithdrawItem,
)

ITEM_ENDED = "该信息已撤下，不能再办理"
EVENT_ENDED = "该舆情已办结，不能再办理"
Staff = Annotated[StaffUser, Depends(require(*sorted(STAFF_READERS)))]
Editors = Annotated[StaffUser, Depends(require("handler", "supervisor"))]
Reviewer = Annotated[StaffUser, Depends(require("reviewer"))]

router = APIRouter(prefix="/api/v1/catalogue", tags=["proactive"])
interpretation_router = APIRouter(prefix="/api/v1/interpretations", tags=["interpretation"])
opinion_router = APIRouter(prefix="/api/v1/public-opinion", tags=["public-opinion"])


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CategoryBody(Body):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,39}$", description="代码，如 statistics-data")
    name: str = Field(min_length=2, max_length=100)
    section: str = Field(min_length=2, max_length=100, description="负责公开的科室（制度第十四条）")


class ItemBody(Body):
    title: str = Field(min_length=2, max_length=300)
    category_id: str = Field(min_length=1, max_length=40)
    document_number: str | None = Field(default=None, max_length=100)
    produced_on: date = Field(description="信息产生（或变更）之日；政策文件为印发之日")
    content: str = Field(min_length=1, max_length=200_000)
    summary: str = Field(default="", max_length=2000)
    requested_in: list[Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$")]] = Field(
        default_factory=list, max_length=100, description="依申请公开中申请过相似信息的申请编号（由申请转为主动公开）")
    legal_kind: LegalKind | None = Field(default=None, description="规章（rules）或行政规范性文件（normative-documents）：计入年度报告表二")
    issued_on: date | None = Field(default=None, description="规章、规范性文件的印发（施行）日期；默认为信息产生之日")


class InterpretationBody(Body):
    policy_id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,59}$")
    title: str = Field(min_length=2, max_length=300)
    content: str = Field(min_length=1, max_length=200_000)
    summary: str = Field(default="", max_length=2000)


class ReviewBody(Body):
    approve: bool
    comment: str = Field(default="", max_length=2000)


class PublishBody(Body):
    url: str = Field(default="", max_length=500, description=(
        "where it is published; empty: this product's own 主动公开目录 (issue 23 point 7)"))


class ChangeBody(Body):
    title: str | None = Field(default=None, min_length=2, max_length=300)
    content: str = Field(min_length=1, max_length=200_000)
    document_number: str | None = Field(default=None, max_length=100)
    reason: str = Field(default="", max_length=2000)


class WithdrawBody(Body):
    reason: str = Field(min_length=2, max_length=2000)
    repealed_on: date | None = Field(default=None, description="规章、规范性文件因废止而撤下的，废止日期（计入年度报告表二）")


class ItemCreated(BaseModel):
    item_id: str
    deadline: Deadline


class PublicItem(BaseModel):
    item_id: str
    title: str
    category_id: str
    section: str
    document_number: str | None
    produced_on: date
    published_at: datetime | None
    url: str | None
    content_sha256: str | None
    summary: str
    interpretations: list["PublicItem"] = []


class CataloguePage(BaseModel):
    items: list[PublicItem]
    next_cursor: str | None


def _public(row: CatalogueItem, interpretations: list[CatalogueItem] = ()) -> PublicItem:
    return PublicItem(item_id=row.id, title=row.title, category_id=row.category_id, section=row.section,
                      document_number=row.document_number, produced_on=row.produced_on,
                      published_at=row.published_at, url=row.url, content_sha256=row.content_sha256,
                      summary=row.summary, interpretations=[_public(i) for i in interpretations])


def _cursor(text: str | None) -> tuple[date, str] | None:
    if not text:
        return None
    on, _, item_id = text.partition("~")
    try:
        return date.fromisoformat(on), item_id
    except ValueError:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "翻页参数无效，请从第一页重新查询") from None


def catalogue_page(session: Session, *, title=None, category_id=None, document_number=None, date_from=None,
                   date_to=None, cursor=None, limit=20) -> CataloguePage:
    if date_from and date_to and date_from > date_to:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "起始日期不能晚于截止日期")
    rows, after = repo.search_catalogue(session, title=title or None, category_id=category_id or None,
                                        document_number=document_number or None, date_from=date_from,
                                        date_to=date_to, after=_cursor(cursor), limit=limit)
    found = repo.interpretations_of(session, [r.id for r in rows])
    return CataloguePage(items=[_public(r, found.get(r.id, [])) for r in rows],
                         next_cursor=f"{after[0].isoformat()}~{after[1]}" if after else None)


def _search_json(engine, **query) -> bytes:
    with Session(engine) as session:
        return catalogue_page(session, **query).model_dump_json().encode()


@router.get("", response_model=CataloguePage)
async def search(
    request: Request,
    title: Annotated[str | None, Query(max_length=100, description="标题包含")] = None,
    category: Annotated[str | None, Query(max_length=40)] = None,
    document_number: Annotated[str | None, Query(max_length=100, description="文号（完全一致）")] = None,
    date_from: date | None = None, date_to: date | None = None,
    cursor: Annotated[str | None, Query(max_length=120)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> CataloguePage:
    """The public catalogue (no log-in): published items, newest first, with their interpretations.

    The most used public route: one hop to a worker thread for the session, the query and the JSON (a `def`
    route with a session dependency took three), and the page's model is not validated a second time."""
    body = await blocking(_search_json, request.app.state.engine, title=title, category_id=category,
                          document_number=document_number, date_from=date_from, date_to=date_to, cursor=cursor,
                          limit=limit)
    return Response(body, media_type="application/json")


@router.get("/categories", response_model=list[CategoryBody])
def list_categories(session: SessionDep) -> list[CategoryBody]:
    return [CategoryBody(id=c.id, name=c.name, section=c.section) for c in repo.categories(session)]


@router.put("/categories/{category_id}", response_model=CategoryBody)
def put_category(category_id: str, body: CategoryBody, session: SessionDep,
                 user: Annotated[StaffUser, Depends(require("supervisor", "admin"))]) -> CategoryBody:
    """Staff maintain the categories, each with its responsible section (seed 002 art. 14)."""
    if category_id != body.id:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "地址中的代码与内容中的代码不一致")
    session.merge(CatalogueCategory(id=body.id, name=body.name, section=body.section))
    session.commit()
    return body


def _category(session: Session, category_id: str) -> CatalogueCategory:
    found = session.get(CatalogueCategory, category_id)
    if found is None:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"没有代码为 {category_id} 的目录类别")
    return found


async def _start(client, settings, inp: CatalogueItemInput) -> None:
    await start_once(client, "CatalogueItemWorkflow", inp, id=inp.item_id, task_queue=settings.task_queue)


def _new_id(prefix: str) -> str:
    return f"{prefix}-{clock.today().year}-{idempotency.id_suffix(prefix)}"  # fixed by an Idempotency-Key


@router.post("/items", response_model=ItemCreated, status_code=status.HTTP_201_CREATED)
async def create_item(body: ItemBody, user: Editors, session: SessionDep, client: ClientDep, settings: SettingsDep,
                      calendar: CalendarDep) -> ItemCreated:
    """An item enters the catalogue when it is produced or changed: review, then publication within
    20 days (seed 002 art. 13; working days when the agency sets it, Reg. 26)."""
    if body.produced_on > clock.today():
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "信息产生之日不能晚于今天")
    if body.issued_on is not None and (body.legal_kind is None or body.issued_on > clock.today()):
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                            "印发日期只用于规章或规范性文件，且不能晚于今天" if body.legal_kind else "印发日期只用于规章或规范性文件")
    category = await blocking(_category, session, body.category_id)
    await calendar.fresh()  # a year another process published just now counts
    data = calendar.since(body.produced_on.year)
    deadline = publication_due(WorkCalendar(data), body.produced_on, working_days=settings.proactive_publication_working_days)
    inp = CatalogueItemInput(item_id=_new_id("ML"), kind="document", title=body.title, category_id=category.id,
                             section=category.section, document_number=body.document_number,
                             produced_on=body.produced_on, content=body.content, summary=body.summary,
                             created_by=user.username, working_days=settings.proactive_publication_working_days,
                             calendar=data, supervisor_email=settings.supervisor_email,
                             requested_in=sorted(set(body.requested_in)), legal_kind=body.legal_kind,
                             issued_on=(body.issued_on or body.produced_on) if body.legal_kind else None)
    await _start(client, settings, inp)
    return ItemCreated(item_id=inp.item_id, deadline=deadline)


# --- from requests to the catalogue (issue 13 point 5) ------------------------------------------------


class RequestedItemOut(BaseModel):
    application_id: str
    item_no: int
    description: str
    received_on: date
    outcome: str | None


class RequestClusterOut(BaseModel):
    subject: str = Field(description="the newest request's wording: the proposed catalogue item's title")
    applicants: int = Field(description="different applicants who asked for it")
    application_ids: list[str]
    items: list[RequestedItemOut]


@router.get("/requested-often", response_model=list[RequestClusterOut])
def requested_often(
    user: Staff, session: SessionDep,
    days: Annotated[int, Query(ge=1, le=3660, description="applications received in the last `days` days")] = 365,
    application_id: Annotated[str | None, Query(max_length=40, description="only the groups with this application")] = None,
    min_applicants: Annotated[int, Query(ge=2, le=100)] = 3,
) -> list[RequestClusterOut]:
    """Information several applicants asked for (the repeat detection's similarity, across applicants):
    candidates for proactive disclosure (Reg. 44). A handler sees only their department's applications."""
    from datetime import timedelta

    from api.security import sees_department
    from proactive.from_requests import RequestedItem
    from proactive.from_requests import requested_often as group

    items = [RequestedItem(application_id=a, item_no=n, description=d, received_on=r, outcome=o,
                           applicant=f"{name}|{email or phone or a}")
             for a, dept, name, email, phone, r, n, d, o in repo.recent_request_items(session, clock.today() - timedelta(days=days))
             if sees_department(user, dept)]
    if application_id:  # one application's page: only the requests that can share its groups
        from proactive.from_requests import near_application

        items = near_application(items, application_id)
    clusters = group(items, min_applicants=min_applicants)
    if application_id:
        clusters = [c for c in clusters if application_id in c.application_ids]
    return [RequestClusterOut(subject=c.subject, applicants=c.applicants, application_ids=c.application_ids,
                              items=[RequestedItemOut(application_id=i.application_id, item_no=i.item_no,
                                                      description=i.description, received_on=i.received_on,
                                                      outcome=i.outcome) for i in c.items]) for c in clusters[:50]]


class PublicCopyBody(Body):
    application_id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$")
    attachment_id: int | None = Field(None, ge=1, le=2**31 - 1,
                                      description="the released file (as the applicant received it)")
    released_sha256: str | None = Field(None, pattern=r"^[0-9a-f]{64}$",
                                        description="issue 22: a file sealed with the reply (its released version)")
    title: str = Field(min_length=2, max_length=300)
    category_id: str = Field(min_length=1, max_length=40)
    content: str | None = Field(None, min_length=1, max_length=200_000,
                                description="the public copy: personal data removed (a sealed file's: its text if "
                                            "not given)")
    summary: str = Field(default="", max_length=2000)


RELEASED = ("disclosed", "partly-disclosed")


@router.post("/public-copies", response_model=ItemCreated, status_code=status.HTTP_201_CREATED)
async def create_public_copy(body: PublicCopyBody, user: Editors, session: SessionDep, client: ClientDep,
                             settings: SettingsDep, calendar: CalendarDep) -> ItemCreated:
    """A record released to an applicant, published as a separate public copy: personal data removed
    (checked by the confidentiality pre-screen), then reviewed and published like any catalogue item.
    The exact copy the applicant received stays sealed: its stored file and checksum are not touched;
    the public copy has its own checksum and names the application and the sealed checksum."""
    if body.released_sha256 is not None and body.attachment_id is None:  # issue 22: a file sealed with the reply
        return await _public_copy_of_sealed(body, user, session, client, settings, calendar)
    inp, deadline = await blocking(_public_copy, session, settings, calendar, body, user.username)
    await _start(client, settings, inp)
    return ItemCreated(item_id=inp.item_id, deadline=deadline)


def _public_copy(session: Session, settings, calendar, body: PublicCopyBody, by: str) -> tuple[CatalogueItemInput, Deadline]:
    """The released record checked (sent with the reply, sealed copy intact, no personal data left): the item to start."""
    from db import letters_repository as letters_repo
    from db.models import Application, ApplicationItem
    from db.models_letters import LetterAttachment
    from screening.prescreen import PrescreenText, prescreen_texts
    from contracts.proactive import PublicCopySource

    if (body.attachment_id is None) == (body.released_sha256 is None):
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "请指明一个附件（attachment_id）或一个随答复封存的公开文件（released_sha256）")
    if body.content is None:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "请填写公开副本的内容（已删除个人信息）")
    application = session.get(Application, body.application_id)
    attachment = session.get(LetterAttachment, body.attachment_id)
    if application is None or attachment is None or attachment.application_id != application.id:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"申请 {body.application_id} 没有编号为 {body.attachment_id} 的附件")
    item = session.get(ApplicationItem, (application.id, attachment.item_no))
    sent = letters_repo.get_outbox(session, f"{application.id}:reply")
    received = sent is not None and any(a.get("sha256") == attachment.sha256 for a in sent.attachments or [])
    if item is None or item.outcome not in RELEASED or not received:
        raise HTTPException(status.HTTP_409_CONFLICT,
                            "只有已答复公开并随答复送出的文件才能发布公开副本（该附件尚未随答复告知书送出）")
    findings = prescreen_texts([PrescreenText(label="公开副本", text=body.content)], today=clock.today())
    if findings:
        kinds = {"id-card": "身份证号", "phone": "电话号码", "secret-marking": "密级标志"}
        found = "、".join(sorted({kinds.get(f.kind, f.kind) for f in findings}))
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                            f"公开副本中仍有{found}，请删除个人信息等不应公开的内容后再提交")
    try:
        letters_repo.FileStore(settings.data_dir).get_verified(attachment.sha256)  # the sealed copy is intact
    except letters_repo.ChecksumMismatch:  # missing or altered: nothing is published from it
        raise HTTPException(status.HTTP_409_CONFLICT, "申请人收到的文件与封存的校验值不符或已缺失，请联系系统管理员") from None
    category = _category(session, body.category_id)
    data = calendar.since(clock.today().year)
    produced_on = clock.today()
    deadline = publication_due(WorkCalendar(data), produced_on, working_days=settings.proactive_publication_working_days)
    summary = body.summary or f"依申请公开信息的公开副本（申请 {application.id} 第 {attachment.item_no} 项，已删除个人信息）"
    inp = CatalogueItemInput(item_id=_new_id("ML"), kind="document", title=body.title, category_id=category.id,
                             section=category.section, produced_on=produced_on, content=body.content, summary=summary,
                             created_by=by, working_days=settings.proactive_publication_working_days,
                             calendar=data, supervisor_email=settings.supervisor_email, requested_in=[application.id],
                             source=PublicCopySource(application_id=application.id, item_no=attachment.item_no,
                                                     attachment_id=attachment.id or 0, filename=attachment.filename,
                                                     sha256=attachment.sha256))
    return inp, deadline


async def _public_copy_of_sealed(body: PublicCopyBody, user: StaffUser, session: Session, client, settings,
                                 calendar) -> ItemCreated:
    """Issue 22 point 6 (RULES §8, Reg. 44): a file sealed with the reply (the redacted and verified copy, or one that
    needed no removal) proposed for proactive publication in one step. Its text (or the editor's) passes the
    pre-screen again (what one applicant may receive is not always for everyone), then the catalogue's own
    confidentiality review before it is published; the sealed copy is not touched."""
    from contracts.proactive import PublicCopySource

    sealed, content = await blocking(_sealed_public_text, session, settings, body)
    _refuse_personal_data(content)
    category = await blocking(_category, session, body.category_id)
    data = calendar.since(clock.today().year)
    produced_on = clock.today()
    deadline = publication_due(WorkCalendar(data), produced_on, working_days=settings.proactive_publication_working_days)
    summary = body.summary or (f"依申请公开信息的公开副本（申请 {body.application_id} 第 {sealed['item_no']} 项"
                               f"{'，已作区分处理' if sealed['version'] == 'redacted' else ''}）")
    inp = CatalogueItemInput(item_id=_new_id("ML"), kind="document", title=body.title, category_id=category.id,
                             section=category.section, produced_on=produced_on, content=content, summary=summary,
                             created_by=user.username, working_days=settings.proactive_publication_working_days,
                             calendar=data, supervisor_email=settings.supervisor_email,
                             requested_in=[body.application_id],
                             source=PublicCopySource(application_id=body.application_id, item_no=sealed["item_no"],
                                                     attachment_id=0, filename=sealed["filename"],
                                                     sha256=sealed["sha256"]))
    await _start(client, settings, inp)
    return ItemCreated(item_id=inp.item_id, deadline=deadline)


def _sealed_public_text(session: Session, settings, body: PublicCopyBody) -> tuple[dict, str]:
    from db import letters_repository as letters_repo
    from db import release_repository
    from db.models import ApplicationItem

    seal = release_repository.seal_of(session, body.application_id)
    sealed = next((f for f in (seal.files if seal else []) if f["sha256"] == body.released_sha256), None)
    if sealed is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND,
                            f"申请 {body.application_id} 的答复没有封存该公开文件（只有随答复公开的文件版本才能发布公开副本）")
    item = session.get(ApplicationItem, (body.application_id, sealed["item_no"]))
    if item is None or item.outcome not in RELEASED:
        raise HTTPException(status.HTTP_409_CONFLICT, "该事项尚未答复公开，不能发布公开副本")
    try:
        data = letters_repo.FileStore(settings.data_dir).get_verified(sealed["sha256"])
    except letters_repo.ChecksumMismatch:
        raise HTTPException(status.HTTP_409_CONFLICT, "封存的公开文件与校验值不符或已缺失，请联系系统管理员") from None
    if body.content is not None:
        return sealed, body.content
    text = ""
    if sealed["media_type"] == "application/pdf":
        from release.extract import pdf_pages

        text = "\n\n".join(p.text for p in pdf_pages(data, ocr_scans=False)).strip()
    if not text:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "无法从该文件读出文字，请填写公开副本的内容")
    return sealed, text[:200_000]


def _refuse_personal_data(content: str) -> None:
    from screening.prescreen import PrescreenText, prescreen_texts

    findings = prescreen_texts([PrescreenText(label="公开副本", text=content)], today=clock.today())
    if findings:
        kinds = {"id-card": "身份证号", "phone": "电话号码", "secret-marking": "密级标志"}
        found = "、".join(sorted({kinds.get(f.kind, f.kind) for f in findings}))
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                            f"公开副本中仍有{found}，请删除个人信息等不应公开的内容后再提交")


class CategoryCount(BaseModel):
    category_id: str
    kind: str
    published_in_year: int = Field(description="本年新公开")
    public_at_year_end: int = Field(description="年末仍在公开（不含已撤下）")


@router.get("/report", response_model=list[CategoryCount])
def report(user: Staff, session: SessionDep, year: Annotated[int, Query(ge=2000, le=2100)]) -> list[CategoryCount]:
    """Counts by category for the annual report (主动公开信息数量)."""
    return [CategoryCount(category_id=c, kind=k, published_in_year=n, public_at_year_end=h)
            for c, k, n, h in repo.published_counts(session, year)]


# --- table 二 of the annual report: figures staff record per year ---------------------------------

FigureValue = Annotated[float, Field(ge=0, le=1e9)] | None


class FiguresBody(Body):
    figures: dict[str, dict[str, FigureValue]] = Field(
        description="row -> field -> value, e.g. {'rules': {'made': 1, 'repealed': 0, 'in_force': 12}}; "
                    "rows and fields as in the 30号 format's table 二 (GET answers them)")


class FigureRow(BaseModel):
    key: str
    label: str
    group: str
    fields: dict[str, str] = Field(description="field -> its label")
    cells: dict[str, int | float | None] = Field(description="the figures the report uses: recorded, else the catalogue's")
    updated_by: str | None
    updated_at: datetime | None
    recorded: dict[str, int | float | None] = Field(default_factory=dict, description="figures staff recorded (an override of the catalogue's)")
    catalogue: dict[str, int] = Field(default_factory=dict, description="规章 and 规范性文件 counted from the catalogue")
    sources: dict[str, Literal["catalogue", "recorded", "override", "missing"]] = Field(default_factory=dict)


class FiguresOut(BaseModel):
    year: int
    rows: list[FigureRow]


def _figures(session: Session, year: int) -> FiguresOut:
    from reports.annual import PROACTIVE_FIELD_LABELS, PROACTIVE_ROWS

    kept = {r.row_key: r for r in repo.annual_figure_rows(session, year)}
    counted = repo.catalogue_table2(session, year)  # issue 13 point 1: 规章 and 规范性文件 from the catalogue

    def row(spec: dict) -> FigureRow:
        key, fields = spec["key"], spec["fields"]
        recorded = {f: kept[key].cells.get(f) for f in fields} if key in kept else {f: None for f in fields}
        catalogue = counted.get(key, {})
        sources = {f: ("catalogue" if recorded[f] is None else "override" if f in catalogue and catalogue[f] != recorded[f]
                       else "recorded") if recorded[f] is not None or f in catalogue else "missing" for f in fields}
        return FigureRow(key=key, label=spec["label"], group=spec["group"],
                         fields={f: PROACTIVE_FIELD_LABELS[f] for f in fields},
                         cells={f: recorded[f] if recorded[f] is not None else catalogue.get(f) for f in fields},
                         updated_by=kept[key].updated_by if key in kept else None,
                         updated_at=kept[key].updated_at if key in kept else None,
                         recorded=recorded, catalogue=catalogue, sources=sources)

    return FiguresOut(year=year, rows=[row(spec) for spec in PROACTIVE_ROWS])


FigureYear = Annotated[int, Path(ge=2008, le=2100, description="the year the figures are for")]


@router.get("/figures/{year}", response_model=FiguresOut)
def figures(year: FigureYear, user: Staff, session: SessionDep) -> FiguresOut:
    """Table 二's figures recorded for the year: what the annual report's table 二 shows."""
    return _figures(session, year)


@router.put("/figures/{year}", response_model=FiguresOut)
def put_figures(year: FigureYear, body: FiguresBody, user: Editors, session: SessionDep) -> FiguresOut:
    """Record table 二's figures: 规章 and 行政规范性文件 made, repealed, in force; 行政许可, 行政处罚, 行政强制
    decisions; 行政事业性收费 amount (万元). Given rows are merged (a null clears a figure)."""
    from db.models_proactive import AnnualFigure
    from reports.annual import validate_table2

    if reason := validate_table2(body.figures):
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, reason)
    if any(v is not None and not float(v).is_integer() for key, cells in body.figures.items() if key != "fees"
           for v in cells.values()):
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "件数、处理决定数量须为整数（收费金额可有小数）")
    for key, cells in body.figures.items():
        row = session.get(AnnualFigure, (year, key))
        merged = {**(row.cells if row else {}), **cells}
        merged = {f: (int(v) if v is not None and float(v).is_integer() and f != "amount_10k_yuan" else v)
                  for f, v in merged.items() if v is not None}
        if row is not None and row.cells == merged:
            continue  # unchanged: who recorded it stays
        if not merged:
            if row is not None:
                session.delete(row)
            continue
        session.merge(AnnualFigure(year=year, row_key=key, cells=merged, updated_by=user.username, updated_at=clock.now()))
    session.commit()
    return _figures(session, year)


@router.get("/items", response_model=list[PublicItem])
def staff_list(user: Staff, session: SessionDep,
               status_: Annotated[str | None, Query(alias="status", max_length=20)] = None) -> list[PublicItem]:
    return [_public(r) for r in repo.staff_items(session, status=status_)]


@router.get("/items/{item_id}", response_model=CatalogueItemView)
async def item(item_id: ItemId, user: Staff, client: ClientDep) -> CatalogueItemView:
    return await run_query(client, item_id, "state", ItemQuery(), CatalogueItemView, what="目录条目")


async def _update(client, item_id: str, name: str, cmd) -> CatalogueItemView:
    return await run_update(client, item_id, name, cmd, CatalogueItemView, what="目录条目", ended=lambda: ITEM_ENDED)


@router.post("/items/{item_id}/review", response_model=CatalogueItemView)
async def review(item_id: ItemId, body: ReviewBody, user: Reviewer, client: ClientDep) -> CatalogueItemView:
    """Confidentiality review (seed 002 art. 10: 谁签发、谁把关): a reviewer who did not write it."""
    return await _update(client, item_id, "review", ReviewItem(by=user.username, **body.model_dump()))


@router.post("/items/{item_id}/publish", response_model=CatalogueItemView)
async def publish(item_id: ItemId, body: PublishBody, user: Editors, client: ClientDep,
                  settings: SettingsDep) -> CatalogueItemView:
    url = body.url.strip()
    if not url:  # published in the product itself: its own public catalogue, searched by the item's title
        from urllib.parse import urlencode

        view = await run_query(client, item_id, "state", ItemQuery(), CatalogueItemView, what="目录条目")
        url = f"{settings.public_base_url.rstrip('/')}/catalogue?{urlencode({'title': view.title})}"
    return await _update(client, item_id, "publish", PublishItem(by=user.username, url=url))


@router.post("/items/{item_id}/change", response_model=CatalogueItemView)
async def change(item_id: ItemId, body: ChangeBody, user: Editors, client: ClientDep) -> CatalogueItemView:
    return await _update(client, item_id, "change", ChangeItem(by=user.username, **body.model_dump()))


@router.post("/items/{item_id}/withdraw", response_model=CatalogueItemView)
async def withdraw(item_id: ItemId, body: WithdrawBody, user: Editors, client: ClientDep) -> CatalogueItemView:
    return await _update(client, item_id, "withdraw", WithdrawItem(by=user.username, reason=body.reason,
                                                                     repealed_on=body.repealed_on))


# --- interpretations -------------------------------------------------------------------------------


@interpretation_router.post("", response_model=ItemCreated, status_code=status.HTTP_201_CREATED)
async def create_interpretation(body: InterpretationBody, user: Editors, session: SessionDep, client: ClientDep,
                                settings: SettingsDep, calendar: CalendarDep) -> ItemCreated:
    """An interpretation of a policy document: due with it, at the latest 3 working days after the
    document was issued (印发; seed 002 art. 20). Its steps are those of a catalogue item."""
    policy = await blocking(session.get, CatalogueItem, body.policy_id)
    if policy is None or policy.kind != "document":
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"没有编号为 {body.policy_id} 的政策文件")
    await calendar.fresh()
    data = calendar.since(policy.produced_on.year)
    deadline = interpretation_due(WorkCalendar(data), policy.produced_on)
    inp = CatalogueItemInput(item_id=_new_id("JD"), kind="interpretation", title=body.title,
                             category_id=policy.category_id, section=policy.section,
                             document_number=policy.document_number, produced_on=policy.produced_on,
                             policy_id=policy.id, content=body.content, summary=body.summary,
                             created_by=user.username, calendar=data, supervisor_email=settings.supervisor_email)
    await _start(client, settings, inp)
    return ItemCreated(item_id=inp.item_id, deadline=deadline)


@interpretation_router.get("/{item_id}", response_model=CatalogueItemView)
async def interpretation(item_id: ItemId, user: Staff, client: ClientDep) -> CatalogueItemView:
    return await run_query(client, item_id, "state", ItemQuery(), CatalogueItemView, what="政策解读")


# --- public opinion --------------------------------------------------------------------------------


class EventBody(Body):
    title: str = Field(min_length=2, max_length=300)
    severity: Literal["major", "other"] = Field(description="major: 特别重大、重大突发事件; other: 其他")
    found_at: datetime = Field(description="发现舆情的时间（含时区）")
    press_conference: bool = Field(default=True, description="重大突发事件须在24小时内举行新闻发布会")


class ResponseBody(Body):
    platform: Platform
    at: datetime | None = None
    url: str = Field(default="", max_length=500)
    summary: str = Field(default="", max_length=2000)


class CloseBody(Body):
    note: str = Field(default="", max_length=2000)


class EventCreated(BaseModel):
    event_id: str


OpinionStaff = Annotated[StaffUser, Depends(require("handler", "supervisor"))]


@opinion_router.post("/events", response_model=EventCreated, status_code=status.HTTP_201_CREATED)
async def create_event(body: EventBody, user: OpinionStaff, client: ClientDep, settings: SettingsDep) -> EventCreated:
    if body.found_at.tzinfo is None:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "发现时间须带时区，如 2026-05-01T09:30:00+08:00")
    if body.found_at > clock.now():
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "发现时间不能晚于现在")
    event_id = _new_id("YQ")
    inp = OpinionEventInput(event_id=event_id, title=body.title, severity=body.severity, found_at=body.found_at,
                            press_conference=body.press_conference and body.severity == "major",
                            created_by=user.username, supervisor_email=settings.supervisor_email)
    await start_once(client, "PublicOpinionWorkflow", inp, id=event_id, task_queue=settings.task_queue)
    return EventCreated(event_id=event_id)


@opinion_router.get("/events", response_model=list[dict])
def events(user: Staff, session: SessionDep) -> list[dict]:
    return [e.model_dump(mode="json") for e in repo.opinion_events(session)]


@opinion_router.get("/events/{event_id}", response_model=OpinionEventView)
async def event(event_id: ItemId, user: Staff, client: ClientDep) -> OpinionEventView:
    return await run_query(client, event_id, "state", ItemQuery(), OpinionEventView, what="舆情")


@opinion_router.post("/events/{event_id}/responses", response_model=OpinionEventView)
async def respond(event_id: ItemId, body: ResponseBody, user: OpinionStaff, client: ClientDep) -> OpinionEventView:
    return await run_update(client, event_id, "respond", RecordResponse(by=user.username, **body.model_dump()),
                            OpinionEventView, what="舆情", ended=lambda: EVENT_ENDED)


@opinion_router.post("/events/{event_id}/close", response_model=OpinionEventView)
async def close(event_id: ItemId, body: CloseBody, user: OpinionStaff, client: ClientDep) -> OpinionEventView:
    return await run_update(client, event_id, "close", CloseEvent(by=user.username, note=body.note),
                            OpinionEventView, what="舆情", ended=lambda: EVENT_ENDED)
