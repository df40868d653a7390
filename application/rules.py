"""The application workflow's rules: pure functions over one ApplicationState.

Each `why_not_<action>(s, cmd, today)` answers why staff may not take that action now (a reason in
Chinese for the 409), or None when the law and the application's state allow it; the workflow's
update validators and handlers both call it (the handler again under the lock). No Temporal, no I/O:
unit-tested directly in tests/test_application_rules.py. Moved out of workflows/application.py
unchanged (issue 12, point 10).
"""

import hashlib
from datetime import date

import notices
from fees import quote as fee_quote
from outcomes import OutcomeCode, label_of
from application.state import ApplicationState
from contracts.application_view import PendingAction
from contracts.consultations import (
    ConsultationState, LateConsultationAnswer, OverrideObjection, RestartConsultation, StartConsultation,
)
from contracts.fees import DecideFee, FeeSettled, ProposeFee
from contracts.intake import AssignHandler, DecideSupplementLapse, RequestSupplement, SupplementReceived
from contracts.period import AskReasons, DecideExcessive, DecideExtension, ReasonsReceived, RequestExtension
from contracts.reply import ConfirmDelivery, EditReplyDraft, ItemView, ProposeDecision, ReviewDecision, SignReply
from contracts.status import FINAL_STATUSES, Status
from application.release_rules import why_not_release_files

DISCLOSING_OUTCOMES = frozenset({OutcomeCode.DISCLOSED, OutcomeCode.PARTLY_DISCLOSED})
SYSTEM_ONLY_OUTCOMES = frozenset({OutcomeCode.OTHER_NO_SUPPLEMENT, OutcomeCode.OTHER_FEE_UNPAID})


def closing(s: ApplicationState) -> bool:
    """其他处理-1 or -2 under way: no reply period runs."""
    return s.closing_unsupplemented or bool(s.fee and s.fee.lapsed_on is not None)


def fee_running(s: ApplicationState) -> bool:
    fee = s.fee
    return bool(fee and fee.decision == "approved" and fee.paid_on is None and fee.lapsed_on is None
                and fee.pay_by is not None)


def why_not_propose_fee(s: ApplicationState, cmd: ProposeFee, today: date) -> str | None:
    if reason := why_final(s) or why_not_handling(s, today) or why_closing_unsupplemented(s):
        return reason
    if s.fee is not None and s.fee.decision != "refused":
        return "本申请已提出收费"
    if reason := why_reply_period_over_for_fee(s, today):
        return reason
    if cmd.standard == "per-page" and s.inp.delivery_method == "inspection":
        # 办法 art. 4(2) counts the pages provided; inspection on site provides no copies (RULES §9).
        return "申请人选择现场查阅，本机关不提供复制件，不能按量计收（按量计收按提供的页数计算）"
    if cmd.standard == "per-application" and not s.inp.applicant.id_number:
        return "按件计收须按申请人身份统计当月申请件数，申请人身份证件号码未登记"
    if fee_quote(cmd.standard, cmd.quantity).amount_yuan == 0:
        return "按该收费标准，本申请不收费"
    return None


def why_not_decide_fee(s: ApplicationState, cmd: DecideFee, today: date) -> str | None:
    if reason := why_final(s) or why_replied(s):
        return reason
    if s.fee is None or s.fee.decision != "pending":
        return "没有待审批的收费"
    if cmd.by == s.fee.proposed_by:
        return "收费须经负责人批准，提出收费的承办人不能自行批准"
    if cmd.approve and (reason := why_reply_period_over_for_fee(s, today)):
        return reason
    return None


def why_reply_period_over_for_fee(s: ApplicationState, today: date) -> str | None:
    """国办函〔2020〕109号: the fee notice goes out within the reply period; after it, no fee (issue 24 point 2)."""
    if s.due is not None and today > s.due.due_on:
        return f"答复期限已于 {s.due.due_on} 届满：收费须在答复期限内通知申请人（国办函〔2020〕109号），期限届满后不能再收费"
    return None


