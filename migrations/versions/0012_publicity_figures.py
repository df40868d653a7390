"""政务公开: table 二 figures recorded by staff (annual_figure); public copies of released records
(catalogue_item.source_application_id, source_sha256); the public catalogue's title search indexed
(SQLite: an FTS5 trigram table kept by triggers; PostgreSQL: a pg_trgm GIN index), so a word that
matches few items is found without walking every published item (bench/catalogue.py)

Revision ID: 0012_publicity_figures
Revises: 0011_idem_keys
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0012_publicity_figures'
down_revision: str | Sequence[str] | None = '0011_idem_keys'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


# Search structures outside the models (dialect-specific): tests/test_migrations.py ignores these names.
FTS = "catalogue_item_title_fts"
TRGM = "ix_catalogue_item_title_trgm"
SQLITE_TRIGGERS = {
    "catalogue_item_title_fts_insert": f"""CREATE TRIGGER catalogue_item_title_fts_insert AFTER INSERT ON catalogue_item
        BEGIN INSERT INTO {FTS}(id, title) VALUES (new.id, new.title); END""",
    "catalogue_item_title_fts_update": f"""CREATE TRIGGER catalogue_item_title_fts_update AFTER UPDATE OF title ON catalogue_item
        BEGIN DELETE FROM {FTS} WHERE id = old.id; INSERT INTO {FTS}(id, title) VALUES (new.id, new.title); END""",
    "catalogue_item_title_fts_delete": f"""CREATE TRIGGER catalogue_item_title_fts_delete AFTER DELETE ON catalogue_item
        BEGIN DELETE FROM {FTS} WHERE id = old.id; END""",
}


def _title_search_up() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute(f"CREATE VIRTUAL TABLE {FTS} USING fts5(id UNINDEXED, title, tokenize='trigram')")
        op.execute(f"INSERT INTO {FTS}(id, title) SELECT id, title FROM catalogue_item")
        for ddl in SQLITE_TRIGGERS.values():
            op.execute(ddl)
    elif dialect == "postgresql":
        # One pg_trgm per database, in `public`; its operator class is named with its schema, so the index
        # is built whatever the search_path (the tests migrate one schema per test).
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public")
        schema = op.get_bind().exec_driver_sql(
            "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
            "WHERE e.extname = 'pg_trgm'").scalar_one()
        op.execute(f'CREATE INDEX {TRGM} ON catalogue_item USING gin (title "{schema}".gin_trgm_ops) '
                   "WHERE status = 'published'")


def _title_search_down() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute(f"DROP TABLE IF EXISTS {FTS}")
    elif dialect == "postgresql":
        op.execute(f"DROP INDEX IF EXISTS {TRGM}")


def upgrade() -> None:
    op.create_table('annual_figure',
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('row_key', sa.String(length=40), nullable=False),
    sa.Column('cells', _json(), nullable=False),
    sa.Column('updated_by', sa.String(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('year', 'row_key')
    )
    op.add_column('catalogue_item', sa.Column('source_application_id', sa.String(), nullable=True))
    op.add_column('catalogue_item', sa.Column('source_sha256', sa.String(), nullable=True))
    _title_search_up()


def downgrade() -> None:
    _title_search_down()
    with op.batch_alter_table('catalogue_item') as batch:
        batch.drop_column('source_sha256')
        batch.drop_column('source_application_id')
    op.drop_table('annual_figure')
