"""The public-participation workflows' histories replay (issue 26): a draft for comment through its closing
timer, a late comment, moderation, feedback, its review and the linked decision; a question through its
reminder and escalation timers, routed, answered and reviewed.

The same scenarios recorded in tests/histories (`participation_*.json`, replayed by tests/test_replay.py with
every other file) are recorded here in the session and replayed at once. To re-record the files on purpose:
`PARTICIPATION_RECORD_TO=tests/histories .venv/bin/python -m pytest -q -p no:xdist tests/test_participation_replay.py`.
"""

import os
from datetime import timedelta
from pathlib import Path

from temporalio.client import Client, WorkflowHistory

from tests.helpers import view_when
from tests.test_participation import DRAFT
from tests.test_replay import HISTORIES, replayer


async def _ok(answer, status=200):
    assert answer.status_code == status, answer.text
    return answer.json()


async def _draft_closed_fed_back_and_decided(env, api, anon, client) -> str:
    draft_id = (await _ok(await api.post("/api/v1/drafts", json=DRAFT | {"title": "回放：征求意见稿"},
                                         headers=api.as_user("wang")), 201))["draft_id"]
    await view_when(api, f"/api/v1/drafts/{draft_id}")
    await _ok(await api.post(f"/api/v1/drafts/{draft_id}/review", json={"approve": True}, headers=api.as_user("reviewer-zhao")))
    await _ok(await api.post(f"/api/v1/drafts/{draft_id}/approve", json={}, headers=api.as_user("chief-liu")))
    first = await _ok(await anon.post(f"/api/v1/public/drafts/{draft_id}/comments", json={"text": "回放意见一"}), 201)
    abuse = await _ok(await anon.post(f"/api/v1/public/drafts/{draft_id}/comments", json={"text": "回放辱骂"}), 201)
    await _ok(await api.post(f"/api/v1/drafts/{draft_id}/moderate", json={"receipt_no": abuse["receipt_no"], "reason": "辱骂"},
                             headers=api.as_user("wang")))
    await env.fast_forward(client.get_workflow_handle(draft_id), timedelta(days=20))
    await view_when(api, f"/api/v1/drafts/{draft_id}", lambda v: v["phase"] == "closed")
    late = await _ok(await anon.post(f"/api/v1/public/drafts/{draft_id}/comments", json={"text": "回放逾期意见"}), 201)
    await _ok(await api.post(f"/api/v1/drafts/{draft_id}/feedback", headers=api.as_user("wang"), json={"groups": [
        {"summary": "回放", "receipt_nos": [first["receipt_no"], late["receipt_no"]], "decision": "adopted", "reason": "回放理由"}]}))
    await _ok(await api.post(f"/api/v1/drafts/{draft_id}/feedback-review", json={"approve": True},
                             headers=api.as_user("reviewer-zhao")))
    await _ok(await api.post(f"/api/v1/drafts/{draft_id}/meetings", headers=api.as_user("wang"), json={
        "held_on": (await api.get(f"/api/v1/drafts/{draft_id}")).json()["period"]["start_on"], "title": "回放会议",
        "invited": ["experts"], "attendees": ["专家"], "public": False}))
    from tests.test_participation import catalogue_document

    decision_id = await catalogue_document(api, api.app.state.engine, "回放：正式决策文件")
    await _ok(await api.post(f"/api/v1/drafts/{draft_id}/decision", json={"decision_item_id": decision_id},
                             headers=api.as_user("wang")))
    await client.get_workflow_handle(draft_id).result()
    return draft_id


