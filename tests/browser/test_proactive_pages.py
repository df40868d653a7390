"""The public 政务公开 pages in Chromium: the catalogue search (with a document's interpretation
beside it). Staff steps go through the JSON API; each page is screenshotted and checked with axe."""

from __future__ import annotations

import uuid

import pytest

from core import clock
from tests.browser.conftest import check_page, register_similar_requests, review_and_publish

pytestmark = pytest.mark.usefixtures("live_server")


async def _published(api, engine, **body) -> str:
    response = await api.post("/api/v1/catalogue/items", headers=api.as_user("wang"), json={
        "category_id": "statistics-data", "produced_on": clock.today().isoformat(), "content": "正文"} | body)
    assert response.status_code == 201, response.text
    item_id = response.json()["item_id"]
    await review_and_publish(api, engine, item_id)
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


async def test_correction_form_explains_a_missing_field_then_registers_the_request(page, api):
    await page.goto("/correction")
    await check_page(page, "public-correction")
    await page.get_by_label("姓名或者名称").fill("王五")
    await page.get_by_label("电子邮箱").fill("wangwu@example.cn")
    await page.get_by_label("需要更正的政府信息记录").fill("2025年统计执法检查结果公告")
    await page.get_by_role("button", name="提交更正申请").click()
    await page.wait_for_selector("#e-correction")
    assert "应当如何更正" in await page.locator("#e-correction").inner_text()
    assert await page.get_by_label("姓名或者名称").input_value() == "王五"
    await check_page(page, "public-correction-error")

    await page.get_by_label("不准确或不完整之处及应当如何更正").fill("本人企业名称有误，应为“某某商务”")
    await page.get_by_label("证据材料").fill("营业执照复印件")
    await page.get_by_role("button", name="提交更正申请").click()
    await page.wait_for_selector("#correction-id")
    correction_id = await page.locator("#correction-id").inner_text()
    await check_page(page, "public-correction-done")
    from tests.test_corrections import _view

    view = await _view(api, correction_id)
    assert view["channel"] == "online" and view["person_name"] == "王五"


async def test_staff_register_review_and_publish_a_catalogue_item(browser, live_server, api):
    from tests.browser.test_staff import refused_as_expected, staff_page

    await api.put("/api/v1/catalogue/categories/statistics-data", json={
        "id": "statistics-data", "name": "国民经济和社会发展统计信息", "section": "综合统计科"})
    handler = await staff_page(browser, live_server, "wang")
    await handler.get_by_role("link", name="政务公开").click()
    await handler.wait_for_url("**/staff/gk")
    await check_page(handler, "staff-gk-overview")
    title = f"全市能源消费情况 {uuid.uuid4().hex[:6]}"
    item_form = handler.locator("form[action='/staff/gk/new/item']")
    await item_form.get_by_label("标题").fill(title)
    await item_form.get_by_label("产生（变更）日期").fill(clock.today().isoformat())
    await item_form.get_by_label("内容").fill("能源消费总量同比增长 2%。")
    await item_form.get_by_role("button", name="登记").click()
    await handler.wait_for_url("**/staff/gk/catalogue/ML-*")
    item_url = handler.url
    main = handler.locator("main")
    # The category's name, not its code; only the forms valid while it awaits review (no 公开发布).
    assert "国民经济和社会发展统计信息" in await main.inner_text() and "statistics-data" not in await main.inner_text()
    assert await handler.locator("#form-publish").count() == 0
    # the review form is the reviewer's only (issue 23 point 7: a form only for the roles that may use it)
    assert await handler.locator("#form-review").count() == 0 and await handler.locator("#form-change").count() == 1
    await check_page(handler, "staff-gk-item-in-review")

    reviewer = await staff_page(browser, live_server, "reviewer-zhao")
    await reviewer.goto(item_url)
    stale = await reviewer.context.new_page()  # the same page left open in a second tab
    stale.js_errors = []
    await stale.goto(item_url)
    await reviewer.locator("#form-review").get_by_role("button").click()
    await reviewer.wait_for_url("**?done=review")
    assert await reviewer.locator("#form-review").count() == 0
    # The stale tab still shows the review form: the workflow refuses it, the page says why.
    await stale.locator("#form-review").get_by_role("button").click()
    await stale.wait_for_selector("#error-review")
    assert "没有待保密审查的稿件" in await stale.locator("#error-review").inner_text()
    refused_as_expected(stale)
    await check_page(stale, "staff-gk-item-refused")

    await handler.goto(item_url)
    await handler.locator("#form-publish").get_by_label("公开网址").fill("/gk/energy.html")
    await handler.locator("#form-publish").get_by_role("button").click()
    await handler.wait_for_url("**?done=publish")
    assert "SHA-256" in await handler.locator("main").inner_text()
    assert await handler.locator("#form-publish").count() == 0 and await handler.locator("#form-withdraw").count() == 1
    await check_page(handler, "staff-gk-item-published")
    await reviewer.context.close()
    await handler.context.close()


