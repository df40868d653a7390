"""Table 二 from the catalogue in Chromium (issue 13 point 1): staff register a 行政规范性文件 with its 印发
date, it is published, then withdrawn as repealed with its 废止 date; the yearly figures page shows the
catalogue's counts, which a recorded figure overrides. Screenshots: staff-gk-repealed.png,
staff-gk-figures-catalogue.png (check_page)."""

from __future__ import annotations

import pytest

from core import clock
from tests.browser.conftest import check_page, review_and_publish
from tests.browser.test_staff import staff_page

pytestmark = pytest.mark.usefixtures("live_server")
YEAR = 2016


async def test_a_normative_document_registered_published_and_repealed_counts_in_the_yearly_figures(browser, live_server, api, engine):
    from tests.test_proactive import _row

    await api.put("/api/v1/catalogue/categories/statistics-data", json={
        "id": "statistics-data", "name": "国民经济和社会发展统计信息", "section": "综合统计科"})
    handler = await staff_page(browser, live_server, "wang")
    await handler.goto("/staff/gk")
    await handler.locator("#item-title").fill("统计调查项目审批管理规定")
    await handler.locator("#item-document_number").fill(f"统规〔{YEAR}〕1号")
    await handler.locator("#item-produced_on").fill(clock.today().isoformat())
    await handler.get_by_label("规章、规范性文件（计入年度报告表二）").select_option("normative-documents")
    await handler.get_by_label("印发（施行）日期（规章、规范性文件；默认为产生日期）").fill(f"{YEAR}-03-01")
    await handler.locator("#item-content").fill("第一条 为规范统计调查项目审批……")
    await handler.locator("#item-content").locator("xpath=ancestor::form").get_by_role("button", name="登记").click()
    await handler.wait_for_url("**/staff/gk/catalogue/ML-*")
    item_id = handler.url.rsplit("/", 1)[-1].split("?")[0]
    main = await handler.locator("main").inner_text()
    assert "行政规范性文件" in main and f"{YEAR}-03-01" in main

    await review_and_publish(api, engine, item_id)

    await handler.goto(f"/staff/gk/catalogue/{item_id}")
    withdraw = handler.locator("#form-withdraw")
    await withdraw.get_by_label("撤下理由").fill("被新规定替代，予以废止")
    await withdraw.get_by_label("废止日期（规章、规范性文件因废止而撤下时填写：计入年度报告表二）").fill(f"{YEAR}-09-30")
    await withdraw.get_by_role("button", name="撤下").click()
    await handler.wait_for_selector("text=已完成：撤下")
    assert f"{YEAR}-09-30" in await handler.locator("main").inner_text()
    await check_page(handler, "staff-gk-repealed")
    await _row(engine, item_id, lambda r: r.repealed_on is not None)

    await handler.goto(f"/staff/gk/figures?year={YEAR}")
    made = handler.locator("#c-normative-documents-made")
    assert "主动公开目录统计：1" in await made.inner_text()
    assert "主动公开目录统计：1" in await handler.locator("#c-normative-documents-repealed").inner_text()
    assert "主动公开目录统计：0" in await handler.locator("#c-normative-documents-in_force").inner_text()
    assert await handler.get_by_label("行政规范性文件·本年制发件数").input_value() == ""
    await handler.get_by_label("行政规范性文件·现行有效件数").fill("3")
    await handler.get_by_role("button", name="保存").click()
    await handler.wait_for_selector("#saved")
    override = await handler.locator("#c-normative-documents-in_force").inner_text()
    assert "已登记替代数字 3" in override
    await check_page(handler, "staff-gk-figures-catalogue")
    rows = {r["key"]: r for r in (await api.get(f"/api/v1/catalogue/figures/{YEAR}")).json()["rows"]}
    assert rows["normative-documents"]["cells"] == {"made": 1, "repealed": 1, "in_force": 3}
    await handler.context.close()
