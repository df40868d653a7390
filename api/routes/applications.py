"""Applications: intake, the supervisors' list, live state, and one endpoint per staff action."""

import logging
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response, status
from pydantic import BaseModel, Field
from sqlmodel import Session

from api import schemas
from api.deps import (
    Owned,
    ACTION_ROLES, READERS, ApplicationId, CalendarDep, ClientDep, RegistrationDep, SessionDep, SettingsDep,
    catch_up_before_acting, counted_on_current_calendar, ensure_visible, how_it_ended, live_view, not_found,
)
from api.intake import ONLINE_FORM, register
from api.offloop import blocking
from api.schemas import ApplicationCreate, ApplicationCreated, ApplicationSummary, EventOut, Page, PublicApplicationCreate
from api.security import department_filter, mark_actor, rate_limited, require, sees_department
from api.temporal_calls import run_update
from api.tenancy import registering_agency
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
from contracts.intake import ApplicationInput
from contracts.application_view import ApplicationView
from contracts.consultations import OverrideObjection, RestartConsultation, StartConsultation
from contracts.intake import AssignHandler, DecideSupplementLapse, RequestSupplement, SupplementReceived, Withdraw
from contracts.period import AskReasons, DecideExcessive, DecideExtension, ReasonsReceived, RequestExtension
from contracts.reply import ConfirmDelivery, ProposeDecision, ReviewDecision, SignReply, SubmitForReview

router = APIRouter(prefix="/api/v1/applications", tags=["applications"])
public_router = APIRouter(prefix="/api/v1/public", tags=["applicants"])
log = logging.getLogger("disclosure.api")
PLATFORM_TRANSFER = "platform-transfer"  # issue 25 point 4: re-submitted by the applicant through the platform
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
    if body.agency is not None and body.agency != registrar.agency:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                            "只能登记本机关收到的申请：受理机关与您所在机关不一致（应向其他机关提出的申请，请按第三十六条第五项答复）")
    agency = await blocking(registering_agency, request.app.state.engine, registrar.agency)
    created = await register(body, registrar.username, writes, client, settings, calendar, agency)
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
    agency = await blocking(registering_agency, request.app.state.engine, body.agency)
    created = await register(staffed, ONLINE_FORM, writes, client, settings, calendar, agency)
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


async def _decision_checked(session: Session, application_id: str, command: ProposeDecision) -> ProposeDecision:
    """Issue 25 point 4: a competent agency named by its code is an agency of this platform, not this one; the
    letter names it with its contact (Reg. 36(5)) unless the handler wrote that already. Then the repeat check."""
    if command.referral_agency:
        from services.agencies import agency_of_application, get_agency

        engine = session.get_bind()
        target = await blocking(get_agency, engine, command.referral_agency.strip().lower())
        own = await blocking(agency_of_application, engine, application_id)
        if target is None or not target.active:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                                f"平台上没有代码为 {command.referral_agency} 的机关，请从机关列表中选择负责公开的机关")
        if target.code == own:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "负责公开的机关不能是本机关")
        named = f"{target.name}（{target.contact}）" if target.contact else target.name
        command = command.model_copy(update={"referral_agency": target.code,
                                             "referral": command.referral or f"{named}，可通过本平台向其提出申请"})
    return await _repeat_checked(session, application_id, command)


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
        "Handler proposes one item's outcome (拟办意见)", check=_decision_checked)
_action("submit", "submit_for_review", schemas.SubmitForReviewBody, SubmitForReview,
        "Submit proposals; runs the confidentiality pre-screen")
_action("review", "review", schemas.ReviewDecisionBody, ReviewDecision, "Confidentiality reviewer approves or returns")
_action("sign", "sign", schemas.SignReplyBody, SignReply, "Supervisor signs the unified reply; it is sent")
_action("delivery", "confirm_delivery", schemas.ConfirmDeliveryBody, ConfirmDelivery,
        "Staff confirm postal or pickup delivery")
_action("withdraw", "withdraw", schemas.WithdrawBody, Withdraw,
        "Registrar records a written withdrawal (applicants withdraw online via /applicant)")


# --- issue 25 point 4: the wrong agency, and the one-step re-submission to the competent one ------------------------

class ResubmitIn(BaseModel):
    agency: str | None = None  # which competent agency, when the reply names more than one


class ResubmitOut(BaseModel):
    application_id: str = Field(description="the new application's number at the competent agency")
    agency: str
    agency_name: str
    query_code: str | None = Field(description="its query code, shown once (None: re-submitted before)")
    received_on: date
    due_on: date | None


def _link_of(engine, application_id: str, agency: str):
    from db.models_agency import ApplicationLink

    with Session(engine) as session:
        return session.get(ApplicationLink, (application_id, agency))


