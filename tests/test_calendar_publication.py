"""A year's schedule published after intake: provisional due dates become real ones, in running workflows."""

import json
import subprocess
import sys
from pathlib import Path

from datetime import date

from tests.calendars import FICTIONAL_SOURCE, calendar_before, fictional_schedule, publish_fictional_years
from tests.helpers import act, eventually, register, today
from workcalendar import WorkCalendar, YearSchedule
import pytest


# The tests through the server are date-sensitive (marker `dates`): the Makefile runs them again with the clock
# pinned (tests/dates.py). The others read no clock.

@pytest.mark.dates
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
    published = await publish_fictional_years(api, years, day_one)

    after = await eventually(api, app_id, lambda s: not s["due"]["provisional"])
    expected, _ = WorkCalendar(published).add_workdays(provisional_due, 1)
    assert after["due"]["due_on"] == expected.isoformat() > extended["due"]["due_on"]
    assert any(f"{day_one.year} 年依据 {FICTIONAL_SOURCE}" in step for step in after["due"]["steps"])
    assert {"calendar-updated", "due-date-changed"} <= {e["kind"] for e in after["timeline"]}

    listed = (await api.get("/api/v1/calendar/years")).json()
    assert set(years) <= set(listed["published_years"])
    answer = (await api.get("/api/v1/calendar/deadline", params={"received": received, "days": 15})).json()
    assert answer["provisional"] is False


@pytest.mark.dates
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


@pytest.mark.dates
async def test_a_receipt_date_years_ago_is_refused_as_a_typo(isolated_api):
    from datetime import timedelta

    from tests.helpers import application_body, today

    from tests.helpers import send_registration

    response = await send_registration(
        isolated_api, application_body(received_on=(today() - timedelta(days=400)).isoformat())
    )
    assert response.status_code == 422
    assert "请核对日期" in response.json()["detail"]


@pytest.mark.dates
async def test_a_year_the_admin_command_publishes_reaches_every_running_api_process(
    isolated_api, unpublished_from, client, env, tmp_path: Path
):
    """Issue 12 point 5: two API processes over one database; the admin command publishes in a third.

    The second process's background check picks the year up without a restart; the first (no
    background check running) still lists the old calendar, yet its next registration already counts
    the new year: registration checks the database first.
    """
    import asyncio
    import os

    from api.main import create_app
    from clock import ClockInput, compute_due
    from db.session import make_engine
    from policy.intake import RECEIPT_BASIS
    from tests.conftest import staff_client

    first = isolated_api
    this_year = today().year
    unpublished_from(this_year)
    first.app.state.calendar.refresh()
    settings = first.app.state.settings
    second_engine = make_engine(settings.database_url)
    second_app = create_app(settings.model_copy(update={"calendar_refresh_seconds": 0.2}), client=client,
                            engine=second_engine)
    received = today()
    stale = (await first.get("/api/v1/calendar/deadline", params={"received": received.isoformat(), "days": 15})).json()
    assert stale["provisional"] is True

    # A day off on day 1 of the period (a working day when counted provisionally): the new year moves the due date.
    day_one, provisional = WorkCalendar(calendar_before(this_year)).add_workdays(
        date.fromisoformat(stale["start_on"]), 1)
    assert provisional
    years = range(this_year, date.fromisoformat(stale["due_on"]).year + 2)
    fictional = {y: fictional_schedule(y, extra_days_off=[day_one]) for y in years}
    command_env = {**os.environ, "DISCLOSURE_DATABASE_URL": settings.database_url,
                   "DISCLOSURE_TASK_QUEUE": settings.task_queue,
                   "DISCLOSURE_TEMPORAL_ADDRESS": env.client.service_client.config.target_host}

    async with staff_client(second_app, env) as second, second_app.router.lifespan_context(second_app):
        before = (await second.get("/api/v1/calendar/years")).json()
        assert this_year not in before["published_years"]
        for year, body in fictional.items():
            schedule = tmp_path / f"{year}.json"
            schedule.write_text(json.dumps(body), encoding="utf-8")
            command = await asyncio.create_subprocess_exec(
                sys.executable, "admin.py", "publish-calendar", "--year", str(year), "--file", str(schedule),
                "--by", "admin", cwd=Path(__file__).parent.parent, env=command_env,
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
            out, err = await command.communicate()
            assert command.returncode == 0, err.decode()
            assert f"Published {year}" in out.decode()

        # The second process: its background check, no request needed to trigger it.
        for _ in range(150):
            seen = (await second.get("/api/v1/calendar/years")).json()
            if set(years) <= set(seen["published_years"]):
                break
            await asyncio.sleep(0.1)
        assert set(years) <= set(seen["published_years"]), seen
        assert seen["calendar_version"] != before["calendar_version"]

    # The first process has no background check in this test: its cached calendar is still the old one...
    assert this_year not in (await first.get("/api/v1/calendar/years")).json()["published_years"]
    # ...yet a registration there counts the new year.
    created = await register(first, received_on=received.isoformat())
    new_calendar = calendar_before(this_year)
    for year, body in fictional.items():
        new_calendar = new_calendar.with_year(YearSchedule.model_validate(body | {"year": year}))
    expected = compute_due(WorkCalendar(new_calendar), ClockInput(
        received_on=received, reply_days=15, receipt_basis=RECEIPT_BASIS["online"]))
    assert created["due_provisional"] is False
    assert created["due_on"] == expected.due_on.isoformat() != stale["due_on"]
    assert this_year in (await first.get("/api/v1/calendar/years")).json()["published_years"]
    second_engine.dispose()


def test_the_calendar_service_refuses_bad_input_with_its_own_errors():
    from fastapi import HTTPException

    from services.calendar import CalendarError, InvalidSchedule, parse_schedule

    with pytest.raises(InvalidSchedule, match="年度应为 2000 至 2100"):
        parse_schedule(1999, fictional_schedule(1999))
    with pytest.raises(InvalidSchedule, match="放假安排有误"):
        parse_schedule(2027, {"holidays": "not-a-list", "source": "某通知"})
    assert parse_schedule(2027, {"holidays": ["2027-01-01"], "source": "某通知"}).makeup_workdays == []
    assert issubclass(InvalidSchedule, CalendarError) and not issubclass(InvalidSchedule, HTTPException)


async def test_concurrent_registrations_share_one_calendar_check(tmp_path: Path):
    """A burst of requests costs one small query (two at most: one already running when they arrived)."""
    import asyncio

    from sqlalchemy import event

    from db.session import init_db, make_engine
    from services.calendar import CalendarSource

    engine = make_engine(f"sqlite:///{tmp_path / 'c.db'}")
    init_db(engine)
    source = CalendarSource(engine)
    source.refresh()
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    await asyncio.gather(*(source.fresh() for _ in range(50)))
    checks = [s for s in statements if "published_calendar_year" in s]
    assert 1 <= len(checks) <= 2, checks
    engine.dispose()
