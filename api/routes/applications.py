"""Applications: intake, the supervisors' list, live state, and one endpoint per staff action."""

import logging
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response, status
from pydantic import BaseModel
from sqlmodel import Session

from api import schemas
from api.deps import (
    ACTION_ROLES, READERS, ApplicationId, CalendarDep, ClientDep, RegistrationDep, SessionDep, SettingsDep,
    catch_up_before_acting, counted_on_current_calendar, ensure_visible, how_it_ended, live_view, not_found,
)
from api.intake import ONLINE_FORM, register
from api.offloop import blocking
from api.schemas import ApplicationCreate, ApplicationCreated, ApplicationSummary, EventOut, Page, PublicApplicationCreate
from api.security import department_filter, mark_actor, rate_limited, require, sees_department
from api.temporal_calls import run_update
from core import clock
from db.models_security import StaffUser
from services.assignees import AssigneeError, checked_assignment
from services.duplicates import duplicates_of
from db.models import Application
from db.repository import (
    InvalidCursor,
    decode_list_cursor,
    get_events,
    list_applications,
)
from outcomes import OutcomeCode
from contracts.application_view import ApplicationView
from contracts.consultations import OverrideObjection, RestartConsultation, StartConsultation
from contracts.intake import AssignHandler, DecideSupplementLapse, RequestSupplement, SupplementReceived, Withdraw
from contracts.period import AskReasons, DecideExcessive, DecideExtension, ReasonsReceived, RequestExtension
from contracts.reply import ConfirmDelivery, ProposeDecision, ReviewDecision, SignReply, SubmitForReview

router = APIRouter(prefix="/api/v1/applications", tags=["applications"])
public_router = APIRouter(prefix="/api/v1/public", tags=["applicants"])
log = logging.getLogger("disclosure.api")
TEXT = r"^[^\x00-\x1f]*$"  # no control characters (PostgreSQL refuses NUL in text)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ApplicationCreated)
async def register_application(
    body: ApplicationCreate, writes: RegistrationDep, client: ClientDep, settings: SettingsDep, calendar: CalendarDep,
    registrar: Annotated[StaffUser, Depends(require("registrar"))], request: Request, session: SessionDep,
) -> ApplicationCreated:
    """The registration desk registers an application; returns its number, query code and due date."""
    if body.handler is not None:  # issue 23 point 1: the same check as the assignment's
        handler, department = await blocking(_checked_assignee, session, body.handler, body.department)
        body = body.model_copy(update={"handler": handler, "department": department})
    created = await register(body, registrar.username, writes, client, settings, calendar)
    request.state.audit_application_id = created.application_id
    return created


@public_router.post("/applications", status_code=status.HTTP_201_CREATED, response_model=ApplicationCreated,
                    dependencies=[Depends(rate_limited("public-intake", "rate_limit_public_intake_per_minute"))],
                    responses={429: {"description": "请求过于频繁"}})
async def submit_online(
    body: PublicApplicationCreate, request: Request, writes: RegistrationDep, client: ClientDep, settings: SettingsDep,
    calendar: CalendarDep,
) -> ApplicationCreated:
    """The public online form (no log-in): received today; keep the number and the query code."""
    mark_actor(request, ONLINE_FORM, "applicant")
    staffed = ApplicationCreate(channel="online", received_on=clock.today(), **body.model_dump())
    created = await register(staffed, ONLINE_FORM, writes, client, settings, calendar)
    request.state.audit_application_id = created.application_id
    return created


def _checked_assignee(session, handler: str | None, department: str | None) -> tuple[str | None, str | None]:
    """services.assignees' check as the API's 422 (the clerk's slip named in Chinese)."""
    try:
        return checked_assignment(session.get_bind(), handler, department)
    except AssigneeError as slip:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(slip)) from None


