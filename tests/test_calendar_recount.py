"""Issue 15 point 4: a published year is recounted from the database copy; an application is woken at
publication only when its next deadline comes earlier. Real server (per-workflow time skipping), isolated stack.

- a year that moves an application's dates later: the list shows the new due date at once, with the reason; the
  application is not signalled (its history is unchanged); when its old timer fires it counts on the new year,
  reminds nobody early, and reminds the handler at the new instant;
- a year that moves them earlier (a make-up working day): the application's new wake-up within the broadcaster's
  lead: it is woken at publication; beyond it: not woken at publication (the list shows the moved dates at once),
  and the broadcaster wakes it a lead before its new wake-up; either way it reminds the handler at the new,
  earlier instant;
- staff opening an application not yet woken see it count on the published year, and an action on one counts
  its deadlines on it.
"""

import asyncio
import uuid
from datetime import date, timedelta

import pytest

from clock import add_working_days_from, at_local_time, end_of_day_instant, reminder_date
from tests.calendars import calendar_before, fictional_schedule, listed_with_clock, settled_history
from tests.helpers import act, listed_row, register, state, today
from core import clock
from tests.test_evidence import assert_replays
from tests.test_replay import replayer
from workcalendar import CalendarData, WorkCalendar, YearSchedule
from workcalendar.schedule import FIXED_DATE_HOLIDAYS
from contracts.application_view import ApplicationView
from contracts.intake import AssignHandler

# Date-sensitive: the Makefile runs this module again with the clock pinned (tests/dates.py).
pytestmark = pytest.mark.dates

REMINDER_DAYS = 3  # Settings.reminder_days_before_due (the tests' settings keep the default)


async def _publish(api, client, years, **changes) -> dict:
    """Publish each year; the broadcasts' tallies added up."""
    total = {"told": 0, "moved": 0, "recounted": 0, "deferred": 0}
    for year in years:
        published = await api.put(f"/api/v1/calendar/years/{year}", json=fictional_schedule(year, **changes),
                                  headers=api.as_user("admin"))
        assert published.status_code == 200, published.text
        result = await _recounted(client, published.json()["open_applications_notified_by"])
        total = {k: total[k] + result[k] for k in total}
        if result["told"]:
            await _copies_caught_up(api)
    return total


async def _recounted(client, broadcast_id: str) -> dict:
    """The broadcast's tally once every page is recounted: its result, or its progress while it waits to signal
    the applications whose wake it deferred (DEFERRED_WAKE)."""
    from temporalio.client import WorkflowExecutionStatus

    handle = client.get_workflow_handle(broadcast_id)
    for _ in range(600):
        if (await handle.describe()).status == WorkflowExecutionStatus.COMPLETED:
            return await handle.result()
        try:
            progress = await handle.query("progress")
        except Exception:  # no workflow task completed yet
            progress = {"waking": False}
        if progress["waking"]:
            return progress
        await asyncio.sleep(0.1)
    raise AssertionError(f"{broadcast_id}: its pages were not recounted")


async def _copies_caught_up(api) -> None:
    """The applications a publication woke have written their copy counted on it. Until then a next publication
    finds their copy counted on a calendar it replaced and wakes them again (the safe fallback), which would
    count them twice in the tally (seen on CI when the second year was published within milliseconds)."""
    from sqlmodel import Session, select

    from db.models import Application

    source = api.app.state.calendar
    for _ in range(300):
        source.refresh()
        with Session(api.app.state.engine) as session:
            rows = session.exec(select(Application.received_on, Application.clock)
                                .where(Application.clock.is_not(None))).all()
        if all(copy["calendar_version"] == source.held_by(received_on.year, copy["years"]).version
               for received_on, copy in rows):
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the woken applications did not write their copies on the published calendar")


async def _query(client, app_id: str, check=lambda view: True, tries: int = 300) -> dict:
    """The workflow's own state, asked directly (the API's detail page would first make it catch up), once
    `check` holds (the workflow acts on a fired timer in a workflow task of its own)."""
    for _ in range(tries):
        view = await client.get_workflow_handle(app_id).query("state")
        if check(view):
            return view
        await asyncio.sleep(0.1)
    raise AssertionError(f"{app_id}: not as expected: {view['due']} {[e['kind'] for e in view['timeline']]}")


def _note(api, app_id: str) -> str | None:
    from sqlmodel import Session

    from db.models import Application

    with Session(api.app.state.engine) as session:
        return session.get(Application, app_id).calendar_note


