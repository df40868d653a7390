"""Issue 11 point 12 on the real server: fee proposed, approved, noticed; excluded time; paid, or unpaid -> 其他处理-2."""

from datetime import date, timedelta

from clock import add_working_days_from, local_date
from tests.helpers import act, eventually, mails_about, register, send_action
from workcalendar import WorkCalendar, load_calendar_data
from contracts.application_view import ApplicationOutcome

CALENDAR = WorkCalendar(load_calendar_data())
APPLICANT = {"name": "孙八", "type": "natural-person", "id_number": "350102199001011246",
             "email": "sunba@fees.example.cn"}


async def approved_fee(api, **applicant) -> tuple[str, dict]:
    # each a request of its own (the same one within a day would be a resubmission: issue 23 point 6)
    app_id = (await register(api, applicant=APPLICANT | applicant,
                             items=[{"description": f"2025年统计资料（{applicant.get('email', 'first')}）"}]))["application_id"]
    await act(api, app_id, "fee-proposal", {"standard": "per-page", "quantity": 120,
                                             "reason": "申请公开的信息达120页，数量明显超过合理范围", "by": "wang"})
    approved = await act(api, app_id, "fee-decision", {"approve": True, "by": "chief-liu"})
    return app_id, approved


async def test_fee_notice_states_basis_amount_and_20_working_days_and_stops_the_clock(api, mailbox):
    # (An application without the applicant's identity is no longer registered at all: test_law_fees_count.)
    bare = (await register(api, applicant={"name": "周九", "type": "natural-person", "email": "z@fees.example.cn"}))
    free = await send_action(api, bare["application_id"], "fee-proposal",
                             {"standard": "per-page", "quantity": 30, "reason": "页数较多需要收费", "by": "wang"})
    assert free.status_code == 409 and "不收费" in free.json()["detail"]

    app_id, approved = await approved_fee(api)
    fee = approved["fee"]
    today = date.fromisoformat(approved["as_of"])
    assert fee["amount_yuan"] == 70 * 10 + 20 * 20 and fee["decision"] == "approved"
    # RULES §3 Service: the 20 working days run from the notice's receipt, the clock stops on its dispatch.
    assert fee["pay_by"] is None and "尚未发出" in fee["pay_by_basis"]
    served = await eventually(api, app_id, lambda s: s["fee"]["notice_served_on"] is not None)  # e-mail: its report
    assert served["fee"]["pay_by"] == add_working_days_from(CALENDAR, today, 20)[0].isoformat()
    assert any(s.startswith("缴纳费用期间") for s in served["due"]["steps"])
    own = await send_action(api, app_id, "decisions", {"item_no": 1, "outcome": "other-2", "reasons": "x", "by": "wang"})
    assert own.status_code == 409
    await eventually(api, app_id, lambda s: sum(e["kind"] == "letter-sent" for e in s["timeline"]) >= 2)
    notice = [m for m in mails_about(mailbox.envelopes, app_id) if "缴费通知" in m["Subject"]][0].get_body(("plain",)).get_content()
    assert "应缴金额：人民币1100元。" in notice and "按量计收" in notice and "20个工作日内" in notice
    assert "第四十二条" in notice and "国办函〔2020〕109号" in notice

    paid = await act(api, app_id, "fee-payment", {"paid_on": today.isoformat(), "by": "desk-chen"})
    assert paid["fee"]["paid_on"] == today.isoformat() and "fee-paid" in [e["kind"] for e in paid["timeline"]]
    await act(api, app_id, "decisions", {"item_no": 1, "outcome": "disclosed", "by": "wang"})


async def test_unpaid_after_20_working_days_is_other_2_through_review_and_signature(env, api, client, mailbox):
    app_id, approved = await approved_fee(api, email="unpaid@fees.example.cn")
    # The 20 working days run from the notice's receipt (RULES §3): its delivery report first, then the clock moves.
    await eventually(api, app_id, lambda s: s["fee"]["notice_served_on"] is not None)
    await env.fast_forward(client.get_workflow_handle(app_id), timedelta(days=40))
    lapsed = await eventually(api, app_id, lambda s: "fee-lapsed" in [e["kind"] for e in s["timeline"]])
    assert [i["proposal"]["outcome"] for i in lapsed["items"]] == ["other-2"] and lapsed["due"] is None
    await act(api, app_id, "submit", {"by": "wang"})
    await act(api, app_id, "review", {"approve": True, "by": "reviewer-zhao"})
    await act(api, app_id, "sign", {"by": "chief-liu"})
    outcome = await client.get_workflow_handle(app_id, result_type=ApplicationOutcome).result()
    assert [i.final_outcome for i in outcome.items] == ["other-2"]
    reply = [m for m in mails_about(mailbox.envelopes, app_id) if "答复" in m["Subject"]][0].get_body(("plain",)).get_content()
    assert "申请人逾期未按收费通知要求缴纳费用" in reply
