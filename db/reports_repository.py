"""Queries and writes for the annual report, the remedies register, 考核评议 and 责任追究 (issue 14).

Every figure is an SQL aggregate over an index (no row is loaded into Python for counting), so a
year of 1,000,000 applications is counted in seconds (bench/reports.py). Callers own the transaction.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from sqlalchemy import and_, case, func, insert, literal, select, text
from sqlmodel import Session, col

from clock import local_date
from db import tenancy
from db.models import OPEN_PREDICATE, Application, utcnow
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
    # RETURNING tells whether a row went in (psycopg reports no rowcount for ON CONFLICT DO NOTHING).
    result = session.execute(statement.on_conflict_do_nothing(index_elements=["application_id"])
                             .returning(RECORD.c.application_id))
    return result.first() is not None


def get_report_record(session: Session, application_id: str) -> ApplicationReportRecord | None:
    return session.get(ApplicationReportRecord, application_id)


# --- table 三 ------------------------------------------------------------------------------------

def _by_type(session: Session, statement) -> dict[str, int]:
    return {row[0]: int(row[1]) for row in session.execute(statement)}


def table3_counts(session: Session, year: int) -> dict[str, Any]:
    """Grouped counts for table 三 of `year` (and the year's timeliness), from two independent sources so
    the check means something.

    一: applications registered as received in the year (`application`). 三: report-grade records
    concluded in the year, by outcome. 二 and 四: applications received before the day with no record
    concluded before it (a join on the record's key). A record without its application, or dated
    before its receipt, shows up as a column where 一 + 二 ≠ 三（七） + 四. Three statements: 一 and 四 in
    one pass over the applications received by the year's end, 二 over those received before the
    year, 三 (with the on-time replies) over the records concluded in the year.
    """
    start, end = date(year, 1, 1), date(year, 12, 31)
    a, r = APPLICATION.c, RECORD.c
    one = literal(1)

    new_and_open = (
        select(a.applicant_type,
               func.sum(case((a.received_on >= start, one), else_=0)),
               func.sum(case((r.application_id.is_(None), one), else_=0)))
        .select_from(APPLICATION.outerjoin(RECORD, and_(r.application_id == a.id, r.concluded_on <= end)))
        .where(a.received_on <= end)
        .group_by(a.applicant_type)
    )
    new, carried_out = {}, {}
    for kind, n_new, n_open in session.execute(new_and_open):
        new[kind], carried_out[kind] = int(n_new or 0), int(n_open or 0)
    done_before = select(r.application_id).where(r.application_id == a.id, r.concluded_on < start).exists()
    carried_in = _by_type(session, select(a.applicant_type, func.count())
                          .where(a.received_on < start, ~done_before).group_by(a.applicant_type))
    results: dict[tuple[str, str], int] = {}
    replied = on_time = 0
    concluded = [r.concluded_on >= start, r.concluded_on <= end]
    agency = tenancy.CURRENT_AGENCY.get()
    if agency is not None:
        # Issue 25: not another agency's records. A record whose application is nowhere stays counted, as the check
        # (一 + 二 = 三 + 四) must see it; so the statement names the agencies itself (not limited by db/tenancy.py).
        concluded.append(~r.application_id.in_(select(a.id).where(a.agency != agency)))
    for outcome, kind, n, n_replied, n_on_time in session.execute(
            select(r.outcome, r.applicant_type, func.count(),
                   func.sum(case((r.replied_on.is_not(None), one), else_=0)),
                   func.sum(case((r.on_time.is_(True), one), else_=0)))
            .where(*concluded)
            .group_by(r.outcome, r.applicant_type).execution_options(**tenancy.UNLIMITED)):
        results[(outcome, kind)] = int(n)
        replied, on_time = replied + int(n_replied or 0), on_time + int(n_on_time or 0)
    return {"new": new, "carried_in": carried_in, "results": results, "carried_out": carried_out,
            "timeliness": {"replied": replied, "on_time": on_time}}


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

def _month(session: Session, column):
    # SQLite keeps dates as ISO text: the first seven characters are the month.
    return func.substr(column, 1, 7) if session.get_bind().dialect.name == "sqlite" else func.to_char(column, "YYYY-MM")


def assessment(session: Session, start: date, end: date) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """考核评议 figures in one pass over the period's replies, grouped by (month, section, handler):

    - per section and handler: replies, on time, late, extended, drafts returned by review, and the
      applications still unanswered past their due date now (the workflow's overdue flag);
    - per month and section: replies on time and late (for charts).
    """
    r, a = RECORD.c, APPLICATION.c
    one = literal(1)
    month = _month(session, r.replied_on)
    statement = (
        select(month, r.department, r.handler, func.count(),
               func.sum(case((r.on_time.is_(True), one), else_=0)),
               func.sum(case((r.on_time.is_(False), one), else_=0)),
               func.sum(case((r.extended.is_(True), one), else_=0)),
               func.sum(r.review_returns))
        .where(r.replied_on >= start, r.replied_on <= end)
        .group_by(month, r.department, r.handler)
    )
    fields = ("replied", "on_time", "late", "extended", "review_returns")
    rows: dict[tuple[str | None, str | None], dict[str, Any]] = defaultdict(
        lambda: dict.fromkeys((*fields, "open_overdue"), 0))
    months: dict[tuple[str, str | None], dict[str, int]] = defaultdict(lambda: {"replied": 0, "on_time": 0, "late": 0})
    for m, department, handler, *values in session.execute(statement):
        row, by_month = rows[(department, handler)], months[(m, department)]
        for name, value in zip(fields, values, strict=True):
            row[name] += int(value or 0)
        by_month["replied"] += int(values[0])
        by_month["on_time"] += int(values[1] or 0)
        by_month["late"] += int(values[0]) - int(values[1] or 0)
    # Open and overdue now, whatever the period (on the (overdue, due_on, id) index; a received_on
    # condition here made SQLite walk the receipt index over the whole year instead).
    open_overdue = (
        select(a.department, a.handler, func.count())
        .where(text(OPEN_PREDICATE), a.overdue.is_(True))
        .group_by(a.department, a.handler)
    )
    for department, handler, n in session.execute(open_overdue):
        rows[(department, handler)]["open_overdue"] = int(n)
    figures = [{"department": department, "handler": handler, **row, "overdue": row["late"] + row["open_overdue"],
                "on_time_rate": (row["on_time"] / row["replied"]) if row["replied"] else None}
               for (department, handler), row in sorted(rows.items(), key=lambda kv: (kv[0][0] or "", kv[0][1] or ""))]
    monthly = [{"month": m, "department": d, **v}
               for (m, d), v in sorted(months.items(), key=lambda kv: (kv[0][0], kv[0][1] or ""))]
    return figures, monthly


def assessment_figures(session: Session, start: date, end: date) -> list[dict[str, Any]]:
    return assessment(session, start, end)[0]


def assessment_monthly(session: Session, start: date, end: date) -> list[dict[str, Any]]:
    return assessment(session, start, end)[1]


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


def open_overdue_applications(session: Session) -> list[dict[str, Any]]:
    """Applications unanswered past their due date now (the workflow's overdue flag)."""
    a = APPLICATION.c
    statement = (select(a.id, a.department, a.handler, a.due_on)
                 .where(text(OPEN_PREDICATE), a.overdue.is_(True)).order_by(a.id))
    return [{"application_id": i, "department": d, "handler": h, "due_on": due}
            for i, d, h, due in session.execute(statement)]


def add_accountability_case(session: Session, case_row: AccountabilityCase) -> bool:
    """Insert; a case raised from the records with a key already used is skipped (idempotent scan)."""
    values = case_row.model_dump(exclude={"id"})
    statement = _dialect_insert(session)(AccountabilityCase.__table__).values(**values)  # type: ignore[attr-defined]
    if case_row.key is not None:
        statement = statement.on_conflict_do_nothing(index_elements=["key"])
    return session.execute(statement.returning(AccountabilityCase.__table__.c.id)).first() is not None  # type: ignore[attr-defined]


def list_accountability(session: Session, department: str | None = None,
                        status: str | None = None) -> list[AccountabilityCase]:
    statement = select(AccountabilityCase)
    if department is not None:
        statement = statement.where(AccountabilityCase.department == department)
    if status is not None:
        statement = statement.where(AccountabilityCase.status == status)
    return list(session.execute(statement.order_by(col(AccountabilityCase.department), col(AccountabilityCase.id))).scalars())


# --- backfill: applications that ended before report-grade records existed -----------------------

ENDING_EVENTS = {"signed": "replied", "abandoned": "abandoned", "withdrawn": "withdrawn"}


def backfill_report_records(session: Session) -> tuple[int, list[str]]:
    """Write the record of every application that ended (signed, abandoned, withdrawn) before this feature.

    From what was recorded at the time: the ending event's own timestamp (the reply date: events are
    written once, never rewritten), the items' outcomes as stored after signing, the application row's
    applicant type, section, handler, due date and extension, and the review returns counted from the
    events. Idempotent. Returns how many were written and the ids skipped (no outcome stored).
    """
    from db.models import ApplicationEvent, ApplicationItem
    from outcomes import OutcomeCode
    from reports.annual import application_outcome
    from reports.records import ItemOutcome

    e = ApplicationEvent.__table__.c  # type: ignore[attr-defined]
    done = select(RECORD.c.application_id).where(RECORD.c.application_id == e.application_id).exists()
    endings = session.execute(select(e.application_id, e.kind, e.at, e.actor)
                              .where(e.kind.in_(tuple(ENDING_EVENTS)), ~done).order_by(e.application_id, e.seq)).all()
    written, skipped = 0, []
    for application_id, kind, at, actor in endings:
        application = session.get(Application, application_id)
        items = session.execute(select(ApplicationItem.item_no, ApplicationItem.outcome)
                                .where(ApplicationItem.application_id == application_id)
                                .order_by(ApplicationItem.item_no)).all()
        if application is None or not items or any(outcome is None for _, outcome in items):
            skipped.append(application_id)
            continue
        returns = session.execute(select(func.count()).where(e.application_id == application_id,
                                                             e.kind == "review-returned")).scalar_one()
        ending = ENDING_EVENTS[kind]
        day = local_date(at)
        replied_on = None if ending == "withdrawn" else day
        written += insert_report_record(session, ReportRecordInput(
            application_id=application_id, ending=ending, received_on=application.received_on,
            applicant_type=application.applicant_type, department=application.department, handler=application.handler,
            replied_on=replied_on, concluded_on=day,
            outcome=application_outcome(outcome for _, outcome in items),
            items=[ItemOutcome(item_no=n, outcome=OutcomeCode(outcome)) for n, outcome in items],
            due_on=application.due_on,
            on_time=None if replied_on is None or application.due_on is None else replied_on <= application.due_on,
            extended=application.extended, review_returns=int(returns),
            signed_by=actor if ending == "replied" else None))
    return written, skipped


def registered_after(session: Session, year: int, published_at) -> list[dict[str, Any]]:
    """Applications received in `year` but registered after its report was published (issue 24 point 9): each moves
    the published figures; with the registration's record (which names the receipt's evidence)."""
    from db.models import ApplicationEvent

    event = ApplicationEvent.__table__  # type: ignore[attr-defined]
    rows = session.execute(
        select(Application.id, Application.received_on, Application.created_at, event.c.summary)
        .select_from(Application.__table__.outerjoin(  # type: ignore[attr-defined]
            event, and_(event.c.application_id == Application.id, event.c.kind == "registered")))
        .where(Application.received_on >= date(year, 1, 1), Application.received_on <= date(year, 12, 31),
               Application.created_at > published_at)
        .order_by(Application.created_at, Application.id).limit(200)
    ).all()
    return [{"application_id": r[0], "received_on": r[1].isoformat(), "registered_at": r[2].isoformat(),
             "registration": r[3] or ""} for r in rows]
