"""The application workflow's whole state as its query returns it, the query's input, and the workflow's result."""

from datetime import date, datetime
from typing import Literal

from pydantic import Field

from clock import DueDate
from contracts.release import ReleaseFileStatus, SealedFile
from contracts.consultations import ConsultationState
from contracts.fees import FeeState
from contracts.intake import SupplementState
from contracts.models import DeliveryMethod, Letter, PrescreenFinding
from contracts.payload import Actor, Strict
from contracts.period import ExcessiveState, ExtensionState
from contracts.reply import ItemView, LetterView
from contracts.status import Status
from policy.intake import Channel


class TimelineEntry(Strict):
    seq: int
    at: datetime
    kind: str
    actor: Actor
    summary: str


class PendingAction(Strict):
    action: str
    role: Literal["registrar", "handler", "reviewer", "supervisor", "applicant", "third-party", "agency"]
    description: str
    due_on: date | None = None


class PausedInterval(Strict):
    label: str
    started_on: date
    ended_on: date | None
    expected_end_on: date | None


class ApplicationView(Strict):
    application_id: str
    status: Status
    channel: Channel
    received_on: date
    registered_at: datetime
    policy: str
    applicant_name: str
    delivery_method: DeliveryMethod
    handler: Actor | None
    department: str | None
    items: list[ItemView]
    due: DueDate | None = Field(description="None while the applicant is supplementing: the period restarts on receipt")
    working_days_left: int | None
    as_of: date
    overdue: bool
    paused_intervals: list[PausedInterval]
    supplement: SupplementState | None
    supplement_notice_by: date
    extension: ExtensionState | None
    consultations: list[ConsultationState]
    prescreen_findings: list[PrescreenFinding]
    reply_draft: Letter | None
    replied_on: date | None
    delivered_on: date | None
    timeline: list[TimelineEntry]
    pending_actions: list[PendingAction]
    letters: list[LetterView] = Field(default_factory=list)
    reply_draft_version: int = 0
    reply_approved_sha256: str | None = Field(default=None, description="checksum of the approved reply text")
    fee: FeeState | None = None
    excessive: ExcessiveState | None = Field(default=None, description="Reg. 35: reasons asked and decided")
    calendar_version: str | None = Field(default=None, description="the calendar its dates are counted on")
    calendar_years: list[int] = Field(default_factory=list, description="the years of that calendar")
    release_files: list[ReleaseFileStatus] = Field(
        default_factory=list, description="issue 22: each released file and what stands in the way of releasing it")
    release_reading: bool = Field(default=False, description="the released files' state is being read again")
    release_sealed: list[SealedFile] = Field(default_factory=list,
                                             description="at signature: exactly which file versions leave, per item")
    release_manifest_sha256: str | None = None
    release_delivery: str | None = Field(default=None, description="attached | link | none")


class StateQuery(Strict):
    today: date | None = Field(default=None, description="the date to count working days left from; defaults to the workflow's clock")


class ApplicationOutcome(Strict):
    """The workflow's result: how the application ended."""

    application_id: str
    status: Status
    items: list[ItemView]
    replied_on: date | None
    due_on: date | None
    on_time: bool | None
