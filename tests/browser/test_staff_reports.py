"""Issue 23 point 3 in Chromium: the supervisor's reports pages, reached from the menu, do what the JSON API does
(api/routes/reports.py): the annual report refused while table 二 is missing, published once it is recorded, then
corrected with a reason (both versions listed, PDF downloaded); the 考核评议 sheet with its charts and a manual
score (an out-of-range one refused with its reason); a 责任追究 case raised by hand for a 举报 not handled, taken
up the ladder with reasons and closed; a 复议后起诉 refused before its reconsideration is registered and decided.
Every page is checked with axe-core at desktop and phone width (tests/browser/shots.py)."""

from __future__ import annotations


import pytest

from core import clock
from tests.browser.shots import desktop_and_phone
from tests.browser.test_staff import refused_as_expected, staff_page
from outcomes import OutcomeCode
from tests.helpers import register

pytestmark = pytest.mark.usefixtures("live_server")


async def test_supervisor_publishes_and_corrects_the_annual_report(browser, live_server):
    # An ended year no other test reports on: 2016–2019 are the table 二 and figures tests' (a report published for
    # one of them froze its tables: test_proactive_table2 once saw zeros), 2025 on the current years'.
    year = 2012
    chief = await staff_page(browser, live_server, "chief-liu")
    await chief.get_by_role("link", name="年报与考核").click()
    await chief.wait_for_url("**/staff/reports")
    await desktop_and_phone(chief, "staff-reports-index")
    await chief.goto(f"/staff/reports/annual?year={year}")
    assert "草稿（未公布）" in await chief.locator("#status").inner_text()
    assert "表二尚有未填报的数字" in await chief.locator("#blocking").inner_text()
    await chief.locator("#form-publish").get_by_role("button", name="公布年度报告").click()
    assert "未通过校验，不能公布" in await chief.locator("#error-annual").inner_text()
    refused_as_expected(chief)

    await chief.locator("#blocking").get_by_role("link").click()
    await chief.wait_for_url(f"**/staff/gk/figures?year={year}")
    for field in await chief.locator("#form-figures input[inputmode=decimal]").all():
        await field.fill("0")
    await chief.locator("#form-figures").get_by_role("button", name="保存").click()
    await chief.wait_for_url("**done=1")

    await chief.goto(f"/staff/reports/annual?year={year}")
    assert await chief.locator("#check-ok").count() == 1
    # One application received on paper and handled outside the system: new +1 alone breaks 一＋二＝三（七）＋四 …
    adjust = chief.locator("#form-adjust")
    await adjust.get_by_label("行").select_option("new")
    await adjust.get_by_label("申请人类别（列）").select_option("natural-person")
    await adjust.get_by_label("调整件数").fill("1")
    await adjust.get_by_label("调整理由").fill("窗口受理的纸质申请一件，未录入系统，年底仍在办理")
    await adjust.get_by_role("button", name="保存调整").click()
    await chief.wait_for_url("**done=adjust")
    assert "不相等" in await chief.locator("#blocking").inner_text()
    # … and carried over to next year with it, the check passes again
    adjust = chief.locator("#form-adjust")
    await adjust.get_by_label("行").select_option("carried-out")
    await adjust.get_by_label("申请人类别（列）").select_option("natural-person")
    await adjust.get_by_label("调整件数").fill("1")
    await adjust.get_by_role("button", name="保存调整").click()
    await chief.wait_for_url("**done=adjust")
    assert await chief.locator("#check-ok").count() == 1
    assert "+1" in await chief.locator("#adjustments").inner_text()
    overview = chief.get_by_label("一、总体情况")
    await overview.fill(f"{year}年，本机关认真贯彻落实《政府信息公开条例》。")
    await chief.locator("#form-draft").get_by_role("button", name="保存草稿").click()
    await chief.wait_for_url("**done=draft")
    assert await chief.get_by_label("一、总体情况").input_value() == f"{year}年，本机关认真贯彻落实《政府信息公开条例》。"
    await desktop_and_phone(chief, "staff-reports-annual-draft")
    await chief.locator("#form-publish").get_by_role("button", name="公布年度报告").click()
    await chief.wait_for_url("**done=publish")
    assert "已公布" in await chief.locator("#status").inner_text()
    assert "第1版" in await chief.locator("#status").inner_text()

    async with chief.expect_download() as pdf:
        await chief.evaluate("document.getElementById('download-xlsx').click()")
    assert (await pdf.value).suggested_filename == f"annual-report-{year}-v1.xlsx"
    pdf_answer = await chief.request.get(f"/staff/reports/annual/{year}.pdf")
    assert pdf_answer.ok and (await pdf_answer.body()).startswith(b"%PDF")

    amend = chief.locator("#form-amend")
    await amend.get_by_role("button", name="公布更正").click()  # no reason: the browser asks for it
    assert await chief.locator("#versions").count() == 1 and "done=amend" not in chief.url
    await amend.get_by_label("更正理由").fill("更正总体情况中的文字")
    await amend.get_by_label("一、总体情况").fill(f"{year}年，本机关认真贯彻落实《中华人民共和国政府信息公开条例》。")
    await amend.get_by_role("button", name="公布更正").click()
    await chief.wait_for_url("**done=amend")
    versions = await chief.locator("table[aria-labelledby=versions] tbody").inner_text()
    assert "第1版" in versions and "第2版" in versions and "更正总体情况中的文字" in versions
    assert "《中华人民共和国政府信息公开条例》" in await chief.locator("#sections ~ p.prose").first.inner_text()
    await desktop_and_phone(chief, "staff-reports-annual-published")
    await chief.goto(f"/staff/reports/annual?year={year}&version=1")
    assert "《中华人民共和国" not in await chief.locator("p.prose").first.inner_text()  # version 1 as it was
    answer = await chief.goto("/staff/reports/annual/20x9.pdf")  # a mistyped address: a page in Chinese, not JSON
    assert answer.status == 404 and "年度应为" in await chief.locator("[role=alert]").inner_text()
    refused_as_expected(chief)


