"""Alembic migrations: the migrated schema is the models' schema, start-up upgrades are race-free.

Each test runs on SQLite and on PostgreSQL (skipped when none answers on 127.0.0.1:5432 or DISCLOSURE_TEST_POSTGRES_URL; a failure on CI).
"""

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, text
from sqlmodel import SQLModel

from db.session import BASELINE_REVISION, alembic_config, init_db, make_engine
from tests.fixtures_db import engine, postgres_schema  # noqa: F401

ROOT = Path(__file__).resolve().parent.parent
HEAD = ScriptDirectory.from_config(alembic_config()).get_current_head()


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database: a SQLite file, or a private PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    with postgres_schema() as url:
        yield url


@pytest.fixture
def bare_engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


def _modelled(name, type_, parent_names) -> bool:
    """The title search's dialect-specific structures (db.models_proactive.TITLE_SEARCH_OBJECTS: an FTS5
    table with its shadow tables on SQLite, a pg_trgm index on PostgreSQL) are made by migration 0012 only."""
    from db.models_proactive import TITLE_SEARCH_OBJECTS

    return not (name or "").startswith(TITLE_SEARCH_OBJECTS)


def schema_differences(engine: Engine) -> list:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True, "compare_server_default": True,
                                                               "include_name": _modelled})
        return compare_metadata(context, SQLModel.metadata)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def test_one_head_and_the_baseline_is_the_first_revision() -> None:
    scripts = ScriptDirectory.from_config(alembic_config())
    assert len(scripts.get_heads()) == 1
    assert scripts.get_base() == BASELINE_REVISION


def test_migrated_schema_equals_the_models(engine: Engine) -> None:  # noqa: F811
    assert current_revision(engine) == HEAD
    assert schema_differences(engine) == []


def test_the_schema_has_the_indexes_and_constraints_lists_and_events_rely_on(engine: Engine) -> None:  # noqa: F811
    tables = inspect(engine)
    application_indexes = {index["name"]: index["column_names"] for index in tables.get_indexes("application")}
    assert application_indexes["ix_application_status_due_on_id"] == ["status", "due_on", "id"]
    uniques = {u["name"]: u["column_names"] for u in tables.get_unique_constraints("application_event")}
    assert uniques["uq_application_event_seq"] == ["application_id", "seq"]
    if engine.dialect.name == "postgresql":
        columns = {c["name"]: c["type"] for c in tables.get_columns("application_event")}
        assert type(columns["data"]).__name__ == "JSONB"
        assert getattr(columns["at"], "timezone", False), "timestamps must be TIMESTAMP WITH TIME ZONE"


def test_downgrade_to_nothing_and_up_again(bare_engine: Engine) -> None:
    init_db(bare_engine)
    with bare_engine.begin() as connection:
        command.downgrade(alembic_config(connection), "base")
    assert set(inspect(bare_engine).get_table_names()) <= {"alembic_version"}
    init_db(bare_engine)
    assert current_revision(bare_engine) == HEAD
    assert schema_differences(bare_engine) == []


# The tables create_all made before migrations existed (revision 0001); later tables come from migrations.
PRE_MIGRATION_TABLES = ("application", "application_item", "application_event", "outbound_message", "staff_alert",
                        "published_calendar_year")
# The counter as create_all made it then: one row per year (per agency and year since 0030_agencies).
OLD_COUNTER = "CREATE TABLE application_number_counter (year INTEGER NOT NULL PRIMARY KEY, last INTEGER NOT NULL)"


def test_a_database_made_by_create_all_before_migrations_is_adopted(bare_engine: Engine) -> None:
    SQLModel.metadata.create_all(bare_engine, tables=[SQLModel.metadata.tables[t] for t in PRE_MIGRATION_TABLES])
    with bare_engine.begin() as connection:
        connection.execute(text(OLD_COUNTER))
        connection.execute(text("INSERT INTO application_number_counter (year, last) VALUES (2026, 41)"))
    init_db(bare_engine)
    assert current_revision(bare_engine) == HEAD
    with bare_engine.connect() as connection:  # the single agency's count, now the first agency's (issue 25)
        assert connection.execute(text("SELECT agency, last FROM application_number_counter")).one() == ("main", 41)


STARTER = """
import sys
from db.session import init_db, make_engine
engine = make_engine(sys.argv[1])
print("ready", flush=True)
sys.stdin.readline()  # the starting gun: every process is up and waits here
init_db(engine)
print("ok")
"""


