"""Indexes for the lists of a round (grants.listing): a round's applications in the order
they were submitted (screening), without reading every application of every round.

Revision ID: 0020_list_indexes
Revises: 0019_instrument_titles
"""
from alembic import op


revision = '0020_list_indexes'
down_revision = '0019_instrument_titles'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_applications_round_submitted', 'applications', ['round_id', 'submitted_at', 'id'])


def downgrade():
    op.drop_index('ix_applications_round_submitted', table_name='applications')
