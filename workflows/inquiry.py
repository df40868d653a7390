"""在线咨询 as a workflow (RULES §13; issue 26): a question from receipt to its reviewed answer, reminded and
escalated like an application, published with the asker's consent or turned into a disclosure application.

Orchestration only: the period comes from the pure rules in `participation/`; the deadline loop, alerts,
recording and saving are those every 政务公开 process shares (workflows/deadline_loop.py StaffProcess).
"""

from workflows import policies
from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.participation import ParticipationActivities
    from contracts.participation import (
        AlertRecord, AnswerInquiry, AnswerNotice, ConfirmConversion, HistoryEntry, InquiryInput, InquiryQuery,
        InquiryRecord, InquiryView, ProposeConversion, ReviewAnswer, RouteInquiry,
    )
    from participation.rules import email_of, inquiry_due
    from workcalendar import WorkCalendar
    from workflows.deadline_loop import Pending, StaffProcess, prescreened, recounted, refuse, save, why_not_review
    from contracts.calendar import CalendarYearPublished

ACTIVITY_TIMEOUT = policies.ACTIVITY_TIMEOUT
# The answer's e-mail: retried for about a day (a mail server down), then staff are told to reach the asker.
MAIL_RETRY = policies.COURTESY_MAIL


@workflow.defn(name="InquiryWorkflow")
class InquiryWorkflow(StaffProcess):
    """A 在线咨询 question: routed to a 科室, answered and reviewed within the agency's period (working days),
    reminded and escalated like an application; published with the asker's consent when of general
    interest; or turned into a disclosure application once the asker confirms."""

    Entry, Alert = HistoryEntry, AlertRecord

    @workflow.init
    def __init__(self, inp: InquiryInput) -> None:
        self._inp = inp
        self._calendar_data = inp.calendar
        self._period = inquiry_due(WorkCalendar(inp.calendar), inp.received_on, inp.answer_days)
        self._status = "unrouted"
        self._section: str | None = None
        self._answer: str | None = None
        self._answered_by: str | None = None
        self._answered_at = None
        self._general = False
        self._conversion_reason: str | None = None
        self._application_id: str | None = None
        self._application_received_on = None
        self._begin(inp.inquiry_id, "received", inp.registered_by,
                    "收到咨询" + ("（同意公开答复）" if inp.consent_publish else ""))

    @workflow.run
    async def run(self, inp: InquiryInput) -> InquiryView:
        await self._persist()
        await self._deadline_loop(lambda: self._status not in ("answered", "converted"))
        if self._status == "answered":  # after the reviewer's update has returned: the e-mail may take retries
            await self._send_answer()
            await self._persist()
        return self.view()

    def _next_alert(self) -> Pending[None] | None:
        if self._status == "awaiting-confirmation":
            return None  # waiting for the asker: the question is no longer the office's to answer
        return self._remind_then_escalate(self._period.remind_at, self._period.due_at)

    async def _fire(self, _: None) -> None:
        due, where, number = self._period.due_on.isoformat(), self._section or "登记窗口（尚未分办）", self._inp.inquiry_id
        await self._remind_or_escalate(number, self._inp.supervisor_email,
                                       remind=f"咨询 {number} 应于 {due} 前答复，尚未答复，请{where}抓紧办理",
                                       escalate=f"咨询 {number} 答复期限已于 {due} 届满仍未答复（{where}），请督办")

    @workflow.signal
    async def calendar_published(self, fact: CalendarYearPublished) -> None:
        """A calendar year was published: an unanswered question's period is recounted on it, the move recorded
        with its reason and the one timer re-armed (the reminder's instant moves with it)."""
        data = self._take_calendar(fact)
        if data is None:
            return
        if self._status in ("answered", "converted"):
            return
        before = self._period
        after = inquiry_due(WorkCalendar(data), self._inp.received_on, self._inp.answer_days)
        self._period, entries = recounted("答复期限", before, after, self._moves, fact, data.version)
        if self._period.remind_at != before.remind_at:
            self._changes += 1  # the timer is re-armed on the reminder's new instant
        await self._recount_recorded(entries)

    @workflow.update
    async def route(self, cmd: RouteInquiry) -> InquiryView:
        self._refuse_route(cmd)
        self._section, self._status = cmd.section, "routed"
        self._record("routed", cmd.by, f"分办至{cmd.section}")
        await self._persist()
        return self.view()

    @route.validator
    def _refuse_route(self, cmd: RouteInquiry) -> None:
        if self._status not in ("unrouted", "routed"):
            refuse(self._why_busy())
        if len(cmd.section.strip()) < 2:
            refuse("请填写承办科室")

    @workflow.update
    async def answer(self, cmd: AnswerInquiry) -> InquiryView:
        self._refuse_answer(cmd)
        self._answer, self._answered_by, self._general = cmd.answer, cmd.by, cmd.general_interest
        self._status = "in-review"
        self._record("answer-drafted", cmd.by, "拟写答复，送审查")
        await self._persist()
        return self.view()

    @answer.validator
    def _refuse_answer(self, cmd: AnswerInquiry) -> None:
        if self._status == "unrouted":
            refuse("请先将咨询分办至承办科室")
        if self._status != "routed":
            refuse(self._why_busy())
        if len(cmd.answer.strip()) < 2:
            refuse("请填写答复内容")

    @workflow.update
    async def review(self, cmd: ReviewAnswer) -> InquiryView:
        self._refuse_review(cmd)
        if cmd.approve:
            self._status, self._answered_at = "answered", workflow.now()
            late = workflow.now() > self._period.due_at
            self._record("answered", cmd.by, "审查通过，答复咨询人" + ("（超过答复期限）" if late else "")
                         + ("；答复具有普遍性，经咨询人同意予以公开" if self._published() else ""))
        else:
            self._status = "routed"
            self._record("answer-returned", cmd.by, f"答复审查退回：{cmd.comment}")
        await self._persist()
        return self.view()

    async def _send_answer(self) -> None:
        """The reviewed answer to the asker's e-mail address; without one (a phone number, or none), staff reach
        the asker, who can also read it with the query code."""
        email = email_of(self._inp.contact)
        if email is None:
            self._record("answer-not-sent", "system", "咨询人未留电子邮箱：答复可凭查询码查看，或由承办科室电话告知")
            return
        try:
            await workflow.execute_activity_method(
                ParticipationActivities.send_inquiry_answer,
                AnswerNotice(inquiry_id=self._inp.inquiry_id, email=email, name=self._inp.name,
                             question=self._inp.question, answer=self._answer or "", agency_name=self._inp.agency_name),
                start_to_close_timeout=ACTIVITY_TIMEOUT, retry_policy=MAIL_RETRY)
        except ActivityError:
            self._record("answer-not-sent", "system", "答复邮件未能发送，请承办科室联系咨询人（答复可凭查询码查看）")
            return
        self._record("answer-sent", "system", "答复已发送至咨询人的电子邮箱")

    @review.validator
    def _refuse_review(self, cmd: ReviewAnswer) -> None:
        refuse(why_not_review(cmd, self._answered_by, own="拟写答复的人员不能审查自己的答复",
                              nothing=None if self._status == "in-review" else "没有待审查的答复"))

    @workflow.update
    async def propose_conversion(self, cmd: ProposeConversion) -> InquiryView:
        self._refuse_propose(cmd)
        self._status, self._conversion_reason = "awaiting-confirmation", cmd.reason
        self._record("conversion-proposed", cmd.by, f"该咨询实为政府信息公开申请，待咨询人确认后转为申请：{cmd.reason}")
        await self._persist()
        return self.view()

    @propose_conversion.validator
    def _refuse_propose(self, cmd: ProposeConversion) -> None:
        if self._status not in ("unrouted", "routed"):
            refuse(self._why_busy())
        if len(cmd.reason.strip()) < 2:
            refuse("请说明为何转为政府信息公开申请")

    @workflow.update
    async def confirm_conversion(self, cmd: ConfirmConversion) -> InquiryView:
        self._refuse_confirm(cmd)
        self._status = "converted"
        self._application_id, self._application_received_on = cmd.application_id, cmd.received_on
        self._record("converted", "asker", f"咨询人确认，转为政府信息公开申请 {cmd.application_id}"
                     f"（收到申请之日 {cmd.received_on.isoformat()}）")
        await self._persist()
        return self.view()

    @confirm_conversion.validator
    def _refuse_confirm(self, cmd: ConfirmConversion) -> None:
        if self._status != "awaiting-confirmation":
            refuse("该咨询没有待确认的转为申请事项")

    def _why_busy(self) -> str:
        return {"in-review": "答复正在审查中", "answered": "该咨询已答复",
                "awaiting-confirmation": "该咨询正等待咨询人确认是否转为政府信息公开申请",
                "converted": "该咨询已转为政府信息公开申请"}.get(self._status, "当前不能办理")

    def _published(self) -> bool:
        return self._status == "answered" and self._general and self._inp.consent_publish

    @workflow.query
    def state(self, _: InquiryQuery) -> InquiryView:
        return self.view()

    def _on_time(self) -> bool | None:
        return None if self._answered_at is None else self._answered_at <= self._period.due_at

    def _overdue(self) -> bool:
        if self._answered_at is not None:
            return self._answered_at > self._period.due_at
        return self._status != "converted" and workflow.now() > self._period.due_at

    def view(self) -> InquiryView:
        i = self._inp
        return InquiryView(
            inquiry_id=i.inquiry_id, question=i.question, name=i.name, consent_publish=i.consent_publish,
            received_on=i.received_on, period=self._period, status=self._status, section=self._section,
            answer=self._answer, answered_by=self._answered_by, answered_at=self._answered_at, on_time=self._on_time(),
            overdue=self._overdue(), general_interest=self._general, published=self._published(),
            conversion_reason=self._conversion_reason, application_id=self._application_id,
            application_received_on=self._application_received_on, alerts=self._alerts, history=self._history,
            prescreen=prescreened(("答复", self._answer)) if self._answer else [])

    async def _persist(self) -> None:
        i = self._inp
        record = InquiryRecord(
            id=i.inquiry_id, question=i.question, name=i.name, contact=i.contact, consent_publish=i.consent_publish,
            received_on=i.received_on, due_on=self._period.due_on, status=self._status, section=self._section,
            answer=self._answer if self._status == "answered" else None, answered_at=self._answered_at,
            on_time=self._on_time(), overdue=self._overdue(), published=self._published(),
            application_id=self._application_id, code_hash=i.code_hash)
        await save(ParticipationActivities.save_inquiry, record)