def why_not_fee_settled(s: ApplicationState, cmd: FeeSettled, today: date) -> str | None:
    if reason := why_final(s) or why_replied(s):
        return reason
    fee = s.fee
    if fee is None or fee.decision != "approved" or fee.paid_on is not None:
        return "没有待缴纳的信息处理费"
    issued_on = fee.approved_on or fee.notice_sent_on
    if issued_on is None:  # issue 12 point 8: a refusal, never an assert
        return "缴费通知尚未制发，暂不能登记缴费"
    if not issued_on <= cmd.paid_on <= today:
        return f"缴费日期须在缴费通知制发之日 {issued_on} 至今天之间"
    # RULES §3 Service: the 20 working days run from the notice's receipt; before it, no payment is late.
    if fee.pay_by is not None and cmd.paid_on > fee.pay_by:
        return f"缴费期限已于 {fee.pay_by} 届满"
    if cmd.waived and len(cmd.note.strip()) < 4:
        return "减免须由负责人说明理由"
    if cmd.waived and cmd.by == fee.proposed_by:
        return "减免须由负责人决定，提出收费的承办人不能自行减免"
    if s.phase != "handling":
        return "答复已提交审核，请先退回"
    return None


def why_not_decide_lapse(s: ApplicationState, cmd: DecideSupplementLapse, today: date) -> str | None:
    if reason := why_final(s):
        return reason
    sup = s.supplement
    if s.phase == "awaiting-supplement" and sup is not None and not notices.running(sup.service):
        return "补正通知尚无送达证据，补正期限尚未起算，不能认定逾期未补正"
    if s.phase != "awaiting-supplement" or sup is None or sup.lapsed_on is None:
        return "补正期限尚未届满，或已作出决定，无需决定"
    if cmd.justified and (cmd.new_deadline_on is None or cmd.new_deadline_on <= today):
        return "有正当理由的，须确定晚于今天的新的补正期限"
    if not cmd.justified and cmd.new_deadline_on is not None:
        return "认定无正当理由的，不能再确定补正期限"
    if cmd.justified:
        # Reg. 30 合理的补正期限 (issue 24 point 10): a renewed deadline gives the agency's minimum too, counted from the
        # new notice's receipt as the first one's.
        day0, _ = s.cal.next_workday_on_or_after(today)
        given = s.cal.workdays_between(day0, cmd.new_deadline_on)[0]
        minimum = s.inp.policy.min_supplement_days
        if given < minimum:
            return (f"新的补正期限须给申请人合理的时间：至少 {minimum} 个工作日（自收到新的补正通知之日起计算，本机关设置），"
                    f"截至 {cmd.new_deadline_on} 只有 {given} 个工作日")
    return None


def why_not_assign(s: ApplicationState, cmd: AssignHandler, today: date) -> str | None:
    return why_final(s) or (
        "答复已签发，不能再更换承办人" if s.replied_on is not None else None
    )


def why_not_request_supplement(s: ApplicationState, cmd: RequestSupplement, today: date) -> str | None:
    if s.supplement is not None:
        return "补正须一次性告知，本申请已发出过补正通知"
    if reason := why_final(s) or why_not_handling(s, today):
        return reason
    if s.consultations:
        return "已启动征求意见程序，不能再要求补正"
    if today > s.supplement_notice_by:
        return f"补正通知须在收到申请之日起 {s.inp.policy.supplement_notice_days} 个工作日内发出（截至 {s.supplement_notice_by}），已超过期限"
    if any(not n.strip() for n in cmd.needed):
        return "补正事项不能为空"
    if cmd.deadline_on is not None and cmd.deadline_on <= today:
        return "补正期限须晚于今天"
    if cmd.deadline_on is not None:
        # Reg. 30 合理的补正期限 (issue 24 point 10): the window, which runs from the notice's receipt, has the agency's
        # minimum of working days (counted as the notice's window is: from the next working day on or after today).
        day0, _ = s.cal.next_workday_on_or_after(today)
        given = s.cal.workdays_between(day0, cmd.deadline_on)[0]
        minimum = s.inp.policy.min_supplement_days
        if given < minimum:
            return (f"补正期限须给申请人合理的时间：至少 {minimum} 个工作日（自收到补正通知之日起计算，本机关设置），"
                    f"截至 {cmd.deadline_on} 只有 {given} 个工作日")
    return None


