"""Staff accounts: the one code path admin.py, the admin API and the test seed use."""

from core import clock

from sqlalchemy import Engine, bindparam
from sqlalchemy import select as core_select
from sqlmodel import Session, col, select

from core.security import ROLES, hash_password, password_problem
from db import tenancy
from db.models_security import StaffUser


STAFF_TABLE = StaffUser.__table__  # type: ignore[attr-defined]
# Read on every staff request (roles and activity are never taken from the token): a Core statement
# built once, without the ORM's identity map and loading machinery, which cost more than the query.
USER_BY_NAME = core_select(STAFF_TABLE).where(STAFF_TABLE.c.username == bindparam("username"))


def find_user(engine: Engine, username: str) -> StaffUser | None:
    """The account as it is now in the database (a detached object), or None."""
    with engine.connect() as connection:
        row = connection.execute(USER_BY_NAME, {"username": username}).mappings().first()
    return StaffUser(**row) if row is not None else None


class AccountError(ValueError):
    """A refused change; the message is for the admin (Chinese)."""


def _roles(roles: list[str] | tuple[str, ...] | frozenset[str]) -> str:
    unknown = [r for r in roles if r not in ROLES]
    if unknown:
        raise AccountError(f"未知角色：{', '.join(unknown)}")
    if "oversight" in roles and len(set(roles)) > 1:  # issue 25: sees every agency's figures, handles nothing
        raise AccountError("政府信息公开工作主管部门的账号不能兼任其他角色")
    return ",".join(r for r in ROLES if r in roles)


def create_user(
    session: Session, *, username: str, password: str, roles: list[str], department: str | None = None,
    full_name: str = "",
) -> StaffUser:
    with tenancy.all_agencies():  # user names are the platform's (issue 25): one of another agency's counts too
        taken = session.get(StaffUser, username) is not None
    if taken:
        raise AccountError(f"用户名 {username} 已存在")
    if problem := password_problem(password):
        raise AccountError(problem)
    user = StaffUser(username=username, full_name=full_name, password_hash=hash_password(password),
                     roles=_roles(roles), department=department)
    session.add(user)
    session.flush()
    return user


def update_user(
    session: Session, user: StaffUser, *, roles: list[str] | None = None, department: str | None = None,
    set_department: bool = False, active: bool | None = None, password: str | None = None,
    full_name: str | None = None,
) -> StaffUser:
    """Any change of roles, password or activity invalidates the user's tokens (token_version)."""
    revoke = False
    if roles is not None:
        new = _roles(roles)
        revoke |= new != user.roles
        user.roles = new
    if set_department:
        revoke |= department != user.department
        user.department = department
    if active is not None:
        revoke |= active != user.active
        user.active = active
    if password is not None:
        if problem := password_problem(password):
            raise AccountError(problem)
        user.password_hash = hash_password(password)
        revoke = True
    if full_name is not None:
        user.full_name = full_name
    if revoke:
        user.token_version += 1
    user.updated_at = clock.now()
    session.add(user)
    session.flush()
    return user


def list_users(session: Session) -> list[StaffUser]:
    return list(session.exec(select(StaffUser).order_by(col(StaffUser.username))))
