"""The `grants` command, run as a real subprocess against the suite's database."""
from __future__ import annotations

import subprocess
import sys
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import factories as f
from grants.programmes.models import Round

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / "workflows"


def write_ini(path: Path, url: str, **extra: str) -> Path:
    lines = ["[app:main]", "use = egg:grants", f"sqlalchemy.url = {url}", "grants.secret = test",
             "mail.backend = console", f"grants.files_dir = {path.parent / 'files'}"]
    lines += [f"{k} = {v}" for k, v in extra.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


def grants(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).with_name("grants")
    proc = subprocess.run([str(exe), *args], capture_output=True, text=True, timeout=120)
    if check and proc.returncode != 0:
        raise AssertionError(f"grants {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr}")
    return proc


@pytest.fixture
def ini(tmp_path, database_url, database):
    return write_ini(tmp_path / "test.ini", database_url)


def test_workflow_check_passes_on_every_shipped_workflow(ini):
    proc = grants("workflow", "check", str(ini))
    shipped = sorted(p.stem for p in WORKFLOWS.glob("*.toml"))
    for wf_id in shipped:
        assert f"{wf_id} v1 (" in proc.stdout and "): ok" in proc.stdout
    assert "error" not in proc.stdout


def test_workflow_check_lists_each_variant_with_its_plugin_and_refuses_one_that_loses_a_meaning(
        tmp_path, database_url, database):
    pytest.importorskip("grants_testplugin")
    ini = write_ini(tmp_path / "p.ini", database_url, **{"grants.plugins": "testplugin"})
    proc = grants("workflow", "check", str(ini))
    assert "testplugin_application v1 (a variant of application from plugin testplugin, " in proc.stdout
    assert "testplugin_round v1 (a variant of round from plugin testplugin, " in proc.stdout
    extra = tmp_path / "variants"
    extra.mkdir()
    variant = (Path(__file__).parent / "workflows" / "panel_application.toml").read_text()
    (extra / "panel_application.toml").write_text(variant.replace('means = ["selected", "awardable"]', ""))
    ini = write_ini(tmp_path / "v.ini", database_url, **{"grants.workflow_dirs": str(extra)})
    proc = grants("workflow", "check", str(ini), check=False)
    assert proc.returncode == 1
    assert "no state means 'selected' any more" in proc.stdout and "panel_application v1" in proc.stdout


@pytest.mark.parametrize("wf_id", sorted(p.stem for p in WORKFLOWS.glob("*.toml")))
def test_workflow_graph_svg_for_every_shipped_workflow(ini, tmp_path, wf_id):
    out = tmp_path / f"{wf_id}.svg"
    grants("workflow", "graph", str(ini), wf_id, "--format", "svg", "-o", str(out))
    root = ET.fromstring(out.read_text())
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    texts = " ".join(t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}text"))
    definition = tomllib.loads((WORKFLOWS / f"{wf_id}.toml").read_text())
    assert definition["states"][definition["initial"]]["title"] in texts


def test_workflow_graph_mermaid_to_stdout(ini):
    proc = grants("workflow", "graph", str(ini), "application", "--format", "mermaid")
    assert proc.stdout.startswith("stateDiagram-v2")
    assert "draft --> submitted" in proc.stdout


def test_workflow_check_fails_and_explains_a_bad_definition(tmp_path, database_url, database):
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "broken.toml").write_text(
        'id = "broken"\nversion = 1\ninitial = "a"\n[states.a]\n[states.b]\nfinal = true\n'
        '[[transitions]]\ntrigger = "go"\nfrom = "a"\nto = "b"\npermission = "site:admin"\n'
        '[states.island]\n')
    ini = write_ini(tmp_path / "t.ini", database_url, **{"grants.workflow_dirs": str(extra)})
    proc = grants("workflow", "check", str(ini), check=False)
    assert proc.returncode == 1
    assert "error: " in proc.stdout and "states.island: unreachable" in proc.stdout
    assert "broken v1" in proc.stdout and "FAILED" in proc.stdout


@pytest.mark.parametrize(
    "args, message",
    [
        (["workflow", "graph", "{ini}", "nonesuch"], "no workflow 'nonesuch' (known: application, award, report, round, tranche"),
        (["workflow", "graph", "{ini}", "round", "--version", "9"], "workflow round has no version 9"),
        (["tick", "/no/such.ini"], "/no/such.ini: no such settings file"),
        (["workflow", "migrate", "{ini}", "round", "--from", "1", "--to", "2", "--map", "bad"],
         "--map bad: write it as OLD=NEW"),
        (["export", "360giving", "{ini}"], "no awards yet: there is nothing to export"),
        (["library", "load", "{ini}", "/no/such.csv"], "no such file: /no/such.csv"),
        (["workflow", "migrate", "{ini}", "round", "--from", "1", "--to", "2"], "workflow round has no version 2"),
        (["workflow", "migrate", "{ini}", "round", "--from", "1", "--to", "1", "--map", "open=closed", "--round", "1"],
         "--round 1: rounds do not belong to a round"),
    ],
)
def test_user_mistakes_get_one_line_and_no_traceback(ini, args, message):
    proc = grants(*[a.replace("{ini}", str(ini)) for a in args], check=False)
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip() and "pkg_resources" not in line
             and "import pkg_resources" not in line]
    assert lines == [f"grants: {message}"] or (len(lines) == 1 and message in lines[0]), proc.stderr


