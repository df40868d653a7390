"""Issue 11 point 13: a published year moves, besides the due date, every deadline counted on the calendar:
the supplement deadline, a consultation's window (in the application and in its child, whose timer it is)
and the fee payment deadline; each move is on the timeline with its reason. Real server, isolated stack."""

from datetime import date

from clock import add_working_days_from

import pytest

from tests.calendars import calendar_before, fictional_schedule, listed_with_clock, publish_fictional_years, settled_history
from tests.helpers import act, eventually, register, state, today
from workcalendar import WorkCalendar

# Date-sensitive: the Makefile runs this module again with the clock pinned (tests/dates.py).
pytestmark = pytest.mark.dates


async def test_publishing_a_year_moves_supplement_consultation_and_fee_deadlines(isolated_api, unpublished_from):
    api = isolated_api
    this_year = today().year
    unpublished_from(this_year)
    api.app.state.calendar.refresh()
    start = today()

    supplementing = (await register(api, received_on=start.isoformat()))["application_id"]
    asked = await act(api, supplementing, "supplement-request", {"needed": ["请明确所需信息的时间范围"], "by": "wang"})
    consulting = (await register(api, received_on=start.isoformat()))["application_id"]
    await act(api, consulting, "consultations", {
        "consultee": {"kind": "third-party", "name": "某科技有限公司", "email": "legal@moves.example.cn"},
        "item_nos": [1], "by": "wang"})
    served = await eventually(api, consulting, lambda s: s["consultations"][0]["served_on"] is not None, timeout=60)
    paying = (await register(api, received_on=start.isoformat(), items=[{"description": "2025年统计资料（调整日历）"}],
                             applicant={"name": "孙八", "type": "natural-person", "id_number": "350102199001011246",
                                        "email": "sunba@moves.example.cn"}))["application_id"]
    await act(api, paying, "fee-proposal", {"standard": "per-page", "quantity": 120,
                                            "reason": "申请公开的信息达120页，数量明显超过合理范围", "by": "wang"})
    await act(api, paying, "fee-decision", {"approve": True, "by": "chief-liu"})
    # RULES §3 Service: the 20 working days run from the e-mail's delivery report (handed over by the relay).
    approved = await eventually(api, paying, lambda s: s["fee"]["pay_by"] is not None, timeout=60)

    old_supplement = date.fromisoformat(asked["supplement"]["deadline_on"])
    # Counted from the notice's date (the workflow's today: the year may turn while the test runs).
    notice_sent = date.fromisoformat(asked["supplement"]["notice_sent_on"])
    consultation = served["consultations"][0]
    window_start = date.fromisoformat(consultation["served_on"])
    old_window = date.fromisoformat(consultation["window_ends_on"])
    old_pay_by = date.fromisoformat(approved["fee"]["pay_by"])
    notice_on = date.fromisoformat(approved["fee"]["notice_served_on"])
    assert old_supplement == add_working_days_from(WorkCalendar(calendar_before(this_year)), notice_sent, 15)[0]

    # One more day off: the first working day after the latest start, which every window counts.
    first = max(notice_sent, window_start, notice_on)
    day_off, provisional = WorkCalendar(calendar_before(this_year)).add_workdays(first, 1)
    assert provisional
    years = range(this_year, old_pay_by.year + 2)
    new_cal = WorkCalendar(await publish_fictional_years(api, years, day_off))
    note = f"（{day_off.year} 年放假安排公布）"

    expected = add_working_days_from(new_cal, notice_sent, 15)[0]
    assert expected > old_supplement
    after = await eventually(api, supplementing, lambda s: s["supplement"]["deadline_on"] != old_supplement.isoformat(), timeout=60)
    assert after["supplement"]["deadline_on"] == expected.isoformat()
    assert f"补正期限由 {old_supplement} 重新计算为 {expected}{note}" in [e["summary"] for e in after["timeline"]]

    expected = add_working_days_from(new_cal, window_start, 15)[0]
    assert expected > old_window
    after = await eventually(api, consulting, lambda s: s["consultations"][0]["window_ends_on"] != old_window.isoformat(), timeout=60)
    assert after["consultations"][0]["window_ends_on"] == expected.isoformat()
    assert f"征求「某科技有限公司」意见的期限由 {old_window} 重新计算为 {expected}{note}" in [e["summary"] for e in after["timeline"]]
    child = (await api.get(f"/api/v1/consultations/{consultation['consultation_id']}")).json()
    assert child["window_ends_on"] == expected.isoformat()  # the child's timer runs to the new date

    expected = add_working_days_from(new_cal, notice_on, 20)[0]
    assert expected > old_pay_by
    after = await eventually(api, paying, lambda s: s["fee"]["pay_by"] != old_pay_by.isoformat(), timeout=60)
    assert after["fee"]["pay_by"] == expected.isoformat()
    assert f"缴费期限由 {old_pay_by} 重新计算为 {expected}{note}" in [e["summary"] for e in after["timeline"]]


async def test_an_application_the_published_year_does_not_touch_records_nothing(isolated_api, unpublished_from, client):
    """Issue 15 point 4: publishing a year that none of an application's windows reaches costs it nothing at
    publication: the broadcaster recounts it from the database copy and does not signal it (its history is
    unchanged); staff opening it see it count on the published year, with no timeline entry."""
    from temporalio.api.enums.v1 import EventType

    api = isolated_api
    app_id = (await register(api))["application_id"]
    view = await eventually(api, app_id, lambda s: "letter-sent" in [e["kind"] for e in s["timeline"]], timeout=60)
    # Beyond every window of this application, and a year its calendar does not hold yet (under
    # `-p tests.newer_calendar` the package holds the next years).
    year = max([date.fromisoformat(view["due"]["due_on"]).year, *view["calendar_years"]]) + 1
    unpublished_from(year)
    api.app.state.calendar.refresh()
    handle = client.get_workflow_handle(app_id)

    await listed_with_clock(api, app_id)
    before = await settled_history(handle)
    published = await api.put(f"/api/v1/calendar/years/{year}", json=fictional_schedule(year), headers=api.as_user("admin"))
    assert published.status_code == 200, published.text
    told = await client.get_workflow_handle(published.json()["open_applications_notified_by"]).result()
    assert told["recounted"] >= 1, told
    after = await settled_history(handle)
    added = [EventType.Name(e.event_type) for e in after[len(before):]]
    assert added == [], (added, told)  # not woken
    now = await state(api, app_id)  # staff open it: it counts on the published year first
    assert now["calendar_version"] != view["calendar_version"] and year in now["calendar_years"]
    assert now["timeline"] == view["timeline"] and now["due"]["due_on"] == view["due"]["due_on"]

