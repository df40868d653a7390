"""mail_return: delivery status notifications and bounces about our e-mails (issue 21 point 2, RULES §3 Service)

Revision ID: 0022_mail_returns
Revises: 0020_pages
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0022_mail_returns'
down_revision: str | Sequence[str] | None = '0020_pages'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if sa.inspect(op.get_bind()).has_table('mail_return'):
        return
    op.create_table('mail_return',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('return_id', sa.String(length=300), nullable=False),
    sa.Column('recipient', sa.String(length=300), nullable=False),
    sa.Column('letter_key', sa.String(), nullable=True),
    sa.Column('action', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('diagnostic', sa.String(length=500), nullable=False),
    sa.Column('reporting_mta', sa.String(length=200), nullable=False),
    sa.Column('reported_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('raw_sha256', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('return_id', 'recipient', name='uq_mail_return_recipient')
    )
    op.create_index('ix_mail_return_letter_key', 'mail_return', ['letter_key'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_mail_return_letter_key', table_name='mail_return')
    op.drop_table('mail_return')
