"""One consultation (Reg. 32 third party, Reg. 34 co-producing agency): a child of the application.

Its own workflow, so a third party's answer goes to it directly (its id is in the link they get)
and its window runs on its own timer.

The letter is served like every notice that starts a period (RULES §3 "Service", rules in notices/): dispatched
(our relay accepted the e-mail, staff handed it to the post: the application's clock stops), then served on its
proven receipt (a delivery status notification from the consultee's mail system, the post's signed-for date, a
signature): the consultee's 15 working days run from that day (Reg. 32: 自收到征求意见书之日起). Until then there is
no window and no silence. A letter that cannot be served (bounce, returned) is reported to staff, who serve it another
way or, as the last resort, by public notice (公告送达, deemed served 30 days after publication). An answer counts by
the day the agency received it, entered by staff (who is recorded) or the day it arrived through the link; a third
party never sets its own date.
"""

import asyncio
from datetime import timedelta

from workflows import policies
from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.disclosure import DisclosureActivities
    from activities.letters import LetterActivities
    from contracts.models import (
        ComposeLetterInput,
        IssueLetterInput,
        ReplyItem,
        SendLetterInput,
        SendLetterResult,
    )
    import notices
    from clock import end_of_day_instant, local_date
    from outcomes import OutcomeCode
    from workcalendar import WorkCalendar
    from workflows.delivery import send_through_outbox
    from contracts.calendar import CalendarYearPublished
    from contracts.consultations import (
        ConsultationAnswer, ConsultationInput, ConsultationProgress, ConsultationResult, ConsultationView,
        RecordService,
    )
    from contracts.service import NoticeService

ACTIVITY_TIMEOUT = policies.ACTIVITY_TIMEOUT
LETTER_RETRY = policies.DISPATCH
SEND_TIMEOUT = timedelta(minutes=2)


def _refuse(message: str) -> None:
    raise ApplicationError(message, type="ActionNotAllowed", non_retryable=True)


