"""The application workflow's action rules, as pure functions over ApplicationState: no Temporal.

The same functions back the update validators (refusals become 409 with the reason through the API);
here they are called directly on states built by hand.
"""

from datetime import date, datetime, timezone

from clock import ClockInput, compute_due
from contracts.models import Letter
from outcomes import OutcomeCode
from policy import DEFAULT_PROFILE, profile_named
from workcalendar import load_calendar_data
from application.rules import (
    pending_actions,
    report_outcome,
    status_of,
    why_not_assign,
    why_not_decide_fee,
    why_not_fee_settled,
    why_not_propose,
    why_not_request_supplement,
    why_not_review,
    why_not_sign,
    why_not_withdraw,
)
from application.state import ApplicationState
from contracts.consultations import ConsultationState, Consultee
from contracts.fees import DecideFee, FeeSettled, FeeState
from contracts.intake import Applicant, ApplicationInput, AssignHandler, RequestedItem, RequestSupplement
from contracts.reply import ItemView, Proposal, ProposeDecision, ReviewDecision, SignReply

RECEIVED = date(2026, 3, 2)
AT = datetime(2026, 3, 3, 2, tzinfo=timezone.utc)


def a_state(**changes) -> ApplicationState:
    inp = ApplicationInput(
        application_id="GK-2026-000001", channel="online", received_on=RECEIVED,
        registered_at=datetime(2026, 3, 2, 1, tzinfo=timezone.utc), registered_by="registrar",
        applicant=Applicant(name="张三", id_number="110101199003070011"),
        items=[RequestedItem(description="2025年预算执行情况"), RequestedItem(description="会议纪要")],
        delivery_method="email", policy=profile_named(DEFAULT_PROFILE), calendar=load_calendar_data(), agency_name="某区人民政府",
    )
    s = ApplicationState(inp=inp, calendar_data=inp.calendar, handler="handler1",
                         items=[ItemView(item_no=n, description=it.description) for n, it in enumerate(inp.items, 1)],
                         supplement_notice_by=date(2026, 3, 9))
    s.due = compute_due(s.cal, ClockInput(received_on=RECEIVED, reply_days=inp.policy.reply_days))
    for k, v in changes.items():
        setattr(s, k, v)
    return s


def test_final_application_refuses_every_action_with_its_reason():
    for phase, reason in (("closed", "本申请已办结"), ("withdrawn", "本申请已撤回"), ("abandoned", "本申请已因逾期未补正视为放弃")):
        s = a_state(phase=phase)
        assert why_not_withdraw(s, RECEIVED) == reason
        assert why_not_assign(s, AssignHandler(handler="h2", by="registrar"), RECEIVED) == reason
        assert pending_actions(s) == []


def test_withdraw_and_reassign_are_refused_once_the_reply_is_signed():
    s = a_state(replied_on=date(2026, 3, 20), phase="awaiting-delivery")
    assert why_not_withdraw(s, date(2026, 3, 21)) == "答复已于 2026-03-20 签发，不能撤回"
    assert why_not_assign(s, AssignHandler(handler="h2", by="registrar"), date(2026, 3, 21)) == "答复已签发，不能再更换承办人"
    assert why_not_withdraw(a_state(), RECEIVED) is None


def test_supplement_is_asked_once_only():
    """Reg. 30: the applicant is told once, all at once, what to supplement."""
    cmd = RequestSupplement(needed=["请说明所需信息的文号"], by="handler1")
    assert why_not_request_supplement(a_state(), cmd, RECEIVED) is None
    from contracts.intake import SupplementState
    sup = SupplementState(needed=["x"], notice_sent_on=RECEIVED, deadline_on=date(2026, 3, 20), requested_by="handler1")
    assert why_not_request_supplement(a_state(supplement=sup), cmd, RECEIVED) == "补正须一次性告知，本申请已发出过补正通知"


