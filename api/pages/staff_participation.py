"""Staff pages for public participation (issue 26): the registration of a draft for comment, each draft's
page (review, the supervisor's approval, comments entered by the desk, moderation, the feedback in groups
and its review, 列席 records) and each 在线咨询 question's page (routing, answer, review, conversion to an
application). Every read and action is the JSON API's own request with the session's token (role checks,
the workflows' validators: a refusal shows its reason beside its form)."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.pages.common import api_call, detail_of
from api.pages.participation_pages import LABELS
from api.pages.staff_session import bearer, page, posted, redirect, refused_page, who, who_holding
from api.security import STAFF_READERS
from core import clock

router = APIRouter(prefix="/staff/participation", include_in_schema=False)
READERS = tuple(sorted(STAFF_READERS))
FEEDBACK_ROWS = 5

# (action, title, API path suffix, fields): a field is (name, label, kind) with kind
# text | textarea | yesno | date | bool | channel | invitees | groups.
DRAFT_FORMS = [
    ("review", "保密审查（谁签发、谁把关）", "review", [("approve", "审查结论", "yesno"), ("comment", "意见", "textarea")]),
    ("revise", "修改征求意见稿（重新送审）", "revise", [("content", "征求意见稿", "textarea"), ("reason", "修改说明", "text")]),
    ("approve", "批准并公开征求意见", "approve", []),
    ("comment", "登记信函、听证会等渠道的意见", "comments",
     [("channel", "渠道", "channel"), ("received_on", "收到之日", "date"), ("name", "提出人（可不填）", "text"),
      ("part", "针对的条款", "text"), ("text", "意见内容", "textarea")]),
    ("feedback", "汇总意见，作出采纳处理（送审查）", "feedback", [("groups", "意见分组", "groups"), ("note", "总体说明", "textarea")]),
    ("feedback-review", "审查意见收集和采纳情况（通过即公布）", "feedback-review",
     [("approve", "审查结论", "yesno"), ("comment", "意见", "textarea")]),
    ("meeting", "记录会议及列席情况", "meetings",
     [("held_on", "会议日期", "date"), ("title", "会议名称", "text"), ("invited", "邀请列席", "invitees"),
      ("attendees", "列席人员（每行一人）", "textarea"), ("public", "会议公开", "bool")]),
    ("withdraw", "撤回", "withdraw", [("reason", "撤回理由", "text")]),
]
DRAFT_ACTIONS = {
    "in-review": ("review", "revise", "meeting", "withdraw"), "returned": ("revise", "meeting", "withdraw"),
    "reviewed": ("approve", "revise", "meeting", "withdraw"), "open": ("comment", "meeting", "withdraw"),
    "closed": ("feedback", "comment", "meeting", "withdraw"), "feedback-review": ("feedback-review", "meeting"),
    "feedback-published": ("meeting",), "withdrawn": (),
}
INQUIRY_FORMS = [
    ("route", "分办至承办科室", "route", [("section", "承办科室", "text")]),
    ("answer", "拟写答复（送审查）", "answer", [("answer", "答复内容", "textarea"), ("general_interest", "答复具有普遍性（咨询人同意的，予以公开）", "bool")]),
    ("review", "审查答复（通过即答复咨询人）", "review", [("approve", "审查结论", "yesno"), ("comment", "意见", "textarea")]),
    ("propose-conversion", "实为政府信息公开申请：请咨询人确认后转为申请", "propose-conversion", [("reason", "理由", "text")]),
]
INQUIRY_ACTIONS = {"unrouted": ("route", "propose-conversion"), "routed": ("answer", "route", "propose-conversion"),
                   "in-review": ("review",), "answered": (), "awaiting-confirmation": (), "converted": ()}
INQUIRY_STATUS = {"unrouted": "待分办", "routed": "办理中", "in-review": "答复审查中", "answered": "已答复",
                  "awaiting-confirmation": "待咨询人确认转为申请", "converted": "已转为申请"}
STAFF_PHASES = {"in-review": "保密审查中", "returned": "审查退回", "reviewed": "待批准公开", "open": "正在征求意见",
                "closed": "已截止，待反馈", "feedback-review": "反馈审查中", "feedback-published": "已公布采纳情况",
                "withdrawn": "已撤回"}
DRAFT_FIELDS = ("title", "kind", "section", "content", "basis", "days", "short_reason", "how_to_comment")


async def _get(request: Request, path: str) -> Any:
    response = await api_call(request, "GET", path, headers=bearer(request))
    return response.json() if response.status_code == 200 else []


async def _overview(request: Request, *, errors=None, values=None, status_code=200) -> Response:
    return page(request, "staff/participation.html", {
        "drafts": await _get(request, "/api/v1/drafts"), "inquiries": await _get(request, "/api/v1/inquiries"),
        "figures": await _get(request, f"/api/v1/drafts/figures?year={clock.today().year}"), "now": clock.now().isoformat(),
        "errors": errors or {}, "values": values or {}, "staff_phases": STAFF_PHASES, "inquiry_status": INQUIRY_STATUS,
    } | LABELS, current="participation", status_code=status_code)


@router.get("")
async def overview(request: Request) -> Response:
    if isinstance(user := await who_holding(request, *READERS), Response):
        return user
    return await _overview(request)


@router.post("/drafts")
async def register(request: Request) -> Response:
    if isinstance(got := await posted(request), Response):
        return got
    _, form = got
    values = {k: str(form.get(k, "")).strip() for k in DRAFT_FIELDS}
    channels = [str(c) for c in form.getlist("channels")] or ["website"]
    body: dict[str, Any] = {k: v for k, v in values.items() if v and k != "days"} | {"channels": channels}
    if not values["days"].isdigit():
        return await _overview(request, errors={"days": "征求意见期限应为整数（天数或工作日数）"}, values=values, status_code=422)
    body["days"] = int(values["days"])
    answer = await api_call(request, "POST", "/api/v1/drafts", json=body, headers=bearer(request))
    if answer.status_code == 201:
        return redirect(request, f"/staff/participation/drafts/{answer.json()['draft_id']}")
    return await _overview(request, errors={"register": detail_of(answer)}, values=values, status_code=answer.status_code)


def _offered(forms: list, actions: dict, phase: str, errors: dict | None) -> list:
    valid = actions.get(phase, ())
    return [f for f in forms if f[0] in valid or f[0] in (errors or {})]


async def _draft(request: Request, draft_id: str, *, errors=None, notice=None, status_code=200) -> Response:
    response = await api_call(request, "GET", f"/api/v1/drafts/{draft_id}", headers=bearer(request))
    if response.status_code != 200:
        return refused_page(request, detail_of(response), response.status_code)
    view = response.json()
    files = await api_call(request, "GET", f"/api/v1/drafts/{draft_id}/basis-files", headers=bearer(request))
    return page(request, "staff/participation_draft.html", {
        "view": view, "forms": _offered(DRAFT_FORMS, DRAFT_ACTIONS, view["phase"], errors), "errors": errors or {},
        "notice": notice, "staff_phases": STAFF_PHASES, "feedback_rows": FEEDBACK_ROWS, "today": clock.today().isoformat(),
        "basis_files": files.json() if files.status_code == 200 else [], "screening_states": SCREENING_STATES,
        "basis_open": view["phase"] in BASIS_PHASES,
    } | LABELS, current="participation", status_code=status_code)


# Issue 26 point 1: the draft's basis files (起草说明 etc.) are attached before publication and go through the same
# confidentiality review as a reply's files (api/routes/release.py draft_router); the page uploads them.
BASIS_PHASES = ("in-review", "returned", "reviewed")
SCREENING_STATES = {"pending": "排队等待预审", "running": "正在预审", "done": "预审完成", "failed": "无法读取"}


@router.post("/drafts/{draft_id}/basis-files")
async def attach_basis_file(request: Request, draft_id: str) -> Response:
    if isinstance(got := await posted(request), Response):
        return got
    _, form = got
    file = form.get("file")
    if file is None or isinstance(file, str) or not file.filename:
        return await _draft(request, draft_id, errors={"basis-files": "请选择要上传的文件"}, status_code=422)
    answer = await api_call(request, "POST", f"/api/v1/drafts/{draft_id}/basis-files", headers=bearer(request),
                            files={"file": (file.filename, await file.read(), file.content_type or "application/octet-stream")})
    if answer.status_code in (200, 201):
        return redirect(request, f"/staff/participation/drafts/{draft_id}?done=basis-files#basis-files")
    return await _draft(request, draft_id, errors={"basis-files": detail_of(answer)}, status_code=answer.status_code)


@router.get("/drafts/{draft_id}")
async def draft(request: Request, draft_id: str, done: str = "") -> Response:
    if isinstance(user := await who(request), Response):
        return user
    titles = {a: t for a, t, _, _ in DRAFT_FORMS} | {"moderate": "隐藏或恢复意见", "basis-files": "上传决策依据文件"}
    return await _draft(request, draft_id, notice=f"已完成：{titles[done]}" if done in titles else None)


def _groups(form) -> list[dict]:
    groups = []
    for n in range(1, FEEDBACK_ROWS + 1):
        receipts = [r for r in re.split(r"[\s,，、;；]+", str(form.get(f"g{n}.receipts", ""))) if r]
        summary, reason = str(form.get(f"g{n}.summary", "")).strip(), str(form.get(f"g{n}.reason", "")).strip()
        if receipts or summary or reason:
            groups.append({"summary": summary, "receipt_nos": receipts, "decision": str(form.get(f"g{n}.decision", "adopted")),
                           "reason": reason})
    return groups


def _body(fields: list, form) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for name, _, kind in fields:
        value = str(form.get(name, "")).strip()
        if kind == "yesno":
            body[name] = value == "yes"
        elif kind == "bool":
            body[name] = value == "yes"
        elif kind == "invitees":
            body[name] = [str(v) for v in form.getlist(name)]
        elif kind == "groups":
            body[name] = _groups(form)
        elif name == "attendees":
            body[name] = [line.strip() for line in value.splitlines() if line.strip()]
        elif value:
            body[name] = value
    return body


@router.get("/drafts/{draft_id}/attachments/{receipt_no}")
async def attachment(request: Request, draft_id: str, receipt_no: str) -> Response:
    """The file sent with a comment, downloaded through the API with the session's token."""
    if isinstance(user := await who(request), Response):
        return user
    answer = await api_call(request, "GET", f"/api/v1/drafts/{draft_id}/comments/{receipt_no}/attachment",
                            headers=bearer(request))
    if answer.status_code != 200:
        return refused_page(request, detail_of(answer), answer.status_code)
    return Response(answer.content, media_type="application/octet-stream",
                    headers={k: v for k, v in answer.headers.items()
                             if k.lower() in ("content-disposition", "x-content-type-options")})


