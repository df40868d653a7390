"""Issue 12 point 1: a POST retried with the same Idempotency-Key does its work once and answers the first answer.

Against the real stack: the Temporal dev server and worker, the session's database (SQLite, or
PostgreSQL with DISCLOSURE_TEST_DATABASE=postgres), the SMTP capture.
"""

import asyncio
import re
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import update
from sqlmodel import Session, func, select
from temporalio.api.enums.v1 import EventType

import api.registration as registration
from api.idempotency import _scope, _secret, fingerprint
from db.models import Application, utcnow
from db.models_idempotency import IdempotencyKey
from db.models_security import ApplicantAccess
from tests.helpers import act, application_body, eventually, mails_about, register, some_identity

KEY = "Idempotency-Key"


def key() -> str:
    return f'"{uuid.uuid4()}"'  # an sf-string, as the draft writes it


async def history_count(client, workflow_id: str, event_type: int) -> int:
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    return sum(e.event_type == event_type for e in history.events)


def consultation_body(email: str) -> dict:
    return {"consultee": {"kind": "third-party", "name": "某科技有限公司", "email": email}, "item_nos": [1]}


@pytest_asyncio.fixture
async def failing_api(api) -> AsyncIterator[httpx.AsyncClient]:
    """The session's API as a client that sees a 500 as an answer (not as the app's exception)."""
    transport = httpx.ASGITransport(app=api.app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://api", headers=dict(api.headers)) as http:
        yield http


# --- staff actions: Temporal updates ---------------------------------------------------------------


async def test_a_retried_consultation_starts_one_consultation_and_sends_one_letter(api, client, mailbox):
    app_id = (await register(api))["application_id"]
    await act(api, app_id, "assign", {"handler": "wang", "by": "desk-chen"})
    email = f"legal-{uuid.uuid4().hex[:6]}@retry.example.cn"
    headers = api.as_user("wang") | {KEY: key()}
    first = await api.post(f"/api/v1/applications/{app_id}/consultations", json=consultation_body(email), headers=headers)
    again = await api.post(f"/api/v1/applications/{app_id}/consultations", json=consultation_body(email), headers=headers)
    assert first.status_code == again.status_code == 200, (first.text, again.text)
    assert again.content == first.content  # the first answer, byte for byte
    assert again.headers["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first.headers
    view = await eventually(api, app_id, lambda s: s["consultations"] and s["consultations"][0]["served_on"])
    assert len(view["consultations"]) == 1
    assert [e["kind"] for e in view["timeline"]].count("consultation-started") == 1
    assert await history_count(client, app_id, EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED) == 1
    assert await history_count(client, app_id, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED) == 2  # assign + one
    letters = [m for m in mails_about(mailbox.envelopes, app_id) if email in m["To"]]
    assert len(letters) == 1


async def test_a_lost_answer_is_not_applied_twice_the_key_is_the_update_id(api, client, engine):
    """The update ran but its answer never reached the database (a crash): the retry runs the route again,
    and Temporal answers the repeated update id with the first outcome."""
    app_id = (await register(api))["application_id"]
    headers = api.as_user("desk-chen") | {KEY: key()}
    first = await api.post(f"/api/v1/applications/{app_id}/assign", json={"handler": "wang"}, headers=headers)
    assert first.status_code == 200, first.text
    with Session(engine) as session:  # forget the stored answer, as if the process died before storing it
        session.execute(update(IdempotencyKey).where(IdempotencyKey.path == f"/api/v1/applications/{app_id}/assign")
                        .values(status_code=None, response=None, locked_until=None))
        session.commit()
    again = await api.post(f"/api/v1/applications/{app_id}/assign", json={"handler": "wang"}, headers=headers)
    assert again.status_code == 200, again.text
    assert "Idempotent-Replayed" not in again.headers  # ran again...
    assert [e["kind"] for e in again.json()["timeline"]].count("assigned") == 1  # ...and did nothing twice
    assert await history_count(client, app_id, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED) == 1
    # Without the key, the same request is a new action.
    plain = await api.post(f"/api/v1/applications/{app_id}/assign", json={"handler": "wang"},
                           headers=api.as_user("desk-chen"))
    assert plain.status_code == 200, plain.text
    assert await history_count(client, app_id, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED) == 2


async def test_the_same_key_with_another_body_is_422_and_does_nothing(api, client):
    app_id = (await register(api))["application_id"]
    headers = api.as_user("desk-chen") | {KEY: key()}
    first = await api.post(f"/api/v1/applications/{app_id}/assign", json={"handler": "wang"}, headers=headers)
    assert first.status_code == 200, first.text
    other = await api.post(f"/api/v1/applications/{app_id}/assign", json={"handler": "li"}, headers=headers)
    assert other.status_code == 422 and "Idempotency-Key" in other.json()["detail"], other.text
    assert (await api.get(f"/api/v1/applications/{app_id}")).json()["handler"] == "wang"
    # Another path is another request too.
    elsewhere = await api.post(f"/api/v1/applications/{app_id}/withdraw", json={"reason": "不再需要"}, headers=headers)
    assert elsewhere.status_code == 422, elsewhere.text
    # The same JSON written differently is the same request.
    reordered = await api.post(f"/api/v1/applications/{app_id}/assign", content='{ "handler" : "wang" }',
                               headers=headers | {"Content-Type": "application/json"})
    assert reordered.status_code == 200 and reordered.headers["Idempotent-Replayed"] == "true"


async def test_a_key_is_the_callers_own(api):
    """Another user's request with the same key is theirs: it runs, and sees nothing of the first answer."""
    app_id = (await register(api))["application_id"]
    shared = key()
    mine = await api.post(f"/api/v1/applications/{app_id}/assign", json={"handler": "wang"},
                          headers=api.as_user("desk-chen") | {KEY: shared})
    theirs = await api.post(f"/api/v1/applications/{app_id}/assign", json={"handler": "wang"},
                            headers=api.as_user("chief-liu") | {KEY: shared})
    assert mine.status_code == theirs.status_code == 200
    assert "Idempotent-Replayed" not in theirs.headers


async def test_a_request_still_running_under_the_key_is_409(api, engine):
    app_id = (await register(api))["application_id"]
    raw = str(uuid.uuid4())
    path = f"/api/v1/applications/{app_id}/assign"
    body = b'{"handler":"wang"}'
    now = utcnow()
    with Session(engine) as session:  # what the first request's claim wrote: it is still running
        session.add(IdempotencyKey(scope=_scope("staff:desk-chen", raw), method="POST", path=path,
                                   fingerprint=fingerprint(_secret(api.app.state.settings, "staff:desk-chen", raw), "POST", path, b"",
                                                               b"application/json", body),
                                   locked_until=now + registration_lease(), created_at=now,
                                   expires_at=now + registration_lease() * 100))
        session.commit()
    busy = await api.post(path, content=body, headers=api.as_user("desk-chen") | {KEY: raw, "Content-Type": "application/json"})
    assert busy.status_code == 409 and busy.headers["Retry-After"] == "1", busy.text
    assert "正在办理中" in busy.json()["detail"]
    assert "assigned" not in [e["kind"] for e in (await api.get(f"/api/v1/applications/{app_id}")).json()["timeline"]]


def registration_lease():
    from api.idempotency import LEASE

    return LEASE


async def test_an_expired_key_is_forgotten(api, engine):
    app_id = (await register(api))["application_id"]
    headers = api.as_user("desk-chen") | {KEY: key()}
    path = f"/api/v1/applications/{app_id}/assign"
    assert (await api.post(path, json={"handler": "wang"}, headers=headers)).status_code == 200
    with Session(engine) as session:
        session.execute(update(IdempotencyKey).where(IdempotencyKey.path == path).values(expires_at=utcnow()))
        session.commit()
    later = await api.post(path, json={"handler": "li"}, headers=headers)  # not 422: the key is new again
    assert later.status_code == 200 and later.json()["handler"] == "li", later.text


async def test_a_malformed_key_is_400(api):
    app_id = (await register(api))["application_id"]
    bad = await api.post(f"/api/v1/applications/{app_id}/assign", json={"handler": "wang"},
                         headers=api.as_user("desk-chen") | {KEY: "x" * 300})
    assert bad.status_code == 400 and "Idempotency-Key" in bad.json()["detail"]


# --- intake: exactly once, with the query code ------------------------------------------------------


def applications_named(engine, name: str) -> int:
    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(Application).where(Application.applicant_name == name)).one()


async def test_a_retried_registration_registers_once_with_the_same_number_and_code(api, engine):
    name = f"重试-{uuid.uuid4().hex[:6]}"
    body = {k: v for k, v in application_body(applicant={"name": name, "type": "natural-person", "id_number": some_identity(),
                                                          "email": "retry@example.cn"}).items() if k != "registered_by"}
    headers = api.as_user("desk-chen") | {KEY: key()}
    first = await api.post("/api/v1/applications", json=body, headers=headers)
    again = await api.post("/api/v1/applications", json=body, headers=headers)
    assert first.status_code == again.status_code == 201, (first.text, again.text)
    assert again.json() == first.json()
    assert applications_named(engine, name) == 1


def public_application(name: str, email: str) -> dict:
    return {"applicant": {"name": name, "type": "natural-person", "id_number": some_identity(), "email": email},
            "items": [{"description": "2025年统计公报"}], "delivery_method": "email"}


def fail_query_codes_once(monkeypatch) -> list:
    """Writing the query codes fails once (the database went away); the rows it was given are returned."""
    real, failures = registration.insert_query_codes_if_absent, []

    def fail_once(session, rows):
        if not failures:
            failures.append(rows)
            raise RuntimeError("database went away")
        return real(session, rows)

    monkeypatch.setattr(registration, "insert_query_codes_if_absent", fail_once)
    return failures


async def test_a_registration_whose_listing_failed_is_repaired_by_the_retry(api, failing_api, engine, client, monkeypatch):
    """The workflow started, then writing the row and the query code failed: the applicant's retry
    with the same key gets the same number and a query code that works."""
    name = f"修复-{uuid.uuid4().hex[:6]}"
    public = public_application(name, "repair@example.cn")
    failures = fail_query_codes_once(monkeypatch)
    headers = {KEY: key(), "Authorization": ""}
    first = await failing_api.post("/api/v1/public/applications", json=public, headers=headers)
    assert first.status_code == 500 and failures, first.text
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(ApplicantAccess).where(
            ApplicantAccess.application_id == failures[0][0]["application_id"])).one() == 0
    app_id = failures[0][0]["application_id"]
    await client.get_workflow_handle(app_id).describe()  # the workflow did start

    again = await api.post("/api/v1/public/applications", json=public, headers=headers)
    assert again.status_code == 201, again.text
    created = again.json()
    assert created["application_id"] == app_id
    own = await api.get(f"/api/v1/applicant/applications/{app_id}",
                        headers={"X-Query-Code": created["query_code"], "Authorization": ""})
    assert own.status_code == 200, own.text
    third = await api.post("/api/v1/public/applications", json=public, headers=headers)
    assert third.json() == created and third.headers["Idempotent-Replayed"] == "true"
    assert applications_named(engine, name) == 1


