"""A request to correct a record about the person (Reg. 41; seed 002 art. 19): the handler corrects
it and tells them, or forwards it to the competent agency and tells them, within the period
fixed at intake (an agency setting, default the agency's reply period: 15 working days, 20 under
national-2019; api/routes/corrections.py) counted by the application's clock."""

from datetime import datetime, time, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.disclosure import DisclosureActivities
    from activities.proactive import ProactiveActivities
    from activities.letters import LetterActivities
    from contracts.models import (ComposeLetterInput, DispatchInput, IssueLetterInput, Letter, ReplyItem,
                                  SendLetterInput)
    from workflows.delivery import PERSIST_RETRY, SEND_TIMEOUT, send_through_outbox
    from clock import SHANGHAI, ClockInput, compute_due, end_of_day_instant, local_date, reminder_date
    from outcomes import OutcomeCode
    from workcalendar import WorkCalendar
    from workflows.deadline_loop import Pending, StaffProcess, recounted, refuse
    from contracts.calendar import CalendarYearPublished
    from contracts.corrections import (
        CorrectionInput, CorrectionRecord, CorrectionView, CorrectRecord, ForwardCorrection, RefuseCorrection,
        ReviewCorrectionLetter,
    )
    from contracts.proactive import AlertRecord, HistoryEntry, ItemQuery

ACTIVITY_TIMEOUT = timedelta(seconds=30)
RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1))
REMIND_WORKING_DAYS = 3
# Letters v2 for corrections (issue 12 point 10); corrections started before keep dispatch_letter on replay.
CORRECTION_LETTERS_V2 = "correction-letters-v2"
# Issue 24 point 4: each decision (correct, forward, refuse) drafts its letter, which goes out only after the
# confidentiality review (RULES §14); corrections decided before keep their direct letter on replay.
CORRECTION_REVIEW = "correction-review"
OPEN = ("handling", "in-review")
OUTCOME_LABELS = {"corrected": "予以更正", "forwarded": "转送有权机关", "refused": "不予更正"}


