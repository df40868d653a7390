"""Applications: intake, the supervisors' list, live state, and one endpoint per staff action."""

import logging
from datetime import date, datetime, timezone
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, status
from pydantic import BaseModel
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from api.deps import CalendarDep, ClientDep, SessionDep, SettingsDep
from api.schemas import ApplicationCreate, ApplicationCreated, ApplicationSummary, EventOut, Page
from api.temporal_calls import run_query, run_update
from clock import ClockInput, compute_due, local_date
from db.models import Application
from db.repository import allocate_application_number, get_events, list_applications, save_application
from policy import profile_named
from policy.intake import RECEIPT_BASIS
from workcalendar import WorkCalendar
from workflows.application import DisclosureApplicationWorkflow
from workflows.records import initial_record, registration_event
from workflows.messages import (
    ApplicationInput,
    ApplicationView,
    AssignHandler,
    ConfirmDelivery,
    DecideExtension,
    OverrideObjection,
    ProposeDecision,
    RequestExtension,
    RequestSupplement,
    ReviewDecision,
    SignReply,
    StartConsultation,
    StateQuery,
    SubmitForReview,
    SupplementReceived,
    Withdraw,
)

router = APIRouter(prefix="/api/v1/applications", tags=["applications"])
log = logging.getLogger("disclosure.api")
NUMBER_ATTEMPTS = 5


def shanghai_today() -> date:
    return local_date(datetime.now(timezone.utc))


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ApplicationCreated)
async def register_application(
    body: ApplicationCreate, session: SessionDep, client: ClientDep, settings: SettingsDep, calendar: CalendarDep
) -> ApplicationCreated:
    """Register an application and start its workflow; returns its number, receipt date and due date."""
    if body.received_on > shanghai_today():
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "收到申请之日不能晚于今天")
    if (shanghai_today() - body.received_on).days > settings.max_receipt_age_days:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                            f"收到申请之日 {body.received_on} 早于 {settings.max_receipt_age_days} 天前，请核对日期")
    policy = profile_named(body.policy).model_copy(
        update={"reminder_days_before_due": settings.reminder_days_before_due}
    )
    calendar_data = calendar.since(body.received_on.year)
    due = compute_due(
        WorkCalendar(calendar_data), ClockInput(received_on=body.received_on, reply_days=policy.reply_days,
                                            receipt_basis=RECEIPT_BASIS[body.channel])
    )
    for _ in range(NUMBER_ATTEMPTS):
        application_id = allocate_application_number(session, shanghai_today().year, settings.application_number_prefix)
        session.commit()  # the number is spent even if the start fails: a gap, never a duplicate
        inp = ApplicationInput(
            application_id=application_id, channel=body.channel, received_on=body.received_on,
            registered_at=datetime.now(timezone.utc), registered_by=body.registered_by, applicant=body.applicant,
            items=body.items, delivery_method=body.delivery_method, policy=policy, calendar=calendar_data,
            agency_name=settings.agency_name, handler=body.handler, department=body.department,
        )
        try:
            await client.start_workflow(
                DisclosureApplicationWorkflow.run, inp, id=application_id, task_queue=settings.task_queue,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            )
        except WorkflowAlreadyStartedError:
            # Temporal already holds this number (the database was restored from an older copy).
            log.error("application number %s already used in Temporal; allocating the next", application_id)
            continue
        # Listed at once; the workflow's own first write of the same row and event is a no-op.
        if session.get(Application, application_id) is None:
            save_application(session, initial_record(inp, due), [registration_event(inp, due)])
            session.commit()
        break
    else:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "申请编号分配异常，申请未登记，请联系管理员")
    return ApplicationCreated(
        application_id=application_id, received_on=body.received_on, due_on=due.due_on,
        due_provisional=due.provisional, due_explanation=due.steps, calendar_version=due.calendar_version,
    )


