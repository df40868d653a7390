"""The disclosure application workflow: one durable execution per application, id = its number.

Orchestration only. The rules it applies live in pure modules (clock, workcalendar, policy,
outcomes); everything that touches the world is an activity. Staff actions that need an answer are
Updates whose validators refuse, before anything is written to history, what the law or the
application's state does not allow now; the handler re-checks under the lock because another
action may have landed in between.
"""

import asyncio
from datetime import date, datetime
from typing import TypeVar

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError, ChildWorkflowError

with workflow.unsafe.imports_passed_through():
    from activities.disclosure import DisclosureActivities
    from activities.letters import LetterActivities
    from contracts.models import (
        CalendarAsked,
        ComposeLetterInput,
        DeliveredLetter,
        DispatchInput,
        EventRecord,
        Letter,
        LetterKind,
        RecordDeliveryInput,
        PersistApplicationInput,
        PrescreenInput,
        PrescreenText,
        ReplyItem,
        SendLetterResult,
        StaffAlertInput,
    )
    from clock import (
        DueDate,
        add_working_days_from,
        end_of_day_instant,
        local_date,
        supplement_notice_deadline,
    )
    from fees import quote as fee_quote
    from outcomes import OutcomeCode, label_of
    from workcalendar import CalendarData, WorkCalendar
    from workflows import search_attributes as sa
    from workflows.application_rules import (
        DISCLOSING_OUTCOMES,
        SYSTEM_ONLY_OUTCOMES,  # noqa: F401  re-exported for api/pages/staff.py
        body_sha256,
        closing,
        consultation_of,
        fee_running,
        item_of,
        report_outcome,
        status_of,
        unresolved_objection,
        why_final,
        why_not_assign,
        why_not_confirm_delivery,
        why_not_ask_reasons,
        why_not_decide_excessive,
        why_not_decide_extension,
        why_not_reasons_received,
        drafter_of_decision,
        why_not_decide_fee,
        why_not_decide_lapse,
        why_not_edit_reply,
        why_not_fee_settled,
        why_not_late_answer,
        why_not_override,
        why_not_propose,
        why_not_propose_fee,
        why_not_request_extension,
        why_not_request_supplement,
        why_not_restart,
        why_not_review,
        why_not_sign,
        why_not_start_consultation,
        why_not_submit,
        why_not_supplement_received,
        why_not_withdraw,
    )
    from workflows.application_state import ApplicationState
    from workflows.calendar_recount import (
        due_of,
        next_wake_at,
        overdue_key,
        reasons_wake_at,
        recount_deadlines,
        reminder_at,
        reminder_key,
    )
    from workflows.application_views import application_record, application_view
    from workflows.delivery import (
        ACTIVITY_TIMEOUT,
        LETTER_WITH_RECORD,
        LETTERS_V2,
        PERSIST_RETRY,
        PURE_RETRY,
        LetterDelivery,
    )
    from workflows.consultation import ConsultationWorkflow
    from workflows.records import registration_summary
    from workflows.report_records import record_for_report
    from workflows.messages import (
        FINAL_STATUSES,
        ApplicationInput,
        ApplicationOutcome,
        ApplicationView,
        AssignHandler,
        CalendarCatchUp,
        CalendarYearPublished,
        ConfirmDelivery,
        ConsultationInput,
        ConsultationProgress,
        ConsultationResult,
        ConsultationState,
        AskReasons,
        DecideExcessive,
        DecideExtension,
        DecideFee,
        ExcessiveState,
        ReasonsReceived,
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
        Proposal,
        ProposeDecision,
        RequestExtension,
        RequestSupplement,
        RestartConsultation,
        ReviewDecision,
        SignReply,
        StartConsultation,
        StateQuery,
        SubmitForReview,
        SupplementReceived,
        SupplementState,
        TimelineEntry,
        Withdraw,
    )

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

# Issue 12 point 4: the database copy is written by one background task, never under the lock: an
# action answers once the state changed; several changes coalesce into one write of the latest record,
# which carries a monotonic version (the store ignores an older copy). Histories from before keep the
# inline write (persist activity awaited under the lock, then the search attributes).
PERSIST_IN_BACKGROUND = "persist-in-background"
# Issue 15 point 4, issue 11 point 13: a published year moves every deadline counted on the calendar, each
# move explained; an application none of whose dates move records nothing. Shipped with the background
# persister, so it shares its patch: a workflow that has its marker (recorded at start) takes the new path
# without a marker of its own (a first `patched` call adds a marker and a search-attribute upsert: 2 events).
CALENDAR_MOVES = PERSIST_IN_BACKGROUND
# Issue 15 point 4: the calendar broadcaster recounts most open applications in the database copy without
# waking them (workflows/calendar_broadcast.py RECOUNT_IN_DATABASE), so an application learns of a published
# year when its timer fires (it reads the agency's calendar, a local activity, before acting on a deadline),
# when it writes its copy (the write is refused while it counts on an older calendar: it recounts, then writes),
# or when staff open it (the API's catch_up_calendar update). Its timer is never later than the new instant:
# the broadcaster signals the applications whose next wake-up moves earlier (at publication, or a day before
# the new wake-up: workflows/calendar_broadcast.py DEFERRED_WAKE; a second signal of the same year is a no-op).
CALENDAR_AT_WAKE = "calendar-at-wake"

# Reg. 40: how the information is provided, by the form the applicant asked for (the handler may say otherwise).
PROVISION_BY_FORM: dict[str, str] = {
    "email": "以电子文档形式，随本告知书通过电子邮件提供",
    "post": "以纸质复制件形式，随本告知书邮寄提供",
    "pickup": "以纸质复制件形式提供，请于收到本告知书之日起在工作日到本机关政府信息公开受理窗口领取",
    "portal": "以电子文档形式提供，请通过本机关政府信息公开申请平台下载",
    "disc": "以光盘形式，随本告知书提供",
    # Reg. 40: 安排申请人查阅、抄录 — the form named, then where and when.
    "inspection": "以现场查阅的形式提供，请于收到本告知书之日起在工作日到本机关政府信息公开受理窗口查阅、抄录",
}
# How a reply was delivered, in the timeline's words.
DELIVERED_BY: dict[str, str] = {"post": "邮寄", "pickup": "当面领取", "portal": "申请人在线下载", "email": "电子邮件",
                                "disc": "光盘", "inspection": "现场查阅"}



# Re-exported for tests and other modules that import them from here.
__all__ = ["DisclosureApplicationWorkflow", "ActionNotAllowed", "SYSTEM_ONLY_OUTCOMES", "body_sha256", "report_outcome"]


T = TypeVar("T")


class ActionNotAllowed(ApplicationError):
    """Refusal of a staff action, worded for the clerk who tried it."""

    def __init__(self, message: str) -> None:
        super().__init__(message, type="ActionNotAllowed", non_retryable=True)


