"""Consultations as staff see them; an answer received on paper is recorded here by staff.

Third parties answer online through their signed link (api/routes/third_party.py).
"""

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, status

from api.deps import CONSULTATION_ENDED, CalendarDep, ClientDep, SessionDep, application_of, catch_up_before_acting
from api.schemas import ConsultationAnswerBody, RecordServiceBody
from api.security import STAFF_READERS, require, sees_department
from api.temporal_calls import run_query, run_update
from db.models_security import StaffUser
from contracts.application_view import ApplicationView, StateQuery
from contracts.consultations import (
    ConsultationAnswer, ConsultationState, ConsultationView, LateConsultationAnswer, RecordService,
)

CONSULTATION_ID = Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}(\.consult-\d{1,4})?$", description="征求意见编号")
ConsultationId = Annotated[str, CONSULTATION_ID]

router = APIRouter(prefix="/api/v1/consultations", tags=["consultations"])


async def _visible(user: StaffUser, consultation_id: str, client) -> ConsultationState | None:
    """The consultation as the application holds it; 404 for a handler of another department."""
    application_id = application_of(consultation_id)
    try:
        view = await run_query(client, application_id, "state", StateQuery(), ApplicationView, what="征求意见")
    except HTTPException:
        view = None
    if not user.role_set() & {"registrar", "reviewer", "supervisor"}:
        if view is None or not sees_department(user, view.department):
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"没有编号为 {consultation_id} 的征求意见")
    if view is None:
        return None
    return next((c for c in view.consultations if c.consultation_id == consultation_id), None)


@router.get("/{consultation_id}", response_model=ConsultationView)
async def consultation(
    consultation_id: ConsultationId, client: ClientDep,
    user: Annotated[StaffUser, Depends(require(*sorted(STAFF_READERS)))],
) -> ConsultationView:
    await _visible(user, consultation_id, client)
    return await run_query(client, consultation_id, "view", None, ConsultationView, what="征求意见")


@router.post("/{consultation_id}/answer", response_model=ConsultationView)
async def answer(
    consultation_id: ConsultationId, body: ConsultationAnswerBody, client: ClientDep, calendar: CalendarDep,
    session: SessionDep, user: Annotated[StaffUser, Depends(require("registrar", "handler"))],
) -> ConsultationView:
    """Staff record an answer that arrived on paper: the day the agency received it counts (Reg. 32), and who entered it.

    An answer received within the window but entered after the window was closed as silence still counts:
    it goes to the application, which reopens the question with the answer's receipt date.
    """
    state = await _visible(user, consultation_id, client)
    # Closed as silence, or its workflow failed / was terminated (issue 12 point 2): the application takes it.
    if state is not None and (state.position == "silence" or state.child_status == "failed"):
        if body.received_on is None:
            why = "提出意见的期限已届满" if state.position == "silence" else "征求意见流程已意外终止"
            raise HTTPException(status.HTTP_409_CONFLICT, f"{why}：请填写本机关收到该意见的日期（邮戳或签收日期）")
        # The clock resumes on the agency's published calendar (issue 15 point 4).
        await catch_up_before_acting(client, calendar, session, application_of(consultation_id))
        await run_update(client, application_of(consultation_id), "late_consultation_answer", LateConsultationAnswer(
            consultation_id=consultation_id, position=body.position, reasons=body.reasons,
            received_on=body.received_on, evidence=body.evidence, by=user.username,
        ), ApplicationView, what="申请", ended=lambda: CONSULTATION_ENDED)
        return await run_query(client, consultation_id, "view", None, ConsultationView, what="征求意见")
    if state is not None and not state.from_receipt:
        # Started before issue 11: the child takes the answer's date as `answered_on`.
        message = ConsultationAnswer(position=body.position, reasons=body.reasons, answered_on=body.received_on)
    else:
        message = ConsultationAnswer(position=body.position, reasons=body.reasons, received_on=body.received_on,
                                     entered_by=user.username, evidence=body.evidence)
    return await run_update(client, consultation_id, "answer", message, ConsultationView, what="征求意见",
                            ended=lambda: CONSULTATION_ENDED)


@router.post("/{consultation_id}/service", response_model=ConsultationView)
async def record_service(
    consultation_id: ConsultationId, body: RecordServiceBody, client: ClientDep,
    user: Annotated[StaffUser, Depends(require("registrar", "handler"))],
) -> ConsultationView:
    """Staff record a posted letter: the day it was handed to the post (the clock stops) and its signed-for date (the window runs)."""
    await _visible(user, consultation_id, client)
    command = RecordService.model_validate(body.model_dump() | {"by": user.username})
    return await run_update(client, consultation_id, "record_service", command, ConsultationView, what="征求意见",
                            ended=lambda: CONSULTATION_ENDED)
