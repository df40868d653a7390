"""The public pages in Chromium against the real stack: the guide, applying (by mouse and by keyboard
alone), an invalid field, tracking, supplementing, withdrawing, downloading the reply and its file,
and the third party's answer. Staff steps go through the JSON API (`api` fixture), as staff would
act on their side; every page visited is screenshotted and checked with axe-core (check_page)."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest

from core.security import third_party_token
from tests.browser.conftest import check_page
from tests.helpers import act, eventually, register, since, some_identity, state, through_review, today

pytestmark = pytest.mark.usefixtures("live_server")

HANDLER = {"handler": "wang", "department": "综合统计科", "by": "desk-chen"}


def date_cn(iso: str) -> str:
    year, month, day = (int(p) for p in iso.split("-"))
    return f"{year}年{month}月{day}日"


async def test_guide_links_to_apply_and_track_and_both_show_a_form(page):
    await page.goto("/")
    await check_page(page, "public-guide")
    assert await page.locator("h1").inner_text() == "依申请公开政府信息指南"
    for text in ("15 个工作日", "不收取费用", "行政复议"):
        assert text in await page.locator("main").inner_text()

    await page.locator("main .card").get_by_role("link", name="在线申请").click()
    await page.wait_for_url("**/apply")
    assert await page.locator("form[action='/apply']").count() == 1
    assert await page.get_by_label("姓名或者名称").is_visible()
    await check_page(page, "public-apply")

    await page.goto("/")
    await page.locator("main .card").get_by_role("link", name="查询进度").click()
    await page.wait_for_url("**/track")
    assert await page.get_by_label("申请编号").is_visible() and await page.get_by_label("查询码").is_visible()
    await check_page(page, "public-track")


async def test_an_invalid_field_is_explained_beside_it_and_the_input_is_kept(page, api):
    await page.goto("/apply")
    await page.get_by_role("radio", name="法人或者其他组织").check()  # an organisation without its kind
    await page.get_by_label("电子邮箱").fill("zhang-at-example")
    await page.get_by_label("第 1 项所需信息").fill("某")  # too short
    await page.get_by_role("radio", name="电子邮件").check()
    await page.get_by_role("button", name="提交申请").click()

    await page.wait_for_selector("#e-applicant-email")
    assert "电子邮箱格式不正确" in await page.locator("#e-applicant-email").inner_text()
    assert "请填写申请人姓名或名称" in await page.locator("#e-applicant-name").inner_text()
    assert "请选择组织类别" in await page.locator("#e-org-type").inner_text()
    assert "至少 2 个字" in await page.locator("#e-items-0-description").inner_text()
    # Beside the field: the message is the field's description, the field is marked invalid.
    email = page.get_by_label("电子邮箱")
    assert "e-applicant-email" in (await email.get_attribute("aria-describedby"))
    assert await email.get_attribute("aria-invalid") == "true"
    assert await email.input_value() == "zhang-at-example"
    assert await page.get_by_label("第 1 项所需信息").input_value() == "某"
    assert await page.get_by_role("radio", name="法人或者其他组织").is_checked()
    await check_page(page, "public-apply-errors")
    # Nothing was registered.
    listed = (await api.get("/api/v1/applications", params={"limit": 100})).json()["items"]
    assert not any(row["applicant_name"] == "" for row in listed)


async def test_apply_track_supplement_and_withdraw(page, api):
    name = f"王小明-{uuid.uuid4().hex[:6]}"
    await page.goto("/apply")
    await page.get_by_label("姓名或者名称").fill(name)
    await page.get_by_label("身份证件号码或统一社会信用代码").fill("350102199001011246")
    await page.get_by_label("联系电话").fill("13800000000")
    await page.get_by_label("电子邮箱").fill("wang@example.cn")
    await page.get_by_label("第 1 项所需信息").fill("2025年全市居民消费价格指数月度数据")
    await page.get_by_role("button", name="再添加一项").click()  # htmx adds the row and focuses it
    second = page.get_by_label("第 2 项所需信息")
    await second.wait_for()
    assert await second.evaluate("element => element === document.activeElement")
    await second.fill("2025年统计执法检查计划")
    await page.get_by_role("radio", name="电子邮件").check()
    await page.get_by_role("button", name="提交申请").click()

    await page.wait_for_selector("#query-code")
    number = (await page.locator("#application-number").inner_text()).strip()
    code = (await page.locator("#query-code").inner_text()).strip()
    assert re.fullmatch(r"[A-Z0-9]{12}", code.replace("-", "")), code
    assert "只显示这一次" in await page.locator("main").inner_text()
    live = await state(api, number)
    assert live["applicant_name"] == name and live["delivery_method"] == "email"
    assert [i["description"] for i in live["items"]] == ["2025年全市居民消费价格指数月度数据", "2025年统计执法检查计划"]
    assert date_cn(live["due"]["due_on"]) in await page.locator("#due-on").inner_text()
    assert "工作日" in await page.locator("ol.explain").inner_text()
    await check_page(page, "public-applied")

    await page.get_by_role("link", name="查看办理进度").click()
    await page.wait_for_url(f"**/track/{number}")
    assert await page.locator("#status").inner_text() == "办理中"
    await check_page(page, "public-track-application")

    # Staff ask for a supplement (JSON API); the applicant sees what is asked and answers it.
    await act(api, number, "assign", HANDLER)
    await act(api, number, "supplement-request", {"needed": ["请说明所需价格指数的具体类别（如食品类）"], "by": "wang"})
    await page.reload()
    assert await page.locator("#status").inner_text() == "等待您补正"
    asked = await page.locator("#supplement-title + .warning").inner_text()
    assert "具体类别" in asked
    # RULES §3 Service: the period from the notice's receipt, in working days; or, once received, until when.
    assert re.search(r"自收到通知之日起 \d+ 个工作日内|您于 .+ 收到，请在 .+ 前补正", asked), asked
    await check_page(page, "public-track-supplement")
    await page.get_by_role("button", name="提交补正").click()  # empty: explained beside the field
    assert "请填写补正内容" in await page.locator("#e-note").inner_text()
    await page.get_by_label("补正内容").fill("所需为食品类居民消费价格指数")
    await page.get_by_role("button", name="提交补正").click()
    await page.wait_for_selector("text=补正已提交")
    after = await state(api, number)
    assert after["supplement"]["received_on"] is not None and after["status"] == "handling"

    # Withdrawal needs the confirmation box; then the application ends.
    await page.get_by_role("button", name="撤回申请").click()
    assert "请勾选此项" in await page.locator("#e-confirm").inner_text()
    await page.get_by_label("撤回原因（可不填）").fill("已通过其他途径获得")
    await page.get_by_label("我确定撤回本申请").check()
    await page.get_by_role("button", name="撤回申请").click()
    await page.wait_for_selector("text=您的申请已撤回")
    assert await page.locator("#status").inner_text() == "已撤回"
    assert await page.get_by_role("button", name="撤回申请").count() == 0
    await check_page(page, "public-track-withdrawn")
    assert (await state(api, number))["status"] == "withdrawn"


async def tab_to(page, selector: str, limit: int = 80) -> None:
    """Press Tab until the element matching `selector` has the focus (keyboard only, as a person would)."""
    for _ in range(limit):
        if await page.evaluate("s => document.activeElement && document.activeElement.matches(s)", selector):
            return
        await page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {selector}")


async def test_the_application_form_works_with_the_keyboard_alone(page, api):
    await page.goto("/")
    await tab_to(page, "main a[href='/apply']")
    await page.keyboard.press("Enter")
    await page.wait_for_url("**/apply")
    await tab_to(page, "#f-applicant-name")
    await page.keyboard.type("键盘用户")
    await tab_to(page, "#f-applicant-id_number")
    await page.keyboard.type(some_identity())
    await tab_to(page, "#f-applicant-email")
    await page.keyboard.type("keys@example.cn")
    await tab_to(page, "#f-items-0-description")
    await page.keyboard.type("2025年统计年鉴电子版")
    await tab_to(page, "#add-item button")
    await page.keyboard.press("Enter")  # a second item, focus moves into it
    await page.wait_for_selector("#f-items-1-description")
    await tab_to(page, "#f-items-1-description")
    await page.keyboard.type("2025年统计公报")
    await tab_to(page, "input[name=delivery_method]")  # the radio group: arrows choose
    await page.keyboard.press("Space")
    assert await page.locator("#delivery-method-first").is_checked()  # 电子邮件
    await tab_to(page, "button[value=submit]:not([hidden])")
    await page.keyboard.press("Enter")

    await page.wait_for_selector("#query-code")
    number = (await page.locator("#application-number").inner_text()).strip()
    assert await page.locator("#query-code").inner_text()
    live = await state(api, number)
    assert [i["description"] for i in live["items"]] == ["2025年统计年鉴电子版", "2025年统计公报"]
    assert live["delivery_method"] == "email" and live["applicant_name"] == "键盘用户"
    await check_page(page, "public-applied-keyboard")


async def test_enter_in_a_text_field_submits_the_application(page, api):
    await page.goto("/apply")
    await page.get_by_label("姓名或者名称").fill("回车用户")
    await page.get_by_label("身份证件号码或统一社会信用代码").fill(some_identity())
    await page.get_by_label("第 1 项所需信息").fill("2025年人口抽样调查主要数据")
    await page.get_by_role("radio", name="在本网站下载").check()
    await page.get_by_label("联系电话").press("Enter")  # implicit submission: submit, not "再添加一项"
    await page.wait_for_selector("#query-code")


@pytest.mark.dates
async def test_the_applicant_tracks_with_the_code_and_downloads_the_reply(page, api, tmp_path: Path):
    created = await register(api, registered_by="online-form", delivery_method="portal",
                             items=[{"description": "2025年统计公报"}])
    number, code = created["application_id"], created["query_code"]
    await act(api, number, "assign", HANDLER)
    content = b"%PDF-1.4 bulletin " + uuid.uuid4().bytes
    uploaded = await api.post(f"/api/v1/applications/{number}/attachments", data={"item_no": "1", "version": "original"},
                              files={"file": ("统计公报.pdf", content, "application/pdf")}, headers=api.as_user("wang"))
    assert uploaded.status_code == 201, uploaded.text

    await page.goto("/track")
    await page.get_by_label("申请编号").fill(number)
    await page.get_by_label("查询码").fill("WRONGCODE123")
    await page.get_by_role("button", name="查询").click()
    assert "不正确" in await page.locator("#e-query_code").inner_text()
    await check_page(page, "public-track-wrong-code")
    await page.get_by_label("查询码").fill(code.lower())  # typed in lower case: still found
    await page.get_by_role("button", name="查询").click()
    await page.wait_for_url(f"**/track/{number}")
    assert await page.get_by_role("link", name="下载答复告知书（PDF）").count() == 0

    await through_review(api, number, {1: ("disclosed", "")})
    await act(api, number, "sign", {"by": "chief-liu"})
    await eventually(api, number, lambda s: s["status"] == "awaiting-delivery"
                     and any(letter["kind"] == "reply" and letter["document_number"] for letter in s["letters"]))
    await page.reload()
    assert "已答复" in await page.locator("#status").inner_text()
    assert "予以公开" in await page.locator("#items-title + ol").inner_text()
    await check_page(page, "public-track-replied")

    downloading_from = today()
    async with page.expect_download() as reply_download:
        await page.get_by_role("link", name="下载答复告知书（PDF）").click()
    reply_path = tmp_path / "reply.pdf"
    await (await reply_download.value).save_as(reply_path)
    assert reply_path.read_bytes().startswith(b"%PDF")
    async with page.expect_download() as file_download:
        await page.get_by_role("link", name="统计公报.pdf").click()
    file_path = tmp_path / "file.pdf"
    await (await file_download.value).save_as(file_path)
    assert file_path.read_bytes() == content
    # The portal download is the delivery (its date is the delivery date): the application closes.
    closed = await eventually(api, number, lambda s: s["status"] == "closed")
    assert closed["delivered_on"] in since(downloading_from)
    # The acknowledgment (回执) is among the letters the applicant can download.
    await page.reload()
    assert await page.locator("#status").inner_text() == "已办结"
    async with page.expect_download() as ack_download:
        await page.get_by_role("link", name="回执").click()
    ack_path = tmp_path / "ack.pdf"
    await (await ack_download.value).save_as(ack_path)
    assert ack_path.read_bytes().startswith(b"%PDF")
    await check_page(page, "public-track-closed")


async def test_the_third_party_answers_through_its_link(page, api):
    number = (await register(api, items=[{"description": "2025年统计公报"},
                                         {"description": "某科技公司报送的2025年研发投入统计表"}]))["application_id"]
    consulting = await act(api, number, "consultations", {
        "consultee": {"kind": "third-party", "name": "某科技有限公司"}, "item_nos": [2], "by": "wang"})
    consultation_id = consulting["consultations"][0]["consultation_id"]
    token = third_party_token(consultation_id, settings=api.app.state.settings)

    await page.goto(f"/third-party/{token}")
    text = await page.locator("main").inner_text()
    assert "某科技有限公司" in text and "研发投入统计表" in text and "2025年统计公报" not in text
    assert number not in text
    # until when the link works (issue 23 point 4): the end of the answer window, or from receipt until proven
    valid = await page.locator("#link-valid-until").inner_text()
    assert "24:00（北京时间）" in valid or "自贵方收到本函之日起计算" in valid
    await check_page(page, "public-third-party")
    await page.get_by_role("radio", name="不同意公开").check()
    await page.get_by_role("button", name="提交意见").click()
    assert "请写明理由" in await page.locator("#e-reasons").inner_text()
    await page.get_by_label("理由").fill("涉及本公司尚未公开的研发计划，属于商业秘密")
    await page.get_by_role("button", name="提交意见").click()
    await page.wait_for_selector("text=意见已提交")
    await check_page(page, "public-third-party-done")
    answered = await eventually(api, number, lambda s: s["consultations"][0]["position"] == "objection")
    assert "商业秘密" in answered["consultations"][0]["reasons"]

    await page.goto(f"/third-party/{token}")  # the link works once
    assert "已失效" in await page.locator("main").inner_text()
    await page.goto("/third-party/" + "x" * 40)
    assert "链接无效" in await page.locator("main").inner_text()
    await check_page(page, "public-third-party-invalid-link")


async def test_a_form_posted_without_its_csrf_token_is_refused(page, api):
    """Double-submit: the browser holds the cookie, but a post must also carry the page's token."""
    await page.goto("/apply")  # sets the cookie
    name = f"跨站-{uuid.uuid4().hex[:6]}"
    form = {"applicant_kind": "natural-person", "applicant.name": name, "applicant.id_number": some_identity(),
            "items.0.description": "2025年统计公报",
            "delivery_method": "pickup", "action": "submit"}
    refused = await page.request.post("/apply", form=form | {"csrf_token": "forged-token-forged-token-0000"})
    assert refused.status == 400 and "页面已过期或来源不明" in await refused.text()
    token = await page.locator("input[name=csrf_token]").first.input_value()
    accepted = await page.request.post("/apply", form=form | {"csrf_token": token})
    assert accepted.status == 200 and "申请已提交" in await accepted.text()
    listed = (await api.get("/api/v1/applications", params={"limit": 100})).json()["items"]
    assert sum(row["applicant_name"] == name for row in listed) == 1


