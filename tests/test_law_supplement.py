"""Issue 11, points 5 and 6 on the real server: a lapsed supplement deadline closes nothing by itself (Reg. 30),
and the letters the acknowledgment promises are sent.

The handler is told; the handler or supervisor decides: a good reason (正当理由) gives a new deadline,
otherwise 其他处理-1, whose reply goes through review and signature like any other. A supplement that
arrived by the deadline but is entered later counts by its evidenced receipt date.
"""

from datetime import date, timedelta

from sqlmodel import Session, select

from clock import local_date
from db.models import StaffAlert
from tests.helpers import act, email_served, eventually, mails_about, register, send_action
from contracts.application_view import ApplicationOutcome


def kinds(view: dict) -> list[str]:
    return [e["kind"] for e in view["timeline"]]


def actions(view: dict) -> list[str]:
    return [a["action"] for a in view["pending_actions"]]


async def lapsed_application(env, api, client, mailbox) -> tuple[str, dict]:
    """An application whose supplement deadline passed 40 days ago with nothing entered."""
    app_id = (await register(api))["application_id"]
    asked = await act(api, app_id, "supplement-request", {"needed": ["请明确所需信息的时间范围"], "by": "wang"})
    await email_served(api, mailbox, f"{app_id}:supplement")  # RULES §3: the deadline runs from the proven receipt
    await eventually(api, app_id, lambda s: s["supplement"]["notice_served_on"] is not None)
    await env.fast_forward(client.get_workflow_handle(app_id), timedelta(days=40))
    lapsed = await eventually(api, app_id, lambda s: "supplement-deadline-passed" in kinds(s))
    return app_id, {"asked": asked, "lapsed": lapsed}


async def workflow_today(env, client, app_id: str) -> date:
    return local_date(await env.get_current_time(client.get_workflow_handle(app_id)))


async def test_lapsed_deadline_is_decided_by_a_person_and_the_reply_is_reviewed_and_signed(env, api, client, engine, mailbox):
    app_id, seen = await lapsed_application(env, api, client, mailbox)
    lapsed = seen["lapsed"]
    # Nothing closed by itself: still awaiting the supplement, the handler asked to decide and alerted.
    assert lapsed["status"] == "awaiting-supplement" and lapsed["items"][0]["final_outcome"] is None
    assert "decide-supplement-lapse" in actions(lapsed) and "abandoned" not in kinds(lapsed)
    with Session(engine) as session:
        alerts = session.exec(select(StaffAlert).where(StaffAlert.application_id == app_id)).all()
    assert ("supplement-deadline", "handler") in {(a.kind, a.role) for a in alerts}
    # A supplement dated after the deadline needs a new deadline first.
    late = await send_action(api, app_id, "supplement",
                             {"received_on": (await workflow_today(env, client, app_id)).isoformat(), "by": "desk-chen"})
    assert late.status_code == 409 and "正当理由" in late.json()["detail"]

    decided = await act(api, app_id, "supplement-lapse",
                        {"justified": False, "reason": "申请人未说明任何理由", "by": "chief-liu"})
    assert decided["status"] == "handling" and decided["due"] is None
    assert [i["proposal"]["outcome"] for i in decided["items"]] == ["other-1"]
    assert decided["items"][0]["final_outcome"] is None  # not final until signed
    refused = await send_action(api, app_id, "decisions", {"item_no": 1, "outcome": "disclosed", "by": "wang"})
    assert refused.status_code == 409
    await act(api, app_id, "submit", {"by": "wang"})
    await act(api, app_id, "review", {"approve": True, "by": "reviewer-zhao"})
    # Issue 24 point 8: the handler drafts 其他处理-1 from the supervisor's decision; drafter and signer differ, so the
    # supervisor who decided may sign it (the drafter may not: the signature is a supervisor's).
    assert decided["items"][0]["proposal"]["by"] == "wang" and decided["items"][0]["proposal"]["decided_by"] == "chief-liu"
    await act(api, app_id, "sign", {"by": "chief-liu"})
    outcome = await client.get_workflow_handle(app_id, result_type=ApplicationOutcome).result()
    assert outcome.status == "closed" and [i.final_outcome for i in outcome.items] == ["other-1"]
    replies = [m for m in mails_about(mailbox.envelopes, app_id) if "答复" in m["Subject"]]
    assert len(replies) == 1
    body = replies[0].get_body(("plain",)).get_content()
    assert "申请人无正当理由逾期不补正" in body and "无正当理由逾期未补正（申请人未说明任何理由）" in body


