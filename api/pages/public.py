"""The public pages (no log-in): the guide, the online application, tracking, the third party's answer.

Each page action is the JSON API's own request, made in process (common.api_call): the public
intake route, the applicant routes with the query code, the third-party link route. The pages add
only wording, field-by-field errors, the CSRF check, and a short-lived cookie that remembers the
number and query code while the applicant looks at their application (HttpOnly, SameSite=Strict,
path /track), so downloads and actions do not ask for the code again.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData
from core import clock

from api.pages.common import (
    CSRF_FAILED,
    api_call,
    csrf_ok,
    detail_of,
    duplicate_of,
    field_errors,
    render,
)

router = APIRouter(include_in_schema=False)

TRACK_COOKIE = "gk_track"
TRACK_MINUTES = 60
NUMBER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$")
MAX_ITEMS = 50
APPLICANT_FIELDS = ("name", "id_type", "id_number", "email", "phone", "address")
# Letters an applicant receives, by the suffix of their key (workflows/application.py _send_letter).
APPLICANT_LETTERS = {"ack": "回执（受理通知）", "supplement": "补正告知书", "extension": "延期答复告知书"}

# What an applicant is told beside a field, by field and the API's error type (fallback: the API's message).
FRIENDLY: dict[tuple[str, str], str] = {
    ("applicant.name", "missing"): "请填写申请人姓名或名称",
    ("applicant.name", "string_too_short"): "请填写申请人姓名或名称",
    ("applicant.name", "string_too_long"): "姓名或名称过长（最多 200 个字）",
    ("applicant.email", "value_error"): "电子邮箱格式不正确，应类似 name@example.com",
    ("applicant.id_number", "string_too_long"): "证件号码过长（最多 40 个字符）",
    ("applicant.phone", "string_too_long"): "联系电话过长（最多 40 个字符）",
    ("applicant.address", "string_too_long"): "通讯地址过长（最多 500 个字）",
    ("applicant.type", "literal_error"): "请选择组织类别",
    ("delivery_method", "literal_error"): "请选择获取信息的方式",
    ("delivery_method", "missing"): "请选择获取信息的方式",
    ("items", "too_short"): "请至少填写一项所需的政府信息",
    ("items", "too_long"): f"一份申请最多 {MAX_ITEMS} 项，请分开提交",
}
ITEM_FRIENDLY = {
    "missing": "请描述所需的政府信息",
    "string_too_short": "请描述所需的政府信息（至少 2 个字），如名称、文号或便于查询的其他特征",
    "string_too_long": "描述过长（最多 4000 个字），请精简或分成几项",
}


# --- the guide --------------------------------------------------------------------------------


async def _agencies(request: Request, q: str = "") -> list[dict[str, Any]]:
    """The agencies on the platform (issue 25), through the public API like every other read of these pages."""
    response = await api_call(request, "GET", "/api/v1/agencies", params={"q": q} if q else None)
    return response.json() if response.status_code == 200 else []


@router.get("/")
async def guide(request: Request, q: str = "") -> Response:
    """The guide; on a platform of several agencies, first the agencies, searchable by name and region."""
    q = q.strip()[:50]
    everyone = await _agencies(request)
    shown = await _agencies(request, q) if q else everyone
    return render(request, "public/guide.html", {"page": "guide", "agencies": shown, "platform": len(everyone) > 1,
                                                 "q": q})


@router.get("/agencies/{code}")
async def agency_page(request: Request, code: str) -> Response:
    """One agency's own page on the platform: apply to it, track, its catalogue and annual reports."""
    found = next((a for a in await _agencies(request) if a["code"] == code), None)
    if found is None:
        return render(request, "public/agency_missing.html", {"page": "guide", "code": code}, status_code=404)
    return render(request, "public/agency.html", {"page": "guide", "agency": found})


# --- the online application (Reg. 29) ---------------------------------------------------------


def _blank_form(agency: str = "") -> dict[str, Any]:
    return {"applicant_kind": "natural-person", "org_type": "", "applicant": {}, "items": [""], "delivery_method": "",
            "agency": agency}


