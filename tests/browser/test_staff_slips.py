"""Issue 23 in Chromium: a clerk's slip is not silently accepted, and no work is lost.

Point 1: the 承办人 is picked from the agency's real handlers (by 科室, with their open load); the
picked handler's 科室 comes with them. Every page is screenshotted (build/screenshots/staff-slips-*.png)
and checked with axe-core."""

from __future__ import annotations

import pytest

from tests.browser.conftest import check_page
from tests.browser.test_staff import staff_page
from tests.helpers import register, state

pytestmark = pytest.mark.usefixtures("live_server")


async def test_the_registrar_assigns_by_picking_a_handler_of_a_department(browser, live_server, api):
    number = (await register(api, handler=None, department=None))["application_id"]
    desk = await staff_page(browser, live_server, "desk-chen")
    await desk.goto(f"/staff/applications/{number}")
    form = desk.locator("#form-assign")
    picker = form.get_by_label("承办人（按科室，括号内为在办件数）")
    assert await picker.evaluate("e => e.tagName") == "SELECT"  # not a free-text box any more
    groups = await picker.locator("optgroup").evaluate_all("gs => gs.map(g => g.label)")
    assert {"综合统计科", "执法监督科"} <= set(groups)
    li = picker.locator("optgroup[label='执法监督科'] option[value='li']")
    assert "在办" in await li.inner_text()
    assert await picker.locator("option[value='reviewer-zhao']").count() == 0  # no handler role: not offered
    await check_page(desk, "staff-slips-assign-form")
    await picker.select_option("li")
    await form.get_by_role("button", name="指定").click()
    await desk.wait_for_url(f"**/staff/applications/{number}?done=assign*")
    assert "已完成：指定承办人" in await desk.locator("main").inner_text()
    view = await state(api, number)
    assert (view["handler"], view["department"]) == ("li", "执法监督科")
    await desk.context.close()


async def test_the_desk_offers_the_handlers_at_registration(browser, live_server, api):
    desk = await staff_page(browser, live_server, "desk-chen")
    await desk.goto("/staff/register")
    picker = desk.get_by_label("承办人（可稍后指定；按科室，括号内为在办件数）")
    assert await picker.evaluate("e => e.tagName") == "SELECT"
    assert await picker.input_value() == ""  # 稍后指定 by default
    assert await picker.locator("option[value='wang']").count() == 1
    await check_page(desk, "staff-slips-register-form")
    await desk.context.close()
