"""Consultations (Reg. 32 third parties, Reg. 34 co-producing agencies): each a child workflow with its own
letter; the clock stops on its dispatch; answers, late answers, restarts, and the public-interest override.

A mixin of the application workflow (workflows/application.py), which provides the state (`_s`), the lock and
the shared helpers (`_record`, `_alert`, `_persist`, `_today`, `_refuse_if`, `_required`, `_send_letter`, ...).
"""

import asyncio
from datetime import date

from temporalio import workflow
from temporalio.exceptions import ChildWorkflowError

with workflow.unsafe.imports_passed_through():
    from outcomes import OutcomeCode
    from application.rules import (
        DISCLOSING_OUTCOMES,
        consultation_of,
        item_of,
        unresolved_objection,
        why_not_late_answer,
        why_not_override,
        why_not_restart,
        why_not_start_consultation,
    )
    from workflows.application_views import application_view
    from workflows.consultation import ConsultationWorkflow
    from contracts.application_view import ApplicationView
    from contracts.consultations import (
        ConsultationInput, ConsultationProgress, ConsultationResult, ConsultationState, LateConsultationAnswer,
        OverrideObjection, RestartConsultation, StartConsultation,
    )


class ConsultationHandlers:
    @workflow.update
    async def start_consultation(self, cmd: StartConsultation) -> ApplicationView:
        async with self._lock:
            self._refuse_if(why_not_start_consultation(self._s, cmd, self._today()))
            return await self._start_consultation_from_receipt(cmd)

    @start_consultation.validator
    def _validate_start_consultation(self, cmd: StartConsultation) -> None:
        self._refuse_if(why_not_start_consultation(self._s, cmd, self._today()))

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
            if (state.sent_on, state.served_on, state.window_ends_on, state.unservable_on) == (
                    progress.dispatched_on, progress.served_on, progress.window_ends_on, progress.unservable_on):
                return  # a restarted consultation reports what is already known
            first_dispatch = state.sent_on is None
            newly_unservable = progress.unservable_on is not None and state.unservable_on is None \
                and progress.served_on is None
            state.sent_on, state.served_on, state.window_ends_on = (
                progress.dispatched_on, progress.served_on, progress.window_ends_on)
            state.window_provisional, state.window_basis, state.service_evidence = (
                progress.window_provisional, progress.window_basis, progress.service_evidence)
            state.unservable_on, state.unservable_reason = progress.unservable_on, progress.unservable_reason
            self._recompute_due(announce=False)
            if newly_unservable:
                self._record("consultation-unservable", "system", f"致「{state.consultee_name}」的{progress.window_basis}")
                await self._alert(f"{state.consultation_id}:unservable:{progress.unservable_on}", "delivery-problem",
                                  "handler", self._s.handler,
                                  f"{self._s.inp.application_id}：致「{state.consultee_name}」的征求意见函未能送达"
                                  f"（{progress.unservable_reason}），意见期限尚未起算：请以其他方式送达，确实无法送达的可公告送达")
            elif first_dispatch:
                self._record("consultation-dispatched", "system",
                             f"致「{state.consultee_name}」的征求意见函于 {progress.dispatched_on} 发出，"
                             f"答复期限自次日起暂停计算；{progress.window_basis}")
            elif progress.served_on is not None:
                self._record("consultation-served", "system",
                             f"致「{state.consultee_name}」的征求意见函于 {progress.served_on} 送达；{progress.window_basis}")
            self._clock_changed = True
            await self._persist()

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
