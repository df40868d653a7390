"""One consultation (Reg. 32 third party, Reg. 34 co-producing agency): a child of the application.

Its own workflow, so a third party's answer goes to it directly (its id is in the link they get)
and its window runs on its own timer. The letter goes out first; the window counts from that day.
"""

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.models import (
        ComposeLetterInput,
        DispatchInput,
        DispatchResult,
        IssuedLetter,
        IssueLetterInput,
        Letter,
        ReplyItem,
        SendLetterInput,
        SendLetterResult,
    )
    from clock import end_of_day_instant, local_date
    from outcomes import OutcomeCode
    from workflows.messages import ConsultationAnswer, ConsultationInput, ConsultationResult, ConsultationView

ACTIVITY_TIMEOUT = timedelta(seconds=30)
LETTER_RETRY = RetryPolicy(initial_interval=timedelta(seconds=2), maximum_interval=timedelta(minutes=5))
# Letters v2 (issue 4), the same patch id as the application's: issued once, sent by the outbox.
LETTERS_V2 = "letters-v2-outbox"
SEND_TIMEOUT = timedelta(minutes=2)
SEND_HEARTBEAT_TIMEOUT = timedelta(seconds=10)


@workflow.defn(name="DisclosureConsultation")
class ConsultationWorkflow:
    @workflow.init
    def __init__(self, inp: ConsultationInput) -> None:
        self._inp = inp
        self._sent_on = local_date(workflow.now())
        self._answer: ConsultationAnswer | None = None

    @workflow.run
    async def run(self, inp: ConsultationInput) -> ConsultationResult:
        letter = await workflow.execute_activity(
            "compose_letter",
            ComposeLetterInput(
                application_id=inp.application_id, kind="consultation-letter", agency_name=inp.agency_name,
                recipient_name=inp.consultee.name, letter_date=self._sent_on, received_on=inp.received_on,
                items=[ReplyItem(item_no=n, description=d, outcome=OutcomeCode.DISCLOSED) for n, d in inp.items],
                deadline_on=inp.window_ends_on, consultation_id=inp.consultation_id,
            ),
            result_type=Letter, start_to_close_timeout=ACTIVITY_TIMEOUT, retry_policy=LETTER_RETRY,
        )
        key, method = f"{inp.consultation_id}:letter", "email" if inp.consultee.email else "post"
        if workflow.patched(LETTERS_V2):
            await workflow.execute_activity(
                "issue_letter",
                IssueLetterInput(key=key, application_id=inp.application_id, letter=letter, letter_date=self._sent_on,
                                 recipient_name=inp.consultee.name, method=method, email=inp.consultee.email,
                                 address=inp.consultee.address),
                result_type=IssuedLetter, start_to_close_timeout=SEND_TIMEOUT, retry_policy=LETTER_RETRY,
            )
            # The outbox sends once; an outage is retried here with backoff, an uncertain try goes to staff.
            await workflow.execute_activity(
                "send_letter", SendLetterInput(key=key, application_id=inp.application_id),
                result_type=SendLetterResult, start_to_close_timeout=SEND_TIMEOUT,
                heartbeat_timeout=SEND_HEARTBEAT_TIMEOUT, retry_policy=LETTER_RETRY,
            )
        else:
            await workflow.execute_activity(
                "dispatch_letter",
                DispatchInput(
                    key=key, application_id=inp.application_id,
                    recipient_name=inp.consultee.name, method=method,
                    email=inp.consultee.email, letter=letter,
                ),
                result_type=DispatchResult, start_to_close_timeout=ACTIVITY_TIMEOUT, retry_policy=LETTER_RETRY,
            )
        window_closes = end_of_day_instant(inp.window_ends_on)
        try:
            await workflow.wait_condition(
                lambda: self._answer is not None, timeout=max(window_closes - workflow.now(), timedelta(seconds=1))
            )
        except asyncio.TimeoutError:
            return self._result("silence", "", inp.window_ends_on)
        assert self._answer is not None
        return self._result(self._answer.position, self._answer.reasons, self._answer.answered_on or local_date(workflow.now()))

    def _result(self, position, reasons: str, ended_on) -> ConsultationResult:
        return ConsultationResult(
            consultation_id=self._inp.consultation_id, position=position, reasons=reasons,
            sent_on=self._sent_on, window_ends_on=self._inp.window_ends_on, ended_on=ended_on,
        )

    @workflow.update
    def answer(self, answer: ConsultationAnswer) -> ConsultationView:
        if answer.answered_on is None:
            answer = answer.model_copy(update={"answered_on": local_date(workflow.now())})
        self._answer = answer
        return self.view()

    @answer.validator
    def _validate_answer(self, answer: ConsultationAnswer) -> None:
        if self._answer is not None:
            raise ApplicationError("已收到您的意见，不能重复提交", type="ActionNotAllowed", non_retryable=True)
        if workflow.now() >= end_of_day_instant(self._inp.window_ends_on):
            raise ApplicationError(f"提出意见的期限已于 {self._inp.window_ends_on} 届满", type="ActionNotAllowed", non_retryable=True)
        if answer.answered_on is not None and not self._sent_on <= answer.answered_on <= local_date(workflow.now()):
            raise ApplicationError("答复日期须在征求意见函发出之日至今天之间", type="ActionNotAllowed", non_retryable=True)

    @workflow.query
    def view(self) -> ConsultationView:
        return ConsultationView(
            consultation_id=self._inp.consultation_id, consultee_kind=self._inp.consultee.kind,
            consultee_name=self._inp.consultee.name, item_descriptions=[d for _, d in self._inp.items],
            sent_on=self._sent_on, window_ends_on=self._inp.window_ends_on, answered=self._answer is not None,
        )
