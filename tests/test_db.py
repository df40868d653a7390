from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlmodel import select

from db.models import Application, ApplicationEvent, ApplicationItem, OutboundMessage
from db.repository import (
    allocate_application_number,
    get_events,
    get_outbound_message,
    list_applications,
    open_application_ids,
    published_calendar_years,
    record_outbound_message,
    save_application,
    store_calendar_year,
)
from db.session import init_db, session_scope
from tests.fixtures_db import application_record, engine, event_record  # noqa: F401

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_init_db_is_repeatable(engine: Engine) -> None:
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from db.session import alembic_config

    with session_scope(engine) as session:
        save_application(session, application_record(), [event_record(1)])
    init_db(engine)  # a second start (the fixture made the schema): nothing to do, nothing lost
    init_db(engine)
    with engine.connect() as connection:
        revisions = MigrationContext.configure(connection).get_current_heads()
    assert revisions == (ScriptDirectory.from_config(alembic_config()).get_current_head(),)
    with session_scope(engine) as session:
        assert [a.id for a in session.exec(select(Application)).all()] == ["GK-2026-000001"]
        assert [e.seq for e in get_events(session, "GK-2026-000001")] == [1]


def test_application_numbers_are_ascii_and_per_year(engine: Engine) -> None:
    with session_scope(engine) as session:
        first = allocate_application_number(session, 2026)
        second = allocate_application_number(session, 2026)
        next_year = allocate_application_number(session, 2027, prefix="TJ")
    assert (first, second, next_year) == ("GK-2026-000001", "GK-2026-000002", "TJ-2027-000001")


def test_concurrent_allocation_gives_unique_sequential_numbers(engine: Engine) -> None:
    def allocate(_: int) -> str:
        with session_scope(engine) as session:
            return allocate_application_number(session, 2026)

    with ThreadPoolExecutor(max_workers=20) as pool:
        numbers = list(pool.map(allocate, range(40)))

    assert sorted(numbers) == [f"GK-2026-{n:06d}" for n in range(1, 41)]


def test_rolled_back_allocation_returns_the_number(engine: Engine) -> None:
    try:
        with session_scope(engine) as session:
            allocate_application_number(session, 2026)
            raise RuntimeError("registration failed")
    except RuntimeError:
        pass
    with session_scope(engine) as session:
        assert allocate_application_number(session, 2026) == "GK-2026-000001"


def test_saving_twice_keeps_one_set_of_rows(engine: Engine) -> None:
    record = application_record()
    for _ in range(2):
        with session_scope(engine) as session:
            save_application(session, record, [event_record(1), event_record(2)])
    with session_scope(engine) as session:
        save_application(session, record.model_copy(update={"status": "replied"}), [event_record(2), event_record(3)])

    with session_scope(engine) as session:
        applications = session.exec(select(Application)).all()
        items = session.exec(select(ApplicationItem)).all()
        events = get_events(session, record.application_id)
    assert [a.status for a in applications] == ["replied"]
    assert sorted(i.item_no for i in items) == [1, 2]
    assert [e.seq for e in events] == [1, 2, 3]
    assert events[0].data == {"seq": 1, "说明": "中文"}
    assert {i.item_no: i.outcome for i in items} == {1: None, 2: "withheld-7"}


def test_an_older_copy_arriving_late_never_overwrites_a_newer_one(engine: Engine) -> None:
    """Issue 12 point 4: the workflow's background writes carry a monotonic version; a late, older one
    (a timed-out attempt finishing after the next write) leaves the row and its items alone, and its
    events, immutable by seq, are still stored."""
    record = application_record()
    with session_scope(engine) as session:  # intake's row: unversioned
        save_application(session, record, [event_record(1)])
    newer = record.model_copy(update={"status": "replied", "handler": "wang", "version": 20, "items": record.items[:1]})
    older = record.model_copy(update={"status": "in-progress", "handler": "zhao", "version": 10})
    with session_scope(engine) as session:
        save_application(session, newer, [event_record(3)])
    with session_scope(engine) as session:
        save_application(session, older, [event_record(2)])
    with session_scope(engine) as session:
        save_application(session, older.model_copy(update={"handler": "sun", "version": 20}), [])  # same version
    with session_scope(engine) as session:
        row = session.exec(select(Application)).one()
        assert (row.status, row.handler, row.version) == ("replied", "wang", 20)
        assert [i.item_no for i in session.exec(select(ApplicationItem)).all()] == [1]
        assert [e.seq for e in get_events(session, record.application_id)] == [1, 2, 3]
    with session_scope(engine) as session:  # a newer one applies
        save_application(session, older.model_copy(update={"handler": "sun", "version": 21}), [])
    with session_scope(engine) as session:
        row = session.exec(select(Application)).one()
        assert (row.status, row.handler, row.version) == ("in-progress", "sun", 21)
        assert sorted(i.item_no for i in session.exec(select(ApplicationItem)).all()) == [1, 2]


def test_items_dropped_from_the_record_are_removed(engine: Engine) -> None:
    record = application_record()
    with session_scope(engine) as session:
        save_application(session, record, [])
    with session_scope(engine) as session:
        save_application(session, record.model_copy(update={"items": record.items[:1]}), [])
    with session_scope(engine) as session:
        assert [i.item_no for i in session.exec(select(ApplicationItem)).all()] == [1]


