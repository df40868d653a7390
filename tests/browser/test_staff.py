"""The staff pages in Chromium against the real stack (Temporal dev server, worker, API, SMTP):
log-in, CSRF and log-out; the desk registers a letter; handler proposes, reviewer returns with a
comment, handler edits, reviewer approves, supervisor signs, and the reply with its PDF arrives in
the mail sink; a refused action shows the workflow's reason and keeps the input; the dashboard's
figures equal the API's; administration and the outbox. Every page visited is screenshotted as
build/screenshots/staff-*.png and checked with axe-core (check_page)."""

from __future__ import annotations

import asyncio
import re
from email import message_from_bytes, policy

import httpx
import pytest

from sqlmodel import Session

from core import clock
from db.models import PublishedCalendarYear
from tests.browser.conftest import check_page
from tests.helpers import TEST_PASSWORD, act, eventually, register, state

pytestmark = pytest.mark.usefixtures("live_server")
DESKTOP = {"width": 1280, "height": 900}


async def staff_page(browser, live_server, username: str):
    """A fresh browser profile, logged in as `username` through the log-in form."""
    context = await browser.new_context(base_url=live_server.url, locale="zh-CN", viewport=DESKTOP,
                                        timezone_id="Asia/Shanghai", accept_downloads=True)
    context.set_default_timeout(30_000)
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.js_errors = errors  # type: ignore[attr-defined]
    await page.goto("/staff")
    await page.get_by_label("用户名").fill(username)
    await page.get_by_label("密码").fill(TEST_PASSWORD)
    await page.get_by_role("button", name="登录").click()
    await page.wait_for_url("**/staff/queue")
    return page


async def queue_row_once(page, number: str, *, present: bool, tries: int = 60):
    """The work queue's row of application `number`, once it is there (`present`) or gone: the page is reloaded
    until then (the database copy the queue reads is written in the background), at most `tries` times."""
    row = page.locator("table.queue tr", has=page.locator(f"a:text-is('{number}')"))
    for _ in range(tries):
        await page.goto("/staff/queue")
        if bool(await row.count()) == present:
            break
        await asyncio.sleep(0.5)
    return row


def refused_as_expected(page) -> None:
    """A refusal is answered with its 4xx status (409, 422, 403): Chromium logs that load as a console error."""
    page.js_errors[:] = [e for e in page.js_errors if not re.match(r"Failed to load resource: .* status of 4\d\d", e)]


async def form(page, action: str):
    return page.locator(f"#form-{action}")


async def test_log_in_sets_a_strict_http_only_cookie_posts_need_the_csrf_token_and_log_out_ends_it(page, live_server):
    await page.set_viewport_size(DESKTOP)
    await page.goto("/staff")
    await check_page(page, "staff-login")
    await page.get_by_label("用户名").fill("wang")
    await page.get_by_label("密码").fill("wrong-password-123")
    await page.get_by_role("button", name="登录").click()
    assert "用户名或密码错误" in await page.locator("[role=alert]").inner_text()
    assert await page.get_by_label("用户名").input_value() == "wang"  # kept
    refused_as_expected(page)

    await page.get_by_label("密码").fill(TEST_PASSWORD)
    await page.get_by_role("button", name="登录").click()
    await page.wait_for_url("**/staff/queue")
    cookies = {c["name"]: c for c in await page.context.cookies()}
    session = cookies["gk_staff"]
    assert session["httpOnly"] and session["sameSite"] == "Strict" and session["path"] == "/staff"
    assert session["value"].count(".") == 2  # the API's own JWT
    # The same token works as the API's bearer: it is the API's session, not a private one.
    async with httpx.AsyncClient(base_url=live_server.url) as http:
        me = await http.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {session['value']}"})
        assert me.json()["username"] == "wang"
        # A POST without the page's CSRF token is refused, even with the session cookie.
        forged = await http.post("/staff/register", cookies={"gk_staff": session["value"]},
                                 data={"channel": "fax", "received_on": clock.today().isoformat()})
        assert forged.status_code == 403
    # A handler is not the registration desk: the page says so (the API's own role check).
    await page.goto("/staff/register")
    assert "仅限登记人员" in await page.locator("[role=alert]").inner_text()
    refused_as_expected(page)

    await page.get_by_role("button", name="退出登录").click()
    await page.wait_for_url(re.compile(r".*/staff\?out=1$"))
    assert "您已退出登录" in await page.locator("main").inner_text()
    assert "gk_staff" not in {c["name"] for c in await page.context.cookies()}
    await page.goto("/staff/queue")  # back to the log-in, remembering where to go
    await page.wait_for_url(re.compile(r".*/staff\?next=%2Fstaff%2Fqueue"))


