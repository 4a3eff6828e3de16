"""Workflows on stored objects: history, optimistic locking under real concurrency,
after-commit effects, `tick`, start-up refusal of unknown states, and migrations.
Runs on whichever database the suite runs on (SQLite, and PostgreSQL in CI)."""
from __future__ import annotations

import datetime as dt
import shutil
import threading
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

import factories as f
from grants import StartupError, main, make_app
from grants.applications.models import Application
from grants.lifecycle.models import HistoryEntry
from grants.lifecycle.services import WorkflowService, migrate, tick
from grants.programmes.models import Round
from grants.workflow import Actor, Conflict, Refused

WORKFLOWS = Path(__file__).resolve().parent.parent / "workflows"
OFFICER = Actor("staff:officer", frozenset({"programme_officer"}))


def history_of(database, obj_type, obj_id):
    with database.transaction() as (_tm, s):
        return [
            (h.trigger, h.from_state, h.to_state)
            for h in s.scalars(select(HistoryEntry).where(HistoryEntry.object_type == obj_type,
                                                          HistoryEntry.object_id == obj_id).order_by(HistoryEntry.id))
        ]


def test_fire_stores_state_and_history_with_who_and_digest(registry):
    with registry.database.transaction() as (tm, db):
        applicant = f.user(db)
        org = f.organisation(db, applicant)
        app = f.application(db, registry, f.round_(db, registry), org)
        WorkflowService(registry.workflows, db).fire(app, "submit", applicant, comment="all done")
        app_id, digest = app.id, app.workflow_digest
    with registry.database.transaction() as (_tm, db):
        app = db.get(Application, app_id)
        assert app.state == "submitted" and app.row_version == 2
        last = WorkflowService(registry.workflows, db).history(app)[-1]
        assert (last.trigger, last.from_state, last.to_state, last.user_id, last.comment) == (
            "submit", "draft", "submitted", applicant.id, "all done")
        assert last.definition_digest == digest == registry.workflows.get("application").definition.digest


def test_history_is_append_only(registry):
    with pytest.raises(RuntimeError, match="append-only"):
        with registry.database.transaction() as (_tm, db):
            rnd = f.round_(db, registry)
            entry = WorkflowService(registry.workflows, db).history(rnd)[0]
            entry.comment = "rewritten"
            db.flush()


def test_refused_fire_changes_nothing(registry):
    with registry.database.transaction() as (_tm, db):
        rnd = f.round_(db, registry, closes_at=f.now() + dt.timedelta(seconds=1))
        org = f.organisation(db, f.user(db))
        app = f.application(db, registry, rnd, org)
        rnd.closes_at = f.now() - dt.timedelta(minutes=5)
        with pytest.raises(Refused) as refused:
            WorkflowService(registry.workflows, db).fire(app, "submit", actor=f.SYSTEM)
        assert "The round closed on" in refused.value.reasons[0].interpolate()
        assert app.state == "draft"
        app_id = app.id
    assert history_of(registry.database, "applications", app_id) == [("create", None, "draft")]


