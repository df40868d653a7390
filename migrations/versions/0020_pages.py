"""pages: page_draft, what a person typed into a staff form when their log-in had expired (issue 23 point 2);
login_failure, the per-account lockout (issue 23 point 8)

Revision ID: 0020_pages
Revises: 0019_participation
Create Date: 2026-12-07

A draft is kept under a random id carried through the log-in page and restored once into the form after log-in.
An account's consecutive wrong passwords lock it for a while, longer each time (services/lockout.py).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0020_pages'
down_revision: str | Sequence[str] | None = '0019_participation'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A database made by create_all from the current models (adopted: stamped 0001, then upgraded) has them already.
    inspector = sa.inspect(op.get_bind())
    if not inspector.has_table('login_failure'):
        op.create_table('login_failure',
        sa.Column('username', sa.String(length=64), nullable=False),
        sa.Column('failures', sa.Integer(), nullable=False),
        sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_failure_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('username')
        )
    if inspector.has_table('page_draft'):
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
    op.drop_table('login_failure')