def test_a_bad_definition_stops_tick_with_a_one_line_reason(tmp_path, database_url, database):
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "bad.toml").write_text('id = "bad"\nversion = 1\ninitial = "nowhere"\ntransitions = []\n[states.a]\n')
    ini = write_ini(tmp_path / "t.ini", database_url, **{"grants.workflow_dirs": str(extra)})
    proc = grants("tick", str(ini), check=False)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert f"grants: {extra / 'bad.toml'}: initial: unknown state 'nowhere'" in proc.stderr


def test_tick_from_the_command_line_is_idempotent(ini, registry):
    with registry.database.transaction() as (_tm, db):
        rnd = f.round_(db, registry, state="draft", opens_at=f.now().replace(year=2019))
        rnd_id = rnd.id
    first = grants("tick", str(ini))
    assert f"rounds {rnd_id}: open: fired" in first.stdout
    second = grants("tick", str(ini))
    assert second.stdout.strip() == "nothing is due"
    with registry.database.transaction() as (_tm, db):
        assert db.get(Round, rnd_id).state == "open"


def test_tick_gives_sqlite_its_planner_statistics(ini, registry, database_url):
    """SQLite keeps no statistics of its own, and without them its planner read every
    application for a "My tasks" list at 100,000 applications: each tick refreshes them."""
    if not database_url.startswith("sqlite"):
        pytest.skip("PostgreSQL's autovacuum keeps its own")
    from sqlalchemy import text

    with registry.database.transaction() as (_tm, db):
        f.application(db, registry, f.round_(db, registry), f.organisation(db), state="submitted")
        db.execute(text("DROP TABLE IF EXISTS sqlite_stat1"))
    grants("tick", str(ini))
    with registry.database.transaction() as (_tm, db):
        indexed = set(db.scalars(text("SELECT idx FROM sqlite_stat1 WHERE tbl = 'applications'")))
    assert "ix_applications_state_submitted" in indexed, indexed


def test_migrate_from_the_command_line(tmp_path, database_url, registry):
    extra = tmp_path / "v2"
    extra.mkdir()
    text = (WORKFLOWS / "round.toml").read_text().replace("version = 1", "version = 2").replace("in_review", "assessment")
    (extra / "round_v2.toml").write_text(text)
    ini = write_ini(tmp_path / "t.ini", database_url, **{"grants.workflow_dirs": str(extra)})
    with registry.database.transaction() as (_tm, db):
        rnd = f.round_(db, registry)  # registry without v2: the round runs v1
        from grants.lifecycle.services import WorkflowService

        WorkflowService(registry.workflows, db).fire(rnd, "close", actor=f.SYSTEM)
        WorkflowService(registry.workflows, db).fire(rnd, "start_review", actor=f.SYSTEM)
        rnd_id = rnd.id
    proc = grants("workflow", "migrate", str(ini), "round", "--from", "1", "--to", "2", "--map", "in_review=assessment")
    assert "moved 1 object from round v1 to v2" in proc.stdout
    assert "in_review -> assessment: 1" in proc.stdout
    with registry.database.transaction() as (_tm, db):
        rnd = db.get(Round, rnd_id)
        assert (rnd.workflow_version, rnd.state) == (2, "assessment")


def test_initdb_on_a_fresh_sqlite_file_then_demo(tmp_path):
    ini = write_ini(tmp_path / "fresh.ini", f"sqlite:///{tmp_path / 'fresh.sqlite'}")
    assert "is up to date" in grants("initdb", str(ini)).stdout
    demo = grants("demo", str(ini))
    assert "round 1 decided" in demo.stdout and "officer@example.org" in demo.stdout
    again = grants("demo", str(ini))
    assert "already loaded" in again.stdout


def _msgids(path: Path) -> set[str]:
    from babel.messages.pofile import read_po

    with path.open("rb") as fp:
        return {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(fp) if m.id}


def _share(done: int, total: int) -> str:
    return "100%" if done == total else ("<1%" if 0 < done * 100 < total else f"{done * 100 // total}%")