async def test_the_desk_registers_a_letter_with_the_receipt_rule_beside_the_date(browser, live_server, api):
    desk = await staff_page(browser, live_server, "desk-chen")
    await desk.get_by_role("link", name="登记申请").click()
    await desk.wait_for_url("**/staff/register")
    rules = desk.locator("#receipt-rules")
    assert "挂号信函：以本机关签收之日为收到申请之日" in await rules.inner_text()
    assert await desk.locator("#f-received_on").get_attribute("aria-describedby") == "receipt-rules"
    await check_page(desk, "staff-register")

    # A future receipt date is refused by the API; what was typed stays.
    future = clock.today().toordinal() + 3
    from datetime import date

    await desk.get_by_label("申请方式").select_option("letter-registered")
    await desk.locator("#f-received_on").fill(date.fromordinal(future).isoformat())
    await desk.get_by_label("姓名或名称").fill("李四")
    await desk.get_by_label("身份证件号码或统一社会信用代码").fill("350102199202021117")
    await desk.get_by_label("通讯地址").fill("福州市台江区某路2号")
    await desk.get_by_label("第 1 项", exact=False).fill("2024年本市统计年鉴")
    await desk.get_by_label("获取信息的方式").select_option("post")
    await desk.get_by_role("button", name="登记").click()
    assert "收到申请之日不能晚于今天" in await desk.locator("[role=alert]").first.inner_text()
    assert await desk.get_by_label("姓名或名称").input_value() == "李四"
    refused_as_expected(desk)

    await desk.locator("#f-received_on").fill(clock.today().isoformat())
    # the handler is picked from the agency's handlers (issue 23 point 1); the 科室 comes with them
    await desk.get_by_label("承办人（可稍后指定；按科室，括号内为在办件数）").select_option("wang")
    await desk.get_by_role("button", name="登记").click()
    await desk.wait_for_selector("text=申请已登记")
    await check_page(desk, "staff-registered")
    number = (await desk.locator("dl.facts dd a").first.inner_text()).strip()
    assert re.fullmatch(r"[A-Z0-9]+-\d{4}-\d{6}", number)
    view = await state(api, number)
    assert view["channel"] == "letter-registered" and view["applicant_name"] == "李四"
    assert any("挂号信函" in step for step in view["due"]["steps"])
    assert (view["handler"], view["department"]) == ("wang", "综合统计科")
    await desk.context.close()


