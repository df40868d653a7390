"""Reg. 42 and 国办函〔2020〕109号: the fee proposed by the handler, approved (or refused) by a supervisor, its
notice served (workflows/application_service.py), paid, waived or lapsed (其他处理-2, replied through review).

A mixin of the application workflow (workflows/application.py), which provides the state (`_s`), the lock and
the shared helpers (`_record`, `_alert`, `_persist`, `_today`, `_refuse_if`, `_required`, `_send_letter`, ...).
"""


from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from fees import quote as fee_quote
    from outcomes import OutcomeCode
    from application.rules import (
        why_not_decide_fee,
        why_not_fee_settled,
        why_not_propose_fee,
    )
    import notices
    from workflows.application_views import application_view
    from contracts.application_view import ApplicationView
    from contracts.fees import DecideFee, FeeSettled, FeeState, ProposeFee
    from contracts.reply import Proposal

FEE_PAY_DAYS = 20  # 国办函〔2020〕109号: 20 working days from receipt of the fee notice



class FeeHandlers:
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
                fee.decision, fee.approved_on = "approved", today
                fee.service = notices.new_notice(f"{self._s.inp.application_id}:fee", "缴费通知", FEE_PAY_DAYS)
                fee.pay_by_basis = notices.status_words(fee.service)
                self._record("fee-approved", cmd.by, f"同意收取信息处理费 {fee.amount_yuan} 元，制发缴费通知：通知发出之日起"
                             f"答复期限暂停计算，缴费期限自申请人收到通知之日起 {FEE_PAY_DAYS} 个工作日")
                self._send_letter("fee-notice", key_suffix="fee", period_days=FEE_PAY_DAYS, reasons=fee.basis,
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
