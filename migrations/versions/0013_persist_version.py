"""application.version: the monotonic version of the workflow's record (issue 12 point 4)

Revision ID: 0013_persist_version
Revises: 0012_publicity_figures
Create Date: 2026-11-30

The workflow writes its listing row in the background; a late, older copy must not overwrite a newer
one, so the upsert applies only when the incoming version is higher (0: unversioned writer, as before).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0013_persist_version'
down_revision: str | Sequence[str] | None = '0012_publicity_figures'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A database made by create_all from the current models (adopted: stamped 0001, then upgraded) has it already.
    if any(c["name"] == "version" for c in sa.inspect(op.get_bind()).get_columns("application")):
        return
    op.add_column('application', sa.Column('version', sa.BigInteger(), server_default=sa.text('0'), nullable=False))


def downgrade() -> None:
    op.drop_column('application', 'version')
