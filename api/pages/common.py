"""What every page shares: the template environment, labels in plain Chinese, dates, CSRF, and the
in-process call to the JSON API that every page action goes through.

Pages never act on their own: `api_call` sends the request through the same FastAPI application
(ASGI, in process, with the visitor's address), so routes, validators, role checks, rate limits and
the audit row are exactly those of the JSON API. A page only translates the answer for people.
"""

from __future__ import annotations

import asyncio
import hmac

import notices
from contracts.service import NoticeService
import re
import secrets
from datetime import date, datetime
from pathlib import Path
from typing import Any

import httpx
from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from outcomes.codes import OUTCOME_LABELS, OutcomeCode
from contracts.status import APPLICANT_LABELS, FINAL_STATUSES, STAFF_LABELS
from policy.intake import APPLICANT_TYPE_LABELS
from identity import DOCUMENT_LABELS
from clock import SHANGHAI  # the one Asia/Shanghai zone (clock/deadline.py)

HERE = Path(__file__).resolve().parent.parent
TEMPLATES_DIR = HERE / "templates"
STATIC_DIR = HERE / "static"

# --- labels -----------------------------------------------------------------------------------

# Status labels: one table each, in contracts/status.py.
PUBLIC_STATUS = APPLICANT_LABELS
STAFF_STATUS = STAFF_LABELS
DELIVERY_LABELS = {"email": "电子邮件", "post": "邮寄纸质件", "pickup": "到本机关领取", "portal": "在本网站下载"}
CHANNEL_LABELS = {
    "online": "网上申请", "letter-registered": "挂号信函", "letter-ordinary": "平常信函", "in-person": "当面提交",
    "fax": "传真", "email": "电子邮件", "oral": "口头申请（代为填写）",
}
ROLE_LABELS = {"registrar": "登记", "handler": "承办", "reviewer": "保密审查", "supervisor": "负责人", "admin": "管理员"}
APPLICANT_TYPES = APPLICANT_TYPE_LABELS
ORGANISATION_TYPES = {k: v for k, v in APPLICANT_TYPE_LABELS.items() if k != "natural-person"}


def status_label(status: str | None, *, staff: bool = False) -> str:
    table = STAFF_STATUS if staff else PUBLIC_STATUS
    return table.get(status or "", status or "")


def outcome_label(code: str | None) -> str:
    """An outcome code in the annual report's words (outcomes.codes.OUTCOME_LABELS)."""
    if not code:
        return ""
    try:
        return OUTCOME_LABELS[OutcomeCode(code)]
    except ValueError:
        return code


# --- dates ------------------------------------------------------------------------------------


def _as_date(value: Any) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.astimezone(SHANGHAI).date() if value.tzinfo else value.date()
    if isinstance(value, date):
        return value
    text = str(value)
    return datetime.fromisoformat(text).date() if "T" in text else date.fromisoformat(text[:10])


def date_cn(value: Any) -> str:
    """2026-03-02 → 2026年3月2日 (an instant is shown as its Shanghai date)."""
    day = _as_date(value)
    return f"{day.year}年{day.month}月{day.day}日" if day else ""


def datetime_cn(value: Any) -> str:
    """An instant in Shanghai time: 2026年3月2日 14:05."""
    if value is None or value == "":
        return ""
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if moment.tzinfo:
        moment = moment.astimezone(SHANGHAI)
    return f"{moment.year}年{moment.month}月{moment.day}日 {moment:%H:%M}"


_ENGLISH_NOTE = re.compile(r"（[^（）\u4e00-\u9fff]*[A-Za-z]{3,}[^（）\u4e00-\u9fff]*）")


def chinese_only(text: str) -> str:
    """A due-date step without its English gloss: 答复期限 15 个工作日（reply period: 15 working days） → 答复期限 15 个工作日."""
    return _ENGLISH_NOTE.sub("", text).strip()


# Who did it, for people (issue 23 point 9): the machine names of the actors that are not staff accounts.
ACTOR_NAMES = {"system": "系统自动", "online-form": "申请人（网上申请）", "applicant": "申请人",
               "applicant-portal": "申请人（网上）", "third-party": "第三方", "worker": "系统自动"}


def actor_cn(actor: str | None) -> str:
    return ACTOR_NAMES.get(actor or "", actor or "")


