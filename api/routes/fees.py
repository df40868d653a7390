"""Fees (issue 11 point 12; Reg. 42; 国办函〔2020〕109号): the handler proposes, the supervisor decides, staff record
payment or waiver. 按件计收 counts the applicant's applications of the calendar month, all channels, from the
database by the applicant's identity (身份证件号码 / 统一社会信用代码): the handler sees the count and the list it is
based on (GET …/fee-count) and does not type it. After each fee action the fee is kept for the annual report."""

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Request, status
from pydantic import BaseModel, Field

from api import schemas
from api.offloop import blocking
from api.deps import (
    ACTION_ROLES, READERS, ApplicationId, ClientDep, SessionDep, catch_up_before_acting, ensure_visible, how_it_ended,
    live_view, not_found,
)
from api.security import require, sees_department
from api.temporal_calls import run_update
from db.fees_repository import applications_in_month_up_to, save_fee
from db.models_security import StaffUser
from core.config import NO_PAYMENT_CHANNEL
from db.session import write_turn
from fees import quote
from contracts.application_view import ApplicationView
from contracts.fees import DecideFee, FeeSettled, ProposeFee

router = APIRouter(prefix="/api/v1/applications", tags=["applications"])
WAIVER_BY_SUPERVISOR = "减免信息处理费须由负责人决定并说明理由（与收费决定相同），登记人员和承办人只能登记缴费"
NO_IDENTITY = "按件计收须按申请人身份统计当月申请件数，申请人身份证件号码（统一社会信用代码）未登记"
RESPONSES = {401: {"description": "未登录"}, 403: {"description": "角色不符"}, 404: {"description": "没有该申请"},
             409: {"description": "当前不能办理此事项（附原因）"}}


class MonthApplicationOut(BaseModel):
    application_id: str
    received_on: date
    channel: str
    status: str


class FeeCount(BaseModel):
    """按件计收: this application's ordinal among the applicant's applications of the month, and what it costs."""

    month: str = Field(description="YYYY-MM of this application's receipt date")
    ordinal: int = Field(description="this application is the applicant's n-th of the month (all channels)")
    amount_yuan: int
    basis: str
    applications: list[MonthApplicationOut] = Field(description="the applications counted, in order of receipt")


class FeeProposalBody(schemas.Body):
    """Reg. 42: proposed only when quantity or frequency clearly exceeds a reasonable range; one standard."""

    standard: Literal["per-application", "per-page"]
    quantity: int | None = Field(default=None, ge=1, le=100_000,
                                 description="per-page: the pages; per-application: leave out (counted by the system)")
    reason: str = Field(min_length=4, max_length=2000, description="why the quantity or frequency clearly exceeds a reasonable range")


def _count(session, application_id: str) -> FeeCount:
    counted = applications_in_month_up_to(session, application_id)
    if counted is None:
        raise HTTPException(status.HTTP_409_CONFLICT, NO_IDENTITY)
    this = counted[-1]
    q = quote("per-application", len(counted))
    return FeeCount(month=this.received_on.strftime("%Y-%m"), ordinal=len(counted), amount_yuan=q.amount_yuan,
                    basis=q.basis, applications=[MonthApplicationOut(**vars(m)) for m in counted])


@router.get("/{application_id}/fee-count", response_model=FeeCount, responses=RESPONSES)
async def fee_count(application_id: ApplicationId, client: ClientDep, session: SessionDep,
                    user: Annotated[StaffUser, READERS]) -> FeeCount:
    """按件计收: the applicant's applications received in this application's calendar month up to this one, all
    channels, by the applicant's identity; 409 when no identity was registered (it is required to count)."""
    view = await live_view(client, application_id)
    if not sees_department(user, view.department):
        raise not_found(application_id)
    return await blocking(_count, session, application_id)


async def _update(request: Request, session, client, application_id: str, name: str, command) -> ApplicationView:
    """One fee update on the application's workflow, then the fee it now holds kept for the annual report."""
    await catch_up_before_acting(client, request.app.state.calendar, session, application_id)
    view = await run_update(client, application_id, name, command, ApplicationView, what="申请",
                            ended=lambda: blocking(how_it_ended, session, application_id))
    return await blocking(_keep, request, session, view)


def _keep(request: Request, session, view: ApplicationView) -> ApplicationView:
    """The fee as the workflow now holds it, kept for the annual report (idempotent upsert)."""
    if view.fee is not None:
        with write_turn(request.app.state.engine):
            save_fee(session, view.application_id, view.fee.model_dump())
            session.commit()
    return view


@router.post("/{application_id}/fee-proposal", response_model=ApplicationView, responses=RESPONSES,
             summary=f"Handler proposes a fee (Reg. 42: only beyond a reasonable range; one standard) — {', '.join(ACTION_ROLES['fee-proposal'])}")
async def propose_fee(application_id: ApplicationId, body: FeeProposalBody, request: Request, session: SessionDep,
                      client: ClientDep, user: Annotated[StaffUser, Depends(require(*ACTION_ROLES["fee-proposal"]))],
                      ) -> ApplicationView:
    await ensure_visible(user, application_id, client)
    if request.app.state.settings.payment_channel_line() is None:  # issue 24 point 1: no notice without 缴纳方式
        raise HTTPException(status.HTTP_409_CONFLICT, NO_PAYMENT_CHANNEL)
    if body.standard == "per-page":
        if body.quantity is None:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "按量计收须填写所需信息的页数（quantity）")
        quantity = body.quantity
    else:
        quantity = (await blocking(_count, session, application_id)).ordinal
        if body.quantity is not None and body.quantity != quantity:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                                f"按件计收的件数由系统按申请人身份统计：本申请为申请人本月第{quantity}件，不是第{body.quantity}件")
    command = ProposeFee(standard=body.standard, quantity=quantity, reason=body.reason, by=user.username)
    return await _update(request, session, client, application_id, "propose_fee", command)


@router.post("/{application_id}/fee-decision", response_model=ApplicationView, responses=RESPONSES,
             summary=f"Supervisor approves the fee; the fee notice goes out — {', '.join(ACTION_ROLES['fee-decision'])}")
async def decide_fee(application_id: ApplicationId, body: schemas.DecideFeeBody, request: Request, session: SessionDep,
                     client: ClientDep, user: Annotated[StaffUser, Depends(require(*ACTION_ROLES["fee-decision"]))],
                     ) -> ApplicationView:
    await ensure_visible(user, application_id, client)
    command = DecideFee.model_validate(body.model_dump() | {"by": user.username})
    return await _update(request, session, client, application_id, "decide_fee", command)


@router.post("/{application_id}/fee-payment", response_model=ApplicationView, responses=RESPONSES,
             summary=f"Record payment or waiver (减免) — {', '.join(ACTION_ROLES['fee-payment'])}")
async def fee_settled(application_id: ApplicationId, body: schemas.FeeSettledBody, request: Request, session: SessionDep,
                      client: ClientDep, user: Annotated[StaffUser, Depends(require(*ACTION_ROLES["fee-payment"]))],
                      ) -> ApplicationView:
    await ensure_visible(user, application_id, client)
    if body.waived and "supervisor" not in user.role_set():  # issue 24 point 2 (RULES §9): 减免 is the head's decision
        raise HTTPException(status.HTTP_409_CONFLICT, WAIVER_BY_SUPERVISOR)
    command = FeeSettled.model_validate(body.model_dump() | {"by": user.username})
    return await _update(request, session, client, application_id, "fee_settled", command)
