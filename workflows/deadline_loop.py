"""The deadline, reminder and escalation loop shared by the 政务公开 workflows (workflows/proactive.py:
catalogue items and public-opinion events; workflows/corrections.py: corrections).

Each workflow keeps its own state; this module only runs the one re-armed timer: wait until the next
alert instant (the earliest pending reminder or escalation, absolute) or until a human step changes
something, whichever comes first; at the instant, fire the alert; loop while the process is open.
The commands it produces are exactly those the workflows produced before it was extracted
(tests/histories/proactive_*.json, correction_*.json replay them).

A published calendar year (issue 13; services/calendar.py tells the open processes through
workflows/proactive_calendar.py): `newer_calendar` gives the data to recount on, `recounted` the
deadline with every move explained (`moved_note`) and the timeline entries to record; the workflow records
them and bumps its change counter, so the one timer is re-armed on the new instant.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta
from typing import Generic, TypeVar

from workflows import policies
from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.disclosure import DisclosureActivities
    from contracts.models import StaffAlertInput
    from workcalendar import CalendarData
    from contracts.calendar import CalendarYearPublished

ACTIVITY_TIMEOUT = policies.ACTIVITY_TIMEOUT
ALERT_RETRY = policies.DATABASE
ONE_SECOND = timedelta(seconds=1)
# Issue 13: a published calendar year moves the working-day deadlines of catalogue items, interpretations
# and corrections. Processes started before (their histories may hold a calendar signal no handler
# consumed) ignore it on replay.
CALENDAR_MOVES = "proactive-calendar-moves"

T = TypeVar("T")
D = TypeVar("D")  # a deadline model with due_on, provisional and steps (DueDate, proactive.rules.Deadline)


class Pending(Generic[T]):
    """The next alert: its absolute instant and what to fire then."""

    __slots__ = ("at", "what")

    def __init__(self, at: datetime, what: T) -> None:
        self.at, self.what = at, what


async def run_deadline_loop(
    *,
    open_: Callable[[], bool],
    changes: Callable[[], int],
    next_alert: Callable[[], Pending[T] | None],
    fire: Callable[[T], Awaitable[None]],
) -> None:
    """While `open_()`: one timer on the next alert instant, re-armed whenever `changes()` moves (an
    update ran); nothing pending: wait for a change. Returns when every handler has finished."""
    while open_():
        seen = changes()
        pending = next_alert()
        if pending is None:
            await workflow.wait_condition(lambda: changes() != seen)
            continue
        try:
            await workflow.wait_condition(lambda: changes() != seen,
                                          timeout=max(pending.at - workflow.now(), ONE_SECOND))
        except asyncio.TimeoutError:
            await fire(pending.what)
    await workflow.wait_condition(workflow.all_handlers_finished)


def reminder_or_escalation(reminded: bool, supervisor_email: str | None) -> tuple[str, str, str | None]:
    """(kind, role, recipient): the first alert reminds the handler, the next escalates to the supervisor."""
    if not reminded:
        return "reminder", "handler", None
    return "escalation", "supervisor", supervisor_email


async def raise_staff_alert(inp: StaffAlertInput) -> None:
    """The alert row and its e-mail (activities: idempotent on `inp.key`)."""
    await workflow.execute_activity_method(
        DisclosureActivities.raise_staff_alert, inp, start_to_close_timeout=ACTIVITY_TIMEOUT, retry_policy=ALERT_RETRY)


def newer_calendar(current: CalendarData, fact: CalendarYearPublished) -> CalendarData | None:
    """The calendar data with the published year, or None: the same data (already counted on it), or a
    history recorded before the process recounted on publication (replays as it ran)."""
    data = current.with_year(fact.schedule)
    if data.version == current.version:
        return None
    if not workflow.patched(CALENDAR_MOVES):
        return None
    return data


def moved_note(what: str, old: date, new: date, fact: CalendarYearPublished) -> str:
    """The explanation of one move, on the timeline and in the deadline's steps."""
    return f"{what}由 {old.isoformat()} 重新计算为 {new.isoformat()}（{fact.schedule.year} 年放假安排公布）"


def recounted(what: str, before: D, after: D, moves: list[str], fact: CalendarYearPublished,
              version: str) -> tuple[D, list[tuple[str, str]]]:
    """A deadline recounted on a published year (issue 13): `after` with its steps naming every move so far
    (`moves`, appended to when it moved), and the timeline entries to record: none when it still ends on the
    same day with the same provisional state (its explanation now names the published calendar)."""
    moved = after.due_on != before.due_on
    if moved:
        moves.append(moved_note(what, before.due_on, after.due_on, fact))
    explained = after.model_copy(update={"steps": [*after.steps, *moves]})
    if (after.due_on, after.provisional) == (before.due_on, before.provisional):
        return explained, []
    entries = [("calendar-updated", f"{fact.schedule.year} 年放假安排已公布（{version}）")]
    if moved:
        entries.append(("due-date-changed", moves[-1]))
    return explained, entries
