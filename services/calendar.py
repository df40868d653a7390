"""The working-day calendar the agency works by, and publishing a year of it.

`CalendarSource` is the calendar a process holds: package data + shipped file + the years published in
the database. Any process may publish (an API replica, `admin.py publish-calendar`), so every holder
checks the database's published years cheaply (`stamp`: year and publication time of each row) and
reloads when they changed: in the background every few seconds (`keep_fresh`, the API's lifespan) and
before each registration (`fresh`), so no due date is computed on a calendar older than the request.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import anyio
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session
from temporalio.client import Client
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from core.config import Settings
from db.models import PublishedCalendarYear
from db.repository import store_calendar_year
from db.session import session_scope
from workcalendar import CalendarData, WorkCalendar, YearSchedule, load_calendar_data, parse_year_schedule
from contracts.calendar import RECOUNT_BATCH_SIZE, CalendarBroadcastInput, CalendarYearPublished, DeadlineBroadcastInput

# The broadcasters are started by their registered names (workflows/calendar_broadcast.py, workflows/proactive_calendar.py)
# with inputs from contracts/: this module is also the worker's calendar (activities/disclosure.py), and activities
# never import workflows/ (tests/test_architecture.py).
CALENDAR_BROADCAST = "CalendarBroadcastBatches"
DEADLINE_BROADCAST = "DeadlineCalendarBroadcast"

log = logging.getLogger("disclosure.calendar")
FIRST_YEAR, LAST_YEAR = 2000, 2100

Stamp = tuple[tuple[int, datetime], ...]


class CalendarError(Exception):
    """A publication refused; the message is for the person who asked (Chinese)."""


class InvalidSchedule(CalendarError):
    """The schedule itself is wrong (a date outside its year, a weekday as make-up day, a missing field)."""


class CalendarSource:
    """The calendar this process works by, reloaded when the published years in the database change."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._data: CalendarData | None = None
        self._stamp: Stamp | None = None
        # Per receipt year, made once per calendar (intake asks on every registration).
        self._since: dict[int, tuple[CalendarData, WorkCalendar]] = {}
        # `fresh`: one database check at a time, shared by the requests that arrived before it started.
        self._checks_started = 0
        self._check: tuple[int, asyncio.Future[bool]] | None = None

    def current(self) -> CalendarData:
        if self._data is None:
            self.refresh()
        assert self._data is not None
        return self._data

    def since(self, year: int) -> CalendarData:
        """Only the years an application received in `year` can touch: keeps workflow inputs small."""
        return self._for_year(year)[0]

    def work_calendar_since(self, year: int) -> WorkCalendar:
        return self._for_year(year)[1]

    def held_by(self, received_year: int, years: list[int]) -> CalendarData:
        """The current calendar as an application received in `received_year` holds it: the years from its
        receipt on (`since`), and any earlier year it holds (a correction published after receipt)."""
        return CalendarData(years={year: s for year, s in self.current().years.items()
                                   if year >= received_year or year in years})

    def _for_year(self, year: int) -> tuple[CalendarData, WorkCalendar]:
        since = self._since  # before current(): a refresh in between leaves the entry in the discarded dict
        cached = since.get(year)
        if cached is None:
            data = CalendarData(years={y: s for y, s in self.current().years.items() if y >= year})
            cached = since[year] = (data, WorkCalendar(data))
        return cached

    # --- staying current (blocking: call from a thread when on the event loop) ------------------

    def refresh(self) -> None:
        """Reload everything (the publishing process, and tests that change the package data)."""
        with Session(self._engine) as session:
            rows = session.execute(select(
                PublishedCalendarYear.year, PublishedCalendarYear.payload, PublishedCalendarYear.published_at,
            ).order_by(PublishedCalendarYear.year)).all()
        published = [parse_year_schedule({**payload, "year": year}) for year, payload, _ in rows]
        data = load_calendar_data(extra=published)
        self._data, self._since, self._stamp = data, {}, tuple((year, at) for year, _, at in rows)

    def stamp(self) -> Stamp:
        """What identifies the published years: each row's year and publication time (a few rows, no payload)."""
        with Session(self._engine) as session:
            rows = session.execute(select(PublishedCalendarYear.year, PublishedCalendarYear.published_at)
                                   .order_by(PublishedCalendarYear.year)).all()
        return tuple((year, at) for year, at in rows)

    def refresh_if_changed(self) -> bool:
        """One cheap query; a reload only when another process (or this one) published since the last load."""
        if self._data is None or self.stamp() != self._stamp:
            before = self._data.version if self._data is not None else None
            self.refresh()
            if before is not None and before != self.current().version:
                log.info("calendar reloaded: version %s (was %s)", self.current().version, before)
            return True
        return False

    # --- on the event loop ------------------------------------------------------------------------

    async def fresh(self) -> None:
        """Return once a database check that started after this call has finished (off the loop).

        Concurrent callers share one check, so a burst of registrations costs one query, not one each.
        """
        arrived = self._checks_started
        while True:
            check = self._check
            if check is not None and check[0] > arrived:
                await asyncio.shield(check[1])  # started after we arrived: its answer is fresh enough
                return
            if check is None or check[1].done():
                self._checks_started += 1
                # A task of its own: a caller that goes away (client disconnect) does not cancel the others' check.
                task = asyncio.ensure_future(anyio.to_thread.run_sync(self.refresh_if_changed))
                task.add_done_callback(lambda t: t.cancelled() or t.exception())  # retrieved: no "never retrieved"
                self._check = (self._checks_started, task)
                await asyncio.shield(task)
                return
            await asyncio.wait([check[1]])  # an older check: wait for it, then start (or join) a newer one

    async def keep_fresh(self, every_seconds: float) -> None:
        """Run for the process's life (API lifespan): pick up other processes' publications."""
        while True:
            try:
                await self.fresh()  # first at once: the calendar is loaded before the first request needs it
            except Exception:  # the database is down: keep the calendar we have, try again later
                log.warning("calendar check failed; keeping version %s", self._data and self._data.version,
                            exc_info=True)
            await asyncio.sleep(every_seconds)


