"""政务公开 records: the proactive catalogue (with interpretations) and public-opinion events.

Temporal holds each process's authoritative state; the workflows' activities write these rows,
which the public catalogue page, the staff lists and the annual report read.
"""

from datetime import date, datetime

from sqlalchemy import Index, text
from sqlmodel import Column, Field, SQLModel

from db.columns import JSONDocument, timestamp_column, utcnow

PUBLISHED = "status = 'published'"
# The title search's dialect-specific structures, made by migration 0012 outside the models: an FTS5
# trigram table (and its shadow tables and triggers) on SQLite, a pg_trgm GIN index on PostgreSQL.
TITLE_SEARCH_OBJECTS = ("catalogue_item_title_fts", "ix_catalogue_item_title_trgm")
HAS_POLICY = "policy_id IS NOT NULL"


class CatalogueCategory(SQLModel, table=True):
    __tablename__ = "catalogue_category"

    id: str = Field(primary_key=True, max_length=40)
    name: str
    section: str = Field(description="the section responsible for publishing it (seed 002 art. 14)")
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column(nullable=False))


class CatalogueItem(SQLModel, table=True):
    __tablename__ = "catalogue_item"
    # The public catalogue pages published items newest first by keyset (produced_on, id), filtered by
    # category, document number or a date range (db/proactive_repository.py); partial indexes on the
    # published rows only. Migration 0008.
    __table_args__ = (
        Index("ix_catalogue_item_published", "produced_on", "id",
              postgresql_where=text(PUBLISHED), sqlite_where=text(PUBLISHED)),
        Index("ix_catalogue_item_category_published", "category_id", "produced_on", "id",
              postgresql_where=text(PUBLISHED), sqlite_where=text(PUBLISHED)),
        Index("ix_catalogue_item_document_number", "document_number"),
        # Interpretations only (most rows have no policy_id: a full index's statistics made SQLite scan).
        Index("ix_catalogue_item_policy_id", "policy_id",
              postgresql_where=text(HAS_POLICY), sqlite_where=text(HAS_POLICY)),
        Index("ix_catalogue_item_status_due_at", "status", "due_at"),
    )

    id: str = Field(primary_key=True, max_length=60)
    kind: str = Field(description="document | interpretation")
    title: str
    category_id: str
    section: str
    document_number: str | None = None
    produced_on: date = Field(description="produced or last changed (an interpretation: its document's 印发 day)")
    policy_id: str | None = Field(default=None, description="an interpretation's policy document (catalogue item id)")
    status: str = Field(description="in-review | approved | published | withdrawn")
    version: int = 1
    due_at: datetime = Field(sa_column=timestamp_column(nullable=False))
    overdue: bool = False
    published_at: datetime | None = Field(default=None, sa_column=timestamp_column(nullable=True))
    url: str | None = None
    content_sha256: str | None = None
    summary: str = ""
    history: list = Field(default_factory=list, sa_column=Column(JSONDocument, nullable=False))
    created_by: str
    updated_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column(nullable=False))
    # A public copy of a record released to an applicant (issue 13 point 5): the application and the
    # checksum of the exact copy the applicant received, which stays sealed (stored_file, never altered).
    source_application_id: str | None = None
    source_sha256: str | None = None
    # Table 二 from the catalogue (issue 13 point 1): a 规章 or 行政规范性文件 (the row key of
    # reports.annual.PROACTIVE_ROWS), its issue (印发/施行) date, and the date it was repealed (废止)
    # when it was withdrawn as repealed. Migration 0014.
    legal_kind: str | None = Field(default=None, max_length=40, description="rules | normative-documents")
    issued_on: date | None = None
    repealed_on: date | None = None


class AnnualFigure(SQLModel, table=True):
    """Table 二 of the annual report (国办公开办函〔2021〕30号), recorded by staff per year and row:
    规章 / 行政规范性文件 (made, repealed, in force), 行政许可 / 行政处罚 / 行政强制 (decisions), 行政事业性收费
    (amount in 10,000 yuan). Keys and fields are reports.annual.PROACTIVE_ROWS'. Migration 0012."""

    __tablename__ = "annual_figure"

    year: int = Field(primary_key=True)
    row_key: str = Field(primary_key=True, max_length=40)
    cells: dict = Field(default_factory=dict, sa_column=Column(JSONDocument, nullable=False))
    updated_by: str
    updated_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column(nullable=False))


class OpinionEvent(SQLModel, table=True):
    __tablename__ = "opinion_event"

    id: str = Field(primary_key=True, max_length=60)
    title: str
    severity: str = Field(description="major | other")
    found_at: datetime = Field(sa_column=timestamp_column(nullable=False))
    status: str = Field(index=True, description="open | closed")
    limits: list = Field(default_factory=list, sa_column=Column(JSONDocument, nullable=False))
    responses: list = Field(default_factory=list, sa_column=Column(JSONDocument, nullable=False))
    created_by: str
    updated_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column(nullable=False))


class CorrectionRequest(SQLModel, table=True):
    __tablename__ = "correction_request"
    __table_args__ = (Index("ix_correction_request_status_due_on", "status", "due_on", "id"),)

    id: str = Field(primary_key=True, max_length=60)
    person_name: str
    email: str | None = None
    address: str | None = None
    record: str = Field(description="the record about the person that is said to be wrong")
    correction: str = Field(description="what is wrong and what it should say")
    evidence: str = ""
    channel: str = Field(description="online | desk")
    received_on: date
    due_on: date
    status: str = Field(description="handling | in-review | corrected | forwarded | refused")
    result: str = ""
    forwarded_to: str | None = None
    updated_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column(nullable=False))
