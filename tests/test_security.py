"""OWASP API Security Top 10 (2023) items 1-5, privacy in Temporal, the audit chain, applicants and
third parties. On the session's stack (users from tests.helpers.TEST_USERS) unless a test needs its own.
"""

import asyncio
import json
import os
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import jwt
import pytest
from sqlalchemy import text
from sqlmodel import Session, col, select
from temporalio.client import Client

from api.main import create_app
from services.audit import verify_audit
from core.config import Settings
from core.security import QUERY_CODE_ALPHABET, QUERY_CODE_LENGTH, issue_access_token, third_party_token
from db.models_security import AuditEvent, StaffUser
from tests.helpers import (
    TEST_PASSWORD,
    StaffClient,
    act,
    application_body,
    eventually,
    register,
    send_action,
    through_review,
    today,
)

REPO_ROOT = Path(__file__).resolve().parent.parent


def audit_rows(api: StaffClient, application_id: str) -> list[AuditEvent]:
    with Session(api.app.state.engine) as session:
        return list(session.exec(select(AuditEvent).where(AuditEvent.application_id == application_id)
                                 .order_by(col(AuditEvent.seq))))


def chinese(response: httpx.Response) -> str:
    detail = response.json()["detail"]
    assert isinstance(detail, str) and not detail.isascii() and "Traceback" not in detail, response.text
    return detail


# --- API2 broken authentication ------------------------------------------------------------------


async def test_no_expired_or_tampered_token_is_401(api: StaffClient, anon: httpx.AsyncClient):
    settings = api.app.state.settings
    app_id = (await register(api))["application_id"]
    paths = [("GET", "/api/v1/applications"), ("GET", f"/api/v1/applications/{app_id}"),
             ("POST", f"/api/v1/applications/{app_id}/sign"), ("GET", "/api/v1/calendar/years"),
             ("GET", "/api/v1/admin/users"), ("POST", "/api/v1/codec/decode")]
    expired = issue_access_token(settings, "chief-liu", 1, now=datetime.now(UTC) - timedelta(hours=3))
    good = api.tokens["chief-liu"]
    header, payload, signature = good.split(".")
    claims = jwt.decode(good, options={"verify_signature": False}) | {"sub": "admin"}
    forged_payload = jwt.encode(claims, "guessed-secret-guessed-secret-guessed!!", algorithm="HS256").split(".")[1]
    tampered = [f"{header}.{forged_payload}.{signature}",  # claims changed, old signature
                jwt.encode(claims, "guessed-secret-guessed-secret-guessed!!", algorithm="HS256"),  # wrong key
                f"{header}.{payload}.{signature[:-4]}AAAA",
                jwt.encode(claims, None, algorithm="none") if "none" in jwt.algorithms.get_default_algorithms() else "x.y.z"]
    for method, path in paths:
        for token in [None, expired, *tampered]:
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            response = await anon.request(method, path, headers=headers, json={} if method == "POST" else None)
            assert response.status_code == 401, (path, token, response.text)
            assert response.headers["www-authenticate"] == "Bearer"
            chinese(response)


async def test_log_in_wrong_password_and_deactivated_user(api: StaffClient, anon: httpx.AsyncClient):
    wrong = await anon.post("/api/v1/auth/token", data={"username": "wang", "password": "not-the-password"})
    assert wrong.status_code == 401 and "用户名或密码错误" in chinese(wrong)
    nobody = await anon.post("/api/v1/auth/token", data={"username": "nobody", "password": TEST_PASSWORD})
    assert nobody.status_code == 401 and nobody.json() == wrong.json()

    admin = api.as_user("admin")
    created = await api.post("/api/v1/admin/users", headers=admin, json={
        "username": "temp-sun", "password": "a-long-enough-password", "roles": ["handler"], "department": "综合统计科"})
    assert created.status_code == 201, created.text
    assert set(created.json()) == {"username", "full_name", "roles", "department", "active"}
    token = await api.log_in("temp-sun", "a-long-enough-password")
    me = await anon.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200 and me.json()["roles"] == ["handler"]
    # A role change revokes the tokens issued before it; deactivation too.
    changed = await api.patch("/api/v1/admin/users/temp-sun", headers=admin, json={"roles": ["registrar"]})
    assert changed.status_code == 200, changed.text
    assert (await anon.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})).status_code == 401
    token = await api.log_in("temp-sun", "a-long-enough-password")
    await api.patch("/api/v1/admin/users/temp-sun", headers=admin, json={"active": False})
    assert (await anon.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})).status_code == 401
    again = await anon.post("/api/v1/auth/token", data={"username": "temp-sun", "password": "a-long-enough-password"})
    assert again.status_code == 401


