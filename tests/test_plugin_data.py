"""A plugin's own data: models on grants' metadata, migrations on a branch of the plugin's
own (``config.add_migrations``), `grants initdb` upgrading every enabled plugin's branch, and
`grants db revision` comparing only the tables of its owner — grants', or one plugin's with
``--plugin`` — so that it never drops or alters a table it does not own.

The commands run as real subprocesses on a database of their own (a new SQLite file, or a
schema of its own in the PostgreSQL test database).  Besides the test plugin, a plugin
"ballots" is written into a temporary folder and installed there (its package and a
.dist-info with its entry point), seen only by those subprocesses."""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

import factories as f
from plugin_dist import environment, grants_command, install_plugin, run

pytest.importorskip("grants_testplugin", reason="install it: pip install -e tests/testplugin")

BALLOTS_INIT = '''
def includeme(config):
    from ballots_plugin import models  # noqa: F401 - its tables join grants' metadata

    config.add_migrations("ballots_plugin:migrations")
'''

BALLOTS_MODELS = '''
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from grants.db import Base


class BallotBox(Base):
    __tablename__ = "ballots_boxes"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"))
    label: Mapped[str] = mapped_column(String(100))
'''


def write_ini(path: Path, url: str, plugins: str = "") -> Path:
    path.write_text("\n".join(["[app:main]", "use = egg:grants", f"sqlalchemy.url = {url}", "grants.secret = test",
                               "mail.backend = console", f"grants.plugins = {plugins}"]) + "\n")
    return path


@pytest.fixture
def ballots(tmp_path) -> Path:
    """The "ballots" plugin, installed into a folder of its own: a model, and a versions
    folder with no revision yet."""
    site = install_plugin(tmp_path / "site", "ballots", "ballots_plugin", {
        "ballots_plugin/__init__.py": BALLOTS_INIT, "ballots_plugin/models.py": BALLOTS_MODELS})
    (site / "ballots_plugin/migrations/versions").mkdir(parents=True)
    return site


class Grants:
    """The `grants` command, with the ballots plugin installed when asked for."""

    def __init__(self, site: Path | None = None):
        self.env = environment(site) if site is not None else None

    def __call__(self, *args, check=True) -> subprocess.CompletedProcess:
        proc = run([grants_command(), *args], env=self.env, timeout=300)
        if check and proc.returncode != 0:
            raise AssertionError(f"grants {' '.join(map(str, args))} failed ({proc.returncode}):\n{proc.stderr}")
        return proc


def tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def versions(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return set(conn.scalars(text("SELECT version_num FROM alembic_version")))
    finally:
        engine.dispose()


def execute(url: str, sql: str) -> None:
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text(sql))
    finally:
        engine.dispose()


def generated(proc: subprocess.CompletedProcess) -> Path:
    (path,) = re.findall(r"^wrote (.+?): review it", proc.stdout, re.M)
    return Path(path)


def operations(script: Path) -> list[str]:
    """The upgrade's Alembic operations, one string each: "create_table ballots_boxes",
    "add_column (in batch of programmes)"."""
    body = script.read_text().split("def upgrade():", 1)[1].split("def downgrade():", 1)[0]
    found = [f"{op} {table}" for op, table in re.findall(r"op\.(\w+)\('([^']+)'", body)
             if op not in ("f", "batch_alter_table")]
    for table, block in re.findall(r"batch_alter_table\('([^']+)'.*?\n((?:        .*\n)+)", body):
        found += [f"{op} (in batch of {table})" for op in re.findall(r"batch_op\.(\w+)", block)]
    return found


# -- grants initdb -----------------------------------------------------------------------------


def test_initdb_creates_the_tables_of_enabled_plugins_on_their_branch(tmp_path, grants_empty_database_url):
    url, grants = grants_empty_database_url, Grants()
    proc = grants("initdb", write_ini(tmp_path / "p.ini", url, "testplugin"))
    assert "with plugins testplugin" in proc.stdout
    assert "testplugin_panel_votes" in tables(url)
    assert "testplugin_0001" in versions(url)


def test_initdb_without_the_plugin_makes_none_of_its_tables(tmp_path, grants_empty_database_url):
    url = grants_empty_database_url
    Grants()("initdb", write_ini(tmp_path / "core.ini", url))
    assert "testplugin_panel_votes" not in tables(url) and "applications" in tables(url)
    assert not any(v.startswith("testplugin") for v in versions(url))


def test_a_plugin_disabled_later_keeps_its_tables_and_initdb_still_runs(tmp_path, grants_empty_database_url):
    url, grants = grants_empty_database_url, Grants()
    grants("initdb", write_ini(tmp_path / "p.ini", url, "testplugin"))
    proc = grants("initdb", write_ini(tmp_path / "core.ini", url))
    assert "is up to date" in proc.stdout
    assert "testplugin_panel_votes" in tables(url) and "testplugin_0001" in versions(url)


