"""Issue 11 point 12 in Chromium: proposing a fee, the handler sees the applicant's month counted by the system
(all channels, by identity) with the applications it is based on, and cannot type another figure.
Screenshot: build/screenshots/staff-fee-proposal.png (check_page)."""

from __future__ import annotations

import pytest

from tests.browser.conftest import check_page
from tests.browser.test_staff import form, staff_page
from tests.helpers import register, some_identity, state, today

pytestmark = pytest.mark.usefixtures("live_server")
CHANNELS = ["online", "email", "fax", "in-person", "letter-registered"]


@pytest.mark.dates
async def test_the_fee_form_shows_the_months_count_and_its_list_and_proposes_it(browser, live_server, api):
    # All received on the test's first day: the count is of the receipt's month, whatever day it is when the page shows.
    first = today()
    identity = some_identity()  # this applicant's alone: the month's count is of its applications only
    ids = []
    for n in range(11):
        created = await register(api, handler="wang", department="综合统计科", channel=CHANNELS[n % len(CHANNELS)],
                                 received_on=first.isoformat(),
                                 items=[{"description": f"2025年统计资料汇编第{n + 1}册"}],  # different requests
                                 applicant={"name": "卫十三", "type": "natural-person", "id_number": identity,
                                            "email": f"wei{n}@fees.example.cn"})
        ids.append(created["application_id"])
    # (An application without the applicant's identity is no longer registered (issue 23 point 5): no "missing" case.)
    handler = await staff_page(browser, live_server, "wang")
    await handler.goto(f"/staff/applications/{ids[-1]}")
    figure = handler.locator("#fee-count-figure")
    await figure.wait_for()
    shown = await figure.inner_text()
    assert f"申请人 {first.year} 年 {first.month} 月第 11 件" in shown and "应收 100 元" in shown, shown
    listed = await handler.locator("#fee-count-list tbody tr td:first-child").all_inner_texts()
    assert listed == ids
    await check_page(handler, "staff-fee-proposal")

    fee = await form(handler, "fee-proposal")
    await fee.get_by_label("按件计收（件数由系统统计）").check()
    await fee.get_by_label("数量或频次明显超过合理范围的理由").fill("申请人本月已提出11件申请，频次明显超过合理范围")
    await fee.get_by_role("button", name="报负责人审批").click()
    await handler.wait_for_selector("text=已完成：提出收取信息处理费")
    assert "100 元（待负责人审批）" in await handler.locator("#fee-state").inner_text()
    got = (await state(api, ids[-1]))["fee"]
    assert got["quantity"] == 11 and got["amount_yuan"] == 100 and got["decision"] == "pending"
    await handler.context.close()
