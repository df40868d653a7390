"""What the README promises and no other test showed, on the real stack (Temporal dev server, worker,
API, SMTP, the session's database): pickup delivery; tokens revoked by a password or department
change; codec key rotation and a worker refusing to start without keys; several consultations open
at once; the national-2019 extension of 20 working days; an edited reply draft screened again.
"""

import os
import subprocess
import sys
import uuid
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr
from sqlmodel import Session
from temporalio.client import Client

from api.main import create_app
from core.codec import KEY_ID, encrypted_data_converter, new_key_spec
from core.config import Settings
from worker import build_worker
from db import letters_repository as letters_repo
from db.session import init_db, make_engine
from tests.conftest import SECURITY_SETTINGS, fresh_database, staff_client
from tests.fixtures_smtp import SmtpServer
from tests.helpers import (
    StaffClient,
    act,
    eventually,
    mails_about,
    register,
    seed_test_users,
    send_action,
    state,
    through_review,
)
from workcalendar import WorkCalendar, load_calendar_data

REPO_ROOT = Path(__file__).resolve().parent.parent
VALID_ID = "11010519491231002X"  # a well-formed 公民身份号码 (checksum and birth date valid)


def kinds(view: dict[str, Any]) -> list[str]:
    return [e["kind"] for e in view["timeline"]]


def actions(view: dict[str, Any]) -> list[str]:
    return [a["action"] for a in view["pending_actions"]]


def reply_letter(view: dict[str, Any]) -> dict[str, Any] | None:
    return next((letter for letter in view["letters"] if letter["kind"] == "reply"), None)


async def refusal(api: StaffClient, app_id: str, action: str, body: dict[str, Any], expect: int = 409) -> str:
    response = await send_action(api, app_id, action, body)
    assert response.status_code == expect, response.text
    return response.json()["detail"]


# --- delivery by pickup ------------------------------------------------------------------------


async def test_pickup_reply_waits_at_the_desk_until_staff_record_the_collection(api: StaffClient, mailbox: SmtpServer):
    app_id = (await register(api, delivery_method="pickup"))["application_id"]
    await through_review(api, app_id, {1: ("disclosed", "")})
    signed = await act(api, app_id, "sign", {"by": "chief-liu"})
    key = f"{app_id}:reply"
    waiting = await eventually(api, app_id, lambda s: (r := reply_letter(s)) is not None and r["status"] == "awaiting-staff")
    assert waiting["status"] == "awaiting-delivery" and "confirm-delivery" in actions(waiting)
    # Issued and printable (文号 and PDF), but not e-mailed: the applicant collects it.
    document = await api.get(f"/api/v1/applications/{app_id}/letters/{key}/document.pdf")
    assert document.status_code == 200 and document.content.startswith(b"%PDF")
    assert reply_letter(waiting)["document_number"].startswith("某统依公〔")
    assert not [m for m in mails_about(mailbox.envelopes, app_id) if "答复" in m["Subject"]]

    # Only the registration desk records it, and not before the reply was signed.
    assert "权限" in await refusal(api, app_id, "delivery", {"delivered_on": signed["replied_on"], "method": "pickup",
                                                            "by": "wang"}, expect=403)
    early = date.fromisoformat(signed["replied_on"]) - timedelta(days=1)
    assert "送达日期" in await refusal(api, app_id, "delivery", {"delivered_on": early.isoformat(), "method": "pickup",
                                                              "by": "desk-chen"})
    collected = await act(api, app_id, "delivery", {"delivered_on": signed["replied_on"], "method": "pickup",
                                                    "received_by": "张三", "by": "desk-chen"})
    assert collected["status"] == "closed" and collected["delivered_on"] == signed["replied_on"]
    assert "答复已送达（当面领取）" == collected["timeline"][-1]["summary"] and actions(collected) == []
    assert reply_letter(collected)["status"] == "delivered"
    with Session(api.app.state.engine) as session:
        row = letters_repo.get_outbox(session, key)
    assert row.status == "delivered" and row.delivered_on.isoformat() == signed["replied_on"]
    assert row.sent_at is None  # never went through the mail server


# --- tokens revoked by a password or department change -------------------------------------------