async def _question_escalated_then_answered(env, api, anon, client) -> str:
    inquiry_id = (await _ok(await anon.post("/api/v1/public/inquiries", json={"question": "回放：统计公报何时发布？"}), 201))["inquiry_id"]
    await view_when(api, f"/api/v1/inquiries/{inquiry_id}")
    await env.fast_forward(client.get_workflow_handle(inquiry_id), timedelta(days=15))
    await view_when(api, f"/api/v1/inquiries/{inquiry_id}", lambda v: len(v["alerts"]) == 2)
    await _ok(await api.post(f"/api/v1/inquiries/{inquiry_id}/route", json={"section": "综合统计科"}, headers=api.as_user("desk-chen")))
    await _ok(await api.post(f"/api/v1/inquiries/{inquiry_id}/answer", json={"answer": "每年3月。"}, headers=api.as_user("wang")))
    await _ok(await api.post(f"/api/v1/inquiries/{inquiry_id}/review", json={"approve": True}, headers=api.as_user("reviewer-zhao")))
    await client.get_workflow_handle(inquiry_id).result()
    return inquiry_id


async def _draft_with_basis_file_closed_then_continued(env, api, anon, client) -> tuple[str, str]:
    """A draft with a basis file cleared by the release review, closed by its timer, then so many late comments that
    its run continues as new (a small threshold): the first run, ending in its continue-as-new, is the history."""
    from tests.release_samples import text_pdf

    settings = api.app.state.settings
    kept, settings.participation_continue_after_events = settings.participation_continue_after_events, 60
    try:
        draft_id = (await _ok(await api.post("/api/v1/drafts", json=DRAFT | {"title": "回放：续作的征求意见稿"},
                                             headers=api.as_user("wang")), 201))["draft_id"]
    finally:
        settings.participation_continue_after_events = kept
    await view_when(api, f"/api/v1/drafts/{draft_id}")
    await _ok(await api.post(f"/api/v1/drafts/{draft_id}/basis-files", headers=api.as_user("wang"),
                             files={"file": ("起草说明.pdf", text_pdf([["起草说明：无个人信息"]]), "application/pdf")}), 201)
    await view_when(api, f"/api/v1/drafts/{draft_id}/basis-files",
                    lambda files: files[0]["screening"]["state"] == "done" and files[0]["open_findings"] == 0)
    await _ok(await api.post(f"/api/v1/drafts/{draft_id}/review", json={"approve": True}, headers=api.as_user("reviewer-zhao")))
    await _ok(await api.post(f"/api/v1/drafts/{draft_id}/approve", json={}, headers=api.as_user("chief-liu")))
    handle = client.get_workflow_handle(draft_id)
    first_run = (await handle.describe()).run_id
    await env.fast_forward(handle, timedelta(days=20))
    await view_when(api, f"/api/v1/drafts/{draft_id}", lambda v: v["phase"] == "closed")
    n = 0
    while (await handle.describe()).run_id == first_run:
        n += 1
        assert n < 30, "the draft never continued as new"
        await _ok(await anon.post(f"/api/v1/public/drafts/{draft_id}/comments", json={"text": f"回放逾期意见 {n}"}), 201)
    view = await view_when(api, f"/api/v1/drafts/{draft_id}", lambda v: v["runs"] == 2)
    assert len(view["comments"]) == n and view["phase"] == "closed"
    return draft_id, first_run


SCENARIOS = {
    "participation_draft_closed_fed_back_decided": _draft_closed_fed_back_and_decided,
    "participation_question_escalated_answered": _question_escalated_then_answered,
    "participation_draft_basis_file_continued_as_new": _draft_with_basis_file_closed_then_continued,
}


def test_the_participation_histories_are_recorded():
    assert {p.stem for p in HISTORIES.glob("*.json")} >= set(SCENARIOS)


async def test_participation_histories_recorded_now_replay(env, api, anon, client: Client):
    out = os.environ.get("PARTICIPATION_RECORD_TO")
    for stem, scenario in SCENARIOS.items():
        found = await scenario(env, api, anon, client)
        workflow_id, run_id = found if isinstance(found, tuple) else (found, None)
        history = await client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history()
        kinds = {e.WhichOneof("attributes") for e in history.events}
        assert "timer_fired_event_attributes" in kinds, stem  # the deadline loop's timers are in it
        for candidate in (history, WorkflowHistory.from_json(workflow_id, history.to_json())):
            result = await replayer().replay_workflow(candidate)
            assert result.replay_failure is None, stem
        if out:
            from scripts.record_histories import compact

            Path(out, f"{stem}.json").write_text(compact(history.to_json()))
