"""Proof of service (issue 11 point 14): the mail server's reply, post, pickup signature, portal download

Revision ID: 0010_evidence
Revises: 0009_guidance_fees
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0010_evidence'
down_revision: str | Sequence[str] | None = '0009_guidance_fees'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = [
    ('smtp_reply', sa.String()),
    ('posted_on', sa.Date()),
    ('served_method', sa.String()),
    ('served_entered_by', sa.String()),
    ('served_entered_at', sa.DateTime(timezone=True)),
    ('received_by', sa.String()),
    ('handed_over_by', sa.String()),
    ('receipt_scan_sha256', sa.String()),
    ('downloaded_by', sa.String()),
    ('service_note', sa.String()),
]


def upgrade() -> None:
    with op.batch_alter_table('letter_outbox') as batch:
        for name, type_ in COLUMNS:
            batch.add_column(sa.Column(name, type_, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('letter_outbox') as batch:
        for name, _ in reversed(COLUMNS):
            batch.drop_column(name)