def _reminder_instant(cal: WorkCalendar, due: dict):
    day = reminder_date(cal, date.fromisoformat(due["due_on"]), REMINDER_DAYS,
                        not_before=date.fromisoformat(due["start_on"]))
    return at_local_time(day, 9)


async def _registered_and_settled(api, client) -> tuple[str, dict]:
    app_id = (await register(api, received_on=today().isoformat()))["application_id"]
    await listed_with_clock(api, app_id)
    await settled_history(client.get_workflow_handle(app_id))
    return app_id, await _query(client, app_id)


async def _settled_on_an_unpublished_year(api, client, unpublished_from) -> tuple[int, str, dict, date, WorkCalendar]:
    """This year made unpublished (provisional counting), an application received today and settled on its
    timers: the year, its number, its view, its due date and the calendar it counts on before a publication."""
    this_year = today().year
    unpublished_from(this_year)
    api.app.state.calendar.refresh()
    app_id, view = await _registered_and_settled(api, client)
    return this_year, app_id, view, date.fromisoformat(view["due"]["due_on"]), WorkCalendar(calendar_before(this_year))


async def test_a_year_moving_dates_later_updates_the_list_without_waking_the_application(
        isolated_api, unpublished_from, client, env):
    api = isolated_api
    this_year, app_id, view, old_due, before_cal = await _settled_on_an_unpublished_year(api, client, unpublished_from)
    old_reminder = _reminder_instant(before_cal, view["due"])
    handle = client.get_workflow_handle(app_id)
    history = len(await settled_history(handle))

    # One more day off on the first working day of the period: every date of it moves one working day later.
    day_off = before_cal.add_workdays(date.fromisoformat(view["due"]["start_on"]), 1)[0]
    result = await _publish(api, client, range(this_year, old_due.year + 2), extra_days_off=[day_off])
    assert result["told"] == 0 and result["moved"] >= 1
    new_cal = WorkCalendar(api.app.state.calendar.since(this_year))
    row = await listed_row(api, app_id, lambda r: r["due_on"] != old_due.isoformat())
    assert date.fromisoformat(row["due_on"]) > old_due
    note = _note(api, app_id)  # the copy says why, until the application records it on its timeline
    assert f"答复期限由 {old_due} 重新计算为 {row['due_on']}" in note and str(day_off.year) in note
    # Not woken: its history is what it was, and it still counts on the old calendar...
    assert len((await handle.fetch_history()).events) == history
    assert (await _query(client, app_id))["due"]["due_on"] == old_due.isoformat()

    # ...until its timer fires at the old reminder's instant: it counts on the published year, reminds nobody yet.
    now = await env.get_current_time(handle)
    await env.fast_forward(handle, old_reminder - now + timedelta(minutes=5))
    woken = await _query(client, app_id, lambda v: v["due"]["due_on"] != old_due.isoformat())
    kinds = [e["kind"] for e in woken["timeline"]]
    assert woken["due"]["due_on"] == row["due_on"] and "due-date-changed" in kinds and "reminder" not in kinds
    listed = await listed_row(api, app_id, lambda r: r["due_on"] == row["due_on"])
    assert listed["due_on"] == row["due_on"]
    for _ in range(100):  # its own write (the events included) replaces the broadcaster's explanation
        if _note(api, app_id) is None:
            break
        await asyncio.sleep(0.1)
    assert _note(api, app_id) is None

    # At the new reminder's instant it reminds the handler of the new due date.
    new_reminder = _reminder_instant(new_cal, woken["due"])
    assert new_reminder > old_reminder
    now = await env.get_current_time(handle)
    await env.fast_forward(handle, new_reminder - now + timedelta(minutes=5))
    reminded = await _query(client, app_id, lambda v: "reminder" in [e["kind"] for e in v["timeline"]])
    reminders = [e for e in reminded["timeline"] if e["kind"] == "reminder"]
    assert len(reminders) == 1 and row["due_on"] in reminders[0]["summary"]
    await assert_replays(client, app_id)  # the catch-up at wake-up (its local activity, its patch) replays


async def _broadcast_year(api, client, schedule: dict, year: int, lead: timedelta):
    """Publish `year` as PUT /api/v1/calendar/years does (stored, then the broadcast started), with the
    broadcaster's lead set by the test."""
    from db.repository import store_calendar_year
    from db.session import session_scope
    from contracts.calendar import RECOUNT_BATCH_SIZE, CalendarBroadcastInput, CalendarYearPublished
    from workflows.calendar_broadcast import CalendarBroadcastBatchesWorkflow

    source = api.app.state.calendar
    source.refresh()
    previous = source.current().years.get(year)
    published = YearSchedule.model_validate(schedule | {"year": year})
    with session_scope(api.app.state.engine) as session:
        store_calendar_year(session, year, published.model_dump(mode="json"), "admin")
    source.refresh()
    broadcast_id = f"calendar-broadcast-test-{uuid.uuid4()}"
    return await client.start_workflow(
        CalendarBroadcastBatchesWorkflow.run,
        CalendarBroadcastInput(fact=CalendarYearPublished(schedule=published), previous=previous,
                               batch_size=RECOUNT_BATCH_SIZE, wake_lead_seconds=lead.total_seconds()),
        id=broadcast_id, task_queue=api.app.state.settings.task_queue,
    )


