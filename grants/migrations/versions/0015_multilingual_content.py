"""Content in every language: a programme names the languages its content is written in
and its default; programmes, rounds, tiers, budget lines and indicators keep every
language of their texts in a ``translations`` JSON column (grants.multilingual); the
programme gets a row version (its edit page is guarded like the others).

Existing texts become the default language's (English, as every programme so far wrote
its content in grants' own language): their columns stay as they are, and
``translations`` records them under "en".

Revision ID: 0015_multilingual_content
Revises: 0009_text_limits
"""
from alembic import op
import sqlalchemy as sa


revision = '0015_multilingual_content'
down_revision = '0013_workflow_versions'  # one line of history: the parallel branches of this release, in order
branch_labels = None
depends_on = None

#: table -> its multilingual columns
TEXTS = {
    "programmes": ("title", "description"),
    "rounds": ("title",),
    "round_tiers": ("name",),
    "budget_lines": ("category",),
    "indicators": ("title", "unit"),
}
EXISTING_LANGUAGE = "en"


def upgrade():
    with op.batch_alter_table('programmes') as batch_op:
        batch_op.add_column(sa.Column('languages', sa.JSON(), nullable=False, server_default=sa.text("'[]'")))
        batch_op.add_column(sa.Column('default_language', sa.String(length=8), nullable=False,
                                      server_default=EXISTING_LANGUAGE))
        batch_op.add_column(sa.Column('row_version', sa.Integer(), nullable=False, server_default=sa.text('1')))
    for table in TEXTS:
        with op.batch_alter_table(table) as batch_op:
            batch_op.add_column(sa.Column('translations', sa.JSON(), nullable=False, server_default=sa.text("'{}'")))

    bind = op.get_bind()
    programmes = sa.table("programmes", sa.column("id"), sa.column("languages", sa.JSON()))
    bind.execute(programmes.update().values(languages=[EXISTING_LANGUAGE]))
    for table, fields in TEXTS.items():
        rows = sa.table(table, sa.column("id"), sa.column("translations", sa.JSON()), *map(sa.column, fields))
        for row in bind.execute(sa.select(rows)).mappings().all():
            translations = {field: {EXISTING_LANGUAGE: row[field]} for field in fields if row[field]}
            if translations:
                bind.execute(rows.update().where(rows.c.id == row["id"]).values(translations=translations))


def downgrade():
    for table in TEXTS:
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_column('translations')
    with op.batch_alter_table('programmes') as batch_op:
        batch_op.drop_column('row_version')
        batch_op.drop_column('default_language')
        batch_op.drop_column('languages')
