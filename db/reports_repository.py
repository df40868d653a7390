"""Queries and writes for the annual report, the remedies register, 考核评议 and 责任追究 (issue 14).

Every figure is an SQL aggregate over an index (no row is loaded into Python for counting), so a
year of 1,000,000 applications is counted in seconds (bench/reports.py). Callers own the transaction.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, case, func, insert, select
from sqlmodel import Session, col

from clock import local_date
from db.models import Application, utcnow
from db.models_letters import LetterOutbox
from db.models_reports import (
    AccountabilityCase,
    AnnualReportDraft,
    AnnualReportVersion,
    ApplicationReportRecord,
    AssessmentManualScore,
    AssessmentScheme,
    RemedyCase,
)
from reports.records import ReportRecordInput

RECORD = ApplicationReportRecord.__table__  # type: ignore[attr-defined]
APPLICATION = Application.__table__  # type: ignore[attr-defined]


def _dialect_insert(session: Session):
    from sqlalchemy.dialects import postgresql, sqlite

    return {"postgresql": postgresql.insert, "sqlite": sqlite.insert}[session.get_bind().dialect.name]


# --- report-grade records ------------------------------------------------------------------------

def report_record_values(inp: ReportRecordInput) -> dict[str, Any]:
    return {
        "application_id": inp.application_id, "ending": inp.ending, "received_on": inp.received_on,
        "applicant_type": inp.applicant_type, "department": inp.department, "handler": inp.handler,
        "replied_on": inp.replied_on, "concluded_on": inp.concluded_on, "outcome": str(inp.outcome),
        "item_outcomes": [{"item_no": i.item_no, "outcome": str(i.outcome)} for i in inp.items],
        "due_on": inp.due_on, "on_time": inp.on_time, "extended": inp.extended,
        "review_returns": inp.review_returns, "signed_by": inp.signed_by, "recorded_at": utcnow(),
    }


def insert_report_record(session: Session, inp: ReportRecordInput) -> bool:
    """Store the record unless one exists for the application (never rewritten: the table refuses UPDATE)."""
    statement = _dialect_insert(session)(RECORD).values(**report_record_values(inp))
    result = session.execute(statement.on_conflict_do_nothing(index_elements=["application_id"]))
    return bool(result.rowcount)


def get_report_record(session: Session, application_id: str) -> ApplicationReportRecord | None:
    return session.get(ApplicationReportRecord, application_id)


# --- table 三 ------------------------------------------------------------------------------------

def _by_type(session: Session, statement) -> dict[str, int]:
    return {row[0]: int(row[1]) for row in session.execute(statement)}


def table3_counts(session: Session, year: int) -> dict[str, Any]:
    """Grouped counts for table 三 of `year`, from two independent sources so the check means something.

    一: applications registered as received in the year (`application`). 三: report-grade records
    concluded in the year, by outcome. 二 and 四: applications received before the day and with no
    record concluded before it (an anti-join on the record's primary key). A record without its
    application, or dated before its receipt, shows up as a column where 一 + 二 ≠ 三（七） + 四.
    """
    start, end = date(year, 1, 1), date(year, 12, 31)
    a, r = APPLICATION.c, RECORD.c

    def received(condition) -> dict[str, int]:
        return _by_type(session, select(a.applicant_type, func.count()).where(condition).group_by(a.applicant_type))

    def open_on(day: date, strictly_before: bool) -> dict[str, int]:
        received_by = a.received_on < day if strictly_before else a.received_on <= day
        concluded = r.concluded_on < day if strictly_before else r.concluded_on <= day
        done = select(r.application_id).where(r.application_id == a.id, concluded).exists()
        return received(and_(received_by, ~done))

    results = {(row[0], row[1]): int(row[2]) for row in session.execute(
        select(r.outcome, r.applicant_type, func.count())
        .where(r.concluded_on >= start, r.concluded_on <= end)
        .group_by(r.outcome, r.applicant_type))}
    return {
        "new": received(and_(a.received_on >= start, a.received_on <= end)),
        "carried_in": open_on(start, strictly_before=True),
        "results": results,
        "carried_out": open_on(end, strictly_before=False),
    }


def timeliness(session: Session, year: int) -> dict[str, int]:
    r = RECORD.c
    replied, on_time = session.execute(
        select(func.count(), func.coalesce(func.sum(case((r.on_time.is_(True), 1), else_=0)), 0))
        .where(r.replied_on >= date(year, 1, 1), r.replied_on <= date(year, 12, 31))
    ).one()
    return {"replied": int(replied), "on_time": int(on_time)}


# --- remedies register (table 四) ------------------------------------------------------------------

def remedy_cases_filed(session: Session, year: int) -> list[tuple[str, str | None, date | None]]:
    rows = session.execute(select(RemedyCase.kind, RemedyCase.result, RemedyCase.concluded_on).where(
        col(RemedyCase.filed_on) >= date(year, 1, 1), col(RemedyCase.filed_on) <= date(year, 12, 31)))
    return [(row[0], row[1], row[2]) for row in rows]


def remedy_cases_of(session: Session, application_id: str) -> list[RemedyCase]:
    return list(session.execute(select(RemedyCase).where(RemedyCase.application_id == application_id)
                             .order_by(col(RemedyCase.filed_on), col(RemedyCase.id))).scalars())


def list_remedy_cases(session: Session, year: int | None = None, pending: bool | None = None) -> list[RemedyCase]:
    statement = select(RemedyCase)
    if year is not None:
        statement = statement.where(col(RemedyCase.filed_on) >= date(year, 1, 1),
                                    col(RemedyCase.filed_on) <= date(year, 12, 31))
    if pending is True:
        statement = statement.where(col(RemedyCase.result).is_(None))
    elif pending is False:
        statement = statement.where(col(RemedyCase.result).is_not(None))
    return list(session.execute(statement.order_by(col(RemedyCase.filed_on), col(RemedyCase.id))).scalars())


def reply_delivered_on(session: Session, application_id: str) -> date | None:
    """The day the reply reached the applicant: recorded delivery (post, pickup, portal) or the e-mail's sending."""
    outbox = session.get(LetterOutbox, f"{application_id}:reply")
    if outbox is None:
        return None
    if outbox.delivered_on is not None:
        return outbox.delivered_on
    if outbox.status == "sent" and outbox.sent_at is not None:
        return local_date(outbox.sent_at)
    if outbox.downloaded_at is not None:
        return local_date(outbox.downloaded_at)
    return None


# --- annual report drafts and versions ------------------------------------------------------------

def get_draft(session: Session, year: int) -> AnnualReportDraft | None:
    return session.get(AnnualReportDraft, year)


def save_draft(session: Session, year: int, content: dict, by: str) -> None:
    draft = session.get(AnnualReportDraft, year)
    if draft is None:
        session.add(AnnualReportDraft(year=year, content=content, updated_by=by))
    else:
        draft.content, draft.updated_by, draft.updated_at = content, by, utcnow()
        session.add(draft)


def versions(session: Session, year: int) -> list[AnnualReportVersion]:
    return list(session.execute(select(AnnualReportVersion).where(AnnualReportVersion.year == year)
                             .order_by(col(AnnualReportVersion.version))).scalars())


def add_version(session: Session, year: int, version: int, report: dict, by: str, reason: str | None) -> AnnualReportVersion:
    """Insert version `version`; a concurrent publication of the same version fails on the primary key."""
    row = AnnualReportVersion(year=year, version=version, report=report, published_by=by, reason=reason,
                              published_at=utcnow())
    session.execute(insert(AnnualReportVersion.__table__).values(  # type: ignore[attr-defined]
        year=year, version=version, report=report, published_by=by, reason=reason, published_at=row.published_at))
    return row


# --- 考核评议 -------------------------------------------------------------------------------------

def assessment_figures(session: Session, start: date, end: date) -> list[dict[str, Any]]:
    """Per section and handler: replies in the period, on time, late, extended, drafts returned; open and overdue now."""
    r, a = RECORD.c, APPLICATION.c
    rows: dict[tuple[str | None, str | None], dict[str, Any]] = defaultdict(lambda: {
        "replied": 0, "on_time": 0, "late": 0, "extended": 0, "review_returns": 0, "open_overdue": 0})
    statement = (
        select(r.department, r.handler, func.count(),
               func.coalesce(func.sum(case((r.on_time.is_(True), 1), else_=0)), 0),
               func.coalesce(func.sum(case((r.on_time.is_(False), 1), else_=0)), 0),
               func.coalesce(func.sum(case((r.extended.is_(True), 1), else_=0)), 0),
               func.coalesce(func.sum(r.review_returns), 0))
        .where(r.replied_on >= start, r.replied_on <= end)
        .group_by(r.department, r.handler)
    )
    for department, handler, replied, on_time, late, extended, returns in session.execute(statement):
        row = rows[(department, handler)]
        row.update(replied=int(replied), on_time=int(on_time), late=int(late), extended=int(extended),
                   review_returns=int(returns))
    # Still unanswered and past the due date (the workflow's overdue flag), received within the period.
    open_overdue = (
        select(a.department, a.handler, func.count())
        .where(a.overdue.is_(True), a.status.not_in(("closed", "withdrawn", "abandoned")),
               a.received_on <= end)
        .group_by(a.department, a.handler)
    )
    for department, handler, n in session.execute(open_overdue):
        rows[(department, handler)]["open_overdue"] = int(n)
    result = []
    for (department, handler), row in sorted(rows.items(), key=lambda kv: (kv[0][0] or "", kv[0][1] or "")):
        result.append({"department": department, "handler": handler, **row,
                       "overdue": row["late"] + row["open_overdue"],
                       "on_time_rate": (row["on_time"] / row["replied"]) if row["replied"] else None})
    return result


def assessment_monthly(session: Session, start: date, end: date) -> list[dict[str, Any]]:
    """Replies per month and section: on time and late (for charts)."""
    r = RECORD.c
    month = func.strftime("%Y-%m", r.replied_on) if session.get_bind().dialect.name == "sqlite" else \
        func.to_char(r.replied_on, "YYYY-MM")
    statement = (
        select(month, r.department, func.count(),
               func.coalesce(func.sum(case((r.on_time.is_(True), 1), else_=0)), 0))
        .where(r.replied_on >= start, r.replied_on <= end)
        .group_by(month, r.department).order_by(month, r.department)
    )
    return [{"month": m, "department": d, "replied": int(n), "on_time": int(ok), "late": int(n) - int(ok)}
            for m, d, n, ok in session.execute(statement)]


def get_scheme(session: Session, year: int) -> AssessmentScheme | None:
    return session.get(AssessmentScheme, year)


def save_scheme(session: Session, year: int, scheme: dict, by: str) -> None:
    row = session.get(AssessmentScheme, year) or AssessmentScheme(year=year, scheme=scheme, updated_by=by)
    row.scheme, row.updated_by, row.updated_at = scheme, by, utcnow()
    session.add(row)


def manual_scores(session: Session, year: int) -> list[AssessmentManualScore]:
    return list(session.execute(select(AssessmentManualScore).where(AssessmentManualScore.year == year)).scalars())


def save_manual_score(session: Session, year: int, department: str, criterion: str, score: float, note: str,
                      by: str) -> None:
    row = session.get(AssessmentManualScore, (year, department, criterion)) or AssessmentManualScore(
        year=year, department=department, criterion=criterion, score=score, scored_by=by)
    row.score, row.note, row.scored_by, row.scored_at = score, note, by, utcnow()
    session.add(row)


# --- 责任追究 -------------------------------------------------------------------------------------

def overdue_replies(session: Session, start: date, end: date) -> list[dict[str, Any]]:
    """Replies signed after their due date in the period: candidates for 责任追究 (seed 002 annex 2 art. 4(1))."""
    r = RECORD.c
    statement = (select(r.application_id, r.department, r.handler, r.due_on, r.replied_on)
                 .where(r.replied_on >= start, r.replied_on <= end, r.on_time.is_(False)).order_by(r.application_id))
    return [{"application_id": i, "department": d, "handler": h, "due_on": due, "replied_on": replied}
            for i, d, h, due, replied in session.execute(statement)]


def open_overdue_applications(session: Session, end: date) -> list[dict[str, Any]]:
    a = APPLICATION.c
    statement = (select(a.id, a.department, a.handler, a.due_on)
                 .where(a.overdue.is_(True), a.status.not_in(("closed", "withdrawn", "abandoned")),
                        a.received_on <= end).order_by(a.id))
    return [{"application_id": i, "department": d, "handler": h, "due_on": due}
            for i, d, h, due in session.execute(statement)]


def add_accountability_case(session: Session, case_row: AccountabilityCase) -> bool:
    """Insert; a case raised from the records with a key already used is skipped (idempotent scan)."""
    values = case_row.model_dump(exclude={"id"})
    statement = _dialect_insert(session)(AccountabilityCase.__table__).values(**values)  # type: ignore[attr-defined]
    if case_row.key is not None:
        statement = statement.on_conflict_do_nothing(index_elements=["key"])
    return bool(session.execute(statement).rowcount)


def list_accountability(session: Session, department: str | None = None, status: str | None = None,
                        since: datetime | None = None) -> list[AccountabilityCase]:
    statement = select(AccountabilityCase)
    if department is not None:
        statement = statement.where(AccountabilityCase.department == department)
    if status is not None:
        statement = statement.where(AccountabilityCase.status == status)
    return list(session.execute(statement.order_by(col(AccountabilityCase.department), col(AccountabilityCase.id))).scalars())
