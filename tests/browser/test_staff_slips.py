"""Issue 23 in Chromium: a clerk's slip is not silently accepted, and no work is lost.

Point 1: the 承办人 is picked from the agency's real handlers (by 科室, with their open load); the
picked handler's 科室 comes with them. Every page is screenshotted (build/screenshots/staff-slips-*.png)
and checked with axe-core."""

from __future__ import annotations

import re
import uuid

import httpx
import pytest
from sqlmodel import Session

from db.models_fees import ApplicantIdentity

from tests.browser.conftest import check_page
from tests.browser.test_staff import refused_as_expected, staff_page
from services.lockout import LOCK_AFTER
from tests.helpers import TEST_PASSWORD, add_staff, eventually, register, some_identity, state

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


# --- point 2: an expired log-in keeps what was typed, and errors are pages --------------------------


async def test_an_expired_log_in_keeps_the_typed_proposal_and_returns_to_the_page(browser, live_server, api):
    number = (await register(api, handler="wang", department="综合统计科"))["application_id"]
    wang = await staff_page(browser, live_server, "wang")
    await wang.goto(f"/staff/applications/{number}")
    form = wang.locator("#form-decisions")
    typed = "申请公开的名录涉及企业经营信息，须征求第三方意见后答复。\n第二行：另附说明。"
    await form.get_by_label("拟处理结果").select_option("withheld-5")
    await form.get_by_label("理由（予以公开以外的均须说明）").fill(typed)
    # The 15 minutes pass: the browser drops the session cookie (its max-age), as it does at expiry.
    cookies = [c for c in await wang.context.cookies() if c["name"] != "gk_staff"]
    await wang.context.clear_cookies()
    await wang.context.add_cookies(cookies)
    await form.get_by_role("button", name="保存拟办意见").click()

    await wang.wait_for_url("**/staff?*")
    assert "登录已过期" in await wang.locator("main").inner_text()
    await check_page(wang, "staff-slips-expired-login")
    await wang.get_by_label("用户名").fill("wang")
    await wang.get_by_label("密码").fill(TEST_PASSWORD)
    await wang.get_by_role("button", name="登录").click()

    await wang.wait_for_url(f"**/staff/applications/{number}?draft=*")
    assert "填写的内容已恢复" in await wang.locator("main").inner_text()
    form = wang.locator("#form-decisions")
    assert await form.get_by_label("理由（予以公开以外的均须说明）").input_value() == typed
    assert await form.get_by_label("拟处理结果").input_value() == "withheld-5"
    await check_page(wang, "staff-slips-restored")
    assert (await state(api, number))["items"][0].get("proposal") is None  # nothing was sent while logged out
    await form.get_by_role("button", name="保存拟办意见").click()
    await wang.wait_for_url(f"**/staff/applications/{number}?done=decisions*")
    proposal = (await state(api, number))["items"][0]["proposal"]
    assert (proposal["outcome"], proposal["reasons"].replace("\r\n", "\n")) == ("withheld-5", typed)
    # Expired again, now just opening a page: the log-in page says why, and brings the person back.
    cookies = [c for c in await wang.context.cookies() if c["name"] != "gk_staff"]
    await wang.context.clear_cookies()
    await wang.context.add_cookies(cookies)
    await wang.goto(f"/staff/applications/{number}")
    await wang.wait_for_url("**/staff?next=*")
    assert "登录已过期" in await wang.locator("main").inner_text()
    await wang.context.close()


async def test_staff_and_public_errors_are_pages_in_chinese_and_json_only_when_asked(browser, live_server, api):
    number = (await register(api, handler="wang", department="综合统计科"))["application_id"]
    wang = await staff_page(browser, live_server, "wang")
    for path, code, says in (("/staff/no-such-page", 404, "没有找到"), ("/no-such-page", 404, "没有找到"),
                             (f"/staff/applications/{number}/decisions", 405, "不要直接打开表单的提交地址")):
        response = await wang.goto(path)
        assert response.status == code
        assert "text/html" in response.headers["content-type"]
        text = await wang.locator("main").inner_text()
        assert says in text and "detail" not in text
        refused_as_expected(wang)  # Chromium logs the 404 itself as a console error
        await check_page(wang, f"staff-slips-error-{code}{'-staff' if path.startswith('/staff') else ''}")
        if code == 405:
            assert await wang.get_by_role("link", name="返回我的待办").count() == 1
    async with httpx.AsyncClient(base_url=live_server.url) as http:
        asked = await http.get("/staff/no-such-page", headers={"Accept": "application/json"})
        assert asked.status_code == 404 and asked.json()["detail"]
        api_404 = await http.get("/api/v1/no-such-thing", headers={"Accept": "text/html"})
        assert api_404.headers["content-type"].startswith("application/json")
    await wang.context.close()


