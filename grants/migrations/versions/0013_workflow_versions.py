"""Workflow variants edited in the browser: one row per version (draft, then released).

Revision ID: 0013_workflow_versions
Revises: 0009_text_limits
"""
from alembic import op
import sqlalchemy as sa

import grants.db


revision = '0013_workflow_versions'
down_revision = '0012_configurable_review'  # one line of history: the parallel branches of this release, in order
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'workflow_versions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('workflow_id', sa.String(length=64), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('family', sa.String(length=64), nullable=False),
        sa.Column('origin', sa.String(length=100), nullable=False),
        sa.Column('copied_from', sa.String(length=100), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('data', sa.JSON(), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', grants.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('released_at', grants.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('row_version', sa.Integer(), server_default='1', nullable=False),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_workflow_versions_created_by_id_users'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_workflow_versions')),
        sa.UniqueConstraint('workflow_id', 'version', name='uq_workflow_versions_workflow_id_version'),
    )


def downgrade():
    op.drop_table('workflow_versions')
