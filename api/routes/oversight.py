"""The platform's 政府信息公开工作主管部门 (issue 25 point 5; Reg. 49, RULES §12): every agency's figures, deadlines,
overdue lists and on-time rates, and the consolidated annual report of its level (table 三 summed over its agencies,
each agency's own linked). Figures only: no applicant's name or case file (the role holds nothing else: the
applications' routes refuse it; api/security.py token_agency, core/security.py PLATFORM)."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Request, status
from sqlalchemy import and_, case, func, literal, select
from sqlmodel import Session

from api.offloop import blocking
from api.security import require
from core import clock
from db import tenancy
from db.models import Application
from db.models_agency import Agency
from db.models_security import StaffUser
from db.reports_repository import table3_counts
from reports.annual import build_table3, check_table3

router = APIRouter(prefix="/api/v1/oversight", tags=["oversight"])
OVERSIGHT = Annotated[StaffUser, Depends(require("oversight"))]
A = Application.__table__  # type: ignore[attr-defined]
CLOSED = ("closed", "withdrawn", "abandoned")
SOON_DAYS = 3
SHANGHAI = ZoneInfo("Asia/Shanghai")


def _figures(engine, today: date) -> list[dict[str, Any]]:
    one = literal(1)
    is_open = A.c.status.not_in(CLOSED)
    year_start = datetime(today.year, 1, 1, tzinfo=SHANGHAI)
    closed_this_year = and_(A.c.status == "closed", A.c.closed_at >= year_start)
    statement = (
        select(A.c.agency, func.sum(case((is_open, one), else_=0)),
               func.sum(case((and_(is_open, A.c.overdue.is_(True)), one), else_=0)),
               func.sum(case((and_(is_open, A.c.due_on <= today + timedelta(days=SOON_DAYS),
                                   A.c.due_on >= today), one), else_=0)),
               func.sum(case((closed_this_year, one), else_=0)),
               func.sum(case((and_(closed_this_year, A.c.overdue.is_(False)), one), else_=0)))
        .group_by(A.c.agency))
    with Session(engine) as session, tenancy.all_agencies():
        agencies = {a.code: a for a in session.execute(select(Agency).order_by(Agency.region, Agency.name)).scalars()}
        counted = {row[0]: row[1:] for row in session.execute(statement)}
    rows = []
    for code, agency in agencies.items():
        open_, overdue, soon, closed, on_time = (int(n or 0) for n in counted.get(code, (0, 0, 0, 0, 0)))
        rows.append({"agency": code, "name": agency.name, "region": agency.region, "open": open_,
                     "overdue": overdue, "due_within_3_days": soon, "closed_this_year": closed,
                     "on_time_rate": round(on_time / closed, 4) if closed else None})
    return rows


@router.get("/agencies")
async def agencies_figures(request: Request, user: OVERSIGHT) -> list[dict[str, Any]]:
    """Every agency on the platform: open, overdue, due within 3 days, closed this year and the on-time rate."""
    return await blocking(_figures, request.app.state.engine, clock.today())


def _overdue(engine, code: str) -> list[dict[str, Any]]:
    with Session(engine) as session, tenancy.all_agencies():
        if session.get(Agency, code) is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"平台上没有机关 {code}")
        rows = session.execute(
            select(A.c.id, A.c.received_on, A.c.due_on, A.c.status, A.c.department)
            .where(A.c.agency == code, A.c.overdue.is_(True), A.c.status.not_in(CLOSED))
            .order_by(A.c.due_on, A.c.id).limit(500)).all()
    return [{"application_id": r[0], "received_on": r[1], "due_on": r[2], "status": r[3], "department": r[4]}
            for r in rows]


@router.get("/agencies/{code}/overdue")
async def agency_overdue(code: Annotated[str, Path(pattern=tenancy.AGENCY_CODE_PATTERN)], request: Request,
                         user: OVERSIGHT) -> list[dict[str, Any]]:
    """The agency's overdue open applications (number, dates, status, 科室: no applicant's data)."""
    return await blocking(_overdue, request.app.state.engine, code)


def _consolidated(engine, year: int) -> dict[str, Any]:
    with Session(engine) as session, tenancy.all_agencies():
        agencies = list(session.execute(select(Agency).order_by(Agency.region, Agency.name)).scalars())
    parts, total = [], None
    for agency in agencies:
        with Session(engine) as session, tenancy.acting_for(agency.code):
            counts = table3_counts(session, year)
        table = build_table3(counts["new"], counts["carried_in"], counts["results"], counts["carried_out"])
        parts.append({"agency": agency.code, "name": agency.name, "region": agency.region, "table3": table,
                      "page": f"/agencies/{agency.code}"})
        total = table if total is None else {row: {column: total[row][column] + n for column, n in cells.items()}
                                             for row, cells in table.items()}
    total = total or build_table3({}, {}, {}, {})
    return {"year": year, "level": "本级", "agencies": parts, "table3": total, "check": check_table3(total)}


@router.get("/annual/{year}")
async def consolidated_annual_report(year: Annotated[int, Path(ge=2008, le=2100)], request: Request,
                                     user: OVERSIGHT) -> dict[str, Any]:
    """The consolidated annual report of the platform's level (Reg. 49, by 31 March): table 三 summed over its
    agencies, each agency's own table beside it."""
    return await blocking(_consolidated, request.app.state.engine, year)
