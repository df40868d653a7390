"""release_seal, release_download: what leaves with the reply, sealed at signature, and each download (issue 22)

Revision ID: 0023_release_seal
Revises: 0022_mail_returns
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from db.models import JSONDocument, UTCDateTime

revision: str = '0023_release_seal'
down_revision: str | Sequence[str] | None = '0022_mail_returns'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if sa.inspect(op.get_bind()).has_table('release_seal'):
        return
    op.create_table('release_seal',
    sa.Column('application_id', sa.String(), nullable=False),
    sa.Column('signed_by', sa.String(), nullable=False),
    sa.Column('sealed_at', UTCDateTime(), nullable=False),
    sa.Column('files', JSONDocument, nullable=False),
    sa.Column('manifest_sha256', sa.String(), nullable=False),
    sa.Column('delivery', sa.String(), nullable=False),
    sa.Column('link_expires_on', sa.Date(), nullable=True),
    sa.PrimaryKeyConstraint('application_id')
    )
    op.create_table('release_download',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.String(), nullable=False),
    sa.Column('sha256', sa.String(), nullable=False),
    sa.Column('filename', sa.String(), nullable=False),
    sa.Column('downloaded_on', sa.Date(), nullable=False),
    sa.Column('downloaded_at', UTCDateTime(), nullable=False),
    sa.Column('client', sa.String(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_release_download_application_id', 'release_download', ['application_id'])


def downgrade() -> None:
    op.drop_table('release_download')
    op.drop_table('release_seal')
