"""calendar_wake: the applications a calendar broadcast wakes later, before their new, earlier wake-up
(issue 15 point 4)

Revision ID: 0017_calendar_wake
Revises: 0016_queue_indexes
Create Date: 2026-12-01

An open application whose next wake-up a published year moves earlier, but not within the broadcaster's lead
(a day), is not signalled at publication: its moved dates are written to the row like any other move, and a
row here tells the broadcaster when to wake it (`wake_at` less the lead). The broadcaster reads them by
(broadcast_id, wake_at, application_id) and deletes its own when it ends.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0017_calendar_wake'
down_revision: str | Sequence[str] | None = '0016_queue_indexes'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A database made by create_all from the current models (adopted: stamped 0001, then upgraded) has it already.
    if sa.inspect(op.get_bind()).has_table('calendar_wake'):
        return
    op.create_table('calendar_wake',
    sa.Column('broadcast_id', sa.String(), nullable=False),
    sa.Column('application_id', sa.String(), nullable=False),
    sa.Column('wake_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('broadcast_id', 'application_id')
    )
    op.create_index('ix_calendar_wake_due', 'calendar_wake', ['broadcast_id', 'wake_at', 'application_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_calendar_wake_due', table_name='calendar_wake')
    op.drop_table('calendar_wake')
