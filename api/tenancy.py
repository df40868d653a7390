"""The API's side of one platform for many agencies (issue 25, RULES §12): whose request this is, in one place.

- `AgencyScope` (ASGI middleware): a staff member's token names their agency (core.security.issue_access_token);
  for the whole request it becomes `db.tenancy.CURRENT_AGENCY`, so every ORM read of an agency's table is limited
  to it (db/tenancy.py) whatever the route does. Requests without a staff token (the public pages, /track, the
  mail returns) run unlimited and see only what they show the public.
- `agency_guard` (a dependency of every route, set once on the app in api/main.py): an object named in the path
  that belongs to another agency is answered 404, as if it did not exist — the same answer as a number that was
  never given, so nobody learns what other agencies hold. Workflow queries and updates by id (Temporal) are
  covered by it: the route never reaches them.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import HTTPException, Request, status
from sqlalchemy import Engine

from core.security import PLATFORM, read_access_token
from db import tenancy
from db.models_agency import Agency
from services.agencies import agency_of_application, agency_of_user, get_agency, list_agencies

STAFF_COOKIE = "gk_staff"  # api/pages/staff_session.py SESSION_COOKIE (the staff pages' token)
NOT_FOUND = "未找到该事项（编号有误，或不属于本机关）"


class AgencyScope:
    def __init__(self, app, settings) -> None:
        self.app, self.settings = app, settings

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        agency = self._agency(scope)
        token = tenancy.CURRENT_AGENCY.set(agency)
        try:
            await self.app(scope, receive, send)
        finally:
            tenancy.CURRENT_AGENCY.reset(token)

    def _agency(self, scope) -> str | None:
        token = None
        for name, value in scope.get("headers", ()):
            if name == b"authorization" and value[:7].lower() == b"bearer ":
                token = value[7:].decode("latin-1").strip()
            elif name == b"cookie" and token is None:
                for part in value.decode("latin-1").split(";"):
                    key, _, val = part.strip().partition("=")
                    if key == STAFF_COOKIE and val:
                        token = val
        if not token or len(token) > 2000:
            return None
        claims = read_access_token(self.settings, token)
        if claims is None:
            return None  # refused by the route's own dependency (401)
        agency = claims.get("agency") or tenancy.FIRST_AGENCY
        return None if agency == PLATFORM else agency  # the 主管部门: every agency (its routes show figures only)


# Path parameters naming an object, and how to find the agency it belongs to (None: not found, left to the route).
OWNERS: dict[str, Callable[[Engine, str], str | None]] = {
    "application_id": agency_of_application,
    "username": agency_of_user,  # the agency administrator's staff accounts
}


async def agency_guard(request: Request) -> None:
    """404 for another agency's object named in the path (every route: api/main.py)."""
    agency = tenancy.CURRENT_AGENCY.get()
    if agency is None:
        return
    from api.offloop import blocking

    for name, owner_of in OWNERS.items():
        value = request.path_params.get(name)
        if value is None:
            continue
        owner = await blocking(owner_of, request.app.state.engine, str(value))
        if owner is not None and owner != agency:
            raise HTTPException(status.HTTP_404_NOT_FOUND, NOT_FOUND)


def registering_agency(engine: Engine, code: str | None) -> Agency:
    """The agency an application is made to: the one named, or with none named the only one (the first one while
    the platform has a single agency); 422 naming the slip otherwise."""
    if code:
        agency = get_agency(engine, code.strip().lower())
        if agency is None or not agency.active:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"受理机关代码 {code} 不存在，请从机关列表中选择")
        return agency
    agencies = list_agencies(engine)
    if len(agencies) == 1:
        return agencies[0]
    first = get_agency(engine, tenancy.FIRST_AGENCY)
    if len(agencies) == 0 and first is not None:
        return first
    raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "请选择受理机关（本平台有多个机关，申请须向其中一个提出）")
