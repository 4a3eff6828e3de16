"""`grants tick` and reports: every report still ``due`` after its due moment becomes
``overdue`` — and nothing else moves: not a report due later, nor one submitted, accepted
or returned.  A second tick changes nothing (no new history, the same states); the real
command does the same and sends each reminder once."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import func, select

import factories as f
from grants.lifecycle.models import HistoryEntry
from grants.lifecycle.services import WorkflowService, tick
from grants.mel import framework
from grants.mel.models import Report
from grants.mel.services import save_report, send_reminders
from test_cli import grants, write_ini

UTC = dt.timezone.utc
#: A day in January 2020: the awards' first reports (due 30 October 2019) are late, the
#: second ones (due 30 January 2020) not yet.
NOW = dt.datetime(2020, 1, 15, 9, 0, tzinfo=UTC)


def reports(db, award) -> list[Report]:
    return list(db.scalars(select(Report).where(Report.award_id == award.id).order_by(Report.number)))


def complete_and_submit(db, registry, report) -> None:
    award = report.award
    if not framework.indicators_of(db, award):
        framework.add_indicator(db, award, code="OUT1", title="Young people in the clubs", level="outputs",
                                measure="unit", method="administrative_data", baseline_missing_reason="New")
    (ind,) = framework.indicators_of(db, award)
    save_report(db, report, narrative="Clubs meet weekly.", values=[(ind, {}, Decimal(40), "")])
    WorkflowService(registry.workflows, db).fire(report, "submit", actor=f.SYSTEM, now=NOW - dt.timedelta(days=90))


def awards_in_every_state(registry) -> dict[str, int]:
    """Reports of three awards in due (late and not), submitted, accepted and returned.
    Committed; returns report ids by what they are."""
    with registry.database.transaction() as (_tm, db):
        service = WorkflowService(registry.workflows, db)
        a = f.award(db, registry, org=f.organisation(db, name="AFEK"), title="Theatre clubs")
        b = f.award(db, registry, org=f.organisation(db, name="ACEC"), title="Citizenship school")
        c = f.award(db, registry, org=f.organisation(db, name="Khatwa"), title="Youth centre")
        a1, a2, *_ = reports(db, a)
        b1, b2, *_ = reports(db, b)
        c1, c2, *_ = reports(db, c)
        complete_and_submit(db, registry, b1)
        service.fire(b1, "accept", actor=f.SYSTEM, now=NOW - dt.timedelta(days=60))
        complete_and_submit(db, registry, b2)
        service.fire(b2, "return_for_changes", actor=f.SYSTEM, comment="Add the numbers by sex.",
                     now=NOW - dt.timedelta(days=30))
        b2.due_at = NOW - dt.timedelta(days=40)  # returned after its due date: stays returned
        complete_and_submit(db, registry, c1)
        c2.due_at = NOW - dt.timedelta(minutes=1)  # due a minute ago: late
        assert a1.due_at < NOW < a2.due_at
        return {"a1 late": a1.id, "a2 not yet": a2.id, "b1 accepted": b1.id, "b2 returned": b2.id,
                "c1 submitted": c1.id, "c2 late": c2.id}


def states(registry, ids: dict) -> dict:
    with registry.database.transaction() as (_tm, db):
        return {name: db.get(Report, report_id).state for name, report_id in ids.items()}


def history_rows(registry) -> int:
    with registry.database.transaction() as (_tm, db):
        return db.scalar(select(func.count()).select_from(HistoryEntry))


def test_tick_marks_exactly_the_late_due_reports_overdue_and_twice_changes_nothing(database, registry):
    ids = awards_in_every_state(registry)
    outcomes = tick(database, registry.workflows, now=NOW)
    fired = sorted(o.object_id for o in outcomes if o.object_type == "reports" and o.result == "fired")
    assert fired == sorted([ids["a1 late"], ids["c2 late"]])
    assert {o.trigger for o in outcomes if o.object_type == "reports"} == {"mark_overdue"}
    assert states(registry, ids) == {"a1 late": "overdue", "a2 not yet": "due", "b1 accepted": "accepted",
                                     "b2 returned": "returned", "c1 submitted": "submitted", "c2 late": "overdue"}
    with registry.database.transaction() as (_tm, db):
        entry = db.scalars(select(HistoryEntry).where(HistoryEntry.object_type == "reports",
                                                      HistoryEntry.object_id == ids["a1 late"])
                           .order_by(HistoryEntry.id.desc())).first()
        assert (entry.trigger, entry.from_state, entry.to_state, entry.actor, entry.at) == (
            "mark_overdue", "due", "overdue", "system:tick", NOW)
        # Every other report of the three awards is still due: their periods are ahead.
        assert db.scalar(select(func.count()).select_from(Report).where(Report.state == "overdue")) == 2

    before, rows = states(registry, ids), history_rows(registry)
    again = tick(database, registry.workflows, now=NOW)
    assert [o for o in again if o.object_type == "reports"] == []
    assert states(registry, ids) == before
    assert history_rows(registry) == rows


def test_an_overdue_report_can_still_be_submitted(database, registry):
    ids = awards_in_every_state(registry)
    tick(database, registry.workflows, now=NOW)
    with registry.database.transaction() as (_tm, db):
        complete_and_submit(db, registry, db.get(Report, ids["a1 late"]))
    assert states(registry, {"a1": ids["a1 late"]}) == {"a1": "submitted"}


def test_reminders_are_sent_once_even_when_run_twice(database, registry):
    with registry.database.transaction() as (_tm, db):
        member = f.user(db, email="amel@example.org", locale="fr")
        award = f.award(db, registry, org=f.organisation(db, member))
        r1 = reports(db, award)[0]
        soon = r1.due_at - dt.timedelta(days=3)
    assert send_reminders(registry, now=soon) == [r1.id]
    assert send_reminders(registry, now=soon) == []
    assert send_reminders(registry, now=soon + dt.timedelta(hours=12)) == []
    (mail,) = registry.mailer.sent()
    assert mail["To"] == "amel@example.org"


def test_the_grants_tick_command_marks_late_reports_and_reminds_once(tmp_path, database_url, database, registry):
    now = dt.datetime.now(UTC)
    with registry.database.transaction() as (_tm, db):
        member = f.user(db, email="amel@example.org")
        award = f.award(db, registry, org=f.organisation(db, member))  # 2019: every report is long past due
        r1, r2, *_rest = reports(db, award)
        r2.due_at = now + dt.timedelta(days=7)  # except this one, due next week
        late = [r.id for r in reports(db, award) if r.id != r2.id]
    ini = write_ini(tmp_path / "tick.ini", database_url)
    first = grants("tick", str(ini))
    for report_id in late:
        assert f"reports {report_id}: mark_overdue: fired" in first.stdout
    assert f"reports {r2.id}: reminder sent" in first.stdout
    assert "amel@example.org" in first.stderr  # the console mailer printed the reminder
    second = grants("tick", str(ini))
    assert second.stdout.strip() == "nothing is due"
    with registry.database.transaction() as (_tm, db):
        assert {r.id: r.state for r in reports(db, db.get(Report, r1.id).award)} == {
            **{report_id: "overdue" for report_id in late}, r2.id: "due"}
        assert db.get(Report, r2.id).reminded_at is not None