# --- API5 broken function-level authorisation ---------------------------------------------------


async def test_roles_decide_who_does_what(api: StaffClient):
    app_id = (await register(api))["application_id"]
    await act(api, app_id, "extension-request", {"days": 5, "reason": "需要调取档案", "by": "wang"})
    for action, body in [("sign", {}), ("extension-decision", {"approve": True}),
                         ("override", {"consultation_id": f"{app_id}.consult-1", "reason": "涉及重大公共利益"})]:
        response = await api.post(f"/api/v1/applications/{app_id}/{action}", json=body, headers=api.as_user("wang"))
        assert response.status_code == 403 and "负责人" in chinese(response), (action, response.text)
    for user, action, body in [("reviewer-zhao", "decisions", {"item_no": 1, "outcome": "disclosed"}),
                               ("desk-chen", "review", {"approve": True}),
                               ("chief-liu", "decisions", {"item_no": 1, "outcome": "disclosed"}),
                               ("admin", "assign", {"handler": "x"})]:
        response = await api.post(f"/api/v1/applications/{app_id}/{action}", json=body, headers=api.as_user(user))
        assert response.status_code == 403, (user, action, response.text)
    # Staff routes are not for applicants: their code is no credential there.
    as_applicant = api.as_applicant(app_id)
    for method, path in [("GET", f"/api/v1/applications/{app_id}"), ("POST", f"/api/v1/applications/{app_id}/sign"),
                         ("GET", "/api/v1/applications")]:
        response = await api.request(method, path, headers=as_applicant, json={} if method == "POST" else None)
        assert response.status_code == 401, (path, response.text)
    # Only admins manage users and publish calendars.
    for user in ("chief-liu", "wang"):
        assert (await api.get("/api/v1/admin/users", headers=api.as_user(user))).status_code == 403
        assert (await api.put("/api/v1/calendar/years/2031", headers=api.as_user(user),
                              json={"holidays": ["2031-01-01"], "source": "测试用放假安排"})).status_code == 403


# --- API1 broken object-level authorisation -----------------------------------------------------


async def test_applicant_cannot_read_another_application_and_guessing_is_audited(api: StaffClient):
    a = (await register(api))["application_id"]
    b = (await register(api, applicant={"name": "李四", "email": "lisi@example.cn", "phone": "13900001111"}))["application_id"]
    mine = await api.get(f"/api/v1/applicant/applications/{a}", headers=api.as_applicant(a))
    assert mine.status_code == 200, mine.text
    denied = [await api.get(f"/api/v1/applicant/applications/{b}", headers=api.as_applicant(a))]
    real = api.query_codes[b]
    near = real[:-1] + ("X" if real[-1] != "X" else "Y")  # one character off
    for guess in ("AAAAAAAAAAAA", "34679ACDEFGH", near, ""):
        denied.append(await api.get(f"/api/v1/applicant/applications/{b}", headers={"X-Query-Code": guess}))
    denied.append(await api.post(f"/api/v1/applicant/applications/{b}/withdraw", json={},
                                 headers=api.as_applicant(a)))
    for response in denied[:-2] + denied[-1:]:
        assert response.status_code == 404 and "查询码不正确" in chinese(response), response.text
    assert denied[-2].status_code == 422  # an empty code is no code
    unknown = await api.get("/api/v1/applicant/applications/GK-2099-999999", headers=api.as_applicant(a))
    assert unknown.status_code == 404 and unknown.json() == denied[0].json()  # no probing which numbers exist
    refused = [r for r in audit_rows(api, b) if r.actor == "applicant" and r.status_code == 404]
    assert len(refused) >= 5 and all(r.action.startswith(("GET /api/v1/applicant", "POST /api/v1/applicant"))
                                     for r in refused)
    assert (await api.get(f"/api/v1/applications/{b}")).json()["status"] == "handling"  # B untouched