async def test_password_and_department_changes_revoke_earlier_tokens(api: StaffClient, anon: httpx.AsyncClient):
    admin = api.as_user("admin")
    name, password = f"temp-zhou-{uuid.uuid4().hex[:6]}", "first-long-password"
    created = await api.post("/api/v1/admin/users", headers=admin, json={
        "username": name, "password": password, "roles": ["handler"], "department": "综合统计科"})
    assert created.status_code == 201, created.text
    app_id = (await register(api))["application_id"]  # 综合统计科

    async def reads(token: str) -> int:
        return (await anon.get(f"/api/v1/applications/{app_id}", headers={"Authorization": f"Bearer {token}"})).status_code

    first = await api.log_in(name, password)
    assert await reads(first) == 200

    changed = await api.patch(f"/api/v1/admin/users/{name}", headers=admin, json={"password": "second-long-password"})
    assert changed.status_code == 200, changed.text
    old = await anon.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {first}"})
    assert old.status_code == 401 and "登录已失效" in old.json()["detail"]
    assert await reads(first) == 401
    stale = await anon.post("/api/v1/auth/token", data={"username": name, "password": password})
    assert stale.status_code == 401
    second = await api.log_in(name, "second-long-password")
    assert await reads(second) == 200

    moved = await api.patch(f"/api/v1/admin/users/{name}", headers=admin, json={"department": "执法监督科"})
    assert moved.status_code == 200 and moved.json()["department"] == "执法监督科"
    assert await reads(second) == 401  # the token that carried the old department is dead
    third = await api.log_in(name, "second-long-password")
    assert await reads(third) == 404  # logged in again: the new department's view, not the old one's
    me = await anon.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {third}"})
    assert me.status_code == 200 and me.json()["department"] == "执法监督科"


# --- payload encryption: key rotation, and no worker without keys ---------------------------------


def payload_key(payloads) -> bytes:
    return payloads.payloads[0].metadata[KEY_ID]


async def test_rotated_codec_keys_read_old_histories_and_encrypt_with_the_new_key(
    client: Client, mailbox: SmtpServer, tmp_path: Path
):
    k1, k2 = new_key_spec("k1"), new_key_spec("k2")
    with_k1 = Client(**{**client.config(), "data_converter": encrypted_data_converter(k1)})
    rotated = Client(**{**client.config(), "data_converter": encrypted_data_converter(f"{k2},{k1}")})
    with fresh_database(tmp_path, "rotation") as database_url:
        own = Settings(data_dir=tmp_path, database_url=database_url, task_queue=f"rotation-{uuid.uuid4()}",
                       smtp_host=mailbox.host, smtp_port=mailbox.port,
                       application_number_prefix=f"ROT{uuid.uuid4().hex[:6].upper()}",
                       **(SECURITY_SETTINGS | {"codec_keys": k1}))
        engine = make_engine(database_url)
        init_db(engine)
        seed_test_users(engine)
        try:
            # Before the rotation: API and worker hold k1 only.
            async with build_worker(with_k1, own, engine):
                async with StaffClient(transport=httpx.ASGITransport(app=create_app(own, client=with_k1, engine=engine)),
                                       base_url="http://api") as api:
                    await api.log_in_all()
                    app_id = (await register(api))["application_id"]
                    await act(api, app_id, "decisions", {"item_no": 1, "outcome": "disclosed", "by": "wang"})
                    await eventually(api, app_id, lambda s: "letter-sent" in kinds(s))  # nothing left in flight
            # k2 put first, k1 kept: a new worker (empty cache: it replays the k1 history) and API.
            after = own.model_copy(update={"codec_keys": SecretStr(f"{k2},{k1}")})
            async with build_worker(rotated, after, engine):
                async with StaffClient(transport=httpx.ASGITransport(app=create_app(after, client=rotated, engine=engine)),
                                       base_url="http://api") as api:
                    await api.log_in_all()
                    view = await state(api, app_id)
                    assert view["applicant_name"] == "张三" and view["items"][0]["proposal"]["outcome"] == "disclosed"
                    submitted = await act(api, app_id, "submit", {"by": "wang"})
                    assert submitted["status"] == "in-review" and submitted["reply_draft"] is not None
        finally:
            engine.dispose()

    history = await client.get_workflow_handle(app_id).fetch_history()  # raw: payloads as stored
    started = history.events[0].workflow_execution_started_event_attributes
    assert payload_key(started.input) == b"k1"
    accepted = [e.workflow_execution_update_accepted_event_attributes.accepted_request for e in history.events
                if e.HasField("workflow_execution_update_accepted_event_attributes")]
    assert [payload_key(r.input.args) for r in accepted] == [b"k1", b"k2"]  # decisions before, submit after
    submit_at = max(i for i, e in enumerate(history.events) if e.HasField("workflow_execution_update_accepted_event_attributes"))
    later = [e.activity_task_scheduled_event_attributes.input for e in history.events[submit_at:]
             if e.HasField("activity_task_scheduled_event_attributes")]
    assert later and {payload_key(p) for p in later} == {b"k2"}
    await client.get_workflow_handle(app_id).terminate("test over")


