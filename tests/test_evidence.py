"""Issue 11 point 14 on the real server: proof of service (送达证据) for every letter, and the windows it dates.

What the mail server accepted (Message-ID, the instant and its reply, from the real SMTP fixture); a posted
letter's tracking number and signed-for date with who entered it; the applicant's portal download; a pickup
signature (and the scan of the signed receipt). The receipt date starts every window counted from receipt:
a consultation's 15 working days (point 1), the supplement deadline (point 5), the fee notice's 20 working
days (point 12).
"""

from datetime import date, datetime, timedelta

import httpx
import pytest
import time_machine
from hypothesis import given, settings
from hypothesis import strategies as st

from core import clock
from clock import add_working_days_from, end_of_day_instant, local_date, start_of_day_instant
from tests.helpers import act, eventually, mails_about, register, state, through_review, today
from tests.test_replay import replayer
from workcalendar import WorkCalendar, load_calendar_data
from workflows.application import window_days_of

CALENDAR = WorkCalendar(load_calendar_data())


def kinds(view: dict) -> list[str]:
    return [e["kind"] for e in view["timeline"]]


async def letters(api: httpx.AsyncClient, app_id: str) -> dict[str, dict]:
    response = await api.get(f"/api/v1/applications/{app_id}/letters")
    assert response.status_code == 200, response.text
    return {row["key"].removeprefix(f"{app_id}:"): row for row in response.json()}


async def letter_row(api, app_id: str, which: str, check, timeout: float = 20.0) -> dict:
    import asyncio

    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        row = (await letters(api, app_id)).get(which)
        if row is not None and check(row):
            return row
        assert asyncio.get_running_loop().time() < deadline, f"{which}: {row}"
        await asyncio.sleep(0.2)


async def serve(api, app_id: str, key: str, body: dict, user: str = "desk-chen") -> httpx.Response:
    return await api.post(f"/api/v1/applications/{app_id}/letters/{key}/service", json=body, headers=api.as_user(user))


async def workflow_now(env, client, workflow_id: str) -> datetime:
    return await env.get_current_time(client.get_workflow_handle(workflow_id))


async def assert_replays(client, workflow_id: str) -> None:
    """Today's code replays the history just made (the new update and the `letter-evidence` patch included)."""
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    assert (await replayer().replay_workflow(history)).replay_failure is None


@pytest.mark.dates
async def test_an_emailed_letter_shows_its_message_id_and_the_servers_acceptance_time_and_reply(api, client, mailbox):
    before = clock.now()
    app_id = (await register(api, applicant={"name": "郑一", "type": "natural-person",
                                             "email": "zhengyi@evidence.example.cn"}))["application_id"]
    asked = await act(api, app_id, "supplement-request", {"needed": ["请明确所需信息的年份"], "by": "wang"})
    # Our relay accepts it (dispatch); the addressee's system reports the delivery (the session's relay hands the
    # report to the API at once): that report is the proof of receipt (RULES §3 Service).
    row = await letter_row(api, app_id, "supplement", lambda r: r["evidence"]["served_on"] is not None)
    mail = [m for m in mails_about(mailbox.envelopes, app_id) if "补正" in m["Subject"]]
    assert len(mail) == 1
    evidence = row["evidence"]
    # What the real server accepted: the Message-ID of the message it received, its reply, the instant.
    assert evidence["message_id"] == mail[0]["Message-ID"] and evidence["method"] == "email"
    assert evidence["smtp_reply"] == "250 Message accepted for delivery"
    accepted = datetime.fromisoformat(evidence["accepted_at"])
    assert before - timedelta(seconds=5) <= accepted <= clock.now() + timedelta(seconds=5)
    assert evidence["served_on"] == asked["as_of"]
    assert any(line.startswith("电子邮件：本机关发信服务器于") and mail[0]["Message-ID"] in line
               and "250 Message accepted for delivery" in line for line in evidence["lines"])
    assert any(line.startswith("送达状态通知：收件人邮件系统（mx.addressee.example）") and "zhengyi@evidence.example.cn" in line
               for line in evidence["lines"])
    # The delivery report is the notice's receipt: the supplement window is counted from it, and says so.
    view = await eventually(api, app_id, lambda s: "supplement-notice-served" in kinds(s))
    assert view["supplement"]["notice_served_on"] == asked["as_of"]
    assert view["supplement"]["deadline_on"] == asked["supplement"]["deadline_on"]
    assert f"补正通知于 {asked['as_of']} 送达" in view["supplement"]["deadline_basis"]
    # The acknowledgment has its own evidence, and the application's timeline says where it comes from.
    ack = (await letters(api, app_id))["ack"]["evidence"]
    assert ack["message_id"] and ack["message_id"] != evidence["message_id"]
    await assert_replays(client, app_id)


