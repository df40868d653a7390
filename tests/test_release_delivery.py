"""Issue 22, what leaves: the signature refused while a disclosed item's file has an open finding (the workflow's
validator, on the state the workflow holds), the release sealed at signature, the files delivered with the reply
(attached to the e-mail when small enough, else a signed link on /track), each download recorded, never an original.

One redaction (OCR of the copy) in the whole file; the other files are text PDFs screened from their text layer."""

import asyncio
import hashlib
import html
import re

import httpx

from db.letters_repository import FileStore
from release import links
from release.extract import pdf_pages
from tests.helpers import act, eventually, mails_about, register, send_action, through_review
from tests.release_samples import ID_NUMBER, PHONE, text_pdf
from tests.test_release_api import files_url, redacted, screened, upload


def told(view: dict, files: int) -> bool:
    """The workflow holds the files' state as now stored (its read after the last change is back)."""
    return not view["release_reading"] and len(view["release_files"]) == files


async def settled(api, app_id: str, check, timeout: float = 30.0) -> dict:
    return await eventually(api, app_id, lambda v: not v["release_reading"] and check(v), timeout=timeout)


def reply_mail(mailbox, app_id: str):
    replies = [m for m in mails_about(mailbox.envelopes, app_id) if "答复" in m["Subject"]]
    return replies[0] if replies else None


