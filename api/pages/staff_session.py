"""The staff pages' session: the API's own JWT in an HttpOnly, SameSite=Strict cookie, CSRF, expiry.

Log-in goes through POST /api/v1/auth/token (in process: its rate limit, password check and audit
row); the cookie holds the very token it answers. Every page reads the user through the API's own
dependency (`api.security.current_user`: roles and department from the database, revoked tokens
refused) and checks roles with `api.security.require`; actions are sent to the JSON API with the
token as a bearer (api.pages.common.api_call), so no page has a way around the API's checks.

Expiry: the token's own lifetime (DISCLOSURE_ACCESS_TOKEN_MINUTES) is the idle timeout; a page
visited in the second half of it renews the cookie with a new token from the same function the API
uses (core.security.issue_access_token). Log-out deletes the cookie. Every POST carries the
double-submit CSRF token of api.pages.common (form field = cookie); the session cookie's
SameSite=Strict is a second guard.
"""

from __future__ import annotations

import re

from core import clock
from typing import Any, Awaitable, Callable
from urllib.parse import quote, urlsplit

from fastapi import HTTPException, Request, status
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from api.offloop import blocking
from api.pages.common import CSRF_FIELD, csrf_ok, render
from api.security import current_user, require, token_agency
from core.security import ROLE_NAMES, issue_access_token, read_access_token
from db.models_security import StaffUser

SESSION_COOKIE = "gk_staff"
STAFF = "/staff"
LOGGED_OUT = "您已退出登录"
EXPIRED = "登录已过期或已失效，请重新登录"


class NotLoggedIn(Exception):
    def __init__(self, reason: str | None) -> None:
        self.reason = reason


def session_token(request: Request) -> str | None:
    token = request.cookies.get(SESSION_COOKIE)
    return token if token and len(token) < 2000 and token.isascii() else None


async def staff_user(request: Request) -> StaffUser:
    """The logged-in user, through the API's own dependency (a database read: off the loop); NotLoggedIn otherwise."""
    token = session_token(request)
    if token is None:
        raise NotLoggedIn(None)
    try:
        user = await blocking(current_user, request, token)
    except HTTPException as refused:
        raise NotLoggedIn(EXPIRED if refused.status_code == 401 else str(refused.detail)) from None
    request.state.staff_token = token
    request.state.staff_user = user
    claims = read_access_token(request.app.state.settings, token) or {}
    lifetime = request.app.state.settings.access_token_minutes * 60
    if claims and claims["exp"] - clock.now().timestamp() < lifetime / 2:
        request.state.renewed_token = issue_access_token(request.app.state.settings, user.username, user.token_version,
                                                           agency=token_agency(user))
        request.state.staff_token = request.state.renewed_token
    return user


async def who(request: Request) -> StaffUser | Response:
    """The logged-in user, or the log-in page (with the reason) to answer with instead."""
    try:
        return await staff_user(request)
    except NotLoggedIn as why:
        return to_login(request, why.reason)


async def who_holding(request: Request, *roles: str) -> StaffUser | Response:
    """The logged-in user holding one of `roles`; or the log-in page, or the refusal, to answer with instead."""
    user = await who(request)
    if isinstance(user, Response):
        return user
    if reason := await check_roles(user, *roles):
        return refused_page(request, reason)
    return user


async def check_roles(user: StaffUser, *roles: str) -> str | None:
    """None when the user holds one of `roles` (the API's own check), else the API's refusal in Chinese."""
    try:
        await require(*roles)(user)
    except HTTPException as refused:
        return str(refused.detail)
    return None


def bearer(request: Request) -> dict[str, str]:
    return {"Authorization": f"Bearer {request.state.staff_token}"}


SEEN_COOKIE = "gk_staff_seen"  # issue 23 point 2: logged in before on this browser, not logged out


def set_session(request: Request, response: Response, token: str) -> None:
    settings = request.app.state.settings
    response.set_cookie(SESSION_COOKIE, token, max_age=settings.access_token_minutes * 60, httponly=True,
                        samesite="strict", secure=request.url.scheme == "https", path=STAFF)
    # Outlives the session cookie: when that has expired (the browser drops it), the log-in page can say so.
    response.set_cookie(SEEN_COOKIE, "1", max_age=30 * 24 * 3600, httponly=True, samesite="strict",
                        secure=request.url.scheme == "https", path=STAFF)


def finish(request: Request, response: Response) -> Response:
    renewed = getattr(request.state, "renewed_token", None)
    if renewed:
        set_session(request, response, renewed)
    return response


def to_login(request: Request, reason: str | None) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if request.method != "GET":  # back to the page the form was on, never to the form's POST address
        target, reason = page_of(request), reason or EXPIRED_BACK
    elif reason is None and request.cookies.get(SEEN_COOKIE):  # the session cookie expired: say so
        reason = EXPIRED
    location = f"{STAFF}?next={quote(target, safe='')}" + (f"&why={quote(reason, safe='')}" if reason else "")
    response = RedirectResponse(location, status_code=status.HTTP_303_SEE_OTHER)
    if reason:
        response.delete_cookie(SESSION_COOKIE, path=STAFF)
    return response


def safe_next(target: str | None) -> str:
    if target and target.startswith(STAFF + "/") and not target.startswith("//") and "\\" not in target:
        return target
    return f"{STAFF}/queue"


def redirect(request: Request, location: str) -> Response:
    return finish(request, RedirectResponse(location, status_code=status.HTTP_303_SEE_OTHER))


