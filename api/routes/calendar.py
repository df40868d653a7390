"""The working-day calendar: the question clerks ask all day, and publishing a new year."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Query, status
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from api.deps import CalendarDep, ClientDep, SessionDep, SettingsDep
from api.schemas import CalendarYearIn, CalendarYearPublishedOut, CalendarYearsOut, DeadlineAnswer
from api.security import CurrentUser, require
from db.models_security import StaffUser
from clock import ClockInput, compute_due
from db.repository import store_calendar_year
from workcalendar import WorkCalendar, parse_year_schedule
from workflows.calendar_broadcast import CalendarBroadcastBatchesWorkflow, CalendarBroadcastInput
from workflows.messages import CalendarYearPublished

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


async def publish_year(
    year: int, body: CalendarYearIn, session, client, settings, calendar, published_by: str
) -> CalendarYearPublishedOut:
    payload = body.model_dump(mode="json") | {"year": year}
    try:
        schedule = parse_year_schedule(payload)
    except ValueError as err:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"放假安排有误：{err}") from None
    store_calendar_year(session, year, schedule.model_dump(mode="json"), published_by)
    session.commit()
    calendar.refresh()
    version = calendar.current().version
    # Once per calendar version and deployment: the task queue names the deployment, so two agencies (or
    # two test stacks) sharing a namespace and publishing the same data each reach their own applications.
    broadcast_id = f"calendar-broadcast-{settings.task_queue}-{version}"
    try:
        await client.start_workflow(
            CalendarBroadcastBatchesWorkflow.run, CalendarBroadcastInput(fact=CalendarYearPublished(schedule=schedule)),
            id=broadcast_id,
            task_queue=settings.task_queue, id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        )
    except WorkflowAlreadyStartedError:
        pass  # the same data was published before; its broadcast already ran
    return CalendarYearPublishedOut(year=year, calendar_version=version, open_applications_notified_by=broadcast_id)


@router.put("/years/{year}", response_model=CalendarYearPublishedOut)
async def publish(
    year: Annotated[int, Path(ge=2000, le=2100)], body: CalendarYearIn, session: SessionDep,
    client: ClientDep, settings: SettingsDep, calendar: CalendarDep,
    admin: Annotated[StaffUser, Depends(require("admin"))],
) -> CalendarYearPublishedOut:
    """Publish (or correct) a year's official schedule (admins); open applications recompute their due dates."""
    return await publish_year(year, body, session, client, settings, calendar, admin.username)
