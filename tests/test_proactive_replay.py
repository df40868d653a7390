"""The 政务公开 workflows' histories replay: the catalogue item, the public-opinion event and the
correction, each through its reminder and escalation timers (time skipping) and a human step.

Files recorded from the code before workflows/deadline_loop.py was extracted are in tests/histories
(`proactive_*.json`, `correction_*.json`; replayed by tests/test_replay.py with every other file);
the same scenarios are recorded here in the session and replayed at once. To re-record the files on
purpose (tests/histories/README.md): `PROACTIVE_RECORD_TO=tests/histories .venv/bin/python -m pytest -q
tests/test_proactive_replay.py`.
"""

import asyncio
import os
from datetime import timedelta
from pathlib import Path

from temporalio.client import Client, WorkflowHistory

from core import clock
from tests.test_replay import HISTORIES, replayer


async def _until(check, timeout=20.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while not (found := await check()):
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not reached")
        await asyncio.sleep(0.2)
    return found


async def _json(api, path, check):
    async def probe():
        response = await api.get(path)
        return response.json() if response.status_code == 200 and check(response.json()) else None
    return await _until(probe)


async def _item_escalated_then_published(env, api, client) -> str:
    await api.put("/api/v1/catalogue/categories/replay-data",
                  json={"id": "replay-data", "name": "回放用类别", "section": "综合统计科"})
    created = await api.post("/api/v1/catalogue/items", headers=api.as_user("wang"), json={
        "title": "回放：统计执法检查结果", "category_id": "replay-data", "produced_on": clock.today().isoformat(),
        "content": "检查结果全文"})
    assert created.status_code == 201, created.text
    item_id = created.json()["item_id"]
    await _json(api, f"/api/v1/catalogue/items/{item_id}", lambda v: True)
    await env.fast_forward(client.get_workflow_handle(item_id), timedelta(days=21))
    await _json(api, f"/api/v1/catalogue/items/{item_id}", lambda v: len(v["alerts"]) == 2)
    for path, body, who in (("review", {"approve": True}, "reviewer-zhao"), ("publish", {"url": "/gk/r.html"}, "wang"),
                            ("withdraw", {"reason": "回放结束"}, "wang")):
        answer = await api.post(f"/api/v1/catalogue/items/{item_id}/{path}", json=body, headers=api.as_user(who))
        assert answer.status_code == 200, answer.text
    await client.get_workflow_handle(item_id).result()
    return item_id


async def _opinion_escalated_then_closed(env, api, client) -> str:
    created = await api.post("/api/v1/public-opinion/events", headers=api.as_user("wang"), json={
        "title": "回放：重大突发舆情", "severity": "major", "found_at": (clock.now() - timedelta(minutes=5)).isoformat()})
    assert created.status_code == 201, created.text
    event_id = created.json()["event_id"]
    await _json(api, f"/api/v1/public-opinion/events/{event_id}", lambda v: True)
    await env.fast_forward(client.get_workflow_handle(event_id), timedelta(hours=5))
    await _json(api, f"/api/v1/public-opinion/events/{event_id}", lambda v: len(v["alerts"]) >= 2)
    for path, body in (("responses", {"platform": "press-conference", "summary": "发布会"}), ("close", {"note": "完毕"})):
        answer = await api.post(f"/api/v1/public-opinion/events/{event_id}/{path}", json=body, headers=api.as_user("wang"))
        assert answer.status_code == 200, answer.text
    await client.get_workflow_handle(event_id).result()
    return event_id


async def _correction_escalated_then_corrected(env, api, client) -> str:
    created = await api.post("/api/v1/corrections", headers=api.as_user("desk-chen"), json={
        "person_name": "回放人", "email": "replay@example.cn", "record": "回放记录", "correction": "应为某某",
        "evidence": "证明材料", "received_on": clock.today().isoformat()})
    assert created.status_code == 201, created.text
    correction_id = created.json()["correction_id"]
    await _json(api, f"/api/v1/corrections/{correction_id}", lambda v: True)
    await env.fast_forward(client.get_workflow_handle(correction_id), timedelta(days=40))
    await _json(api, f"/api/v1/corrections/{correction_id}", lambda v: len(v["alerts"]) == 2)
    answer = await api.post(f"/api/v1/corrections/{correction_id}/correct", json={"result": "已更正为某某"},
                            headers=api.as_user("wang"))
    assert answer.status_code == 200, answer.text
    answer = await api.post(f"/api/v1/corrections/{correction_id}/review", json={"approve": True},
                            headers=api.as_user("reviewer-zhao"))  # issue 24 point 4: the letter through review
    assert answer.status_code == 200, answer.text
    await client.get_workflow_handle(correction_id).result()
    return correction_id


async def _correction_recounted_on_a_published_year(env, api, client) -> str:
    """Issue 13: the calendar signal (patch proactive-calendar-moves) moves the period and re-arms the timer."""
    from tests.calendars import fictional_schedule
    from workcalendar import WorkCalendar, YearSchedule, load_calendar_data
    from contracts.calendar import CalendarYearPublished

    created = await api.post("/api/v1/corrections", headers=api.as_user("desk-chen"), json={
        "person_name": "回放人", "email": "replay@example.cn", "record": "回放记录", "correction": "应为某某",
        "evidence": "证明材料", "received_on": clock.today().isoformat()})
    assert created.status_code == 201, created.text
    correction_id = created.json()["correction_id"]
    before = await _json(api, f"/api/v1/corrections/{correction_id}", lambda v: True)
    day_off, _ = WorkCalendar(load_calendar_data()).add_workdays(clock.today(), 1)
    schedule = YearSchedule.model_validate(fictional_schedule(day_off.year, [day_off]) | {"year": day_off.year})
    await client.get_workflow_handle(correction_id).signal("calendar_published", CalendarYearPublished(schedule=schedule))
    await _json(api, f"/api/v1/corrections/{correction_id}", lambda v: v["due_on"] != before["due_on"])
    await env.fast_forward(client.get_workflow_handle(correction_id), timedelta(days=40))
    await _json(api, f"/api/v1/corrections/{correction_id}", lambda v: len(v["alerts"]) == 2)
    answer = await api.post(f"/api/v1/corrections/{correction_id}/correct", json={"result": "已更正为某某"},
                            headers=api.as_user("wang"))
    assert answer.status_code == 200, answer.text
    answer = await api.post(f"/api/v1/corrections/{correction_id}/review", json={"approve": True},
                            headers=api.as_user("reviewer-zhao"))  # issue 24 point 4: the letter through review
    assert answer.status_code == 200, answer.text
    await client.get_workflow_handle(correction_id).result()
    return correction_id


SCENARIOS = {
    "proactive_item_escalated_published_withdrawn": _item_escalated_then_published,
    "proactive_opinion_major_escalated_closed": _opinion_escalated_then_closed,
    "correction_escalated_corrected": _correction_escalated_then_corrected,
    "correction_calendar_moved_escalated_corrected": _correction_recounted_on_a_published_year,
}


def test_the_proactive_histories_are_recorded():
    assert {p.stem for p in HISTORIES.glob("*.json")} >= set(SCENARIOS)


async def test_proactive_histories_recorded_now_replay(env, api, client: Client):
    out = os.environ.get("PROACTIVE_RECORD_TO")
    for stem, scenario in SCENARIOS.items():
        workflow_id = await scenario(env, api, client)
        history = await client.get_workflow_handle(workflow_id).fetch_history()
        kinds = {e.WhichOneof("attributes") for e in history.events}
        assert "timer_fired_event_attributes" in kinds, stem  # the deadline loop's timers are in it
        for candidate in (history, WorkflowHistory.from_json(workflow_id, history.to_json())):
            result = await replayer().replay_workflow(candidate)
            assert result.replay_failure is None, stem
        if out:
            from scripts.record_histories import compact

            Path(out, f"{stem}.json").write_text(compact(history.to_json()))
