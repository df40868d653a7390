"""Public participation (RULES §13; issue 26): a draft for comment (意见征集), its comments, feedback
(意见收集和采纳情况) and 列席 records; 在线咨询 questions. Inputs, updates, queries and results of
workflows/participation.py, and the rows its activities write.

Imports only the pure `workcalendar` data model besides pydantic (the calendar travels in the inputs).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import Field

from contracts.models import PrescreenFinding
from contracts.payload import Payload
from workcalendar import CalendarData

DraftKind = Literal["major-decision", "normative-document"]
Channel = Literal["website", "email", "letter", "fax", "hearing"]
CommentChannel = Literal["website", "email", "letter", "fax", "hearing"]
Decision = Literal["adopted", "partly", "not-adopted"]
DraftPhase = Literal["in-review", "returned", "reviewed", "open", "closed", "feedback-review", "feedback-published",
                     "withdrawn"]
InquiryStatus = Literal["unrouted", "routed", "in-review", "answered", "awaiting-confirmation", "converted"]
Invitee = Literal["stakeholders", "public-representatives", "experts", "media"]


class Period(Payload):
    """A limit: the day it runs out, its instant (end of the day, Asia/Shanghai), the reminder and why."""

    start_on: date = Field(description="day 0")
    due_on: date
    due_at: datetime
    remind_at: datetime
    working_days: bool
    days: int
    provisional: bool = False
    shortened_reason: str | None = Field(default=None, description="a shorter period's stated reason (shown publicly)")
    steps: list[str]


class HistoryEntry(Payload):
    at: datetime
    kind: str
    actor: str
    summary: str


class AlertRecord(Payload):
    at: datetime
    kind: Literal["reminder", "escalation"]
    role: str
    message: str


# --- a draft for comment ----------------------------------------------------------------------------


class DraftInput(Payload):
    draft_id: str
    title: str
    kind: DraftKind
    section: str = Field(description="the 科室 drafting it")
    content: str = Field(description="决策草案 (the draft's text)")
    basis: str = Field(description="决策依据 (the basis and explanation)")
    days: int = Field(description="the comment period: calendar days (重大行政决策) or working days (规范性文件)")
    short_reason: str | None = None
    channels: list[Channel]
    how_to_comment: str = Field(description="address, e-mail, fax, hearing: shown on the public page")
    name_required: bool = False
    feedback_days: int = 30
    created_by: str
    calendar: CalendarData
    supervisor_email: str | None = None
    continue_after: int = Field(default=2000, description="history events after which the run continues as new")
    carried: DraftState | None = Field(default=None, description="the state a continued run starts from")


class BasisFile(Payload):
    """A file of the draft's basis (起草说明 etc.), attached through the release review (release/, RULES §14):
    screened, its findings redacted or accepted; the draft is published only once every such file is cleared."""

    file_id: int = Field(description="release_file.id")
    filename: str
    sha256: str
    by: str


class AttachBasisFile(Payload):
    file: BasisFile


class DraftState(Payload):
    """Everything a draft holds besides its input, carried into the next run when it continues as new: every
    comment with its receipt number, the periods (the deadline), feedback, meetings, alerts and the history."""

    content: str
    basis: str
    basis_files: list[BasisFile] = Field(default_factory=list)
    phase: DraftPhase
    last_editor: str
    url: str | None
    period: Period | None
    feedback_period: Period | None
    comments: list[Comment]
    groups: list[FeedbackGroup]
    feedback_note: str
    feedback_by: str | None
    feedback_published_at: datetime | None
    feedback_on_time: bool | None
    meetings: list[Meeting]
    decision_item_id: str | None
    reminded: bool
    escalated: bool
    moves: list[str]
    alerts: list[AlertRecord]
    history: list[HistoryEntry]
    runs: int = Field(default=1, description="the runs so far (continued as new runs - 1 times)")


class ReviewDraft(Payload):
    by: str
    approve: bool
    comment: str = ""


class ApproveDraft(Payload):
    """The supervisor's approval: the draft is published for comment at once."""

    by: str
    url: str
    cleared: list[int] = Field(default_factory=list, description="the basis files (release_file ids) the release "
                               "review has cleared: screened, every finding redacted or accepted")


class ReviseDraft(Payload):
    by: str
    content: str
    basis: str | None = None
    reason: str = ""


class CommentAttachment(Payload):
    """A file sent with a comment, kept content-addressed (db.letters_repository.FileStore); for staff only."""

    filename: str
    sha256: str
    size: int
    content_type: str


class CommentIn(Payload):
    channel: CommentChannel
    name: str | None = None
    contact: str | None = None
    part: str = Field(default="", description="the part of the draft commented on")
    text: str
    received_on: date | None = Field(default=None, description="desk: the date a letter or hearing comment was received")
    entered_by: str = Field(description="online-form, or the staff member who entered it")
    attachment: CommentAttachment | None = None


class Comment(Payload):
    receipt_no: str
    channel: CommentChannel
    name: str | None = None
    contact: str | None = None
    part: str = ""
    text: str
    received_on: date
    received_at: datetime
    entered_by: str
    late: bool = False
    hidden: bool = False
    hidden_reason: str | None = None
    hidden_by: str | None = None
    group: int | None = Field(default=None, description="the feedback group it was answered in (index)")
    attachment: CommentAttachment | None = None


class CommentReceipt(Payload):
    receipt_no: str
    received_on: date
    late: bool