def _new_wake_at(api, copy: dict, schedule: dict, year: int):
    """The application's next wake-up once `year` is published (the workflow's own pure rules, on its copy)."""
    from application.deadlines import recount_copy, state_from_copy

    source = api.app.state.calendar
    source.refresh()
    held = CalendarData(years={y: source.current().years[y] for y in copy["years"]})  # what it counts on
    new = held.with_year(YearSchedule.model_validate(schedule | {"year": year}))
    return recount_copy(state_from_copy(copy, held), new, year, new.version, clock.now()).wake_at


async def _broadcast_runs(client, broadcast) -> list:
    """The histories of the broadcast's runs, first to last (chained by continue-as-new)."""
    from temporalio.api.enums.v1 import EventType

    run_id, runs = broadcast.first_execution_run_id, []
    while run_id:
        history = await client.get_workflow_handle(broadcast.id, run_id=run_id).fetch_history()
        runs.append(history)
        last = history.events[-1]
        run_id = (last.workflow_execution_continued_as_new_event_attributes.new_execution_run_id
                  if last.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW else None)
    return runs


@pytest.mark.parametrize("within_lead", [True, False], ids=["within-the-lead", "beyond-the-lead"])
async def test_a_year_moving_dates_earlier_wakes_the_application_before_its_new_wake_up(
        isolated_api, unpublished_from, client, env, within_lead):
    from sqlmodel import Session, select

    from db.models import CalendarWake

    api = isolated_api
    this_year, app_id, view, old_due, before_cal = await _settled_on_an_unpublished_year(api, client, unpublished_from)
    old_reminder = _reminder_instant(before_cal, view["due"])
    handle = client.get_workflow_handle(app_id)

    # A make-up working day (a Saturday) inside the period: every date of it moves one working day earlier.
    start = date.fromisoformat(view["due"]["start_on"])
    saturday = start + timedelta(days=(5 - start.weekday()) % 7 or 7)
    while (saturday.month, saturday.day) in FIXED_DATE_HOLIDAYS:  # a day off by law cannot be a make-up day
        saturday += timedelta(days=7)
    # The other years the period touches, as provisional counting assumed them: nothing moves, nobody is woken.
    others = [y for y in range(this_year, old_due.year + 2) if y != saturday.year]
    assert (await _publish(api, client, others))["told"] == 0
    history = len(await settled_history(handle))
    copy = await listed_with_clock(api, app_id)
    schedule = fictional_schedule(saturday.year, makeup_workdays=[saturday])
    wake_at = _new_wake_at(api, copy, schedule, saturday.year)
    assert wake_at < old_reminder  # its timer is later than its new wake-up: it must be woken
    # The broadcaster's lead: the new wake-up within it (woken at publication), or a few seconds beyond it (the
    # broadcaster wakes it `lead` before, a few seconds after publication).
    margin = timedelta(seconds=20)
    lead = wake_at - clock.now() + (timedelta(days=1) if within_lead else -margin)
    published_at = clock.now()
    broadcast = await _broadcast_year(api, client, schedule, saturday.year, lead)
    broadcast_id = broadcast.id
    recounted = await _recounted(client, broadcast_id)

    if within_lead:
        assert (recounted["told"], recounted["deferred"]) == (1, 0)  # woken at publication
    else:
        assert (recounted["told"], recounted["deferred"], recounted["waking"]) == (0, 1, True)
        # Not woken at publication: its history is as it was, it counts on the old calendar...
        assert len((await handle.fetch_history()).events) == history
        assert (await _query(client, app_id))["due"]["due_on"] == old_due.isoformat()
        # ...while the list already shows its moved due date, explained.
        row = await listed_row(api, app_id, lambda r: r["due_on"] != old_due.isoformat())
        assert date.fromisoformat(row["due_on"]) < old_due
        assert f"答复期限由 {old_due} 重新计算为 {row['due_on']}" in _note(api, app_id)
        with Session(api.app.state.engine) as session:
            assert session.exec(select(CalendarWake.application_id).where(
                CalendarWake.broadcast_id == broadcast_id)).all() == [app_id]

    # The broadcaster wakes it before its new wake-up (here: at once, or `lead` before it), then ends.
    woken = await _query(client, app_id, lambda v: v["due"]["due_on"] != old_due.isoformat(), tries=900)
    woken_at = clock.now()
    result = await client.get_workflow_handle(broadcast_id).result()
    assert (result["told"], result["woken"], result["gone"]) == ((1, 0, 0) if within_lead else (0, 1, 0))
    assert woken_at < wake_at
    if not within_lead:
        assert woken_at >= published_at + margin - timedelta(seconds=2)  # not at publication: when it came due
    new_due = date.fromisoformat(woken["due"]["due_on"])
    assert new_due < old_due and "due-date-changed" in [e["kind"] for e in woken["timeline"]]
    row = await listed_row(api, app_id, lambda r: r["due_on"] == new_due.isoformat())
    assert row["due_on"] == new_due.isoformat()
    with Session(api.app.state.engine) as session:  # the broadcast's deferred wakes are gone with it
        assert session.exec(select(CalendarWake).where(CalendarWake.broadcast_id == broadcast_id)).all() == []

    new_cal = WorkCalendar(api.app.state.calendar.since(this_year))
    new_reminder = _reminder_instant(new_cal, woken["due"])
    assert new_reminder == wake_at and new_reminder < old_reminder
    now = await env.get_current_time(handle)
    await env.fast_forward(handle, new_reminder - now + timedelta(minutes=5))
    reminded = await _query(client, app_id, lambda v: "reminder" in [e["kind"] for e in v["timeline"]])
    reminders = [e for e in reminded["timeline"] if e["kind"] == "reminder"]
    assert len(reminders) == 1 and new_due.isoformat() in reminders[0]["summary"]
    assert end_of_day_instant(new_due) > new_reminder
    await assert_replays(client, app_id)

    # The broadcaster's history stays bounded: a run per page, per page of wakes and per wait, each small.
    runs = await _broadcast_runs(client, broadcast)
    assert len(runs) == result["runs"] and max(len(run.events) for run in runs) <= 30, [len(r.events) for r in runs]
    for run in runs:
        assert (await replayer().replay_workflow(run)).replay_failure is None


