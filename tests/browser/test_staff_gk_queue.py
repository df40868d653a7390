"""Issue 23 point 7 in Chromium: each role's work queue holds its own 政务公开 work, with its action link, due date
and time left, overdue marked. A catalogue item and a policy interpretation registered after their deadline are in
the reviewer's queue, marked overdue; once reviewed the item is in its section's handler's queue to publish (not in
another section's); a public-opinion event shows the handlers its hours left; a question asked online waits at the
desk to be routed. Queues are screenshotted at desktop and phone width (tests/browser/shots.py)."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest

from core import clock
from tests.browser.shots import desktop_and_phone
from tests.browser.test_staff import staff_page
from tests.helpers import view_when
from tests.test_participation import _inquiry_row
from tests.test_proactive import _category, _create, _row

pytestmark = pytest.mark.usefixtures("live_server")


async def gk_row(page, record_id: str, *, present: bool = True, tries: int = 40):
    """The queue's 政务公开 row of `record_id` once it is there (or gone): reloaded until then (rows are written in
    the background by the workflows)."""
    row = page.locator(f"#gk-{record_id}")
    for _ in range(tries):
        await page.goto("/staff/queue")
        if (await row.count() > 0) == present:
            return row
        await page.wait_for_timeout(250)
    raise AssertionError(f"{record_id} {'not in' if present else 'still in'} the queue")


async def test_each_role_sees_its_own_gk_work_with_due_dates(browser, live_server, api, anon, engine):
    await _category(api)
    tag = uuid.uuid4().hex[:4]
    late_day = (clock.today() - timedelta(days=45)).isoformat()
    item_id = (await _create(api, title=f"统计执法检查结果公告{tag}", produced_on=late_day))["item_id"]
    policy_id = (await _create(api, title=f"关于加强统计数据质量管理的通知{tag}", document_number=f"统字〔2026〕{tag}号",
                               produced_on=late_day))["item_id"]
    await _row(engine, policy_id, lambda r: True)
    interpretation = await api.post("/api/v1/interpretations", headers=api.as_user("wang"), json={
        "policy_id": policy_id, "title": f"《通知》政策解读{tag}", "content": "一、出台背景……"})
    assert interpretation.status_code == 201, interpretation.text
    interpretation_id = interpretation.json()["item_id"]
    event_id = (await api.post("/api/v1/public-opinion/events", headers=api.as_user("wang"), json={
        "title": f"网民询问统计公报发布时间{tag}", "severity": "other",
        "found_at": (clock.now() - timedelta(hours=1)).isoformat()})).json()["event_id"]
    asked = (await anon.post("/api/v1/public/inquiries", json={"question": f"统计公报一般在什么时候发布？{tag}"})).json()
    await _inquiry_row(engine, asked["inquiry_id"])

    reviewer = await staff_page(browser, live_server, "reviewer-zhao")
    row = await gk_row(reviewer, interpretation_id)
    await gk_row(reviewer, item_id)
    text = await row.inner_text()
    assert "政策解读" in text and "保密审查" in text and "已逾期" in text
    assert "overdue" in (await row.get_attribute("class") or "")
    assert "已逾期" in await reviewer.locator(f"#gk-{item_id}").inner_text()
    assert await reviewer.locator(f"#gk-{event_id}").count() == 0  # not a reviewer's step
    await desktop_and_phone(reviewer, "staff-queue-reviewer")
    await reviewer.locator(f"#gk-{item_id}").get_by_role("link").click()
    await reviewer.wait_for_url(f"**/staff/gk/catalogue/{item_id}")
    await reviewer.locator("#form-review").get_by_role("button").click()
    await reviewer.wait_for_url("**?done=review")

    handler = await staff_page(browser, live_server, "wang")
    row = await gk_row(handler, item_id)
    assert "公开发布" in await row.inner_text() and "综合统计科" in await row.inner_text()
    event = handler.locator(f"#gk-{event_id}")
    assert "回应舆情" in await event.inner_text() and re.search(r"还剩 4[67] 小时", await event.inner_text())
    await desktop_and_phone(handler, "staff-queue-handler")
    other_section = await staff_page(browser, live_server, "li")
    await gk_row(other_section, event_id)  # an event belongs to no section
    assert await other_section.locator(f"#gk-{item_id}").count() == 0

    await gk_row(reviewer, item_id, present=False)  # reviewed: no longer the reviewer's
    desk = await staff_page(browser, live_server, "desk-chen")
    row = await gk_row(desk, asked["inquiry_id"])
    assert "分送承办科室" in await row.inner_text() and "剩余" in await row.inner_text()
    await view_when(api, f"/api/v1/inquiries/{asked['inquiry_id']}")