class Moderate(Payload):
    by: str
    receipt_no: str
    hide: bool = True
    reason: str


class FeedbackGroup(Payload):
    summary: str = Field(description="the comments' common point")
    receipt_nos: list[str]
    decision: Decision
    reason: str


class RecordFeedback(Payload):
    by: str
    groups: list[FeedbackGroup]
    note: str = ""


class ReviewFeedback(Payload):
    by: str
    approve: bool
    comment: str = ""


class Meeting(Payload):
    """列席 (seed 003): a meeting on the matter, who was invited, who attended, whether it was public."""

    held_on: date
    title: str
    invited: list[Invitee]
    attendees: list[str]
    public: bool
    recorded_by: str = ""


class LinkDecision(Payload):
    by: str
    decision_item_id: str = Field(description="the catalogue item of the decision published (with its interpretation)")


class WithdrawDraft(Payload):
    by: str
    reason: str


class DraftQuery(Payload):
    pass


class Counts(Payload):
    received: int = 0
    on_time: int = 0
    late: int = 0
    hidden: int = 0
    adopted: int = 0
    partly: int = 0
    not_adopted: int = 0


class DraftView(Payload):
    draft_id: str
    title: str
    kind: DraftKind
    section: str
    content: str
    basis: str
    channels: list[Channel]
    how_to_comment: str
    name_required: bool
    phase: DraftPhase
    created_by: str
    last_editor: str
    planned_days: int
    short_reason: str | None
    url: str | None = None
    period: Period | None = None
    feedback_period: Period | None = None
    comments: list[Comment]
    groups: list[FeedbackGroup]
    feedback_note: str = ""
    feedback_by: str | None = None
    feedback_published_at: datetime | None = None
    feedback_on_time: bool | None = None
    meetings: list[Meeting]
    decision_item_id: str | None = None
    counts: Counts
    alerts: list[AlertRecord]
    history: list[HistoryEntry]
    prescreen: list[PrescreenFinding] = Field(default_factory=list, description="what the automatic pre-screen found "
                                              "in the draft and its basis, for the confidentiality reviewer (RULES §14)")
    basis_files: list[BasisFile] = Field(default_factory=list)
    runs: int = Field(default=1, description="the workflow's runs (a draft with very many comments continues as new)")


class DraftRecord(Payload):
    """The row the public pages, staff lists and counts read (db.models_participation.Draft)."""

    id: str
    title: str
    kind: str
    section: str
    phase: str
    opens_on: date | None
    closes_at: datetime | None
    feedback_due_at: datetime | None
    feedback_published_at: datetime | None
    feedback_on_time: bool | None
    url: str | None
    public: dict = Field(description="what the public page shows (text, basis, how to comment, feedback, meetings)")
    counts: dict
    created_by: str


class CommentRecord(Payload):
    """A comment's row (db.models_participation.DraftComment): hidden ones stay, never deleted."""

    receipt_no: str
    draft_id: str
    channel: str
    name: str | None
    contact: str | None
    part: str
    text: str
    received_on: date
    received_at: datetime
    entered_by: str
    late: bool
    hidden: bool
    hidden_reason: str | None
    hidden_by: str | None
    decision: str | None
    attachment: dict | None = None


class DraftRows(Payload):
    draft: DraftRecord
    comments: list[CommentRecord] = Field(description="the comments changed by this step")


# --- 在线咨询 ----------------------------------------------------------------------------------------


class InquiryInput(Payload):
    inquiry_id: str
    question: str
    name: str | None = None
    contact: str | None = None
    consent_publish: bool = False
    received_on: date
    answer_days: int = 5
    calendar: CalendarData
    code_hash: str = Field(description="the asker's query code, hashed")
    registered_by: str
    supervisor_email: str | None = None
    agency_name: str = ""


class AnswerNotice(Payload):
    """The reviewed answer e-mailed to the asker (activities/participation.py; once per inquiry)."""

    inquiry_id: str
    email: str
    name: str | None
    question: str
    answer: str
    agency_name: str


class RouteInquiry(Payload):
    by: str
    section: str


class AnswerInquiry(Payload):
    by: str
    answer: str
    general_interest: bool = False


class ReviewAnswer(Payload):
    by: str
    approve: bool
    comment: str = ""


class ProposeConversion(Payload):
    by: str
    reason: str


class ConfirmConversion(Payload):
    """The asker confirmed; the application was registered with its own receipt date."""

    application_id: str
    received_on: date


class InquiryQuery(Payload):
    pass


class InquiryView(Payload):
    inquiry_id: str
    question: str
    name: str | None
    consent_publish: bool
    received_on: date
    period: Period
    status: InquiryStatus
    section: str | None
    answer: str | None
    answered_by: str | None
    answered_at: datetime | None
    on_time: bool | None
    overdue: bool
    general_interest: bool
    published: bool
    conversion_reason: str | None
    application_id: str | None
    application_received_on: date | None
    alerts: list[AlertRecord]
    history: list[HistoryEntry]
    prescreen: list[PrescreenFinding] = Field(default_factory=list, description="found in the answer, for its reviewer")


class InquiryRecord(Payload):
    id: str
    question: str
    name: str | None
    contact: str | None
    consent_publish: bool
    received_on: date
    due_on: date
    status: str
    section: str | None
    answer: str | None
    answered_at: datetime | None
    on_time: bool | None
    overdue: bool
    published: bool
    application_id: str | None
    code_hash: str
DraftInput.model_rebuild()  # its `carried` state is declared below it