async def test_handler_has_no_reports_page(browser, live_server):
    handler = await staff_page(browser, live_server, "wang")
    assert await handler.get_by_role("link", name="年报与考核").count() == 0
    answer = await handler.goto("/staff/reports/assessment")
    assert answer.status == 403
    refused_as_expected(handler)


async def test_assessment_sheet_charts_and_a_manual_score(browser, live_server, engine):
    from datetime import date
    import uuid

    from tests.report_support import Synthetic, store

    year = 2022  # an ended year of its own: the replies below are all it has
    prefix = uuid.uuid4().hex[:6]
    store(engine, [Synthetic(f"KP{prefix}{n}", date(year, month, 2), "natural-person", concluded_on=date(year, month, day),
                             items=[OutcomeCode.DISCLOSED], department=dept, due_on=date(year, month, 20))
                   for n, (month, day, dept) in enumerate([(3, 10, "综合统计科"), (3, 25, "综合统计科"), (5, 8, "综合统计科"),
                                                           (5, 9, "执法监督科")])])
    chief = await staff_page(browser, live_server, "chief-liu")
    await chief.goto("/staff/reports")
    await chief.get_by_role("link", name="政务公开考核评议").click()
    await chief.wait_for_url(f"**/staff/reports/assessment?year={clock.today().year}")
    await chief.get_by_label("年度", exact=True).fill(str(year))
    await chief.get_by_role("button", name="查看").click()
    await chief.wait_for_url(f"**/staff/reports/assessment?year={year}")
    rates = await chief.locator("#rates-desc").text_content()
    assert "综合统计科：67%（2/3）" in rates and "执法监督科：100%（1/1）" in rates
    months = await chief.locator("#months-desc").text_content()
    assert f"{year}-03：按时 1 件，逾期 1 件" in months and f"{year}-05：按时 2 件，逾期 0 件" in months
    form = chief.locator("#form-score")
    await form.get_by_label("科室").fill("综合统计科")
    await form.get_by_label("指标").select_option("deployment")
    await form.get_by_label("得分").fill("16")
    await form.get_by_role("button", name="保存评分").click()
    assert "0至15分之间" in await chief.locator("#error-score").inner_text()
    refused_as_expected(chief)
    assert await chief.locator("#form-score").get_by_label("科室").input_value() == "综合统计科"  # kept
    await chief.locator("#form-score").get_by_label("得分").fill("14")
    await chief.locator("#form-score").get_by_role("button", name="保存评分").click()
    await chief.wait_for_url("**done=score")
    sheet = chief.locator("section.sheet", has=chief.locator("h3", has_text="综合统计科"))
    assert "14" in await sheet.locator("tr", has_text="工作部署").inner_text()
    scheme = chief.locator("#form-scheme")
    await scheme.get_by_label("工作部署（人工评分）分值").fill("20")
    await scheme.get_by_role("button", name="保存评分办法").click()
    assert "合计须为100分（现为105分）" in await chief.locator("#error-scheme").inner_text()
    refused_as_expected(chief)
    scheme = chief.locator("#form-scheme")
    await scheme.get_by_label("制度建设（人工评分）分值").fill("10")
    await scheme.get_by_role("button", name="保存评分办法").click()
    await chief.wait_for_url("**done=scheme")
    assert "工作部署（20" in await chief.locator("#form-score").get_by_label("指标").inner_text()
    await desktop_and_phone(chief, "staff-reports-assessment")


