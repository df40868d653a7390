"""Staff log-in (OAuth2 password flow → short-lived bearer token) and user administration (admins)."""

import math
import re
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Request, status
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel
from sqlmodel import Session

from api.deps import SessionDep
from api.schemas import TokenOut, UserCreate, UserOut, UserUpdate
from api.security import CurrentUser, client_address, mark_actor, rate_limited, require, unauthorized, token_agency
from core import clock
from services import lockout
from services.accounts import AccountError, create_user, list_users, update_user
from core.security import issue_access_token, verify_password
from db.models_security import StaffUser

router = APIRouter(prefix="/api/v1", tags=["auth"])
USERNAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
USERNAME = Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
WRONG_LOGIN = "用户名或密码错误，或账户已停用"


def user_out(user: StaffUser) -> UserOut:
    return UserOut(username=user.username, full_name=user.full_name, roles=sorted(user.role_set()),
                   department=user.department, active=user.active)


@router.post("/auth/token", response_model=TokenOut, dependencies=[Depends(rate_limited("login", "rate_limit_login_per_minute"))],
             responses={401: {"description": WRONG_LOGIN}, 429: {"description": "请求过于频繁"}})
def log_in(request: Request, form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> TokenOut:
    """OAuth2 password flow: username and password in, a bearer token valid for a few minutes out."""
    username = form.username.strip()[:64]
    well_formed = USERNAME_PATTERN.fullmatch(username) is not None
    mark_actor(request, username if well_formed else "anonymous", "login")
    user = None
    engine = request.app.state.engine
    if well_formed and (until := lockout.locked_until(engine, username)):  # issue 23 point 8: not even the right one
        raise _locked(until)
    if well_formed:  # anything else cannot be a user (and a NUL byte would upset PostgreSQL)
        with Session(engine) as session:
            user = session.get(StaffUser, username)
    if not verify_password(user.password_hash if user else None, form.password) or user is None or not user.active:
        if well_formed and (until := lockout.record_failure(engine, username, client=client_address(request))):
            raise _locked(until)
        raise unauthorized(WRONG_LOGIN)
    lockout.record_success(engine, username)
    settings = request.app.state.settings
    mark_actor(request, user.username, user.roles)
    return TokenOut(access_token=issue_access_token(settings, user.username, user.token_version, agency=token_agency(user)),
                    token_type="bearer", expires_in=settings.access_token_minutes * 60)


def _locked(until) -> HTTPException:
    wait = max(1, math.ceil((until - clock.now()).total_seconds() / 60))
    return HTTPException(status.HTTP_429_TOO_MANY_REQUESTS, (
        f"该账户因连续多次密码错误已暂时锁定，请 {wait} 分钟后再试，或请系统管理员解除锁定"),
        headers={"Retry-After": str(wait * 60)})


class LockedOut(BaseModel):
    username: str
    full_name: str
    failures: int
    locked_until: datetime | None
    last_failure_at: datetime


@router.get("/admin/locked", response_model=list[LockedOut], dependencies=[Depends(require("admin"))], tags=["admin"])
def locked_accounts(request: Request) -> list[LockedOut]:
    """Issue 23 point 8: accounts locked by repeated wrong passwords (now, or since their last log-in)."""
    return [LockedOut(**vars(a)) for a in lockout.locked_accounts(request.app.state.engine)]


@router.post("/admin/users/{username}/unlock", response_model=UserOut, tags=["admin"])
def unlock(request: Request, username: Annotated[str, USERNAME], session: SessionDep,
           admin: Annotated[StaffUser, Depends(require("admin"))]) -> UserOut:
    """An admin lifts an account's lock and clears its count of wrong passwords; audited."""
    user = session.get(StaffUser, username)
    if user is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"没有用户 {username}")
    if not lockout.unlock(request.app.state.engine, username, by=admin.username, client=client_address(request)):
        raise HTTPException(status.HTTP_409_CONFLICT, f"用户 {username} 没有被锁定")
    return user_out(user)


@router.get("/auth/me", response_model=UserOut)
def me(user: CurrentUser) -> UserOut:
    return user_out(user)


admin_only = [Depends(require("admin"))]


def _no_platform_roles(roles) -> None:
    """An agency's administrator manages that agency's staff; the platform's 主管部门 is the platform's (issue 25)."""
    if "oversight" in roles:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "政府信息公开工作主管部门的账号只能由平台管理员创建（admin.py create-oversight）")


@router.get("/admin/users", response_model=list[UserOut], dependencies=admin_only, tags=["admin"])
def users(session: SessionDep) -> list[UserOut]:
    return [user_out(u) for u in list_users(session)]


@router.post("/admin/users", response_model=UserOut, status_code=status.HTTP_201_CREATED, dependencies=admin_only,
             tags=["admin"])
def add_user(body: UserCreate, session: SessionDep) -> UserOut:
    _no_platform_roles(body.roles)
    try:
        user = create_user(session, username=body.username, password=body.password, roles=body.roles,
                           department=body.department, full_name=body.full_name)
    except AccountError as err:
        raise HTTPException(status.HTTP_409_CONFLICT, str(err)) from None
    session.commit()
    return user_out(user)


@router.patch("/admin/users/{username}", response_model=UserOut, dependencies=admin_only, tags=["admin"])
def change_user(username: Annotated[str, USERNAME], body: UserUpdate, session: SessionDep,
                admin: CurrentUser) -> UserOut:
    """Roles, department, activity, password; any of them revokes the user's current tokens."""
    _no_platform_roles(body.roles or [])
    user = session.get(StaffUser, username)
    if user is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"没有用户 {username}")
    if user.username == admin.username and (body.active is False or (body.roles is not None and "admin" not in body.roles)):
        raise HTTPException(status.HTTP_409_CONFLICT, "不能停用自己或取消自己的管理员角色")
    fields = body.model_fields_set
    try:
        update_user(session, user, roles=body.roles, department=body.department, set_department="department" in fields,
                    active=body.active, password=body.password, full_name=body.full_name)
    except AccountError as err:
        raise HTTPException(status.HTTP_409_CONFLICT, str(err)) from None
    session.commit()
    return user_out(user)