async def test_propose_return_edit_approve_sign_and_the_reply_arrives_with_its_pdf(browser, live_server, api, mailbox,
                                                                                      settings):
    created = await register(api, channel="letter-registered", handler="wang", department="综合统计科",
                             applicant={"name": "王五", "type": "natural-person", "email": "wangwu@example.cn"},
                             items=[{"description": "2025年全市规模以上工业企业名录"}], delivery_method="email")
    number = created["application_id"]

    handler = await staff_page(browser, live_server, "wang")
    assert await handler.locator(f"table.queue a:text-is('{number}')").count() == 1
    await check_page(handler, "staff-queue")
    await handler.goto(f"/staff/applications/{number}")
    decisions = await form(handler, "decisions")
    await decisions.get_by_label("拟处理结果").select_option("disclosed")
    await decisions.get_by_role("button", name="保存拟办意见").click()
    await handler.wait_for_selector("text=已完成：提出拟办意见")
    await (await form(handler, "submit")).get_by_role("button", name="提交保密审查").click()
    await handler.wait_for_selector("text=已完成：提交保密审查")
    await check_page(handler, "staff-application-handler")

    reviewer = await staff_page(browser, live_server, "reviewer-zhao")
    assert await reviewer.locator(f"table.queue a:text-is('{number}')").count() == 1
    await reviewer.goto(f"/staff/applications/{number}")
    assert await reviewer.locator("iframe[src$='/draft.pdf']").count() == 1
    review = await form(reviewer, "review")
    await review.get_by_label("退回承办人修改（须写明理由）").check()
    await review.get_by_label("审查意见").fill("请在答复中写明获取方式和联系电话")
    await check_page(reviewer, "staff-review")
    await review.get_by_role("button", name="提交审查意见").click()
    await reviewer.wait_for_selector("text=已完成：保密审查")
    assert (await state(api, number))["status"] == "handling"

    # The handler sees why, proposes again, submits, and edits the new draft's text.
    await handler.goto(f"/staff/applications/{number}")
    assert "保密审查退回：请在答复中写明获取方式和联系电话" in await handler.locator("ol.timeline").inner_text()
    decisions = await form(handler, "decisions")
    await decisions.get_by_label("拟处理结果").select_option("disclosed")
    await decisions.get_by_label("理由（予以公开以外的均须说明）").fill("已主动公开的统计资料")
    await decisions.get_by_role("button", name="保存拟办意见").click()
    await handler.wait_for_selector("text=已完成：提出拟办意见")
    await (await form(handler, "submit")).get_by_role("button", name="提交保密审查").click()
    await handler.wait_for_selector("text=已完成：提交保密审查")
    edit = await form(handler, "reply-draft")
    body = await edit.get_by_label("草稿正文").input_value()
    await edit.get_by_label("草稿正文").fill(body + "\n联系人：统计局办公室，电话 0591-87654321。")
    await edit.get_by_label("修改说明").fill("按审查意见补充联系方式")
    await check_page(handler, "staff-draft-edit")
    await edit.get_by_role("button", name=re.compile("保存修改")).click()
    await handler.wait_for_selector("text=已完成：修改答复告知书草稿")
    view = await state(api, number)
    assert view["reply_draft_version"] == 1 and view["status"] == "in-review"
    assert [f["kind"] for f in view["prescreen_findings"]] == ["phone"]

    # The reviewer sees the edited draft beside the findings, the phone number marked, and approves it.
    await reviewer.goto(f"/staff/applications/{number}")
    assert "0591-87654321" in await reviewer.locator("pre.draft-text mark").inner_text()
    assert "电话号码" in await reviewer.locator("ul.findings").inner_text() or await reviewer.locator("ul.findings li").count() == 1
    await check_page(reviewer, "staff-review-findings")
    review = await form(reviewer, "review")
    await review.get_by_label("通过，报负责人签发").check()
    await review.get_by_role("button", name="提交审查意见").click()
    await reviewer.wait_for_selector("text=已完成：保密审查")

    chief = await staff_page(browser, live_server, "chief-liu")
    assert await chief.locator(f"table.queue a:text-is('{number}')").count() == 1
    await chief.goto(f"/staff/applications/{number}")
    await (await form(chief, "sign")).get_by_role("button", name="签发").click()
    await chief.wait_for_selector("text=已完成：签发答复告知书")

    reply, raw = await _reply_mail(mailbox, number)
    pdfs = [part for part in reply.iter_attachments() if part.get_content_type() == "application/pdf"]
    assert pdfs and pdfs[0].get_content().startswith(b"%PDF")
    assert "0591-87654321" in reply.get_body(preferencelist=("plain",)).get_content() or pdfs
    await chief.reload()
    assert await chief.locator(f"iframe[src$='/letters/{number}:reply.pdf']").count() == 1
    await check_page(chief, "staff-application-signed")
    letter = await chief.request.get(f"/staff/applications/{number}/letters/{number}:reply.pdf")
    assert letter.status == 200 and (await letter.body()).startswith(b"%PDF")

    # The outbox page shows what the embedded mail sink keeps: store this very message as the sink does.
    from core import mailsink

    mailsink.store_message(settings.data_dir / "mail", raw)
    await chief.goto("/staff/outbox")
    await check_page(chief, "staff-outbox")
    await chief.get_by_role("link", name=reply["Subject"]).first.click()
    await chief.wait_for_selector("iframe[name=mail-viewer]")
    await check_page(chief, "staff-outbox-message")
    href = await chief.locator("a[download]").first.get_attribute("href")
    attachment = await chief.request.get(href)
    assert (await attachment.body()).startswith(b"%PDF")
    for p in (handler, reviewer, chief):
        await p.context.close()


