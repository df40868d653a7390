"""The disclosure application workflow: one durable execution per application, id = its number.

Orchestration only. The rules it applies live in pure modules (clock, workcalendar, policy,
outcomes); everything that touches the world is an activity. Staff actions that need an answer are
Updates whose validators refuse, before anything is written to history, what the law or the
application's state does not allow now; the handler re-checks under the lock because another
action may have landed in between.
"""

import asyncio
import hashlib
from datetime import date, datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, ChildWorkflowError

with workflow.unsafe.imports_passed_through():
    from activities.models import (
        ApplicationRecord,
        ComposeLetterInput,
        DispatchInput,
        DispatchResult,
        EventRecord,
        IssuedLetter,
        IssueLetterInput,
        ItemRecord,
        Letter,
        LetterKind,
        RecordDeliveryInput,
        SendLetterInput,
        SendLetterResult,
        PersistApplicationInput,
        PrescreenInput,
        PrescreenResult,
        PrescreenText,
        ReplyItem,
        StaffAlertInput,
    )
    from clock import (
        ClockInput,
        DueDate,
        Pause,
        add_working_days_from,
        at_local_time,
        compute_due,
        end_of_day_instant,
        local_date,
        reminder_date,
        supplement_notice_deadline,
        working_days_left,
    )
    from fees import quote as fee_quote
    from outcomes import OutcomeCode, label_of
    from policy.intake import RECEIPT_BASIS
    from workcalendar import WorkCalendar
    from workflows import search_attributes as sa
    from workflows.consultation import ConsultationWorkflow
    from workflows.records import registration_summary
    from workflows.report_records import record_for_report
    from workflows.messages import (
        FINAL_STATUSES,
        ApplicationInput,
        ApplicationOutcome,
        ApplicationView,
        AssignHandler,
        CalendarYearPublished,
        ConfirmDelivery,
        ConsultationInput,
        Consultee,
        ConsultationProgress,
        ConsultationResult,
        ConsultationState,
        DecideExtension,
        DecideFee,
        DecideSupplementLapse,
        EditReplyDraft,
        FeeSettled,
        FeeState,
        ProposeFee,
        ExtensionState,
        ItemView,
        LateConsultationAnswer,
        LetterServed,
        LetterView,
        OverrideObjection,
        PausedInterval,
        PendingAction,
        Proposal,
        ProposeDecision,
        RequestExtension,
        RequestSupplement,
        RestartConsultation,
        ReviewDecision,
        SignReply,
        StartConsultation,
        StateQuery,
        Status,
        SubmitForReview,
        SupplementReceived,
        SupplementState,
        TimelineEntry,
        Withdraw,
    )

# Our own database: keep trying, an outage must not lose a record.
PERSIST_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1))
# Letters: back off up to five minutes between tries; a bad address is not worth retrying.
DISPATCH_RETRY = RetryPolicy(initial_interval=timedelta(seconds=2), maximum_interval=timedelta(minutes=5))
PURE_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=30), maximum_attempts=10)
ACTIVITY_TIMEOUT = timedelta(seconds=30)
REMINDER_HOUR = 9

# Letters v2 (issue 4): each letter is issued once (文号, PDF, outbox row) and sent by the outbox.
# Workflows that ran the old compose → dispatch_letter path keep it on replay.
LETTERS_V2 = "letters-v2-outbox"
# One try per activity: the workflow retries with DISPATCH_RETRY's backoff itself, so that staff
# see every failed try (attempts, last error) in the application's state.
SEND_ONCE = RetryPolicy(maximum_attempts=1)
SEND_TIMEOUT = timedelta(minutes=2)
SEND_HEARTBEAT_TIMEOUT = timedelta(seconds=10)
# After this many failed tries the handler is told that a letter is held up.
DELIVERY_ALERT_AFTER_ATTEMPTS = 3

# Issue 11: a consultation's window runs from the letter's receipt; the clock stops on its dispatch;
# a failed or terminated consultation is shown to staff and can be restarted.
CONSULT_FROM_RECEIPT = "consultation-from-receipt"
# Issue 11, Reg. 30: a lapsed supplement deadline closes nothing by itself; the handler or supervisor decides.
SUPPLEMENT_LAPSE_DECIDED = "supplement-lapse-decided"
# Issue 11 point 12, Reg. 42: fees proposed, approved, noticed, paid or waived; unpaid -> 其他处理-2.
FEES = "fees-v1"
FEE_PAY_DAYS = 20  # 国办函〔2020〕109号: 20 working days from receipt of the fee notice
# Issue 11 point 14: a supplement or fee notice's proof of service (e-mail accepted, signed for, picked up,
# downloaded) dates the applicant's window; the e-mail's acceptance is applied as it happens.
LETTER_EVIDENCE = "letter-evidence"


def window_days_of(cal: WorkCalendar, issued_on: date, deadline_on: date) -> int:
    """How many working days a notice dated `issued_on` gave until `deadline_on`: the same count then runs from its
    receipt (Reg. 30 补正期限; 国办函〔2020〕109号 自收到收费通知之日起). At least 1."""
    day0, _ = cal.next_workday_on_or_after(issued_on)
    return max(1, cal.workdays_between(day0, deadline_on)[0])


# Reg. 40: how the information is provided, by the form the applicant asked for (the handler may say otherwise).
PROVISION_BY_FORM: dict[str, str] = {
    "email": "以电子文档形式，随本告知书通过电子邮件提供",
    "post": "以纸质复制件形式，随本告知书邮寄提供",
    "pickup": "以纸质复制件形式提供，请于收到本告知书之日起在工作日到本机关政府信息公开受理窗口领取",
    "portal": "以电子文档形式提供，请通过本机关政府信息公开申请平台下载",
    "disc": "以光盘形式，随本告知书提供",
    "inspection": "请于收到本告知书之日起在工作日到本机关政府信息公开受理窗口现场查阅",
}

DISCLOSING_OUTCOMES = frozenset({OutcomeCode.DISCLOSED, OutcomeCode.PARTLY_DISCLOSED})
SYSTEM_ONLY_OUTCOMES = frozenset({OutcomeCode.OTHER_NO_SUPPLEMENT, OutcomeCode.OTHER_FEE_UNPAID})


class ActionNotAllowed(ApplicationError):
    """Refusal of a staff action, worded for the clerk who tried it."""

    def __init__(self, message: str) -> None:
        super().__init__(message, type="ActionNotAllowed", non_retryable=True)