async def test_handler_of_another_department_gets_404(api: StaffClient):
    app_id = (await register(api))["application_id"]  # 综合统计科: wang's department
    own_id = (await register(api, handler="li", department="执法监督科"))["application_id"]  # li's
    li = api.as_user("li")
    assert (await api.get(f"/api/v1/applications/{app_id}", headers=api.as_user("wang"))).status_code == 200
    for method, path, body in [("GET", f"/api/v1/applications/{app_id}", None),
                               ("GET", f"/api/v1/applications/{app_id}/events", None),
                               ("POST", f"/api/v1/applications/{app_id}/decisions", {"item_no": 1, "outcome": "disclosed"})]:
        response = await api.request(method, path, headers=li, json=body)
        assert response.status_code == 404 and "没有编号为" in chinese(response), (path, response.text)
    listed = (await api.get("/api/v1/applications", headers=li, params={"limit": 100, "handler": "li"})).json()
    assert own_id in [row["application_id"] for row in listed["items"]], listed  # not empty: his own is there
    assert {row["department"] for row in listed["items"]} == {"执法监督科"}
    asked = (await api.get("/api/v1/applications", headers=li, params={"department": "综合统计科"})).json()
    assert asked["total"] == 0
    assert [r.status_code for r in audit_rows(api, app_id) if r.actor == "li"] == [404, 404, 404]


# --- API3 broken object-property-level authorisation ------------------------------------------


async def test_mass_assignment_is_422(api: StaffClient):
    app_id = (await register(api))["application_id"]
    for action, body, user in [("decisions", {"item_no": 1, "outcome": "disclosed", "by": "chief-liu"}, "wang"),
                               ("submit", {"by": "wang"}, "wang"), ("sign", {"status": "closed"}, "chief-liu"),
                               ("assign", {"handler": "li", "status": "closed"}, "desk-chen")]:
        response = await api.post(f"/api/v1/applications/{app_id}/{action}", json=body, headers=api.as_user(user))
        assert response.status_code == 422 and "不接受此字段" in chinese(response), (action, response.text)
    body = application_body()
    response = await api.post("/api/v1/applications", json=body, headers=api.as_user("desk-chen"))  # registered_by
    assert response.status_code == 422
    public = {k: body[k] for k in ("applicant", "items", "delivery_method")}
    nul = await api.post("/api/v1/public/applications", headers={"Authorization": ""},
                         json=public | {"applicant": public["applicant"] | {"name": "张\u0000三"}})
    assert nul.status_code == 422 and "控制字符" in chinese(nul)
    for nul_login in ("wang\u0000", "\u0000"):
        assert (await api.post("/api/v1/auth/token", data={"username": nul_login, "password": "x"})).status_code == 401
    assert (await api.get("/api/v1/applications", params={"handler": "a\u0000b"})).status_code == 422
    for extra in ({"handler": "wang"}, {"received_on": "2020-01-01"}, {"registered_by": "chief-liu"}):
        response = await api.post("/api/v1/public/applications", json=public | extra, headers={"Authorization": ""})
        assert response.status_code == 422, extra


async def test_applicant_view_and_user_objects_carry_no_internal_fields(api: StaffClient):
    app_id = (await register(api, items=[{"description": "某企业统计报表，联系人身份证号110101199003071234"}]))[
        "application_id"]
    await act(api, app_id, "decisions", {"item_no": 1, "outcome": "disclosed", "reasons": "可以公开", "by": "wang"})
    await act(api, app_id, "submit", {"by": "wang"})
    returned = await act(api, app_id, "review", {"approve": False, "comment": "审查意见：内部备注甲", "by": "reviewer-zhao"})
    assert returned["status"] == "handling"
    view = await api.get(f"/api/v1/applicant/applications/{app_id}", headers=api.as_applicant(app_id))
    assert view.status_code == 200, view.text
    shown = view.json()
    assert set(shown) == {"application_id", "status", "status_text", "received_on", "items", "due_on",
                          "due_provisional", "due_explanation", "working_days_left", "paused", "extended",
                          "supplement", "replied_on", "reply_available", "timeline"}
    for secret in ("wang", "reviewer-zhao", "desk-chen", "综合统计科", "内部备注甲", "可以公开", "prescreen", "handler"):
        assert secret not in view.text, secret
    assert shown["items"][0]["outcome"] is None  # not before the reply
    users = await api.get("/api/v1/admin/users", headers=api.as_user("admin"))
    assert users.status_code == 200
    assert "argon2" not in users.text and "password" not in users.text and "token_version" not in users.text
    me = await api.get("/api/v1/auth/me")
    assert set(me.json()) == {"username", "full_name", "roles", "department", "active"}


