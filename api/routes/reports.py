"""Reports (issue 14): the annual report (Reg. 49-50, 30号 format), the reconsideration and litigation
register, 考核评议 and 责任追究. Supervisors and admins only. Pages are built elsewhere: every figure a
page needs is in these JSON answers.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from api.deps import SessionDep, SettingsDep
from api.security import require
from core import clock
from db import reports_repository as repo
from db.models import Application
from db.models_reports import AccountabilityCase, RemedyCase
from db.models_security import StaffUser
from db.participation_repository import participation_figures
from db.proactive_repository import table2_figures
from reports.accountability import GROUNDS, LEVELS, next_level, why_not_escalate
from reports.annual import SECTIONS, validate_adjustments, validate_table2
from reports.assessment import DEFAULT_SCHEME, score_sheet, validate_manual_score, validate_scheme
from reports.build import assemble_report, carried_out_of
from db.fees_repository import fee_counts
from reports.pdf import render_report_pdf
from reports.remedies import remedy_deadlines
from reports.xlsx import assessment_workbook, report_workbook
from workcalendar import WorkCalendar

router = APIRouter(prefix="/api/v1/reports", tags=["reports"])
OVERSIGHT = Annotated[StaffUser, Depends(require("supervisor", "admin"))]
Year = Annotated[int, Path(ge=2008, le=2100, description="the report's year")]
APPLICATION_ID = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$"
TEXT = r"^[^\x00-\x08\x0b-\x1f]*$"  # no control characters but tab and newline
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SECTION_KEYS = tuple(key for key, _ in SECTIONS)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def conflict(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_409_CONFLICT, detail)


def unprocessable(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail)


# --- the annual report ----------------------------------------------------------------------------

class DraftChanges(Strict):
    sections: dict[Literal["overview", "proactive", "applications", "remedies", "problems", "other"],
                   Annotated[str, Field(max_length=50_000, pattern=TEXT)] | None] | None = Field(
        default=None, description="edited text per section; null puts the generated draft back")
    table2: dict[str, dict[str, Annotated[float, Field(ge=0, le=1e9)] | None]] | None = Field(
        default=None, description="table 二 figures entered by hand, e.g. {'rules': {'made': 0, 'repealed': 0, 'in_force': 3}}")
    table3_adjustments: dict[str, dict[str, Annotated[int, Field(ge=-1_000_000, le=1_000_000)]]] | None = Field(
        default=None, description="applications handled outside the system: row -> column -> count")
    table3_adjustment_reason: Annotated[str, Field(max_length=2000, pattern=TEXT)] | None = None


class Amendment(DraftChanges):
    reason: Annotated[str, Field(min_length=4, max_length=2000, pattern=TEXT)] = Field(description="why the published report is corrected")


def _merge(content: dict, changes: DraftChanges) -> dict:
    content = dict(content)
    if changes.sections is not None:
        sections = dict(content.get("sections") or {})
        for key, text in changes.sections.items():
            if text:
                sections[key] = text
            else:
                sections.pop(key, None)
        content["sections"] = sections
    if changes.table2 is not None:
        if reason := validate_table2(changes.table2):
            raise unprocessable(reason)
        table2 = {k: dict(v) for k, v in (content.get("table2") or {}).items()}
        for key, cells in changes.table2.items():
            table2.setdefault(key, {}).update(cells)
        content["table2"] = table2
    if changes.table3_adjustments is not None:
        if reason := validate_adjustments(changes.table3_adjustments):
            raise unprocessable(reason)
        content["table3_adjustments"] = {row: cells for row, cells in changes.table3_adjustments.items() if cells}
    if changes.table3_adjustment_reason is not None:
        content["table3_adjustment_reason"] = changes.table3_adjustment_reason
    if content.get("table3_adjustments") and len((content.get("table3_adjustment_reason") or "").strip()) < 4:
        raise unprocessable("手工调整表三的数字须说明理由（table3_adjustment_reason）")
    return content


def _live_report(session: Session, year: int, agency: str, content: dict | None = None) -> dict[str, Any]:
    draft = repo.get_draft(session, year)
    previous = repo.versions(session, year - 1)
    counts = repo.table3_counts(session, year)
    table2_recorded, table2_catalogue = table2_figures(session, year)  # issue 13 point 1: from the catalogue
    return assemble_report(
        year=year, agency=agency, counts=counts,
        remedy_cases=repo.remedy_cases_filed(session, year), timeliness=counts["timeliness"],
        draft=content if content is not None else (draft.content if draft else None),
        previous_carried_out=carried_out_of(previous[-1].report) if previous else None,
        generated_at=clock.now(),
        fee_counts=fee_counts(session, date(year, 1, 1), date(year, 12, 31)),  # issue 11 point 12
        table2_recorded=table2_recorded, table2_catalogue=table2_catalogue,
        participation=participation_figures(session, date(year, 1, 1), date(year, 12, 31)),  # issue 26
    )


def _version_list(session: Session, year: int) -> list[dict[str, Any]]:
    return [{"version": v.version, "published_by": v.published_by, "published_at": v.published_at.isoformat(),
             "reason": v.reason, "kind": "publication" if v.version == 1 else "amendment"}
            for v in repo.versions(session, year)]


def _report(session: Session, year: int, agency: str, version: int | None, draft: bool = False) -> dict[str, Any]:
    published = repo.versions(session, year)
    if version is not None:
        chosen = next((v for v in published if v.version == version), None)
        if chosen is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"{year}年度报告没有第{version}版")
    else:
        chosen = published[-1] if published and not draft else None
    if chosen is not None:
        report = dict(chosen.report)
        report.update(status="published", version=chosen.version, published_at=chosen.published_at.isoformat(),
                      published_by=chosen.published_by, amendment_reason=chosen.reason)
        if chosen is published[-1]:
            report["amendment_needed"] = _amendment_needed(session, year, chosen)
    else:
        report = _live_report(session, year, agency)
        report.update(status="draft", version=None, locked=bool(published))
    report["versions"] = _version_list(session, year)
    return report


def _amendment_needed(session: Session, year: int, latest) -> dict[str, Any] | None:
    """Issue 24 point 9: applications received in the year but registered after its latest version was published
    (a back-dated receipt, with its evidence) change the published figures: the report says an amendment is due."""
    late = repo.registered_after(session, year, latest.published_at)
    if not late:
        return None
    listed = "；".join(f"{a['application_id']}（收到于 {a['received_on']}，登记于 {a['registered_at'][:10]}）" for a in late)
    return {"reason": f"{year}年度报告第{latest.version}版公布后，又登记了 {len(late)} 件收到于{year}年的申请，"
                      f"已公布的数字（表三）与记录不再一致，须提交更正（amendments）并说明理由：{listed}",
            "applications": late}


def _status_line(report: dict[str, Any]) -> str:
    if report["status"] == "published":
        line = f"第{report['version']}版，{report['published_at'][:10]} 公布"
        if report.get("amendment_reason"):
            line += f"（更正：{report['amendment_reason']}）"
        if report.get("amendment_needed"):
            line += f"；须更正：公布后又登记了 {len(report['amendment_needed']['applications'])} 件收到于本年度的申请"
        return line
    return "草稿（未公布），生成于 " + report["generated_at"][:10]


@router.get("/annual/{year}.pdf", response_class=Response,
            responses={200: {"content": {"application/pdf": {}}}, 404: {"description": "没有该版本"}})
def annual_report_pdf(year: Year, session: SessionDep, settings: SettingsDep, user: OVERSIGHT,
                      version: Annotated[int | None, Query(ge=1, le=1000)] = None) -> Response:
    """The report in the 30号 layout (the latest published version, or the draft; `version` picks one)."""
    report = _report(session, year, settings.agency_name, version)
    data = render_report_pdf(report, status_line=_status_line(report), generated_on=clock.today())
    name = f"annual-report-{year}" + (f"-v{report['version']}" if report["version"] else "-draft")
    return Response(data, media_type="application/pdf", headers={"Content-Disposition": f'inline; filename="{name}.pdf"'})


@router.get("/annual/{year}.xlsx", response_class=Response,
            responses={200: {"content": {XLSX: {}}}, 404: {"description": "没有该版本"}})
def annual_report_xlsx(year: Year, session: SessionDep, settings: SettingsDep, user: OVERSIGHT,
                       version: Annotated[int | None, Query(ge=1, le=1000)] = None) -> Response:
    report = _report(session, year, settings.agency_name, version)
    name = f"annual-report-{year}" + (f"-v{report['version']}" if report["version"] else "-draft")
    return Response(report_workbook(report, _status_line(report)), media_type=XLSX,
                    headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'})


@router.get("/annual/{year}")
def annual_report(year: Year, session: SessionDep, settings: SettingsDep, user: OVERSIGHT,
                  version: Annotated[int | None, Query(ge=1, le=1000, description="a published version")] = None,
                  draft: Annotated[bool, Query(description="the live draft even when published (for an amendment)")] = False,
                  ) -> dict[str, Any]:
    """Every cell of tables 二, 三, 四, the sections (text and generated draft), the check, fees, versions.

    Published: the latest version as frozen (or `version`); otherwise the live draft from the records.
    """
    return _report(session, year, settings.agency_name, version, draft)


@router.put("/annual/{year}/draft", responses={409: {"description": "已公布，须以更正方式修改"}})
def edit_draft(year: Year, body: DraftChanges, session: SessionDep, settings: SettingsDep, user: OVERSIGHT) -> dict[str, Any]:
    """Edit the sections' text, table 二's figures, table 三's manual adjustments (with their reason)."""
    if repo.versions(session, year):
        raise conflict(f"{year}年度报告已公布，不能再修改草稿；如需更正，请提交更正（amendments）并说明理由")
    existing = repo.get_draft(session, year)
    content = _merge(existing.content if existing else {}, body)
    repo.save_draft(session, year, content, user.username)
    session.commit()
    return _report(session, year, settings.agency_name, None)


