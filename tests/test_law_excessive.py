"""Issue 11, point 8: Reg. 35 (条例第三十五条), on the real server with time skipping.

申请人申请公开政府信息的数量、频次明显超过合理范围，行政机关可以要求申请人说明理由。行政机关认为申请理由
不合理的，告知申请人不予处理；行政机关认为申请理由合理，但是无法在本条例第三十三条规定的期限内答复申请人的，
可以确定延迟答复的合理期限并告知申请人。
"""

from datetime import date, timedelta

from clock import local_date
from tests.helpers import act, eventually, mails_about, register, send_action
from contracts.application_view import ApplicationOutcome

GROUNDS = "同一申请人本月已提出政府信息公开申请 42 件，本申请含 60 项内容"


def kinds(view: dict) -> list[str]:
    return [e["kind"] for e in view["timeline"]]


def actions(view: dict) -> list[str]:
    return [a["action"] for a in view["pending_actions"]]


def chinese(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def letter_body(mailbox, app_id: str, subject_word: str) -> str:
    found = [m for m in mails_about(mailbox.envelopes, app_id) if subject_word in m["Subject"]]
    assert len(found) == 1, [m["Subject"] for m in mails_about(mailbox.envelopes, app_id)]
    return found[0].get_body(("plain",)).get_content()


async def test_no_reasons_by_the_deadline_then_not_processed_4_through_review_and_signature(env, api, client, mailbox):
    app_id = (await register(api))["application_id"]
    # 不予处理-4 is refused before the applicant was asked for reasons.
    early = await send_action(api, app_id, "decisions",
                              {"item_no": 1, "outcome": "not-processed-4", "reasons": "数量过多", "by": "wang"})
    assert early.status_code == 409 and "第三十五条" in early.json()["detail"]

    asked = await act(api, app_id, "reasons-request", {"grounds": GROUNDS, "by": "wang"})
    ex = asked["excessive"]
    assert ex["asked_on"] and ex["decision"] == "pending" and "explain-reasons" in actions(asked)
    # The reply period keeps running, and its explanation says so.
    assert any("第三十五条" in step and "继续计算" in step for step in asked["due"]["steps"])
    again = await send_action(api, app_id, "reasons-request", {"grounds": GROUNDS, "by": "wang"})
    assert again.status_code == 409 and "不能重复" in again.json()["detail"]
    await eventually(api, app_id, lambda s: kinds(s).count("letter-sent") >= 2)
    body = letter_body(mailbox, app_id, "说明申请理由告知书")
    # RULES §3 Service: the period runs from the request's receipt, and the letter says so (the e-mail's delivery
    # report, handed over at once by the session's relay, serves it).
    days = ex["service"]["days"]
    assert "第三十五条" in body and f"请您自收到本告知书之日起{days}个工作日内" in body and GROUNDS in body
    served = await eventually(api, app_id, lambda s: s["excessive"]["service"]["served_on"] is not None)
    reasons_by = date.fromisoformat(served["excessive"]["reasons_by"])

    # Before the deadline nobody can decide without reasons.
    not_yet = await send_action(api, app_id, "excessive-decision",
                                {"reasonable": False, "reason": "未说明理由", "by": "chief-liu"})
    assert not_yet.status_code == 409 and "尚未届满" in not_yet.json()["detail"]

    await env.fast_forward(client.get_workflow_handle(app_id), timedelta(days=30))
    lapsed = await eventually(api, app_id, lambda s: "reasons-deadline-passed" in kinds(s))
    assert "decide-excessive" in actions(lapsed) and lapsed["items"][0]["proposal"] is None
    handler_tries = await send_action(api, app_id, "excessive-decision",
                                      {"reasonable": False, "reason": "未说明理由", "by": "wang"})
    assert handler_tries.status_code == 403  # a supervisor decides
    no_reasons = await send_action(api, app_id, "excessive-decision",
                                   {"reasonable": True, "reason": "x" * 3, "period_until": "2099-01-01", "by": "chief-liu"})
    assert no_reasons.status_code == 409 and "未说明理由" in no_reasons.json()["detail"]

    decided = await act(api, app_id, "excessive-decision",
                        {"reasonable": False, "reason": "申请人逾期未说明理由", "by": "chief-liu"})
    assert decided["excessive"]["decision"] == "unreasonable"
    assert [i["proposal"]["outcome"] for i in decided["items"]] == ["not-processed-4"]
    await act(api, app_id, "submit", {"by": "wang"})
    await act(api, app_id, "review", {"approve": True, "by": "reviewer-zhao"})
    await act(api, app_id, "sign", {"by": "director-liu"})
    outcome = await client.get_workflow_handle(app_id, result_type=ApplicationOutcome).result()
    assert outcome.status == "closed" and [i.final_outcome for i in outcome.items] == ["not-processed-4"]
    reply = letter_body(mailbox, app_id, "答复")
    assert "第三十五条" in reply and f"您未在{reasons_by}前说明理由" in reply


async def test_reasonable_reasons_give_a_longer_period_with_its_notice_and_explanation(env, api, client, mailbox):
    app_id = (await register(api))["application_id"]
    asked = await act(api, app_id, "reasons-request", {"grounds": GROUNDS, "by": "wang"})
    today = local_date(await env.get_current_time(client.get_workflow_handle(app_id)))
    future = await send_action(api, app_id, "reasons", {"received_on": (today + timedelta(days=1)).isoformat(),
                                                        "reasons": "课题研究需要", "by": "desk-chen"})
    assert future.status_code == 409
    got = await act(api, app_id, "reasons", {"received_on": today.isoformat(),
                                             "reasons": "本人承担课题研究，需要历年分区县统计数据", "by": "desk-chen"})
    assert got["excessive"]["reasons_received_on"] == today.isoformat() and "decide-excessive" in actions(got)

    due_on = date.fromisoformat(asked["due"]["due_on"])
    too_short = await send_action(api, app_id, "excessive-decision",
                                  {"reasonable": True, "reason": "数据量大", "period_until": due_on.isoformat(),
                                   "by": "chief-liu"})
    assert too_short.status_code == 409 and "晚于" in too_short.json()["detail"]
    longer = due_on + timedelta(days=30)
    decided = await act(api, app_id, "excessive-decision",
                        {"reasonable": True, "reason": "需从历年档案中逐项检索整理", "period_until": longer.isoformat(),
                         "by": "chief-liu"})
    assert decided["due"]["due_on"] == longer.isoformat()
    steps = decided["due"]["steps"]
    assert any("第三十五条" in s and f"按上述计算答复期限为 {due_on.isoformat()}" in s and longer.isoformat() in s
               for s in steps), steps
    assert "decide-excessive" not in actions(decided) and decided["items"][0]["proposal"] is None
    # The agency judged the reasons reasonable: 不予处理-4 is no longer open to the handler.
    refused = await send_action(api, app_id, "decisions",
                                {"item_no": 1, "outcome": "not-processed-4", "reasons": "数量过多", "by": "wang"})
    assert refused.status_code == 409
    await eventually(api, app_id, lambda s: kinds(s).count("letter-sent") >= 3)
    notice = letter_body(mailbox, app_id, "延迟答复告知书")
    assert "第三十五条" in notice and f"将于{chinese(longer)}（含当日）前作出答复" in notice
    # The reminder and overdue timers follow the longer period: one overdue alert, at the longer date only.
    await env.fast_forward(client.get_workflow_handle(app_id), timedelta(days=(longer - today).days + 2))
    later = await eventually(api, app_id, lambda s: "overdue" in kinds(s))
    overdue = [e["summary"] for e in later["timeline"] if e["kind"] == "overdue"]
    assert len(overdue) == 1 and longer.isoformat() in overdue[0]
    reminders = [e["summary"] for e in later["timeline"] if e["kind"] == "reminder"]
    assert reminders and all(longer.isoformat() in r for r in reminders)
