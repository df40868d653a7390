"""One consultation (Reg. 32 third party, Reg. 34 co-producing agency): a child of the application.

Its own workflow, so a third party's answer goes to it directly (its id is in the link they get)
and its window runs on its own timer.

Since issue 11 (`workflow.patched(FROM_RECEIPT)`): the letter has a dispatch date (the mail server
accepted it; staff handed it to the post) and a receipt date (e-mail accepted for delivery; the
post's signed-for date). The application's clock stops on dispatch; the consultee's 15 working days
run from receipt (Reg. 32: 自收到征求意见书之日起), shown as provisional until receipt is known. An
answer counts by the day the agency received it, entered by staff (who is recorded) or the day it
arrived through the link; a third party never sets its own date. Workflows started before keep the
old path (window from the letter's creation).
"""

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.disclosure import DisclosureActivities
    from activities.letters import LetterActivities
    from contracts.models import (
        ComposeLetterInput,
        DispatchInput,
        IssueLetterInput,
        ReplyItem,
        SendLetterInput,
        SendLetterResult,
    )
    from clock import add_working_days_from, end_of_day_instant, local_date
    from outcomes import OutcomeCode
    from workcalendar import WorkCalendar
    from workflows.delivery import SEND_ROUNDS, send_through_outbox
    from workflows.messages import (
        CalendarYearPublished,
        ConsultationAnswer,
        ConsultationInput,
        ConsultationProgress,
        ConsultationResult,
        ConsultationView,
        RecordService,
    )

ACTIVITY_TIMEOUT = timedelta(seconds=30)
LETTER_RETRY = RetryPolicy(initial_interval=timedelta(seconds=2), maximum_interval=timedelta(minutes=5))
# Letters v2 (issue 4), the same patch id as the application's: issued once, sent by the outbox.
LETTERS_V2 = "letters-v2-outbox"
SEND_TIMEOUT = timedelta(minutes=2)
SEND_HEARTBEAT_TIMEOUT = timedelta(seconds=10)
# Issue 11: the window runs from the letter's receipt, the clock stops on its dispatch.
FROM_RECEIPT = "consultation-from-receipt"


def _refuse(message: str) -> None:
    raise ApplicationError(message, type="ActionNotAllowed", non_retryable=True)