async def mail_of(mailbox, app_id: str, timeout: float = 20.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while (message := reply_mail(mailbox, app_id)) is None:
        assert asyncio.get_running_loop().time() < deadline, "no reply e-mail"
        await asyncio.sleep(0.2)
    return message


async def test_signing_waits_for_every_finding_then_the_redacted_copy_is_sealed_and_emailed(api, mailbox) -> None:
    app_id = (await register(api, items=[{"description": "某行政处罚决定书"},
                                         {"description": "某企业的调查表"}]))["application_id"]
    pdf = text_pdf([["行政处罚决定书", "公开部分"], ["第二页", f"当事人身份证号：{ID_NUMBER}", "其余予以公开"]])
    withheld_item = text_pdf([["调查表", f"联系电话：{PHONE}"]])
    file_id = (await upload(api, app_id, "决定书.pdf", pdf)).json()["id"]
    other_id = (await upload(api, app_id, "调查表.pdf", withheld_item, item_no=2)).json()["id"]
    detail = await screened(api, app_id, file_id)
    await screened(api, app_id, other_id)
    [finding] = detail["findings"]
    await act(api, app_id, "decisions", {"item_no": 1, "outcome": "partly-disclosed", "withheld_ground": "withheld-4",
                                         "reasons": "当事人身份证号码属个人隐私，已作区分处理", "by": "wang"})
    await through_review(api, app_id, {2: ("withheld-4", "涉及第三方商业秘密")})

    # The validator refuses on the state the workflow holds: the file, the page, what was found.
    await settled(api, app_id, lambda v: told(v, 2) and v["release_files"][0]["problems"])
    refused = await send_action(api, app_id, "sign", {"by": "chief-liu"})
    assert refused.status_code == 409, refused.text
    reason = refused.json()["detail"]
    assert "第 1 项的文件“决定书.pdf”第 2 页的身份证号码" in reason and ID_NUMBER not in reason, reason
    assert "调查表.pdf" not in reason  # item 2 is withheld: its file does not leave, its findings do not block
    view = await eventually(api, app_id, lambda v: True)
    assert view["status"] == "awaiting-signature" and view["release_sealed"] == []

    # A copy being made is not yet a copy to release.
    made = await api.post(f"{files_url(app_id)}/{file_id}/redactions",
                          json={"findings": [{"seq": finding["seq"], "basis": "条例第十五条"}]},
                          headers=api.as_user("wang"))
    assert made.status_code == 202, made.text
    waiting = await send_action(api, app_id, "sign", {"by": "chief-liu"})
    assert waiting.status_code == 409 and "正在" in waiting.json()["detail"], waiting.text
    redaction = await redacted(api, app_id, file_id, made)
    assert redaction["verified"], redaction
    await settled(api, app_id, lambda v: told(v, 2) and v["release_files"][0]["problems"] == [])

    signed = await act(api, app_id, "sign", {"by": "chief-liu"})
    assert signed["release_delivery"] == "attached"
    [sealed] = signed["release_sealed"]
    assert (sealed["item_no"], sealed["filename"], sealed["version"], sealed["bases"]) == (
        1, "决定书（公开版）.pdf", "redacted", ["条例第十五条"])
    assert sealed["sha256"] == redaction["released_sha256"] and sealed["original_sha256"] == hashlib.sha256(pdf).hexdigest()
    assert any(e["kind"] == "release-sealed" and signed["release_manifest_sha256"] in e["summary"]
               for e in signed["timeline"])

    # The staff's sealed record says the same, and no change is taken after it.
    record = (await api.get(f"/api/v1/applications/{app_id}/release-seal", headers=api.as_user("wang"))).json()
    assert [(f["sha256"], f["version"]) for f in record["files"]] == [(sealed["sha256"], "redacted")]
    assert record["manifest_sha256"] == signed["release_manifest_sha256"] and record["signed_by"] == "chief-liu"
    late = await upload(api, app_id, "补充.pdf", text_pdf([["补充"]]))
    assert late.status_code == 409 and "已封存" in late.json()["detail"], late.text

    # What was delivered is what was sealed: the redacted copy, byte for byte, and the withheld text is not in it.
    message = await mail_of(mailbox, app_id)
    attached = {part.get_filename(): part.get_content() for part in message.iter_attachments()}
    files = {name: data for name, data in attached.items() if not name.endswith(f"{app_id}.pdf") and "公开版" in name}
    assert list(files) == ["决定书（公开版）.pdf"], list(attached)
    data = files["决定书（公开版）.pdf"]
    assert hashlib.sha256(data).hexdigest() == record["files"][0]["sha256"]
    text = "".join(p.text for p in pdf_pages(data, ocr_scans=False)).replace(" ", "")
    assert ID_NUMBER not in text and "公开部分" in text
    assert all(hashlib.sha256(d).hexdigest() != hashlib.sha256(pdf).hexdigest() for d in attached.values())
    assert all(hashlib.sha256(d).hexdigest() != hashlib.sha256(withheld_item).hexdigest() for d in attached.values())

    # The same file on /track by its signed link: served, recorded; an original is never served, even signed.
    listed = (await api.get(f"/api/v1/portal/applications/{app_id}/released", headers=api.as_applicant(app_id))).json()
    assert [(f["sha256"], f["original_sha256"]) for f in listed] == [(sealed["sha256"], None)]
    got = await api.get(listed[0]["link"])
    assert got.status_code == 200 and got.content == data
    record = (await api.get(f"/api/v1/applications/{app_id}/release-seal", headers=api.as_user("wang"))).json()
    assert [(d["sha256"], d["filename"]) for d in record["downloads"]] == [(sealed["sha256"], "决定书（公开版）.pdf")]
    secret = api.app.state.settings.require_jwt_secret()
    expires = listed[0]["link"].split("expires=")[1].split("&")[0]
    from datetime import date

    for original in (hashlib.sha256(pdf).hexdigest(), hashlib.sha256(withheld_item).hexdigest()):
        forged = await api.get(links.link(secret, app_id, original, date.fromisoformat(expires)))
        assert forged.status_code == 404 and "没有该公开文件" in forged.text, forged.text
    tampered = await api.get(listed[0]["link"][:-4] + "0000")
    assert tampered.status_code == 403 and "下载链接无效" in tampered.text
    record = (await api.get(f"/api/v1/applications/{app_id}/release-seal", headers=api.as_user("wang"))).json()
    assert len(record["downloads"]) == 1  # refusals are not downloads

    # The staff's application page shows the sealed record and the download.
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=api.app), base_url="http://api") as browser:
        browser.cookies.set("gk_staff", api.tokens["wang"], path="/staff")
        page = await browser.get(f"/staff/applications/{app_id}")
    assert page.status_code == 200
    sealed_part = page.text[page.text.index('id="release-seal"'):]
    assert sealed["sha256"] in sealed_part and "区分处理后的公开版（已核验）" in sealed_part and "条例第十五条" in sealed_part
    assert "随答复电子邮件附送" in sealed_part and "下载“决定书（公开版）.pdf”" in sealed_part
    # The list printed for the counter: names, pages, hashes.
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=api.app), base_url="http://api") as browser:
        browser.cookies.set("gk_staff", api.tokens["wang"], path="/staff")
        printed = await browser.get(f"/staff/applications/{app_id}/release-manifest")
    assert printed.status_code == 200
    table = printed.text[printed.text.index('id="release-manifest-table"'):]
    assert "决定书（公开版）.pdf" in table and sealed["sha256"] in table and "<td>2</td>" in table
    assert signed["release_manifest_sha256"] in printed.text


