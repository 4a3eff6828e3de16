"""grants' pytest fixtures (grants.testing, the ``pytest11`` entry point) in a plugin's own
suite: a throwaway plugin with a model, a migration and a workflow variant, and a test file
that uses the fixtures, run by pytest in a subprocess as the plugin's author would run it.
On PostgreSQL the subprocess gets a schema of its own in the test database."""
from __future__ import annotations

import re
import sys

from plugin_dist import environment, install_plugin, run

TALLY_INIT = '''
def includeme(config):
    from tally_plugin import models  # noqa: F401

    config.add_role("teller", title="Teller")
    config.add_workflow_variant("tally_round", base="round", title="Round with a tally")
    config.add_migrations("tally_plugin:migrations")
'''

TALLY_MODELS = '''
from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from grants.db import Base


class Tally(Base):
    __tablename__ = "tally_marks"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"))
    count: Mapped[int]
'''

TALLY_MIGRATION = '''
from alembic import op
import sqlalchemy as sa

revision = "tally_0001"
down_revision = None
branch_labels = ("tally",)
depends_on = "0001"


def upgrade():
    op.create_table(
        "tally_marks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["round_id"], ["rounds.id"], name=op.f("fk_tally_marks_round_id_rounds"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tally_marks")),
    )
'''

CONFTEST = '''
import pytest


@pytest.fixture(scope="session")
def grants_plugins():
    return ["tally"]


@pytest.fixture
def grants_site_workflows():
    return {"round": "tally_round"}
'''

TESTS = '''
from sqlalchemy import func, select

from grants.programmes.models import Round
from grants.testing import migration_differences, sign_in
from tally_plugin.models import Tally


def test_1_the_site_uses_the_plugin_and_its_variant(grants_site, grants_registry):
    assert grants_site.programme.plugins == ["tally"]
    assert grants_site.round.workflow_id == "tally_round" and grants_site.round.state == "open"
    with grants_registry.database.transaction() as (_tm, db):
        db.add(Tally(round_id=grants_site.round.id, count=3))


def test_2_each_test_starts_from_empty_tables(grants_db):
    assert grants_db.scalar(select(func.count()).select_from(Tally)) == 0
    assert grants_db.scalar(select(func.count()).select_from(Round)) == 0


def test_3_people_sign_in_on_the_real_app(grants_site, grants_testapp):
    page = sign_in(grants_testapp, grants_site.officer.email)
    assert page.status_int == 200
    round_page = grants_testapp.get(f"/programmes/{grants_site.programme.id}/rounds/{grants_site.round.id}/")
    assert grants_site.round.title in round_page


def test_4_settings_enable_the_plugin_and_the_database_has_its_table(grants_settings, grants_registry):
    assert grants_settings["grants.plugins"] == "tally"
    assert migration_differences(grants_registry, "tally") == []


def test_5_a_plain_test_asks_for_nothing():
    assert True
'''


def test_a_plugins_own_suite_runs_on_the_public_fixtures(tmp_path, grants_empty_database_url, database_url):
    site = install_plugin(tmp_path / "site", "tally", "tally_plugin", {
        "tally_plugin/__init__.py": TALLY_INIT,
        "tally_plugin/models.py": TALLY_MODELS,
        "tally_plugin/migrations/versions/tally_0001_marks.py": TALLY_MIGRATION,
    })
    project = tmp_path / "tally"
    (project / "tests").mkdir(parents=True)
    (project / "tests/conftest.py").write_text(CONFTEST)
    (project / "tests/test_tally.py").write_text(TESTS)
    extra = {"GRANTS_TEST_DATABASE_URL": grants_empty_database_url} if database_url.startswith("postgresql") else {}
    env = environment(site, **extra)
    if not extra:
        env.pop("GRANTS_TEST_DATABASE_URL", None)
    proc = run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"], env=env, cwd=project)
    assert proc.returncode == 0, proc.stdout[-5000:] + proc.stderr[-3000:]
    assert re.search(r"^5 passed", proc.stdout, re.M), proc.stdout[-2000:]


def test_the_fixtures_are_listed_and_leave_other_suites_alone(tmp_path):
    # Loaded in every run, the fixtures import neither the web framework nor the database
    # layer until a test asks for one of them.
    (tmp_path / "test_other.py").write_text(
        "import sys\n\n\ndef test_nothing_of_grants():\n"
        "    assert 'grants.testing' in sys.modules\n"
        "    assert not {'pyramid', 'sqlalchemy', 'grants.db'} & set(sys.modules)\n")
    env = environment(tmp_path)
    listed = run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--fixtures"], env=env, cwd=tmp_path)
    names = set(re.findall(r"^(grants_\w+)", listed.stdout, re.M))
    assert {"grants_database", "grants_settings", "grants_app", "grants_testapp", "grants_db", "grants_site",
            "grants_live_server", "grants_page", "grants_empty_database_url"} <= names
    proc = run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], env=env, cwd=tmp_path)
    assert proc.returncode == 0 and re.search(r"^1 passed", proc.stdout, re.M), proc.stdout
