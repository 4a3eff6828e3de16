"""The test plugin's panel votes.

Revision ID: testplugin_0001
Revises:
Create Date: 2026-12-01 10:00:00
"""
from alembic import op
import sqlalchemy as sa
import grants.db


revision = 'testplugin_0001'
down_revision = None
branch_labels = ('testplugin',)
# the tables its foreign keys name (applications, users) come with grants' first revision
depends_on = '0001'


def upgrade():
    op.create_table(
        'testplugin_panel_votes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('application_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('vote', sa.String(length=10), nullable=False),
        sa.Column('cast_at', grants.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['application_id'], ['applications.id'],
                                name=op.f('fk_testplugin_panel_votes_application_id_applications'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_testplugin_panel_votes_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_testplugin_panel_votes')),
        sa.UniqueConstraint('application_id', 'user_id', name=op.f('uq_testplugin_panel_votes_application_id')),
    )
    with op.batch_alter_table('testplugin_panel_votes') as batch_op:
        batch_op.create_index(batch_op.f('ix_testplugin_panel_votes_application_id'), ['application_id'], unique=False)


def downgrade():
    op.drop_table('testplugin_panel_votes')
