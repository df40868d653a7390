"""Issue 13: a published calendar year moves the working-day deadlines of the open 政务公开 processes —
an interpretation's 3 working days (seed 002 art. 20), a catalogue item's 20 working days (the agency's
working-day setting, Reg. 26) and a correction's period (Reg. 41) — each move
explained on the process's history and in its deadline's steps, and the escalation comes at the new
instant, not the old. Real server with time skipping, isolated stack (the test publishes years)."""

from datetime import date, datetime, timedelta

import pytest

from clock import ClockInput, compute_due, end_of_day_instant
from core import clock
from proactive.rules import interpretation_due, publication_due
from tests.calendars import calendar_before, publish_fictional_years
from tests.helpers import view_when
from workcalendar import WorkCalendar

# Date-sensitive: the Makefile runs this module again with the clock pinned (tests/dates.py).
pytestmark = pytest.mark.dates

CORRECTION = {"person_name": "李四", "email": "lisi@calendar.example.cn", "record": "2025年统计执法检查公告中本人企业名称",
              "correction": "企业名称误写，应为“某某商务”", "evidence": "营业执照复印件"}


async def _interpretation(api, issued_on: date) -> dict:
    cid = "calendar-moves"
    assert (await api.put(f"/api/v1/catalogue/categories/{cid}", json={"id": cid, "name": "政策文件",
                                                                       "section": "法规科"})).status_code == 200
    created = await api.post("/api/v1/catalogue/items", headers=api.as_user("wang"), json={
        "title": "关于统计数据质量的通知", "category_id": cid, "document_number": "统字〔2026〕C号",
        "produced_on": issued_on.isoformat(), "content": "通知全文"})
    assert created.status_code == 201, created.text
    policy_id = created.json()["item_id"]
    body = {"policy_id": policy_id, "title": "《通知》政策解读", "content": "一、出台背景……"}

    async def listed(_):  # the document's row is written in the background
        answer = await api.post("/api/v1/interpretations", json=body, headers=api.as_user("wang"))
        return answer.json() if answer.status_code == 201 else None
    return await _until(listed)


async def _until(probe, timeout=30.0):
    import asyncio
    deadline = asyncio.get_running_loop().time() + timeout
    while (found := await probe(None)) is None:
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not reached")
        await asyncio.sleep(0.2)
    return found