def test_two_concurrent_fires_one_wins_one_conflicts_one_history_row(registry):
    with registry.database.transaction() as (_tm, db):
        app = f.application(db, registry, f.round_(db, registry), f.organisation(db, f.user(db)), state="submitted")
        app_id = app.id
    barrier = threading.Barrier(2, timeout=20)
    outcomes: dict[int, str] = {}

    def officer_confirms(i):
        try:
            with registry.database.transaction() as (tm, db):
                obj = db.get(Application, app_id)
                assert obj.state == "submitted"
                barrier.wait()  # both have read row_version 1 before either writes
                WorkflowService(registry.workflows, db, transaction_manager=tm).fire(
                    obj, "confirm_eligible", actor=OFFICER)
            outcomes[i] = "won"
        except Conflict as exc:
            outcomes[i] = f"conflict: {exc}"

    threads = [threading.Thread(target=officer_confirms, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(o.split(":")[0] for o in outcomes.values()) == ["conflict", "won"], outcomes
    assert "changed by someone else" in next(o for o in outcomes.values() if o.startswith("conflict"))
    assert history_of(registry.database, "applications", app_id) == [
        ("create", None, "draft"), ("submit", "draft", "submitted"), ("confirm_eligible", "submitted", "eligible")]


def test_effects_after_commit_run_only_when_the_transaction_commits(registry):
    sent = []
    with registry.database.transaction() as (tm, db):
        rnd = f.round_(db, registry)
        WorkflowService(registry.workflows, db, transaction_manager=tm).env.after_commit(lambda: sent.append("a"))
        rnd_id = rnd.id
    assert sent == ["a"]
    with pytest.raises(ZeroDivisionError):
        with registry.database.transaction() as (tm, db):
            service = WorkflowService(registry.workflows, db, transaction_manager=tm)
            rnd = db.get(Round, rnd_id)
            service.fire(rnd, "close", actor=f.SYSTEM)
            service.env.after_commit(lambda: sent.append("b"))
            1 / 0  # a crash after the fire: the state change and the mail both vanish
    assert sent == ["a"]
    with registry.database.transaction() as (_tm, db):
        assert db.get(Round, rnd_id).state == "open"


def test_tick_fires_exactly_what_is_due_and_twice_changes_nothing(registry):
    now = f.now()
    with registry.database.transaction() as (_tm, db):
        prog = f.programme(db)
        due_to_open = f.round_(db, registry, prog, state="draft", opens_at=now - dt.timedelta(minutes=1))
        not_yet = f.round_(db, registry, prog, state="draft", opens_at=now + dt.timedelta(hours=1),
                           closes_at=now + dt.timedelta(days=3))
        due_to_close = f.round_(db, registry, prog, opens_at=now - dt.timedelta(days=9),
                                closes_at=now - dt.timedelta(seconds=1))
        ids = due_to_open.id, not_yet.id, due_to_close.id
    first = tick(registry.database, registry.workflows, now=now)
    assert sorted((o.object_id, o.trigger, o.result) for o in first) == sorted(
        [(ids[0], "open", "fired"), (ids[2], "close", "fired")])
    assert tick(registry.database, registry.workflows, now=now) == []
    with registry.database.transaction() as (_tm, db):
        assert [db.get(Round, i).state for i in ids] == ["open", "draft", "closed"]
        assert db.scalar(select(func.count()).select_from(HistoryEntry).where(HistoryEntry.actor == "system:tick")) == 2


def test_two_ticks_at_once_fire_each_transition_once(registry):
    now = f.now()
    with registry.database.transaction() as (_tm, db):
        prog = f.programme(db)
        ids = [f.round_(db, registry, prog, state="draft", opens_at=now - dt.timedelta(minutes=5)).id
               for _ in range(12)]
    results = []
    threads = [threading.Thread(target=lambda: results.append(tick(registry.database, registry.workflows, now=now)))
               for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    fired = [o.object_id for run in results for o in run if o.result == "fired"]
    assert sorted(fired) == sorted(ids)
    with registry.database.transaction() as (_tm, db):
        opens = db.scalar(select(func.count()).select_from(HistoryEntry).where(HistoryEntry.trigger == "open"))
        assert opens == 12


def test_start_up_refuses_a_state_the_definition_does_not_know(settings, registry, capsys):
    with registry.database.transaction() as (_tm, db):
        rnd = f.round_(db, registry)
        db.execute(text("UPDATE rounds SET state = 'limbo' WHERE id = :id"), {"id": rnd.id})
    with pytest.raises(StartupError) as err:
        make_app(settings)
    message = str(err.value)
    assert "1 row of rounds (id " in message
    assert "is in state 'limbo', which workflow round v1 does not know" in message
    assert "grants workflow migrate INI round --from 1 --to round:1 --map limbo=STATE" in message
    assert "\n" not in message
    with pytest.raises(SystemExit) as stop:
        main({}, **settings)
    assert str(stop.value).startswith("grants: cannot start: 1 row of rounds (id ")


def _round_v2(folder: Path) -> None:
    """Version 2 of the round workflow renames 'in_review' to 'assessment'."""
    text_ = (WORKFLOWS / "round.toml").read_text()
    text_ = text_.replace("version = 1", "version = 2").replace("in_review", "assessment")
    (folder / "round_v2.toml").write_text(text_)


def test_migrate_moves_in_flight_objects_with_a_state_map_and_records_it(settings, tmp_path):
    from grants import make_config

    _round_v2(tmp_path)
    settings["grants.workflow_dirs"] = str(tmp_path)
    registry = make_config(settings).registry
    with registry.database.transaction() as (_tm, db):
        rnd = f.round_(db, registry)  # new objects take the newest version
        assert rnd.workflow_version == 2
        db.execute(text("UPDATE rounds SET workflow_version = 1, state = 'in_review' WHERE id = :id"), {"id": rnd.id})
        rnd_id = rnd.id
    with pytest.raises(Exception, match="v2 has no state 'in_review': map it"):
        with registry.database.transaction() as (_tm, db):
            migrate(db, registry.workflows, "round", 1, 2, {})
    with registry.database.transaction() as (_tm, db):
        counts = migrate(db, registry.workflows, "round", 1, 2, {"in_review": "assessment"})
    assert counts == {"in_review": 1}
    with registry.database.transaction() as (_tm, db):
        rnd = db.get(Round, rnd_id)
        assert (rnd.workflow_version, rnd.state) == (2, "assessment")
        assert rnd.workflow_digest == registry.workflows.get("round", 2).definition.digest
    assert history_of(registry.database, "rounds", rnd_id)[-1] == ("migrate", "in_review", "assessment")
    shutil.rmtree(tmp_path, ignore_errors=True)
