"""Public participation records (issue 26; RULES §13): drafts for comment, their comments, 在线咨询.

Temporal holds each process's authoritative state; the workflows' activities (activities/participation.py)
write these rows, which the public pages, the staff lists and the counts read. A hidden comment stays
(hidden, with its reason and who hid it): comments are never deleted. Migration 0019.
"""

from datetime import date, datetime

from sqlalchemy import Index
from sqlmodel import Column, Field, SQLModel

from db.columns import JSONDocument, timestamp_column, utcnow


class Draft(SQLModel, table=True):
    __tablename__ = "participation_draft"
    __table_args__ = (Index("ix_participation_draft_phase_opens_on", "phase", "opens_on", "id"),)

    id: str = Field(primary_key=True, max_length=60)
    title: str
    kind: str = Field(description="major-decision | normative-document")
    section: str
    phase: str = Field(description="in-review | returned | reviewed | open | closed | feedback-review | "
                                   "feedback-published | withdrawn")
    opens_on: date | None = None
    closes_at: datetime | None = Field(default=None, sa_column=timestamp_column(nullable=True))
    feedback_due_at: datetime | None = Field(default=None, sa_column=timestamp_column(nullable=True))
    feedback_published_at: datetime | None = Field(default=None, sa_column=timestamp_column(nullable=True))
    feedback_on_time: bool | None = None
    url: str | None = None
    public: dict = Field(default_factory=dict, sa_column=Column(JSONDocument, nullable=False))
    counts: dict = Field(default_factory=dict, sa_column=Column(JSONDocument, nullable=False))
    created_by: str
    updated_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column(nullable=False))


class DraftComment(SQLModel, table=True):
    __tablename__ = "participation_comment"
    __table_args__ = (Index("ix_participation_comment_draft", "draft_id", "receipt_no"),)

    receipt_no: str = Field(primary_key=True, max_length=80)
    draft_id: str = Field(max_length=60)
    channel: str = Field(description="website | email | letter | fax | hearing")
    name: str | None = None
    contact: str | None = None
    part: str = ""
    text: str
    received_on: date
    received_at: datetime = Field(sa_column=timestamp_column(nullable=False))
    entered_by: str
    late: bool = False
    hidden: bool = False
    hidden_reason: str | None = None
    hidden_by: str | None = None
    decision: str | None = Field(default=None, description="adopted | partly | not-adopted, once the feedback is published")
    attachment: dict | None = Field(default=None, sa_column=Column(JSONDocument, nullable=True),
                                    description="filename, sha256, size, content_type of a file sent with it (staff only)")


class Inquiry(SQLModel, table=True):
    __tablename__ = "participation_inquiry"
    __table_args__ = (Index("ix_participation_inquiry_status_due_on", "status", "due_on", "id"),)

    id: str = Field(primary_key=True, max_length=60)
    question: str
    name: str | None = None
    contact: str | None = None
    consent_publish: bool = False
    received_on: date
    due_on: date
    status: str = Field(description="unrouted | routed | in-review | answered | awaiting-confirmation | converted")
    section: str | None = None
    answer: str | None = None
    answered_at: datetime | None = Field(default=None, sa_column=timestamp_column(nullable=True))
    on_time: bool | None = None
    overdue: bool = False
    published: bool = False
    application_id: str | None = None
    code_hash: str
    updated_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column(nullable=False))