async def test_large_files_go_by_a_signed_link_on_track_whose_download_delivers_a_portal_reply(api, monkeypatch) -> None:
    settings = api.app.state.settings
    monkeypatch.setattr(settings, "release_email_max_bytes", 0)
    app_id = (await register(api, delivery_method="portal"))["application_id"]
    table = text_pdf([["2025年统计公报"], ["附表：主要指标"]])
    file_id = (await upload(api, app_id, "统计公报.pdf", table)).json()["id"]
    assert (await screened(api, app_id, file_id))["findings"] == []
    await through_review(api, app_id, {1: ("disclosed", "")})
    await settled(api, app_id, lambda v: told(v, 1))
    signed = await act(api, app_id, "sign", {"by": "chief-liu"})
    assert signed["release_delivery"] == "link"
    [sealed] = signed["release_sealed"]
    assert (sealed["version"], sealed["sha256"]) == ("as-uploaded", hashlib.sha256(table).hexdigest())

    # The applicant's page lists it with its link (after the query code), valid past the remedies period.
    listed = (await api.get(f"/api/v1/portal/applications/{app_id}/released", headers=api.as_applicant(app_id))).json()
    link = listed[0]["link"]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=api.app), base_url="http://api") as browser:
        form = await browser.get("/track")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
        await browser.post("/track", data={"number": app_id, "query_code": api.query_codes[app_id], "csrf_token": csrf})
        page = await browser.get(f"/track/{app_id}")
    assert page.status_code == 200 and "公开的政府信息文件" in page.text, page.text[:500]
    assert html.escape(link) in page.text and "统计公报.pdf" in page.text
    expires = link.split("expires=")[1].split("&")[0]
    from datetime import date

    from core import clock

    assert (date.fromisoformat(expires) - clock.today()).days >= 184
    got = await api.get(link)
    assert got.status_code == 200 and hashlib.sha256(got.content).hexdigest() == sealed["sha256"]
    assert got.headers["x-content-sha256"] == sealed["sha256"]
    # The download is the portal reply's delivery (RULES §3 Service: the day the addressee opened it).
    view = await eventually(api, app_id, lambda v: v["status"] == "closed")
    assert view["delivered_on"] == clock.today().isoformat()
    assert FileStore(settings.data_dir).get_verified(sealed["sha256"]) == table

    # Proposed for proactive publication in one step (its text read from the sealed copy), reviewed again.
    from tests.test_proactive import _category, _view

    await _category(api)
    body = {"application_id": app_id, "released_sha256": sealed["sha256"], "title": "2025年统计公报（公开副本）",
            "category_id": "statistics-data"}
    created = await api.post("/api/v1/catalogue/public-copies", json=body, headers=api.as_user("wang"))
    assert created.status_code == 201, created.text
    item = await _view(api, created.json()["item_id"])
    assert (item["source"]["sha256"], item["source"]["filename"], item["phase"]) == (
        sealed["sha256"], "统计公报.pdf", "in-review")
    # Its content is the sealed copy's text (the catalogue keeps its checksum).
    from release.extract import pdf_pages

    text = "\n\n".join(p.text for p in pdf_pages(table, ocr_scans=False)).strip()
    assert "2025年统计公报" in text.replace(" ", "")
    assert item["content_sha256"] == hashlib.sha256(text.encode()).hexdigest()
    unsealed = await api.post("/api/v1/catalogue/public-copies", json=body | {"released_sha256": "0" * 64},
                              headers=api.as_user("wang"))
    assert unsealed.status_code == 404 and "没有封存该公开文件" in unsealed.json()["detail"]
    both = await api.post("/api/v1/catalogue/public-copies", json=body | {"attachment_id": 1},
                          headers=api.as_user("wang"))
    assert both.status_code == 422


