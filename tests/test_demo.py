"""Demo data (`make demo`): staff of every role and applications in every state, through the API; twice is once."""

import httpx

from core import clock
from demo import CHIEF, STAFF, scenarios, seed_demo


async def test_the_demo_fills_an_office_through_the_api_and_a_second_run_adds_nothing(isolated_api, tmp_path):
    # Its own database: the demo makes a platform of three agencies (issue 25), where the public form must name one.
    api, engine, state_file = isolated_api, isolated_api.app.state.engine, tmp_path / "demo.json"
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=api.app), base_url="http://api", timeout=60) as http:
        first = await seed_demo(http, engine, state_file, log=lambda _: None)
        assert set(first.applications) == {s.key for s in scenarios(clock.today())}
        assert len(first.created) == len(first.applications) >= 30

        # Every demo account logs in with the password printed, with its roles.
        roles = {}
        for staff in STAFF:
            token = await http.post("/api/v1/auth/token", data={"username": staff.username,
                                                                 "password": first.staff[staff.username]})
            assert token.status_code == 200, token.text
            me = await http.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token.json()['access_token']}"})
            roles[staff.username] = (tuple(me.json()["roles"]), me.json()["department"])
        assert {r for rs, _ in roles.values() for r in rs} == {"registrar", "handler", "reviewer", "supervisor", "admin",
                                                               "oversight"}  # issue 25: the platform's 主管部门 too
        assert {d for rs, d in roles.values() if "handler" in rs} == {"综合统计科", "执法监督科"}

        # Three agencies on the platform (issue 25), each with its own staff; the 主管部门 sees all three.
        listed = (await http.get("/api/v1/agencies")).json()
        assert len(listed) == 3
        province = await http.post("/api/v1/auth/token", data={"username": "demo-province",
                                                                 "password": first.staff["demo-province"]})
        figures = await http.get("/api/v1/oversight/agencies",
                                 headers={"Authorization": f"Bearer {province.json()['access_token']}"})
        assert figures.status_code == 200 and len(figures.json()) == 3
        assert sum(row["open"] for row in figures.json()) > 0

        # The states, as the API reports them to the demo supervisor.
        chief = await http.post("/api/v1/auth/token", data={"username": CHIEF, "password": first.staff[CHIEF]})
        as_chief = {"Authorization": f"Bearer {chief.json()['access_token']}"}
        views = {}
        for key, app_id in first.applications.items():
            answer = await http.get(f"/api/v1/applications/{app_id}", headers=as_chief)
            assert answer.status_code == 200, answer.text
            views[key] = answer.json()
        statuses = {v["status"] for v in views.values()}
        assert statuses >= {"handling", "awaiting-supplement", "consulting", "in-review", "awaiting-signature",
                            "awaiting-delivery", "closed", "withdrawn"}
        kinds = lambda v: {e["kind"] for e in v["timeline"]}  # noqa: E731
        assert any("supplement-received" in kinds(v) for v in views.values())
        assert any((v.get("extension") or {}).get("decision") == "approved" for v in views.values())
        assert any((v.get("extension") or {}).get("decision") == "pending" for v in views.values())
        assert any("review-returned" in kinds(v) and v["status"] == "handling" for v in views.values())
        assert any("delivered" in kinds(v) and v["status"] == "closed" for v in views.values())
        assert any("letter-sent" in kinds(v) and v["status"] == "closed" for v in views.values())
        assert sum(v["overdue"] and v["status"] not in ("closed", "withdrawn") for v in views.values()) >= 3
        assert any(v["handler"] is None for v in views.values())  # online, waiting to be assigned
        total_before = (await http.get("/api/v1/applications", params={"limit": 1}, headers=as_chief)).json()["total"]

        second = await seed_demo(http, engine, state_file, log=lambda _: None)
        assert second.created == [] and second.applications == first.applications and second.staff == first.staff
        assert (await http.get("/api/v1/applications", params={"limit": 1}, headers=as_chief)).json()["total"] == total_before