def test_worker_refuses_to_start_without_codec_keys(client: Client, tmp_path: Path):
    base = {key: value for key, value in os.environ.items() if not key.startswith("DISCLOSURE_")}
    base |= {"DISCLOSURE_TEMPORAL_ADDRESS": client.service_client.config.target_host,
             "DISCLOSURE_TEMPORAL_NAMESPACE": client.namespace, "DISCLOSURE_TASK_QUEUE": f"nokeys-{uuid.uuid4()}",
             "DISCLOSURE_DATABASE_URL": f"sqlite:///{tmp_path / 'nokeys.db'}", "DISCLOSURE_DATA_DIR": str(tmp_path),
             "DISCLOSURE_EXAMPLE_AGENCY": "true"}
    for keys, reason in (("", "DISCLOSURE_CODEC_KEYS is required"), ("k1:c2hvcnQ=", "'k1' must be 32 bytes")):
        started = subprocess.run([sys.executable, "worker.py"], cwd=REPO_ROOT, env=base | {"DISCLOSURE_CODEC_KEYS": keys},
                                 capture_output=True, text=True, timeout=120)
        output = started.stdout + started.stderr
        assert started.returncode != 0, output
        assert reason in started.stderr.strip().splitlines()[-1], output  # the last line says why
        assert "worker polling" not in output


# --- several consultations at once ---------------------------------------------------------------


async def test_several_consultations_each_with_its_own_window_and_the_clock_stopped_until_the_last(env, api, client):
    calendar = WorkCalendar(load_calendar_data())
    created = await register(api, items=[{"description": "某公司2025年报送的统计报表"},
                                         {"description": "与市发展改革委联合制作的2025年价格监测报告"}])
    app_id = created["application_id"]
    # By e-mail: the day the mail server accepts a letter is its dispatch and its receipt (issue 11 point 1),
    # so each clock stops, and each window runs, from its own letter.
    await act(api, app_id, "consultations", {"consultee": {"kind": "third-party", "name": "某科技有限公司",
                                                           "email": "legal@tech.example.cn"},
                                             "item_nos": [1], "by": "wang"})
    await act(api, app_id, "consultations", {"consultee": {"kind": "agency", "name": "市发展和改革委员会",
                                                           "email": "gk@fgw.example.gov.cn"},
                                             "item_nos": [2], "by": "wang"})
    both = await eventually(api, app_id, lambda s: len(s["paused_intervals"]) == 2
                            and all(c["sent_on"] and c["served_on"] for c in s["consultations"]))
    first, second = both["consultations"]
    assert (first["consultation_id"], second["consultation_id"]) == (f"{app_id}.consult-1", f"{app_id}.consult-2")
    assert both["status"] == "consulting" and both["due"]["projected"] is True
    assert [(p["started_on"], p["ended_on"], p["expected_end_on"]) for p in both["paused_intervals"]] == [
        (c["sent_on"], None, c["window_ends_on"]) for c in (first, second)]
    for c in (first, second):  # each window: 15 working days from its own letter
        assert calendar.workdays_between(date.fromisoformat(c["sent_on"]),
                                         date.fromisoformat(c["window_ends_on"]))[0] == 15

    # The third party answers two weeks later (its own clock): its window closes, the other stays open.
    await env.fast_forward(client.get_workflow_handle(first["consultation_id"]), timedelta(days=14))
    answered = await api.post(f"/api/v1/consultations/{first['consultation_id']}/answer", json={"position": "consent"},
                              headers=api.as_user("desk-chen"))
    assert answered.status_code == 200, answered.text
    one_left = await eventually(api, app_id, lambda s: s["consultations"][0]["position"] == "consent")
    assert one_left["status"] == "consulting" and one_left["due"]["projected"] is True
    [closed, still_open] = one_left["paused_intervals"]
    assert closed["ended_on"] is not None and closed["ended_on"] > closed["started_on"]
    assert still_open["ended_on"] is None
    assert "尚有征求意见未结束" in await refusal(api, app_id, "submit", {"by": "wang"})
    assert "正在征求意见" in await refusal(api, app_id, "decisions", {"item_no": 2, "outcome": "disclosed", "by": "wang"})
    await act(api, app_id, "decisions", {"item_no": 1, "outcome": "disclosed", "by": "wang"})  # item 1 is free

    # The agency stays silent to the end of its window (consent): only now does the clock run again.
    await env.fast_forward(client.get_workflow_handle(second["consultation_id"]), timedelta(days=30))
    resumed = await eventually(api, app_id, lambda s: s["status"] == "handling")
    assert resumed["due"]["projected"] is False
    assert [p["ended_on"] for p in resumed["paused_intervals"]] == [closed["ended_on"], second["window_ends_on"]]
    # The first pause lies inside the second: the reply period is moved by the second window only, counted once.
    assert calendar.workdays_between(date.fromisoformat(created["due_on"]),
                                     date.fromisoformat(resumed["due"]["due_on"]))[0] == 15
    steps = resumed["due"]["steps"]
    assert sum("征求" in s and "扣除" in s for s in steps) == 2, steps
    assert any("重叠部分只扣除一次" in s for s in steps), steps


