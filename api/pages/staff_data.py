"""What the staff pages read straight from the database: the work queue and the dashboard's figures.

Both answer from SQL on the `application` table's indexes (the (…, due_on, id) indexes and the
partial index of open applications, migration 0004), never by asking each workflow: at 1,000,000
applications the queue must answer in < 100 ms and the dashboard in < 200 ms (bench/pages.py).
Every figure is defined as a filter of the supervisors' list (db.repository.list_applications), so
each links to exactly the applications behind it and equals GET /api/v1/applications' `total`.

A pending extension request is a column the workflow writes (`extension_pending`, with a partial index of
the few rows where it is true, migration 0016). A third party's objection not yet overridden is not a
column: it is read from the partial index of the objection alerts (migration 0007), which holds a few
percent of that table's rows.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import and_, func, literal, select, text
from sqlalchemy.engine import Connection, Engine

from clock.deadline import working_days_left
from db.models import (
    EXTENSION_PENDING_PREDICATE, OBJECTION_PREDICATE, OPEN_PREDICATE, UNASSIGNED_PREDICATE, Application, ApplicationEvent, ApplicationItem, StaffAlert,
)
from workcalendar import WorkCalendar

A = Application.__table__  # type: ignore[attr-defined]
E = ApplicationEvent.__table__  # type: ignore[attr-defined]
I = ApplicationItem.__table__  # type: ignore[attr-defined]
S = StaffAlert.__table__  # type: ignore[attr-defined]
OPEN = text(OPEN_PREDICATE)  # literal SQL: SQLite uses the partial index only when the query repeats it
# An extension requested and not yet approved or refused (Reg. 33(2); one request at a time, a refused one may be
# asked again): the column the workflow writes with its record, as its partial index's literal predicate
# (migration 0016): a few rows. Use with OPEN.
EXTENSION_PENDING = text(EXTENSION_PENDING_PREDICATE)
UNASSIGNED = text(UNASSIGNED_PREDICATE)  # and for the partial index of applications without a handler
# The same set spelled positively: (status, due_on, overdue, …) is then an index-only range per status.
OPEN_STATUSES = ("handling", "awaiting-supplement", "consulting", "in-review", "awaiting-signature", "awaiting-delivery")
OPEN_IN = A.c.status.in_(OPEN_STATUSES)
DUE_SOON_WORKING_DAYS = 3
QUEUE_LIMIT = 100
# The queue's and the dashboard's statements run at once, each on its own pooled connection.
_POOL = ThreadPoolExecutor(max_workers=6, thread_name_prefix="staff-pages")


# --- working days ------------------------------------------------------------------------------


def due_soon_before(cal: WorkCalendar, today: date, days: int = DUE_SOON_WORKING_DAYS) -> date:
    """The first date whose due date leaves more than `days` working days (counting today): the
    applications due before it and not overdue are "due within `days` working days"."""
    day = today
    while working_days_left(cal, today, day) <= days:
        day += timedelta(days=1)
    return day


class WorkingDaysLeft:
    """`clock.deadline.working_days_left(cal, today, d)` for many dates d at once: one walk over the
    calendar from the earliest date to the latest, then each answer from prefix counts (a queue of old
    overdue applications would otherwise walk years of days per row)."""

    def __init__(self, cal: WorkCalendar, today: date, dates: list[date]) -> None:
        self.today = today
        self.first = min([today, *dates]) - timedelta(days=1)
        last = max([today, *dates])
        self.prefix = [0]  # prefix[i]: working days in (first, first + i]
        day = self.first
        while day < last:
            day += timedelta(days=1)
            self.prefix.append(self.prefix[-1] + (1 if cal.workday_or_provisional(day)[0] else 0))
        self.today_is_workday = cal.workday_or_provisional(today)[0]

    def _between(self, a: date, b: date) -> int:  # working days d with a < d <= b
        return self.prefix[(b - self.first).days] - self.prefix[(a - self.first).days] if b > a else 0

    def __call__(self, due_on: date) -> int:
        if self.today > due_on:
            return -self._between(due_on, self.today)
        return self._between(self.today, due_on) + (1 if self.today_is_workday else 0)


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
        # The partial index of unassigned applications (its predicate as literal SQL, which SQLite needs to
        # use it), in due order per status: a few rows, not every open application of the status.
        for status_ in ("handling", "consulting"):
            branches.append(branch("assign", "registrar", "指定承办人", A.c.status == status_, UNASSIGNED))
        branches.append(branch("confirm-delivery", "registrar", "寄送或交付答复并确认送达",
                               A.c.status == "awaiting-delivery", A.c.delivery_method != "email"))
    if "handler" in roles:
        mine = [A.c.handler == username]
        if department is not None:
            mine.append(A.c.department == department)
        else:
            mine.append(literal(False))  # a handler without a department has no applications (api.security)
        unproposed = select(literal(1)).where(I.c.application_id == A.c.id, I.c.outcome.is_(None)).exists()
        branches.append(branch("propose-decision", "handler", "提出拟办意见",
                               A.c.status.in_(("handling", "consulting")), unproposed, *mine))
        branches.append(branch("submit-for-review", "handler", "提交保密审查",
                               A.c.status == "handling", ~unproposed, *mine))
    if "reviewer" in roles:
        branches.append(branch("review", "reviewer", "保密审查拟办意见", A.c.status == "in-review"))
    if "supervisor" in roles:
        branches.append(branch("sign", "supervisor", "签发答复告知书", A.c.status == "awaiting-signature"))
        branches.append(branch("decide-extension", "supervisor", "审批延期申请", OPEN, EXTENSION_PENDING))
        branches.append(branch("override-objection", "supervisor", "第三方不同意公开：决定是否公开（可选）",
                               A.c.status == "handling", pending_objection()))
    return branches


def pending_objection():
    """A third party objected (the supervisor was alerted) and no override has been recorded since."""
    overridden = E.alias("overridden")
    return A.c.id.in_(
        select(S.c.application_id).where(
            text(OBJECTION_PREDICATE),  # literal: the partial index's own predicate (SQLite matches it only so)
            ~select(literal(1)).where(overridden.c.application_id == S.c.application_id,
                                      overridden.c.kind.in_(("objection-overridden", "objection-not-reasonable"))).exists(),
        )
    )


def work_queue(engine: Engine, roles: frozenset[str], username: str, department: str | None,
               cal: WorkCalendar, today: date) -> list[QueueRow]:
    """Every action waiting for one of `roles`, soonest due first (undated last), at most 100 per kind.

    Each kind is one indexed statement; they run at once, each on its own connection."""
    branches = _queue_selects(roles, username, department)

    def run(statement):
        with engine.connect() as conn:
            return statement(conn) if callable(statement) else conn.execute(statement).mappings().all()

    rows = [r for future in [_POOL.submit(run, b) for b in branches] for r in future.result()]
    left_of = WorkingDaysLeft(cal, today, [r["due_on"] for r in rows if r["due_on"]])
    out = []
    for r in rows:
        left = left_of(r["due_on"]) if r["due_on"] else None
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


def dashboard(engine: Engine, cal: WorkCalendar, today: date, *, months: int = 12, ahead: int = 2,
              recent_months: int = 3) -> Dashboard:
    """The figures (each one COUNT over an index) and the on-time rates (GROUP BY over the period).

    The independent statements run at once, each on its own connection (a database answers several
    readers in parallel; the slowest one sets the page's time, not their sum).
    """
    soon = due_soon_before(cal, today)
    iso = lambda d: d.isoformat()  # noqa: E731

    def on_connection(fn):
        def run():
            with engine.connect() as conn:
                return fn(conn)
        return _POOL.submit(run)

    counts = {
        "open": on_connection(lambda c: _count(c, OPEN)),
        "due-soon": on_connection(lambda c: _count(c, OPEN_IN, A.c.overdue.is_(False), A.c.due_on < soon)),
        "overdue": on_connection(lambda c: _count(c, OPEN_IN, A.c.overdue.is_(True))),
        "statuses": on_connection(lambda c: dict(c.execute(
            select(A.c.status, func.count()).where(A.c.status.in_(("consulting", "awaiting-supplement",
                                                                   "awaiting-signature")))
            .group_by(A.c.status)).all())),
        "extension": on_connection(lambda c: _count(c, OPEN, EXTENSION_PENDING)),
        "override": on_connection(lambda c: _count(c, A.c.status == "handling", pending_objection())),
    }

    # On-time rate: of the applications closed (replied and delivered) whose due date falls in the
    # month, how many were replied by their due date (`overdue` is set only when the due date passes
    # unanswered). By the due date's month: it is a date column with an index. The last `months`
    # months and the next `ahead` ones (an application answered early is closed before its due month).
    spans = [(month_start(today, back), month_start(today, back - 1)) for back in range(months - 1, -ahead - 1, -1)]
    rate = lambda *where: select(func.count(), func.sum(func.cast(A.c.overdue, _int_type()))).where(  # noqa: E731
        A.c.status == "closed", *where)
    monthly = on_connection(lambda c: [c.execute(rate(A.c.due_on >= a, A.c.due_on < b)).one() for a, b in spans])
    recent = month_start(today, recent_months - 1)
    grouped = {}
    for name, column in (("department", A.c.department), ("handler", A.c.handler)):
        grouped[name] = on_connection(lambda c, column=column: c.execute(
            select(column.label("key"), func.count().label("total"),
                   func.sum(func.cast(A.c.overdue, _int_type())).label("late"))
            .where(A.c.status == "closed", A.c.due_on >= recent, column.is_not(None))
            .group_by(column).order_by(func.count().desc(), column).limit(30)).all())

    got = {k: f.result() for k, f in counts.items()}
    statuses = got["statuses"]
    figures = [
        Figure("open", "在办", got["open"], {"open": "true"}),
        Figure("due-soon", f"{DUE_SOON_WORKING_DAYS} 个工作日内到期", got["due-soon"],
               {"open": "true", "overdue": "false", "due_before": iso(soon)}, "soon"),
        Figure("overdue", "已逾期", got["overdue"], {"open": "true", "overdue": "true"}, "overdue"),
        Figure("paused", "暂停计算（征求意见中）", statuses.get("consulting", 0), {"status": "consulting"}),
        Figure("supplement", "等待申请人补正", statuses.get("awaiting-supplement", 0), {"status": "awaiting-supplement"}),
        Figure("sign", "待我签发", statuses.get("awaiting-signature", 0), {"status": "awaiting-signature"}),
        Figure("extension", "待我审批延期", got["extension"], {"pending": "extension"}),
        Figure("override", "第三方异议待决定", got["override"], {"pending": "objection"}),
    ]
    board = Dashboard(today=today, due_soon_before=soon, figures=figures, period_from=recent)
    for (start, stop), (total, late) in zip(spans, monthly.result()):
        board.by_month.append(RateRow(f"{start.year}年{start.month}月", total, int(late or 0),
                                      {"status": "closed", "due_from": iso(start), "due_before": iso(stop)}))
    for name, target in (("department", board.by_department), ("handler", board.by_handler)):
        for r in grouped[name].result():
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
    condition = and_(OPEN, EXTENSION_PENDING) if which == "extension" else and_(
        A.c.status == "handling", pending_objection())
    return list(conn.execute(select(A.c.id).where(condition).order_by(A.c.due_on, A.c.id).limit(limit)).scalars())


def open_due_dates_from(conn: Connection, first_day: date) -> list[tuple[date, int]]:
    """Open applications due on or after `first_day`, counted per due date (what a calendar year may move)."""
    rows = conn.execute(
        select(A.c.due_on, func.count()).where(OPEN, A.c.due_on >= first_day).group_by(A.c.due_on)
    ).all()
    return [(r[0], r[1]) for r in rows]


# --- 政务公开 work in the queue (issue 23 point 7) -------------------------------------------------------
#
# Each role's own steps of the 政务公开 processes, read from the rows their workflows write (db/models_proactive.py,
# db/models_participation.py) as the workflows' phases say whose turn it is (workflows/proactive.py,
# workflows/corrections.py, workflows/participation.py) and the API's role checks say who may act
# (api/routes/proactive.py, corrections.py, participation.py): review by a 保密审查员; publication, changes,
# responses, corrections, revisions, feedback and answers by a handler of the record's section (any section for
# a supervisor); approval of a draft for comment by a supervisor; routing of a question by the desk or a
# supervisor. Dates are due dates (working days left); a public-opinion event counts hours (its limits run in
# hours from the instant it was found, seed 002 art. 21).


@dataclass
class GkRow:
    record_id: str
    what: str  # the kind of record, in words
    title: str
    description: str  # the step waiting
    href: str
    section: str | None
    due_on: date | None = None
    due_at: Any = None  # an instant for the hour clocks
    left: str = ""
    mark: str = ""


def _instant_day(moment, *, period_end: bool = True) -> date | None:
    """The Shanghai day of an instant; of a period's end (00:00 of the next day, clock.deadline.end_of_day_instant),
    the period's last day."""
    from datetime import timezone

    from clock import SHANGHAI

    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    if period_end:
        moment -= timedelta(microseconds=1)
    return moment.astimezone(SHANGHAI).date()


def _gk_rows(conn: Connection, roles: frozenset[str], department: str | None) -> list[GkRow]:
    from db.models_participation import Draft, Inquiry
    from db.models_proactive import CatalogueItem, CorrectionRequest, OpinionEvent

    C, R, O = CatalogueItem.__table__, CorrectionRequest.__table__, OpinionEvent.__table__  # type: ignore[attr-defined]
    D, Q = Draft.__table__, Inquiry.__table__  # type: ignore[attr-defined]
    reviewer, supervisor = "reviewer" in roles, "supervisor" in roles
    editor = supervisor or "handler" in roles

    def own(column):  # a handler: their section's records; a supervisor: every section's
        if supervisor:
            return literal(True)
        return column == department if department is not None else literal(False)

    def what_item(kind: str) -> str:
        return "政策解读" if kind == "interpretation" else "主动公开信息"

    rows: list[GkRow] = []
    steps = []
    if reviewer:
        steps.append(("in-review", "保密审查（谁签发、谁把关）", literal(True)))
    if editor:
        steps += [("approved", "公开发布", own(C.c.section)), ("returned", "审查退回：修改后重新送审", own(C.c.section))]
    for status_, description, where in steps:
        for r in conn.execute(select(C.c.id, C.c.kind, C.c.title, C.c.section, C.c.due_at)
                              .where(C.c.status == status_, where).order_by(C.c.due_at).limit(QUEUE_LIMIT)).mappings():
            rows.append(GkRow(r["id"], what_item(r["kind"]), r["title"], description, f"/staff/gk/catalogue/{r['id']}",
                              r["section"], due_on=_instant_day(r["due_at"])))
    corrections = ([("in-review", "告知书保密审查")] if reviewer else []) + ([("handling", "办理更正申请")] if editor else [])
    for status_, description in corrections:
        for r in conn.execute(select(R.c.id, R.c.person_name, R.c.due_on).where(R.c.status == status_)
                              .order_by(R.c.due_on).limit(QUEUE_LIMIT)).mappings():
            rows.append(GkRow(r["id"], "更正申请", f"{r['person_name']}的更正申请", description,
                              f"/staff/gk/correction/{r['id']}", None, due_on=r["due_on"]))
    if editor:
        for r in conn.execute(select(O.c.id, O.c.title, O.c.limits, O.c.responses).where(O.c.status == "open")
                              .order_by(O.c.found_at).limit(QUEUE_LIMIT)).mappings():
            unmet = sorted((limit for limit in r["limits"] if not limit.get("met_at")),
                           key=lambda limit: limit["limit"]["due_at"])
            if unmet:
                first = unmet[0]["limit"]
                description, due_at = f"回应舆情：{first['label']}", first["due_at"]
            else:
                description, due_at = "已按时回应：记录后续回应或办结", None
            rows.append(GkRow(r["id"], "政务舆情", r["title"], description, f"/staff/gk/opinion/{r['id']}", None,
                              due_at=due_at))
    drafts = []
    if reviewer:
        drafts += [("in-review", "征求意见稿保密审查", literal(True)),
                   ("feedback-review", "意见采纳情况保密审查", literal(True))]
    if editor:
        drafts += [("returned", "审查退回：修改后重新送审", own(D.c.section)),
                   ("closed", "征求意见期满：整理意见并提出采纳情况", own(D.c.section))]
    if supervisor:
        drafts.append(("reviewed", "批准公开征求意见", literal(True)))
    for phase, description, where in drafts:
        for r in conn.execute(select(D.c.id, D.c.title, D.c.section, D.c.feedback_due_at).where(D.c.phase == phase, where)
                              .order_by(D.c.updated_at).limit(QUEUE_LIMIT)).mappings():
            due = _instant_day(r["feedback_due_at"]) if phase in ("closed", "feedback-review") else None
            rows.append(GkRow(r["id"], "征求意见", r["title"], description, f"/staff/participation/drafts/{r['id']}",
                              r["section"], due_on=due))
    questions = []
    if roles & {"registrar", "supervisor"}:
        questions.append(("unrouted", "分送承办科室", literal(True)))
    if editor:
        questions.append(("routed", "答复咨询", own(Q.c.section)))
    if reviewer:
        questions.append(("in-review", "答复保密审查", literal(True)))
    for status_, description, where in questions:
        for r in conn.execute(select(Q.c.id, Q.c.question, Q.c.section, Q.c.due_on).where(Q.c.status == status_, where)
                              .order_by(Q.c.due_on).limit(QUEUE_LIMIT)).mappings():
            question = r["question"]
            rows.append(GkRow(r["id"], "在线咨询", question if len(question) <= 40 else question[:40] + "…", description,
                              f"/staff/participation/inquiries/{r['id']}", r["section"], due_on=r["due_on"]))
    return rows


def hours_left(due_at, now) -> tuple[str, str]:
    """An hour clock's time left in words (whole minutes, never rounded up), and its mark: overdue, or soon within
    6 hours."""
    moment = datetime_of(due_at)
    seconds = (moment - now).total_seconds()
    hours, minutes = divmod(int(abs(seconds)) // 60, 60)
    span = f"{hours} 小时 {minutes} 分钟" if hours else f"{minutes} 分钟"
    if seconds < 0:
        return f"已超时 {span}", "overdue"
    return f"还剩 {span}", ("soon" if seconds <= 6 * 3600 else "")


def gk_queue(engine: Engine, roles: frozenset[str], department: str | None, cal: WorkCalendar, today: date,
             now) -> list[GkRow]:
    """The 政务公开 steps waiting for one of `roles`: overdue first, then soonest due; undated last."""
    with engine.connect() as conn:
        rows = _gk_rows(conn, roles, department)
    left_of = WorkingDaysLeft(cal, today, [r.due_on for r in rows if r.due_on])
    for r in rows:
        if r.due_at is not None:
            r.left, r.mark = hours_left(r.due_at, now)
            r.due_at = datetime_of(r.due_at)
            r.due_on = _instant_day(r.due_at, period_end=False)
        elif r.due_on is not None:
            days = left_of(r.due_on)
            r.mark = mark(days, r.due_on, today)
            r.left = f"已逾期 {-days} 个工作日" if r.mark == "overdue" else (
                f"剩余 {days} 个工作日" if days > 0 else "今天到期")
    rows.sort(key=lambda r: (r.due_on is None, r.due_on or date.max, r.record_id, r.description))
    return rows


def datetime_of(value):
    from datetime import datetime

    return datetime.fromisoformat(value) if isinstance(value, str) else value
