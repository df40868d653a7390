"""The activities: every piece of I/O the workflows do, each idempotent on its business key."""

import asyncio
import hashlib
import smtplib
from collections.abc import Callable
import time
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from typing import Any

from sqlalchemy import Engine
from temporalio import activity
from temporalio.exceptions import ApplicationError

from contracts.models import (
    ApplicationRecord,
    DeferredWakes,
    DeferredWakesPage,
    ComposeLetterInput,
    DeliveredLetter,
    DeliverLetterInput,
    DispatchInput,
    DispatchResult,
    EventRecord,
    Letter,
    OpenApplicationsPage,
    PersistApplicationInput,
    PrescreenInput,
    PrescreenResult,
    CalendarAsked,
    PersistOutcome,
    RecountPage,
    RecountPageResult,
    StaffAlertInput,
    letter_outcome_event,
)
from core import clock
from core.config import Settings
from services.agencies import AgencyProfiles, payment_channel_line
from db import repository
from db.models import OutboundMessage, utcnow
from db.session import session_scope
from letters.compose import LetterInputError, compose_letter
from screening.prescreen import prescreen_texts

STAFF_ALERT_KIND = "staff-alert"

_ALERT_TITLES = {
    "reminder": "到期提醒",
    "overdue": "逾期警示",
    "escalation": "督办",
    "consultation-objection": "第三方异议",
    "delivery-problem": "文书送达异常",
}

# Refusals that no retry can cure: the address or the sender is rejected outright.
_PERMANENT_SMTP_ERRORS = (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused)