def test_the_handler_who_proposed_a_fee_cannot_approve_it():
    fee = FeeState(standard="per-application", quantity=11, amount_yuan=100, basis="b", reason="r", proposed_by="handler1")
    assert why_not_decide_fee(a_state(fee=fee), DecideFee(approve=True, by="handler1"), RECEIVED) == \
        "收费须经负责人批准，提出收费的承办人不能自行批准"
    assert why_not_decide_fee(a_state(fee=fee), DecideFee(approve=True, by="chief"), RECEIVED) is None
    assert why_not_decide_fee(a_state(), DecideFee(approve=True, by="chief"), RECEIVED) == "没有待审批的收费"


def test_proposal_for_an_unknown_item_is_refused_and_pending_consultation_shows_as_consulting():
    s = a_state()
    reason = why_not_propose(s, ProposeDecision(item_no=3, outcome=OutcomeCode.DISCLOSED, by="handler1"), RECEIVED)
    assert reason is not None and "3" in reason
    assert status_of(s) == "handling"
    s.consultations.append(ConsultationState(
        consultation_id="c1", kind="third-party", consultee_name="某公司", item_nos=[1], position="pending",
        sent_on=RECEIVED, window_ends_on=date(2026, 3, 23)))
    s.consultees["c1"] = Consultee(name="某公司", kind="third-party")
    assert status_of(s) == "consulting"


def test_review_needs_a_draft_in_review():
    reason = why_not_review(a_state(), ReviewDecision(approve=True, by="reviewer"), RECEIVED)
    assert reason is not None
    draft = Letter(kind="reply", subject="答复", body="正文")
    s = a_state(phase="in-review", reply_draft=draft, draft_version=1)
    assert why_not_review(s, ReviewDecision(approve=True, by="reviewer"), RECEIVED) is None


def test_report_outcome_counts_a_mixed_disclosure_as_partly_disclosed():
    assert report_outcome({OutcomeCode.DISCLOSED}) == OutcomeCode.DISCLOSED
    assert report_outcome({OutcomeCode.DISCLOSED, OutcomeCode.UNAVAILABLE_NOT_HELD}) == OutcomeCode.PARTLY_DISCLOSED


def test_state_round_trips_through_json():
    """One serialisable model: what continue-as-new will carry."""
    s = a_state(alerts_raised={"x:reminder"})
    again = ApplicationState.model_validate_json(s.model_dump_json())
    assert again.model_dump() == s.model_dump() and again.cal.is_workday(date(2026, 3, 2)) is True


def test_signing_with_an_item_left_without_a_proposal_is_refused_not_asserted():
    """Issue 12 point 8: the sign handler asserted every item had a proposal; a third party's objection
    withdraws a disclosing proposal, so the assert could fail the workflow task. Now a 409 reason."""
    draft = Letter(kind="reply", subject="答复", body="正文")
    items = [ItemView(item_no=1, description="预算", proposal=Proposal(outcome=OutcomeCode.DISCLOSED, by="handler1", at=AT)),
             ItemView(item_no=2, description="纪要")]  # proposal withdrawn
    s = a_state(phase="awaiting-signature", reply_draft=draft, items=items)
    assert why_not_sign(s, SignReply(by="chief"), RECEIVED) == "第 2 项尚无拟办意见，请先提出拟办意见并重新审核"
    items[1].proposal = Proposal(outcome=OutcomeCode.DISCLOSED, by="handler1", at=AT)
    assert why_not_sign(s, SignReply(by="chief"), RECEIVED) is None
    assert why_not_sign(a_state(phase="awaiting-signature", items=items), SignReply(by="chief"), RECEIVED) == \
        "答复文书尚未生成，暂不能签发"


def test_a_payment_before_the_fee_notice_is_refused_not_asserted():
    fee = FeeState(standard="per-application", quantity=11, amount_yuan=100, basis="b", reason="r",
                   proposed_by="handler1", decision="approved", decided_by="chief")
    assert why_not_fee_settled(a_state(fee=fee), FeeSettled(paid_on=RECEIVED, by="registrar"), RECEIVED) == \
        "缴费通知尚未制发，暂不能登记缴费"


def test_the_pure_clock_shares_the_workflows_constants() -> None:
    """application/deadlines.py (which the calendar broadcaster runs outside the workflow) counts the fee
    period and sends reminders at the hour the workflow does."""
    from application import deadlines
    from workflows import application, delivery

    assert deadlines.FEE_PAY_DAYS == application.FEE_PAY_DAYS
    assert deadlines.REMINDER_HOUR == delivery.REMINDER_HOUR