def test_processes_starting_together_migrate_once(database_url: str, bare_engine: Engine) -> None:
    """An API and several workers start at the same moment on an empty database: all come up."""
    processes = [
        subprocess.Popen([sys.executable, "-c", STARTER, database_url], cwd=ROOT, stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(4)
    ]
    for process in processes:  # each has imported everything and made its engine
        assert process.stdout.readline().strip() == "ready", process.communicate(timeout=60)[1]
    for process in processes:
        process.stdin.write("go\n")
        process.stdin.flush()
    results = [process.communicate(timeout=60) for process in processes]
    for process, (out, err) in zip(processes, results, strict=True):
        assert process.returncode == 0 and out.strip() == "ok", err
    assert current_revision(bare_engine) == HEAD
    assert schema_differences(bare_engine) == []
    with bare_engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM alembic_version")).scalar_one() == 1


def test_alembic_command_line_upgrades_the_configured_database(database_url: str, bare_engine: Engine) -> None:
    environment = {**os.environ, "DISCLOSURE_DATABASE_URL": database_url}
    done = subprocess.run([sys.executable, "-m", "alembic", "upgrade", "head"], cwd=ROOT, env=environment,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert current_revision(bare_engine) == HEAD


def test_extension_requests_recorded_before_0016_wait_for_the_supervisor_after_it(bare_engine: Engine) -> None:
    """Migration 0016: an open application whose events leave an extension request undecided is marked as
    waiting for the supervisor's decision; a decided one, a re-asked one and a closed one are set right."""
    with bare_engine.begin() as connection:
        command.upgrade(alembic_config(connection), "0015_calendar_recount")
    rows = {"GK-1": ("handling", ["extension-requested"]),  # waits
            "GK-2": ("handling", ["extension-requested", "extension-approved"]),
            "GK-3": ("handling", ["extension-requested", "extension-refused", "extension-requested"]),  # waits again
            "GK-4": ("withdrawn", ["extension-requested"]),  # closed: nothing to decide
            "GK-5": ("handling", [])}
    with bare_engine.begin() as connection:
        for number, (status, kinds) in rows.items():
            connection.execute(text(
                "INSERT INTO application (id, received_on, channel, applicant_name, applicant_type, delivery_method,"
                " policy, status, due_provisional, overdue, paused, extended, created_at, updated_at) VALUES"
                " (:id, '2026-03-02', 'online', '张三', 'natural-person', 'email', 'national-2019', :status,"
                " false, false, false, false, '2026-03-02 01:00:00+00', '2026-03-02 01:00:00+00')"),
                {"id": number, "status": status})
            for seq, kind in enumerate(["registered", *kinds], start=1):
                connection.execute(text(
                    "INSERT INTO application_event (application_id, seq, at, kind, actor, summary, data) VALUES"
                    " (:id, :seq, '2026-03-02 01:00:00+00', :kind, 'wang', '', '{}')"),
                    {"id": number, "seq": seq, "kind": kind})
    init_db(bare_engine)
    with bare_engine.connect() as connection:
        waiting = {r[0] for r in connection.execute(text("SELECT id FROM application WHERE extension_pending"))}
    assert waiting == {"GK-1", "GK-3"}


def test_a_single_agency_installation_becomes_the_platforms_first_agency(bare_engine: Engine) -> None:
    """Migration 0030 (issue 25 point 6): an installation of one agency upgrades in place: its applications, staff
    and counters become the first agency's (DISCLOSURE_AGENCY_CODE, "main" by default); nothing is renumbered."""
    with bare_engine.begin() as connection:
        command.upgrade(alembic_config(connection), "0023_release_seal")
    with bare_engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO application (id, received_on, channel, applicant_name, applicant_type, delivery_method,"
            " policy, status, due_provisional, overdue, paused, extended, created_at, updated_at, version,"
            " extension_pending) VALUES ('GK-2026-000007', '2026-03-02', 'online', '张三', 'natural-person', 'email',"
            " 'national-2019', 'handling', false, false, false, false, '2026-03-02 01:00:00+00',"
            " '2026-03-02 01:00:00+00', 3, false)"))
        connection.execute(text(
            "INSERT INTO staff_user (username, full_name, password_hash, roles, department, active, token_version,"
            " created_at, updated_at) VALUES ('wang', '', 'x', 'handler', '综合统计科', true, 1,"
            " '2026-03-02 01:00:00+00', '2026-03-02 01:00:00+00')"))
        connection.execute(text("INSERT INTO application_number_counter (year, last) VALUES (2026, 7)"))
        connection.execute(text("INSERT INTO document_number_counter (series, year, last) VALUES ('依公', 2026, 12)"))
    init_db(bare_engine)
    with bare_engine.connect() as connection:
        assert connection.execute(text("SELECT id, agency FROM application")).one() == ("GK-2026-000007", "main")
        assert connection.execute(text("SELECT agency FROM staff_user")).scalar_one() == "main"
        assert connection.execute(text("SELECT agency, year, last FROM application_number_counter")).one() == ("main", 2026, 7)
        assert connection.execute(text("SELECT agency, series, last FROM document_number_counter")).one() == ("main", "依公", 12)
    from sqlmodel import Session

    from db.repository import allocate_application_number

    with Session(bare_engine) as session:  # the next number continues the installation's own series
        assert allocate_application_number(session, 2026) == "GK-2026-000008"
        session.commit()
