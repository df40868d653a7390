"""An application survives the worker process being killed (SIGKILL) half-way through.

The worker runs as a separate `python worker.py` process on its own task queue and database (SQLite,
or PostgreSQL with DISCLOSURE_TEST_DATABASE=postgres), as in production. It is killed while the application sits in the middle of handling (a proposal
made, the workflow cached in the dead process and its sticky queue pointing there); the next staff
action (`submit`, which runs the compose and pre-screen activities) is sent while NO worker is
alive, so the HTTP request is outstanding across the outage; a new worker process then picks the
workflow up from its history and everything completes exactly once.

Why not kill while an activity is running: the workflow's activities have a 30 s start-to-close
timeout and no heartbeat, so an activity started by a dead worker is retried only after 30 s of
real time (fast_forward does not skip activity timeouts), which would more than double this test's
length. Tried by hand: a reply e-mail blocked in SMTP when the worker dies is sent once by the next
worker after those 30 s, unless the mail server had already committed it (the 250 lost with the
process), in which case the applicant gets it twice with the same Message-ID: at-least-once.
"""

import asyncio
import os
import signal
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlmodel import Session
from temporalio.client import Client

from api.main import create_app
from core.config import Settings
from db.repository import get_events, list_applications
from db.session import init_db, make_engine
from tests.conftest import fresh_database
from tests.fixtures_smtp import SmtpServer
from tests.helpers import StaffClient, act, eventually, mails_about, register, seed_test_users, state
from contracts.application_view import ApplicationOutcome

REPO_ROOT = Path(__file__).resolve().parent.parent
READY_LINE = "worker polling task queue"
# Steps that must each happen exactly once in this application's life.
ONCE = ["registered", "decision-proposed", "submitted-for-review", "prescreen", "review-approved", "signed",
        "delivered"]


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen:
    with log.open("ab") as out:
        return subprocess.Popen([sys.executable, "worker.py"], cwd=REPO_ROOT, env=env, stdout=out, stderr=out)


