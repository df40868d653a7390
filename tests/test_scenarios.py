"""The paths of RULES §3-§6 on the real server; time-dependent ones fast-forward the workflow's clock."""

from datetime import date, timedelta

from sqlmodel import Session, select

from clock import local_date
from db.models import StaffAlert
from tests.helpers import act, eventually, today, listed_row, mails_about, register, send_action, state, through_review
from workcalendar import WorkCalendar, load_calendar_data
from contracts.application_view import ApplicationOutcome
import pytest


# Date-sensitive: the Makefile runs this module again with the clock pinned (tests/dates.py).
pytestmark = pytest.mark.dates

CALENDAR = WorkCalendar(load_calendar_data())


def workdays_between(a: str, b: str) -> int:
    return CALENDAR.workdays_between(date.fromisoformat(a), date.fromisoformat(b))[0]


async def workflow_today(env, client, app_id: str) -> date:
    return local_date(await env.get_current_time(client.get_workflow_handle(app_id)))


async def test_deadline_across_spring_festival_2026(api):
    created = await register(api, received_on="2026-02-13")
    # Fri 13 Feb is day 0; Sat 14 Feb works (调休); 15-23 Feb off; Sat 28 Feb works: the 15th working day is Thu 12 Mar.
    assert created["due_on"] == "2026-03-12"
    assert not created["due_provisional"]
    view = await state(api, created["application_id"])
    assert view["due"]["due_on"] == "2026-03-12"
    assert view["due"]["calendar_version"] == created["calendar_version"]


async def test_deadline_across_national_day_2026(api):
    created = await register(api, received_on="2026-09-18", channel="letter-registered", delivery_method="post")
    # Sun 20 Sep works (调休); 1-7 Oct off; Sat 10 Oct works: the 15th working day after Fri 18 Sep is Thu 15 Oct.
    assert created["due_on"] == "2026-10-15"


async def test_supplement_restarts_the_period(env, api, client, mailbox):
    created = await register(api)
    app_id = created["application_id"]
    created_view = await state(api, app_id)
    asked = await act(api, app_id, "supplement-request",
                      {"needed": ["请写明所需信息的文号", "请提供身份证明复印件"], "by": "wang"})
    assert asked["status"] == "awaiting-supplement" and asked["due"] is None
    # The acknowledgment and the notice: both sent (waiting for the first alone races the notice).
    await eventually(api, app_id, lambda s: sum(e["kind"] == "letter-sent" for e in s["timeline"]) >= 2)
    notice = [m for m in mails_about(mailbox.envelopes, app_id) if "补正" in m["Subject"]]
    assert len(notice) == 1 and "视为放弃" in notice[0].get_body(("plain",)).get_content()

    # The supplement arrives on a day whose period starts after the original one's day 0, whatever the
    # day of registration (a receipt on a holiday counts from the next working day, RULES §3).
    first_start = date.fromisoformat(created_view["due"]["start_on"])
    later, _ = CALENDAR.next_workday_on_or_after(first_start + timedelta(days=1))
    days = max(1, (later - await workflow_today(env, client, app_id)).days)
    await env.fast_forward(client.get_workflow_handle(app_id), timedelta(days=days))
    supplemented_on = await workflow_today(env, client, app_id)
    assert supplemented_on >= later
    resumed = await act(api, app_id, "supplement", {"received_on": supplemented_on.isoformat(), "by": "desk-chen"})
    assert resumed["status"] == "handling"
    # The period starts again from the day the supplement arrived.
    assert resumed["due"]["due_on"] > created["due_on"]
    start = resumed["due"]["start_on"]
    assert start >= supplemented_on.isoformat()
    assert workdays_between(start, resumed["due"]["due_on"]) == 15


async def test_extension_approved_moves_the_due_date_and_tells_the_applicant(api, mailbox):
    created = await register(api)
    app_id = created["application_id"]
    await act(api, app_id, "extension-request", {"days": 10, "reason": "需要调取档案", "by": "wang"})
    approved = await act(api, app_id, "extension-decision", {"approve": True, "by": "chief-liu"})
    assert approved["extension"]["decision"] == "approved"
    assert workdays_between(created["due_on"], approved["due"]["due_on"]) == 10
    await eventually(api, app_id, lambda s: sum(e["kind"] == "letter-sent" for e in s["timeline"]) >= 2)
    notice = [m for m in mails_about(mailbox.envelopes, app_id) if "延期" in m["Subject"]]
    assert len(notice) == 1
    assert f"{date.fromisoformat(approved['due']['due_on']).month}月" in notice[0].get_body(("plain",)).get_content()