CALENDAR_STEP = "工作日历版本"
_LIBRARY_SOURCE = re.compile(r"chinesecalendar [0-9.]+")


def staff_step(text: str) -> str:
    """A due-date step for staff (issue 23 point 9): no English gloss; the calendar line in words — which year
    follows which schedule — with the version kept last, for checking against the calendar page."""
    step = chinese_only(text)
    if not step.startswith(CALENDAR_STEP):
        return step
    version, _, sources = step.removeprefix(CALENDAR_STEP).strip().partition("：")
    sources = _LIBRARY_SOURCE.sub("国务院办公厅公布的节假日安排（系统内置）", sources)
    return f"所用工作日历：{sources or '按周末及固定日期节假日'}（日历编号 {version.strip()}）"


def applicant_steps(steps: list[str]) -> list[str]:
    """The due-date steps an applicant reads (issue 23 point 9): Chinese only, without the calendar's version."""
    return [chinese_only(s) for s in steps if not s.startswith(CALENDAR_STEP)]


def size_cn(size: int | None) -> str:
    """A file size people read: 812 字节, 35.2 KB, 4.1 MB."""
    if size is None:
        return ""
    if size < 1024:
        return f"{size} 字节"
    return f"{size / 1024:.1f} KB" if size < 1024 * 1024 else f"{size / 1024 / 1024:.1f} MB"


templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
templates.env.filters.update(staff_step=staff_step, applicant_steps=applicant_steps,
                             actor_cn=lambda actor: actor_cn(actor))
templates.env.filters.update(
    date_cn=date_cn, datetime_cn=datetime_cn, chinese_only=chinese_only, size_cn=size_cn, status_label=status_label, outcome_label=outcome_label,
    staff_status=lambda s: status_label(s, staff=True),
    delivery_label=lambda m: DELIVERY_LABELS.get(m or "", m or ""),
    channel_label=lambda c: CHANNEL_LABELS.get(c or "", c or ""),
    applicant_type_label=lambda t: APPLICANT_TYPES.get(t or "", t or ""),
    role_label=lambda r: ROLE_LABELS.get(r or "", r or ""),
    notice_words=lambda n: notices.status_words(NoticeService.model_validate(n)) if n else "",
)
templates.env.globals.update(idempotency_key=lambda: new_idempotency_key(), idempotency_field="idempotency_key")
templates.env.globals.update(APPLICANT_TYPES=APPLICANT_TYPES, ORGANISATION_TYPES=ORGANISATION_TYPES,
                             DELIVERY_LABELS=DELIVERY_LABELS, CHANNEL_LABELS=CHANNEL_LABELS,
                             FINAL_STATUSES=FINAL_STATUSES, ID_DOCUMENTS=DOCUMENT_LABELS)

# --- CSRF: double-submit token ----------------------------------------------------------------

CSRF_COOKIE = "gk_csrf"
CSRF_FIELD = "csrf_token"
CSRF_FAILED = "页面已过期或来源不明，请返回重新打开页面后再提交（为保护您的信息，本站只接受从本站页面提交的表单）"


def csrf_token(request: Request) -> str:
    """The visitor's CSRF token: the cookie's, or a new one (`render` sets the cookie)."""
    token = getattr(request.state, "csrf_token", None)
    if token is None:
        existing = request.cookies.get(CSRF_COOKIE, "")
        token = existing if 20 <= len(existing) <= 100 and existing.isascii() else secrets.token_urlsafe(32)
        request.state.csrf_token = token
    return token


def csrf_ok(request: Request, form: Any) -> bool:
    """The form's token equals the cookie's (a page of another site can send the cookie but not read it)."""
    cookie, sent = request.cookies.get(CSRF_COOKIE, ""), str(form.get(CSRF_FIELD, "") or "")
    return bool(cookie) and hmac.compare_digest(cookie.encode(), sent.encode())


# Pages load nothing from elsewhere: every script and style is served from /static.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'self'; "
       "frame-src 'self'; frame-ancestors 'self'; base-uri 'none'; form-action 'self'")


