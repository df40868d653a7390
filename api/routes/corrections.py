"""Corrections of records about a person (Reg. 41; seed 002 art. 19), tag corrections: the public
form's request and the desk's registration start a CorrectionWorkflow; the handler corrects or
forwards (Updates: a refusal is 409 with the reason)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, status
from pydantic import BaseModel, ConfigDict, EmailStr, Field

from api import idempotency
from api.deps import CalendarDep, ClientDep, ItemId, SessionDep, SettingsDep
from api.security import STAFF_READERS, rate_limited, require
from api.temporal_calls import run_query, run_update, start_once
from core import clock
from db import proactive_repository as repo
from db.models_security import StaffUser
from contracts.corrections import (
    CorrectionInput, CorrectionView, CorrectRecord, ForwardCorrection, RefuseCorrection, ReviewCorrectionLetter,
)
from contracts.proactive import ItemQuery

router = APIRouter(prefix="/api/v1/corrections", tags=["corrections"])
public_router = APIRouter(prefix="/api/v1/public/corrections", tags=["corrections"])
ENDED = "该更正申请已办结"


class CorrectionBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    person_name: str = Field(min_length=1, max_length=200)
    email: EmailStr | None = None
    address: str | None = Field(default=None, max_length=500)
    record: str = Field(min_length=2, max_length=2000, description="与本人相关的哪一项政府信息记录")
    correction: str = Field(min_length=2, max_length=4000, description="哪里不准确、不完整，应当如何更正")
    evidence: str = Field(min_length=2, max_length=4000, description="证据材料")


class DeskCorrectionBody(CorrectionBody):
    received_on: date


class CorrectBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    result: str = Field(min_length=2, max_length=4000)


class ForwardBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    agency: str = Field(min_length=2, max_length=200)
    reason: str = Field(default="", max_length=2000)


class RefuseBody(BaseModel):
    """Reg. 41 (RULES §7): 不予更正 — the record is accurate, or the evidence does not show it wrong."""

    model_config = ConfigDict(extra="forbid")
    record_accurate: bool = Field(description="true: 记录准确; false: 证据不能证明记录有误")
    reasons: str = Field(min_length=4, max_length=4000)


class ReviewBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    approve: bool
    comment: str = Field(default="", max_length=2000)


class CorrectionCreated(BaseModel):
    correction_id: str
    received_on: date


async def _start(body: CorrectionBody, received_on: date, channel: str, by: str, client, settings, calendar) -> CorrectionCreated:
    if not body.email and not body.address:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "请填写电子邮箱或通讯地址，以便告知办理结果")
    if received_on > clock.today():
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "收到申请之日不能晚于今天")
    correction_id = f"GZ-{clock.today().year}-{idempotency.id_suffix('GZ')}"  # fixed by an Idempotency-Key
    await calendar.fresh()  # a year another process published just now counts
    fields = body.model_dump(exclude={"received_on"})
    inp = CorrectionInput(correction_id=correction_id, **fields, channel=channel, received_on=received_on,
                          reply_days=settings.correction_period(), calendar=calendar.since(received_on.year),
                          agency_name=settings.agency_name, registered_by=by, supervisor_email=settings.supervisor_email)
    await start_once(client, "CorrectionWorkflow", inp, id=correction_id, task_queue=settings.task_queue)
    return CorrectionCreated(correction_id=correction_id, received_on=received_on)


@public_router.post("", response_model=CorrectionCreated, status_code=status.HTTP_201_CREATED,
                    dependencies=[Depends(rate_limited("public-intake", "rate_limit_public_intake_per_minute"))])
async def submit(body: CorrectionBody, client: ClientDep, settings: SettingsDep, calendar: CalendarDep) -> CorrectionCreated:
    """A person asks online for a record about them to be corrected (no log-in; received today)."""
    return await _start(body, clock.today(), "online", "online-form", client, settings, calendar)


@router.post("", response_model=CorrectionCreated, status_code=status.HTTP_201_CREATED)
async def register(body: DeskCorrectionBody, client: ClientDep, settings: SettingsDep, calendar: CalendarDep,
                   user: Annotated[StaffUser, Depends(require("registrar"))]) -> CorrectionCreated:
    """The desk registers a request received on paper or in person."""
    return await _start(body, body.received_on, "desk", user.username, client, settings, calendar)


@router.get("", response_model=list[dict])
def listing(session: SessionDep, user: Annotated[StaffUser, Depends(require(*sorted(STAFF_READERS)))]) -> list[dict]:
    return [r.model_dump(mode="json") for r in repo.corrections(session)]


@router.get("/{correction_id}", response_model=CorrectionView)
async def correction(correction_id: ItemId, client: ClientDep,
                     user: Annotated[StaffUser, Depends(require(*sorted(STAFF_READERS)))]) -> CorrectionView:
    return await run_query(client, correction_id, "state", ItemQuery(), CorrectionView, what="更正申请")


Handler = Annotated[StaffUser, Depends(require("handler", "supervisor"))]


@router.post("/{correction_id}/correct", response_model=CorrectionView)
async def correct(correction_id: ItemId, body: CorrectBody, client: ClientDep, user: Handler) -> CorrectionView:
    return await run_update(client, correction_id, "correct", CorrectRecord(by=user.username, result=body.result),
                            CorrectionView, what="更正申请", ended=lambda: ENDED)


@router.post("/{correction_id}/forward", response_model=CorrectionView)
async def forward(correction_id: ItemId, body: ForwardBody, client: ClientDep, user: Handler) -> CorrectionView:
    return await run_update(client, correction_id, "forward",
                            ForwardCorrection(by=user.username, agency=body.agency, reason=body.reason),
                            CorrectionView, what="更正申请", ended=lambda: ENDED)


@router.post("/{correction_id}/refuse", response_model=CorrectionView)
async def refuse(correction_id: ItemId, body: RefuseBody, client: ClientDep, user: Handler) -> CorrectionView:
    """Reg. 41: 不予更正 with its reasons; the letter (with the remedies) goes out after the confidentiality review."""
    return await run_update(client, correction_id, "refuse_correction",
                            RefuseCorrection(by=user.username, record_accurate=body.record_accurate, reasons=body.reasons),
                            CorrectionView, what="更正申请", ended=lambda: ENDED)


@router.post("/{correction_id}/review", response_model=CorrectionView)
async def review(correction_id: ItemId, body: ReviewBody, client: ClientDep,
                 user: Annotated[StaffUser, Depends(require("reviewer"))]) -> CorrectionView:
    """The confidentiality review of the decision's letter (谁签发、谁把关): approved, it goes out; returned, the
    handler decides again (issue 24 point 4)."""
    return await run_update(client, correction_id, "review_letter",
                            ReviewCorrectionLetter(by=user.username, approve=body.approve, comment=body.comment),
                            CorrectionView, what="更正申请", ended=lambda: ENDED)
