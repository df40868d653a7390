"""application.clock and application.calendar_note: a published year is recounted from the database copy
(issue 15 point 4)

Revision ID: 0015_calendar_recount
Revises: 0014_catalogue_kinds
Create Date: 2026-11-30

`clock`: the state the application's deadlines are counted from (its calendar named by version), written
with every record by the workflow, so the calendar broadcaster recounts an open application without waking
it. `calendar_note`: the broadcaster's explanation of a due date it moved in the copy, until the workflow
records the move on its own timeline (its next write clears it).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0015_calendar_recount'
down_revision: str | Sequence[str] | None = '0014_catalogue_kinds'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    # A database made by create_all from the current models (adopted: stamped 0001, then upgraded) has them already.
    existing = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("application")}
    if 'clock' not in existing:
        op.add_column('application', sa.Column('clock', JSON_DOCUMENT, nullable=True))
    if 'calendar_note' not in existing:
        op.add_column('application', sa.Column('calendar_note', sa.String(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('application') as batch:
        batch.drop_column('calendar_note')
        batch.drop_column('clock')