def why_not_supplement_received(s: ApplicationState, cmd: SupplementReceived, today: date) -> str | None:
    if reason := why_final(s):
        return reason
    if s.supplement is None or not (
            s.phase == "awaiting-supplement" or (s.closing_unsupplemented and s.phase == "handling")):
        return "本申请没有待补正的事项"
    if cmd.received_on > today:
        return "补正收到日期不能晚于今天"
    if cmd.received_on < s.supplement.notice_sent_on:
        return f"补正收到日期不能早于补正通知发出之日 {s.supplement.notice_sent_on}"
    if notices.running(s.supplement.service) and cmd.received_on > s.supplement.deadline_on:
        return (f"补正期限已于 {s.supplement.deadline_on} 届满；申请人有正当理由的，"
                "请先由承办人或负责人确定新的补正期限")
    if cmd.received_on < today and len(cmd.evidence.strip()) < 2:
        return "补正收到日期早于今天的，须注明凭据（如邮戳、签收单、系统记录）"
    return None


def why_not_request_extension(s: ApplicationState, cmd: RequestExtension, today: date) -> str | None:
    if reason := (why_final(s) or why_replied(s) or why_not_while_supplementing(s, today)
                  or why_closing_unsupplemented(s)):
        return reason
    if s.extension is not None and s.extension.decision != "refused":
        return "延期只能一次，本申请已" + ("提出延期申请，待负责人审批" if s.extension.decision == "pending" else "延期")
    if today > s.due.due_on:
        return f"答复期限已于 {s.due.due_on} 届满，延期须在期限届满前提出"
    if cmd.days > s.inp.policy.max_extension_days:
        return f"延长答复期限最长不超过 {s.inp.policy.max_extension_days} 个工作日"
    return None


def why_not_decide_extension(s: ApplicationState, cmd: DecideExtension, today: date) -> str | None:
    if reason := why_final(s) or why_replied(s):
        return reason
    if s.extension is None or s.extension.decision != "pending":
        return "没有待审批的延期申请"
    if cmd.by == s.extension.requested_by:
        return "延期须经负责人批准，申请延期的承办人不能自行批准"
    if cmd.approve and today > s.due.due_on:
        return f"答复期限已于 {s.due.due_on} 届满，不能再批准延期"
    return None


# --- Reg. 35 (条例第三十五条): requests clearly beyond a reasonable range -----------------------------


def why_not_ask_reasons(s: ApplicationState, cmd: AskReasons, today: date) -> str | None:
    """Reg. 35: the agency may ask the applicant to explain why; asked once per application."""
    if reason := (why_final(s) or why_replied(s) or why_not_while_supplementing(s, today)
                  or why_closing_unsupplemented(s)):
        return reason
    if s.excessive is not None:
        return f"已于 {s.excessive.asked_on} 要求申请人说明理由，不能重复要求"
    return None


def why_not_reasons_received(s: ApplicationState, cmd: ReasonsReceived, today: date) -> str | None:
    if reason := why_final(s) or why_replied(s):
        return reason
    ex = s.excessive
    if ex is None:
        return "尚未要求申请人说明理由（条例第三十五条），无需登记"
    if ex.decision != "pending":
        return "负责人已就申请理由作出决定，不能再登记"
    if ex.reasons_received_on is not None:
        return f"已登记 {ex.reasons_received_on} 收到的申请理由"
    if cmd.received_on > today:
        return "收到日期不能晚于今天"
    if cmd.received_on < ex.asked_on:
        return f"收到日期不能早于要求说明理由之日 {ex.asked_on}"
    if cmd.received_on < today and len(cmd.evidence.strip()) < 2:
        return "登记早于今天的收到日期，须写明依据（邮戳、签收单或系统记录）"
    return None


def why_not_decide_excessive(s: ApplicationState, cmd: DecideExcessive, today: date) -> str | None:
    if reason := why_final(s) or why_replied(s):
        return reason
    ex = s.excessive
    if ex is None:
        return "尚未依条例第三十五条要求申请人说明理由，不能作出此决定"
    if ex.decision != "pending":
        return "已就申请理由作出决定"
    if cmd.by == ex.asked_by:
        return "须由负责人决定，要求说明理由的承办人不能自行决定"
    if ex.reasons_received_on is None and ex.service is not None and not notices.running(ex.service):
        return "说明理由通知尚无送达证据，说明理由的期限尚未起算，且尚未收到申请人的理由"
    if ex.reasons_received_on is None and today <= ex.reasons_by:
        return f"说明理由的期限 {ex.reasons_by} 尚未届满，且尚未收到申请人的理由"
    if cmd.reasonable:
        if ex.reasons_received_on is None:
            return "申请人未说明理由，不能认定理由合理"
        if cmd.period_until is None or cmd.period_until <= s.due.due_on:
            return f"认定理由合理的，须确定晚于现答复期限 {s.due.due_on} 的合理期限"
    elif cmd.period_until is not None:
        return "认定理由不合理的，不确定延迟答复期限"
    return None


