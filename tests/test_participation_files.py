"""Issue 26, what was left, on the real server: a draft with very many comments continues as new (a small
threshold) and keeps every comment, its receipt number and its deadline; a draft's basis files (起草说明)
go through the release review (screened, redacted and verified, or accepted with a reason) and the draft
cannot be published for comment (409, the reason in Chinese) while one is unreviewed."""

import asyncio
import hashlib
from datetime import timedelta

import pytest
from sqlmodel import Session, select
from temporalio.client import WorkflowUpdateFailedError

from contracts.participation import ApproveDraft, DraftView
from db.models_participation import DraftComment
from tests.release_samples import ID_NUMBER, PHONE, text_pdf
from tests.test_participation import DRAFT, _draft_row, published_draft
from tests.test_replay import replayer


async def test_a_draft_with_many_comments_continues_as_new_and_keeps_every_comment_and_its_deadline(
        env, api, anon, client, engine, monkeypatch):
    monkeypatch.setattr(api.app.state.settings, "participation_continue_after_events", 40)
    draft_id = await published_draft(api, engine, title="续作：意见很多的征求意见稿")
    handle = client.get_workflow_handle(draft_id)
    before = (await api.get(f"/api/v1/drafts/{draft_id}")).json()
    first_run = (await handle.describe()).run_id

    receipts = []
    for n in range(1, 13):
        answer = await anon.post(f"/api/v1/public/drafts/{draft_id}/comments", json={"text": f"第 {n} 条意见"})
        assert answer.status_code == 201, answer.text
        receipts.append(answer.json()["receipt_no"])
    assert receipts == [f"{draft_id}-{n:04d}" for n in range(1, 13)]

    view = (await api.get(f"/api/v1/drafts/{draft_id}")).json()
    assert view["runs"] > 1 and (await handle.describe()).run_id != first_run
    assert [(c["receipt_no"], c["text"]) for c in view["comments"]] == [
        (r, f"第 {n} 条意见") for n, r in enumerate(receipts, start=1)]
    assert view["period"] == before["period"] and view["phase"] == "open"
    # each run's history stays bounded: the current run holds at most the threshold and one update's events
    events = [e async for e in handle.fetch_history_events()]
    assert len(events) < 40 + 30, len(events)

    # the deadline is still kept: closed at it, a later comment late with the next receipt number
    await env.fast_forward(handle, timedelta(days=20))
    closed = await _draft_row(engine, draft_id, lambda r: r.phase == "closed")
    assert closed.counts["received"] == 12
    late = await anon.post(f"/api/v1/public/drafts/{draft_id}/comments", json={"text": "截止后的意见"})
    assert late.status_code == 201 and late.json()["late"] and late.json()["receipt_no"] == f"{draft_id}-0013"
    view = (await api.get(f"/api/v1/drafts/{draft_id}")).json()
    assert len(view["comments"]) == 13 and [a["kind"] for a in view["alerts"]] == ["reminder"]
    with Session(engine) as session:
        rows = session.exec(select(DraftComment).where(DraftComment.draft_id == draft_id)).all()
    assert sorted(r.receipt_no for r in rows)[:12] == receipts

    # both runs replay on the code as it is: the first ends in its continue-as-new with the state carried
    first = await client.get_workflow_handle(draft_id, run_id=first_run).fetch_history()
    assert "workflow_execution_continued_as_new_event_attributes" in {e.WhichOneof("attributes") for e in first.events}
    for history in (first, await handle.fetch_history()):
        assert (await replayer().replay_workflow(history)).replay_failure is None


async def _screened(api, draft_id: str, file_id: int, timeout: float = 60.0) -> dict:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        detail = (await api.get(f"/api/v1/drafts/{draft_id}/basis-files/{file_id}", headers=api.as_user("wang"))).json()
        if detail["screening"]["state"] in ("done", "failed"):
            return detail
        assert asyncio.get_running_loop().time() < deadline, detail
        await asyncio.sleep(0.3)


async def _redaction_done(api, draft_id: str, file_id: int, redaction_id: int, timeout: float = 120.0) -> dict:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        detail = (await api.get(f"/api/v1/drafts/{draft_id}/basis-files/{file_id}", headers=api.as_user("wang"))).json()
        [redaction] = [r for r in detail["redactions"] if r["id"] == redaction_id]
        if redaction["state"] != "pending":
            return redaction
        assert asyncio.get_running_loop().time() < deadline, redaction
        await asyncio.sleep(0.3)


