"""The reply period's changes: the one extension (Reg. 33) and a request clearly beyond a reasonable range
(Reg. 35: reasons asked, received, decided; 不予处理-4 or a longer reasonable period).

A mixin of the application workflow (workflows/application.py), which provides the state (`_s`), the lock and
the shared helpers (`_record`, `_alert`, `_persist`, `_today`, `_refuse_if`, `_required`, `_send_letter`, ...).
"""

from datetime import datetime

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from clock import add_working_days_from
    from outcomes import OutcomeCode
    from application.rules import (
        drafter_of_decision,
        why_not_ask_reasons,
        why_not_decide_excessive,
        why_not_decide_extension,
        why_not_reasons_received,
        why_not_request_extension,
    )
    import notices
    from application.deadlines import reasons_wake_at
    from workflows.application_views import application_view
    from contracts.application_view import ApplicationView
    from contracts.period import (
        AskReasons, DecideExcessive, DecideExtension, ExcessiveState, ExtensionState, ReasonsReceived,
        RequestExtension,
    )
    from contracts.reply import Proposal


class PeriodHandlers:
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

    @workflow.update
    async def ask_reasons(self, cmd: AskReasons) -> ApplicationView:
        """The handler asks the applicant to explain the reasons; the reply period keeps running."""
        async with self._lock:
            today = self._today()
            self._refuse_if(why_not_ask_reasons(self._s, cmd, today))
            reasons_by, _ = add_working_days_from(self._s.cal, today, self._s.inp.policy.excessive_reasons_days)
            days = self._s.inp.policy.excessive_reasons_days
            self._s.excessive = ExcessiveState(
                grounds=cmd.grounds, asked_by=cmd.by, asked_on=today, reasons_by=reasons_by,
                service=notices.new_notice(f"{self._s.inp.application_id}:reasons-request", "说明理由通知", days))
            self._record("reasons-asked", cmd.by,
                         f"申请数量、频次明显超过合理范围（{cmd.grounds}），依条例第三十五条要求申请人自收到通知之日起 {days} "
                         f"个工作日内说明理由（如今天送达，至 {reasons_by} 止）")
            self._send_letter("reasons-request", key_suffix="reasons-request", period_days=days,
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
