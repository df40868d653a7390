"""The disclosure application workflow: one durable execution per application, id = its number.

Orchestration only. The rules it applies live in pure modules (clock, workcalendar, policy, outcomes, notices,
application/rules.py); everything that touches the world is an activity. Staff actions that need an answer
are Updates whose validators refuse, before anything is written to history, what the law or the application's state
does not allow now; the handler re-checks under the lock because another action may have landed in between.

This class keeps the run loop (sleep until the next deadline, act on it) and the shared helpers; each action's
handler lives with its topic, one module each (a newcomer finds what an action does in one step):

| topic | module |
| --- | --- |
| assignment, supplement (Reg. 30), withdrawal | `workflows/application_intake.py` |
| extension (Reg. 33), request clearly beyond a reasonable range (Reg. 35) | `workflows/application_period.py` |
| fees (Reg. 42, 国办函〔2020〕109号) | `workflows/application_fees.py` |
| consultations (Reg. 32, 34) and the public-interest override | `workflows/application_consultations.py` |
| decisions, review, edits, signature, delivery (Reg. 36-40) | `workflows/application_reply.py` |
| released files: their state for the signature, the seal (RULES §14) | `workflows/application_release.py` |
| service of notices (送达, RULES §3) | `workflows/application_service.py` |
| a published calendar year | `workflows/application_calendar.py` |
| the database copy and search attributes | `workflows/application_records.py` |
| letters: compose, issue once, send through the outbox | `workflows/delivery.py` |
"""

import asyncio
from datetime import date, datetime
from typing import TypeVar

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.disclosure import DisclosureActivities
    from contracts.models import (
        ComposeLetterInput,
        LetterKind,
        StaffAlertInput,
    )
    from clock import (
        DueDate,
        end_of_day_instant,
        local_date,
        supplement_notice_deadline,
    )
    from workflows import search_attributes as sa
    from application.rules import (
        SYSTEM_ONLY_OUTCOMES,  # noqa: F401  re-exported for api/pages/staff.py
        body_sha256,
        closing,
        fee_running,
        report_outcome,
    )
    from workflows.application_calendar import CalendarHandlers
    from workflows.application_consultations import ConsultationHandlers
    from workflows.application_fees import FEE_PAY_DAYS, FeeHandlers
    from workflows.application_intake import IntakeHandlers, window_days_of
    from workflows.application_period import PeriodHandlers
    from workflows.application_records import RecordKeeping
    from workflows.application_reply import DELIVERED_BY, PROVISION_BY_FORM, ReplyHandlers
    from workflows.application_release import ReleaseHandlers
    from workflows.application_service import NoticeServiceHandlers
    from application.state import ApplicationState
    import notices
    from application.deadlines import (
        due_of,
        next_wake_at,
        overdue_key,
        reminder_at,
        reminder_key,
    )
    from workflows.application_views import application_view
    from workflows.delivery import (
        ACTIVITY_TIMEOUT,
        PERSIST_RETRY,
        LetterDelivery,
    )
    from workflows.records import registration_summary
    from contracts.application_view import ApplicationOutcome, ApplicationView, StateQuery, TimelineEntry
    from contracts.intake import ApplicationInput
    from contracts.reply import ItemView, LetterView
    from contracts.status import FINAL_STATUSES




# The database copy is written by one background task, never under the lock: an action answers once the state
# changed; several changes coalesce into one write of the latest record, which carries a monotonic version (the store
# ignores an older copy). A published year is recounted from the database copy (workflows/calendar_broadcast.py); an
# application learns of it when its timer fires (it reads the agency's calendar, a local activity, before acting on a
# deadline), when it writes its copy (refused while it counts on an older calendar: it recounts, then writes), or when
# staff open it (the API's catch_up_calendar update).



# Re-exported for tests and other modules that import them from here.
__all__ = ["DisclosureApplicationWorkflow", "ActionNotAllowed", "SYSTEM_ONLY_OUTCOMES", "body_sha256", "report_outcome",
           "PROVISION_BY_FORM", "DELIVERED_BY", "FEE_PAY_DAYS", "window_days_of"]


T = TypeVar("T")


class ActionNotAllowed(ApplicationError):
    """Refusal of a staff action, worded for the clerk who tried it."""

    def __init__(self, message: str) -> None:
        super().__init__(message, type="ActionNotAllowed", non_retryable=True)


