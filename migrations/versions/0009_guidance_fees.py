"""Fees: applicants' identities (按件计收 counted from the database) and fee records (annual report)

Revision ID: 0009_guidance_fees
Revises: 0008_proactive
Create Date: 2026-11-30

Issue 11 point 12. Applications registered before this revision have no identity row: their applicants'
earlier applications of the month are not counted (the count is shown with the list it is based on).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0009_guidance_fees'
down_revision: str | Sequence[str] | None = '0008_proactive'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('applicant_identity',
    sa.Column('application_id', sa.String(length=40), nullable=False),
    sa.Column('identity', sa.String(length=40), nullable=False),
    sa.Column('received_on', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['application.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('application_id')
    )
    op.create_index('ix_applicant_identity_identity_received', 'applicant_identity',
                    ['identity', 'received_on', 'application_id'], unique=False)
    op.create_table('fee_record',
    sa.Column('application_id', sa.String(length=40), nullable=False),
    sa.Column('standard', sa.String(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('amount_yuan', sa.Integer(), nullable=False),
    sa.Column('decision', sa.String(), nullable=False),
    sa.Column('notice_sent_on', sa.Date(), nullable=True),
    sa.Column('pay_by', sa.Date(), nullable=True),
    sa.Column('paid_on', sa.Date(), nullable=True),
    sa.Column('waived', sa.Boolean(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['application.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('application_id')
    )


def downgrade() -> None:
    op.drop_table('fee_record')
    op.drop_index('ix_applicant_identity_identity_received', table_name='applicant_identity')
    op.drop_table('applicant_identity')
