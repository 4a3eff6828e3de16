"""Forms built in the browser: a programme's forms and their versions (draft or
published), whose content is JSON (grants.applications.builder).

Revision ID: 0011_form_builder
Revises: 0009_text_limits
"""
from alembic import op
import sqlalchemy as sa

import grants.db

revision = '0011_form_builder'
down_revision = '0010_role_invitations'  # one line of history: the parallel branches of this release, in order
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "built_forms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("stage", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(["programme_id"], ["programmes.id"],
                                name=op.f("fk_built_forms_programme_id_programmes")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_built_forms")),
        sa.UniqueConstraint("key", name=op.f("uq_built_forms_key")),
    )
    with op.batch_alter_table("built_forms") as batch_op:
        batch_op.create_index(batch_op.f("ix_built_forms_programme_id"), ["programme_id"], unique=False)
    op.create_table(
        "built_form_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("form_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("published_at", grants.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("row_version", sa.Integer(), server_default="1", nullable=False),
        sa.ForeignKeyConstraint(["form_id"], ["built_forms.id"], name=op.f("fk_built_form_versions_form_id_built_forms")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_built_form_versions")),
        sa.UniqueConstraint("form_id", "number", name=op.f("uq_built_form_versions_form_id")),
    )


def downgrade():
    op.drop_table("built_form_versions")
    with op.batch_alter_table("built_forms") as batch_op:
        batch_op.drop_index(batch_op.f("ix_built_forms_programme_id"))
    op.drop_table("built_forms")
