"""Every staff action over HTTP: what a clerk sees when it works, and the refusals they hit.

A refusal is 409 with a Chinese reason that names the rule, and leaves the application exactly as
it was (live state and recorded events compared before and after). Bad input is 422 before the
workflow is asked. All on the real Temporal server in real time: one application per scenario.
"""

import asyncio
import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest

from tests.helpers import (
    act, add_staff, eventually, listed_row, mails_about, register, send_action, since, state, through_review, today,
)

LETTER_CAUSES = {
    "registered", "supplement-requested", "extension-approved", "objection-overridden", "signed", "abandoned",
}
LETTER_RESULTS = {"letter-sent", "letter-awaiting-staff", "letter-failed"}
# The view fields a refused action must not touch (as_of and working_days_left follow the wall clock).
CLOCK_FIELDS = {"as_of", "working_days_left"}


def kinds(view: dict[str, Any]) -> list[str]:
    return [e["kind"] for e in view["timeline"]]


def actions(view: dict[str, Any]) -> list[str]:
    return [a["action"] for a in view["pending_actions"]]


def letters_settled(view: dict[str, Any]) -> bool:
    timeline = kinds(view)
    return sum(k in LETTER_RESULTS for k in timeline) >= sum(k in LETTER_CAUSES for k in timeline)


async def settled(api: httpx.AsyncClient, app_id: str) -> dict[str, Any]:
    """The live state once every letter sent so far has been recorded (nothing moves in the background)."""
    return await eventually(api, app_id, letters_settled)