# --- API4 unrestricted resource consumption ----------------------------------------------------


@pytest.fixture
async def strict_app(api: StaffClient, client: Client):
    """The session's database and worker behind an app with low limits (its own buckets)."""
    settings: Settings = api.app.state.settings.model_copy(update={
        "rate_limit_public_intake_per_minute": 3, "rate_limit_lookup_per_minute": 5, "rate_limit_login_per_minute": 4,
        "max_request_bytes": 20_000})
    app = create_app(settings, client=client, engine=api.app.state.engine)
    async with StaffClient(transport=httpx.ASGITransport(app=app, client=("203.0.113.7", 4000)),
                           base_url="http://api") as http:
        http.app = app
        yield http


async def test_flooding_is_429_and_oversized_bodies_are_413(api: StaffClient, strict_app: StaffClient):
    public = {k: application_body()[k] for k in ("applicant", "items", "delivery_method")}
    # five different requests (the same one again within a day would be a resubmission: issue 23 point 6)
    statuses = [(await strict_app.post("/api/v1/public/applications", json=public | {
        "items": [{"description": f"2025年统计公报第{n}部分"}]})).status_code for n in range(5)]
    assert statuses[:3] == [201, 201, 201] and statuses[3:] == [429, 429], statuses
    flooded = await strict_app.post("/api/v1/public/applications", json=public)
    assert flooded.status_code == 429 and "过于频繁" in chinese(flooded) and flooded.headers["retry-after"]

    app_id = (await register(api))["application_id"]
    looks = [await strict_app.get(f"/api/v1/applicant/applications/{app_id}", headers={"X-Query-Code": "WRONGCODE99"})
             for _ in range(7)]
    assert [r.status_code for r in looks] == [404] * 5 + [429] * 2
    # (a name of its own: wrong passwords also count against the account, issue 23 point 8)
    logins = [(await strict_app.post("/api/v1/auth/token", data={"username": "guessed-at", "password": "guess-" + str(n)}))
              .status_code for n in range(6)]
    assert logins == [401] * 4 + [429] * 2

    big = application_body(items=[{"description": "很长的描述" * 800}] * 3)
    response = await strict_app.post("/api/v1/applications", json=big)
    assert response.status_code == 413 and "过大" in chinese(response)

    async def chunks():
        for _ in range(30):
            yield b"x" * 1000

    streamed = await strict_app.post("/api/v1/applications", content=chunks(), headers={"Content-Type": "application/json"})
    assert streamed.status_code == 413
    assert (await api.get("/api/v1/applications", params={"limit": 101})).status_code == 422


# --- privacy in Temporal ---------------------------------------------------------------------


async def test_history_holds_no_personal_data_in_plain_text(api: StaffClient, client: Client):
    person = {"name": "欧阳明月", "type": "natural-person", "id_number": "350102198807061248",
              "email": "ouyang.mingyue@example.cn", "phone": "13698765432", "address": "福州市台江区某巷88号"}
    app_id = (await register(api, applicant=person, delivery_method="email"))["application_id"]
    await through_review(api, app_id, {1: ("disclosed", "")})
    await act(api, app_id, "sign", {"by": "chief-liu"})
    await client.get_workflow_handle(app_id).result()
    history = await client.get_workflow_handle(app_id).fetch_history()  # raw: the client does not decode it
    raw = b"".join(event.SerializeToString() for event in history.events) + history.to_json().encode()
    for value in (person["name"], person["id_number"], person["email"], person["phone"], person["address"]):
        for form in (value.encode(), json.dumps(value).encode(), value.encode("unicode_escape")):
            assert form not in raw, f"{value!r} in the history"
    assert b"binary/encrypted" in raw
    # …while the API, holding the key, reads it as before.
    assert (await api.get(f"/api/v1/applications/{app_id}")).json()["applicant_name"] == person["name"]


