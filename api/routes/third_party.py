"""Third parties answer a consultation through the signed link in their letter (no account).

The link's token (core.security.third_party_link) names one consultation and expires; its nonce is
recorded as used when the answer is accepted, so the link works once. A bad, expired or used link is
refused and audited; the page shows only the consultee's own name and the items they are asked about.
"""

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Request, status
from sqlalchemy.exc import IntegrityError

from api.deps import CONSULTATION_ENDED, ClientDep, SessionDep, SettingsDep, application_of
from api.offloop import blocking
from api.schemas import ThirdPartyAnswerBody, ThirdPartyView
from api.security import mark_actor, rate_limited
from api.temporal_calls import run_query, run_update
from clock import SHANGHAI
from core import clock
from core.security import read_third_party_token
from db.models_security import ThirdPartyLinkUse
from sqlmodel import Session
from contracts.consultations import ConsultationAnswer, ConsultationView

router = APIRouter(prefix="/api/v1/third-party", tags=["third parties"],
                   dependencies=[Depends(rate_limited("third-party", "rate_limit_lookup_per_minute"))],
                   responses={404: {"description": "链接无效或已过期"}, 409: {"description": "链接已使用"},
                              429: {"description": "请求过于频繁"}})

INVALID_LINK = "链接无效或已过期。如需提交意见，请与来函机关联系"
USED_LINK = "您已通过此链接提交过意见，链接已失效"


def consultation_of_link(
    token: Annotated[str, Path(min_length=20, max_length=2000)], request: Request, settings: SettingsDep,
    session: SessionDep,
) -> tuple[str, str]:
    """(consultation id, nonce) of a valid, unexpired, unused link."""
    mark_actor(request, "third-party", "third-party")
    claims = read_third_party_token(settings, token, verify_expiry=False)
    if claims is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, INVALID_LINK)
    consultation_id = claims["cid"]
    mark_actor(request, f"third-party:{consultation_id}", "third-party", application_of(consultation_id))
    if session.get(ThirdPartyLinkUse, claims["nonce"]) is not None:
        raise HTTPException(status.HTTP_409_CONFLICT, USED_LINK)
    return consultation_id, claims["nonce"], claims["exp"]


Link = Annotated[tuple[str, str, int], Depends(consultation_of_link)]


def link_open(view: ConsultationView, token_exp: int) -> bool:
    """Issue 23 point 4: a link works until the end (24:00 Beijing time) of the consultee's answer window, which
    runs from the letter's proven receipt (RULES §3 Service) and moves with it — not for a fixed number of
    calendar days from the letter date (it died on the window's last day, earlier for a posted letter or over a
    holiday). Before the receipt is proven the window has not started: open. The token's own lifetime counts too."""
    if clock.now().timestamp() < token_exp or view.window_ends_on is None:
        return True
    return clock.now().astimezone(SHANGHAI).date() <= view.window_ends_on


async def _open_view(client, consultation_id: str, token_exp: int) -> ConsultationView:
    view = await run_query(client, consultation_id, "view", None, ConsultationView, what="征求意见")
    if not link_open(view, token_exp):
        raise HTTPException(status.HTTP_404_NOT_FOUND,
                            f"答复期限已于{view.window_ends_on.year}年{view.window_ends_on.month}月"
                            f"{view.window_ends_on.day}日届满，链接已失效。如需提交意见，请与来函机关联系")
    return view


def _shown(view: ConsultationView) -> ThirdPartyView:
    return ThirdPartyView(consultee_name=view.consultee_name, item_descriptions=view.item_descriptions,
                          sent_on=view.sent_on, window_ends_on=view.window_ends_on, answered=view.answered,
                          window_provisional=view.window_provisional)


@router.get("/{token}", response_model=ThirdPartyView)
async def letter(link: Link, client: ClientDep) -> ThirdPartyView:
    """What the agency asks this third party about, and until when they may answer."""
    consultation_id, _, exp = link
    return _shown(await _open_view(client, consultation_id, exp))


@router.post("/{token}", response_model=ThirdPartyView)
async def answer(link: Link, body: ThirdPartyAnswerBody, client: ClientDep, session: SessionDep) -> ThirdPartyView:
    """Consent or objection (with reasons); accepted once. It counts from the day it arrives: no date of one's own."""
    consultation_id, nonce, exp = link
    await _open_view(client, consultation_id, exp)
    await blocking(_claim, session, nonce, consultation_id)  # claim the link first: two answers racing, one wins
    try:
        message = ConsultationAnswer(position=body.position, reasons=body.reasons)
        view = await run_update(client, consultation_id, "answer", message, ConsultationView, what="征求意见",
                                ended=lambda: CONSULTATION_ENDED)
    except BaseException:
        # Not answered (refused, or the consultation has ended): the link is not spent by a failure.
        await blocking(_release, session, nonce)
        raise
    return _shown(view)


def _claim(session: Session, nonce: str, consultation_id: str) -> None:
    session.add(ThirdPartyLinkUse(nonce=nonce, consultation_id=consultation_id))
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise HTTPException(status.HTTP_409_CONFLICT, USED_LINK) from None


def _release(session: Session, nonce: str) -> None:
    used = session.get(ThirdPartyLinkUse, nonce)
    if used is not None:
        session.delete(used)
        session.commit()