@router.post("/drafts/{draft_id}/moderate")
async def moderate(request: Request, draft_id: str) -> Response:
    if isinstance(got := await posted(request), Response):
        return got
    _, form = got
    body = {"receipt_no": str(form.get("receipt_no", "")), "hide": form.get("hide") != "no",
            "reason": str(form.get("reason", "")).strip()}
    answer = await api_call(request, "POST", f"/api/v1/drafts/{draft_id}/moderate", json=body, headers=bearer(request))
    if answer.status_code == 200:
        return redirect(request, f"/staff/participation/drafts/{draft_id}?done=moderate")
    message = "请写明隐藏或恢复的理由（至少 2 个字）" if answer.status_code == 422 else detail_of(answer)
    return await _draft(request, draft_id, errors={"moderate": message}, status_code=answer.status_code)


@router.post("/drafts/{draft_id}/{action}")
async def draft_action(request: Request, draft_id: str, action: str) -> Response:
    if isinstance(got := await posted(request), Response):
        return got
    _, form = got
    spec = {a: (path, fields) for a, _, path, fields in DRAFT_FORMS}.get(action)
    if spec is None:
        return refused_page(request, "没有这项操作", 404)
    path, fields = spec
    answer = await api_call(request, "POST", f"/api/v1/drafts/{draft_id}/{path}", json=_body(fields, form),
                            headers=bearer(request))
    if answer.status_code in (200, 201):
        return redirect(request, f"/staff/participation/drafts/{draft_id}?done={action}")
    return await _draft(request, draft_id, errors={action: detail_of(answer)}, status_code=answer.status_code)


