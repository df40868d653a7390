"""Intake and supplement (补正, Reg. 29-30): the application as registered, its handler, the supplement notice and
its lapse, and the withdrawal. Messages of the application workflow (workflows/application*.py)."""

from datetime import date, datetime
from typing import Literal

from pydantic import EmailStr, Field

from contracts.models import DeliveryMethod
from contracts.payload import Actor, Strict
from contracts.service import NoticeService
from policy import PolicyProfile
from policy.intake import ApplicantType, Channel
from workcalendar import CalendarData


class Applicant(Strict):
    name: str = Field(min_length=1, max_length=200)
    type: ApplicantType = "natural-person"
    id_number: str | None = Field(default=None, max_length=40, description="身份证件号码 / 统一社会信用代码")
    email: EmailStr | None = None
    phone: str | None = Field(default=None, max_length=40)
    address: str | None = Field(default=None, max_length=500)


class RequestedItem(Strict):
    description: str = Field(min_length=2, max_length=4000, description="所需政府信息的名称、文号或者便于查询的其他特征性描述")


class ApplicationInput(Strict):
    """Start input: everything fixed at intake, including the policy and the calendar it uses."""

    application_id: str
    channel: Channel
    received_on: date
    registered_at: datetime
    registered_by: Actor
    applicant: Applicant
    items: list[RequestedItem] = Field(min_length=1, max_length=50)
    delivery_method: DeliveryMethod
    policy: PolicyProfile
    calendar: CalendarData
    agency_name: str
    agency: str | None = Field(default=None, description="the agency's code on the platform (issue 25); None: the first")
    handler: Actor | None = None
    department: str | None = None
    receipt_evidence: str | None = Field(default=None, description=(
        "a receipt date outside the current year: the evidence named at registration (issue 24 point 9)"))
    listed_at_intake: bool = Field(default=False, description=(
        "the API stored the listing row and the registration event before answering (issue 15 point 2): "
        "the workflow's first database write waits for its first change"))


class AssignHandler(Strict):
    handler: Actor = Field(min_length=1)
    department: str | None = None
    by: Actor


class RequestSupplement(Strict):
    needed: list[str] = Field(min_length=1, description="补正: everything the applicant must supply, in one notice")
    deadline_on: date | None = Field(default=None, description="defaults to the policy's reasonable period")
    by: Actor


class SupplementReceived(Strict):
    received_on: date
    note: str = ""
    evidence: str = Field(default="", max_length=500,
                          description="how the receipt date is shown (邮戳、签收单、系统记录); required for a date before today")
    by: Actor


class DecideSupplementLapse(Strict):
    """Reg. 30: the supplement deadline passed; the handler or supervisor decides (nothing closes by itself)."""

    justified: bool = Field(description="正当理由: the applicant had good reason; a new deadline is given")
    reason: str = Field(min_length=2, max_length=2000, description="the good reason, or why there is none")
    new_deadline_on: date | None = Field(default=None, description="justified: the new reasonable deadline")
    by: Actor


class SupplementState(Strict):
    needed: list[str]
    requested_by: Actor
    notice_sent_on: date
    deadline_on: date
    received_on: date | None = None
    lapsed_on: date | None = Field(default=None, description="issue 11: the deadline passed; awaiting the handler's decision")
    earlier_deadlines: list[date] = Field(default_factory=list, description="deadlines replaced for a good reason")
    lapse_decision: Literal["new-deadline", "abandoned"] | None = None
    lapse_decided_by: Actor | None = None
    lapse_reason: str = ""
    received_evidence: str = ""
    window_days: int | None = Field(default=None, description="working days to supplement, counted from the notice's receipt")
    notice_issued_on: date | None = Field(default=None, description="the current notice's date (a renewed deadline's)")
    notice_served_on: date | None = Field(default=None, description="送达: the current notice's receipt date")
    deadline_basis: str = ""
    service: NoticeService | None = Field(default=None, description="the current notice: its deadline runs from receipt")


class Withdraw(Strict):
    reason: str = ""
    by: Actor = "applicant"