async def test_a_registration_whose_listing_failed_is_repaired_without_a_retry(api, failing_api, engine, client, monkeypatch):
    name = f"后台-{uuid.uuid4().hex[:6]}"
    public = public_application(name, "later@example.cn")
    failures = fail_query_codes_once(monkeypatch)
    monkeypatch.setattr(api.app.state.registration, "repair_soon", lambda client: None)  # only this test's repair
    raw = key()
    first = await failing_api.post("/api/v1/public/applications", json=public, headers={KEY: raw, "Authorization": ""})
    assert first.status_code == 500, first.text
    app_id = failures[0][0]["application_id"]
    listed = await registration.repair_registrations(engine, client, api.app.state.registration)
    assert app_id in listed
    with Session(engine) as session:
        access = session.get(ApplicantAccess, app_id)
        assert access is not None and session.get(Application, app_id) is not None
    assert app_id not in await registration.repair_registrations(engine, client, api.app.state.registration)
    # The applicant who does retry later still gets the code that was stored.
    again = await api.post("/api/v1/public/applications", json=public, headers={KEY: raw, "Authorization": ""})
    assert again.status_code == 201 and again.json()["application_id"] == app_id
    own = await api.get(f"/api/v1/applicant/applications/{app_id}",
                        headers={"X-Query-Code": again.json()["query_code"], "Authorization": ""})
    assert own.status_code == 200, own.text