async def _reply_mail(mailbox, number: str, timeout: float = 60.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        for envelope in list(mailbox.envelopes):
            message = message_from_bytes(envelope.original_content, policy=policy.default)
            if number in str(message["Subject"]) and any(
                    part.get_content_type() == "application/pdf" for part in message.iter_attachments()) and \
                    "答复" in str(message["Subject"]):
                return message, envelope.original_content
        if asyncio.get_running_loop().time() > deadline:
            subjects = [message_from_bytes(e.original_content, policy=policy.default)["Subject"] for e in mailbox.envelopes]
            raise AssertionError(f"no reply mail for {number}; subjects seen: {subjects[-10:]}")
        await asyncio.sleep(0.3)


async def test_a_refused_action_shows_the_workflows_reason_and_keeps_the_input(browser, live_server, api):
    created = await register(api, handler="wang", department="综合统计科")
    number = created["application_id"]
    handler = await staff_page(browser, live_server, "wang")
    await handler.goto(f"/staff/applications/{number}")
    decisions = await form(handler, "decisions")
    await decisions.get_by_label("拟处理结果").select_option("unavailable-1")  # 无法提供 needs its reasons
    await decisions.get_by_label("无法提供时：负责该信息的机关及联系方式").fill("市档案馆 0591-1234567")
    await decisions.get_by_role("button", name="保存拟办意见").click()
    error = handler.locator("#error-decisions")
    await error.wait_for()
    assert "须说明理由" in await error.inner_text()
    decisions = await form(handler, "decisions")
    assert await decisions.get_by_label("拟处理结果").input_value() == "unavailable-1"
    assert await decisions.get_by_label("无法提供时：负责该信息的机关及联系方式").input_value() == "市档案馆 0591-1234567"
    refused_as_expected(handler)
    await check_page(handler, "staff-refused-action")
    view = await state(api, number)
    assert view["items"][0]["proposal"] is None  # nothing half-applied
    assert not any(e["kind"] == "decision-proposed" for e in view["timeline"])

    # Another department's handler cannot see it at all: the API's 404, shown as a page.
    other = await staff_page(browser, live_server, "li")
    response = await other.goto(f"/staff/applications/{number}")
    assert response.status == 404
    assert f"没有编号为 {number} 的申请" in await other.locator("[role=alert]").inner_text()
    for p in (handler, other):
        await p.context.close()


async def test_the_dashboard_figures_equal_the_apis_and_link_to_the_applications(browser, live_server, api):
    # Some applications in several states: open, one awaiting signature, one consulting.
    for _ in range(2):
        await register(api, handler="wang", department="综合统计科")
    signing = (await register(api, handler="wang", department="综合统计科"))["application_id"]
    await act(api, signing, "decisions", {"item_no": 1, "outcome": "disclosed", "reasons": "", "by": "wang"})
    await act(api, signing, "submit", {"by": "wang"})
    await act(api, signing, "review", {"approve": True, "by": "reviewer-zhao"})
    consulting = (await register(api, handler="wang", department="综合统计科"))["application_id"]
    await act(api, consulting, "consultations", {"consultee": {"kind": "third-party", "name": "某公司"}, "item_nos": [1],
                                                 "by": "wang"})

    # One replied by e-mail and closed: the on-time chart has a bar.
    closed = (await register(api, handler="wang", department="综合统计科"))["application_id"]
    await act(api, closed, "decisions", {"item_no": 1, "outcome": "disclosed", "reasons": "", "by": "wang"})
    await act(api, closed, "submit", {"by": "wang"})
    await act(api, closed, "review", {"approve": True, "by": "reviewer-zhao"})
    await act(api, closed, "sign", {"by": "chief-liu"})
    await eventually(api, closed, lambda s: s["status"] == "closed", timeout=60)

    chief = await staff_page(browser, live_server, "chief-liu")

    async def figures() -> dict[str, tuple[int, str]]:
        await chief.goto("/staff/dashboard")
        out = {}
        for item in await chief.locator("li.figure").all():
            key = await item.get_attribute("data-figure")
            out[key] = (int(await item.locator(".num").inner_text()), await item.locator("a").get_attribute("href"))
        return out

    async def api_total(href: str) -> int | None:
        query = href.split("?", 1)[1]
        if "pending=" in query:
            return None
        answer = await api.get(f"/api/v1/applications?{query}&limit=1")
        assert answer.status_code == 200, answer.text
        return answer.json()["total"]

    for attempt in range(5):  # background work may move a status between the two reads: read until stable
        before = await figures()
        totals = {key: await api_total(href) for key, (_, href) in before.items()}
        after = await figures()
        if before == after:
            break
    for key, (value, href) in before.items():
        if totals[key] is not None:
            assert value == totals[key], f"{key}: page {value}, API {totals[key]} ({href})"
    assert before["sign"][0] >= 1 and before["paused"][0] >= 1 and before["open"][0] >= 4
    await check_page(chief, "staff-dashboard")

    # The monthly on-time figures link to the list with the same filters as the API's.
    assert await chief.locator("svg.bars rect.bar").count() >= 1
    month_rows = await chief.locator("table.rates").first.locator("tbody tr").all()
    assert sum([int(await r.locator("td a").first.inner_text()) for r in month_rows]) >= 1
    for row in month_rows[-3:]:
        link = row.locator("td a").first
        href = await link.get_attribute("href")
        assert int(await link.inner_text()) == await api_total(href)
    # A figure opens the list of exactly those applications.
    await chief.locator("li.figure[data-figure=sign] a").click()
    await chief.wait_for_url(re.compile(r".*/staff/applications\?status=awaiting-signature$"))
    assert int(await chief.locator("[data-total]").inner_text()) == before["sign"][0]
    assert await chief.locator(f"a:text-is('{signing}')").count() == 1
    await check_page(chief, "staff-list")
    await chief.context.close()


async def test_an_extension_request_waits_in_the_supervisors_queue_and_dashboard_until_decided(browser, live_server,
                                                                                                 api):
    """Reg. 33(2): the supervisor decides an extension. The request shows in their work queue and in the
    dashboard's figure (and its list) until the decision, read from the column the workflow writes."""
    number = (await register(api, handler="wang", department="综合统计科"))["application_id"]
    await act(api, number, "extension-request", {"days": 10, "reason": "需要调取历史档案", "by": "wang"})
    chief = await staff_page(browser, live_server, "chief-liu")
    row = await queue_row_once(chief, number, present=True)
    assert await row.count() == 1 and "审批延期申请" in await row.inner_text()
    await check_page(chief, "staff-queue-supervisor")
    await chief.goto("/staff/dashboard")
    figure = chief.locator("li.figure[data-figure=extension]")
    assert int(await figure.locator(".num").inner_text()) >= 1
    await figure.locator("a").click()
    await chief.wait_for_url(re.compile(r".*/staff/applications\?pending=extension$"))
    assert await chief.locator(f"a:text-is('{number}')").count() == 1

    await act(api, number, "extension-decision", {"approve": True, "comment": "同意", "by": "chief-liu"})
    row = await queue_row_once(chief, number, present=False)
    assert await row.count() == 0, "a decided extension still waits in the supervisor's queue"
    await chief.goto("/staff/applications?pending=extension")
    assert await chief.locator(f"a:text-is('{number}')").count() == 0
    await chief.context.close()


async def test_an_application_without_a_handler_waits_in_the_registrars_queue_until_assigned(browser, live_server, api):
    """The registration desk assigns a handler (RULES §1): an application registered without one waits in the
    registrar's queue (the partial index of unassigned applications) and leaves it once assigned."""
    number = (await register(api, handler=None, department=None))["application_id"]
    desk = await staff_page(browser, live_server, "desk-chen")
    row = await queue_row_once(desk, number, present=True)
    assert await row.count() == 1 and "指定承办人" in await row.inner_text()
    await check_page(desk, "staff-queue-registrar")
    await act(api, number, "assign", {"handler": "wang", "department": "综合统计科", "by": "desk-chen"})
    row = await queue_row_once(desk, number, present=False)
    assert await row.count() == 0, "an assigned application still waits in the registrar's queue"
    await desk.context.close()


async def test_administration_users_calendar_preview_and_publication(browser, live_server, api, engine):
    admin = await staff_page(browser, live_server, "admin")
    await admin.get_by_role("link", name="系统管理").click()
    await admin.wait_for_url("**/staff/admin")
    create = admin.locator("#form-create-user")
    name = f"desk-{clock.now().strftime('%H%M%S%f')}"
    await create.get_by_label("用户名（字母、数字、点、横线）").fill(name)
    await create.get_by_label("初始密码（至少 12 个字符）").fill("short")
    await create.get_by_label("登记人员").check()
    await create.get_by_role("button", name="创建用户").click()
    assert "内容过短" in await admin.locator("#e-nu-password").inner_text()  # the API's refusal, beside the field
    assert await admin.locator("#form-create-user").get_by_label("用户名（字母、数字、点、横线）").input_value() == name
    refused_as_expected(admin)
    create = admin.locator("#form-create-user")
    await create.get_by_label("初始密码（至少 12 个字符）").fill("a-long-enough-password")
    await create.get_by_role("button", name="创建用户").click()
    await admin.wait_for_selector("text=已创建用户")
    assert name in await admin.locator("main").inner_text()
    await check_page(admin, "staff-admin-users")
    # Deactivate the new account through its own form; the admin API says so.
    account = admin.locator("details.user", has_text=name)
    await account.locator("summary").click()
    await account.get_by_label("账户有效").uncheck()
    await account.get_by_role("button", name="保存").click()
    await admin.wait_for_selector("text=已保存修改")
    users = (await api.get("/api/v1/admin/users", headers=api.as_user("admin"))).json()
    created = next(u for u in users if u["username"] == name)
    assert created["active"] is False and created["roles"] == ["registrar"]

    # The admin sees no application data: the dashboard and the outbox refuse.
    response = await admin.goto("/staff/dashboard")
    assert response.status == 403
    refused_as_expected(admin)

    await admin.goto("/staff/admin/calendar")
    year = clock.today().year + 2
    await admin.get_by_label("年度").fill(str(year))
    await admin.get_by_label(re.compile("放假日期")).fill(f"{year}-01-01")
    await admin.get_by_label(re.compile("依据")).fill(f"国务院办公厅关于{year}年部分节假日安排的通知（测试）")
    await admin.get_by_role("button", name="预览影响").click()
    preview = admin.locator("section.warning")
    await preview.wait_for()
    assert re.search(r"其中 \d+ 件的答复期限将因此改变", await preview.inner_text())
    await check_page(admin, "staff-admin-calendar")
    # Confirmed: published (a year two years ahead: no open application's due date reaches it), and the page says so.
    await preview.get_by_role("button", name="确认发布").click()
    await admin.wait_for_selector(f"text=已发布 {year} 年放假安排")
    published_years = (await admin.locator("main p", has_text="已公布的年度").inner_text()).split("已公布的年度：")[1]
    assert str(year) in published_years, published_years
    with Session(engine) as session:
        stored = session.get(PublishedCalendarYear, year)
    assert stored is not None and stored.published_by == "admin" and stored.payload["holidays"] == [f"{year}-01-01"]
    await check_page(admin, "staff-admin-calendar-published")
    await admin.context.close()


async def test_an_expired_session_goes_back_to_the_log_in_and_a_half_used_one_is_renewed(live_server, settings):
    from datetime import timedelta

    from core.security import issue_access_token

    lifetime = timedelta(minutes=settings.access_token_minutes)
    expired = issue_access_token(settings, "wang", 1, now=clock.now() - lifetime - timedelta(minutes=1))
    half_used = issue_access_token(settings, "wang", 1, now=clock.now() - lifetime * 0.6)
    async with httpx.AsyncClient(base_url=live_server.url) as http:
        answer = await http.get("/staff/queue", cookies={"gk_staff": expired})
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/staff?next=%2Fstaff%2Fqueue&why=")
        login = await http.get(answer.headers["location"])
        assert "登录已过期或已失效，请重新登录" in login.text

        answer = await http.get("/staff/queue", cookies={"gk_staff": half_used})
        assert answer.status_code == 200 and "我的待办" in answer.text
        renewed = answer.cookies.get("gk_staff")
        assert renewed and renewed != half_used
        assert "httponly" in answer.headers["set-cookie"].lower() and "samesite=strict" in answer.headers["set-cookie"].lower()
        again = await http.get("/staff/queue", cookies={"gk_staff": renewed})
        assert again.status_code == 200 and "gk_staff" not in again.cookies  # fresh: not renewed again
