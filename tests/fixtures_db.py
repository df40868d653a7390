"""Database engines for tests: a SQLite file, and PostgreSQL in a private schema when reachable."""

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from contracts.models import ApplicationRecord, EventRecord, ItemRecord
from db.session import init_db, make_engine
from outcomes import OutcomeCode
from tests.ci import skip_unless_ci  # noqa: F401  (re-exported for the tests that import it from here)

# The server the PostgreSQL tests use (CI: 127.0.0.1:5432, trust auth); DISCLOSURE_TEST_POSTGRES_URL
# names another. Tests work in private schemas (here) or databases (conftest.py) and drop them.
POSTGRES_URL = os.environ.get("DISCLOSURE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
POSTGRES_CONNINFO = make_url(POSTGRES_URL).set(drivername="postgresql").render_as_string(hide_password=False)


def _postgres_unreachable_reason() -> str | None:
    try:
        with psycopg.connect(POSTGRES_CONNINFO, connect_timeout=3):
            return None
    except psycopg.OperationalError as error:
        return f"PostgreSQL not reachable at {make_url(POSTGRES_URL)!r}: {error}"


@pytest.fixture(params=["sqlite", "postgres"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'db' / 'disclosure.db'}")
        init_db(engine)
        yield engine
        engine.dispose()
        return

    with postgres_schema() as url:
        engine = make_engine(url)
        try:
            init_db(engine)
            yield engine
        finally:
            engine.dispose()


@contextmanager
def postgres_schema() -> Iterator[str]:
    """The URL of a private, empty PostgreSQL schema, dropped afterwards (skipped, or failed on CI, when
    no server answers). A schema per test keeps parallel runs and other test modules apart."""
    if reason := _postgres_unreachable_reason():
        skip_unless_ci(reason)
    schema = f"test_{uuid.uuid4().hex}"
    _on_server(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    finally:
        _on_server(f'DROP SCHEMA "{schema}" CASCADE')


def _on_server(statement: str) -> None:
    with psycopg.connect(POSTGRES_CONNINFO, autocommit=True) as connection:
        connection.execute(statement)


def application_record(application_id: str = "GK-2026-000001", **overrides) -> ApplicationRecord:
    values = {
        "application_id": application_id,
        "received_on": date(2026, 3, 2),
        "channel": "online",
        "applicant_name": "张三",
        "applicant_type": "natural-person",
        "applicant_email": "zhangsan@example.cn",
        "applicant_phone": "13812345678",
        "delivery_method": "email",
        "policy": "local",
        "status": "in-progress",
        "handler": "li",
        "department": "综合统计科",
        "due_on": date(2026, 3, 23),
        "items": [
            ItemRecord(item_no=1, description="2025年规模以上工业企业名录"),
            ItemRecord(item_no=2, description="某项目统计执法检查记录", outcome=OutcomeCode.WITHHELD_ENFORCEMENT_FILE),
        ],
    }
    values.update(overrides)
    return ApplicationRecord(**values)


def event_record(seq: int, kind: str = "note") -> EventRecord:
    return EventRecord(
        seq=seq,
        at=datetime(2026, 3, 2, 9, seq, tzinfo=UTC),
        kind=kind,
        actor="registrar",
        summary=f"事件{seq}",
        data={"seq": seq, "说明": "中文"},
    )
