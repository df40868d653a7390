"""Queries and idempotent writes for letters (db.models_letters); callers own the transaction."""

import hashlib
import os
import tempfile
from datetime import date
from pathlib import Path

from sqlmodel import Session, col, select

from db import tenancy
from db.models import utcnow
from db.models_letters import (
    MailReturn,
    DocumentNumberCounter,
    DocumentNumberReservation,
    LetterAttachment,
    LetterDocument,
    LetterOutbox,
    StoredFile,
)
from db.repository import _insert


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class FileStore:
    """Content-addressed files under `<data_dir>/files/ab/abcdef…` (sha256); writes are atomic."""

    def __init__(self, data_dir: Path) -> None:
        self.root = Path(data_dir) / "files"

    def path_of(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    def put(self, data: bytes) -> str:
        digest = sha256_of(data)
        target = self.path_of(digest)
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, target)
        return digest

    def get_verified(self, sha256: str) -> bytes:
        """The file's bytes; ChecksumMismatch if it is missing or no longer matches its checksum."""
        path = self.path_of(sha256)
        if not path.is_file():
            raise ChecksumMismatch(f"stored file {sha256} is missing")
        data = path.read_bytes()
        if sha256_of(data) != sha256:
            raise ChecksumMismatch(f"stored file {sha256} does not match its checksum")
        return data


class ChecksumMismatch(RuntimeError):
    pass


def allocate_document_number(session: Session, series: str, year: int, agency: str | None = None) -> int:
    """Next number of the agency's series and year (atomic upsert, as application numbers; issue 25: each agency
    numbers its own letters; None: the first agency)."""
    statement = _insert(session, DocumentNumberCounter).values(agency=agency or tenancy.FIRST_AGENCY, series=series,
                                                               year=year, last=1)
    statement = statement.on_conflict_do_update(
        index_elements=[DocumentNumberCounter.agency, DocumentNumberCounter.series, DocumentNumberCounter.year],
        set_={"last": DocumentNumberCounter.last + 1},
    ).returning(DocumentNumberCounter.last)
    return session.execute(statement).scalar_one()


def reserve_document_number(session: Session, key: str, number: str) -> bool:
    """Binds `number` to the letter `key`; False if the key holds a number already (the caller rolls back)."""
    inserted = session.execute(
        _insert(session, DocumentNumberReservation).values(key=key, document_number=number, reserved_at=utcnow())
        .on_conflict_do_nothing(index_elements=[DocumentNumberReservation.key])
        .returning(DocumentNumberReservation.key)
    ).first()
    return inserted is not None


def reserved_document_number(session: Session, key: str) -> str | None:
    reservation = session.get(DocumentNumberReservation, key, populate_existing=True)
    return reservation.document_number if reservation else None


def get_document(session: Session, key: str) -> LetterDocument | None:
    return session.get(LetterDocument, key, populate_existing=True)


def get_outbox(session: Session, key: str) -> LetterOutbox | None:
    return session.exec(
        select(LetterOutbox).where(LetterOutbox.key == key).execution_options(populate_existing=True)
    ).one_or_none()


def outbox_for_application(session: Session, application_id: str) -> list[LetterOutbox]:
    return list(session.exec(
        select(LetterOutbox).where(LetterOutbox.application_id == application_id).order_by(col(LetterOutbox.created_at))
    ).all())


def documents_for_application(session: Session, application_id: str) -> list[LetterDocument]:
    return list(session.exec(
        select(LetterDocument).where(LetterDocument.application_id == application_id)
        .order_by(col(LetterDocument.created_at))
    ).all())


def add_stored_file(session: Session, sha256: str, size: int) -> None:
    session.execute(_insert(session, StoredFile).values(sha256=sha256, size=size, created_at=utcnow())
                    .on_conflict_do_nothing(index_elements=[StoredFile.sha256]))


def attachments_for(session: Session, application_id: str) -> list[LetterAttachment]:
    return list(session.exec(
        select(LetterAttachment).where(LetterAttachment.application_id == application_id)
        .order_by(col(LetterAttachment.item_no), col(LetterAttachment.id))
    ).all())


def set_outbox(session: Session, key: str, **values) -> None:
    """update_outbox without reading the row (the letter's own send, which read it earlier): one Core UPDATE."""
    table = LetterOutbox.__table__  # type: ignore[attr-defined]
    session.connection().execute(table.update().where(table.c.key == key).values(**values))


def update_outbox(session: Session, key: str, *, only_if_status: tuple[str, ...] | None = None, **values) -> LetterOutbox:
    row = get_outbox(session, key)
    assert row is not None, key
    if only_if_status is None or row.status in only_if_status:
        for name, value in values.items():
            setattr(row, name, value)
        session.add(row)
        session.flush()
    return row


def record_service(session: Session, key: str, *, served_on: date | None, method: str, by: str,
                   tracking_number: str | None = None, posted_on: date | None = None, received_by: str | None = None,
                   handed_over_by: str | None = None, note: str | None = None) -> LetterOutbox | None:
    """Proof of service entered by staff (post: posting date, tracking number, signed-for date; pickup: signature).

    Idempotent on the letter's key: entering the same evidence again changes nothing; a later entry adds what
    was missing (a posting date first, the signed-for date when the post returns the receipt). None: no row
    (a letter from before letters v2).
    """
    row = get_outbox(session, key)
    if row is None:
        return None
    values = {"served_method": method, "served_entered_by": by, "served_entered_at": utcnow()}
    for name, value in (("tracking_number", tracking_number), ("posted_on", posted_on), ("received_by", received_by),
                        ("handed_over_by", handed_over_by), ("service_note", note)):
        if value:
            values[name] = value
    if served_on is not None:
        values |= {"status": "delivered", "delivered_on": served_on, "last_error": None}
    return update_outbox(session, key, **values)


def record_download(session: Session, key: str, *, by: str) -> LetterOutbox | None:
    """The applicant's first download through the portal (later downloads do not change the receipt)."""
    row = get_outbox(session, key)
    if row is None or row.downloaded_at is not None:
        return row
    return update_outbox(session, key, downloaded_at=utcnow(), downloaded_by=by)


def returns_for(session: Session, keys: list[str]) -> dict[str, list[MailReturn]]:
    """The recorded returns of these letters, oldest first (their evidence lines)."""
    found: dict[str, list[MailReturn]] = {}
    if not keys:
        return found
    rows = session.exec(select(MailReturn).where(MailReturn.letter_key.in_(keys)).order_by(MailReturn.id)).all()
    for row in rows:
        found.setdefault(row.letter_key, []).append(row)
    return found
