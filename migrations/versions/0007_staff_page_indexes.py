"""staff pages: indexes for the dashboard's aggregates and the work queue's waiting decisions

Revision ID: 0007_staff_page_indexes
Revises: 0006_annual_report
Create Date: 2026-11-30

The supervisor's dashboard counts open, due-soon and overdue applications and the on-time rate by
month, department and handler (api/pages/staff_data.py); (status, due_on, overdue, department,
handler) answers each from the index alone. The work queue's "extension requested, not decided" reads
a partial index of the extension events (a few percent of the events) in one pass, and "third party
objected, not overridden" a partial index of the objection alerts. At 1,000,000 applications these take the dashboard from seconds to
tens of milliseconds (bench/pages.py, bench/RESULTS.md). IF [NOT] EXISTS as in 0004.

On a large PostgreSQL table CREATE INDEX blocks writes while it builds (seconds per million rows).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0007_staff_page_indexes'
down_revision: str | Sequence[str] | None = '0006_annual_report'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen here on purpose (db.models.OBJECTION_PREDICATE must stay equal for the planner to use the index).
OBJECTION_PREDICATE = "kind = 'consultation-objection'"
EXTENSION_PREDICATE = "kind >= 'extension-' AND kind < 'extension.'"


def upgrade() -> None:
    op.create_index("ix_application_status_due_on_rates", "application",
                    ["status", "due_on", "overdue", "department", "handler"], if_not_exists=True)
    op.create_index("ix_application_event_extension", "application_event", ["application_id", "kind"],
                    if_not_exists=True, postgresql_where=sa.text(EXTENSION_PREDICATE),
                    sqlite_where=sa.text(EXTENSION_PREDICATE))
    op.create_index("ix_staff_alert_objection", "staff_alert", ["application_id"], if_not_exists=True,
                    postgresql_where=sa.text(OBJECTION_PREDICATE), sqlite_where=sa.text(OBJECTION_PREDICATE))


def downgrade() -> None:
    op.drop_index("ix_staff_alert_objection", table_name="staff_alert")
    op.drop_index("ix_application_event_extension", table_name="application_event")
    op.drop_index("ix_application_status_due_on_rates", table_name="application")
