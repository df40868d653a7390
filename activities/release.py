"""The file pre-screen as an activity (issue 22): reads a stored file, writes its findings and progress.

Idempotent per file hash: a file already screened (state done) is not screened again; a retry after a
crash starts the file over and replaces its findings in one transaction. A file that cannot be read
ends `failed` with the reason (never retried: the same bytes would fail the same way).
"""

import asyncio
from datetime import date, timedelta

from sqlalchemy import Engine, delete
from sqlmodel import Session
from temporalio import activity
from temporalio.exceptions import ApplicationError

from contracts.release import (
    RedactFileInput,
    RedactFileResult,
    ReleaseFileStatus,
    ReleaseStatusInput,
    ReleaseStatusResult,
    ScreenFileInput,
    ScreenFileResult,
    SealedFile,
    SealReleaseInput,
    SealReleaseResult,
)
from core import clock
from core.config import Settings
from db import letters_repository as letters
from db.letters_repository import FileStore
from db.models import utcnow
from db.models_release import ReleaseFile, ReleaseFinding, ReleaseRedaction, ReleaseScreening
from db.session import session_scope


class ReleaseActivities:
    def __init__(self, engine: Engine, settings: Settings) -> None:
        self._engine = engine
        self._settings = settings

    @activity.defn(name="screen_release_file")
    async def screen_release_file(self, command: ScreenFileInput) -> ScreenFileResult:
        # Files, database and CPU-bound OCR: in a thread, never on the worker's event loop.
        return await asyncio.to_thread(self._screen, command)

    def _screen(self, command: ScreenFileInput) -> ScreenFileResult:
        with Session(self._engine) as session:
            row = session.get(ReleaseScreening, command.sha256)
            if row is not None and row.state in ("done", "failed"):
                count = len(_findings(session, command.sha256))
                return ScreenFileResult(sha256=command.sha256, state=row.state, findings=count, error=row.error)
        self._progress(command.sha256, state="running", pages_done=0)
        store = FileStore(self._settings.data_dir)
        try:
            data = store.get_verified(command.sha256)
            findings, pages_pdf, total = screen_bytes(
                command.kind, data, command.filename, clock.today(),
                progress=lambda done, total: self._progress(command.sha256, pages_done=done, pages_total=total),
            )
        except letters.ChecksumMismatch:
            raise  # retried: the store may be catching up
        except Exception as error:  # noqa: BLE001 - the file cannot be read: recorded, not retried
            message = f"无法读取文件内容：{type(error).__name__}"
            self._progress(command.sha256, state="failed", error=message)
            raise ApplicationError(message, non_retryable=True) from error
        pages_sha = store.put(pages_pdf)
        with session_scope(self._engine) as session:
            letters.add_stored_file(session, pages_sha, len(pages_pdf))
            session.execute(delete(ReleaseFinding).where(ReleaseFinding.sha256 == command.sha256))
            for seq, finding in enumerate(findings, start=1):
                session.add(
                    ReleaseFinding(
                        sha256=command.sha256, seq=seq, page=finding.page, kind=finding.kind, detail=finding.detail,
                        excerpt=finding.excerpt, place=list(finding.place) if finding.place else None,
                        ref=finding.ref, value_hash=finding.value_hash,
                    )
                )
            row = session.get(ReleaseScreening, command.sha256) or ReleaseScreening(sha256=command.sha256)
            row.state, row.pages_done, row.pages_total = "done", total, total
            row.pages_sha256, row.error, row.updated_at = pages_sha, None, utcnow()
            session.add(row)
        return ScreenFileResult(sha256=command.sha256, state="done", findings=len(findings))

    def _progress(self, sha256: str, **values) -> None:
        with session_scope(self._engine) as session:
            row = session.get(ReleaseScreening, sha256) or ReleaseScreening(sha256=sha256)
            for key, value in values.items():
                setattr(row, key, value)
            row.updated_at = utcnow()
            session.add(row)


def screen_bytes(kind: str, data: bytes, filename: str, today: date, progress=None):
    """(findings, the PDF pages screened, page count): extraction and the pure pre-screen (release/)."""
    from release.detect import screen_pages
    from release.extract import extract

    extracted = extract(kind, data, name=filename, progress=progress)
    return screen_pages(extracted.pages, today=today), extracted.pdf, len(extracted.pages)


def _findings(session: Session, sha256: str) -> list[ReleaseFinding]:
    from sqlmodel import col, select

    return list(session.exec(select(ReleaseFinding).where(ReleaseFinding.sha256 == sha256).order_by(col(ReleaseFinding.seq))).all())


