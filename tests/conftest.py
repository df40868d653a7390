"""One real Temporal dev server, worker, SMTP server and SQLite database for the whole session.

The server runs with per-workflow time skipping available (start_time_skipping_v2), but nothing
skips unless a test fast-forwards a workflow, or the tests' clock is ahead of the real one
(tests/dates.py: the API's and the worker's client start workflows on the tests' clock); otherwise
workflows run in real time. Each session gets its own task queue and database file.
"""

import asyncio
import os
import sys
import uuid
from datetime import datetime, timedelta, timezone
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

import httpx
import psycopg
import pytest
import pytest_asyncio
import time_machine
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from api.main import create_app
from core.codec import encrypted_data_converter
from core.config import Settings
from worker import build_worker
from db.session import init_db, make_engine
from tests import hypothesis_profiles  # noqa: F401  (CI=true: the `ci` profile)
from tests import dates
from tests.dates import at_instant, next_new_year, next_shanghai_midnight, pinned_client, real_now, session_pin
from tests.fixtures_smtp import CapturingHandler, SmtpController, SmtpServer
from tests.helpers import TEST_CODEC_KEYS, TEST_JWT_SECRET, RELAY_TARGETS, StaffClient, relay_returns, seed_test_users
from workflows import search_attributes as sa

TEMPORAL_CLI = Path(sys.executable).parent / "temporal"
# Worker subprocesses (worker.py, tests/drain_worker.py) read their settings from the environment.
os.environ.setdefault("DISCLOSURE_CODEC_KEYS", TEST_CODEC_KEYS)
os.environ.setdefault("DISCLOSURE_JWT_SECRET", TEST_JWT_SECRET)
# The tests run on the example agency (its pages and letters marked 示例机关), as `make run` does (issue 24 point 6).
os.environ.setdefault("DISCLOSURE_EXAMPLE_AGENCY", "true")
# What the worker and the API use (core.temporal.data_converter): Pydantic JSON + AES-GCM payloads.
TEST_DATA_CONVERTER = encrypted_data_converter(TEST_CODEC_KEYS)
# Security settings every test stack shares; the session's limits are high (tests share one client
# address), tests of the limits build their own app with low ones.
MAIL_RETURNS_TOKEN = "test-mail-returns-token"
SECURITY_SETTINGS = dict(
    jwt_secret=TEST_JWT_SECRET, codec_keys=TEST_CODEC_KEYS, access_token_minutes=120,
    rate_limit_public_intake_per_minute=10_000, rate_limit_lookup_per_minute=10_000,
    rate_limit_login_per_minute=10_000,
    mail_returns_token=MAIL_RETURNS_TOKEN,
)


# --- order: the longest files first ------------------------------------------------------------------

# `make test` runs the suite in two processes, whole files to each, in collection order: the files that take
# minutes go first, so that neither process ends its share alone with one of them. Everything else keeps its
# order (a stable sort).
LONGEST_FIRST = ("test_letter_outage_history.py", "test_worker_crash.py", "test_fuzz_api.py", "test_letter_crash.py")


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(LONGEST_FIRST)))


# --- the session's clock (tests/dates.py) ---------------------------------------------------------

REAL_START = datetime.now(timezone.utc)
PINNED = session_pin(REAL_START)


@pytest.fixture(scope="session", autouse=True)
def pinned_clock() -> Iterator[datetime | None]:
    """With DISCLOSURE_TEST_NOW, the whole session runs from that instant (time-machine, ticking);
    workflows follow through the pinned client (tests/dates.py)."""
    if PINNED is None:
        yield None
        return
    with time_machine.travel(PINNED, tick=True):
        dates.SESSION_PIN = (PINNED, real_now())
        yield PINNED
    dates.SESSION_PIN = None


