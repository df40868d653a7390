"""Public participation in Chromium (issue 26), phone-sized: the drafts open for comment, a draft's page
with how and until when to comment, a comment sent from its form (a missing text explained first), the
feedback and the 列席 records once published; the question form and the published answers. Staff steps
go through the JSON API; each page is screenshotted and checked with axe-core."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from core import clock
from tests.browser.conftest import check_page, review_and_publish
from tests.helpers import view_when, some_identity
from tests.test_participation import _draft_row, _inquiry_row, published_draft

pytestmark = pytest.mark.usefixtures("live_server")


async def test_public_comment_from_the_drafts_page_then_its_feedback(page, api, engine, env, client):
    title = f"关于统计调查项目审批的规定（征求意见稿）{uuid.uuid4().hex[:4]}"
    draft_id = await published_draft(api, engine, title=title)
    await api.post(f"/api/v1/drafts/{draft_id}/meetings", json={
        "held_on": clock.today().isoformat(), "title": "局务会议", "invited": ["public-representatives", "media"],
        "attendees": ["公众代表 王某", "某日报记者"], "public": True}, headers=api.as_user("wang"))
    await _draft_row(engine, draft_id, lambda r: r.public.get("meetings"))

    await page.goto("/participation")
    await check_page(page, "public-participation")
    await page.get_by_role("link", name=title).click()
    await page.wait_for_url(f"**/participation/{draft_id}")
    assert "提交方式" in await page.locator("#how").inner_text()
    assert "某日报记者" in await page.locator("#meetings + table").inner_text()
    await check_page(page, "public-participation-draft")

    await page.get_by_label("针对的条款或部分").fill("第三条")
    await page.get_by_role("button", name="提交意见").click()
    await page.wait_for_selector("#e-text")
    await check_page(page, "public-participation-comment-error")
    await page.get_by_label("意见和建议").fill("建议审批时限由20个工作日缩短为10个工作日。")
    await page.get_by_label("附件").set_input_files(files=[{"name": "建议.txt", "mimeType": "text/plain",
                                                            "buffer": "附件中的详细建议".encode()}])
    await page.get_by_role("button", name="提交意见").click()
    await page.wait_for_selector("#receipt-no")
    receipt = await page.locator("#receipt-no").inner_text()
    assert receipt == f"{draft_id}-0001"
    sent = (await api.get(f"/api/v1/drafts/{draft_id}")).json()["comments"][0]
    assert sent["attachment"]["filename"] == "建议.txt" and sent["attachment"]["size"] == len("附件中的详细建议".encode())
    await check_page(page, "public-participation-comment-done")

    # Closed at its deadline, feedback grouped, reviewed and published: the page shows it.
    await env.fast_forward(client.get_workflow_handle(draft_id), timedelta(days=20))
    await view_when(api, f"/api/v1/drafts/{draft_id}", lambda v: v["phase"] == "closed")
    await api.post(f"/api/v1/drafts/{draft_id}/feedback", headers=api.as_user("wang"), json={"groups": [
        {"summary": "缩短审批时限", "receipt_nos": [receipt], "decision": "partly", "reason": "缩短为15个工作日"}]})
    assert (await api.post(f"/api/v1/drafts/{draft_id}/feedback-review", json={"approve": True},
                           headers=api.as_user("reviewer-zhao"))).status_code == 200
    await _draft_row(engine, draft_id, lambda r: r.phase == "feedback-published")
    await page.goto(f"/participation/{draft_id}")
    feedback = await page.locator("#feedback + p").inner_text()
    assert "共收到意见 1 条" in feedback and "部分采纳 1 条" in feedback
    assert "缩短为15个工作日" in await page.locator("main").inner_text()
    assert await page.get_by_role("button", name="提交意见").count() == 0
    await check_page(page, "public-participation-feedback")

    # The decision, published in the catalogue, is linked from the draft's page.
    from tests.test_participation import catalogue_document

    decision_id = await catalogue_document(api, engine, "关于统计调查项目审批的规定")
    await review_and_publish(api, engine, decision_id)
    assert (await api.post(f"/api/v1/drafts/{draft_id}/decision", json={"decision_item_id": decision_id},
                           headers=api.as_user("wang"))).status_code == 200
    await _draft_row(engine, draft_id, lambda r: r.public.get("decision_item_id") == decision_id)
    await page.goto(f"/participation/{draft_id}")
    assert await page.get_by_role("link", name="关于统计调查项目审批的规定").get_attribute("href") == f"/gk/{decision_id}.html"
    await check_page(page, "public-participation-decision")


async def test_question_form_then_its_published_answer(page, api, engine):
    await page.goto("/inquiry")
    await check_page(page, "public-inquiry")
    await page.get_by_role("button", name="提交咨询").click()
    await page.wait_for_selector("#e-question")
    await check_page(page, "public-inquiry-error")
    question = f"居民人均可支配收入是怎样统计的？（{uuid.uuid4().hex[:4]}）"
    await page.get_by_label("咨询的问题").fill(question)
    await page.get_by_label("同意在本网站公开问答").check()
    await page.get_by_role("button", name="提交咨询").click()
    await page.wait_for_selector("#inquiry-id")
    inquiry_id = await page.locator("#inquiry-id").inner_text()
    assert await page.locator("#query-code").inner_text()
    await check_page(page, "public-inquiry-done")

    await view_when(api, f"/api/v1/inquiries/{inquiry_id}")
    await api.post(f"/api/v1/inquiries/{inquiry_id}/route", json={"section": "住户调查科"}, headers=api.as_user("desk-chen"))
    await api.post(f"/api/v1/inquiries/{inquiry_id}/answer", json={"answer": "通过住户收支调查取得。", "general_interest": True},
                   headers=api.as_user("wang"))
    answered = await api.post(f"/api/v1/inquiries/{inquiry_id}/review", json={"approve": True},
                              headers=api.as_user("reviewer-zhao"))
    assert answered.json()["published"]
    for _ in range(50):
        await page.goto("/inquiry")
        if question in await page.locator("main").inner_text():
            break
        await page.wait_for_timeout(200)
    assert "通过住户收支调查取得。" in await page.locator("#qa").inner_text()
    await check_page(page, "public-inquiry-answers")


async def test_asker_sees_the_proposal_and_confirms_the_application(page, api, anon):
    asked = (await anon.post("/api/v1/public/inquiries", json={"question": "请提供本局2025年统计执法检查的处罚决定书。"})).json()
    inquiry_id, code = asked["inquiry_id"], asked["query_code"]
    await view_when(api, f"/api/v1/inquiries/{inquiry_id}")
    await _inquiry_row(api.app.state.engine, inquiry_id)  # the lookup reads the row, written in the background
    proposed = await api.post(f"/api/v1/inquiries/{inquiry_id}/propose-conversion",
                              json={"reason": "所需为具体政府信息"}, headers=api.as_user("wang"))
    assert proposed.status_code == 200

    await page.goto(f"/inquiry/track?inquiry_id={inquiry_id}")
    await page.get_by_label("查询码").fill(code)
    await page.get_by_role("button", name="查询").click()
    await page.wait_for_selector("#status")
    assert "待您确认" in await page.locator("#status").inner_text()
    assert code not in page.url
    await check_page(page, "public-inquiry-proposal")
    await page.get_by_role("button", name="确认转为政府信息公开申请").click()
    await page.wait_for_selector("#error-summary")
    refused = await page.locator("#error-summary").inner_text()
    assert "姓名" in refused and "电子邮箱" in refused and "身份证件号码" in refused
    page.js_errors.clear()  # the form shown again answers 422
    await page.get_by_label("申请人姓名或者名称").fill("张三")
    await page.get_by_label("电子邮箱（接收答复）").fill("zhangsan@example.cn")
    await page.get_by_label("身份证件号码或统一社会信用代码").fill(some_identity())  # Reg. 29
    await page.get_by_role("button", name="确认转为政府信息公开申请").click()
    await page.wait_for_selector("#application-id")
    application_id = await page.locator("#application-id").inner_text()
    await check_page(page, "public-inquiry-converted")
    view = await view_when(api, f"/api/v1/inquiries/{inquiry_id}", lambda v: v["status"] == "converted")
    assert view["application_id"] == application_id and view["application_received_on"] == clock.today().isoformat()
