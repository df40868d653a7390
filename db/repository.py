"""Queries and idempotent writes. Callers own the transaction (see db.session.session_scope)."""

import base64
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from functools import lru_cache

from sqlalchemy import Insert, bindparam, func, literal, nulls_last, text, tuple_
from sqlalchemy.orm import defer
from sqlmodel import Session, SQLModel, col, delete, select

from contracts.models import ApplicationRecord, EventRecord, StaffAlertInput
from db import tenancy
from db.models_agency import FIRST_AGENCY_NUMBER_PATTERN
from db.upsert import dialect_insert as _dialect_insert
from db.upsert import insert_statement as _insert_statement
from db.upsert import sql_dialect as _dialect
from db.upsert import table_of as _table
from db.models import (
    CLOSED_STATUSES,
    OPEN_PREDICATE,
    Application,
    ApplicationEvent,
    ApplicationItem,
    ApplicationNumberCounter,
    CalendarWake,
    OutboundMessage,
    PublishedCalendarYear,
    StaffAlert,
    utcnow,
)

DEFAULT_NUMBER_PREFIX = "GK"


def _insert(session: Session, model: type[SQLModel]) -> Insert:
    """An INSERT that understands ON CONFLICT, for the dialects we run on."""
    return _dialect_insert(_dialect(session))(model)


def allocate_application_number(session: Session, year: int, prefix: str = DEFAULT_NUMBER_PREFIX,
                                agency: str | None = None, pattern: str | None = None) -> str:
    """Next number of the year, e.g. GK-2026-000123.

    A single atomic upsert: the counter row stays locked until the caller's transaction ends, so
    concurrent callers queue and a rolled-back registration gives its number back. Call it before
    any read in the transaction: SQLite cannot upgrade a stale read snapshot to a write lock.
    """
    return allocate_application_numbers(session, year, 1, prefix, agency, pattern)[0]


def allocate_application_numbers(session: Session, year: int, count: int, prefix: str = DEFAULT_NUMBER_PREFIX,
                                 agency: str | None = None, pattern: str | None = None) -> list[str]:
    """The next `count` numbers of the agency's year, in order, from one atomic upsert (as allocate_application_number).

    Numbers are per agency and year (issue 25; db/models_agency.py patterns): the first agency's, GK-2026-000123,
    as before; another's carries its code, GK-{code}-2026-000123 (or its own pattern)."""
    if count < 1:
        raise ValueError(f"count must be at least 1, not {count}")
    agency = agency or tenancy.FIRST_AGENCY
    pattern = pattern or FIRST_AGENCY_NUMBER_PATTERN
    last = session.connection().execute(_next_number_statement(_dialect(session)),
                                        {"agency": agency, "year": year, "last": count}).scalar_one()
    return [pattern.format(prefix=prefix, code=agency, year=year, seq=n) for n in range(last - count + 1, last + 1)]


# Intake's and the workflows' hot writes are Core statements built once per dialect and shape, with
# the values passed at execution: SQLAlchemy then reuses their compiled form. Building them with
# `.values(...)` per call cost a compile per call, most of the API's CPU per registration.

@lru_cache(maxsize=8)
def _next_number_statement(dialect: str) -> Insert:
    table = _table(ApplicationNumberCounter)
    statement = _dialect_insert(dialect)(table)
    return statement.on_conflict_do_update(  # a new year starts at `last` = count; else count more
        index_elements=[table.c.agency, table.c.year], set_={"last": table.c.last + statement.excluded.last}
    ).returning(table.c.last)


@lru_cache(maxsize=8)
def _versioned_upsert_statement(dialect: str, update: tuple[str, ...]) -> Insert:
    """The application's upsert: updates only with a newer version (or an unversioned writer's, 0),
    returning the id when the row was written (inserted or updated), nothing when the copy was older."""
    table = _table(Application)
    statement = _dialect_insert(dialect)(table)
    return statement.on_conflict_do_update(
        index_elements=[table.c.id], set_={name: statement.excluded[name] for name in update},
        where=(statement.excluded.version == 0) | (statement.excluded.version > table.c.version),
    ).returning(table.c.id)


