"""Staff pages for the files released with a reply (issue 22): the handler uploads per item on the application
page and sees each file's screening and findings; the reviewer's page shows each page image with the findings
boxed beside their list, and a finding accepted with a reason. Every action is the JSON API's (api/routes/release.py).
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.pages.common import api_call, detail_of
from api.pages.staff_session import bearer, check_roles, page, posted, redirect, refused_page, who
from api.security import STAFF_READERS

router = APIRouter(prefix="/staff/applications", include_in_schema=False)
READERS = tuple(sorted(STAFF_READERS))
# Pages shown on the reviewer's page: those with findings, else the first; at most this many images.
MAX_PAGES_SHOWN = 30

FINDING_KINDS = {
    "id-card": "身份证号码",
    "phone": "电话号码",
    "bank-card": "银行卡号",
    "credit-code": "统一社会信用代码",
    "address": "详细地址",
    "secret-marking": "密级标志",
    "unit-level-table": "单位级统计资料",
}
SCREENING_STATES = {"pending": "排队等待预审", "running": "正在预审", "done": "预审完成", "failed": "无法读取"}
FILE_KINDS = {"pdf": "PDF", "png": "图像", "jpeg": "图像", "tiff": "图像", "docx": "Word 文档", "xlsx": "Excel 表格",
              "csv": "CSV 表格"}


def _api(application_id: str) -> str:
    return f"/api/v1/applications/{quote(application_id, safe='')}"


async def release_files_for(request: Request, application_id: str) -> list[dict]:
    """The application's released files as the API lists them (the application page's section); [] if refused."""
    answer = await api_call(request, "GET", f"{_api(application_id)}/release-files", headers=bearer(request))
    return answer.json() if answer.status_code == 200 else []


async def release_seal_for(request: Request, application_id: str) -> dict | None:
    """The sealed release record (at signature): which file versions left, and each download; None before."""
    answer = await api_call(request, "GET", f"{_api(application_id)}/release-seal", headers=bearer(request))
    return answer.json() if answer.status_code == 200 else None


DELIVERY_WORDS = {"attached": "随答复电子邮件附送", "link": "申请人通过查询页面的下载链接获取", "none": "无文件"}
VERSION_WORDS = {"redacted": "区分处理后的公开版（已核验）", "as-uploaded": "原样公开（无需删除）"}


LABELS = {"delivery_words": DELIVERY_WORDS, "version_words": VERSION_WORDS, "finding_kinds": FINDING_KINDS, "screening_states": SCREENING_STATES, "file_kinds": FILE_KINDS}


@router.post("/{application_id}/release-files")
async def upload(request: Request, application_id: str) -> Response:
    if isinstance(got := await posted(request), Response):
        return got
    _, form = got
    file = form.get("file")
    item_no = str(form.get("item_no", "") or "").strip()
    back = f"/staff/applications/{quote(application_id, safe='')}"
    if file is None or isinstance(file, str) or not file.filename:
        return redirect(request, f"{back}?release_error=nofile#release-files")
    if not item_no.isdigit():
        return redirect(request, f"{back}?release_error=noitem#release-files")
    answer = await api_call(request, "POST", f"{_api(application_id)}/items/{item_no}/release-files",
                            headers=bearer(request),
                            files={"file": (file.filename, await file.read(), file.content_type or "application/octet-stream")})
    if answer.status_code in (200, 201):
        return redirect(request, f"{back}?uploaded={answer.json()['id']}#release-files")
    return refused_page(request, detail_of(answer), answer.status_code)


@router.get("/{application_id}/release-files/{file_id}")
async def review(request: Request, application_id: str, file_id: int) -> Response:
    user = await who(request)
    if isinstance(user, Response):
        return user
    if reason := await check_roles(user, *READERS):
        return refused_page(request, reason)
    answer = await api_call(request, "GET", f"{_api(application_id)}/release-files/{file_id}", headers=bearer(request))
    if answer.status_code != 200:
        return refused_page(request, detail_of(answer), answer.status_code)
    detail = answer.json()
    with_findings = sorted({f["page"] for f in detail["findings"]})
    shown = (with_findings or [1])[:MAX_PAGES_SHOWN] if detail["page_sizes"] else []
    pages = [
        {"number": n, "width": detail["page_sizes"][n - 1][0], "height": detail["page_sizes"][n - 1][1],
         "findings": [f for f in detail["findings"] if f["page"] == n]}
        for n in shown if n <= len(detail["page_sizes"])
    ]
    return page(request, "staff/release_file.html", {
        "application_id": application_id, "file": detail, "pages": pages, "roles": user.role_set(),
        "accepted_notice": request.query_params.get("accepted"), **LABELS,
    }, current="applications")


@router.get("/{application_id}/release-manifest")
async def release_manifest(request: Request, application_id: str) -> Response:
    """The sealed files' list for the counter (光盘, 当面领取, 现场查阅): names, pages, sizes and sha256, printed
    and handed over with the reply (the applicant can check each file's hash)."""
    user = await who(request)
    if isinstance(user, Response):
        return user
    if reason := await check_roles(user, *READERS):
        return refused_page(request, reason)
    seal = await api_call(request, "GET", f"{_api(application_id)}/release-seal", headers=bearer(request))
    if seal.status_code != 200:
        return refused_page(request, detail_of(seal), seal.status_code)
    view = await api_call(request, "GET", _api(application_id), headers=bearer(request))
    letters = view.json().get("letters", []) if view.status_code == 200 else []
    number = next((l["document_number"] for l in letters if l["kind"] == "reply" and l.get("document_number")), None)
    return page(request, "staff/release_manifest.html", {
        "application_id": application_id, "seal": seal.json(), "reply_number": number,
        "applicant": view.json().get("applicant_name") if view.status_code == 200 else "", **LABELS,
    }, current="applications")


@router.get("/{application_id}/release-files/{file_id}/pages/{number}.png")
async def page_image(request: Request, application_id: str, file_id: int, number: int) -> Response:
    user = await who(request)
    if isinstance(user, Response):
        return user
    answer = await api_call(request, "GET", f"{_api(application_id)}/release-files/{file_id}/pages/{number}.png",
                            headers=bearer(request), params=dict(request.query_params))
    if answer.status_code != 200:
        return refused_page(request, detail_of(answer), answer.status_code)
    return Response(answer.content, media_type="image/png", headers={"Cache-Control": "private, no-store",
                                                                    "X-Content-Type-Options": "nosniff"})


@router.post("/{application_id}/release-files/{file_id}/findings/{seq}/accept")
async def accept(request: Request, application_id: str, file_id: int, seq: int) -> Response:
    if isinstance(got := await posted(request), Response):
        return got
    _, form = got
    reason = str(form.get("reason", "") or "").strip()
    answer = await api_call(request, "POST", f"{_api(application_id)}/release-files/{file_id}/findings/{seq}/accept",
                            json={"reason": reason}, headers=bearer(request))
    if answer.status_code == 200:
        return redirect(request, f"/staff/applications/{quote(application_id, safe='')}/release-files/{file_id}"
                                 f"?accepted={seq}#finding-{seq}")
    return refused_page(request, detail_of(answer), answer.status_code)
