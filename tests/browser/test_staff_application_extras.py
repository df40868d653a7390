"""The staff application page in Chromium: the offer to publish proactively what several applicants asked
for (issue 13 point 5), and the fee's approval and payment forms (issue 11 point 12).
Screenshots: build/screenshots/staff-application-requested-often.png, staff-fee-decision.png,
staff-fee-payment.png, staff-fee-paid.png (check_page)."""

from __future__ import annotations

import uuid

import pytest

from tests.browser.conftest import check_page, register_similar_requests
from tests.browser.test_staff import form, refused_as_expected, staff_page
from tests.helpers import eventually, register

pytestmark = pytest.mark.usefixtures("live_server")


async def test_the_application_page_offers_to_publish_what_several_applicants_asked_for(browser, live_server, api):
    subject = f"全市公共充电桩数量统计{uuid.uuid4().hex[:6]}"
    ids = await register_similar_requests(api, subject)
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


async def test_fee_approved_by_the_supervisor_and_payment_recorded_on_the_application_page(browser, live_server, api):
    application_id = (await register(api, handler="wang", department="综合统计科"))["application_id"]

    handler = await staff_page(browser, live_server, "wang")
    await handler.goto(f"/staff/applications/{application_id}")
    assert await handler.locator("#form-fee-decision").count() == 0
    fee = await form(handler, "fee-proposal")
    await fee.get_by_label("按量计收", exact=True).check()
    await fee.get_by_label("按量计收时：所需信息的页数").fill("50")
    await fee.get_by_label("数量或频次明显超过合理范围的理由").fill("申请复制历年全部统计台账，数量明显超过合理范围")
    await fee.get_by_role("button", name="报负责人审批").click()
    await handler.wait_for_selector("text=已完成：提出收取信息处理费")
    assert "待负责人审批" in await handler.locator("#fee-facts").inner_text()
    assert await handler.locator("#form-fee-decision").count() == 0  # the proposer cannot approve

    supervisor = await staff_page(browser, live_server, "chief-liu")
    await supervisor.goto(f"/staff/applications/{application_id}")
    decision = await form(supervisor, "fee-decision")
    assert "200 元" in await decision.inner_text()  # pages 31-50 at 10 yuan
    await check_page(supervisor, "staff-fee-decision")
    await decision.get_by_label("批准收费，发出缴费通知").check()
    await decision.get_by_label("说明").fill("同意按量收取")
    await decision.get_by_role("button", name="提交审批").click()
    await supervisor.wait_for_selector("text=已完成：审批收取信息处理费")
    assert "已批准（chief-liu）" in await supervisor.locator("#fee-facts").inner_text()

    # The fee notice goes out (e-mail): then the payment form is offered to the handler and the registrar.
    view = await eventually(api, application_id, lambda s: s["fee"]["pay_by"] is not None)
    await handler.goto(f"/staff/applications/{application_id}")
    payment = await form(handler, "fee-payment")
    await check_page(handler, "staff-fee-payment")
    await payment.get_by_label("减免（由负责人决定，须说明理由）").check()
    await payment.get_by_role("button", name="登记").click()
    await handler.wait_for_selector("#error-fee-payment")
    # Issue 24 point 2: a waiver (减免) is the supervisor's decision, with reasons.
    assert "减免信息处理费须由负责人决定并说明理由" in await handler.locator("#error-fee-payment").inner_text()
    refused_as_expected(handler)
    payment = await form(handler, "fee-payment")
    await payment.get_by_label("申请人已缴纳").check()
    await payment.get_by_label("说明（缴费凭证号；减免的理由）").fill("票据号 0012345")
    await payment.get_by_role("button", name="登记").click()
    await handler.wait_for_selector("text=已完成：登记缴费或减免信息处理费")
    facts = await handler.locator("#fee-facts").inner_text()
    assert "已缴纳" in facts and "wang 登记" in facts and view["fee"]["pay_by"][:4] in facts
    assert await handler.locator("#form-fee-payment").count() == 0
    await check_page(handler, "staff-fee-paid")
    got = (await eventually(api, application_id, lambda s: s["fee"]["paid_on"] is not None))["fee"]
    assert got["decision"] == "approved" and got["waived"] is False and got["settled_by"] == "wang"
    await handler.context.close()
    await supervisor.context.close()
