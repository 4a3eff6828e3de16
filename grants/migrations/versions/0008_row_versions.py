"""Row versions on the rows people edit through forms that had none (theory-of-change
boxes, indicators, assessments, a round's evaluation): each edit form carries the version
it was drawn from, and a stale one is refused instead of undoing someone else's change.

Revision ID: 0008_row_versions
Revises: 0007_accounts_sessions
"""
from alembic import op
import sqlalchemy as sa


revision = '0008_row_versions'
down_revision = '0007_accounts_sessions'  # one line of history: the parallel branches of this release, in order
branch_labels = None
depends_on = None

TABLES = ('toc_elements', 'indicators', 'assessments', 'round_evaluations')


def upgrade():
    for table in TABLES:
        with op.batch_alter_table(table) as batch_op:
            batch_op.add_column(sa.Column('row_version', sa.Integer(), nullable=False, server_default=sa.text('1')))


def downgrade():
    for table in reversed(TABLES):
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_column('row_version')
