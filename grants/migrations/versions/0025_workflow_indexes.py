"""An index on (workflow_id, workflow_version, state, id) of each workflow table that
``workflow_state_counts`` does not count (rounds, awards, tranches, reports): the workflow
editor's move page finds the versions in use with a DISTINCT read from it and the first
objects of each state from one range of it, instead of reading every row.  Applications
need none: their counters (0024) answer the same questions.

Revision ID: 0025_workflow_indexes
Revises: 0024_state_counts
"""
from alembic import op


revision = '0025_workflow_indexes'
down_revision = '0024_state_counts'
branch_labels = None
depends_on = None

TABLES = ("rounds", "awards", "tranches", "reports")


def upgrade():
    for table in TABLES:
        op.create_index(f"ix_{table}_workflow", table, ["workflow_id", "workflow_version", "state", "id"])


def downgrade():
    for table in reversed(TABLES):
        op.drop_index(f"ix_{table}_workflow", table_name=table)
