"""Report-grade records and the oversight registers (issue 14; RULES §10-11, seed 002 arts. 25-30).

- `application_report_record`: one row per application, written once when its reply is signed
  (or the abandonment reply issued) or when it is withdrawn: receipt date, reply date, the signed
  outcome of each item and of the application, the applicant-type column, the closing date.
  Append-only: triggers (migration 0006) refuse UPDATE and DELETE; the annual report reads only it
  and `application` (received_on, applicant_type) for what is still open.
- `remedy_case`: the reconsideration and litigation register (table 四).
- `annual_report_draft` / `annual_report_version`: the editable draft of a year, and the published
  versions (1 = publication, 2… = amendments with their reason), frozen and append-only.
- `assessment_scheme` / `assessment_manual_score`: 考核评议 criteria, weights, manual scores.
- `accountability_case`: 责任追究 cases and their ladder.
"""

from datetime import date, datetime

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Column, Field, SQLModel

from db.columns import JSONDocument, timestamp_column, utcnow


class ApplicationReportRecord(SQLModel, table=True):
    __tablename__ = "application_report_record"
    __table_args__ = (
        # Table 三, row 三 and the year's on-time replies: concluded in a range, by column and outcome (index-only).
        Index("ix_report_record_concluded", "concluded_on", "applicant_type", "outcome", "replied_on", "on_time"),
        # Rows 二 and 四: "has this application a record concluded by that day?" without reading the row.
        Index("ix_report_record_application_concluded", "application_id", "concluded_on"),
        # 考核评议: replies in a period by section and handler (index-only).
        Index("ix_report_record_replied", "replied_on", "department", "handler", "on_time", "extended",
              "review_returns"),
    )

    application_id: str = Field(primary_key=True, max_length=40)
    ending: str = Field(description="replied | abandoned | withdrawn")
    received_on: date
    applicant_type: str
    department: str | None = None
    handler: str | None = None
    replied_on: date | None = Field(default=None, description="the day the signed reply was issued")
    concluded_on: date = Field(description="the closing date the annual report counts by")
    outcome: str = Field(description="the application's outcome, RULES §10 counting rule")
    item_outcomes: list = Field(default_factory=list, sa_column=Column(JSONDocument, nullable=False),
                                description="[{item_no, outcome}] as signed")
    due_on: date | None = None
    on_time: bool | None = None
    extended: bool = False
    review_returns: int = 0
    signed_by: str | None = None
    recorded_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column(nullable=False))


class RemedyCase(SQLModel, table=True):
    __tablename__ = "remedy_case"

    id: int | None = Field(default=None, primary_key=True)
    application_id: str = Field(index=True, max_length=40)
    kind: str = Field(description="reconsideration | litigation-direct | litigation-after-reconsideration")
    filed_on: date = Field(index=True)
    authority: str = Field(default="", description="复议机关 / 人民法院")
    case_number: str = ""
    result: str | None = Field(default=None, description="maintained | corrected | other; None = 尚未审结")
    concluded_on: date | None = None
    note: str = ""
    created_by: str
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column(nullable=False))
    updated_by: str | None = None
    updated_at: datetime | None = Field(default=None, sa_column=timestamp_column(nullable=True))


class AnnualReportDraft(SQLModel, table=True):
    __tablename__ = "annual_report_draft"

    year: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    content: dict = Field(default_factory=dict, sa_column=Column(JSONDocument, nullable=False),
                          description="narratives, table 二 figures, table 三 adjustments and their reasons")
    updated_by: str
    updated_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column(nullable=False))


class AnnualReportVersion(SQLModel, table=True):
    __tablename__ = "annual_report_version"

    year: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    version: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    reason: str | None = Field(default=None, description="amendments: why the published report was corrected")
    report: dict = Field(sa_column=Column(JSONDocument, nullable=False), description="the whole report as published")
    published_by: str
    published_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column(nullable=False))


class AssessmentScheme(SQLModel, table=True):
    __tablename__ = "assessment_scheme"

    year: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    scheme: dict = Field(sa_column=Column(JSONDocument, nullable=False), description="criteria and weights")
    updated_by: str
    updated_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column(nullable=False))


class AssessmentManualScore(SQLModel, table=True):
    __tablename__ = "assessment_manual_score"

    year: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    department: str = Field(primary_key=True, max_length=100)
    criterion: str = Field(primary_key=True, max_length=40)
    score: float
    note: str = ""
    scored_by: str
    scored_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column(nullable=False))


class AccountabilityCase(SQLModel, table=True):
    __tablename__ = "accountability_case"
    __table_args__ = (UniqueConstraint("key", name="uq_accountability_case_key"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str | None = Field(default=None, description="cases raised from the records: '<ground>:<application>'")
    department: str = Field(index=True, max_length=100)
    handler: str | None = None
    application_id: str | None = None
    ground: str = Field(description="overdue-reply | late-publication | fee-against-rules | wrongful-disclosure | other")
    source: str = Field(description="records | manual")
    description: str
    level: str = Field(description="order-correction | circular-criticism | disciplinary")
    status: str = Field(default="open", description="open | closed")
    outcome: str | None = None
    steps: list = Field(default_factory=list, sa_column=Column(JSONDocument, nullable=False),
                        description="[{level, on, by, reason}] every step of the ladder")
    raised_by: str
    raised_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column(nullable=False))
    closed_at: datetime | None = Field(default=None, sa_column=timestamp_column(nullable=True))