def test_the_reply_waits_for_the_notice_to_a_third_party_whose_objection_had_no_reasonable_grounds():
    """Issue 24 point 3 (RULES §5): the third party is told in writing before the reply goes out."""
    from contracts.consultations import ConsultationState
    from contracts.reply import LetterView

    draft = Letter(kind="reply", subject="答复", body="正文")
    items = [ItemView(item_no=n, description=d, proposal=Proposal(outcome=OutcomeCode.DISCLOSED, by="handler1", at=AT))
             for n, d in ((1, "预算"), (2, "纪要"))]
    consultation = ConsultationState(consultation_id="GK-2026-000001.consult-1", kind="third-party", consultee_name="某公司",
                                     item_nos=[2], sent_on=RECEIVED, window_ends_on=date(2026, 3, 23), position="objection",
                                     reasons="不同意", override_reason="理由不合理", override_by="chief",
                                     override_basis="grounds-not-reasonable")
    s = a_state(phase="awaiting-signature", reply_draft=draft, items=items, consultations=[consultation])
    assert why_not_sign(s, SignReply(by="chief"), RECEIVED) == \
        "须先将不予采纳「某公司」意见的决定书面告知第三方（告知书尚未发出），才能签发答复"
    notice = LetterView(key="GK-2026-000001:override-GK-2026-000001.consult-1", kind="objection-unreasonable-notice",
                        recipient_name="某公司", method="post", status="awaiting-staff")
    s.letters = [notice]
    assert why_not_sign(s, SignReply(by="chief"), RECEIVED) is not None
    notice.status = "delivered"
    assert why_not_sign(s, SignReply(by="chief"), RECEIVED) is None
    consultation.override_basis = "public-interest"  # the override's notice does not hold the reply (unchanged)
    s.letters = []
    assert why_not_sign(s, SignReply(by="chief"), RECEIVED) is None


def test_signing_waits_for_the_files_of_the_disclosed_items_only():
    """Issue 22 (RULES §14): the validator reads the files' state the workflow holds; a file of a withheld item does
    not leave and does not block; while the state is being read again the signature waits."""
    from contracts.release import ReleaseFileStatus

    draft = Letter(kind="reply", subject="答复", body="正文")
    items = [ItemView(item_no=1, description="预算", proposal=Proposal(outcome=OutcomeCode.PARTLY_DISCLOSED, by="handler1", at=AT)),
             ItemView(item_no=2, description="纪要", proposal=Proposal(outcome=OutcomeCode.WITHHELD_INTERNAL_AFFAIRS, by="handler1", at=AT))]
    files = [ReleaseFileStatus(file_id=1, item_no=1, filename="预算表.xlsx", problems=["预算!B7的身份证号码（1101**********002X）预审发现的内容既未删除也未说明理由予以公开"]),
             ReleaseFileStatus(file_id=2, item_no=2, filename="纪要.pdf", problems=["文件尚未完成保密预审"])]
    s = a_state(phase="awaiting-signature", reply_draft=draft, items=items, release_files=files)
    reason = why_not_sign(s, SignReply(by="chief"), RECEIVED)
    assert reason == ("公开的文件尚有未处理的保密预审发现，不能签发：第 1 项的文件“预算表.xlsx”预算!B7的身份证号码"
                      "（1101**********002X）预审发现的内容既未删除也未说明理由予以公开")
    files[0].problems = []
    assert why_not_sign(s, SignReply(by="chief"), RECEIVED) is None  # 纪要.pdf belongs to a withheld item
    s.release_reading = True
    assert why_not_sign(s, SignReply(by="chief"), RECEIVED) == "公开文件的保密预审状态正在更新，请稍候再签发"
    items[0].proposal = Proposal(outcome=OutcomeCode.WITHHELD_INTERNAL_AFFAIRS, by="handler1", at=AT)
    assert why_not_sign(s, SignReply(by="chief"), RECEIVED) is None  # nothing disclosed: no file leaves
