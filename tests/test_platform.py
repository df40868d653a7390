"""Issue 25 (RULES §12): one platform, many agencies, each its own office that no other agency's staff can see into.

On the real server with a database of its own (isolated_api): the installation's own agency ("main", from the
settings) and a second one made as `admin.py create-agency` makes it, each with its staff. Every route that names an
application or a staff account is tried with the other agency's: 404, the same answer as a number never given.
"""

import asyncio
from datetime import date
import re
from email.header import decode_header, make_header

import pytest
from sqlalchemy import func, select as core_select
from sqlmodel import Session, select

from db import tenancy
from workflows import search_attributes
from db.models import Application
from services.accounts import create_user
from services.agencies import create_agency
from tests.helpers import TEST_PASSWORD, act, application_body, mails_about, send_registration

WEST = "west-stats"
WEST_STAFF = {"west-desk": ["registrar"], "west-chief": ["supervisor"], "west-admin": ["admin"],
              "west-wang": ["handler"]}


async def second_agency(api) -> None:
    """A second agency with its staff, as `python admin.py create-agency` and its administrator make them."""
    with Session(api.app.state.engine) as session:
        create_agency(session, code=WEST, name="某县统计局", region="某市某县", document_number_prefix="西统",
                      reconsideration_body="某县人民政府")
        with tenancy.acting_for(WEST):
            for username, roles in WEST_STAFF.items():
                create_user(session, username=username, password=TEST_PASSWORD, roles=roles,
                            department="综合统计科" if roles == ["handler"] else None)
            session.commit()
    for username in WEST_STAFF:
        await api.log_in(username)


def every_route(app):
    """(path, methods) of every route, included routers' too (FastAPI ≥ 0.16x keeps them as included routers)."""
    for route in app.routes:
        if hasattr(route, "effective_route_contexts"):
            for context in route.effective_route_contexts():
                yield context.path, set(context.methods or ())
        else:
            yield getattr(route, "path", ""), set(getattr(route, "methods", None) or ())


def route_calls(app, application_id: str):
    """Every route of the app whose path names an application (JSON API and pages), with that application's id."""
    for path, methods in every_route(app):
        if "{application_id}" not in path:
            continue
        concrete = path.replace("{application_id}", application_id)
        concrete = re.sub(r"\{item_no\}|\{index\}|\{seq\}|\{attachment_id\}|\{file_id\}", "1", concrete)
        concrete = re.sub(r"\{[a-z_]+(:path)?\}", "x", concrete)
        for method in sorted(methods - {"HEAD", "OPTIONS"}):
            yield method, concrete


async def letters_of(api, application_id: str, username: str) -> list[dict]:
    for _ in range(200):
        letters = (await api.get(f"/api/v1/applications/{application_id}/letters", headers=api.as_user(username))).json()
        if letters and all(letter["document_number"] for letter in letters):
            return letters
        await asyncio.sleep(0.1)
    raise AssertionError(f"no issued letter for {application_id}")