class DisclosureActivities:
    def __init__(self, engine: Engine, settings: Settings) -> None:
        self._engine = engine
        self._settings = settings
        self._agencies = AgencyProfiles(engine)
        from activities.letters import LetterActivities

        self.letters = LetterActivities(engine, settings)
        from activities.reports import ReportActivities

        self.reports = ReportActivities(engine)
        self._calendar = None  # services.calendar.CalendarSource, made on first use

    @activity.defn(name="persist_application")
    async def persist_application(self, inp: PersistApplicationInput) -> PersistOutcome | None:
        stale = await asyncio.to_thread(self._persist_unless_stale, inp)
        if stale is not None:
            activity.logger.info("application %s counts on an older calendar: not written", inp.record.application_id)
            return PersistOutcome(calendar=stale.model_dump(mode="json"))
        activity.logger.info(
            "persisted application %s (status %s, %d events offered)",
            inp.record.application_id,
            inp.record.status,
            len(inp.events),
        )

    @activity.defn(name="prescreen")
    async def prescreen(self, inp: PrescreenInput) -> PrescreenResult:
        result = PrescreenResult(findings=prescreen_texts(inp.texts, today=clock.today()))
        activity.logger.info(
            "prescreened application %s: %d findings (%s)",
            inp.application_id,
            len(result.findings),
            ", ".join(sorted({finding.kind for finding in result.findings})) or "clean",
        )
        return result

    @activity.defn(name="compose_letter")
    async def compose_letter(self, inp: ComposeLetterInput) -> Letter:
        return self._compose(inp)

    @activity.defn(name="deliver_letter")
    async def deliver_letter(self, inp: DeliverLetterInput) -> DeliveredLetter:
        """Issue 15 point 2: compose (if asked), issue and try once to send, one activity instead of three.

        Idempotent on the letter's key (see DeliverLetterInput); a send that failed is returned for the
        workflow to retry in rounds of `send_letter`, with every try shown.
        """
        issue = inp.issue
        if inp.compose is not None:
            issue = issue.model_copy(update={"letter": self._compose(inp.compose)})
        if inp.record is None or inp.outcome_seq is None:
            return await self.letters.deliver(issue, inp.send)
        # The event is dated on the server's clock, as the workflow dates its timeline (also under time skipping):
        # this try's scheduled time plus the time it took until the outcome.
        recording = _OutcomeWithRecord(self, inp.record, inp.outcome_seq, issue.letter.subject,
                                       activity.info().current_attempt_scheduled_time, time.monotonic())
        delivered = await self.letters.deliver(issue, inp.send, on_outcome=recording)
        if recording.event is not None and recording.checking:
            # As persist_application: a year stored while this was written may have been recounted on the copy
            # this write replaced; the workflow recounts and writes again.
            stale = await asyncio.to_thread(recording.newer_calendar)
            delivered.calendar = None if stale is None else stale.model_dump(mode="json")
        delivered.recorded = recording.event
        return delivered

    def _compose(self, inp: ComposeLetterInput) -> Letter:
        if inp.kind == "consultation-letter" and inp.consultation_id and not inp.answer_link:
            # The link is signed with a secret, so it is made here, not in the workflow; the same
            # arguments give the same link, so a retried compose writes the same letter. Imported here:
            # core.security brings PyJWT and argon2 (about 9 MiB), which no other worker code needs.
            from core.security import third_party_link

            inp = inp.model_copy(update={"answer_link": third_party_link(
                inp.consultation_id, issued_on=inp.letter_date, expires_on=inp.deadline_on, settings=self._settings)})
        if inp.kind == "supplement-notice" and not inp.track_link:
            # Issue 23 point 10: the notice says where the supplement is answered online (/track).
            inp = inp.model_copy(update={"track_link": f"{self._settings.public_base_url.rstrip('/')}/track"})
        agency = self._agencies.of(inp.agency, inp.application_id)  # issue 25: another agency's own bodies
        if inp.reconsideration_body is None and inp.court is None and inp.complaint_body is None:
            # Issue 11 point 10: the remedies name the agency's reconsideration body, court and complaint route.
            bodies = agency or self._settings
            inp = inp.model_copy(update={"reconsideration_body": bodies.reconsideration_body,
                                         "court": bodies.court, "complaint_body": bodies.complaint_body})
        if inp.kind == "fee-notice" and not inp.fee_payment:  # issue 24 point 1: the agency's payment channel
            inp = inp.model_copy(update={"fee_payment": payment_channel_line(agency) if agency
                                         else self._settings.payment_channel_line()})
        if self._settings.marks_example():  # issue 24 point 6: make run on example settings says so on every letter
            inp = inp.model_copy(update={"example_mark": True})
        try:
            return compose_letter(inp)
        except LetterInputError as error:
            raise ApplicationError(str(error), type="LetterInputError", non_retryable=True) from error

    @activity.defn(name="dispatch_letter")
    async def dispatch_letter(self, inp: DispatchInput) -> DispatchResult:
        message = OutboundMessage(
            key=inp.key,
            application_id=inp.application_id,
            kind=inp.letter.kind,
            method=inp.method,
            recipient_name=inp.recipient_name,
            email=inp.email,
            subject=inp.letter.subject,
            body=inp.letter.body,
            status="awaiting-staff",
        )
        if inp.method != "email":
            # Post, pickup and portal delivery are done by staff, who confirm it through the workflow.
            stored = await self._in_transaction(repository.record_outbound_message, message)
        else:
            stored = await self._send_email_once(message)
        activity.logger.info("dispatch %s for %s: %s", inp.key, inp.application_id, stored.status)
        return DispatchResult(
            key=stored.key,
            method=inp.method,
            status=stored.status,
            sent_at=stored.sent_at,
            message_id=stored.message_id,
        )

    @activity.defn(name="raise_staff_alert")
    async def raise_staff_alert(self, inp: StaffAlertInput) -> None:
        await self._in_transaction(repository.insert_staff_alert, inp)
        activity.logger.info("staff alert %s (%s for %s)", inp.key, inp.kind, inp.role)
        if inp.recipient:
            subject = f"【{_ALERT_TITLES[inp.kind]}】{inp.application_id}"
            await self._send_email_once(
                OutboundMessage(
                    key=f"alert:{inp.key}",
                    application_id=inp.application_id,
                    kind=STAFF_ALERT_KIND,
                    method="email",
                    recipient_name=inp.role,
                    email=inp.recipient,
                    subject=subject,
                    body=f"{inp.message}\n\n申请编号：{inp.application_id}",
                    status="awaiting-staff",
                )
            )

    @activity.defn(name="open_application_ids")
    async def open_application_ids(self) -> list[str]:
        return await self._in_transaction(repository.open_application_ids)

    def calendar_source(self):
        """The calendar this worker works by (services/calendar.py), made on first use."""
        if self._calendar is None:
            from services.calendar import CalendarSource

            self._calendar = CalendarSource(self._engine)
        return self._calendar

    def _newer_calendar(self, record: ApplicationRecord):
        """The agency's calendar for this record when its clock copy counts on an older one, else None."""
        clock_copy = record.clock
        assert clock_copy is not None
        calendar = self._application_calendar(record.received_on.year, clock_copy["years"])
        if set(clock_copy["years"]) <= set(calendar.years) and calendar.version != clock_copy["calendar_version"]:
            return calendar
        return None

    def _persist_unless_stale(self, inp: PersistApplicationInput):
        """Write the record, unless (check_calendar) it was counted on an older calendar than the agency's: then
        write nothing and answer that calendar (issue 15 point 4: the listing keeps the broadcaster's recount; the
        workflow recounts on the calendar answered, then writes). One thread hop for both."""
        clock_copy = inp.record.clock
        checking = inp.check_calendar and clock_copy is not None

        def newer_calendar():
            return self._newer_calendar(inp.record)

        if checking and (calendar := newer_calendar()) is not None:
            return calendar
        with session_scope(self._engine) as session:
            repository.save_application(session, inp.record, inp.events)
        # Checked again once written: a year stored in between was stored before the broadcaster read this row, so
        # it may have recounted the copy this write replaced; the workflow recounts and writes again.
        return newer_calendar() if checking else None

    def _application_calendar(self, received_year: int, years: list[int]):
        from activities.calendar_recount import application_calendar

        return application_calendar(self.calendar_source(), received_year, years)

    @activity.defn(name="current_calendar")
    async def current_calendar(self, asked: CalendarAsked) -> dict:
        """Issue 15 point 4: the agency's calendar for one application (CalendarData JSON), read when it wakes."""
        calendar = await asyncio.to_thread(self._application_calendar, asked.received_year, asked.years)
        return calendar.model_dump(mode="json")

    @activity.defn(name="recount_open_page")
    async def recount_open_page(self, page: RecountPage) -> RecountPageResult:
        """Issue 15 point 4: one page of the calendar broadcast, recounted from the database copy. Each open
        application's deadlines are recounted on the published year (the pure rules the workflow applies); the
        moved due dates go into the copy with their explanation; the applications to wake now are returned:
        those whose next wake-up moves earlier (a deadline must not pass unseen), whose consultation window moved
        (the child keeps its own timer), or whose copy cannot be recounted here. The others learn of the year
        when they next wake (their timer is at or before the new instant). With `page.wakes` (DEFERRED_WAKE),
        a wake-up that moves earlier but not within the lead is recorded for the broadcaster to signal later
        (its dates are moved now like the others'), and the deferred wakes due now are returned."""
        from activities.calendar_recount import recount_page

        return await asyncio.to_thread(recount_page, self._engine, self.calendar_source(), page)

    @activity.defn(name="due_calendar_wakes")
    async def due_calendar_wakes(self, wakes: DeferredWakes) -> DeferredWakesPage:
        """Issue 15 point 4: the calendar broadcast's deferred wakes that are due now (their application's new,
        earlier wake-up within the lead), after its cursor, with the year as published now; or, none due, how
        long until the next one is."""
        from activities.calendar_recount import due_page

        return await asyncio.to_thread(due_page, self._engine, self.calendar_source(), wakes)

    @activity.defn(name="forget_calendar_wakes")
    async def forget_calendar_wakes(self, broadcast_id: str) -> int:
        """Issue 15 point 4: the broadcast has signalled every deferred wake; its rows go (idempotent)."""
        from activities.calendar_recount import forget_wakes

        return await asyncio.to_thread(forget_wakes, self._engine, broadcast_id)

    @activity.defn(name="open_application_ids_page")
    async def open_application_ids_page(self, page: OpenApplicationsPage) -> list[str]:
        """One page of the calendar broadcast: open applications after the cursor, by id."""
        return await self._in_transaction(repository.open_application_ids_page, page.after, page.limit)

    async def _send_email_once(self, message: OutboundMessage) -> OutboundMessage:
        """Send unless a message with this key was already sent; record every attempt."""
        already = await self._in_transaction(repository.get_outbound_message, message.key)
        if already is not None and already.status == "sent":
            return already
        if not message.email:
            await self._record_attempt(message, error="no e-mail address for delivery by e-mail")
            raise ApplicationError(
                f"{message.key}: delivery by e-mail but the recipient has no e-mail address",
                type="MissingEmailAddress",
                non_retryable=True,
            )

        email = self._build_email(message)
        try:
            await asyncio.to_thread(self._smtp_send, email)
        except _PERMANENT_SMTP_ERRORS as error:
            await self._record_attempt(message, error=_describe(error))
            raise ApplicationError(
                f"{message.key}: the mail server refused the message", type="SmtpRefused", non_retryable=True
            ) from error
        except (OSError, smtplib.SMTPException) as error:
            # Recorded first so staff can see why the letter has not gone out while Temporal retries.
            await self._record_attempt(message, error=_describe(error))
            raise
        return await self._record_attempt(message, message_id=email["Message-ID"])

    async def _record_attempt(
        self, message: OutboundMessage, *, error: str | None = None, message_id: str | None = None
    ) -> OutboundMessage:
        attempt = message.model_copy(
            update={
                "status": "failed" if error else "sent",
                "attempts": 1,
                "last_error": error,
                "sent_at": None if error else utcnow(),
                "message_id": message_id,
            }
        )
        return await self._in_transaction(repository.record_outbound_message, attempt)

    def _build_email(self, message: OutboundMessage) -> EmailMessage:
        email = EmailMessage()
        email["Subject"] = message.subject
        email["From"] = formataddr((self._settings.agency_name, self._settings.smtp_sender))
        email["To"] = formataddr((message.recipient_name, message.email))
        email["Date"] = format_datetime(utcnow())
        email["Message-ID"] = self._message_id(message.key)
        email.set_content(message.body, charset="utf-8")
        return email

    def _message_id(self, key: str) -> str:
        # Stable per key, so a resend after a lost acknowledgment is recognisable as the same message.
        digest = hashlib.sha256(key.encode()).hexdigest()[:32]
        domain = self._settings.smtp_sender.rpartition("@")[2] or "localhost"
        return f"<{digest}@{domain}>"

    def _smtp_send(self, email: EmailMessage) -> None:
        with smtplib.SMTP(
            self._settings.smtp_host, self._settings.smtp_port, timeout=self._settings.smtp_timeout_seconds
        ) as smtp:
            smtp.send_message(email)

    async def _in_transaction(self, operation: Callable[..., Any], *args: Any) -> Any:
        """Run a repository operation in its own transaction on a worker thread."""

        def run() -> Any:
            with session_scope(self._engine) as session:
                return operation(session, *args)

        return await asyncio.to_thread(run)


