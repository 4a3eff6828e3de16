"""organisations: another-script name, contacts, who registered it, and its regions

Revision ID: 0003_organisations
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa


revision = "0003_organisations"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("organisations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("alternative_name", sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column("contact_email", sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column("contact_phone", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("created_by_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(op.f("fk_organisations_created_by_id_users"), "users", ["created_by_id"], ["id"],
                                    ondelete="SET NULL")

    op.create_table(
        "organisation_regions",
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("region_code", sa.String(length=10), nullable=False),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisations.id"],
                                name=op.f("fk_organisation_regions_organisation_id_organisations"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("organisation_id", "region_code", name=op.f("pk_organisation_regions")),
    )
    with op.batch_alter_table("organisation_regions", schema=None) as batch_op:
        batch_op.create_index("ix_organisation_regions_region_code", ["region_code"], unique=False)


def downgrade():
    with op.batch_alter_table("organisation_regions", schema=None) as batch_op:
        batch_op.drop_index("ix_organisation_regions_region_code")
    op.drop_table("organisation_regions")

    with op.batch_alter_table("organisations", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("fk_organisations_created_by_id_users"), type_="foreignkey")
        batch_op.drop_column("created_by_id")
        batch_op.drop_column("contact_phone")
        batch_op.drop_column("contact_email")
        batch_op.drop_column("alternative_name")