async def test_staff_forward_a_correction_and_see_an_events_hour_limits(browser, live_server, api):
    from datetime import timedelta

    from tests.browser.test_staff import staff_page
    from tests.test_corrections import BODY

    correction_id = (await api.post("/api/v1/public/corrections", json=BODY, headers={"Authorization": ""})).json()["correction_id"]
    event_id = (await api.post("/api/v1/public-opinion/events", headers=api.as_user("wang"), json={
        "title": "网传统计公报推迟发布", "severity": "major",
        "found_at": (clock.now() - timedelta(minutes=5)).isoformat()})).json()["event_id"]
    handler = await staff_page(browser, live_server, "wang")
    await handler.goto(f"/staff/gk/opinion/{event_id}")
    await handler.wait_for_selector("text=5 小时内发布权威信息")
    assert "24 小时内举行新闻发布会" in await handler.locator("main").inner_text()
    await check_page(handler, "staff-gk-opinion")

    await handler.goto(f"/staff/gk/correction/{correction_id}")
    forward = handler.locator("#form-forward")
    await forward.get_by_label("有权更正的机关").fill("市市场监督管理局")
    await forward.get_by_role("button").click()
    await handler.wait_for_url("**?done=forward")
    assert "转送市市场监督管理局" in await handler.locator("main").inner_text()
    await check_page(handler, "staff-gk-correction-forwarded")
    await handler.context.close()


async def test_staff_maintain_the_categories_with_their_responsible_sections(browser, live_server, api):
    from tests.browser.test_staff import refused_as_expected, staff_page

    code = f"cat-{uuid.uuid4().hex[:6]}"
    chief = await staff_page(browser, live_server, "chief-liu")
    await chief.goto("/staff/gk")
    await chief.get_by_role("link", name="目录类别与负责科室").click()
    await chief.wait_for_url("**/staff/gk/categories")
    new = chief.locator("#form-new-category")
    await new.get_by_label("代码").fill("Bad Code")
    await new.get_by_label("类别名称").fill("财政预决算")
    await new.get_by_label("负责科室").fill("办公室")
    await new.get_by_role("button", name="新增类别").click()
    await chief.wait_for_selector("#error-new")
    assert "小写字母" in await chief.locator("#error-new").inner_text()
    assert await new.get_by_label("类别名称").input_value() == "财政预决算"
    refused_as_expected(chief)
    await check_page(chief, "staff-gk-categories-error")
    await new.get_by_label("代码").fill(code)
    await new.get_by_role("button", name="新增类别").click()
    await chief.wait_for_url(f"**/staff/gk/categories?done={code}")
    row = chief.locator(f"#category-{code}")
    await row.get_by_label("负责科室").fill("财务科")
    await row.get_by_role("button", name="保存").click()
    await chief.wait_for_url(f"**/staff/gk/categories?done={code}")
    await check_page(chief, "staff-gk-categories")
    found = {c["id"]: c for c in (await api.get("/api/v1/catalogue/categories")).json()}
    assert found[code] == {"id": code, "name": "财政预决算", "section": "财务科"}
    await chief.context.close()

    handler = await staff_page(browser, live_server, "wang")  # reads the list, may not change it
    await handler.goto("/staff/gk/categories")
    assert "财务科" in await handler.locator("main").inner_text()
    assert await handler.locator("#form-new-category").count() == 0
    await handler.context.close()


