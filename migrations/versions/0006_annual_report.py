"""annual report: report-grade records, remedies register, report versions, assessment, accountability

Revision ID: 0006_annual_report
Revises: 0005_number_reservations
Create Date: 2026-11-30

Written in 0001's terms (plain VARCHAR, UTCDateTime as DateTime(timezone=True)). The report-grade
records and the published report versions are append-only: triggers refuse UPDATE and DELETE (as on
audit_event). Applications signed before this revision have no report-grade record (see README).
The index (received_on, applicant_type, id) on `application` counts table 三's rows 一, 二 and 四.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0006_annual_report'
down_revision: str | Sequence[str] | None = '0005_number_reservations'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
APPEND_ONLY = ("application_report_record", "annual_report_version")


def timestamp() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _append_only(table: str) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"""
            CREATE FUNCTION {table}_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION '{table} is append-only'; END $$
        """)
        op.execute(f"""
            CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
            FOR EACH ROW EXECUTE FUNCTION {table}_append_only()
        """)
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(f"""
                CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table}
                BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END
            """)


def _drop_append_only(table: str) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        op.execute(f"DROP FUNCTION IF EXISTS {table}_append_only()")


def upgrade() -> None:
    op.create_table('accountability_case',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(), nullable=True),
    sa.Column('department', sa.String(length=100), nullable=False),
    sa.Column('handler', sa.String(), nullable=True),
    sa.Column('application_id', sa.String(), nullable=True),
    sa.Column('ground', sa.String(), nullable=False),
    sa.Column('source', sa.String(), nullable=False),
    sa.Column('description', sa.String(), nullable=False),
    sa.Column('level', sa.String(), nullable=False),
    sa.Column('status', sa.String(), nullable=False),
    sa.Column('outcome', sa.String(), nullable=True),
    sa.Column('steps', JSON_DOCUMENT, nullable=False),
    sa.Column('raised_by', sa.String(), nullable=False),
    sa.Column('raised_at', timestamp(), nullable=False),
    sa.Column('closed_at', timestamp(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('key', name='uq_accountability_case_key')
    )
    with op.batch_alter_table('accountability_case', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_accountability_case_department'), ['department'], unique=False)

    op.create_table('annual_report_draft',
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('content', JSON_DOCUMENT, nullable=False),
    sa.Column('updated_by', sa.String(), nullable=False),
    sa.Column('updated_at', timestamp(), nullable=False),
    sa.PrimaryKeyConstraint('year')
    )
    op.create_table('annual_report_version',
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('version', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('reason', sa.String(), nullable=True),
    sa.Column('report', JSON_DOCUMENT, nullable=False),
    sa.Column('published_by', sa.String(), nullable=False),
    sa.Column('published_at', timestamp(), nullable=False),
    sa.PrimaryKeyConstraint('year', 'version')
    )
    op.create_table('application_report_record',
    sa.Column('application_id', sa.String(length=40), nullable=False),
    sa.Column('ending', sa.String(), nullable=False),
    sa.Column('received_on', sa.Date(), nullable=False),
    sa.Column('applicant_type', sa.String(), nullable=False),
    sa.Column('department', sa.String(), nullable=True),
    sa.Column('handler', sa.String(), nullable=True),
    sa.Column('replied_on', sa.Date(), nullable=True),
    sa.Column('concluded_on', sa.Date(), nullable=False),
    sa.Column('outcome', sa.String(), nullable=False),
    sa.Column('item_outcomes', JSON_DOCUMENT, nullable=False),
    sa.Column('due_on', sa.Date(), nullable=True),
    sa.Column('on_time', sa.Boolean(), nullable=True),
    sa.Column('extended', sa.Boolean(), nullable=False),
    sa.Column('review_returns', sa.Integer(), nullable=False),
    sa.Column('signed_by', sa.String(), nullable=True),
    sa.Column('recorded_at', timestamp(), nullable=False),
    sa.PrimaryKeyConstraint('application_id')
    )
    with op.batch_alter_table('application_report_record', schema=None) as batch_op:
        batch_op.create_index('ix_report_record_concluded', ['concluded_on', 'applicant_type', 'outcome', 'replied_on', 'on_time'], unique=False)
        batch_op.create_index('ix_report_record_application_concluded', ['application_id', 'concluded_on'], unique=False)
        batch_op.create_index('ix_report_record_replied', ['replied_on', 'department', 'handler', 'on_time', 'extended', 'review_returns'], unique=False)

    op.create_table('assessment_manual_score',
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('department', sa.String(length=100), nullable=False),
    sa.Column('criterion', sa.String(length=40), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('note', sa.String(), nullable=False),
    sa.Column('scored_by', sa.String(), nullable=False),
    sa.Column('scored_at', timestamp(), nullable=False),
    sa.PrimaryKeyConstraint('year', 'department', 'criterion')
    )
    op.create_table('assessment_scheme',
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('scheme', JSON_DOCUMENT, nullable=False),
    sa.Column('updated_by', sa.String(), nullable=False),
    sa.Column('updated_at', timestamp(), nullable=False),
    sa.PrimaryKeyConstraint('year')
    )
    op.create_table('remedy_case',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.String(length=40), nullable=False),
    sa.Column('kind', sa.String(), nullable=False),
    sa.Column('filed_on', sa.Date(), nullable=False),
    sa.Column('authority', sa.String(), nullable=False),
    sa.Column('case_number', sa.String(), nullable=False),
    sa.Column('result', sa.String(), nullable=True),
    sa.Column('concluded_on', sa.Date(), nullable=True),
    sa.Column('note', sa.String(), nullable=False),
    sa.Column('created_by', sa.String(), nullable=False),
    sa.Column('created_at', timestamp(), nullable=False),
    sa.Column('updated_by', sa.String(), nullable=True),
    sa.Column('updated_at', timestamp(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('remedy_case', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_remedy_case_application_id'), ['application_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_remedy_case_filed_on'), ['filed_on'], unique=False)

    # IF NOT EXISTS: a database made by `create_all` from today's models (adopted at 0001) has it already.
    op.create_index('ix_application_received_on_applicant_type', 'application', ['received_on', 'applicant_type', 'id'],
                    unique=False, if_not_exists=True)
    for table in APPEND_ONLY:
        _append_only(table)



def downgrade() -> None:
    for table in APPEND_ONLY:
        _drop_append_only(table)
    op.drop_index('ix_application_received_on_applicant_type', table_name='application', if_exists=True)

    with op.batch_alter_table('remedy_case', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_remedy_case_filed_on'))
        batch_op.drop_index(batch_op.f('ix_remedy_case_application_id'))

    op.drop_table('remedy_case')
    op.drop_table('assessment_scheme')
    op.drop_table('assessment_manual_score')
    with op.batch_alter_table('application_report_record', schema=None) as batch_op:
        batch_op.drop_index('ix_report_record_replied')
        batch_op.drop_index('ix_report_record_concluded')
        batch_op.drop_index('ix_report_record_application_concluded')

    op.drop_table('application_report_record')
    op.drop_table('annual_report_version')
    op.drop_table('annual_report_draft')
    with op.batch_alter_table('accountability_case', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_accountability_case_department'))

    op.drop_table('accountability_case')