def _form_values(form: FormData) -> dict[str, Any]:
    """What the visitor typed, kept as typed, to fill the form again."""
    indices = sorted({int(m.group(1)) for key in form.keys() if (m := re.fullmatch(r"items\.(\d+)\.description", key))})
    items = [str(form.get(f"items.{i}.description", "")) for i in indices[:MAX_ITEMS]] or [""]
    return {
        "applicant_kind": str(form.get("applicant_kind", "natural-person")),
        "org_type": str(form.get("org_type", "")),
        "applicant": {name: str(form.get(f"applicant.{name}", "")) for name in APPLICANT_FIELDS},
        "items": items,
        "delivery_method": str(form.get("delivery_method", "")),
        "resubmit": form.get("resubmit") == "yes",
        "agency": str(form.get("agency", "")).strip()[:20],
    }


def _body(values: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """The API's body from the form, and the errors only the form can see (which fields it shows)."""
    errors: dict[str, str] = {}
    applicant: dict[str, Any] = {k: v.strip() for k, v in values["applicant"].items() if v.strip()}
    if values["applicant_kind"] == "organisation":
        applicant["type"] = values["org_type"] or "unspecified-organisation"  # refused by the API: 422
        if not values["org_type"]:
            errors["org_type"] = "请选择组织类别"
    else:
        applicant["type"] = "natural-person"
    applicant.setdefault("name", "")
    items = [{"description": d.strip()} for d in values["items"] if d.strip()]
    if not items:
        errors["items.0.description"] = ITEM_FRIENDLY["missing"]
    body = {"applicant": applicant, "items": items or [{"description": ""}],
            "delivery_method": values["delivery_method"] or None, "resubmit": values.get("resubmit", False)}
    if values.get("agency"):
        body["agency"] = values["agency"]  # issue 25: the agency applied to (the API refuses none of several)
    return body, errors


def _item_positions(values: dict[str, Any]) -> list[int]:
    """The form row of each item the API received (blank rows were left out)."""
    return [i for i, d in enumerate(values["items"]) if d.strip()] or [0]


def _api_errors(response, values: dict[str, Any]) -> dict[str, str]:
    raw = response.json().get("errors") or []
    positions = _item_positions(values)
    out: dict[str, str] = {}
    for error in raw:
        loc = [str(p) for p in error.get("loc", [])][1:]
        kind = error.get("type", "")
        message = str(error.get("msg", "内容有误"))
        if loc[:1] == ["items"] and len(loc) >= 2 and loc[1].isdigit():
            row = positions[int(loc[1])] if int(loc[1]) < len(positions) else 0
            out.setdefault(f"items.{row}.description", ITEM_FRIENDLY.get(kind, message))
            continue
        path = ".".join(loc[:2])
        if path == "applicant.type":
            out.setdefault("org_type", FRIENDLY[(path, "literal_error")])
            continue
        if not loc:  # a rule over several fields: put it beside the field it asks for, in its own words
            path = "applicant.email" if "邮箱" in message else "applicant.address" if "地址" in message else ""
            message = message.replace("须填写", "请填写", 1)  # "请填写", not "格式不正确" (issue 23 point 10)
            out.setdefault(path, message)
            continue
        out.setdefault(path, FRIENDLY.get((path, kind), message))
    return out


@router.get("/apply")
async def apply_form(request: Request, agency: str = "") -> Response:
    return render(request, "public/apply.html", {"page": "apply", "values": _blank_form(agency.strip()[:20]),
                                                 "errors": {}, "agencies": await _agencies(request)})


@router.get("/apply/item")
async def apply_item_row(request: Request, index: int = 1) -> Response:
    """htmx: one more requested-item row (and the add button, numbered for the row after it)."""
    index = max(1, min(index, MAX_ITEMS - 1))
    return render(request, "public/_item_row.html", {"index": index, "value": "", "errors": {}, "focus": True,
                                                     "oob_add_button": True})


@router.post("/apply")
async def apply_submit(request: Request) -> Response:
    form = await request.form()
    values = _form_values(form)
    context: dict[str, Any] = {"page": "apply", "values": values, "errors": {}, "agencies": await _agencies(request)}
    if not csrf_ok(request, form):
        return render(request, "public/apply.html", context | {"error": CSRF_FAILED}, status_code=400)
    if form.get("action") == "add-item":  # without JavaScript: the same form with one more row
        if len(values["items"]) < MAX_ITEMS:
            values["items"].append("")
        return render(request, "public/apply.html", context | {"focus_item": len(values["items"]) - 1})
    body, errors = _body(values)
    # Sent even when the form already sees a problem: the body then carries a value the API refuses
    # (422, nothing registered), and the applicant sees every problem at once, in the API's terms.
    response = await api_call(request, "POST", "/api/v1/public/applications", json=body)
    if response.status_code == 201 and not errors:
        created = response.json()
        answer = render(request, "public/applied.html", {"page": "apply", "created": created,
                                                          "delivery_method": values["delivery_method"]})
        _remember(answer, request, created["application_id"], created["query_code"])
        return answer
    if response.status_code == 422 and response.json().get("errors"):
        return _apply_errors(request, context, errors | _api_errors(response, values))
    return render(request, "public/apply.html", context | {"error": detail_of(response),
                                                           "duplicate_of": duplicate_of(response)},
                  status_code=response.status_code)


def _apply_errors(request: Request, context: dict[str, Any], errors: dict[str, str]) -> Response:
    # apply.html lists the problems at the top (links to the fields) and shows each beside its field.
    return render(request, "public/apply.html", context | {"errors": errors}, status_code=422)


# --- tracking: number + query code ------------------------------------------------------------


def _remember(response: Response, request: Request, application_id: str, code: str) -> None:
    response.set_cookie(TRACK_COOKIE, quote(f"{application_id}:{code}", safe=""), max_age=TRACK_MINUTES * 60,
                        httponly=True, samesite="strict", secure=request.url.scheme == "https", path="/track")


def _remembered(request: Request, application_id: str) -> str | None:
    """The query code remembered for this application (None: ask again)."""
    number, _, code = unquote(request.cookies.get(TRACK_COOKIE, "")).partition(":")
    return code if number == application_id and code else None


def _ask_again(application_id: str = "") -> RedirectResponse:
    target = f"/track?number={quote(application_id)}&expired=1" if application_id else "/track"
    return RedirectResponse(target, status_code=303)


def _applicant_headers(code: str) -> dict[str, str]:
    return {"X-Query-Code": code}


@router.get("/track")
async def track_form(request: Request, number: str = "", expired: str = "") -> Response:
    notice = "为保护您的信息，查看时间较长或已退出，请重新输入查询码。" if expired else None
    return render(request, "public/track.html", {"page": "track", "values": {"number": number[:40]}, "errors": {},
                                                 "notice": notice})


@router.post("/track")
async def track_lookup(request: Request) -> Response:
    form = await request.form()
    number, code = str(form.get("number", "")).strip(), str(form.get("query_code", "")).strip().upper()
    context: dict[str, Any] = {"page": "track", "values": {"number": number}, "errors": {}}
    if not csrf_ok(request, form):
        return render(request, "public/track.html", context | {"error": CSRF_FAILED}, status_code=400)
    errors = {}
    if not number:
        errors["number"] = "请填写申请编号（提交申请时页面显示的编号，如 GK-2026-000123）"
    elif not NUMBER.match(number):
        errors["number"] = "申请编号格式不正确，应类似 GK-2026-000123"
    if not code:
        errors["query_code"] = "请填写查询码（提交申请时显示的 12 位查询码）"
    if errors:
        return render(request, "public/track.html", context | {"errors": errors}, status_code=422)
    response = await api_call(request, "GET", f"/api/v1/applicant/applications/{number}",
                              headers=_applicant_headers(code))
    if response.status_code == 404 and number.upper() != number:  # typed in lower case (issue 23 point 10)
        number = number.upper()
        response = await api_call(request, "GET", f"/api/v1/applicant/applications/{number}",
                                  headers=_applicant_headers(code))
    if response.status_code == 200:
        redirect = RedirectResponse(f"/track/{number}", status_code=303)
        _remember(redirect, request, number, code)
        return redirect
    if response.status_code == 404:
        errors = {"query_code": "申请编号或查询码不正确，请核对后重新输入（注意区分字母和数字）"}
        return render(request, "public/track.html", context | {"errors": errors}, status_code=404)
    return render(request, "public/track.html", context | {"error": detail_of(response)},
                  status_code=response.status_code)


async def _letters(request: Request, application_id: str, code: str) -> dict[str, Any]:
    response = await api_call(request, "GET", f"/api/v1/portal/applications/{application_id}/letters",
                              headers=_applicant_headers(code))
    return response.json() if response.status_code == 200 else {"letters": [], "attachments": []}


def _days_after_today(request: Request, left: int | None) -> int | None:
    """Issue 23 point 10: the working days after today. The API's figure counts today too (the due date shows 1),
    so right after the 回执 promised "15 个工作日" (counted from the day after receipt) the page said 16."""
    if left is None or left <= 0:
        return left
    from workcalendar import WorkCalendar

    today_works, _ = WorkCalendar(request.app.state.calendar.current()).workday_or_provisional(clock.today())
    return left - 1 if today_works else left


async def _track_page(request: Request, application_id: str, code: str, *, status_code: int = 200,
                      **extra: Any) -> Response:
    response = await api_call(request, "GET", f"/api/v1/applicant/applications/{application_id}",
                              headers=_applicant_headers(code))
    if response.status_code == 404:
        return _ask_again(application_id)
    if response.status_code != 200:
        return render(request, "public/track.html", {"page": "track", "values": {"number": application_id},
                                                     "errors": {}, "error": detail_of(response)},
                      status_code=response.status_code)
    view = response.json()
    reply = None
    if view["reply_available"]:
        answer = await api_call(request, "GET", f"/api/v1/applicant/applications/{application_id}/reply",
                                headers=_applicant_headers(code))
        reply = answer.json() if answer.status_code == 200 else None
    letters = await _letters(request, application_id, code)
    released = await api_call(request, "GET", f"/api/v1/portal/applications/{application_id}/released",
                              headers=_applicant_headers(code))
    letters["released"] = released.json() if released.status_code == 200 else []
    if letters["released"]:
        letters["released_until"] = parse_qs(urlsplit(letters["released"][0]["link"]).query)["expires"][0]
    context = {"page": "track", "view": view, "reply": reply, "letters": letters, "values": {}, "errors": {},
               "days_after_today": _days_after_today(request, view.get("working_days_left"))}
    return render(request, "public/application.html", context | extra, status_code=status_code)


@router.get("/track/{application_id}")
async def track_view(request: Request, application_id: str) -> Response:
    code = _remembered(request, application_id) if NUMBER.match(application_id) else None
    if code is None:
        return _ask_again(application_id if NUMBER.match(application_id) else "")
    return await _track_page(request, application_id, code)


async def _applicant_action(request: Request, application_id: str, action: str, body: dict[str, Any],
                            done: str) -> Response:
    code = _remembered(request, application_id) if NUMBER.match(application_id) else None
    if code is None:
        return _ask_again(application_id if NUMBER.match(application_id) else "")
    form = await request.form()
    values = {k: str(v) for k, v in form.items() if k != "csrf_token"}
    if not csrf_ok(request, form):
        return await _track_page(request, application_id, code, status_code=400, error=CSRF_FAILED, values=values)
    if action == "supplement" and not body["note"].strip():
        return await _track_page(request, application_id, code, status_code=422, values=values,
                                 errors={"note": "请填写补正内容：按补正通知的要求说明或补充"})
    if action == "withdraw" and form.get("confirm") != "yes":
        return await _track_page(request, application_id, code, status_code=422, values=values,
                                 errors={"confirm": "撤回后本申请即终止办理。确定撤回的，请勾选此项"})
    response = await api_call(request, "POST", f"/api/v1/applicant/applications/{application_id}/{action}",
                              json=body, headers=_applicant_headers(code))
    if response.status_code == 200:
        return await _track_page(request, application_id, code, notice=done)
    if response.status_code == 404:
        return _ask_again(application_id)
    errors = {}
    if response.status_code == 422:
        errors = {("note" if action == "supplement" else "reason"): message
                  for message in field_errors(response).values()}
    return await _track_page(request, application_id, code, status_code=response.status_code, values=values,
                             errors=errors, error=None if errors else detail_of(response))


@router.post("/track/{application_id}/supplement")
async def track_supplement(request: Request, application_id: str) -> Response:
    form = await request.form()
    return await _applicant_action(request, application_id, "supplement", {"note": str(form.get("note", ""))},
                                   "补正已提交。答复期限自收到补正之日起重新计算。")


@router.post("/track/{application_id}/withdraw")
async def track_withdraw(request: Request, application_id: str) -> Response:
    form = await request.form()
    return await _applicant_action(request, application_id, "withdraw", {"reason": str(form.get("reason", ""))},
                                   "您的申请已撤回，本机关将不再办理。")


@router.post("/track/{application_id}/leave")
async def track_leave(request: Request, application_id: str) -> Response:
    """Forget the remembered query code on this browser."""
    form = await request.form()
    redirect = RedirectResponse("/track", status_code=303)
    if csrf_ok(request, form):
        redirect.delete_cookie(TRACK_COOKIE, path="/track")
    return redirect


async def _download(request: Request, application_id: str, api_path: str) -> Response:
    code = _remembered(request, application_id) if NUMBER.match(application_id) else None
    if code is None:
        return _ask_again(application_id if NUMBER.match(application_id) else "")
    response = await api_call(request, "GET", api_path, headers=_applicant_headers(code))
    if response.status_code != 200:
        return await _track_page(request, application_id, code, status_code=response.status_code,
                                 error=detail_of(response))
    headers = {k: v for k, v in response.headers.items() if k.lower() in ("content-disposition",)}
    headers["Cache-Control"] = "no-store"
    return Response(response.content, media_type=response.headers.get("content-type", "application/octet-stream"),
                    headers=headers)


@router.get("/track/{application_id}/reply.pdf")
async def track_reply_pdf(request: Request, application_id: str) -> Response:
    return await _download(request, application_id, f"/api/v1/portal/applications/{application_id}/reply.pdf")


@router.get("/track/{application_id}/letters/{which}.pdf")
async def track_letter_pdf(request: Request, application_id: str, which: str) -> Response:
    if which not in APPLICANT_LETTERS:
        return _ask_again(application_id if NUMBER.match(application_id) else "")
    return await _download(request, application_id,
                           f"/api/v1/portal/applications/{application_id}/letters/{which}.pdf")


@router.get("/track/{application_id}/attachments/{attachment_id}")
async def track_attachment(request: Request, application_id: str, attachment_id: int) -> Response:
    return await _download(request, application_id,
                           f"/api/v1/portal/applications/{application_id}/attachments/{attachment_id}")


@router.get("/track/{application_id}/files/{sha256}")
async def track_released_file(request: Request, application_id: str, sha256: str, expires: str = "",
                              sig: str = "") -> Response:
    """A released file by its signed link (issue 22): from the reply's e-mail, no query code needed."""
    response = await api_call(request, "GET", f"/api/v1/portal/applications/{quote(application_id, safe='')}"
                                              f"/released/{quote(sha256, safe='')}",
                              params={"expires": expires[:10], "sig": sig[:64]})
    if response.status_code != 200:
        return render(request, "public/track.html", {"page": "track", "values": {"number": application_id[:40]},
                                                     "errors": {}, "error": detail_of(response)},
                      status_code=response.status_code)
    headers = {k: v for k, v in response.headers.items() if k.lower() in ("content-disposition", "x-content-sha256")}
    headers["Cache-Control"] = "no-store"
    return Response(response.content, media_type=response.headers.get("content-type", "application/octet-stream"),
                    headers=headers)


# --- the third party's page behind its signed link (Reg. 32) ----------------------------------


@router.get("/third-party/{token}")
async def third_party_letter(request: Request, token: str) -> Response:
    return await _third_party_page(request, token)


async def _third_party_page(request: Request, token: str, *, status_code: int = 200, **extra: Any) -> Response:
    response = await api_call(request, "GET", f"/api/v1/third-party/{quote(token, safe='')}")
    if response.status_code != 200:
        return render(request, "public/third_party.html", {"page": "third-party", "link_error": detail_of(response)},
                      status_code=response.status_code)
    context = {"page": "third-party", "consultation": response.json(), "token": token, "values": {}, "errors": {}}
    return render(request, "public/third_party.html", context | extra, status_code=status_code)


@router.post("/third-party/{token}")
async def third_party_answer(request: Request, token: str) -> Response:
    form = await request.form()
    values = {"position": str(form.get("position", "")), "reasons": str(form.get("reasons", ""))}
    if not csrf_ok(request, form):
        return await _third_party_page(request, token, status_code=400, values=values, error=CSRF_FAILED)
    errors = {}
    if values["position"] not in ("consent", "objection"):
        errors["position"] = "请选择同意公开或不同意公开"
    elif values["position"] == "objection" and len(values["reasons"].strip()) < 2:
        errors["reasons"] = "不同意公开的，请写明理由（《政府信息公开条例》第三十二条）"
    if errors:
        return await _third_party_page(request, token, status_code=422, values=values, errors=errors)
    response = await api_call(request, "POST", f"/api/v1/third-party/{quote(token, safe='')}",
                              json={"position": values["position"], "reasons": values["reasons"].strip()})
    if response.status_code == 200:
        return render(request, "public/third_party_done.html", {"page": "third-party", "answer": values,
                                                                "consultation": response.json()})
    if response.status_code == 422:
        errors = {"reasons": message for message in field_errors(response).values()}
        return await _third_party_page(request, token, status_code=422, values=values, errors=errors)
    return await _third_party_page(request, token, status_code=response.status_code, values=values,
                                   error=detail_of(response))
