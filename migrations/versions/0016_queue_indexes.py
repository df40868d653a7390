"""The supervisor's and the registrar's work queues from a few index rows (issue 15 point 5):
application.extension_pending, and a partial index of the applications no handler is assigned to

Revision ID: 0016_queue_indexes
Revises: 0015_calendar_recount
Create Date: 2026-12-01

The supervisor's work queue and dashboard found the applications waiting for an extension decision by
balancing every extension event ever recorded (a group-by over the partial index of 0007: 22 ms at 1,000,000
applications). The workflow now writes the fact with its record; a partial index holds the few rows where it
is true. Existing rows are set from the events once, by the same balance (requests minus decisions).

The registrar's "assign" kind read every open application of its status to find the few without a handler
(20 ms at 1,000,000): a partial index of the unassigned ones, by (status, due_on, id), answers it in order.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0016_queue_indexes'
down_revision: str | Sequence[str] | None = '0015_calendar_recount'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen here on purpose (db.models.EXTENSION_PENDING_PREDICATE must stay equal for SQLite's planner).
EXTENSION_PENDING_PREDICATE = "extension_pending"
UNASSIGNED_PREDICATE = "(handler IS NULL OR handler = '')"
FINAL_STATUSES = ("closed", "withdrawn", "abandoned")


def upgrade() -> None:
    existing = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("application")}
    if 'extension_pending' not in existing:
        op.add_column('application', sa.Column('extension_pending', sa.Boolean(), nullable=False,
                                               server_default=sa.false()))
    op.create_index('ix_application_extension_pending', 'application', ['due_on', 'id'], unique=False,
                    if_not_exists=True, postgresql_where=sa.text(EXTENSION_PENDING_PREDICATE),
                    sqlite_where=sa.text(EXTENSION_PENDING_PREDICATE))
    op.create_index('ix_application_unassigned', 'application', ['status', 'due_on', 'id'], unique=False,
                    if_not_exists=True, postgresql_where=sa.text(UNASSIGNED_PREDICATE),
                    sqlite_where=sa.text(UNASSIGNED_PREDICATE))
    finals = ", ".join(f"'{s}'" for s in FINAL_STATUSES)
    op.execute(sa.text(f"""
        UPDATE application SET extension_pending = true
        WHERE status NOT IN ({finals}) AND id IN (
            SELECT application_id FROM application_event
            WHERE kind >= 'extension-' AND kind < 'extension.'
            GROUP BY application_id
            HAVING sum(CASE WHEN kind = 'extension-requested' THEN 1
                            WHEN kind IN ('extension-approved', 'extension-refused') THEN -1 ELSE 0 END) > 0)
    """))


def downgrade() -> None:
    op.drop_index('ix_application_unassigned', table_name='application',
                  postgresql_where=sa.text(UNASSIGNED_PREDICATE), sqlite_where=sa.text(UNASSIGNED_PREDICATE))
    op.drop_index('ix_application_extension_pending', table_name='application',
                  postgresql_where=sa.text(EXTENSION_PENDING_PREDICATE), sqlite_where=sa.text(EXTENSION_PENDING_PREDICATE))
    with op.batch_alter_table('application') as batch:
        batch.drop_column('extension_pending')
