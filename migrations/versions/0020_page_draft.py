"""page_draft: what a person typed into a staff form when their log-in had expired (issue 23 point 2)

Revision ID: 0020_page_draft
Revises: 0017_calendar_wake
Create Date: 2026-12-07

Kept under a random id carried through the log-in page and restored once into the form after log-in.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0020_page_draft'
down_revision: str | Sequence[str] | None = '0017_calendar_wake'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A database made by create_all from the current models (adopted: stamped 0001, then upgraded) has it already.
    if sa.inspect(op.get_bind()).has_table('page_draft'):
        return
    op.create_table('page_draft',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('page', sa.String(length=500), nullable=False),
    sa.Column('action', sa.String(length=100), nullable=False),
    sa.Column('fields', sa.String(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )


def downgrade() -> None:
    op.drop_table('page_draft')