async def test_staff_record_table_two_figures_for_the_annual_report(browser, live_server, api):
    from tests.browser.test_staff import refused_as_expected, staff_page

    handler = await staff_page(browser, live_server, "wang")
    await handler.goto("/staff/gk")
    await handler.get_by_role("link", name="年度报告表二数字（规章、规范性文件、许可、处罚、强制、收费）").click()
    await handler.wait_for_url("**/staff/gk/figures")
    await handler.goto("/staff/gk/figures?year=2017")
    await handler.get_by_label("规章·本年制发件数").fill("2")
    await handler.get_by_label("行政规范性文件·现行有效件数").fill("-1")
    await handler.get_by_role("button", name="保存").click()
    await handler.wait_for_selector("#error-figures")
    assert "负数" in await handler.locator("#error-figures").inner_text()
    assert await handler.get_by_label("规章·本年制发件数").input_value() == "2"
    refused_as_expected(handler)
    await handler.get_by_label("行政规范性文件·现行有效件数").fill("15")
    await handler.get_by_label("行政事业性收费·本年收费金额（单位：万元）").fill("3.2")
    await handler.get_by_role("button", name="保存").click()
    await handler.wait_for_selector("#saved")
    await check_page(handler, "staff-gk-figures")
    rows = {r["key"]: r["cells"] for r in (await api.get("/api/v1/catalogue/figures/2017")).json()["rows"]}
    assert rows["rules"]["made"] == 2 and rows["normative-documents"]["in_force"] == 15
    assert rows["fees"]["amount_10k_yuan"] == 3.2 and rows["penalties"]["decisions"] is None
    assert await handler.get_by_label("规章·本年制发件数").input_value() == "2"
    assert "行政处罚（" not in await handler.locator("main").inner_text()  # nothing recorded: no "登记于"
    await handler.context.close()


async def test_staff_propose_information_several_applicants_asked_for(browser, live_server, api):
    from tests.browser.test_staff import staff_page

    subject = f"全市养老机构床位数统计{uuid.uuid4().hex[:6]}"
    ids = await register_similar_requests(api, subject)
    handler = await staff_page(browser, live_server, "chief-liu")
    await handler.goto("/staff/gk")
    row = handler.locator("#requested ~ table tbody tr", has_text=ids[0])
    assert await row.count() == 1
    text = await row.inner_text()
    assert all(i in text for i in ids)
    await check_page(handler, "staff-gk-requested-often")
    await row.get_by_role("button", name="提议主动公开").click()
    await handler.wait_for_url("**/staff/gk/catalogue/ML-*")
    facts = await handler.locator("#requested-in").inner_text()
    assert all(i in facts for i in ids)
    assert subject in await handler.locator("main").inner_text()
    await check_page(handler, "staff-gk-proposed-item")
    await handler.context.close()


async def test_staff_register_a_public_copy_of_a_released_record(browser, live_server, api):
    from tests.browser.test_staff import refused_as_expected, staff_page
    from tests.helpers import act, eventually, register, through_review

    await api.put("/api/v1/catalogue/categories/statistics-data", json={
        "id": "statistics-data", "name": "国民经济和社会发展统计信息", "section": "综合统计科"})
    app_id = (await register(api, applicant={"name": "吴六", "type": "natural-person", "email": "wuliu@example.cn"},
                             items=[{"description": "统计执法检查处罚决定书"}]))["application_id"]
    attachment = (await api.post(f"/api/v1/applications/{app_id}/attachments", data={"item_no": "1", "version": "original"},
                                 files={"file": ("决定书.pdf", f"当事人吴六 {uuid.uuid4()}".encode(), "application/pdf")},
                                 headers=api.as_user("wang"))).json()
    await through_review(api, app_id, {1: ("disclosed", "")})
    await act(api, app_id, "sign", {"by": "chief-liu"})
    await eventually(api, app_id, lambda s: s["status"] == "closed")

    handler = await staff_page(browser, live_server, "wang")
    await handler.goto("/staff/gk")
    form = handler.locator("form[action='/staff/gk/new/public-copy']")
    await form.get_by_label("申请编号").fill(app_id)
    await form.get_by_label("附件编号（随答复送出的文件）").fill(str(attachment["id"]))
    await form.get_by_label("公开副本标题").fill("统计执法检查处罚决定（公开副本）")
    await form.get_by_label("公开副本内容（已删除个人信息）").fill("当事人吴六，电话 13812345678")
    await form.get_by_role("button", name="登记公开副本").click()
    await handler.wait_for_selector("#error-public-copy")
    assert "电话号码" in await handler.locator("#error-public-copy").inner_text()
    refused_as_expected(handler)
    await check_page(handler, "staff-gk-public-copy-refused")
    form = handler.locator("form[action='/staff/gk/new/public-copy']")
    await form.get_by_label("申请编号").fill(app_id)
    await form.get_by_label("附件编号（随答复送出的文件）").fill(str(attachment["id"]))
    await form.get_by_label("公开副本标题").fill("统计执法检查处罚决定（公开副本）")
    await form.get_by_label("公开副本内容（已删除个人信息）").fill("当事人某企业，违法事实……")
    await form.get_by_role("button", name="登记公开副本").click()
    await handler.wait_for_url("**/staff/gk/catalogue/ML-*")
    main = await handler.locator("main").inner_text()
    assert attachment["sha256"] in main and "封存" in main and app_id in main
    await check_page(handler, "staff-gk-public-copy")
    await handler.context.close()
