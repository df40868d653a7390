"""Letters end to end on the real server: the reply edited, approved and sent byte for byte with its attachments;
post (envelope, tracking number, signed-for date); the applicant's download; an SMTP outage retried and shown."""

import asyncio
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlmodel import Session, select

from clock import local_date
from db.models import StaffAlert
from letters.documents import pdf_text
from tests.fixtures_smtp import CapturingHandler, SmtpController, spare_port  # noqa: F401
from tests.helpers import act, eventually, register, state, since, through_review, today
from tests.letters_support import mails_for, own_mail_stack, preview_png, require_pdf_tools, sha256

pytestmark = pytest.mark.usefixtures("pdf_tools")


@pytest.fixture
def pdf_tools():
    require_pdf_tools()


async def upload(api: httpx.AsyncClient, app_id: str, item_no: int, version: str, name: str, content: bytes) -> dict:
    response = await api.post(f"/api/v1/applications/{app_id}/attachments",
                              data={"item_no": str(item_no), "version": version},
                              files={"file": (name, content, "application/pdf")}, headers=api.as_user("wang"))
    assert response.status_code == 201, response.text
    return response.json()


async def letters(api: httpx.AsyncClient, app_id: str) -> dict[str, dict]:
    response = await api.get(f"/api/v1/applications/{app_id}/letters")
    assert response.status_code == 200, response.text
    return {row["key"].removeprefix(f"{app_id}:"): row for row in response.json()}


def squash(text: str) -> str:
    return "".join(text.split())


async def test_reply_is_edited_approved_and_sent_byte_for_byte_with_its_attachments(api, mailbox, tmp_path):
    app_id = (await register(api, items=[{"description": "2025年统计公报"},
                                         {"description": "某企业2025年排污监测数据"}]))["application_id"]
    bulletin = await upload(api, app_id, 1, "original", "统计公报.pdf", b"%PDF-1.4 bulletin " + uuid.uuid4().bytes)
    secret = await upload(api, app_id, 2, "original", "监测数据-原件.pdf", b"%PDF-1.4 original " + uuid.uuid4().bytes)
    redacted = await upload(api, app_id, 2, "redacted", "监测数据-删除处理.pdf", b"%PDF-1.4 redacted " + uuid.uuid4().bytes)
    await act(api, app_id, "decisions", {"item_no": 1, "outcome": "disclosed", "reasons": "", "by": "wang"})
    await act(api, app_id, "decisions", {"item_no": 2, "outcome": "partly-disclosed",
                                         "reasons": "涉及企业商业秘密的部分已作区分处理", "withheld_ground": "withheld-4",
                                         "by": "wang"})
    await act(api, app_id, "submit", {"by": "wang"})

    draft = (await api.get(f"/api/v1/applications/{app_id}/reply-draft")).json()
    assert draft["version"] == 0 and app_id in draft["body"]
    preview = await api.get(f"/api/v1/applications/{app_id}/reply-draft.pdf")
    assert preview.status_code == 200 and "草稿" in pdf_text(preview.content)

    edited = draft["body"].replace("经审查，现对各项一并答复如下：", "经审查，现对各项一并答复如下（附件随本告知书送达）：")
    assert edited != draft["body"]
    after_edit = await act(api, app_id, "reply-draft", {"body": edited, "note": "注明附件", "by": "wang"})
    assert after_edit["reply_draft_version"] == 1 and after_edit["status"] == "in-review"
    # Remedies cannot be edited away; a reviewer cannot approve a version he has not seen.
    no_remedies = await act(api, app_id, "reply-draft", {"body": edited.replace("行政复议", ""), "by": "wang"}, expect=409)
    assert "须保留申请编号和救济途径" in no_remedies["detail"] and "行政复议" in no_remedies["detail"]
    unseen = await act(api, app_id, "review", {"approve": True, "draft_version": 0, "by": "reviewer-zhao"}, expect=409)
    assert "已修改为第 1 稿，请审阅最新稿" in unseen["detail"]
    approved = await act(api, app_id, "review", {"approve": True, "draft_version": 1, "by": "reviewer-zhao"})
    assert approved["reply_approved_sha256"] == sha256(edited.encode())
    frozen = await act(api, app_id, "reply-draft", {"body": edited, "by": "wang"}, expect=409)
    assert "已通过保密审查，不能再修改" in frozen["detail"]

    await act(api, app_id, "sign", {"by": "chief-liu"})
    closed = await eventually(api, app_id, lambda s: s["status"] == "closed")
    assert closed["delivered_on"] == closed["replied_on"]

    reply_row = (await letters(api, app_id))["reply"]
    assert reply_row["status"] == "sent" and reply_row["attempts"] == 1
    assert reply_row["body_sha256"] == approved["reply_approved_sha256"]
    assert reply_row["document_number"].startswith("某统依公〔") and reply_row["document_number"].endswith("号")
    view_letter = next(letter for letter in closed["letters"] if letter["kind"] == "reply")
    assert view_letter["document_number"] == reply_row["document_number"]
    assert view_letter["pdf_sha256"] == reply_row["pdf_sha256"] and view_letter["status"] == "delivered"

    replies = [m for m in mails_for(mailbox.envelopes, app_id) if "答复" in m["Subject"]]
    assert len(replies) == 1
    attached = {part.get_filename(): part.get_content() for part in replies[0].iter_attachments()}
    document = attached.pop(f"{reply_row['document_number']}.pdf")
    # What was sent is what was stored at issue, which was rendered from exactly the approved text.
    assert sha256(document) == reply_row["pdf_sha256"]
    stored = await api.get(f"/api/v1/applications/{app_id}/letters/{app_id}:reply/document.pdf")
    assert stored.content == document
    text = squash(pdf_text(document))
    assert squash("一并答复如下（附件随本告知书送达）") in text and reply_row["document_number"] in text
    assert "处理结果：部分公开" in text and "行政复议" in text
    # Disclosed item: its file; partly disclosed item: only the redacted version, never the original.
    assert {name: sha256(data) for name, data in attached.items()} == {
        bulletin["filename"]: bulletin["sha256"], redacted["filename"]: redacted["sha256"]}
    assert secret["filename"] not in attached
    preview_png(document, "reply-as-sent", tmp_path / "letters-preview")


