"""Queries and idempotent writes. Callers own the transaction (see db.session.session_scope)."""

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import Insert, func, nulls_last
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, SQLModel, col, delete, select

from activities.models import ApplicationRecord, EventRecord, StaffAlertInput
from db.models import (
    CLOSED_STATUSES,
    Application,
    ApplicationEvent,
    ApplicationItem,
    ApplicationNumberCounter,
    OutboundMessage,
    PublishedCalendarYear,
    StaffAlert,
    utcnow,
)

DEFAULT_NUMBER_PREFIX = "GK"


def _insert(session: Session, model: type[SQLModel]) -> Insert:
    """An INSERT that understands ON CONFLICT, for the dialects we run on."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(model)
    if dialect == "sqlite":
        return sqlite.insert(model)
    raise ValueError(f"unsupported database dialect {dialect!r}")


def allocate_application_number(session: Session, year: int, prefix: str = DEFAULT_NUMBER_PREFIX) -> str:
    """Next number of the year, e.g. GK-2026-000123.

    A single atomic upsert: the counter row stays locked until the caller's transaction ends, so
    concurrent callers queue and a rolled-back registration gives its number back. Call it before
    any read in the transaction: SQLite cannot upgrade a stale read snapshot to a write lock.
    """
    statement = _insert(session, ApplicationNumberCounter).values(year=year, last=1)
    statement = statement.on_conflict_do_update(
        index_elements=[ApplicationNumberCounter.year],
        set_={"last": ApplicationNumberCounter.last + 1},
    ).returning(ApplicationNumberCounter.last)
    last = session.execute(statement).scalar_one()
    return f"{prefix}-{year:04d}-{last:06d}"


def save_application(session: Session, record: ApplicationRecord, events: Sequence[EventRecord]) -> None:
    """Upsert the application and its items; store the events not stored yet (retries are harmless)."""
    now = utcnow()
    values = record.model_dump(mode="python", exclude={"application_id", "items"})
    values.update(id=record.application_id, updated_at=now, final_outcome=_text_or_none(record.final_outcome))
    upsert = _insert(session, Application).values(**values, created_at=now)
    session.execute(upsert.on_conflict_do_update(index_elements=[Application.id], set_=values))

    item_nos = [item.item_no for item in record.items]
    session.execute(
        delete(ApplicationItem).where(
            col(ApplicationItem.application_id) == record.application_id,
            col(ApplicationItem.item_no).not_in(item_nos),
        )
    )
    for item in record.items:
        item_values = {"description": item.description, "outcome": _text_or_none(item.outcome), "reasons": item.reasons}
        upsert = _insert(session, ApplicationItem).values(
            application_id=record.application_id, item_no=item.item_no, **item_values
        )
        session.execute(
            upsert.on_conflict_do_update(
                index_elements=[ApplicationItem.application_id, ApplicationItem.item_no], set_=item_values
            )
        )

    if events:
        rows = [{"application_id": record.application_id, **event.model_dump(mode="python")} for event in events]
        session.execute(
            _insert(session, ApplicationEvent)
            .values(rows)
            .on_conflict_do_nothing(index_elements=[ApplicationEvent.application_id, ApplicationEvent.seq])
        )


def _text_or_none(value: str | None) -> str | None:
    return None if value is None else str(value)


def list_applications(
    session: Session,
    *,
    status: str | None = None,
    overdue: bool | None = None,
    due_before: date | None = None,
    handler: str | None = None,
    department: str | None = None,
    offset: int = 0,
    limit: int = 50,
) -> tuple[list[Application], int]:
    """One page of applications, soonest due first (undated last), and the total matching.

    `due_before` is exclusive: due_on < due_before.
    """
    conditions = []
    if status is not None:
        conditions.append(col(Application.status) == status)
    if overdue is not None:
        conditions.append(col(Application.overdue) == overdue)
    if due_before is not None:
        conditions.append(col(Application.due_on) < due_before)
    if handler is not None:
        conditions.append(col(Application.handler) == handler)
    if department is not None:
        conditions.append(col(Application.department) == department)

    total = session.exec(select(func.count()).select_from(Application).where(*conditions)).one()
    page = session.exec(
        select(Application)
        .where(*conditions)
        .order_by(nulls_last(col(Application.due_on).asc()), col(Application.id))
        .offset(offset)
        .limit(limit)
    ).all()
    return list(page), total


def get_events(session: Session, application_id: str) -> list[ApplicationEvent]:
    statement = (
        select(ApplicationEvent)
        .where(ApplicationEvent.application_id == application_id)
        .order_by(col(ApplicationEvent.seq))
    )
    return list(session.exec(statement).all())


def open_application_ids(session: Session) -> list[str]:
    statement = (
        select(Application.id).where(col(Application.status).not_in(CLOSED_STATUSES)).order_by(col(Application.id))
    )
    return list(session.exec(statement).all())


def store_calendar_year(session: Session, year: int, payload: dict[str, Any], published_by: str) -> None:
    """Publish (or republish) a year's holiday schedule."""
    values = {"payload": payload, "published_by": published_by, "published_at": utcnow()}
    upsert = _insert(session, PublishedCalendarYear).values(year=year, **values)
    session.execute(upsert.on_conflict_do_update(index_elements=[PublishedCalendarYear.year], set_=values))


def published_calendar_years(session: Session) -> list[dict[str, Any]]:
    """Every published year's payload, oldest first, each with its `year`."""
    rows = session.exec(select(PublishedCalendarYear).order_by(col(PublishedCalendarYear.year))).all()
    return [{**row.payload, "year": row.year} for row in rows]


def insert_staff_alert(session: Session, alert: StaffAlertInput) -> None:
    """Store the alert once; a repeated key is ignored."""
    statement = _insert(session, StaffAlert).values(**alert.model_dump(), created_at=utcnow())
    session.execute(statement.on_conflict_do_nothing(index_elements=[StaffAlert.key]))


def _outbound_message_by_key(key: str):
    # populate_existing: the row may have been changed by an upsert this session did not track.
    return select(OutboundMessage).where(OutboundMessage.key == key).execution_options(populate_existing=True)


def get_outbound_message(session: Session, key: str) -> OutboundMessage | None:
    return session.exec(_outbound_message_by_key(key)).one_or_none()


def record_outbound_message(session: Session, message: OutboundMessage) -> OutboundMessage:
    """Store a dispatch attempt: adds `message.attempts` to the stored count, updates status and error.

    A message already marked sent keeps its sent state, so a late duplicate cannot undo it.
    """
    values = message.model_dump()
    outcome = {
        "status": message.status,
        "last_error": message.last_error,
        "sent_at": message.sent_at,
        "message_id": message.message_id,
        "attempts": OutboundMessage.attempts + message.attempts,
    }
    upsert = _insert(session, OutboundMessage).values(**values)
    session.execute(
        upsert.on_conflict_do_update(
            index_elements=[OutboundMessage.key],
            set_=outcome,
            where=col(OutboundMessage.status) != "sent",
        )
    )
    return session.exec(_outbound_message_by_key(message.key)).one()