async def test_a_good_reason_gives_a_new_deadline_and_a_new_notice(env, api, client, mailbox):
    app_id, seen = await lapsed_application(env, api, client, mailbox)
    today = await workflow_today(env, client, app_id)
    past = await send_action(api, app_id, "supplement-lapse",
                             {"justified": True, "reason": "申请人住院", "new_deadline_on": today.isoformat(), "by": "chief-liu"})
    assert past.status_code == 409
    # Reg. 30 合理的补正期限: a renewed deadline gives the agency's minimum of working days too (issue 24 point 10).
    short = await send_action(api, app_id, "supplement-lapse", {"justified": True, "reason": "申请人住院",
                                                               "new_deadline_on": (today + timedelta(days=3)).isoformat(),
                                                               "by": "chief-liu"})
    assert short.status_code == 409 and "至少 10 个工作日" in short.json()["detail"]
    new_deadline = today + timedelta(days=20)
    renewed = await act(api, app_id, "supplement-lapse", {"justified": True, "reason": "申请人住院治疗，无法按期补正",
                                                           "new_deadline_on": new_deadline.isoformat(), "by": "chief-liu"})
    assert renewed["status"] == "awaiting-supplement"
    assert renewed["supplement"]["deadline_on"] == new_deadline.isoformat()
    assert renewed["supplement"]["earlier_deadlines"] == [seen["asked"]["supplement"]["deadline_on"]]
    assert actions(renewed) == ["supplement"]
    await eventually(api, app_id, lambda s: kinds(s).count("letter-sent") >= 3)
    notices = [m for m in mails_about(mailbox.envelopes, app_id) if "补正" in m["Subject"]]
    # RULES §3 Service: the renewed period runs from the new notice's receipt, and the letter says so.
    days = renewed["supplement"]["window_days"]
    assert len(notices) == 2 and f"请自收到本告知书之日起{days}个工作日内向本机关提交补正材料" in \
        notices[-1].get_body(("plain",)).get_content()
    resumed = await act(api, app_id, "supplement", {"received_on": today.isoformat(), "by": "desk-chen"})
    assert resumed["status"] == "handling" and resumed["due"]["start_on"] >= today.isoformat()


async def test_a_supplement_received_by_the_deadline_but_entered_later_counts_by_its_receipt_date(env, api, client, mailbox):
    app_id, seen = await lapsed_application(env, api, client, mailbox)
    deadline = seen["asked"]["supplement"]["deadline_on"]
    # Already decided as abandoned; then the registrar finds the postmarked envelope.
    await act(api, app_id, "supplement-lapse", {"justified": False, "reason": "未收到补正", "by": "wang"})
    no_evidence = await send_action(api, app_id, "supplement", {"received_on": deadline, "by": "desk-chen"})
    assert no_evidence.status_code == 409 and "凭据" in no_evidence.json()["detail"]
    entered = await act(api, app_id, "supplement", {"received_on": deadline, "evidence": "挂号信签收单，签收日期为补正期限当日",
                                                    "by": "desk-chen"})
    assert entered["status"] == "handling" and entered["items"][0]["proposal"] is None
    assert entered["supplement"]["received_on"] == deadline
    assert entered["supplement"]["received_evidence"].startswith("挂号信签收单")
    # The period restarts from the evidenced receipt date, not from the day it was entered.
    assert entered["due"]["start_on"] >= deadline and entered["due"]["start_on"] < \
        (await workflow_today(env, client, app_id)).isoformat()
    await act(api, app_id, "decisions", {"item_no": 1, "outcome": "disclosed", "by": "wang"})


