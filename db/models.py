"""Database records for listing, audit and reporting.

Temporal holds the authoritative state of a running application; these tables are the copy that
lists, searches, reports and audits read without replaying workflows.
"""

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Index, UniqueConstraint, false, text
from sqlmodel import Column, Field, SQLModel

from contracts.application import ApplicationFields
from contracts.status import FINAL_STATUS_ORDER
# The column types every table uses (db/columns.py; imported here too, as db.models' names of old).
from db.columns import JSONDocument, UTCDateTime, timestamp_column, utcnow  # noqa: F401
from db.tenancy import AgencyOwned, agency_column


CLOSED_STATUSES: tuple[str, ...] = FINAL_STATUS_ORDER
# The partial index of open applications (migration 0004 spells the same list out).
OPEN_PREDICATE = "status NOT IN (" + ", ".join(f"'{s}'" for s in FINAL_STATUS_ORDER) + ")"
# The partial index of objection alerts (migration 0006 spells the same out).
OBJECTION_PREDICATE = "kind = 'consultation-objection'"
# The partial index of applications waiting for an extension decision (migration 0016 spells the same out).
EXTENSION_PENDING_PREDICATE = "extension_pending"
# The partial index of applications no handler is assigned to (migration 0016 spells the same out).
UNASSIGNED_PREDICATE = "(handler IS NULL OR handler = '')"
# The partial index of extension events: requested, approved, refused ('-' < '.'). Migration 0006.
EXTENSION_PREDICATE = "kind >= 'extension-' AND kind < 'extension.'"


class Application(ApplicationFields, AgencyOwned, table=True):
    """The listing row; its fields are declared once in contracts/application.py."""

    __tablename__ = "application"
    # The supervisors' list filters by one of these columns and pages in (due_on, id) order by keyset
    # (db.repository.list_applications): one index per filter, each ending in (due_on, id). Migration 0004.
    __table_args__ = (
        Index("ix_application_due_on_id", "due_on", "id"),
        Index("ix_application_status_due_on_id", "status", "due_on", "id"),
        Index("ix_application_overdue_due_on_id", "overdue", "due_on", "id"),
        Index("ix_application_handler_due_on_id", "handler", "due_on", "id"),
        Index("ix_application_department_due_on_id", "department", "due_on", "id"),
        # Open applications only (a few percent of the table): the list with open=true.
        Index("ix_application_open_due_on_id", "due_on", "id",
              postgresql_where=text(OPEN_PREDICATE), sqlite_where=text(OPEN_PREDICATE)),
        # The staff dashboard's counts and on-time rates, index-only (api/pages/staff_data.py). Migration 0006.
        Index("ix_application_status_due_on_rates", "status", "due_on", "overdue", "department", "handler"),
        # Waiting for the supervisor's extension decision: a few rows (api/pages/staff_data.py). Migration 0016.
        Index("ix_application_extension_pending", "due_on", "id", postgresql_where=text(EXTENSION_PENDING_PREDICATE),
              sqlite_where=text(EXTENSION_PENDING_PREDICATE)),
        # No handler assigned: the registrar's queue, in due order per status. Migration 0016.
        Index("ix_application_unassigned", "status", "due_on", "id", postgresql_where=text(UNASSIGNED_PREDICATE),
              sqlite_where=text(UNASSIGNED_PREDICATE)),
    )

    id: str = Field(primary_key=True, max_length=40, description="the application number")
    agency: str = Field(sa_column=agency_column())  # issue 25: the agency it was made to (db/tenancy.py)
    closed_at: datetime | None = Field(default=None, sa_column=timestamp_column(nullable=True))  # its UTC column type
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column(nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column(nullable=False))
    # The version of the workflow's record stored here (issue 12 point 4): an older copy arriving
    # late never overwrites a newer one. 0: not versioned (intake's row, writers before 0009).
    version: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, server_default=text("0")))
    # The state the deadlines are counted from (application/deadlines.py clock_copy): the calendar
    # broadcaster recounts an open application from it without waking it (issue 15 point 4). Migration 0015.
    clock: dict | None = Field(default=None, sa_column=Column(JSONDocument, nullable=True))
    # Issue 15 point 5 (contracts/application.py); false for rows written before it (migration 0016 sets them).
    extension_pending: bool = Field(default=False, sa_column=Column(Boolean, nullable=False, server_default=false()))


