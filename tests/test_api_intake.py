"""Intake, the supervisors' list and the calendar endpoints over HTTP, with the input they refuse."""

import asyncio
import uuid
from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from workcalendar.schedule import FIXED_DATE_HOLIDAYS
from tests.calendars import fictional_schedule
from tests.helpers import act, add_staff, application_body, eventually, mails_about, register, since, state, today


# Date-sensitive: the Makefile runs this module again with the clock pinned (tests/dates.py).
pytestmark = pytest.mark.dates


def kinds(view: dict[str, Any]) -> list[str]:
    return [e["kind"] for e in view["timeline"]]


async def deadline(api: httpx.AsyncClient, received: str, days: int) -> dict[str, Any]:
    response = await api.get("/api/v1/calendar/deadline", params={"received": received, "days": days})
    assert response.status_code == 200, response.text
    return response.json()


async def listed(api: httpx.AsyncClient, **params: Any) -> dict[str, Any]:
    response = await api.get("/api/v1/applications", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def ids(page: dict[str, Any]) -> list[str]:
    return [row["application_id"] for row in page["items"]]


async def list_until(api: httpx.AsyncClient, check, timeout: float = 15.0, **params: Any) -> dict[str, Any]:
    """The list reads the database, which workflows update in the background."""
    deadline_at = asyncio.get_running_loop().time() + timeout
    while True:
        page = await listed(api, **params)
        if check(page):
            return page
        if asyncio.get_running_loop().time() > deadline_at:
            raise AssertionError(f"list never reached the expected state: {page}")
        await asyncio.sleep(0.2)


# --- registration -----------------------------------------------------------------------------


async def test_registration_gives_number_due_date_and_acknowledgment(api, mailbox):
    first = today()
    created = await register(api)  # received today: the body's default
    app_id = created["application_id"]
    assert created["received_on"] in since(first)
    assert created["due_on"] == (await deadline(api, created["received_on"], 15))["due_on"]
    assert created["due_explanation"] and any("15" in step for step in created["due_explanation"])

    view = await state(api, app_id)
    assert view["status"] == "handling" and view["policy"] == "local" and view["handler"] == "wang"
    assert view["due"]["due_on"] == created["due_on"] and view["overdue"] is False
    assert [a["action"] for a in view["pending_actions"]] == ["propose-decision"]
    assert kinds(view)[0] == "registered" and created["due_on"] in view["timeline"][0]["summary"]

    view = await eventually(api, app_id, lambda s: "letter-sent" in kinds(s))
    ack = [m for m in mails_about(mailbox.envelopes, app_id) if "回执" in m["Subject"]]
    assert len(ack) == 1 and "zhangsan@example.cn" in str(ack[0]["To"])
    events = (await api.get(f"/api/v1/applications/{app_id}/events")).json()
    assert events[0]["kind"] == "registered" and events[0]["actor"] == "desk-chen"

    second = await register(api)
    assert second["application_id"] != app_id


async def test_receipt_before_registration_is_accepted_and_counts_from_then(api):
    received = (today() - timedelta(days=3)).isoformat()
    created = await register(api, received_on=received, channel="letter-ordinary")
    assert created["received_on"] == received
    assert created["due_on"] == (await deadline(api, received, 15))["due_on"]


def without(body: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k != key}


def applicant(**changes: Any) -> dict[str, Any]:
    return {**application_body()["applicant"], **changes}


def bad_registrations() -> dict[str, tuple[dict[str, Any], str | None]]:
    """Built when a test runs, on the session's clock ("tomorrow" is tomorrow then)."""
    return {
        "no applicant": (without(application_body(), "applicant"), None),
        "no items": (without(application_body(), "items"), None),
        "empty item list": (application_body(items=[]), None),
        "more than 50 items": (application_body(items=[{"description": f"第{n}项信息"} for n in range(51)]), None),
        "item without description": (application_body(items=[{"description": ""}]), None),
        "no channel": (without(application_body(), "channel"), None),
        "unknown channel": (application_body(channel="wechat"), None),
        "received tomorrow": (application_body(received_on=(today() + timedelta(days=1)).isoformat()), "不能晚于今天"),
        "received not a date": (application_body(received_on="上周五"), None),
        "e-mail reply without address": (application_body(applicant=applicant(email=None)), "电子邮箱"),
        "post reply without address": (application_body(delivery_method="post", applicant=applicant(address=None)),
                                       "通讯地址"),
        "unknown delivery method": (application_body(delivery_method="fax"), None),
        "unknown policy": (application_body(policy="provincial"), None),
        "unknown applicant type": (application_body(applicant=applicant(type="alien")), None),
        "bad e-mail": (application_body(applicant=applicant(email="zhangsan-at-example")), None),
        "no applicant name": (application_body(applicant=applicant(name="")), None),
        "registrar named in the body": (application_body() | {"registered_by_in_body": True}, None),
        "unknown field": (application_body(priority="urgent"), None),
        "unknown applicant field": (application_body(applicant=applicant(wechat="zs123")), None),
    }


@pytest.mark.parametrize("case", list(bad_registrations()))
async def test_bad_registration_is_422_and_registers_nothing(api, case):
    body, reason = bad_registrations()[case]
    handler = add_staff(api, f"nobody-{uuid.uuid4().hex[:8]}", ["handler"], "综合统计科")
    body = without(body, "registered_by")
    if body.pop("registered_by_in_body", False):
        body["registered_by"] = "desk-chen"  # who registers comes from the token, never the body
    response = await api.post("/api/v1/applications", json=body | {"handler": handler}, headers=api.as_user("desk-chen"))
    assert response.status_code == 422, response.text
    if reason:
        assert reason in str(response.json()["detail"])
    assert (await listed(api, handler=handler))["total"] == 0



async def test_registered_application_is_found_at_once(api):
    handler = add_staff(api, f"fresh-{uuid.uuid4().hex[:8]}", ["handler"], "综合统计科")
    app_id = (await register(api, handler=handler))["application_id"]
    events = await api.get(f"/api/v1/applications/{app_id}/events")
    assert events.status_code == 200, f"just registered, but the events say: {events.text}"
    assert ids(await listed(api, handler=handler)) == [app_id]


# --- the supervisors' list --------------------------------------------------------------------


async def test_list_filters_orders_and_pages(api):
    # a handler who is also a supervisor sees every 科室, so may take one in either
    handler = add_staff(api, f"list-{uuid.uuid4().hex[:8]}", ["handler", "supervisor"], None)
    department = f"科室-{uuid.uuid4().hex[:4]}"
    a = await register(api, handler=handler)
    b = await register(api, handler=handler, department=department)
    c = await register(api, handler=handler, received_on=(today() - timedelta(days=40)).isoformat())
    a_id, b_id, c_id = a["application_id"], b["application_id"], c["application_id"]
    await act(api, a_id, "withdraw", {"reason": "不再需要"})
    await eventually(api, c_id, lambda s: s["overdue"])

    # Soonest due first; equal due dates in number order.
    page = await list_until(api, lambda p: p["total"] == 3 and p["items"][0]["overdue"], handler=handler)
    assert ids(page) == [c_id, a_id, b_id]
    assert page["items"][0]["due_on"] == c["due_on"] and page["items"][2]["due_on"] == b["due_on"]

    assert ids(await listed(api, handler=handler, status="withdrawn")) == [a_id]
    assert ids(await listed(api, handler=handler, status="handling")) == [c_id, b_id]
    assert ids(await listed(api, handler=handler, overdue="true")) == [c_id]
    assert ids(await listed(api, handler=handler, overdue="false")) == [a_id, b_id]
    assert ids(await listed(api, handler=handler, due_before=b["due_on"])) == [c_id]
    after_b = (date.fromisoformat(b["due_on"]) + timedelta(days=1)).isoformat()
    assert ids(await listed(api, handler=handler, due_before=after_b)) == [c_id, a_id, b_id]
    assert ids(await listed(api, handler=handler, department=department)) == [b_id]
    assert (await listed(api, handler=f"{handler}-other"))["total"] == 0

    first = await listed(api, handler=handler, limit=2)
    assert (ids(first), first["total"], first["offset"], first["limit"]) == ([c_id, a_id], 3, 0, 2)
    second = await listed(api, handler=handler, limit=2, offset=2)
    assert (ids(second), second["total"], second["offset"]) == ([b_id], 3, 2)
    assert ids(await listed(api, handler=handler, offset=3)) == []
    assert (await listed(api, handler=handler, limit=100))["limit"] == 100


@pytest.mark.parametrize("params", [
    {"limit": 101}, {"limit": 0}, {"offset": -1}, {"overdue": "perhaps"}, {"due_before": "2026-13-01"},
])
async def test_list_rejects_bad_paging_and_filters(api, params):
    response = await api.get("/api/v1/applications", params=params)
    assert response.status_code == 422, response.text


# --- the calendar -----------------------------------------------------------------------------


async def test_deadline_counts_working_days_and_explains(api):
    answer = await deadline(api, "2026-02-13", 15)
    assert (answer["start_on"], answer["due_on"], answer["provisional"]) == ("2026-02-13", "2026-03-12", False)
    assert answer["explanation"] and answer["calendar_version"] == (await api.get("/api/v1/calendar/years")).json()[
        "calendar_version"]
    # Received on a Spring Festival day: counted from the first working day after the holiday.
    answer = await deadline(api, "2026-02-16", 15)
    assert answer["start_on"] == "2026-02-24"
    # A year the State Council has not published yet: a provisional answer, never presented as final.
    assert (await deadline(api, "2099-06-01", 15))["provisional"] is True


@pytest.mark.parametrize("params", [
    {"received": "2026-02-13", "days": 0}, {"received": "2026-02-13", "days": 61}, {"received": "2026-02-13"},
    {"days": 15}, {"received": "2026-02-30", "days": 15}, {"received": "2026-02-13", "days": "十五"},
])
async def test_deadline_rejects_bad_questions(api, params):
    response = await api.get("/api/v1/calendar/deadline", params=params)
    assert response.status_code == 422, response.text


async def test_published_years_are_listed(api):
    years = (await api.get("/api/v1/calendar/years")).json()
    assert {2025, 2026} <= set(years["published_years"]) and years["calendar_version"].startswith("cal-")


async def test_publishing_a_year_updates_open_applications(isolated_api, unpublished_from):
    this_year = today().year
    unpublished_from(this_year)  # made unpublished here, whatever the installed package knows
    isolated_api.app.state.calendar.refresh()
    before = (await isolated_api.get("/api/v1/calendar/years")).json()
    assert this_year not in before["published_years"]
    created = await register(isolated_api)
    app_id = created["application_id"]
    await act(isolated_api, app_id, "extension-request", {"days": 15, "reason": "需要调取历史档案", "by": "wang"})
    extended = await act(isolated_api, app_id, "extension-decision", {"approve": True, "by": "chief-liu"})
    assert extended["due"]["provisional"] is True

    # The published schedule adds one day off inside the period (the provisional due date, or the working day
    # before it): publication must move the due date to the next working day. Provisional counting already
    # skips weekends and the fixed-date holidays, which the fictional schedule keeps.
    received = date.fromisoformat(created["received_on"])
    provisional_due = date.fromisoformat(extended["due"]["due_on"])

    def working(day: date) -> bool:
        return day.weekday() < 5 and (day.month, day.day) not in FIXED_DATE_HOLIDAYS

    extra_day = provisional_due
    while not working(extra_day):
        extra_day -= timedelta(days=1)
    assert received < extra_day <= provisional_due
    expected_due = provisional_due + timedelta(days=1)
    while not working(expected_due) or expected_due == extra_day:
        expected_due += timedelta(days=1)
    years = list(range(this_year, provisional_due.year + 2))  # every year the period can reach, published
    versions = []
    for year in years:
        body = fictional_schedule(year, extra_days_off=[extra_day])
        response = await isolated_api.put(f"/api/v1/calendar/years/{year}", json=body, headers=isolated_api.as_user("admin"))
        assert response.status_code == 200, response.text
        assert response.json()["year"] == year
        versions.append(response.json()["calendar_version"])
    assert len({before["calendar_version"], *versions}) == len(years) + 1

    after = (await isolated_api.get("/api/v1/calendar/years")).json()
    assert set(years) <= set(after["published_years"]) and after["calendar_version"] == versions[-1]
    assert (await deadline(isolated_api, f"{years[-1]}-06-01", 15))["provisional"] is False

    view = await eventually(isolated_api, app_id, lambda s: "calendar-updated" in kinds(s) and not s["due"]["provisional"])
    assert view["due"]["due_on"] == expected_due.isoformat(), (extra_day, provisional_due)
    assert (await deadline(isolated_api, created["received_on"], 30))["due_on"] == expected_due.isoformat()

    again = await isolated_api.put(f"/api/v1/calendar/years/{years[-1]}", json=fictional_schedule(years[-1], [extra_day]),
                                   headers=isolated_api.as_user("admin"))
    assert again.status_code == 200 and again.json()["calendar_version"] == versions[-1]


async def test_bad_year_schedules_are_422_and_publish_nothing(isolated_api):
    before = (await isolated_api.get("/api/v1/calendar/years")).json()
    year = max(before["published_years"]) + 1
    good = {"holidays": [f"{year}-01-01"], "source": f"国务院办公厅关于{year}年部分节假日安排的通知"}
    saturday = next(date(year, 2, d) for d in range(1, 8) if date(year, 2, d).weekday() == 5)
    monday = saturday + timedelta(days=2)
    cases = [
        (year, good | {"holidays": [f"{year - 1}-12-31"]}, "放假安排有误"),
        (year, good | {"holidays": []}, "放假安排有误"),
        (year, good | {"makeup_workdays": [monday.isoformat()]}, "放假安排有误"),
        (year, good | {"holidays": [saturday.isoformat()], "makeup_workdays": [saturday.isoformat()]}, "放假安排有误"),
        (1999, good | {"holidays": ["1999-01-01"]}, None),
        (year, good | {"published_by": "admin-he"}, None),  # who publishes comes from the token
        (year, without(good, "source"), None),
        (year, good | {"year": year}, None),
    ]
    for path_year, body, reason in cases:
        response = await isolated_api.put(f"/api/v1/calendar/years/{path_year}", json=body,
                                          headers=isolated_api.as_user("admin"))
        assert response.status_code == 422, (body, response.text)
        if reason:
            assert reason in response.json()["detail"]
    assert (await isolated_api.get("/api/v1/calendar/years")).json() == before