def _application_values(record: ApplicationRecord, now) -> dict[str, Any]:
    values = record.model_dump(mode="python", exclude={"application_id", "items"})
    values.update(id=record.application_id, updated_at=now, created_at=now, agency=record.agency or tenancy.default_agency(),
                  final_outcome=_text_or_none(record.final_outcome), version=record.version or 0)
    return values


def _item_rows(record: ApplicationRecord) -> list[dict[str, Any]]:
    return [{"application_id": record.application_id, "item_no": item.item_no, "description": item.description,
             "outcome": _text_or_none(item.outcome), "reasons": item.reasons} for item in record.items]


def _event_rows(application_id: str, events: Sequence[EventRecord]) -> list[dict[str, Any]]:
    return [{"application_id": application_id, **event.model_dump(mode="python")} for event in events]


def _insert_events(session: Session, application_id: str, events: Sequence[EventRecord]) -> None:
    if events:
        statement = _insert_statement(_dialect(session), _table(ApplicationEvent), ("application_id", "seq"))
        session.connection().execute(statement, _event_rows(application_id, events))


def save_application(session: Session, record: ApplicationRecord, events: Sequence[EventRecord]) -> None:
    """Upsert the application and its items; store the events not stored yet (retries are harmless)."""
    dialect, connection = _dialect(session), session.connection()
    values = _application_values(record, utcnow())
    changed = tuple(name for name in values if name not in ("id", "created_at", "agency"))  # an agency never changes
    applied = connection.execute(_versioned_upsert_statement(dialect, changed), values).first()
    if applied is None:  # an older copy arriving after a newer one: the row, items included, stay as they are
        _insert_events(session, record.application_id, events)
        return

    item_nos = [item.item_no for item in record.items]
    items = _table(ApplicationItem)
    # Core, not the ORM's bulk delete (which evaluates the criteria against the session's objects: none here).
    connection.execute(items.delete().where(items.c.application_id == record.application_id,
                                            items.c.item_no.not_in(item_nos)))
    if record.items:
        connection.execute(
            _insert_statement(dialect, _table(ApplicationItem), ("application_id", "item_no"),
                              ("description", "outcome", "reasons")),
            _item_rows(record),
        )
    # The fee figures (Reg. 42, the annual report's count) come with the record: the workflow is their one writer,
    # so a notice dispatched, served or lapsed in the background is counted like one approved by staff.
    fee = (record.clock or {}).get("state", {}).get("fee")
    if fee:
        from db.fees_repository import save_fee

        from contracts.fees import FeeState

        save_fee(session, record.application_id, FeeState.model_validate(fee).model_dump())
    _insert_events(session, record.application_id, events)


def _text_or_none(value: str | None) -> str | None:
    return None if value is None else str(value)


# The supervisors' list counts at most this many matches (then says "at least"): an exact COUNT(*)
# over a broad filter reads every matching index entry, which at 1,000,000 rows costs more than the page.
COUNT_CAP = 10_000


class InvalidCursor(ValueError):
    """A list cursor this server did not make (or from an incompatible version)."""