@pytest.mark.dates
async def test_post_reply_has_envelope_tracking_number_and_signed_for_date(api, tmp_path):
    app_id = (await register(api, delivery_method="post"))["application_id"]
    await through_review(api, app_id, {1: ("withheld-6", "属于内部讨论记录等过程性信息")})
    await act(api, app_id, "sign", {"by": "chief-liu"})
    waiting = await eventually(api, app_id, lambda s: any(
        letter["kind"] == "reply" and letter["status"] == "awaiting-staff" for letter in s["letters"]))
    assert waiting["status"] == "awaiting-delivery"
    assert any(a["action"] == "confirm-delivery" for a in waiting["pending_actions"])
    envelope = await api.get(f"/api/v1/applications/{app_id}/letters/{app_id}:reply/envelope.pdf")
    assert envelope.status_code == 200
    text = squash(pdf_text(envelope.content))
    assert "张三" in text and "福州市鼓楼区某路1号" in text
    preview_png(envelope.content, "envelope-as-printed", tmp_path / "letters-preview")
    letter = await api.get(f"/api/v1/applications/{app_id}/letters/{app_id}:reply/document.pdf")
    assert "不予公开：属于四类过程性信息" in squash(pdf_text(letter.content))

    on = today().isoformat()
    delivered = await act(api, app_id, "delivery", {"delivered_on": on, "method": "post",
                                                    "tracking_number": "EMS1234567890CN", "posted_on": on,
                                                    "received_by": "张三", "by": "desk-chen"})
    assert delivered["status"] == "closed" and delivered["delivered_on"] == on
    reply = next(letter for letter in delivered["letters"] if letter["kind"] == "reply")
    assert reply["status"] == "delivered" and reply["tracking_number"] == "EMS1234567890CN"
    row = (await letters(api, app_id))["reply"]
    assert row["status"] == "delivered" and row["tracking_number"] == "EMS1234567890CN"
    assert row["delivered_on"] == on


