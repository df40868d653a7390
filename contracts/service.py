"""Service (送达) of a notice that starts a period: the state one notice carries (rules: notices/)."""

from datetime import date
from typing import Literal

from pydantic import Field

from contracts.payload import Actor, Payload, Strict

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


class LetterServed(Strict):
    """Proof of service of a supplement or fee notice: its receipt date starts the applicant's window."""

    key: str = Field(description="the letter's key, e.g. '<application_id>:fee'")
    served_on: date = Field(description="送达日期: accepted by the mail server, signed for, picked up, downloaded")
    method: ServiceHow
    evidence: str = Field(default="", max_length=500, description="what shows it: tracking number, signatory, Message-ID")
    by: Actor


class NoticeEvent(Strict):
    """What happened to a notice on its way (RULES §3 Service): dispatched (posted, handed to a courier), unservable
    (bounced, returned), or published for 公告送达 (the last resort, deemed served after the agency's days)."""

    key: str = Field(description="the letter's key, e.g. '<application_id>:fee'")
    event: Literal["dispatched", "unservable", "public-notice"]
    on: date = Field(description="交邮 / 退回 / 公告 date")
    detail: str = Field(default="", max_length=500, description="tracking number, the bounce's reason, where published")
    by: Actor