def test_a_database_ahead_of_this_grants_stops_initdb_with_one_line(tmp_path, grants_empty_database_url):
    url, grants = grants_empty_database_url, Grants()
    ini = write_ini(tmp_path / "core.ini", url)
    grants("initdb", ini)
    execute(url, "INSERT INTO alembic_version (version_num) VALUES ('0099_from_the_future')")
    proc = grants("initdb", ini, check=False)
    assert proc.returncode == 2
    assert proc.stderr.startswith("grants: ") and "0099_from_the_future" in proc.stderr
    assert "neither grants nor an enabled plugin" in proc.stderr and "Traceback" not in proc.stderr


def test_initdb_with_plugins_and_a_setting_missing_says_which(tmp_path, grants_empty_database_url):
    """Plugins declare their migrations in includeme, so initdb reads the whole configuration."""
    ini = tmp_path / "p.ini"
    ini.write_text(f"[app:main]\nuse = egg:grants\nsqlalchemy.url = {grants_empty_database_url}\n"
                   f"grants.plugins = testplugin\n")
    proc = Grants()("initdb", ini, check=False)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.strip() == "grants: grants.secret is not set: put a long random string in the .ini"


def test_a_plugin_revision_that_needs_a_revision_no_one_has_is_one_line(tmp_path, ballots, grants_empty_database_url):
    (ballots / "ballots_plugin/migrations/versions/ballots_0001_boxes.py").write_text(
        "revision = 'ballots_0001'\ndown_revision = None\nbranch_labels = ('ballots',)\n"
        "depends_on = '0042_no_such_revision'\n\ndef upgrade():\n    pass\n")
    proc = Grants(ballots)("initdb", write_ini(tmp_path / "b.ini", grants_empty_database_url, "ballots"), check=False)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "'0042_no_such_revision', which neither grants nor an enabled plugin has" in proc.stderr


def test_a_plugins_revision_ids_start_with_its_name(tmp_path, ballots, grants_empty_database_url):
    (ballots / "ballots_plugin/migrations/versions/0001_boxes.py").write_text(
        "revision = '0001_boxes'\ndown_revision = None\nbranch_labels = ('ballots',)\ndepends_on = '0001'\n\n"
        "def upgrade():\n    pass\n")
    proc = Grants(ballots)("initdb", write_ini(tmp_path / "b.ini", grants_empty_database_url, "ballots"), check=False)
    assert proc.returncode == 2
    assert "plugin 'ballots': revision '0001_boxes'" in proc.stderr and "start with 'ballots_'" in proc.stderr


def test_add_migrations_naming_no_folder_stops_with_the_plugins_name(tmp_path, ballots, grants_empty_database_url):
    (ballots / "ballots_plugin/__init__.py").write_text(BALLOTS_INIT.replace("ballots_plugin:migrations",
                                                                             "ballots_plugin:no_such_folder"))
    proc = Grants(ballots)("initdb", write_ini(tmp_path / "b.ini", grants_empty_database_url, "ballots"), check=False)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "plugin 'ballots': add_migrations('ballots_plugin:no_such_folder') names no folder" in proc.stderr


# -- grants db revision ------------------------------------------------------------------------


def test_grants_revision_never_drops_a_plugins_table(tmp_path, grants_empty_database_url):
    """The reported fault: with the plugin's table in the database and the plugin not
    enabled, the core's revision proposed to drop it."""
    url, grants = grants_empty_database_url, Grants()
    grants("initdb", write_ini(tmp_path / "p.ini", url, "testplugin"))
    out = tmp_path / "out"
    out.mkdir()
    proc = grants("db", "revision", write_ini(tmp_path / "core.ini", url), "-m", "core change", "--version-path", out)
    script = generated(proc)
    assert script.parent == out
    assert "testplugin_panel_votes" not in script.read_text()
    assert not [op for op in operations(script) if op.startswith("drop")]
    assert "left alone" in proc.stdout and "testplugin_panel_votes" in proc.stdout


def test_grants_revision_has_grants_changes_and_none_of_an_enabled_plugins(tmp_path, grants_empty_database_url):
    url, grants = grants_empty_database_url, Grants()
    ini = write_ini(tmp_path / "p.ini", url, "testplugin")
    grants("initdb", ini)
    # Both owners now differ from the database: grants' programmes lost a column, the
    # plugin's table an index.
    execute(url, "ALTER TABLE programmes DROP COLUMN workflow_choices")
    execute(url, "DROP INDEX ix_testplugin_panel_votes_application_id")
    out = tmp_path / "out"
    out.mkdir()
    script = generated(grants("db", "revision", ini, "-m", "core change", "--version-path", out))
    assert "add_column (in batch of programmes)" in operations(script)
    assert "workflow_choices" in script.read_text()
    assert "testplugin" not in script.read_text()
    revises = re.search(r"^down_revision = (.+)$", script.read_text(), re.M).group(1)
    assert "testplugin" not in revises and "0005_post_award" not in revises  # grants' heads only