def test_events_come_back_in_sequence_order(engine: Engine) -> None:
    with session_scope(engine) as session:
        save_application(session, application_record(), [event_record(3), event_record(1), event_record(2)])
    with session_scope(engine) as session:
        assert [e.seq for e in get_events(session, "GK-2026-000001")] == [1, 2, 3]
        assert get_events(session, "GK-2026-999999") == []
        assert session.exec(select(ApplicationEvent)).all()


def _seed_list(engine: Engine) -> None:
    rows = [
        ("GK-2026-000001", "in-progress", date(2026, 3, 20), False, "li", "综合统计科"),
        ("GK-2026-000002", "in-progress", None, False, "wang", "综合统计科"),
        ("GK-2026-000003", "in-progress", date(2026, 3, 10), True, "li", "执法监督科"),
        ("GK-2026-000004", "closed", date(2026, 3, 5), False, "li", "综合统计科"),
        ("GK-2026-000005", "awaiting-supplement", date(2026, 3, 20), False, None, None),
    ]
    with session_scope(engine) as session:
        for application_id, status, due_on, overdue, handler, department in rows:
            record = application_record(
                application_id, status=status, due_on=due_on, overdue=overdue, handler=handler, department=department
            )
            save_application(session, record, [])


def test_list_applications_filters_orders_and_pages(engine: Engine) -> None:
    _seed_list(engine)
    with session_scope(engine) as session:
        everything, total = list_applications(session)
        assert total == 5
        assert [a.id for a in everything] == [
            "GK-2026-000004",
            "GK-2026-000003",
            "GK-2026-000001",
            "GK-2026-000005",
            "GK-2026-000002",
        ]

        in_progress, total = list_applications(session, status="in-progress")
        assert total == 3 and [a.id for a in in_progress] == ["GK-2026-000003", "GK-2026-000001", "GK-2026-000002"]

        overdue, total = list_applications(session, overdue=True)
        assert total == 1 and overdue[0].id == "GK-2026-000003"

        due_soon, total = list_applications(session, due_before=date(2026, 3, 20))
        assert total == 2 and {a.id for a in due_soon} == {"GK-2026-000003", "GK-2026-000004"}

        mine, total = list_applications(session, handler="li", department="综合统计科")
        assert total == 2 and [a.id for a in mine] == ["GK-2026-000004", "GK-2026-000001"]

        page, total = list_applications(session, offset=2, limit=2)
        assert total == 5 and [a.id for a in page] == ["GK-2026-000001", "GK-2026-000005"]

        empty_page, total = list_applications(session, status="withdrawn", offset=0, limit=10)
        assert (empty_page, total) == ([], 0)


def test_open_application_ids_skip_closed_statuses(engine: Engine) -> None:
    _seed_list(engine)
    with session_scope(engine) as session:
        save_application(session, application_record("GK-2026-000006", status="withdrawn"), [])
        save_application(session, application_record("GK-2026-000007", status="abandoned"), [])
    with session_scope(engine) as session:
        assert open_application_ids(session) == [
            "GK-2026-000001",
            "GK-2026-000002",
            "GK-2026-000003",
            "GK-2026-000005",
        ]


def test_calendar_years_upsert(engine: Engine) -> None:
    schedule_2026 = {
        "holidays": ["2026-01-01"],
        "makeup_workdays": ["2026-01-04"],
        "source": "国办发明电",
        "published_on": "2025-11-04",
    }
    schedule_2027 = {"holidays": [], "makeup_workdays": [], "source": "draft", "published_on": "2026-11-01"}
    with session_scope(engine) as session:
        store_calendar_year(session, 2027, schedule_2027, "admin")
        store_calendar_year(session, 2026, {**schedule_2026, "source": "draft"}, "admin")
    with session_scope(engine) as session:
        store_calendar_year(session, 2026, schedule_2026, "supervisor")
    with session_scope(engine) as session:
        years = published_calendar_years(session)
    assert [y["year"] for y in years] == [2026, 2027]
    assert years[0] == {**schedule_2026, "year": 2026}


def test_a_sent_message_stays_sent(engine: Engine) -> None:
    def attempt(status: str, error: str | None = None) -> OutboundMessage:
        return OutboundMessage(
            key="GK-2026-000001:reply",
            application_id="GK-2026-000001",
            kind="reply",
            method="email",
            recipient_name="张三",
            email="zhangsan@example.cn",
            subject="答复",
            body="正文",
            status=status,
            attempts=1,
            last_error=error,
        )

    with session_scope(engine) as session:
        failed = record_outbound_message(session, attempt("failed", "connection refused"))
        assert (failed.status, failed.attempts, failed.last_error) == ("failed", 1, "connection refused")
    with session_scope(engine) as session:
        sent = record_outbound_message(session, attempt("sent"))
        assert (sent.status, sent.attempts, sent.last_error) == ("sent", 2, None)
    with session_scope(engine) as session:
        record_outbound_message(session, attempt("failed", "late duplicate"))
    with session_scope(engine) as session:
        stored = get_outbound_message(session, "GK-2026-000001:reply")
        assert stored is not None and (stored.status, stored.attempts) == ("sent", 2)


def test_timestamps_come_back_timezone_aware(engine: Engine) -> None:
    shanghai_event = event_record(1).model_copy(update={"at": datetime(2026, 3, 2, 17, 30, tzinfo=SHANGHAI)})
    with session_scope(engine) as session:
        save_application(session, application_record(), [shanghai_event])
    with session_scope(engine) as session:
        [stored] = get_events(session, "GK-2026-000001")
        application = session.get(Application, "GK-2026-000001")
    assert stored.at == datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    assert application is not None and application.updated_at.tzinfo is not None