def _list_json(engine, offset: int, limit: int, **filters) -> bytes:
    """One worker-thread hop: the session, the page's statements and its JSON."""
    with Session(engine) as session:
        page = list_applications(session, offset=offset, limit=limit, **filters)
        return Page[ApplicationSummary](
            items=[_summary(r) for r in page.rows], total=page.total, offset=offset, limit=limit,
            total_is_lower_bound=page.total_is_lower_bound, next_cursor=page.next_cursor).model_dump_json().encode()


@router.get("", response_model=Page[ApplicationSummary])
async def list_for_supervisors(
    request: Request,
    user: Annotated[StaffUser, READERS],
    status_: Annotated[str | None, Query(alias="status", max_length=40, pattern=TEXT)] = None,
    open_: Annotated[bool | None, Query(
        alias="open", description="true: only applications still open (not closed, withdrawn or abandoned); "
                                  "false: only those; absent: all")] = None,
    overdue: bool | None = None,
    due_before: date | None = None,
    due_from: Annotated[date | None, Query(description="only applications due on or after this date")] = None,
    handler: Annotated[str | None, Query(max_length=100, pattern=TEXT)] = None,
    department: Annotated[str | None, Query(max_length=100, pattern=TEXT)] = None,
    cursor: Annotated[str | None, Query(
        max_length=200, pattern=r"^[A-Za-z0-9_-]*$",
        description="the previous page's next_cursor: the next page, as fast as the first one")] = None,
    offset: Annotated[int, Query(
        ge=0, description="rows to skip (kept for compatibility: deep offsets are slow on large tables; "
                          "use cursor). Not with cursor")] = 0,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> Page[ApplicationSummary]:
    """Applications from the database (not from each workflow), soonest due first; a handler sees their department's.

    Page with `next_cursor` (keyset: every page costs what the first costs); `total` is exact up to
    10,000, beyond that `total_is_lower_bound` is true. An `async` route with one hop to a worker thread (a
    `def` route with a session dependency took three) and the page not validated a second time (issue 15
    point 5).
    """
    if cursor is not None and offset:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "cursor 与 offset 不能同时使用")
    after = None
    if cursor is not None:
        try:
            after = decode_list_cursor(cursor)
        except InvalidCursor:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "cursor 无效，请使用上一页返回的 next_cursor") from None
    scoped = department_filter(user)
    if scoped is not None:
        if not scoped or (department is not None and department != scoped):
            return Page(items=[], total=0, offset=offset, limit=limit)
        department = scoped
    body = await blocking(
        _list_json, request.app.state.engine, offset, limit, status=status_, open_only=open_, overdue=overdue,
        due_before=due_before, handler=handler, department=department, after=after, due_from=due_from,
    )
    return Response(body, media_type="application/json")


def _summary(row: Application) -> ApplicationSummary:
    return ApplicationSummary.of_row(row)


@router.get("/{application_id}", response_model=ApplicationView)
async def live_state(application_id: ApplicationId, client: ClientDep, calendar: CalendarDep,
                     user: Annotated[StaffUser, READERS]) -> ApplicationView:
    """The whole live state from the workflow: status, items, due date and why, timeline, pending actions."""
    view = await live_view(client, application_id)
    if not sees_department(user, view.department):
        raise not_found(application_id)
    return await counted_on_current_calendar(client, calendar, view)


class SimilarEarlierItem(BaseModel):
    item_no: int
    earlier_application_id: str
    earlier_received_on: date
    earlier_item_no: int
    earlier_description: str
    earlier_outcome: str | None
    earlier_status: str
    score: float


