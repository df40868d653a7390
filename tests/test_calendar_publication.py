"""A year's schedule published after intake: provisional due dates become real ones, in running workflows."""

import json
import subprocess
import sys
from pathlib import Path

from tests.helpers import act, eventually, register

# A TEST FIXTURE, not the real 2027 schedule (not yet published when this was written): it adds a
# working Monday off (4 Jan) so that publishing it must move any due date counted across it.
FICTIONAL_2027 = {
    "holidays": ["2027-01-01", "2027-01-02", "2027-01-03", "2027-01-04"],
    "makeup_workdays": ["2027-01-09"],
    "source": "测试用放假安排（非官方）",
}


async def test_publishing_a_year_recomputes_open_applications(isolated_api):
    api = isolated_api
    before = (await api.get("/api/v1/calendar/deadline", params={"received": "2026-12-15", "days": 15})).json()
    assert before["provisional"] is True
    assert any("2027" in step and "尚未公布" in step for step in before["explanation"])

    created = await register(api)
    app_id = created["application_id"]
    await act(api, app_id, "extension-request", {"days": 15, "reason": "需协调多个科室", "by": "wang"})
    extended = await act(api, app_id, "extension-decision", {"approve": True, "by": "chief-liu"})
    assert extended["due"]["due_on"].startswith("2027-01")
    assert extended["due"]["provisional"] is True

    published = await api.put("/api/v1/calendar/years/2027", json=FICTIONAL_2027, headers=api.as_user("admin"))
    assert published.status_code == 200, published.text
    after = await eventually(api, app_id, lambda s: not s["due"]["provisional"])
    assert after["due"]["due_on"] > extended["due"]["due_on"]
    assert any("2027 年依据 测试用放假安排" in step for step in after["due"]["steps"])
    assert {"calendar-updated", "due-date-changed"} <= {e["kind"] for e in after["timeline"]}

    years = (await api.get("/api/v1/calendar/years")).json()
    assert 2027 in years["published_years"]
    answer = (await api.get("/api/v1/calendar/deadline", params={"received": "2026-12-15", "days": 15})).json()
    assert answer["provisional"] is False


async def test_a_schedule_with_a_weekday_as_makeup_day_is_refused(isolated_api):
    bad = FICTIONAL_2027 | {"makeup_workdays": ["2027-01-05"]}
    response = await isolated_api.put("/api/v1/calendar/years/2027", json=bad, headers=isolated_api.as_user("admin"))
    assert response.status_code == 422
    assert "放假安排有误" in response.json()["detail"]
    years = (await isolated_api.get("/api/v1/calendar/years")).json()
    assert 2027 not in years["published_years"]


def test_admin_command_reports_a_bad_file_without_a_traceback(tmp_path: Path):
    schedule = tmp_path / "2027.json"
    schedule.write_text(json.dumps({"holidays": "not-a-list"}), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "admin.py", "publish-calendar", "--year", "2027", "--file", str(schedule), "--by", "admin"],
        capture_output=True, text=True, cwd=Path(__file__).parent.parent,
        env={"PATH": "/usr/bin:/bin", "DISCLOSURE_DATABASE_URL": f"sqlite:///{tmp_path / 'a.db'}"},
    )
    assert result.returncode == 2
    assert "Cannot read" in result.stderr and "Traceback" not in result.stderr


async def test_a_receipt_date_years_ago_is_refused_as_a_typo(isolated_api):
    from datetime import timedelta

    from tests.helpers import application_body, today

    from tests.helpers import send_registration

    response = await send_registration(
        isolated_api, application_body(received_on=(today() - timedelta(days=400)).isoformat())
    )
    assert response.status_code == 422
    assert "请核对日期" in response.json()["detail"]