NAV = [
    ("queue", "/staff/queue", "我的待办", None),
    ("register", "/staff/register", "登记申请", ("registrar",)),
    ("applications", "/staff/applications", "申请列表", ("registrar", "handler", "reviewer", "supervisor")),
    ("dashboard", "/staff/dashboard", "督办看板", ("supervisor",)),
    ("gk", "/staff/gk", "政务公开", ("registrar", "handler", "reviewer", "supervisor")),
    ("participation", "/staff/participation", "公众参与", ("registrar", "handler", "reviewer", "supervisor")),  # issue 26
    ("outbox", "/staff/outbox", "发件箱", ("registrar", "reviewer", "supervisor")),
    ("reports", "/staff/reports", "年报与考核", ("supervisor", "admin")),  # issue 23 point 3
    ("admin", "/staff/admin", "系统管理", ("admin",)),
]


def page(request: Request, template: str, context: dict[str, Any] | None = None, *, current: str = "",
         status_code: int = 200) -> Response:
    user: StaffUser | None = getattr(request.state, "staff_user", None)
    held = user.role_set() if user else frozenset()
    nav = [(key, href, label) for key, href, label, roles in NAV if user and (roles is None or held & set(roles))]
    values = {"user": user, "nav": nav, "current": current, "role_names": ROLE_NAMES,
              "user_roles": "、".join(ROLE_NAMES[r] for r in sorted(held)) if user else ""}
    return finish(request, render(request, template, values | (context or {}), status_code=status_code))


def refused_page(request: Request, reason: str, status_code: int = 403) -> Response:
    return page(request, "staff/refused.html", {"reason": reason}, status_code=status_code)


def csrf_refused(request: Request) -> Response:
    return refused_page(request, "页面已过期或来源不明，请刷新页面后重新提交", status.HTTP_403_FORBIDDEN)


async def posted(request: Request, user_of: Callable[[Request], Awaitable[StaffUser | Response]] = who,
                 ) -> tuple[StaffUser, FormData] | Response:
    """A form post's user (from `user_of`: who, or a page's own role gate) and its form with a valid CSRF
    token; or the answer to give instead (log-in page, refusal, expired form)."""
    user = await user_of(request)
    if isinstance(user, Response):
        if getattr(request.state, "staff_user", None) is None:  # not logged in (expired), not a refusal
            return await expired_post(request)
        return user
    form = await request.form()
    if not csrf_ok(request, form):
        return csrf_refused(request)
    return user, form


# --- issue 23 point 2: a form sent after the log-in expired -------------------------------------

EXPIRED_KEPT = "登录已过期，请重新登录。您刚才填写的内容已保存，登录后将回到原页面并恢复"
EXPIRED_BACK = "登录已过期，请重新登录。登录后将回到原页面"
RESTORED = "登录已过期：您重新登录前填写的内容已恢复到下面的表单中，请核对后再提交"
# The pages whose forms are restored after log-in (their GET reads `draft`): the application page and the desk.
RESTORES = re.compile(r"^/staff/(applications/[A-Za-z0-9][A-Za-z0-9_-]{0,39}|register)$")


def page_of(request: Request) -> str:
    """The staff page a form was sent from: the Referer's path when it is one of ours, else the form's own
    page (/staff/applications/X for /staff/applications/X/decisions)."""
    referer = urlsplit(request.headers.get("referer", ""))
    if referer.path.startswith(STAFF + "/") and referer.netloc in ("", request.url.netloc):
        return safe_next(referer.path)
    path = request.url.path
    parent = path.rsplit("/", 1)[0]
    return safe_next(path if parent == STAFF else parent)


async def expired_post(request: Request) -> Response:
    """The log-in page, saying the log-in expired, and then back to the page the form was on, the typed
    fields restored (services.drafts) when that page can restore them. Never the form's POST address
    (a GET there was 405 in JSON)."""
    from services.drafts import save_draft

    target = page_of(request)
    form = await request.form()
    draft_id = None
    if csrf_ok(request, form) and RESTORES.match(target):
        fields = {k: (form.getlist(k) if len(form.getlist(k)) > 1 or k == "items" else str(v))
                  for k, v in form.items() if k != CSRF_FIELD and isinstance(v, str)}
        action = request.url.path.rsplit("/", 1)[1]
        draft_id = await blocking(save_draft, request.app.state.engine, target, action, fields)
    why = EXPIRED_KEPT if draft_id else EXPIRED_BACK
    location = f"{STAFF}?next={quote(target, safe='')}&why={quote(why, safe='')}"
    if draft_id:
        location += f"&draft={draft_id}"
    response = RedirectResponse(location, status_code=status.HTTP_303_SEE_OTHER)
    response.delete_cookie(SESSION_COOKIE, path=STAFF)
    return response


async def restored(request: Request, draft_id: str) -> tuple[str, dict] | None:
    """(action, fields) typed on this page before the log-in expired, taken once; None if none."""
    from services.drafts import take_draft

    if not draft_id:
        return None
    return await blocking(take_draft, request.app.state.engine, draft_id, request.url.path)


__all__ = ["SESSION_COOKIE", "NotLoggedIn", "staff_user", "who", "who_holding", "check_roles", "bearer", "set_session", "finish",
           "to_login", "safe_next", "redirect", "page", "refused_page", "csrf_refused", "csrf_ok", "posted",
           "LOGGED_OUT", "expired_post", "restored", "RESTORED", "SEEN_COOKIE"]
