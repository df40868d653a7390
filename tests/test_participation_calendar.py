"""Issue 26 with issue 13's calendar: a published calendar year moves the working-day periods of the open
participation processes — a question's answer period and an open 行政规范性文件's comment period — each move
explained on the history and in the period's steps. Real server, isolated stack (the test publishes years)."""

from datetime import date

import pytest

from core import clock
from participation.rules import comment_period, inquiry_due
from tests.calendars import calendar_before, publish_fictional_years
from tests.helpers import view_when
from tests.test_participation import published_draft
from workcalendar import WorkCalendar

# Date-sensitive: the Makefile runs the `dates` tests again with the clock pinned (tests/dates.py).
pytestmark = pytest.mark.dates


async def test_publishing_the_year_moves_a_questions_and_a_drafts_working_day_periods(isolated_api, unpublished_from):
    api = isolated_api
    start = clock.today()
    unpublished_from(start.year)
    api.app.state.calendar.refresh()
    provisional = WorkCalendar(calendar_before(start.year))

    asked = await api.post("/api/v1/public/inquiries", json={"question": "统计年鉴什么时候出版？"}, headers={"Authorization": ""})
    assert asked.status_code == 201, asked.text
    inquiry_id = asked.json()["inquiry_id"]
    old_question = date.fromisoformat(asked.json()["due_on"])
    assert old_question == inquiry_due(provisional, start).due_on
    view = await view_when(api, f"/api/v1/inquiries/{inquiry_id}")
    assert view["period"]["provisional"]
    draft_id = await published_draft(api, api.app.state.engine)
    draft = (await api.get(f"/api/v1/drafts/{draft_id}")).json()
    opened = date.fromisoformat(draft["period"]["start_on"])
    old_draft = date.fromisoformat(draft["period"]["due_on"])
    assert old_draft == comment_period(provisional, "normative-document", opened, 7).due_on

    # The year is published with one more day off: the first working day after the start, which both count.
    day_off, guessed = provisional.add_workdays(max(start, opened), 1)
    assert guessed
    new_cal = WorkCalendar(await publish_fictional_years(api, range(start.year, max(old_question, old_draft).year + 2), day_off))
    note = f"（{day_off.year} 年放假安排公布）"

    expected = inquiry_due(new_cal, start).due_on
    assert expected > old_question
    moved = await view_when(api, f"/api/v1/inquiries/{inquiry_id}",
                            lambda v: v["period"]["due_on"] == expected.isoformat() and not v["period"]["provisional"], 60)
    explained = f"答复期限由 {old_question} 重新计算为 {expected}{note}"
    assert explained in [h["summary"] for h in moved["history"]] and explained in moved["period"]["steps"]

    expected_draft = comment_period(new_cal, "normative-document", opened, 7).due_on
    assert expected_draft > old_draft
    moved = await view_when(api, f"/api/v1/drafts/{draft_id}",
                            lambda v: v["period"]["due_on"] == expected_draft.isoformat(), 60)
    explained = f"征求意见截止日期由 {old_draft} 重新计算为 {expected_draft}{note}"
    assert explained in [h["summary"] for h in moved["history"]] and explained in moved["period"]["steps"]
    public = (await api.get(f"/api/v1/public/drafts/{draft_id}", headers={"Authorization": ""}))
    assert public.json()["public"]["period"]["due_on"] == expected_draft.isoformat()
