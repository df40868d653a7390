"""The staff an application may be assigned to (issue 23 point 1): `GET /api/v1/handlers`.

Every active handler by 科室 with their open load (services.assignees), for the registrars and
supervisors who assign; the assignment itself (`POST /applications/{id}/assign`, and a handler named
at intake) refuses any other name with 422.
"""

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from api.deps import SessionDep
from api.offloop import blocking
from api.security import require
from db.models_security import StaffUser
from services.assignees import handlers_by_department

router = APIRouter(prefix="/api/v1", tags=["applications"])


class HandlerOut(BaseModel):
    username: str
    full_name: str
    department: str | None
    open_load: int
    label: str


class DepartmentHandlers(BaseModel):
    department: str
    handlers: list[HandlerOut]


@router.get("/handlers", response_model=list[DepartmentHandlers],
            summary="Active handlers by 科室 with their open load — registrar, supervisor")
async def handlers(session: SessionDep,
                   user: Annotated[StaffUser, Depends(require("registrar", "supervisor"))]) -> list[DepartmentHandlers]:
    grouped = await blocking(handlers_by_department, session.get_bind())
    return [DepartmentHandlers(department=dept, handlers=[
        HandlerOut(username=h.username, full_name=h.full_name, department=h.department, open_load=h.open_load,
                   label=h.label) for h in people]) for dept, people in grouped.items()]
