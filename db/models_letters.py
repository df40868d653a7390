"""Letters: issued documents with their 文号, the outbox that sends each exactly once, stored files.

- `document_number_counter`: one row per (series, year); numbers are allocated in the same
  transaction that stores the document, so a number is never given twice nor to two documents.
- `letter_document`: one row per issued document, keyed by its business key (e.g.
  `GK-2026-000001:reply`), with the checksums of the approved text and of the rendered PDF. The PDF
  itself is a stored file (content-addressed under data_dir/files).
- `letter_outbox`: the delivery of that document: pending → sending → sent (e-mail), or
  awaiting-staff → delivered (post, pickup, portal); `uncertain` when a try may have reached the
  mail server and was not recorded (never resent blindly: staff confirm).
- `stored_file` / `letter_attachment`: files staff upload (disclosed files, redacted versions),
  attached to an application's items, with sha256 checksums verified before sending.
"""

from datetime import date, datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Column, Field, SQLModel

from db.columns import JSONDocument, timestamp_column, utcnow


class DocumentNumberCounter(SQLModel, table=True):
    __tablename__ = "document_number_counter"

    agency: str = Field(primary_key=True, max_length=20)  # each agency its own 文号 series (issue 25)
    series: str = Field(primary_key=True, max_length=20)
    year: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    last: int = 0


class DocumentNumberReservation(SQLModel, table=True):
    """A 文号 taken for a letter before its PDF is rendered, outside any transaction.

    Rendering a Chinese PDF takes a few hundred milliseconds; inside the transaction that took the
    number it held the series' counter (on SQLite: the whole database) that long. A retry of an
    issue that crashed after taking its number finds it here and uses it: the series has no gap.
    """

    __tablename__ = "document_number_reservation"
    __table_args__ = (UniqueConstraint("document_number", name="uq_document_number_reservation_number"),)

    key: str = Field(primary_key=True, description="the letter's business key, as letter_document.key")
    document_number: str
    reserved_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column(nullable=False))


class LetterDocument(SQLModel, table=True):
    __tablename__ = "letter_document"
    __table_args__ = (UniqueConstraint("document_number", name="uq_letter_document_number"),)

    key: str = Field(primary_key=True, description="business key of the letter, e.g. '<application_id>:reply'")
    application_id: str = Field(index=True)
    kind: str
    document_number: str
    issued_on: date
    subject: str
    body: str
    body_sha256: str
    pdf_sha256: str
    pdf_size: int
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column(nullable=False))


class LetterOutbox(SQLModel, table=True):
    __tablename__ = "letter_outbox"

    key: str = Field(primary_key=True, description="idempotency key: one delivery per key")
    application_id: str = Field(index=True)
    kind: str
    method: str
    recipient_name: str
    email: str | None = None
    address: str | None = None
    attachments: list = Field(default_factory=list, sa_column=Column(JSONDocument, nullable=False),
                              description="[{attachment_id, item_no, filename, sha256, size, content_type}]")
    status: str = Field(index=True, description="pending | sending | sent | failed | uncertain | awaiting-staff | delivered")
    attempts: int = 0
    last_error: str | None = None
    message_id: str | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column(nullable=False))
    sending_at: datetime | None = Field(default=None, sa_column=timestamp_column(nullable=True))
    sent_at: datetime | None = Field(default=None, sa_column=timestamp_column(nullable=True))
    delivered_on: date | None = None
    tracking_number: str | None = None
    downloaded_at: datetime | None = Field(default=None, sa_column=timestamp_column(nullable=True))
    # Proof of service (issue 11 point 14, migration 0010): what a court would ask for.
    smtp_reply: str | None = Field(default=None, description="the mail server's answer to DATA, e.g. '250 OK queued'")
    posted_on: date | None = Field(default=None, description="post: the day the letter was handed to the post office")
    served_method: str | None = Field(default=None, description="how it was served: email | post | pickup | portal | hand")
    served_entered_by: str | None = Field(default=None, description="the staff member who entered the receipt date")
    served_entered_at: datetime | None = Field(default=None, sa_column=timestamp_column(nullable=True))
    received_by: str | None = Field(default=None, description="签收人 / 领取人")
    handed_over_by: str | None = Field(default=None, description="pickup: the staff member who handed the letter over")
    receipt_scan_sha256: str | None = Field(default=None, description="the signed receipt's scan (a stored file)")
    downloaded_by: str | None = Field(default=None, description="portal: who downloaded it (authenticated by query code)")
    service_note: str | None = None


class StoredFile(SQLModel, table=True):
    __tablename__ = "stored_file"

    sha256: str = Field(primary_key=True, max_length=64)
    size: int
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column(nullable=False))


class LetterAttachment(SQLModel, table=True):
    __tablename__ = "letter_attachment"

    id: int | None = Field(default=None, primary_key=True)
    application_id: str = Field(index=True)
    item_no: int
    version: str = Field(description="original (disclosed as is) | redacted (区分处理后的版本)")
    filename: str
    content_type: str
    sha256: str = Field(foreign_key="stored_file.sha256")
    size: int
    uploaded_by: str
    uploaded_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column(nullable=False))


class MailReturn(SQLModel, table=True):
    """A delivery status notification or bounce about one of our e-mails (RULES §3 Service; letters/returns.py).

    One row per reported recipient of each returned message, keyed by the return's own Message-ID (or its sha256)
    and the recipient: a return posted twice is recorded once. `action` delivered = the e-mail reached the
    addressee's mail system on `reported_at` (proof of service); failed = not served (staff told); delayed: noted.
    """

    __tablename__ = "mail_return"
    __table_args__ = (UniqueConstraint("return_id", "recipient", name="uq_mail_return_recipient"),)

    id: int | None = Field(default=None, primary_key=True)
    return_id: str = Field(max_length=300, description="the returned message's Message-ID, or sha256 of its bytes")
    recipient: str = Field(default="", max_length=300)
    letter_key: str | None = Field(default=None, index=True, description="the outbox row it is about (None: unknown)")
    action: str = Field(max_length=20, description="delivered | failed | delayed | relayed | expanded")
    status: str = Field(default="", max_length=20, description="RFC 3463 code, e.g. 2.0.0, 5.1.1")
    diagnostic: str = Field(default="", max_length=500)
    reporting_mta: str = Field(default="", max_length=200)
    reported_at: datetime | None = Field(default=None, sa_column=timestamp_column(nullable=True))
    received_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column(nullable=False))
    raw_sha256: str = Field(max_length=64, description="the returned message as received (a stored file)")
