"""The calendar broadcast at scale: pages of open applications, continue-as-new, bounded histories."""

import asyncio
import uuid

import pytest
from temporalio.api.enums.v1 import EventType

from tests.calendars import fictional_schedule
from tests.helpers import eventually, register, state, today
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
    before = {i: len((await client.get_workflow_handle(i).fetch_history()).events) for i in ids}
    versions = {i: (await state(api, i))["due"]["calendar_version"] for i in ids}

    fact = CalendarYearPublished(schedule=YearSchedule.model_validate(fictional_schedule(this_year) | {"year": this_year}))
    handle = await client.start_workflow(
        CalendarBroadcastBatchesWorkflow.run, CalendarBroadcastInput(fact=fact, batch_size=BATCH),
        id=f"calendar-broadcast-test-{uuid.uuid4()}", task_queue=api.app.state.settings.task_queue,
    )
    result = await handle.result()
    assert (result.told, result.gone, result.runs) == (OPEN, 0, 3)

    for i in ids:
        # Every application counts on the published year now; one whose dates do not move records nothing
        # on its timeline (issue 15 point 4), one whose dates move says which year was published.
        after = await eventually(api, i, lambda s, i=i: s["due"]["calendar_version"] != versions[i])
        assert all(str(this_year) in e["summary"] for e in after["timeline"] if e["kind"] == "calendar-updated")
    grown = {i: len((await client.get_workflow_handle(i).fetch_history()).events) - before[i] for i in ids}
    # What one signal costs an application, whatever the size of the broadcast (workflows/application.py's
    # handler): the signal, 3 workflow tasks (3 events each), 2 activities (3 each: persisting the new due
    # date, then the due-date change), 2 search-attribute upserts, the deadline timer cancelled and re-armed.
    assert max(grown.values()) <= 20, grown

    # The first run told one page and handed its cursor on: its history holds that page, not all twelve.
    first = await client.get_workflow_handle(handle.id, run_id=handle.first_execution_run_id).fetch_history()
    assert first.events[-1].event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW
    signals = [e for e in first.events
               if e.event_type == EventType.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED]
    assert len(signals) == BATCH
    assert len(first.events) <= 2 * BATCH + 20
    last = await handle.fetch_history()
    assert len([e for e in last.events
                if e.event_type == EventType.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED]) == OPEN - 2 * BATCH
