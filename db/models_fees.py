"""Fee records (issue 11 point 12; Reg. 42; 国办函〔2020〕109号).

`applicant_identity`: the applicant's identity (身份证件号码 / 统一社会信用代码, normalised) of each application,
written at registration, so that 按件计收 counts the applicant's applications of a calendar month across all
channels from the database. `fee_record`: each application's fee as the workflow last reported it (proposed,
approved, paid or waived), written by the API after each fee action; the annual report reads it.
"""

from datetime import date, datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from db.columns import timestamp_column, utcnow


def normalise_identity(id_number: str | None) -> str | None:
    """ID numbers and credit codes compare without spaces or dashes and in upper case (the check letter X)."""
    if not id_number:
        return None
    value = "".join(ch for ch in id_number if ch.isalnum()).upper()
    return value or None


class ApplicantIdentity(SQLModel, table=True):
    __tablename__ = "applicant_identity"
    # 按件计收: the applicant's applications received in a month, in order.
    __table_args__ = (Index("ix_applicant_identity_identity_received", "identity", "received_on", "application_id"),)

    application_id: str = Field(primary_key=True, max_length=40, foreign_key="application.id", ondelete="CASCADE")
    identity: str = Field(max_length=40)
    received_on: date


class FeeRecord(SQLModel, table=True):
    __tablename__ = "fee_record"

    application_id: str = Field(primary_key=True, max_length=40, foreign_key="application.id", ondelete="CASCADE")
    standard: str = Field(description="per-application | per-page")
    quantity: int
    amount_yuan: int
    decision: str = Field(description="pending | approved | refused")
    notice_sent_on: date | None = None
    pay_by: date | None = None
    paid_on: date | None = Field(default=None, description="paid, or waived (减免) on that day")
    waived: bool = False
    updated_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column(nullable=False))