async def snapshot(api: httpx.AsyncClient, app_id: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Live state and recorded events, once letters are recorded and the database has caught up."""
    for _ in range(100):
        view = await settled(api, app_id)
        response = await api.get(f"/api/v1/applications/{app_id}/events")
        events = response.json() if response.status_code == 200 else []
        if [(e["seq"], e["kind"]) for e in events] == [(e["seq"], e["kind"]) for e in view["timeline"]]:
            return {k: v for k, v in view.items() if k not in CLOCK_FIELDS}, events
        await asyncio.sleep(0.1)
    raise AssertionError(f"recorded events never caught up with the timeline of {app_id}")


async def refused(
    api: httpx.AsyncClient, app_id: str, action: str, body: dict[str, Any], *reason: str, expect: int = 409
) -> str:
    """POST an action that must be refused; the reason must be named and nothing may change."""
    before = await snapshot(api, app_id)
    response = await send_action(api, app_id, action, body)
    assert response.status_code == expect, response.text
    detail = response.json()["detail"]
    text = detail if isinstance(detail, str) else str(detail)
    for phrase in reason:
        assert phrase in text, f"{action}: {phrase!r} not in {text!r}"
    assert await snapshot(api, app_id) == before, f"{action} was refused but changed the application"
    return text


async def answer(api: httpx.AsyncClient, consultation_id: str, body: dict[str, Any]) -> httpx.Response:
    return await api.post(f"/api/v1/consultations/{consultation_id}/answer", json=body, headers=api.as_user("desk-chen"))


async def deadline(api: httpx.AsyncClient, received: str, days: int) -> dict[str, Any]:
    response = await api.get("/api/v1/calendar/deadline", params={"received": received, "days": days})
    assert response.status_code == 200, response.text
    return response.json()


def post_body(**overrides: Any) -> dict[str, Any]:
    """Reply by post: the application waits for staff to confirm delivery instead of closing by itself."""
    return {"delivery_method": "post", **overrides}


def valid_bodies() -> dict[str, dict[str, Any]]:
    """A valid body of every action, dated on the tests' clock when called (not at import: before the pin)."""
    return {
        "assign": {"handler": "li", "by": "desk-chen"},
        "supplement-request": {"needed": ["请写明文号"], "by": "wang"},
        "supplement": {"received_on": today().isoformat(), "by": "desk-chen"},
        "extension-request": {"days": 5, "reason": "需要调取档案", "by": "wang"},
        "extension-decision": {"approve": True, "by": "chief-liu"},
        "consultations": {"consultee": {"kind": "third-party", "name": "某公司"}, "item_nos": [1], "by": "wang"},
        "override": {"consultation_id": "x.consult-1", "reason": "涉及重大公共利益", "by": "chief-liu"},
        "decisions": {"item_no": 1, "outcome": "disclosed", "by": "wang"},
        "submit": {"by": "wang"},
        "review": {"approve": True, "by": "reviewer-zhao"},
        "sign": {"by": "chief-liu"},
        "delivery": {"delivered_on": today().isoformat(), "method": "post", "by": "desk-chen"},
        "withdraw": {"reason": "不再需要", "by": "applicant"},
    }


# --- unknown application, bad input ----------------------------------------------------------


async def test_unknown_application_is_404_for_reads_and_every_action(api):
    missing = f"GK-NOPE-{uuid.uuid4().hex[:6]}"
    for path in (f"/api/v1/applications/{missing}", f"/api/v1/applications/{missing}/events"):
        response = await api.get(path)
        assert response.status_code == 404, (path, response.text)
        assert missing in response.json()["detail"]
    for action, body in valid_bodies().items():
        if body.get("by") == "applicant":
            continue  # the applicant's own endpoint: a wrong number is the same 404 as a wrong code (test_security)
        response = await send_action(api, missing, action, body)
        assert response.status_code == 404, (action, response.text)
        assert "没有编号为" in response.json()["detail"], action


async def test_malformed_action_bodies_are_422_and_change_nothing(api):
    app_id = (await register(api))["application_id"]
    before = await snapshot(api, app_id)
    bad: list[tuple[str, dict[str, Any]]] = []
    for action, body in valid_bodies().items():
        bad.append((action, body | {"signed_by_mistake": True}))  # unknown field
        if "by" in body and action != "withdraw":
            # who did it comes from the token: naming someone in the body is refused (mass assignment)
            bad.append((action, body | {"by_in_body": True}))
    bad += [
        ("decisions", {"item_no": 1, "outcome": "published", "by": "wang"}),  # unknown outcome code
        ("decisions", {"outcome": "disclosed", "by": "wang"}),  # no item
        ("supplement-request", {"needed": [], "by": "wang"}),  # one notice listing everything: not nothing
        ("supplement", {"received_on": "昨天", "by": "desk-chen"}),
        ("extension-request", {"days": 0, "reason": "需要调取档案", "by": "wang"}),
        ("extension-request", {"days": 5, "by": "wang"}),  # no reason
        ("extension-decision", {"by": "chief-liu"}),
        ("consultations", {"consultee": {"kind": "neighbour", "name": "某公司"}, "item_nos": [1], "by": "wang"}),
        ("consultations", {"consultee": {"kind": "third-party", "name": "某公司"}, "item_nos": [], "by": "wang"}),
        ("consultations", {"consultee": {"kind": "third-party", "name": "某公司", "email": "不是邮箱"},
                           "item_nos": [1], "by": "wang"}),
        ("override", {"consultation_id": "x.consult-1", "reason": "", "by": "chief-liu"}),
        ("review", {"by": "reviewer-zhao"}),
        ("delivery", {"delivered_on": today().isoformat(), "method": "pigeon", "by": "desk-chen"}),
        ("delivery", {"method": "post", "by": "desk-chen"}),
    ]
    for action, body in bad:
        if body.pop("by_in_body", False):
            response = await api.post(f"/api/v1/applications/{app_id}/{action}", json=body,
                                      headers=api.as_user(body["by"]))
        else:
            response = await send_action(api, app_id, action, body)
        assert response.status_code == 422, (action, body, response.text)
    assert await snapshot(api, app_id) == before


# --- assign -----------------------------------------------------------------------------------


async def test_assign_names_the_handler_and_clears_the_to_do(api):
    handler = add_staff(api, f"li-{uuid.uuid4().hex[:6]}", ["handler"], "综合统计科")
    app_id = (await register(api, handler=None, department=None))["application_id"]
    view = await state(api, app_id)
    assert view["handler"] is None and "assign" in actions(view)

    assigned = await act(api, app_id, "assign", {"handler": handler, "department": "综合统计科", "by": "desk-chen"})
    assert assigned["handler"] == handler and assigned["department"] == "综合统计科"
    assert "assign" not in actions(assigned) and "propose-decision" in actions(assigned)
    assert kinds(assigned)[-1] == "assigned" and handler in assigned["timeline"][-1]["summary"]
    # The list is the database copy, written in the background (issue 12 point 4): it catches up.
    await listed_row(api, app_id, lambda row: row["handler"] == handler, handler=handler)


async def test_assign_refused_once_the_reply_is_signed(api):
    app_id = (await register(api, **post_body()))["application_id"]
    await through_review(api, app_id, {1: ("disclosed", "")})
    await act(api, app_id, "sign", {"by": "chief-liu"})
    await refused(api, app_id, "assign", {"handler": "li", "by": "desk-chen"}, "答复已签发")


# --- supplement (补正) --------------------------------------------------------------------------


@pytest.mark.dates
async def test_supplement_is_one_notice_and_restarts_the_period(api):
    first = today()
    created = await register(api)
    app_id = created["application_id"]
    await refused(api, app_id, "supplement-request",
                  {"needed": ["请写明文号"], "deadline_on": today().isoformat(), "by": "wang"}, "补正期限须晚于今天")
    await refused(api, app_id, "supplement", {"received_on": today().isoformat(), "by": "desk-chen"}, "没有待补正")

    asked = await act(api, app_id, "supplement-request",
                      {"needed": ["请写明所需信息的文号", "请提供身份证明复印件"], "by": "wang"})
    assert asked["status"] == "awaiting-supplement" and asked["due"] is None
    assert actions(asked) == ["supplement"]
    assert asked["supplement"]["notice_sent_on"] in since(first)
    assert kinds(asked)[-1] == "supplement-requested"

    await refused(api, app_id, "supplement-request", {"needed": ["请再补充用途"], "by": "wang"}, "补正")
    await refused(api, app_id, "decisions", {"item_no": 1, "outcome": "disclosed", "by": "wang"}, "补正")
    await refused(api, app_id, "extension-request", {"days": 5, "reason": "需要调取档案", "by": "wang"}, "补正")
    await refused(api, app_id, "consultations",
                  {"consultee": {"kind": "third-party", "name": "某公司"}, "item_nos": [1], "by": "wang"}, "补正")
    await refused(api, app_id, "supplement",
                  {"received_on": (today() + timedelta(days=1)).isoformat(), "by": "desk-chen"}, "不能晚于今天")
    await refused(api, app_id, "supplement",
                  {"received_on": (today() - timedelta(days=1)).isoformat(), "by": "desk-chen"}, "不能早于")

    received = today().isoformat()
    resumed = await act(api, app_id, "supplement",
                        {"received_on": received, "note": "当面补交", "by": "desk-chen"})
    assert resumed["status"] == "handling"
    assert resumed["supplement"]["received_on"] == received
    assert resumed["due"]["due_on"] == (await deadline(api, received, 15))["due_on"]
    assert resumed["due"]["due_on"] >= created["due_on"]
    assert kinds(resumed)[-1] == "supplement-received" and actions(resumed) == ["propose-decision"]
    # Supplemented the day it was received, the restarted period may end on the old date: the restart shows in
    # the explanation, day 0 now being the supplement's day (Reg. 30), which the registration's did not have.
    restart = f"收到补正后的申请之日 {resumed['supplement']['received_on']}"
    assert [s for s in resumed["due"]["steps"] if s.startswith(restart) and "重新起算" in s], resumed["due"]["steps"]
    assert not [s for s in created["due_explanation"] if "补正" in s], created["due_explanation"]
    await refused(api, app_id, "supplement", {"received_on": today().isoformat(), "by": "desk-chen"}, "没有待补正")
    await refused(api, app_id, "supplement-request", {"needed": ["请再补充用途"], "by": "wang"}, "一次性")



async def test_second_notice_while_waiting_names_the_one_notice_rule(api):
    app_id = (await register(api))["application_id"]
    await act(api, app_id, "supplement-request", {"needed": ["请写明文号"], "by": "wang"})
    await refused(api, app_id, "supplement-request", {"needed": ["请再补充用途"], "by": "wang"}, "一次性")


@pytest.mark.dates
async def test_supplement_notice_refused_after_seven_working_days(api):
    received = today() - timedelta(days=40)
    app_id = (await register(api, received_on=received.isoformat()))["application_id"]
    await eventually(api, app_id, lambda s: "overdue" in kinds(s))  # the late registration's alerts run first
    await refused(api, app_id, "supplement-request", {"needed": ["请写明文号"], "by": "wang"}, "7 个工作日", "已超过期限")


# --- extension (延期) ---------------------------------------------------------------------------


async def test_extension_beyond_the_maximum_is_refused(api):
    app_id = (await register(api))["application_id"]
    await refused(api, app_id, "extension-request", {"days": 16, "reason": "需要调取档案", "by": "wang"},
                  "最长不超过 15 个工作日")


@pytest.mark.dates
async def test_extension_is_asked_once_and_approval_moves_the_due_date(api, mailbox):
    handler = add_staff(api, f"wang-{uuid.uuid4().hex[:6]}", ["handler"], "综合统计科")
    created = await register(api, handler=handler)
    app_id = created["application_id"]
    asked = await act(api, app_id, "extension-request", {"days": 15, "reason": "需要调取历史档案", "by": "wang"})
    assert asked["extension"]["decision"] == "pending" and "decide-extension" in actions(asked)
    assert asked["due"]["due_on"] == created["due_on"] and kinds(asked)[-1] == "extension-requested"

    await refused(api, app_id, "extension-request", {"days": 5, "reason": "另需核对", "by": "wang"},
                  "延期只能一次", "待负责人审批")

    approved = await act(api, app_id, "extension-decision", {"approve": True, "comment": "同意", "by": "chief-liu"})
    assert approved["extension"]["decision"] == "approved"
    assert approved["due"]["due_on"] == (await deadline(api, created["received_on"], 30))["due_on"]
    assert approved["due"]["due_on"] > created["due_on"]
    assert "decide-extension" not in actions(approved) and kinds(approved)[-1] == "extension-approved"
    await listed_row(api, app_id, lambda r: (r["extended"], r["due_on"]) == (True, approved["due"]["due_on"]),
                     handler=handler)

    await refused(api, app_id, "extension-request", {"days": 5, "reason": "另需核对", "by": "wang"}, "延期只能一次")
    await refused(api, app_id, "extension-decision", {"approve": True, "by": "chief-liu"}, "没有待审批的延期申请")
    await settled(api, app_id)
    notice = [m for m in mails_about(mailbox.envelopes, app_id) if "延" in m["Subject"]]
    assert len(notice) == 1


async def test_refused_extension_keeps_the_due_date(api):
    created = await register(api)
    app_id = created["application_id"]
    await refused(api, app_id, "extension-decision", {"approve": True, "by": "chief-liu"}, "没有待审批的延期申请")
    await act(api, app_id, "extension-request", {"days": 10, "reason": "需要调取历史档案", "by": "wang"})
    decided = await act(api, app_id, "extension-decision", {"approve": False, "comment": "理由不充分", "by": "chief-liu"})
    assert decided["extension"]["decision"] == "refused" and decided["due"]["due_on"] == created["due_on"]
    assert kinds(decided)[-1] == "extension-refused" and "理由不充分" in decided["timeline"][-1]["summary"]
    assert "decide-extension" not in actions(decided)


@pytest.mark.dates
async def test_extension_refused_once_the_period_has_ended(api):
    app_id = (await register(api, received_on=(today() - timedelta(days=40)).isoformat()))["application_id"]
    view = await eventually(api, app_id, lambda s: "overdue" in kinds(s))
    assert view["overdue"] is True
    await refused(api, app_id, "extension-request", {"days": 5, "reason": "需要调取档案", "by": "wang"}, "届满")


# --- consultations, objections, override -------------------------------------------------------


@pytest.mark.dates
async def test_third_party_objection_blocks_disclosure_until_overridden(api):
    first = today()
    created = await register(api, items=[{"description": "2025年统计执法检查结果"},
                                         {"description": "某公司2025年报送的统计报表"}])
    app_id = created["application_id"]
    await refused(api, app_id, "consultations",
                  {"consultee": {"kind": "third-party", "name": "某公司"}, "item_nos": [3], "by": "wang"}, "没有第 3 项")
    consulting = await act(api, app_id, "consultations", {
        "consultee": {"kind": "third-party", "name": "某科技有限公司", "email": "legal@example.cn"},
        "item_nos": [2], "by": "wang"})
    assert consulting["status"] == "consulting"
    assert "answer-consultation" in actions(consulting) and kinds(consulting)[-1] == "consultation-started"
    # The clock stops once the letter is sent (issue 11: on dispatch), here by e-mail.
    dispatched = await eventually(api, app_id, lambda s: len(s["paused_intervals"]) == 1)
    assert dispatched["paused_intervals"][0]["ended_on"] is None
    consultation_id = consulting["consultations"][0]["consultation_id"]

    letter = await api.get(f"/api/v1/consultations/{consultation_id}")
    assert letter.status_code == 200, letter.text
    assert letter.json()["item_descriptions"] == ["某公司2025年报送的统计报表"] and letter.json()["answered"] is False

    await refused(api, app_id, "decisions", {"item_no": 2, "outcome": "disclosed", "by": "wang"}, "正在征求意见")
    await act(api, app_id, "decisions", {"item_no": 1, "outcome": "disclosed", "by": "wang"})
    await refused(api, app_id, "submit", {"by": "wang"}, "征求意见")

    no_reason = await answer(api, consultation_id, {"position": "objection"})
    assert no_reason.status_code == 422, no_reason.text
    answered = await answer(api, consultation_id, {"position": "objection", "reasons": "涉及本公司商业秘密"})
    assert answered.status_code == 200, answered.text
    assert answered.json()["answered"] is True

    view = await eventually(api, app_id, lambda s: "consultation-answered" in kinds(s))
    assert view["status"] == "handling"
    assert view["items"][1]["objection_from"] == [consultation_id]
    assert view["consultations"][0]["position"] == "objection"
    assert view["paused_intervals"][0]["ended_on"] in since(first)
    assert "override-objection" in actions(view)

    await refused(api, app_id, "decisions", {"item_no": 2, "outcome": "disclosed", "by": "wang"}, "异议", "不予公开-4")
    await refused(api, app_id, "decisions",
                  {"item_no": 2, "outcome": "partly-disclosed", "reasons": "区分处理", "by": "wang"}, "异议")
    await refused(api, app_id, "override", {"consultation_id": f"{app_id}.consult-9", "reason": "涉及重大公共利益",
                                            "by": "chief-liu"}, "没有征求意见")

    overridden = await act(api, app_id, "override", {"consultation_id": consultation_id,
                                                      "reason": "该信息涉及公众安全，不公开将对公共利益造成重大影响",
                                                      "by": "chief-liu"})
    assert overridden["items"][1]["overridden"] is True and kinds(overridden)[-1] == "objection-overridden"
    assert "override-objection" not in actions(overridden)
    await refused(api, app_id, "override", {"consultation_id": consultation_id, "reason": "再次决定公开",
                                            "by": "chief-liu"}, "已对该异议作出公开决定")
    proposed = await act(api, app_id, "decisions", {"item_no": 2, "outcome": "disclosed", "by": "wang"})
    assert proposed["items"][1]["proposal"]["outcome"] == "disclosed"


async def test_third_party_cannot_answer_twice(api):
    app_id = (await register(api))["application_id"]
    consulting = await act(api, app_id, "consultations",
                           {"consultee": {"kind": "third-party", "name": "某公司"}, "item_nos": [1], "by": "wang"})
    consultation_id = consulting["consultations"][0]["consultation_id"]
    first = await answer(api, consultation_id, {"position": "consent"})
    assert first.status_code == 200, first.text
    await eventually(api, app_id, lambda s: "consultation-answered" in kinds(s))
    before = await snapshot(api, app_id)
    second = await answer(api, consultation_id, {"position": "objection", "reasons": "改变主意，不同意公开"})
    assert second.status_code == 409, second.text
    assert await snapshot(api, app_id) == before
    view = await state(api, app_id)
    assert view["consultations"][0]["position"] == "consent" and view["items"][0]["objection_from"] == []



async def test_second_answer_is_told_the_answer_was_already_received(api):
    app_id = (await register(api))["application_id"]
    consulting = await act(api, app_id, "consultations",
                           {"consultee": {"kind": "third-party", "name": "某公司"}, "item_nos": [1], "by": "wang"})
    consultation_id = consulting["consultations"][0]["consultation_id"]
    assert (await answer(api, consultation_id, {"position": "consent"})).status_code == 200
    await eventually(api, app_id, lambda s: "consultation-answered" in kinds(s))
    second = await answer(api, consultation_id, {"position": "consent"})
    assert second.status_code == 409
    assert "已收到您的意见" in second.json()["detail"] and "已办结" not in second.json()["detail"], second.text


async def test_agency_consent_and_override_only_for_third_party_objections(api):
    app_id = (await register(api))["application_id"]
    consulting = await act(api, app_id, "consultations",
                           {"consultee": {"kind": "agency", "name": "省统计局"}, "item_nos": [1], "by": "wang"})
    consultation_id = consulting["consultations"][0]["consultation_id"]
    agreed = await answer(api, consultation_id, {"position": "consent", "received_on": today().isoformat()})
    assert agreed.status_code == 200, agreed.text
    view = await eventually(api, app_id, lambda s: "consultation-answered" in kinds(s))
    assert view["consultations"][0]["position"] == "consent" and view["status"] == "handling"
    assert actions(view) == ["propose-decision"]
    await refused(api, app_id, "override", {"consultation_id": consultation_id, "reason": "涉及重大公共利益",
                                            "by": "chief-liu"}, "只有第三方提出异议")
    await refused(api, app_id, "supplement-request", {"needed": ["请写明文号"], "by": "wang"}, "征求意见")


@pytest.mark.dates
async def test_answer_dated_outside_the_window_is_refused(api):
    app_id = (await register(api))["application_id"]
    consulting = await act(api, app_id, "consultations",
                           {"consultee": {"kind": "third-party", "name": "某公司"}, "item_nos": [1], "by": "wang"})
    consultation_id = consulting["consultations"][0]["consultation_id"]
    for day in (today() + timedelta(days=1), today() - timedelta(days=1)):
        response = await answer(api, consultation_id, {"position": "consent", "received_on": day.isoformat()})
        assert response.status_code == 409, response.text
        assert "收到意见的日期" in response.json()["detail"]
    assert (await api.get(f"/api/v1/consultations/{consultation_id}")).json()["answered"] is False
    extra = await answer(api, consultation_id, {"position": "consent", "signature": "张某"})
    assert extra.status_code == 422
    unknown = await answer(api, consultation_id, {"position": "maybe"})
    assert unknown.status_code == 422


async def test_unknown_consultation_is_404(api):
    for missing in (f"GK-NOPE-{uuid.uuid4().hex[:6]}", f"GK-NOPE-{uuid.uuid4().hex[:6]}.consult-1"):
        assert (await api.get(f"/api/v1/consultations/{missing}")).status_code == 404
        response = await answer(api, missing, {"position": "consent"})
        assert response.status_code == 404, response.text



async def test_unknown_consultation_of_an_open_application_is_404(api):
    app_id = (await register(api))["application_id"]
    await snapshot(api, app_id)  # registered and recorded
    response = await answer(api, f"{app_id}.consult-7", {"position": "consent"})
    assert response.status_code == 404, response.text


# --- decisions, review, signature, delivery ----------------------------------------------------


async def test_proposals_need_a_real_item_a_staff_outcome_and_reasons(api):
    app_id = (await register(api))["application_id"]
    for item_no in (0, 2):
        await refused(api, app_id, "decisions", {"item_no": item_no, "outcome": "disclosed", "by": "wang"},
                      f"没有第 {item_no} 项")
    await refused(api, app_id, "decisions", {"item_no": 1, "outcome": "other-1", "by": "wang"}, "系统")
    await refused(api, app_id, "decisions", {"item_no": 1, "outcome": "withheld-6", "reasons": " ", "by": "wang"},
                  "须说明理由")
    proposed = await act(api, app_id, "decisions",
                         {"item_no": 1, "outcome": "withheld-6", "reasons": "属于内部讨论记录", "by": "wang"})
    assert proposed["items"][0]["proposal"]["outcome"] == "withheld-6"
    assert proposed["items"][0]["final_outcome"] is None
    assert actions(proposed) == ["submit-for-review"] and kinds(proposed)[-1] == "decision-proposed"
    changed = await act(api, app_id, "decisions", {"item_no": 1, "outcome": "unavailable-1", "reasons": "本机关不掌握",
                                                   "referral": "市发展改革委，电话 0591-12345678", "by": "wang"})
    assert changed["items"][0]["proposal"]["outcome"] == "unavailable-1"


@pytest.mark.dates
async def test_review_and_signature_in_order_by_different_people(api):
    first = today()
    app_id = (await register(api, **post_body(items=[{"description": "2025年统计公报"},
                                                     {"description": "统计执法检查记录"}])))["application_id"]
    await refused(api, app_id, "review", {"approve": True, "by": "reviewer-zhao"}, "没有待保密审查")
    await refused(api, app_id, "sign", {"by": "chief-liu"}, "保密审查")
    await act(api, app_id, "decisions", {"item_no": 1, "outcome": "disclosed", "by": "wang"})
    await refused(api, app_id, "submit", {"by": "wang"}, "第 2 项尚未提出拟办意见")
    await act(api, app_id, "decisions", {"item_no": 2, "outcome": "withheld-7", "reasons": "属于行政执法案卷", "by": "wang"})

    submitted = await act(api, app_id, "submit", {"by": "wang"})
    assert submitted["status"] == "in-review" and actions(submitted) == ["review"]
    assert submitted["reply_draft"] is not None and "prescreen" in kinds(submitted)
    await refused(api, app_id, "submit", {"by": "wang"}, "保密审查")
    await refused(api, app_id, "decisions", {"item_no": 1, "outcome": "withheld-6", "reasons": "过程性信息", "by": "wang"},
                  "保密审查")
    await refused(api, app_id, "sign", {"by": "chief-liu"}, "保密审查")
    # A handler holds no reviewer role: refused before the workflow's own rule (不能审查自己的意见), which
    # test_worker_crash exercises with a user holding both roles.
    await refused(api, app_id, "review", {"approve": True, "by": "wang"}, "保密审查人员", expect=403)
    await refused(api, app_id, "review", {"approve": False, "by": "reviewer-zhao"}, "退回须说明理由")

    returned = await act(api, app_id, "review", {"approve": False, "comment": "第2项理由需引用条款", "by": "reviewer-zhao"})
    assert returned["status"] == "handling" and returned["reply_draft"] is None
    assert kinds(returned)[-1] == "review-returned" and actions(returned) == ["submit-for-review"]
    await act(api, app_id, "decisions", {"item_no": 2, "outcome": "withheld-7",
                                         "reasons": "依据《政府信息公开条例》第十六条，属于行政执法案卷", "by": "wang"})
    await act(api, app_id, "submit", {"by": "wang"})
    approved = await act(api, app_id, "review", {"approve": True, "by": "reviewer-zhao"})
    assert approved["status"] == "awaiting-signature" and actions(approved) == ["sign"]
    await refused(api, app_id, "review", {"approve": True, "by": "reviewer-zhao"}, "没有待保密审查")
    await refused(api, app_id, "delivery", {"delivered_on": today().isoformat(), "method": "post", "by": "desk-chen"},
                  "尚未签发")

    signed = await act(api, app_id, "sign", {"by": "chief-liu"})
    assert signed["status"] == "awaiting-delivery" and signed["replied_on"] in since(first)
    assert [i["final_outcome"] for i in signed["items"]] == ["disclosed", "withheld-7"]
    assert actions(signed) == ["confirm-delivery"] and signed["working_days_left"] is None
    await refused(api, app_id, "sign", {"by": "chief-liu"}, "没有待签发")
    await refused(api, app_id, "withdraw", {"reason": "不需要了"}, "签发", "不能撤回")
    await refused(api, app_id, "extension-request", {"days": 5, "reason": "需要调取档案", "by": "wang"}, "签发")
    await refused(api, app_id, "delivery", {"delivered_on": (today() + timedelta(days=1)).isoformat(),
                                            "method": "post", "by": "desk-chen"}, "送达日期")
    await refused(api, app_id, "delivery", {"delivered_on": (today() - timedelta(days=1)).isoformat(),
                                            "method": "post", "by": "desk-chen"}, "送达日期")

    on = today().isoformat()
    delivered = await act(api, app_id, "delivery", {"delivered_on": on, "method": "post",
                                                    "tracking_number": "XA123456789CN", "by": "desk-chen"})
    assert delivered["status"] == "closed" and delivered["delivered_on"] == on
    assert actions(delivered) == [] and "XA123456789CN" in delivered["timeline"][-1]["summary"]
    response = await send_action(api, app_id, "delivery",
                                 {"delivered_on": today().isoformat(), "method": "post", "by": "desk-chen"})
    assert response.status_code == 409 and "办结" in response.json()["detail"]


@pytest.mark.dates
async def test_emailed_reply_closes_the_application_by_itself(api, mailbox):
    first = today()
    app_id = (await register(api))["application_id"]
    await through_review(api, app_id, {1: ("unavailable-1", "本机关不掌握该信息")})
    signed = await act(api, app_id, "sign", {"by": "chief-liu"})
    assert signed["status"] == "awaiting-delivery" and actions(signed) == []
    closed = await eventually(api, app_id, lambda s: s["status"] == "closed")
    assert closed["delivered_on"] in since(first) and "delivered" in kinds(closed)
    assert any("答复" in m["Subject"] for m in mails_about(mailbox.envelopes, app_id))
    events = (await api.get(f"/api/v1/applications/{app_id}/events")).json()
    assert [e["kind"] for e in events] == kinds(await state(api, app_id))


# --- withdrawal ------------------------------------------------------------------------------


async def test_withdrawal_ends_the_application_and_refuses_every_later_action(api):
    handler = add_staff(api, f"wang-{uuid.uuid4().hex[:6]}", ["handler"], "综合统计科")
    app_id = (await register(api, **post_body(handler=handler)))["application_id"]
    await act(api, app_id, "decisions", {"item_no": 1, "outcome": "disclosed", "by": "wang"})
    withdrawn = await act(api, app_id, "withdraw", {"reason": "已从其他渠道获得"})
    assert withdrawn["status"] == "withdrawn" and actions(withdrawn) == []
    assert kinds(withdrawn)[-1] == "withdrawn" and "已从其他渠道获得" in withdrawn["timeline"][-1]["summary"]
    assert [i["final_outcome"] for i in withdrawn["items"]] == ["other-3"]
    for action in ("assign", "supplement-request", "extension-request", "consultations", "decisions", "submit",
                   "withdraw"):
        text = await refused(api, app_id, action, valid_bodies()[action])
        assert "撤回" in text or "办结" in text, (action, text)
    row = await listed_row(api, app_id, lambda r: r["status"] == "withdrawn", status="withdrawn", handler=handler)
    assert row["closed_at"] is not None and row["final_outcome"] == "other-3"


# --- bugs found: expected behaviour, kept failing until fixed ---------------------------------



async def test_objection_after_a_disclosure_proposal_blocks_submission(api):
    app_id = (await register(api))["application_id"]
    await act(api, app_id, "decisions", {"item_no": 1, "outcome": "disclosed", "by": "wang"})
    consulting = await act(api, app_id, "consultations",
                           {"consultee": {"kind": "third-party", "name": "某公司"}, "item_nos": [1], "by": "wang"})
    consultation_id = consulting["consultations"][0]["consultation_id"]
    assert (await answer(api, consultation_id, {"position": "objection", "reasons": "涉及商业秘密"})).status_code == 200
    objected = await eventually(api, app_id, lambda s: "consultation-answered" in kinds(s))
    # The objection voids the disclosure proposal: the handler must decide the item again.
    assert objected["items"][0]["proposal"] is None
    assert "proposal-withdrawn" in kinds(objected)
    await refused(api, app_id, "submit", {"by": "wang"}, "尚未提出拟办意见")
    await refused(api, app_id, "decisions", {"item_no": 1, "outcome": "disclosed", "by": "wang"}, "异议")



async def test_pending_actions_after_signing_are_only_what_can_still_be_done(api):
    app_id = (await register(api, **post_body()))["application_id"]
    await act(api, app_id, "extension-request", {"days": 5, "reason": "需要调取档案", "by": "wang"})
    await through_review(api, app_id, {1: ("disclosed", "")})
    signed = await act(api, app_id, "sign", {"by": "chief-liu"})
    await refused(api, app_id, "extension-decision", {"approve": True, "by": "chief-liu"}, "签发")
    assert actions(signed) == ["confirm-delivery"]



async def test_extension_is_approved_by_someone_other_than_who_asked(api):
    # A small office: the section chief both handles and supervises, so only the workflow's own rule stops him.
    chief = f"chief-handler-{uuid.uuid4().hex[:6]}"
    made = await api.post("/api/v1/admin/users", headers=api.as_user("admin"), json={
        "username": chief, "password": "a-long-enough-password", "roles": ["handler", "supervisor"],
        "department": "综合统计科"})
    assert made.status_code == 201, made.text
    await api.log_in(chief, "a-long-enough-password")
    app_id = (await register(api))["application_id"]
    await act(api, app_id, "extension-request", {"days": 5, "reason": "需要调取档案", "by": chief})
    await refused(api, app_id, "extension-decision", {"approve": True, "by": chief}, "申请延期的承办人不能自行批准")
    approved = await act(api, app_id, "extension-decision", {"approve": True, "by": "chief-liu"})
    assert approved["extension"]["decision"] == "approved" and kinds(approved)[-1] == "extension-approved"
    # A handler without the supervisor role is refused by role before the workflow is asked.
    other = (await register(api))["application_id"]
    await act(api, other, "extension-request", {"days": 5, "reason": "需要调取档案", "by": "wang"})
    await refused(api, other, "extension-decision", {"approve": True, "by": "wang"}, "负责人", expect=403)