@workflow.defn(name="DisclosureApplication")
class DisclosureApplicationWorkflow:
    @workflow.init
    def __init__(self, inp: ApplicationInput) -> None:
        self._inp = inp
        self._calendar_data = inp.calendar
        self._cal = WorkCalendar(inp.calendar)
        self._phase: Status = "handling"
        self._handler = inp.handler
        self._department = inp.department
        self._items = [ItemView(item_no=n, description=it.description) for n, it in enumerate(inp.items, start=1)]
        self._supplement: SupplementState | None = None
        self._closing_unsupplemented = False  # 其他处理-1 decided: the reply goes through review and signature
        self._fee: FeeState | None = None
        self._restarted_on: date | None = None
        self._extension: ExtensionState | None = None
        self._consultations: list[ConsultationState] = []
        self._consultees: dict[str, Consultee] = {}
        self._findings: list = []
        self._reply_draft: Letter | None = None
        self._draft_version = 0
        self._approved_sha256: str | None = None
        self._letters: list[LetterView] = []
        self._review_comment = ""
        self._replied_on: date | None = None
        self._delivered_on: date | None = None
        self._overdue = False
        self._alerts_raised: set[str] = set()
        self._timeline: list[TimelineEntry] = []
        self._persisted_seq = 0
        self._letters_in_flight = 0
        self._lock = asyncio.Lock()
        self._clock_changed = False
        self._supplement_notice_by, _ = supplement_notice_deadline(
            self._cal, inp.received_on, inp.policy.supplement_notice_days
        )
        self._due = self._compute_due()
        self._record("registered", inp.registered_by, registration_summary(inp, self._due))

    # --- the run: wait for the next deadline, act on it, until the application ends -------

    @workflow.run
    async def run(self, inp: ApplicationInput) -> ApplicationOutcome:
        async with self._lock:
            self._send_letter("acknowledgment", key_suffix="ack", deadline_on=self._due.due_on)
            await self._persist()
        while self._phase not in FINAL_STATUSES:
            await self._sleep_until_next_deadline()
            async with self._lock:
                await self._act_on_deadlines()
        await workflow.wait_condition(lambda: self._letters_in_flight == 0 and workflow.all_handlers_finished())
        async with self._lock:
            await self._persist()
        return ApplicationOutcome(
            application_id=inp.application_id,
            status=self._phase,
            items=self._items,
            replied_on=self._replied_on,
            due_on=self._due.due_on,
            on_time=None if self._replied_on is None else self._replied_on <= self._due.due_on,
        )

    async def _sleep_until_next_deadline(self) -> None:
        wake_at = self._next_wake_at()
        self._clock_changed = False
        if wake_at is not None and wake_at <= workflow.now():
            return
        timeout = None if wake_at is None else wake_at - workflow.now()
        try:
            await workflow.wait_condition(
                lambda: self._clock_changed or self._phase in FINAL_STATUSES, timeout=timeout
            )
        except asyncio.TimeoutError:
            pass

    def _next_wake_at(self) -> datetime | None:
        if self._phase == "awaiting-supplement" and self._supplement is not None:
            if self._supplement.lapsed_on is not None:
                return None  # the handler decides
            return end_of_day_instant(self._supplement.deadline_on)
        if self._replied_on is not None or self._phase in FINAL_STATUSES or self._closing():
            return None
        candidates = []
        if self._fee_running():
            assert self._fee is not None and self._fee.pay_by is not None
            candidates.append(end_of_day_instant(self._fee.pay_by))
        if self._reminder_key() not in self._alerts_raised:
            candidates.append(self._reminder_at())
        if self._overdue_key() not in self._alerts_raised:
            candidates.append(end_of_day_instant(self._due.due_on))
        return min(candidates, default=None)

    async def _act_on_deadlines(self) -> None:
        now = workflow.now()
        if self._phase == "awaiting-supplement" and self._supplement is not None:
            if now >= end_of_day_instant(self._supplement.deadline_on) and self._supplement.lapsed_on is None:
                if workflow.patched(SUPPLEMENT_LAPSE_DECIDED):
                    await self._supplement_lapsed()
                else:
                    await self._abandon()
            return
        if self._replied_on is not None or self._phase in FINAL_STATUSES or self._closing():
            return
        if self._fee_running() and self._fee is not None and self._fee.pay_by is not None \
                and now >= end_of_day_instant(self._fee.pay_by):
            await self._fee_lapsed()
            return
        if now >= self._reminder_at() and self._reminder_key() not in self._alerts_raised:
            self._alerts_raised.add(self._reminder_key())
            self._record("reminder", "system", f"提醒承办人：答复期限 {self._due.due_on} 将至")
            await self._alert(self._reminder_key(), "reminder", "handler", self._handler,
                              f"{self._inp.application_id} 答复期限 {self._due.due_on}，请抓紧办理")
        if now >= end_of_day_instant(self._due.due_on) and self._overdue_key() not in self._alerts_raised:
            self._alerts_raised.add(self._overdue_key())
            self._overdue = True
            self._record("overdue", "system", f"已超过答复期限 {self._due.due_on}，报负责人督办")
            await self._alert(self._overdue_key(), "overdue", "supervisor", None,
                              f"{self._inp.application_id} 已逾期（答复期限 {self._due.due_on}），请督办")
        await self._persist()

    def _reminder_at(self) -> datetime:
        day = reminder_date(self._cal, self._due.due_on, self._inp.policy.reminder_days_before_due,
                            not_before=self._due.start_on)
        return at_local_time(day, REMINDER_HOUR)

    def _reminder_key(self) -> str:
        return f"{self._inp.application_id}:reminder:{self._due.due_on}"

    def _overdue_key(self) -> str:
        return f"{self._inp.application_id}:overdue:{self._due.due_on}"

    async def _abandon(self) -> None:
        assert self._supplement is not None
        self._phase = "abandoned"
        for item in self._items:
            item.final_outcome = OutcomeCode.OTHER_NO_SUPPLEMENT
        self._replied_on = self._today()
        self._record("abandoned", "system", f"补正期限 {self._supplement.deadline_on} 届满未补正，视为放弃申请")
        self._send_letter("reply", key_suffix="reply", items=[
            ReplyItem(item_no=i.item_no, description=i.description, outcome=OutcomeCode.OTHER_NO_SUPPLEMENT,
                      reasons=f"本机关于 {self._supplement.notice_sent_on} 告知补正，申请人未在补正期限 "
                              f"{self._supplement.deadline_on} 前补正，视为放弃申请")
            for i in self._items
        ])
        await self._persist()
        await record_for_report(self, "abandoned")

    def _closing(self) -> bool:
        """其他处理-1 or -2 under way: no reply period runs."""
        return self._closing_unsupplemented or bool(self._fee and self._fee.lapsed_on is not None)

    def _fee_running(self) -> bool:
        fee = self._fee
        return bool(fee and fee.decision == "approved" and fee.paid_on is None and fee.lapsed_on is None
                    and fee.pay_by is not None)

    async def _fee_lapsed(self) -> None:
        """国办函〔2020〕109号: unpaid within 20 working days = 其他处理-2, replied through review and signature."""
        fee = self._fee
        assert fee is not None and fee.pay_by is not None
        fee.lapsed_on = self._today()
        reasons = (f"本机关于{fee.notice_sent_on}向您发出缴费通知，您未在{fee.pay_by}前按通知要求缴纳信息处理费，"
                   "根据《政府信息公开信息处理费管理办法》的规定，视为放弃申请，本机关不再处理该政府信息公开申请")
        for item in self._items:
            item.proposal = Proposal(outcome=OutcomeCode.OTHER_FEE_UNPAID, reasons=reasons, by="system", at=workflow.now())
        self._recompute_due(announce=False)
        self._record("fee-lapsed", "system", f"缴费期限 {fee.pay_by} 届满未缴费：拟按其他处理-2答复，答复告知书须经保密审查和签发")
        await self._alert(f"{self._inp.application_id}:fee-lapsed", "supplement-deadline", "handler", self._handler,
                          f"{self._inp.application_id} 缴费期限 {fee.pay_by} 届满未缴费，请提交其他处理-2答复")
        await self._persist()

    @workflow.update
    async def propose_fee(self, cmd: ProposeFee) -> ApplicationView:
        async with self._lock:
            self._refuse_if(self._why_not_propose_fee(cmd))
            workflow.patched(FEES)
            q = fee_quote(cmd.standard, cmd.quantity)
            self._fee = FeeState(standard=cmd.standard, quantity=cmd.quantity, amount_yuan=q.amount_yuan, basis=q.basis,
                                 reason=cmd.reason, proposed_by=cmd.by)
            self._record("fee-proposed", cmd.by, f"拟收取信息处理费 {q.amount_yuan} 元（{q.basis}）：{cmd.reason}")
            await self._persist()
            return self._view(self._today())

    @propose_fee.validator
    def _validate_propose_fee(self, cmd: ProposeFee) -> None:
        self._refuse_if(self._why_not_propose_fee(cmd))

    def _why_not_propose_fee(self, cmd: ProposeFee) -> str | None:
        if reason := self._why_final() or self._why_not_handling() or self._why_closing_unsupplemented():
            return reason
        if self._fee is not None and self._fee.decision != "refused":
            return "本申请已提出收费"
        if cmd.standard == "per-application" and not self._inp.applicant.id_number:
            return "按件计收须按申请人身份统计当月申请件数，申请人身份证件号码未登记"
        if fee_quote(cmd.standard, cmd.quantity).amount_yuan == 0:
            return "按该收费标准，本申请不收费"
        return None

    @workflow.update
    async def decide_fee(self, cmd: DecideFee) -> ApplicationView:
        async with self._lock:
            self._refuse_if(self._why_not_decide_fee(cmd))
            fee = self._fee
            assert fee is not None
            today = self._today()
            fee.decided_by = cmd.by
            if not cmd.approve:
                fee.decision = "refused"
                self._record("fee-refused", cmd.by, "不同意收费" + (f"：{cmd.comment}" if cmd.comment else ""))
            else:
                fee.decision, fee.notice_sent_on = "approved", today
                fee.pay_by = add_working_days_from(self._cal, today, FEE_PAY_DAYS)[0]
                fee.pay_by_basis = (f"缴费通知送达日期尚未确认，暂按发出之日 {today} 起 {FEE_PAY_DAYS} 个工作日推算；"
                                    "确认送达后自收到之日起重新计算")
                self._recompute_due(announce=False)
                self._record("fee-approved", cmd.by, f"同意收取信息处理费 {fee.amount_yuan} 元，发出缴费通知，缴费期限 {fee.pay_by}，"
                             "缴费期间不计入答复期限")
                self._send_letter("fee-notice", key_suffix="fee", deadline_on=fee.pay_by, reasons=fee.basis,
                                  fee_amount_yuan=fee.amount_yuan)
                self._clock_changed = True
            await self._persist()
            return self._view(today)

    @decide_fee.validator
    def _validate_decide_fee(self, cmd: DecideFee) -> None:
        self._refuse_if(self._why_not_decide_fee(cmd))

    def _why_not_decide_fee(self, cmd: DecideFee) -> str | None:
        if reason := self._why_final() or self._why_replied():
            return reason
        if self._fee is None or self._fee.decision != "pending":
            return "没有待审批的收费"
        if cmd.by == self._fee.proposed_by:
            return "收费须经负责人批准，提出收费的承办人不能自行批准"
        return None

    @workflow.update
    async def fee_settled(self, cmd: FeeSettled) -> ApplicationView:
        async with self._lock:
            self._refuse_if(self._why_not_fee_settled(cmd))
            fee = self._fee
            assert fee is not None
            if fee.lapsed_on is not None:
                fee.lapsed_on = None
                for item in self._items:
                    item.proposal = None
            fee.paid_on, fee.waived, fee.settled_by = cmd.paid_on, cmd.waived, cmd.by
            self._recompute_due(announce=False)
            self._record("fee-waived" if cmd.waived else "fee-paid", cmd.by,
                         (f"减免信息处理费（{cmd.note}）" if cmd.waived else f"{cmd.paid_on} 缴纳信息处理费 {fee.amount_yuan} 元")
                         + f"；答复期限恢复计算，现为 {self._due.due_on}")
            self._clock_changed = True
            await self._persist()
            return self._view(self._today())

    @fee_settled.validator
    def _validate_fee_settled(self, cmd: FeeSettled) -> None:
        self._refuse_if(self._why_not_fee_settled(cmd))

    def _why_not_fee_settled(self, cmd: FeeSettled) -> str | None:
        if reason := self._why_final() or self._why_replied():
            return reason
        fee = self._fee
        if fee is None or fee.decision != "approved" or fee.paid_on is not None:
            return "没有待缴纳的信息处理费"
        assert fee.notice_sent_on is not None and fee.pay_by is not None
        if not fee.notice_sent_on <= cmd.paid_on <= self._today():
            return f"缴费日期须在缴费通知发出之日 {fee.notice_sent_on} 至今天之间"
        if cmd.paid_on > fee.pay_by:
            return f"缴费期限已于 {fee.pay_by} 届满"
        if cmd.waived and len(cmd.note.strip()) < 2:
            return "减免须说明理由"
        if self._phase != "handling":
            return "答复已提交审核，请先退回"
        return None

    async def _supplement_lapsed(self) -> None:
        """Reg. 30: only an unjustified failure to supplement is abandonment, so a person decides."""
        assert self._supplement is not None
        self._supplement.lapsed_on = self._today()
        self._record("supplement-deadline-passed", "system",
                     f"补正期限 {self._supplement.deadline_on} 已届满，尚未登记收到补正：请承办人或负责人决定"
                     "（有正当理由的给予新的补正期限；无正当理由的按其他处理-1答复）")
        await self._alert(f"{self._inp.application_id}:supplement-lapsed:{self._supplement.deadline_on}",
                          "supplement-deadline", "handler", self._handler,
                          f"{self._inp.application_id} 补正期限 {self._supplement.deadline_on} 已届满，请决定："
                          "如已在期限内收到补正请登记收到日期；有正当理由的给予新期限；否则按逾期不补正答复")
        await self._persist()

    @workflow.update
    async def decide_supplement_lapse(self, cmd: DecideSupplementLapse) -> ApplicationView:
        async with self._lock:
            self._refuse_if(self._why_not_decide_lapse(cmd))
            sup = self._supplement
            assert sup is not None
            today = self._today()
            sup.lapse_decided_by, sup.lapse_reason = cmd.by, cmd.reason
            if cmd.justified:
                assert cmd.new_deadline_on is not None
                sup.earlier_deadlines.append(sup.deadline_on)
                sup.deadline_on, sup.lapsed_on, sup.lapse_decision = cmd.new_deadline_on, None, "new-deadline"
                sup.window_days, sup.notice_issued_on = self._supplement_window_days(today, cmd.new_deadline_on), today
                sup.notice_served_on, sup.deadline_basis = None, ""
                self._record("supplement-deadline-renewed", cmd.by,
                             f"申请人有正当理由（{cmd.reason}），补正期限重新确定为 {cmd.new_deadline_on}")
                self._send_letter("supplement-notice", key_suffix=f"supplement-{len(sup.earlier_deadlines) + 1}",
                                  needed=sup.needed, deadline_on=cmd.new_deadline_on,
                                  reasons=f"您未能在原补正期限{sup.earlier_deadlines[-1]}前补正，经审查有正当理由（{cmd.reason}），"
                                          "现重新确定补正期限。您的申请内容仍不明确")
                self._clock_changed = True
            else:
                sup.lapse_decision = "abandoned"
                self._closing_unsupplemented = True
                self._phase = "handling"
                reasons = (f"本机关于{sup.notice_sent_on}一次性告知您补正申请，补正期限为{sup.deadline_on}。"
                           f"您无正当理由逾期未补正（{cmd.reason}），根据《中华人民共和国政府信息公开条例》第三十条的规定，"
                           "视为放弃申请，本机关不再处理该政府信息公开申请")
                for item in self._items:
                    item.proposal = Proposal(outcome=OutcomeCode.OTHER_NO_SUPPLEMENT, reasons=reasons, by=cmd.by,
                                             at=workflow.now())
                self._record("supplement-lapse-decided", cmd.by,
                             f"认定无正当理由逾期未补正：拟按其他处理-1答复（{cmd.reason}），答复告知书须经保密审查和签发")
            await self._persist()
            return self._view(today)

    @decide_supplement_lapse.validator
    def _validate_decide_lapse(self, cmd: DecideSupplementLapse) -> None:
        self._refuse_if(self._why_not_decide_lapse(cmd))

    def _why_not_decide_lapse(self, cmd: DecideSupplementLapse) -> str | None:
        if reason := self._why_final():
            return reason
        sup = self._supplement
        if self._phase != "awaiting-supplement" or sup is None or sup.lapsed_on is None:
            return "补正期限尚未届满，或已作出决定，无需决定"
        if cmd.justified and (cmd.new_deadline_on is None or cmd.new_deadline_on <= self._today()):
            return "有正当理由的，须确定晚于今天的新的补正期限"
        if not cmd.justified and cmd.new_deadline_on is not None:
            return "认定无正当理由的，不能再确定补正期限"
        return None

    # --- queries -----------------------------------------------------------------------------

    @workflow.query
    def state(self, q: StateQuery | None = None) -> ApplicationView:
        return self._view((q.today if q and q.today else None) or self._today())

    # --- facts -------------------------------------------------------------------------------

    @workflow.signal
    async def calendar_published(self, fact: CalendarYearPublished) -> None:
        async with self._lock:
            data = self._calendar_data.with_year(fact.schedule)
            if data.version == self._calendar_data.version:
                return
            self._calendar_data = data
            self._cal = WorkCalendar(data)
            self._supplement_notice_by, _ = supplement_notice_deadline(
                self._cal, self._inp.received_on, self._inp.policy.supplement_notice_days
            )
            self._record("calendar-updated", "system", f"{fact.schedule.year} 年放假安排已公布（{data.version}）")
            self._recompute_due()
            await self._persist()

    # --- staff and applicant actions (updates) ----------------------------------------------

    @workflow.update
    async def assign(self, cmd: AssignHandler) -> ApplicationView:
        async with self._lock:
            self._refuse_if(self._why_not_assign(cmd))
            self._handler, self._department = cmd.handler, cmd.department or self._department
            self._record("assigned", cmd.by, f"交由 {cmd.handler} 承办")
            await self._persist()
            return self._view(self._today())

    @assign.validator
    def _validate_assign(self, cmd: AssignHandler) -> None:
        self._refuse_if(self._why_not_assign(cmd))

    def _why_not_assign(self, cmd: AssignHandler) -> str | None:
        return self._why_final() or (
            "答复已签发，不能再更换承办人" if self._replied_on is not None else None
        )

    @workflow.update
    async def request_supplement(self, cmd: RequestSupplement) -> ApplicationView:
        async with self._lock:
            self._refuse_if(self._why_not_request_supplement(cmd))
            today = self._today()
            deadline = cmd.deadline_on or add_working_days_from(
                self._cal, today, self._inp.policy.default_supplement_days
            )[0]
            self._supplement = SupplementState(
                needed=cmd.needed, requested_by=cmd.by, notice_sent_on=today, deadline_on=deadline
            )
            self._supplement.window_days = self._supplement_window_days(today, deadline)
            self._phase = "awaiting-supplement"
            self._record("supplement-requested", cmd.by, f"一次性告知补正 {len(cmd.needed)} 项，补正期限 {deadline}")
            self._send_letter("supplement-notice", key_suffix="supplement", needed=cmd.needed, deadline_on=deadline)
            self._clock_changed = True
            await self._persist()
            return self._view(today)

    @request_supplement.validator
    def _validate_request_supplement(self, cmd: RequestSupplement) -> None:
        self._refuse_if(self._why_not_request_supplement(cmd))

    def _why_not_request_supplement(self, cmd: RequestSupplement) -> str | None:
        today = self._today()
        if self._supplement is not None:
            return "补正须一次性告知，本申请已发出过补正通知"
        if reason := self._why_final() or self._why_not_handling():
            return reason
        if self._consultations:
            return "已启动征求意见程序，不能再要求补正"
        if today > self._supplement_notice_by:
            return f"补正通知须在收到申请之日起 {self._inp.policy.supplement_notice_days} 个工作日内发出（截至 {self._supplement_notice_by}），已超过期限"
        if any(not n.strip() for n in cmd.needed):
            return "补正事项不能为空"
        if cmd.deadline_on is not None and cmd.deadline_on <= today:
            return "补正期限须晚于今天"
        return None

    @workflow.update
    async def supplement_received(self, cmd: SupplementReceived) -> ApplicationView:
        async with self._lock:
            self._refuse_if(self._why_not_supplement_received(cmd))
            assert self._supplement is not None
            if self._closing_unsupplemented:
                # The supplement had in fact arrived by the deadline: the 其他处理-1 proposal falls.
                self._closing_unsupplemented = False
                self._supplement.lapse_decision = None
                for item in self._items:
                    item.proposal = None
            self._supplement.received_on = cmd.received_on
            self._supplement.lapsed_on = None
            self._supplement.received_evidence = cmd.evidence
            self._restarted_on = cmd.received_on
            self._phase = "handling"
            self._recompute_due(announce=False)
            self._record("supplement-received", cmd.by,
                         f"{cmd.received_on} 收到补正，答复期限重新计算为 {self._due.due_on}" + (f"；{cmd.note}" if cmd.note else ""))
            self._clock_changed = True
            await self._persist()
            return self._view(self._today())

    @supplement_received.validator
    def _validate_supplement_received(self, cmd: SupplementReceived) -> None:
        self._refuse_if(self._why_not_supplement_received(cmd))

    def _why_not_supplement_received(self, cmd: SupplementReceived) -> str | None:
        if reason := self._why_final():
            return reason
        if self._supplement is None or not (
                self._phase == "awaiting-supplement" or (self._closing_unsupplemented and self._phase == "handling")):
            return "本申请没有待补正的事项"
        if cmd.received_on > self._today():
            return "补正收到日期不能晚于今天"
        if cmd.received_on < self._supplement.notice_sent_on:
            return f"补正收到日期不能早于补正通知发出之日 {self._supplement.notice_sent_on}"
        if cmd.received_on > self._supplement.deadline_on:
            return (f"补正期限已于 {self._supplement.deadline_on} 届满；申请人有正当理由的，"
                    "请先由承办人或负责人确定新的补正期限")
        if cmd.received_on < self._today() and len(cmd.evidence.strip()) < 2:
            return "补正收到日期早于今天的，须注明凭据（如邮戳、签收单、系统记录）"
        return None

    @workflow.update
    async def request_extension(self, cmd: RequestExtension) -> ApplicationView:
        async with self._lock:
            self._refuse_if(self._why_not_request_extension(cmd))
            self._extension = ExtensionState(
                days=cmd.days, reason=cmd.reason, requested_by=cmd.by, requested_on=self._today()
            )
            self._record("extension-requested", cmd.by, f"申请延期 {cmd.days} 个工作日：{cmd.reason}")
            await self._persist()
            return self._view(self._today())

    @request_extension.validator
    def _validate_request_extension(self, cmd: RequestExtension) -> None:
        self._refuse_if(self._why_not_request_extension(cmd))

    def _why_not_request_extension(self, cmd: RequestExtension) -> str | None:
        if reason := (self._why_final() or self._why_replied() or self._why_not_while_supplementing()
                      or self._why_closing_unsupplemented()):
            return reason
        if self._extension is not None and self._extension.decision != "refused":
            return "延期只能一次，本申请已" + ("提出延期申请，待负责人审批" if self._extension.decision == "pending" else "延期")
        if self._today() > self._due.due_on:
            return f"答复期限已于 {self._due.due_on} 届满，延期须在期限届满前提出"
        if cmd.days > self._inp.policy.max_extension_days:
            return f"延长答复期限最长不超过 {self._inp.policy.max_extension_days} 个工作日"
        return None

    @workflow.update
    async def decide_extension(self, cmd: DecideExtension) -> ApplicationView:
        async with self._lock:
            self._refuse_if(self._why_not_decide_extension(cmd))
            assert self._extension is not None
            ext = self._extension
            ext.decision, ext.decided_by, ext.decided_on, ext.comment = (
                "approved" if cmd.approve else "refused", cmd.by, self._today(), cmd.comment
            )
            if cmd.approve:
                self._recompute_due(announce=False)
                self._record("extension-approved", cmd.by, f"同意延期 {ext.days} 个工作日，答复期限延至 {self._due.due_on}")
                self._send_letter("extension-notice", key_suffix="extension", deadline_on=self._due.due_on,
                                  reasons=ext.reason, extension_days=ext.days)
                self._clock_changed = True
            else:
                self._record("extension-refused", cmd.by, "不同意延期" + (f"：{cmd.comment}" if cmd.comment else ""))
            await self._persist()
            return self._view(self._today())

    @decide_extension.validator
    def _validate_decide_extension(self, cmd: DecideExtension) -> None:
        self._refuse_if(self._why_not_decide_extension(cmd))

    def _why_not_decide_extension(self, cmd: DecideExtension) -> str | None:
        if reason := self._why_final() or self._why_replied():
            return reason
        if self._extension is None or self._extension.decision != "pending":
            return "没有待审批的延期申请"
        if cmd.by == self._extension.requested_by:
            return "延期须经负责人批准，申请延期的承办人不能自行批准"
        if cmd.approve and self._today() > self._due.due_on:
            return f"答复期限已于 {self._due.due_on} 届满，不能再批准延期"
        return None

    @workflow.update
    async def start_consultation(self, cmd: StartConsultation) -> ApplicationView:
        async with self._lock:
            self._refuse_if(self._why_not_start_consultation(cmd))
            if workflow.patched(CONSULT_FROM_RECEIPT):
                return await self._start_consultation_from_receipt(cmd)
            today = self._today()
            consultation_id = f"{self._inp.application_id}.consult-{len(self._consultations) + 1}"
            window_ends_on, _ = add_working_days_from(self._cal, today, self._inp.policy.consultation_days)
            state = ConsultationState(
                consultation_id=consultation_id, kind=cmd.consultee.kind, consultee_name=cmd.consultee.name,
                consultee_email=cmd.consultee.email,
                item_nos=sorted(set(cmd.item_nos)), sent_on=today, window_ends_on=window_ends_on,
            )
            self._consultations.append(state)
            handle = await workflow.start_child_workflow(
                ConsultationWorkflow.run,
                ConsultationInput(
                    application_id=self._inp.application_id, consultation_id=consultation_id,
                    consultee=cmd.consultee, items=[(n, self._item(n).description) for n in state.item_nos],
                    agency_name=self._inp.agency_name, received_on=self._inp.received_on,
                    window_ends_on=window_ends_on,
                ),
                id=consultation_id,
            )
            asyncio.create_task(self._await_consultation(state, handle))
            who = "第三方" if cmd.consultee.kind == "third-party" else "其他机关"
            self._recompute_due(announce=False)
            self._record("consultation-started", cmd.by,
                         f"书面征求{who}「{cmd.consultee.name}」意见，答复期限 {window_ends_on}，征求意见期间不计入答复期限")
            self._clock_changed = True
            await self._persist()
            return self._view(today)

    async def _start_consultation_from_receipt(self, cmd: StartConsultation) -> ApplicationView:
        """Issue 11: the letter goes out from the child; the clock stops when it is dispatched (progress signal)."""
        today = self._today()
        consultation_id = f"{self._inp.application_id}.consult-{len(self._consultations) + 1}"
        state = ConsultationState(
            consultation_id=consultation_id, kind=cmd.consultee.kind, consultee_name=cmd.consultee.name,
            consultee_email=cmd.consultee.email, item_nos=sorted(set(cmd.item_nos)), sent_on=None,
            window_ends_on=None, from_receipt=True, created_on=today,
            window_basis="征求意见函尚未发出：发出之日起暂停计算答复期限，意见期限自对方收到之日起计算",
        )
        self._consultations.append(state)
        self._consultees[consultation_id] = cmd.consultee
        await self._start_consultation_child(state)
        who = "第三方" if cmd.consultee.kind == "third-party" else "其他机关"
        article = "第三十二条" if cmd.consultee.kind == "third-party" else "第三十四条"
        self._record("consultation-started", cmd.by,
                     f"书面征求{who}「{cmd.consultee.name}」意见（条例{article}）：征求意见函发出之日起答复期限暂停计算，"
                     f"对方自收到之日起 {self._inp.policy.consultation_days} 个工作日内提出意见")
        self._clock_changed = True
        await self._persist()
        return self._view(today)

    async def _start_consultation_child(self, state: ConsultationState) -> None:
        consultee = self._consultees[state.consultation_id]
        handle = await workflow.start_child_workflow(
            ConsultationWorkflow.run,
            ConsultationInput(
                application_id=self._inp.application_id, consultation_id=state.consultation_id,
                consultee=consultee, items=[(n, self._item(n).description) for n in state.item_nos],
                agency_name=self._inp.agency_name, received_on=self._inp.received_on,
                calendar=self._calendar_data, consultation_days=self._inp.policy.consultation_days,
                dispatched_on=state.sent_on, served_on=state.served_on, service_evidence=state.service_evidence,
            ),
            id=state.consultation_id,
        )
        state.child_status, state.failure = "running", None
        asyncio.create_task(self._await_consultation(state, handle))

    @workflow.signal
    async def consultation_progress(self, progress: ConsultationProgress) -> None:
        async with self._lock:
            state = self._consultation(progress.consultation_id)
            if state is None or state.position != "pending":
                return
            if (state.sent_on, state.served_on, state.window_ends_on) == (
                    progress.dispatched_on, progress.served_on, progress.window_ends_on):
                return  # a restarted consultation reports what is already known
            first_dispatch = state.sent_on is None
            state.sent_on, state.served_on, state.window_ends_on = (
                progress.dispatched_on, progress.served_on, progress.window_ends_on)
            state.window_provisional, state.window_basis, state.service_evidence = (
                progress.window_provisional, progress.window_basis, progress.service_evidence)
            self._recompute_due(announce=False)
            if first_dispatch:
                self._record("consultation-dispatched", "system",
                             f"致「{state.consultee_name}」的征求意见函于 {progress.dispatched_on} 发出，"
                             f"答复期限自次日起暂停计算；{progress.window_basis}")
            else:
                self._record("consultation-served", "system",
                             f"致「{state.consultee_name}」的征求意见函于 {progress.served_on} 送达；{progress.window_basis}")
            self._clock_changed = True
            await self._persist()

    @start_consultation.validator
    def _validate_start_consultation(self, cmd: StartConsultation) -> None:
        self._refuse_if(self._why_not_start_consultation(cmd))

    def _why_not_start_consultation(self, cmd: StartConsultation) -> str | None:
        if reason := self._why_final() or self._why_not_handling() or self._why_closing_unsupplemented():
            return reason
        return self._why_unknown_items(cmd.item_nos)

    async def _await_consultation(self, state: ConsultationState, handle: workflow.ChildWorkflowHandle) -> None:
        try:
            result: ConsultationResult = await handle
        except ChildWorkflowError as err:
            # Failed, terminated, timed out: staff see it and can restart it; the application never waits forever.
            async with self._lock:
                state.child_status = "failed"
                state.failure = f"{type(err.cause).__name__ if err.cause else 'ChildWorkflowError'}: {err.cause or err}"[:300]
                self._record("consultation-failed", "system",
                             f"征求「{state.consultee_name}」意见的流程意外终止（{state.failure}），请承办人重新启动")
                await self._alert(f"{state.consultation_id}:failed:{state.restarts}", "consultation-failed", "handler",
                                  self._handler, f"{self._inp.application_id}：征求「{state.consultee_name}」意见的流程意外终止，"
                                                 "请在办理页面重新启动，以免申请无限期等待")
                await self._persist()
            return
        async with self._lock:
            state.child_status = "ended"
            if state.from_receipt:
                state.sent_on = state.sent_on or result.sent_on
                state.served_on = result.served_on or state.served_on
                state.window_ends_on = state.window_ends_on or result.window_ends_on
                state.answer_received_on, state.answer_entered_by, state.answer_evidence = (
                    result.answer_received_on, result.answer_entered_by, result.answer_evidence)
            await self._apply_consultation_answer(state, result.position, result.reasons, result.ended_on)

    async def _apply_consultation_answer(self, state: ConsultationState, position, reasons: str, ended_on: date) -> None:
        state.position, state.reasons, state.ended_on = position, reasons, ended_on
        self._recompute_due(announce=False)
        if position == "objection" and state.kind == "third-party":
            for n in state.item_nos:
                item = self._item(n)
                item.objection_from.append(state.consultation_id)
                if item.proposal and item.proposal.outcome in DISCLOSING_OUTCOMES:
                    item.proposal = None
                    self._record("proposal-withdrawn", "system",
                                 f"第三方不同意公开，第 {n} 项原拟公开的意见作废，请重新提出拟办意见")
        summary = {
            "consent": f"「{state.consultee_name}」同意公开",
            "objection": f"「{state.consultee_name}」不同意公开：{reasons}",
            "silence": f"「{state.consultee_name}」逾期未提出意见" + ("，视为同意" if state.kind == "agency" else "，由本机关依法决定"),
        }[position]
        if state.from_receipt and position != "silence":
            summary += f"（本机关 {state.answer_received_on} 收到" + (
                f"，{state.answer_entered_by} 登记" if state.answer_entered_by else "，通过在线链接提交") + "）"
        self._record("consultation-answered", state.consultee_name, f"{summary}；答复期限恢复计算，现为 {self._due.due_on}")
        if position == "objection" and state.kind == "third-party":
            await self._alert(f"{state.consultation_id}:objection", "consultation-objection", "supervisor", None,
                              f"{self._inp.application_id}：第三方「{state.consultee_name}」不同意公开。"
                              "如认为不公开可能对公共利益造成重大影响，可决定予以公开并书面告知第三方。")
        self._clock_changed = True
        await self._persist()

    @workflow.update
    async def late_consultation_answer(self, cmd: LateConsultationAnswer) -> ApplicationView:
        """A paper answer received within the window, entered after the window was closed as silence."""
        async with self._lock:
            self._refuse_if(self._why_not_late_answer(cmd))
            state = self._consultation(cmd.consultation_id)
            assert state is not None
            state.answer_received_on, state.answer_entered_by, state.answer_evidence = cmd.received_on, cmd.by, cmd.evidence
            self._record("consultation-answer-entered-late", cmd.by,
                         f"登记「{state.consultee_name}」于 {cmd.received_on} 寄达本机关的意见（期限届满后登记，按收到之日计）"
                         + (f"：{cmd.evidence}" if cmd.evidence else ""))
            await self._apply_consultation_answer(state, cmd.position, cmd.reasons, cmd.received_on)
            return self._view(self._today())

    @late_consultation_answer.validator
    def _validate_late_answer(self, cmd: LateConsultationAnswer) -> None:
        self._refuse_if(self._why_not_late_answer(cmd))

    def _why_not_late_answer(self, cmd: LateConsultationAnswer) -> str | None:
        if reason := self._why_final() or self._why_replied():
            return reason
        state = self._consultation(cmd.consultation_id)
        if state is None:
            return f"本申请没有征求意见 {cmd.consultation_id}"
        if state.position == "pending":
            return "征求意见尚在进行中，请直接登记意见"
        if state.position != "silence":
            return "已收到该方意见，不能重复登记"
        if self._phase != "handling":
            return "决定已提交审核，请先退回再登记意见"
        earliest = state.sent_on or state.created_on
        if earliest is not None and cmd.received_on < earliest:
            return f"收到意见的日期不能早于征求意见函发出之日 {earliest}"
        if cmd.received_on > self._today():
            return "收到意见的日期不能晚于今天"
        if state.window_ends_on is not None and cmd.received_on > state.window_ends_on:
            return f"该意见于 {cmd.received_on} 收到，已超过提出意见的期限 {state.window_ends_on}，按逾期未提出意见处理"
        return None

    @workflow.update
    async def restart_consultation(self, cmd: RestartConsultation) -> ApplicationView:
        async with self._lock:
            self._refuse_if(self._why_not_restart(cmd))
            state = self._consultation(cmd.consultation_id)
            assert state is not None
            state.restarts += 1
            await self._start_consultation_child(state)
            self._record("consultation-restarted", cmd.by,
                         f"重新启动征求「{state.consultee_name}」意见的流程（第 {state.restarts} 次）；已发出的函不重复发出")
            await self._persist()
            return self._view(self._today())

    @restart_consultation.validator
    def _validate_restart(self, cmd: RestartConsultation) -> None:
        self._refuse_if(self._why_not_restart(cmd))

    def _why_not_restart(self, cmd: RestartConsultation) -> str | None:
        if reason := self._why_final() or self._why_replied():
            return reason
        state = self._consultation(cmd.consultation_id)
        if state is None:
            return f"本申请没有征求意见 {cmd.consultation_id}"
        if state.child_status != "failed":
            return "该征求意见流程运行正常，无需重新启动"
        if cmd.consultation_id not in self._consultees:
            return "该征求意见按原办法办理，无法重新启动，请重新征求意见"
        return None

    @workflow.update
    async def override_objection(self, cmd: OverrideObjection) -> ApplicationView:
        async with self._lock:
            self._refuse_if(self._why_not_override(cmd))
            state = self._consultation(cmd.consultation_id)
            assert state is not None
            state.override_reason, state.override_by = cmd.reason, cmd.by
            # Seed 002 art. 18: whose views were heard before deciding: the third party's (its answer), and others.
            state.override_heard = [f"第三方「{state.consultee_name}」：{state.reasons}"] + [
                f"{'申请人' if h.party == 'applicant' else '其他方面'}「{h.name}」：{h.summary}" for h in cmd.heard]
            for n in state.item_nos:
                item = self._item(n)
                item.overridden = not self._unresolved_objection(item)
            self._record("objection-overridden", cmd.by, f"认定不公开可能对公共利益造成重大影响，决定公开：{cmd.reason}；"
                         f"听取了 {len(state.override_heard)} 方面意见（{'；'.join(state.override_heard)}）；书面告知第三方")
            self._send_letter(
                "override-notice", key_suffix=f"override-{state.consultation_id}", recipient=state.consultee_name,
                items=[self._reply_item(self._item(n), OutcomeCode.DISCLOSED) for n in state.item_nos],
                reasons=cmd.reason, recipient_email=state.consultee_email,
                **({"heard": state.override_heard} if cmd.heard else {}),
            )
            await self._persist()
            return self._view(self._today())

    @override_objection.validator
    def _validate_override(self, cmd: OverrideObjection) -> None:
        self._refuse_if(self._why_not_override(cmd))

    def _why_not_override(self, cmd: OverrideObjection) -> str | None:
        if reason := self._why_final() or self._why_replied():
            return reason
        state = self._consultation(cmd.consultation_id)
        if state is None:
            return f"本申请没有征求意见 {cmd.consultation_id}"
        if state.kind != "third-party" or state.position != "objection":
            return "只有第三方提出异议的，才需要由负责人作出公开决定"
        if state.override_reason is not None:
            return "已对该异议作出公开决定"
        if self._phase != "handling":
            return "决定已提交审核，请先退回再作出公开决定"
        return None

    @workflow.update
    async def propose_decision(self, cmd: ProposeDecision) -> ApplicationView:
        async with self._lock:
            self._refuse_if(self._why_not_propose(cmd))
            item = self._item(cmd.item_no)
            item.proposal = Proposal(outcome=cmd.outcome, reasons=cmd.reasons, referral=cmd.referral,
                                     earlier_application_id=cmd.earlier_application_id, provision=cmd.provision,
                                     withheld_ground=cmd.withheld_ground, by=cmd.by, at=workflow.now())
            self._record("decision-proposed", cmd.by, f"第 {cmd.item_no} 项拟{label_of(cmd.outcome)}")
            await self._persist()
            return self._view(self._today())

    @propose_decision.validator
    def _validate_propose(self, cmd: ProposeDecision) -> None:
        self._refuse_if(self._why_not_propose(cmd))

    def _why_not_propose(self, cmd: ProposeDecision) -> str | None:
        if reason := self._why_final() or self._why_not_handling() or self._why_unknown_items([cmd.item_no]):
            return reason
        item = self._item(cmd.item_no)
        if any(c.position == "pending" and cmd.item_no in c.item_nos for c in self._consultations):
            return f"第 {cmd.item_no} 项正在征求意见，须待答复或期限届满后再作决定"
        if self._closing_unsupplemented:
            return "已决定按逾期不补正（其他处理-1）答复：如申请人在期限内已补正，请先登记补正收到日期"
        if self._fee is not None and self._fee.lapsed_on is not None:
            return "缴费期限届满未缴费，拟按其他处理-2答复：如申请人在期限内已缴费，请先登记缴费"
        if cmd.outcome in SYSTEM_ONLY_OUTCOMES:
            return f"「{label_of(cmd.outcome)}」由系统在期限届满时自动作出，不能手工选择"
        if cmd.outcome in DISCLOSING_OUTCOMES and self._unresolved_objection(item):
            return (f"第三方已对第 {cmd.item_no} 项提出异议，不得公开（不予公开-4）；"
                    "如认为不公开可能对公共利益造成重大影响，须先由负责人作出公开决定")
        if cmd.outcome != OutcomeCode.DISCLOSED and len(cmd.reasons.strip()) < 2:
            return f"「{label_of(cmd.outcome)}」须说明理由"
        # Issue 11 point 9: preconditions of some outcomes.
        if cmd.outcome == OutcomeCode.UNAVAILABLE_STILL_UNCLEAR and (
                self._supplement is None or self._supplement.received_on is None):
            return "「补正后申请内容仍不明确」须在告知补正并收到补正之后才能作出（条例第三十条）"
        if cmd.outcome == OutcomeCode.PARTLY_DISCLOSED and (
                cmd.withheld_ground is None or not cmd.withheld_ground.value.startswith("withheld-")):
            return "「部分公开」须选择不予公开部分的理由类别（不予公开-1至8之一）（条例第三十七条）"
        if cmd.outcome == OutcomeCode.NOT_PROCESSED_REPEAT:
            if not cmd.earlier_application_id:
                return "「重复申请」须写明此前已作出答复的申请编号"
            if cmd.earlier_application_id == self._inp.application_id:
                return "「重复申请」须指向此前的另一件申请，不能是本申请"
        return None

    @workflow.update
    async def submit_for_review(self, cmd: SubmitForReview) -> ApplicationView:
        async with self._lock:
            self._refuse_if(self._why_not_submit())
            self._phase = "in-review"
            self._record("submitted-for-review", cmd.by, "拟办意见提交保密审查")
            draft = await workflow.execute_activity(
                "compose_letter", self._letter_input("reply", items=self._reply_items()), result_type=Letter,
                start_to_close_timeout=ACTIVITY_TIMEOUT, retry_policy=PURE_RETRY,
            )
            screen = await workflow.execute_activity(
                "prescreen", self._prescreen_input(draft), result_type=PrescreenResult,
                start_to_close_timeout=ACTIVITY_TIMEOUT, retry_policy=PURE_RETRY,
            )
            self._reply_draft, self._findings = draft, screen.findings
            self._record(
                "prescreen", "system",
                "保密预审未发现敏感信息" if screen.clean else
                f"保密预审发现 {len(screen.findings)} 处需审查：" + "、".join(sorted({f.kind for f in screen.findings})),
            )
            await self._persist()
            return self._view(self._today())

    @submit_for_review.validator
    def _validate_submit(self, cmd: SubmitForReview) -> None:
        self._refuse_if(self._why_not_submit())

    def _why_not_submit(self) -> str | None:
        if reason := self._why_final() or self._why_not_handling():
            return reason
        if any(c.position == "pending" for c in self._consultations):
            return "尚有征求意见未结束"
        if self._fee_running() or (self._fee is not None and self._fee.decision == "pending"):
            return "信息处理费尚未缴纳或尚待审批"
        missing = [str(i.item_no) for i in self._items if i.proposal is None]
        if missing:
            return f"第 {'、'.join(missing)} 项尚未提出拟办意见"
        objected = [str(i.item_no) for i in self._items if i.proposal and i.proposal.outcome in DISCLOSING_OUTCOMES
                    and self._unresolved_objection(i)]
        if objected:
            return f"第三方已对第 {'、'.join(objected)} 项提出异议，不得公开（不予公开-4），除非负责人作出公开决定"
        return None

    @workflow.update
    async def review(self, cmd: ReviewDecision) -> ApplicationView:
        async with self._lock:
            self._refuse_if(self._why_not_review(cmd))
            if cmd.approve:
                self._phase = "awaiting-signature"
                assert self._reply_draft is not None
                self._approved_sha256 = body_sha256(self._reply_draft.body)
                self._record("review-approved", cmd.by, "保密审查通过" + (f"：{cmd.comment}" if cmd.comment else ""))
            else:
                self._phase = "handling"
                self._reply_draft, self._findings = None, []
                self._record("review-returned", cmd.by, f"保密审查退回：{cmd.comment or '未说明'}")
            await self._persist()
            return self._view(self._today())

    @review.validator
    def _validate_review(self, cmd: ReviewDecision) -> None:
        self._refuse_if(self._why_not_review(cmd))

    def _why_not_review(self, cmd: ReviewDecision) -> str | None:
        if reason := self._why_final():
            return reason
        if self._phase != "in-review":
            return "本申请当前没有待保密审查的拟办意见"
        if cmd.by in {i.proposal.by for i in self._items if i.proposal}:
            return "提出拟办意见的承办人不能审查自己的意见（谁签发、谁把关）"
        if not cmd.approve and len(cmd.comment.strip()) < 2:
            return "退回须说明理由"
        if cmd.draft_version is not None and cmd.draft_version != self._draft_version:
            return f"答复告知书草稿已修改为第 {self._draft_version} 稿，请审阅最新稿"
        return None

    @workflow.update
    async def edit_reply(self, cmd: EditReplyDraft) -> ApplicationView:
        """The handler edits the reply draft; it is pre-screened again and goes (back) to review."""
        async with self._lock:
            self._refuse_if(self._why_not_edit_reply(cmd))
            assert self._reply_draft is not None
            draft = Letter(kind="reply", subject=self._reply_draft.subject, body=cmd.body)
            screen = await workflow.execute_activity(
                "prescreen", self._prescreen_input(draft), result_type=PrescreenResult,
                start_to_close_timeout=ACTIVITY_TIMEOUT, retry_policy=PURE_RETRY,
            )
            self._reply_draft, self._findings = draft, screen.findings
            self._draft_version += 1
            self._approved_sha256 = None
            self._phase = "in-review"
            self._record("reply-edited", cmd.by, f"修改答复告知书草稿（第 {self._draft_version} 稿），须重新保密审查"
                         + (f"：{cmd.note}" if cmd.note else "")
                         + ("" if screen.clean else f"；保密预审发现 {len(screen.findings)} 处需审查"))
            await self._persist()
            return self._view(self._today())

    @edit_reply.validator
    def _validate_edit_reply(self, cmd: EditReplyDraft) -> None:
        self._refuse_if(self._why_not_edit_reply(cmd))

    def _why_not_edit_reply(self, cmd: EditReplyDraft) -> str | None:
        if reason := self._why_final():
            return reason
        if self._phase not in ("in-review", "handling"):
            return "答复告知书已通过保密审查，不能再修改" if self._phase == "awaiting-signature" else "当前状态不能修改答复告知书"
        if self._reply_draft is None:
            return "尚无答复告知书草稿：提交保密审查时生成"
        missing = [part for part in (self._inp.application_id, "行政复议", "60日", "行政诉讼", "6个月") if part not in cmd.body]
        if missing:
            return f"答复告知书须保留申请编号和救济途径（缺少：{'、'.join(missing)}）"
        return None

    @workflow.update
    async def sign(self, cmd: SignReply) -> ApplicationView:
        async with self._lock:
            self._refuse_if(self._why_not_sign(cmd))
            assert self._reply_draft is not None
            today = self._today()
            for item in self._items:
                assert item.proposal is not None
                item.final_outcome = item.proposal.outcome
            self._replied_on = today
            self._phase = "awaiting-delivery"
            on_time = today <= self._due.due_on
            self._record("signed", cmd.by, "负责人签发答复告知书（逾期不补正，其他处理-1）" if self._closing_unsupplemented
                         else f"负责人签发答复告知书（{'期限内' if on_time else '已逾期'}答复）")
            self._send_letter("reply", key_suffix="reply", composed=self._reply_draft)
            self._clock_changed = True
            await self._persist()
            await record_for_report(self, "replied", signed_by=cmd.by)
            return self._view(today)

    @sign.validator
    def _validate_sign(self, cmd: SignReply) -> None:
        self._refuse_if(self._why_not_sign(cmd))

    def _why_not_sign(self, cmd: SignReply) -> str | None:
        if reason := self._why_final():
            return reason
        if self._phase != "awaiting-signature":
            return "答复须先经保密审查通过，才能签发" if self._phase in ("handling", "in-review") else "本申请当前没有待签发的答复"
        if cmd.by in {i.proposal.by for i in self._items if i.proposal}:
            return "提出拟办意见的人员不能签发自己拟办的答复（谁签发、谁把关）"
        return None

    @workflow.update
    async def confirm_delivery(self, cmd: ConfirmDelivery) -> ApplicationView:
        async with self._lock:
            self._refuse_if(self._why_not_confirm_delivery(cmd))
            self._close_delivered(cmd.delivered_on, cmd.by,
                                  f"答复已送达（{cmd.method}{'，' + cmd.tracking_number if cmd.tracking_number else ''}）")
            if workflow.patched(LETTERS_V2):
                key = f"{self._inp.application_id}:reply"
                if letter := self._letter_view(key):
                    letter.status, letter.delivered_on, letter.tracking_number = (
                        "delivered", cmd.delivered_on, cmd.tracking_number)
                await workflow.execute_activity(
                    "record_letter_delivery",
                    RecordDeliveryInput(key=key, delivered_on=cmd.delivered_on, method=cmd.method,
                                        tracking_number=cmd.tracking_number, posted_on=cmd.posted_on,
                                        received_by=cmd.received_by, by=cmd.by),
                    start_to_close_timeout=ACTIVITY_TIMEOUT, retry_policy=PERSIST_RETRY,
                )
            await self._persist()
            return self._view(self._today())

    @confirm_delivery.validator
    def _validate_confirm_delivery(self, cmd: ConfirmDelivery) -> None:
        self._refuse_if(self._why_not_confirm_delivery(cmd))

    def _why_not_confirm_delivery(self, cmd: ConfirmDelivery) -> str | None:
        if reason := self._why_final():
            return reason
        if self._phase != "awaiting-delivery" or self._replied_on is None:
            return "答复尚未签发，无需确认送达"
        if cmd.delivered_on < self._replied_on or cmd.delivered_on > self._today():
            return f"送达日期须在签发之日 {self._replied_on} 至今天之间"
        return None

    # --- issue 11 point 14: a supplement or fee notice's receipt starts the applicant's window -------

    @workflow.update
    async def letter_served(self, cmd: LetterServed) -> ApplicationView:
        async with self._lock:
            self._refuse_if(self._why_not_letter_served(cmd))
            self._letter_served(cmd)
            await self._persist()
            return self._view(self._today())

    @letter_served.validator
    def _validate_letter_served(self, cmd: LetterServed) -> None:
        self._refuse_if(self._why_not_letter_served(cmd))

    def _why_not_letter_served(self, cmd: LetterServed) -> str | None:
        if reason := self._why_final():
            return reason
        sup, fee, app_id = self._supplement, self._fee, self._inp.application_id
        if sup is not None and cmd.key == self._supplement_notice_key():
            issued, served, what = sup.notice_issued_on or sup.notice_sent_on, sup.notice_served_on, "补正通知"
        elif fee is not None and fee.decision == "approved" and fee.notice_sent_on and cmd.key == f"{app_id}:fee":
            issued, served, what = fee.notice_sent_on, fee.notice_served_on, "缴费通知"
        else:
            return "该文书不是本申请当前的补正通知或缴费通知，其送达日期不影响申请人的期限"
        if served is not None:
            return f"{what}已于 {served} 送达，送达日期已登记"
        if not issued <= cmd.served_on <= self._today():
            return f"送达日期须在{what}发出之日 {issued} 至今天之间"
        return None

    def _supplement_notice_key(self) -> str:
        assert self._supplement is not None
        renewals = len(self._supplement.earlier_deadlines)
        return f"{self._inp.application_id}:supplement" + (f"-{renewals + 1}" if renewals else "")

    def _supplement_window_days(self, issued_on: date, deadline_on: date) -> int:
        return window_days_of(self._cal, issued_on, deadline_on)

    def _letter_served(self, cmd: LetterServed) -> None:
        """Reg. 30 (补正期限), 国办函〔2020〕109号 (自收到收费通知之日起20个工作日): counted from receipt."""
        how = {"email": "电子邮件", "post": "邮寄签收", "pickup": "当面领取", "portal": "申请人在线下载", "hand": "直接送达"}[cmd.method]
        shown = f"（{how}" + (f"：{cmd.evidence}" if cmd.evidence else "") + "）"
        if (letter := self._letter_view(cmd.key)) is not None and cmd.method != "email":
            letter.status, letter.delivered_on = "delivered", cmd.served_on
        sup, fee = self._supplement, self._fee
        if sup is not None and cmd.key == self._supplement_notice_key():
            sup.notice_served_on = cmd.served_on
            summary = f"补正通知于 {cmd.served_on} 送达{shown}"
            if self._phase == "awaiting-supplement" and sup.received_on is None:
                days = sup.window_days or self._inp.policy.default_supplement_days
                deadline, _ = add_working_days_from(self._cal, cmd.served_on, days)
                sup.deadline_basis = f"补正通知于 {cmd.served_on} 送达，自收到之日起 {days} 个工作日，至 {deadline} 止"
                if deadline > sup.deadline_on:
                    sup.deadline_on = deadline
                    if sup.lapsed_on is not None and workflow.now() < end_of_day_instant(deadline):
                        sup.lapsed_on = None  # the deadline had not in fact passed
                    self._clock_changed = True
                summary += f"；补正期限自收到之日起 {days} 个工作日，为 {sup.deadline_on}"
            self._record("supplement-notice-served", cmd.by, summary)
        elif fee is not None:
            fee.notice_served_on = cmd.served_on
            summary = f"缴费通知于 {cmd.served_on} 送达{shown}"
            if self._fee_running():
                fee.pay_by = add_working_days_from(self._cal, cmd.served_on, FEE_PAY_DAYS)[0]
                fee.pay_by_basis = f"缴费通知于 {cmd.served_on} 送达，自收到之日起 {FEE_PAY_DAYS} 个工作日，至 {fee.pay_by} 止"
                self._recompute_due(announce=False)
                summary += f"；缴费期限自收到之日起 {FEE_PAY_DAYS} 个工作日，为 {fee.pay_by}"
            self._record("fee-notice-served", cmd.by, summary)

    @workflow.update
    async def withdraw(self, cmd: Withdraw) -> ApplicationView:
        async with self._lock:
            self._refuse_if(self._why_not_withdraw())
            self._phase = "withdrawn"
            for item in self._items:
                item.final_outcome = OutcomeCode.OTHER
            self._record("withdrawn", cmd.by, "申请人撤回申请" + (f"：{cmd.reason}" if cmd.reason else ""))
            await self._persist()
            await record_for_report(self, "withdrawn")
            return self._view(self._today())

    @withdraw.validator
    def _validate_withdraw(self, cmd: Withdraw) -> None:
        self._refuse_if(self._why_not_withdraw())

    def _why_not_withdraw(self) -> str | None:
        return self._why_final() or (
            f"答复已于 {self._replied_on} 签发，不能撤回" if self._replied_on is not None else None
        )

    # --- shared refusals -----------------------------------------------------------------------

    @staticmethod
    def _refuse_if(reason: str | None) -> None:
        if reason is not None:
            raise ActionNotAllowed(reason)

    def _why_final(self) -> str | None:
        if self._phase in FINAL_STATUSES:
            return {"closed": "本申请已办结", "withdrawn": "本申请已撤回", "abandoned": "本申请已因逾期未补正视为放弃"}[self._phase]
        return None

    def _why_replied(self) -> str | None:
        return f"答复已于 {self._replied_on} 签发" if self._replied_on is not None else None

    def _why_closing_unsupplemented(self) -> str | None:
        return "已决定按逾期不补正（其他处理-1）答复，答复期限不再计算" if self._closing_unsupplemented else None

    def _why_not_while_supplementing(self) -> str | None:
        return "正在等待申请人补正，补正后答复期限重新计算" if self._phase == "awaiting-supplement" else None

    def _why_not_handling(self) -> str | None:
        if self._phase == "handling":
            return None
        return self._why_not_while_supplementing() or {
            "in-review": "拟办意见正在保密审查，须先退回才能修改",
            "awaiting-signature": "答复已通过审查，正在等待签发",
            "awaiting-delivery": "答复已签发",
        }.get(self._phase, "当前状态不能办理此事项")

    def _why_unknown_items(self, item_nos: list[int]) -> str | None:
        unknown = [n for n in item_nos if not 1 <= n <= len(self._items)]
        return f"本申请没有第 {'、'.join(map(str, unknown))} 项（共 {len(self._items)} 项）" if unknown else None

    # --- letters: composed and dispatched in the background, never blocking an action --------

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
            key=f"{self._inp.application_id}:{key_suffix}",
            application_id=self._inp.application_id,
            recipient_name=recipient or self._inp.applicant.name,
            method=self._inp.delivery_method if to_applicant else ("email" if recipient_email else "post"),
            email=self._inp.applicant.email if to_applicant else recipient_email,
            letter=composed or Letter(kind=kind, subject="", body=""),
            address=self._inp.applicant.address if to_applicant else None,
        )
        compose = None if composed else self._letter_input(kind, recipient=recipient, **letter_fields)
        self._letters_in_flight += 1
        asyncio.create_task(self._deliver(dispatch, compose))

    async def _deliver(self, dispatch: DispatchInput, compose: ComposeLetterInput | None) -> None:
        try:
            if workflow.patched(LETTERS_V2):
                await self._deliver_v2(dispatch, compose)
            else:
                await self._deliver_v1(dispatch, compose)
        finally:
            self._letters_in_flight -= 1

    async def _deliver_v1(self, dispatch: DispatchInput, compose: ComposeLetterInput | None) -> None:
        """Before letters v2: compose, then dispatch_letter (kept for workflows that started on it)."""
        try:
            if compose is not None:
                dispatch.letter = await workflow.execute_activity(
                    "compose_letter", compose, result_type=Letter,
                    start_to_close_timeout=ACTIVITY_TIMEOUT, retry_policy=PURE_RETRY,
                )
            result = await workflow.execute_activity(
                "dispatch_letter", dispatch, result_type=DispatchResult,
                start_to_close_timeout=ACTIVITY_TIMEOUT, retry_policy=DISPATCH_RETRY,
            )
        except ActivityError as err:
            async with self._lock:
                self._record("letter-failed", "system", f"{dispatch.letter.kind} 未能送出：{err.cause or err}")
                await self._alert(f"{dispatch.key}:failed", "delivery-problem", "supervisor", None,
                                  f"{self._inp.application_id} 的文书未能送出，请人工处理")
                await self._persist()
        else:
            async with self._lock:
                if result.status == "sent":
                    self._record("letter-sent", "system", f"{dispatch.letter.subject} 已通过电子邮件送出")
                    if dispatch.letter.kind == "reply" and self._phase == "awaiting-delivery" and result.sent_at:
                        self._close_delivered(local_date(result.sent_at), "system", "答复已通过电子邮件送达")
                else:
                    self._record("letter-awaiting-staff", "system", f"{dispatch.letter.subject} 待工作人员寄送或交付")
                await self._persist()

    async def _deliver_v2(self, dispatch: DispatchInput, compose: ComposeLetterInput | None) -> None:
        """Compose, issue once (文号, PDF, outbox row), send through the outbox with backoff."""
        view = LetterView(key=dispatch.key, kind=compose.kind if compose else dispatch.letter.kind,
                          recipient_name=dispatch.recipient_name, method=dispatch.method)
        self._letters.append(view)
        try:
            if compose is not None:
                dispatch.letter = await workflow.execute_activity(
                    "compose_letter", compose, result_type=Letter,
                    start_to_close_timeout=ACTIVITY_TIMEOUT, retry_policy=PURE_RETRY,
                )
            is_reply = dispatch.letter.kind == "reply"
            issued: IssuedLetter = await workflow.execute_activity(
                "issue_letter",
                IssueLetterInput(
                    key=dispatch.key, application_id=dispatch.application_id, letter=dispatch.letter,
                    letter_date=self._today(), recipient_name=dispatch.recipient_name, method=dispatch.method,
                    email=dispatch.email, address=dispatch.address,
                    expected_body_sha256=self._approved_sha256 if is_reply and compose is None else None,
                    attach_for_items=self._reply_items_final() if is_reply else [],
                ),
                result_type=IssuedLetter, start_to_close_timeout=SEND_TIMEOUT, retry_policy=PERSIST_RETRY,
            )
            view.status, view.document_number, view.pdf_sha256, view.attachments = (
                issued.status, issued.document_number, issued.pdf_sha256, len(issued.attachments))
            result = await self._send_with_backoff(view, dispatch)
        except ActivityError as err:
            view.status, view.last_error = "failed", str(err.cause or err)[:300]
            async with self._lock:
                self._record("letter-failed", "system", f"{dispatch.letter.kind} 未能送出：{err.cause or err}")
                await self._alert(f"{dispatch.key}:failed", "delivery-problem", "supervisor", None,
                                  f"{self._inp.application_id} 的文书未能送出，请人工处理")
                await self._persist()
            return
        view.status, view.attempts, view.sent_at, view.last_error = (
            result.status, max(view.attempts, result.attempts), result.sent_at, result.last_error)
        number = f"（{issued.document_number}）"
        async with self._lock:
            if result.status == "sent":
                self._record("letter-sent", "system", f"{dispatch.letter.subject}{number} 已通过电子邮件送出")
                if result.sent_at and dispatch.letter.kind in ("supplement-notice", "fee-notice") \
                        and workflow.patched(LETTER_EVIDENCE):
                    served = LetterServed(key=dispatch.key, served_on=local_date(result.sent_at), method="email", by="system",
                                          evidence=f"电子邮件于 {result.sent_at.isoformat()} 由邮件服务器接收"
                                                   f"（Message-ID {result.message_id}）")
                    if self._why_not_letter_served(served) is None:
                        self._letter_served(served)
                if dispatch.letter.kind == "reply" and self._phase == "awaiting-delivery" and result.sent_at:
                    view.status, view.delivered_on = "delivered", local_date(result.sent_at)
                    self._close_delivered(local_date(result.sent_at), "system", "答复已通过电子邮件送达")
            elif result.status in ("uncertain", "failed"):
                self._record("letter-" + result.status, "system",
                             f"{dispatch.letter.subject}{number} 发送情况不明或失败，未重发，请工作人员核实：{result.last_error}")
            else:
                self._record("letter-awaiting-staff", "system", f"{dispatch.letter.subject}{number} 待工作人员寄送或交付")
            await self._persist()

    async def _send_with_backoff(self, view: LetterView, dispatch: DispatchInput) -> SendLetterResult:
        """Try until the outbox says sent (or that staff must act); every failed try is shown to staff."""
        delay = DISPATCH_RETRY.initial_interval
        assert delay is not None and DISPATCH_RETRY.maximum_interval is not None
        while True:
            try:
                return await workflow.execute_activity(
                    "send_letter", SendLetterInput(key=dispatch.key, application_id=dispatch.application_id),
                    result_type=SendLetterResult, start_to_close_timeout=SEND_TIMEOUT,
                    heartbeat_timeout=SEND_HEARTBEAT_TIMEOUT, retry_policy=SEND_ONCE,
                )
            except ActivityError as err:
                cause = err.cause
                kind = getattr(cause, "type", None) or type(cause or err).__name__
                view.attempts += 1
                view.status, view.last_error = "failed", f"{kind}: {cause or err}"[:300]
            async with self._lock:
                if view.attempts == 1:
                    self._record("letter-delayed", "system",
                                 f"{view.key} 发送失败，系统将自动重试：{view.last_error}")
                    await self._persist()
                if view.attempts == DELIVERY_ALERT_AFTER_ATTEMPTS:
                    await self._alert(f"{view.key}:retrying", "delivery-problem", "handler", self._handler,
                                      f"{self._inp.application_id} 的文书已发送 {view.attempts} 次均未成功"
                                      f"（{view.last_error}），系统继续重试，请关注")
                if workflow.now() + delay > end_of_day_instant(self._due.due_on):
                    await self._alert(f"{view.key}:before-due", "delivery-problem", "supervisor", None,
                                      f"{self._inp.application_id} 的文书无法在答复期限 {self._due.due_on} 前送出"
                                      f"（已尝试 {view.attempts} 次：{view.last_error}），请安排其他方式送达")
            await workflow.sleep(delay)
            delay = min(delay * 2, DISPATCH_RETRY.maximum_interval)

    def _letter_view(self, key: str) -> LetterView | None:
        return next((letter for letter in self._letters if letter.key == key), None)

    def _reply_items_final(self) -> list[ReplyItem]:
        return [self._reply_item(item, item.final_outcome) for item in self._items if item.final_outcome]

    def _close_delivered(self, delivered_on: date, by: str, summary: str) -> None:
        self._delivered_on = delivered_on
        self._phase = "closed"
        self._record("delivered", by, summary)

    def _letter_input(self, kind: LetterKind, *, recipient: str | None = None, **fields) -> ComposeLetterInput:
        return ComposeLetterInput(
            application_id=self._inp.application_id, kind=kind, agency_name=self._inp.agency_name,
            recipient_name=recipient or self._inp.applicant.name, letter_date=self._today(),
            received_on=self._inp.received_on,
            **fields,
        )

    def _reply_items(self) -> list[ReplyItem]:
        return [self._reply_item(item, (item.final_outcome or item.proposal.outcome)) for item in self._items]  # type: ignore[union-attr]

    def _reply_item(self, item: ItemView, outcome: OutcomeCode) -> ReplyItem:
        proposal = item.proposal
        provision = proposal.provision if proposal and proposal.outcome == outcome else None
        if provision is None and outcome in DISCLOSING_OUTCOMES:
            provision = PROVISION_BY_FORM.get(self._inp.delivery_method)
        return ReplyItem(
            item_no=item.item_no, description=item.description, outcome=outcome,
            reasons=proposal.reasons if proposal and proposal.outcome == outcome else "",
            referral=proposal.referral if proposal else None,
            earlier_application_id=proposal.earlier_application_id if proposal else None,
            provision=provision,
            withheld_ground=proposal.withheld_ground if proposal and proposal.outcome == outcome else None,
        )

    def _prescreen_input(self, draft: Letter) -> PrescreenInput:
        texts = [PrescreenText(label="答复告知书", text=draft.body)]
        texts += [PrescreenText(item_no=i.item_no, label=f"第{i.item_no}项理由", text=i.proposal.reasons)
                  for i in self._items if i.proposal and i.proposal.reasons]
        return PrescreenInput(application_id=self._inp.application_id, texts=texts)

    # --- clock -----------------------------------------------------------------------------------

    def _compute_due(self) -> DueDate:
        extension = self._extension.days if self._extension and self._extension.decision == "approved" else 0
        pauses = [
            Pause(kind=c.kind, label=f"征求「{c.consultee_name}」意见", started_on=c.sent_on,
                  ended_on=c.ended_on, expected_end_on=c.window_ends_on)
            for c in self._consultations if c.sent_on is not None  # not yet dispatched: the clock runs
        ]
        fee = self._fee
        if fee is not None and fee.decision == "approved" and fee.notice_sent_on is not None:
            # 国办函〔2020〕109号: the time from the fee notice until payment is not counted.
            pauses.append(Pause(kind="fee", label="缴纳信息处理费", started_on=fee.notice_sent_on,
                                ended_on=fee.paid_on or (fee.pay_by if fee.lapsed_on else None), expected_end_on=fee.pay_by))
        return compute_due(self._cal, ClockInput(
            received_on=self._inp.received_on, reply_days=self._inp.policy.reply_days,
            restarted_on=self._restarted_on, pauses=pauses, extension_days=extension,
            receipt_basis=RECEIPT_BASIS[self._inp.channel],
        ))

    def _recompute_due(self, *, announce: bool = True) -> None:
        before = self._due.due_on
        self._due = self._compute_due()
        if self._replied_on is None:
            self._overdue = workflow.now() >= end_of_day_instant(self._due.due_on)
        if announce and self._due.due_on != before:
            self._record("due-date-changed", "system", f"答复期限由 {before} 重新计算为 {self._due.due_on}")
        self._clock_changed = True

    def _today(self) -> date:
        return local_date(workflow.now())

    # --- records -------------------------------------------------------------------------------

    def _record(self, kind: str, actor: str, summary: str) -> None:
        self._timeline.append(TimelineEntry(seq=len(self._timeline) + 1, at=workflow.now(), kind=kind,
                                            actor=actor, summary=summary))

    async def _alert(self, key: str, kind, role, recipient: str | None, message: str) -> None:
        await workflow.execute_activity(
            "raise_staff_alert",
            StaffAlertInput(key=key, application_id=self._inp.application_id, kind=kind, role=role,
                            recipient=recipient if recipient and "@" in recipient else None, message=message),
            start_to_close_timeout=ACTIVITY_TIMEOUT, retry_policy=PERSIST_RETRY,
        )

    async def _persist(self) -> None:
        unsaved = [e for e in self._timeline if e.seq > self._persisted_seq]
        await workflow.execute_activity(
            "persist_application",
            PersistApplicationInput(record=self._application_record(), events=[
                EventRecord(seq=e.seq, at=e.at, kind=e.kind, actor=e.actor, summary=e.summary) for e in unsaved
            ]),
            start_to_close_timeout=ACTIVITY_TIMEOUT, retry_policy=PERSIST_RETRY,
        )
        if unsaved:
            self._persisted_seq = unsaved[-1].seq
        workflow.upsert_search_attributes([
            sa.STATUS.value_set(self._status()),
            sa.DUE_AT.value_set(end_of_day_instant(self._due.due_on)),
            sa.OVERDUE.value_set(self._overdue),
        ])

    def _status(self) -> Status:
        if self._phase == "handling" and any(c.position == "pending" for c in self._consultations):
            return "consulting"
        return self._phase

    def _application_record(self) -> ApplicationRecord:
        applicant = self._inp.applicant
        finals = {i.final_outcome for i in self._items if i.final_outcome}
        return ApplicationRecord(
            application_id=self._inp.application_id, received_on=self._inp.received_on,
            channel=self._inp.channel, applicant_name=applicant.name, applicant_type=applicant.type,
            applicant_email=applicant.email, applicant_phone=applicant.phone, applicant_address=applicant.address,
            delivery_method=self._inp.delivery_method, policy=self._inp.policy.name, status=self._status(),
            handler=self._handler, department=self._department,
            due_on=None if self._phase == "awaiting-supplement" or self._closing() else self._due.due_on,
            due_provisional=self._due.provisional, overdue=self._overdue,
            paused=any(c.position == "pending" for c in self._consultations),
            extended=bool(self._extension and self._extension.decision == "approved"),
            closed_at=workflow.now() if self._phase in FINAL_STATUSES else None,
            final_outcome=report_outcome(finals) if finals else None,
            items=[ItemRecord(item_no=i.item_no, description=i.description,
                              outcome=i.final_outcome or (i.proposal.outcome if i.proposal else None),
                              reasons=i.proposal.reasons if i.proposal else "") for i in self._items],
        )

    def _unresolved_objection(self, item: ItemView) -> bool:
        """A third party objected and no supervisor has decided to disclose anyway (Reg. 32)."""
        return any(self._consultation(cid).override_reason is None for cid in item.objection_from)  # type: ignore[union-attr]

    def _item(self, item_no: int) -> ItemView:
        return self._items[item_no - 1]

    def _consultation(self, consultation_id: str) -> ConsultationState | None:
        return next((c for c in self._consultations if c.consultation_id == consultation_id), None)

    # --- the view --------------------------------------------------------------------------------

    def _view(self, today: date) -> ApplicationView:
        supplementing = self._phase == "awaiting-supplement" or self._closing()
        return ApplicationView(
            application_id=self._inp.application_id, status=self._status(), channel=self._inp.channel,
            received_on=self._inp.received_on, registered_at=self._inp.registered_at, policy=self._inp.policy.name,
            applicant_name=self._inp.applicant.name, delivery_method=self._inp.delivery_method,
            handler=self._handler, department=self._department, items=self._items,
            due=None if supplementing else self._due,
            working_days_left=None if supplementing or self._replied_on or self._phase in FINAL_STATUSES
            else working_days_left(self._cal, today, self._due.due_on),
            as_of=today, overdue=self._overdue,
            paused_intervals=[PausedInterval(label=f"征求「{c.consultee_name}」意见", started_on=c.sent_on,
                                             ended_on=c.ended_on, expected_end_on=c.window_ends_on)
                              for c in self._consultations if c.sent_on is not None],
            supplement=self._supplement, supplement_notice_by=self._supplement_notice_by,
            extension=self._extension, consultations=self._consultations, prescreen_findings=self._findings,
            reply_draft=self._reply_draft, replied_on=self._replied_on, delivered_on=self._delivered_on,
            timeline=self._timeline, pending_actions=self._pending_actions(),
            letters=self._letters, reply_draft_version=self._draft_version,
            reply_approved_sha256=self._approved_sha256, fee=self._fee,
        )

    def _pending_actions(self) -> list[PendingAction]:
        due = self._due.due_on
        actions: list[PendingAction] = []
        phase = self._phase
        if phase in FINAL_STATUSES:
            return actions
        if phase == "awaiting-supplement" and self._supplement and self._supplement.lapsed_on is not None:
            actions.append(PendingAction(action="decide-supplement-lapse", role="handler",
                                         description=f"补正期限 {self._supplement.deadline_on} 已届满：登记在期限内收到的补正，"
                                                     "或决定给予新的补正期限（有正当理由）或按其他处理-1答复"))
        elif phase == "awaiting-supplement" and self._supplement:
            actions.append(PendingAction(action="supplement", role="applicant",
                                         description="申请人按补正通知补正申请", due_on=self._supplement.deadline_on))
        if phase == "handling":
            if self._handler is None:
                actions.append(PendingAction(action="assign", role="registrar", description="指定承办人"))
            open_items = [str(i.item_no) for i in self._items if i.proposal is None]
            if open_items:
                actions.append(PendingAction(action="propose-decision", role="handler",
                                             description=f"对第 {'、'.join(open_items)} 项提出拟办意见", due_on=due))
            elif not any(c.position == "pending" for c in self._consultations):
                actions.append(PendingAction(action="submit-for-review", role="handler",
                                             description="提交保密审查", due_on=due))
        for c in self._consultations:
            if c.position == "pending" and c.child_status == "failed":
                actions.append(PendingAction(action="restart-consultation", role="handler",
                                             description=f"征求「{c.consultee_name}」意见的流程意外终止，请重新启动"))
            elif c.position == "pending" and c.from_receipt and c.served_on is None:
                actions.append(PendingAction(action="record-consultation-service", role="registrar",
                                             description=f"登记致「{c.consultee_name}」征求意见函的"
                                                         + ("送达日期（签收日期）" if c.sent_on else "寄出日期和送达日期")))
            if c.position == "pending":
                actions.append(PendingAction(action="answer-consultation", role=c.kind,
                                             description=f"「{c.consultee_name}」答复征求意见"
                                                         + ("（期限自收到之日起计算，暂按发出之日推算）" if c.window_provisional else ""),
                                             due_on=c.window_ends_on))
            elif c.position == "objection" and c.kind == "third-party" and c.override_reason is None and phase == "handling":
                actions.append(PendingAction(action="override-objection", role="supervisor",
                                             description=f"第三方「{c.consultee_name}」不同意公开：如涉及重大公共利益可决定公开（可选）"))
        if self._extension and self._extension.decision == "pending" and self._replied_on is None:
            actions.append(PendingAction(action="decide-extension", role="supervisor",
                                         description=f"审批延期 {self._extension.days} 个工作日", due_on=due))
        if phase == "in-review":
            actions.append(PendingAction(action="review", role="reviewer", description="保密审查拟办意见", due_on=due))
        if phase == "awaiting-signature":
            actions.append(PendingAction(action="sign", role="supervisor", description="签发答复告知书", due_on=due))
        if phase == "awaiting-delivery" and self._inp.delivery_method != "email":
            actions.append(PendingAction(action="confirm-delivery", role="registrar", description="寄送或交付答复并确认送达"))
        for letter in self._letters:
            if letter.status in ("uncertain", "failed") and letter.kind == "reply" and phase == "awaiting-delivery":
                actions.append(PendingAction(action="confirm-delivery", role="registrar",
                                             description=f"答复告知书电子邮件{'可能已送达' if letter.status == 'uncertain' else '未能送出'}，"
                                                         "请核实并确认送达或改为其他方式送达"))
        return actions


def body_sha256(body: str) -> str:
    return hashlib.sha256(body.encode()).hexdigest()


def report_outcome(outcomes: set[OutcomeCode]) -> OutcomeCode:
    """The one outcome an application counts under in the annual report (RULES §10).

    Partly disclosed and partly withheld counts as 部分公开 only; otherwise the first outcome in
    report order, which puts any disclosure ahead of a refusal.
    """
    if OutcomeCode.PARTLY_DISCLOSED in outcomes or (
        OutcomeCode.DISCLOSED in outcomes and len(outcomes) > 1
    ):
        return OutcomeCode.PARTLY_DISCLOSED
    order = list(OutcomeCode)
    return min(outcomes, key=order.index)