def test_i18n_coverage_reports_each_language_catalog_and_plugin(tmp_path, database_url, database):
    """Expected figures are counted here another way: the .po sources and gettext's own
    reading of the installed packages' catalogs."""
    import gettext
    import importlib.util

    from babel.messages.pofile import read_po

    pytest.importorskip("grants_testplugin")
    ini = write_ini(tmp_path / "languages.ini", database_url, **{
        "grants.languages": "en fr ar sw fa", "grants.plugins": "swahili persian"})
    proc = grants("i18n", "coverage", str(ini))
    assert proc.returncode == 0 and proc.stderr == ""
    lines = dict(line.split(None, 1) for line in proc.stdout.splitlines())
    assert list(lines) == ["en", "fr", "ar", "sw", "fa"]

    pot = _msgids(ROOT / "grants" / "locale" / "grants.pot")
    with (ROOT / "grants" / "locale" / "fr" / "LC_MESSAGES" / "grants.po").open("rb") as fp:
        french = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(fp)
                  if m.id and m.string and "fuzzy" not in m.flags} & pot
    total = len(pot)

    def package_share(domain: str, lang: str) -> str:
        folder = Path(importlib.util.find_spec(domain).submodule_search_locations[0]) / "locale"
        ids = _msgids(folder / f"{domain}.pot")
        catalog = gettext.translation(domain, str(folder), [lang], fallback=True)
        done = sum(1 for i in ids if getattr(catalog, "_catalog", {}).get(i))
        return _share(done, len(ids))

    colander_ids = _msgids(Path(importlib.util.find_spec("colander").submodule_search_locations[0])
                           / "locale" / "colander.pot")
    assert lines["en"].startswith(f"grants {total:,}/{total:,} (100%, source)  deform 100%  colander 100%")
    assert lines["fr"].startswith(f"grants {len(french):,}/{total:,} ({_share(len(french), total)})  "
                                  f"deform {package_share('deform', 'fr')}  colander {package_share('colander', 'fr')}")
    # Swahili: what the plugin translates, English for the rest; deform has only sw_KE, not sw.
    assert lines["sw"] == (f"grants 8/{total:,} (<1%)  deform 0%  colander {_share(2, len(colander_ids))}  "
                           "swahili: grants 8/8 (100%)  swahili: colander 2/2 (100%)  persian: grants 3/3 (100%)")
    # Persian: three messages, the three the Swahili plugin also translates.
    assert lines["fa"] == (f"grants 3/{total:,} (<1%)  deform 0%  colander 0%  "
                           "swahili: grants 3/8 (37%)  swahili: colander 0/2 (0%)  persian: grants 3/3 (100%)")


def test_i18n_coverage_refuses_a_language_babel_does_not_know(tmp_path, database_url, database):
    ini = write_ini(tmp_path / "bad.ini", database_url, **{"grants.languages": "en klingon"})
    proc = grants("i18n", "coverage", str(ini), check=False)
    assert proc.returncode == 2
    assert proc.stderr.strip() == ("grants: grants.languages: 'klingon' is not a language Babel knows "
                                   "(write codes such as en, fr, ar, sw or pt_BR)")


def test_workflow_check_lists_and_lints_the_versions_edited_in_the_browser(ini, registry):
    from grants.workflow_editor import services as editor

    with registry.database.transaction() as (_tm, db):
        row = editor.copy_workflow(db, registry, "application", 1, "application_quick", "Quick application")
        editor.release(db, registry, row)
        draft = editor.new_version(db, registry, row)
        # A state no step reaches: the draft's check (and the command) find it unreachable.
        editor.save_state(db, registry, draft, {"titles": {"en": "Parked"}, "id": "parked", "like": "eligible"})
    proc = grants("workflow", "check", str(ini))
    assert "application_quick v1 (released, a variant of application edited in the browser, copied from " \
           "application v1): ok" in proc.stdout
    assert "application_quick v2 (draft, a variant of application edited in the browser, copied from " \
           "application_quick v1): not releasable yet" in proc.stdout
    assert "error in a draft: " in proc.stdout and "states.parked: unreachable" in proc.stdout
    assert "\nerror: " not in proc.stdout  # a draft does not fail the deployment's check

    # A released version that no longer checks (here: its data damaged) fails the command.
    with registry.database.transaction() as (_tm, db):
        row = editor.versions_of(db, "application_quick")[0]
        data = dict(row.data)
        data["states"] = {**data["states"], "limbo": {**data["states"]["eligible"], "means": []}}
        row.data = data
    proc = grants("workflow", "check", str(ini), check=False)
    assert proc.returncode == 1
    assert "application_quick v1 (released" in proc.stdout and "FAILED" in proc.stdout
    assert "error: " in proc.stdout and "states.limbo: unreachable" in proc.stdout
