"""Intake and supplement (Reg. 30), assignment and withdrawal: the one supplement notice, its receipt, a lapsed
deadline decided by a person (a new deadline for a good reason, or 其他处理-1).

A mixin of the application workflow (workflows/application.py), which provides the state (`_s`), the lock and
the shared helpers (`_record`, `_alert`, `_persist`, `_today`, `_refuse_if`, `_required`, `_send_letter`, ...).
"""

from datetime import date

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from clock import add_working_days_from
    from outcomes import OutcomeCode
    from workcalendar import WorkCalendar
    from application.rules import (
        drafter_of_decision,
        why_not_assign,
        why_not_decide_lapse,
        why_not_request_supplement,
        why_not_supplement_received,
        why_not_withdraw,
    )
    import notices
    from workflows.application_views import application_view
    from workflows.report_records import record_for_report
    from contracts.application_view import ApplicationView
    from contracts.intake import (
        AssignHandler, DecideSupplementLapse, RequestSupplement, SupplementReceived, SupplementState, Withdraw,
    )
    from contracts.reply import Proposal

def window_days_of(cal: WorkCalendar, issued_on: date, deadline_on: date) -> int:
    """How many working days a notice dated `issued_on` gave until `deadline_on`: the same count then runs from its
    receipt (Reg. 30 补正期限; 国办函〔2020〕109号 自收到收费通知之日起). At least 1."""
    day0, _ = cal.next_workday_on_or_after(issued_on)
    return max(1, cal.workdays_between(day0, deadline_on)[0])



class IntakeHandlers:
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
            days = self._supplement_window_days(today, deadline)
            service = notices.new_notice(f"{self._s.inp.application_id}:supplement", "补正通知", days)
            self._s.supplement = SupplementState(
                needed=cmd.needed, requested_by=cmd.by, notice_sent_on=today, deadline_on=deadline, window_days=days,
                service=service, deadline_basis=notices.status_words(service),
            )
            self._s.phase = "awaiting-supplement"
            self._record("supplement-requested", cmd.by, f"一次性告知补正 {len(cmd.needed)} 项，补正期限为自申请人收到补正通知之日起"
                         f" {days} 个工作日（如今天送达，至 {deadline} 止）")
            self._send_letter("supplement-notice", key_suffix="supplement", needed=cmd.needed, period_days=days)
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
                sup.service = notices.new_notice(f"{self._s.inp.application_id}:supplement-{len(sup.earlier_deadlines) + 1}",
                                                 "补正通知", sup.window_days)
                sup.notice_served_on, sup.deadline_basis = None, notices.status_words(sup.service)
                self._record("supplement-deadline-renewed", cmd.by,
                             f"申请人有正当理由（{cmd.reason}），补正期限重新确定为 {cmd.new_deadline_on}")
                self._send_letter("supplement-notice", key_suffix=f"supplement-{len(sup.earlier_deadlines) + 1}",
                                  needed=sup.needed, period_days=sup.window_days,
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

    def _supplement_window_days(self, issued_on: date, deadline_on: date) -> int:
        return window_days_of(self._s.cal, issued_on, deadline_on)

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
