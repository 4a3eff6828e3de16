"""programmes: funders and their contributions, plugins; rounds: budget, tiers, eligibility rules

Revision ID: 0002_programmes
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa


revision = "0002_programmes"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "funders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("identifier", sa.String(length=100), nullable=True),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_funders")),
        sa.UniqueConstraint("identifier", name=op.f("uq_funders_identifier")),
    )

    with op.batch_alter_table("programmes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("plugins", sa.JSON(), nullable=False, server_default=sa.text("'[]'")))

    with op.batch_alter_table("rounds", schema=None) as batch_op:
        batch_op.add_column(sa.Column("budget_minor", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("budget_currency", sa.String(length=3), nullable=True))
        batch_op.add_column(sa.Column("application_form_version", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("rubric_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("blind_review", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("eligibility_rules", sa.JSON(), nullable=False,
                                      server_default=sa.text("'[]'")))

    op.create_table(
        "round_tiers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("min_minor", sa.BigInteger(), nullable=False),
        sa.Column("max_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("conditions", sa.Text(), nullable=False),
        sa.Column("match_funding_percent", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["round_id"], ["rounds.id"], name=op.f("fk_round_tiers_round_id_rounds"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_round_tiers")),
    )
    with op.batch_alter_table("round_tiers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_round_tiers_round_id"), ["round_id"], unique=False)

    op.create_table(
        "programme_funders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.Column("funder_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=True),
        sa.Column("amount_minor", sa.BigInteger(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("matches_funder_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["funder_id"], ["funders.id"], name=op.f("fk_programme_funders_funder_id_funders")),
        sa.ForeignKeyConstraint(["matches_funder_id"], ["funders.id"],
                                name=op.f("fk_programme_funders_matches_funder_id_funders")),
        sa.ForeignKeyConstraint(["programme_id"], ["programmes.id"],
                                name=op.f("fk_programme_funders_programme_id_programmes"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["round_id"], ["rounds.id"], name=op.f("fk_programme_funders_round_id_rounds"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_programme_funders")),
    )
    with op.batch_alter_table("programme_funders", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_programme_funders_programme_id"), ["programme_id"], unique=False)


def downgrade():
    with op.batch_alter_table("programme_funders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_programme_funders_programme_id"))
    op.drop_table("programme_funders")
    with op.batch_alter_table("round_tiers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_round_tiers_round_id"))
    op.drop_table("round_tiers")
    with op.batch_alter_table("rounds", schema=None) as batch_op:
        batch_op.drop_column("eligibility_rules")
        batch_op.drop_column("blind_review")
        batch_op.drop_column("rubric_id")
        batch_op.drop_column("application_form_version")
        batch_op.drop_column("budget_currency")
        batch_op.drop_column("budget_minor")
    with op.batch_alter_table("programmes", schema=None) as batch_op:
        batch_op.drop_column("plugins")
    op.drop_table("funders")