@workflow.defn(name="DisclosureApplication")
class DisclosureApplicationWorkflow(LetterDelivery):
    @workflow.init
    def __init__(self, inp: ApplicationInput) -> None:
        self._s = ApplicationState(
            inp=inp, calendar_data=inp.calendar, handler=inp.handler, department=inp.department,
            items=[ItemView(item_no=n, description=it.description) for n, it in enumerate(inp.items, start=1)],
        )
        self._letters_in_flight = 0
        self._lock = asyncio.Lock()
        self._clock_changed = False
        self._dirty = False  # the database copy is behind the state (PERSIST_IN_BACKGROUND)
        self._writing = False  # the background persister has a write in flight
        self._persister: asyncio.Task | None = None
        self._with_record = False  # LETTER_WITH_RECORD (set at the start of the run)
        self._folding = False  # a letter's activity is writing the record (LETTER_WITH_RECORD)
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
            # Checked first: it implies the background persister, the calendar at wake-up and letters in one
            # activity, so a new workflow records one patch marker (and one search-attribute upsert), not three.
            self._with_record = workflow.patched(LETTER_WITH_RECORD)
            self._send_letter("acknowledgment", key_suffix="ack", deadline_on=self._s.due.due_on)
            if inp.listed_at_intake and self._in_background():
                # The API listed it: the next write (the acknowledgment's) stores the row and every event.
                self._upsert_search_attributes()
            else:
                await self._persist()
        while self._s.phase not in FINAL_STATUSES:
            deadline_reached = await self._sleep_until_next_deadline()
            async with self._lock:
                if deadline_reached and self._calendar_at_wake():
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
            if now >= end_of_day_instant(self._s.supplement.deadline_on) and self._s.supplement.lapsed_on is None:
                if workflow.patched(SUPPLEMENT_LAPSE_DECIDED):
                    await self._supplement_lapsed()
                else:
                    await self._abandon()
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
        if len(self._s.alerts_raised) == raised and self._in_background():
            return  # woken by a changed clock (its handler persisted): nothing new to write
        await self._persist()

    def _reminder_at(self) -> datetime:
        return reminder_at(self._s)

    def _reminder_key(self) -> str:
        return reminder_key(self._s)

    def _overdue_key(self) -> str:
        return overdue_key(self._s)

    async def _abandon(self) -> None:
        assert self._s.supplement is not None
        self._s.phase = "abandoned"
        for item in self._s.items:
            item.final_outcome = OutcomeCode.OTHER_NO_SUPPLEMENT
        self._s.replied_on = self._today()
        self._record("abandoned", "system", f"补正期限 {self._s.supplement.deadline_on} 届满未补正，视为放弃申请")
        self._send_letter("reply", key_suffix="reply", items=[
            ReplyItem(item_no=i.item_no, description=i.description, outcome=OutcomeCode.OTHER_NO_SUPPLEMENT,
                      reasons=f"本机关于 {self._s.supplement.notice_sent_on} 告知补正，申请人未在补正期限 "
                              f"{self._s.supplement.deadline_on} 前补正，视为放弃申请")
            for i in self._s.items
        ])
        await self._persist()
        await record_for_report(self, "abandoned")

    async def _fee_lapsed(self) -> None:
        """国办函〔2020〕109号: unpaid within 20 working days = 其他处理-2, replied through review and signature."""
        fee = self._s.fee
        assert fee is not None and fee.pay_by is not None
        fee.lapsed_on = self._today()
        reasons = (f"本机关于{fee.notice_sent_on}向您发出缴费通知，您未在{fee.pay_by}前按通知要求缴纳信息处理费，"
                   "根据《政府信息公开信息处理费管理办法》的规定，视为放弃申请，本机关不再处理该政府信息公开申请")
        for item in self._s.items:
            item.proposal = Proposal(outcome=OutcomeCode.OTHER_FEE_UNPAID, reasons=reasons, by="system", at=workflow.now())
        self._recompute_due(announce=False)
        self._record("fee-lapsed", "system", f"缴费期限 {fee.pay_by} 届满未缴费：拟按其他处理-2答复，答复告知书须经保密审查和签发")
        await self._alert(f"{self._s.inp.application_id}:fee-lapsed", "supplement-deadline", "handler", self._s.handler,
                          f"{self._s.inp.application_id} 缴费期限 {fee.pay_by} 届满未缴费，请提交其他处理-2答复")
        await self._persist()

    @workflow.update
    async def propose_fee(self, cmd: ProposeFee) -> ApplicationView:
        async with self._lock:
            self._refuse_if(why_not_propose_fee(self._s, cmd, self._today()))
            workflow.patched(FEES)
            q = fee_quote(cmd.standard, cmd.quantity)
            self._s.fee = FeeState(standard=cmd.standard, quantity=cmd.quantity, amount_yuan=q.amount_yuan, basis=q.basis,
                                 reason=cmd.reason, proposed_by=cmd.by)
            self._record("fee-proposed", cmd.by, f"拟收取信息处理费 {q.amount_yuan} 元（{q.basis}）：{cmd.reason}")
            await self._persist()
            return application_view(self._s, self._today())

    @propose_fee.validator
    def _validate_propose_fee(self, cmd: ProposeFee) -> None:
        self._refuse_if(why_not_propose_fee(self._s, cmd, self._today()))

    @workflow.update
    async def decide_fee(self, cmd: DecideFee) -> ApplicationView:
        async with self._lock:
            self._refuse_if(why_not_decide_fee(self._s, cmd, self._today()))
            fee = self._required(self._s.fee, "没有待审批的信息处理费")
            today = self._today()
            fee.decided_by = cmd.by
            if not cmd.approve:
                fee.decision = "refused"
                self._record("fee-refused", cmd.by, "不同意收费" + (f"：{cmd.comment}" if cmd.comment else ""))
            else:
                fee.decision, fee.notice_sent_on = "approved", today
                fee.pay_by = add_working_days_from(self._s.cal, today, FEE_PAY_DAYS)[0]
                fee.pay_by_basis = (f"缴费通知送达日期尚未确认，暂按发出之日 {today} 起 {FEE_PAY_DAYS} 个工作日推算；"
                                    "确认送达后自收到之日起重新计算")
                self._recompute_due(announce=False)
                self._record("fee-approved", cmd.by, f"同意收取信息处理费 {fee.amount_yuan} 元，发出缴费通知，缴费期限 {fee.pay_by}，"
                             "缴费期间不计入答复期限")
                self._send_letter("fee-notice", key_suffix="fee", deadline_on=fee.pay_by, reasons=fee.basis,
                                  fee_amount_yuan=fee.amount_yuan,
                                  fee_counted=fee_quote(fee.standard, fee.quantity).counted)  # issue 24 point 1
                self._clock_changed = True
            await self._persist()
            return application_view(self._s, today)

    @decide_fee.validator
    def _validate_decide_fee(self, cmd: DecideFee) -> None:
        self._refuse_if(why_not_decide_fee(self._s, cmd, self._today()))

    @workflow.update
    async def fee_settled(self, cmd: FeeSettled) -> ApplicationView:
        async with self._lock:
            self._refuse_if(why_not_fee_settled(self._s, cmd, self._today()))
            fee = self._required(self._s.fee, "没有待缴纳的信息处理费")
            if fee.lapsed_on is not None:
                fee.lapsed_on = None
                for item in self._s.items:
                    item.proposal = None
            fee.paid_on, fee.waived, fee.settled_by = cmd.paid_on, cmd.waived, cmd.by
            self._recompute_due(announce=False)
            self._record("fee-waived" if cmd.waived else "fee-paid", cmd.by,
                         (f"减免信息处理费（{cmd.note}）" if cmd.waived else f"{cmd.paid_on} 缴纳信息处理费 {fee.amount_yuan} 元")
                         + f"；答复期限恢复计算，现为 {self._s.due.due_on}")
            self._clock_changed = True
            await self._persist()
            return application_view(self._s, self._today())

    @fee_settled.validator
    def _validate_fee_settled(self, cmd: FeeSettled) -> None:
        self._refuse_if(why_not_fee_settled(self._s, cmd, self._today()))

    async def _supplement_lapsed(self) -> None:
        """Reg. 30: only an unjustified failure to supplement is abandonment, so a person decides."""
        assert self._s.supplement is not None
        self._s.supplement.lapsed_on = self._today()
        self._record("supplement-deadline-passed", "system",
                     f"补正期限 {self._s.supplement.deadline_on} 已届满，尚未登记收到补正：请承办人或负责人决定"
                     "（有正当理由的给予新的补正期限；无正当理由的按其他处理-1答复）")
        await self._alert(f"{self._s.inp.application_id}:supplement-lapsed:{self._s.supplement.deadline_on}",
                          "supplement-deadline", "handler", self._s.handler,
                          f"{self._s.inp.application_id} 补正期限 {self._s.supplement.deadline_on} 已届满，请决定："
                          "如已在期限内收到补正请登记收到日期；有正当理由的给予新期限；否则按逾期不补正答复")
        await self._persist()

    @workflow.update
    async def decide_supplement_lapse(self, cmd: DecideSupplementLapse) -> ApplicationView:
        async with self._lock:
            self._refuse_if(why_not_decide_lapse(self._s, cmd, self._today()))
            sup = self._required(self._s.supplement, "本申请没有补正")
            today = self._today()
            sup.lapse_decided_by, sup.lapse_reason = cmd.by, cmd.reason
            if cmd.justified:
                self._required(cmd.new_deadline_on, "有正当理由的，须确定晚于今天的新的补正期限")
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
                self._s.closing_unsupplemented = True
                self._s.phase = "handling"
                reasons = (f"本机关于{sup.notice_sent_on}一次性告知您补正申请，补正期限为{sup.deadline_on}。"
                           f"您无正当理由逾期未补正（{cmd.reason}），根据《中华人民共和国政府信息公开条例》第三十条的规定，"
                           "视为放弃申请，本机关不再处理该政府信息公开申请")
                for item in self._s.items:
                    item.proposal = Proposal(outcome=OutcomeCode.OTHER_NO_SUPPLEMENT, reasons=reasons, decided_by=cmd.by,
                                             by=drafter_of_decision(self._s, cmd.by), at=workflow.now())  # issue 24 pt 8
                self._record("supplement-lapse-decided", cmd.by,
                             f"认定无正当理由逾期未补正：拟按其他处理-1答复（{cmd.reason}），答复告知书须经保密审查和签发")
            await self._persist()
            return application_view(self._s, today)

    @decide_supplement_lapse.validator
    def _validate_decide_lapse(self, cmd: DecideSupplementLapse) -> None:
        self._refuse_if(why_not_decide_lapse(self._s, cmd, self._today()))

    # --- queries -----------------------------------------------------------------------------

    @workflow.query
    def state(self, q: StateQuery | None = None) -> ApplicationView:
        return application_view(self._s, (q.today if q and q.today else None) or self._today())

    # --- facts -------------------------------------------------------------------------------

    @workflow.signal
    async def calendar_published(self, fact: CalendarYearPublished) -> None:
        async with self._lock:
            await self._year_published(fact)

    async def _year_published(self, fact: CalendarYearPublished) -> None:
        data = self._s.calendar_data.with_year(fact.schedule)
        if data.version == self._s.calendar_data.version:
            return
        if self._in_background():  # CALENDAR_MOVES
            await self._apply_published_year(fact, data)
            return
        self._s.calendar_data = data
        self._s.supplement_notice_by, _ = supplement_notice_deadline(
            self._s.cal, self._s.inp.received_on, self._s.inp.policy.supplement_notice_days
        )
        self._record("calendar-updated", "system", f"{fact.schedule.year} 年放假安排已公布（{data.version}）")
        self._recompute_due()
        await self._persist()

    @workflow.update
    async def catch_up_calendar(self, cmd: CalendarCatchUp) -> ApplicationView:
        """Issue 15 point 4: the API shows an application only once it counts on the agency's calendar."""
        async with self._lock:
            await self._catch_up_calendar(cmd.calendar)
            return application_view(self._s, self._today())

    async def _agency_calendar(self) -> CalendarData:
        """The agency's calendar now, as this application holds it (a local activity: one marker event)."""
        data = await workflow.execute_local_activity_method(
            DisclosureActivities.current_calendar,
            CalendarAsked(received_year=self._s.inp.received_on.year, years=sorted(self._s.calendar_data.years)),
            start_to_close_timeout=ACTIVITY_TIMEOUT, retry_policy=PERSIST_RETRY,
        )
        return CalendarData.model_validate(data)

    async def _catch_up_calendar(self, data: CalendarData) -> bool:
        """Count on every year of `data` that differs from this application's (each as its publication's signal
        would); a year `data` lacks stays as it is. True: the application's calendar changed."""
        before = self._s.calendar_data.version
        for year, schedule in sorted(data.years.items()):
            mine = self._s.calendar_data.years.get(year)
            if mine is not None and CalendarData(years={year: mine}).version == CalendarData(years={year: schedule}).version:
                continue
            await self._year_published(CalendarYearPublished(schedule=schedule))
        return self._s.calendar_data.version != before

    async def _apply_published_year(self, fact: CalendarYearPublished, data) -> None:
        """Issue 15 point 4 and issue 11 point 13: recount on the new calendar every deadline that was
        counted on it (the reply period, the supplement notice period, the supplement deadline, the
        consultation windows, the fee payment period) and explain each move; nothing moved: nothing is
        recorded or persisted (the new calendar is kept for later counts), so most applications spend
        one workflow task on a publication."""
        s = self._s
        why = f"（{fact.schedule.year} 年放假安排公布）"
        recount = recount_deadlines(s, data, fact.schedule.year)
        moves, told = recount.moves, recount.told
        before = s.due
        due = self._compute_due()
        if not moves and (due.due_on, due.provisional) == (before.due_on, before.provisional):
            s.due = due  # same dates; its explanation now names the published calendar
            return
        self._record("calendar-updated", "system", f"{fact.schedule.year} 年放假安排已公布（{data.version}）")
        for kind, summary in moves:
            self._record(kind, "system", summary)
        self._recompute_due(announce=False)
        if s.due.due_on != before.due_on:
            self._record("due-date-changed", "system", f"答复期限由 {before.due_on} 重新计算为 {s.due.due_on}{why}")
        for consultation_id in told:  # the child keeps the window's timer: it recounts on the same calendar
            try:
                await workflow.get_external_workflow_handle(consultation_id).signal("calendar_published", fact)
            except ApplicationError:
                pass  # ended meanwhile: its result carries the window it used
        await self._persist()

    # --- staff and applicant actions (updates) ----------------------------------------------

    @workflow.update
    async def assign(self, cmd: AssignHandler) -> ApplicationView:
        async with self._lock:
            self._refuse_if(why_not_assign(self._s, cmd, self._today()))
            self._s.handler, self._s.department = cmd.handler, cmd.department or self._s.department
            self._record("assigned", cmd.by, f"交由 {cmd.handler} 承办")
            await self._persist()
            return application_view(self._s, self._today())

    @assign.validator
    def _validate_assign(self, cmd: AssignHandler) -> None:
        self._refuse_if(why_not_assign(self._s, cmd, self._today()))

    @workflow.update
    async def request_supplement(self, cmd: RequestSupplement) -> ApplicationView:
        async with self._lock:
            self._refuse_if(why_not_request_supplement(self._s, cmd, self._today()))
            today = self._today()
            deadline = cmd.deadline_on or add_working_days_from(
                self._s.cal, today, self._s.inp.policy.default_supplement_days
            )[0]
            self._s.supplement = SupplementState(
                needed=cmd.needed, requested_by=cmd.by, notice_sent_on=today, deadline_on=deadline
            )
            self._s.supplement.window_days = self._supplement_window_days(today, deadline)
            self._s.phase = "awaiting-supplement"
            self._record("supplement-requested", cmd.by, f"一次性告知补正 {len(cmd.needed)} 项，补正期限 {deadline}")
            self._send_letter("supplement-notice", key_suffix="supplement", needed=cmd.needed, deadline_on=deadline)
            self._clock_changed = True
            await self._persist()
            return application_view(self._s, today)

    @request_supplement.validator
    def _validate_request_supplement(self, cmd: RequestSupplement) -> None:
        self._refuse_if(why_not_request_supplement(self._s, cmd, self._today()))

    @workflow.update
    async def supplement_received(self, cmd: SupplementReceived) -> ApplicationView:
        async with self._lock:
            self._refuse_if(why_not_supplement_received(self._s, cmd, self._today()))
            self._required(self._s.supplement, "本申请没有待补正的内容")
            if self._s.closing_unsupplemented:
                # The supplement had in fact arrived by the deadline: the 其他处理-1 proposal falls.
                self._s.closing_unsupplemented = False
                self._s.supplement.lapse_decision = None
                for item in self._s.items:
                    item.proposal = None
            self._s.supplement.received_on = cmd.received_on
            self._s.supplement.lapsed_on = None
            self._s.supplement.received_evidence = cmd.evidence
            self._s.restarted_on = cmd.received_on
            self._s.phase = "handling"
            self._recompute_due(announce=False)
            self._record("supplement-received", cmd.by,
                         f"{cmd.received_on} 收到补正，答复期限重新计算为 {self._s.due.due_on}" + (f"；{cmd.note}" if cmd.note else ""))
            self._clock_changed = True
            await self._persist()
            return application_view(self._s, self._today())

    @supplement_received.validator
    def _validate_supplement_received(self, cmd: SupplementReceived) -> None:
        self._refuse_if(why_not_supplement_received(self._s, cmd, self._today()))

    @workflow.update
    async def request_extension(self, cmd: RequestExtension) -> ApplicationView:
        async with self._lock:
            self._refuse_if(why_not_request_extension(self._s, cmd, self._today()))
            self._s.extension = ExtensionState(
                days=cmd.days, reason=cmd.reason, requested_by=cmd.by, requested_on=self._today()
            )
            self._record("extension-requested", cmd.by, f"申请延期 {cmd.days} 个工作日：{cmd.reason}")
            await self._persist()
            return application_view(self._s, self._today())

    @request_extension.validator
    def _validate_request_extension(self, cmd: RequestExtension) -> None:
        self._refuse_if(why_not_request_extension(self._s, cmd, self._today()))

    @workflow.update
    async def decide_extension(self, cmd: DecideExtension) -> ApplicationView:
        async with self._lock:
            self._refuse_if(why_not_decide_extension(self._s, cmd, self._today()))
            ext = self._required(self._s.extension, "没有待审批的延期申请")
            ext.decision, ext.decided_by, ext.decided_on, ext.comment = (
                "approved" if cmd.approve else "refused", cmd.by, self._today(), cmd.comment
            )
            if cmd.approve:
                self._recompute_due(announce=False)
                self._record("extension-approved", cmd.by, f"同意延期 {ext.days} 个工作日，答复期限延至 {self._s.due.due_on}")
                self._send_letter("extension-notice", key_suffix="extension", deadline_on=self._s.due.due_on,
                                  reasons=ext.reason, extension_days=ext.days)
                self._clock_changed = True
            else:
                self._record("extension-refused", cmd.by, "不同意延期" + (f"：{cmd.comment}" if cmd.comment else ""))
            await self._persist()
            return application_view(self._s, self._today())

    @decide_extension.validator
    def _validate_decide_extension(self, cmd: DecideExtension) -> None:
        self._refuse_if(why_not_decide_extension(self._s, cmd, self._today()))

    # --- Reg. 35 (条例第三十五条): a request clearly beyond a reasonable range --------------------

    @workflow.update
    async def ask_reasons(self, cmd: AskReasons) -> ApplicationView:
        """The handler asks the applicant to explain the reasons; the reply period keeps running."""
        async with self._lock:
            today = self._today()
            self._refuse_if(why_not_ask_reasons(self._s, cmd, today))
            reasons_by, _ = add_working_days_from(self._s.cal, today, self._s.inp.policy.excessive_reasons_days)
            self._s.excessive = ExcessiveState(grounds=cmd.grounds, asked_by=cmd.by, asked_on=today,
                                               reasons_by=reasons_by)
            self._record("reasons-asked", cmd.by,
                         f"申请数量、频次明显超过合理范围（{cmd.grounds}），依条例第三十五条要求申请人于 {reasons_by} 前说明理由")
            self._send_letter("reasons-request", key_suffix="reasons-request", deadline_on=reasons_by,
                              reasons=cmd.grounds)
            self._recompute_due(announce=False)
            await self._persist()
            return application_view(self._s, today)

    @ask_reasons.validator
    def _validate_ask_reasons(self, cmd: AskReasons) -> None:
        self._refuse_if(why_not_ask_reasons(self._s, cmd, self._today()))

    @workflow.update
    async def reasons_received(self, cmd: ReasonsReceived) -> ApplicationView:
        async with self._lock:
            today = self._today()
            self._refuse_if(why_not_reasons_received(self._s, cmd, today))
            ex = self._s.excessive
            ex.reasons_received_on, ex.reasons, ex.reasons_entered_by, ex.reasons_evidence = (
                cmd.received_on, cmd.reasons, cmd.by, cmd.evidence)
            late = "（逾期）" if cmd.received_on > ex.reasons_by else ""
            self._record("reasons-received", cmd.by,
                         f"登记申请人于 {cmd.received_on} 提交的申请理由{late}" + (f"，依据：{cmd.evidence}" if cmd.evidence else ""))
            await self._alert(f"{self._s.inp.application_id}:reasons-received", "reminder", "supervisor", None,
                              f"{self._s.inp.application_id} 申请人已说明申请理由，请决定理由是否合理（条例第三十五条）")
            self._clock_changed = True
            await self._persist()
            return application_view(self._s, today)

    @reasons_received.validator
    def _validate_reasons_received(self, cmd: ReasonsReceived) -> None:
        self._refuse_if(why_not_reasons_received(self._s, cmd, self._today()))

    @workflow.update
    async def decide_excessive(self, cmd: DecideExcessive) -> ApplicationView:
        async with self._lock:
            today = self._today()
            self._refuse_if(why_not_decide_excessive(self._s, cmd, today))
            ex = self._s.excessive
            ex.decided_by, ex.decided_on, ex.decision_reason = cmd.by, today, cmd.reason
            if cmd.reasonable:
                before = self._s.due.due_on
                ex.decision, ex.period_until = "reasonable", cmd.period_until
                self._recompute_due(announce=False)
                self._record("reasonable-period-set", cmd.by,
                             f"申请理由合理（{cmd.reason}），但无法在 {before} 前答复：依条例第三十五条确定延迟答复的合理期限至 "
                             f"{self._s.due.due_on}，书面告知申请人")
                self._send_letter("reasonable-period-notice", key_suffix="reasonable-period",
                                  deadline_on=self._s.due.due_on, reasons=cmd.reason)
            else:
                ex.decision = "unreasonable"
                given = (f"您于{ex.reasons_received_on}说明了申请理由，经审查，本机关认为申请理由不合理（{cmd.reason}）"
                         if ex.reasons_received_on else
                         f"您未在{ex.reasons_by}前说明理由（{cmd.reason}）")
                reasons = (f"您申请公开政府信息的数量、频次明显超过合理范围（{ex.grounds}）。本机关于{ex.asked_on}"
                           f"要求您说明理由，{given}。根据《中华人民共和国政府信息公开条例》第三十五条的规定，本机关不予处理")
                for item in self._s.items:
                    item.proposal = Proposal(outcome=OutcomeCode.NOT_PROCESSED_EXCESSIVE, reasons=reasons, decided_by=cmd.by,
                                             by=drafter_of_decision(self._s, cmd.by), at=workflow.now())  # issue 24 pt 8
                self._record("excessive-unreasonable", cmd.by,
                             f"认定申请理由不合理或未说明理由：拟按不予处理-4答复（{cmd.reason}），答复告知书须经保密审查和签发")
            self._clock_changed = True
            await self._persist()
            return application_view(self._s, today)

    @decide_excessive.validator
    def _validate_decide_excessive(self, cmd: DecideExcessive) -> None:
        self._refuse_if(why_not_decide_excessive(self._s, cmd, self._today()))

    async def _reasons_lapsed(self) -> None:
        ex = self._s.excessive
        ex.lapsed_on = self._today()
        self._record("reasons-deadline-passed", "system",
                     f"说明理由的期限 {ex.reasons_by} 已届满，未登记申请人的理由：请负责人决定（条例第三十五条）")
        await self._alert(f"{self._s.inp.application_id}:reasons-lapsed", "supplement-deadline", "supervisor", None,
                          f"{self._s.inp.application_id} 说明理由的期限 {ex.reasons_by} 已届满，请决定是否不予处理")
        await self._persist()

    def _reasons_wake_at(self) -> datetime | None:
        return reasons_wake_at(self._s)

    @workflow.update
    async def start_consultation(self, cmd: StartConsultation) -> ApplicationView:
        async with self._lock:
            self._refuse_if(why_not_start_consultation(self._s, cmd, self._today()))
            if workflow.patched(CONSULT_FROM_RECEIPT):
                return await self._start_consultation_from_receipt(cmd)
            today = self._today()
            consultation_id = f"{self._s.inp.application_id}.consult-{len(self._s.consultations) + 1}"
            window_ends_on, _ = add_working_days_from(self._s.cal, today, self._s.inp.policy.consultation_days)
            state = ConsultationState(
                consultation_id=consultation_id, kind=cmd.consultee.kind, consultee_name=cmd.consultee.name,
                consultee_email=cmd.consultee.email,
                item_nos=sorted(set(cmd.item_nos)), sent_on=today, window_ends_on=window_ends_on,
            )
            self._s.consultations.append(state)
            handle = await workflow.start_child_workflow(
                ConsultationWorkflow.run,
                ConsultationInput(
                    application_id=self._s.inp.application_id, consultation_id=consultation_id,
                    consultee=cmd.consultee, items=[(n, item_of(self._s, n).description) for n in state.item_nos],
                    agency_name=self._s.inp.agency_name, received_on=self._s.inp.received_on,
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
            return application_view(self._s, today)

    async def _start_consultation_from_receipt(self, cmd: StartConsultation) -> ApplicationView:
        """Issue 11: the letter goes out from the child; the clock stops when it is dispatched (progress signal)."""
        today = self._today()
        consultation_id = f"{self._s.inp.application_id}.consult-{len(self._s.consultations) + 1}"
        state = ConsultationState(
            consultation_id=consultation_id, kind=cmd.consultee.kind, consultee_name=cmd.consultee.name,
            consultee_email=cmd.consultee.email, item_nos=sorted(set(cmd.item_nos)), sent_on=None,
            window_ends_on=None, from_receipt=True, created_on=today,
            window_basis="征求意见函尚未发出：发出之日起暂停计算答复期限，意见期限自对方收到之日起计算",
        )
        self._s.consultations.append(state)
        self._s.consultees[consultation_id] = cmd.consultee
        await self._start_consultation_child(state)
        who = "第三方" if cmd.consultee.kind == "third-party" else "其他机关"
        article = "第三十二条" if cmd.consultee.kind == "third-party" else "第三十四条"
        self._record("consultation-started", cmd.by,
                     f"书面征求{who}「{cmd.consultee.name}」意见（条例{article}）：征求意见函发出之日起答复期限暂停计算，"
                     f"对方自收到之日起 {self._s.inp.policy.consultation_days} 个工作日内提出意见")
        self._clock_changed = True
        await self._persist()
        return application_view(self._s, today)

    async def _start_consultation_child(self, state: ConsultationState) -> None:
        consultee = self._s.consultees[state.consultation_id]
        handle = await workflow.start_child_workflow(
            ConsultationWorkflow.run,
            ConsultationInput(
                application_id=self._s.inp.application_id, consultation_id=state.consultation_id,
                consultee=consultee, items=[(n, item_of(self._s, n).description) for n in state.item_nos],
                agency_name=self._s.inp.agency_name, received_on=self._s.inp.received_on,
                calendar=self._s.calendar_data, consultation_days=self._s.inp.policy.consultation_days,
                dispatched_on=state.sent_on, served_on=state.served_on, service_evidence=state.service_evidence,
            ),
            id=state.consultation_id,
        )
        state.child_status, state.failure = "running", None
        asyncio.create_task(self._await_consultation(state, handle))

    @workflow.signal
    async def consultation_progress(self, progress: ConsultationProgress) -> None:
        async with self._lock:
            state = consultation_of(self._s, progress.consultation_id)
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
        self._refuse_if(why_not_start_consultation(self._s, cmd, self._today()))

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
                                  self._s.handler, f"{self._s.inp.application_id}：征求「{state.consultee_name}」意见的流程意外终止，"
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
                item = item_of(self._s, n)
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
        self._record("consultation-answered", state.consultee_name, f"{summary}；答复期限恢复计算，现为 {self._s.due.due_on}")
        if position == "objection" and state.kind == "third-party":
            await self._alert(f"{state.consultation_id}:objection", "consultation-objection", "supervisor", None,
                              f"{self._s.inp.application_id}：第三方「{state.consultee_name}」不同意公开。"
                              "如认为不公开可能对公共利益造成重大影响，可决定予以公开并书面告知第三方。")
        self._clock_changed = True
        await self._persist()

    @workflow.update
    async def late_consultation_answer(self, cmd: LateConsultationAnswer) -> ApplicationView:
        """A paper answer received within the window, entered after the window was closed as silence."""
        async with self._lock:
            self._refuse_if(why_not_late_answer(self._s, cmd, self._today()))
            state = self._required(consultation_of(self._s, cmd.consultation_id), f"本申请没有征求意见 {cmd.consultation_id}")
            state.answer_received_on, state.answer_entered_by, state.answer_evidence = cmd.received_on, cmd.by, cmd.evidence
            ended_abnormally = state.child_status == "failed"
            if ended_abnormally:
                state.child_status = "ended"  # closed by staff instead of restarted
            self._record("consultation-answer-entered-late", cmd.by,
                         f"登记「{state.consultee_name}」于 {cmd.received_on} 寄达本机关的意见"
                         + ("（征求意见流程意外终止，由工作人员登记后结束，按收到之日计）" if ended_abnormally
                            else "（期限届满后登记，按收到之日计）")
                         + (f"：{cmd.evidence}" if cmd.evidence else ""))
            await self._apply_consultation_answer(state, cmd.position, cmd.reasons, cmd.received_on)
            return application_view(self._s, self._today())

    @late_consultation_answer.validator
    def _validate_late_answer(self, cmd: LateConsultationAnswer) -> None:
        self._refuse_if(why_not_late_answer(self._s, cmd, self._today()))

    @workflow.update
    async def restart_consultation(self, cmd: RestartConsultation) -> ApplicationView:
        async with self._lock:
            self._refuse_if(why_not_restart(self._s, cmd, self._today()))
            state = self._required(consultation_of(self._s, cmd.consultation_id), f"本申请没有征求意见 {cmd.consultation_id}")
            state.restarts += 1
            await self._start_consultation_child(state)
            self._record("consultation-restarted", cmd.by,
                         f"重新启动征求「{state.consultee_name}」意见的流程（第 {state.restarts} 次）；已发出的函不重复发出")
            await self._persist()
            return application_view(self._s, self._today())

    @restart_consultation.validator
    def _validate_restart(self, cmd: RestartConsultation) -> None:
        self._refuse_if(why_not_restart(self._s, cmd, self._today()))

    @workflow.update
    async def override_objection(self, cmd: OverrideObjection) -> ApplicationView:
        async with self._lock:
            self._refuse_if(why_not_override(self._s, cmd, self._today()))
            state = self._required(consultation_of(self._s, cmd.consultation_id), f"本申请没有征求意见 {cmd.consultation_id}")
            state.override_reason, state.override_by = cmd.reason, cmd.by
            state.override_basis = cmd.basis  # issue 24 point 3: recorded and counted apart from the override
            unreasonable = cmd.basis == "grounds-not-reasonable"
            # Seed 002 art. 18: whose views were heard before deciding: the third party's (its answer), and others.
            state.override_heard = [f"第三方「{state.consultee_name}」：{state.reasons}"] + [
                f"{'申请人' if h.party == 'applicant' else '其他方面'}「{h.name}」：{h.summary}" for h in cmd.heard]
            for n in state.item_nos:
                item = item_of(self._s, n)
                resolved = not unresolved_objection(self._s, item)
                if unreasonable:
                    item.objection_unreasonable = item.objection_unreasonable or resolved
                else:
                    item.overridden = resolved
            if unreasonable:
                self._record("objection-not-reasonable", cmd.by, f"认定第三方不同意公开的理由不合理，决定公开：{cmd.reason}；"
                             f"听取了 {len(state.override_heard)} 方面意见（{'；'.join(state.override_heard)}）；答复前书面告知第三方")
            else:
                self._record("objection-overridden", cmd.by, f"认定不公开可能对公共利益造成重大影响，决定公开：{cmd.reason}；"
                             f"听取了 {len(state.override_heard)} 方面意见（{'；'.join(state.override_heard)}）；书面告知第三方")
            self._send_letter(
                "objection-unreasonable-notice" if unreasonable else "override-notice",
                key_suffix=f"override-{state.consultation_id}", recipient=state.consultee_name,
                items=[self._reply_item(item_of(self._s, n), OutcomeCode.DISCLOSED) for n in state.item_nos],
                reasons=cmd.reason, recipient_email=state.consultee_email,
                **({"heard": state.override_heard} if cmd.heard else {}),
            )
            await self._persist()
            return application_view(self._s, self._today())

    @override_objection.validator
    def _validate_override(self, cmd: OverrideObjection) -> None:
        self._refuse_if(why_not_override(self._s, cmd, self._today()))

    @workflow.update
    async def propose_decision(self, cmd: ProposeDecision) -> ApplicationView:
        async with self._lock:
            self._refuse_if(why_not_propose(self._s, cmd, self._today()))
            item = item_of(self._s, cmd.item_no)
            item.proposal = Proposal(outcome=cmd.outcome, reasons=cmd.reasons, referral=cmd.referral,
                                     not_this_agency=cmd.not_this_agency and cmd.outcome == OutcomeCode.UNAVAILABLE_NOT_HELD,
                                     earlier_application_id=cmd.earlier_application_id, provision=cmd.provision,
                                     withheld_ground=cmd.withheld_ground, by=cmd.by, at=workflow.now(),
                                     published_at=cmd.published_at if cmd.outcome == OutcomeCode.DISCLOSED else None,
                                     earlier_similarity=cmd.earlier_similarity)
            self._record("decision-proposed", cmd.by, f"第 {cmd.item_no} 项拟{label_of(cmd.outcome)}" + (
                f"（与 {cmd.earlier_application_id} 的事项相似度 {cmd.earlier_similarity:.1f}）"
                if cmd.earlier_similarity is not None else ""))  # issue 24 point 7
            await self._persist()
            return application_view(self._s, self._today())

    @propose_decision.validator
    def _validate_propose(self, cmd: ProposeDecision) -> None:
        self._refuse_if(why_not_propose(self._s, cmd, self._today()))

    @workflow.update
    async def submit_for_review(self, cmd: SubmitForReview) -> ApplicationView:
        async with self._lock:
            self._refuse_if(why_not_submit(self._s, self._today()))
            self._s.phase = "in-review"
            self._record("submitted-for-review", cmd.by, "拟办意见提交保密审查")
            draft = await workflow.execute_activity_method(
                DisclosureActivities.compose_letter, self._letter_input("reply", items=self._reply_items()),
                start_to_close_timeout=ACTIVITY_TIMEOUT, retry_policy=PURE_RETRY,
            )
            screen = await workflow.execute_activity_method(
                DisclosureActivities.prescreen, self._prescreen_input(draft),
                start_to_close_timeout=ACTIVITY_TIMEOUT, retry_policy=PURE_RETRY,
            )
            self._s.reply_draft, self._s.findings = draft, screen.findings
            self._record(
                "prescreen", "system",
                "保密预审未发现敏感信息" if screen.clean else
                f"保密预审发现 {len(screen.findings)} 处需审查：" + "、".join(sorted({f.kind for f in screen.findings})),
            )
            await self._persist()
            return application_view(self._s, self._today())

    @submit_for_review.validator
    def _validate_submit(self, cmd: SubmitForReview) -> None:
        self._refuse_if(why_not_submit(self._s, self._today()))

    @workflow.update
    async def review(self, cmd: ReviewDecision) -> ApplicationView:
        async with self._lock:
            self._refuse_if(why_not_review(self._s, cmd, self._today()))
            if cmd.approve:
                self._s.phase = "awaiting-signature"
                self._required(self._s.reply_draft, "答复文书尚未生成，暂不能审核")
                self._s.approved_sha256 = body_sha256(self._s.reply_draft.body)
                self._record("review-approved", cmd.by, "保密审查通过" + (f"：{cmd.comment}" if cmd.comment else ""))
            else:
                self._s.phase = "handling"
                self._s.reply_draft, self._s.findings = None, []
                self._record("review-returned", cmd.by, f"保密审查退回：{cmd.comment or '未说明'}")
            await self._persist()
            return application_view(self._s, self._today())

    @review.validator
    def _validate_review(self, cmd: ReviewDecision) -> None:
        self._refuse_if(why_not_review(self._s, cmd, self._today()))

    @workflow.update
    async def edit_reply(self, cmd: EditReplyDraft) -> ApplicationView:
        """The handler edits the reply draft; it is pre-screened again and goes (back) to review."""
        async with self._lock:
            self._refuse_if(why_not_edit_reply(self._s, cmd, self._today()))
            self._required(self._s.reply_draft, "答复文书尚未生成，暂不能修改")
            draft = Letter(kind="reply", subject=self._s.reply_draft.subject, body=cmd.body)
            screen = await workflow.execute_activity_method(
                DisclosureActivities.prescreen, self._prescreen_input(draft),
                start_to_close_timeout=ACTIVITY_TIMEOUT, retry_policy=PURE_RETRY,
            )
            self._s.reply_draft, self._s.findings = draft, screen.findings
            self._s.draft_version += 1
            self._s.approved_sha256 = None
            self._s.phase = "in-review"
            self._record("reply-edited", cmd.by, f"修改答复告知书草稿（第 {self._s.draft_version} 稿），须重新保密审查"
                         + (f"：{cmd.note}" if cmd.note else "")
                         + ("" if screen.clean else f"；保密预审发现 {len(screen.findings)} 处需审查"))
            await self._persist()
            return application_view(self._s, self._today())

    @edit_reply.validator
    def _validate_edit_reply(self, cmd: EditReplyDraft) -> None:
        self._refuse_if(why_not_edit_reply(self._s, cmd, self._today()))

    @workflow.update
    async def sign(self, cmd: SignReply) -> ApplicationView:
        async with self._lock:
            self._refuse_if(why_not_sign(self._s, cmd, self._today()))
            self._required(self._s.reply_draft, "答复文书尚未生成，暂不能签发")
            today = self._today()
            for item in self._s.items:
                item.final_outcome = self._required(item.proposal, f"第 {item.item_no} 项尚无拟办意见").outcome
            self._s.replied_on = today
            self._s.phase = "awaiting-delivery"
            on_time = today <= self._s.due.due_on
            self._record("signed", cmd.by, "负责人签发答复告知书（逾期不补正，其他处理-1）" if self._s.closing_unsupplemented
                         else f"负责人签发答复告知书（{'期限内' if on_time else '已逾期'}答复）")
            self._send_letter("reply", key_suffix="reply", composed=self._s.reply_draft)
            self._clock_changed = True
            await self._persist()
            await record_for_report(self, "replied", signed_by=cmd.by)
            return application_view(self._s, today)

    @sign.validator
    def _validate_sign(self, cmd: SignReply) -> None:
        self._refuse_if(why_not_sign(self._s, cmd, self._today()))

    @workflow.update
    async def confirm_delivery(self, cmd: ConfirmDelivery) -> ApplicationView:
        async with self._lock:
            self._refuse_if(why_not_confirm_delivery(self._s, cmd, self._today()))
            self._close_delivered(cmd.delivered_on, cmd.by,
                                  f"答复已送达（{DELIVERED_BY.get(cmd.method, cmd.method)}"
                                  f"{'，邮件单号 ' + cmd.tracking_number if cmd.tracking_number else ''}）")
            if self._with_record or workflow.patched(LETTERS_V2):
                key = f"{self._s.inp.application_id}:reply"
                if letter := self._letter_view(key):
                    letter.status, letter.delivered_on, letter.tracking_number = (
                        "delivered", cmd.delivered_on, cmd.tracking_number)
                await workflow.execute_activity_method(
                    LetterActivities.record_letter_delivery,
                    RecordDeliveryInput(key=key, delivered_on=cmd.delivered_on, method=cmd.method,
                                        tracking_number=cmd.tracking_number, posted_on=cmd.posted_on,
                                        received_by=cmd.received_by, by=cmd.by),
                    start_to_close_timeout=ACTIVITY_TIMEOUT, retry_policy=PERSIST_RETRY,
                )
            await self._persist()
            return application_view(self._s, self._today())

    @confirm_delivery.validator
    def _validate_confirm_delivery(self, cmd: ConfirmDelivery) -> None:
        self._refuse_if(why_not_confirm_delivery(self._s, cmd, self._today()))

    # --- issue 11 point 14: a supplement or fee notice's receipt starts the applicant's window -------

    @workflow.update
    async def letter_served(self, cmd: LetterServed) -> ApplicationView:
        async with self._lock:
            self._refuse_if(self._why_not_letter_served(cmd))
            self._letter_served(cmd)
            await self._persist()
            return application_view(self._s, self._today())

    @letter_served.validator
    def _validate_letter_served(self, cmd: LetterServed) -> None:
        self._refuse_if(self._why_not_letter_served(cmd))

    def _why_not_letter_served(self, cmd: LetterServed) -> str | None:
        if reason := why_final(self._s):
            return reason
        sup, fee, app_id = self._s.supplement, self._s.fee, self._s.inp.application_id
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

    def _email_accepted(self, dispatch: DispatchInput, result: SendLetterResult) -> None:
        """The server's acceptance of an e-mailed supplement or fee notice is its receipt (proof of service)."""
        if result.sent_at and dispatch.letter.kind in ("supplement-notice", "fee-notice") \
                and workflow.patched(LETTER_EVIDENCE):
            served = LetterServed(key=dispatch.key, served_on=local_date(result.sent_at), method="email", by="system",
                                  evidence=f"电子邮件于 {result.sent_at.isoformat()} 由邮件服务器接收"
                                           f"（Message-ID {result.message_id}）")
            if self._why_not_letter_served(served) is None:
                self._letter_served(served)

    def _supplement_notice_key(self) -> str:
        renewals = len(self._s.supplement.earlier_deadlines)
        return f"{self._s.inp.application_id}:supplement" + (f"-{renewals + 1}" if renewals else "")

    def _supplement_window_days(self, issued_on: date, deadline_on: date) -> int:
        return window_days_of(self._s.cal, issued_on, deadline_on)

    def _letter_served(self, cmd: LetterServed) -> None:
        """Reg. 30 (补正期限), 国办函〔2020〕109号 (自收到收费通知之日起20个工作日): counted from receipt."""
        how = {"email": "电子邮件", "post": "邮寄签收", "pickup": "当面领取", "portal": "申请人在线下载", "hand": "直接送达"}[cmd.method]
        shown = f"（{how}" + (f"：{cmd.evidence}" if cmd.evidence else "") + "）"
        if (letter := self._letter_view(cmd.key)) is not None and cmd.method != "email":
            letter.status, letter.delivered_on = "delivered", cmd.served_on
        sup, fee = self._s.supplement, self._s.fee
        if sup is not None and cmd.key == self._supplement_notice_key():
            sup.notice_served_on = cmd.served_on
            summary = f"补正通知于 {cmd.served_on} 送达{shown}"
            if self._s.phase == "awaiting-supplement" and sup.received_on is None:
                days = sup.window_days or self._s.inp.policy.default_supplement_days
                deadline, _ = add_working_days_from(self._s.cal, cmd.served_on, days)
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
            if fee_running(self._s):
                fee.pay_by = add_working_days_from(self._s.cal, cmd.served_on, FEE_PAY_DAYS)[0]
                fee.pay_by_basis = f"缴费通知于 {cmd.served_on} 送达，自收到之日起 {FEE_PAY_DAYS} 个工作日，至 {fee.pay_by} 止"
                self._recompute_due(announce=False)
                summary += f"；缴费期限自收到之日起 {FEE_PAY_DAYS} 个工作日，为 {fee.pay_by}"
            self._record("fee-notice-served", cmd.by, summary)

    @workflow.update
    async def withdraw(self, cmd: Withdraw) -> ApplicationView:
        async with self._lock:
            self._refuse_if(why_not_withdraw(self._s, self._today()))
            self._s.phase = "withdrawn"
            for item in self._s.items:
                item.final_outcome = OutcomeCode.OTHER
            self._record("withdrawn", cmd.by, "申请人撤回申请" + (f"：{cmd.reason}" if cmd.reason else ""))
            await self._persist()
            await record_for_report(self, "withdrawn")
            return application_view(self._s, self._today())

    @withdraw.validator
    def _validate_withdraw(self, cmd: Withdraw) -> None:
        self._refuse_if(why_not_withdraw(self._s, self._today()))

    # --- shared refusals -----------------------------------------------------------------------

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

    def _reply_items_final(self) -> list[ReplyItem]:
        return [self._reply_item(item, item.final_outcome) for item in self._s.items if item.final_outcome]

    def _close_delivered(self, delivered_on: date, by: str, summary: str) -> None:
        self._s.delivered_on = delivered_on
        self._s.phase = "closed"
        self._record("delivered", by, summary)

    def _letter_input(self, kind: LetterKind, *, recipient: str | None = None, **fields) -> ComposeLetterInput:
        return ComposeLetterInput(
            application_id=self._s.inp.application_id, kind=kind, agency_name=self._s.inp.agency_name,
            recipient_name=recipient or self._s.inp.applicant.name, letter_date=self._today(),
            received_on=self._s.inp.received_on,
            **fields,
        )

    def _reply_items(self) -> list[ReplyItem]:
        return [self._reply_item(item, (item.final_outcome or item.proposal.outcome)) for item in self._s.items]  # type: ignore[union-attr]

    def _reply_item(self, item: ItemView, outcome: OutcomeCode) -> ReplyItem:
        proposal = item.proposal
        provision = proposal.provision if proposal and proposal.outcome == outcome else None
        if provision is None and outcome in DISCLOSING_OUTCOMES:
            provision = PROVISION_BY_FORM.get(self._s.inp.delivery_method)
        return ReplyItem(
            item_no=item.item_no, description=item.description, outcome=outcome,
            reasons=proposal.reasons if proposal and proposal.outcome == outcome else "",
            referral=proposal.referral if proposal else None,
            not_this_agency=bool(proposal and proposal.outcome == outcome and proposal.not_this_agency),
            earlier_application_id=proposal.earlier_application_id if proposal else None,
            provision=provision,
            withheld_ground=proposal.withheld_ground if proposal and proposal.outcome == outcome else None,
            published_at=proposal.published_at if proposal and proposal.outcome == outcome else None,  # issue 24 point 5
        )

    def _prescreen_input(self, draft: Letter) -> PrescreenInput:
        texts = [PrescreenText(label="答复告知书", text=draft.body)]
        texts += [PrescreenText(item_no=i.item_no, label=f"第{i.item_no}项理由", text=i.proposal.reasons)
                  for i in self._s.items if i.proposal and i.proposal.reasons]
        return PrescreenInput(application_id=self._s.inp.application_id, texts=texts)

    # --- clock -----------------------------------------------------------------------------------

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

    async def _persist(self) -> None:
        """The state changed: bring the database copy and the search attributes up to date.

        PERSIST_IN_BACKGROUND: returns at once; the background persister writes the latest record.
        """
        if not self._in_background():
            await self._persist_inline()
            return
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
        persist.check_calendar = self._check_calendar_on_write and self._calendar_at_wake()
        return persist

    def _in_background(self) -> bool:
        """PERSIST_IN_BACKGROUND (and CALENDAR_MOVES, shipped with it), implied by LETTER_WITH_RECORD."""
        return self._with_record or workflow.patched(PERSIST_IN_BACKGROUND)

    def _calendar_at_wake(self) -> bool:
        """CALENDAR_AT_WAKE, implied by LETTER_WITH_RECORD."""
        return self._with_record or workflow.patched(CALENDAR_AT_WAKE)

    def _letter_record(self, compose: ComposeLetterInput | None) -> tuple[PersistApplicationInput, int] | None:
        """LETTER_WITH_RECORD: the acknowledgment's activity writes the record with the letter's outcome event
        (its seq: the next), when nothing is waiting to be written or being written; the persister waits
        until the activity has answered (`_letter_recorded`). Other letters change the record when they go
        (a reply closes the application, a notice's e-mail dates the applicant's window): persisted as before."""
        if not self._with_record or compose is None or compose.kind != "acknowledgment" \
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

    async def _persist_inline(self) -> None:
        """Before PERSIST_IN_BACKGROUND: the write awaited in place, then every search attribute."""
        unsaved = [e for e in self._s.timeline if e.seq > self._s.persisted_seq]
        await workflow.execute_activity_method(
            DisclosureActivities.persist_application, self._persist_input(unsaved),
            start_to_close_timeout=ACTIVITY_TIMEOUT, retry_policy=PERSIST_RETRY,
        )
        if unsaved:
            self._s.persisted_seq = unsaved[-1].seq
        workflow.upsert_search_attributes([
            sa.STATUS.value_set(status_of(self._s)),
            sa.DUE_AT.value_set(end_of_day_instant(self._s.due.due_on)),
            sa.OVERDUE.value_set(self._s.overdue),
        ])

    # --- the view --------------------------------------------------------------------------------
