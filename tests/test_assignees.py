"""Issue 23 point 1: an application is assigned only to a real, active handler of its 科室.

Before, "zhao" (no such account) was accepted with "已完成：指定承办人" and the application then sat in
nobody's queue. Now the API refuses, with 422 and a Chinese reason a clerk understands, a name that is
no account, an inactive account, a person without the handler role, a handler of another 科室, and
a handler without any 科室 — at assignment and when a handler is named at intake; the workflow is
never asked, so nothing changes. A handler named without a 科室 takes the handler's own.
`GET /api/v1/handlers` lists who may be picked, by 科室, with their open load.
"""

import uuid

import pytest

from tests.helpers import act, add_staff, application_body, register, send_action, send_registration, state


def fresh(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


async def unchanged_after(api, app_id: str, body: dict, *reason: str) -> None:
    before = await state(api, app_id)
    response = await send_action(api, app_id, "assign", body | {"by": "desk-chen"})
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert isinstance(detail, str) and not detail.isascii(), detail
    for phrase in reason:
        assert phrase in detail, (phrase, detail)
    after = await state(api, app_id)
    assigned = lambda view: [e for e in view["timeline"] if e["kind"] == "assigned"]  # noqa: E731
    # (the 回执's own events may arrive meanwhile: the assignment's are compared)
    assert (after["handler"], after["department"], assigned(after)) == (
        before["handler"], before["department"], assigned(before))


async def test_assignment_to_someone_who_cannot_handle_it_is_refused_and_changes_nothing(api):
    app_id = (await register(api, handler=None, department=None))["application_id"]
    gone = add_staff(api, fresh("gone"), ["handler"], "综合统计科", active=False)
    nowhere = add_staff(api, fresh("nowhere"), ["handler"], None)

    await unchanged_after(api, app_id, {"handler": "zhao"}, "zhao", "不是本机关的工作人员账号")
    await unchanged_after(api, app_id, {"handler": gone}, "已停用")
    await unchanged_after(api, app_id, {"handler": "reviewer-zhao"}, "没有承办角色")
    await unchanged_after(api, app_id, {"handler": "wang", "department": "执法监督科"}, "属于综合统计科", "不是执法监督科")
    await unchanged_after(api, app_id, {"handler": nowhere}, "没有所属科室")
    view = await state(api, app_id)
    assert view["handler"] is None and "assign" in [a["action"] for a in view["pending_actions"]]


async def test_a_handler_named_alone_brings_their_own_department(api):
    app_id = (await register(api, handler=None, department=None))["application_id"]
    assigned = await act(api, app_id, "assign", {"handler": "li", "by": "desk-chen"})
    assert (assigned["handler"], assigned["department"]) == ("li", "执法监督科")
    # ... so the application is in that handler's reach (a handler sees only their 科室)
    seen = await api.get(f"/api/v1/applications/{app_id}", headers=api.as_user("li"))
    assert seen.status_code == 200, seen.text


async def test_intake_naming_an_unknown_handler_is_refused(api):
    handler = fresh("nobody")
    response = await send_registration(api, application_body(handler=handler))
    assert response.status_code == 422, response.text
    assert "不是本机关的工作人员账号" in response.json()["detail"]
    listed = await api.get("/api/v1/applications", params={"handler": handler})
    assert listed.json()["total"] == 0


async def test_the_handler_list_groups_active_handlers_by_department_with_their_load(api):
    department = f"科室-{uuid.uuid4().hex[:4]}"
    busy, idle = add_staff(api, fresh("busy"), ["handler"], department), add_staff(api, fresh("idle"), ["handler"], department)
    add_staff(api, fresh("off"), ["handler"], department, active=False)
    for _ in range(2):
        await register(api, handler=busy, department=department)

    response = await api.get("/api/v1/handlers", headers=api.as_user("desk-chen"))
    assert response.status_code == 200, response.text
    groups = {g["department"]: g["handlers"] for g in response.json()}
    assert [(h["username"], h["open_load"]) for h in groups[department]] == [(idle, 0), (busy, 2)]
    assert "在办 2 件" in groups[department][1]["label"]
    assert not any(h["username"] == "reviewer-zhao" for people in groups.values() for h in people)
    # handlers themselves do not assign: the list is the registrars' and supervisors'
    assert (await api.get("/api/v1/handlers", headers=api.as_user("wang"))).status_code == 403
