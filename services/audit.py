"""The audit trail: one append-only row per API request, hash-chained; and its verifier.

row hash = sha256(previous row's hash + canonical JSON of the row's fields), the first row's
previous hash being 64 zeros. Appends are serialised across processes (a PostgreSQL advisory lock;
on SQLite the database's write lock), so the chain has no forks.
"""

from core import clock
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC

from sqlalchemy import Engine, text
from sqlalchemy import select as core_select
from sqlmodel import Session, col, select

from db.models_security import AuditEvent
from db.session import write_turn

GENESIS = "0" * 64
AUDIT_LOCK_KEY = int.from_bytes(b"dsclaudt", "big") & 0x7FFF_FFFF_FFFF_FFFF
CHAINED_FIELDS = ("seq", "at", "actor", "role", "action", "application_id", "status_code", "client")


def canonical(row: AuditEvent) -> str:
    values = {name: getattr(row, name) for name in CHAINED_FIELDS}
    at = values["at"]
    values["at"] = (at if at.tzinfo else at.replace(tzinfo=UTC)).astimezone(UTC).isoformat(timespec="microseconds")
    return json.dumps(values, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def row_hash(prev_hash: str, row: AuditEvent) -> str:
    return hashlib.sha256((prev_hash + canonical(row)).encode()).hexdigest()


AUDIT_TABLE = AuditEvent.__table__  # type: ignore[attr-defined]
# Built once: one audit row per request is the hottest write there is (see db/repository.py).
LAST_LINK = core_select(AUDIT_TABLE.c.seq, AUDIT_TABLE.c.hash).order_by(AUDIT_TABLE.c.seq.desc()).limit(1)
APPEND = AUDIT_TABLE.insert()


@dataclass(frozen=True)
class AuditEntry:
    """What a request leaves in the trail; `append_audit_rows` gives it its place and hash."""

    actor: str
    role: str
    action: str
    application_id: str | None
    status_code: int
    client: str = ""


def append_audit(
    engine: Engine, *, actor: str, role: str, action: str, application_id: str | None, status_code: int,
    client: str = "",
) -> AuditEvent:
    return append_audit_rows(engine, [AuditEntry(actor, role, action, application_id, status_code, client)])[0]


def append_audit_rows(engine: Engine, entries: Sequence[AuditEntry]) -> list[AuditEvent]:
    """Chains `entries`, in order, after the last row: one lock and one commit for all of them."""
    with write_turn(engine), engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": AUDIT_LOCK_KEY})
        else:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        last = connection.execute(LAST_LINK).first()
        seq, prev_hash = (last.seq, last.hash) if last else (0, GENESIS)
        rows = []
        for entry in entries:
            seq += 1
            row = AuditEvent(
                seq=seq, at=clock.now(), actor=entry.actor[:200], role=entry.role[:100],
                action=entry.action[:300], application_id=(entry.application_id or None) and entry.application_id[:80],
                status_code=entry.status_code, client=entry.client[:100], prev_hash=prev_hash, hash="",
            )
            row.hash = prev_hash = row_hash(row.prev_hash, row)
            rows.append(row)
        connection.execute(APPEND, [{name: getattr(row, name) for name in (*CHAINED_FIELDS, "prev_hash", "hash")}
                                    for row in rows])
        connection.commit()
    return rows


@dataclass
class AuditCheck:
    rows: int
    first_bad_seq: int | None = None
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.first_bad_seq is None


def verify_audit(engine: Engine) -> AuditCheck:
    """Walks the chain in order; names the first row whose content, link or position does not fit."""
    prev, expected_seq, count = GENESIS, 1, 0
    with Session(engine) as session:
        for row in session.exec(select(AuditEvent).order_by(col(AuditEvent.seq))):
            count += 1
            if row.seq != expected_seq:
                return AuditCheck(count, expected_seq, f"row {expected_seq} is missing (next is {row.seq})")
            if row.prev_hash != prev:
                return AuditCheck(count, row.seq, f"row {row.seq} does not link to row {row.seq - 1}")
            if row_hash(prev, row) != row.hash:
                return AuditCheck(count, row.seq, f"row {row.seq} was altered after it was written")
            prev, expected_seq = row.hash, row.seq + 1
    return AuditCheck(count)
