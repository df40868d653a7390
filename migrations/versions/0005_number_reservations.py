"""letters: a 文号 is reserved for its letter's key before the PDF is rendered (outside the transaction)

Revision ID: 0005_number_reservations
Revises: 0004_list_keyset_indexes
Create Date: 2026-11-22

Written in 0001's terms (plain VARCHAR, UTCDateTime as DateTime(timezone=True)).
tests/test_migrations.py compares the result with the models. Letters issued before this revision
need no reservation: one is looked up only while a letter has no document yet.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0005_number_reservations'
down_revision: str | Sequence[str] | None = '0004_list_keyset_indexes'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('document_number_reservation',
    sa.Column('key', sa.String(), nullable=False),
    sa.Column('document_number', sa.String(), nullable=False),
    sa.Column('reserved_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key'),
    sa.UniqueConstraint('document_number', name='uq_document_number_reservation_number')
    )


def downgrade() -> None:
    op.drop_table('document_number_reservation')