def _record_link(engine, application_id: str, agency: str, to_id: str, items: list[int]) -> None:
    from db.models_agency import ApplicationLink

    with Session(engine) as session:
        if session.get(ApplicationLink, (application_id, agency)) is None:
            session.add(ApplicationLink(from_id=application_id, to_agency=agency, to_id=to_id, items=items))
            session.commit()


async def _started_with(client, application_id: str) -> ApplicationInput:
    """The application's input as the workflow was started with it (the applicant's whole data, decrypted)."""
    history = await client.get_workflow_handle(application_id).fetch_history()
    started = history.events[0].workflow_execution_started_event_attributes
    return (await client.data_converter.decode(started.input.payloads, [ApplicationInput]))[0]


@public_router.post("/applications/{application_id}/resubmit", response_model=ResubmitOut,
                    status_code=status.HTTP_201_CREATED,
                    dependencies=[Depends(rate_limited("public-intake", "rate_limit_public_intake_per_minute"))],
                    responses={404: {"description": "编号或查询码有误"}, 409: {"description": "不能转交（附原因）"}})
async def resubmit_to_the_competent_agency(
    application_id: Owned, body: ResubmitIn, request: Request, writes: RegistrationDep, client: ClientDep,
    settings: SettingsDep, calendar: CalendarDep,
) -> ResubmitOut:
    """Reg. 36(5) on the platform: the agency answered that the information is another agency's, named on this
    platform; the applicant re-submits those items there in one step — a new application with its own number and
    its own receipt date (today), linked to this one. Asked twice, the same new number."""
    engine = request.app.state.engine  # the applicant: the number and query code checked by `Owned` (api/deps.py)
    view = await live_view(client, application_id)
    if view.replied_on is None:
        raise HTTPException(status.HTTP_409_CONFLICT, "本申请尚未答复：答复告知由其他机关负责公开后，方可向该机关转交")
    referred: dict[str, list[int]] = {}
    for item in view.items:
        proposal = item.proposal
        if item.final_outcome == OutcomeCode.UNAVAILABLE_NOT_HELD and proposal and proposal.referral_agency:
            referred.setdefault(proposal.referral_agency, []).append(item.item_no)
    if not referred:
        raise HTTPException(status.HTTP_409_CONFLICT, "答复中没有告知由本平台上的其他机关负责公开的事项，不能一键转交")
    if body.agency is None and len(referred) > 1:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                            f"答复告知了多个负责公开的机关（{'、'.join(referred)}），请选择向哪一个转交")
    target_code = body.agency or next(iter(referred))
    if target_code not in referred:
        raise HTTPException(status.HTTP_409_CONFLICT, f"答复没有告知由 {target_code} 负责公开，不能向其转交")
    target = await blocking(registering_agency, engine, target_code)
    earlier = await blocking(_link_of, engine, application_id, target.code)
    if earlier is not None:
        row = await blocking(_application_row, engine, earlier.to_id)
        return ResubmitOut(application_id=earlier.to_id, agency=target.code, agency_name=target.name, query_code=None,
                           received_on=row.received_on if row else clock.today(), due_on=row.due_on if row else None)
    first = await _started_with(client, application_id)
    wanted = referred[target_code]
    applicant = schemas.ApplicantIn.model_construct(**first.applicant.model_dump())  # checked at the first intake
    new = ApplicationCreate.model_construct(
        channel="online", received_on=clock.today(), applicant=applicant,
        items=[first.items[n - 1] for n in wanted], delivery_method=first.delivery_method, handler=None,
        department=None, resubmit=True, agency=target.code,
        receipt_evidence=f"经本平台由{first.agency_name}转来（原申请 {application_id}，第三十六条第五项）")
    created = await register(new, PLATFORM_TRANSFER, writes, client, settings, calendar, target)
    await blocking(_record_link, engine, application_id, target.code, created.application_id, wanted)
    return ResubmitOut(application_id=created.application_id, agency=target.code, agency_name=target.name,
                       query_code=created.query_code, received_on=created.received_on, due_on=created.due_on)


def _application_row(engine, application_id: str):
    with Session(engine) as session:
        return session.get(Application, application_id)


@router.get("/{application_id}/links", response_model=list[dict])
async def links(application_id: ApplicationId, request: Request,
                user: Annotated[StaffUser, READERS]) -> list[dict]:
    """Applications this one was re-submitted to, or came from (issue 25 point 4), with their agency."""
    from sqlmodel import or_, select as select_

    from db.models_agency import ApplicationLink

    def read() -> list[dict]:
        with Session(request.app.state.engine) as session:
            rows = session.exec(select_(ApplicationLink).where(or_(ApplicationLink.from_id == application_id,
                                                                    ApplicationLink.to_id == application_id))).all()
        return [{"from_id": r.from_id, "to_id": r.to_id, "to_agency": r.to_agency, "items": r.items,
                 "direction": "to" if r.from_id == application_id else "from"} for r in rows]

    return await blocking(read)
