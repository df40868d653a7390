"""The deadline, reminder and escalation loop shared by the 政务公开 workflows (workflows/proactive.py:
catalogue items and public-opinion events; workflows/corrections.py: corrections; workflows/participation.py
and workflows/inquiry.py: drafts for comment and 在线咨询), and `StaffProcess`, what they share besides it:
the history and alerts, the reminder-then-escalation pair, the calendar recount's recording, the
confidentiality review, refusals and saving the rows.

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
from typing import Any, Generic, TypeVar

from workflows import policies
from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.disclosure import DisclosureActivities
    from clock import local_date
    from contracts.models import PrescreenText, StaffAlertInput
    from screening.prescreen import prescreen_texts
    from workcalendar import CalendarData
    from contracts.calendar import CalendarYearPublished

ACTIVITY_TIMEOUT = policies.ACTIVITY_TIMEOUT
ALERT_RETRY = policies.DATABASE
PERSIST_RETRY = policies.DATABASE
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


# --- what every 政务公开 process shares (proactive.py, participation.py, corrections.py) ----------------


def refuse(reason: str | None) -> None:
    """An Update's validator refuses: 409 with the reason, before anything is written to history."""
    if reason:
        raise ApplicationError(reason, type="ActionNotAllowed", non_retryable=True)


def why_not_url(url: str) -> str | None:
    if not (url.startswith("/") or url.startswith("https://") or url.startswith("http://")):
        return "公开网址应以 / 或 http(s):// 开头"
    return None


def why_not_review(cmd, author: str | None, *, nothing: str | None, own: str) -> str | None:
    """A review (谁签发、谁把关): `nothing` says why nothing awaits it; the author never reviews their own
    work (`own` names them); a return says why."""
    if nothing:
        return nothing
    if cmd.by == author:
        return f"{own}（谁签发、谁把关）"
    if not cmd.approve and len(cmd.comment.strip()) < 2:
        return "退回须说明理由"
    return None


def prescreened(*texts: tuple[str, str]):
    """The automatic pre-screen (pure; RULES §14): what the confidentiality reviewer must look at."""
    return prescreen_texts([PrescreenText(label=label, text=text) for label, text in texts],
                           today=local_date(workflow.now()))


async def save(activity: Callable, record: Any) -> None:
    """A process's rows written by its activity (idempotent: the rows are keyed by the process's id)."""
    await workflow.execute_activity_method(activity, record, start_to_close_timeout=ACTIVITY_TIMEOUT,
                                           retry_policy=PERSIST_RETRY)


class StaffProcess:
    """The state and steps a 政务公开 process shares: its history (`Entry` rows), alerts (`Alert` rows), the change
    counter the one timer re-arms on, the reminder-then-escalation pair on one deadline, and the calendar moves.

    A subclass calls `_begin` in its @workflow.init, defines `_next_alert`, `_fire` and `_persist`, and runs
    `_deadline_loop`. The commands are those each workflow produced before (tests/histories replay them)."""

    Entry: type
    Alert: type
    _pid: str

    def _begin(self, process_id: str, kind: str, actor: str, summary: str) -> None:
        self._pid = process_id
        self._alerts: list = []
        self._moves: list[str] = []  # how published calendar years moved the deadline (explained in its steps)
        self._reminded = self._escalated = False
        self._changes = 0  # bumped by every recorded step: the timer loop re-arms on it
        self._history: list = []
        self._history.append(self._entry(kind, actor, summary))

    def _entry(self, kind: str, actor: str, summary: str):
        return self.Entry(at=workflow.now(), kind=kind, actor=actor, summary=summary)

    def _record(self, kind: str, actor: str, summary: str) -> None:
        self._changes += 1
        self._history.append(self._entry(kind, actor, summary))

    async def _persist(self) -> None:
        raise NotImplementedError

    def _next_alert(self) -> Pending | None:
        raise NotImplementedError

    async def _fire(self, what: Any) -> None:
        raise NotImplementedError

    async def _deadline_loop(self, open_: Callable[[], bool]) -> None:
        await run_deadline_loop(open_=open_, changes=lambda: self._changes, next_alert=self._next_alert,
                                fire=self._fire)

    def _remind_then_escalate(self, remind_at: datetime, due_at: datetime, what: Any = None) -> Pending | None:
        """The handler is reminded before the deadline, the supervisor told at it; then nothing is pending."""
        if not self._reminded:
            return Pending(remind_at, what)
        if not self._escalated:
            return Pending(due_at, what)
        return None

    async def _remind_or_escalate(self, key: str, supervisor_email: str | None, *, remind: str, escalate: str) -> None:
        """The pending one of the pair: `remind` to the handler first, then `escalate` to the supervisor."""
        kind, role, recipient = reminder_or_escalation(self._reminded, supervisor_email)
        if kind == "reminder":
            self._reminded = True
        else:
            self._escalated = True
        await self._alert(kind, role, recipient, remind if kind == "reminder" else escalate, key=f"{key}:{kind}")

    async def _alert(self, kind: str, role: str, recipient: str | None, message: str, *, key: str,
                     entry: str | None = None) -> None:
        """An alert: recorded (history entry `entry`, by default its kind), raised to staff, the rows saved."""
        self._alerts.append(self.Alert(at=workflow.now(), kind=kind, role=role, message=message))
        self._record(entry or kind, "system", message)
        await raise_staff_alert(StaffAlertInput(key=key, application_id=self._pid, kind=kind, role=role,
                                                recipient=recipient, message=message))
        await self._persist()

    async def _confidentiality_review(self, cmd, approved: str) -> None:
        """A confidentiality review's result: `approved` (the phase it leads to, recorded with its comment) or
        returned (with why); the rows saved."""
        self._phase = approved if cmd.approve else "returned"
        if cmd.approve:
            self._record("review-approved", cmd.by, "保密审查通过" + (f"：{cmd.comment}" if cmd.comment else ""))
        else:
            self._record("review-returned", cmd.by, f"保密审查退回：{cmd.comment}")
        await self._persist()

    def _take_calendar(self, fact: CalendarYearPublished) -> CalendarData | None:
        """The published year's calendar data, kept for the process; None: nothing to recount."""
        data = newer_calendar(self._calendar_data, fact)
        if data is not None:
            self._calendar_data = data
        return data

    async def _recount_recorded(self, entries: list[tuple[str, str]]) -> None:
        """A recount's timeline entries recorded (the timer re-armed) and saved; none: nothing written."""
        for kind, summary in entries:
            self._record(kind, "system", summary)
        if entries:
            await self._persist()