async def test_basis_files_go_through_the_release_review_before_the_draft_is_published(api, anon, engine, client):
    created = await api.post("/api/v1/drafts", json=DRAFT | {"title": "附起草说明的征求意见稿"}, headers=api.as_user("wang"))
    assert created.status_code == 201, created.text
    draft_id = created.json()["draft_id"]
    await _draft_row(engine, draft_id, lambda r: True)
    reviewed = await api.post(f"/api/v1/drafts/{draft_id}/review", json={"approve": True},
                              headers=api.as_user("reviewer-zhao"))
    assert reviewed.status_code == 200 and reviewed.json()["phase"] == "reviewed"

    pdf = text_pdf([["起草说明"], ["征求意见情况", f"联系人身份证号：{ID_NUMBER}", f"联系电话：{PHONE}"]])
    url = f"/api/v1/drafts/{draft_id}/basis-files"
    upload = await api.post(url, files={"file": ("起草说明.pdf", pdf, "application/pdf")}, headers=api.as_user("wang"))
    assert upload.status_code == 201, upload.text
    file_id = upload.json()["id"]
    again = await api.post(url, files={"file": ("起草说明.pdf", pdf, "application/pdf")}, headers=api.as_user("wang"))
    assert again.status_code == 200 and again.json()["id"] == file_id
    refused = await api.post(url, files={"file": ("说明.exe", b"MZ\x90\x00", "application/octet-stream")},
                             headers=api.as_user("wang"))
    assert refused.status_code == 422 and refused.json()["detail"]
    view = (await api.get(f"/api/v1/drafts/{draft_id}")).json()
    # a file attached after the review sends the draft back to it
    assert [f["filename"] for f in view["basis_files"]] == ["起草说明.pdf"] and view["phase"] == "in-review"
    assert (await api.post(f"/api/v1/drafts/{draft_id}/review", json={"approve": True},
                           headers=api.as_user("reviewer-zhao"))).status_code == 200

    detail = await _screened(api, draft_id, file_id)
    by_kind = {f["kind"]: f for f in detail["findings"]}
    assert set(by_kind) == {"id-card", "phone"}
    early = await api.post(f"/api/v1/drafts/{draft_id}/approve", json={}, headers=api.as_user("chief-liu"))
    assert early.status_code == 409, early.text
    assert early.json()["detail"].startswith("决策依据文件尚未完成保密审查，不能公开征求意见：决策依据文件“起草说明.pdf”")
    assert ID_NUMBER not in early.json()["detail"]
    assert (await anon.get(f"/api/v1/public/drafts/{draft_id}")).status_code == 404

    # the phone is the office's published number: accepted with the reason; the ID number redacted and verified
    accepted = await api.post(f"{url}/{file_id}/findings/{by_kind['phone']['seq']}/accept",
                              json={"reason": "为本机关对外公布的办公电话"}, headers=api.as_user("wang"))
    assert accepted.status_code == 200 and accepted.json()["accepted"]["reason"] == "为本机关对外公布的办公电话"
    still = await api.post(f"/api/v1/drafts/{draft_id}/approve", json={}, headers=api.as_user("chief-liu"))
    assert still.status_code == 409 and "身份证号码" in still.json()["detail"]
    made = await api.post(f"{url}/{file_id}/redactions", headers=api.as_user("wang"),
                          json={"findings": [{"seq": by_kind["id-card"]["seq"], "basis": "条例第十五条"}]})
    assert made.status_code == 202, made.text
    redaction = await _redaction_done(api, draft_id, file_id, made.json()["id"])
    assert redaction["verified"], redaction

    # the workflow itself refuses an approval that does not name the file as cleared (a file attached meanwhile)
    with pytest.raises(WorkflowUpdateFailedError) as refused_update:
        await client.get_workflow_handle(draft_id).execute_update(
            "approve", ApproveDraft(by="chief-liu", url=f"/participation/{draft_id}", cleared=[]), result_type=DraftView)
    assert "决策依据文件“起草说明.pdf”尚未完成保密审查" in str(refused_update.value.cause)
    approved = await api.post(f"/api/v1/drafts/{draft_id}/approve", json={}, headers=api.as_user("chief-liu"))
    assert approved.status_code == 200 and approved.json()["phase"] == "open", approved.text
    public = (await anon.get(f"/api/v1/public/drafts/{draft_id}")).json()
    assert public["public"]["basis_files"] == [{"file_id": file_id, "filename": "起草说明.pdf"}]
    # the public downloads the copy cleared for publication: the verified redacted one, not the original
    download = await anon.get(f"/api/v1/public/drafts/{draft_id}/basis-files/{file_id}")
    assert download.status_code == 200 and download.content.startswith(b"%PDF")
    assert hashlib.sha256(download.content).hexdigest() == redaction["released_sha256"] != upload.json()["sha256"]
    assert "%E5%85%AC%E5%BC%80%E7%89%88" in download.headers["content-disposition"]  # 起草说明（公开版）.pdf
    assert (await anon.get(f"/api/v1/public/drafts/{draft_id}/basis-files/{file_id + 1000}")).status_code == 404
    late = await api.post(url, files={"file": ("补充说明.pdf", text_pdf([["补充"]]), "application/pdf")},
                          headers=api.as_user("wang"))
    assert late.status_code == 409 and late.json()["detail"] == "征求意见稿已公布，不能再附上决策依据文件"
    # an application's files are not reachable through a draft's path
    assert (await api.get(f"/api/v1/drafts/not-a-draft/basis-files/{file_id}")).status_code == 422
