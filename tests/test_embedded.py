"""The embedded default (`make run`) finishes its job: letters land in the local mail sink, the first
administrator is created on an empty data folder, and run.py brings up the whole system on its own."""

import asyncio
import hashlib
import os
import re
import select
import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from sqlmodel import Session
from temporalio.client import Client

from admin import ensure_first_admin
from api.main import create_app
from services.accounts import list_users
from core.config import Settings
from core.mailsink import (
    InvalidMessageName, MessageNotFound, attachment, list_messages, listening_socket, read_message, serve,
    store_message,
)
from worker import build_worker
from db.session import init_db, make_engine
from tests.conftest import SECURITY_SETTINGS, fresh_database
from tests.helpers import application_body

ROOT = Path(__file__).resolve().parent.parent


def public_form(email: str) -> dict:
    body = application_body(delivery_method="email")
    body["applicant"] = body["applicant"] | {"email": email}
    return {k: body[k] for k in ("applicant", "items", "delivery_method")}


async def wait_for_message(mail_dir: Path, text: str, timeout: float = 60.0):
    """The first stored message whose body mentions `text` (letters are sent in the background)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        for summary in list_messages(mail_dir, 0, 100):
            message = read_message(mail_dir, summary.name)
            if text in message.text:
                return message
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"no message about {text} in {mail_dir}: {[p.name for p in mail_dir.glob('*')]}")
        await asyncio.sleep(0.3)


def assert_acknowledgment_with_pdf(mail_dir: Path, message, application_id: str, recipient: str) -> None:
    assert recipient in " ".join(message.summary.to)
    assert "回执" in message.summary.subject or "受理" in message.summary.subject, message.summary.subject
    pdfs = [a for a in message.summary.attachments if a.content_type == "application/pdf"]
    assert len(pdfs) == 1 and pdfs[0].filename.endswith(".pdf") and pdfs[0].size > 1000
    filename, content_type, content = attachment(mail_dir, message.summary.name, pdfs[0].index)
    assert (filename, content_type) == (pdfs[0].filename, "application/pdf")
    assert content.startswith(b"%PDF") and len(content) == pdfs[0].size
    # The letter's body names the PDF's checksum: the file kept is the one the worker sent.
    assert hashlib.sha256(content).hexdigest() in message.text
    assert application_id in message.text


# --- the mail sink with the product's own sending path ---------------------------------------


@pytest_asyncio.fixture
async def sink(tmp_path: Path) -> AsyncIterator[tuple[Path, int]]:
    """The mail sink serving on a port the OS chose, in this event loop."""
    mail_dir = tmp_path / "mail"
    sock = listening_socket("127.0.0.1", 0)
    stop = asyncio.Event()
    task = asyncio.create_task(serve(mail_dir, sock, stop))
    try:
        yield mail_dir, sock.getsockname()[1]
    finally:
        stop.set()
        await task
        sock.close()


async def test_a_letter_sent_by_the_worker_is_kept_in_the_sink_with_its_pdf(client: Client, sink, tmp_path: Path):
    mail_dir, port = sink
    with fresh_database(tmp_path, "sink") as database_url:
        own = Settings(data_dir=tmp_path, database_url=database_url, task_queue=f"sink-{uuid.uuid4()}",
                       smtp_host="127.0.0.1", smtp_port=port,
                       application_number_prefix=f"S{uuid.uuid4().hex[:6].upper()}", **SECURITY_SETTINGS)
        engine = make_engine(own.database_url)
        init_db(engine)
        try:
            async with build_worker(client, own, engine):
                async with anonymous_client(create_app(own, client=client, engine=engine)) as http:
                    answer = await http.post("/api/v1/public/applications", json=public_form("sink@example.cn"))
                    assert answer.status_code == 201, answer.text
                    application_id = answer.json()["application_id"]
                    message = await wait_for_message(mail_dir, application_id)
        finally:
            engine.dispose()
    assert_acknowledgment_with_pdf(mail_dir, message, application_id, "sink@example.cn")
    [listed] = [m for m in list_messages(mail_dir) if m.name == message.summary.name]
    assert listed.subject == message.summary.subject and listed.attachments == message.summary.attachments


def anonymous_client(app) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api")


def test_the_read_api_refuses_paths_and_unknown_names(tmp_path: Path):
    mail_dir = tmp_path / "mail"
    from email.message import EmailMessage

    letter = EmailMessage()
    letter["Subject"], letter["From"], letter["To"] = "测试", "a@example.cn", "b@example.cn"
    letter.set_content("正文")
    letter.add_attachment(b"%PDF-1.4 x", maintype="application", subtype="pdf", filename="x.pdf")
    stored = store_message(mail_dir, letter.as_bytes())
    assert read_message(mail_dir, stored.name).summary.attachments[0].filename == "x.pdf"
    assert attachment(mail_dir, stored.name, 0) == ("x.pdf", "application/pdf", b"%PDF-1.4 x")
    assert [p.name for p in mail_dir.iterdir()] == [stored.name]  # no temporary file left behind

    secret = tmp_path / "secret.eml"
    secret.write_bytes(letter.as_bytes())
    (mail_dir / "20260101T000000.000000Z-0123456789abcdef.eml").symlink_to(secret)
    for name in ("../secret.eml", str(secret), "..", "", f"{stored.name}/../{stored.name}", f"./{stored.name}",
                 "20260101T000000.000000Z-0123456789abcdef.eml"):
        with pytest.raises(InvalidMessageName):
            read_message(mail_dir, name)
        with pytest.raises(InvalidMessageName):
            attachment(mail_dir, name, 0)
    with pytest.raises(MessageNotFound):
        read_message(mail_dir, "20260101T000000.000000Z-fedcba9876543210.eml")
    with pytest.raises(MessageNotFound):
        attachment(mail_dir, stored.name, 1)
    # The planted link is not listed either.
    assert [m.name for m in list_messages(mail_dir)] == [stored.name]


def test_the_sink_runs_unless_an_smtp_server_is_configured(monkeypatch: pytest.MonkeyPatch):
    for name in ("DISCLOSURE_SMTP_HOST", "DISCLOSURE_MAIL_SINK"):
        monkeypatch.delenv(name, raising=False)
    assert Settings(_env_file=None).runs_mail_sink()
    monkeypatch.setenv("DISCLOSURE_SMTP_HOST", "smtp.agency.example.gov.cn")
    assert not Settings(_env_file=None).runs_mail_sink()
    monkeypatch.setenv("DISCLOSURE_MAIL_SINK", "true")
    assert Settings(_env_file=None).runs_mail_sink()
    monkeypatch.delenv("DISCLOSURE_SMTP_HOST")
    monkeypatch.setenv("DISCLOSURE_MAIL_SINK", "false")
    assert not Settings(_env_file=None).runs_mail_sink()


# --- the first administrator -------------------------------------------------------------------


def test_the_first_start_creates_one_administrator_and_the_next_none(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("DISCLOSURE_ADMIN_PASSWORD", raising=False)
    from core.security import verify_password

    with fresh_database(tmp_path, "bootstrap") as database_url:
        engine = make_engine(database_url)
        init_db(engine)
        try:
            first = ensure_first_admin(engine, interactive=False)
            assert first is not None and first.password and len(first.password) >= 12
            with Session(engine) as session:
                users = list_users(session)
            assert [(u.username, u.roles) for u in users] == [(first.username, "admin")]
            assert verify_password(users[0].password_hash, first.password)
            assert ensure_first_admin(engine, interactive=False) is None
            with Session(engine) as session:
                assert len(list_users(session)) == 1
        finally:
            engine.dispose()


# --- run.py end to end -------------------------------------------------------------------------


async def read_until(stream: asyncio.StreamReader, seen: list[str], marker: str, timeout: float) -> None:
    async def read() -> None:
        while True:
            line = await stream.readline()
            if not line:
                raise AssertionError("run.py exited:\n" + "".join(seen))
            seen.append(line.decode(errors="replace"))
            if marker in seen[-1]:
                return

    try:
        await asyncio.wait_for(read(), timeout)
    except TimeoutError:
        raise AssertionError(f"no {marker!r} from run.py within {timeout:.0f} s:\n" + "".join(seen)) from None


async def test_run_py_starts_everything_and_an_acknowledgment_reaches_the_mail_folder(env, tmp_path: Path):
    """`make run` on an empty data folder, with the test's Temporal server and OS-chosen ports."""
    data_dir = tmp_path / "data"
    environment = {k: v for k, v in os.environ.items() if not k.startswith("DISCLOSURE_")} | {
        "DISCLOSURE_DATA_DIR": str(data_dir),
        "DISCLOSURE_DATABASE_URL": f"sqlite:///{data_dir / 'disclosure.db'}",
        "DISCLOSURE_API_PORT": "0",
        "DISCLOSURE_SMTP_PORT": "0",
        "DISCLOSURE_TASK_QUEUE": f"run-{uuid.uuid4()}",
        "DISCLOSURE_APPLICATION_NUMBER_PREFIX": f"R{uuid.uuid4().hex[:6].upper()}",
        "PYTHONUNBUFFERED": "1",
    }
    address = env.client.service_client.config.target_host
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(ROOT / "run.py"), "--temporal-address", address, cwd=tmp_path, env=environment,
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        start_new_session=True,
    )
    seen: list[str] = []
    try:
        await read_until(proc.stdout, seen, "Press Ctrl-C to stop", timeout=120)
        output = "".join(seen)
        base_url = re.search(r"API docs:\s+(http://127\.0\.0\.1:\d+)/docs", output).group(1)
        for path in ("/apply", "/track", "/staff", "/docs"):
            assert f"{base_url}{path}" in output
        username = re.search(r"user name: (\S+)", output).group(1)
        password = re.search(r"password:\s+(\S+)", output).group(1)
        async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
            token = await http.post("/api/v1/auth/token", data={"username": username, "password": password})
            assert token.status_code == 200, token.text
            me = await http.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token.json()['access_token']}"})
            assert me.json()["roles"] == ["admin"]
            answer = await http.post("/api/v1/public/applications", json=public_form("run@example.cn"))
            assert answer.status_code == 201, answer.text
            application_id = answer.json()["application_id"]
        message = await wait_for_message(data_dir / "mail", application_id, timeout=60)
        assert_acknowledgment_with_pdf(data_dir / "mail", message, application_id, "run@example.cn")
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
        rest = asyncio.create_task(proc.stdout.read())
        try:
            code = await asyncio.wait_for(proc.wait(), 40)
        except TimeoutError:
            os.killpg(proc.pid, signal.SIGKILL)
            code = await proc.wait()
        seen.append((await rest).decode(errors="replace"))
    assert code == 0, "".join(seen)