@workflow.defn(name="DisclosureApplication")
class DisclosureApplicationWorkflow(IntakeHandlers, PeriodHandlers, FeeHandlers, ConsultationHandlers, ReplyHandlers,
                                    ReleaseHandlers, NoticeServiceHandlers, CalendarHandlers, RecordKeeping, LetterDelivery):
    @workflow.init
    def __init__(self, inp: ApplicationInput) -> None:
        self._s = ApplicationState(
            inp=inp, calendar_data=inp.calendar, handler=inp.handler, department=inp.department,
            items=[ItemView(item_no=n, description=it.description) for n, it in enumerate(inp.items, start=1)],
        )
        self._letters_in_flight = 0
        self._lock = asyncio.Lock()
        self._clock_changed = False
        self._release_stale = False  # a `release_changed` came since the files' state was last read
        self._release_reader = False  # that read is running
        self._dirty = False  # the database copy is behind the state (PERSIST_IN_BACKGROUND)
        self._writing = False  # the background persister has a write in flight
        self._persister: asyncio.Task | None = None
        self._folding = False  # a letter's activity is writing the record
        # The values last upserted; those the API started the workflow with (issue 15 point 2: one upsert
        # fewer at the start). Read from the start event, so replays of any history agree.
        self._search_attributes: tuple | None = sa.started_with(workflow.info().typed_search_attributes)
        self._check_calendar_on_write = True  # CALENDAR_AT_WAKE: a write counted on an older calendar is refused
        self._s.supplement_notice_by, _ = supplement_notice_deadline(
            self._s.cal, inp.received_on, inp.policy.supplement_notice_days
        )
        self._s.due = self._compute_due()
        self._record("registered", inp.registered_by, registration_summary(inp, self._s.due))

    # --- the run: wait for the next deadline, act on it, until the application ends -------

    @workflow.run
    async def run(self, inp: ApplicationInput) -> ApplicationOutcome:
        async with self._lock:
            self._send_letter("acknowledgment", key_suffix="ack", deadline_on=self._s.due.due_on)
            if inp.listed_at_intake:
                # The API listed it: the next write (the acknowledgment's) stores the row and every event.
                self._upsert_search_attributes()
            else:
                await self._persist()
        while self._s.phase not in FINAL_STATUSES:
            deadline_reached = await self._sleep_until_next_deadline()
            async with self._lock:
                if deadline_reached:
                    await self._catch_up_calendar(await self._agency_calendar())
                await self._act_on_deadlines()
        await workflow.wait_condition(lambda: self._letters_in_flight == 0 and workflow.all_handlers_finished())
        async with self._lock:
            await self._persist()
        await self._flushed()
        return ApplicationOutcome(
            application_id=inp.application_id,
            status=self._s.phase,
            items=self._s.items,
            replied_on=self._s.replied_on,
            due_on=self._s.due.due_on,
            on_time=None if self._s.replied_on is None else self._s.replied_on <= self._s.due.due_on,
        )

    async def _sleep_until_next_deadline(self) -> bool:
        """Sleep until the next deadline or a clock change; True: a deadline's instant was reached."""
        wake_at = self._next_wake_at()
        self._clock_changed = False
        if wake_at is not None and wake_at <= workflow.now():
            return True
        timeout = None if wake_at is None else wake_at - workflow.now()
        try:
            await workflow.wait_condition(
                lambda: self._clock_changed or self._s.phase in FINAL_STATUSES, timeout=timeout
            )
        except asyncio.TimeoutError:
            return True
        return False

    def _next_wake_at(self) -> datetime | None:
        return next_wake_at(self._s)

    async def _act_on_deadlines(self) -> None:
        now = workflow.now()
        if self._s.phase == "awaiting-supplement" and self._s.supplement is not None:
            sup = self._s.supplement
            if notices.running(sup.service) and now >= end_of_day_instant(sup.deadline_on) and sup.lapsed_on is None:
                await self._supplement_lapsed()
            return
        if self._s.replied_on is not None or self._s.phase in FINAL_STATUSES or closing(self._s):
            return
        if fee_running(self._s) and self._s.fee is not None and self._s.fee.pay_by is not None \
                and now >= end_of_day_instant(self._s.fee.pay_by):
            await self._fee_lapsed()
            return
        raised = len(self._s.alerts_raised)
        if (reasons_at := self._reasons_wake_at()) is not None and now >= reasons_at:
            await self._reasons_lapsed()
        if now >= self._reminder_at() and self._reminder_key() not in self._s.alerts_raised:
            self._s.alerts_raised.add(self._reminder_key())
            self._record("reminder", "system", f"提醒承办人：答复期限 {self._s.due.due_on} 将至")
            await self._alert(self._reminder_key(), "reminder", "handler", self._s.handler,
                              f"{self._s.inp.application_id} 答复期限 {self._s.due.due_on}，请抓紧办理")
        if now >= end_of_day_instant(self._s.due.due_on) and self._overdue_key() not in self._s.alerts_raised:
            self._s.alerts_raised.add(self._overdue_key())
            self._s.overdue = True
            self._record("overdue", "system", f"已超过答复期限 {self._s.due.due_on}，报负责人督办")
            await self._alert(self._overdue_key(), "overdue", "supervisor", None,
                              f"{self._s.inp.application_id} 已逾期（答复期限 {self._s.due.due_on}），请督办")
        if len(self._s.alerts_raised) == raised:
            return  # woken by a changed clock (its handler persisted): nothing new to write
        await self._persist()

    def _reminder_at(self) -> datetime:
        return reminder_at(self._s)

    def _reminder_key(self) -> str:
        return reminder_key(self._s)

    def _overdue_key(self) -> str:
        return overdue_key(self._s)

    @workflow.query
    def state(self, q: StateQuery | None = None) -> ApplicationView:
        return application_view(self._s, (q.today if q and q.today else None) or self._today())

    # --- shared refusals -------------------------------------------------------------------------

    @staticmethod
    def _refuse_if(reason: str | None) -> None:
        if reason is not None:
            raise ActionNotAllowed(reason)

    @staticmethod
    def _required(value: T | None, reason: str) -> T:
        """What the rule already checked; were it missing, the update is refused (409), never an assert
        (an AssertionError fails the workflow task and the action hangs: issue 12 point 8)."""
        if value is None:
            raise ActionNotAllowed(reason)
        return value

    # --- letters: composed and dispatched in the background, never blocking an action --------

    def _letter_view(self, key: str) -> LetterView | None:
        return next((letter for letter in self._s.letters if letter.key == key), None)

    def _letter_input(self, kind: LetterKind, *, recipient: str | None = None, **fields) -> ComposeLetterInput:
        return ComposeLetterInput(
            application_id=self._s.inp.application_id, kind=kind, agency_name=self._s.inp.agency_name,
            agency=self._s.inp.agency, recipient_name=recipient or self._s.inp.applicant.name, letter_date=self._today(),
            received_on=self._s.inp.received_on,
            **fields,
        )

    def _compute_due(self) -> DueDate:
        return due_of(self._s)

    def _recompute_due(self, *, announce: bool = True) -> None:
        before = self._s.due.due_on
        self._s.due = self._compute_due()
        if self._s.replied_on is None:
            self._s.overdue = workflow.now() >= end_of_day_instant(self._s.due.due_on)
        if announce and self._s.due.due_on != before:
            self._record("due-date-changed", "system", f"答复期限由 {before} 重新计算为 {self._s.due.due_on}")
        self._clock_changed = True

    def _today(self) -> date:
        return local_date(workflow.now())

    # --- records -------------------------------------------------------------------------------

    def _record(self, kind: str, actor: str, summary: str) -> None:
        self._s.timeline.append(TimelineEntry(seq=len(self._s.timeline) + 1, at=workflow.now(), kind=kind,
                                            actor=actor, summary=summary))

    async def _alert(self, key: str, kind, role, recipient: str | None, message: str) -> None:
        await workflow.execute_activity_method(
            DisclosureActivities.raise_staff_alert,
            StaffAlertInput(key=key, application_id=self._s.inp.application_id, kind=kind, role=role,
                            recipient=recipient if recipient and "@" in recipient else None, message=message),
            start_to_close_timeout=ACTIVITY_TIMEOUT, retry_policy=PERSIST_RETRY,
        )
