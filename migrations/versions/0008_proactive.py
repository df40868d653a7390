"""政务公开: catalogue categories and items (with interpretations), public-opinion events, corrections

Revision ID: 0008_proactive
Revises: 0007_staff_page_indexes
Create Date: 2026-11-30

Written in 0001's terms (plain VARCHAR, UTCDateTime as DateTime(timezone=True), JSON/JSONB).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0008_proactive'
down_revision: str | Sequence[str] | None = '0007_staff_page_indexes'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PUBLISHED = "status = 'published'"
HAS_POLICY = "policy_id IS NOT NULL"


def _json() -> sa.types.TypeEngine:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table('catalogue_category',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(), nullable=False),
    sa.Column('section', sa.String(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('catalogue_item',
    sa.Column('id', sa.String(length=60), nullable=False),
    sa.Column('kind', sa.String(), nullable=False),
    sa.Column('title', sa.String(), nullable=False),
    sa.Column('category_id', sa.String(), nullable=False),
    sa.Column('section', sa.String(), nullable=False),
    sa.Column('document_number', sa.String(), nullable=True),
    sa.Column('produced_on', sa.Date(), nullable=False),
    sa.Column('policy_id', sa.String(), nullable=True),
    sa.Column('status', sa.String(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('overdue', sa.Boolean(), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('url', sa.String(), nullable=True),
    sa.Column('content_sha256', sa.String(), nullable=True),
    sa.Column('summary', sa.String(), nullable=False),
    sa.Column('history', _json(), nullable=False),
    sa.Column('created_by', sa.String(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_catalogue_item_published', 'catalogue_item', ['produced_on', 'id'], unique=False,
                    postgresql_where=sa.text(PUBLISHED), sqlite_where=sa.text(PUBLISHED))
    op.create_index('ix_catalogue_item_category_published', 'catalogue_item', ['category_id', 'produced_on', 'id'],
                    unique=False, postgresql_where=sa.text(PUBLISHED), sqlite_where=sa.text(PUBLISHED))
    op.create_index('ix_catalogue_item_document_number', 'catalogue_item', ['document_number'], unique=False)
    op.create_index('ix_catalogue_item_policy_id', 'catalogue_item', ['policy_id'], unique=False,
                    postgresql_where=sa.text(HAS_POLICY), sqlite_where=sa.text(HAS_POLICY))
    op.create_index('ix_catalogue_item_status_due_at', 'catalogue_item', ['status', 'due_at'], unique=False)
    op.create_table('opinion_event',
    sa.Column('id', sa.String(length=60), nullable=False),
    sa.Column('title', sa.String(), nullable=False),
    sa.Column('severity', sa.String(), nullable=False),
    sa.Column('found_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(), nullable=False),
    sa.Column('limits', _json(), nullable=False),
    sa.Column('responses', _json(), nullable=False),
    sa.Column('created_by', sa.String(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_opinion_event_status', 'opinion_event', ['status'], unique=False)
    op.create_table('correction_request',
    sa.Column('id', sa.String(length=60), nullable=False),
    sa.Column('person_name', sa.String(), nullable=False),
    sa.Column('email', sa.String(), nullable=True),
    sa.Column('address', sa.String(), nullable=True),
    sa.Column('record', sa.String(), nullable=False),
    sa.Column('correction', sa.String(), nullable=False),
    sa.Column('evidence', sa.String(), nullable=False),
    sa.Column('channel', sa.String(), nullable=False),
    sa.Column('received_on', sa.Date(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('status', sa.String(), nullable=False),
    sa.Column('result', sa.String(), nullable=False),
    sa.Column('forwarded_to', sa.String(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_correction_request_status_due_on', 'correction_request', ['status', 'due_on', 'id'],
                    unique=False)


def downgrade() -> None:
    op.drop_index('ix_correction_request_status_due_on', table_name='correction_request')
    op.drop_table('correction_request')
    op.drop_index('ix_opinion_event_status', table_name='opinion_event')
    op.drop_table('opinion_event')
    for name in ('ix_catalogue_item_status_due_at', 'ix_catalogue_item_policy_id', 'ix_catalogue_item_document_number',
                 'ix_catalogue_item_category_published', 'ix_catalogue_item_published'):
        op.drop_index(name, table_name='catalogue_item')
    op.drop_table('catalogue_item')
    op.drop_table('catalogue_category')