async def test_codec_endpoint_for_the_temporal_ui(api: StaffClient, client: Client):
    app_id = (await register(api))["application_id"]
    history = await client.get_workflow_handle(app_id).fetch_history()
    started = history.events[0].workflow_execution_started_event_attributes.input.payloads[0]
    body = {"payloads": [{"metadata": {k: __import__("base64").b64encode(v).decode() for k, v in started.metadata.items()},
                          "data": __import__("base64").b64encode(started.data).decode()}]}
    decoded = await api.post("/api/v1/codec/decode", json=body)
    assert decoded.status_code == 200, decoded.text
    plain = __import__("base64").b64decode(decoded.json()["payloads"][0]["data"]).decode()
    assert "张三" in plain and app_id in plain
    assert (await api.post("/api/v1/codec/decode", json=body, headers=api.as_user("wang"))).status_code == 403
    again = await api.post("/api/v1/codec/encode", json=decoded.json())
    assert (await api.post("/api/v1/codec/decode", json=again.json())).json() == decoded.json()
    preflight = await api.options("/api/v1/codec/decode", headers={
        "Origin": "http://localhost:8080", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type,x-namespace"})
    assert preflight.status_code == 200 and preflight.headers["access-control-allow-origin"] == "http://localhost:8080"
    other = await api.options("/api/v1/codec/decode", headers={
        "Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
    assert other.headers.get("access-control-allow-origin") is None
    assert "access-control-allow-origin" not in (await api.get("/api/v1/applications", headers={
        "Origin": "http://localhost:8080"})).headers


# --- the audit trail ---------------------------------------------------------------------------


async def test_altered_audit_row_is_named_by_the_verifier(isolated_api: StaffClient, tmp_path: Path):
    api = isolated_api
    engine = api.app.state.engine
    app_id = (await register(api))["application_id"]
    await act(api, app_id, "decisions", {"item_no": 1, "outcome": "disclosed", "by": "wang"})
    await send_action(api, app_id, "sign", {"by": "wang"})  # refused: audited as well
    rows = audit_rows(api, app_id)
    assert [(r.actor, r.status_code) for r in rows][:3] == [("desk-chen", 201), ("wang", 200), ("wang", 403)]
    assert verify_audit(engine).ok
    victim = rows[1]
    with engine.begin() as connection:
        with pytest.raises(Exception, match="append-only"):
            with connection.begin_nested():
                connection.execute(text("UPDATE audit_event SET actor = 'chief-liu' WHERE seq = :s"), {"s": victim.seq})
        # Someone with DDL rights gets past the triggers; the chain still tells.
        if connection.dialect.name == "postgresql":
            connection.execute(text("ALTER TABLE audit_event DISABLE TRIGGER audit_event_append_only"))
        else:
            connection.execute(text("DROP TRIGGER audit_event_no_update"))
        connection.execute(text("UPDATE audit_event SET actor = 'chief-liu' WHERE seq = :s"), {"s": victim.seq})
    check = verify_audit(engine)
    assert not check.ok and check.first_bad_seq == victim.seq and "altered" in check.problem

    result = subprocess.run([sys.executable, "admin.py", "verify-audit"], capture_output=True, text=True, cwd=REPO_ROOT,
                            env={**os.environ, "DISCLOSURE_DATABASE_URL": str(engine.url.render_as_string(hide_password=False))})
    assert result.returncode == 1 and f"row {victim.seq}" in result.stderr, result.stderr


def test_create_admin_takes_the_password_from_the_environment_only(tmp_path: Path):
    database = f"sqlite:///{tmp_path / 'a.db'}"
    env = {"PATH": "/usr/bin:/bin", "DISCLOSURE_DATABASE_URL": database}
    no_password = subprocess.run([sys.executable, "admin.py", "create-admin", "--username", "root-admin"],
                                 capture_output=True, text=True, cwd=REPO_ROOT, env=env, stdin=subprocess.DEVNULL)
    assert no_password.returncode == 2 and "DISCLOSURE_ADMIN_PASSWORD" in no_password.stderr
    made = subprocess.run([sys.executable, "admin.py", "create-admin", "--username", "root-admin"], capture_output=True,
                          text=True, cwd=REPO_ROOT, env=env | {"DISCLOSURE_ADMIN_PASSWORD": "correct horse battery"})
    assert made.returncode == 0, made.stderr
    from db.session import make_engine

    engine = make_engine(database)
    with Session(engine) as session:
        user = session.get(StaffUser, "root-admin")
        assert user.role_set() == {"admin"} and user.password_hash.startswith("$argon2id$")
    engine.dispose()


def test_the_api_refuses_to_start_without_a_secret(settings: Settings):
    with pytest.raises(RuntimeError, match="DISCLOSURE_JWT_SECRET"):
        create_app(settings.model_copy(update={"jwt_secret": None}), client=object(), engine=None)


# --- applicants and third parties ------------------------------------------------------------


async def test_applicant_supplements_withdraws_and_reads_the_reply(api: StaffClient):
    app_id = (await register(api, registered_by="online-form", handler=None, department=None))["application_id"]
    code = api.query_codes[app_id]
    # 12 characters without look-alikes (README): the code's alphabet leaves out 0/O, 1/I/L, 2/Z, 5/S, 8/B.
    assert QUERY_CODE_LENGTH == 12 and set(QUERY_CODE_ALPHABET).isdisjoint("01258OILZSB")
    assert len(code) == QUERY_CODE_LENGTH and set(code) <= set(QUERY_CODE_ALPHABET), code
    await act(api, app_id, "assign", {"handler": "wang", "department": "综合统计科", "by": "desk-chen"})
    await act(api, app_id, "supplement-request", {"needed": ["请写明文件名称或文号"], "by": "wang"})
    mine = (await api.get(f"/api/v1/applicant/applications/{app_id}", headers=api.as_applicant(app_id))).json()
    assert mine["status"] == "awaiting-supplement" and mine["supplement"]["needed"] == ["请写明文件名称或文号"]
    assert "本机关已发出补正通知，请按通知要求补正" in [s["what"] for s in mine["timeline"]]
    supplemented = await api.post(f"/api/v1/applicant/applications/{app_id}/supplement",
                                  json={"note": "文号为某统字〔2025〕1号"}, headers=api.as_applicant(app_id))
    assert supplemented.status_code == 200, supplemented.text
    assert supplemented.json()["status"] == "handling" and supplemented.json()["due_on"]
    early = await api.get(f"/api/v1/applicant/applications/{app_id}/reply", headers=api.as_applicant(app_id))
    assert early.status_code == 409 and "尚未答复" in chinese(early)
    await through_review(api, app_id, {1: ("disclosed", "")})
    await act(api, app_id, "sign", {"by": "chief-liu"})
    reply = await api.get(f"/api/v1/applicant/applications/{app_id}/reply", headers=api.as_applicant(app_id))
    assert reply.status_code == 200, reply.text
    assert app_id in reply.json()["text"] and set(reply.json()) == {"application_id", "replied_on", "subject", "text",
                                                                    "pdf_url"}
    for _ in range(100):  # the signed PDF is issued in the background right after signing
        pdf = await api.get(reply.json()["pdf_url"], headers=api.as_applicant(app_id))
        if pdf.status_code == 200:
            break
        await asyncio.sleep(0.2)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    stranger = await api.get(reply.json()["pdf_url"], headers={"X-Query-Code": "WRONGCODE234"})
    assert stranger.status_code == 404
    late = await api.post(f"/api/v1/applicant/applications/{app_id}/withdraw", json={}, headers=api.as_applicant(app_id))
    assert late.status_code == 409, late.text


async def test_third_party_link_is_signed_single_use_and_expires(api: StaffClient, anon: httpx.AsyncClient):
    settings = api.app.state.settings
    app_id = (await register(api, items=[{"description": "2025年统计公报"}, {"description": "某公司报送的统计报表"}]))[
        "application_id"]
    consulting = await act(api, app_id, "consultations", {
        "consultee": {"kind": "third-party", "name": "某科技有限公司"}, "item_nos": [2], "by": "wang"})
    consultation_id = consulting["consultations"][0]["consultation_id"]
    token = third_party_token(consultation_id, settings=settings)
    page = await anon.get(f"/api/v1/third-party/{token}")
    assert page.status_code == 200, page.text
    assert page.json()["item_descriptions"] == ["某公司报送的统计报表"] and "2025年统计公报" not in page.text
    assert app_id not in page.text

    expired = third_party_token(consultation_id, issued_on=today() - timedelta(days=30),
                                expires_on=today() - timedelta(days=10), settings=settings)
    other = third_party_token(f"{app_id}.consult-9", settings=settings)
    forged = jwt.encode(jwt.decode(token, options={"verify_signature": False}) | {"cid": f"{app_id}.consult-9"},
                        "guessed-secret-guessed-secret-guessed!!", algorithm="HS256")
    staff_token = api.tokens["wang"]
    # an old token's own expiry no longer ends the link while the answer window is open (issue 23 point 4)
    assert (await anon.get(f"/api/v1/third-party/{expired}")).status_code == 200
    for bad in (forged, staff_token, token[:-3] + "abc"):
        response = await anon.get(f"/api/v1/third-party/{bad}")
        assert response.status_code == 404 and "链接无效" in chinese(response), response.text
    assert (await anon.get(f"/api/v1/third-party/{other}")).status_code == 404  # signed, but no such consultation

    objection = await anon.post(f"/api/v1/third-party/{token}", json={"position": "objection"})
    assert objection.status_code == 422  # an objection needs reasons; the link is not spent
    answered = await anon.post(f"/api/v1/third-party/{token}", json={"position": "objection", "reasons": "涉及商业秘密"})
    assert answered.status_code == 200 and answered.json()["answered"] is True, answered.text
    for method in ("GET", "POST"):
        again = await anon.request(method, f"/api/v1/third-party/{token}",
                                   json={"position": "consent"} if method == "POST" else None)
        assert again.status_code == 409 and "已失效" in chinese(again)
    await eventually(api, app_id, lambda s: s["consultations"][0]["position"] == "objection")
    # The staff-only paper route refuses the public.
    assert (await anon.post(f"/api/v1/consultations/{consultation_id}/answer",
                            json={"position": "consent"})).status_code == 401
    rows = audit_rows(api, app_id)
    assert any(r.actor == f"third-party:{consultation_id}" and r.status_code == 200 for r in rows)
    assert all("eyJ" not in r.action for r in rows)  # tokens never written to the audit trail


async def test_errors_are_in_chinese(api: StaffClient, anon: httpx.AsyncClient):
    assert "没有找到" in chinese(await api.get("/api/v1/no-such-thing"))
    wrong_method = await api.put("/api/v1/applications")
    assert wrong_method.status_code == 405 and chinese(wrong_method) == "不支持此请求方式"
    bad_json = await api.post("/api/v1/applications", content=b"{not json", headers={
        "Content-Type": "application/json", **api.as_user("desk-chen")})
    assert bad_json.status_code == 422 and "提交的内容不符合要求" in chinese(bad_json)
    no_token = await anon.get("/api/v1/applications")
    assert no_token.status_code == 401 and "请先登录" in chinese(no_token)
    wrong_role = await api.get("/api/v1/admin/users", headers=api.as_user("wang"))
    assert wrong_role.status_code == 403 and "权限" in chinese(wrong_role)


async def test_the_consultation_letter_carries_a_working_link(api: StaffClient, anon: httpx.AsyncClient, mailbox):
    import re

    from tests.helpers import mails_about

    app_id = (await register(api, items=[{"description": "某公司报送的统计报表"}]))["application_id"]
    consulting = await act(api, app_id, "consultations", {
        "consultee": {"kind": "third-party", "name": "某科技有限公司", "email": "legal@tech.example.cn"},
        "item_nos": [1], "by": "wang"})
    consultation_id = consulting["consultations"][0]["consultation_id"]

    def letters_to_third_party():
        return [m for m in mails_about(mailbox.envelopes, "某公司报送的统计报表") if "legal@tech.example.cn" in m["To"]]

    for _ in range(100):
        if letters_to_third_party():
            break
        await asyncio.sleep(0.2)
    body = letters_to_third_party()[0].get_body(("plain",)).get_content()
    link = re.search(r"/third-party/([A-Za-z0-9_.\-]+)", body)  # the page; its API is /api/v1/third-party/{token}
    assert link and "/api/" not in link.group(0), body
    page = await anon.get(link.group(0))
    assert page.status_code == 200 and "某公司报送的统计报表" in page.text and "text/html" in page.headers["content-type"]
    api_path = f"/api/v1/third-party/{link.group(1)}"
    assert (await anon.get(api_path)).json()["item_descriptions"] == ["某公司报送的统计报表"]
    answered = await anon.post(api_path, json={"position": "consent"})
    assert answered.status_code == 200, answered.text
    answered_state = await eventually(api, app_id, lambda s: s["consultations"][0]["position"] == "consent")
    assert answered_state["consultations"][0]["consultation_id"] == consultation_id
