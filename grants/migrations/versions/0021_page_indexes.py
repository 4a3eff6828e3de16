"""Indexes that keep a round's pages as fast at 100,000 applications as at 1,000: the
applications of a round by state, of an organisation, and the steps each application
reached (the funnels read them from the index alone).

Revision ID: 0021_page_indexes
Revises: 0020_list_indexes
"""
from alembic import op


revision = '0021_page_indexes'
down_revision = '0020_list_indexes'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_applications_round_state", "applications", ["round_id", "state", "row_version"])
    op.create_index("ix_applications_organisation", "applications", ["organisation_id"])
    op.create_index("ix_workflow_history_reached", "workflow_history",
                    ["object_type", "object_id", "workflow_id", "workflow_version", "to_state"])


def downgrade():
    op.drop_index("ix_workflow_history_reached", table_name="workflow_history")
    op.drop_index("ix_applications_organisation", table_name="applications")
    op.drop_index("ix_applications_round_state", table_name="applications")
