"""Letter delivery for the application workflow: compose, issue once, send through the outbox.

Moved as-is out of workflows/application.py (issue 12, point 10b); behaviour unchanged. The mixin
expects the host workflow to provide: `_s` (ApplicationState), `_lock`, `_letters_in_flight`,
`_record`, `_alert`, `_persist`, `_today`, `_letter_input`, `_reply_items_final`, `_close_delivered`.
`send_through_outbox` is the one sending loop every workflow uses (the application through this
mixin, the consultation child directly): bounded rounds of server-side retries (issue 12 point 6).
"""

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta

from workflows import policies
from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.disclosure import DisclosureActivities
    from activities.letters import LetterActivities
    from clock import end_of_day_instant, local_date
    from contracts.models import (
        ComposeLetterInput,
        DeliveredLetter,
        DeliverLetterInput,
        DispatchInput,
        IssueLetterInput,
        Letter,
        LetterKind,
        PersistApplicationInput,
        SendLetterInput,
        SendLetterResult,
        StaffAlertInput,
        letter_outcome_event,
    )
    from contracts.reply import LetterView

PERSIST_RETRY = policies.DATABASE
# Letters: back off up to five minutes between tries; a bad address is not worth retrying.
DISPATCH_RETRY = policies.DISPATCH
PURE_RETRY = policies.PURE
ACTIVITY_TIMEOUT = policies.ACTIVITY_TIMEOUT
REMINDER_HOUR = 9

# Each letter is composed, issued once (文号, PDF, outbox row) and tried once in one activity (`deliver_letter`); a
# failed first try goes on in rounds of `send_letter` executions that the server retries with backoff: rounds of 1,
# 2, 4, 8, 16 tries with DISPATCH_RETRY's backoff (2 s doubling to 5 min, about two hours in all), then rounds of 16
# tries whose longest interval doubles each round up to 12 h: a mail server down for days is tried twice a day, staff
# having been alerted (after 3 tries, and before the due date). A 60-day outage costs ~15 rounds (~200 history events).
SEND_TIMEOUT = timedelta(minutes=2)
SEND_HEARTBEAT_TIMEOUT = timedelta(seconds=10)
# After this many failed tries the handler is told that a letter is held up.
DELIVERY_ALERT_AFTER_ATTEMPTS = 3
SEND_ROUND_MAX_TRIES = 16
SEND_SHORT_ROUNDS = 5  # rounds at DISPATCH_RETRY's 5-minute maximum interval
SEND_LONGEST_INTERVAL = timedelta(hours=12)

FailedRound = Callable[[int, str], Awaitable[None]]
FailedTry = tuple[int | None, str]  # (tries counted on the outbox row if known, "<type>: <error>")


def failed_first_try(delivered: DeliveredLetter) -> FailedTry:
    """deliver_letter's failed try, as send_through_outbox would have read it from a failed `send_letter`."""
    return delivered.failed_attempts, f"{delivered.failed_type}: {delivered.failed_message}"[:300]