class RedactionActivities:
    """A redacted copy made and verified in the background (release/redaction_job.py): idempotent per row."""

    def __init__(self, engine: Engine, settings: Settings) -> None:
        self._engine = engine
        self._settings = settings

    @activity.defn(name="redact_release_file")
    async def redact_release_file(self, command: RedactFileInput) -> RedactFileResult:
        return await asyncio.to_thread(self._redact, command)

    def _redact(self, command: RedactFileInput) -> RedactFileResult:
        from release.redaction_job import redact_and_verify

        with Session(self._engine) as session:
            redaction = session.get(ReleaseRedaction, command.redaction_id)
            if redaction is None:
                raise ApplicationError(f"no redaction {command.redaction_id}", non_retryable=True)
            if redaction.state != "pending":
                return RedactFileResult(redaction_id=redaction.id, state=redaction.state, verified=redaction.verified)
            release_file = session.get(ReleaseFile, redaction.release_file_id)
            screening = session.get(ReleaseScreening, release_file.sha256)
            areas, text_layer, kind = list(redaction.areas), redaction.text_layer, release_file.kind
        store = FileStore(self._settings.data_dir)
        pages_pdf = store.get_verified(screening.pages_sha256)
        original = store.get_verified(release_file.sha256)
        try:
            released, problems = redact_and_verify(pages_pdf, original, kind, areas, text_layer=text_layer)
        except Exception as error:  # noqa: BLE001 - recorded on the row; the same input would fail again
            self._finish(command.redaction_id, state="failed", problems=[f"无法生成删除处理后的文件：{type(error).__name__}"])
            raise ApplicationError(str(error), non_retryable=True) from error
        sha = None
        if not problems:
            sha = store.put(released)
        self._finish(command.redaction_id, state="done", verified=not problems, problems=problems, released_sha256=sha,
                     size=len(released))
        return RedactFileResult(redaction_id=command.redaction_id, state="done", verified=not problems)

    def _finish(self, redaction_id: int, *, size: int = 0, **values) -> None:
        with session_scope(self._engine) as session:
            if values.get("released_sha256"):
                letters.add_stored_file(session, values["released_sha256"], size)
            redaction = session.get(ReleaseRedaction, redaction_id)
            for key, value in values.items():
                setattr(redaction, key, value)
            session.add(redaction)


class SealActivities:
    """What the application workflow reads of its released files (issue 22 point 4), and the seal at signature."""

    def __init__(self, engine: Engine, settings: Settings) -> None:
        self._engine = engine
        self._settings = settings

    @activity.defn(name="release_status")
    async def release_status(self, command: ReleaseStatusInput) -> ReleaseStatusResult:
        return await asyncio.to_thread(self._status, command.application_id)

    def _status(self, application_id: str) -> ReleaseStatusResult:
        from db import release_repository as repo

        with Session(self._engine) as session:
            return ReleaseStatusResult(files=[ReleaseFileStatus(**f) for f in repo.file_status(session, application_id)])

    @activity.defn(name="release_applications_of")
    async def release_applications_of(self, sha256: str) -> list[str]:
        """The applications with a file of these bytes (told when its screening ends)."""
        def run() -> list[str]:
            from sqlmodel import select

            with Session(self._engine) as session:
                rows = session.exec(select(ReleaseFile.application_id).where(ReleaseFile.sha256 == sha256)).all()
                return sorted(set(rows))
        return await asyncio.to_thread(run)

    @activity.defn(name="seal_release")
    async def seal_release(self, command: SealReleaseInput) -> SealReleaseResult:
        return await asyncio.to_thread(self._seal, command)

    def _seal(self, command: SealReleaseInput) -> SealReleaseResult:
        """Idempotent per application: a seal written before (a retry, a replay) is returned as written. Otherwise
        the files' state is read again under the signature (a change the workflow was not told of is caught here):
        with anything open, the refusal and nothing written; else the seal, in one transaction."""
        from db import release_repository as repo
        from db.models_release import ReleaseSeal

        items = set(command.items)
        with session_scope(self._engine) as session:
            existing = repo.seal_of(session, command.application_id)
            status = [ReleaseFileStatus(**f) for f in repo.file_status(session, command.application_id)]
            if existing is None:
                refusal = release_refusal(status, items)
                if refusal is not None:
                    return SealReleaseResult(refusal=refusal, files=status)
                files = repo.sealed_files(session, command.application_id, items)
                total = sum(f["size"] for f in files)
                if not files:
                    delivery, expires = "none", None
                elif command.delivery_method == "email" and total <= self._settings.release_email_max_bytes:
                    delivery, expires = "attached", None
                else:
                    delivery, expires = "link", None
                if files:  # a link on /track whatever the form: the applicant can download them again
                    expires = clock.today() + timedelta(days=self._settings.release_link_days)
                existing = ReleaseSeal(application_id=command.application_id, signed_by=command.signed_by,
                                       sealed_at=clock.now(),
                                       files=files, manifest_sha256=repo.manifest_sha256(files), delivery=delivery,
                                       link_expires_on=expires)
                session.add(existing)
                session.flush()
            return SealReleaseResult(files=status, sealed=[SealedFile(**f) for f in existing.files],
                                     manifest_sha256=existing.manifest_sha256, delivery=existing.delivery)


def release_refusal(files: list[ReleaseFileStatus], items: set[int]) -> str | None:
    """Why the reply cannot be signed because of the files of its disclosed items (RULES §14), or None."""
    from application.release_rules import why_not_release_files

    return why_not_release_files(files, items)


def release_activities(engine: Engine, settings: Settings) -> list:
    acts, redactions = ReleaseActivities(engine, settings), RedactionActivities(engine, settings)
    seals = SealActivities(engine, settings)
    return [acts.screen_release_file, redactions.redact_release_file, seals.release_status,
            seals.release_applications_of, seals.seal_release]
