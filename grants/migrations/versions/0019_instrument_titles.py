"""A survey instrument's title in every language of its programme: ``translations``
(grants.multilingual), as programmes, rounds and indicators have.

Existing titles become the text of the default language: of the instrument's programme,
or grants' own language for a code-defined instrument.

Revision ID: 0019_instrument_titles
Revises: 0018_round_workflow_pins
"""
from alembic import op
import sqlalchemy as sa


revision = '0019_instrument_titles'
down_revision = '0018_round_workflow_pins'
branch_labels = None
depends_on = None

SOURCE_LANGUAGE = "en"


def upgrade():
    with op.batch_alter_table('survey_instruments') as batch_op:
        batch_op.add_column(sa.Column('translations', sa.JSON(), nullable=False, server_default=sa.text("'{}'")))

    bind = op.get_bind()
    instruments = sa.table("survey_instruments", sa.column("id"), sa.column("title"), sa.column("programme_id"),
                           sa.column("translations", sa.JSON()))
    programmes = sa.table("programmes", sa.column("id"), sa.column("default_language"))
    defaults = dict(bind.execute(sa.select(programmes.c.id, programmes.c.default_language)).all())
    for row in bind.execute(sa.select(instruments)).mappings().all():
        if row["title"]:
            language = defaults.get(row["programme_id"]) or SOURCE_LANGUAGE
            bind.execute(instruments.update().where(instruments.c.id == row["id"])
                         .values(translations={"title": {language: row["title"]}}))


def downgrade():
    with op.batch_alter_table('survey_instruments') as batch_op:
        batch_op.drop_column('translations')