# --- the pages: a double submit of the public form ------------------------------------------------------


async def test_a_double_submitted_public_form_creates_one_application(api, engine):
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=api.app), base_url="http://api") as browser:
        form_page = await browser.get("/apply")
        assert form_page.status_code == 200
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', form_page.text).group(1)
        idem = re.search(r'name="idempotency_key" value="([^"]+)"', form_page.text).group(1)
        name = f"双击-{uuid.uuid4().hex[:6]}"
        form = {"csrf_token": csrf, "idempotency_key": idem, "applicant_kind": "natural-person",
                "applicant.name": name, "applicant.id_number": some_identity(), "applicant.email": "double@example.cn", "items.0.description": "2025年统计公报",
                "delivery_method": "email", "action": "submit"}
        # Two clicks at once: the second waits for the first and shows its answer.
        first, second = await asyncio.gather(browser.post("/apply", data=form), browser.post("/apply", data=form))
        third = await browser.post("/apply", data=form)  # the page sent again (reload)
    for answer in (first, second, third):
        assert answer.status_code == 200 and "申请已提交" in answer.text, answer.text[:500]
    assert applications_named(engine, name) == 1
    row_id = _only_id(engine, name)
    assert all(row_id in answer.text for answer in (first, second, third))


def _only_id(engine, name: str) -> str:
    with Session(engine) as session:
        return session.exec(select(Application.id).where(Application.applicant_name == name)).one()