# --- point 5: the identity document is required and checked by its type -----------------------------


async def test_the_applicants_identity_is_required_and_checked_by_its_type(page, api):
    await page.goto("/apply")
    await page.get_by_label("姓名或者名称").fill("证件用户")
    await page.get_by_label("电子邮箱").fill("id@example.cn")
    await page.get_by_label("第 1 项所需信息").fill("2025年统计公报")
    await page.get_by_role("radio", name="电子邮件").check()
    number = page.get_by_label("身份证件号码或统一社会信用代码")
    for typed, says in (("", "请填写居民身份证号码"), ("12345X", "应为 18 位"),
                        ("350102199001011234", "校验位"), ("350102199002301235", "不是有效的日期")):
        await number.fill(typed)
        await page.get_by_role("button", name="提交申请").click()
        await page.wait_for_selector("#e-applicant-id_number")
        assert says in await page.locator("#e-applicant-id_number").inner_text(), typed
        assert await number.input_value() == typed  # kept, to correct
        assert await number.get_attribute("aria-invalid") == "true"
        refused_as_expected(page)
    await check_page(page, "public-apply-identity-error")
    # Another document, by its type: a Hong Kong resident's permit.
    await page.get_by_label("证件类型").select_option("hk-macao-permit")
    await number.fill("H1234567")
    await page.get_by_role("button", name="提交申请").click()
    assert "H 或 M 加 8 位数字" in await page.locator("#e-applicant-id_number").inner_text()
    refused_as_expected(page)
    await number.fill("h 1234 5678")
    await page.get_by_role("button", name="提交申请").click()
    await page.wait_for_selector("#query-code")
    application = (await page.locator("#application-number").inner_text()).strip()
    # counted under the checked number: capitals, no spaces (the fee count compares this number)
    with Session(api.app.state.engine) as session:
        assert session.get(ApplicantIdentity, application).identity == "H12345678"


# --- point 6: the same application sent twice ---------------------------------------------------------


async def test_back_and_submit_again_shows_the_earlier_number_and_staff_see_possible_duplicate(browser, page, api,
                                                                                               live_server):
    identity = some_identity()

    async def fill_and_submit() -> None:
        await page.goto("/apply")
        await page.get_by_label("姓名或者名称").fill("再次提交")
        await page.get_by_label("身份证件号码或统一社会信用代码").fill(identity)
        await page.get_by_label("电子邮箱").fill("again@example.cn")
        await page.get_by_label("第 1 项所需信息").fill("2025年全市规模以上工业企业名录（再次提交）")
        await page.get_by_role("radio", name="电子邮件").check()
        await page.get_by_role("button", name="提交申请").click()

    await fill_and_submit()
    await page.wait_for_selector("#query-code")
    earlier = (await page.locator("#application-number").inner_text()).strip()
    await fill_and_submit()  # as after Back: the same form again
    alert = page.locator("[role=alert]").first
    await alert.wait_for()
    assert earlier in await alert.inner_text() and "不必重复提交" in await alert.inner_text()
    assert await page.get_by_role("link", name=f"查询申请 {earlier} 的办理进度").count() == 1
    refused_as_expected(page)
    await check_page(page, "public-apply-resubmitted")
    await page.get_by_label(f"我已看到申请编号 {earlier}，确需再次提交一份新的申请").check()
    await page.get_by_role("button", name="提交申请").click()
    await page.wait_for_selector("#query-code")
    second = (await page.locator("#application-number").inner_text()).strip()
    assert second != earlier

    desk = await staff_page(browser, live_server, "desk-chen")
    for one, other in ((second, earlier), (earlier, second)):
        await desk.goto(f"/staff/applications/{one}")
        assert "可能重复" in await desk.locator("h1").inner_text()
        note = desk.locator("#possible-duplicates")
        await note.get_by_role("link", name=other).wait_for()
    await check_page(desk, "staff-slips-possible-duplicate")
    await desk.context.close()


