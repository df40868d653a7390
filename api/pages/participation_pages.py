"""Public participation pages (issue 26; RULES §13): drafts for comment (with how and until when to
comment, the comment form, the 意见收集和采纳情况 and the 列席 records) and 在线咨询 (the question form and
the published questions and answers). Reads use the JSON API's own functions on the database; the forms
post through the public API (its rate limit, its validation, the workflow's answer)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from api.pages.common import CSRF_FAILED, api_call, csrf_ok, detail_of, render
from participation.rules import CHANNEL_LABELS, DECISION_LABELS, KIND_LABELS

router = APIRouter(include_in_schema=False)

PHASES = {"open": "正在征求意见", "closed": "征求意见已截止", "feedback-review": "征求意见已截止",
          "feedback-published": "已公布意见采纳情况"}
INVITEES = {"stakeholders": "利益相关方", "public-representatives": "公众代表", "experts": "专家", "media": "媒体"}
LABELS = {"kinds": KIND_LABELS, "phases": PHASES, "channels": CHANNEL_LABELS, "decisions": DECISION_LABELS,
          "invitees": INVITEES}
COMMENT_FIELDS = ("name", "contact", "part", "text")
QUESTION_FIELDS = ("question", "name", "contact")


def _read(request: Request, what: str, *args):
    from sqlmodel import Session

    from api.routes import participation as api

    with Session(request.app.state.engine) as session:
        if what == "drafts":
            return [d.model_dump(mode="json") for d in api.public_drafts(session)], \
                [q.model_dump(mode="json") for q in api.published_questions(session, limit=10)]
        if what == "draft":
            found = api.public_draft(session, args[0])
            return found.model_dump(mode="json") if found else None
        return [q.model_dump(mode="json") for q in api.published_questions(session)]


@router.get("/participation")
async def drafts(request: Request):
    found, questions = await run_in_threadpool(_read, request, "drafts")
    return render(request, "public/participation.html", {"page": "participation", "drafts": found,
                                                          "questions": questions} | LABELS)


async def _draft_page(request: Request, draft_id: str, *, values=None, errors=None, error=None, status_code=200):
    found = await run_in_threadpool(_read, request, "draft", draft_id[:60])
    if found is None:
        return render(request, "public/participation_missing.html", {"page": "participation"}, status_code=404)
    return render(request, "public/participation_draft.html", {
        "page": "participation", "draft": found, "values": values or {}, "errors": errors or {}, "error": error,
    } | LABELS, status_code=status_code)


@router.get("/participation/{draft_id}")
async def draft(request: Request, draft_id: str):
    return await _draft_page(request, draft_id)


@router.post("/participation/{draft_id}")
async def comment(request: Request, draft_id: str):
    form = await request.form()
    values = {k: str(form.get(k, "")).strip() for k in COMMENT_FIELDS}
    if not csrf_ok(request, form):
        return await _draft_page(request, draft_id, values=values, error=CSRF_FAILED, status_code=400)
    body = {k: v for k, v in values.items() if v or k == "text"}
    upload = form.get("file")
    data = await upload.read() if upload is not None and not isinstance(upload, str) and upload.filename else b""
    if data:  # with an attachment: the API's multipart form
        answer = await api_call(request, "POST", f"/api/v1/public/drafts/{draft_id[:60]}/comments-with-attachment",
                                data=body, files={"file": (upload.filename, data, "application/octet-stream")})
    else:
        answer = await api_call(request, "POST", f"/api/v1/public/drafts/{draft_id[:60]}/comments", json=body)
    if answer.status_code == 201:
        return render(request, "public/participation_done.html", {"page": "participation", "draft_id": draft_id,
                                                                   "receipt": answer.json()})
    errors = {}
    if answer.status_code == 422 and "附件" in detail_of(answer):
        errors["file"] = detail_of(answer)
    elif answer.status_code == 413:
        errors["file"] = "附件过大，请压缩后再上传，或通过信函、电子邮件提交"
    elif answer.status_code == 422:
        errors["text"] = "请填写意见内容（至少 2 个字）"
    elif answer.status_code == 409 and "署名" in detail_of(answer):
        errors["name"] = detail_of(answer)
    return await _draft_page(request, draft_id, values=values, errors=errors,
                             error=None if errors else detail_of(answer), status_code=answer.status_code)


# --- 在线咨询 -------------------------------------------------------------------------------------------


@router.get("/inquiry")
async def question_form(request: Request):
    questions = await run_in_threadpool(_read, request, "questions")
    return render(request, "public/inquiry.html", {"page": "inquiry", "values": {}, "errors": {},
                                                    "questions": questions})


@router.post("/inquiry")
async def ask(request: Request):
    form = await request.form()
    values = {k: str(form.get(k, "")).strip() for k in QUESTION_FIELDS}
    consent = form.get("consent_publish") == "yes"
    context = {"page": "inquiry", "values": values | {"consent_publish": consent}, "errors": {}, "questions": []}
    if not csrf_ok(request, form):
        return render(request, "public/inquiry.html", context | {"error": CSRF_FAILED}, status_code=400)
    body = {k: v for k, v in values.items() if v or k == "question"} | {"consent_publish": consent}
    answer = await api_call(request, "POST", "/api/v1/public/inquiries", json=body)
    if answer.status_code == 201:
        return render(request, "public/inquiry_done.html", {"page": "inquiry", "created": answer.json()})
    if answer.status_code == 422:
        return render(request, "public/inquiry.html", context | {"errors": {"question": "请填写您要咨询的问题（至少 5 个字）"}},
                      status_code=422)
    return render(request, "public/inquiry.html", context | {"error": detail_of(answer)}, status_code=answer.status_code)


# --- the asker's own question: its answer, and the confirmation that it is a disclosure application ---

STATUS_FOR_ASKER = {"unrouted": "办理中", "routed": "办理中", "in-review": "办理中", "answered": "已答复",
                    "awaiting-confirmation": "待您确认是否转为政府信息公开申请", "converted": "已转为政府信息公开申请"}


async def _track(request: Request, values: dict, *, errors=None, error=None, status_code=200):
    found = None
    if values.get("inquiry_id") and values.get("code") and not error:
        answer = await api_call(request, "GET", f"/api/v1/public/inquiries/{values['inquiry_id'][:60]}",
                                headers={"X-Query-Code": values["code"][:40]})
        if answer.status_code == 200:
            found = answer.json()
        else:
            error, status_code = detail_of(answer), answer.status_code
    return render(request, "public/inquiry_track.html", {
        "page": "inquiry", "values": values, "found": found, "errors": errors or {}, "error": error,
        "status_labels": STATUS_FOR_ASKER}, status_code=status_code)


@router.get("/inquiry/track")
async def track(request: Request):
    return await _track(request, {"inquiry_id": request.query_params.get("inquiry_id", "").strip()[:60]})


@router.post("/inquiry/track")
async def track_or_confirm(request: Request):
    """Posted (the query code never in an address): the lookup, or the asker's confirmation that the question
    is a disclosure application, registered today (its own receipt date)."""
    form = await request.form()
    values = {k: str(form.get(k, "")).strip() for k in ("inquiry_id", "code", "name", "email", "id_type", "id_number")}
    if not csrf_ok(request, form):
        return await _track(request, values, error=CSRF_FAILED, status_code=400)
    if form.get("step") != "confirm":
        if not values["inquiry_id"] or not values["code"]:
            return await _track(request, values, error="请填写咨询编号和查询码", status_code=422)
        return await _track(request, values)
    errors = {}
    if not values["name"]:
        errors["name"] = "请填写申请人姓名或者名称"
    if not values["email"]:
        errors["email"] = "请填写电子邮箱，用于接收答复"
    if not values["id_number"]:  # Reg. 29: the applicant's identity document (issue 23 point 5)
        errors["id_number"] = "请填写身份证件号码（组织填写统一社会信用代码）"
    if errors:
        return await _track(request, values, errors=errors, status_code=422)
    answer = await api_call(request, "POST", f"/api/v1/public/inquiries/{values['inquiry_id'][:60]}/convert", json={
        "code": values["code"], "applicant": {"name": values["name"], "email": values["email"],
                                              "id_number": values["id_number"], **({"id_type": values["id_type"]}
                                                                                     if values["id_type"] else {})},
        "delivery_method": "email"})
    if answer.status_code == 201:
        return render(request, "public/inquiry_converted.html", {"page": "inquiry", "created": answer.json()})
    if answer.status_code == 422:
        found = {}
        for error in answer.json().get("errors", []):
            loc = [str(part) for part in error.get("loc", [])]
            name = "id_number" if "id_number" in loc or "id_type" in loc else "email" if "email" in loc else None
            if name:
                found.setdefault(name, error.get("msg") or "格式不正确")
        if "email" in found:
            found["email"] = "电子邮箱格式不正确，应类似 name@example.com"
        return await _track(request, values, errors=found or {"email": detail_of(answer)}, status_code=422)
    return await _track(request, values, error=detail_of(answer), status_code=answer.status_code)
