"""Issue 22 through the API: files uploaded per item, screened in the background (a Temporal workflow per
file hash), findings listed with their page and place, accepted with a reason or removed by a verified
redaction; bad files refused with their reason and nothing stored."""

import asyncio
import hashlib

import httpx
import pytest
from sqlmodel import Session, select

from db import release_repository
from db.models_letters import StoredFile
from db.models_release import ReleaseFile
from tests.helpers import register
from tests.release_samples import (
    ID_NUMBER,
    PHONE,
    docx,
    encrypted_pdf,
    enterprises_xlsx,
    image_bomb,
    png_bytes,
    scan_image,
    text_pdf,
)


def files_url(app_id: str) -> str:
    return f"/api/v1/applications/{app_id}/release-files"


async def upload(api, app_id: str, name: str, data: bytes, item_no: int = 1) -> httpx.Response:
    return await api.post(f"/api/v1/applications/{app_id}/items/{item_no}/release-files",
                          files={"file": (name, data, "application/octet-stream")}, headers=api.as_user("wang"))


async def screened(api, app_id: str, file_id: int, timeout: float = 60.0) -> dict:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        detail = (await api.get(f"{files_url(app_id)}/{file_id}", headers=api.as_user("wang"))).json()
        if detail["screening"]["state"] in ("done", "failed"):
            return detail
        assert asyncio.get_running_loop().time() < deadline, detail["screening"]
        await asyncio.sleep(0.3)


async def redacted(api, app_id: str, file_id: int, made: httpx.Response, timeout: float = 120.0) -> dict:
    """The redaction `made` started (202), once the background has made and verified it."""
    assert made.status_code == 202, made.text
    assert made.json()["state"] == "pending"
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        detail = (await api.get(f"{files_url(app_id)}/{file_id}", headers=api.as_user("wang"))).json()
        [redaction] = [r for r in detail["redactions"] if r["id"] == made.json()["id"]]
        if redaction["state"] != "pending":
            return redaction
        assert asyncio.get_running_loop().time() < deadline, redaction
        await asyncio.sleep(0.3)


async def test_files_are_screened_in_the_background_with_page_and_place(api) -> None:
    app_id = (await register(api))["application_id"]
    pdf = text_pdf([["第一页"], ["第二页"], ["第三页", f"身份证号：{ID_NUMBER}"]])
    scan = png_bytes(scan_image(["情况说明", f"联系电话：{PHONE}"]))
    sheet, codes = enterprises_xlsx(3)
    uploads = [await upload(api, app_id, name, data) for name, data in
               (("附件一.pdf", pdf), ("扫描件.png", scan), ("企业名录.xlsx", sheet))]
    assert [u.status_code for u in uploads] == [201, 201, 201], [u.text for u in uploads]
    ids = [u.json()["id"] for u in uploads]
    assert uploads[0].json()["sha256"] == hashlib.sha256(pdf).hexdigest()

    pdf_detail, scan_detail, sheet_detail = [await screened(api, app_id, i) for i in ids]
    assert [(f["kind"], f["page"]) for f in pdf_detail["findings"]] == [("id-card", 3)]
    assert ID_NUMBER not in pdf_detail["findings"][0]["excerpt"]
    assert len(pdf_detail["findings"][0]["place"]) == 4
    assert ("phone", 1) in [(f["kind"], f["page"]) for f in scan_detail["findings"]]
    refs = [f["ref"] for f in sheet_detail["findings"] if f["kind"] == "credit-code"]
    assert refs == ["调查单位!C2", "调查单位!C3", "调查单位!C4"]
    assert any(f["kind"] == "unit-level-table" for f in sheet_detail["findings"])
    assert pdf_detail["screening"] == {"state": "done", "pages_done": 3, "pages_total": 3, "error": None}

    listed = (await api.get(files_url(app_id), headers=api.as_user("wang"))).json()
    assert [(f["filename"], f["open_findings"]) for f in listed] == [
        ("附件一.pdf", 1), ("扫描件.png", len(scan_detail["findings"])), ("企业名录.xlsx", len(sheet_detail["findings"]))]

    # the page image the reviewer sees
    png = await api.get(f"{files_url(app_id)}/{ids[0]}/pages/3.png", headers=api.as_user("wang"))
    assert png.status_code == 200 and png.content.startswith(b"\x89PNG")

    # the same file again: the same row, screened once
    again = await upload(api, app_id, "附件一（重传）.pdf", pdf)
    assert again.status_code == 200 and again.json()["id"] == ids[0]


