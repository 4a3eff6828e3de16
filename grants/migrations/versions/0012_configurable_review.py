"""Review configured in the browser: rubrics become versioned data of a programme (a draft
is edited, publishing freezes it, a copy starts the next version), each review remembers
the rubric it was scored with, and an evaluator's assessment is submitted (and reopened)
as a step of its own.

Revision ID: 0012_configurable_review
Revises: 0009_text_limits
"""
from alembic import op
import sqlalchemy as sa
import grants.db


revision = '0012_configurable_review'
down_revision = '0011_form_builder'  # one line of history: the parallel branches of this release, in order
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('rubrics') as batch_op:
        batch_op.add_column(sa.Column('programme_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('family_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('version', sa.Integer(), nullable=False, server_default=sa.text('1')))
        # Rubrics stored before this revision came from code: published, in use.
        batch_op.add_column(sa.Column('status', sa.String(length=20), nullable=False,
                                      server_default=sa.text("'published'")))
        batch_op.add_column(sa.Column('published_at', grants.db.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('row_version', sa.Integer(), nullable=False, server_default=sa.text('1')))
        batch_op.create_foreign_key(op.f('fk_rubrics_programme_id_programmes'), 'programmes', ['programme_id'],
                                    ['id'], ondelete='CASCADE')
        batch_op.create_index(op.f('ix_rubrics_programme_id'), ['programme_id'])
    with op.batch_alter_table('reviews') as batch_op:
        batch_op.add_column(sa.Column('rubric_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(op.f('fk_reviews_rubric_id_rubrics'), 'rubrics', ['rubric_id'], ['id'],
                                    ondelete='SET NULL')
    with op.batch_alter_table('assessments') as batch_op:
        batch_op.add_column(sa.Column('submitted_at', grants.db.UTCDateTime(), nullable=True))
    # Assessments written before this revision were already shown to their grantees: submitted.
    op.execute("UPDATE assessments SET submitted_at = updated_at")


def downgrade():
    with op.batch_alter_table('assessments') as batch_op:
        batch_op.drop_column('submitted_at')
    with op.batch_alter_table('reviews') as batch_op:
        batch_op.drop_constraint(op.f('fk_reviews_rubric_id_rubrics'), type_='foreignkey')
        batch_op.drop_column('rubric_id')
    with op.batch_alter_table('rubrics') as batch_op:
        batch_op.drop_index(op.f('ix_rubrics_programme_id'))
        batch_op.drop_constraint(op.f('fk_rubrics_programme_id_programmes'), type_='foreignkey')
        for column in ('row_version', 'published_at', 'status', 'version', 'family_id', 'programme_id'):
            batch_op.drop_column(column)
