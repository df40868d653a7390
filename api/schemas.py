"""HTTP request and response bodies. Workflow messages are reused where the shapes are the same."""

from datetime import date, datetime
from typing import Generic, TypeVar

from pydantic import BaseModel, Field, model_validator

from activities.models import DeliveryMethod
from policy.intake import Channel
from policy.profiles import DEFAULT_PROFILE, ProfileName
from workflows.messages import Applicant, RequestedItem, Strict

T = TypeVar("T")


class ApplicationCreate(Strict):
    """What the intake form or the registration desk submits."""

    channel: Channel
    received_on: date = Field(description="收到申请之日 (Reg. 31): the date the channel's receipt event happened")
    applicant: Applicant
    items: list[RequestedItem] = Field(min_length=1, max_length=50)
    delivery_method: DeliveryMethod
    policy: ProfileName = DEFAULT_PROFILE
    handler: str | None = None
    department: str | None = None
    registered_by: str = Field(min_length=1, description="the registrar (or 'online-form')")

    @model_validator(mode="after")
    def delivery_needs_an_address(self) -> "ApplicationCreate":
        if self.delivery_method == "email" and not self.applicant.email:
            raise ValueError("选择电子邮件答复的，须填写申请人电子邮箱")
        if self.delivery_method == "post" and not self.applicant.address:
            raise ValueError("选择邮寄答复的，须填写申请人通讯地址")
        return self


class ApplicationCreated(BaseModel):
    application_id: str
    received_on: date
    due_on: date
    due_provisional: bool
    due_explanation: list[str]
    calendar_version: str


class ApplicationSummary(BaseModel):
    application_id: str
    received_on: date
    channel: str
    applicant_name: str
    status: str
    handler: str | None
    department: str | None
    due_on: date | None
    due_provisional: bool
    overdue: bool
    paused: bool
    extended: bool
    closed_at: datetime | None
    final_outcome: str | None


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    offset: int
    limit: int


class DeadlineAnswer(BaseModel):
    received: date
    days: int
    start_on: date
    due_on: date
    provisional: bool
    calendar_version: str
    explanation: list[str]


class CalendarYearIn(Strict):
    holidays: list[date]
    makeup_workdays: list[date] = []
    source: str = Field(min_length=2, description="e.g. 国务院办公厅关于2027年部分节假日安排的通知")
    published_on: date | None = None
    published_by: str = Field(min_length=1)


class CalendarYearPublishedOut(BaseModel):
    year: int
    calendar_version: str
    open_applications_notified_by: str = Field(description="the workflow id telling open applications to recompute")


class CalendarYearsOut(BaseModel):
    calendar_version: str
    published_years: list[int]


class EventOut(BaseModel):
    seq: int
    at: datetime
    kind: str
    actor: str
    summary: str
