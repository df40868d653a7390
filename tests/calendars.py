"""Calendars the tests make: years left unpublished on purpose, and fictional schedules to publish.

A test that needs an unpublished year makes one (RULES §3: a year not yet published is unknown)
instead of trusting that the installed `chinesecalendar` release still lacks it; `unpublished_from`
(a fixture in conftest.py) drops every year from the given one on from the package data the API
loads. Fictional schedules are test fixtures, never the State Council's.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from workcalendar import CalendarData, YearSchedule, load_calendar_data
from workcalendar.schedule import FIXED_DATE_HOLIDAYS

FICTIONAL_SOURCE = "测试用放假安排（非官方）"


def calendar_before(year: int, from_year: int | None = None) -> CalendarData:
    """The shipped calendar data without any year from `year` on."""
    data = load_calendar_data(from_year=from_year)
    return CalendarData(years={y: s for y, s in data.years.items() if y < year})


def fictional_schedule(year: int, extra_days_off: Iterable[date] = (), makeup_workdays: Iterable[date] = ()) -> dict[str, Any]:
    """A publishable schedule: the fixed-date holidays (which provisional counting already skips) plus
    `extra_days_off` that fall in `year`."""
    holidays = {date(year, m, d) for m, d in FIXED_DATE_HOLIDAYS} | {d for d in extra_days_off if d.year == year}
    return {
        "holidays": sorted(d.isoformat() for d in holidays),
        "makeup_workdays": sorted(d.isoformat() for d in makeup_workdays if d.year == year),
        "source": FICTIONAL_SOURCE,
    }


async def publish_fictional_years(api, years: Iterable[int], day_off: date) -> CalendarData:
    """Publishes through the API, as admin, a fictional schedule for each of `years` with `day_off` added to
    the fixed-date holidays; the calendar data of those years as published."""
    fictional = {year: fictional_schedule(year, extra_days_off=[day_off]) for year in years}
    for year, body in fictional.items():
        published = await api.put(f"/api/v1/calendar/years/{year}", json=body, headers=api.as_user("admin"))
        assert published.status_code == 200, published.text
    return CalendarData(years={y: YearSchedule.model_validate(b | {"year": y}) for y, b in fictional.items()})


async def settled_history(handle) -> list:
    """The workflow's history once it waits with nothing in flight (its last workflow task completed, every
    activity it scheduled completed)."""
    import asyncio

    from temporalio.api.enums.v1 import EventType

    tasks_kinds = (EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED, EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED,
                   EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED)
    for _ in range(100):
        events = (await handle.fetch_history()).events
        kinds = [e.event_type for e in events]
        tasks = [k for k in kinds if k in tasks_kinds]
        if tasks[-1] == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED and \
                kinds.count(EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED) == kinds.count(EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED):
            return events
        await asyncio.sleep(0.2)
    raise AssertionError("the workflow did not settle")


async def listed_with_clock(api, application_id: str) -> dict[str, Any]:
    """The database copy once it holds the application's clock (written with its record in the background),
    the calendar broadcaster's input (issue 15 point 4)."""
    import asyncio

    from sqlmodel import Session

    from db.models import Application

    for _ in range(200):
        with Session(api.app.state.engine) as session:
            row = session.get(Application, application_id)
            if row is not None and row.clock is not None:
                return row.clock
        await asyncio.sleep(0.1)
    raise AssertionError(f"{application_id} has no clock copy in the database")
