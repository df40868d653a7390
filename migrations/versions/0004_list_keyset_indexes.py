"""supervisors' list: (…, due_on, id) indexes for keyset pages; a partial index of open applications

Revision ID: 0004_list_keyset_indexes
Revises: 0003_letters
Create Date: 2026-11-22

The list (db.repository.list_applications) filters by status, overdue, handler or department, or
by nothing, and pages in (due_on, id) order from a cursor. Each filter gets an index ending in
(due_on, id), so a page is one ascending index range scan however deep it is. They replace the
single-column indexes on those columns (each a prefix of its new index) and (status, due_on).
`open=true` uses a partial index over the open statuses (a few percent of the rows). IF [NOT]
EXISTS: a database made by `create_all` from today's models (adopted at 0001) has them already.

On a large PostgreSQL table CREATE INDEX blocks writes to `application` while it builds (about a
second per index per million rows on a small machine): run it in a quiet moment.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0004_list_keyset_indexes'
down_revision: str | Sequence[str] | None = '0003_letters'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen here on purpose (db.models.OPEN_PREDICATE must stay equal for the planner to use the index).
OPEN_PREDICATE = "status NOT IN ('closed', 'withdrawn', 'abandoned')"
KEYSET = {
    "ix_application_due_on_id": ["due_on", "id"],
    "ix_application_status_due_on_id": ["status", "due_on", "id"],
    "ix_application_overdue_due_on_id": ["overdue", "due_on", "id"],
    "ix_application_handler_due_on_id": ["handler", "due_on", "id"],
    "ix_application_department_due_on_id": ["department", "due_on", "id"],
}
REPLACED = {
    "ix_application_due_on": ["due_on"],
    "ix_application_status": ["status"],
    "ix_application_overdue": ["overdue"],
    "ix_application_handler": ["handler"],
    "ix_application_department": ["department"],
    "ix_application_status_due_on": ["status", "due_on"],
}


def upgrade() -> None:
    for name, columns in KEYSET.items():
        op.create_index(name, "application", columns, if_not_exists=True)
    op.create_index("ix_application_open_due_on_id", "application", ["due_on", "id"], if_not_exists=True,
                    postgresql_where=sa.text(OPEN_PREDICATE), sqlite_where=sa.text(OPEN_PREDICATE))
    for name in REPLACED:
        op.drop_index(name, table_name="application", if_exists=True)


def downgrade() -> None:
    for name, columns in REPLACED.items():
        op.create_index(name, "application", columns)
    op.drop_index("ix_application_open_due_on_id", table_name="application")
    for name in KEYSET:
        op.drop_index(name, table_name="application")
