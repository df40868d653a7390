"""The calendar broadcast at scale: pages of open applications, continue-as-new, bounded histories."""

import asyncio
import uuid
from datetime import date

import pytest
from temporalio.api.enums.v1 import EventType

from tests.calendars import fictional_schedule, listed_with_clock, settled_history
from db.repository import store_calendar_year
from db.session import session_scope
from tests.helpers import eventually, listed_row, register, state, today
from workcalendar import YearSchedule
from contracts.calendar import CalendarBroadcastInput, CalendarYearPublished
from workflows.calendar_broadcast import CalendarBroadcastBatchesWorkflow

# The tests through the server are date-sensitive like test_calendar_publication (the year told must be
# unpublished for these applications): marker `dates`. The others read no clock.

OPEN, BATCH = 12, 5  # three pages: 5, 5 and 2


@pytest.mark.dates
async def test_a_broadcast_over_more_applications_than_a_page_reaches_all_and_continues_as_new(
    isolated_api, unpublished_from, client
):
    api = isolated_api
    this_year = today().year
    unpublished_from(this_year)
    api.app.state.calendar.refresh()
    ids = [(await register(api))["application_id"] for _ in range(OPEN)]
    # Each waits on its deadline timers once its acknowledgment is out: measure its history from then.
    await asyncio.gather(*(eventually(api, i, lambda s: "letter-sent" in {e["kind"] for e in s["timeline"]}, 60)
                           for i in ids))
    for i in ids:
        await listed_with_clock(api, i)
    before = {i: len(await settled_history(client.get_workflow_handle(i))) for i in ids}
    views = {i: await state(api, i) for i in ids}
    versions = {i: views[i]["due"]["calendar_version"] for i in ids}
    dues = {i: views[i]["due"]["due_on"] for i in ids}

    fact = CalendarYearPublished(schedule=YearSchedule.model_validate(fictional_schedule(this_year) | {"year": this_year}))
    with session_scope(api.app.state.engine) as session:  # published: the broadcast tells what the database holds
        store_calendar_year(session, this_year, fact.schedule.model_dump(mode="json"), "admin")
    handle = await client.start_workflow(
        CalendarBroadcastBatchesWorkflow.run, CalendarBroadcastInput(fact=fact, batch_size=BATCH),
        id=f"calendar-broadcast-test-{uuid.uuid4()}", task_queue=api.app.state.settings.task_queue,
    )
    result = await handle.result()
    # Issue 15 point 4: every page recounted in the database copy. The published year is what the provisional
    # count assumed (weekends and fixed-date holidays off): no deadline moves, so none is woken; a due date
    # within the year stops being provisional (one in the next year, still unpublished, stays provisional).
    within = {i for i in ids if date.fromisoformat(dues[i]).year == this_year}
    assert (result.recounted, result.moved, result.told, result.gone, result.runs) == (OPEN, len(within), 0, 0, 3)
    for i in ids:
        row = await listed_row(api, i, lambda r, i=i: r["due_provisional"] == (i not in within))
        assert row["due_on"] == dues[i]
    grown = {i: len((await client.get_workflow_handle(i).fetch_history()).events) - before[i] for i in ids}
    assert set(grown.values()) == {0}, grown  # not woken: their histories are as they were

    for i in ids:
        # Staff opening one see it count on the published year (it catches up first: its due date is final now,
        # which its timeline explains, naming the year).
        after = await eventually(api, i, lambda s, i=i: s["due"]["calendar_version"] != versions[i])
        assert after["due"]["provisional"] == (i not in within)
        updated = [e["summary"] for e in after["timeline"] if e["kind"] == "calendar-updated"]
        if i in within:  # its due date became final: the timeline says so, naming the year
            assert updated and all(str(this_year) in summary for summary in updated), updated
        else:  # due next year, still provisional and unmoved: nothing to tell
            assert updated == [], updated
    grown = {i: len((await client.get_workflow_handle(i).fetch_history()).events) - before[i] for i in ids}
    # The catch-up: one update and its workflow task, the persist activity, a search-attribute upsert if one changed.
    assert max(grown.values()) <= 20, grown

    # The first run recounted one page and handed its cursor on: its history holds that page, not all twelve.
    first = await client.get_workflow_handle(handle.id, run_id=handle.first_execution_run_id).fetch_history()
    assert first.events[-1].event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW
    assert len(first.events) <= 2 * BATCH + 20


