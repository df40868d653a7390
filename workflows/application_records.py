"""The application's copy in the database and its search attributes: one background writer of the latest
record (versioned), the acknowledgment's record written with its letter, the search attributes upserted on change.

A mixin of the application workflow (workflows/application.py), which provides the state (`_s`), the lock and
the shared helpers (`_record`, `_alert`, `_persist`, `_today`, `_refuse_if`, `_required`, `_send_letter`, ...).
"""

import asyncio

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.disclosure import DisclosureActivities
    from contracts.models import (
        ComposeLetterInput,
        DeliveredLetter,
        EventRecord,
        PersistApplicationInput,
    )
    from clock import end_of_day_instant
    from workcalendar import CalendarData
    from workflows import search_attributes as sa
    from application.rules import status_of
    from workflows.application_views import application_record
    from workflows.delivery import (
        ACTIVITY_TIMEOUT,
        PERSIST_RETRY,
    )
    from contracts.application_view import TimelineEntry


class RecordKeeping:
    async def _persist(self) -> None:
        """The state changed: bring the database copy and the search attributes up to date. Returns at once; the
        background persister writes the latest record."""
        self._dirty = True
        if self._persister is None:
            self._persister = asyncio.create_task(self._persist_in_background())
        self._upsert_search_attributes()

    async def _flushed(self) -> None:
        """Wait until the database copy holds the latest state (before the workflow completes)."""
        if self._persister is not None:
            await workflow.wait_condition(lambda: not self._dirty and not self._writing)

    async def _persist_in_background(self) -> None:
        """One task per workflow: write the latest record whenever the copy is behind, one write at a time."""
        while True:
            # Not while a letter writes the record (LETTER_WITH_RECORD): its write and this one would race.
            await workflow.wait_condition(lambda: self._dirty and not self._folding)
            self._dirty, self._writing = False, True
            unsaved = [e for e in self._s.timeline if e.seq > self._s.persisted_seq]
            persist = self._versioned_input(unsaved)
            try:
                outcome = await workflow.execute_activity_method(
                    DisclosureActivities.persist_application, persist,
                    start_to_close_timeout=ACTIVITY_TIMEOUT, retry_policy=PERSIST_RETRY,
                )
            except ActivityError as err:  # not retryable (PERSIST_RETRY retries everything else forever)
                workflow.logger.warning("persisting %s failed: %s", self._s.inp.application_id, err.cause or err)
                self._dirty = True
                self._writing = False
                await workflow.sleep(PERSIST_RETRY.maximum_interval or 60)
                continue
            self._writing = False
            if outcome is not None and outcome.calendar is not None:
                # Counted on an older calendar (not written, or written as the year was stored): recount, then
                # write (CALENDAR_AT_WAKE).
                async with self._lock:
                    if not await self._catch_up_calendar(CalendarData.model_validate(outcome.calendar)):
                        self._check_calendar_on_write = False  # nothing of it to count on: write as it is
                self._dirty = True
                continue
            if unsaved:
                self._s.persisted_seq = max(self._s.persisted_seq, unsaved[-1].seq)

    def _versioned_input(self, unsaved: list[TimelineEntry]) -> PersistApplicationInput:
        """The next write of the background persister (or of a letter, LETTER_WITH_RECORD): the record with a new
        version, monotonic within the run and, being the workflow's clock in microseconds, across resets."""
        version = max(self._s.record_version + 1, int(workflow.now().timestamp() * 1_000_000))
        self._s.record_version = version
        persist = self._persist_input(unsaved, version)
        persist.check_calendar = self._check_calendar_on_write
        return persist

    def _letter_record(self, compose: ComposeLetterInput | None) -> tuple[PersistApplicationInput, int] | None:
        """LETTER_WITH_RECORD: the acknowledgment's activity writes the record with the letter's outcome event
        (its seq: the next), when nothing is waiting to be written or being written; the persister waits
        until the activity has answered (`_letter_recorded`). Other letters change the record when they go
        (a reply closes the application, a notice's e-mail dates the applicant's window): persisted as before."""
        if compose is None or compose.kind != "acknowledgment" \
                or self._dirty or self._writing or self._folding:
            return None
        self._folding = True
        unsaved = [e for e in self._s.timeline if e.seq > self._s.persisted_seq]
        return self._versioned_input(unsaved), len(self._s.timeline) + 1

    def _letter_recorded(self, delivered: DeliveredLetter | None) -> bool:
        """The letter's activity answered (None: it failed): True when it wrote the record and the outcome event,
        which then takes its place in the timeline. Entries recorded meanwhile (a staff action while the letter
        went) were not written (the persister waited): they move one place on and are written next."""
        self._folding = False
        event = delivered.recorded if delivered is not None else None
        if event is None:
            return False
        for entry in self._s.timeline[event.seq - 1:]:
            entry.seq += 1
        self._s.timeline.insert(event.seq - 1, TimelineEntry(seq=event.seq, at=event.at, kind=event.kind,
                                                             actor=event.actor, summary=event.summary))
        self._s.persisted_seq = max(self._s.persisted_seq, event.seq)
        return True

    def _persist_input(self, unsaved: list[TimelineEntry], version: int | None = None) -> PersistApplicationInput:
        record = application_record(self._s, workflow.now())
        if version is not None:
            record.version = version
        return PersistApplicationInput(record=record, events=[
            EventRecord(seq=e.seq, at=e.at, kind=e.kind, actor=e.actor, summary=e.summary) for e in unsaved
        ])

    def _search_attribute_values(self) -> tuple:
        return (status_of(self._s), end_of_day_instant(self._s.due.due_on), self._s.overdue)

    def _upsert_search_attributes(self) -> None:
        """Upsert the search attributes when one of them changed (each upsert is a history event)."""
        values = self._search_attribute_values()
        if values == self._search_attributes:
            return
        self._search_attributes = values
        status, due_at, overdue = values
        workflow.upsert_search_attributes([
            sa.STATUS.value_set(status), sa.DUE_AT.value_set(due_at), sa.OVERDUE.value_set(overdue),
        ])