@router.get("/{application_id}/similar-earlier", response_model=list[SimilarEarlierItem])
async def similar_earlier(
    application_id: ApplicationId, client: ClientDep, session: SessionDep, user: Annotated[StaffUser, READERS],
) -> list[SimilarEarlierItem]:
    """Earlier applications of the same applicant (name, and e-mail or phone) with similar items: for 不予处理-2 (Reg. 36(6))."""
    from sqlmodel import or_, select

    from db.models import ApplicationItem
    from outcomes.similar import EarlierItem, similar_items

    view = await live_view(client, application_id)
    if not sees_department(user, view.department):
        raise not_found(application_id)

    def earlier_rows() -> list:
        this = session.get(Application, application_id)
        if this is None:
            return []
        same_contact = [c for c in (
            Application.applicant_email == this.applicant_email if this.applicant_email else None,
            Application.applicant_phone == this.applicant_phone if this.applicant_phone else None) if c is not None]
        if not same_contact:
            return []
        return list(session.exec(
            select(Application, ApplicationItem).join(ApplicationItem, ApplicationItem.application_id == Application.id)
            .where(Application.applicant_name == this.applicant_name, or_(*same_contact),
                   Application.id != application_id, Application.received_on <= this.received_on)
            .order_by(Application.received_on.desc()).limit(500)
        ).all())

    rows = await blocking(earlier_rows)
    if not rows:
        return []
    earlier = {(a.id, i.item_no): (a, i) for a, i in rows}
    found = similar_items([item.description for item in view.items],
                          [EarlierItem(a.id, i.item_no, i.description, i.outcome) for a, i in earlier.values()])
    return [SimilarEarlierItem(
        item_no=f.item_no, earlier_application_id=f.earlier.application_id,
        earlier_received_on=earlier[(f.earlier.application_id, f.earlier.item_no)][0].received_on,
        earlier_item_no=f.earlier.item_no, earlier_description=f.earlier.description, earlier_outcome=f.earlier.outcome,
        earlier_status=earlier[(f.earlier.application_id, f.earlier.item_no)][0].status, score=f.score,
    ) for f in found]


class PossibleDuplicate(BaseModel):
    application_id: str
    received_on: date
    status: str


@router.get("/{application_id}/possible-duplicates", response_model=list[PossibleDuplicate])
async def possible_duplicates(application_id: ApplicationId, session: SessionDep,
                              user: Annotated[StaffUser, READERS]) -> list[PossibleDuplicate]:
    """Issue 23 point 6: the same applicant's applications with the same items within a day (可能重复), both ways."""
    row = await blocking(session.get, Application, application_id)
    if row is None or not sees_department(user, row.department):
        raise not_found(application_id)
    found = await blocking(duplicates_of, session.get_bind(), application_id)
    return [PossibleDuplicate(application_id=d.application_id, received_on=d.received_on, status=d.status) for d in found]


@router.get("/{application_id}/events", response_model=list[EventOut])
def recorded_events(application_id: ApplicationId, session: SessionDep, user: Annotated[StaffUser, READERS]) -> list[EventOut]:
    """The timeline as recorded in the database (what audit and reports read)."""
    row = session.get(Application, application_id)
    if row is None or not sees_department(user, row.department):
        raise not_found(application_id)
    return [EventOut(seq=e.seq, at=e.at, kind=e.kind, actor=e.actor, summary=e.summary)
            for e in get_events(session, application_id)]


async def _repeat_checked(session: Session, application_id: str, command: ProposeDecision) -> ProposeDecision:
    """不予处理-2 names an earlier application of the same applicant, answered, with a matching item (issue 24 point
    7; db/repeat_repository.py): otherwise 409 with the reason; the score goes with the proposal."""
    if command.outcome != OutcomeCode.NOT_PROCESSED_REPEAT or not command.earlier_application_id:
        return command
    from db.repeat_repository import check_repeat

    checked = await blocking(check_repeat, session, application_id, command.item_no, command.earlier_application_id)
    if checked.refusal:
        raise HTTPException(status.HTTP_409_CONFLICT, checked.refusal)
    return command.model_copy(update={"earlier_similarity": checked.score})


