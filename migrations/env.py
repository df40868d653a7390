"""Alembic environment for the project's tables (SQLModel.metadata from db.models).

Two ways in:
- at start-up, db.session.init_db passes an open connection in `config.attributes["connection"]`,
  already inside the transaction that holds the migration lock;
- from the command line (`alembic upgrade head` in the repository root), the database is
  `sqlalchemy.url` when given (`alembic -x` is not needed), otherwise DISCLOSURE_DATABASE_URL as
  core.config.Settings reads it; the same lock is taken, so a hand-run upgrade cannot race a
  starting API or worker.
"""

from logging.config import fileConfig

from alembic import context
from sqlmodel import SQLModel

import db.models  # noqa: F401  (registers the tables on SQLModel.metadata)

config = context.config
target_metadata = SQLModel.metadata


def database_url() -> str:
    url = config.get_main_option("sqlalchemy.url")
    if url:
        return url
    from core.config import Settings

    return Settings().database_url


def run_migrations(connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata, compare_type=True,
                      render_as_batch=True)  # batch: SQLite alters a table by copying it
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_offline() -> None:
    context.configure(url=database_url(), target_metadata=target_metadata, literal_binds=True,
                      dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        run_migrations(connection)
        return

    if config.config_file_name is not None:
        fileConfig(config.config_file_name, disable_existing_loggers=False)
    from db.session import make_engine, migration_lock

    engine = make_engine(database_url())
    try:
        with migration_lock(engine) as locked:
            run_migrations(locked)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