def test_a_plugins_revision_has_its_tables_only_in_its_folder_on_its_branch(tmp_path, ballots,
                                                                            grants_empty_database_url):
    url, grants = grants_empty_database_url, Grants(ballots)
    ini = write_ini(tmp_path / "b.ini", url, "testplugin ballots")
    grants("initdb", ini)
    assert "ballots_boxes" not in tables(url)  # the plugin has no revision yet
    execute(url, "ALTER TABLE programmes DROP COLUMN workflow_choices")  # a change of grants' own
    execute(url, "DROP INDEX ix_testplugin_panel_votes_application_id")  # and one of another plugin's
    execute(url, "CREATE TABLE stray_table (id INTEGER PRIMARY KEY)")  # and a table nobody owns

    first = generated(grants("db", "revision", ini, "--plugin", "ballots", "-m", "ballot boxes"))
    assert first.parent == ballots / "ballots_plugin/migrations/versions"
    source = first.read_text()
    assert operations(first) == ["create_table ballots_boxes"]
    assert re.search(r"^revision = 'ballots_\w+'$", source, re.M)
    assert "down_revision = None" in source and "branch_labels = ('ballots',)" in source
    depends_on = re.search(r"^depends_on = (.+)$", source, re.M).group(1)
    from alembic.script import ScriptDirectory

    from grants.migrations import alembic_config

    core_heads = ScriptDirectory.from_config(alembic_config({"sqlalchemy.url": url})).get_heads()
    assert all(head in depends_on for head in core_heads) and "testplugin" not in depends_on  # grants' heads of today

    # The author reviews it; the operator upgrades: the table appears on the plugin's branch.
    grants("initdb", ini)
    assert "ballots_boxes" in tables(url)
    assert any(v.startswith("ballots_") for v in versions(url))

    models = ballots / "ballots_plugin/models.py"
    models.write_text(models.read_text() + "    note: Mapped[str | None] = mapped_column(String(500))\n")
    second = generated(grants("db", "revision", ini, "--plugin", "ballots", "-m", "a note on each box"))
    assert operations(second) == ["add_column (in batch of ballots_boxes)"]
    first_id = re.search(r"^revision = '(\w+)'$", source, re.M).group(1)
    assert f"down_revision = '{first_id}'" in second.read_text()


def test_revision_for_a_plugin_that_is_not_enabled_is_refused(tmp_path, grants_empty_database_url):
    url, grants = grants_empty_database_url, Grants()
    ini = write_ini(tmp_path / "core.ini", url)
    grants("initdb", ini)
    proc = grants("db", "revision", ini, "--plugin", "testplugin", "-m", "x", check=False)
    assert proc.returncode == 2
    assert "plugin 'testplugin' is not enabled in" in proc.stderr and "Traceback" not in proc.stderr


# -- the suite's own database ------------------------------------------------------------------


def test_the_suites_database_has_the_test_plugins_tables_and_empties_them(database, registry):
    from grants_testplugin.votes import PanelVote

    with registry.database.transaction() as (_tm, db):
        voter = f.user(db)
        org = f.organisation(db, voter)
        application = f.application(db, registry, f.round_(db, registry), org)
        db.add(PanelVote(application_id=application.id, user_id=voter.id, vote="for", cast_at=f.now()))
    with registry.database.transaction() as (_tm, db):
        assert [v.vote for v in db.query(PanelVote)] == ["for"]
    from grants.testing import empty_tables

    empty_tables(database)
    with registry.database.transaction() as (_tm, db):
        assert db.query(PanelVote).count() == 0


def test_models_and_migrations_agree_for_grants_and_the_test_plugin(settings):
    from grants import make_config
    from grants.testing import migration_differences

    registry = make_config({**settings, "grants.plugins": "testplugin"}).registry
    assert migration_differences(registry, "testplugin") == []
    assert migration_differences(registry, "") == []


def test_migration_differences_sees_what_a_plugins_migration_missed(tmp_path, grants_empty_database_url):
    from grants import make_config
    from grants.testing import migration_differences

    url = grants_empty_database_url
    Grants()("initdb", write_ini(tmp_path / "p.ini", url, "testplugin"))
    execute(url, "DROP INDEX ix_testplugin_panel_votes_application_id")
    registry = make_config({"sqlalchemy.url": url, "grants.secret": "test", "grants.plugins": "testplugin",
                            "mail.backend": "console"}).registry
    try:
        differences = migration_differences(registry, "testplugin")
    finally:
        registry.database.engine.dispose()
    assert [(d[0], d[1].name) for d in differences] == [("add_index", "ix_testplugin_panel_votes_application_id")]
    assert migration_differences.__module__ == "grants.testing"
