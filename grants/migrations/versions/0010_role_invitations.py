"""Roles on a programme or a round are given by invitation: an address is invited to a
role, and the role is given when the person at that address accepts (registering first
if they have no account).

Revision ID: 0010_role_invitations
Revises: 0009_text_limits
"""
from alembic import op
import sqlalchemy as sa

import grants.db


revision = '0010_role_invitations'
down_revision = '0009_text_limits'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'role_invitations',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('role', sa.String(length=40), nullable=False),
        sa.Column('object_type', sa.String(length=64), nullable=False),
        sa.Column('object_id', sa.Integer(), nullable=False),
        sa.Column('email', sa.String(length=254), nullable=False),
        sa.Column('locale', sa.String(length=8), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('invited_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', grants.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('expires_at', grants.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('accepted_at', grants.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('declined_at', grants.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('cancelled_at', grants.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['invited_by_id'], ['users.id'],
                                name=op.f('fk_role_invitations_invited_by_id_users'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_role_invitations')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_role_invitations_token_hash')),
    )
    with op.batch_alter_table('role_invitations', schema=None) as batch_op:
        batch_op.create_index('ix_role_invitations_object', ['object_type', 'object_id'], unique=False)


def downgrade():
    with op.batch_alter_table('role_invitations', schema=None) as batch_op:
        batch_op.drop_index('ix_role_invitations_object')
    op.drop_table('role_invitations')