async def send_through_outbox(inp: SendLetterInput, *, handler: str | None = None,
                              on_failed_round: FailedRound | None = None,
                              first_try: FailedTry | None = None) -> SendLetterResult:
    """The one letter-sending loop of every workflow: send the issued letter until the outbox says sent.

    Each round is one `send_letter` execution that the server retries with backoff (SEND_ROUNDS above);
    the activity records every failed try on the outbox row (attempts, last error) and warns the
    supervisor before the due date (`inp.due_at`). After each failed round `on_failed_round(attempts,
    last_error)` lets the workflow show the tries; after DELIVERY_ALERT_AFTER_ATTEMPTS tries (the end
    of the second round) the handler is told once (alert keyed by the letter). `first_try`: the first
    round was deliver_letter's try, which failed; the loop goes on from the second round.
    """
    initial, longest = DISPATCH_RETRY.initial_interval, DISPATCH_RETRY.maximum_interval
    if initial is None or longest is None:  # pragma: no cover - constants above
        raise ValueError("DISPATCH_RETRY needs an initial and a maximum interval")
    delay, tries, rounds, attempts, told_handler = initial, 1, 0, 0, False
    while True:
        if first_try is not None:
            counted, last_error = first_try
            first_try = None
            attempts = max(attempts + 1, counted or 0)
        else:
            try:
                return await workflow.execute_activity_method(
                    LetterActivities.send_letter, inp,
                    start_to_close_timeout=SEND_TIMEOUT, heartbeat_timeout=SEND_HEARTBEAT_TIMEOUT,
                    retry_policy=RetryPolicy(initial_interval=delay, backoff_coefficient=2.0, maximum_interval=longest,
                                             maximum_attempts=tries, non_retryable_error_types=policies.NEVER_RETRIED),
                )
            except ActivityError as err:
                cause = err.cause
                kind = getattr(cause, "type", None) or type(cause or err).__name__
                details = getattr(cause, "details", None) or ()
                counted = details[0] if details and isinstance(details[0], int) else None
                attempts = max(attempts + 1, counted or 0)
                last_error = f"{kind}: {cause or err}"[:300]
        if on_failed_round is not None:
            await on_failed_round(attempts, last_error)
        if attempts >= DELIVERY_ALERT_AFTER_ATTEMPTS and not told_handler:
            told_handler = True
            await workflow.execute_activity_method(
                DisclosureActivities.raise_staff_alert,
                StaffAlertInput(key=f"{inp.key}:retrying", application_id=inp.application_id, kind="delivery-problem",
                                role="handler", recipient=handler if handler and "@" in handler else None,
                                message=f"{inp.application_id} 的文书已发送 {attempts} 次均未成功"
                                        f"（{last_error}），系统继续重试，请关注"),
                start_to_close_timeout=ACTIVITY_TIMEOUT, retry_policy=PERSIST_RETRY,
            )
        # The wait the server would have made next, then a round twice as long (at most 16 tries).
        delay = min(delay * 2 ** (tries - 1), longest)
        await workflow.sleep(delay)
        rounds += 1
        if rounds >= SEND_SHORT_ROUNDS:
            longest = min(longest * 2, SEND_LONGEST_INTERVAL)
        delay, tries = min(delay * 2, longest), min(tries * 2, SEND_ROUND_MAX_TRIES)


