"""The public 政务公开 pages in Chromium: the catalogue search (with a document's interpretation
beside it). Staff steps go through the JSON API; each page is screenshotted and checked with axe."""

from __future__ import annotations

import uuid

import pytest

from core import clock
from tests.browser.conftest import check_page

pytestmark = pytest.mark.usefixtures("live_server")


async def _published(api, engine, **body) -> str:
    from tests.test_proactive import _row

    response = await api.post("/api/v1/catalogue/items", headers=api.as_user("wang"), json={
        "category_id": "statistics-data", "produced_on": clock.today().isoformat(), "content": "正文"} | body)
    assert response.status_code == 201, response.text
    item_id = response.json()["item_id"]
    await _row(engine, item_id, lambda r: True)
    assert (await api.post(f"/api/v1/catalogue/items/{item_id}/review", json={"approve": True},
                           headers=api.as_user("reviewer-zhao"))).status_code == 200
    assert (await api.post(f"/api/v1/catalogue/items/{item_id}/publish", json={"url": f"/gk/{item_id}.html"},
                           headers=api.as_user("wang"))).status_code == 200
    await _row(engine, item_id, lambda r: r.status == "published")
    return item_id


async def test_catalogue_search_by_document_number_and_title(page, api, engine):
    await api.put("/api/v1/catalogue/categories/statistics-data", json={
        "id": "statistics-data", "name": "国民经济和社会发展统计信息", "section": "综合统计科"})
    number = f"统发〔2026〕{uuid.uuid4().int % 100000}号"
    await _published(api, engine, title="全市居民消费价格变动情况", document_number=number)

    await page.goto("/catalogue")
    await check_page(page, "public-catalogue")
    await page.get_by_label("文号").fill(number)
    await page.get_by_role("button", name="检索").click()
    await page.wait_for_url("**/catalogue?**")
    rows = page.locator("tbody tr")
    assert await rows.count() == 1
    assert "全市居民消费价格变动情况" in await rows.first.inner_text()
    await check_page(page, "public-catalogue-results")

    await page.get_by_label("文号").fill("")
    await page.get_by_label("标题包含").fill("没有这样的标题" + number)
    await page.get_by_role("button", name="检索").click()
    await page.wait_for_selector("text=没有找到符合条件的信息")