async def test_an_emailed_reply_over_the_size_limit_carries_signed_links_instead_of_the_files(api, mailbox,
                                                                                                monkeypatch) -> None:
    settings = api.app.state.settings
    monkeypatch.setattr(settings, "release_email_max_bytes", 1024)  # below any PDF
    app_id = (await register(api))["application_id"]
    data = text_pdf([["2025年统计年鉴", "第一章 综合"]])
    file_id = (await upload(api, app_id, "统计年鉴.pdf", data)).json()["id"]
    assert (await screened(api, app_id, file_id))["findings"] == []
    await through_review(api, app_id, {1: ("disclosed", "")})
    await settled(api, app_id, lambda v: told(v, 1))
    signed = await act(api, app_id, "sign", {"by": "chief-liu"})
    assert signed["release_delivery"] == "link"
    message = await mail_of(mailbox, app_id)
    names = [part.get_filename() for part in message.iter_attachments()]
    assert not any("统计年鉴" in name for name in names), names
    body = message.get_body(preferencelist=("plain",)).get_content()
    assert "公开的政府信息文件较大，未随本邮件附送" in body and hashlib.sha256(data).hexdigest() in body
    [url] = re.findall(r"https?://\S+/track/\S+", body)
    base = settings.public_base_url.rstrip("/")
    assert url.startswith(base)
    got = await api.get(url[len(base):])
    assert got.status_code == 200 and got.content == data


async def test_a_file_the_workflow_was_not_told_of_still_stops_the_signature(api, engine) -> None:
    """A change whose signal was lost (here: a row written behind the API's back) is caught by the seal's own read,
    under the signature's lock, in the transaction that would write the seal: refused, nothing sealed."""
    from sqlmodel import Session

    from db import letters_repository
    from db import release_repository
    from db.models_release import ReleaseFile, ReleaseScreening

    app_id = (await register(api))["application_id"]
    await through_review(api, app_id, {1: ("disclosed", "")})
    data = text_pdf([["未经预审的文件"]])
    sha = hashlib.sha256(data).hexdigest()
    FileStore(api.app.state.settings.data_dir).put(data)
    with Session(engine) as session:
        letters_repository.add_stored_file(session, sha, len(data))
        session.add(ReleaseFile(application_id=app_id, item_no=1, sha256=sha, filename="未预审.pdf", kind="pdf",
                                media_type="application/pdf", size=len(data), uploaded_by="wang"))
        if session.get(ReleaseScreening, sha) is None:
            session.add(ReleaseScreening(sha256=sha))
        session.commit()
    refused = await send_action(api, app_id, "sign", {"by": "chief-liu"})
    assert refused.status_code == 409, refused.text
    assert refused.json()["detail"].endswith("第 1 项的文件“未预审.pdf”文件尚未完成保密预审"), refused.text
    view = await eventually(api, app_id, lambda v: True)
    assert view["status"] == "awaiting-signature" and [f["filename"] for f in view["release_files"]] == ["未预审.pdf"]
    with Session(engine) as session:
        assert release_repository.seal_of(session, app_id) is None


def test_the_rule_names_each_file_of_a_disclosed_item_and_only_those() -> None:
    from contracts.release import ReleaseFileStatus
    from application.release_rules import why_not_release_files

    files = [ReleaseFileStatus(file_id=1, item_no=1, filename="甲.pdf", problems=["第 3 页的电话号码（139****5678）…"]),
             ReleaseFileStatus(file_id=2, item_no=2, filename="乙.xlsx", problems=["调查单位!C2的统一社会信用代码…"]),
             ReleaseFileStatus(file_id=3, item_no=1, filename="丙.pdf", problems=[])]
    assert why_not_release_files(files, {1}) == "公开的文件尚有未处理的保密预审发现，不能签发：第 1 项的文件“甲.pdf”第 3 页的电话号码（139****5678）…"
    assert "乙.xlsx" in why_not_release_files(files, {1, 2})
    assert why_not_release_files(files, {3}) is None and why_not_release_files([], {1}) is None


def test_a_link_opens_its_file_until_its_day_and_not_after_nor_altered() -> None:
    from datetime import date, timedelta

    secret, day = b"s" * 40, date(2026, 6, 30)
    url = links.link(secret, "GK-2026-000001", "a" * 64, day)
    sig = url.rsplit("sig=", 1)[1]
    assert links.why_not_download(secret, "GK-2026-000001", "a" * 64, day.isoformat(), sig, day) is None
    assert "已于 2026-06-30 过期" in links.why_not_download(secret, "GK-2026-000001", "a" * 64, day.isoformat(), sig,
                                                          day + timedelta(days=1))
    assert "无效" in links.why_not_download(secret, "GK-2026-000002", "a" * 64, day.isoformat(), sig, day)
    assert "无效" in links.why_not_download(secret, "GK-2026-000001", "b" * 64, day.isoformat(), sig, day)
    assert "无效" in links.why_not_download(secret, "GK-2026-000001", "a" * 64, "2027-06-30", sig, day)
    assert "不完整" in links.why_not_download(secret, "GK-2026-000001", "a" * 64, "tomorrow", sig, day)
