"""Issue 11 point 8 (Reg. 35) in Chromium: the handler asks for reasons, the desk records them, the
supervisor sets a longer reasonable period; the page shows each step and the new due date.
Screenshot: build/screenshots/staff-excessive.png (checked with axe-core by check_page)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from core import clock
from tests.browser.conftest import check_page
from tests.browser.test_staff import staff_page
from tests.helpers import register, state

pytestmark = pytest.mark.usefixtures("live_server")


async def submit_one_field(browser, live_server, username: str, number: str, action: str, label: str, value: str,
                           button: str):
    """`username` opens the application's page, fills the one field of its #form-<action> and submits it; the
    page once the action is done."""
    page = await staff_page(browser, live_server, username)
    await page.goto(f"/staff/applications/{number}")
    form = page.locator(f"#form-{action}")
    await form.get_by_label(label).fill(value)
    await form.get_by_role("button", name=button).click()
    await page.wait_for_url(f"**done={action}**")
    return page


async def test_reasons_asked_recorded_and_a_longer_period_set_from_the_page(browser, live_server, api):
    created = await register(api, handler="wang", department="综合统计科",
                             items=[{"description": f"2015至2025年各乡镇第{n}类统计台账"} for n in range(1, 4)])
    number = created["application_id"]

    handler = await submit_one_field(browser, live_server, "wang", number, "reasons-request",
                                     "超过合理范围的情形（数量、频次）", "本月已提出申请42件，本申请含3类10年台账",
                                     "发出说明理由告知书")
    facts = await handler.locator("body").inner_text()
    assert "说明理由（第三十五条）" in facts and "尚未收到理由" in facts
    await handler.context.close()

    desk = await submit_one_field(browser, live_server, "desk-chen", number, "reasons",
                                  "申请人说明的理由", "本人承担课题研究，需要历年分乡镇统计台账", "登记")
    await desk.context.close()

    due_on = date.fromisoformat((await state(api, number))["due"]["due_on"])
    longer = due_on + timedelta(days=30)
    chief = await staff_page(browser, live_server, "chief-liu")
    await chief.goto(f"/staff/applications/{number}")
    form = chief.locator("#form-excessive-decision")
    assert "课题研究" in await form.inner_text()
    await form.get_by_label("理由合理，确定延迟答复的合理期限").check()
    await form.locator("#ex-until").fill(longer.isoformat())
    await form.get_by_label("理由", exact=True).fill("需从历年档案中逐项检索整理")
    await form.get_by_role("button", name="作出决定").click()
    await chief.wait_for_url("**done=excessive-decision**")
    text = await chief.locator("body").inner_text()
    assert f"理由合理，延迟答复至 {longer.isoformat()}" in text
    assert longer.isoformat() in text and "第三十五条" in text
    assert clock.today() <= longer
    await check_page(chief, "staff-excessive")
    await chief.context.close()
