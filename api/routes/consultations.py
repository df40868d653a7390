"""Third parties and other agencies answer the consultation addressed to them."""

from fastapi import APIRouter

from api.deps import ClientDep
from api.temporal_calls import run_query, run_update
from workflows.messages import ConsultationAnswer, ConsultationView

CONSULTATION_ENDED = "本次征求意见已结束（已收到您的意见，或提出意见的期限已届满），不能再提交"

router = APIRouter(prefix="/api/v1/consultations", tags=["consultations"])


@router.get("/{consultation_id}", response_model=ConsultationView)
async def consultation(consultation_id: str, client: ClientDep) -> ConsultationView:
    return await run_query(client, consultation_id, "view", None, ConsultationView, what="征求意见")


@router.post("/{consultation_id}/answer", response_model=ConsultationView)
async def answer(consultation_id: str, body: ConsultationAnswer, client: ClientDep) -> ConsultationView:
    return await run_update(client, consultation_id, "answer", body, ConsultationView, what="征求意见", ended=lambda: CONSULTATION_ENDED)
