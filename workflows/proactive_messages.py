"""Inputs, updates, queries and results of the 政务公开 workflows (workflows/proactive.py)."""

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


# --- public opinion ------------------------------------------------------------------------------


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


# --- corrections (Reg. 41; seed 002 art. 19) -----------------------------------------------------


class CorrectionInput(BaseModel):
    correction_id: str
    person_name: str
    email: str | None = None
    address: str | None = None
    record: str
    correction: str
    evidence: str = ""
    channel: Literal["online", "desk"]
    received_on: date
    reply_days: int
    calendar: CalendarData
    agency_name: str
    registered_by: str
    supervisor_email: str | None = None


class CorrectRecord(BaseModel):
    by: str
    result: str = Field(description="what was corrected")


class ForwardCorrection(BaseModel):
    by: str
    agency: str = Field(description="the competent agency")
    reason: str = ""


class RefuseCorrection(BaseModel):
    """Reg. 41 (RULES §7): 不予更正 when the record is accurate or the evidence does not show it wrong."""

    by: str
    record_accurate: bool = Field(description="True: the record is accurate; False: the evidence does not show it wrong")
    reasons: str = Field(description="why, as the letter states it")


class ReviewCorrectionLetter(BaseModel):
    """The confidentiality review of the decision's letter (RULES §14: 谁签发、谁把关) before it goes out."""

    by: str
    approve: bool
    comment: str = ""


class CorrectionView(BaseModel):
    correction_id: str
    person_name: str
    record: str
    correction: str
    evidence: str
    channel: str
    received_on: date
    due_on: date
    due_steps: list[str]
    status: Literal["handling", "in-review", "corrected", "forwarded", "refused"]
    result: str
    forwarded_to: str | None
    letter_subject: str | None
    # Issue 24 point 4: the decision's letter waits for the confidentiality review: its text and who decided.
    letter_draft: str | None = None
    decided_by: str | None = None
    alerts: list[AlertRecord]
    history: list[HistoryEntry]


class CorrectionRecord(BaseModel):
    id: str
    person_name: str
    email: str | None
    address: str | None
    record: str
    correction: str
    evidence: str
    channel: str
    received_on: date
    due_on: date
    status: str
    result: str
    forwarded_to: str | None


# --- a published calendar year told to the open processes (workflows/proactive_calendar.py) -------

DeadlineTable = Literal["catalogue", "corrections", "inquiries", "drafts"]  # the last two: issue 26


class OpenDeadlinesPage(BaseModel):
    """open_deadline_ids_page: up to `limit` open processes of `table` whose id sorts after `after` and whose
    deadline falls on or after `due_from` (an earlier one counted no day of the published year)."""

    table: DeadlineTable
    due_from: date
    after: str | None = None
    limit: int = Field(ge=1, le=2000)