def why_not_excessive_outcome(s: ApplicationState) -> str | None:
    """不予处理-4 (Reg. 35) only after the reasons were asked and judged unreasonable (or not given)."""
    if s.excessive is None or s.excessive.decision != "unreasonable":
        return ("「无正当理由大量反复申请」须先依条例第三十五条要求申请人说明理由，"
                "并经负责人认定理由不合理（或逾期未说明理由）后才能作出")
    return None


def excessive_clock(s: ApplicationState) -> dict:
    """What Reg. 35 adds to the deadline clock: when reasons were asked, and a longer period if set."""
    ex = s.excessive
    if ex is None:
        return {}
    return {"reasons_asked_on": ex.asked_on,
            "reasonable_until": ex.period_until if ex.decision == "reasonable" else None}


def why_not_start_consultation(s: ApplicationState, cmd: StartConsultation, today: date) -> str | None:
    if reason := why_final(s) or why_not_handling(s, today) or why_closing_unsupplemented(s):
        return reason
    return why_unknown_items(s, cmd.item_nos)


def why_not_late_answer(s: ApplicationState, cmd: LateConsultationAnswer, today: date) -> str | None:
    if reason := why_final(s) or why_replied(s):
        return reason
    state = consultation_of(s, cmd.consultation_id)
    if state is None:
        return f"本申请没有征求意见 {cmd.consultation_id}"
    # Issue 12 point 2: a consultation whose child failed or was terminated can also be closed this way,
    # with the answer the agency received (or restarted: why_not_restart).
    if state.position == "pending" and state.child_status != "failed":
        return "征求意见尚在进行中，请直接登记意见"
    if state.position not in ("silence", "pending"):
        return "已收到该方意见，不能重复登记"
    if s.phase != "handling":
        return "决定已提交审核，请先退回再登记意见"
    earliest = state.sent_on or state.created_on
    if earliest is not None and cmd.received_on < earliest:
        return f"收到意见的日期不能早于征求意见函发出之日 {earliest}"
    if cmd.received_on > today:
        return "收到意见的日期不能晚于今天"
    if state.window_ends_on is not None and cmd.received_on > state.window_ends_on:
        return f"该意见于 {cmd.received_on} 收到，已超过提出意见的期限 {state.window_ends_on}，按逾期未提出意见处理"
    return None


def why_not_restart(s: ApplicationState, cmd: RestartConsultation, today: date) -> str | None:
    if reason := why_final(s) or why_replied(s):
        return reason
    state = consultation_of(s, cmd.consultation_id)
    if state is None:
        return f"本申请没有征求意见 {cmd.consultation_id}"
    if state.child_status != "failed":
        return "该征求意见流程运行正常，无需重新启动"
    if cmd.consultation_id not in s.consultees:
        return "该征求意见按原办法办理，无法重新启动，请重新征求意见"
    return None


def why_not_override(s: ApplicationState, cmd: OverrideObjection, today: date) -> str | None:
    if reason := why_final(s) or why_replied(s):
        return reason
    state = consultation_of(s, cmd.consultation_id)
    if state is None:
        return f"本申请没有征求意见 {cmd.consultation_id}"
    if state.kind != "third-party" or state.position != "objection":
        return "只有第三方提出异议的，才需要由负责人作出公开决定"
    if state.override_reason is not None:
        return "已对该异议作出公开决定"
    if s.phase != "handling":
        return "决定已提交审核，请先退回再作出公开决定"
    return None