@pytest.mark.dates
async def test_portal_download_delivers_the_reply(api):
    first = today()
    app_id = (await register(api, delivery_method="portal"))["application_id"]
    portal = f"/api/v1/portal/applications/{app_id}/reply.pdf"
    wrong = await api.get(portal, headers={"X-Query-Code": "wrong-code"})
    assert wrong.status_code == 404 and "查询码不正确" in wrong.json()["detail"]  # the code is checked
    early = await api.get(portal, headers=api.as_applicant(app_id))
    assert early.status_code == 404 and "答复尚未签发" in early.json()["detail"]  # right code, not signed yet
    await through_review(api, app_id, {1: ("disclosed", "")})
    await act(api, app_id, "sign", {"by": "chief-liu"})
    await eventually(api, app_id, lambda s: any(
        letter["kind"] == "reply" and letter["status"] == "awaiting-staff" for letter in s["letters"]))
    download = await api.get(portal, headers=api.as_applicant(app_id))
    assert download.status_code == 200
    row = (await letters(api, app_id))["reply"]
    assert sha256(download.content) == row["pdf_sha256"]
    closed = await state(api, app_id)
    assert closed["status"] == "closed" and closed["delivered_on"] in since(first)


# --- an SMTP outage: its own mail server, worker and database ----------------------------------


async def test_smtp_outage_is_retried_shown_to_staff_and_the_reply_arrives_once(env, client, tmp_path: Path,
                                                                                spare_port: int):  # noqa: F811
    handler = CapturingHandler()
    port = spare_port  # held for the whole test: the server stops and starts again on it
    smtp = SmtpController(handler, port=port)
    smtp.start()
    try:
        async with own_mail_stack(client, tmp_path, "outage", "OUT", port) as (api, engine):
            # Received long ago: the reply is already due, so the held-up letter cannot make the deadline.
            received = (today() - timedelta(days=40)).isoformat()
            app_id = (await register(api, received_on=received))["application_id"]
            await eventually(api, app_id, lambda s: any(e["kind"] == "letter-sent" for e in s["timeline"]))
            smtp.stop()
            await through_review(api, app_id, {1: ("disclosed", "")})
            await act(api, app_id, "sign", {"by": "chief-liu"})
            held = await eventually(api, app_id, lambda s: any(
                letter["kind"] == "reply" and letter["attempts"] >= 3 for letter in s["letters"]), timeout=40)
            reply = next(letter for letter in held["letters"] if letter["kind"] == "reply")
            assert reply["status"] == "failed" and "Connection" in reply["last_error"]
            assert held["status"] == "awaiting-delivery"
            assert "letter-delayed" in [e["kind"] for e in held["timeline"]]
            row = (await letters(api, app_id))["reply"]
            assert row["status"] == "failed" and row["attempts"] >= 3 and "Connection" in row["last_error"]
            with Session(engine) as session:
                alerts = {a.key: a for a in session.exec(select(StaffAlert).where(
                    StaffAlert.application_id == app_id, StaffAlert.kind == "delivery-problem")).all()}
            assert alerts[f"{app_id}:reply:retrying"].role == "handler"
            assert alerts[f"{app_id}:reply:before-due"].role == "supervisor"

            smtp = SmtpController(handler, port=port)
            smtp.start()
            await env.fast_forward(client.get_workflow_handle(app_id), timedelta(minutes=6))  # the backoff
            closed = await eventually(api, app_id, lambda s: s["status"] == "closed", timeout=40)
            row = (await letters(api, app_id))["reply"]
            assert row["status"] == "sent" and row["last_error"] is None
            # Delivered the day the mail server finally accepted it (RULES §3 Service), not the day it was signed.
            accepted = datetime.fromisoformat(row["evidence"]["accepted_at"])
            assert closed["delivered_on"] == local_date(accepted).isoformat() >= closed["replied_on"]
            # Once the workflow has ended nothing can send the reply again: then count.
            await asyncio.wait_for(client.get_workflow_handle(app_id).result(), timeout=40)
            replies = [m for m in mails_for(handler.envelopes, app_id) if "答复" in m["Subject"]]
            assert len(replies) == 1
    finally:
        smtp.stop()