@pytest.mark.dates
async def test_a_posted_consultation_letters_signed_for_date_moves_the_consultees_window(env, api, client):
    app_id = (await register(api, items=[{"description": "某公司2025年报送的统计报表"}]))["application_id"]
    started = await act(api, app_id, "consultations", {
        "consultee": {"kind": "third-party", "name": "某精密机械有限公司", "address": "福州市某路8号"},
        "item_nos": [1], "by": "wang"})
    cid = started["consultations"][0]["consultation_id"]
    key = f"{cid}:letter"
    row = await letter_row(api, app_id, key.removeprefix(f"{app_id}:"), lambda r: r["status"] == "awaiting-staff")
    assert row["evidence"]["served_on"] is None and row["evidence"]["lines"] == ["尚无送达证据"]

    posted_on = local_date(await workflow_now(env, client, cid))
    posted = await serve(api, app_id, key, {"method": "post", "posted_on": posted_on.isoformat(),
                                            "tracking_number": "XA100200300CN"})
    assert posted.status_code == 200, posted.text
    assert posted.json()["evidence"]["posted_on"] == posted_on.isoformat()
    assert f"邮寄：{posted_on} 交邮，邮件单号 XA100200300CN" in posted.json()["evidence"]["lines"]
    view = await eventually(api, app_id, lambda s: s["consultations"][0]["sent_on"] is not None)
    provisional = view["consultations"][0]
    assert provisional["window_provisional"] is True
    assert provisional["window_ends_on"] == add_working_days_from(CALENDAR, posted_on, 15)[0].isoformat()

    # The post returns the receipt signed four days later: the 15 working days run from that day.
    await env.fast_forward(client.get_workflow_handle(cid), timedelta(days=4))
    signed_on = local_date(await workflow_now(env, client, cid))
    assert signed_on == posted_on + timedelta(days=4)
    too_early = await serve(api, app_id, key, {"method": "post", "served_on": (posted_on - timedelta(days=1)).isoformat()})
    assert too_early.status_code in (409, 422), too_early.text
    signed = await serve(api, app_id, key, {"method": "post", "served_on": signed_on.isoformat(), "received_by": "李收发"},
                         user="desk-chen")
    assert signed.status_code == 200, signed.text
    evidence = signed.json()["evidence"]
    assert evidence["served_on"] == signed_on.isoformat() and evidence["entered_by"] == "desk-chen"
    assert evidence["tracking_number"] == "XA100200300CN" and evidence["received_by"] == "李收发"
    assert any(line.startswith(f"签收：{signed_on} 签收，签收人 李收发（desk-chen 于") for line in evidence["lines"])
    expected_end = add_working_days_from(CALENDAR, signed_on, 15)[0]
    view = await eventually(api, app_id, lambda s: s["consultations"][0]["served_on"] == signed_on.isoformat())
    c = view["consultations"][0]
    assert c["window_provisional"] is False and c["window_ends_on"] == expected_end.isoformat()
    assert "XA100200300CN" in c["window_basis"] and "李收发" in c["window_basis"]
    # The clock stopped on dispatch and is expected back when the window counted from receipt ends.
    assert view["paused_intervals"][0]["started_on"] == posted_on.isoformat()
    assert view["paused_intervals"][0]["expected_end_on"] == expected_end.isoformat()
    # Entered once: a second signed-for date is refused with the reason.
    again = await serve(api, app_id, key, {"method": "post", "served_on": signed_on.isoformat()})
    assert again.status_code == 409 and "已登记" in again.json()["detail"]


