"""The file pre-screen as an activity (issue 22): reads a stored file, writes its findings and progress.

Idempotent per file hash: a file already screened (state done) is not screened again; a retry after a
crash starts the file over and replaces its findings in one transaction. A file that cannot be read
ends `failed` with the reason (never retried: the same bytes would fail the same way).
"""

import asyncio
from datetime import date

from sqlalchemy import Engine, delete
from sqlmodel import Session
from temporalio import activity
from temporalio.exceptions import ApplicationError

from contracts.release import ScreenFileInput, ScreenFileResult
from core import clock
from core.config import Settings
from db import letters_repository as letters
from db.letters_repository import FileStore
from db.models import utcnow
from db.models_release import ReleaseFinding, ReleaseScreening
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


def release_activities(engine: Engine, settings: Settings) -> list:
    acts = ReleaseActivities(engine, settings)
    return [acts.screen_release_file]