def _publishable(report: dict[str, Any]) -> None:
    if report["blocking"]:
        raise conflict("年度报告未通过校验，不能公布：" + "；".join(report["blocking"]))


@router.post("/annual/{year}/publish", responses={409: {"description": "校验未通过、年度未结束或已公布（附原因）"}})
def publish(year: Year, session: SessionDep, settings: SettingsDep, user: OVERSIGHT) -> dict[str, Any]:
    """Publish: checks 一＋二＝三（七）＋四 per column and table 二's figures, then freezes the year as version 1."""
    if repo.versions(session, year):
        raise conflict(f"{year}年度报告已公布；如需更正，请提交更正（amendments）并说明理由")
    if clock.today() <= date(year, 12, 31):
        raise conflict(f"{year}年尚未结束，年度报告须在年度结束后公布（次年1月31日前）")
    report = _live_report(session, year, settings.agency_name)
    _publishable(report)
    return _freeze(session, year, 1, report, user.username, None, settings.agency_name)


def _freeze(session: Session, year: int, version: int, report: dict, by: str, reason: str | None, agency: str) -> dict:
    try:
        repo.add_version(session, year, version, report, by, reason)
        session.commit()
    except IntegrityError:
        session.rollback()
        raise conflict(f"{year}年度报告刚被他人公布或更正，请刷新后再试") from None
    return _report(session, year, agency, version)


