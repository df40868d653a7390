"""Issue 22 in Chromium: the handler uploads a file for an item on the application page, sees it screened,
opens the reviewer's side-by-side page (page image with the finding boxed, the findings beside it) and
releases a finding with a reason. Screenshots: build/screenshots/staff-release-files.png and
staff-release-review.png (checked with axe-core by check_page)."""

from __future__ import annotations

import asyncio

import pytest

from tests.browser.conftest import check_page
from tests.browser.test_staff import staff_page
from tests.helpers import register
from tests.release_samples import ID_NUMBER, PHONE, text_pdf

pytestmark = pytest.mark.usefixtures("live_server")


async def test_handler_uploads_a_file_and_the_review_page_shows_its_findings_on_the_page_image(
        browser, live_server, api, tmp_path):
    number = (await register(api, handler="wang", department="综合统计科",
                             items=[{"description": "2025年某专项检查的处理决定"}]))["application_id"]
    pdf = tmp_path / "处理决定书.pdf"
    pdf.write_bytes(text_pdf([["某市统计局行政处理决定书", number],
                              ["当事人：王某", f"身份证号：{ID_NUMBER}", f"联系电话：{PHONE}", "经查，该单位迟报统计资料。"]]))

    handler = await staff_page(browser, live_server, "wang")
    await handler.goto(f"/staff/applications/{number}#release-files")
    sent_by: list[str] = []
    handler.on("request", lambda r: sent_by.append(r.resource_type) if r.method == "POST" and r.url.endswith("/release-files") else None)
    form = handler.locator("#form-release-upload")
    await form.get_by_label("对应事项").select_option("1")
    await form.get_by_label("文件").set_input_files(str(pdf))
    await form.get_by_role("button", name="上传并进行保密预审").click()
    await handler.wait_for_url("**uploaded=*")
    assert sent_by == ["xhr"]  # sent by staff.js with its progress bar, then on to the page
    assert "文件已上传，正在后台进行保密预审" in await handler.locator("main").inner_text()

    # the screening runs in the background: the list shows it done with 2 open findings
    for _ in range(100):
        row = handler.locator("#release-files-table tbody tr").first
        if "预审完成" in await row.inner_text():
            break
        await asyncio.sleep(0.3)
        await handler.reload()
    text = await handler.locator("#release-files-table tbody tr").first.inner_text()
    assert "处理决定书.pdf" in text and "预审完成" in text and "2 处" in text
    await handler.locator("#release-files").scroll_into_view_if_needed()
    await check_page(handler, "staff-release-files")

    await handler.get_by_role("link", name="查看页面与发现").click()
    await handler.locator("#page-2").wait_for()
    assert await handler.locator("#page-1").count() == 0  # only the page with findings
    findings = handler.locator(".findings li")
    assert await findings.count() == 2
    listed = await handler.locator(".findings").inner_text()
    assert "身份证号码" in listed and "电话号码" in listed and ID_NUMBER not in listed
    assert await handler.locator("svg.page-image rect").count() == 2  # both boxed on the page image
    image = await handler.evaluate("""async () => {
        const href = document.querySelector('svg.page-image image').getAttribute('href');
        const r = await fetch(href); return [r.status, r.headers.get('content-type')];
    }""")
    assert image == [200, "image/png"]
    await check_page(handler, "staff-release-review")

    phone = findings.filter(has_text="电话号码")
    await phone.get_by_label("予以公开的理由").fill("本机关对外公布的办公电话")
    await phone.get_by_role("button", name="说明理由并予以公开").click()
    await handler.wait_for_url("**accepted=*")
    listed = await handler.locator(".findings").inner_text()
    assert "已说明理由予以公开：本机关对外公布的办公电话（wang）" in listed
    assert "1 处：删除或说明理由后方可签发" in await handler.locator("main").inner_text()
    assert not handler.js_errors

    # a refused file: the clerk reads why (the script shows the refusal page as the form would)
    empty = tmp_path / "空白.pdf"
    empty.write_bytes(b"")
    await handler.goto(f"/staff/applications/{number}#release-files")
    form = handler.locator("#form-release-upload")
    await form.get_by_label("文件").set_input_files(str(empty))
    await form.get_by_role("button", name="上传并进行保密预审").click()
    await handler.get_by_text("是空文件（0 字节）").wait_for()


async def test_the_sealed_release_on_the_staff_page_and_the_applicants_download_on_track(
        browser, live_server, api, page) -> None:
    """After the signature: the staff page's sealed record (versions, hashes, delivery, downloads) and the
    applicant's /track list of released files with their links; a download from /track is recorded.
    Screenshots: staff-release-seal.png, public-track-released.png."""
    from tests.helpers import act, eventually, through_review

    created = await register(api, delivery_method="portal", items=[{"description": "2025年统计公报"}])
    number, code = created["application_id"], created["query_code"]
    uploaded = await api.post(f"/api/v1/applications/{number}/items/1/release-files",
                              files={"file": ("统计公报.pdf", text_pdf([["2025年统计公报", number]]), "application/pdf")},
                              headers=api.as_user("wang"))
    assert uploaded.status_code == 201, uploaded.text
    await eventually(api, number, lambda v: not v["release_reading"] and bool(v["release_files"])
                     and v["release_files"][0]["problems"] == [], timeout=60)
    await through_review(api, number, {1: ("disclosed", "")})
    signed = await act(api, number, "sign", {"by": "chief-liu"})
    [sealed] = signed["release_sealed"]

    await page.goto("/track")
    await page.get_by_label("申请编号").fill(number)
    await page.get_by_label("查询码").fill(code)
    await page.get_by_role("button", name="查询").click()
    await page.wait_for_url(f"**/track/{number}")
    link = page.get_by_role("link", name="统计公报.pdf")
    await link.wait_for()
    await check_page(page, "public-track-released")
    async with page.expect_download() as download:
        await link.click()
    path = await (await download.value).path()
    import hashlib
    from pathlib import Path

    assert hashlib.sha256(Path(path).read_bytes()).hexdigest() == sealed["sha256"]

    handler = await staff_page(browser, live_server, "wang")
    await handler.goto(f"/staff/applications/{number}#release-seal")
    seal = await handler.locator("#release-seal-table").inner_text()
    assert "原样公开（无需删除）" in seal and sealed["sha256"] in seal
    downloads = await handler.locator("#release-downloads").inner_text()
    assert "下载“统计公报.pdf”" in downloads
    await handler.locator("#release-seal").scroll_into_view_if_needed()
    await check_page(handler, "staff-release-seal")
    await handler.get_by_role("link", name="打印文件清单（光盘、当面领取、现场查阅时交申请人核对）").click()
    await handler.locator("#release-manifest-table").wait_for()
    assert sealed["sha256"] in await handler.locator("#release-manifest-table").inner_text()
    await check_page(handler, "staff-release-manifest")
    assert not handler.js_errors
