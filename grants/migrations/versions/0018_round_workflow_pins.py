"""A round may pin the released version of a workflow edited in the browser that its new
objects run: ``rounds.workflow_pins`` (family -> version; empty: the newest version).

Revision ID: 0018_round_workflow_pins
Revises: 0017_issue11_gaps
"""
from alembic import op
import sqlalchemy as sa


revision = '0018_round_workflow_pins'
down_revision = '0017_issue11_gaps'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('rounds') as batch_op:
        batch_op.add_column(sa.Column('workflow_pins', sa.JSON(), nullable=False, server_default=sa.text("'{}'")))


def downgrade():
    with op.batch_alter_table('rounds') as batch_op:
        batch_op.drop_column('workflow_pins')