async def test_every_form_carries_its_own_key(api):
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=api.app), base_url="http://api") as browser:
        one, two = (await browser.get("/apply")).text, (await browser.get("/apply")).text
    keys = [re.search(r'name="idempotency_key" value="([^"]+)"', page).group(1) for page in (one, two)]
    assert keys[0] != keys[1] and all(len(k) >= 16 for k in keys)


async def test_a_refused_request_frees_its_key(api, engine):
    """A 403 did nothing: its key is not kept."""
    app_id = (await register(api))["application_id"]
    path = f"/api/v1/applications/{app_id}/sign"
    refused = await api.post(path, json={}, headers=api.as_user("wang") | {KEY: key()})
    assert refused.status_code == 403, refused.text
    with Session(engine) as session:
        assert session.exec(select(IdempotencyKey).where(IdempotencyKey.path == path)).first() is None


async def test_a_double_submitted_staff_action_form_acts_once(api, client):
    app_id = (await register(api))["application_id"]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=api.app), base_url="http://api") as browser:
        browser.cookies.set("gk_staff", api.tokens["chief-liu"], path="/staff")
        page = await browser.get(f"/staff/applications/{app_id}")
        assert page.status_code == 200, page.text[:300]
        assign_form = page.text[page.text.index('id="form-assign"'):]
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', assign_form).group(1)
        idem = re.search(r'name="idempotency_key" value="([^"]+)"', assign_form).group(1)
        form = {"csrf_token": csrf, "idempotency_key": idem, "handler": "li", "department": "执法监督科"}
        answers = await asyncio.gather(*(browser.post(f"/staff/applications/{app_id}/assign", data=form) for _ in range(2)))
        answers.append(await browser.post(f"/staff/applications/{app_id}/assign", data=form))
    assert all(a.status_code == 303 for a in answers), [(a.status_code, a.text[:300]) for a in answers]
    assert await history_count(client, app_id, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED) == 1


async def test_a_retried_correction_starts_one_workflow(api, engine):
    """The correction's id comes from the key: a retry whose first answer was lost finds the same one."""
    body = {"person_name": "李四", "email": "lisi@example.cn", "record": "2025年统计执法检查公告中本人企业名称",
            "correction": "企业名称误写", "evidence": "营业执照复印件"}
    raw = str(uuid.uuid4())
    headers = {KEY: raw, "Authorization": ""}
    first = await api.post("/api/v1/public/corrections", json=body, headers=headers)
    assert first.status_code == 201, first.text
    with Session(engine) as session:  # the answer was lost
        session.execute(update(IdempotencyKey).where(IdempotencyKey.scope == _scope("anonymous", raw))
                        .values(status_code=None, response=None, locked_until=None))
        session.commit()
    again = await api.post("/api/v1/public/corrections", json=body, headers=headers)
    assert again.status_code == 201 and again.json()["correction_id"] == first.json()["correction_id"], again.text
    other = await api.post("/api/v1/public/corrections", json=body, headers={KEY: key(), "Authorization": ""})
    assert other.json()["correction_id"] != first.json()["correction_id"]


async def test_an_applicants_retried_supplement_is_recorded_once(api, client):
    """The applicant's key is theirs through the query code; the retry answers the first answer."""
    created = await register(api, registered_by="online-form")
    app_id = created["application_id"]
    await act(api, app_id, "assign", {"handler": "wang", "department": "综合统计科", "by": "desk-chen"})
    await act(api, app_id, "supplement-request", {"needed": ["请写明所需名录的行业范围"], "by": "wang"})
    headers = {"X-Query-Code": created["query_code"], "Authorization": "", KEY: key()}
    path = f"/api/v1/applicant/applications/{app_id}/supplement"
    first = await api.post(path, json={"note": "行业范围：制造业"}, headers=headers)
    again = await api.post(path, json={"note": "行业范围：制造业"}, headers=headers)
    assert first.status_code == again.status_code == 200, (first.text, again.text)
    assert again.content == first.content and again.headers["Idempotent-Replayed"] == "true"
    view = (await api.get(f"/api/v1/applications/{app_id}")).json()
    assert [e["kind"] for e in view["timeline"]].count("supplement-received") == 1
    # Someone without the code, with the same key, gets nothing of the first answer.
    stranger = await api.post(path, json={"note": "行业范围：制造业"},
                              headers={"X-Query-Code": "WRONGCODE999", "Authorization": "", KEY: headers[KEY]})
    assert stranger.status_code == 404, stranger.text