async def test_extension_refused_keeps_the_due_date(api):
    created = await register(api)
    app_id = created["application_id"]
    await act(api, app_id, "extension-request", {"days": 5, "reason": "工作量大", "by": "wang"})
    refused = await act(api, app_id, "extension-decision", {"approve": False, "comment": "理由不充分", "by": "chief-liu"})
    assert refused["due"]["due_on"] == created["due_on"]
    assert refused["extension"]["decision"] == "refused"
    assert "extension-refused" in [e["kind"] for e in refused["timeline"]]


async def test_third_party_objection_means_withheld_4(api, mailbox):
    app_id = (await register(api, items=[{"description": "某企业2025年统计执法检查中提交的财务报表"}]))["application_id"]
    consulting = await act(api, app_id, "consultations", {
        "consultee": {"kind": "third-party", "name": "某某有限公司", "email": "legal@company.example.cn"},
        "item_nos": [1], "by": "wang"})
    assert consulting["status"] == "consulting"
    sent = await eventually(api, app_id, lambda s: len(s["paused_intervals"]) == 1)  # stopped on dispatch
    assert sent["paused_intervals"][0]["ended_on"] is None
    consultation_id = consulting["consultations"][0]["consultation_id"]
    early = await act(api, app_id, "decisions", {"item_no": 1, "outcome": "withheld-4", "reasons": "x", "by": "wang"},
                      expect=409)
    assert "第 1 项正在征求意见，须待答复或期限届满后再作决定" in early["detail"]

    letter = (await api.get(f"/api/v1/consultations/{consultation_id}")).json()
    assert letter["item_descriptions"] == ["某企业2025年统计执法检查中提交的财务报表"]
    answered = await api.post(f"/api/v1/consultations/{consultation_id}/answer",
                              json={"position": "objection", "reasons": "涉及商业秘密"}, headers=api.as_user("desk-chen"))
    assert answered.status_code == 200, answered.text
    after = await eventually(api, app_id, lambda s: s["status"] == "handling")
    assert after["items"][0]["objection_from"] == [consultation_id]

    refused = await send_action(api, app_id, "decisions", {"item_no": 1, "outcome": "disclosed", "by": "wang"})
    assert refused.status_code == 409 and "不予公开-4" in refused.json()["detail"]
    await through_review(api, app_id, {1: ("withheld-4", "第三方不同意公开，公开会损害其合法权益")})
    await act(api, app_id, "sign", {"by": "chief-liu"})
    await eventually(api, app_id, lambda s: s["status"] == "closed")
    reply = [m for m in mails_about(mailbox.envelopes, app_id) if "答复" in m["Subject"]]
    assert "保护第三方合法权益" in reply[0].get_body(("plain",)).get_content()
    assert any("征询" in m["Subject"] or "征求" in m["Subject"] for m in mails_about(mailbox.envelopes, app_id))


async def test_public_interest_override_discloses_and_notifies_the_third_party(api, mailbox):
    app_id = (await register(api, items=[{"description": "某化工企业排污监测数据"}]))["application_id"]
    consulting = await act(api, app_id, "consultations", {
        "consultee": {"kind": "third-party", "name": "某化工有限公司", "email": "ehs@chem.example.cn"},
        "item_nos": [1], "by": "wang"})
    consultation_id = consulting["consultations"][0]["consultation_id"]
    await api.post(f"/api/v1/consultations/{consultation_id}/answer",
                   json={"position": "objection", "reasons": "影响企业声誉"}, headers=api.as_user("desk-chen"))
    await eventually(api, app_id, lambda s: s["status"] == "handling")
    overridden = await act(api, app_id, "override", {
        "consultation_id": consultation_id, "reason": "涉及公众健康，不公开会对公共利益造成重大影响", "by": "chief-liu"})
    assert overridden["items"][0]["overridden"] is True
    await act(api, app_id, "decisions", {"item_no": 1, "outcome": "disclosed", "by": "wang"})
    await eventually(api, app_id, lambda s: "letter-sent" in kinds_after(s, "objection-overridden"))
    to_third_party = [m for m in mailbox_messages_to(mailbox, "ehs@chem.example.cn") if app_id in m.get_body(("plain",)).get_content()]
    assert any("公共利益" in m.get_body(("plain",)).get_content() for m in to_third_party)


def kinds_after(view: dict, kind: str) -> list[str]:
    kinds = [e["kind"] for e in view["timeline"]]
    return kinds[kinds.index(kind) + 1:] if kind in kinds else []


def mailbox_messages_to(mailbox, address: str):
    from email import message_from_bytes, policy
    return [message_from_bytes(e.original_content, policy=policy.default)
            for e in mailbox.envelopes if address in e.rcpt_tos]


async def record_posted_letter(api, consultation_id: str) -> None:
    """The registrar records a posted consultation letter: handed to the post and signed for today."""
    response = await api.post(f"/api/v1/consultations/{consultation_id}/service", headers=api.as_user("desk-chen"),
                              json={"dispatched_on": today().isoformat(), "served_on": today().isoformat()})
    assert response.status_code == 200, response.text