@pytest.mark.dates
async def test_a_fee_notices_signed_for_date_starts_its_20_working_days(env, api, client):
    applicant = {"name": "钱二", "type": "natural-person", "id_number": "350102199002021243",
                 "address": "福州市台江区某路3号"}
    app_id = (await register(api, applicant=applicant, delivery_method="post"))["application_id"]
    await act(api, app_id, "fee-proposal", {"standard": "per-page", "quantity": 150,
                                             "reason": "申请公开的信息达150页，数量明显超过合理范围", "by": "wang"})
    approved = await act(api, app_id, "fee-decision", {"approve": True, "by": "chief-liu"})
    noticed_on = date.fromisoformat(approved["as_of"])
    provisional_pay_by = add_working_days_from(CALENDAR, noticed_on, 20)[0]  # what the old code counted
    assert approved["fee"]["pay_by"] is None and "尚未发出" in approved["fee"]["pay_by_basis"]
    await letter_row(api, app_id, "fee", lambda r: r["status"] == "awaiting-staff")
    posted = await serve(api, app_id, f"{app_id}:fee", {"method": "post", "posted_on": noticed_on.isoformat(),
                                                         "tracking_number": "EMS9876543210CN"})
    assert posted.status_code == 200, posted.text
    assert (await state(api, app_id))["fee"]["pay_by"] is None  # posted is not received

    await env.fast_forward(client.get_workflow_handle(app_id), timedelta(days=6))
    signed_on = local_date(await workflow_now(env, client, app_id))
    signed = await serve(api, app_id, f"{app_id}:fee", {"method": "post", "served_on": signed_on.isoformat(),
                                                         "received_by": "钱二"})
    assert signed.status_code == 200, signed.text
    pay_by = add_working_days_from(CALENDAR, signed_on, 20)[0]
    assert pay_by > provisional_pay_by
    view = await state(api, app_id)
    assert view["fee"]["notice_served_on"] == signed_on.isoformat() and view["fee"]["pay_by"] == pay_by.isoformat()
    assert view["fee"]["pay_by_basis"].startswith(f"缴费通知于 {signed_on} 送达（邮寄签收")
    assert f"自收到之日起 20 个工作日，至 {pay_by} 止" in view["fee"]["pay_by_basis"]
    served = [e for e in view["timeline"] if e["kind"] == "fee-notice-served"]
    assert len(served) == 1 and served[0]["actor"] == "desk-chen" and "签收人 钱二" in served[0]["summary"]
    # Past the provisional deadline, nothing lapses: the 20 working days run from receipt.
    now = await workflow_now(env, client, app_id)
    await env.fast_forward(client.get_workflow_handle(app_id),
                           end_of_day_instant(provisional_pay_by) - now + timedelta(days=1))
    later = await state(api, app_id)
    assert "fee-lapsed" not in kinds(later) and later["fee"]["lapsed_on"] is None
    paid_late_for_the_old_deadline = await act(api, app_id, "fee-payment", {
        "paid_on": local_date(await workflow_now(env, client, app_id)).isoformat(), "by": "desk-chen"})
    assert paid_late_for_the_old_deadline["fee"]["paid_on"] is not None
    await assert_replays(client, app_id)


@pytest.mark.dates
async def test_a_supplement_notices_portal_download_dates_the_supplement_window(env, api, client):
    app_id = (await register(api, delivery_method="portal"))["application_id"]
    asked = await act(api, app_id, "supplement-request", {"needed": ["请补充所需信息的文号"], "by": "wang"})
    asked_on = date.fromisoformat(asked["as_of"])
    first_deadline = date.fromisoformat(asked["supplement"]["deadline_on"])
    days = CALENDAR.workdays_between(CALENDAR.next_workday_on_or_after(asked_on)[0], first_deadline)[0]
    await letter_row(api, app_id, "supplement", lambda r: r["status"] == "awaiting-staff")

    # Downloaded three working days into the window (three calendar days can fall in a holiday week and move nothing).
    download_day = add_working_days_from(CALENDAR, CALENDAR.next_workday_on_or_after(asked_on)[0], 3)[0]
    await env.fast_forward(client.get_workflow_handle(app_id),
                           start_of_day_instant(download_day) + timedelta(hours=10) - await workflow_now(env, client, app_id))
    now = await workflow_now(env, client, app_id)
    assert local_date(now) == download_day
    with time_machine.travel(now, tick=False):  # the API's clock and the server's agree, as in production
        download = await api.get(f"/api/v1/portal/applications/{app_id}/letters/supplement.pdf",
                                 headers=api.as_applicant(app_id))
        assert download.status_code == 200 and download.content.startswith(b"%PDF")
    downloaded_on = local_date(now)
    deadline = add_working_days_from(CALENDAR, downloaded_on, days)[0]
    assert deadline > first_deadline
    view = await eventually(api, app_id, lambda s: "supplement-notice-served" in kinds(s))
    assert view["supplement"]["notice_served_on"] == downloaded_on.isoformat()
    assert view["supplement"]["deadline_on"] == deadline.isoformat()
    assert "申请人在线查看" in [e for e in view["timeline"] if e["kind"] == "supplement-notice-served"][0]["summary"]
    evidence = (await letters(api, app_id))["supplement"]["evidence"]
    assert evidence["downloaded_by"].startswith("申请人") and evidence["served_on"] == downloaded_on.isoformat()
    assert any(line.startswith("在线下载：申请人") for line in evidence["lines"])
    # A second download changes nothing.
    again = await api.get(f"/api/v1/portal/applications/{app_id}/letters/supplement.pdf", headers=api.as_applicant(app_id))
    assert again.status_code == 200
    assert (await state(api, app_id))["supplement"]["deadline_on"] == deadline.isoformat()
    # A supplement received by the moved deadline is in time (it would have been refused under the first one).
    await env.fast_forward(client.get_workflow_handle(app_id),
                           end_of_day_instant(first_deadline) - await workflow_now(env, client, app_id) + timedelta(hours=1))
    in_time = local_date(await workflow_now(env, client, app_id))
    assert in_time > first_deadline
    received = await act(api, app_id, "supplement", {"received_on": in_time.isoformat(), "by": "desk-chen"})
    assert received["status"] == "handling" and received["supplement"]["received_on"] == in_time.isoformat()
    assert "supplement-deadline-passed" not in kinds(received)
    await assert_replays(client, app_id)