@router.post("/annual/{year}/amendments", responses={409: {"description": "尚未公布或校验未通过（附原因）"}})
def amend(year: Year, body: Amendment, session: SessionDep, settings: SettingsDep, user: OVERSIGHT) -> dict[str, Any]:
    """A correction of a published report: a new version with its reason; every earlier version stays readable."""
    published = repo.versions(session, year)
    if not published:
        raise conflict(f"{year}年度报告尚未公布，请直接修改草稿")
    existing = repo.get_draft(session, year)
    content = _merge(existing.content if existing else {}, body)
    report = _live_report(session, year, settings.agency_name, content)
    _publishable(report)
    repo.save_draft(session, year, content, user.username)
    return _freeze(session, year, published[-1].version + 1, report, user.username, body.reason, settings.agency_name)


@router.get("/annual/{year}/versions")
def list_versions(year: Year, session: SessionDep, user: OVERSIGHT) -> list[dict[str, Any]]:
    return _version_list(session, year)


# --- reconsideration and litigation register (table 四) --------------------------------------------

RemedyKind = Literal["reconsideration", "litigation-direct", "litigation-after-reconsideration"]
RemedyResult = Literal["maintained", "corrected", "other"]


class RemedyCaseCreate(Strict):
    application_id: Annotated[str, Field(pattern=APPLICATION_ID)]
    kind: RemedyKind = Field(description="行政复议 | 行政诉讼（未经复议直接起诉 | 复议后起诉）")
    filed_on: date = Field(description="申请复议 / 起诉之日")
    authority: Annotated[str, Field(max_length=200, pattern=TEXT)] = ""
    case_number: Annotated[str, Field(max_length=100, pattern=TEXT)] = ""
    note: Annotated[str, Field(max_length=2000, pattern=TEXT)] = ""


