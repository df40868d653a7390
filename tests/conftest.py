"""One real Temporal dev server, worker, SMTP server and SQLite database for the whole session.

The server runs with per-workflow time skipping available (start_time_skipping_v2), but nothing
skips unless a test fast-forwards a workflow: the API and tests use a plain client, so every other
workflow runs in real time. Each session gets its own task queue and database file.
"""

import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from aiosmtpd.controller import Controller
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from api.main import create_app
from core.config import Settings
from core.temporal import build_worker
from db.session import init_db, make_engine
from tests.fixtures_smtp import CapturingHandler, SmtpServer, free_port
from workflows import search_attributes as sa

TEMPORAL_CLI = Path(sys.executable).parent / "temporal"


@pytest_asyncio.fixture(scope="session")
async def env() -> AsyncIterator[WorkflowEnvironment]:
    environment = await WorkflowEnvironment.start_time_skipping_v2(
        dev_server_existing_path=str(TEMPORAL_CLI),
        dev_server_extra_args=["--dynamic-config-value", "frontend.WorkflowTimeSkippingEnabled=true"],
        search_attributes=[sa.STATUS, sa.DUE_AT, sa.OVERDUE],
        data_converter=pydantic_data_converter,
    )
    yield environment
    await environment.shutdown()


@pytest_asyncio.fixture(scope="session")
async def client(env: WorkflowEnvironment) -> Client:
    return await env.connect_client(data_converter=pydantic_data_converter)


@pytest.fixture(scope="session")
def mailbox() -> Iterator[SmtpServer]:
    handler = CapturingHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield SmtpServer(host="127.0.0.1", port=controller.port, handler=handler)
    controller.stop()


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory, mailbox: SmtpServer) -> Settings:
    data_dir = tmp_path_factory.mktemp("data")
    return Settings(
        data_dir=data_dir,
        database_url=f"sqlite:///{data_dir / 'disclosure.db'}",
        task_queue=f"disclosure-{uuid.uuid4()}",
        smtp_host=mailbox.host,
        smtp_port=mailbox.port,
    )


@pytest.fixture(scope="session")
def engine(settings: Settings):
    engine = make_engine(settings.database_url)
    init_db(engine)
    yield engine
    engine.dispose()


@pytest_asyncio.fixture(scope="session")
async def worker(client: Client, settings: Settings, engine) -> AsyncIterator[None]:
    async with build_worker(client, settings, engine):
        yield


@pytest_asyncio.fixture(scope="session")
async def api(client: Client, settings: Settings, engine, worker) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, client=client, engine=engine)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as http:
        yield http


@pytest_asyncio.fixture
async def isolated_api(client: Client, mailbox: SmtpServer, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    """An API with its own task queue, worker and database, for tests that change shared data (the calendar)."""
    own = Settings(
        data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'own.db'}", task_queue=f"own-{uuid.uuid4()}",
        smtp_host=mailbox.host, smtp_port=mailbox.port,
        application_number_prefix=f"T{uuid.uuid4().hex[:6].upper()}",  # numbers stay unique on the shared server
    )
    own_engine = make_engine(own.database_url)
    init_db(own_engine)
    async with build_worker(client, own, own_engine):
        app = create_app(own, client=client, engine=own_engine)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as http:
            yield http
    own_engine.dispose()
