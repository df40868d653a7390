"""政务公开 (workflows/proactive.py): the catalogue's items (documents and interpretations) and public-opinion events."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

from proactive.rules import Deadline, HourLimit, Severity
from workcalendar import CalendarData


ItemKind = Literal["document", "interpretation"]
# Table 二's rows a catalogue document may count in (reports.annual.PROACTIVE_ROWS keys): 规章, 行政规范性文件.
LegalKind = Literal["rules", "normative-documents"]
ItemPhase = Literal["in-review", "returned", "approved", "published", "withdrawn"]
Platform = Literal["website", "wechat", "press", "press-conference"]


class HistoryEntry(BaseModel):
    at: datetime
    kind: str
    actor: str
    summary: str
    version: int = 1


class PublicationEvidence(BaseModel):
    version: int
    published_at: datetime
    url: str
    content_sha256: str
    by: str


class AlertRecord(BaseModel):
    at: datetime
    kind: Literal["reminder", "escalation"]
    role: str
    message: str


class CatalogueItemInput(BaseModel):
    item_id: str
    kind: ItemKind = "document"
    title: str
    category_id: str
    section: str
    document_number: str | None = None
    produced_on: date = Field(description="produced or changed; an interpretation: its document's 印发 day")
    policy_id: str | None = None
    content: str
    summary: str = ""
    created_by: str
    working_days: bool = False
    calendar: CalendarData
    supervisor_email: str | None = None
    # From requests to the catalogue (issue 13 point 5; optional: inputs recorded before keep decoding).
    requested_in: list[str] = Field(default_factory=list, description="applications that asked for similar information")
    source: "PublicCopySource | None" = None
    # Table 二 from the catalogue (optional: inputs recorded before keep decoding).
    legal_kind: LegalKind | None = None
    issued_on: date | None = Field(default=None, description="a 规章's or 规范性文件's 印发 (or 施行) day")


class PublicCopySource(BaseModel):
    """The released record a public copy is made from: the exact copy the applicant received stays
    sealed (content-addressed stored file, never altered); the public copy has its own checksum."""

    application_id: str
    item_no: int
    attachment_id: int
    filename: str
    sha256: str = Field(description="of the copy the applicant received (sealed)")


CatalogueItemInput.model_rebuild()


class ReviewItem(BaseModel):
    by: str
    approve: bool
    comment: str = ""


class PublishItem(BaseModel):
    by: str
    url: str = Field(min_length=1, max_length=500)


class ChangeItem(BaseModel):
    by: str
    title: str | None = None
    content: str
    document_number: str | None = None
    reason: str = ""


class WithdrawItem(BaseModel):
    by: str
    reason: str
    repealed_on: date | None = Field(default=None, description="withdrawn because it was repealed (废止) on this day")


class ItemQuery(BaseModel):
    pass


class CatalogueItemView(BaseModel):
    item_id: str
    kind: ItemKind
    title: str
    category_id: str
    section: str
    document_number: str | None
    produced_on: date
    policy_id: str | None
    summary: str
    phase: ItemPhase
    version: int
    created_by: str
    last_editor: str
    content_sha256: str
    deadline: Deadline
    overdue: bool
    evidence: list[PublicationEvidence]
    history: list[HistoryEntry]
    alerts: list[AlertRecord]
    requested_in: list[str] = []
    source: PublicCopySource | None = None
    legal_kind: LegalKind | None = None
    issued_on: date | None = None
    repealed_on: date | None = None


class CatalogueRecord(BaseModel):
    """The row the catalogue page reads (db.models_proactive.CatalogueItem)."""

    id: str
    kind: str
    title: str
    category_id: str
    section: str
    document_number: str | None
    produced_on: date
    policy_id: str | None
    status: str
    version: int
    due_at: datetime
    overdue: bool
    published_at: datetime | None
    url: str | None
    content_sha256: str | None
    summary: str
    history: list[dict]
    created_by: str
    source_application_id: str | None = None
    source_sha256: str | None = None
    legal_kind: str | None = None
    issued_on: date | None = None
    repealed_on: date | None = None


class OpinionEventInput(BaseModel):
    event_id: str
    title: str
    severity: Severity
    found_at: datetime
    press_conference: bool = True
    created_by: str
    supervisor_email: str | None = None


class RecordResponse(BaseModel):
    by: str
    platform: Platform
    at: datetime | None = Field(default=None, description="when it was published; default: now")
    url: str = ""
    summary: str = ""


class CloseEvent(BaseModel):
    by: str
    note: str = ""


class OpinionResponse(BaseModel):
    platform: Platform
    at: datetime
    by: str
    url: str
    summary: str


class LimitState(BaseModel):
    limit: HourLimit
    met_at: datetime | None = None
    warned: bool = False
    escalated: bool = False


class OpinionEventView(BaseModel):
    event_id: str
    title: str
    severity: Severity
    found_at: datetime
    status: Literal["open", "closed"]
    limits: list[LimitState]
    responses: list[OpinionResponse]
    alerts: list[AlertRecord]
    history: list[HistoryEntry]


class OpinionRecord(BaseModel):
    id: str
    title: str
    severity: str
    found_at: datetime
    status: str
    limits: list[dict]
    responses: list[dict]
    created_by: str