class RemedyCaseResult(Strict):
    result: RemedyResult = Field(description="结果维持 | 结果纠正 | 其他结果")
    concluded_on: date
    note: Annotated[str, Field(max_length=2000, pattern=TEXT)] | None = None


def _case_out(case_row: RemedyCase) -> dict[str, Any]:
    return case_row.model_dump(mode="json") | {"status": "尚未审结" if case_row.result is None else "已审结"}


@router.get("/remedies")
def list_remedies(session: SessionDep, user: OVERSIGHT,
                  year: Annotated[int | None, Query(ge=2008, le=2100)] = None,
                  pending: bool | None = None) -> list[dict[str, Any]]:
    return [_case_out(c) for c in repo.list_remedy_cases(session, year, pending)]


@router.post("/remedies", status_code=status.HTTP_201_CREATED, responses={404: {"description": "没有该申请"},
                                                                          409: {"description": "不符合登记条件（附原因）"}})
def register_remedy(body: RemedyCaseCreate, session: SessionDep, user: OVERSIGHT) -> dict[str, Any]:
    """Register a reconsideration or a lawsuit about an application."""
    if session.get(Application, body.application_id) is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"没有编号为 {body.application_id} 的申请")
    if body.filed_on > clock.today():
        raise unprocessable("申请复议或起诉之日不能晚于今天")
    application = session.get(Application, body.application_id)
    assert application is not None
    if body.filed_on < application.received_on:
        raise conflict(f"申请复议或起诉之日不能早于收到申请之日 {application.received_on}")
    if body.kind == "litigation-after-reconsideration" and not any(
            c.kind == "reconsideration" and c.result is not None
            for c in repo.remedy_cases_of(session, body.application_id)):
        raise conflict("“复议后起诉”须先登记该申请已审结的行政复议案件")
    row = RemedyCase(**body.model_dump(), created_by=user.username, created_at=clock.now())
    session.add(row)
    session.commit()
    session.refresh(row)
    return _case_out(row)


@router.post("/remedies/{case_id}/result", responses={404: {"description": "没有该案件"},
                                                      409: {"description": "已审结或日期不符（附原因）"}})
def record_remedy_result(case_id: Annotated[int, Path(ge=1, le=2_147_483_647)], body: RemedyCaseResult, session: SessionDep,
                         user: OVERSIGHT) -> dict[str, Any]:
    row = session.get(RemedyCase, case_id)
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"没有编号为 {case_id} 的复议诉讼案件")
    if row.result is not None:
        raise conflict(f"该案件已于 {row.concluded_on} 审结，结果不能再改")
    if body.concluded_on < row.filed_on or body.concluded_on > clock.today():
        raise conflict(f"审结日期须在 {row.filed_on} 至今天之间")
    row.result, row.concluded_on = body.result, body.concluded_on
    if body.note is not None:
        row.note = body.note
    row.updated_by, row.updated_at = user.username, clock.now()
    session.add(row)
    session.commit()
    session.refresh(row)
    return _case_out(row)


