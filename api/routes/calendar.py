"""The working-day calendar: the question clerks ask all day, and publishing a new year."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, status

from api.deps import CalendarDep, ClientDep, SettingsDep
from api.schemas import CalendarYearIn, CalendarYearPublishedOut, CalendarYearsOut, DeadlineAnswer
from api.security import CurrentUser, require
from db.models_security import StaffUser
from clock import ClockInput, compute_due
from services.calendar import InvalidSchedule, parse_schedule, publish_year
from workcalendar import WorkCalendar

# Any logged-in staff member may ask the calendar; only an admin publishes a year.
router = APIRouter(prefix="/api/v1/calendar", tags=["calendar"])


@router.get("/deadline", response_model=DeadlineAnswer)
def deadline(
    received: Annotated[date, Query(ge=date(2000, 1, 1), le=date(2100, 12, 31))],
    days: Annotated[int, Query(ge=1, le=60)], calendar: CalendarDep, user: CurrentUser,
) -> DeadlineAnswer:
    """The end of the N-th working day after a receipt date, and how it was counted."""
    due = compute_due(WorkCalendar(calendar.current()), ClockInput(received_on=received, reply_days=days))
    return DeadlineAnswer(
        received=received, days=days, start_on=due.start_on, due_on=due.due_on, provisional=due.provisional,
        calendar_version=due.calendar_version, explanation=due.steps,
    )


@router.get("/years", response_model=CalendarYearsOut)
def published_years(calendar: CalendarDep, user: CurrentUser) -> CalendarYearsOut:
    data = calendar.current()
    return CalendarYearsOut(calendar_version=data.version, published_years=data.published_years())


@router.put("/years/{year}", response_model=CalendarYearPublishedOut)
async def publish(
    year: Annotated[int, Path(ge=2000, le=2100)], body: CalendarYearIn, request: Request,
    client: ClientDep, settings: SettingsDep, calendar: CalendarDep,
    admin: Annotated[StaffUser, Depends(require("admin"))],
) -> CalendarYearPublishedOut:
    """Publish (or correct) a year's official schedule (admins); open applications recompute their due dates."""
    try:
        schedule = parse_schedule(year, body.model_dump(mode="json"))
    except InvalidSchedule as err:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(err)) from None
    published = await publish_year(schedule, engine=request.app.state.engine, client=client, settings=settings,
                                   published_by=admin.username, calendar=calendar)
    return CalendarYearPublishedOut(year=year, calendar_version=published.calendar_version,
                                    open_applications_notified_by=published.broadcast_id)