async def test_open_findings_close_by_acceptance_or_by_a_verified_redaction(api, engine) -> None:
    app_id = (await register(api))["application_id"]
    pdf = text_pdf([["公开部分"], ["第二页", f"当事人身份证号：{ID_NUMBER}", f"联系电话：{PHONE}", "其余予以公开"]])
    file_id = (await upload(api, app_id, "决定书.pdf", pdf)).json()["id"]
    detail = await screened(api, app_id, file_id)
    by_kind = {f["kind"]: f for f in detail["findings"]}
    assert set(by_kind) == {"id-card", "phone"}

    def still_open() -> list[str]:
        with Session(engine) as session:
            return [f.kind if f else why for _, f, why in release_repository.open_findings(session, app_id)]

    assert sorted(still_open()) == ["id-card", "phone"]
    with Session(engine) as session:
        why = release_repository.why_not_sign(session, app_id)
    assert why.startswith("公开的文件尚有未处理的保密预审发现，不能签发：第 1 项的文件“决定书.pdf”第 2 页的身份证号码")
    assert ID_NUMBER not in why

    # the phone is the agency's own switchboard: released with a reason
    accepted = await api.post(f"{files_url(app_id)}/{file_id}/findings/{by_kind['phone']['seq']}/accept",
                              json={"reason": "为本机关对外公布的办公电话"}, headers=api.as_user("wang"))
    assert accepted.status_code == 200 and accepted.json()["accepted"]["reason"] == "为本机关对外公布的办公电话"
    other = await api.post(f"{files_url(app_id)}/{file_id}/findings/{by_kind['phone']['seq']}/accept",
                           json={"reason": "另一个不同的理由"}, headers=api.as_user("wang"))
    assert other.status_code == 409 and "其他理由" in other.json()["detail"]
    assert still_open() == ["id-card"]

    # the ID number removed for good
    made = await api.post(f"{files_url(app_id)}/{file_id}/redactions",
                          json={"findings": [{"seq": by_kind["id-card"]["seq"], "basis": "条例第十五条"}]},
                          headers=api.as_user("wang"))
    redaction = await redacted(api, app_id, file_id, made)
    assert redaction["state"] == "done" and redaction["verified"] and redaction["problems"] == [] and redaction["released_sha256"]
    assert still_open() == []
    with Session(engine) as session:
        assert release_repository.why_not_sign(session, app_id) is None
        [sealed] = release_repository.release_manifest(session, app_id)
    assert sealed == {"item_no": 1, "filename": "决定书（公开版）.pdf", "sha256": redaction["released_sha256"],
                      "version": "redacted", "original_sha256": hashlib.sha256(pdf).hexdigest(),
                      "media_type": "application/pdf"}
    page = await api.get(f"{files_url(app_id)}/{file_id}/pages/2.png?redaction={redaction['id']}",
                         headers=api.as_user("wang"))
    assert page.status_code == 200 and page.content.startswith(b"\x89PNG")
    # the released copy kept in the store: searchable, without the ID; the original kept as uploaded
    from db.letters_repository import FileStore
    from release.extract import pdf_pages

    store = FileStore(api.app.state.settings.data_dir)
    released = store.get_verified(redaction["released_sha256"])
    text = "".join(p.text for p in pdf_pages(released, ocr_scans=False)).replace(" ", "")
    assert ID_NUMBER not in text and "公开部分" in text
    assert store.get_verified(hashlib.sha256(pdf).hexdigest()) == pdf

    # a later copy that draws over only half of the ID is the copy to be released: the finding is open again
    box = by_kind["id-card"]["place"]
    half = [box[0], box[1], (box[0] + box[2]) / 2, box[3]]
    partial = await api.post(f"{files_url(app_id)}/{file_id}/redactions",
                             json={"areas": [{"page": 2, "box": half, "basis": "条例第十五条"}],
                                   "text_layer": False}, headers=api.as_user("wang"))
    assert (await redacted(api, app_id, file_id, partial))["verified"]
    assert still_open() == ["id-card"]


