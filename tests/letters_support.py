"""Shared by the letter tests: PDF text, PNG previews (pdftoppm), parsing mails with attachments."""

import hashlib
import os
import shutil
import subprocess
import uuid
from contextlib import asynccontextmanager
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import httpx
import pytest

from tests.fixtures_db import skip_unless_ci

from letters.documents import FontMissing, find_cjk_font, pdf_text  # noqa: F401

REPO_ROOT = Path(__file__).resolve().parent.parent
PREVIEW_DIR = REPO_ROOT / "build" / "letters-preview"


def require_pdf_tools() -> None:
    """The font and pdftoppm come from `make test`'s system set-up; on CI their absence is a failure."""
    missing = []
    try:
        find_cjk_font()
    except FontMissing as error:
        missing.append(str(error))
    if shutil.which("pdftoppm") is None:
        missing.append("pdftoppm (poppler-utils) not installed")
    if missing:
        skip_unless_ci("; ".join(missing))


def preview_png(pdf: bytes, name: str, folder: Path) -> Path:
    """Page 1 as a PNG in `folder` and in build/letters-preview/ for a person to look at."""
    folder.mkdir(parents=True, exist_ok=True)
    source = folder / f"{name}.pdf"
    source.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile", str(source),
                    str(folder / name)], check=True, timeout=60)
    png = folder / f"{name}.png"
    assert png.stat().st_size > 2000
    PREVIEW_DIR.mkdir(parents=True, exist_ok=True)
    shutil.copy(png, PREVIEW_DIR / png.name)
    return png


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def parse(envelope) -> EmailMessage:
    return message_from_bytes(envelope.original_content, policy=policy.default)


def pdf_attachments(message: EmailMessage) -> list[tuple[str, bytes]]:
    return [(part.get_filename(), part.get_content()) for part in message.iter_attachments()]


def mails_for(envelopes, application_id: str) -> list[EmailMessage]:
    messages = [parse(e) for e in envelopes]
    return [m for m in messages if application_id in m.get_body(preferencelist=("plain",)).get_content()]


@asynccontextmanager
async def own_mail_stack(client, data_dir: Path, name: str, number_prefix: str, smtp_port: int):
    """For an SMTP-outage test: a fresh database, a worker on its own task queue and the API, sending mail to
    127.0.0.1:`smtp_port` with a 2 s SMTP timeout; yields the staff client (all test users logged in) and the
    engine."""
    from api.main import create_app
    from core.config import Settings
    from worker import build_worker
    from db.session import init_db, make_engine
    from tests.conftest import fresh_database
    from tests.helpers import StaffClient, seed_test_users

    with fresh_database(data_dir, name) as database_url:
        own = Settings(data_dir=data_dir, database_url=database_url, task_queue=f"{name}-{uuid.uuid4()}",
                       smtp_host="127.0.0.1", smtp_port=smtp_port, smtp_timeout_seconds=2,
                       application_number_prefix=f"{number_prefix}{uuid.uuid4().hex[:6].upper()}")
        engine = make_engine(database_url)
        init_db(engine)
        try:
            async with build_worker(client, own, engine):
                app = create_app(own, client=client, engine=engine)
                seed_test_users(engine)
                async with StaffClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as api:
                    await api.log_in_all()
                    yield api, engine
        finally:
            engine.dispose()
