"""A bulk operation killed half-way: `grants workflow migrate` moves thousands of
applications batch by batch, each batch committed with its history rows, and `grants
workflow fire` takes one step on thousands of objects, each in its own transaction.
SIGKILLed once some have moved, every application is either moved with exactly one
history row saying so or untouched; running the same command again moves the rest, and
each history row is there once.  On SQLite and on PostgreSQL (GRANTS_TEST_DATABASE_URL)."""
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


def many_applications(registry, n: int, *members) -> int:
    """One application made as a member would, then copies of its row: n in all, in one
    round (whose id is returned), of one organisation with ``members``."""
    with registry.database.transaction() as (_tm, db):
        rnd = f.round_(db, registry)
        first = f.application(db, registry, rnd, f.organisation(db, *members), state="submitted")
        table = Application.__table__
        row = {k: v for k, v in db.execute(select(table).where(table.c.id == first.id)).mappings().one().items()
               if k != "id"}
        db.execute(insert(table), [row] * (n - 1))
        mark_changed(db)
        return rnd.id


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
    # Some batches are in: now, in the middle of one or the next.
    _kill_when(proc, log, lambda: moved(registry) >= 200)
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


def _kill_when(proc, log, done) -> None:
    """SIGKILL ``proc`` once ``done()`` (polled) says enough has moved."""
    deadline = time.monotonic() + 120
    try:
        while not done():
            assert proc.poll() is None, f"finished before it could be killed: {log.read_text()}"
            assert time.monotonic() < deadline
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    assert proc.returncode == -signal.SIGKILL


def test_a_step_on_many_objects_killed_half_way_leaves_each_whole_and_a_rerun_finishes(registry, database_url,
                                                                                     tmp_path):
    """`grants workflow fire`: an organisation's member withdraws its 1,000 applications
    (fewer than the migration's: each is a fire of its own, with its mail)."""
    n = 1000
    with registry.database.transaction() as (_tm, db):
        member = f.user(db, email="member@example.org")
        member_id = member.id
    round_id = many_applications(registry, n, member)
    ini = write_ini(tmp_path / "t.ini", database_url)

    def withdrawn() -> dict[int, tuple[str, int]]:
        with registry.database.transaction() as (_tm, db):
            rows = dict(db.execute(select(HistoryEntry.object_id, func.count()).where(
                HistoryEntry.object_type == "applications", HistoryEntry.trigger == "withdraw")
                .group_by(HistoryEntry.object_id)).all())
            return {a_id: (state, rows.get(a_id, 0))
                    for a_id, state in db.execute(select(Application.id, Application.state))}

    command = [str(Path(sys.executable).with_name("grants")), "workflow", "fire", str(ini), "application",
               "withdraw", "--as", "Member@example.org", "--round", str(round_id), "--batch", "50"]
    log = tmp_path / "fire.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    _kill_when(proc, log, lambda: sum(s == "withdrawn" for s, _n in withdrawn().values()) >= 150)

    half = withdrawn()
    assert len(half) == n
    done = sum(1 for state, _rows in half.values() if state == "withdrawn")
    assert 150 <= done < n
    # Moved with its row, or untouched: never moved without one, nor a row without the move.
    assert set(half.values()) <= {("submitted", 0), ("withdrawn", 1)}

    again = grants("workflow", "fire", str(ini), "application", "withdraw", "--as", "member@example.org",
                   "--round", str(round_id))
    assert f"withdraw: {n - done} objects moved (" in again.stdout, again.stdout
    assert set(withdrawn().values()) == {("withdrawn", 1)}
    with registry.database.transaction() as (_tm, db):  # in their own names
        assert set(db.scalars(select(HistoryEntry.user_id).where(HistoryEntry.trigger == "withdraw"))) == {member_id}
    assert "withdraw: 0 objects moved" in grants("workflow", "fire", str(ini), "application", "withdraw",
                                                 "--as", "member@example.org").stdout


def test_a_step_on_many_objects_reports_those_refused_and_moves_the_rest(registry, database_url, tmp_path):
    """Only what the person may do moves; a refusal (a guard, a permission) is named with
    its reason and the others go on; another round's objects are left alone."""
    with registry.database.transaction() as (_tm, db):
        officer = f.user(db, email="officer@example.org")
        f.user(db, email="stranger@example.org")  # an account, without a role here
        rnd = f.round_(db, registry)
        other = f.round_(db, registry, rnd.programme, title="Another round")
        f.grant_role(db, officer, "programme_officer", rnd.programme)
        org = f.organisation(db, f.user(db))
        ids = [f.application(db, registry, rnd, org, state="submitted").id for _ in range(3)]
        elsewhere = f.application(db, registry, other, org, state="submitted").id
        rnd_id = rnd.id
    ini = write_ini(tmp_path / "t.ini", database_url)
    # Someone without the role: each is refused, by id and reason, and nothing moves.
    out = grants("workflow", "fire", str(ini), "application", "withdraw", "--as", "stranger@example.org",
                 "--round", str(rnd_id), check=False)
    assert out.returncode == 0, out.stderr
    assert "withdraw: 0 objects moved (3 refused)" in out.stdout, out.stdout
    assert all(f"applications {i}: withdraw: refused: " in out.stdout for i in ids)
    # A step that needs a comment is refused without one, and moves with it.
    out = grants("workflow", "fire", str(ini), "application", "return_for_changes", "--as",
                 "officer@example.org", "--round", str(rnd_id), check=False)
    assert "0 objects moved (3 refused)" in out.stdout, out.stdout
    out = grants("workflow", "fire", str(ini), "application", "return_for_changes", "--as",
                 "officer@example.org", "--round", str(rnd_id), "--comment", "Add the budget")
    assert "return_for_changes: 3 objects moved (3 fired)" in out.stdout, out.stdout
    with registry.database.transaction() as (_tm, db):
        states = dict(db.execute(select(Application.id, Application.state)).all())
    assert [states[i] for i in ids] == ["returned"] * 3 and states[elsewhere] == "submitted"
    bad = grants("workflow", "fire", str(ini), "parcel", "withdraw", "--as", "officer@example.org", check=False)
    assert bad.returncode == 2 and "parcel: not a kind of object" in bad.stderr
