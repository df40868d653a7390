"""Issue 23: the staff application page on a 390 px phone: nothing wider than the screen (tables stack or scroll in
their own box, forms fit), axe-core finds no serious problem, and the handler's forms are usable there."""

from __future__ import annotations

import pytest

from tests.browser.shots import PHONE, desktop_and_phone
from tests.browser.test_staff import staff_page
from tests.helpers import register

pytestmark = pytest.mark.usefixtures("live_server")


async def test_application_page_fits_a_phone_for_the_handler_and_the_supervisor(browser, live_server, api):
    number = (await register(api, handler="wang", department="综合统计科",
                             items=[{"description": "2025年全市规模以上工业企业名录"},
                                    {"description": "2025年统计执法检查的处理决定书（含当事人姓名、身份证号）"}]))["application_id"]
    handler = await staff_page(browser, live_server, "wang")
    await handler.goto(f"/staff/applications/{number}")
    await desktop_and_phone(handler, "staff-application-handler")
    await handler.set_viewport_size(PHONE)
    propose = handler.locator("#form-decisions")
    assert await propose.is_visible()
    box = await propose.bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    chief = await staff_page(browser, live_server, "chief-liu")
    await chief.goto(f"/staff/applications/{number}")
    await desktop_and_phone(chief, "staff-application-supervisor")
