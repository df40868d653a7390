"""What the staff pages read straight from the database: the work queue and the dashboard's figures.

Both answer from SQL on the `application` table's indexes (the (…, due_on, id) indexes and the
partial index of open applications, migration 0004), never by asking each workflow: at 1,000,000
applications the queue must answer in < 100 ms and the dashboard in < 200 ms (bench/pages.py).
Every figure is defined as a filter of the supervisors' list (db.repository.list_applications), so
each links to exactly the applications behind it and equals GET /api/v1/applications' `total`.

Two waiting decisions are not columns of `application`: a pending extension request and a third
party's objection not yet overridden. They are read from the recorded events of open applications
(application_event, by its application_id index), driven by the open-applications index.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import and_, exists, func, literal, or_, select, text, union_all
from sqlalchemy.engine import Connection

from clock.deadline import working_days_left
from db.models import OPEN_PREDICATE, Application, ApplicationEvent, ApplicationItem, StaffAlert
from workcalendar import WorkCalendar

A = Application.__table__  # type: ignore[attr-defined]
E = ApplicationEvent.__table__  # type: ignore[attr-defined]
I = ApplicationItem.__table__  # type: ignore[attr-defined]
S = StaffAlert.__table__  # type: ignore[attr-defined]
OPEN = text(OPEN_PREDICATE)  # literal SQL: SQLite uses the partial index only when the query repeats it
DUE_SOON_WORKING_DAYS = 3
QUEUE_LIMIT = 100


# --- working days ------------------------------------------------------------------------------


def due_soon_before(cal: WorkCalendar, today: date, days: int = DUE_SOON_WORKING_DAYS) -> date:
    """The first date whose due date leaves more than `days` working days (counting today): the
    applications due before it and not overdue are "due within `days` working days"."""
    day = today
    while working_days_left(cal, today, day) <= days:
        day += timedelta(days=1)
    return day


def mark(left: int | None, due_on: date | None, today: date) -> str:
    """red: overdue; amber: due within 3 working days; '' otherwise."""
    if due_on is None or left is None:
        return ""
    if due_on < today:
        return "overdue"
    return "soon" if left <= DUE_SOON_WORKING_DAYS else ""


# --- the work queue ----------------------------------------------------------------------------


@dataclass
class QueueRow:
    application_id: str
    action: str
    description: str
    role: str
    status: str
    applicant_name: str
    handler: str | None
    department: str | None
    due_on: date | None
    working_days_left: int | None = None
    mark: str = ""


# What each role is waited for, as conditions on the application row (the workflow's pending actions,
# workflows/application.py `_pending_actions`, expressed on the columns the workflow persists).
def _queue_selects(roles: frozenset[str], username: str, department: str | None) -> list[Any]:
    cols = [A.c.id, A.c.status, A.c.applicant_name, A.c.handler, A.c.department, A.c.due_on]

    def branch(action: str, role: str, description: str, *where: Any):
        return (select(*cols, literal(action).label("action"), literal(role).label("role"),
                       literal(description).label("description"))
                .where(*where).order_by(A.c.due_on, A.c.id).limit(QUEUE_LIMIT))

    branches = []
    if "registrar" in roles:
        branches.append(branch("assign", "registrar", "指定承办人",
                               A.c.status.in_(("handling", "consulting")), A.c.handler.is_(None)))
        branches.append(branch("confirm-delivery", "registrar", "寄送或交付答复并确认送达",
                               A.c.status == "awaiting-delivery", A.c.delivery_method != "email"))
    if "handler" in roles:
        mine = [A.c.handler == username]
        if department is not None:
            mine.append(A.c.department == department)
        else:
            mine.append(literal(False))  # a handler without a department has no applications (api.security)
        unproposed = exists().where(I.c.application_id == A.c.id, I.c.outcome.is_(None))
        branches.append(branch("propose-decision", "handler", "提出拟办意见",
                               A.c.status.in_(("handling", "consulting")), unproposed, *mine))
        branches.append(branch("submit-for-review", "handler", "提交保密审查",
                               A.c.status == "handling", ~unproposed, *mine))
    if "reviewer" in roles:
        branches.append(branch("review", "reviewer", "保密审查拟办意见", A.c.status == "in-review"))
    if "supervisor" in roles:
        branches.append(branch("sign", "supervisor", "签发答复告知书", A.c.status == "awaiting-signature"))
        branches.append(branch("decide-extension", "supervisor", "审批延期申请", OPEN, pending_extension()))
        branches.append(branch("override-objection", "supervisor", "第三方不同意公开：决定是否公开（可选）",
                               OPEN, A.c.status == "handling", pending_objection()))
    return branches


def pending_extension():
    """An extension requested and not yet approved or refused (the workflow allows one at a time)."""
    requested = E.alias("requested")
    decided = E.alias("decided")
    return exists().where(
        requested.c.application_id == A.c.id, requested.c.kind == "extension-requested",
        ~exists().where(decided.c.application_id == A.c.id,
                        decided.c.kind.in_(("extension-approved", "extension-refused")),
                        decided.c.seq > requested.c.seq),
    )


def pending_objection():
    """A third party objected (the supervisor was alerted) and no override has been recorded since."""
    overridden = E.alias("overridden")
    return and_(
        exists().where(S.c.application_id == A.c.id, S.c.kind == "consultation-objection"),
        ~exists().where(overridden.c.application_id == A.c.id, overridden.c.kind == "objection-overridden"),
    )


def work_queue(conn: Connection, roles: frozenset[str], username: str, department: str | None,
               cal: WorkCalendar, today: date) -> list[QueueRow]:
    """Every action waiting for one of `roles`, soonest due first (undated last), at most 100 per kind."""
    branches = _queue_selects(roles, username, department)
    if not branches:
        return []
    statement = union_all(*[b.subquery().select() for b in branches]) if len(branches) > 1 else branches[0]
    rows = conn.execute(statement).mappings().all()
    out = []
    for r in rows:
        left = working_days_left(cal, today, r["due_on"]) if r["due_on"] else None
        out.append(QueueRow(application_id=r["id"], action=r["action"], description=r["description"], role=r["role"],
                            status=r["status"], applicant_name=r["applicant_name"], handler=r["handler"],
                            department=r["department"], due_on=r["due_on"], working_days_left=left,
                            mark=mark(left, r["due_on"], today)))
    out.sort(key=lambda q: (q.due_on is None, q.due_on or date.max, q.application_id, q.action))
    return out


# --- the supervisor's dashboard ----------------------------------------------------------------


@dataclass
class Figure:
    key: str
    label: str
    value: int
    filters: dict[str, str]  # the list page's (and GET /api/v1/applications') query for the same applications
    tone: str = ""


@dataclass
class RateRow:
    label: str
    total: int
    late: int
    filters: dict[str, str]

    @property
    def on_time(self) -> int:
        return self.total - self.late

    @property
    def late_filters(self) -> dict[str, str]:
        return self.filters | {"overdue": "true"}

    @property
    def rate(self) -> float | None:
        return None if not self.total else self.on_time / self.total


@dataclass
class Dashboard:
    today: date
    due_soon_before: date
    figures: list[Figure]
    by_month: list[RateRow] = field(default_factory=list)
    by_department: list[RateRow] = field(default_factory=list)
    by_handler: list[RateRow] = field(default_factory=list)
    period_from: date | None = None


def _count(conn: Connection, *where: Any) -> int:
    return conn.execute(select(func.count()).select_from(A).where(*where)).scalar_one()


def month_start(day: date, back: int = 0) -> date:
    index = day.year * 12 + day.month - 1 - back
    return date(index // 12, index % 12 + 1, 1)


def dashboard(conn: Connection, cal: WorkCalendar, today: date, *, months: int = 12, ahead: int = 2,
              recent_months: int = 3) -> Dashboard:
    """The figures (each one COUNT over an index) and the on-time rates (GROUP BY over the period)."""
    soon = due_soon_before(cal, today)
    iso = lambda d: d.isoformat()  # noqa: E731
    figures = [
        Figure("open", "在办", _count(conn, OPEN), {"open": "true"}),
        Figure("due-soon", f"{DUE_SOON_WORKING_DAYS} 个工作日内到期", _count(
            conn, OPEN, A.c.overdue.is_(False), A.c.due_on < soon), {"open": "true", "overdue": "false",
                                                                    "due_before": iso(soon)}, "soon"),
        Figure("overdue", "已逾期", _count(conn, OPEN, A.c.overdue.is_(True)), {"open": "true", "overdue": "true"},
               "overdue"),
        Figure("paused", "暂停计算（征求意见中）", _count(conn, A.c.status == "consulting"), {"status": "consulting"}),
        Figure("supplement", "等待申请人补正", _count(conn, A.c.status == "awaiting-supplement"),
               {"status": "awaiting-supplement"}),
        Figure("sign", "待我签发", _count(conn, A.c.status == "awaiting-signature"), {"status": "awaiting-signature"}),
        Figure("extension", "待我审批延期", _count(conn, OPEN, pending_extension()), {"pending": "extension"}),
        Figure("override", "第三方异议待决定", _count(conn, OPEN, A.c.status == "handling", pending_objection()),
               {"pending": "objection"}),
    ]
    board = Dashboard(today=today, due_soon_before=soon, figures=figures)

    # On-time rate: of the applications closed (replied and delivered) whose due date falls in the
    # month, how many were replied by their due date (`overdue` is set only when the due date passes
    # unanswered). By the due date's month: it is a date column with an index. The last `months`
    # months and the next `ahead` ones (an application answered early is closed before its due month).
    first = month_start(today, months - 1)
    end = month_start(today, -(ahead + 1))
    month_key = func.substr(func.cast(A.c.due_on, _text_type()), 1, 7)
    rows = conn.execute(
        select(month_key.label("month"), func.count().label("total"),
               func.sum(func.cast(A.c.overdue, _int_type())).label("late"))
        .where(A.c.status == "closed", A.c.due_on >= first, A.c.due_on < end).group_by(month_key)
    ).all()
    by_month = {r.month: (r.total, int(r.late or 0)) for r in rows}
    for back in range(months - 1, -ahead - 1, -1):
        start = month_start(today, back)
        stop = month_start(today, back - 1)
        total, late = by_month.get(start.isoformat()[:7], (0, 0))
        board.by_month.append(RateRow(f"{start.year}年{start.month}月", total, late,
                                      {"status": "closed", "due_from": iso(start), "due_before": iso(stop)}))

    recent = month_start(today, recent_months - 1)
    board.period_from = recent
    for column, target in ((A.c.department, board.by_department), (A.c.handler, board.by_handler)):
        rows = conn.execute(
            select(column.label("key"), func.count().label("total"),
                   func.sum(func.cast(A.c.overdue, _int_type())).label("late"))
            .where(A.c.status == "closed", A.c.due_on >= recent, column.is_not(None))
            .group_by(column).order_by(func.count().desc(), column).limit(30)
        ).all()
        name = "department" if column is A.c.department else "handler"
        for r in rows:
            target.append(RateRow(r.key, r.total, int(r.late or 0),
                                  {"status": "closed", name: r.key, "due_from": iso(recent)}))
    return board


def _text_type():
    from sqlalchemy import String

    return String()


def _int_type():
    from sqlalchemy import Integer

    return Integer()


# --- lists the dashboard links to that the JSON list has no filter for -------------------------


def pending_decision_ids(conn: Connection, which: str, limit: int = 100) -> list[str]:
    condition = pending_extension() if which == "extension" else and_(A.c.status == "handling", pending_objection())
    return list(conn.execute(select(A.c.id).where(OPEN, condition).order_by(A.c.due_on, A.c.id).limit(limit)).scalars())


def open_due_dates_from(conn: Connection, first_day: date) -> list[tuple[date, int]]:
    """Open applications due on or after `first_day`, counted per due date (what a calendar year may move)."""
    rows = conn.execute(
        select(A.c.due_on, func.count()).where(OPEN, A.c.due_on >= first_day).group_by(A.c.due_on)
    ).all()
    return [(r[0], r[1]) for r in rows]


def count_where(conn: Connection, *where: Any) -> int:
    return _count(conn, *where)


__all__ = ["work_queue", "dashboard", "due_soon_before", "mark", "pending_decision_ids", "open_due_dates_from",
           "or_"]