async def test_staff_see_and_act_on_the_published_year_before_the_application_wakes(
        isolated_api, unpublished_from, client):
    api = isolated_api
    this_year, app_id, view, old_due, before_cal = await _settled_on_an_unpublished_year(api, client, unpublished_from)
    other_id, _ = await _registered_and_settled(api, client)
    third_id, _ = await _registered_and_settled(api, client)
    day_off = before_cal.add_workdays(date.fromisoformat(view["due"]["start_on"]), 1)[0]
    result = await _publish(api, client, range(this_year, old_due.year + 2), extra_days_off=[day_off])
    assert result["told"] == 0
    assert (await _query(client, app_id))["due"]["due_on"] == old_due.isoformat()  # not woken

    # The detail page: the application counts on the published year before it is shown.
    shown = await state(api, app_id)
    assert date.fromisoformat(shown["due"]["due_on"]) > old_due
    assert "due-date-changed" in [e["kind"] for e in shown["timeline"]]
    # An action: the supplement deadline it sets is counted on the published year.
    asked = await act(api, other_id, "supplement-request", {"needed": ["请明确所需信息的时间范围"], "by": "wang"})
    new_cal = WorkCalendar(api.app.state.calendar.since(this_year))
    sent_on = date.fromisoformat(asked["supplement"]["notice_sent_on"])
    assert asked["supplement"]["deadline_on"] == add_working_days_from(new_cal, sent_on, 15)[0].isoformat()
    kinds = [e["kind"] for e in asked["timeline"]]
    assert kinds.index("calendar-updated") < kinds.index("supplement-requested")

    # A change that reaches the workflow without the API (here an update sent straight to it): its write, counted
    # on the old calendar, is refused; it counts on the published year, then writes. The list never goes back.
    moved = await listed_row(api, third_id, lambda r: r["due_on"] != old_due.isoformat())
    await client.get_workflow_handle(third_id).execute_update(
        "assign", AssignHandler(handler="li", by="chief-liu"), result_type=ApplicationView)
    settled = await _query(client, third_id, lambda v: "due-date-changed" in [e["kind"] for e in v["timeline"]])
    assert settled["due"]["due_on"] == moved["due_on"] and settled["handler"] == "li"
    row = await listed_row(api, third_id, lambda r: r["handler"] == "li")
    assert row["due_on"] == moved["due_on"]