def render(request: Request, template: str, context: dict[str, Any] | None = None, status_code: int = 200,
           headers: dict[str, str] | None = None) -> HTMLResponse:
    """A page, with the CSRF token available as `csrf_token` and its cookie set."""
    token = csrf_token(request)
    values = {"request": request, "csrf_token": token, "csrf_field": CSRF_FIELD,
              "agency_name": request.app.state.settings.agency_name,
              "example_agency": request.app.state.settings.marks_example()}  # issue 24 point 6
    response = templates.TemplateResponse(request, template, values | (context or {}), status_code=status_code)
    if request.cookies.get(CSRF_COOKIE) != token:
        response.set_cookie(CSRF_COOKIE, token, httponly=True, samesite="strict", secure=request.url.scheme == "https",
                            path="/")
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Cache-Control"] = "no-store"
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


# --- the JSON API, in process -----------------------------------------------------------------


async def api_call(request: Request, method: str, path: str, *, idempotent: bool = True, **kwargs: Any) -> httpx.Response:
    """`method path` on the JSON API of this same application, as the visitor (their address).

    Takes httpx's keyword arguments (json=, data=, files=, headers=, params=). The answer is the
    API's own: 2xx, or 4xx with a Chinese `detail` (and `errors` for a 422). `idempotent=False`: a
    POST that only computes (the guidance questionnaire, posted again after each answer) carries no key.
    """
    peer = request.client
    transport = httpx.ASGITransport(app=request.app, raise_app_exceptions=False,
                                    client=(peer.host, peer.port) if peer else ("unknown", 0))
    if method == "POST" and idempotent and (key := await _form_key(request)):
        # The form's own key (rendered with it, `idempotency_field`): a double click or a resubmitted
        # page does the action once and shows its first answer. One key per API call of this post.
        calls = getattr(request.state, "idempotent_calls", 0) + 1
        request.state.idempotent_calls = calls
        kwargs["headers"] = {**(kwargs.get("headers") or {}), IDEMPOTENCY_HEADER: f"{key}.{calls}"}
    async with httpx.AsyncClient(transport=transport, base_url="http://pages.internal", timeout=60) as http:
        started = asyncio.get_running_loop().time()
        while True:
            answer = await http.request(method, path, **kwargs)
            # The same form's first post is still running (a double click): wait for its answer.
            if (answer.status_code != 409 or IDEMPOTENCY_HEADER not in (kwargs.get("headers") or {})
                    or "retry-after" not in answer.headers
                    or asyncio.get_running_loop().time() - started > IN_FLIGHT_WAIT_SECONDS):
                return answer
            await asyncio.sleep(0.2)


# --- Idempotency-Key for the forms (api/idempotency.py) -----------------------------------------

IDEMPOTENCY_FIELD = "idempotency_key"
IDEMPOTENCY_HEADER = "Idempotency-Key"
IN_FLIGHT_WAIT_SECONDS = 60


def new_idempotency_key() -> str:
    """A fresh key for one rendering of a form; re-rendered (after an error) it gets another."""
    return secrets.token_urlsafe(24)


async def _form_key(request: Request) -> str | None:
    if not request.headers.get("content-type", "").startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        return None
    key = str((await request.form()).get(IDEMPOTENCY_FIELD, "") or "")  # parsed once, cached by Starlette
    return key if 16 <= len(key) <= 100 and key.isascii() and key.replace("-", "").replace("_", "").isalnum() else None


DUPLICATE = re.compile(r"内容相同的申请，申请编号 ([A-Za-z0-9_-]{1,40})，")


def duplicate_of(response: httpx.Response) -> str | None:
    """The earlier application's number when the API refused a resubmission (issue 23 point 6), else None."""
    return (m.group(1) if response.status_code == 409 and (m := DUPLICATE.search(detail_of(response))) else None)


def detail_of(response: httpx.Response) -> str:
    """The API's reason in Chinese (every 4xx carries one)."""
    try:
        detail = response.json().get("detail")
    except ValueError:
        detail = None
    return detail if isinstance(detail, str) and detail else "操作未能完成，请稍后重试"


def field_errors(response: httpx.Response, *, strip: int = 1) -> dict[str, str]:
    """A 422's errors by field path: `applicant.name`, `items.0.description`, or `` for the whole form.

    `strip` drops the leading location parts (`body`); the first message per field wins.
    """
    try:
        errors = response.json().get("errors") or []
    except ValueError:
        errors = []
    out: dict[str, str] = {}
    for error in errors:
        path = ".".join(str(p) for p in error.get("loc", [])[strip:])
        out.setdefault(path, str(error.get("msg", "内容有误")))
    return out
