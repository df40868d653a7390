"""agency: the agencies on the platform; staff, applications and the number counter belong to one (issue 25)

An installation that served one agency upgrades in place: its agency record is made from the settings at start
(services/agencies.py ensure_first_agency), and every existing row becomes that agency's here
(DISCLOSURE_AGENCY_CODE, default "main", as core/config.py reads it). Nothing is renumbered.

Revision ID: 0030_agencies
Revises: 0023_release_seal
Create Date: 2026-12-07
"""

import os
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0030_agencies'
down_revision: str | Sequence[str] | None = '0023_release_seal'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FIRST = os.environ.get("DISCLOSURE_AGENCY_CODE", "").strip() or "main"


def _columns(table: str) -> set[str]:
    return {c["name"] for c in sa.inspect(op.get_bind()).get_columns(table)}


def upgrade() -> None:
    op.create_table('agency',
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('region', sa.String(length=100), nullable=False),
    sa.Column('number_prefix', sa.String(length=40), nullable=False),
    sa.Column('number_pattern', sa.String(length=60), nullable=False),
    sa.Column('document_number_prefix', sa.String(length=40), nullable=False),
    sa.Column('reply_period', sa.String(length=30), nullable=False),
    sa.Column('reconsideration_body', sa.String(), nullable=True),
    sa.Column('court', sa.String(), nullable=True),
    sa.Column('complaint_body', sa.String(), nullable=True),
    sa.Column('fee_payment_channel', sa.String(length=20), nullable=True),
    sa.Column('fee_payment_text', sa.String(), nullable=True),
    sa.Column('contact', sa.String(), nullable=False),
    sa.Column('mail_sender', sa.String(length=200), nullable=True),
    sa.Column('letterhead', sa.String(), nullable=True),
    sa.Column('seal_image', sa.String(), nullable=True),
    sa.Column('catalogue_sections', sa.JSON(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('code')
    )
    op.create_index('ix_agency_region', 'agency', ['region'], unique=False)
    op.create_table('application_link',
    sa.Column('from_id', sa.String(length=40), nullable=False),
    sa.Column('to_agency', sa.String(length=20), nullable=False),
    sa.Column('to_id', sa.String(length=40), nullable=False),
    sa.Column('items', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('from_id', 'to_agency')
    )
    op.create_index('ix_application_link_to_id', 'application_link', ['to_id'], unique=False)
    for table in ('application', 'staff_user'):
        if 'agency' in _columns(table):  # a database create_all made from today's models
            continue
        # Filled for the rows there are, then no server default: every writer names the agency (db/tenancy.py).
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column('agency', sa.String(length=20), nullable=False, server_default=FIRST))
        with op.batch_alter_table(table) as batch:
            batch.alter_column('agency', server_default=None)
            batch.create_index(f'ix_{table}_agency', ['agency'], unique=False)
    # The 文号 counter: per agency, series and year (the counts so far are the first agency's).
    if 'agency' not in _columns('document_number_counter'):
        op.create_table('document_number_counter_new',
        sa.Column('agency', sa.String(length=20), nullable=False),
        sa.Column('series', sa.String(length=20), nullable=False),
        sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('last', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('agency', 'series', 'year')
        )
        op.execute(sa.text("INSERT INTO document_number_counter_new (agency, series, year, last) "
                           "SELECT :first, series, year, last FROM document_number_counter").bindparams(first=FIRST))
        op.drop_table('document_number_counter')
        op.rename_table('document_number_counter_new', 'document_number_counter')
    # The counter: per agency and year (the year's count so far is the first agency's).
    if 'agency' in _columns('application_number_counter'):
        return
    op.create_table('application_number_counter_new',
    sa.Column('agency', sa.String(length=20), nullable=False),
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('last', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('agency', 'year')
    )
    op.execute(sa.text("INSERT INTO application_number_counter_new (agency, year, last) "
                       "SELECT :first, year, last FROM application_number_counter").bindparams(first=FIRST))
    op.drop_table('application_number_counter')
    op.rename_table('application_number_counter_new', 'application_number_counter')


def downgrade() -> None:
    # Back to one agency: the first one's count and rows stay; the other agencies' rows would lose their owner, so
    # a platform with more than one agency cannot go back (refused, nothing changed).
    others = op.get_bind().execute(sa.text("SELECT count(*) FROM agency WHERE code <> :first").bindparams(
        first=FIRST)).scalar_one()
    if others:
        raise RuntimeError(f"{others} other agencies on the platform: cannot downgrade to a single agency")
    op.create_table('application_number_counter_old',
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('last', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('year')
    )
    op.execute(sa.text("INSERT INTO application_number_counter_old (year, last) "
                       "SELECT year, last FROM application_number_counter WHERE agency = :first").bindparams(first=FIRST))
    op.drop_table('application_number_counter')
    op.rename_table('application_number_counter_old', 'application_number_counter')
    op.create_table('document_number_counter_old',
    sa.Column('series', sa.String(length=20), nullable=False),
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('last', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('series', 'year')
    )
    op.execute(sa.text("INSERT INTO document_number_counter_old (series, year, last) "
                       "SELECT series, year, last FROM document_number_counter WHERE agency = :first").bindparams(first=FIRST))
    op.drop_table('document_number_counter')
    op.rename_table('document_number_counter_old', 'document_number_counter')
    for table in ('staff_user', 'application'):
        with op.batch_alter_table(table) as batch:
            batch.drop_index(f'ix_{table}_agency')
            batch.drop_column('agency')
    op.drop_index('ix_application_link_to_id', table_name='application_link')
    op.drop_table('application_link')
    op.drop_index('ix_agency_region', table_name='agency')
    op.drop_table('agency')