def chinese(day: str) -> str:
    d = date.fromisoformat(day)
    return f"{d.year}年{d.month}月{d.day}日"


async def test_the_letters_the_acknowledgment_promises_are_sent_when_it_happens(api, mailbox):
    """Point 6 on the real server: the acknowledgment promises a written notice of a restart (supplement, Reg. 30)
    and of an extension (Reg. 33), and each is mailed when it happens; a consultation's pause (Reg. 32, 34) is
    promised no letter, and none is sent to the applicant."""
    address = "promises@kept.example.cn"
    registered = await register(api, applicant={"name": "孙八", "type": "natural-person", "email": address},
                                items=[{"description": "某公司2025年报送的统计报表"}])
    app_id = registered["application_id"]

    def letters_to_applicant(count: int) -> list[list[str]]:
        mails = mails_about([e for e in mailbox.envelopes if address in e.rcpt_tos], app_id)
        assert len(mails) == count, [m["Subject"] for m in mails]
        return [m.get_body(("plain",)).get_content().split("\n\n") for m in mails]

    async def mailed(count: int) -> list[list[str]]:
        await eventually(api, app_id, lambda s: [e["kind"] for e in s["timeline"]].count("letter-sent") >= count)
        return letters_to_applicant(count)

    ack = (await mailed(1))[0]
    assert ack[1] == "政府信息公开申请登记回执"
    assert ack[5] == (
        f"本机关将依法于{chinese(registered['due_on'])}（含当日）前作出答复。需要您补正申请内容的，答复期限自本机关收到补正后的"
        "申请之日起重新计算；经批准延长答复期限的，答复期限相应延长；以上情形本机关将另行书面告知。"
        "征求第三方或者其他机关意见所需时间，不计算在答复期限内。")

    # The restart: the supplement notice is mailed and says the period restarts from the supplement.
    asked = await act(api, app_id, "supplement-request", {"needed": ["请写明报表的名称和报送年度"], "by": "wang"})
    notice = (await mailed(2))[1]
    assert notice[1] == "补正申请告知书"
    assert (f"请自收到本告知书之日起{asked['supplement']['window_days']}个工作日内向本机关提交补正材料。"
            "答复期限自本机关收到补正后的申请之日起重新计算。") in notice
    restarted = await act(api, app_id, "supplement", {"received_on": asked["as_of"], "by": "desk-chen"})
    assert restarted["status"] == "handling"

    # The pause: a consultation sends the consultee a letter, and the applicant none (none was promised).
    await act(api, app_id, "consultations", {
        "consultee": {"kind": "third-party", "name": "某贸易有限公司", "email": "legal@promise.example.cn"},
        "item_nos": [1], "by": "wang"})
    # The clock stops on the letter's dispatch (our relay accepted it), before any proof of its receipt.
    paused = await eventually(api, app_id, lambda s: s["consultations"][0]["sent_on"] is not None)
    assert paused["paused_intervals"] and [e for e in mailbox.envelopes if "legal@promise.example.cn" in e.rcpt_tos]
    letters_to_applicant(2)
    answered = await api.post(f"/api/v1/consultations/{paused['consultations'][0]['consultation_id']}/answer",
                              json={"position": "consent"}, headers=api.as_user("desk-chen"))
    assert answered.status_code == 200, answered.text
    await eventually(api, app_id, lambda s: s["consultations"][0]["position"] == "consent")

    # The extension: approved, then mailed with its length and the new date.
    await act(api, app_id, "extension-request", {"days": 5, "reason": "需要调取档案", "by": "wang"})
    extended = await act(api, app_id, "extension-decision", {"approve": True, "by": "chief-liu"})
    extension = (await mailed(3))[2]  # exactly three: the consultation added none
    assert extension[1] == "延期答复告知书"
    assert extension[5] == ("根据《中华人民共和国政府信息公开条例》第三十三条第二款的规定，经本机关政府信息公开工作机构负责人同意，"
                            f"答复期限延长5个工作日，本机关将于{chinese(extended['due']['due_on'])}（含当日）前作出答复。")