# --- publishing ---------------------------------------------------------------------------------


def parse_schedule(year: int, payload: Mapping[str, Any]) -> YearSchedule:
    """A year's schedule from an admin's input (dates as ISO strings); InvalidSchedule says what is wrong."""
    if not isinstance(year, int) or not FIRST_YEAR <= year <= LAST_YEAR:
        raise InvalidSchedule(f"年度应为 {FIRST_YEAR} 至 {LAST_YEAR} 之间的整数")
    if not isinstance(payload, Mapping):
        raise InvalidSchedule("放假安排有误：应为一个 JSON 对象")
    try:
        return parse_year_schedule({"makeup_workdays": [], **payload, "year": year})
    except ValueError as err:
        raise InvalidSchedule(f"放假安排有误：{err}") from None


@dataclass(frozen=True)
class PublishedYear:
    year: int
    calendar_version: str
    broadcast_id: str  # the workflow telling every open application to recompute its due date


async def publish_year(
    schedule: YearSchedule, *, engine: Engine, client: Client, settings: Settings, published_by: str,
    calendar: CalendarSource | None = None,
) -> PublishedYear:
    """Store (or correct) a year's schedule and tell every open application; idempotent on the data.

    `calendar`: the caller's own CalendarSource, reloaded at once (other processes see it within
    `Settings.calendar_refresh_seconds`, and before their next registration).
    """
    calendar = calendar or CalendarSource(engine)

    def store() -> tuple[str, YearSchedule | None]:
        calendar.refresh()
        previous = calendar.current().years.get(schedule.year)  # what the open applications were counted on
        with session_scope(engine) as session:
            store_calendar_year(session, schedule.year, schedule.model_dump(mode="json"), published_by)
        calendar.refresh()
        return calendar.current().version, previous

    version, previous = await anyio.to_thread.run_sync(store)
    # Once per calendar version and deployment: the task queue names the deployment, so two agencies (or
    # two test stacks) sharing a namespace and publishing the same data each reach their own applications.
    broadcast_id = f"calendar-broadcast-{settings.task_queue}-{version}"
    try:
        await client.start_workflow(
            CALENDAR_BROADCAST,
            CalendarBroadcastInput(fact=CalendarYearPublished(schedule=schedule), previous=previous,
                                   batch_size=RECOUNT_BATCH_SIZE),
            id=broadcast_id, task_queue=settings.task_queue, id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        )
    except WorkflowAlreadyStartedError:
        pass  # the same data was published before; its broadcast already ran
    await tell_open_deadlines(schedule, client=client, settings=settings, version=version)
    return PublishedYear(year=schedule.year, calendar_version=version, broadcast_id=broadcast_id)


async def tell_open_deadlines(schedule: YearSchedule, *, client: Client, settings: Settings, version: str) -> None:
    """Issue 13: the open catalogue items, interpretations and corrections recount their working-day
    deadlines on the published year (workflows/proactive_calendar.py); once per calendar version and deployment."""
    try:
        await client.start_workflow(
            DEADLINE_BROADCAST, DeadlineBroadcastInput(fact=CalendarYearPublished(schedule=schedule)),
            id=f"deadline-calendar-broadcast-{settings.task_queue}-{version}", task_queue=settings.task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        )
    except WorkflowAlreadyStartedError:
        pass  # the same data was published before; its broadcast already ran