class ApplicationItem(SQLModel, table=True):
    __tablename__ = "application_item"

    application_id: str = Field(foreign_key="application.id", primary_key=True, ondelete="CASCADE")
    item_no: int = Field(primary_key=True)
    description: str
    outcome: str | None = None
    reasons: str = ""


class ApplicationEvent(SQLModel, table=True):
    __tablename__ = "application_event"
    __table_args__ = (
        UniqueConstraint("application_id", "seq", name="uq_application_event_seq"),
        # Extension requests and decisions only (the staff queue's waiting decisions): migration 0006.
        Index("ix_application_event_extension", "application_id", "kind", postgresql_where=text(EXTENSION_PREDICATE),
              sqlite_where=text(EXTENSION_PREDICATE)),
    )

    id: int | None = Field(default=None, primary_key=True)
    application_id: str = Field(foreign_key="application.id", index=True, ondelete="CASCADE")
    seq: int
    at: datetime = Field(sa_column=timestamp_column(nullable=False))
    kind: str
    actor: str
    summary: str
    data: dict = Field(default_factory=dict, sa_column=Column(JSONDocument, nullable=False))


class OutboundMessage(SQLModel, table=True):
    __tablename__ = "outbound_message"

    key: str = Field(primary_key=True, description="idempotency key of the dispatch")
    application_id: str = Field(index=True)
    kind: str = Field(description="letter kind, or 'staff-alert'")
    method: str
    recipient_name: str
    email: str | None = None
    subject: str
    body: str
    status: str = Field(index=True, description="sent | awaiting-staff | failed")
    attempts: int = 0
    last_error: str | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column(nullable=False))
    sent_at: datetime | None = Field(default=None, sa_column=timestamp_column(nullable=True))
    message_id: str | None = None


class StaffAlert(SQLModel, table=True):
    __tablename__ = "staff_alert"
    # Third parties' objections waiting for the supervisor (staff queue): migration 0006.
    __table_args__ = (
        Index("ix_staff_alert_objection", "application_id", postgresql_where=text(OBJECTION_PREDICATE),
              sqlite_where=text(OBJECTION_PREDICATE)),
    )

    key: str = Field(primary_key=True)
    application_id: str = Field(index=True)
    kind: str
    role: str
    recipient: str | None = None
    message: str
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column(nullable=False))
    acknowledged_at: datetime | None = Field(default=None, sa_column=timestamp_column(nullable=True))


class PublishedCalendarYear(SQLModel, table=True):
    __tablename__ = "published_calendar_year"

    year: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    payload: dict = Field(
        sa_column=Column(JSONDocument, nullable=False),
        description="the schedule as submitted: holidays, makeup_workdays, source, published_on",
    )
    published_by: str
    published_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column(nullable=False))


class CalendarWake(SQLModel, table=True):
    """Issue 15 point 4: an open application a calendar broadcast recounted in the database copy whose next
    wake-up moved earlier, but not soon: the broadcaster signals it `lead` before `wake_at` instead of at
    publication (workflows/calendar_broadcast.py DEFERRED_WAKE); its rows go when the broadcast ends."""

    __tablename__ = "calendar_wake"
    __table_args__ = (Index("ix_calendar_wake_due", "broadcast_id", "wake_at", "application_id"),)

    broadcast_id: str = Field(primary_key=True)
    application_id: str = Field(primary_key=True)
    wake_at: datetime = Field(sa_column=timestamp_column(nullable=False),
                              description="the application's new next wake-up, recounted on the published year")


class ApplicationNumberCounter(SQLModel, table=True):
    __tablename__ = "application_number_counter"

    agency: str = Field(primary_key=True, max_length=20)  # numbers are per agency and year (issue 25)
    year: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    last: int = 0


# Table 三, rows 一, 二 and 四: applications received in a range, by column, with the id for the anti-join (index-only).
Index("ix_application_received_on_applicant_type", Application.received_on, Application.applicant_type, Application.id)