async def _inquiry(request: Request, inquiry_id: str, *, errors=None, notice=None, status_code=200) -> Response:
    response = await api_call(request, "GET", f"/api/v1/inquiries/{inquiry_id}", headers=bearer(request))
    if response.status_code != 200:
        return refused_page(request, detail_of(response), response.status_code)
    view = response.json()
    return page(request, "staff/participation_inquiry.html", {
        "view": view, "forms": _offered(INQUIRY_FORMS, INQUIRY_ACTIONS, view["status"], errors), "errors": errors or {},
        "notice": notice, "inquiry_status": INQUIRY_STATUS,
    }, current="participation", status_code=status_code)


@router.get("/inquiries/{inquiry_id}")
async def inquiry(request: Request, inquiry_id: str, done: str = "") -> Response:
    if isinstance(user := await who(request), Response):
        return user
    titles = {a: t for a, t, _, _ in INQUIRY_FORMS}
    return await _inquiry(request, inquiry_id, notice=f"已完成：{titles[done]}" if done in titles else None)


@router.post("/inquiries/{inquiry_id}/{action}")
async def inquiry_action(request: Request, inquiry_id: str, action: str) -> Response:
    if isinstance(got := await posted(request), Response):
        return got
    _, form = got
    spec = {a: (path, fields) for a, _, path, fields in INQUIRY_FORMS}.get(action)
    if spec is None:
        return refused_page(request, "没有这项操作", 404)
    path, fields = spec
    answer = await api_call(request, "POST", f"/api/v1/inquiries/{inquiry_id}/{path}", json=_body(fields, form),
                            headers=bearer(request))
    if answer.status_code == 200:
        return redirect(request, f"/staff/participation/inquiries/{inquiry_id}?done={action}")
    return await _inquiry(request, inquiry_id, errors={action: detail_of(answer)}, status_code=answer.status_code)
