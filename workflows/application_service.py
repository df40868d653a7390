"""Service (送达) of the application's notices that start a period (RULES §3 "Service"): the supplement notice
(Reg. 30), the fee notice (国办函〔2020〕109号) and the request for reasons (Reg. 35). Consultation letters (Reg. 32,
34) are served in their child (workflows/consultation.py) by the same rules (notices/).

Each notice is dispatched (our relay accepted the e-mail, staff posted it, it was put on the portal: the reply clock
stops here where a pause applies), then served on its proven receipt (the post's signed-for date, a signature, a
delivery status notification from the addressee's mail system, the applicant opening it on the portal, a reply), or
found unservable (a bounce, a returned letter: staff are told) and served another way, 公告送达 last. The addressee's
period runs from the receipt only: before it nothing lapses, and no 其他处理-1/-2 can be decided.

A mixin of the application workflow: it expects `_s`, `_lock`, `_record`, `_alert`, `_persist`, `_today`,
`_recompute_due`, `_letter_view` and `_clock_changed` from its host.
"""

from datetime import date
from typing import Literal

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    import notices
    from clock import end_of_day_instant, local_date
    from contracts.models import DispatchInput, SendLetterResult
    from contracts.service import LetterServed, NoticeEvent, NoticeService
    from application.rules import why_final
    from workflows.application_views import application_view
    from contracts.application_view import ApplicationView

NoticeOf = Literal["supplement", "fee", "reasons"]