@router.get("/applications/{application_id}/remedies", responses={404: {"description": "没有该申请"}})
def application_remedies(application_id: Annotated[str, Path(pattern=APPLICATION_ID)], request: Request,
                         session: SessionDep, user: OVERSIGHT) -> dict[str, Any]:
    """The remedies deadlines (60 days, 6 months) from the reply's delivery, and the application's cases."""
    application = session.get(Application, application_id)
    if application is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"没有编号为 {application_id} 的申请")
    delivered_on = repo.reply_delivered_on(session, application_id)
    deadlines = None
    if delivered_on is not None:
        calendar = WorkCalendar(request.app.state.calendar.current())
        deadlines = remedy_deadlines(delivered_on, lambda d: calendar.next_workday_on_or_after(d)[0]).model_dump(mode="json")
    record = repo.get_report_record(session, application_id)
    return {
        "application_id": application_id,
        "replied_on": record.replied_on.isoformat() if record and record.replied_on else None,
        "delivered_on": delivered_on.isoformat() if delivered_on else None,
        "deadlines": deadlines,
        "note": None if deadlines else "答复尚未送达：救济期限自送达之日起计算",
        "cases": [_case_out(c) for c in repo.remedy_cases_of(session, application_id)],
    }


# --- 考核评议 ----------------------------------------------------------------------------------------

class Criterion(Strict):
    key: Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[a-z0-9-]+$")]
    label: Annotated[str, Field(min_length=1, max_length=100, pattern=TEXT)]
    weight: float = Field(gt=0, le=100)
    source: Literal["manual", "on_time_rate", "review_returns", "overdue"]


class SchemeBody(Strict):
    assessment_weight_percent: float = Field(ge=0, le=100, description="weight of the assessment in the annual appraisal, at least 5")
    criteria: list[Criterion] = Field(min_length=1, max_length=30)


class ManualScore(Strict):
    department: Annotated[str, Field(min_length=1, max_length=100, pattern=TEXT)]
    criterion: Annotated[str, Field(min_length=1, max_length=40, pattern=TEXT)]
    score: float = Field(ge=0, le=100)
    note: Annotated[str, Field(max_length=2000, pattern=TEXT)] = ""


def _period(start: date | None, end: date | None) -> tuple[date, date]:
    start, end = start or date(clock.today().year, 1, 1), end or date(clock.today().year, 12, 31)
    if end < start:
        raise unprocessable("统计期间的结束日期不能早于开始日期")
    return start, end


@router.get("/assessment")
def assessment(session: SessionDep, user: OVERSIGHT,
               start: Annotated[date | None, Query(alias="from")] = None,
               end: Annotated[date | None, Query(alias="to")] = None) -> dict[str, Any]:
    """Per section and handler over a period: on-time rate, overdue, extensions, drafts returned; by month."""
    start, end = _period(start, end)
    figures, monthly = repo.assessment(session, start, end)
    return {"from": start.isoformat(), "to": end.isoformat(), "rows": figures,
            "departments": _by_department(figures), "monthly": monthly,
            "participation": participation_figures(session, start, end),  # issue 26
            "not_recorded": ["主动公开按时率、政策解读按时率、舆情回应按时率：尚无主动公开记录，请在评分表中人工评分"]}


