"""The audit trail: one append-only row per API request, hash-chained; and its verifier.

row hash = sha256(previous row's hash + canonical JSON of the row's fields), the first row's
previous hash being 64 zeros. Appends are serialised across processes (a PostgreSQL advisory lock;
on SQLite the database's write lock), so the chain has no forks.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, text
from sqlmodel import Session, col, select

from db.models_security import AuditEvent

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


def append_audit(
    engine: Engine, *, actor: str, role: str, action: str, application_id: str | None, status_code: int,
    client: str = "",
) -> AuditEvent:
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": AUDIT_LOCK_KEY})
        else:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        with Session(bind=connection) as session:
            last = session.exec(select(AuditEvent).order_by(col(AuditEvent.seq).desc()).limit(1)).first()
            row = AuditEvent(
                seq=(last.seq + 1) if last else 1, at=datetime.now(UTC), actor=actor[:200], role=role[:100],
                action=action[:300], application_id=(application_id or None) and application_id[:80],
                status_code=status_code, client=client[:100], prev_hash=last.hash if last else GENESIS, hash="",
            )
            row.hash = row_hash(row.prev_hash, row)
            session.add(row)
            session.flush()
            session.expunge(row)
        connection.commit()
    return row


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
