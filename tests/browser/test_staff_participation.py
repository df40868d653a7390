"""Staff pages for public participation in Chromium (issue 26): the handler registers a draft (a shorter
period without its reason refused on the page), the reviewer reviews it, the supervisor publishes it, the
desk enters a letter, the handler hides an abusive comment with its reason and, once the period has
closed, records the feedback in groups; the reviewer publishes it. A question routed, answered and
reviewed on its page. Each page is screenshotted and checked with axe-core."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

import pytest

from tests.browser.conftest import check_page
from tests.browser.test_staff import refused_as_expected, staff_page
from tests.helpers import view_when
from tests.release_samples import text_pdf

pytestmark = pytest.mark.usefixtures("live_server")


async def _act(page, action: str, done: str | None = None) -> None:
    await page.locator(f"#form-{action}").get_by_role("button").click()
    await page.wait_for_url(f"**?done={done or action}")


async def test_staff_register_review_publish_moderate_and_feed_back_a_draft(browser, live_server, api, anon, env, client):
    handler = await staff_page(browser, live_server, "wang")
    await handler.get_by_role("link", name="公众参与").click()
    await handler.wait_for_url("**/staff/participation")
    await check_page(handler, "staff-participation-overview")
    title = f"统计调查项目管理办法（征求意见稿）{uuid.uuid4().hex[:4]}"
    form = handler.locator("form[action='/staff/participation/drafts']")
    await form.get_by_label("标题").fill(title)
    await form.get_by_label("起草科室").fill("综合统计科")
    await form.get_by_label("征求意见期限").fill("5")
    await form.get_by_label("信函").check()
    await form.get_by_label("提交意见的具体办法").fill("来信寄至某市统计局综合统计科")
    await form.get_by_label("征求意见稿").fill("第一条 ……")
    await form.get_by_label("决策依据及起草说明").fill("依据《统计法》。")
    await form.get_by_role("button", name="登记并送保密审查").click()
    await handler.wait_for_selector("#error-register")
    assert "须写明理由" in await handler.locator("#error-register").inner_text()
    refused_as_expected(handler)
    await check_page(handler, "staff-participation-register-refused")
    form = handler.locator("form[action='/staff/participation/drafts']")
    assert await form.get_by_label("标题").input_value() == title  # kept
    await form.get_by_label("征求意见期限").fill("7")
    await form.get_by_label("信函").check()
    await form.get_by_role("button", name="登记并送保密审查").click()
    await handler.wait_for_url("**/staff/participation/drafts/ZQ-*")
    draft_url = handler.url
    draft_id = draft_url.rsplit("/", 1)[1]
    await check_page(handler, "staff-participation-draft-in-review")
    # Issue 26 point 1: the basis (起草说明) as a file, through the same confidentiality review as a reply's files.
    empty = handler.locator("form[action$='/basis-files']")
    await empty.get_by_role("button", name="上传并预审").click()
    await handler.wait_for_selector("#e-basis")
    assert "请选择" in await handler.locator("#e-basis").inner_text()
    refused_as_expected(handler)
    upload = handler.locator("form[action$='/basis-files']")
    await upload.get_by_label("上传起草说明等决策依据文件").set_input_files(files=[{
        "name": "起草说明.pdf", "mimeType": "application/pdf", "buffer": text_pdf([["起草说明", "依据《统计法》起草"]])}])
    await upload.get_by_role("button", name="上传并预审").click()
    await handler.wait_for_url("**/drafts/ZQ-*?done=basis-files*")
    listed = await handler.locator("#basis-files + table").inner_text()
    assert "起草说明.pdf" in listed
    await check_page(handler, "staff-participation-basis-file")

    reviewer = await staff_page(browser, live_server, "reviewer-zhao")
    await reviewer.goto(draft_url)
    await _act(reviewer, "review")
    supervisor = await staff_page(browser, live_server, "chief-liu")
    await supervisor.goto(draft_url)
    await _act(supervisor, "approve")
    assert "正在征求意见" in await supervisor.locator("h1").inner_text()

    desk = await staff_page(browser, live_server, "desk-chen")
    await desk.goto(draft_url)
    letter = desk.locator("#form-comment")
    await letter.get_by_label("提出人").fill("某企业")
    await letter.get_by_label("意见内容").fill("建议减少重复填报。")
    await _act(desk, "comment")
    assert f"{draft_id}-0001" in await desk.locator("#comments + div, table[aria-labelledby=comments]").last.inner_text()

    abuse = await anon.post(f"/api/v1/public/drafts/{draft_id}/comments", json={"text": "骂人的话骂人的话"})
    assert abuse.status_code == 201
    await handler.goto(draft_url)
    row = handler.locator(f"#c-{draft_id}-0002")
    await row.get_by_label("理由").fill("含有辱骂内容")
    await row.get_by_role("button", name="隐藏").click()
    await handler.wait_for_url("**?done=moderate")
    assert "已隐藏" in await handler.locator(f"#c-{draft_id}-0002").inner_text()
    # A comment sent with a file: staff download it from the comment's row (the public never sees it).
    with_file = await anon.post(f"/api/v1/public/drafts/{draft_id}/comments-with-attachment", data={"text": "见附件"},
                                files={"file": ("意见.txt", "附件正文".encode(), "text/plain")})
    assert with_file.status_code == 201, with_file.text
    await handler.goto(draft_url)
    async with handler.expect_download() as downloading:
        await handler.locator(f"#c-{draft_id}-0003").get_by_role("link", name="意见.txt").click()
    download = await downloading.value
    assert Path(await download.path()).read_bytes() == "附件正文".encode()
    await check_page(handler, "staff-participation-draft-open")

    await env.fast_forward(client.get_workflow_handle(draft_id), timedelta(days=20))
    await view_when(api, f"/api/v1/drafts/{draft_id}", lambda v: v["phase"] == "closed")
    await handler.goto(draft_url)
    feedback = handler.locator("#form-feedback")
    await feedback.locator("#g1-summary").fill("减轻填报负担")
    await feedback.locator("#g1-receipts").fill(f"{draft_id}-0001 {draft_id}-0003")
    await feedback.locator("#g1-decision").select_option("partly")
    await feedback.locator("#g1-reason").fill("合并两张报表")
    await check_page(handler, "staff-participation-feedback-form")
    await _act(handler, "feedback")
    await reviewer.goto(draft_url)
    await _act(reviewer, "feedback-review")
    assert "已公布采纳情况" in await reviewer.locator("h1").inner_text()
    assert "部分采纳 2" in await reviewer.locator("#counts").inner_text()
    await check_page(reviewer, "staff-participation-feedback-published")
    for page in (handler, reviewer, supervisor, desk):
        await page.context.close()


async def test_staff_route_answer_and_review_a_question(browser, live_server, api, anon):
    asked = await anon.post("/api/v1/public/inquiries", json={"question": "统计公报一般在什么时候发布？", "consent_publish": True})
    inquiry_id = asked.json()["inquiry_id"]
    await view_when(api, f"/api/v1/inquiries/{inquiry_id}")
    desk = await staff_page(browser, live_server, "desk-chen")
    await desk.goto("/staff/participation")
    await desk.get_by_role("link", name=inquiry_id).click()
    await desk.wait_for_url(f"**/staff/participation/inquiries/{inquiry_id}")
    await check_page(desk, "staff-participation-inquiry")
    await desk.locator("#form-route").get_by_label("承办科室").fill("综合统计科")
    await _act(desk, "route")
    handler = await staff_page(browser, live_server, "wang")
    await handler.goto(f"/staff/participation/inquiries/{inquiry_id}")
    await handler.locator("#form-answer").get_by_label("答复内容").fill("统计公报一般于每年3月发布。")
    await handler.locator("#form-answer").get_by_label("答复具有普遍性").check()
    await _act(handler, "answer")
    reviewer = await staff_page(browser, live_server, "reviewer-zhao")
    await reviewer.goto(f"/staff/participation/inquiries/{inquiry_id}")
    await _act(reviewer, "review")
    assert "已公开" in await reviewer.locator("#answer").inner_text()
    assert await reviewer.locator("#no-actions").count() == 1
    await check_page(reviewer, "staff-participation-inquiry-answered")
    for page in (desk, handler, reviewer):
        await page.context.close()