def why_not_propose(s: ApplicationState, cmd: ProposeDecision, today: date) -> str | None:
    if reason := why_final(s) or why_not_handling(s, today) or why_unknown_items(s, [cmd.item_no]):
        return reason
    item = item_of(s, cmd.item_no)
    if any(c.position == "pending" and cmd.item_no in c.item_nos for c in s.consultations):
        return f"第 {cmd.item_no} 项正在征求意见，须待答复或期限届满后再作决定"
    if s.closing_unsupplemented:
        return "已决定按逾期不补正（其他处理-1）答复：如申请人在期限内已补正，请先登记补正收到日期"
    if s.fee is not None and s.fee.lapsed_on is not None:
        return "缴费期限届满未缴费，拟按其他处理-2答复：如申请人在期限内已缴费，请先登记缴费"
    if cmd.outcome in SYSTEM_ONLY_OUTCOMES:
        return f"「{label_of(cmd.outcome)}」由系统在期限届满时自动作出，不能手工选择"
    if cmd.outcome in DISCLOSING_OUTCOMES and unresolved_objection(s, item):
        return (f"第三方已对第 {cmd.item_no} 项提出异议，不得公开（不予公开-4）；"
                "如认为不公开可能对公共利益造成重大影响，须先由负责人作出公开决定")
    if cmd.outcome != OutcomeCode.DISCLOSED and len(cmd.reasons.strip()) < 2:
        return f"「{label_of(cmd.outcome)}」须说明理由"
    # Issue 11 point 9: preconditions of some outcomes.
    if cmd.outcome == OutcomeCode.UNAVAILABLE_STILL_UNCLEAR and (
            s.supplement is None or s.supplement.received_on is None):
        return "「补正后申请内容仍不明确」须在告知补正并收到补正之后才能作出（条例第三十条）"
    if cmd.outcome == OutcomeCode.PARTLY_DISCLOSED and (
            cmd.withheld_ground is None or not cmd.withheld_ground.value.startswith("withheld-")):
        return "「部分公开」须选择不予公开部分的理由类别（不予公开-1至8之一）（条例第三十七条）"
    if cmd.outcome == OutcomeCode.NOT_PROCESSED_EXCESSIVE and (reason := why_not_excessive_outcome(s)):
        return reason
    if cmd.outcome == OutcomeCode.NOT_PROCESSED_REPEAT:
        if not cmd.earlier_application_id:
            return "「重复申请」须写明此前已作出答复的申请编号"
        if cmd.earlier_application_id == s.inp.application_id:
            return "「重复申请」须指向此前的另一件申请，不能是本申请"
        if cmd.earlier_similarity is None:  # issue 24 point 7: checked against the database by the API
            return "「重复申请」须经核对：此前的申请须为同一申请人提出、已作出答复，且事项相同"
    return None


def why_not_submit(s: ApplicationState, today: date) -> str | None:
    if reason := why_final(s) or why_not_handling(s, today):
        return reason
    if any(c.position == "pending" for c in s.consultations):
        return "尚有征求意见未结束"
    if fee_running(s) or (s.fee is not None and s.fee.decision == "pending"):
        return "信息处理费尚未缴纳或尚待审批"
    missing = [str(i.item_no) for i in s.items if i.proposal is None]
    if missing:
        return f"第 {'、'.join(missing)} 项尚未提出拟办意见"
    objected = [str(i.item_no) for i in s.items if i.proposal and i.proposal.outcome in DISCLOSING_OUTCOMES
                and unresolved_objection(s, i)]
    if objected:
        return f"第三方已对第 {'、'.join(objected)} 项提出异议，不得公开（不予公开-4），除非负责人作出公开决定"
    return None


def why_not_review(s: ApplicationState, cmd: ReviewDecision, today: date) -> str | None:
    if reason := why_final(s):
        return reason
    if s.phase != "in-review":
        return "本申请当前没有待保密审查的拟办意见"
    if cmd.by in {i.proposal.by for i in s.items if i.proposal}:
        return "提出拟办意见的承办人不能审查自己的意见（谁签发、谁把关）"
    if not cmd.approve and len(cmd.comment.strip()) < 2:
        return "退回须说明理由"
    if cmd.draft_version is not None and cmd.draft_version != s.draft_version:
        return f"答复告知书草稿已修改为第 {s.draft_version} 稿，请审阅最新稿"
    return None


def why_not_edit_reply(s: ApplicationState, cmd: EditReplyDraft, today: date) -> str | None:
    if reason := why_final(s):
        return reason
    if s.phase not in ("in-review", "handling"):
        return "答复告知书已通过保密审查，不能再修改" if s.phase == "awaiting-signature" else "当前状态不能修改答复告知书"
    if s.reply_draft is None:
        return "尚无答复告知书草稿：提交保密审查时生成"
    missing = [part for part in (s.inp.application_id, "行政复议", "60日", "行政诉讼", "6个月") if part not in cmd.body]
    if missing:
        return f"答复告知书须保留申请编号和救济途径（缺少：{'、'.join(missing)}）"
    return None


