"""`grants tick` over many due objects: they are looked up in batches, each moves in a
transaction of its own, and one that fails (an effect raising) is reported while the
rest still move; the command prints a progress line on stderr and exits 1."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

import factories as f
from grants import make_config
from grants.lifecycle.models import HistoryEntry
from grants.lifecycle.services import iter_tick
from grants.mel.models import Report
from grants.programmes import services as programmes
from test_cli import grants, write_ini

NOW = dt.datetime(2021, 6, 1, 9, 0, tzinfo=dt.timezone.utc)  # every report of the awards below is late
PLUGIN = {"grants.plugins": "failing_tick"}


def late_reports(registry, awards: int = 3) -> tuple[list[int], int]:
    """Awards on the report variant whose marked reports fail to go overdue; returns
    every report id and the one marked to fail."""
    with registry.database.transaction() as (_tm, db):
        prog = programmes.create_programme(db, title="Fragile", currency="TND", plugins=["failing_tick"],
                                           registry=registry)
        programmes.choose_workflow(db, registry, prog, "report", "failing_tick_report")
        rnd = f.round_(db, registry, prog)
        ids = []
        for n in range(awards):
            award = f.award(db, registry, rnd=rnd, org=f.organisation(db, name=f"Association {n}"))
            ids += list(db.scalars(select(Report.id).where(Report.award_id == award.id).order_by(Report.id)))
        failing = db.get(Report, ids[len(ids) // 2])
        failing.narrative = "fail on tick"
        assert {r.workflow_id for r in db.scalars(select(Report).where(Report.id.in_(ids)))} == {"failing_tick_report"}
        return ids, failing.id


def overdue_rows(registry, ids) -> dict[int, int]:
    with registry.database.transaction() as (_tm, db):
        return dict(db.execute(select(HistoryEntry.object_id, func.count()).where(
            HistoryEntry.object_type == "reports", HistoryEntry.trigger == "mark_overdue",
            HistoryEntry.object_id.in_(ids)).group_by(HistoryEntry.object_id)).all())


def test_a_failing_object_is_reported_and_the_others_move_in_batches(settings):
    registry = make_config({**settings, **PLUGIN}).registry
    ids, failing = late_reports(registry)
    assert len(ids) == 12
    # Batches of 5: the ids are read in three pages, the failing one passed by, not retried.
    outcomes = [o for o in iter_tick(registry.database, registry.workflows, now=NOW, batch=5)
                if o.object_type == "reports"]
    assert [o.object_id for o in outcomes] == ids
    results = {o.object_id: o.result for o in outcomes}
    assert results.pop(failing) == "failed: EffectFailed: " + str(_failure(registry, failing))
    assert set(results.values()) == {"fired"}
    with registry.database.transaction() as (_tm, db):
        states = {r.id: r.state for r in db.scalars(select(Report).where(Report.id.in_(ids)))}
    assert states.pop(failing) == "due"
    assert set(states.values()) == {"overdue"}
    assert overdue_rows(registry, ids) == {i: 1 for i in ids if i != failing}
    # Again: only the failing one is tried, and fails again; nothing else changes.
    again = [o for o in iter_tick(registry.database, registry.workflows, now=NOW, batch=5)
             if o.object_type == "reports"]
    assert [(o.object_id, o.result.partition(":")[0]) for o in again] == [(failing, "failed")]
    assert overdue_rows(registry, ids) == {i: 1 for i in ids if i != failing}


def _failure(registry, report_id) -> str:
    """The words of the failure as the engine reports it (which effect, from which plugin)."""
    from grants.lifecycle.services import WorkflowService
    from grants.workflow import EffectFailed

    try:
        with registry.database.transaction() as (tm, db):  # rolled back: the effect raises
            WorkflowService(registry.workflows, db, transaction_manager=tm).fire(
                db.get(Report, report_id), "mark_overdue", actor=f.SYSTEM, now=NOW)
    except EffectFailed as exc:
        return str(exc)
    raise AssertionError("the marked report did not fail")


def test_grants_tick_prints_progress_and_exits_1_when_one_failed(settings, database_url, tmp_path):
    registry = make_config({**settings, **PLUGIN}).registry
    ids, failing = late_reports(registry, awards=30)  # 120 reports: more than one progress line
    ini = write_ini(tmp_path / "tick.ini", database_url, **PLUGIN)
    proc = grants("tick", str(ini), check=False)
    assert proc.returncode == 1, proc.stderr
    progress = [line for line in proc.stderr.splitlines() if line.startswith("tick: ")]
    assert progress[0].startswith("tick: 100 objects done (")
    assert progress[-1].startswith(f"tick: {len(proc.stdout.splitlines()) - _others(proc.stdout)} objects done")
    assert "1 failed" in progress[-1] and "grants: 1 object failed" in proc.stderr
    assert f"reports {failing}: mark_overdue: failed: EffectFailed" in proc.stdout
    assert "Traceback" not in proc.stderr.split("grants: 1 object failed")[-1]
    assert overdue_rows(registry, ids) == {i: 1 for i in ids if i != failing}


def _others(stdout: str) -> int:
    """Lines that are not an object's outcome (reminders, purges)."""
    return sum(1 for line in stdout.splitlines() if "reminder sent" in line or line.startswith("sessions"))
