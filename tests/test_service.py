"""RULES §3 "Service" on the real server (issue 21 point 1 and 2): a period that runs from a notice's receipt starts at
its *proven* receipt. Dispatch (our relay's acceptance, the posting date) stops the reply clock where a pause applies;
nothing lapses, and no 其他处理-1/-2 or consultee silence can be decided, before receipt is proven; a bounce tells
staff and starts nothing; an undeliverable letter has a lawful way on (served another way, 公告送达 last).

Each of these failed on the code before: the fee's 20 working days ran from its approval and lapsed while the notice
sat unposted; the supplement lapse could be decided with no proof of service; an e-mail counted as received when our
own relay accepted it; a bounced consultation letter left the third party "silent".
"""

import re
from datetime import date, timedelta
from email.utils import format_datetime

import pytest
from sqlmodel import Session, select

from clock import add_working_days_from, end_of_day_instant, local_date
from db.models import StaffAlert
from letters.returns import parse_return
from tests.helpers import act, deliver_returns, email_served, eventually, register, send_action, some_identity, state
from tests.test_evidence import letter_row, serve, workflow_now
from tests.test_replay import replayer
from workcalendar import WorkCalendar, load_calendar_data

pytestmark = pytest.mark.dates
CALENDAR = WorkCalendar(load_calendar_data())
PAYER = {"name": "钱送达", "type": "natural-person", "address": "福州市台江区某路3号"}


def kinds(view: dict) -> list[str]:
    return [e["kind"] for e in view["timeline"]]


async def today_of(env, client, workflow_id: str) -> date:
    return local_date(await workflow_now(env, client, workflow_id))


async def forward(env, client, workflow_id: str, days: float) -> None:
    await env.fast_forward(client.get_workflow_handle(workflow_id), timedelta(days=days))


async def replays(client, workflow_id: str) -> None:
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    assert (await replayer().replay_workflow(history)).replay_failure is None


async def posted_fee(api, applicant=PAYER) -> tuple[str, dict]:
    applicant = {**applicant, "id_number": some_identity()}
    app_id = (await register(api, applicant=applicant, delivery_method="post"))["application_id"]
    await act(api, app_id, "fee-proposal", {"standard": "per-page", "quantity": 150,
                                             "reason": "申请公开的信息达150页，数量明显超过合理范围", "by": "wang"})
    approved = await act(api, app_id, "fee-decision", {"approve": True, "by": "chief-liu"})
    return app_id, approved


async def test_a_fee_notice_never_posted_stops_nothing_and_never_lapses(env, api, client):
    app_id, approved = await posted_fee(api)
    # Approved is not dispatched: no payment deadline, the reply clock still runs, the letter awaits the desk.
    assert approved["fee"]["pay_by"] is None and approved["fee"]["notice_sent_on"] is None
    assert "尚未发出" in approved["fee"]["pay_by_basis"] and approved["paused_intervals"] == []
    await letter_row(api, app_id, "fee", lambda r: r["status"] == "awaiting-staff")
    await forward(env, client, app_id, 60)
    later = await state(api, app_id)
    # Sixty days on, nothing lapsed and no 其他处理-2 is proposed: the period never started.
    assert "fee-lapsed" not in kinds(later) and later["fee"]["lapsed_on"] is None
    assert all(item["proposal"] is None for item in later["items"])
    assert later["fee"]["pay_by"] is None
    await replays(client, app_id)