def drafter_of_decision(s: ApplicationState, decided_by: str) -> str:
    """Who drafts the reply an outcome resting on `decided_by`'s decision gets (issue 24 point 8, Reg. 35): the
    handler; separation of duties is between drafter and signer, not between a supervisor's two decisions."""
    return s.handler if s.handler and s.handler != decided_by else "system"


def why_not_sign(s: ApplicationState, cmd: SignReply, today: date) -> str | None:
    if reason := why_final(s):
        return reason
    if s.phase != "awaiting-signature":
        return "答复须先经保密审查通过，才能签发" if s.phase in ("handling", "in-review") else "本申请当前没有待签发的答复"
    if cmd.by in {i.proposal.by for i in s.items if i.proposal}:
        return "提出拟办意见的人员不能签发自己拟办的答复（谁签发、谁把关）"
    if s.reply_draft is None:
        return "答复文书尚未生成，暂不能签发"
    for c in s.consultations:  # RULES §5 (issue 24 point 3): the third party is told before the reply goes out
        if c.override_reason is not None and c.override_basis == "grounds-not-reasonable":
            notice = next((l for l in s.letters if l.key == f"{s.inp.application_id}:override-{c.consultation_id}"), None)
            if notice is None or notice.status not in ("sent", "delivered"):
                return (f"须先将不予采纳「{c.consultee_name}」意见的决定书面告知第三方（告知书尚未发出），"
                        "才能签发答复")
    if without := [i.item_no for i in s.items if i.proposal is None]:
        # e.g. a third party's objection withdrew a proposal: the signature would sign nothing for it.
        return f"第 {'、'.join(map(str, without))} 项尚无拟办意见，请先提出拟办意见并重新审核"
    return why_not_release(s)


def disclosed_items(s: ApplicationState) -> set[int]:
    return {i.item_no for i in s.items if i.proposal and i.proposal.outcome in DISCLOSING_OUTCOMES}


def why_not_release(s: ApplicationState) -> str | None:
    """RULES §14 (seed 002 art. 10 谁签发、谁把关; Reg. 37 区分处理): every file released with a disclosed item passed
    the pre-screen, each finding removed by a verified redaction or released with a reason (issue 22 point 4)."""
    items = disclosed_items(s)
    if s.release_reading and items:
        return "公开文件的保密预审状态正在更新，请稍候再签发"
    return why_not_release_files(s.release_files, items)


def why_not_confirm_delivery(s: ApplicationState, cmd: ConfirmDelivery, today: date) -> str | None:
    if reason := why_final(s):
        return reason
    if s.phase != "awaiting-delivery" or s.replied_on is None:
        return "答复尚未签发，无需确认送达"
    if cmd.delivered_on < s.replied_on or cmd.delivered_on > today:
        return f"送达日期须在签发之日 {s.replied_on} 至今天之间"
    return None


def why_not_withdraw(s: ApplicationState, today: date) -> str | None:
    return why_final(s) or (
        f"答复已于 {s.replied_on} 签发，不能撤回" if s.replied_on is not None else None
    )


def why_final(s: ApplicationState) -> str | None:
    if s.phase in FINAL_STATUSES:
        return {"closed": "本申请已办结", "withdrawn": "本申请已撤回", "abandoned": "本申请已因逾期未补正视为放弃"}[s.phase]
    return None


def why_replied(s: ApplicationState) -> str | None:
    return f"答复已于 {s.replied_on} 签发" if s.replied_on is not None else None


def why_closing_unsupplemented(s: ApplicationState) -> str | None:
    return "已决定按逾期不补正（其他处理-1）答复，答复期限不再计算" if s.closing_unsupplemented else None


def why_not_while_supplementing(s: ApplicationState, today: date) -> str | None:
    return "正在等待申请人补正，补正后答复期限重新计算" if s.phase == "awaiting-supplement" else None


def why_not_handling(s: ApplicationState, today: date) -> str | None:
    if s.phase == "handling":
        return None
    return why_not_while_supplementing(s, today) or {
        "in-review": "拟办意见正在保密审查，须先退回才能修改",
        "awaiting-signature": "答复已通过审查，正在等待签发",
        "awaiting-delivery": "答复已签发",
    }.get(s.phase, "当前状态不能办理此事项")


