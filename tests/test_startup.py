"""Start-up refuses to run, with one line naming the reason, when a definition is bad,
when the database holds a state no definition knows, or when two plugins collide."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

import factories as f
from grants import main


def bad_definition_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "workflows"
    folder.mkdir()
    (folder / "grant.toml").write_text(
        'id = "grant"\nversion = 1\ninitial = "draft"\n[states.draft]\n[[transitions]]\n'
        'trigger = "approve"\nfrom = "draft"\nto = "approved"\npermission = "site:admin"\n')
    return folder


def refusal(settings) -> str:
    with pytest.raises(SystemExit) as stop:
        main({}, **settings)
    message = str(stop.value)
    assert "\n" not in message and message.startswith("grants: cannot start: ")
    return message


def test_a_bad_definition_stops_start_up(settings, tmp_path):
    folder = bad_definition_dir(tmp_path)
    message = refusal({**settings, "grants.workflow_dirs": str(folder)})
    assert message.endswith(f"{folder / 'grant.toml'}: transitions[0] (approve).to: unknown state 'approved'")


def test_an_unknown_stored_state_stops_start_up(settings, registry):
    with registry.database.transaction() as (_tm, db):
        app = f.application(db, registry, f.round_(db, registry), f.organisation(db, f.user(db)))
        db.execute(text("UPDATE applications SET state = 'archived' WHERE id = :id"), {"id": app.id})
    assert "1 row of applications (id " in refusal(settings)
    assert "is in state 'archived', which workflow application v1 does not know" in refusal(
        settings)


def test_conflicting_plugins_stop_start_up(settings):
    pytest.importorskip("grants_testplugin")
    message = refusal({**settings, "grants.plugins": "conflict_a conflict_b"})
    assert "plugins conflict_a and conflict_b both override template" in message


def test_pserve_prints_one_line_and_no_traceback(tmp_path, database_url, database):
    folder = bad_definition_dir(tmp_path)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    ini = tmp_path / "bad.ini"
    ini.write_text("[app:main]\nuse = egg:grants\n"
                   f"sqlalchemy.url = {database_url}\ngrants.secret = x\ngrants.workflow_dirs = {folder}\n\n"
                   f"[server:main]\nuse = egg:waitress#main\nlisten = 127.0.0.1:{port}\n")
    pserve = Path(sys.executable).with_name("pserve")
    proc = subprocess.run([str(pserve), str(ini)], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONWARNINGS": "ignore"})
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1].startswith("grants: cannot start: ")
    assert "unknown state 'approved'" in proc.stderr