async def test_two_agencies_cannot_see_each_others_anything(isolated_api, mailbox):
    api = isolated_api
    await second_agency(api)

    # The public list, and numbers per agency: the first agency's as before, the second's carrying its code.
    listed = (await api.get("/api/v1/agencies", headers={"Authorization": ""})).json()
    assert {a["code"] for a in listed} == {"main", WEST}
    assert [a["code"] for a in (await api.get("/api/v1/agencies", params={"q": "某县"})).json()] == [WEST]
    ours = (await send_registration(api, application_body())).json()["application_id"]
    west_body = application_body(registered_by="west-desk", handler="west-wang")
    theirs_response = await api.post("/api/v1/applications", json={k: v for k, v in west_body.items()
                                                                   if k != "registered_by"},
                                     headers=api.as_user("west-desk"))
    assert theirs_response.status_code == 201, theirs_response.text
    theirs = theirs_response.json()["application_id"]
    assert re.fullmatch(r"T[0-9A-F]{6}-\d{4}-\d{6}", ours) and re.fullmatch(rf"GK-{WEST}-\d{{4}}-000001", theirs)

    # Each agency's letters: its own 文号 series, its name as the sender, its own remedy bodies.
    west_letters = await letters_of(api, theirs, "west-chief")
    our_letters = await letters_of(api, ours, "chief-liu")
    assert west_letters[0]["document_number"].startswith("西统") and west_letters[0]["document_number"].endswith("第1号")
    assert not our_letters[0]["document_number"].startswith("西统")
    for _ in range(200):
        sent = [m for m in mails_about(mailbox.envelopes, theirs)]
        if sent:
            break
        await asyncio.sleep(0.1)
    assert sent and "某县统计局" in str(make_header(decode_header(sent[0]["From"])))

    # With several agencies the public form must name one; a registrar cannot register for another agency.
    public = {k: v for k, v in application_body().items() if k in ("applicant", "items", "delivery_method")}
    unnamed = await api.post("/api/v1/public/applications", json=public, headers={"Authorization": ""})
    assert unnamed.status_code == 422 and "请选择受理机关" in unnamed.json()["detail"]
    named = await api.post("/api/v1/public/applications", json=public | {"agency": WEST}, headers={"Authorization": ""})
    assert named.status_code == 201 and named.json()["application_id"].startswith(f"GK-{WEST}-")
    wrong = await api.post("/api/v1/applications", json={**{k: v for k, v in application_body().items()
                                                            if k != "registered_by"}, "agency": WEST},
                           headers=api.as_user("desk-chen"))
    assert wrong.status_code == 422 and "本机关" in wrong.json()["detail"]
    with Session(api.app.state.engine) as session:
        owners = dict(session.exec(select(Application.id, Application.agency)).all())
    assert owners[ours] == "main" and owners[theirs] == WEST
    described = await api.app.state.temporal.get_workflow_handle(theirs).describe()  # Temporal's UI filters by it
    assert described.typed_search_attributes.get(search_attributes.AGENCY) == WEST

    # Lists: each supervisor sees their own agency's only.
    mine = (await api.get("/api/v1/applications", headers=api.as_user("chief-liu"))).json()
    west = (await api.get("/api/v1/applications", headers=api.as_user("west-chief"))).json()
    assert ours in {r["application_id"] for r in mine["items"]} and theirs not in {r["application_id"] for r in mine["items"]}
    assert {r["application_id"] for r in west["items"]} == {theirs, named.json()["application_id"]}
    users = (await api.get("/api/v1/admin/users", headers=api.as_user("west-admin"))).json()
    assert {u["username"] for u in users} == set(WEST_STAFF)

    # The staff pages' own queries (Core SELECTs: the queue, the list, the dashboard) are limited the same way.
    for path in ("/staff/queue", "/staff/applications", "/staff/dashboard"):
        for who, sees, never in (("chief-liu", ours, theirs), ("west-chief", theirs, ours)):
            page = await api.get(path, cookies={"gk_staff": api.tokens[who]},
                                 headers={"Authorization": "", "Accept": "text/html"})
            assert page.status_code == 200 and never not in page.text, (path, who)
            if path == "/staff/applications":
                assert sees in page.text, (path, who)
    with api.app.state.engine.connect() as connection, tenancy.acting_for(WEST):
        counted = connection.execute(core_select(func.count()).select_from(Application.__table__)).scalar_one()
    assert counted == 2  # the desk's and the public form's

    # Every route naming an application, with the other agency's: 404 (both ways), never its data.
    calls = list(route_calls(api.app, theirs))
    assert len(calls) > 30  # the JSON API's actions and reads, and the staff pages
    for method, path in calls:
        answer = await api.request(method, path, headers=api.as_user("chief-liu"), json={})
        assert answer.status_code == 404, (method, path, answer.status_code, answer.text[:200])
        assert theirs not in answer.text or "未找到" in answer.text
    for method, path in route_calls(api.app, ours):
        answer = await api.request(method, path, headers=api.as_user("west-chief"), json={})
        assert answer.status_code == 404, (method, path, answer.status_code, answer.text[:200])
    # The staff pages (their cookie) too.
    page = await api.get(f"/staff/applications/{theirs}", cookies={"gk_staff": api.tokens["chief-liu"]},
                         headers={"Authorization": "", "Accept": "text/html"})
    assert page.status_code == 404
    # Their own application is theirs to read.
    assert (await api.get(f"/api/v1/applications/{theirs}", headers=api.as_user("west-chief"))).status_code == 200
    # Staff accounts: another agency's administrator cannot touch them.
    touched = await api.patch("/api/v1/admin/users/west-wang", json={"active": False}, headers=api.as_user("admin"))
    assert touched.status_code == 404
    taken = await api.post("/api/v1/admin/users", json={"username": "west-wang", "password": "Another-Passw0rd!x",
                                                        "roles": ["handler"], "department": "综合统计科"},
                           headers=api.as_user("admin"))
    assert taken.status_code == 409  # user names are the platform's


