"""`grants plugin new`: the distribution it writes installs (pip, into a throwaway folder),
registers its entry point, passes its own tests on grants' fixtures, and works in a
deployment (`grants initdb` makes its table, `grants workflow check` passes)."""
from __future__ import annotations

import re
import sys

import pytest

from plugin_dist import environment, grants_command, run

NAME = "panel_briefing"


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """The plugin written by the command, and the folder pip installed it into."""
    root = tmp_path_factory.mktemp("new_plugin")
    source, target = root / "src", root / "site"
    proc = run([grants_command(), "plugin", "new", NAME, "--directory", source])
    assert proc.returncode == 0, proc.stderr
    assert f"wrote the plugin {NAME} into {source}" in proc.stdout
    pip = run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", target, source])
    assert pip.returncode == 0, pip.stdout[-3000:] + pip.stderr[-3000:]
    return source, target


def test_the_plugin_is_a_distribution_with_everything_a_plugin_has(installed):
    source, target = installed
    for path in [f"{NAME}/__init__.py", f"{NAME}/guards.py", f"{NAME}/models.py",
                 f"{NAME}/migrations/versions/{NAME}_0001_briefings.py",
                 f"{NAME}/locale/fr/LC_MESSAGES/grants.po", f"{NAME}/locale/ar/LC_MESSAGES/grants.mo",
                 "pyproject.toml", "README.md", "tests/conftest.py", f"tests/test_{NAME}.py"]:
        assert (source / path).is_file(), path
    assert not list(source.rglob("*.tmpl")) and "{{" not in (source / f"{NAME}/__init__.py").read_text()
    # installed, not only written: the package data came along
    assert (target / NAME / "locale/ar/LC_MESSAGES/grants.mo").is_file()
    assert (target / NAME / f"migrations/versions/{NAME}_0001_briefings.py").is_file()
    migration = (source / f"{NAME}/migrations/versions/{NAME}_0001_briefings.py").read_text()
    from grants.plugin_scaffold import core_heads

    heads = core_heads()
    assert f"branch_labels = ('{NAME}',)" in migration
    assert f"depends_on = {(heads[0] if len(heads) == 1 else heads)!r}" in migration  # grants' schema of today


def test_it_registers_its_entry_point(installed):
    _source, target = installed
    proc = run([sys.executable, "-c", "from importlib.metadata import entry_points; "
                "print([e.value for e in entry_points(group='grants.plugins', name='panel_briefing')])"],
               env=environment(target))
    assert proc.stdout.strip() == "['panel_briefing:includeme']", proc.stderr


def test_it_passes_its_own_tests(installed, grants_empty_database_url, database_url):
    source, target = installed
    extra = {"GRANTS_TEST_DATABASE_URL": grants_empty_database_url} if database_url.startswith("postgresql") else {}
    env = environment(target, **extra)
    if not extra:
        env.pop("GRANTS_TEST_DATABASE_URL", None)
    proc = run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], env=env, cwd=source)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]
    assert re.search(r"^\d+ passed", proc.stdout, re.M) and " failed" not in proc.stdout, proc.stdout[-2000:]


def test_a_deployment_that_enables_it_gets_its_table_and_a_clean_workflow_check(installed, tmp_path,
                                                                              grants_empty_database_url):
    from sqlalchemy import create_engine, inspect

    _source, target = installed
    ini = tmp_path / "site.ini"
    ini.write_text(f"[app:main]\nuse = egg:grants\nsqlalchemy.url = {grants_empty_database_url}\n"
                   f"grants.secret = test\nmail.backend = console\ngrants.plugins = {NAME}\n")
    env = environment(target)
    initdb = run([grants_command(), "initdb", ini], env=env)
    assert initdb.returncode == 0, initdb.stderr
    engine = create_engine(grants_empty_database_url)
    try:
        assert f"{NAME}_briefings" in inspect(engine).get_table_names()
    finally:
        engine.dispose()
    check = run([grants_command(), "workflow", "check", ini], env=env)
    assert check.returncode == 0, check.stdout + check.stderr
    assert re.search(rf"^{NAME}_round v1 \(.*\): ok$", check.stdout, re.M)


@pytest.mark.parametrize("name, reason", [
    ("Panel-Briefing", "cannot name a plugin"),
    ("x", "cannot name a plugin"),
    ("json", "already the name of a Python module"),
    ("class", "already the name of a Python module"),
])
def test_a_name_that_cannot_be_a_plugins_is_refused(tmp_path, name, reason):
    proc = run([grants_command(), "plugin", "new", name, "--directory", tmp_path / "p"])
    assert proc.returncode == 2 and proc.stderr.startswith("grants: ") and reason in proc.stderr
    assert "Traceback" not in proc.stderr and not (tmp_path / "p").exists()


def test_it_never_writes_over_a_folder_that_has_files(tmp_path):
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "mine.txt").write_text("keep me")
    proc = run([grants_command(), "plugin", "new", NAME, "--directory", tmp_path / "p"])
    assert proc.returncode == 2 and "already exists and is not an empty folder" in proc.stderr
    assert [p.name for p in (tmp_path / "p").iterdir()] == ["mine.txt"]
