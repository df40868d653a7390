"""Engine and session set-up for SQLite (single machine) and PostgreSQL; schema migrations at start-up."""

import fcntl
import sqlite3
import threading
import weakref
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlmodel import Session, create_engine

import db.models  # noqa: F401  (registers the tables on SQLModel.metadata)
import migrations

SQLITE_BUSY_TIMEOUT_MS = 10_000
SQLITE_MIGRATION_WAIT_MS = 120_000
MIGRATIONS_DIR = Path(migrations.__file__).parent
# The revision that created the schema `SQLModel.metadata.create_all` used to make: databases made
# before migrations existed are stamped with it, then upgraded like any other.
BASELINE_REVISION = "0001"
# pg_advisory_xact_lock key held while migrating ("disclosure migrate" as a 63-bit number):
# an API and workers starting together upgrade one after the other.
MIGRATION_LOCK_KEY = int.from_bytes(b"dsclmigr", "big") & 0x7FFF_FFFF_FFFF_FFFF


# Kept open: up to 40 request threads (anyio's default) and the activity threads use the database at
# once. With SQLAlchemy's default of 5, every request beyond the fifth opened and closed a connection
# of its own (on PostgreSQL a new server process each time), at 100 concurrent clients most of them.
POOL = {"pool_size": 20, "max_overflow": 30}


_WRITE_TURNS: weakref.WeakKeyDictionary[Engine, threading.Lock] = weakref.WeakKeyDictionary()
_WRITE_TURNS_GUARD = threading.Lock()


def write_turn(engine: Engine) -> AbstractContextManager[object]:
    """On SQLite, this process's busy writers queue here, in order, rather than in SQLite's busy handler.

    SQLite's busy handler retries a locked database after sleeps of up to 100 ms, whereas the lock
    is held for about a millisecond, so threads of one process that take turns through it wait far
    longer than they need to. PostgreSQL locks rows, not the database: no turn needed.
    """
    if engine.dialect.name != "sqlite":
        return nullcontext()
    with _WRITE_TURNS_GUARD:
        return _WRITE_TURNS.setdefault(engine, threading.Lock())


def make_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, **POOL)

    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        with sqlite_file_lock(parsed.database):
            # WAL is a property of the file: set once, here, so no connection ever has to switch it.
            with sqlite3.connect(parsed.database, timeout=SQLITE_MIGRATION_WAIT_MS / 1000) as raw:
                raw.execute("PRAGMA journal_mode=WAL")
            raw.close()
    # Activities reach the database from worker threads (asyncio.to_thread).
    engine = create_engine(url, connect_args={"check_same_thread": False}, **POOL)
    event.listen(engine, "connect", _configure_sqlite_connection)
    return engine


def _configure_sqlite_connection(dbapi_connection, _connection_record) -> None:
    cursor = dbapi_connection.cursor()
    # The file is in WAL mode (make_engine), so the API reads while the worker writes; the busy
    # timeout makes concurrent writers queue for the lock instead of failing at once.
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic's configuration without alembic.ini: this package's migrations, on `connection` if given."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@contextmanager
def sqlite_file_lock(database: str) -> Iterator[None]:
    """Processes sharing one SQLite file take turns here for what SQLite cannot queue by itself.

    Switching the journal mode and migrating both escalate to the write lock; two processes doing
    so at once can get "database is locked" at once, without the busy timeout ever waiting.
    """
    with open(f"{database}.init-lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextmanager
def migration_lock(engine: Engine) -> Iterator[Connection]:
    """One connection in one transaction that only one process at a time can hold; committed at the end.

    PostgreSQL: a transaction-scoped advisory lock (DDL is transactional, so a failed upgrade
    leaves nothing behind). SQLite: BEGIN IMMEDIATE takes the database's write lock at once; the
    other process waits for it (busy timeout) and then finds the schema at head.
    """
    database = engine.url.database if engine.url.get_backend_name() == "sqlite" else None
    file_lock = sqlite_file_lock(database) if database and database != ":memory:" else nullcontext()
    with file_lock, engine.connect() as connection:
        dialect = connection.dialect.name
        if dialect == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
        elif dialect == "sqlite":
            # Several processes may queue here, each holding the lock for a whole upgrade: wait
            # far longer than an ordinary write would.
            connection.exec_driver_sql(f"PRAGMA busy_timeout={SQLITE_MIGRATION_WAIT_MS}")
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            raise ValueError(f"unsupported database dialect {dialect!r}")
        try:
            yield connection
        except BaseException:
            connection.rollback()
            raise
        connection.commit()
        if dialect == "sqlite":
            connection.exec_driver_sql(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")


def init_db(engine: Engine) -> None:
    """Bring the schema to the latest migration; safe to call from several processes at once."""
    with migration_lock(engine) as connection:
        config = alembic_config(connection)
        tables = inspect(connection)
        if not tables.has_table("alembic_version") and tables.has_table("application"):
            command.stamp(config, BASELINE_REVISION)  # made by create_all before migrations existed
        command.upgrade(config, "head")


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One transaction: committed when the block ends normally, rolled back on an exception."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