@workflow.defn(name="DisclosureConsultation")
class ConsultationWorkflow:
    @workflow.init
    def __init__(self, inp: ConsultationInput) -> None:
        self._inp = inp
        self._sent_on = local_date(workflow.now())
        self._answer: ConsultationAnswer | None = None
        # Decided here, not in run(): an update that arrives with the first workflow task is validated
        # before run() starts, and must already see how this consultation counts its window.
        self._from_receipt = inp.calendar is not None and workflow.patched(FROM_RECEIPT)
        self._dispatched_on = inp.dispatched_on
        self._served_on = inp.served_on
        self._service_evidence = inp.service_evidence
        self._window_ends_on = inp.window_ends_on
        self._window_provisional = False
        self._window_basis = ""
        self._cal = WorkCalendar(inp.calendar) if inp.calendar is not None else None
        self._letter_attempts, self._letter_error = 0, ""  # failed tries of the letter (outbox row has each)

    @workflow.run
    async def run(self, inp: ConsultationInput) -> ConsultationResult:
        if self._from_receipt:
            return await self._run_from_receipt(inp)
        letter = await workflow.execute_activity_method(
            DisclosureActivities.compose_letter,
            ComposeLetterInput(
                application_id=inp.application_id, kind="consultation-letter", agency_name=inp.agency_name,
                recipient_name=inp.consultee.name, letter_date=self._sent_on, received_on=inp.received_on,
                items=[ReplyItem(item_no=n, description=d, outcome=OutcomeCode.DISCLOSED) for n, d in inp.items],
                deadline_on=inp.window_ends_on, consultation_id=inp.consultation_id,
            ),
            start_to_close_timeout=ACTIVITY_TIMEOUT, retry_policy=LETTER_RETRY,
        )
        key, method = f"{inp.consultation_id}:letter", "email" if inp.consultee.email else "post"
        if workflow.patched(LETTERS_V2):
            await workflow.execute_activity_method(
                LetterActivities.issue_letter,
                IssueLetterInput(key=key, application_id=inp.application_id, letter=letter, letter_date=self._sent_on,
                                 recipient_name=inp.consultee.name, method=method, email=inp.consultee.email,
                                 address=inp.consultee.address),
                start_to_close_timeout=SEND_TIMEOUT, retry_policy=LETTER_RETRY,
            )
            # The outbox sends once; an outage is retried with backoff, an uncertain try goes to staff.
            await self._send(SendLetterInput(key=key, application_id=inp.application_id))
        else:
            await workflow.execute_activity_method(
                DisclosureActivities.dispatch_letter,
                DispatchInput(
                    key=key, application_id=inp.application_id,
                    recipient_name=inp.consultee.name, method=method,
                    email=inp.consultee.email, letter=letter,
                ),
                start_to_close_timeout=ACTIVITY_TIMEOUT, retry_policy=LETTER_RETRY,
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

    async def _send(self, inp: SendLetterInput) -> SendLetterResult:
        """The application's sending loop (workflows/delivery.py, issue 12 point 10): bounded rounds, the
        tries on the outbox row, the handler alerted after three. Children started before keep the
        server's unbounded retry of one send (no alerts)."""
        if workflow.patched(SEND_ROUNDS):
            return await send_through_outbox(inp, on_failed_round=self._letter_failed)
        return await workflow.execute_activity_method(
            LetterActivities.send_letter, inp, start_to_close_timeout=SEND_TIMEOUT,
            heartbeat_timeout=SEND_HEARTBEAT_TIMEOUT, retry_policy=LETTER_RETRY,
        )

    async def _letter_failed(self, attempts: int, last_error: str) -> None:
        self._letter_attempts, self._letter_error = attempts, last_error

    def _result(self, position, reasons: str, ended_on) -> ConsultationResult:
        return ConsultationResult(
            consultation_id=self._inp.consultation_id, position=position, reasons=reasons,
            sent_on=self._sent_on, window_ends_on=self._inp.window_ends_on, ended_on=ended_on,
        )

    # --- issue 11: dispatch and receipt ------------------------------------------------------------

    async def _run_from_receipt(self, inp: ConsultationInput) -> ConsultationResult:
        kind = "consultation-letter" if inp.consultee.kind == "third-party" else "agency-consultation-letter"
        letter = await workflow.execute_activity_method(
            DisclosureActivities.compose_letter,
            ComposeLetterInput(
                application_id=inp.application_id, kind=kind, agency_name=inp.agency_name,
                recipient_name=inp.consultee.name, letter_date=self._sent_on, received_on=inp.received_on,
                items=[ReplyItem(item_no=n, description=d, outcome=OutcomeCode.DISCLOSED) for n, d in inp.items],
                consultation_id=inp.consultation_id,
            ),
            start_to_close_timeout=ACTIVITY_TIMEOUT, retry_policy=LETTER_RETRY,
        )
        key, method = f"{inp.consultation_id}:letter", "email" if inp.consultee.email else "post"
        await workflow.execute_activity_method(
            LetterActivities.issue_letter,
            IssueLetterInput(key=key, application_id=inp.application_id, letter=letter, letter_date=self._sent_on,
                             recipient_name=inp.consultee.name, method=method, email=inp.consultee.email,
                             address=inp.consultee.address),
            start_to_close_timeout=SEND_TIMEOUT, retry_policy=LETTER_RETRY,
        )
        sent = await self._send(SendLetterInput(key=key, application_id=inp.application_id))
        if sent.status == "sent" and sent.sent_at is not None and self._served_on is None:
            # E-mail: the day the mail server accepted it is both dispatch and receipt (到达特定系统).
            day = local_date(sent.sent_at)
            self._dispatched_on = self._dispatched_on or day
            self._served_on = day
            self._service_evidence = f"电子邮件于 {sent.sent_at.isoformat()} 由邮件服务器接收（Message-ID {sent.message_id}）"
        # What the application was last told; (None, None): nothing to tell until a dispatch is recorded
        # (waiting on `None` here returned at once and spun without yielding).
        reported: tuple | None = (None, None)
        while True:
            # Post or hand delivery: staff record dispatch (the clock stops) and receipt (the window runs).
            if self._dispatched_on is not None and reported != (self._dispatched_on, self._served_on):
                reported = (self._dispatched_on, self._served_on)
                self._count_window()
                await self._report()
            if self._answer is not None:
                return self._answered_result()
            if self._served_on is not None:
                break
            await workflow.wait_condition(
                lambda: self._answer is not None or reported != (self._dispatched_on, self._served_on))
        while True:  # re-armed when a published year moves the window (calendar_published)
            assert self._window_ends_on is not None
            window = self._window_ends_on
            window_closes = end_of_day_instant(window)
            try:
                await workflow.wait_condition(
                    lambda: self._answer is not None or self._window_ends_on != window,
                    timeout=max(window_closes - workflow.now(), timedelta(seconds=1)))
            except asyncio.TimeoutError:
                return self._result_v2("silence", "", self._window_ends_on)
            if self._answer is not None:
                return self._answered_result()

    @workflow.signal
    def calendar_published(self, fact: CalendarYearPublished) -> None:
        """Issue 11 point 13: the application tells its child when a year's schedule is published; the
        window, counted on the calendar, is counted again (the application records the move)."""
        if self._cal is None or not self._from_receipt:
            return
        self._cal = WorkCalendar(self._cal.data.with_year(fact.schedule))
        if self._dispatched_on is not None:
            self._count_window()

    def _count_window(self) -> None:
        """Reg. 32/34: 15 working days from receipt; from dispatch, provisionally, until receipt is known."""
        assert self._cal is not None and self._dispatched_on is not None
        start = self._served_on or self._dispatched_on
        self._window_ends_on, calendar_provisional = add_working_days_from(self._cal, start, self._inp.consultation_days)
        self._window_provisional = self._served_on is None
        if self._served_on is None:
            self._window_basis = (f"征求意见函已于 {self._dispatched_on} 发出，送达日期尚未确认；提出意见的期限自收到之日起 "
                                  f"{self._inp.consultation_days} 个工作日，暂按发出之日推算至 {self._window_ends_on}，"
                                  "确认送达后重新计算（provisional: counted from dispatch until receipt is known）")
        else:
            self._window_basis = (f"征求意见函于 {self._dispatched_on} 发出，{self._served_on} 送达"
                                  + (f"（{self._service_evidence}）" if self._service_evidence else "")
                                  + f"；自收到之日起 {self._inp.consultation_days} 个工作日，至 {self._window_ends_on} 止")
        if calendar_provisional:
            self._window_basis += "；所涉年度放假安排尚未公布，按周末及固定节假日暂算"

    async def _report(self) -> None:
        assert self._dispatched_on is not None and self._window_ends_on is not None
        await workflow.get_external_workflow_handle(self._inp.application_id).signal(
            "consultation_progress",
            ConsultationProgress(consultation_id=self._inp.consultation_id, dispatched_on=self._dispatched_on,
                                 served_on=self._served_on, window_ends_on=self._window_ends_on,
                                 window_provisional=self._window_provisional, window_basis=self._window_basis,
                                 service_evidence=self._service_evidence),
        )

    def _answered_result(self) -> ConsultationResult:
        assert self._answer is not None and self._answer.received_on is not None
        return self._result_v2(self._answer.position, self._answer.reasons, self._answer.received_on)

    def _result_v2(self, position, reasons: str, ended_on) -> ConsultationResult:
        answer = self._answer
        return ConsultationResult(
            consultation_id=self._inp.consultation_id, position=position, reasons=reasons,
            sent_on=self._dispatched_on or ended_on, window_ends_on=self._window_ends_on or ended_on, ended_on=ended_on,
            served_on=self._served_on,
            answer_received_on=answer.received_on if answer else None,
            answer_entered_by=answer.entered_by if answer else None,
            answer_evidence=answer.evidence if answer else "",
        )

    @workflow.update
    def record_service(self, cmd: RecordService) -> ConsultationView:
        if cmd.dispatched_on is not None:
            self._dispatched_on = cmd.dispatched_on
        if cmd.served_on is not None:
            self._served_on = cmd.served_on
            self._dispatched_on = self._dispatched_on or cmd.served_on
            self._service_evidence = cmd.evidence or self._service_evidence
        self._count_window()
        return self.view()

    @record_service.validator
    def _validate_record_service(self, cmd: RecordService) -> None:
        today = local_date(workflow.now())
        if not self._from_receipt:
            _refuse("本次征求意见按原办法办理（期限自发函之日起算），无需登记送达")
        if self._answer is not None:
            _refuse("已收到意见，无需再登记送达")
        if cmd.dispatched_on is None and cmd.served_on is None:
            _refuse("请填写寄出日期或送达日期")
        if self._served_on is not None:
            _refuse(f"征求意见函已于 {self._served_on} 送达，送达日期已登记")
        dispatched = cmd.dispatched_on or self._dispatched_on
        if self._dispatched_on is not None and cmd.dispatched_on is not None and cmd.dispatched_on != self._dispatched_on:
            _refuse(f"寄出日期已登记为 {self._dispatched_on}")
        for what, day in (("寄出日期", cmd.dispatched_on), ("送达日期", cmd.served_on)):
            if day is not None and not self._sent_on <= day <= today:
                _refuse(f"{what}须在征求意见函制作之日 {self._sent_on} 至今天之间")
        if cmd.served_on is not None and dispatched is not None and cmd.served_on < dispatched:
            _refuse(f"送达日期不能早于寄出日期 {dispatched}")

    @workflow.update
    def answer(self, answer: ConsultationAnswer) -> ConsultationView:
        if self._from_receipt:
            if answer.received_on is None:
                answer = answer.model_copy(update={"received_on": local_date(workflow.now())})
            self._answer = answer
            return self.view()
        if answer.answered_on is None:
            answer = answer.model_copy(update={"answered_on": local_date(workflow.now())})
        self._answer = answer
        return self.view()

    @answer.validator
    def _validate_answer(self, answer: ConsultationAnswer) -> None:
        if self._from_receipt:
            return self._validate_answer_from_receipt(answer)
        if self._answer is not None:
            raise ApplicationError("已收到您的意见，不能重复提交", type="ActionNotAllowed", non_retryable=True)
        if workflow.now() >= end_of_day_instant(self._inp.window_ends_on):
            raise ApplicationError(f"提出意见的期限已于 {self._inp.window_ends_on} 届满", type="ActionNotAllowed", non_retryable=True)
        if answer.answered_on is not None and not self._sent_on <= answer.answered_on <= local_date(workflow.now()):
            raise ApplicationError("答复日期须在征求意见函发出之日至今天之间", type="ActionNotAllowed", non_retryable=True)

    def _validate_answer_from_receipt(self, answer: ConsultationAnswer) -> None:
        today = local_date(workflow.now())
        if self._answer is not None:
            _refuse("已收到您的意见，不能重复提交")
        if answer.answered_on is not None:
            _refuse("意见以本机关收到之日为准，由工作人员登记收到日期")
        if answer.entered_by is None and answer.received_on is not None:
            _refuse("意见以本机关收到之日为准，提出意见的一方不能自行填写日期")
        received = answer.received_on or today
        earliest = self._dispatched_on or self._sent_on
        if not earliest <= received <= today:
            _refuse(f"收到意见的日期须在征求意见函发出之日 {earliest} 至今天之间")
        if self._served_on is not None and self._window_ends_on is not None and received > self._window_ends_on:
            _refuse(f"提出意见的期限已于 {self._window_ends_on} 届满（{received} 收到的意见已逾期）")

    @workflow.query
    def view(self) -> ConsultationView:
        if self._from_receipt:
            return ConsultationView(
                consultation_id=self._inp.consultation_id, consultee_kind=self._inp.consultee.kind,
                consultee_name=self._inp.consultee.name, item_descriptions=[d for _, d in self._inp.items],
                sent_on=self._dispatched_on, window_ends_on=self._window_ends_on, answered=self._answer is not None,
                served_on=self._served_on, window_provisional=self._window_provisional, window_basis=self._window_basis,
                answer_received_on=self._answer.received_on if self._answer else None,
                answer_entered_by=self._answer.entered_by if self._answer else None,
                letter_attempts=self._letter_attempts, letter_last_error=self._letter_error,
            )
        return ConsultationView(
            consultation_id=self._inp.consultation_id, consultee_kind=self._inp.consultee.kind,
            consultee_name=self._inp.consultee.name, item_descriptions=[d for _, d in self._inp.items],
            sent_on=self._sent_on, window_ends_on=self._inp.window_ends_on, answered=self._answer is not None,
            letter_attempts=self._letter_attempts, letter_last_error=self._letter_error,
        )