# --- point 8: lockout, the admin told and unlocking; point 10: a handler needs a 科室 ----------------


async def test_a_locked_account_is_shown_to_the_admin_who_unlocks_it(browser, live_server, api):
    name = add_staff(api, f"locked-{uuid.uuid4().hex[:6]}", ["registrar"], None)
    for n in range(LOCK_AFTER):
        await api.post("/api/v1/auth/token", data={"username": name, "password": f"wrong-{n}"})
    person = await browser.new_context(base_url=live_server.url, locale="zh-CN")
    login = await person.new_page()
    await login.goto("/staff")
    await login.get_by_label("用户名").fill(name)
    await login.get_by_label("密码").fill(TEST_PASSWORD)
    await login.get_by_role("button", name="登录").click()
    assert "暂时锁定" in await login.locator("[role=alert]").inner_text()

    admin = await staff_page(browser, live_server, "admin")
    assert "因连续密码错误被锁定" in await admin.locator("main").inner_text()  # told on arrival
    await admin.get_by_role("link", name="查看被锁定的账户").click()
    await admin.wait_for_url("**/staff/admin*")
    row = admin.locator("#locked ~ table tr", has=admin.locator(f"text={name}"))
    assert str(LOCK_AFTER) in await row.inner_text()
    await check_page(admin, "staff-slips-locked-accounts")
    await row.get_by_role("button", name=f"解除 {name} 的锁定").click()
    await admin.wait_for_url("**/staff/admin?done=unlocked")
    assert "已解除锁定" in await admin.locator("main").inner_text()
    assert await admin.get_by_role("button", name=f"解除 {name} 的锁定").count() == 0

    await login.get_by_label("用户名").fill(name)
    await login.get_by_label("密码").fill(TEST_PASSWORD)
    await login.get_by_role("button", name="登录").click()
    await login.wait_for_url("**/staff/queue")

    # point 10: a handler cannot be created without the 科室 the label marks 必填
    create = admin.locator("#form-create-user")
    await create.get_by_label("用户名（字母、数字、点、横线）").fill(f"nodept-{uuid.uuid4().hex[:6]}")
    await create.get_by_label("初始密码（至少 12 个字符）").fill("a-long-enough-password")
    await create.get_by_label("承办人", exact=True).check()
    await create.get_by_role("button", name="创建用户").click()
    assert "承办人员须填写所属科室" in await admin.locator("#e-nu-department").inner_text()
    refused_as_expected(admin)
    await person.close()
    await admin.context.close()


# --- points 9 and 10: Chinese for people, and the small slips ------------------------------------------


async def test_pages_speak_chinese_and_track_takes_a_lower_case_number(browser, page, api, live_server):
    await page.goto("/apply")
    await page.get_by_label("姓名或者名称").fill("中文用户")
    await page.get_by_label("身份证件号码或统一社会信用代码").fill(some_identity())
    await page.get_by_label("第 1 项所需信息").fill(f"2025年统计公报（{uuid.uuid4().hex[:6]}）")
    await page.get_by_role("radio", name="电子邮件").check()
    await page.get_by_role("button", name="提交申请").click()
    # e-mail chosen, no address: asked for, not called malformed
    assert "请填写申请人电子邮箱" in await page.locator("#e-applicant-email").inner_text()
    refused_as_expected(page)
    await page.get_by_label("电子邮箱").fill("words@example.cn")
    await page.get_by_role("button", name="提交申请").click()
    await page.wait_for_selector("#query-code")
    applied = await page.locator("main").inner_text()
    assert "工作日历版本" not in applied and "cal-" not in applied and "chinesecalendar" not in applied
    assert not re.search(r"working day|calendar version", applied)
    number = (await page.locator("#application-number").inner_text()).strip()
    code = (await page.locator("#query-code").inner_text()).strip()

    await page.context.clear_cookies()
    await page.goto("/track")
    await page.get_by_label("申请编号").fill(number.lower())  # typed in lower case
    await page.get_by_label("查询码").fill(code)
    await page.get_by_role("button", name="查询").click()
    await page.wait_for_url(f"**/track/{number}")
    tracked = await page.locator("main").inner_text()
    assert "工作日历版本" not in tracked and "cal-" not in tracked
    # received today (day 0): the 15 working days the 回执 promised, not 16
    assert "今天之后还有 15 个工作日" in await page.locator("#due-on").inner_text()
    await check_page(page, "public-track-in-chinese")

    desk = await staff_page(browser, live_server, "desk-chen")
    await desk.goto(f"/staff/applications/{number}")
    await desk.get_by_text("答复期限是怎样算出来的").click()
    text = await desk.locator("main").inner_text()
    assert "所用工作日历" in text and "chinesecalendar" not in text and "calendar version" not in text
    assert "is a working day" not in text
    timeline = await desk.locator("ol.timeline").inner_text()
    assert "申请人（网上申请）" in timeline and "online-form" not in timeline
    await eventually(api, number, lambda s: any(e["actor"] == "system" for e in s["timeline"]))
    await desk.reload()
    timeline = await desk.locator("ol.timeline").inner_text()
    assert "系统自动" in timeline and "— system" not in timeline
    await check_page(desk, "staff-slips-in-chinese")
    await desk.context.close()


