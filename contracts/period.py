"""The reply period: its extension (Reg. 33(2)) and the request for reasons of Reg. 35 with the supervisor's decision."""

from datetime import date
from typing import Literal

from pydantic import Field

from contracts.payload import Actor, Strict
from contracts.service import NoticeService


class RequestExtension(Strict):
    days: int = Field(ge=1)
    reason: str = Field(min_length=2)
    by: Actor


class DecideExtension(Strict):
    approve: bool
    comment: str = ""
    by: Actor


class ExtensionState(Strict):
    days: int
    reason: str
    requested_by: Actor
    requested_on: date
    decision: Literal["pending", "approved", "refused"] = "pending"
    decided_by: Actor | None = None
    decided_on: date | None = None
    comment: str = ""


class AskReasons(Strict):
    """Reg. 35: the quantity or frequency clearly exceeds a reasonable range; the applicant is asked why."""

    grounds: str = Field(min_length=2, max_length=2000,
                         description="what exceeds a reasonable range: the number of items, of applications, their frequency")
    by: Actor


class ReasonsReceived(Strict):
    """Reg. 35: the applicant's reasons, dated by their receipt at the agency."""

    received_on: date
    reasons: str = Field(min_length=1, max_length=5000)
    evidence: str = Field(default="", max_length=500,
                          description="how the receipt date is shown (邮戳、签收单、系统记录); required for a date before today")
    by: Actor


class DecideExcessive(Strict):
    """Reg. 35: the supervisor decides: reasons unreasonable (不予处理-4) or reasonable with a longer period."""

    reasonable: bool = Field(description="the reasons are reasonable: a longer reasonable period is set")
    reason: str = Field(min_length=2, max_length=2000, description="why the reasons are (not) reasonable")
    period_until: date | None = Field(default=None, description="reasonable: the last day of the longer period")
    by: Actor


class ExcessiveState(Strict):
    """Reg. 35: asked for reasons, their receipt, and the supervisor's decision."""

    grounds: str
    asked_by: Actor
    asked_on: date
    reasons_by: date = Field(description="the last day for the applicant's reasons (from the letter's date)")
    reasons_received_on: date | None = None
    reasons: str = ""
    reasons_entered_by: Actor | None = None
    reasons_evidence: str = ""
    lapsed_on: date | None = Field(default=None, description="the reasons' deadline passed with no reasons recorded")
    decision: Literal["pending", "unreasonable", "reasonable"] = "pending"
    decided_by: Actor | None = None
    decided_on: date | None = None
    decision_reason: str = ""
    period_until: date | None = None
    service: NoticeService | None = Field(default=None, description="the request for reasons: its period runs from receipt")
