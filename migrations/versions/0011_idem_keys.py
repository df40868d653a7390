"""Idempotency keys: a retried POST gets the first answer again (issue 12 point 1)

Revision ID: 0011_idem_keys
Revises: 0010_evidence
Create Date: 2026-11-30

Written in 0001's terms (plain VARCHAR, UTCDateTime as DateTime(timezone=True)).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0011_idem_keys'
down_revision: str | Sequence[str] | None = '0010_evidence'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('idempotency_key',
    sa.Column('scope', sa.String(length=64), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('method', sa.String(length=10), nullable=False),
    sa.Column('path', sa.String(length=300), nullable=False),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('status_code', sa.Integer(), nullable=True),
    sa.Column('response', sa.LargeBinary(), nullable=True),
    sa.Column('reserved', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('scope')
    )
    op.create_index('ix_idempotency_key_expires_at', 'idempotency_key', ['expires_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_idempotency_key_expires_at', table_name='idempotency_key')
    op.drop_table('idempotency_key')