async def wait_until_polling(proc: subprocess.Popen, log: Path, already: int, timeout: float = 20.0) -> None:
    """Until the worker logs that it polls (the `already`-th+1 time this line appears in the shared log)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while log.read_text(errors="replace").count(READY_LINE) <= already:
        if proc.poll() is not None:
            raise AssertionError(f"worker exited with {proc.returncode}:\n{log.read_text(errors='replace')}")
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"worker not polling after {timeout}s:\n{log.read_text(errors='replace')}")
        await asyncio.sleep(0.1)


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    """The test's own database for the API and the worker processes: SQLite, or PostgreSQL with
    DISCLOSURE_TEST_DATABASE=postgres (a fresh database, dropped afterwards)."""
    with fresh_database(tmp_path, "crash") as url:
        yield url


def kill(proc: subprocess.Popen | None) -> None:
    if proc is not None and proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)


async def test_application_survives_worker_sigkill(client: Client, mailbox: SmtpServer, tmp_path: Path,
                                                   database_url: str):
    queue = f"crash-{uuid.uuid4()}"
    # Its own number prefix: this database counts from 1 too, and workflow ids and mails are shared with the session.
    own = Settings(data_dir=tmp_path, database_url=database_url, task_queue=queue, smtp_host=mailbox.host,
                   smtp_port=mailbox.port, application_number_prefix=f"CRASH{uuid.uuid4().hex[:6].upper()}")
    env = {
        **os.environ,
        "DISCLOSURE_TEMPORAL_ADDRESS": client.service_client.config.target_host,
        "DISCLOSURE_TEMPORAL_NAMESPACE": client.namespace,
        "DISCLOSURE_TASK_QUEUE": queue,
        "DISCLOSURE_DATABASE_URL": database_url,
        "DISCLOSURE_DATA_DIR": str(tmp_path),
        "DISCLOSURE_SMTP_HOST": mailbox.host,
        "DISCLOSURE_SMTP_PORT": str(mailbox.port),
    }
    log = tmp_path / "worker.log"
    engine = make_engine(database_url)
    init_db(engine)
    first = second = None
    pending_submit: asyncio.Task | None = None
    try:
        first = start_worker(env, log)
        await wait_until_polling(first, log, already=0)
        app = create_app(own, client=client, engine=engine)
        # A small office: wang both handles and reviews, so the workflow's own rule (not a role) refuses below.
        seed_test_users(engine, wang=(["handler", "reviewer"], "综合统计科"))
        async with StaffClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as api:
            await api.log_in_all()
            app_id = (await register(api))["application_id"]
            # The acknowledgment went out and was recorded: nothing of the first worker is in flight.
            await eventually(api, app_id, lambda s: [e["kind"] for e in s["timeline"]].count("letter-sent") == 1)
            await act(api, app_id, "decisions", {"item_no": 1, "outcome": "disclosed", "reasons": "", "by": "wang"})

            kill(first)
            assert first.returncode == -signal.SIGKILL
            # Staff act while no worker is alive: the update waits on the server, the request stays open.
            pending_submit = asyncio.create_task(act(api, app_id, "submit", {"by": "wang"}))
            await asyncio.sleep(1.0)
            assert not pending_submit.done(), "submit answered although no worker was running"

            second = start_worker(env, log)
            await wait_until_polling(second, log, already=1)
            submitted = await asyncio.wait_for(pending_submit, timeout=25)
            assert submitted["status"] == "in-review"
            assert submitted["reply_draft"] is not None

            refused = await api.post(f"/api/v1/applications/{app_id}/review", json={"approve": True},
                                     headers=api.as_user("wang"))
            assert refused.status_code == 409  # the proposer may not review his own proposal
            assert "不能审查自己的意见" in refused.json()["detail"], refused.text
            await act(api, app_id, "review", {"approve": True, "by": "reviewer-zhao"})
            signed = await act(api, app_id, "sign", {"by": "chief-liu"})
            assert signed["replied_on"] is not None
            closed = await eventually(api, app_id, lambda s: s["status"] == "closed")
            final = await state(api, app_id)

        outcome = await client.get_workflow_handle(app_id, result_type=ApplicationOutcome).result()
        assert outcome.status == "closed" and outcome.on_time is True
        assert [i.final_outcome for i in outcome.items] == ["disclosed"]
        assert closed["delivered_on"] == closed["replied_on"]

        timeline = final["timeline"]
        kinds = Counter(e["kind"] for e in timeline)
        assert {k: kinds[k] for k in ONCE} == dict.fromkeys(ONCE, 1), kinds
        assert kinds["letter-sent"] == 2, kinds  # acknowledgment and reply, each once
        assert [e["seq"] for e in timeline] == list(range(1, len(timeline) + 1))
        assert [e["kind"] for e in timeline].index("delivered") == len(timeline) - 1

        mails = mails_about(mailbox.envelopes, app_id)
        replies = [m for m in mails if "答复" in m["Subject"]]
        assert len(replies) == 1, [m["Subject"] for m in mails]
        assert len(mails) == 2, [m["Subject"] for m in mails]  # plus the acknowledgment

        # The database (written by both worker processes) holds exactly the workflow's timeline.
        with Session(engine) as session:
            events = get_events(session, app_id)
            rows, total = list_applications(session)
        assert [(e.seq, e.kind, e.actor, e.summary) for e in events] == [
            (e["seq"], e["kind"], e["actor"], e["summary"]) for e in timeline
        ]
        assert total == 1 and rows[0].id == app_id
        assert rows[0].status == "closed" and rows[0].final_outcome == "disclosed"
        assert rows[0].closed_at is not None
        assert log.read_text(errors="replace").count(READY_LINE) == 2
    finally:
        if pending_submit is not None and not pending_submit.done():
            pending_submit.cancel()
        kill(first)
        kill(second)
        engine.dispose()
