"""The worker process is killed (SIGKILL) with a letter composed and not yet sent, or in the middle of
sending it: exactly one e-mail arrives either way (see activities/letters.py for the outbox's rules).
On SQLite, and on PostgreSQL with DISCLOSURE_TEST_DATABASE=postgres (the `database_url` fixture)."""

import asyncio
import os
import uuid
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlmodel import Session, select
from temporalio.client import Client

from api.main import create_app
from core.config import Settings
from db import letters_repository as repo
from db.models import StaffAlert
from db.models_letters import LetterDocument
from db.session import init_db, make_engine
from tests.fixtures_smtp import CapturingHandler, SmtpController, spare_port  # noqa: F401
from tests.helpers import StaffClient, seed_test_users, act, eventually, register, through_review, today
from tests.letters_support import mails_for
from tests.test_worker_crash import database_url, kill, start_worker, wait_until_polling  # noqa: F401


@dataclass
class SlowHandler(CapturingHandler):
    """Keeps the message, then answers 250 only after `delay` seconds (the window a crash can fall into)."""

    delay: float = 0.0
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        self.arrived.set()
        await asyncio.sleep(self.delay)
        return "250 Message accepted for delivery"


def stack(client: Client, tmp_path: Path, port: int, name: str, database_url: str):
    queue = f"{name}-{uuid.uuid4()}"
    own = Settings(data_dir=tmp_path, database_url=database_url, task_queue=queue, smtp_host="127.0.0.1",
                   smtp_port=port, application_number_prefix=f"{name.upper()}{uuid.uuid4().hex[:6].upper()}")
    env = {**os.environ, "DISCLOSURE_TEMPORAL_ADDRESS": client.service_client.config.target_host,
           "DISCLOSURE_TEMPORAL_NAMESPACE": client.namespace, "DISCLOSURE_TASK_QUEUE": queue,
           "DISCLOSURE_DATABASE_URL": database_url, "DISCLOSURE_DATA_DIR": str(tmp_path),
           "DISCLOSURE_SMTP_HOST": "127.0.0.1", "DISCLOSURE_SMTP_PORT": str(port)}
    engine = make_engine(database_url)
    init_db(engine)
    return own, env, engine


def outbox(engine, key: str):
    with Session(engine) as session:
        return repo.get_outbox(session, key)


async def wait_for(predicate, timeout: float = 30.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, "condition not reached"
        await asyncio.sleep(0.1)


@dataclass
class Running:
    """One application registered through the API in process, handled by a worker process."""

    engine: object
    env: dict
    log: Path
    workers: list = field(default_factory=list)
    api: StaffClient | None = None
    app_id: str = ""

    async def start_worker(self) -> None:
        self.workers.append(start_worker(self.env, self.log))
        await wait_until_polling(self.workers[-1], self.log, already=len(self.workers) - 1)


@asynccontextmanager
async def registered(client: Client, tmp_path: Path, port: int, name: str, database_url: str,
                     timeout: float = 20.0):
    """A worker process polling, the API with the test users logged in, and an application whose
    acknowledgment went out; afterwards every worker is killed and the database let go."""
    own, env, engine = stack(client, tmp_path, port, name, database_url)
    workers: list = []
    try:
        run = Running(engine=engine, env=env, log=tmp_path / "worker.log", workers=workers)
        await run.start_worker()
        app = create_app(own, client=client, engine=engine)
        seed_test_users(engine)
        async with StaffClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as api:
            await api.log_in_all()
            app_id = (await register(api))["application_id"]
            await eventually(api, app_id, lambda s: any(e["kind"] == "letter-sent" for e in s["timeline"]),
                             timeout=timeout)
            run.api, run.app_id = api, app_id
            yield run
    finally:
        for worker in workers:
            kill(worker)
        engine.dispose()


async def test_worker_killed_between_composing_and_sending_sends_once(client: Client, tmp_path: Path,
                                                                     database_url: str, spare_port: int):  # noqa: F811
    handler, port = CapturingHandler(), spare_port  # held: the server stops and starts again on it
    smtp = SmtpController(handler, port=port)
    smtp.start()
    try:
        async with registered(client, tmp_path, port, "compose", database_url) as run:
            api, app_id, engine = run.api, run.app_id, run.engine
            smtp.stop()  # the reply is composed, numbered and stored, but cannot go out yet
            await through_review(api, app_id, {1: ("disclosed", "")})
            await act(api, app_id, "sign", {"by": "chief-liu"})
            key = f"{app_id}:reply"
            await wait_for(lambda: (row := outbox(engine, key)) is not None and row.status == "failed")
            kill(run.workers[0])
            smtp = SmtpController(handler, port=port)
            smtp.start()
            await run.start_worker()
            await eventually(api, app_id, lambda s: s["status"] == "closed", timeout=40)
            replies = [m for m in mails_for(handler.envelopes, app_id) if "答复" in m["Subject"]]
            assert len(replies) == 1
            assert outbox(engine, key).status == "sent"
            with Session(engine) as session:  # issued once: one document, one 文号
                assert len(session.exec(select(LetterDocument).where(LetterDocument.key == key)).all()) == 1
    finally:
        smtp.stop()


async def test_worker_killed_while_the_server_accepts_is_not_resent_but_shown_to_staff(client: Client, tmp_path: Path,
                                                                                      database_url: str):  # noqa: F811
    handler = SlowHandler(delay=6.0)
    smtp = SmtpController(handler)
    smtp.start()
    try:
        async with registered(client, tmp_path, smtp.port, "data", database_url, timeout=30) as run:
            api, app_id, engine = run.api, run.app_id, run.engine
            handler.arrived.clear()
            await through_review(api, app_id, {1: ("disclosed", "")})
            await act(api, app_id, "sign", {"by": "chief-liu"})
            key = f"{app_id}:reply"
            await wait_for(lambda: handler.arrived.is_set())  # the server has the message; 250 not yet answered
            assert outbox(engine, key).status == "sending"
            kill(run.workers[0])
            await run.start_worker()
            held = await eventually(api, app_id, lambda s: any(
                letter["kind"] == "reply" and letter["status"] == "uncertain" for letter in s["letters"]), timeout=40)
            assert held["status"] == "awaiting-delivery"
            assert any(a["action"] == "confirm-delivery" for a in held["pending_actions"])
            with Session(engine) as session:
                alert = session.get(StaffAlert, f"{key}:uncertain")
            assert alert is not None and alert.kind == "delivery-problem" and alert.role == "supervisor"
            # Staff check and confirm the e-mail delivery.
            closed = await act(api, app_id, "delivery", {"delivered_on": today().isoformat(), "method": "email",
                                                         "note": "已与申请人电话核实收到", "by": "desk-chen"})
            assert closed["status"] == "closed"
            replies = [m for m in mails_for(handler.envelopes, app_id) if "答复" in m["Subject"]]
            assert len(replies) == 1
    finally:
        smtp.stop()