@pytest.mark.parametrize(
    ("name", "make", "status", "words"),
    [
        ("空.pdf", lambda: b"", 422, "空文件"),
        ("损坏.pdf", lambda: b"%PDF-1.7\n1 0 obj <</Type /Catalog>> nothing else", 422, "损坏"),
        ("加密.pdf", encrypted_pdf, 422, "加密"),
        ("炸弹.png", image_bomb, 422, "图像炸弹"),
        ("带宏.docx", lambda: docx(["正文"], macros=True), 422, "宏"),
        ("伪装.xlsx", lambda: text_pdf([["其实是PDF"]]), 422, "实际是PDF 文档"),
    ],
)
async def test_bad_files_are_refused_with_their_reason_and_nothing_is_stored(api, engine, name, make, status, words) -> None:
    app_id = (await register(api))["application_id"]
    data = make()
    refused = await upload(api, app_id, name, data)
    assert refused.status_code == status, refused.text
    assert words in refused.json()["detail"]
    with Session(engine) as session:
        assert session.exec(select(ReleaseFile).where(ReleaseFile.application_id == app_id)).all() == []
        assert session.get(StoredFile, hashlib.sha256(data).hexdigest()) is None
    assert not (api.app.state.settings.data_dir / "files" / hashlib.sha256(data).hexdigest()[:2] /
                hashlib.sha256(data).hexdigest()).exists()


async def test_a_file_over_the_size_limit_is_refused_with_413(api) -> None:
    app_id = (await register(api))["application_id"]
    limit = api.app.state.settings.release_max_bytes
    # just over the limit: the route's own check (the file's name in the message)
    refused = await upload(api, app_id, "巨大.pdf", b"%PDF-1.7\n" + b"0" * limit)
    assert refused.status_code == 413 and "“巨大.pdf”" in refused.json()["detail"], refused.text
    assert "超过单个文件" in refused.json()["detail"]
    # far over it: refused by the body limit before the route reads it
    refused = await upload(api, app_id, "更大.pdf", b"%PDF-1.7\n" + b"0" * (limit + 200 * 1024))
    assert refused.status_code == 413 and "超过单个文件" in refused.json()["detail"], refused.text
    # an ordinary request keeps the ordinary limit
    big_json = await api.post(f"/api/v1/applications/{app_id}/release-files/1/findings/1/accept",
                              json={"reason": "x" * (2 * 1024 * 1024)}, headers=api.as_user("wang"))
    assert big_json.status_code == 413


async def test_a_file_that_cannot_be_read_fails_alone_and_the_others_are_screened(api, client, engine) -> None:
    """A file the intake let through but the screen cannot read (here: bytes stored as a DOCX that are not one)
    ends `failed` with its reason, is never retried, and blocks signing; the item's other file is screened."""
    from contracts.release import ScreenFileInput
    from db import letters_repository
    from db.letters_repository import FileStore
    from db.models_release import ReleaseScreening
    from workflows.release_screening import ReleaseFileScreeningWorkflow, screening_workflow_id

    app_id = (await register(api))["application_id"]
    broken = b"PK\x03\x04 not really a document " + app_id.encode()
    sha = FileStore(api.app.state.settings.data_dir).put(broken)
    with Session(engine) as session:
        letters_repository.add_stored_file(session, sha, len(broken))
        session.add(ReleaseFile(application_id=app_id, item_no=1, sha256=sha, filename="损坏.docx", kind="docx",
                                media_type="application/octet-stream", size=len(broken), uploaded_by="wang"))
        session.add(ReleaseScreening(sha256=sha))
        session.commit()
    bad = await client.start_workflow(ReleaseFileScreeningWorkflow.run,
                                      ScreenFileInput(sha256=sha, filename="损坏.docx", kind="docx"),
                                      id=screening_workflow_id(sha), task_queue=api.app.state.settings.task_queue)
    good = (await upload(api, app_id, "附件.pdf", text_pdf([["无敏感内容的公开材料", app_id]]))).json()["id"]
    result = await bad.result()
    assert result.state == "failed" and "无法读取文件内容" in result.error
    assert (await screened(api, app_id, good))["screening"]["state"] == "done"
    listed = {f["filename"]: f for f in (await api.get(files_url(app_id), headers=api.as_user("wang"))).json()}
    assert listed["损坏.docx"]["screening"]["state"] == "failed"
    assert listed["附件.pdf"]["open_findings"] == 0
    with Session(engine) as session:
        assert [why for _, _, why in release_repository.open_findings(session, app_id)] == ["文件未能读取，不能公开"]


