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
from workflows.calendar_broadcast import CalendarBroadcastBatchesWorkflow, CalendarBroadcastInput
from workflows.messages import CalendarYearPublished

# Date-sensitive like test_calendar_publication: the year told must be unpublished for these applications.
pytestmark = pytest.mark.dates

OPEN, BATCH = 12, 5  # three pages: 5, 5 and 2


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
        assert all(str(this_year) in e["summary"] for e in after["timeline"] if e["kind"] == "calendar-updated")
    grown = {i: len((await client.get_workflow_handle(i).fetch_history()).events) - before[i] for i in ids}
    # The catch-up: one update and its workflow task, the persist activity, a search-attribute upsert if one changed.
    assert max(grown.values()) <= 20, grown

    # The first run recounted one page and handed its cursor on: its history holds that page, not all twelve.
    first = await client.get_workflow_handle(handle.id, run_id=handle.first_execution_run_id).fetch_history()
    assert first.events[-1].event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW
    assert len(first.events) <= 2 * BATCH + 20