def _describe(error: Exception) -> str:
    return f"{type(error).__name__}: {error}"[:500]


def all_activities(acts: DisclosureActivities) -> list[Callable[..., Any]]:
    """The bound activity methods, for Worker(activities=...)."""
    return [
        acts.persist_application,
        acts.prescreen,
        acts.compose_letter,
        acts.deliver_letter,
        acts.dispatch_letter,
        acts.raise_staff_alert,
        acts.open_application_ids,
        acts.open_application_ids_page,
        acts.recount_open_page,
        acts.due_calendar_wakes,
        acts.forget_calendar_wakes,
        acts.current_calendar,
        acts.letters.issue_letter,
        acts.letters.send_letter,
        acts.letters.record_letter_delivery,
        acts.reports.record_report_outcome,
    ]


class _OutcomeWithRecord:
    """deliver_letter's hook (issue 15 point 2): in the transaction that records the letter sent (or awaiting
    staff), the application's record and unsaved events, with the letter's outcome event at `seq`, as
    persist_application would write them after the workflow heard of the send: one activity and one workflow
    task fewer. Written only when no copy as new as this record (its version) and no event from `seq` on is
    stored: the workflow holds its other writes back meanwhile, so a stored one means an earlier try of this
    activity wrote it (then its event is answered again) or the write is not this one's to make (nothing
    written: the workflow records and persists the outcome as before). A record found counted on an older
    calendar once written is answered with that calendar (DeliveredLetter.calendar): the workflow recounts and
    writes again, as after persist_application."""

    def __init__(self, owner: DisclosureActivities, persist: PersistApplicationInput, seq: int, subject: str,
                 scheduled_at: datetime, started: float) -> None:
        self.owner, self.persist, self.seq, self.subject = owner, persist, seq, subject
        self.scheduled_at, self.started = scheduled_at, started
        self.checking = persist.check_calendar and persist.record.clock is not None
        self.event: EventRecord | None = None

    def newer_calendar(self):
        return self.owner._newer_calendar(self.persist.record)

    def __call__(self, session, row, document) -> None:
        words = letter_outcome_event(row.status, self.subject, document.document_number)
        if words is None:
            return
        record = self.persist.record
        stored_version, later = repository.stored_since(session, record.application_id, self.seq)
        if stored_version is not None and stored_version >= (record.version or 0):
            stored = next((e for e in later if e.seq == self.seq), None)
            if stored_version == record.version and stored is not None and stored.kind == words[0]:
                self.event = EventRecord(seq=stored.seq, at=stored.at, kind=stored.kind, actor=stored.actor,
                                         summary=stored.summary)  # an earlier try of this activity wrote it
            return
        if later:
            return
        # Counted on an older calendar? Checked once written (deliver_letter), not also before as
        # persist_application does: a year published between intake and the acknowledgment is rare, and then
        # the workflow recounts and writes again at once.
        at = self.scheduled_at + timedelta(seconds=time.monotonic() - self.started)
        event = EventRecord(seq=self.seq, at=at, kind=words[0], actor="system", summary=words[1])
        repository.save_application(session, record, [*self.persist.events, event])
        self.event = event