async def test_fuzzed_requests_to_the_release_routes_never_get_a_server_error(api) -> None:
    """tests/test_fuzz_api.py's check on this module's routes alone (odd ids, bodies, files)."""
    from hypothesis import HealthCheck, Phase, given, settings
    from schemathesis.openapi import from_dict

    schema = from_dict(api.app.openapi())
    operations = [r.ok() for r in schema.get_all_operations() if "release" in r.ok().path]
    assert len(operations) == 9  # the files' 6, the sealed record, the applicant's list and a file by its link
    loop = asyncio.get_running_loop()
    problems: list[str] = []

    def fuzz(operation) -> None:
        @settings(max_examples=15, deadline=None, derandomize=True, database=None, phases=[Phase.generate],
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def check(case) -> None:
            kwargs = case.as_transport_kwargs(base_url="http://api")
            request = api.request(kwargs["method"], kwargs["url"], params=kwargs.get("params"),
                                  headers=api.as_user("wang"), json=kwargs.get("json"), files=kwargs.get("files"),
                                  data=kwargs.get("data"), content=kwargs.get("content"), timeout=60)
            response = asyncio.run_coroutine_threadsafe(request, loop).result(timeout=120)
            if response.status_code >= 500:
                problems.append(f"{kwargs['method']} {kwargs['url']} -> {response.status_code}: {response.text[:200]}")

        check()

    await asyncio.wait_for(asyncio.to_thread(lambda: [fuzz(op) for op in operations]), timeout=600)
    assert problems == []


from tests.test_event_loop import watched  # noqa: E402,F401  (the guard of database, fsync and PDF work on the loop)


async def test_the_release_routes_do_no_database_or_file_work_on_the_event_loop(watched) -> None:
    api, guard = watched
    app_id = (await register(api))["application_id"]
    guard.seen.clear()
    uploaded = await upload(api, app_id, "附件.pdf", text_pdf([["第一页"], [f"身份证号：{ID_NUMBER}"]]))
    assert uploaded.status_code == 201
    file_id = uploaded.json()["id"]
    detail = await screened(api, app_id, file_id)
    seq = detail["findings"][0]["seq"]
    assert (await api.get(files_url(app_id), headers=api.as_user("wang"))).status_code == 200
    assert (await api.get(f"{files_url(app_id)}/{file_id}/pages/2.png", headers=api.as_user("wang"))).status_code == 200
    made = await api.post(f"{files_url(app_id)}/{file_id}/redactions", json={
        "findings": [{"seq": seq, "basis": "条例第十五条"}], "text_layer": False}, headers=api.as_user("wang"))
    assert (await redacted(api, app_id, file_id, made))["verified"]
    accepted = await api.post(f"{files_url(app_id)}/{file_id}/findings/{seq}/accept",
                              json={"reason": "当事人本人申请公开其本人信息"}, headers=api.as_user("wang"))
    assert accepted.status_code == 200
    refused = await upload(api, app_id, "空.pdf", b"")
    assert refused.status_code == 422
    # the seal at signature, the staff's record, the applicant's list and a download by its link
    from tests.helpers import act, eventually

    await act(api, app_id, "decisions", {"item_no": 1, "outcome": "disclosed", "reasons": "", "by": "wang"})
    await act(api, app_id, "submit", {"by": "wang"})
    await act(api, app_id, "review", {"approve": True, "by": "reviewer-zhao"})
    await eventually(api, app_id, lambda v: not v["release_reading"] and v["release_files"]
                     and v["release_files"][0]["problems"] == [])
    await act(api, app_id, "sign", {"by": "chief-liu"})
    assert (await api.get(f"/api/v1/applications/{app_id}/release-seal", headers=api.as_user("wang"))).status_code == 200
    listed = await api.get(f"/api/v1/portal/applications/{app_id}/released", headers=api.as_applicant(app_id))
    assert (await api.get(listed.json()[0]["link"])).status_code == 200
    assert guard.seen == []