def _action(path: str, update: str, body_type: type[BaseModel], message: type[BaseModel], summary: str,
            check=None) -> None:
    roles = ACTION_ROLES[path]

    async def act(
        application_id: ApplicationId, body: Any, session: SessionDep, client: ClientDep, calendar: CalendarDep,
        user: Annotated[StaffUser, Depends(require(*roles))],
    ) -> ApplicationView:
        await ensure_visible(user, application_id, client)
        fields = body.model_dump()
        if path == "assign":  # issue 23 point 1: a real, active handler of that 科室, before the workflow is asked
            fields["handler"], fields["department"] = await blocking(
                _checked_assignee, session, fields["handler"], fields["department"])
        await catch_up_before_acting(client, calendar, session, application_id)
        command = message.model_validate(fields | {"by": user.username})
        if check is not None:
            command = await check(session, application_id, command)
        return await run_update(client, application_id, update, command, ApplicationView, what="申请",
                                ended=lambda: blocking(how_it_ended, session, application_id))

    act.__annotations__["body"] = body_type
    act.__name__ = update
    router.add_api_route(
        f"/{{application_id}}/{path}", act, methods=["POST"], response_model=ApplicationView,
        summary=f"{summary} — {', '.join(roles)}",
        responses={401: {"description": "未登录"}, 403: {"description": "角色不符"}, 404: {"description": "没有该申请"},
                   409: {"description": "当前不能办理此事项（附原因）"}},
    )


_action("assign", "assign", schemas.AssignBody, AssignHandler, "Assign the handler (指定承办人)")
_action("supplement-request", "request_supplement", schemas.RequestSupplementBody, RequestSupplement,
        "Send the one supplement notice (补正告知)")
_action("supplement", "supplement_received", schemas.SupplementReceivedBody, SupplementReceived,
        "Record the supplement; the period restarts")
_action("supplement-lapse", "decide_supplement_lapse", schemas.DecideSupplementLapseBody, DecideSupplementLapse,
        "The supplement deadline passed: new deadline (good reason) or 其他处理-1 (Reg. 30)")
# fee-proposal, fee-decision, fee-payment: api/routes/fees.py (the month's count from the database; fee records).
_action("extension-request", "request_extension", schemas.RequestExtensionBody, RequestExtension,
        "Handler asks for the one extension (延期)")
_action("extension-decision", "decide_extension", schemas.DecideExtensionBody, DecideExtension,
        "Supervisor approves or refuses the extension")
_action("reasons-request", "ask_reasons", schemas.AskReasonsBody, AskReasons,
        "Reg. 35: ask the applicant to explain a request clearly beyond a reasonable range")
_action("reasons", "reasons_received", schemas.ReasonsReceivedBody, ReasonsReceived,
        "Reg. 35: record the applicant's reasons by their receipt date")
_action("excessive-decision", "decide_excessive", schemas.DecideExcessiveBody, DecideExcessive,
        "Reg. 35: supervisor decides: 不予处理-4, or a longer reasonable period (notice sent)")
_action("consultations", "start_consultation", schemas.StartConsultationBody, StartConsultation,
        "Consult a third party or co-producing agency")
_action("consultation-restart", "restart_consultation", schemas.RestartConsultationBody, RestartConsultation,
        "Restart a consultation whose workflow failed or was terminated")
_action("override", "override_objection", schemas.OverrideObjectionBody, OverrideObjection,
        "Supervisor discloses despite an objection (public interest)")
_action("decisions", "propose_decision", schemas.ProposeDecisionBody, ProposeDecision,
        "Handler proposes one item's outcome (拟办意见)", check=_repeat_checked)
_action("submit", "submit_for_review", schemas.SubmitForReviewBody, SubmitForReview,
        "Submit proposals; runs the confidentiality pre-screen")
_action("review", "review", schemas.ReviewDecisionBody, ReviewDecision, "Confidentiality reviewer approves or returns")
_action("sign", "sign", schemas.SignReplyBody, SignReply, "Supervisor signs the unified reply; it is sent")
_action("delivery", "confirm_delivery", schemas.ConfirmDeliveryBody, ConfirmDelivery,
        "Staff confirm postal or pickup delivery")
_action("withdraw", "withdraw", schemas.WithdrawBody, Withdraw,
        "Registrar records a written withdrawal (applicants withdraw online via /applicant)")
