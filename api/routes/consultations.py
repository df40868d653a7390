"""Consultations as staff see them; an answer received on paper is recorded here by staff.

Third parties answer online through their signed link (api/routes/third_party.py).
"""

import re
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, status

from api.deps import ClientDep
from api.schemas import ConsultationAnswerBody
from api.security import STAFF_READERS, require, sees_department
from api.temporal_calls import run_query, run_update
from db.models_security import StaffUser
from workflows.messages import ApplicationView, ConsultationView, StateQuery

CONSULTATION_ENDED = "本次征求意见已结束（已收到您的意见，或提出意见的期限已届满），不能再提交"
CONSULTATION_ID = Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}(\.consult-\d{1,4})?$", description="征求意见编号")
ConsultationId = Annotated[str, CONSULTATION_ID]

router = APIRouter(prefix="/api/v1/consultations", tags=["consultations"])


def application_of(consultation_id: str) -> str:
    return re.sub(r"\.consult-\d+$", "", consultation_id)


async def _visible(user: StaffUser, consultation_id: str, client) -> None:
    if user.role_set() & {"registrar", "reviewer", "supervisor"}:
        return
    application_id = application_of(consultation_id)
    try:
        view = await run_query(client, application_id, "state", StateQuery(), ApplicationView, what="征求意见")
    except HTTPException:
        view = None
    if view is None or not sees_department(user, view.department):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"没有编号为 {consultation_id} 的征求意见")


@router.get("/{consultation_id}", response_model=ConsultationView)
async def consultation(
    consultation_id: ConsultationId, client: ClientDep,
    user: Annotated[StaffUser, Depends(require(*sorted(STAFF_READERS)))],
) -> ConsultationView:
    await _visible(user, consultation_id, client)
    return await run_query(client, consultation_id, "view", None, ConsultationView, what="征求意见")


@router.post("/{consultation_id}/answer", response_model=ConsultationView)
async def answer(
    consultation_id: ConsultationId, body: ConsultationAnswerBody, client: ClientDep,
    user: Annotated[StaffUser, Depends(require("registrar", "handler"))],
) -> ConsultationView:
    """Staff record an answer that arrived on paper (registrar, or the handler of the application)."""
    await _visible(user, consultation_id, client)
    return await run_update(client, consultation_id, "answer", body, ConsultationView, what="征求意见",
                            ended=lambda: CONSULTATION_ENDED)