async def test_publishing_the_year_moves_interpretation_and_correction_deadlines(isolated_api, unpublished_from, env, client):
    api = isolated_api
    start = clock.today()
    unpublished_from(start.year)
    api.app.state.calendar.refresh()
    provisional = WorkCalendar(calendar_before(start.year))

    created = await _interpretation(api, start)
    interp_id = created["item_id"]
    old_interp = date.fromisoformat(created["deadline"]["due_on"])
    assert created["deadline"]["provisional"] and any("公布后重算" in s for s in created["deadline"]["steps"])
    submitted = await api.post("/api/v1/corrections", json=CORRECTION | {"received_on": start.isoformat()},
                               headers=api.as_user("desk-chen"))
    assert submitted.status_code == 201, submitted.text
    correction_id = submitted.json()["correction_id"]
    old_correction = date.fromisoformat((await view_when(api, f"/api/v1/corrections/{correction_id}",
                                                         lambda v: True, 20))["due_on"])
    assert old_correction == compute_due(provisional, ClockInput(received_on=start, reply_days=15)).due_on
    # A catalogue item under the agency's working-day setting (Reg. 26: 20 working days).
    from api.main import create_app
    from tests.conftest import staff_client

    working = api.app.state.settings.model_copy(update={"proactive_publication_working_days": True})
    async with staff_client(create_app(working, client=client, engine=api.app.state.engine)) as other:
        other.app.state.calendar.refresh()
        item = await other.post("/api/v1/catalogue/items", headers=other.as_user("wang"), json={
            "title": "统计执法检查结果", "category_id": "calendar-moves", "produced_on": start.isoformat(),
            "content": "检查结果"})
    assert item.status_code == 201, item.text
    item_id, old_item = item.json()["item_id"], date.fromisoformat(item.json()["deadline"]["due_on"])
    assert old_item == publication_due(provisional, start, working_days=True).due_on

    # The year is published with one more day off: the first working day after the start, which both count.
    day_off, guessed = provisional.add_workdays(start, 1)
    assert guessed
    new_cal = WorkCalendar(await publish_fictional_years(api, range(start.year, max(old_correction, old_item).year + 2), day_off))
    note = f"（{day_off.year} 年放假安排公布）"

    expected = interpretation_due(new_cal, start).due_on
    assert expected > old_interp
    view = await view_when(api, f"/api/v1/catalogue/items/{interp_id}",
                           lambda v: v["deadline"]["due_on"] != old_interp.isoformat() and not v["deadline"]["provisional"], 60)
    assert view["deadline"]["due_on"] == expected.isoformat() and not view["deadline"]["provisional"]
    explained = f"解读材料发布期限由 {old_interp} 重新计算为 {expected}{note}"
    assert explained in [h["summary"] for h in view["history"]] and explained in view["deadline"]["steps"]
    assert not any("公布后重算" in s for s in view["deadline"]["steps"])

    expected_correction = compute_due(new_cal, ClockInput(received_on=start, reply_days=15)).due_on
    assert expected_correction > old_correction
    corr = await view_when(api, f"/api/v1/corrections/{correction_id}",
                           lambda v: v["due_on"] != old_correction.isoformat(), 60)
    assert corr["due_on"] == expected_correction.isoformat()
    explained = f"办理期限由 {old_correction} 重新计算为 {expected_correction}{note}"
    assert explained in [h["summary"] for h in corr["history"]] and explained in corr["due_steps"]
    expected_item = publication_due(new_cal, start, working_days=True).due_on
    assert expected_item > old_item
    view = await view_when(api, f"/api/v1/catalogue/items/{item_id}",
                           lambda v: v["deadline"]["due_on"] != old_item.isoformat() and not v["deadline"]["provisional"], 60)
    assert view["deadline"]["due_on"] == expected_item.isoformat()
    explained = f"公开期限由 {old_item} 重新计算为 {expected_item}{note}"
    assert explained in [h["summary"] for h in view["history"]] and explained in view["deadline"]["steps"]
    rows = (await api.get("/api/v1/corrections")).json()
    assert [r["due_on"] for r in rows if r["id"] == correction_id] == [expected_correction.isoformat()]

    # The escalation comes at the end of the new due day, not of the old one.
    for workflow_id, path, new_due in ((interp_id, f"/api/v1/catalogue/items/{interp_id}", expected),
                                       (correction_id, f"/api/v1/corrections/{correction_id}", expected_correction)):
        new_instant = end_of_day_instant(new_due)
        await env.fast_forward(client.get_workflow_handle(workflow_id), new_instant - clock.now() + timedelta(hours=1))
        alerts = (await view_when(api, path, lambda v: len(v["alerts"]) == 2, 60))["alerts"]
        assert [a["kind"] for a in alerts] == ["reminder", "escalation"]
        assert datetime.fromisoformat(alerts[1]["at"]) >= new_instant > end_of_day_instant(
            old_interp if workflow_id == interp_id else old_correction), workflow_id
        assert new_due.isoformat() in alerts[1]["message"]



async def test_the_broadcast_reads_bounded_pages_of_both_tables(isolated_api, client):
    """The processes are told a page at a time (continue-as-new between pages): the catalogue's, then the
    corrections'; each open process once."""
    from temporalio.client import WorkflowExecutionStatus

    from tests.calendars import fictional_schedule
    from workcalendar import YearSchedule
    from contracts.calendar import CalendarYearPublished, DeadlineBroadcastInput, DeadlineBroadcastResult

    api, start = isolated_api, clock.today()
    await _interpretation(api, start)
    submitted = await api.post("/api/v1/corrections", json=CORRECTION | {"received_on": start.isoformat()},
                               headers=api.as_user("desk-chen"))
    correction_id = submitted.json()["correction_id"]
    await view_when(api, f"/api/v1/corrections/{correction_id}", lambda v: True, 20)

    async def listed(_):  # the rows are written in the background
        from db.proactive_repository import open_deadline_ids_page
        from db.session import session_scope
        with session_scope(api.app.state.engine) as session:
            ids = [i for table in ("catalogue", "corrections")
                   for i in open_deadline_ids_page(session, table, date(start.year, 1, 1), None, 10)]
        return ids if len(ids) == 3 else None
    await _until(listed)
    schedule = YearSchedule.model_validate(fictional_schedule(start.year) | {"year": start.year})
    settings = api.app.state.settings
    handle = await client.start_workflow(
        "DeadlineCalendarBroadcast", DeadlineBroadcastInput(fact=CalendarYearPublished(schedule=schedule), batch_size=1),
        id=f"paged-broadcast-{correction_id}", task_queue=settings.task_queue, result_type=DeadlineBroadcastResult)
    result = await handle.result()
    # The policy document, its interpretation and the correction: one page each, plus an empty page per table
    # (catalogue, corrections, and since issue 26 questions and drafts, none here).
    assert (result.told, result.gone, result.runs) == (3, 0, 7)
    assert (await handle.describe()).status == WorkflowExecutionStatus.COMPLETED
