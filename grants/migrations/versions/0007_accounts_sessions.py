"""Accounts: sessions in the database, sign-in counts per account and per client (replacing
the log of failed sign-ins), and invitations to join an organisation.

Revision ID: 0007_accounts_sessions
Revises: 0006_plugin_scope
"""
from alembic import op
import sqlalchemy as sa
import grants.db


revision = '0007_accounts_sessions'  # alembic_version holds 32 characters
down_revision = '0006_plugin_scope'  # one line of history: the parallel branches of this release, in order
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'web_sessions',
        sa.Column('id_hash', sa.String(length=64), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('data', sa.Text(), nullable=False),
        sa.Column('created_at', grants.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('last_seen_at', grants.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('expires_at', grants.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_web_sessions_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id_hash', name=op.f('pk_web_sessions')),
    )
    with op.batch_alter_table('web_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_web_sessions_user_id'), ['user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_web_sessions_expires_at'), ['expires_at'], unique=False)

    op.create_table(
        'sign_in_throttles',
        sa.Column('key', sa.String(length=300), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('window_started_at', grants.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('key', name=op.f('pk_sign_in_throttles')),
    )
    with op.batch_alter_table('sign_in_throttles', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sign_in_throttles_window_started_at'), ['window_started_at'],
                              unique=False)

    # Counted afresh in sign_in_throttles; a quarter of an hour of history is not worth carrying over.
    with op.batch_alter_table('login_attempts', schema=None) as batch_op:
        batch_op.drop_index('ix_login_attempts_email_at')
    op.drop_table('login_attempts')

    op.create_table(
        'organisation_invitations',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('organisation_id', sa.Integer(), nullable=False),
        sa.Column('email', sa.String(length=254), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('locale', sa.String(length=8), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('invited_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', grants.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('expires_at', grants.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('accepted_at', grants.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('declined_at', grants.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('cancelled_at', grants.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['invited_by_id'], ['users.id'],
                                name=op.f('fk_organisation_invitations_invited_by_id_users'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'],
                                name=op.f('fk_organisation_invitations_organisation_id_organisations'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_organisation_invitations')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_organisation_invitations_token_hash')),
    )
    with op.batch_alter_table('organisation_invitations', schema=None) as batch_op:
        batch_op.create_index('ix_organisation_invitations_organisation_email', ['organisation_id', 'email'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('organisation_invitations', schema=None) as batch_op:
        batch_op.drop_index('ix_organisation_invitations_organisation_email')
    op.drop_table('organisation_invitations')

    op.create_table(
        'login_attempts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('email', sa.String(length=254), nullable=False),
        sa.Column('at', grants.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_login_attempts')),
    )
    with op.batch_alter_table('login_attempts', schema=None) as batch_op:
        batch_op.create_index('ix_login_attempts_email_at', ['email', 'at'], unique=False)

    with op.batch_alter_table('sign_in_throttles', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sign_in_throttles_window_started_at'))
    op.drop_table('sign_in_throttles')

    with op.batch_alter_table('web_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_web_sessions_expires_at'))
        batch_op.drop_index(batch_op.f('ix_web_sessions_user_id'))
    op.drop_table('web_sessions')