def _by_department(figures: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    departments: dict[str, dict[str, Any]] = {}
    for row in figures:
        d = departments.setdefault(row["department"] or "（未分配）", {
            "replied": 0, "on_time": 0, "late": 0, "open_overdue": 0, "overdue": 0, "extended": 0, "review_returns": 0})
        for key in d:
            d[key] += row[key]
    for d in departments.values():
        d["on_time_rate"] = d["on_time"] / d["replied"] if d["replied"] else None
    return departments


def _scheme(session: Session, year: int) -> dict[str, Any]:
    row = repo.get_scheme(session, year)
    return row.scheme if row else DEFAULT_SCHEME


@router.get("/assessment/{year}/scheme")
def get_scheme(year: Year, session: SessionDep, user: OVERSIGHT) -> dict[str, Any]:
    return _scheme(session, year)


@router.put("/assessment/{year}/scheme")
def put_scheme(year: Year, body: SchemeBody, session: SessionDep, user: OVERSIGHT) -> dict[str, Any]:
    scheme = body.model_dump()
    if reason := validate_scheme(scheme):
        raise unprocessable(reason)
    repo.save_scheme(session, year, scheme, user.username)
    session.commit()
    return scheme


@router.put("/assessment/{year}/scores")
def put_score(year: Year, body: ManualScore, session: SessionDep, user: OVERSIGHT) -> dict[str, Any]:
    if reason := validate_manual_score(_scheme(session, year), body.criterion, body.score):
        raise unprocessable(reason)
    repo.save_manual_score(session, year, body.department, body.criterion, body.score, body.note, user.username)
    session.commit()
    return _sheets(session, year)


def _sheets(session: Session, year: int) -> dict[str, Any]:
    scheme = _scheme(session, year)
    start, end = date(year, 1, 1), date(year, 12, 31)
    departments = _by_department(repo.assessment_figures(session, start, end))
    manual: dict[str, dict[str, tuple[float, str]]] = {}
    for score in repo.manual_scores(session, year):
        manual.setdefault(score.department, {})[score.criterion] = (score.score, score.note)
    names = sorted(set(departments) | set(manual))
    return {"year": year, "scheme": scheme,
            "sheets": [score_sheet(scheme, name, departments.get(name), manual.get(name, {})) for name in names],
            "participation": participation_figures(session, start, end)}  # issue 26: figures beside the sheets


@router.get("/assessment/{year}/sheet")
def assessment_sheet(year: Year, session: SessionDep, user: OVERSIGHT) -> dict[str, Any]:
    """The scoring sheet of every section: figures where the records have them, manual scores elsewhere."""
    return _sheets(session, year)


@router.get("/assessment/{year}/sheet.xlsx", response_class=Response, responses={200: {"content": {XLSX: {}}}})
def assessment_sheet_xlsx(year: Year, session: SessionDep, settings: SettingsDep, user: OVERSIGHT) -> Response:
    sheets = _sheets(session, year)
    start, end = date(year, 1, 1), date(year, 12, 31)
    figures, monthly = repo.assessment(session, start, end)
    data = assessment_workbook(f"{settings.agency_name}{year}年度政务公开考核评议", sheets["sheets"], figures, monthly)
    return Response(data, media_type=XLSX, headers={"Content-Disposition": f'attachment; filename="assessment-{year}.xlsx"'})


# --- 责任追究 ----------------------------------------------------------------------------------------

class CaseCreate(Strict):
    department: Annotated[str, Field(min_length=1, max_length=100, pattern=TEXT)]
    handler: Annotated[str, Field(max_length=100, pattern=TEXT)] | None = None
    application_id: Annotated[str, Field(pattern=APPLICATION_ID)] | None = None
    ground: Literal["overdue-reply", "late-publication", "fee-against-rules", "wrongful-disclosure", "ignored-report", "other"]
    description: Annotated[str, Field(min_length=4, max_length=4000, pattern=TEXT)]


class Step(Strict):
    reason: Annotated[str, Field(min_length=4, max_length=4000, pattern=TEXT)]


class Closing(Strict):
    outcome: Annotated[str, Field(min_length=2, max_length=4000, pattern=TEXT)]


class Scan(Strict):
    start: date = Field(alias="from")
    end: date = Field(alias="to")


def _accountability_out(row: AccountabilityCase) -> dict[str, Any]:
    return row.model_dump(mode="json") | {"level_label": LEVELS[row.level], "ground_label": GROUNDS[row.ground],
                                          "next_level": next_level(row.level) if row.status == "open" else None}


def _new_case(*, key, department, handler, application_id, ground, source, description, by) -> AccountabilityCase:
    today = clock.today().isoformat()
    return AccountabilityCase(key=key, department=department or "（未分配）", handler=handler, application_id=application_id,
                              ground=ground, source=source, description=description, level="order-correction",
                              steps=[{"level": "order-correction", "on": today, "by": by, "reason": description}],
                              raised_by=by, raised_at=clock.now())


@router.post("/accountability", status_code=status.HTTP_201_CREATED)
def raise_case(body: CaseCreate, session: SessionDep, user: OVERSIGHT) -> dict[str, Any]:
    """A case raised by hand (e.g. a disclosure later found wrongful); it starts at 责令改正."""
    if body.application_id and session.get(Application, body.application_id) is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"没有编号为 {body.application_id} 的申请")
    row = _new_case(key=None, department=body.department, handler=body.handler, application_id=body.application_id,
                    ground=body.ground, source="manual", description=body.description, by=user.username)
    session.add(row)
    session.commit()
    session.refresh(row)
    return _accountability_out(row)


