"""An index on applications (state, submitted_at, id): "My tasks" lists the applications
to screen in every round an officer runs, oldest first; with it the database reads them
in that order until the page is full, instead of reading and sorting every submitted
application of those rounds.

Revision ID: 0026_screening_index
Revises: 0025_workflow_indexes
"""
from alembic import op


revision = '0026_screening_index'
down_revision = '0025_workflow_indexes'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_applications_state_submitted", "applications", ["state", "submitted_at", "id"])


def downgrade():
    op.drop_index("ix_applications_state_submitted", table_name="applications")