async def test_a_fee_notice_signed_for_six_days_after_posting_runs_20_working_days_from_that_day(env, api, client):
    app_id, approved = await posted_fee(api)
    await letter_row(api, app_id, "fee", lambda r: r["status"] == "awaiting-staff")
    posted_on = await today_of(env, client, app_id)
    posted = await serve(api, app_id, f"{app_id}:fee", {"method": "post", "posted_on": posted_on.isoformat(),
                                                         "tracking_number": "EMS1112223334CN"})
    assert posted.status_code == 200, posted.text
    view = await state(api, app_id)
    # Dispatched: the reply clock stops from the posting date; the 20 days have not started.
    assert view["fee"]["notice_sent_on"] == posted_on.isoformat() and view["fee"]["pay_by"] is None
    assert view["paused_intervals"][0]["started_on"] == posted_on.isoformat()
    assert f"缴费通知已于 {posted_on} 发出" in view["fee"]["pay_by_basis"] and "送达前期限不起算" in view["fee"]["pay_by_basis"]

    await forward(env, client, app_id, 6)
    signed_on = await today_of(env, client, app_id)
    signed = await serve(api, app_id, f"{app_id}:fee", {"method": "post", "served_on": signed_on.isoformat(),
                                                         "received_by": "钱送达"})
    assert signed.status_code == 200, signed.text
    pay_by = add_working_days_from(CALENDAR, signed_on, 20)[0]
    view = await state(api, app_id)
    assert view["fee"]["notice_served_on"] == signed_on.isoformat() and view["fee"]["pay_by"] == pay_by.isoformat()
    assert view["fee"]["pay_by_basis"].startswith(f"缴费通知于 {signed_on} 送达（邮寄签收")
    assert f"自收到之日起 20 个工作日，至 {pay_by} 止" in view["fee"]["pay_by_basis"]
    # Past the 20 working days counted from the posting date, a payment is still in time.
    from_posting = add_working_days_from(CALENDAR, posted_on, 20)[0]
    assert from_posting < pay_by
    now = await workflow_now(env, client, app_id)
    await env.fast_forward(client.get_workflow_handle(app_id), end_of_day_instant(from_posting) - now + timedelta(hours=2))
    paid_on = await today_of(env, client, app_id)
    assert from_posting < paid_on <= pay_by
    paid = await act(api, app_id, "fee-payment", {"paid_on": paid_on.isoformat(), "by": "desk-chen"})
    assert paid["fee"]["paid_on"] == paid_on.isoformat() and "fee-lapsed" not in kinds(paid)
    await replays(client, app_id)


async def test_an_unpaid_fee_lapses_only_20_working_days_after_its_proven_receipt(env, api, client):
    app_id, _ = await posted_fee(api)
    await letter_row(api, app_id, "fee", lambda r: r["status"] == "awaiting-staff")
    served_on = await today_of(env, client, app_id)
    await serve(api, app_id, f"{app_id}:fee", {"method": "post", "posted_on": served_on.isoformat(),
                                               "served_on": served_on.isoformat(), "received_by": "钱送达"})
    pay_by = add_working_days_from(CALENDAR, served_on, 20)[0]
    now = await workflow_now(env, client, app_id)
    await env.fast_forward(client.get_workflow_handle(app_id), end_of_day_instant(pay_by) - now - timedelta(hours=1))
    assert "fee-lapsed" not in kinds(await state(api, app_id))
    await forward(env, client, app_id, 0.2)
    lapsed = await eventually(api, app_id, lambda s: "fee-lapsed" in kinds(s))
    assert lapsed["fee"]["lapsed_on"] is not None and lapsed["items"][0]["proposal"]["outcome"] == "other-2"


async def test_the_supplement_lapse_cannot_be_decided_without_proof_of_service(env, api, client):
    app_id = (await register(api, delivery_method="post"))["application_id"]
    asked = await act(api, app_id, "supplement-request", {"needed": ["请明确所需信息的年份"], "by": "wang"})
    assert "尚未发出" in asked["supplement"]["deadline_basis"]
    await letter_row(api, app_id, "supplement", lambda r: r["status"] == "awaiting-staff")
    await forward(env, client, app_id, 40)
    later = await state(api, app_id)
    # Forty days on: no lapse recorded, and the person who would decide it is refused with the reason.
    assert "supplement-deadline-passed" not in kinds(later) and later["supplement"]["lapsed_on"] is None
    refused = await send_action(api, app_id, "supplement-lapse",
                                {"justified": False, "reason": "申请人未补正", "by": "chief-liu"})
    assert refused.status_code == 409 and "尚无送达证据" in refused.json()["detail"]
    # A supplement received now is in time: the period had not started.
    received = await act(api, app_id, "supplement", {"received_on": (await today_of(env, client, app_id)).isoformat(),
                                                      "by": "desk-chen"})
    assert received["status"] == "handling"
    await replays(client, app_id)


