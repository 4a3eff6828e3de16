"""Counts kept as they change, so the round page costs the same at any size: how many
applications of a round ever reached each state (``workflow_reached_counts``, kept as the
history is written) and how many come from organisations working in each region
(``round_region_counts``, kept as applications are made and organisations change their
regions).  Both are made here from the rows already there.

Revision ID: 0023_page_counts
Revises: 0022_mail_outbox
"""
from alembic import op
import sqlalchemy as sa


revision = '0023_page_counts'
down_revision = '0022_mail_outbox'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'workflow_reached_counts',
        sa.Column('object_type', sa.String(length=64), nullable=False),
        sa.Column('group_id', sa.Integer(), nullable=False),
        sa.Column('state', sa.String(length=64), nullable=False),
        sa.Column('n', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('object_type', 'group_id', 'state', name=op.f('pk_workflow_reached_counts')),
    )
    op.create_table(
        'round_region_counts',
        sa.Column('round_id', sa.Integer(), nullable=False),
        sa.Column('region_code', sa.String(length=10), nullable=False),
        sa.Column('n', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['round_id'], ['rounds.id'], name=op.f('fk_round_region_counts_round_id_rounds')),
        sa.PrimaryKeyConstraint('round_id', 'region_code', name=op.f('pk_round_region_counts')),
    )
    # What the round page counted on each visit until now, counted once.  Applications
    # are the one kind counted by group (``__reached_counted_by__ = "round_id"``).
    op.execute("""
        INSERT INTO workflow_reached_counts (object_type, group_id, state, n)
        SELECT 'applications', a.round_id, h.to_state, count(DISTINCT a.id)
        FROM workflow_history h JOIN applications a ON a.id = h.object_id
        WHERE h.object_type = 'applications'
        GROUP BY a.round_id, h.to_state
    """)
    # An organisation naming no region counts under '' (grants.applications.models.NO_REGION).
    op.execute("""
        INSERT INTO round_region_counts (round_id, region_code, n)
        SELECT a.round_id, coalesce(r.region_code, ''), count(DISTINCT a.id)
        FROM applications a LEFT JOIN organisation_regions r ON r.organisation_id = a.organisation_id
        GROUP BY a.round_id, coalesce(r.region_code, '')
    """)


def downgrade():
    op.drop_table('round_region_counts')
    op.drop_table('workflow_reached_counts')