# --- national-2019: an extension of up to 20 working days ----------------------------------------


async def test_national_2019_extension_of_20_working_days(api: StaffClient, client: Client, engine):
    """The agency's setting (issue 11 point 7: neither the desk nor the form chooses the period)."""
    national = api.app.state.settings.model_copy(update={"reply_period_profile": "national-2019"})
    async with staff_client(create_app(national, client=client, engine=engine)) as api:
        await _national_2019_extension(api)


async def _national_2019_extension(api: StaffClient) -> None:
    created = await register(api)
    app_id = created["application_id"]
    assert created["due_on"] == (await api.get("/api/v1/calendar/deadline", params={
        "received": created["received_on"], "days": 20})).json()["due_on"]
    too_long = await refusal(api, app_id, "extension-request", {"days": 21, "reason": "需要调取档案", "by": "wang"})
    assert "最长不超过 20 个工作日" in too_long
    asked = await act(api, app_id, "extension-request", {"days": 20, "reason": "需要调取历史档案", "by": "wang"})
    assert asked["extension"]["days"] == 20 and asked["extension"]["decision"] == "pending"
    approved = await act(api, app_id, "extension-decision", {"approve": True, "by": "chief-liu"})
    forty = (await api.get("/api/v1/calendar/deadline", params={"received": created["received_on"], "days": 40})).json()
    assert approved["due"]["due_on"] == forty["due_on"] and approved["due"]["working_days_total"] == 40
    assert any("经批准延长答复期限 20 个工作日，合计 40 个工作日" in s for s in approved["due"]["steps"])


# --- an edited reply draft is screened again -----------------------------------------------------


async def test_an_edited_reply_draft_is_screened_again_and_must_be_approved_as_edited(api: StaffClient):
    app_id = (await register(api))["application_id"]
    await act(api, app_id, "decisions", {"item_no": 1, "outcome": "disclosed", "by": "wang"})
    submitted = await act(api, app_id, "submit", {"by": "wang"})
    assert submitted["prescreen_findings"] == [] and submitted["reply_draft_version"] == 0
    draft = (await api.get(f"/api/v1/applications/{app_id}/reply-draft")).json()

    risky = draft["body"].replace("经审查，", f"经审查（经办人身份证号{VALID_ID}），", 1)
    assert risky != draft["body"]
    edited = await act(api, app_id, "reply-draft", {"body": risky, "note": "补充经办信息", "by": "wang"})
    assert edited["status"] == "in-review" and edited["reply_draft_version"] == 1
    [finding] = edited["prescreen_findings"]
    assert (finding["kind"], finding["label"]) == ("id-card", "答复告知书") and VALID_ID not in finding["excerpt"]
    assert kinds(edited)[-1] == "reply-edited" and "保密预审发现 1 处需审查" in edited["timeline"][-1]["summary"]
    assert "请审阅最新稿" in await refusal(api, app_id, "review", {"approve": True, "draft_version": 0,
                                                                 "by": "reviewer-zhao"})

    # The handler edits again without the number: screened again, clean this time, and again to be reviewed.
    clean = await act(api, app_id, "reply-draft", {"body": draft["body"].replace("经审查，", "经认真审查，", 1),
                                                   "by": "wang"})
    assert clean["reply_draft_version"] == 2 and clean["prescreen_findings"] == []
    assert "保密预审" not in clean["timeline"][-1]["summary"]
    assert "第 2 稿" in await refusal(api, app_id, "review", {"approve": True, "draft_version": 1, "by": "reviewer-zhao"})
    approved = await act(api, app_id, "review", {"approve": True, "draft_version": 2, "by": "reviewer-zhao"})
    final = (await api.get(f"/api/v1/applications/{app_id}/reply-draft")).json()
    assert "经认真审查" in final["body"] and approved["reply_approved_sha256"] == final["approved_sha256"]