@pytest.mark.dates
async def test_wakes_deferred_beyond_the_lead_are_sent_in_pages_when_due_by_a_broadcaster_of_bounded_runs(
    isolated_api, unpublished_from, client
):
    """Issue 15 point 4 (DEFERRED_WAKE): a make-up working day moves every application's next wake-up earlier, but
    beyond the broadcaster's lead: none is signalled at publication (their histories do not grow) while the list
    shows their moved dates; once due, the broadcaster signals them a page per run, then ends."""
    from datetime import timedelta

    from sqlmodel import Session, select

    from core import clock
    from db.models import CalendarWake
    from tests.test_calendar_recount import _new_wake_at, _query
    from workcalendar.schedule import FIXED_DATE_HOLIDAYS

    api, n = isolated_api, 5
    this_year = today().year
    unpublished_from(this_year)
    api.app.state.calendar.refresh()
    ids = [(await register(api, received_on=today().isoformat()))["application_id"] for _ in range(n)]
    views = {i: await eventually(api, i, lambda s: "letter-sent" in {e["kind"] for e in s["timeline"]}, 60)
             for i in ids}
    copies = {i: await listed_with_clock(api, i) for i in ids}
    before = {i: len(await settled_history(client.get_workflow_handle(i))) for i in ids}
    dues = {i: views[i]["due"]["due_on"] for i in ids}

    start = date.fromisoformat(views[ids[0]]["due"]["start_on"])
    saturday = start + timedelta(days=(5 - start.weekday()) % 7 or 7)
    while (saturday.month, saturday.day) in FIXED_DATE_HOLIDAYS:
        saturday += timedelta(days=7)
    year = saturday.year
    body = fictional_schedule(year, makeup_workdays=[saturday])
    wake_at = min(_new_wake_at(api, copies[i], body, year) for i in ids)
    margin = timedelta(seconds=20)
    lead = wake_at - clock.now() - margin  # due `margin` from now: not at publication

    schedule = YearSchedule.model_validate(body | {"year": year})
    previous = api.app.state.calendar.current().years.get(year)
    with session_scope(api.app.state.engine) as session:
        store_calendar_year(session, year, schedule.model_dump(mode="json"), "admin")
    api.app.state.calendar.refresh()
    handle = await client.start_workflow(
        CalendarBroadcastBatchesWorkflow.run,
        CalendarBroadcastInput(fact=CalendarYearPublished(schedule=schedule), previous=previous, batch_size=2,
                               wake_lead_seconds=lead.total_seconds(), wake_batch_size=2),
        id=f"calendar-broadcast-test-{uuid.uuid4()}", task_queue=api.app.state.settings.task_queue,
    )
    for _ in range(300):  # every page recounted: it waits to wake them
        progress = await handle.query("progress")
        if progress["waking"]:
            break
        await asyncio.sleep(0.1)
    assert (progress["told"], progress["deferred"], progress["recounted"]) == (0, n, n)
    grown = {i: len((await client.get_workflow_handle(i).fetch_history()).events) - before[i] for i in ids}
    assert set(grown.values()) == {0}, grown  # none signalled at publication
    for i in ids:  # the list shows each moved date at once
        row = await listed_row(api, i, lambda r, i=i: r["due_on"] != dues[i])
        assert row["due_on"] < dues[i]

    result = await handle.result()
    assert clock.now() < wake_at
    assert (result.told, result.deferred, result.woken, result.gone) == (0, n, n, 0)
    for i in ids:  # each woken: the workflow itself counts on the published year
        view = await _query(client, i, lambda v, i=i: v["due"]["due_on"] != dues[i])
        assert view["due"]["due_on"] < dues[i]
    with Session(api.app.state.engine) as session:
        assert session.exec(select(CalendarWake).where(CalendarWake.broadcast_id == handle.id)).all() == []

    # Its runs: 3 pages recounted, a wait, 3 pages of wakes, the end; each run's history small.
    run_id, sizes = handle.first_execution_run_id, []
    while run_id:
        history = await client.get_workflow_handle(handle.id, run_id=run_id).fetch_history()
        sizes.append(len(history.events))
        last = history.events[-1]
        run_id = (last.workflow_execution_continued_as_new_event_attributes.new_execution_run_id
                  if last.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW else None)
    assert len(sizes) == result.runs >= 7 and max(sizes) <= 30, sizes


def test_deferred_wakes_are_read_in_instant_order_past_the_cursor_and_forgotten(engine):
    """The broadcaster's keyset over its deferred wakes: every one read once, in (wake_at, id) order, ties
    included, only those due, and the next instant when none is."""
    from datetime import datetime, timedelta, timezone

    from db import repository

    broadcast = f"calendar-broadcast-test-{uuid.uuid4()}"
    t = datetime(2031, 3, 4, 1, 0, tzinfo=timezone.utc)
    wakes = [("B", t), ("A", t), ("C", t + timedelta(hours=1)), ("D", t + timedelta(days=2))]
    with session_scope(engine) as session:
        repository.defer_calendar_wakes(session, broadcast, wakes)
        repository.defer_calendar_wakes(session, broadcast, wakes[:1])  # a page recounted again
        repository.defer_calendar_wakes(session, f"{broadcast}-other", [("A", t - timedelta(days=1))])
    seen, after = [], None
    with session_scope(engine) as session:
        while page := repository.due_calendar_wakes(session, broadcast, after, t + timedelta(days=1), 2):
            seen += page
            after = (page[-1][1], page[-1][0])
        assert [i for i, _ in seen] == ["A", "B", "C"] and all(w.tzinfo is not None for _, w in seen)
        assert repository.next_calendar_wake(session, broadcast, after) == t + timedelta(days=2)
        assert repository.forget_calendar_wakes(session, broadcast) == 4
        assert repository.next_calendar_wake(session, broadcast, None) is None
        assert repository.forget_calendar_wakes(session, f"{broadcast}-other") == 1


def test_a_broadcast_input_and_result_written_before_deferred_wakes_still_decode():
    """A broadcast continued-as-new (or finished) before DEFERRED_WAKE carries payloads without its fields."""
    from contracts.calendar import WAKE_LEAD, CalendarBroadcastResult

    year = today().year
    old_input = {"fact": {"schedule": fictional_schedule(year) | {"year": year}}, "batch_size": 1000, "after": "GK-1",
                 "told": 2, "gone": 0, "runs": 3, "previous": None, "recounted": 3000, "moved": 12}
    inp = CalendarBroadcastInput.model_validate(old_input)
    assert (inp.waking, inp.deferred, inp.woken, inp.wake_after) == (False, 0, 0, None)
    assert inp.wake_lead_seconds == WAKE_LEAD.total_seconds()
    result = CalendarBroadcastResult.model_validate({"told": 2, "gone": 0, "runs": 4, "recounted": 3500, "moved": 12})
    assert (result.deferred, result.woken) == (0, 0)
