"""The calendar broadcaster's recount of a page of open applications from their database copy (issue 15
point 4). Blocking (database and CPU): run in a thread by the `recount_open_page` activity."""

from __future__ import annotations

import logging

from sqlalchemy.engine import Engine

from contracts.models import RecountPage, RecountPageResult
from core import clock
from db import repository
from db.session import session_scope
from workcalendar import CalendarData, YearSchedule
from workflows.calendar_recount import next_wake_at, recount_copy, state_from_copy

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
    wake: list[str] = []
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
        if recounted.told or (recounted.wake_at is not None and (old_wake is None or recounted.wake_at < old_wake)):
            wake.append(application_id)
            continue
        if recounted.changed:
            moves.append({"id": application_id, "version": version, "due_on": recounted.due_on,
                          "due_provisional": recounted.due_provisional, "overdue": recounted.overdue,
                          "note": recounted.explanation})
    if moves:
        with session_scope(engine) as session:
            repository.move_listed_dates(session, moves)
    return RecountPageResult(read=len(rows), last=rows[-1][0] if rows else page.after, wake=wake,
                             moved=len(moves), unreadable=unreadable)
