"""政务公开: table 二 figures recorded by staff (annual_figure); public copies of released records
(catalogue_item.source_application_id, source_sha256)

Revision ID: 0009_publicity_figures
Revises: 0008_proactive
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0009_publicity_figures'
down_revision: str | Sequence[str] | None = '0008_proactive'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


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


def downgrade() -> None:
    with op.batch_alter_table('catalogue_item') as batch:
        batch.drop_column('source_sha256')
        batch.drop_column('source_application_id')
    op.drop_table('annual_figure')
