"""The reply: per-item decisions (Reg. 36-39), the confidentiality pre-screen and review, the draft's edits,
the signature (one unified reply, seed 002 art. 17) and its delivery.

A mixin of the application workflow (workflows/application.py), which provides the state (`_s`), the lock and
the shared helpers (`_record`, `_alert`, `_persist`, `_today`, `_refuse_if`, `_required`, `_send_letter`, ...).
"""

from datetime import date

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.disclosure import DisclosureActivities
    from activities.letters import LetterActivities
    from contracts.models import (
        Letter,
        RecordDeliveryInput,
        PrescreenInput,
        PrescreenText,
        ReplyItem,
    )
    from outcomes import OutcomeCode, label_of
    from application.rules import (
        DISCLOSING_OUTCOMES,
        body_sha256,
        item_of,
        why_not_confirm_delivery,
        why_not_edit_reply,
        why_not_propose,
        why_not_review,
        why_not_sign,
        why_not_submit,
    )
    from workflows.application_views import application_view
    from workflows.delivery import (
        ACTIVITY_TIMEOUT,
        PERSIST_RETRY,
        PURE_RETRY,
    )
    from workflows.report_records import record_for_report
    from contracts.application_view import ApplicationView
    from contracts.reply import (
        ConfirmDelivery, EditReplyDraft, ItemView, Proposal, ProposeDecision, ReviewDecision, SignReply,
        SubmitForReview,
    )

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



class ReplyHandlers:
    @workflow.update
    async def propose_decision(self, cmd: ProposeDecision) -> ApplicationView:
        async with self._lock:
            self._refuse_if(why_not_propose(self._s, cmd, self._today()))
            item = item_of(self._s, cmd.item_no)
            not_ours = cmd.outcome == OutcomeCode.UNAVAILABLE_NOT_HELD
            item.proposal = Proposal(outcome=cmd.outcome, reasons=cmd.reasons, referral=cmd.referral,
                                     referral_agency=cmd.referral_agency if not_ours else None,
                                     not_this_agency=(cmd.not_this_agency or bool(cmd.referral_agency)) and not_ours,
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
            sealed = await self._seal_release(cmd.by)  # issue 22: what leaves with the reply, or why not yet
            self._refuse_if(sealed.refusal)
            today = self._today()
            for item in self._s.items:
                item.final_outcome = self._required(item.proposal, f"第 {item.item_no} 项尚无拟办意见").outcome
            self._s.replied_on = today
            self._s.phase = "awaiting-delivery"
            on_time = today <= self._s.due.due_on
            self._record("signed", cmd.by, "负责人签发答复告知书（逾期不补正，其他处理-1）" if self._s.closing_unsupplemented
                         else f"负责人签发答复告知书（{'期限内' if on_time else '已逾期'}答复）")
            if sealed.sealed:
                how = {"attached": "随答复邮件附送", "link": "申请人在查询页面下载"}.get(sealed.delivery or "", "")
                self._record("release-sealed", cmd.by,
                             f"公开文件清单已封存：{len(sealed.sealed)} 个文件（{how}，清单 SHA-256 {sealed.manifest_sha256}）")
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

    def _reply_items_final(self) -> list[ReplyItem]:
        return [self._reply_item(item, item.final_outcome) for item in self._s.items if item.final_outcome]

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

    def _close_delivered(self, delivered_on: date, by: str, summary: str) -> None:
        self._s.delivered_on = delivered_on
        self._s.phase = "closed"
        self._record("delivered", by, summary)
