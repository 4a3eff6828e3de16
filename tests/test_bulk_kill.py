"""A bulk operation killed half-way: `grants workflow migrate` moves thousands of
applications batch by batch, each batch committed with its history rows.  SIGKILLed once
some have moved, every application is either moved with exactly one history row saying
so or untouched; running the same command again moves the rest, and each history row is
there once.  On SQLite and on PostgreSQL (GRANTS_TEST_DATABASE_URL)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import func, insert, select
from zope.sqlalchemy import mark_changed

import factories as f
from grants.applications.models import Application
from grants.lifecycle.models import HistoryEntry
from test_cli import WORKFLOWS, grants, write_ini

N = 3000


def many_applications(registry, n: int) -> None:
    """One application made as a member would, then copies of its row: n in all, in one round."""
    with registry.database.transaction() as (_tm, db):
        first = f.application(db, registry, f.round_(db, registry), f.organisation(db), state="submitted")
        table = Application.__table__
        row = {k: v for k, v in db.execute(select(table).where(table.c.id == first.id)).mappings().one().items()
               if k != "id"}
        db.execute(insert(table), [row] * (n - 1))
        mark_changed(db)


def snapshot(registry) -> dict[int, tuple[int, str, int]]:
    """For each application: its version, its state and how many `migrate` history rows it has."""
    with registry.database.transaction() as (_tm, db):
        rows = dict(db.execute(select(HistoryEntry.object_id, func.count()).where(
            HistoryEntry.object_type == "applications", HistoryEntry.trigger == "migrate")
            .group_by(HistoryEntry.object_id)).all())
        return {a_id: (version, state, rows.get(a_id, 0)) for a_id, version, state in db.execute(
            select(Application.id, Application.workflow_version, Application.state))}


def moved(registry) -> int:
    with registry.database.transaction() as (_tm, db):
        return db.scalar(select(func.count()).select_from(Application).where(Application.workflow_version == 2))


def test_a_migration_killed_half_way_leaves_each_object_whole_and_a_rerun_finishes(registry, database_url, tmp_path):
    extra = tmp_path / "v2"
    extra.mkdir()
    (extra / "application_v2.toml").write_text(
        (WORKFLOWS / "application.toml").read_text().replace("\nversion = 1\n", "\nversion = 2\n"))
    ini = write_ini(tmp_path / "t.ini", database_url, **{"grants.workflow_dirs": str(extra)})
    many_applications(registry, N)
    command = [str(Path(sys.executable).with_name("grants")), "workflow", "migrate", str(ini), "application",
               "--from", "1", "--to", "2", "--batch", "20"]
    log = tmp_path / "migrate.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while moved(registry) < 200:  # some batches are in: now, in the middle of one or the next
            assert proc.poll() is None, f"finished before it could be killed: {log.read_text()}"
            assert time.monotonic() < deadline
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert "so far" in log.read_text()  # its progress lines

    half = snapshot(registry)
    assert len(half) == N
    done = [a for a, (version, _state, _rows) in half.items() if version == 2]
    assert 200 <= len(done) < N
    for version, state, rows in half.values():
        # Moved with its row, or untouched: never moved without one, nor a row without the move.
        assert (version, state, rows) in {(1, "submitted", 0), (2, "submitted", 1)}

    again = grants("workflow", "migrate", str(ini), "application", "--from", "1", "--to", "2", "--batch", "500")
    assert f"moved {N - len(done)} objects from application v1 to v2" in again.stdout
    assert set(snapshot(registry).values()) == {(2, "submitted", 1)}
    # Once more: nothing is left to move and nothing is recorded twice.
    assert "moved 0 objects" in grants("workflow", "migrate", str(ini), "application", "--from", "1",
                                       "--to", "2").stdout
    assert set(snapshot(registry).values()) == {(2, "submitted", 1)}
