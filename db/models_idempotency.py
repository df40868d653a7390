"""Idempotency keys (issue 12 point 1): a retried POST gets the first answer again, nothing is done twice.

Kept in the database, not in a process: API processes scale out and a retry may reach another one.
A row is claimed before the request runs (`locked_until`: in flight) and holds the answer once it
has one; `reserved` keeps what the request decided before acting (e.g. the application number), so a
retry after a failure finishes the same work instead of starting new work.
"""

from datetime import datetime

from sqlalchemy import Column, Index, LargeBinary, Text
from sqlmodel import Field, SQLModel

from db.columns import timestamp_column, utcnow


class IdempotencyKey(SQLModel, table=True):
    __tablename__ = "idempotency_key"
    __table_args__ = (Index("ix_idempotency_key_expires_at", "expires_at"),)  # the purge of expired keys

    # sha256 of (principal, key): the raw key is never stored (it also unlocks the stored answer).
    scope: str = Field(primary_key=True, max_length=64)
    fingerprint: str = Field(max_length=64, description="sha256 of method, path, query and body")
    method: str = Field(max_length=10)
    path: str = Field(max_length=300)
    locked_until: datetime | None = Field(default=None, sa_column=timestamp_column(nullable=True))
    status_code: int | None = None
    # The answer (status line aside), AES-GCM under a key derived from the raw Idempotency-Key.
    response: bytes | None = Field(default=None, sa_column=Column(LargeBinary(), nullable=True))
    reserved: str | None = Field(default=None, sa_column=Column(Text(), nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column(nullable=False))
    expires_at: datetime = Field(sa_column=timestamp_column(nullable=False))
