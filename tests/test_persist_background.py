"""Issue 12 point 4: the database copy never blocks a staff action.

A stack of its own on the real Temporal server: the API and the worker's activities use two engines on
the same database, and the test breaks the worker's engine (every statement raises, as during an outage)
for as long as it likes. A staff action answers at once and the live view shows it; the listing row
catches up once the database is back. (The version guard against late, older copies is unit-tested on
SQLite and PostgreSQL in tests/test_db.py.)
"""

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy import event, text
from sqlalchemy.exc import OperationalError
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from api.main import create_app
from core.config import Settings
from worker import build_worker
from db.session import init_db, make_engine
from tests.conftest import SECURITY_SETTINGS, fresh_database, staff_client
from tests.fixtures_smtp import SmtpServer
from tests.helpers import StaffClient, act, add_staff, register, seed_test_users, state


class Outage:
    """Makes every statement on one engine fail while `down` is true."""

    def __init__(self, engine) -> None:
        self.down = False
        self.refused = 0
        event.listen(engine, "before_cursor_execute", self._check)

    def _check(self, conn, cursor, statement, parameters, context, executemany) -> None:
        if self.down:
            self.refused += 1
            raise OperationalError(statement, parameters, Exception("injected outage: database unavailable"))


@pytest_asyncio.fixture
async def stack(env: WorkflowEnvironment, client: Client, mailbox: SmtpServer, tmp_path: Path) -> AsyncIterator[tuple[StaffClient, Outage, object]]:
    with fresh_database(tmp_path, "outage") as database_url:
        own = Settings(
            data_dir=tmp_path, database_url=database_url, task_queue=f"outage-{uuid.uuid4()}",
            smtp_host=mailbox.host, smtp_port=mailbox.port,
            application_number_prefix=f"O{uuid.uuid4().hex[:6].upper()}",
            **SECURITY_SETTINGS,
        )
        api_engine, worker_engine = make_engine(database_url), make_engine(database_url)
        init_db(api_engine)
        outage = Outage(worker_engine)
        try:
            async with build_worker(client, own, worker_engine):
                app = create_app(own, client=client, engine=api_engine)
                seed_test_users(api_engine)
                async with staff_client(app, env) as http:
                    yield http, outage, api_engine
        finally:
            outage.down = False
            worker_engine.dispose()
            api_engine.dispose()


def listed_handler(engine, application_id: str) -> tuple[str | None, int]:
    with engine.connect() as connection:
        return tuple(connection.execute(text("SELECT handler, version FROM application WHERE id = :id"),
                                        {"id": application_id}).one())


def listed_events(engine, application_id: str) -> list[str]:
    with engine.connect() as connection:
        return list(connection.execute(text("SELECT kind FROM application_event WHERE application_id = :id ORDER BY seq"),
                                       {"id": application_id}).scalars())


async def wait_until(check, timeout: float = 60.0):
    import asyncio

    deadline = asyncio.get_running_loop().time() + timeout
    while not (result := check()):
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not reached")
        await asyncio.sleep(0.25)
    return result


async def test_a_staff_action_answers_during_a_database_outage_and_the_row_catches_up(stack) -> None:
    import asyncio

    api, outage, api_engine = stack
    app_id = (await register(api, handler=None, department=None))["application_id"]
    # the workflow's own first write done (its version is set): the row is the workflow's
    await wait_until(lambda: listed_handler(api_engine, app_id)[1] > 0)

    outage.down = True
    try:
        handler = add_staff(api, f"li-{uuid.uuid4().hex[:6]}", ["handler"], "综合统计科")
        # the update answers although the activity cannot write (before: it waited, retrying forever)
        assigned = await asyncio.wait_for(
            act(api, app_id, "assign", {"handler": handler, "department": "综合统计科", "by": "desk-chen"}), timeout=20)
        assert assigned["handler"] == handler
        assert (await state(api, app_id))["handler"] == handler
        assert [e["kind"] for e in (await state(api, app_id))["timeline"]][-1] == "assigned"
        await wait_until(lambda: outage.refused > 0, timeout=30)  # the background write was tried and refused
        await asyncio.sleep(2)
        assert listed_handler(api_engine, app_id)[0] is None  # the copy is behind while the database is down
        assert "assigned" not in listed_events(api_engine, app_id)
    finally:
        outage.down = False

    # the database is back: the row and the timeline catch up (the activity's retry)
    row = await wait_until(lambda: (r := listed_handler(api_engine, app_id))[0] == handler and r, timeout=90)
    assert row[1] > 0
    await wait_until(lambda: "assigned" in listed_events(api_engine, app_id), timeout=30)
    listed = (await api.get("/api/v1/applications", params={"handler": handler})).json()
    assert [r["application_id"] for r in listed["items"]] == [app_id]


