"""A round chooses its second-stage proposal form, as it chooses its application form:
``rounds.proposal_form_version`` (empty: the programme's default proposal form).

Revision ID: 0017_issue11_gaps
Revises: 0015_multilingual_content
"""
from alembic import op
import sqlalchemy as sa


revision = '0017_issue11_gaps'
down_revision = '0016_configurable_evaluation'  # one line of history: the parallel branches of this release, in order
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('rounds') as batch_op:
        batch_op.add_column(sa.Column('proposal_form_version', sa.String(length=40), nullable=True))


def downgrade():
    with op.batch_alter_table('rounds') as batch_op:
        batch_op.drop_column('proposal_form_version')
