"""Security tables: staff accounts, applicants' query codes, used third-party links, the audit chain."""

from datetime import datetime

from sqlmodel import Field, SQLModel

from db.columns import timestamp_column, utcnow
from db.tenancy import AgencyOwned, agency_column


class StaffUser(SQLModel, AgencyOwned, table=True):
    __tablename__ = "staff_user"

    username: str = Field(primary_key=True, max_length=64)
    agency: str = Field(sa_column=agency_column())  # issue 25: staff belong to one agency (db/tenancy.py)
    full_name: str = ""
    password_hash: str
    roles: str = Field(default="", description="comma-separated: registrar,handler,reviewer,supervisor,admin")
    department: str | None = Field(default=None, index=True)
    active: bool = True
    # Raised on a password change, role change or deactivation: older tokens stop working at once.
    token_version: int = 1
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column(nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column(nullable=False))

    def role_set(self) -> frozenset[str]:
        return frozenset(r for r in self.roles.split(",") if r)


class ApplicantAccess(SQLModel, table=True):
    __tablename__ = "applicant_access"

    application_id: str = Field(primary_key=True, max_length=40)
    code_hash: str = Field(description="HMAC-SHA256 of the query code under a server-side key")
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column(nullable=False))


class ThirdPartyLinkUse(SQLModel, table=True):
    __tablename__ = "third_party_link_use"

    nonce: str = Field(primary_key=True, max_length=64)
    consultation_id: str = Field(index=True)
    used_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column(nullable=False))


class AuditEvent(SQLModel, table=True):
    """Append-only; each row's hash = sha256(previous row's hash + canonical form of this row)."""

    __tablename__ = "audit_event"

    seq: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    at: datetime = Field(sa_column=timestamp_column(nullable=False))
    actor: str
    role: str
    action: str
    application_id: str | None = Field(default=None, index=True)
    status_code: int
    client: str = ""
    prev_hash: str
    hash: str


class PageDraft(SQLModel, table=True):
    """Issue 23 point 2: what a person typed into a staff form when their log-in had expired. Kept under a
    random id carried through the log-in page, restored once into the form after log-in, then deleted
    (and never older than a day: services.drafts)."""

    __tablename__ = "page_draft"

    id: str = Field(primary_key=True, max_length=64)
    page: str = Field(max_length=500, description="the staff page the form is on, /staff/…")
    action: str = Field(max_length=100, description="the form's action on that page (assign, decisions, …)")
    fields: str = Field(description="the form's fields, JSON")
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column(nullable=False))


class LoginFailure(SQLModel, table=True):
    """Issue 23 point 8: an account's consecutive wrong passwords and the lock they caused (services.lockout);
    deleted by a successful log-in or an admin's unlock."""

    __tablename__ = "login_failure"

    username: str = Field(primary_key=True, max_length=64)
    failures: int = 0
    locked_until: datetime | None = Field(default=None, sa_column=timestamp_column(nullable=True))
    last_failure_at: datetime = Field(sa_column=timestamp_column(nullable=False))
