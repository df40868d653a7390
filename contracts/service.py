"""Service (送达) of a notice that starts a period: the state one notice carries (rules: notices/)."""

from datetime import date
from typing import Literal

from pydantic import Field

from contracts.payload import Payload

ServiceHow = Literal["post", "hand", "pickup", "email", "portal", "reply", "public-notice"]


class NoticeService(Payload):
    """One notice's way to its addressee: dispatched, then served (the period runs) or unservable."""

    key: str = Field(description="the letter's key, e.g. '<application_id>:fee'")
    what: str = Field(description="补正通知 / 缴费通知 / 征求意见函 / 说明理由通知")
    days: int = Field(description="working days the addressee has, counted from receipt")
    dispatched_on: date | None = Field(default=None, description="it left the agency (relay accepted, posted, on the portal)")
    dispatch_evidence: str = ""
    served_on: date | None = Field(default=None, description="proven receipt: the period runs from this day")
    served_how: ServiceHow | None = None
    served_evidence: str = ""
    served_by: str | None = None
    ends_on: date | None = Field(default=None, description="last day of the period (only once served)")
    ends_provisional: bool = False
    unservable_on: date | None = None
    unservable_reason: str = ""
    public_notice_on: date | None = Field(default=None, description="公告送达: the day the notice was published")
