"""Issue 11 point 14 in Chromium: the staff application page shows each letter's proof of service (送达证据) and
the desk records a posted consultation letter's tracking number, signed-for date and the signed receipt's scan.
Screenshot: build/screenshots/staff-evidence.png (checked with axe-core by check_page)."""

from __future__ import annotations

import pytest

from core import clock
from tests.browser.conftest import check_page
from tests.browser.test_staff import staff_page
from tests.helpers import act, eventually, register

pytestmark = pytest.mark.usefixtures("live_server")


async def test_the_application_page_shows_the_evidence_of_service_and_records_a_signed_for_date(
        browser, live_server, api, mailbox, tmp_path):
    created = await register(api, handler="wang", department="综合统计科",
                             applicant={"name": "冯七", "type": "natural-person", "email": "fengqi@evidence.example.cn"},
                             items=[{"description": "某公司2025年报送的统计报表"}], delivery_method="email")
    number = created["application_id"]
    started = await act(api, number, "consultations", {
        "consultee": {"kind": "third-party", "name": "某电子科技有限公司", "address": "福州市某路9号"},
        "item_nos": [1], "by": "wang"})
    cid = started["consultations"][0]["consultation_id"]
    await eventually(api, number, lambda s: any(e["kind"] == "letter-sent" for e in s["timeline"]))
    letters = {row["key"]: row for row in (await api.get(f"/api/v1/applications/{number}/letters")).json()}
    ack_id = letters[f"{number}:ack"]["evidence"]["message_id"]
    assert ack_id

    desk = await staff_page(browser, live_server, "desk-chen")
    await desk.goto(f"/staff/applications/{number}#evidence")
    table = desk.locator("#service-evidence")
    await table.wait_for()
    assert ack_id in await table.inner_text()  # the acknowledgment: accepted by the mail server, its Message-ID
    assert "250 Message accepted for delivery" in await table.inner_text()

    today = clock.today().isoformat()
    scan = tmp_path / "签收单.png"
    scan.write_bytes(b"\x89PNG\r\n\x1a\n signed receipt")
    form = desk.locator("#form-letter-service")
    await form.get_by_label("文书").select_option(f"{cid}:letter")
    await form.get_by_label("送达方式").select_option("post")
    await form.get_by_label("交邮日期（邮寄）").fill(today)
    await form.get_by_label("邮件单号").fill("XA555666777CN")
    await form.get_by_label("签收日期或领取日期").fill(today)
    await form.get_by_label("签收人或领取人（签名）").fill("王收发")
    await form.get_by_label("签收单扫描件（可选）").set_input_files(str(scan))
    await form.get_by_role("button", name="登记送达证据").click()
    await desk.wait_for_url("**done=letter-service**")
    text = await desk.locator("#service-evidence").inner_text()
    assert "邮件单号 XA555666777CN" in text and "签收人 王收发（desk-chen 于" in text
    assert "签收单扫描件已上传" in text
    link = desk.get_by_role("link", name="下载签收单扫描件")
    assert await link.count() == 1
    await desk.locator("#evidence").scroll_into_view_if_needed()
    await check_page(desk, "staff-evidence")

    # The signed-for date is the consultee's receipt: the window on the page runs from it.
    view = await eventually(api, number, lambda s: s["consultations"][0]["served_on"] == today)
    assert view["consultations"][0]["window_provisional"] is False
    async with desk.expect_download() as download:
        await link.click()
    path = await (await download.value).path()
    assert open(path, "rb").read() == scan.read_bytes()
    await desk.context.close()