@pytest.mark.parametrize("code", ["A", "x", "has space", "toolong-" * 4])
def test_an_agency_code_is_checked(code, engine):
    from services.agencies import AgencyError

    with Session(engine) as session, pytest.raises(AgencyError, match="机关代码"):
        create_agency(session, code=code, name="某局")


async def test_the_wrong_agency_answers_36_5_and_the_applicant_resubmits_there_in_one_step(isolated_api):
    api = isolated_api
    await second_agency(api)
    created = (await send_registration(api, application_body())).json()
    first, code = created["application_id"], created["query_code"]
    # The handler names the competent agency by its code on the platform: the letter names it (Reg. 36(5)).
    unknown = await api.post(f"/api/v1/applications/{first}/decisions", headers=api.as_user("wang"), json={
        "item_no": 1, "outcome": "unavailable-1", "reasons": "该信息由县统计局负责公开", "referral_agency": "nowhere"})
    assert unknown.status_code == 422 and "平台上没有" in unknown.json()["detail"]
    proposed = await act(api, first, "decisions", {"item_no": 1, "outcome": "unavailable-1", "by": "wang",
                                                   "reasons": "该信息由县统计局负责公开", "referral_agency": WEST})
    proposal = proposed["items"][0]["proposal"]
    assert proposal["referral_agency"] == WEST and proposal["not_this_agency"] and "某县统计局" in proposal["referral"]
    early = await api.post(f"/api/v1/public/applications/{first}/resubmit", json={},
                           headers={"X-Query-Code": code, "Authorization": ""})
    assert early.status_code == 409 and "尚未答复" in early.json()["detail"]
    await act(api, first, "submit", {"by": "wang"})
    await act(api, first, "review", {"approve": True, "by": "reviewer-zhao"})
    signed = await act(api, first, "sign", {"by": "chief-liu"})
    assert "第三十六条第（五）项" in signed["reply_draft"]["body"] and "某县统计局" in signed["reply_draft"]["body"]

    wrong_code = await api.post(f"/api/v1/public/applications/{first}/resubmit", json={},
                                headers={"X-Query-Code": "WRONGCODE000", "Authorization": ""})
    assert wrong_code.status_code == 404
    moved = await api.post(f"/api/v1/public/applications/{first}/resubmit", json={},
                           headers={"X-Query-Code": code, "Authorization": ""})
    assert moved.status_code == 201, moved.text
    new = moved.json()
    assert new["application_id"].startswith(f"GK-{WEST}-") and new["agency_name"] == "某县统计局" and new["query_code"]
    again = await api.post(f"/api/v1/public/applications/{first}/resubmit", json={},
                           headers={"X-Query-Code": code, "Authorization": ""})
    assert again.status_code == 201 and again.json()["application_id"] == new["application_id"]
    assert again.json()["query_code"] is None  # shown once
    # The new application is the competent agency's, with its own receipt date, the item, and the link back.
    theirs = (await api.get(f"/api/v1/applications/{new['application_id']}", headers=api.as_user("west-chief"))).json()
    assert theirs["items"][0]["description"] == application_body()["items"][0]["description"]
    assert theirs["received_on"] == new["received_on"]
    assert (await api.get(f"/api/v1/applications/{new['application_id']}",
                          headers=api.as_user("chief-liu"))).status_code == 404
    linked = (await api.get(f"/api/v1/applications/{new['application_id']}/links",
                            headers=api.as_user("west-chief"))).json()
    assert linked == [{"from_id": first, "to_id": new["application_id"], "to_agency": WEST, "items": [1],
                       "direction": "from"}]
    # The applicant tracks it with its own number and code.
    tracked = await api.get(f"/api/v1/applicant/applications/{new['application_id']}",
                            headers={"X-Query-Code": new["query_code"], "Authorization": ""})
    assert tracked.status_code == 200