@pytest.fixture
def clock_at():
    """`with clock_at(instant):` the tests' clock at `instant` for the block (API, activities and the
    workflows started meanwhile); `clock_at.before_midnight(seconds)`: a few seconds before the next
    Shanghai midnight, `clock_at.before_new_year(seconds)` a few seconds before the next Shanghai New Year
    (both from the tests' clock of the moment). Log in again inside the block (`api.log_in_all()`): the
    tokens issued before have expired there; an API of its own (`isolated_api`) keeps the jump from the
    session's shared data."""

    class ClockAt:
        def __call__(self, instant: datetime):
            return at_instant(instant)

        def before_midnight(self, seconds: float):
            after = max(datetime.now(timezone.utc), real_now())
            return at_instant(next_shanghai_midnight(after) - timedelta(seconds=seconds))

        def before_new_year(self, seconds: float):
            after = max(datetime.now(timezone.utc), real_now())
            return at_instant(next_new_year(after) - timedelta(seconds=seconds))

    return ClockAt()


# A workflow started on a pinned clock has its start delayed by the pin's offset (tests/dates.py). This server
# (1.32) counts the first run's life from the end of that delay, so a broadcast that continues as new within a
# second gets the guard against tight continue-as-new loops: a backoff of the rest of the second, a timer its
# new run (whose time skipping has ended) never fires. No minimal interval on the tests' dev server.
PINNED_CAN_CONFIG = ["--dynamic-config-value", 'history.workflowIdReuseMinimalInterval="0s"']


@pytest_asyncio.fixture(scope="session")
async def env() -> AsyncIterator[WorkflowEnvironment]:
    environment = await WorkflowEnvironment.start_time_skipping_v2(
        dev_server_existing_path=str(TEMPORAL_CLI),
        dev_server_extra_args=["--dynamic-config-value", "frontend.WorkflowTimeSkippingEnabled=true", *PINNED_CAN_CONFIG],
        search_attributes=[sa.STATUS, sa.DUE_AT, sa.OVERDUE, sa.AGENCY],
        data_converter=TEST_DATA_CONVERTER,
    )
    yield environment
    await environment.shutdown()


@pytest_asyncio.fixture(scope="session")
async def client(env: WorkflowEnvironment) -> Client:
    return pinned_client(await env.connect_client(data_converter=TEST_DATA_CONVERTER))


@pytest.fixture(scope="session")
def mailbox() -> Iterator[SmtpServer]:
    handler = CapturingHandler()
    controller = SmtpController(handler)
    controller.start()
    yield SmtpServer(host="127.0.0.1", port=controller.port, handler=handler)
    controller.stop()


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory, mailbox: SmtpServer) -> Iterator[Settings]:
    """The session's settings; its database is SQLite, or PostgreSQL with DISCLOSURE_TEST_DATABASE=postgres."""
    data_dir = tmp_path_factory.mktemp("data")
    with fresh_database(data_dir, "disclosure") as database_url:
        yield Settings(
            data_dir=data_dir,
            database_url=database_url,
            task_queue=f"disclosure-{uuid.uuid4()}",
            smtp_host=mailbox.host,
            smtp_port=mailbox.port,
            max_receipt_age_days=3650,  # the 2026 holiday tests register receipts from early 2026
            **SECURITY_SETTINGS,
        )


@pytest.fixture(scope="session")
def engine(settings: Settings):
    engine = make_engine(settings.database_url)
    init_db(engine)
    yield engine
    engine.dispose()  # before `settings` drops a PostgreSQL database


@pytest_asyncio.fixture(scope="session")
async def worker(client: Client, settings: Settings, engine) -> AsyncIterator[None]:
    async with build_worker(client, settings, engine):
        yield


@asynccontextmanager
async def staff_client(app, env: WorkflowEnvironment | None = None) -> AsyncIterator[StaffClient]:
    async with StaffClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as http:
        http.app = app
        http.env = env
        await http.log_in_all()
        yield http


@pytest_asyncio.fixture(scope="session")
async def api(env: WorkflowEnvironment, client: Client, settings: Settings, engine, worker,
              mailbox: SmtpServer) -> AsyncIterator[StaffClient]:
    """The session's API, logged in as every test user (tests.helpers.TEST_USERS); the supervisor by default. The
    session's SMTP server's delivery reports reach it as the agency's mail system would hand them over
    (tests.helpers.relay_returns)."""
    app = create_app(settings, client=client, engine=engine)
    seed_test_users(engine)
    async with staff_client(app, env) as http:
        RELAY_TARGETS.append(http)
        relay = asyncio.create_task(relay_returns(mailbox.handler))
        try:
            yield http
        finally:
            relay.cancel()
            RELAY_TARGETS.remove(http)


