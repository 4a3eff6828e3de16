"""Every free-text column gets the length its form allows (reasons, notes and comments
2,000 characters; theory-of-change texts 5,000; accounts, findings and descriptions 20,000;
a report's narrative 50,000), where it had none: the database now refuses what the forms
refuse, instead of keeping text of any length.

Revision ID: 0009_text_limits
Revises: 0008_row_versions
"""
from alembic import op
import sqlalchemy as sa


revision = '0009_text_limits'
down_revision = '0008_row_versions'  # one line of history: the parallel branches of this release, in order
branch_labels = None
depends_on = None

# (table, column, length); every one was TEXT NOT NULL.
COLUMNS = (
    ("library_indicators", "description", 20000),
    ("programmes", "description", 20000),
    ("workflow_history", "comment", 20000),
    ("programme_funders", "note", 2000),
    ("round_evaluations", "findings", 20000),
    ("round_evaluations", "shortcomings", 20000),
    ("round_evaluations", "lessons", 20000),
    ("round_tiers", "conditions", 2000),
    ("awards", "exit_plan", 20000),
    ("awards", "end_rationale", 20000),
    ("decisions", "reason", 2000),
    ("eligibility_checks", "officer_reason", 2000),
    ("incubation_sessions", "notes", 2000),
    ("review_assignments", "conflict_reason", 2000),
    ("score_moderations", "reason", 2000),
    ("selection_overrides", "reason", 2000),
    ("assessments", "summary", 20000),
    ("award_amendments", "reason", 20000),
    ("capacity_scores", "note", 2000),
    ("reports", "narrative", 50000),
    ("toc_elements", "text", 5000),
    ("evidence", "text", 20000),
    ("expenditures", "note", 2000),
    ("indicators", "baseline_missing_reason", 5000),
    ("indicator_values", "text", 20000),
)


def _by_table():
    tables: dict[str, list] = {}
    for table, column, length in COLUMNS:
        tables.setdefault(table, []).append((column, length))
    return tables


def upgrade():
    for table, columns in _by_table().items():
        with op.batch_alter_table(table) as batch_op:
            for column, length in columns:
                batch_op.alter_column(column, type_=sa.String(length), existing_type=sa.Text(),
                                      existing_nullable=False)


def downgrade():
    for table, columns in _by_table().items():
        with op.batch_alter_table(table) as batch_op:
            for column, length in columns:
                batch_op.alter_column(column, type_=sa.Text(), existing_type=sa.String(length),
                                      existing_nullable=False)
