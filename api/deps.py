"""What the routes share (routes never import one another; tests/test_architecture.py): the request dependencies
(the Temporal client, a DB session, settings, the current calendar), the path parameters' patterns, who may act,
and the application's live view with its calendar catch-up."""

import re
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Header, HTTPException, Path, Request, status
from sqlmodel import Session, select
from temporalio.client import Client

from api.offloop import blocking
from api.registration import RegistrationWrites
from api.security import STAFF_READERS, mark_actor, require, sees_department
from api.temporal_calls import run_query, run_update
from contracts.application_view import ApplicationView, StateQuery
from contracts.calendar import CalendarCatchUp
from contracts.status import FINAL_STATUSES
from core import clock
from core.config import Settings
from core.security import query_code_matches
from db.models import Application
from db.models_security import ApplicantAccess, StaffUser
from workcalendar import CalendarData
from services.calendar import CalendarSource  # noqa: F401  (moved to services/; bench/ imports it from here)


def get_session(request: Request) -> Iterator[Session]:
    with Session(request.app.state.engine) as session:
        yield session


# Plain lookups are `async def`: FastAPI runs a sync dependency in a worker thread, a hop per
# dependency per request, which cost more CPU than the lookup itself.

async def get_client(request: Request) -> Client:
    return request.app.state.temporal


async def get_settings_dep(request: Request) -> Settings:
    return request.app.state.settings


async def get_calendar_source(request: Request) -> CalendarSource:
    return request.app.state.calendar


async def get_registration_writes(request: Request) -> RegistrationWrites:
    return request.app.state.registration


SessionDep = Annotated[Session, Depends(get_session)]
ClientDep = Annotated[Client, Depends(get_client)]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
CalendarDep = Annotated[CalendarSource, Depends(get_calendar_source)]
RegistrationDep = Annotated[RegistrationWrites, Depends(get_registration_writes)]


# --- path parameters -----------------------------------------------------------------------------

# Application numbers (and, with a suffix, consultation ids): anything else is 422 before Temporal is asked.
APPLICATION_ID = Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$", description="the application number")
ApplicationId = Annotated[str, APPLICATION_ID]

# A third party's answer after its consultation ended (api/routes/consultations.py, api/routes/third_party.py).
CONSULTATION_ENDED = "本次征求意见已结束（已收到您的意见，或提出意见的期限已届满），不能再提交"

ITEM_ID = Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,59}$", description="目录条目编号")
ItemId = Annotated[str, ITEM_ID]


def application_of(consultation_id: str) -> str:
    return re.sub(r"\.consult-\d+$", "", consultation_id)


# --- who may act ----------------------------------------------------------------------------------

READERS = Depends(require(*sorted(STAFF_READERS)))

# Who may do what (RULES §1). A supervisor oversees: assigns and re-assigns, decides extensions and
# overrides, signs; but does not do the handler's case work (propose, submit), so the one who signs
# is never the one who proposed. A registrar records what arrives on paper (supplement, delivery,
# a written withdrawal). Reviewer ≠ proposer and approver ≠ requester are the workflow's own checks.
ACTION_ROLES: dict[str, tuple[str, ...]] = {
    "assign": ("registrar", "supervisor"),
    "supplement-request": ("handler",),
    "supplement": ("registrar", "handler"),
    "supplement-lapse": ("handler", "supervisor"),
    "fee-proposal": ("handler",),
    "fee-decision": ("supervisor",),
    "fee-payment": ("registrar", "handler", "supervisor"),  # 减免 (waiver): the supervisor only (api/routes/fees.py)
    "extension-request": ("handler",),
    "extension-decision": ("supervisor",),
    "reasons-request": ("handler",),
    "reasons": ("registrar", "handler"),
    "excessive-decision": ("supervisor",),
    "consultations": ("handler",),
    "override": ("supervisor",),
    "consultation-restart": ("handler", "supervisor"),
    "decisions": ("handler",),
    "submit": ("handler",),
    "review": ("reviewer",),
    "sign": ("supervisor",),
    "delivery": ("registrar",),
    "withdraw": ("registrar",),
}


