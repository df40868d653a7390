"""The worker process is killed (SIGKILL) with a letter composed and not yet sent, or in the middle of
sending it: exactly one e-mail arrives either way (see activities/letters.py for the outbox's rules).
On SQLite, and on PostgreSQL with DISCLOSURE_TEST_DATABASE=postgres (the `database_url` fixture)."""

import asyncio
import os
import uuid
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


async def test_worker_killed_between_composing_and_sending_sends_once(client: Client, tmp_path: Path,
                                                                     database_url: str, spare_port: int):  # noqa: F811
    handler, port = CapturingHandler(), spare_port  # held: the server stops and starts again on it
    smtp = SmtpController(handler, port=port)
    smtp.start()
    own, env, engine = stack(client, tmp_path, port, "compose", database_url)
    log = tmp_path / "worker.log"
    first = second = None
    try:
        first = start_worker(env, log)
        await wait_until_polling(first, log, already=0)
        app = create_app(own, client=client, engine=engine)
        seed_test_users(engine)
        async with StaffClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as api:
            await api.log_in_all()
            app_id = (await register(api))["application_id"]
            await eventually(api, app_id, lambda s: any(e["kind"] == "letter-sent" for e in s["timeline"]))
            smtp.stop()  # the reply is composed, numbered and stored, but cannot go out yet
            await through_review(api, app_id, {1: ("disclosed", "")})
            await act(api, app_id, "sign", {"by": "chief-liu"})
            key = f"{app_id}:reply"
            await wait_for(lambda: (row := outbox(engine, key)) is not None and row.status == "failed")
            kill(first)
            smtp = SmtpController(handler, port=port)
            smtp.start()
            second = start_worker(env, log)
            await wait_until_polling(second, log, already=1)
            await eventually(api, app_id, lambda s: s["status"] == "closed", timeout=40)
        replies = [m for m in mails_for(handler.envelopes, app_id) if "答复" in m["Subject"]]
        assert len(replies) == 1
        assert outbox(engine, key).status == "sent"
        with Session(engine) as session:  # issued once: one document, one 文号
            assert len(session.exec(select(LetterDocument).where(LetterDocument.key == key)).all()) == 1
    finally:
        kill(first)
        kill(second)
        smtp.stop()
        engine.dispose()


async def test_worker_killed_while_the_server_accepts_is_not_resent_but_shown_to_staff(client: Client, tmp_path: Path,
                                                                                      database_url: str):  # noqa: F811
    handler = SlowHandler(delay=6.0)
    smtp = SmtpController(handler)
    smtp.start()
    port = smtp.port
    own, env, engine = stack(client, tmp_path, port, "data", database_url)
    log = tmp_path / "worker.log"
    first = second = None
    try:
        first = start_worker(env, log)
        await wait_until_polling(first, log, already=0)
        app = create_app(own, client=client, engine=engine)
        seed_test_users(engine)
        async with StaffClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as api:
            await api.log_in_all()
            app_id = (await register(api))["application_id"]
            await eventually(api, app_id, lambda s: any(e["kind"] == "letter-sent" for e in s["timeline"]), timeout=30)
            handler.arrived.clear()
            await through_review(api, app_id, {1: ("disclosed", "")})
            await act(api, app_id, "sign", {"by": "chief-liu"})
            key = f"{app_id}:reply"
            await wait_for(lambda: handler.arrived.is_set())  # the server has the message; 250 not yet answered
            assert outbox(engine, key).status == "sending"
            kill(first)
            second = start_worker(env, log)
            await wait_until_polling(second, log, already=1)
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
        kill(first)
        kill(second)
        smtp.stop()
        engine.dispose()
