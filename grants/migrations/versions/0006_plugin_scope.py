"""Plugins scoped to programmes: the workflow variant a programme or round chooses per
family, the record of every workflow the instance has run (with its plugin), and the
audit of configuration (who changed what, before and after).

Revision ID: 0006_plugin_scope
Revises: 0005_post_award
"""
from alembic import op
import sqlalchemy as sa
import grants.db


revision = '0006_plugin_scope'
down_revision = '0005_post_award'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('programmes') as batch_op:
        batch_op.add_column(sa.Column('workflow_choices', sa.JSON(), nullable=False, server_default=sa.text("'{}'")))
    with op.batch_alter_table('rounds') as batch_op:
        batch_op.add_column(sa.Column('workflow_choices', sa.JSON(), nullable=False, server_default=sa.text("'{}'")))
    op.create_table(
        'installed_workflows',
        sa.Column('workflow_id', sa.String(length=64), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('family', sa.String(length=64), nullable=False),
        sa.Column('origin', sa.String(length=100), nullable=False),
        sa.Column('digest', sa.String(length=64), nullable=False),
        sa.Column('seen_at', grants.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('workflow_id', 'version', name=op.f('pk_installed_workflows')),
    )
    op.create_table(
        'configuration_changes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('object_type', sa.String(length=64), nullable=False),
        sa.Column('object_id', sa.Integer(), nullable=False),
        sa.Column('what', sa.String(length=100), nullable=False),
        sa.Column('before', sa.JSON(), nullable=True),
        sa.Column('after', sa.JSON(), nullable=True),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('at', grants.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_configuration_changes_user_id_users'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_configuration_changes')),
    )
    op.create_index('ix_configuration_changes_object', 'configuration_changes', ['object_type', 'object_id', 'id'])


def downgrade():
    op.drop_index('ix_configuration_changes_object', table_name='configuration_changes')
    op.drop_table('configuration_changes')
    op.drop_table('installed_workflows')
    with op.batch_alter_table('rounds') as batch_op:
        batch_op.drop_column('workflow_choices')
    with op.batch_alter_table('programmes') as batch_op:
        batch_op.drop_column('workflow_choices')
