"""How many of a round's applications are in each state now (``workflow_state_counts``),
kept by triggers on ``applications`` so the round page's funnel is one short read at any
size of round, made here from the rows already there.

Why triggers, when the "ever reached" counts (0023) are kept by the fire in Python: the
current state of a row changes on more paths than a fire — creation, ``grants workflow
migrate`` (state and version), bulk inserts, deletion, plain SQL — and a count that
misses one path is wrong for good.  A trigger sees every one of them, in the statement
that makes the change.

Revision ID: 0024_state_counts
Revises: 0023_page_counts
"""
from alembic import op
import sqlalchemy as sa


revision = '0024_state_counts'
down_revision = '0023_page_counts'
branch_labels = None
depends_on = None

KEY = "object_type, group_id, workflow_id, workflow_version, state"
CHANGED = ("OLD.round_id IS DISTINCT FROM NEW.round_id OR OLD.workflow_id IS DISTINCT FROM NEW.workflow_id "
           "OR OLD.workflow_version IS DISTINCT FROM NEW.workflow_version OR OLD.state IS DISTINCT FROM NEW.state")


def _add(row: str, n: int) -> str:
    """One INSERT … ON CONFLICT adding ``n`` to the counter of ``row`` (OLD or NEW)."""
    return (f"INSERT INTO workflow_state_counts ({KEY}, n) VALUES ('applications', {row}.round_id, "
            f"{row}.workflow_id, {row}.workflow_version, {row}.state, {n}) "
            f"ON CONFLICT ({KEY}) DO UPDATE SET n = workflow_state_counts.n + ({n});")


def upgrade():
    op.create_table(
        'workflow_state_counts',
        sa.Column('object_type', sa.String(length=64), nullable=False),
        sa.Column('group_id', sa.Integer(), nullable=False),
        sa.Column('workflow_id', sa.String(length=64), nullable=False),
        sa.Column('workflow_version', sa.Integer(), nullable=False),
        sa.Column('state', sa.String(length=64), nullable=False),
        sa.Column('n', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('object_type', 'group_id', 'workflow_id', 'workflow_version', 'state',
                                name=op.f('pk_workflow_state_counts')),
    )
    op.execute(f"""
        INSERT INTO workflow_state_counts ({KEY}, n)
        SELECT 'applications', round_id, workflow_id, workflow_version, state, count(*)
        FROM applications GROUP BY round_id, workflow_id, workflow_version, state
    """)
    if op.get_bind().dialect.name == "postgresql":
        # A move takes its two counter rows in the order of their states, so two moves the
        # opposite way between the same states wait for each other instead of deadlocking.
        op.execute(f"""
            CREATE FUNCTION applications_count_states() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF TG_OP = 'INSERT' THEN
                    {_add("NEW", 1)}
                ELSIF TG_OP = 'DELETE' THEN
                    {_add("OLD", -1)}
                ELSIF NEW.state < OLD.state THEN
                    {_add("NEW", 1)}
                    {_add("OLD", -1)}
                ELSE
                    {_add("OLD", -1)}
                    {_add("NEW", 1)}
                END IF;
                RETURN NULL;
            END $$
        """)
        op.execute("CREATE TRIGGER applications_count_states_insert_delete AFTER INSERT OR DELETE ON applications "
                   "FOR EACH ROW EXECUTE FUNCTION applications_count_states()")
        op.execute("CREATE TRIGGER applications_count_states_update "
                   "AFTER UPDATE OF round_id, workflow_id, workflow_version, state ON applications "
                   f"FOR EACH ROW WHEN ({CHANGED}) EXECUTE FUNCTION applications_count_states()")
    else:
        # SQLite has one writer at a time: the order of the two rows does not matter.
        sqlite_changed = CHANGED.replace("IS DISTINCT FROM", "IS NOT")
        op.execute(f"CREATE TRIGGER applications_count_states_insert AFTER INSERT ON applications "
                   f"BEGIN {_add('NEW', 1)} END")
        op.execute(f"CREATE TRIGGER applications_count_states_delete AFTER DELETE ON applications "
                   f"BEGIN {_add('OLD', -1)} END")
        op.execute("CREATE TRIGGER applications_count_states_update "
                   "AFTER UPDATE OF round_id, workflow_id, workflow_version, state ON applications "
                   f"WHEN {sqlite_changed} BEGIN {_add('OLD', -1)} {_add('NEW', 1)} END")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER applications_count_states_update ON applications")
        op.execute("DROP TRIGGER applications_count_states_insert_delete ON applications")
        op.execute("DROP FUNCTION applications_count_states()")
    else:
        for name in ("update", "delete", "insert"):
            op.execute(f"DROP TRIGGER applications_count_states_{name}")
    op.drop_table('workflow_state_counts')