@router.get("", response_model=Page[ApplicationSummary])
def list_for_supervisors(
    session: SessionDep,
    status_: Annotated[str | None, Query(alias="status")] = None,
    overdue: bool | None = None,
    due_before: date | None = None,
    handler: str | None = None,
    department: str | None = None,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> Page[ApplicationSummary]:
    """Applications from the database (not from each workflow), soonest due first."""
    rows, total = list_applications(
        session, status=status_, overdue=overdue, due_before=due_before, handler=handler,
        department=department, offset=offset, limit=limit,
    )
    return Page(items=[_summary(r) for r in rows], total=total, offset=offset, limit=limit)


def _summary(row: Application) -> ApplicationSummary:
    return ApplicationSummary(
        application_id=row.id, received_on=row.received_on, channel=row.channel, applicant_name=row.applicant_name,
        status=row.status, handler=row.handler, department=row.department, due_on=row.due_on,
        due_provisional=row.due_provisional, overdue=row.overdue, paused=row.paused, extended=row.extended,
        closed_at=row.closed_at, final_outcome=row.final_outcome,
    )


@router.get("/{application_id}", response_model=ApplicationView)
async def live_state(application_id: str, client: ClientDep) -> ApplicationView:
    """The whole live state from the workflow: status, items, due date and why, timeline, pending actions."""
    return await run_query(client, application_id, "state", StateQuery(today=shanghai_today()), ApplicationView, what="申请")


@router.get("/{application_id}/events", response_model=list[EventOut])
def recorded_events(application_id: str, session: SessionDep) -> list[EventOut]:
    """The timeline as recorded in the database (what audit and reports read)."""
    if session.get(Application, application_id) is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"没有编号为 {application_id} 的申请")
    return [EventOut(seq=e.seq, at=e.at, kind=e.kind, actor=e.actor, summary=e.summary)
            for e in get_events(session, application_id)]


ENDED_MESSAGES = {"withdrawn": "本申请已撤回", "abandoned": "本申请已因逾期未补正视为放弃"}


def _how_it_ended(session, application_id: str) -> str:
    row = session.get(Application, application_id)
    return ENDED_MESSAGES.get(row.status if row else "", "本申请已办结") + "，不能再办理此事项"


def _action(path: str, update: str, body_type: type[BaseModel], summary: str) -> None:
    async def act(application_id: str, body: Any, session: SessionDep, client: ClientDep) -> ApplicationView:
        return await run_update(client, application_id, update, body, ApplicationView, what="申请",
                                ended=lambda: _how_it_ended(session, application_id))

    act.__annotations__["body"] = body_type
    act.__name__ = update
    router.add_api_route(
        f"/{{application_id}}/{path}", act, methods=["POST"], response_model=ApplicationView, summary=summary,
        responses={404: {"description": "没有该申请"}, 409: {"description": "当前不能办理此事项（附原因）"}},
    )


_action("assign", "assign", AssignHandler, "Assign the handler (指定承办人)")
_action("supplement-request", "request_supplement", RequestSupplement, "Send the one supplement notice (补正告知)")
_action("supplement", "supplement_received", SupplementReceived, "Record the supplement; the period restarts")
_action("extension-request", "request_extension", RequestExtension, "Handler asks for the one extension (延期)")
_action("extension-decision", "decide_extension", DecideExtension, "Supervisor approves or refuses the extension")
_action("consultations", "start_consultation", StartConsultation, "Consult a third party or co-producing agency")
_action("override", "override_objection", OverrideObjection, "Supervisor discloses despite an objection (public interest)")
_action("decisions", "propose_decision", ProposeDecision, "Handler proposes one item's outcome (拟办意见)")
_action("submit", "submit_for_review", SubmitForReview, "Submit proposals; runs the confidentiality pre-screen")
_action("review", "review", ReviewDecision, "Confidentiality reviewer approves or returns")
_action("sign", "sign", SignReply, "Supervisor signs the unified reply; it is sent")
_action("delivery", "confirm_delivery", ConfirmDelivery, "Staff confirm postal or pickup delivery")
_action("withdraw", "withdraw", Withdraw, "The applicant withdraws the application")
