"""Third parties and other agencies answer the consultation addressed to them."""

from fastapi import APIRouter

from api.deps import ClientDep, SessionDep
from api.temporal_calls import run_query, run_update
from workflows.messages import ConsultationAnswer, ConsultationView

router = APIRouter(prefix="/api/v1/consultations", tags=["consultations"])


@router.get("/{consultation_id}", response_model=ConsultationView)
async def consultation(consultation_id: str, client: ClientDep) -> ConsultationView:
    return await run_query(client, consultation_id, "view", None, ConsultationView, what="征求意见")


@router.post("/{consultation_id}/answer", response_model=ConsultationView)
async def answer(consultation_id: str, body: ConsultationAnswer, client: ClientDep, session: SessionDep) -> ConsultationView:
    return await run_update(client, session, consultation_id, "answer", body, ConsultationView, what="征求意见")
