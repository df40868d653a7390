"""Who is calling: staff bearer tokens and roles, department scoping, rate limits.

Identity comes only from the token; roles and department are read from the database on every
request (a deactivated user or a changed role takes effect at once; token_version revokes older
tokens). Each dependency also tells the audit middleware who acted (request.state).
"""

import threading
import time
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import OAuth2PasswordBearer

from services.accounts import find_user
from core.security import PLATFORM, ROLE_NAMES, read_access_token
from db.models_security import StaffUser

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)

NOT_LOGGED_IN = "请先登录（缺少有效的登录凭证）"
LOGIN_EXPIRED = "登录已失效或凭证无效，请重新登录"
# Roles that work on every department's applications; a handler only on their own department's.
ALL_DEPARTMENTS = frozenset({"registrar", "reviewer", "supervisor"})
STAFF_READERS = frozenset({"registrar", "handler", "reviewer", "supervisor"})


def unauthorized(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail, headers={"WWW-Authenticate": "Bearer"})


def mark_actor(request: Request, actor: str, role: str, application_id: str | None = None) -> None:
    request.state.audit_actor, request.state.audit_role = actor, role
    if application_id:
        request.state.audit_application_id = application_id


def current_user(request: Request, token: Annotated[str | None, Depends(oauth2_scheme)]) -> StaffUser:
    if not token:
        raise unauthorized(NOT_LOGGED_IN)
    claims = read_access_token(request.app.state.settings, token)
    if claims is None or "\x00" in claims["sub"]:
        raise unauthorized(LOGIN_EXPIRED)
    user = find_user(request.app.state.engine, claims["sub"])
    if user is None or not user.active or user.token_version != claims["ver"]:
        raise unauthorized(LOGIN_EXPIRED)
    if claims.get("agency") != token_agency(user) and not (  # issue 25: never another agency's
            claims.get("agency") is None and user.agency == request.app.state.settings.agency_code):
        raise unauthorized(LOGIN_EXPIRED)
    mark_actor(request, user.username, user.roles)
    return user


CurrentUser = Annotated[StaffUser, Depends(current_user)]


def token_agency(user: StaffUser) -> str:
    """What a user's token names as their agency: their own, or every agency for the platform's 主管部门 (issue 25)."""
    return PLATFORM if "oversight" in user.role_set() else user.agency


def require(*roles: str) -> Callable[..., Awaitable[StaffUser]]:
    """A dependency: the caller holds one of `roles`, else 403 naming who may."""
    allowed = frozenset(roles)

    async def check(user: CurrentUser) -> StaffUser:  # async: no worker-thread hop (see api/deps.py)
        if not user.role_set() & allowed:
            names = "、".join(ROLE_NAMES[r] for r in roles)
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"您没有办理此事项的权限（仅限{names}）")
        return user

    return check


def sees_department(user: StaffUser, department: str | None) -> bool:
    """Registrars, reviewers and supervisors see every application; a handler only their department's."""
    held = user.role_set()
    if held & ALL_DEPARTMENTS:
        return True
    return "handler" in held and user.department is not None and department == user.department


def department_filter(user: StaffUser) -> str | None:
    """The department a list must be limited to (None: no limit; "" for a handler without one: nothing)."""
    return None if user.role_set() & ALL_DEPARTMENTS else (user.department or "")


# --- rate limits ------------------------------------------------------------------------------


class RateLimiter:
    """In-process token buckets keyed by (bucket, client address): per API replica, reset on restart."""

    MAX_KEYS = 100_000

    def __init__(self) -> None:
        self._buckets: dict[tuple[str, str], tuple[float, float]] = {}
        self._lock = threading.Lock()

    def allow(self, bucket: str, key: str, per_minute: int) -> bool:
        now = time.monotonic()
        rate, capacity = per_minute / 60.0, float(per_minute)
        with self._lock:
            if len(self._buckets) > self.MAX_KEYS:
                self._buckets.clear()  # a flood of addresses must not exhaust memory
            tokens, last = self._buckets.get((bucket, key), (capacity, now))
            tokens = min(capacity, tokens + (now - last) * rate)
            if tokens < 1.0:
                self._buckets[(bucket, key)] = (tokens, now)
                return False
            self._buckets[(bucket, key)] = (tokens - 1.0, now)
            return True


TOO_MANY = "请求过于频繁，请稍后再试"


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def rate_limited(bucket: str, setting: str) -> Callable[[Request], Awaitable[None]]:
    async def check(request: Request) -> None:
        per_minute = getattr(request.app.state.settings, setting)
        if not request.app.state.rate_limiter.allow(bucket, client_address(request), per_minute):
            raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS, TOO_MANY, headers={"Retry-After": "60"})

    return check
