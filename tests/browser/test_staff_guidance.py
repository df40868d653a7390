"""Issue 11 point 15 in Chromium: the handler answers the practitioners' questions for one item (htmx), sees the
proposed outcome, reasons and legal basis filled into the 拟办意见 form, edits the reasons and proposes it through
the existing update. Screenshots: build/screenshots/staff-guidance-*.png (check_page)."""

from __future__ import annotations

import pytest

from tests.browser.conftest import check_page
from tests.browser.test_staff import form, staff_page
from tests.helpers import register, state

pytestmark = pytest.mark.usefixtures("live_server")


async def test_answering_the_questions_fills_the_decision_form_which_the_handler_edits_and_proposes(
        browser, live_server, api):
    created = await register(api, handler="wang", department="综合统计科", delivery_method="post",
                             applicant={"name": "冯十二", "type": "natural-person", "email": "feng@example.cn",
                                        "address": "福州市鼓楼区某路2号"},
                             items=[{"description": "2025年全市规模以上工业企业名录"},
                                    {"description": "2025年本局内部考勤制度及全市统计执法检查情况"}])
    number = created["application_id"]
    handler = await staff_page(browser, live_server, "wang")
    await handler.goto(f"/staff/applications/{number}")
    guidance = await form(handler, "guidance")
    await guidance.get_by_label("事项", exact=True).select_option("2")

    # Nothing answered yet: the first question is named.
    await guidance.get_by_role("button", name="生成拟办意见").click()
    await handler.locator("#guidance-next").wait_for()
    assert "补不补" in await handler.locator("#guidance-next").inner_text()

    for answer in ("supplement-clear", "nature-disclosure", "responsible-this-agency", "exists-yes",
                   "exemption-withheld-5", "third_party-none", "separable-yes", "form-as-requested"):
        await guidance.locator(f"#gd-{answer}").check()
    await guidance.get_by_role("button", name="生成拟办意见").click()
    result = handler.locator("#guidance-outcome")
    await result.wait_for()
    text = await result.inner_text()
    assert "拟处理结果：部分公开" in text and "第十六条第一款" in text and "第三十七条" in text
    assert "按申请人要求的形式（邮寄纸质件）提供" in text

    decisions = await form(handler, "decisions")
    assert await decisions.get_by_label("事项", exact=True).input_value() == "2"
    assert await decisions.get_by_label("拟处理结果").input_value() == "partly-disclosed"
    assert await decisions.get_by_label("部分公开时：不予公开部分的理由类别").input_value() == "withheld-5"
    reasons = decisions.get_by_label("理由（予以公开以外的均须说明）")
    drafted = await reasons.input_value()
    assert drafted.startswith("经审查，您申请公开的信息中属于人事管理、后勤管理、内部工作流程等内部事务信息的部分依法不予公开")
    assert "《中华人民共和国政府信息公开条例》第十六条第一款" in drafted
    await check_page(handler, "staff-guidance-answered")

    # The handler may still edit the draft before proposing it.
    edited = drafted + "内部考勤制度属于内部管理信息。"
    await reasons.fill(edited)
    await decisions.get_by_role("button", name="保存拟办意见").click()
    await handler.wait_for_selector("text=已完成：提出拟办意见")
    proposal = (await state(api, number))["items"][1]["proposal"]
    assert proposal["outcome"] == "partly-disclosed" and proposal["withheld_ground"] == "withheld-5"
    assert proposal["reasons"] == edited and "第四十条" in proposal["provision"]
    assert (await state(api, number))["items"][0]["proposal"] is None
    await check_page(handler, "staff-guidance-proposed")
    await handler.context.close()


async def test_without_javascript_the_page_comes_back_with_the_decision_form_filled(browser, live_server, api):
    from tests.browser.test_staff import DESKTOP
    from tests.helpers import TEST_PASSWORD

    number = (await register(api, handler="wang", department="综合统计科"))["application_id"]
    context = await browser.new_context(base_url=live_server.url, locale="zh-CN", viewport=DESKTOP,
                                        timezone_id="Asia/Shanghai", java_script_enabled=False)
    handler = await context.new_page()
    await handler.goto("/staff")
    await handler.get_by_label("用户名").fill("wang")
    await handler.get_by_label("密码").fill(TEST_PASSWORD)
    await handler.get_by_role("button", name="登录").click()
    await handler.wait_for_url("**/staff/queue")
    await handler.goto(f"/staff/applications/{number}")
    guidance = await form(handler, "guidance")
    for answer in ("supplement-clear", "nature-disclosure", "responsible-this-agency", "exists-needs-creation"):
        await guidance.locator(f"#gd-{answer}").check()
    await guidance.get_by_role("button", name="生成拟办意见").click()
    await handler.wait_for_selector("text=办理指引：拟处理结果“无法提供：没有现成信息需要另行制作”")
    decisions = await form(handler, "decisions")
    assert await decisions.get_by_label("拟处理结果").input_value() == "unavailable-2"
    assert "第三十八条" in await decisions.get_by_label("理由（予以公开以外的均须说明）").input_value()
    assert await (await form(handler, "guidance")).locator("#gd-exists-needs-creation").is_checked()
    await decisions.get_by_role("button", name="保存拟办意见").click()
    await handler.wait_for_selector("text=已完成：提出拟办意见")
    assert (await state(api, number))["items"][0]["proposal"]["outcome"] == "unavailable-2"
    await context.close()


async def test_information_of_an_unknown_other_agency_is_proposed_under_36_5(browser, live_server, api):
    """谁负责: not this agency's, and nobody can say whose. The form is ticked 'not this agency's' (Reg. 36(5)),
    so the reply will not cite 36(4) ('it does not exist') for information that may well exist elsewhere."""
    number = (await register(api, handler="wang", department="综合统计科"))["application_id"]
    handler = await staff_page(browser, live_server, "wang")
    await handler.goto(f"/staff/applications/{number}")
    guidance = await form(handler, "guidance")
    for answer in ("supplement-clear", "nature-disclosure", "responsible-other-agency"):
        await guidance.locator(f"#gd-{answer}").check()
    await guidance.get_by_role("button", name="生成拟办意见").click()
    result = handler.locator("#guidance-outcome")
    await result.wait_for()
    assert "第三十六条第（五）项" in await result.inner_text()
    decisions = await form(handler, "decisions")
    assert await decisions.get_by_label("拟处理结果").input_value() == "unavailable-1"
    assert await decisions.locator("#dec-not-this-agency").is_checked()
    assert await decisions.locator("#dec-referral").input_value() == ""
    await check_page(handler, "staff-guidance-not-this-agency")
    await decisions.get_by_role("button", name="保存拟办意见").click()
    await handler.wait_for_selector("text=已完成：提出拟办意见")
    proposal = (await state(api, number))["items"][0]["proposal"]
    assert proposal["outcome"] == "unavailable-1" and proposal["not_this_agency"] is True
    await handler.context.close()