# The applicant's own application, by its number and query code (api/routes/applicant.py, api/routes/letters.py).
NOT_FOUND = "申请编号或查询码不正确"
APPLICANT = "applicant"


def applicant_application(  # def: a database read, run in the thread pool by FastAPI
    application_id: ApplicationId, request: Request, session: SessionDep, settings: SettingsDep,
    code: Annotated[str, Header(alias="X-Query-Code", min_length=1, max_length=64, description="查询码")],
) -> str:
    """The application id, if the code fits it; 404 otherwise (audited by the middleware)."""
    mark_actor(request, APPLICANT, "applicant", application_id)
    access = session.get(ApplicantAccess, application_id)
    if not query_code_matches(settings, application_id, code, access.code_hash if access else None):
        raise HTTPException(status.HTTP_404_NOT_FOUND, NOT_FOUND)
    return application_id


Owned = Annotated[str, Depends(applicant_application)]


# --- the application's live view, counted on the agency's current calendar ---------------------

def not_found(application_id: str) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, f"没有编号为 {application_id} 的申请")


async def live_view(client, application_id: str) -> ApplicationView:
    return await run_query(client, application_id, "state", StateQuery(today=clock.today()), ApplicationView, what="申请")


async def ensure_visible(user: StaffUser, application_id: str, client) -> None:
    """A handler acts only on their department's applications; others' are 404, as if they did not exist.

    The department is read from the workflow (authoritative, no lag behind a re-assignment).
    """
    if user.role_set() & {"registrar", "reviewer", "supervisor"}:
        return
    view = await live_view(client, application_id)
    if not sees_department(user, view.department):
        raise not_found(application_id)


def _row_clock(session, application_id: str) -> tuple | None:
    row = session.exec(select(Application.received_on, Application.clock).where(Application.id == application_id)).first()
    return None if row is None or row[1] is None else (row[0], row[1])


async def _calendar_to_catch_up(calendar, received_year: int, years: list[int], version: str) -> CalendarData | None:
    """The agency's calendar as the application should hold it, when that is not the one (`version`) it counts
    on; None when it is current, or when it holds a year the agency has not published (a calendar given at
    start): nothing to compare."""
    await calendar.fresh()
    if not set(years) <= set(calendar.current().years):
        return None
    mine = calendar.held_by(received_year, years)
    return None if mine.version == version else mine


async def catch_up_before_acting(client, calendar, session, application_id: str) -> None:
    """Issue 15 point 4: before a staff or applicant action, an application whose database copy counts on an
    older calendar than the agency's counts on it first (catch_up_calendar), so the action's deadlines and
    letters are counted on the published year. One row read; an update only when it is behind."""
    if calendar is None:
        return
    found = await blocking(_row_clock, session, application_id)
    if found is None:
        return
    received_on, copy = found
    mine = await _calendar_to_catch_up(calendar, received_on.year, copy["years"], copy["calendar_version"])
    if mine is None:
        return
    try:
        await run_update(client, application_id, "catch_up_calendar", CalendarCatchUp(calendar=mine),
                         ApplicationView, what="申请", ended=lambda: "申请已办结")
    except HTTPException:
        pass  # ended or gone: the action itself answers


async def counted_on_current_calendar(client, calendar, view: ApplicationView) -> ApplicationView:
    """Issue 15 point 4: an open application that has not yet counted on a year published since (the broadcaster
    woke only those whose next deadline came earlier) counts on it before staff see it (catch_up_calendar)."""
    if view.calendar_version is None or view.status in FINAL_STATUSES:
        return view
    mine = await _calendar_to_catch_up(calendar, view.received_on.year, view.calendar_years, view.calendar_version)
    if mine is None:
        return view
    return await run_update(client, view.application_id, "catch_up_calendar", CalendarCatchUp(calendar=mine),
                            ApplicationView, what="申请", ended=lambda: "申请已办结")


ENDED_MESSAGES = {"withdrawn": "本申请已撤回", "abandoned": "本申请已因逾期未补正视为放弃"}


def how_it_ended(session, application_id: str) -> str:
    row = session.get(Application, application_id)
    return ENDED_MESSAGES.get(row.status if row else "", "本申请已办结") + "，不能再办理此事项"
