"""Idempotent INSERT … ON CONFLICT statements on SQLite and PostgreSQL, compiled once per (dialect, table, columns)
and shared by the repositories (db/repository.py, db/fees_repository.py)."""

from functools import lru_cache

from sqlalchemy import Insert, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, SQLModel


def sql_dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def dialect_insert(dialect: str):
    if dialect == "postgresql":
        return postgresql.insert
    if dialect == "sqlite":
        return sqlite.insert
    raise ValueError(f"unsupported database dialect {dialect!r}")


@lru_cache(maxsize=64)
def insert_statement(dialect: str, table: Table, conflict: tuple[str, ...], update: tuple[str, ...] = ()) -> Insert:
    """INSERT … ON CONFLICT (conflict): DO UPDATE the `update` columns from the new row, or DO NOTHING when none."""
    statement = dialect_insert(dialect)(table)
    if update:
        statement = statement.on_conflict_do_update(
            index_elements=list(conflict), set_={name: statement.excluded[name] for name in update}
        )
    else:
        statement = statement.on_conflict_do_nothing(index_elements=list(conflict))
    return statement


def table_of(model: type[SQLModel]) -> Table:
    return model.__table__  # type: ignore[attr-defined, return-value]