def test_at_a_terminal_the_first_administrator_gets_the_password_typed(tmp_path: Path):
    """stdin is a terminal (a pseudo-terminal here): asked for, checked, asked again; nothing printed back."""
    import pty

    from core.security import verify_password

    database_url = f"sqlite:///{tmp_path / 'tty.db'}"
    environment = {k: v for k, v in os.environ.items() if k != "DISCLOSURE_ADMIN_PASSWORD"} | {
        "DISCLOSURE_DATABASE_URL": database_url}
    script = ("import sys; from run import first_admin, first_admin_notice; "
              "admin = first_admin(interactive=sys.stdin.isatty()); print('DONE', first_admin_notice(admin))")
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, env=environment, stdin=slave, stdout=slave,
                            stderr=slave, start_new_session=True)
    os.close(slave)
    typed = ["short\n", "a-password-of-mine\n", "a-password-of-mine\n"]  # one answer per prompt
    seen, answered = b"", 0
    try:
        while True:  # to the end of the child's output
            ready, _, _ = select.select([master], [], [], 60)
            assert ready, f"no answer from the prompt: {seen.decode(errors='replace')}"
            try:
                chunk = os.read(master, 4096)
            except OSError:  # EIO: the child has exited and closed the terminal
                break
            if not chunk:
                break
            seen += chunk
            prompts = seen.count(b"Password (") + seen.count(b"Password again")
            while answered < min(prompts, len(typed)):
                os.write(master, typed[answered].encode())
                answered += 1
    finally:
        assert proc.wait(timeout=60) == 0, seen.decode(errors="replace")
        os.close(master)
    output = seen.decode(errors="replace")
    assert "至少 12 个字符" in output and "the password you chose" in output
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            [admin] = list_users(session)
        assert admin.roles == "admin" and verify_password(admin.password_hash, "a-password-of-mine")
    finally:
        engine.dispose()