async def test_silence_pauses_the_clock_for_the_whole_window(env, api, client):
    created = await register(api)
    app_id = created["application_id"]
    consulting = await act(api, app_id, "consultations", {
        "consultee": {"kind": "third-party", "name": "李四", "address": "福州市某路3号"}, "item_nos": [1], "by": "wang"})
    cid = consulting["consultations"][0]["consultation_id"]
    await record_posted_letter(api, cid)
    sent = await eventually(api, app_id, lambda s: s["consultations"][0]["served_on"] is not None)
    consultation = sent["consultations"][0]
    assert sent["due"]["projected"] is True
    await env.fast_forward(client.get_workflow_handle(cid), timedelta(days=30))
    after = await eventually(api, app_id, lambda s: s["consultations"][0]["position"] != "pending")
    assert after["consultations"][0]["position"] == "silence"
    assert after["paused_intervals"][0]["ended_on"] == consultation["window_ends_on"]
    # Every working day of the 15-working-day window is excluded from the reply period.
    assert workdays_between(created["due_on"], after["due"]["due_on"]) == 15
    assert "silence" in after["consultations"][0]["position"]


async def test_agency_silence_counts_as_consent(env, api, client):
    app_id = (await register(api))["application_id"]
    consulting = await act(api, app_id, "consultations", {
        "consultee": {"kind": "agency", "name": "市发展和改革委员会"}, "item_nos": [1], "by": "wang"})
    cid = consulting["consultations"][0]["consultation_id"]
    await record_posted_letter(api, cid)
    await eventually(api, app_id, lambda s: s["consultations"][0]["served_on"] is not None)
    await env.fast_forward(client.get_workflow_handle(cid), timedelta(days=30))
    after = await eventually(api, app_id, lambda s: s["status"] == "handling")
    assert "视为同意" in after["timeline"][-1]["summary"]
    await act(api, app_id, "decisions", {"item_no": 1, "outcome": "disclosed", "by": "wang"})


async def test_overdue_is_escalated_and_the_application_keeps_going(env, api, client, engine):
    created = await register(api)
    app_id = created["application_id"]
    handle = client.get_workflow_handle(app_id, result_type=ApplicationOutcome)
    await env.fast_forward(handle, timedelta(days=40))
    late = await eventually(api, app_id, lambda s: s["overdue"])
    kinds = [e["kind"] for e in late["timeline"]]
    assert kinds.index("reminder") < kinds.index("overdue")
    with Session(engine) as session:
        alerts = session.exec(select(StaffAlert).where(StaffAlert.application_id == app_id)).all()
    assert {(a.kind, a.role) for a in alerts} == {("reminder", "handler"), ("overdue", "supervisor")}
    row = await listed_row(api, app_id, lambda r: r["overdue"], overdue="true")
    assert row["status"] == "handling"

    await through_review(api, app_id, {1: ("disclosed", "")})
    await act(api, app_id, "sign", {"by": "chief-liu"})
    outcome = await handle.result()
    assert outcome.status == "closed" and outcome.on_time is False


async def test_several_items_get_one_unified_reply(api, mailbox, engine):
    app_id = (await register(api, items=[
        {"description": "2025年统计公报"},
        {"description": "2025年统计执法检查内部讨论记录"},
        {"description": "某区2025年房价统计原始数据"},
    ]))["application_id"]
    await through_review(api, app_id, {
        1: ("disclosed", ""),
        2: ("withheld-6", "属于内部讨论记录，为过程性信息"),
        3: ("unavailable-1", "本机关不掌握该信息"),
    })
    await act(api, app_id, "sign", {"by": "chief-liu"})
    closed = await eventually(api, app_id, lambda s: s["status"] == "closed")
    assert [i["final_outcome"] for i in closed["items"]] == ["disclosed", "withheld-6", "unavailable-1"]
    replies = [m for m in mails_about(mailbox.envelopes, app_id) if "答复" in m["Subject"]]
    assert len(replies) == 1
    body = replies[0].get_body(("plain",)).get_content()
    for label in ("予以公开", "属于四类过程性信息", "本机关不掌握相关政府信息"):
        assert label in body
    row = await listed_row(api, app_id, lambda r: r["status"] == "closed")
    assert row["final_outcome"] == "partly-disclosed"


async def test_withdrawal_closes_the_application(api, client):
    app_id = (await register(api))["application_id"]
    withdrawn = await act(api, app_id, "withdraw", {"reason": "已通过其他途径获取", "by": "applicant"})
    assert withdrawn["status"] == "withdrawn"
    outcome = await client.get_workflow_handle(app_id, result_type=ApplicationOutcome).result()
    assert outcome.status == "withdrawn"
    refused = await send_action(api, app_id, "decisions", {"item_no": 1, "outcome": "disclosed", "by": "wang"})
    assert refused.status_code == 409 and "本申请已撤回" in refused.json()["detail"], refused.text
