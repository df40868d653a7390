"""Who may be named 承办人 (issue 23 point 1): the agency's real, active staff holding the handler role.

RULES §1: the handler (承办科室 / 承办人) searches for the information and proposes; a handler sees
only their own 科室's applications (api.security.sees_department), so an application assigned to a
name that is no account, an inactive account, a person without the handler role, or to a 科室 other
than the person's own would reach nobody's queue. The API checks the name here before it asks the
workflow (the workflow keeps no copy of the staff list). Messages are for the clerk (Chinese).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, func, select

from contracts.status import FINAL_STATUSES
from api.security import ALL_DEPARTMENTS  # roles that see every 科室 (api.security.sees_department)
from db.models import Application
from db.models_security import StaffUser


class AssigneeError(ValueError):
    """The named handler cannot take the application; the message says why, in Chinese."""


@dataclass(frozen=True)
class Handler:
    username: str
    full_name: str
    department: str | None
    open_load: int  # applications now assigned to this person and not yet ended

    @property
    def label(self) -> str:
        name = f"{self.full_name}（{self.username}）" if self.full_name else self.username
        return f"{name}，在办 {self.open_load} 件"


def checked_assignment(engine: Engine, handler: str | None, department: str | None) -> tuple[str | None, str | None]:
    """(handler, 科室) to give the workflow: the 科室 is the handler's own when none is named.

    None as handler (intake without one) passes through unchanged."""
    if handler is None:
        return None, department
    with engine.connect() as connection:
        row = connection.execute(select(StaffUser.__table__).where(  # type: ignore[attr-defined]
            StaffUser.__table__.c.username == handler)).mappings().first()  # type: ignore[attr-defined]
    if row is None:
        raise AssigneeError(f"承办人“{handler}”不是本机关的工作人员账号，请从名单中选择")
    user = StaffUser(**row)
    if not user.active:
        raise AssigneeError(f"承办人“{handler}”的账号已停用，不能指定")
    if "handler" not in user.role_set():
        raise AssigneeError(f"“{handler}”没有承办角色，不能指定为承办人")
    if department and user.department and department != user.department:
        raise AssigneeError(f"承办人“{handler}”属于{user.department}，不是{department}；请选择{department}的承办人"
                            f"或将科室改为{user.department}")
    sees_all = bool(user.role_set() & ALL_DEPARTMENTS)
    if not user.department and not sees_all:  # a handler without a 科室 sees no application at all
        raise AssigneeError(f"承办人“{handler}”的账号没有所属科室，请先由管理员补填科室")
    return handler, department or user.department


def handlers_by_department(engine: Engine) -> dict[str, list[Handler]]:
    """Every active handler, grouped by 科室 (none: "未定科室"), with their open load, fewest first."""
    staff = StaffUser.__table__  # type: ignore[attr-defined]
    apps = Application.__table__  # type: ignore[attr-defined]
    load = (select(apps.c.handler, func.count().label("n"))
            .where(apps.c.status.not_in(sorted(FINAL_STATUSES)), apps.c.closed_at.is_(None))
            .group_by(apps.c.handler).subquery())
    query = (select(staff.c.username, staff.c.full_name, staff.c.department, staff.c.roles,
                    func.coalesce(load.c.n, 0).label("n"))
             .outerjoin(load, load.c.handler == staff.c.username)
             .where(staff.c.active.is_(True)))
    with engine.connect() as connection:
        rows = connection.execute(query).mappings().all()
    grouped: dict[str, list[Handler]] = {}
    for r in rows:
        if "handler" not in r["roles"].split(","):
            continue
        grouped.setdefault(r["department"] or "未定科室", []).append(
            Handler(r["username"], r["full_name"] or "", r["department"], int(r["n"])))
    return {dept: sorted(people, key=lambda h: (h.open_load, h.username)) for dept, people in sorted(grouped.items())}
