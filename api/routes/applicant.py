"""Applicants: with the application number and the query code (查询码, header X-Query-Code) they see
their application in their own words, supplement it, withdraw it and fetch the reply — nothing else.

A wrong code and an unknown number give the same 404 (no probing which numbers exist); every
attempt is an audit row, and look-ups are rate-limited per client address (429).
"""

import re


from fastapi import APIRouter, Depends, HTTPException, status

from contracts.status import APPLICANT_LABELS
from api.offloop import blocking
from api.deps import (
    APPLICANT, CalendarDep, ClientDep, Owned, SessionDep, catch_up_before_acting, counted_on_current_calendar, how_it_ended, live_view,
)
from api.schemas import (
    ApplicantItem,
    ApplicantStep,
    ApplicantSupplement,
    ApplicantSupplementIn,
    ApplicantView,
    ApplicantWithdrawIn,
    ReplyLetterOut,
)
from api.security import rate_limited
from api.temporal_calls import run_update
from core import clock
from contracts.application_view import ApplicationView
from contracts.intake import SupplementReceived, Withdraw

router = APIRouter(prefix="/api/v1/applicant", tags=["applicants"],
                   dependencies=[Depends(rate_limited("applicant", "rate_limit_lookup_per_minute"))],
                   responses={404: {"description": "编号或查询码不正确"}, 429: {"description": "请求过于频繁"}})


STATUS_TEXT = APPLICANT_LABELS
# The timeline an applicant sees: only steps that concern them, in their words, without staff names.
APPLICANT_STEPS = {
    "registered": "申请已登记",
    "supplement-requested": "本机关已发出补正通知，请按通知要求补正",
    "supplement-received": "已收到补正，答复期限自收到补正之日起重新计算",
    "extension-approved": "答复期限已依法延长",
    "consultation-started": "本机关正在依法征求意见，征求意见期间不计入答复期限",
    "consultation-answered": "征求意见程序已结束",
    "due-date-changed": "答复期限已更新",
    "signed": "答复已签发",
    "delivered": "答复已送达",
    "withdrawn": "申请已撤回",
    "abandoned": "申请因逾期未补正视为放弃",
}
CONSULTEE = re.compile(r"征求「[^」]*」意见")


def _generic(text: str) -> str:
    return CONSULTEE.sub("征求意见", text)


def applicant_view(view: ApplicationView) -> ApplicantView:
    replied = view.replied_on is not None
    return ApplicantView(
        application_id=view.application_id, status=view.status, status_text=STATUS_TEXT.get(view.status, "办理中"),
        received_on=view.received_on,
        items=[ApplicantItem(item_no=i.item_no, description=i.description,
                             outcome=i.final_outcome.value if replied and i.final_outcome else None) for i in view.items],
        due_on=view.due.due_on if view.due else None, due_provisional=view.due.provisional if view.due else False,
        due_explanation=[_generic(step) for step in view.due.steps] if view.due else [],
        working_days_left=view.working_days_left,
        paused=any(p.ended_on is None for p in view.paused_intervals),
        extended=view.extension is not None and view.extension.decision == "approved",
        supplement=ApplicantSupplement(needed=view.supplement.needed, deadline_on=view.supplement.deadline_on,
                                       received_on=view.supplement.received_on, window_days=view.supplement.window_days,
                                       notice_served_on=view.supplement.notice_served_on) if view.supplement else None,
        replied_on=view.replied_on, reply_available=replied and view.reply_draft is not None,
        timeline=[ApplicantStep(at=e.at, what=APPLICANT_STEPS[e.kind]) for e in view.timeline if e.kind in APPLICANT_STEPS],
    )


@router.get("/applications/{application_id}", response_model=ApplicantView)
async def my_application(application_id: Owned, client: ClientDep, calendar: CalendarDep) -> ApplicantView:
    """Status, due date and why, what to supplement, and the steps so far."""
    return applicant_view(await counted_on_current_calendar(client, calendar, await live_view(client, application_id)))


@router.post("/applications/{application_id}/supplement", response_model=ApplicantView)
async def supplement(application_id: Owned, body: ApplicantSupplementIn, client: ClientDep,
                     session: SessionDep, calendar: CalendarDep) -> ApplicantView:
    """Send the supplement asked for in the notice (online: received today)."""
    await catch_up_before_acting(client, calendar, session, application_id)
    command = SupplementReceived(received_on=clock.today(), note=body.note, by=APPLICANT)
    view = await run_update(client, application_id, "supplement_received", command, ApplicationView, what="申请",
                            ended=lambda: blocking(how_it_ended, session, application_id))
    return applicant_view(view)


@router.post("/applications/{application_id}/withdraw", response_model=ApplicantView)
async def withdraw(application_id: Owned, body: ApplicantWithdrawIn, client: ClientDep,
                   session: SessionDep) -> ApplicantView:
    view = await run_update(client, application_id, "withdraw", Withdraw(reason=body.reason, by=APPLICANT),
                            ApplicationView, what="申请", ended=lambda: blocking(how_it_ended, session, application_id))
    return applicant_view(view)


def reply_document_url(application_id: str) -> str:
    """Where the applicant downloads the signed reply PDF (api/routes/letters.py, same query code)."""
    return f"/api/v1/portal/applications/{application_id}/reply.pdf"


@router.get("/applications/{application_id}/reply", response_model=ReplyLetterOut,
            responses={409: {"description": "尚未答复"}})
async def reply(application_id: Owned, client: ClientDep) -> ReplyLetterOut:
    """The reply letter's text once it has been signed, and where to download its PDF."""
    view = await live_view(client, application_id)
    if view.replied_on is None or view.reply_draft is None:
        raise HTTPException(status.HTTP_409_CONFLICT, "本申请尚未答复，答复签发后可在此下载")
    return ReplyLetterOut(application_id=application_id, replied_on=view.replied_on, subject=view.reply_draft.subject,
                          text=view.reply_draft.body, pdf_url=reply_document_url(application_id))


