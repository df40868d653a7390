"""The calendar broadcaster's recount of a page of open applications from their database copy, and its deferred
wakes (issue 15 point 4). Blocking (database and CPU): run in a thread by the `recount_open_page` and
`due_calendar_wakes` activities."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine

from contracts.models import DeferredWakes, DeferredWakesPage, RecountPage, RecountPageResult, WakeCursor
from core import clock
from db import repository
from db.session import session_scope
from workcalendar import CalendarData, YearSchedule
from application.deadlines import next_wake_at, recount_copy, state_from_copy

log = logging.getLogger("disclosure.calendar")


def application_calendar(source, received_year: int, years: list[int]) -> CalendarData:
    """The agency's calendar as an application received in `received_year` holds it: the years from its receipt
    on (services/calendar.py `since`), and any earlier year it holds (a correction published after receipt)."""
    source.refresh_if_changed()  # one small query: a year another process published counts at once
    return source.held_by(received_year, years)


def recount_page(engine: Engine, source, page: RecountPage) -> RecountPageResult:
    schedule = YearSchedule.model_validate(page.schedule)
    previous = YearSchedule.model_validate(page.previous) if page.previous is not None else None
    source.refresh_if_changed()
    current = source.current()
    # The calendar before this publication: today's with the year as it was (or without it).
    before = {**current.years}
    if previous is None:
        before.pop(schedule.year, None)
    else:
        before[schedule.year] = previous
    with session_scope(engine) as session:
        rows = repository.open_clock_page(session, page.after, page.limit)
    now = clock.now()
    # DEFERRED_WAKE: a wake-up that moves earlier but stays beyond `soon` is signalled later, by the broadcaster,
    # `lead` before it. Never at or before the broadcaster's cursor among its deferred wakes (`floor`): it reads
    # them in (wake_at, id) order and must find every one still ahead of the cursor.
    wakes = page.wakes  # None: a broadcast started before DEFERRED_WAKE (it signals every earlier wake-up now)
    soon = now + timedelta(seconds=wakes.lead_seconds) if wakes is not None else now
    floor = wakes.after.wake_at if wakes is not None and wakes.after is not None else None
    wake: list[str] = []
    deferred: list[tuple[str, datetime]] = []
    moves: list[dict] = []
    unreadable = 0
    for application_id, version, copy in rows:
        if copy is None:
            wake.append(application_id)  # written before clock copies: the workflow recounts itself
            unreadable += 1
            continue
        years = copy["years"]
        if any(year not in before for year in years):
            wake.append(application_id)
            unreadable += 1
            continue
        old = CalendarData(years={year: before[year] for year in years})
        if old.version != copy["calendar_version"]:
            wake.append(application_id)  # counted on a calendar other than the one just replaced
            unreadable += 1
            continue
        new = old.with_year(schedule)  # what the workflow's calendar_published handler makes of it
        if new.version == old.version:
            continue  # nothing it counts on changed: the workflow would record nothing
        try:
            state = state_from_copy(copy, old)
            old_wake = next_wake_at(state)
            recounted = recount_copy(state, new, schedule.year, new.version, now)
        except Exception:  # a copy this code cannot read: the workflow recounts itself
            log.warning("recount of %s from its copy failed; signalling it", application_id, exc_info=True)
            wake.append(application_id)
            unreadable += 1
            continue
        if recounted.told:
            wake.append(application_id)  # a consultation child's window moved: the application tells it now
            continue
        if recounted.wake_at is not None and (old_wake is None or recounted.wake_at < old_wake):
            # Its timer is later than its new wake-up: it must be signalled before that.
            if wakes is None or recounted.wake_at <= soon or (floor is not None and recounted.wake_at <= floor):
                wake.append(application_id)
                continue
            deferred.append((application_id, recounted.wake_at))
        if recounted.changed:
            moves.append({"id": application_id, "version": version, "due_on": recounted.due_on,
                          "due_provisional": recounted.due_provisional, "overdue": recounted.overdue,
                          "note": recounted.explanation})
    due = None
    if moves or wakes is not None:
        with session_scope(engine) as session:  # the moves and the deferred wakes in one transaction
            repository.move_listed_dates(session, moves)
            if wakes is not None:
                repository.defer_calendar_wakes(session, wakes.broadcast_id, deferred)
                due = due_wakes(session, source, wakes, now)
    return RecountPageResult(read=len(rows), last=rows[-1][0] if rows else page.after, wake=wake,
                             moved=len(moves), unreadable=unreadable, deferred=len(deferred), due=due)


def due_wakes(session, source, wakes: DeferredWakes, now: datetime) -> DeferredWakesPage:
    """The broadcast's deferred wakes after its cursor that are due (their instant within the lead of `now`), or
    when the next one will be."""
    until = now + timedelta(seconds=wakes.lead_seconds)
    after = (wakes.after.wake_at, wakes.after.application_id) if wakes.after is not None else None
    rows = repository.due_calendar_wakes(session, wakes.broadcast_id, after, until, wakes.limit)
    if not rows:
        following = repository.next_calendar_wake(session, wakes.broadcast_id, after)
        return DeferredWakesPage(last=wakes.after, next_in_seconds=None if following is None
                                 else max(0.0, (following - until).total_seconds()))
    schedule = None
    if wakes.year is not None:
        # Signalled with the year as published now: a correction of it published since (whose own broadcast
        # reaches every open application) is not undone by this older fact.
        source.refresh_if_changed()
        published = source.current().years.get(wakes.year)
        schedule = published.model_dump(mode="json") if published is not None else None
    application_id, wake_at = rows[-1]
    return DeferredWakesPage(due=[row[0] for row in rows], last=WakeCursor(wake_at=wake_at, application_id=application_id),
                             schedule=schedule)


def due_page(engine: Engine, source, wakes: DeferredWakes) -> DeferredWakesPage:
    with session_scope(engine) as session:
        return due_wakes(session, source, wakes, clock.now())


def forget_wakes(engine: Engine, broadcast_id: str) -> int:
    with session_scope(engine) as session:
        return repository.forget_calendar_wakes(session, broadcast_id)