class LetterDelivery:

    def _letter_record(self, compose: ComposeLetterInput | None) -> tuple[PersistApplicationInput, int] | None:
        """Hook (LETTER_WITH_RECORD): the record for the letter's activity to write with its outcome event, and that
        event's seq; None: the workflow records and persists the outcome itself (the default)."""
        return None

    def _letter_recorded(self, delivered: DeliveredLetter | None) -> bool:
        """Hook: the letter's activity answered (None: it failed) after `_letter_record` gave it a record; True
        when it wrote the record and the outcome event (now in the timeline)."""
        return False

    def _send_letter(
        self,
        kind: LetterKind,
        *,
        key_suffix: str,
        composed: Letter | None = None,
        recipient: str | None = None,
        recipient_email: str | None = None,
        **letter_fields,
    ) -> None:
        to_applicant = recipient is None
        dispatch = DispatchInput(
            key=f"{self._s.inp.application_id}:{key_suffix}",
            application_id=self._s.inp.application_id,
            recipient_name=recipient or self._s.inp.applicant.name,
            method=self._s.inp.delivery_method if to_applicant else ("email" if recipient_email else "post"),
            email=self._s.inp.applicant.email if to_applicant else recipient_email,
            letter=composed or Letter(kind=kind, subject="", body=""),
            address=self._s.inp.applicant.address if to_applicant else None,
        )
        compose = None if composed else self._letter_input(kind, recipient=recipient, **letter_fields)
        self._letters_in_flight += 1
        asyncio.create_task(self._deliver(dispatch, compose))

    async def _deliver(self, dispatch: DispatchInput, compose: ComposeLetterInput | None) -> None:
        try:
            await self._deliver_in_one(dispatch, compose)
        finally:
            self._letters_in_flight -= 1

    async def _deliver_in_one(self, dispatch: DispatchInput, compose: ComposeLetterInput | None) -> None:
        """Compose, issue once (文号, PDF, outbox row) and try once in one `deliver_letter`; a failed first try goes
        on in rounds through the outbox."""
        view = LetterView(key=dispatch.key, kind=compose.kind if compose else dispatch.letter.kind,
                          recipient_name=dispatch.recipient_name, method=dispatch.method)
        self._s.letters.append(view)
        adopted = False  # the activity wrote the record with the outcome event (LETTER_WITH_RECORD)
        try:
            # Composed, issued and tried once in one activity; a failed try goes on in rounds.
            record = self._letter_record(compose)
            try:
                delivered: DeliveredLetter = await workflow.execute_activity_method(
                    DisclosureActivities.deliver_letter,
                    DeliverLetterInput(compose=compose, issue=self._issue_input(dispatch, compose),
                                       send=self._send_input(dispatch), record=record and record[0],
                                       outcome_seq=record and record[1]),
                    start_to_close_timeout=SEND_TIMEOUT, heartbeat_timeout=SEND_HEARTBEAT_TIMEOUT,
                    retry_policy=PERSIST_RETRY,
                )
            except BaseException:
                if record is not None:
                    self._letter_recorded(None)
                raise
            # At once, before anything else runs: the persister waits for this.
            adopted = record is not None and self._letter_recorded(delivered)
            dispatch.letter, issued = delivered.letter, delivered.issued
            view.status, view.document_number, view.pdf_sha256, view.attachments = (
                issued.status, issued.document_number, issued.pdf_sha256, len(issued.attachments))
            result = delivered.sent or await self._send_in_rounds(view, dispatch, failed_first_try(delivered))
        except ActivityError as err:
            view.status, view.last_error = "failed", str(err.cause or err)[:300]
            async with self._lock:
                self._record("letter-failed", "system", f"{dispatch.letter.kind} 未能送出：{err.cause or err}")
                await self._alert(f"{dispatch.key}:failed", "delivery-problem", "supervisor", None,
                                  f"{self._s.inp.application_id} 的文书未能送出，请人工处理")
                await self._persist()
            return
        view.status, view.attempts, view.sent_at, view.last_error = (
            result.status, max(view.attempts, result.attempts), result.sent_at, result.last_error)
        number = f"（{issued.document_number}）"
        sent_words = letter_outcome_event("sent", dispatch.letter.subject, issued.document_number)
        staff_words = letter_outcome_event("awaiting-staff", dispatch.letter.subject, issued.document_number)
        assert sent_words is not None and staff_words is not None
        async with self._lock:
            if result.status == "sent":
                if not adopted:
                    self._record(sent_words[0], "system", sent_words[1])
                self._letter_left(dispatch, result)
                if dispatch.letter.kind == "reply" and self._s.phase == "awaiting-delivery" and result.sent_at:
                    view.status, view.delivered_on = "delivered", local_date(result.sent_at)
                    self._close_delivered(local_date(result.sent_at), "system", "答复已通过电子邮件送达")
            elif result.status in ("uncertain", "failed"):
                self._record("letter-" + result.status, "system",
                             f"{dispatch.letter.subject}{number} 发送情况不明或失败，未重发，请工作人员核实：{result.last_error}")
            else:
                if not adopted:
                    self._record(staff_words[0], "system", staff_words[1])
                self._letter_left(dispatch, result)
            if not adopted or delivered.calendar is not None:  # written, then found counted on an older calendar
                await self._persist()

    def _issue_input(self, dispatch: DispatchInput, compose: ComposeLetterInput | None) -> IssueLetterInput:
        is_reply = (compose.kind if compose else dispatch.letter.kind) == "reply"
        return IssueLetterInput(
            key=dispatch.key, application_id=dispatch.application_id, letter=dispatch.letter,
            letter_date=self._today(), recipient_name=dispatch.recipient_name, method=dispatch.method,
            email=dispatch.email, address=dispatch.address, agency=self._s.inp.agency,
            expected_body_sha256=self._s.approved_sha256 if is_reply and compose is None else None,
            attach_for_items=self._reply_items_final() if is_reply else [],
        )

    def _send_input(self, dispatch: DispatchInput) -> SendLetterInput:
        due_on = self._s.due.due_on
        return SendLetterInput(key=dispatch.key, application_id=dispatch.application_id, due_on=due_on,
                               due_at=end_of_day_instant(due_on), agency=self._s.inp.agency)

    def _letter_left(self, dispatch: DispatchInput, result: SendLetterResult) -> None:
        """Hook: the letter left the agency (the relay accepted the e-mail; or it awaits staff: posted, picked up,
        on the portal). Dispatch only, never receipt (RULES §3 Service). Nothing by default."""

    async def _send_in_rounds(self, view: LetterView, dispatch: DispatchInput,
                              first_try: FailedTry | None = None) -> SendLetterResult:
        """Issue 12 point 6: the shared bounded loop; the application shows each failed round's tries."""
        async def failed_round(attempts: int, last_error: str) -> None:
            first = view.attempts == 0
            view.attempts, view.status, view.last_error = attempts, "failed", last_error
            if first:
                async with self._lock:
                    self._record("letter-delayed", "system", f"{view.key} 发送失败，系统将自动重试：{view.last_error}")
                    await self._persist()

        return await send_through_outbox(self._send_input(dispatch), handler=self._s.handler,
                                         on_failed_round=failed_round, first_try=first_try)