async def test_accountability_case_up_the_ladder_and_closed(browser, live_server):
    chief = await staff_page(browser, live_server, "chief-liu")
    await chief.goto("/staff/reports/accountability")
    raise_form = chief.locator("#form-raise")
    await raise_form.get_by_label("科室").fill("执法监督科")
    await raise_form.get_by_label("事由").select_option("ignored-report")
    await raise_form.get_by_label("情况说明").fill("短")
    await raise_form.get_by_role("button").click()
    assert "情况说明" in await chief.locator("#error-raise").inner_text()
    refused_as_expected(chief)
    await chief.locator("#form-raise").get_by_label("情况说明").fill("群众举报某科室未按规定公开执法结果，未在规定时间内处理")
    await chief.locator("#form-raise").get_by_role("button").click()
    await chief.wait_for_url("**done=raise#case-*")
    case = chief.url.rsplit("#case-", 1)[1]
    card = chief.locator(f"#case-{case}")
    assert "责令改正" in await card.locator("h3").inner_text()
    assert "对不履行政务公开义务的举报不积极处理" in await card.inner_text()
    await card.get_by_label("升级为“通报批评”的理由").fill("责令改正后逾期仍未整改")
    await card.get_by_role("button", name="升级为通报批评").click()
    await chief.wait_for_url("**done=escalate*")
    card = chief.locator(f"#case-{case}")
    assert "通报批评" in await card.locator("h3").inner_text()
    assert "责令改正后逾期仍未整改" in await card.locator("ol.ladder").inner_text()
    await desktop_and_phone(chief, "staff-reports-accountability")
    await card.get_by_label("升级为“依纪依法处理”的理由").fill("通报批评后再次发生")
    await card.get_by_role("button", name="升级为依纪依法处理").click()
    await chief.wait_for_url("**done=escalate*")
    card = chief.locator(f"#case-{case}")
    assert await card.get_by_role("button", name="升级", exact=False).count() == 0  # the top of the ladder
    await card.get_by_label("处理结果").fill("已移送纪检监察机关")
    await card.get_by_role("button", name="办结").click()
    await chief.wait_for_url("**done=close*")
    assert "已办结" in await chief.locator(f"#case-{case} h3").inner_text()
    await chief.locator("#form-scan").get_by_role("button", name="核查").click()
    assert "已核查办理记录" in await chief.locator("#done").inner_text()


async def test_remedies_register_and_results(browser, live_server, api):
    number = (await register(api, handler="wang", department="综合统计科"))["application_id"]
    today = clock.today().isoformat()
    chief = await staff_page(browser, live_server, "chief-liu")
    await chief.goto("/staff/reports/remedies")
    form = chief.locator("#form-register")
    await form.get_by_label("申请编号").fill(number)
    await form.get_by_label("类别").select_option("litigation-after-reconsideration")
    await form.get_by_label("申请复议或起诉之日").fill(today)
    await form.get_by_role("button", name="登记").click()
    assert "须先登记该申请已审结的行政复议案件" in await chief.locator("#error-register").inner_text()
    refused_as_expected(chief)
    form = chief.locator("#form-register")
    assert await form.get_by_label("申请编号").input_value() == number  # kept
    await form.get_by_label("类别").select_option("reconsideration")
    await form.get_by_label("复议机关或人民法院").fill("某市人民政府")
    await form.get_by_label("案号").fill("某复〔2026〕12号")
    await form.get_by_role("button", name="登记").click()
    await chief.wait_for_url("**done=register#case-*")
    case = chief.url.rsplit("#case-", 1)[1]
    row = chief.locator(f"#case-{case}")
    assert "尚未审结" in await row.inner_text() and "某市人民政府" in await row.inner_text()
    await desktop_and_phone(chief, "staff-reports-remedies")
    await row.get_by_label("结果", exact=True).select_option("maintained")
    await row.get_by_label("审结日期").fill(today)
    await row.get_by_role("button", name="登记结果").click()
    await chief.wait_for_url("**done=result*")
    assert "结果维持" in await chief.locator(f"#case-{case}").inner_text()
    form = chief.locator("#form-register")
    await form.get_by_label("申请编号").fill(number)
    await form.get_by_label("类别").select_option("litigation-after-reconsideration")
    await form.get_by_label("申请复议或起诉之日").fill(today)
    await form.get_by_role("button", name="登记").click()
    await chief.wait_for_url("**done=register#case-*")
    assert "行政诉讼·复议后起诉" in await chief.locator(f"#case-{chief.url.rsplit('#case-', 1)[1]}").inner_text()