def why_unknown_items(s: ApplicationState, item_nos: list[int]) -> str | None:
    unknown = [n for n in item_nos if not 1 <= n <= len(s.items)]
    return f"本申请没有第 {'、'.join(map(str, unknown))} 项（共 {len(s.items)} 项）" if unknown else None


def status_of(s: ApplicationState) -> Status:
    if s.phase == "handling" and any(c.position == "pending" for c in s.consultations):
        return "consulting"
    return s.phase


def unresolved_objection(s: ApplicationState, item: ItemView) -> bool:
    """A third party objected and no supervisor has decided to disclose anyway (Reg. 32)."""
    return any(consultation_of(s, cid).override_reason is None for cid in item.objection_from)  # type: ignore[union-attr]


def item_of(s: ApplicationState, item_no: int) -> ItemView:
    return s.items[item_no - 1]


def consultation_of(s: ApplicationState, consultation_id: str) -> ConsultationState | None:
    return next((c for c in s.consultations if c.consultation_id == consultation_id), None)


def pending_actions(s: ApplicationState) -> list[PendingAction]:
    due = s.due.due_on
    actions: list[PendingAction] = []
    phase = s.phase
    if phase in FINAL_STATUSES:
        return actions
    if phase == "awaiting-supplement" and s.supplement and s.supplement.lapsed_on is not None:
        actions.append(PendingAction(action="decide-supplement-lapse", role="handler",
                                     description=f"补正期限 {s.supplement.deadline_on} 已届满：登记在期限内收到的补正，"
                                                 "或决定给予新的补正期限（有正当理由）或按其他处理-1答复"))
    elif phase == "awaiting-supplement" and s.supplement:
        actions.append(PendingAction(action="supplement", role="applicant",
                                     description="申请人按补正通知补正申请", due_on=s.supplement.deadline_on))
    if phase == "handling":
        if s.handler is None:
            actions.append(PendingAction(action="assign", role="registrar", description="指定承办人"))
        open_items = [str(i.item_no) for i in s.items if i.proposal is None]
        if open_items:
            actions.append(PendingAction(action="propose-decision", role="handler",
                                         description=f"对第 {'、'.join(open_items)} 项提出拟办意见", due_on=due))
        elif not any(c.position == "pending" for c in s.consultations):
            actions.append(PendingAction(action="submit-for-review", role="handler",
                                         description="提交保密审查", due_on=due))
    for c in s.consultations:
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
    ex = s.excessive
    if ex and ex.decision == "pending" and s.replied_on is None:
        if ex.reasons_received_on is None and ex.lapsed_on is None:
            actions.append(PendingAction(action="explain-reasons", role="applicant",
                                         description="申请人说明申请理由（条例第三十五条）", due_on=ex.reasons_by))
        else:
            actions.append(PendingAction(action="decide-excessive", role="supervisor",
                                         description=("申请人已说明理由" if ex.reasons_received_on else
                                                      f"申请人未在 {ex.reasons_by} 前说明理由")
                                         + "：决定理由是否合理（不合理的不予处理；合理的可确定延迟答复的合理期限）",
                                         due_on=due))
    if s.extension and s.extension.decision == "pending" and s.replied_on is None:
        actions.append(PendingAction(action="decide-extension", role="supervisor",
                                     description=f"审批延期 {s.extension.days} 个工作日", due_on=due))
    if s.fee and s.fee.decision == "pending" and s.replied_on is None:  # Reg. 42: the supervisor approves
        actions.append(PendingAction(action="decide-fee", role="supervisor",
                                     description=f"审批收取信息处理费 {s.fee.amount_yuan} 元"))
    if fee_running(s) and s.replied_on is None:
        actions.append(PendingAction(action="record-fee-payment", role="registrar",
                                     description="登记申请人缴费或减免信息处理费", due_on=s.fee.pay_by))
    if phase == "in-review":
        actions.append(PendingAction(action="review", role="reviewer", description="保密审查拟办意见", due_on=due))
    if phase == "awaiting-signature":
        actions.append(PendingAction(action="sign", role="supervisor", description="签发答复告知书", due_on=due))
    if phase == "awaiting-delivery" and s.inp.delivery_method != "email":
        actions.append(PendingAction(action="confirm-delivery", role="registrar", description="寄送或交付答复并确认送达"))
    for letter in s.letters:
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
