"""The agencies on the platform (issue 25, RULES §12): each its own 行政机关 with its own numbers, 文号, reply
period, remedy bodies, payment channel and mail sender. The installation's first agency is made from the settings
at start (services/agencies.py); the others by `python admin.py create-agency`."""

from datetime import datetime

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from db.columns import timestamp_column, utcnow

# A new agency's application numbers: its code between the prefix and the year, so that numbers (and the workflow
# ids they are) never collide across the platform (RULES §12: numbers are per agency).
AGENCY_NUMBER_PATTERN = "{prefix}-{code}-{year:04d}-{seq:06d}"
# The first agency keeps the single-agency installation's numbers (nothing renumbered: issue 25 point 6).
FIRST_AGENCY_NUMBER_PATTERN = "{prefix}-{year:04d}-{seq:06d}"


class AgencyBase(SQLModel):
    code: str = Field(primary_key=True, max_length=20)
    name: str = Field(max_length=100)
    region: str = Field(default="", max_length=100, index=True)


class Agency(AgencyBase, table=True):
    __tablename__ = "agency"

    number_prefix: str = Field(default="GK", max_length=40)
    number_pattern: str = Field(default=AGENCY_NUMBER_PATTERN, max_length=60)
    document_number_prefix: str = Field(default="", max_length=40, description="文号中的机关代字")
    reply_period: str = Field(default="national-2019", max_length=30)
    reconsideration_body: str | None = None
    court: str | None = None
    complaint_body: str | None = None
    fee_payment_channel: str | None = Field(default=None, max_length=20)
    fee_payment_text: str | None = None
    contact: str = ""
    mail_sender: str | None = Field(default=None, max_length=200)
    letterhead: str | None = None
    seal_image: str | None = Field(default=None, description="path of the seal's image, read by the letters")
    catalogue_sections: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column(nullable=False))

    def number(self, year: int, seq: int) -> str:
        return self.number_pattern.format(prefix=self.number_prefix, code=self.code, year=year, seq=seq)


class ApplicationLink(SQLModel, table=True):
    """Issue 25 point 4: an application re-submitted in one step to the competent agency on the platform after the
    first agency answered Reg. 36(5): the new one (its own number and receipt date) and where it came from."""

    __tablename__ = "application_link"

    from_id: str = Field(primary_key=True, max_length=40)
    to_agency: str = Field(primary_key=True, max_length=20)
    to_id: str = Field(max_length=40, index=True)
    items: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column(nullable=False))