@pytest_asyncio.fixture
async def anon(api: StaffClient) -> AsyncIterator[httpx.AsyncClient]:
    """The session's API with no credentials at all."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=api.app), base_url="http://api") as http:
        yield http


@pytest.fixture
def unpublished_from(monkeypatch: pytest.MonkeyPatch):
    """`unpublished_from(year)`: the package calendar data loses every year from `year` on, for this test
    (tests/calendars.py). Apply it before the stack's calendar is first read, or refresh that."""
    from workcalendar import loader

    package, shipped = loader.chinese_calendar_schedules, loader.shipped_schedules

    def apply(year: int) -> None:
        monkeypatch.setattr(loader, "chinese_calendar_schedules", lambda: [s for s in package() if s.year < year])
        monkeypatch.setattr(loader, "shipped_schedules", lambda: [s for s in shipped() if s.year < year])

    return apply


@pytest_asyncio.fixture
async def isolated_api(env: WorkflowEnvironment, client: Client, mailbox: SmtpServer, tmp_path: Path,
                       api: StaffClient) -> AsyncIterator[StaffClient]:
    """An API with its own task queue, worker and database, for tests that change shared data (the calendar)."""
    with fresh_database(tmp_path, "own") as database_url:
        own = Settings(
            data_dir=tmp_path, database_url=database_url, task_queue=f"own-{uuid.uuid4()}",
            smtp_host=mailbox.host, smtp_port=mailbox.port,
            application_number_prefix=f"T{uuid.uuid4().hex[:6].upper()}",  # numbers stay unique on the shared server
            **SECURITY_SETTINGS,
        )
        own_engine = make_engine(own.database_url)
        init_db(own_engine)
        try:
            async with build_worker(client, own, own_engine):
                app = create_app(own, client=client, engine=own_engine)
                seed_test_users(own_engine)
                async with staff_client(app, env) as http:
                    RELAY_TARGETS.append(http)  # its letters' delivery reports reach it too
                    try:
                        yield http
                    finally:
                        RELAY_TARGETS.remove(http)
        finally:
            own_engine.dispose()


# --- the session's database: SQLite by default, PostgreSQL on request ---------------------------

TEST_DATABASE = os.environ.get("DISCLOSURE_TEST_DATABASE", "sqlite").strip().lower()
# The server's maintenance database; CREATE/DROP DATABASE run there. Trust auth on the CI machine.
from tests.fixtures_db import POSTGRES_URL as TEST_POSTGRES_ADMIN_URL  # noqa: E402


@contextmanager
def fresh_database(data_dir: Path, name: str) -> Iterator[str]:
    """A fresh, empty database for one stack; its URL. PostgreSQL databases are dropped afterwards."""
    if TEST_DATABASE == "sqlite":
        yield f"sqlite:///{data_dir / f'{name}.db'}"
        return
    if TEST_DATABASE not in ("postgres", "postgresql"):
        raise pytest.UsageError(f"DISCLOSURE_TEST_DATABASE must be sqlite or postgres, not {TEST_DATABASE!r}")

    from sqlalchemy.engine import make_url

    admin = make_url(TEST_POSTGRES_ADMIN_URL)
    conninfo = admin.set(drivername="postgresql").render_as_string(hide_password=False)
    database = f"test_{name}_{uuid.uuid4().hex}"
    try:
        with psycopg.connect(conninfo, autocommit=True, connect_timeout=5) as connection:
            connection.execute(f'CREATE DATABASE "{database}"')
    except psycopg.OperationalError as error:
        raise pytest.UsageError(f"DISCLOSURE_TEST_DATABASE=postgres but {admin!r} is not reachable: {error}") from error
    try:
        yield admin.set(database=database).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(conninfo, autocommit=True, connect_timeout=5) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