def encode_list_cursor(due_on: date | None, application_id: str) -> str:
    """Opaque position in the list's order (due_on, id): base64url of a small JSON array."""
    raw = json.dumps([due_on.isoformat() if due_on else None, application_id], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_list_cursor(cursor: str) -> tuple[date | None, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        due, application_id = json.loads(raw)
        if not isinstance(application_id, str) or not 0 < len(application_id) <= 40 or not application_id.isprintable():
            raise ValueError(application_id)
        return (date.fromisoformat(due) if due is not None else None), application_id
    except (ValueError, TypeError, UnicodeDecodeError) as error:
        raise InvalidCursor(cursor) from error


@dataclass
class ApplicationPage:
    """One page of the list. Unpacks as `rows, total` (the older return value).

    total: the number of matching applications, exact up to `COUNT_CAP`; beyond it, `total` is
    `COUNT_CAP` and `total_is_lower_bound` is true. next_cursor: pass it back as `after` for the
    next page (None: this is the last page).
    """

    rows: list[Application]
    total: int
    total_is_lower_bound: bool = False
    next_cursor: str | None = None

    def __iter__(self) -> Iterator[Any]:
        return iter((self.rows, self.total))


# The clock copy (a JSON document of several KB per open application, migration 0015) is the broadcaster's, not
# the list's: a page leaves it in the database.
LISTING_LEAVES_OUT = Application.clock


def list_applications(
    session: Session,
    *,
    status: str | None = None,
    open_only: bool | None = None,
    overdue: bool | None = None,
    due_before: date | None = None,
    handler: str | None = None,
    department: str | None = None,
    offset: int = 0,
    limit: int = 50,
    after: str | tuple[date | None, str] | None = None,
    count_cap: int | None = COUNT_CAP,
    due_from: date | None = None,
) -> ApplicationPage:
    """One page of applications, soonest due first (undated last, then by number), and how many match.

    `due_before` is exclusive: due_on < due_before; `due_from` inclusive. `open_only`: True lists only applications not
    closed/withdrawn/abandoned, False only those. Paging: `after` (a `next_cursor`, or a (due_on, id)
    pair) continues right after that position and costs what the first page costs (keyset, on the
    (…, due_on, id) indexes); `offset` still works but reads and discards every row before the page,
    so deep offsets are slow on large tables. `after` and `offset` are not combined.
    `count_cap=None` counts exactly.
    """
    if after is not None and offset:
        raise ValueError("after and offset cannot be combined")
    if isinstance(after, str):
        after = decode_list_cursor(after)
    conditions = []
    if status is not None:
        conditions.append(col(Application.status) == status)
    if open_only is True:
        # The partial index's own predicate, as literal SQL: SQLite uses a partial index only when the
        # query repeats its WHERE terms (bound parameters would not match).
        conditions.append(text(OPEN_PREDICATE))
    elif open_only is False:
        conditions.append(col(Application.status).in_(CLOSED_STATUSES))
    if overdue is not None:
        conditions.append(col(Application.overdue) == overdue)
    if due_before is not None:
        conditions.append(col(Application.due_on) < due_before)
    if due_from is not None:
        conditions.append(col(Application.due_on) >= due_from)
    if handler is not None:
        conditions.append(col(Application.handler) == handler)
    if department is not None:
        conditions.append(col(Application.department) == department)

    if offset:
        # Deferred join: the rows skipped are read as (due_on, id) index entries only (every filter's index
        # ends in them: an index-only scan), then the page's own rows are fetched by number. A page deep in
        # the list then costs a walk of the index, not of the table (issue 15 point 5).
        order = (nulls_last(col(Application.due_on).asc()), col(Application.id))
        page_ids = select(col(Application.id)).where(*conditions).order_by(*order).offset(offset).limit(limit + 1)
        rows = list(session.exec(
            select(Application).options(defer(LISTING_LEAVES_OUT))
            .where(col(Application.id).in_(page_ids.scalar_subquery()))
            .order_by(*order)
        ).all())
    else:
        rows = _keyset_rows(session, conditions, after, limit + 1, dated_only=due_before is not None or due_from is not None)
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_list_cursor(rows[-1].due_on, rows[-1].id) if more else None

    if after is None and not offset and not more:
        return ApplicationPage(rows, len(rows), False, None)  # the whole result is on this page
    if count_cap is None:
        total = session.exec(select(func.count()).select_from(Application).where(*conditions)).one()
        return ApplicationPage(rows, total, False, next_cursor)
    capped = select(literal(1)).select_from(Application).where(*conditions).limit(count_cap + 1).subquery()
    counted = session.exec(select(func.count()).select_from(capped)).one()
    return ApplicationPage(rows, min(counted, count_cap), counted > count_cap, next_cursor)


def _keyset_rows(
    session: Session, conditions: list[Any], after: tuple[date | None, str] | None, n: int, dated_only: bool
) -> list[Application]:
    """Up to n rows after `after` in (due_on, id) order, NULL due dates last.

    Two index range scans instead of one ORDER BY … NULLS LAST: dated rows by (due_on, id), then
    undated rows by id. Each is a plain ascending walk of a (…, due_on, id) index on both SQLite
    and PostgreSQL.
    """
    due_on, application_id = col(Application.due_on), col(Application.id)
    rows: list[Application] = []
    if after is None or after[0] is not None:
        dated = [*conditions, due_on.is_not(None)]
        if after is not None:
            dated.append(tuple_(due_on, application_id) > tuple_(literal(after[0]), literal(after[1])))
        rows = list(session.exec(select(Application).options(defer(LISTING_LEAVES_OUT))
                                 .where(*dated).order_by(due_on, application_id).limit(n)).all())
    if len(rows) < n and not dated_only:
        undated = [*conditions, due_on.is_(None)]
        if after is not None and after[0] is None:
            undated.append(application_id > after[1])
        rows += session.exec(
            select(Application).options(defer(LISTING_LEAVES_OUT)).where(*undated).order_by(application_id)
            .limit(n - len(rows))
        ).all()
    return rows


def insert_applications_if_absent(session: Session, applications: Sequence[tuple[ApplicationRecord, Sequence[EventRecord]]]) -> None:
    """Store new applications (rows, items, events), each row only if absent: INSERT … ON CONFLICT DO NOTHING.

    For intake, which lists an application at once: the workflow writes the same row with
    `save_application`, and if it got there first its row is newer and is left alone (and its
    items and registration event are the same keys, so those inserts are no-ops too). One
    statement per table for the whole batch.
    """
    if not applications:
        return
    dialect, connection, now = _dialect(session), session.connection(), utcnow()
    connection.execute(_insert_statement(dialect, _table(Application), ("id",)),
                       [_application_values(record, now) for record, _ in applications])
    items = [row for record, _ in applications for row in _item_rows(record)]
    if items:
        connection.execute(_insert_statement(dialect, _table(ApplicationItem), ("application_id", "item_no")), items)
    events = [row for record, events in applications for row in _event_rows(record.application_id, events)]
    if events:
        connection.execute(_insert_statement(dialect, _table(ApplicationEvent), ("application_id", "seq")), events)


def insert_query_codes_if_absent(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Applicants' query-code rows (applicant_access), each only if absent: a repeated listing is a no-op."""
    if rows:
        from db.models_security import ApplicantAccess

        session.connection().execute(_insert_statement(_dialect(session), _table(ApplicantAccess), ("application_id",)),
                                     list(rows))


def stored_since(session: Session, application_id: str, seq: int) -> tuple[int | None, list[ApplicationEvent]]:
    """The stored row's version (None when not listed; 0: intake's or an unversioned writer's) and the events
    stored at `seq` or later, in one statement (Core: this runs in a letter's send transaction)."""
    events, app = _table(ApplicationEvent), _table(Application)
    version = select(app.c.version).where(app.c.id == application_id).scalar_subquery()
    rows = session.connection().execute(
        select(version.label("version"), events.c.seq, events.c.at, events.c.kind, events.c.actor, events.c.summary)
        .select_from(app.outerjoin(events, (events.c.application_id == app.c.id) & (events.c.seq >= seq)))
        .where(app.c.id == application_id)
    ).all()
    if not rows:
        return None, []
    return rows[0].version, [ApplicationEvent(application_id=application_id, seq=r.seq, at=r.at, kind=r.kind,
                                               actor=r.actor, summary=r.summary) for r in rows if r.seq is not None]


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


def open_application_ids_page(session: Session, after: str | None, limit: int) -> list[str]:
    """Up to `limit` open applications whose id sorts after `after` (a keyset page: the primary key's order)."""
    statement = select(Application.id).where(col(Application.status).not_in(CLOSED_STATUSES))
    if after is not None:
        statement = statement.where(col(Application.id) > after)
    return list(session.exec(statement.order_by(col(Application.id)).limit(limit)).all())


def open_clock_page(session: Session, after: str | None, limit: int) -> list[tuple[str, int, dict | None]]:
    """Up to `limit` open applications after `after` (keyset, by id): id, record version and clock copy."""
    statement = select(Application.id, Application.version, Application.clock).where(
        col(Application.status).not_in(CLOSED_STATUSES))
    if after is not None:
        statement = statement.where(col(Application.id) > after)
    return [tuple(row) for row in session.exec(statement.order_by(col(Application.id)).limit(limit)).all()]


def move_listed_dates(session: Session, moves: Sequence[dict[str, Any]]) -> None:
    """The calendar broadcaster's recount (issue 15 point 4): each row's due date, flags and explanation, when
    the row is still the version it was recounted from (a newer write of the workflow's wins)."""
    if not moves:
        return
    table = _table(Application)
    statement = table.update().where(table.c.id == bindparam("b_id"), table.c.version == bindparam("b_version")) \
        .values(due_on=bindparam("b_due_on"), due_provisional=bindparam("b_due_provisional"),
                overdue=bindparam("b_overdue"), calendar_note=bindparam("b_note"), updated_at=bindparam("b_at"))
    at = utcnow()
    session.connection().execute(statement, [{"b_id": m["id"], "b_version": m["version"], "b_due_on": m["due_on"],
                                              "b_due_provisional": m["due_provisional"], "b_overdue": m["overdue"],
                                              "b_note": m["note"], "b_at": at} for m in moves])


def defer_calendar_wakes(session: Session, broadcast_id: str, wakes: Sequence[tuple[str, Any]]) -> None:
    """The broadcaster's deferred wakes (issue 15 point 4): (application id, new wake instant) each; a page
    recounted again (an activity retried) writes the same rows."""
    if not wakes:
        return
    statement = _insert_statement(_dialect(session), _table(CalendarWake), ("broadcast_id", "application_id"),
                                  ("wake_at",))
    session.connection().execute(statement, [{"broadcast_id": broadcast_id, "application_id": application_id,
                                              "wake_at": wake_at} for application_id, wake_at in wakes])


def _wakes_after(broadcast_id: str, after: tuple[Any, str] | None):
    statement = select(CalendarWake.application_id, CalendarWake.wake_at).where(
        col(CalendarWake.broadcast_id) == broadcast_id)
    if after is not None:  # keyset on (wake_at, application_id): index ix_calendar_wake_due
        wake_at, application_id = after
        statement = statement.where((col(CalendarWake.wake_at) > wake_at) | (
            (col(CalendarWake.wake_at) == wake_at) & (col(CalendarWake.application_id) > application_id)))
    return statement.order_by(col(CalendarWake.wake_at), col(CalendarWake.application_id))


def due_calendar_wakes(session: Session, broadcast_id: str, after: tuple[Any, str] | None, until: Any,
                       limit: int) -> list[tuple[str, Any]]:
    """Up to `limit` deferred wakes of the broadcast after the cursor whose instant is at or before `until`, in
    (wake_at, application_id) order."""
    statement = _wakes_after(broadcast_id, after).where(col(CalendarWake.wake_at) <= until).limit(limit)
    return [tuple(row) for row in session.exec(statement).all()]


def next_calendar_wake(session: Session, broadcast_id: str, after: tuple[Any, str] | None) -> Any | None:
    """The earliest deferred wake of the broadcast after the cursor, or None: none is left."""
    row = session.exec(_wakes_after(broadcast_id, after).limit(1)).first()
    return row[1] if row is not None else None


def forget_calendar_wakes(session: Session, broadcast_id: str) -> int:
    """The broadcast ended: its deferred wakes, all sent, go."""
    return session.exec(delete(CalendarWake).where(col(CalendarWake.broadcast_id) == broadcast_id)).rowcount


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
