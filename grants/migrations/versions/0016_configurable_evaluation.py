"""Evaluation criteria and survey instruments configured in the browser: a programme's
criteria sets are versioned data (a draft is edited, publishing freezes it, a copy starts
the next version), a round chooses its set, and each assessment keeps the set it was
scored with; a programme's own survey instruments are drafts until published.

Revision ID: 0016_configurable_evaluation
Revises: 0013_workflow_versions
"""
from alembic import op
import sqlalchemy as sa

import grants.db


revision = '0016_configurable_evaluation'
down_revision = '0015_multilingual_content'  # one line of history: the parallel branches of this release, in order
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'evaluation_criteria_sets',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('title', sa.String(length=300), nullable=False),
        sa.Column('criteria', sa.JSON(), nullable=False),
        sa.Column('source', sa.String(length=100), nullable=True),
        sa.Column('programme_id', sa.Integer(), nullable=True),
        sa.Column('family_id', sa.Integer(), nullable=True),
        sa.Column('version', sa.Integer(), server_default='1', nullable=False),
        sa.Column('status', sa.String(length=20), server_default='published', nullable=False),
        sa.Column('created_at', grants.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('published_at', grants.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('row_version', sa.Integer(), server_default='1', nullable=False),
        sa.ForeignKeyConstraint(['programme_id'], ['programmes.id'],
                                name=op.f('fk_evaluation_criteria_sets_programme_id_programmes'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_evaluation_criteria_sets')),
    )
    op.create_index(op.f('ix_evaluation_criteria_sets_programme_id'), 'evaluation_criteria_sets', ['programme_id'])
    with op.batch_alter_table('rounds') as batch_op:
        batch_op.add_column(sa.Column('evaluation_criteria_id', sa.Integer(), nullable=True))
    # Assessments written before this revision keep reading their round's criteria (NULL).
    with op.batch_alter_table('assessments') as batch_op:
        batch_op.add_column(sa.Column('criteria_set_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(op.f('fk_assessments_criteria_set_id_evaluation_criteria_sets'),
                                    'evaluation_criteria_sets', ['criteria_set_id'], ['id'], ondelete='SET NULL')
    # Instruments stored before this revision came from code: published, of no programme.
    with op.batch_alter_table('survey_instruments') as batch_op:
        batch_op.add_column(sa.Column('programme_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('status', sa.String(length=20), nullable=False,
                                      server_default=sa.text("'published'")))
        batch_op.add_column(sa.Column('published_at', grants.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('row_version', sa.Integer(), nullable=False, server_default=sa.text('1')))
        batch_op.create_foreign_key(op.f('fk_survey_instruments_programme_id_programmes'), 'programmes',
                                    ['programme_id'], ['id'], ondelete='CASCADE')
        batch_op.create_index(op.f('ix_survey_instruments_programme_id'), ['programme_id'])


def downgrade():
    with op.batch_alter_table('survey_instruments') as batch_op:
        batch_op.drop_index(op.f('ix_survey_instruments_programme_id'))
        batch_op.drop_constraint(op.f('fk_survey_instruments_programme_id_programmes'), type_='foreignkey')
        for column in ('row_version', 'published_at', 'status', 'programme_id'):
            batch_op.drop_column(column)
    with op.batch_alter_table('assessments') as batch_op:
        batch_op.drop_constraint(op.f('fk_assessments_criteria_set_id_evaluation_criteria_sets'), type_='foreignkey')
        batch_op.drop_column('criteria_set_id')
    with op.batch_alter_table('rounds') as batch_op:
        batch_op.drop_column('evaluation_criteria_id')
    op.drop_index(op.f('ix_evaluation_criteria_sets_programme_id'), table_name='evaluation_criteria_sets')
    op.drop_table('evaluation_criteria_sets')
