"""participation: drafts for comment, their comments, 在线咨询 questions (issue 26)

Revision ID: 0019_participation
Revises: 0018_release_files
Create Date: 2026-12-07

Written in 0001's terms (plain VARCHAR, UTCDateTime as DateTime(timezone=True), JSON/JSONB).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0019_participation'
down_revision: str | Sequence[str] | None = '0018_release_files'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    # A database made by create_all from the current models (adopted: stamped 0001, then upgraded) has them already.
    if sa.inspect(op.get_bind()).has_table('participation_draft'):
        return
    op.create_table('participation_draft',
    sa.Column('id', sa.String(length=60), nullable=False),
    sa.Column('title', sa.String(), nullable=False),
    sa.Column('kind', sa.String(), nullable=False),
    sa.Column('section', sa.String(), nullable=False),
    sa.Column('phase', sa.String(), nullable=False),
    sa.Column('opens_on', sa.Date(), nullable=True),
    sa.Column('closes_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('feedback_due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('feedback_published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('feedback_on_time', sa.Boolean(), nullable=True),
    sa.Column('url', sa.String(), nullable=True),
    sa.Column('public', _json(), nullable=False),
    sa.Column('counts', _json(), nullable=False),
    sa.Column('created_by', sa.String(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_participation_draft_phase_opens_on', 'participation_draft', ['phase', 'opens_on', 'id'],
                    unique=False)
    op.create_table('participation_comment',
    sa.Column('receipt_no', sa.String(length=80), nullable=False),
    sa.Column('draft_id', sa.String(length=60), nullable=False),
    sa.Column('channel', sa.String(), nullable=False),
    sa.Column('name', sa.String(), nullable=True),
    sa.Column('contact', sa.String(), nullable=True),
    sa.Column('part', sa.String(), nullable=False),
    sa.Column('text', sa.String(), nullable=False),
    sa.Column('received_on', sa.Date(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('entered_by', sa.String(), nullable=False),
    sa.Column('late', sa.Boolean(), nullable=False),
    sa.Column('hidden', sa.Boolean(), nullable=False),
    sa.Column('hidden_reason', sa.String(), nullable=True),
    sa.Column('hidden_by', sa.String(), nullable=True),
    sa.Column('decision', sa.String(), nullable=True),
    sa.Column('attachment', _json(), nullable=True),
    sa.PrimaryKeyConstraint('receipt_no')
    )
    op.create_index('ix_participation_comment_draft', 'participation_comment', ['draft_id', 'receipt_no'], unique=False)
    op.create_table('participation_inquiry',
    sa.Column('id', sa.String(length=60), nullable=False),
    sa.Column('question', sa.String(), nullable=False),
    sa.Column('name', sa.String(), nullable=True),
    sa.Column('contact', sa.String(), nullable=True),
    sa.Column('consent_publish', sa.Boolean(), nullable=False),
    sa.Column('received_on', sa.Date(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('status', sa.String(), nullable=False),
    sa.Column('section', sa.String(), nullable=True),
    sa.Column('answer', sa.String(), nullable=True),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('on_time', sa.Boolean(), nullable=True),
    sa.Column('overdue', sa.Boolean(), nullable=False),
    sa.Column('published', sa.Boolean(), nullable=False),
    sa.Column('application_id', sa.String(), nullable=True),
    sa.Column('code_hash', sa.String(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_participation_inquiry_status_due_on', 'participation_inquiry', ['status', 'due_on', 'id'],
                    unique=False)


def downgrade() -> None:
    op.drop_index('ix_participation_inquiry_status_due_on', table_name='participation_inquiry')
    op.drop_table('participation_inquiry')
    op.drop_index('ix_participation_comment_draft', table_name='participation_comment')
    op.drop_table('participation_comment')
    op.drop_index('ix_participation_draft_phase_opens_on', table_name='participation_draft')
    op.drop_table('participation_draft')