async def test_a_refused_action_shows_the_workflows_reason(page, api):
    created = await register(api, registered_by="online-form", delivery_method="pickup")
    number, code = created["application_id"], created["query_code"]
    await act(api, number, "assign", HANDLER)
    await act(api, number, "supplement-request", {"needed": ["请写明所需名录的行业范围"], "by": "wang"})
    await page.goto(f"/track?number={number}")
    assert await page.get_by_label("申请编号").input_value() == number
    await page.get_by_label("查询码").fill(code)
    await page.get_by_label("查询码").press("Enter")
    await page.wait_for_url(f"**/track/{number}")
    await page.get_by_label("补正内容").fill("制造业")
    # Meanwhile the desk records the supplement that arrived on paper: the online one is now refused.
    await act(api, number, "supplement", {"received_on": created["received_on"], "note": "纸质补正", "by": "desk-chen"})
    await page.get_by_role("button", name="提交补正").click()
    alert = page.locator("main .alert[role=alert]")
    await alert.wait_for()
    assert "本申请没有待补正的事项" in await alert.inner_text()
    await check_page(page, "public-track-refused")
    live = await state(api, number)  # nothing half-applied: one supplement, the desk's
    assert [e["kind"] for e in live["timeline"]].count("supplement-received") == 1
    assert await page.locator("#status").inner_text() == "办理中"
