"""The column types every table uses: UTC timestamps on every backend, JSON (JSONB on PostgreSQL), and the
records' clock. Imported by db/models.py and each db/models_*.py (which therefore no longer import one another)."""

from datetime import UTC, datetime

from sqlalchemy import JSON, DateTime, TypeDecorator
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Column

JSONDocument = JSON().with_variant(JSONB(), "postgresql")


def utcnow() -> datetime:
    """Timestamps of records: the product's clock (core.clock), which tests pin."""
    from core import clock

    return clock.now()


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC timestamps on every backend.

    SQLite keeps no offset, so values are stored as UTC and given their zone back on reading;
    workflows compare these with aware datetimes.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None or value.tzinfo is None:
            return value
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None or value.tzinfo is not None:
            return value
        return value.replace(tzinfo=UTC)


def timestamp_column(*, nullable: bool) -> Column:
    return Column(UTCDateTime(), nullable=nullable)