@pytest.mark.dates
async def test_a_pickup_signature_is_recorded_and_delivers_the_reply(api):
    app_id = (await register(api, delivery_method="pickup"))["application_id"]
    on = today()  # the signed-for date the desk enters, and so the delivery date
    await through_review(api, app_id, {1: ("disclosed", "")})
    await act(api, app_id, "sign", {"by": "chief-liu"})
    await letter_row(api, app_id, "reply", lambda r: r["status"] == "awaiting-staff")
    unsigned = await serve(api, app_id, f"{app_id}:reply", {"method": "pickup", "served_on": on.isoformat()})
    assert unsigned.status_code == 422 and "签名领取人" in unsigned.json()["detail"]
    picked = await serve(api, app_id, f"{app_id}:reply", {"method": "pickup", "served_on": on.isoformat(),
                                                           "received_by": "张三"}, user="desk-chen")
    assert picked.status_code == 200, picked.text
    scan = await api.post(f"/api/v1/applications/{app_id}/letters/{app_id}:reply/receipt-scan",
                          files={"file": ("签收单.png", b"\x89PNG signed receipt", "image/png")},
                          headers=api.as_user("desk-chen"))
    assert scan.status_code == 200, scan.text
    evidence = scan.json()["evidence"]
    assert evidence["method"] == "pickup" and evidence["served_on"] == on.isoformat()
    assert evidence["received_by"] == "张三" and evidence["handed_over_by"] == "desk-chen"
    assert any(line.startswith(f"领取：{on}，张三 签收，经办人 desk-chen（desk-chen 于") for line in evidence["lines"])
    assert any(line.startswith("签收单扫描件已上传") for line in evidence["lines"])
    got = await api.get(f"/api/v1/applications/{app_id}/letters/{app_id}:reply/receipt-scan")
    assert got.status_code == 200 and got.content == b"\x89PNG signed receipt"
    closed = await eventually(api, app_id, lambda s: s["status"] == "closed")
    assert closed["delivered_on"] == on.isoformat()


@pytest.mark.dates
async def test_service_needs_a_date_and_only_staff_of_the_desk_or_the_handler_enter_it(api, anon):
    app_id = (await register(api, delivery_method="post"))["application_id"]
    on = today()
    await letter_row(api, app_id, "ack", lambda r: r["status"] == "awaiting-staff")
    empty = await serve(api, app_id, f"{app_id}:ack", {"method": "post"})
    assert empty.status_code == 422 and "交邮日期" in empty.json()["detail"]
    unknown = await serve(api, app_id, f"{app_id}:nothing", {"method": "post", "posted_on": on.isoformat()})
    assert unknown.status_code == 404
    reviewer = await serve(api, app_id, f"{app_id}:ack", {"method": "post", "posted_on": on.isoformat()},
                           user="reviewer-zhao")
    assert reviewer.status_code == 403
    nobody = await anon.post(f"/api/v1/applications/{app_id}/letters/{app_id}:ack/service",
                             json={"method": "post", "posted_on": on.isoformat()})
    assert nobody.status_code == 401
    signed = await serve(api, app_id, f"{app_id}:ack", {"method": "post", "posted_on": on.isoformat(),
                                                         "served_on": on.isoformat(), "received_by": "张三"})
    assert signed.status_code == 200 and signed.json()["status"] == "delivered"
    assert signed.json()["evidence"]["served_on"] == on.isoformat()


# --- the pure rule: a window counted from receipt (hypothesis) ------------------------------------

issued_days = st.dates(min_value=date(2025, 1, 1), max_value=date(2026, 11, 30))


@settings(max_examples=200, deadline=None)
@given(issued_days, st.integers(1, 60), st.integers(0, 40))
def test_a_window_counted_from_receipt_keeps_its_length_and_never_ends_before_the_one_from_issue(
        issued_on: date, days: int, delay: int) -> None:
    from_issue, _ = add_working_days_from(CALENDAR, issued_on, days)
    assert window_days_of(CALENDAR, issued_on, from_issue) == days  # the notice's count, read back from its date
    served_on = issued_on + timedelta(days=delay)
    from_receipt, _ = add_working_days_from(CALENDAR, served_on, days)
    assert from_receipt >= from_issue
    assert CALENDAR.workdays_between(CALENDAR.next_workday_on_or_after(served_on)[0], from_receipt)[0] == days
    if CALENDAR.next_workday_on_or_after(served_on)[0] == CALENDAR.next_workday_on_or_after(issued_on)[0]:
        assert from_receipt == from_issue  # received the day it was sent (e-mail): nothing moves
