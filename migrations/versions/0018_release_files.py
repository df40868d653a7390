"""release_files: files released with a reply, their screening, findings, decisions and redactions (issue 22)

Revision ID: 0018_release_files
Revises: 0017_calendar_wake
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from db.models import JSONDocument, UTCDateTime

revision: str = '0018_release_files'
down_revision: str | Sequence[str] | None = '0017_calendar_wake'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A database made by create_all from the current models (adopted: stamped 0001, then upgraded) has them already.
    if sa.inspect(op.get_bind()).has_table('release_file'):
        return
    op.create_table('release_file',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.String(), nullable=False),
    sa.Column('item_no', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(), nullable=False),
    sa.Column('filename', sa.String(), nullable=False),
    sa.Column('kind', sa.String(), nullable=False),
    sa.Column('media_type', sa.String(), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('uploaded_by', sa.String(), nullable=False),
    sa.Column('uploaded_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['sha256'], ['stored_file.sha256']),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('application_id', 'item_no', 'sha256', name='uq_release_file_item_hash')
    )
    op.create_index('ix_release_file_application_id', 'release_file', ['application_id'])
    op.create_index('ix_release_file_sha256', 'release_file', ['sha256'])
    op.create_table('release_screening',
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('state', sa.String(), nullable=False),
    sa.Column('pages_total', sa.Integer(), nullable=True),
    sa.Column('pages_done', sa.Integer(), nullable=False),
    sa.Column('pages_sha256', sa.String(), nullable=True),
    sa.Column('error', sa.String(), nullable=True),
    sa.Column('updated_at', UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('sha256')
    )
    op.create_table('release_finding',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('page', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(), nullable=False),
    sa.Column('detail', sa.String(), nullable=False),
    sa.Column('excerpt', sa.String(), nullable=False),
    sa.Column('place', JSONDocument, nullable=True),
    sa.Column('ref', sa.String(), nullable=True),
    sa.Column('value_hash', sa.String(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('sha256', 'seq', name='uq_release_finding_seq')
    )
    op.create_index('ix_release_finding_sha256', 'release_finding', ['sha256'])
    op.create_table('release_decision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('release_file_id', sa.Integer(), nullable=False),
    sa.Column('finding_seq', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(), nullable=False),
    sa.Column('decided_by', sa.String(), nullable=False),
    sa.Column('decided_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['release_file_id'], ['release_file.id']),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('release_file_id', 'finding_seq', name='uq_release_decision_finding')
    )
    op.create_index('ix_release_decision_release_file_id', 'release_decision', ['release_file_id'])
    op.create_table('release_redaction',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('release_file_id', sa.Integer(), nullable=False),
    sa.Column('areas', JSONDocument, nullable=False),
    sa.Column('text_layer', sa.Boolean(), nullable=False),
    sa.Column('state', sa.String(), nullable=False),
    sa.Column('released_sha256', sa.String(), nullable=True),
    sa.Column('verified', sa.Boolean(), nullable=False),
    sa.Column('problems', JSONDocument, nullable=False),
    sa.Column('made_by', sa.String(), nullable=False),
    sa.Column('made_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['release_file_id'], ['release_file.id']),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_release_redaction_release_file_id', 'release_redaction', ['release_file_id'])


def downgrade() -> None:
    for table in ('release_redaction', 'release_decision', 'release_finding', 'release_screening', 'release_file'):
        op.drop_table(table)