@workflow.defn(name="CorrectionWorkflow")
class CorrectionWorkflow(StaffProcess):
    Entry, Alert = HistoryEntry, AlertRecord

    @workflow.init
    def __init__(self, inp: CorrectionInput) -> None:
        self._inp = inp
        self._calendar_data = inp.calendar
        self._due, self._remind_at = self._count(WorkCalendar(inp.calendar))
        self._status = "handling"
        self._result, self._forwarded_to = "", None
        self._letter: Letter | None = None
        self._begin(inp.correction_id, "registered", inp.registered_by,
                    f"登记更正申请（{'网上' if inp.channel == 'online' else '窗口'}）")
        # The decision awaiting review: (status it leads to, who decided, result, forwarded to, letter kind).
        self._pending: tuple[str, str, str, str | None, str] | None = None

    def _count(self, cal: WorkCalendar):
        """The due date (Reg. 41 on the reply period's clock, the period fixed at intake) and the reminder."""
        due = compute_due(cal, ClockInput(received_on=self._inp.received_on, reply_days=self._inp.reply_days,
                                          receipt_basis="更正申请收到之日"))
        remind_on = reminder_date(cal, due.due_on, REMIND_WORKING_DAYS, not_before=due.start_on)
        return due, datetime.combine(remind_on, time(9), tzinfo=SHANGHAI)

    @workflow.signal
    async def calendar_published(self, fact: CalendarYearPublished) -> None:
        """A calendar year was published (issue 13): while the request is being handled, its due date and
        reminder are recounted on it, the move recorded with its reason and the one timer re-armed."""
        data = self._take_calendar(fact)
        if data is None:
            return
        if self._status not in OPEN:
            return
        before = self._due
        due, remind_at = self._count(WorkCalendar(data))
        if remind_at != self._remind_at:
            self._remind_at = remind_at
            self._changes += 1  # the timer is re-armed on the reminder's new instant
        self._due, entries = recounted("办理期限", before, due, self._moves, fact, data.version)
        await self._recount_recorded(entries)

    @workflow.run
    async def run(self, inp: CorrectionInput) -> CorrectionView:
        await self._persist()
        await self._deadline_loop(lambda: self._status in OPEN)
        return self.view()

    def _next_alert(self) -> Pending[None] | None:
        return self._remind_then_escalate(self._remind_at, end_of_day_instant(self._due.due_on))

    async def _fire(self, _: None) -> None:
        due, number = self._due.due_on.isoformat(), self._inp.correction_id
        await self._remind_or_escalate(number, self._inp.supervisor_email,
                                       remind=f"更正申请 {number} 应于 {due} 前办结（更正并告知或转送并告知），请抓紧办理",
                                       escalate=f"更正申请 {number} 办理期限已于 {due} 届满仍未办结，请督办")

    @workflow.update
    async def correct(self, cmd: CorrectRecord) -> CorrectionView:
        self._refuse_correct(cmd)
        if workflow.patched(CORRECTION_REVIEW):
            return await self._propose("corrected", cmd.by, cmd.result, None, "correction-made", f"拟予更正：{cmd.result}",
                                       reasons=cmd.result)
        self._status, self._result = "corrected", cmd.result
        self._record("corrected", cmd.by, f"已更正：{cmd.result}")
        await self._notify("correction-made", reasons=cmd.result)
        return self.view()

    @correct.validator
    def _refuse_correct(self, cmd: CorrectRecord) -> None:
        refuse(self._why_final())
        if len(cmd.result.strip()) < 2:
            refuse("请写明更正的内容")

    @workflow.update
    async def forward(self, cmd: ForwardCorrection) -> CorrectionView:
        self._refuse_forward(cmd)
        if workflow.patched(CORRECTION_REVIEW):
            return await self._propose("forwarded", cmd.by, cmd.reason, cmd.agency, "correction-forwarded",
                                       f"本机关无权更正，拟转送{cmd.agency}", reasons=cmd.reason, referral=cmd.agency)
        self._status, self._forwarded_to, self._result = "forwarded", cmd.agency, cmd.reason
        self._record("forwarded", cmd.by, f"本机关无权更正，转送{cmd.agency}")
        await self._notify("correction-forwarded", reasons=cmd.reason, referral=cmd.agency)
        return self.view()

    @forward.validator
    def _refuse_forward(self, cmd: ForwardCorrection) -> None:
        refuse(self._why_final())
        if len(cmd.agency.strip()) < 2:
            refuse("请写明有权更正的机关名称")

    @workflow.update
    async def refuse_correction(self, cmd: RefuseCorrection) -> CorrectionView:
        """Reg. 41 (RULES §7; issue 24 point 4): 不予更正, with its reasons and the remedies, through review."""
        self._refuse_refusal(cmd)
        why = "记录准确" if cmd.record_accurate else "证据不能证明记录有误"
        return await self._propose("refused", cmd.by, cmd.reasons, None, "correction-refused",
                                   f"拟不予更正（{why}）：{cmd.reasons}", reasons=cmd.reasons,
                                   record_accurate=cmd.record_accurate)

    @refuse_correction.validator
    def _refuse_refusal(self, cmd: RefuseCorrection) -> None:
        refuse(self._why_final())
        if len(cmd.reasons.strip()) < 4:
            refuse("不予更正须写明理由（记录为何准确，或证据为何不能证明记录有误）")

    async def _propose(self, outcome: str, by: str, result: str, forwarded_to: str | None, kind: str, summary: str,
                       **fields) -> CorrectionView:
        """The decision drafts its letter; it goes out when the confidentiality review approves it."""
        self._status, self._pending = "in-review", (outcome, by, result, forwarded_to, kind)
        self._record("proposed", by, summary + "；告知书送保密审查")
        self._letter = await self._compose(kind, **fields)
        await self._persist()
        return self.view()

    @workflow.update
    async def review_letter(self, cmd: ReviewCorrectionLetter) -> CorrectionView:
        self._refuse_review(cmd)
        assert self._pending is not None and self._letter is not None
        outcome, _, result, forwarded_to, kind = self._pending
        self._pending = None
        if not cmd.approve:
            self._status, self._letter = "handling", None
            self._record("returned", cmd.by, f"保密审查退回：{cmd.comment}")
            await self._persist()
            return self.view()
        self._status, self._result, self._forwarded_to = outcome, result, forwarded_to
        self._record("reviewed", cmd.by, f"保密审查通过，{OUTCOME_LABELS[outcome]}告知书发出" +
                     (f"：{cmd.comment}" if cmd.comment else ""))
        self._changes += 1
        await self._send(kind, self._letter)
        return self.view()

    @review_letter.validator
    def _refuse_review(self, cmd: ReviewCorrectionLetter) -> None:
        if self._status != "in-review" or self._pending is None:
            refuse(self._why_final() or "没有待保密审查的告知书")
        if self._letter is None:
            refuse("告知书正在生成，请稍后再审查")
        if cmd.by == self._pending[1]:
            refuse("告知书须由作出决定的承办人以外的人员审查（谁签发、谁把关）")
        if not cmd.approve and len(cmd.comment.strip()) < 2:
            refuse("退回须写明意见")

    def _why_final(self) -> str | None:
        if self._status == "corrected":
            return "该更正申请已更正并告知申请人"
        if self._status == "forwarded":
            return f"该更正申请已转送{self._forwarded_to}"
        if self._status == "refused":
            return "该更正申请已决定不予更正并告知申请人"
        if self._status == "in-review":
            return "已作出决定，告知书正在保密审查，审查退回后才能改变决定"
        return None

    async def _compose(self, kind: str, **fields) -> Letter:
        return await workflow.execute_activity_method(
            DisclosureActivities.compose_letter,
            ComposeLetterInput(application_id=self._inp.correction_id, kind=kind, agency_name=self._inp.agency_name,
                               recipient_name=self._inp.person_name, letter_date=local_date(workflow.now()),
                               received_on=self._inp.received_on,
                               items=[ReplyItem(item_no=1, description=f"{self._inp.record}：{self._inp.correction}",
                                                outcome=OutcomeCode.DISCLOSED)], **fields),
            start_to_close_timeout=ACTIVITY_TIMEOUT, retry_policy=RETRY)

    async def _notify(self, kind: str, **fields) -> None:
        """Before issue 24: the decision's letter composed and sent at once (replayed histories)."""
        self._changes += 1
        letter = await self._compose(kind, **fields)
        self._letter = letter
        await self._send(kind, letter)

    async def _send(self, kind: str, letter: Letter) -> None:
        key, method = f"{self._inp.correction_id}:{kind}", "email" if self._inp.email else "post"
        if workflow.patched(CORRECTION_LETTERS_V2):
            # Issue 12 point 10: the application's letters path: issued once (文号, PDF, outbox row), sent
            # by the one bounded sending loop (workflows/delivery.py), each failed try on the outbox row.
            await workflow.execute_activity_method(
                LetterActivities.issue_letter,
                IssueLetterInput(key=key, application_id=self._inp.correction_id, letter=letter,
                                 letter_date=local_date(workflow.now()), recipient_name=self._inp.person_name,
                                 method=method, email=self._inp.email, address=self._inp.address),
                start_to_close_timeout=SEND_TIMEOUT, retry_policy=PERSIST_RETRY)
            sent = await send_through_outbox(SendLetterInput(key=key, application_id=self._inp.correction_id))
            if sent.status != "sent":
                self._record("letter-awaiting-staff", "system", f"{letter.subject} 待工作人员寄送或交付（{sent.status}）")
                await self._persist()
                return
        else:
            await workflow.execute_activity_method(
                DisclosureActivities.dispatch_letter,
                DispatchInput(key=key, application_id=self._inp.correction_id,
                              recipient_name=self._inp.person_name, method=method,
                              email=self._inp.email, letter=letter, address=self._inp.address),
                start_to_close_timeout=ACTIVITY_TIMEOUT, retry_policy=RETRY)
        self._record("letter-sent", "system", f"已告知申请人：{letter.subject}")
        await self._persist()

    @workflow.query
    def state(self, _: ItemQuery) -> CorrectionView:
        return self.view()

    def view(self) -> CorrectionView:
        i = self._inp
        return CorrectionView(correction_id=i.correction_id, person_name=i.person_name, record=i.record,
                              correction=i.correction, evidence=i.evidence, channel=i.channel,
                              received_on=i.received_on, due_on=self._due.due_on, due_steps=self._due.steps,
                              status=self._status, result=self._result, forwarded_to=self._forwarded_to,
                              letter_subject=self._letter.subject if self._letter else None,
                              letter_draft=self._letter.body if self._letter and self._status == "in-review" else None,
                              decided_by=self._pending[1] if self._pending else None,
                              alerts=self._alerts, history=self._history)

    async def _persist(self) -> None:
        i = self._inp
        await workflow.execute_activity_method(
            ProactiveActivities.save_correction,
            CorrectionRecord(id=i.correction_id, person_name=i.person_name, email=i.email, address=i.address,
                             record=i.record, correction=i.correction, evidence=i.evidence, channel=i.channel,
                             received_on=i.received_on, due_on=self._due.due_on, status=self._status,
                             result=self._result, forwarded_to=self._forwarded_to),
            start_to_close_timeout=ACTIVITY_TIMEOUT, retry_policy=RETRY)