async def test_the_outbox_finds_an_applications_mail(browser, live_server, api, settings):
    from email.message import EmailMessage

    from core import mailsink

    number = f"GK-2026-{uuid.uuid4().int % 10**6:06d}"
    for n, subject in enumerate([f"补正申请告知书（{number}）", "登记回执（GK-2026-999999）", "无关邮件"]):
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = "gk@agency.example.cn", f"p{n}@example.cn", subject
        message.set_content("正文")
        mailsink.store_message(settings.data_dir / "mail", message.as_bytes())
    chief = await staff_page(browser, live_server, "chief-liu")
    await chief.goto("/staff/outbox")
    await chief.get_by_label("查找邮件（申请编号、收件地址或主题中的文字）").fill(number.lower())
    await chief.get_by_role("button", name="查找").click()
    await chief.wait_for_url("**/staff/outbox?q=*")
    rows = await chief.locator("main table tbody tr").all_inner_texts()
    assert len(rows) == 1 and number in rows[0] and "p0@example.cn" in rows[0]
    assert "含“" in await chief.locator("[role=status]").inner_text()
    await check_page(chief, "staff-slips-outbox-search")
    await chief.context.close()


# --- point 7: each role sees only the 政务公开 forms it may use ------------------------------------------


async def test_gk_forms_are_shown_only_to_the_roles_that_may_use_them(browser, live_server, api):
    reviewer = await staff_page(browser, live_server, "reviewer-zhao")
    await reviewer.goto("/staff/gk")
    for title in ("登记主动公开信息", "登记政策解读", "登记舆情", "发布已答复信息的公开副本", "登记更正申请（窗口、信函）"):
        assert await reviewer.get_by_role("heading", name=title).count() == 0, title
    await check_page(reviewer, "staff-slips-gk-reviewer")
    desk = await staff_page(browser, live_server, "desk-chen")
    await desk.goto("/staff/gk")
    assert await desk.get_by_role("heading", name="登记更正申请（窗口、信函）").count() == 1
    assert await desk.get_by_role("heading", name="登记主动公开信息").count() == 0
    handler = await staff_page(browser, live_server, "wang")
    await handler.goto("/staff/gk")
    assert await handler.get_by_role("heading", name="登记主动公开信息").count() == 1
    assert await handler.get_by_role("heading", name="登记更正申请（窗口、信函）").count() == 0
    for p in (reviewer, desk, handler):
        await p.context.close()


async def test_the_queue_on_a_phone_is_a_stack_of_named_values(browser, live_server, api):
    await register(api, handler=None, department=None)  # something in the registrar's queue
    desk = await staff_page(browser, live_server, "desk-chen")
    await desk.set_viewport_size({"width": 390, "height": 844})
    await desk.goto("/staff/queue")
    first = desk.locator("table.queue tbody tr").first
    await first.wait_for()
    cell = first.locator("td[data-label='答复期限']")
    assert await cell.evaluate("td => getComputedStyle(td).display") == "block"
    assert "答复期限：" in await cell.evaluate("td => getComputedStyle(td, '::before').content")
    # nothing wider than the phone
    assert await desk.evaluate("document.documentElement.scrollWidth") <= 390
    await check_page(desk, "staff-slips-queue-phone")
    await desk.context.close()
