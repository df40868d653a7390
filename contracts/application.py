"""The application's fields, declared once (the FastAPI full-stack template's chain of SQLModel
classes: a base of shared fields, inherited by the table=True record and by the other models).

- `ApplicationListed`: what every listing of an application shows; the API's list item
  (api/schemas.py `ApplicationSummary`) is this plus the number.
- `ApplicationFields`: the whole listing row; the database table (db/models.py `Application`,
  table=True) and the activity's `ApplicationRecord` (contracts/models.py) inherit it.

Field names are the database's columns, the API's JSON keys and the Temporal payload's keys at
once: rename one and all three change (recorded histories must still decode: tests/test_replay.py).
SQLModel is a library, not ours: this package still depends on nothing of ours.
"""

from datetime import date, datetime

from sqlmodel import Field, SQLModel


class ApplicationKey(SQLModel):
    """The number as the record and the API name it (the table's primary key is `id`)."""

    application_id: str


class ApplicationListed(SQLModel):
    received_on: date = Field(index=True)
    channel: str
    applicant_name: str
    status: str
    handler: str | None = None
    department: str | None = None
    due_on: date | None = None
    due_provisional: bool = False
    overdue: bool = False
    paused: bool = False
    extended: bool = False
    closed_at: datetime | None = None  # the table gives it its UTC column type (db/models.py)
    final_outcome: str | None = None


class ApplicationFields(ApplicationListed):
    applicant_type: str
    applicant_email: str | None = None
    applicant_phone: str | None = None
    applicant_address: str | None = None
    delivery_method: str
    policy: str
    # An extension asked for and not yet decided (Reg. 33(2)): the supervisor's queue and dashboard read it from a
    # partial index (issue 15 point 5; migration 0016). Written by the workflow with every record.
    extension_pending: bool = False
    # Issue 15 point 4: the calendar broadcaster's explanation of a due date it moved in this copy, until the
    # application records the move on its own timeline (its next write clears it).
    calendar_note: str | None = None