async def test_an_application_listed_by_the_api_is_written_once_on_its_way_to_the_acknowledgment(stack, client) -> None:
    """Issue 15 point 2: the API lists the row and the registration event itself, so the workflow's first
    database write is the acknowledgment's, made by the letter's own activity in the transaction that records
    the send (workflows/delivery.py LETTER_WITH_RECORD): no persist activity until then, and the copy is
    complete; the letter itself is one activity."""
    import asyncio

    from temporalio.api.enums.v1 import EventType

    api, _, api_engine = stack
    app_id = (await register(api))["application_id"]
    await wait_until(lambda: "letter-sent" in listed_events(api_engine, app_id), timeout=90)
    assert listed_events(api_engine, app_id)[0] == "registered"
    assert listed_handler(api_engine, app_id)[1] > 0  # the workflow's versioned row
    history = (await client.get_workflow_handle(app_id).fetch_history()).events
    activities = [e.activity_task_scheduled_event_attributes.activity_type.name for e in history
                  if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED]
    # The acknowledgment is composed, issued, sent and recorded by one activity (workflows/delivery.py).
    assert activities == ["deliver_letter"], activities
    # The live timeline and the stored one agree (the event the activity wrote is the workflow's own).
    for _ in range(100):
        live = [(e["seq"], e["kind"], e["summary"]) for e in (await state(api, app_id))["timeline"]]
        if any(kind == "letter-sent" for _, kind, _ in live):
            break
        await asyncio.sleep(0.1)
    with api_engine.connect() as conn:
        stored = [tuple(r) for r in conn.execute(text(
            "SELECT seq, kind, summary FROM application_event WHERE application_id = :a ORDER BY seq"), {"a": app_id})]
    assert stored == live, (stored, live)
    # One patch marker (and its search-attribute upsert) for a new workflow; the timer; the letter; 3 tasks.
    assert len(history) <= 13, [EventType.Name(e.event_type) for e in history]


async def test_a_staff_action_while_the_acknowledgment_goes_out_is_stored_after_it(stack, mailbox, monkeypatch) -> None:
    """Issue 15 point 2: the acknowledgment's activity writes the record with its letter-sent event; a staff action
    that lands while the letter is at the mail server is neither lost nor overwritten: it is stored after the
    letter's event, and the stored timeline is the live one, seq for seq."""
    import asyncio
    import threading

    api, _, api_engine = stack
    arrived, release = threading.Event(), threading.Event()
    deliver = mailbox.handler.handle_DATA

    async def held(server, session, envelope):  # the mail server answers DATA once the test says so
        arrived.set()
        while not release.is_set():
            await asyncio.sleep(0.05)
        return await deliver(server, session, envelope)

    monkeypatch.setattr(mailbox.handler, "handle_DATA", held)
    app_id = (await register(api, handler=None, department=None))["application_id"]
    await wait_until(arrived.is_set, timeout=60)
    handler = add_staff(api, f"li-{uuid.uuid4().hex[:6]}", ["handler"], "综合统计科")
    assigned = await asyncio.wait_for(
        act(api, app_id, "assign", {"handler": handler, "department": "综合统计科", "by": "desk-chen"}), timeout=20)
    assert assigned["handler"] == handler
    release.set()

    await wait_until(lambda: {"letter-sent", "assigned"} <= set(listed_events(api_engine, app_id)), timeout=60)
    await wait_until(lambda: listed_handler(api_engine, app_id)[0] == handler, timeout=30)
    live = [(e["seq"], e["kind"], e["summary"]) for e in (await state(api, app_id))["timeline"]]
    with api_engine.connect() as conn:
        stored = [tuple(r) for r in conn.execute(text(
            "SELECT seq, kind, summary FROM application_event WHERE application_id = :a ORDER BY seq"), {"a": app_id})]
    assert stored == live, (stored, live)
    assert [kind for _, kind, _ in live] == ["registered", "letter-sent", "assigned"]
