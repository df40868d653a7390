"""Fees (Reg. 42): the handler's proposal, the supervisor's decision, payment or waiver, and the fee's state."""

from datetime import date
from typing import Literal

from pydantic import Field

from contracts.payload import Actor, Strict
from contracts.service import NoticeService


class ProposeFee(Strict):
    """Reg. 42: the handler proposes a fee only when quantity or frequency clearly exceeds a reasonable range."""

    standard: Literal["per-application", "per-page"]
    quantity: int = Field(ge=1, description="per-application: this application's ordinal for the applicant this month; per-page: pages")
    reason: str = Field(min_length=4, description="why the quantity or frequency clearly exceeds a reasonable range")
    by: Actor


class DecideFee(Strict):
    approve: bool
    comment: str = ""
    by: Actor


class FeeSettled(Strict):
    """Payment received, or the fee waived (减免)."""

    paid_on: date
    waived: bool = False
    note: str = ""
    by: Actor


class FeeState(Strict):
    standard: Literal["per-application", "per-page"]
    quantity: int
    amount_yuan: int
    basis: str
    reason: str
    proposed_by: Actor
    decision: Literal["pending", "approved", "refused"] = "pending"
    decided_by: Actor | None = None
    notice_sent_on: date | None = None
    pay_by: date | None = None
    paid_on: date | None = None
    waived: bool = False
    settled_by: Actor | None = None
    lapsed_on: date | None = None
    notice_served_on: date | None = Field(default=None, description="送达: the fee notice's receipt; pay_by counts from it")
    pay_by_basis: str = ""
    approved_on: date | None = Field(default=None, description="the supervisor's approval; the notice is issued that day")
    service: NoticeService | None = Field(default=None, description="the fee notice: dispatched (the clock stops), served")