@router.post("/accountability/scan")
def scan_records(body: Scan, session: SessionDep, user: OVERSIGHT) -> dict[str, Any]:
    """Raise cases from the records: replies signed late, and applications still unanswered past their due date.

    Idempotent: one case per ground and application. (No fee is recorded yet: no fee case can be raised from records.)
    """
    if body.end < body.start:
        raise unprocessable("统计期间的结束日期不能早于开始日期")
    raised = 0
    for late in repo.overdue_replies(session, body.start, body.end):
        raised += repo.add_accountability_case(session, _new_case(
            key=f"overdue-reply:{late['application_id']}", department=late["department"], handler=late["handler"],
            application_id=late["application_id"], ground="overdue-reply", source="records", by=user.username,
            description=f"{late['application_id']} 答复期限 {late['due_on']}，{late['replied_on']} 才签发答复，逾期答复"))
    for open_ in repo.open_overdue_applications(session):
        raised += repo.add_accountability_case(session, _new_case(
            key=f"overdue-reply:{open_['application_id']}", department=open_["department"], handler=open_["handler"],
            application_id=open_["application_id"], ground="overdue-reply", source="records", by=user.username,
            description=f"{open_['application_id']} 答复期限 {open_['due_on']} 已过，尚未答复"))
    session.commit()
    return {"raised": raised, "cases": _grouped(repo.list_accountability(session))}


def _grouped(rows: list[AccountabilityCase]) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        grouped.setdefault(row.department, []).append(_accountability_out(row))
    return grouped


@router.get("/accountability")
def list_cases(session: SessionDep, user: OVERSIGHT,
               department: Annotated[str | None, Query(max_length=100)] = None,
               status_: Annotated[Literal["open", "closed"] | None, Query(alias="status")] = None) -> dict[str, Any]:
    """Cases per section (department), each with its ladder steps."""
    return {"by_department": _grouped(repo.list_accountability(session, department, status_))}


def _case(session: Session, case_id: int) -> AccountabilityCase:
    row = session.get(AccountabilityCase, case_id)
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"没有编号为 {case_id} 的责任追究案件")
    return row


@router.post("/accountability/{case_id}/escalate", responses={409: {"description": "已办结或已到最高一级"}})
def escalate(case_id: Annotated[int, Path(ge=1, le=2_147_483_647)], body: Step, session: SessionDep, user: OVERSIGHT) -> dict[str, Any]:
    """One step up the ladder 责令改正 → 通报批评 → 依纪依法处理 (seed 002 annex 2 arts. 4-5), with its reason."""
    row = _case(session, case_id)
    if reason := why_not_escalate(row.status, row.level):
        raise conflict(reason)
    level = next_level(row.level)
    assert level is not None
    row.level = level
    row.steps = [*row.steps, {"level": level, "on": clock.today().isoformat(), "by": user.username, "reason": body.reason}]
    session.add(row)
    session.commit()
    session.refresh(row)
    return _accountability_out(row)


@router.post("/accountability/{case_id}/close", responses={409: {"description": "已办结"}})
def close_case(case_id: Annotated[int, Path(ge=1, le=2_147_483_647)], body: Closing, session: SessionDep, user: OVERSIGHT) -> dict[str, Any]:
    row = _case(session, case_id)
    if row.status != "open":
        raise conflict("该责任追究案件已办结")
    row.status, row.outcome, row.closed_at = "closed", body.outcome, clock.now()
    row.steps = [*row.steps, {"level": row.level, "on": clock.today().isoformat(), "by": user.username,
                              "reason": f"办结：{body.outcome}"}]
    session.add(row)
    session.commit()
    session.refresh(row)
    return _accountability_out(row)
