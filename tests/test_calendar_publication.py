"""A year's schedule published after intake: provisional due dates become real ones, in running workflows."""

import json
import subprocess
import sys
from pathlib import Path

from datetime import date

from tests.calendars import FICTIONAL_SOURCE, calendar_before, fictional_schedule
from tests.helpers import act, eventually, register, today
from workcalendar import CalendarData, WorkCalendar, YearSchedule
import pytest


# Date-sensitive: the Makefile runs this module again with the clock pinned (tests/dates.py).
pytestmark = pytest.mark.dates

async def test_publishing_a_year_recomputes_open_applications(isolated_api, unpublished_from):
    api = isolated_api
    this_year = today().year
    unpublished_from(this_year)  # this year and the next are not published yet, whatever the package knows
    api.app.state.calendar.refresh()
    received = today().isoformat()
    before = (await api.get("/api/v1/calendar/deadline", params={"received": received, "days": 15})).json()
    assert before["provisional"] is True
    assert any(str(this_year) in step and "尚未公布" in step for step in before["explanation"])

    created = await register(api, received_on=received)
    app_id = created["application_id"]
    await act(api, app_id, "extension-request", {"days": 15, "reason": "需协调多个科室", "by": "wang"})
    extended = await act(api, app_id, "extension-decision", {"approve": True, "by": "chief-liu"})
    assert extended["due"]["provisional"] is True
    provisional_due = date.fromisoformat(extended["due"]["due_on"])

    # The schedule adds a day off on day 1 of the period (a working day when counted provisionally), so
    # publishing it must move the due date one working day later. Every year up to the one after the
    # due date is published, so nothing stays provisional.
    day_one, provisional = WorkCalendar(calendar_before(this_year)).add_workdays(
        date.fromisoformat(extended["due"]["start_on"]), 1)
    assert provisional
    years = range(this_year, provisional_due.year + 2)
    fictional = {year: fictional_schedule(year, extra_days_off=[day_one]) for year in years}
    for year, body in fictional.items():
        published = await api.put(f"/api/v1/calendar/years/{year}", json=body, headers=api.as_user("admin"))
        assert published.status_code == 200, published.text

    after = await eventually(api, app_id, lambda s: not s["due"]["provisional"])
    expected, _ = WorkCalendar(CalendarData(years={
        y: YearSchedule.model_validate(body | {"year": y}) for y, body in fictional.items()
    })).add_workdays(provisional_due, 1)
    assert after["due"]["due_on"] == expected.isoformat() > extended["due"]["due_on"]
    assert any(f"{day_one.year} 年依据 {FICTIONAL_SOURCE}" in step for step in after["due"]["steps"])
    assert {"calendar-updated", "due-date-changed"} <= {e["kind"] for e in after["timeline"]}

    listed = (await api.get("/api/v1/calendar/years")).json()
    assert set(years) <= set(listed["published_years"])
    answer = (await api.get("/api/v1/calendar/deadline", params={"received": received, "days": 15})).json()
    assert answer["provisional"] is False


async def test_a_schedule_with_a_weekday_as_makeup_day_is_refused(isolated_api, unpublished_from):
    year = today().year + 1
    unpublished_from(year)
    isolated_api.app.state.calendar.refresh()
    monday = next(date(year, 1, d) for d in range(5, 12) if date(year, 1, d).weekday() == 0)
    bad = fictional_schedule(year) | {"makeup_workdays": [monday.isoformat()]}
    response = await isolated_api.put(f"/api/v1/calendar/years/{year}", json=bad, headers=isolated_api.as_user("admin"))
    assert response.status_code == 422
    assert "放假安排有误" in response.json()["detail"]
    years = (await isolated_api.get("/api/v1/calendar/years")).json()
    assert year not in years["published_years"]


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