async def test_an_emailed_notice_is_served_by_the_addressees_delivery_report_not_by_our_relay(env, api, client, mailbox):
    app_id = (await register(api, applicant={"name": "郑送达", "type": "natural-person",
                                             "email": "zheng@served.held.example.cn"}))["application_id"]
    await act(api, app_id, "supplement-request", {"needed": ["请明确所需信息的年份"], "by": "wang"})
    row = await letter_row(api, app_id, "supplement", lambda r: r["status"] == "sent")
    view = await eventually(api, app_id, lambda s: s["supplement"]["service"]["dispatched_on"] is not None)
    # Our relay accepted it: dispatched, not served; no deadline runs.
    assert view["supplement"]["notice_served_on"] is None and row["evidence"]["served_on"] is None
    assert "本机关发信服务器" in view["supplement"]["service"]["dispatch_evidence"]
    # Three days later the addressee's system reports the delivery (the report says when it arrived).
    await forward(env, client, app_id, 3)
    arrived_on = await today_of(env, client, app_id)
    for_this = [r for r in mailbox.handler.returns if f"{app_id}:SUPPLEMENT".encode() in r.upper()]
    assert for_this, "the relay owes a delivery report"
    mailbox.handler.returns[:] = [r for r in mailbox.handler.returns if r not in for_this]
    # The relay's report, dated as the addressee's system received it (Arrival-Date, Last-Attempt-Date).
    at = format_datetime(end_of_day_instant(arrived_on) - timedelta(hours=10)).encode()
    report = re.sub(rb"(Arrival-Date|Last-Attempt-Date): [^\r\n]+", lambda m: m.group(1) + b": " + at, for_this[0])
    assert parse_return(report)[0].action == "delivered"
    answer = await api.post("/api/v1/mail/returns", content=report,
                            headers={"X-Mail-Returns-Token": "test-mail-returns-token"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["reports"][0]["letter_key"] == f"{app_id}:supplement"
    view = await eventually(api, app_id, lambda s: s["supplement"]["notice_served_on"] is not None)
    days = view["supplement"]["window_days"]
    deadline = add_working_days_from(CALENDAR, arrived_on, days)[0]
    assert view["supplement"]["notice_served_on"] == arrived_on.isoformat()
    assert view["supplement"]["deadline_on"] == deadline.isoformat()
    assert "电子邮件到达收件人邮件系统" in view["supplement"]["deadline_basis"]
    evidence = (await letter_row(api, app_id, "supplement", lambda r: r["evidence"]["served_on"] is not None))["evidence"]
    assert evidence["served_on"] == arrived_on.isoformat()
    assert any(line.startswith("送达状态通知：收件人邮件系统") for line in evidence["lines"])
    # The same report posted again changes nothing.
    again = await api.post("/api/v1/mail/returns", content=report, headers={"X-Mail-Returns-Token": "test-mail-returns-token"})
    assert again.status_code == 200 and again.json()["already_recorded"] is True
    assert (await state(api, app_id))["supplement"]["deadline_on"] == deadline.isoformat()
    await replays(client, app_id)


async def test_a_bounced_fee_notice_tells_staff_and_starts_nothing(env, api, client, engine, mailbox):
    address = "nobody@bounce.held.example.cn"
    mailbox.handler.rules.append(("bounce", "*@bounce.held.example.cn"))  # the relay will report a failure
    app_id = (await register(api, applicant={**PAYER, "email": address, "id_number": some_identity()}))["application_id"]
    await act(api, app_id, "fee-proposal", {"standard": "per-page", "quantity": 150,
                                             "reason": "申请公开的信息达150页，数量明显超过合理范围", "by": "wang"})
    await act(api, app_id, "fee-decision", {"approve": True, "by": "chief-liu"})
    try:
        answers = await email_served(api, mailbox, f"{app_id}:fee")
    finally:
        mailbox.handler.rules.remove(("bounce", "*@bounce.held.example.cn"))
    assert answers[0]["reports"][0]["action"] == "failed" and "未能送达" in answers[0]["reports"][0]["applied"]
    view = await eventually(api, app_id, lambda s: s["fee"]["service"]["unservable_on"] is not None)
    assert view["fee"]["pay_by"] is None and view["fee"]["notice_served_on"] is None
    assert "未能送达" in view["fee"]["pay_by_basis"] and "notice-unservable" in kinds(view)
    with Session(engine) as session:
        alerts = session.exec(select(StaffAlert).where(StaffAlert.application_id == app_id)).all()
    assert any(a.kind == "delivery-problem" and a.role == "handler" and "未能送达" in a.message for a in alerts)
    await forward(env, client, app_id, 60)
    assert "fee-lapsed" not in kinds(await state(api, app_id))
    # Staff serve it another way: handed over at the counter; the 20 working days run from that day.
    handed_on = await today_of(env, client, app_id)
    picked = await serve(api, app_id, f"{app_id}:fee", {"method": "pickup", "served_on": handed_on.isoformat(),
                                                         "received_by": "钱送达"})
    assert picked.status_code == 200, picked.text
    view = await state(api, app_id)
    assert view["fee"]["pay_by"] == add_working_days_from(CALENDAR, handed_on, 20)[0].isoformat()
    await replays(client, app_id)


async def test_an_undeliverable_consultation_letter_has_a_lawful_way_on_public_notice(env, api, client):
    app_id = (await register(api, items=[{"description": "某公司2025年报送的统计报表"}]))["application_id"]
    started = await act(api, app_id, "consultations", {
        "consultee": {"kind": "third-party", "name": "某已注销有限公司", "address": "福州市某路99号"},
        "item_nos": [1], "by": "wang"})
    cid = started["consultations"][0]["consultation_id"]
    key = f"{cid}:letter"
    await letter_row(api, app_id, key.removeprefix(f"{app_id}:"), lambda r: r["status"] == "awaiting-staff")
    posted_on = await today_of(env, client, cid)
    assert (await serve(api, app_id, key, {"method": "post", "posted_on": posted_on.isoformat(),
                                           "tracking_number": "XA999888777CN"})).status_code == 200
    await forward(env, client, cid, 10)
    returned_on = await today_of(env, client, cid)

    async def problem(body: dict):
        return await api.post(f"/api/v1/applications/{app_id}/letters/{key}/service-problem", json=body,
                              headers=api.as_user("desk-chen"))

    too_soon = await problem({"event": "public-notice", "on": returned_on.isoformat(), "detail": "本机关门户网站"})
    assert too_soon.status_code == 409 and "最后的送达方式" in too_soon.json()["detail"]
    returned = await problem({"event": "unservable", "on": returned_on.isoformat(), "detail": "邮件被退回：查无此单位"})
    assert returned.status_code == 200, returned.text
    view = await eventually(api, app_id, lambda s: s["consultations"][0]["unservable_on"] is not None)
    assert "consultation-unservable" in kinds(view) and "公告送达" in view["consultations"][0]["window_basis"]
    # 公告送达: deemed served 30 days after publication; the 15 working days run from then, then silence.
    published = await problem({"event": "public-notice", "on": returned_on.isoformat(),
                               "detail": "本机关门户网站“公告送达”栏目"})
    assert published.status_code == 200, published.text
    deemed = returned_on + timedelta(days=30)
    window = add_working_days_from(CALENDAR, deemed, 15)[0]
    view = await eventually(api, app_id, lambda s: s["consultations"][0]["served_on"] == deemed.isoformat())
    assert view["consultations"][0]["window_ends_on"] == window.isoformat()
    assert "公告送达" in view["consultations"][0]["window_basis"] and "视为送达" in view["consultations"][0]["window_basis"]
    now = await workflow_now(env, client, cid)
    await env.fast_forward(client.get_workflow_handle(cid), end_of_day_instant(window) - now + timedelta(hours=1))
    ended = await eventually(api, app_id, lambda s: s["consultations"][0]["position"] == "silence")
    assert ended["status"] == "handling"
    await replays(client, app_id)


async def test_the_request_for_reasons_runs_from_its_receipt(env, api, client):
    app_id = (await register(api, delivery_method="post"))["application_id"]
    asked = await act(api, app_id, "reasons-request", {"grounds": "同一申请人一个月内提出80件申请", "by": "wang"})
    days = asked["excessive"]["service"]["days"]
    await letter_row(api, app_id, "reasons-request", lambda r: r["status"] == "awaiting-staff")
    await forward(env, client, app_id, 30)
    later = await state(api, app_id)
    assert "reasons-deadline-passed" not in kinds(later)
    refused = await send_action(api, app_id, "excessive-decision", {"reasonable": False, "reason": "未说明理由",
                                                                     "by": "chief-liu"})
    assert refused.status_code == 409 and "尚无送达证据" in refused.json()["detail"]
    served_on = await today_of(env, client, app_id)
    signed = await serve(api, app_id, f"{app_id}:reasons-request", {"method": "post", "posted_on": served_on.isoformat(),
                                                                     "served_on": served_on.isoformat(),
                                                                     "received_by": "张三"})
    assert signed.status_code == 200, signed.text
    view = await state(api, app_id)
    assert view["excessive"]["reasons_by"] == add_working_days_from(CALENDAR, served_on, days)[0].isoformat()
    assert "reasons-request-served" in kinds(view)


async def test_the_returns_endpoint_needs_its_token_and_a_real_report(api, anon):
    no_token = await anon.post("/api/v1/mail/returns", content=b"Subject: hi\r\n\r\nhello\r\n")
    assert no_token.status_code == 401 and no_token.json()["detail"] == "口令不正确"
    not_a_report = await anon.post("/api/v1/mail/returns", content=b"Subject: hi\r\n\r\nhello\r\n",
                                   headers={"X-Mail-Returns-Token": "test-mail-returns-token"})
    assert not_a_report.status_code == 422 and "不是送达状态通知或退信" in not_a_report.json()["detail"]
    assert await deliver_returns(api, type("M", (), {"handler": type("H", (), {"returns": []})()})()) == []
