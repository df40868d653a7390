"""The agencies on the platform (issue 25, RULES §12): the public list the forms and the home page choose from."""

from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from api.offloop import blocking
from services.agencies import list_agencies

router = APIRouter(prefix="/api/v1/agencies", tags=["agencies"])


class AgencyPublic(BaseModel):
    code: str
    name: str
    region: str


@router.get("", response_model=list[AgencyPublic])
async def agencies(request: Request,
                   q: Annotated[str | None, Query(max_length=50, description="名称或地区中的文字")] = None) -> list[AgencyPublic]:
    """Every active agency with its code, name and region (public: the applicant chooses where to apply)."""
    rows = await blocking(list_agencies, request.app.state.engine, q)
    return [AgencyPublic(code=a.code, name=a.name, region=a.region) for a in rows]