@workflow.defn(name="DisclosureConsultation")
class ConsultationWorkflow:
    @workflow.init
    def __init__(self, inp: ConsultationInput) -> None:
        self._inp = inp
        self._sent_on = local_date(workflow.now())
        self._answer: ConsultationAnswer | None = None
        self._notice = NoticeService(key=f"{inp.consultation_id}:letter", what="征求意见函", days=inp.consultation_days,
                                     dispatched_on=inp.dispatched_on, served_on=inp.served_on,
                                     served_evidence=inp.service_evidence)
        self._window_ends_on = inp.window_ends_on
        self._window_provisional = False
        self._window_basis = ""
        self._cal = WorkCalendar(inp.calendar) if inp.calendar is not None else None
        self._letter_attempts, self._letter_error = 0, ""  # failed tries of the letter (outbox row has each)

    @workflow.run
    async def run(self, inp: ConsultationInput) -> ConsultationResult:
        return await self._letter_then_window(inp)

    async def _send(self, inp: SendLetterInput) -> SendLetterResult:
        """The application's sending loop (workflows/delivery.py): bounded rounds, the tries on the outbox row,
        the handler alerted after three."""
        return await send_through_outbox(inp, on_failed_round=self._letter_failed)

    async def _letter_failed(self, attempts: int, last_error: str) -> None:
        self._letter_attempts, self._letter_error = attempts, last_error

    # --- dispatch and receipt (RULES §3 Service) -------------------------------------------------------

    async def _letter_then_window(self, inp: ConsultationInput) -> ConsultationResult:
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
        if sent.status == "sent" and sent.sent_at is not None:
            # E-mail: our relay's acceptance is dispatch (the clock stops); receipt is the consultee's mail system's
            # delivery status notification (api/routes/mail_returns.py), recorded through record_service.
            self._notice = notices.dispatch(self._notice, local_date(sent.sent_at),
                                            f"电子邮件于 {sent.sent_at.isoformat()} 由本机关发信服务器接收，"
                                            f"Message-ID {sent.message_id}")
        # What the application was last told; (None, None): nothing to tell until a dispatch is recorded
        # (waiting on `None` here returned at once and spun without yielding).
        reported: NoticeService | None = None  # what the application was last told
        while True:
            # Staff record dispatch (the clock stops), receipt (the window runs), or that it cannot be served.
            if self._notice.dispatched_on is not None and reported != self._notice:
                self._count_window()
                reported = self._notice
                await self._report()
                continue  # the notice may have changed while the application was told (a receipt recorded meanwhile)
            if self._answer is not None:
                return self._answered_result()
            if notices.running(self._notice):
                break
            seen = self._notice
            await workflow.wait_condition(lambda: self._answer is not None or self._notice != seen)
        while True:  # re-armed when a published year moves the window (calendar_published)
            assert self._window_ends_on is not None
            window = self._window_ends_on
            window_closes = end_of_day_instant(window)
            try:
                await workflow.wait_condition(
                    lambda: self._answer is not None or self._window_ends_on != window,
                    timeout=max(window_closes - workflow.now(), timedelta(seconds=1)))
            except asyncio.TimeoutError:
                return self._result("silence", "", self._window_ends_on)
            if self._answer is not None:
                return self._answered_result()

    @workflow.signal
    def calendar_published(self, fact: CalendarYearPublished) -> None:
        """Issue 11 point 13: the application tells its child when a year's schedule is published; the
        window, counted on the calendar, is counted again (the application records the move)."""
        if self._cal is None:
            return
        self._cal = WorkCalendar(self._cal.data.with_year(fact.schedule))
        if self._notice.dispatched_on is not None:
            self._count_window()

    def _count_window(self) -> None:
        """Reg. 32/34: 15 working days from receipt (notices/); from dispatch, provisionally, until receipt is known."""
        assert self._cal is not None and self._notice.dispatched_on is not None
        n = self._notice
        if n.served_on is not None:
            n = self._notice = notices.recount(n, self._cal)
            self._window_ends_on, calendar_provisional = n.ends_on, n.ends_provisional
        else:
            estimate = notices.serve(n, self._cal, n.dispatched_on, "post")
            self._window_ends_on, calendar_provisional = estimate.ends_on, estimate.ends_provisional
        self._window_provisional = n.served_on is None
        self._window_basis = notices.status_words(n)
        if n.served_on is None:
            self._window_basis += f"（暂按发出之日推算至 {self._window_ends_on}，送达后重新计算）"
        elif calendar_provisional and "暂算" not in self._window_basis:
            self._window_basis += "；所涉年度放假安排尚未公布，按周末及固定节假日暂算"

    async def _report(self) -> None:
        assert self._notice.dispatched_on is not None and self._window_ends_on is not None
        await workflow.get_external_workflow_handle(self._inp.application_id).signal(
            "consultation_progress",
            ConsultationProgress(consultation_id=self._inp.consultation_id, dispatched_on=self._notice.dispatched_on,
                                 served_on=self._notice.served_on, window_ends_on=self._window_ends_on,
                                 window_provisional=self._window_provisional, window_basis=self._window_basis,
                                 service_evidence=self._notice.served_evidence,
                                 unservable_on=self._notice.unservable_on,
                                 unservable_reason=self._notice.unservable_reason),
        )

    def _answered_result(self) -> ConsultationResult:
        assert self._answer is not None and self._answer.received_on is not None
        return self._result(self._answer.position, self._answer.reasons, self._answer.received_on)

    def _result(self, position, reasons: str, ended_on) -> ConsultationResult:
        answer = self._answer
        return ConsultationResult(
            consultation_id=self._inp.consultation_id, position=position, reasons=reasons,
            sent_on=self._notice.dispatched_on or ended_on, window_ends_on=self._window_ends_on or ended_on,
            ended_on=ended_on, served_on=self._notice.served_on,
            answer_received_on=answer.received_on if answer else None,
            answer_entered_by=answer.entered_by if answer else None,
            answer_evidence=answer.evidence if answer else "",
        )

    @workflow.update
    def record_service(self, cmd: RecordService) -> ConsultationView:
        """Staff (or the mail returns) record the letter's way: dispatched, served, unservable, or 公告送达."""
        assert self._cal is not None
        n = self._notice
        if cmd.dispatched_on is not None:
            n = notices.dispatch(n, cmd.dispatched_on, cmd.evidence if cmd.served_on is None else "")
        if cmd.unservable_on is not None:
            n = notices.unservable(n, cmd.unservable_on, cmd.unservable_reason)
        if cmd.published_on is not None:
            n = notices.publish(n, self._cal, cmd.published_on, cmd.published_where, cmd.by)
        if cmd.served_on is not None:
            n = notices.serve(n, self._cal, cmd.served_on, cmd.how or "post", cmd.evidence, cmd.by)
        self._notice = n
        if n.dispatched_on is not None:
            self._count_window()
        return self.view()

    @record_service.validator
    def _validate_record_service(self, cmd: RecordService) -> None:
        today = local_date(workflow.now())
        n = self._notice
        if self._answer is not None:
            _refuse("已收到意见，无需再登记送达")
        if cmd.dispatched_on is None and cmd.served_on is None and cmd.unservable_on is None and cmd.published_on is None:
            _refuse("请填写寄出日期、送达日期、无法送达的情况或公告日期")
        if n.served_on is not None:
            _refuse(f"征求意见函已于 {n.served_on} 送达，送达日期已登记")
        if n.dispatched_on is not None and cmd.dispatched_on is not None and cmd.dispatched_on != n.dispatched_on:
            _refuse(f"寄出日期已登记为 {n.dispatched_on}")
        for what, day in (("寄出日期", cmd.dispatched_on), ("送达日期", cmd.served_on),
                          ("无法送达的日期", cmd.unservable_on), ("公告日期", cmd.published_on)):
            if day is not None and not self._sent_on <= day <= today:
                _refuse(f"{what}须在征求意见函制作之日 {self._sent_on} 至今天之间")
        dispatched = cmd.dispatched_on or n.dispatched_on
        if cmd.served_on is not None and dispatched is not None and cmd.served_on < dispatched:
            _refuse(f"送达日期不能早于寄出日期 {dispatched}")
        if cmd.unservable_on is not None and len(cmd.unservable_reason.strip()) < 2:
            _refuse("请写明无法送达的原因（如邮件被退回、查无此单位）")
        if cmd.published_on is not None:
            if n.unservable_on is None and cmd.unservable_on is None:
                _refuse("公告送达是最后的送达方式：须先登记征求意见函无法以其他方式送达")
            if len(cmd.published_where.strip()) < 2:
                _refuse("请写明公告的地点或网址")

    @workflow.update
    def answer(self, answer: ConsultationAnswer) -> ConsultationView:
        if answer.received_on is None:
            answer = answer.model_copy(update={"received_on": local_date(workflow.now())})
        self._answer = answer
        return self.view()

    @answer.validator
    def _validate_answer(self, answer: ConsultationAnswer) -> None:
        today = local_date(workflow.now())
        if self._answer is not None:
            _refuse("已收到您的意见，不能重复提交")
        if answer.answered_on is not None:
            _refuse("意见以本机关收到之日为准，由工作人员登记收到日期")
        if answer.entered_by is None and answer.received_on is not None:
            _refuse("意见以本机关收到之日为准，提出意见的一方不能自行填写日期")
        received = answer.received_on or today
        earliest = self._notice.dispatched_on or self._sent_on
        if not earliest <= received <= today:
            _refuse(f"收到意见的日期须在征求意见函发出之日 {earliest} 至今天之间")
        if notices.running(self._notice) and self._window_ends_on is not None and received > self._window_ends_on:
            _refuse(f"提出意见的期限已于 {self._window_ends_on} 届满（{received} 收到的意见已逾期）")

    @workflow.query
    def view(self) -> ConsultationView:
        return ConsultationView(
            consultation_id=self._inp.consultation_id, consultee_kind=self._inp.consultee.kind,
            consultee_name=self._inp.consultee.name, item_descriptions=[d for _, d in self._inp.items],
            sent_on=self._notice.dispatched_on, window_ends_on=self._window_ends_on, answered=self._answer is not None,
            served_on=self._notice.served_on, window_provisional=self._window_provisional,
            window_basis=self._window_basis, service=self._notice,
            answer_received_on=self._answer.received_on if self._answer else None,
            answer_entered_by=self._answer.entered_by if self._answer else None,
            letter_attempts=self._letter_attempts, letter_last_error=self._letter_error,
        )
