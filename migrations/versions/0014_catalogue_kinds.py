"""政务公开: a catalogue item may be a 规章 or 行政规范性文件 (legal_kind) with its issue date and, when
withdrawn as repealed, its repeal date: table 二's 制发 / 废止 / 现行有效 come from the catalogue

Revision ID: 0014_catalogue_kinds
Revises: 0013_persist_version
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0014_catalogue_kinds'
down_revision: str | Sequence[str] | None = '0013_persist_version'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('catalogue_item', sa.Column('legal_kind', sa.String(length=40), nullable=True))
    op.add_column('catalogue_item', sa.Column('issued_on', sa.Date(), nullable=True))
    op.add_column('catalogue_item', sa.Column('repealed_on', sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('catalogue_item') as batch:
        batch.drop_column('repealed_on')
        batch.drop_column('issued_on')
        batch.drop_column('legal_kind')