class NoticeServiceHandlers:
    """The updates that record a notice's way to the applicant, and the hook for its e-mail's dispatch."""

    # --- which notice a letter key is, and its state ----------------------------------------------------

    def _notice_of(self, key: str) -> tuple[NoticeOf, NoticeService] | None:
        s = self._s
        if s.supplement is not None and s.supplement.service is not None and s.supplement.service.key == key:
            return "supplement", s.supplement.service
        if s.fee is not None and s.fee.decision == "approved" and s.fee.service is not None and s.fee.service.key == key:
            return "fee", s.fee.service
        if s.excessive is not None and s.excessive.service is not None and s.excessive.service.key == key:
            return "reasons", s.excessive.service
        return None

    def _set_notice(self, which: NoticeOf, n: NoticeService) -> None:
        """Keep the state's dates in step with the notice: each period exists only once it is served."""
        s = self._s
        if which == "supplement":
            sup = s.supplement
            sup.service, sup.notice_served_on, sup.deadline_basis = n, n.served_on, notices.status_words(n)
            if notices.running(n) and sup.received_on is None and sup.lapse_decision is None:
                if n.ends_on != sup.deadline_on:
                    sup.deadline_on = n.ends_on
                    self._clock_changed = True
                if sup.lapsed_on is not None and workflow.now() < end_of_day_instant(n.ends_on):
                    sup.lapsed_on = None  # counted from the true receipt, the deadline had not passed
        elif which == "fee":
            fee = s.fee
            fee.service, fee.notice_sent_on, fee.notice_served_on = n, n.dispatched_on, n.served_on
            fee.pay_by, fee.pay_by_basis = n.ends_on, notices.status_words(n)
            self._recompute_due(announce=False)  # the pause starts on dispatch, ends as paid or lapsed
        else:
            ex = s.excessive
            ex.service = n
            if notices.running(n):
                ex.reasons_by = n.ends_on
        self._clock_changed = True

    def _issued_on(self, which: NoticeOf) -> date:
        s = self._s
        if which == "supplement":
            return s.supplement.notice_issued_on or s.supplement.notice_sent_on
        if which == "fee":
            return s.fee.approved_on or s.fee.notice_sent_on or self._today()
        return s.excessive.asked_on

    # --- proof of receipt ---------------------------------------------------------------------------------

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
        found = self._notice_of(cmd.key)
        if found is None:
            return "该文书不是本申请当前的补正通知、缴费通知或说明理由通知，其送达日期不影响申请人的期限"
        which, n = found
        return notices.why_not_serve(n, cmd.served_on, self._today(), self._issued_on(which))

    def _letter_served(self, cmd: LetterServed) -> None:
        """Reg. 30 (补正期限), 国办函〔2020〕109号 (自收到收费通知之日起20个工作日), Reg. 35: counted from receipt."""
        which, n = self._notice_of(cmd.key)
        n = notices.serve(n, self._s.cal, cmd.served_on, cmd.method, cmd.evidence, cmd.by)
        if (letter := self._letter_view(cmd.key)) is not None:
            letter.status, letter.delivered_on = "delivered", cmd.served_on
        self._set_notice(which, n)
        kind = {"supplement": "supplement-notice-served", "fee": "fee-notice-served", "reasons": "reasons-request-served"}
        self._record(kind[which], cmd.by, notices.status_words(n))

    # --- dispatched, unservable, 公告送达 -----------------------------------------------------------------

    @workflow.update
    async def notice_event(self, cmd: NoticeEvent) -> ApplicationView:
        async with self._lock:
            self._refuse_if(self._why_not_notice_event(cmd))
            await self._notice_event(cmd)
            await self._persist()
            return application_view(self._s, self._today())

    @notice_event.validator
    def _validate_notice_event(self, cmd: NoticeEvent) -> None:
        self._refuse_if(self._why_not_notice_event(cmd))

    def _why_not_notice_event(self, cmd: NoticeEvent) -> str | None:
        if reason := why_final(self._s):
            return reason
        found = self._notice_of(cmd.key)
        if found is None:
            return "该文书不是本申请当前的补正通知、缴费通知或说明理由通知"
        which, n = found
        if not self._issued_on(which) <= cmd.on <= self._today():
            return f"日期须在{n.what}制作之日 {self._issued_on(which)} 至今天之间"
        if n.served_on is not None:
            return f"{n.what}已于 {n.served_on} 送达，无需再登记"
        if cmd.event == "dispatched" and n.dispatched_on is not None and n.dispatched_on != cmd.on:
            return f"{n.what}已于 {n.dispatched_on} 发出，发出日期已登记"
        if cmd.event == "unservable" and len(cmd.detail.strip()) < 2:
            return "请写明无法送达的原因（如邮件被退回、查无此人）"
        if cmd.event == "public-notice":
            if n.unservable_on is None:
                return "公告送达是最后的送达方式：须先登记该文书无法以其他方式送达"
            if len(cmd.detail.strip()) < 2:
                return "请写明公告的地点或网址"
        return None

    async def _notice_event(self, cmd: NoticeEvent) -> None:
        which, n = self._notice_of(cmd.key)
        if cmd.event == "dispatched":
            if n.dispatched_on == cmd.on:
                return  # entered again (the same posting date): nothing new
            n = notices.dispatch(n, cmd.on, cmd.detail)
            self._set_notice(which, n)
            self._record("notice-dispatched", cmd.by, notices.status_words(n))
        elif cmd.event == "unservable":
            n = notices.unservable(n, cmd.on, cmd.detail)
            self._set_notice(which, n)
            self._record("notice-unservable", cmd.by, notices.status_words(n))
            await self._alert(f"{cmd.key}:unservable:{cmd.on}", "delivery-problem", "handler", self._s.handler,
                              f"{self._s.inp.application_id} 的{n.what}未能送达（{cmd.detail}），期限尚未起算："
                              "请以其他方式送达（邮寄、当面送达），确实无法送达的可公告送达")
        else:
            n = notices.publish(n, self._s.cal, cmd.on, cmd.detail, cmd.by)
            self._set_notice(which, n)
            self._record("notice-published", cmd.by, notices.status_words(n))

    # --- the letter left the agency ------------------------------------------------------------------------

    def _letter_left(self, dispatch: DispatchInput, result: SendLetterResult) -> None:
        """Our relay accepted the e-mail, or the notice was put on the portal: dispatched, not served. The e-mail
        is served when the addressee's system reports it (a delivery status notification: api/routes/mail_returns.py)."""
        found = self._notice_of(dispatch.key)
        if found is None:
            return
        which, n = found
        if result.status == "sent" and result.sent_at is not None:
            n = notices.dispatch(n, local_date(result.sent_at),
                                 f"电子邮件于 {result.sent_at.isoformat()} 由本机关发信服务器接收，Message-ID {result.message_id}")
        elif result.status == "awaiting-staff" and dispatch.method == "portal":
            n = notices.dispatch(n, self._today(), "已在申请平台发布，申请人登录后可查看")
        else:
            return
        self._set_notice(which, n)