async def test_the_platforms_oversight_sees_every_agencys_figures_and_sums_table_3(isolated_api):
    api = isolated_api
    await second_agency(api)
    with Session(api.app.state.engine) as session:
        create_user(session, username="province", password=TEST_PASSWORD, roles=["oversight"])
        session.commit()
    await api.log_in("province")
    refused = await api.post("/api/v1/admin/users", headers=api.as_user("west-admin"), json={
        "username": "sneaky", "password": "Another-Passw0rd!x", "roles": ["oversight"]})
    assert refused.status_code in (403, 422)  # an agency's administrator cannot make a platform account
    ours = (await send_registration(api, application_body())).json()["application_id"]
    west_body = {k: v for k, v in application_body(handler="west-wang").items() if k != "registered_by"}
    for _ in range(2):
        created = await api.post("/api/v1/applications", json=west_body | {"resubmit": True},
                                 headers=api.as_user("west-desk"))
        assert created.status_code == 201, created.text
    await act(api, ours, "withdraw", {"by": "desk-chen", "reason": "申请人书面撤回"})

    figures = {row["agency"]: row for row in (await api.get("/api/v1/oversight/agencies",
                                                            headers=api.as_user("province"))).json()}
    assert figures[WEST]["open"] == 2 and figures[WEST]["name"] == "某县统计局"
    assert figures["main"]["open"] == 0
    assert (await api.get("/api/v1/oversight/agencies", headers=api.as_user("chief-liu"))).status_code == 403
    # Figures, never case files: the applications' routes refuse the role.
    assert (await api.get(f"/api/v1/applications/{ours}", headers=api.as_user("province"))).status_code == 403
    assert (await api.get("/api/v1/applications", headers=api.as_user("province"))).status_code == 403
    overdue = await api.get(f"/api/v1/oversight/agencies/{WEST}/overdue", headers=api.as_user("province"))
    assert overdue.status_code == 200 and overdue.json() == []

    year = date.fromisoformat(application_body()["received_on"]).year
    report = (await api.get(f"/api/v1/oversight/annual/{year}", headers=api.as_user("province"))).json()
    parts = {part["agency"]: part["table3"] for part in report["agencies"]}
    assert set(parts) == {"main", WEST}
    for row, cells in report["table3"].items():
        for column, n in cells.items():
            assert n == parts["main"][row][column] + parts[WEST][row][column], (row, column)
    new_total = {code: sum(table[row]["total"] for row in table if row.startswith("new") or row == "1")
                 for code, table in parts.items()}
    assert report["check"]["ok"], report["check"]
    assert sum(report["table3"][r]["total"] for r in report["table3"]) > 0, new_total


async def test_the_public_side_lists_the_agencies_and_the_form_takes_one(isolated_api):
    api = isolated_api
    await second_agency(api)
    page = {"Authorization": "", "Accept": "text/html"}
    home = await api.get("/", headers=page)
    assert home.status_code == 200 and "某县统计局" in home.text and "本平台的行政机关" in home.text
    searched = await api.get("/", params={"q": "某县"}, headers=page)
    assert f'href="/agencies/{WEST}"' in searched.text and 'href="/agencies/main"' not in searched.text
    own = await api.get(f"/agencies/{WEST}", headers=page)
    assert own.status_code == 200 and f"/apply?agency={WEST}" in own.text
    assert (await api.get("/agencies/nowhere", headers=page)).status_code == 404
    form = await api.get("/apply", params={"agency": WEST}, headers=page)
    assert 'name="agency"' in form.text and f'value="{WEST}" selected' in form.text


def test_admin_creates_an_agency_with_its_first_administrator(tmp_path):
    """`python admin.py create-agency` (the interface issue 25 names): the agency and its administrator, who belongs
    to it; a second agency of the same code is refused with the reason."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    from sqlmodel import create_engine

    from db.models_security import StaffUser

    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "DISCLOSURE_DATA_DIR": str(tmp_path), "DISCLOSURE_DATABASE_URL": f"sqlite:///{tmp_path}/a.db",
           "DISCLOSURE_EXAMPLE_AGENCY": "true", "DISCLOSURE_ADMIN_PASSWORD": "Sturdy-Passw0rd!2026"}
    command = [sys.executable, "admin.py", "create-agency", "--code", "West", "--name", "某县统计局", "--region", "某县",
               "--admin-username", "west-admin"]
    done = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert done.returncode == 0 and "Agency west (某县统计局) created" in done.stdout, done.stderr
    again = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert again.returncode == 2 and "机关代码 west 已存在" in again.stderr
    engine = create_engine(f"sqlite:///{tmp_path}/a.db")
    with Session(engine) as session, tenancy.all_agencies():
        admin = session.get(StaffUser, "west-admin")
        assert admin.agency == "west" and admin.roles == "admin"
    engine.dispose()
