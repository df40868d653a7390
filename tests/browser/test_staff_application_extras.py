"""The staff application page in Chromium: the offer to publish proactively what several applicants asked
for (issue 13 point 5), and the fee's approval and payment forms (issue 11 point 12).
Screenshots: build/screenshots/staff-application-requested-often.png, staff-fee-decision.png,
staff-fee-payment.png, staff-fee-paid.png (check_page)."""

from __future__ import annotations

import uuid

import pytest

from tests.browser.conftest import check_page
from tests.browser.test_staff import form, refused_as_expected, staff_page
from tests.helpers import eventually, register

pytestmark = pytest.mark.usefixtures("live_server")


async def test_the_application_page_offers_to_publish_what_several_applicants_asked_for(browser, live_server, api):
    await api.put("/api/v1/catalogue/categories/statistics-data", json={
        "id": "statistics-data", "name": "国民经济和社会发展统计信息", "section": "综合统计科"})
    subject = f"全市公共充电桩数量统计{uuid.uuid4().hex[:6]}"
    ids = [(await register(api, applicant={"name": name, "type": "natural-person", "email": f"{uuid.uuid4().hex[:8]}@example.cn"},
                           items=[{"description": text}]))["application_id"]
           for name, text in (("甲", subject), ("乙", f"2025年{subject}"), ("丙", f"{subject}（分区）"))]
    alone = (await register(api, items=[{"description": f"某某街道某号门牌编制文件{uuid.uuid4().hex[:6]}"}]))["application_id"]

    supervisor = await staff_page(browser, live_server, "chief-liu")
    await supervisor.goto(f"/staff/applications/{alone}")
    assert await supervisor.locator("#requested-often").count() == 0

    await supervisor.goto(f"/staff/applications/{ids[0]}")
    block = supervisor.locator("#requested-often")
    text = await block.inner_text()
    assert subject in text and "3 位申请人" in text and ids[1] in text and ids[2] in text
    assert await block.get_by_role("link", name=ids[1]).count() == 1
    await check_page(supervisor, "staff-application-requested-often")
    await block.get_by_role("button", name="提议主动公开").click()
    await supervisor.wait_for_url("**/staff/gk/catalogue/ML-*")
    facts = await supervisor.locator("#requested-in").inner_text()
    assert all(i in facts for i in ids)
    await supervisor.context.close()

