"""The round page's counts are kept as they change, not counted on each visit: how many
applications ever reached each state (``grants.lifecycle.models.ReachedCount``, written
with the history) and how many come from each region (``grants.applications.models.
RegionCount``, written as applications are made and organisations change their regions).
Each test compares them with a recount from the rows — the aggregates the page ran
before — after a mix of fires and region changes, two fires at once (PostgreSQL), a
`grants workflow migrate` from the command line, and migration 0023 rebuilding them."""
from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import distinct, func, select

import factories as f
from grants.accounts.models import OrganisationRegion
from grants.accounts.organisations import OWNER, add_member_without_invitation, update_organisation
from grants.applications.models import Application
from grants.lifecycle.models import HistoryEntry, StateCount
from grants.lifecycle.services import WorkflowService, reached_counts
from grants.programmes.models import Round
from grants.programmes.services import round_funnel
from test_cli import grants, write_ini

WORKFLOWS = Path(__file__).resolve().parent.parent / "workflows"


def recount(db, round_id: int) -> tuple[dict, list, int]:
    """(reached, by region, without region) counted from the history and the rows."""
    of_round = select(Application.id).where(Application.round_id == round_id)
    reached = dict(db.execute(
        select(HistoryEntry.to_state, func.count(distinct(HistoryEntry.object_id)))
        .where(HistoryEntry.object_type == "applications", HistoryEntry.object_id.in_(of_round))
        .group_by(HistoryEntry.to_state)).all())
    rows = db.execute(
        select(OrganisationRegion.region_code, func.count(distinct(Application.id))).select_from(Application)
        .outerjoin(OrganisationRegion, OrganisationRegion.organisation_id == Application.organisation_id)
        .where(Application.round_id == round_id).group_by(OrganisationRegion.region_code)).all()
    return reached, sorted((c, n) for c, n in rows if c is not None), sum(n for c, n in rows if c is None)


def kept(db, rnd: Round) -> tuple[dict, list, int]:
    """The same, as the round page reads them (the counters)."""
    funnel = round_funnel(db, rnd)
    reached = {state: n for state, n in reached_counts(db, Application, rnd.id).items() if n}
    return reached, funnel.by_region, funnel.without_region


def current(db, round_id: int) -> tuple[dict, dict]:
    """How many of the round's applications are in each workflow version and state now:
    counted from the rows, and as the database's triggers keep them (StateCount)."""
    counted = dict(((wf, version, state), n) for wf, version, state, n in db.execute(
        select(Application.workflow_id, Application.workflow_version, Application.state, func.count())
        .where(Application.round_id == round_id)
        .group_by(Application.workflow_id, Application.workflow_version, Application.state)).all())
    kept_ = dict(((wf, version, state), n) for wf, version, state, n in db.execute(
        select(StateCount.workflow_id, StateCount.workflow_version, StateCount.state, StateCount.n)
        .where(StateCount.object_type == "applications", StateCount.group_id == round_id,
               StateCount.n != 0)).all())
    return counted, kept_


def assert_kept_right(registry, *round_ids: int) -> dict:
    """The counters of each round equal the recount (the funnel's current counts too);
    the counters of the first."""
    with registry.database.transaction() as (_tm, db):
        for round_id in round_ids:
            rnd = db.get(Round, round_id)
            assert kept(db, rnd) == recount(db, round_id), round_id
            counted, kept_now = current(db, round_id)
            assert kept_now == counted, round_id
            by_state: dict[str, int] = {}
            for (_wf, _version, state), n in counted.items():
                by_state[state] = by_state.get(state, 0) + n
            assert {s: n for s, n in round_funnel(db, rnd).by_state if n} == by_state, round_id
        return kept(db, db.get(Round, round_ids[0]))


def _details(org, regions) -> dict:
    return {"legal_name": org.legal_name, "alternative_name": "", "registration_number": "2011-T-0042",
            "legal_form": "association", "country": "TN", "regions": regions, "contact_email": "", "contact_phone": ""}


def test_the_counts_equal_a_recount_after_a_mix_of_fires_and_region_changes(registry):
    with registry.database.transaction() as (_tm, db):
        rnd = f.round_(db, registry)
        other = f.round_(db, registry, rnd.programme, title="Another round")
        owner = f.user(db)
        kebili, both, nowhere = (f.organisation(db) for _ in range(3))
        for org in (kebili, both, nowhere):
            add_member_without_invitation(db, org, owner, OWNER)
        kebili.regions = ["TN-73"]
        both.regions = ["TN-81", "TN-82"]
        db.flush()
        service = WorkflowService(registry.workflows, db)
        returned = f.application(db, registry, rnd, kebili, state="submitted")
        for trigger in ("return_for_changes", "resubmit", "confirm_eligible"):  # submitted twice: counted once
            service.fire(returned, trigger, actor=f.SYSTEM, comment="Add the budget")
        withdrawn = f.application(db, registry, rnd, both, state="submitted")
        service.fire(withdrawn, "withdraw", actor=f.SYSTEM)
        f.application(db, registry, rnd, nowhere)
        f.application(db, registry, other, kebili, state="eligible")  # the other round's
        ids = rnd.id, other.id, owner.id, kebili.id, both.id, nowhere.id
    rnd_id, other_id, owner_id, kebili_id, both_id, nowhere_id = ids
    reached, by_region, without = assert_kept_right(registry, rnd_id, other_id)
    assert reached == {"draft": 3, "submitted": 2, "returned": 1, "eligible": 1, "withdrawn": 1}
    assert (by_region, without) == ([("TN-73", 1), ("TN-81", 1), ("TN-82", 1)], 1)

    # Organisations change their regions through the service the organisation page uses
    # (a Tunisian one must name one: the one dropping all of them does it on the model).
    from grants.accounts.models import Organisation, User

    with registry.database.transaction() as (_tm, db):
        owner = db.get(User, owner_id)
        for org_id, regions in ((kebili_id, ["TN-61", "TN-81"]), (nowhere_id, ["TN-73"])):
            org = db.get(Organisation, org_id)
            update_organisation(db, owner, org, _details(org, regions))
        db.get(Organisation, both_id).regions = []
        f.application(db, registry, db.get(Round, rnd_id), db.get(Organisation, kebili_id), state="submitted")
    reached, by_region, without = assert_kept_right(registry, rnd_id, other_id)
    assert reached == {"draft": 4, "submitted": 3, "returned": 1, "eligible": 1, "withdrawn": 1}
    assert (by_region, without) == ([("TN-61", 2), ("TN-73", 1), ("TN-81", 2)], 1)


def test_a_fire_that_changes_nothing_counts_nothing(registry):
    """A refused fire and a rolled-back transaction leave the counts as they were."""
    from grants.workflow import Refused

    with registry.database.transaction() as (_tm, db):
        rnd = f.round_(db, registry)
        application = f.application(db, registry, rnd, f.organisation(db, f.user(db)), complete=False)
        rnd_id, application_id = rnd.id, application.id
    before = assert_kept_right(registry, rnd_id)
    with pytest.raises(Refused):
        with registry.database.transaction() as (_tm, db):
            WorkflowService(registry.workflows, db).fire(db.get(Application, application_id), "submit",
                                                         actor=f.SYSTEM)  # nothing answered: refused
    with pytest.raises(ZeroDivisionError):
        with registry.database.transaction() as (_tm, db):
            WorkflowService(registry.workflows, db).fire(db.get(Application, application_id), "withdraw",
                                                         actor=f.SYSTEM)
            1 / 0
    assert assert_kept_right(registry, rnd_id) == before


def test_fires_and_applications_at_the_same_moment_each_count_once(registry):
    """Two submits of two applications and two new applications at once all count; two
    confirmations of one application at once count once (the loser is rolled back).  On
    PostgreSQL the loser loses at the confirmation; on SQLite, one writer at a time, it
    may lose at its first write: either way nothing of it counts."""
    from grants.workflow import Conflict

    with registry.database.transaction() as (_tm, db):
        rnd = f.round_(db, registry)
        owner = f.user(db)
        drafts = [f.application(db, registry, rnd, f.organisation(db, owner)).id for _ in range(2)]
        contested = f.application(db, registry, rnd, f.organisation(db, owner), state="submitted").id
        homes = [f.organisation(db, owner).id for _ in range(2)]
        rnd_id = rnd.id
    before, _regions, without_before = assert_kept_right(registry, rnd_id)
    barrier = threading.Barrier(2, timeout=30)
    outcomes: dict[int, str] = {}

    def at_once(i):
        from grants.accounts.models import Organisation

        try:
            with registry.database.transaction() as (tm, db):
                service = WorkflowService(registry.workflows, db, transaction_manager=tm)
                mine, theirs = db.get(Application, drafts[i]), db.get(Application, contested)
                assert theirs.state == "submitted"
                barrier.wait()  # both have read before either writes
                service.fire(mine, "submit", actor=f.SYSTEM)
                f.application(db, registry, db.get(Round, rnd_id), db.get(Organisation, homes[i]), complete=False)
                service.fire(theirs, "confirm_eligible", actor=f.SYSTEM)
            outcomes[i] = "won"
        except Conflict:
            outcomes[i] = "conflict"

    threads = [threading.Thread(target=at_once, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(90)
    assert sorted(outcomes.values()) == ["conflict", "won"], outcomes
    reached, _regions, without = assert_kept_right(registry, rnd_id)
    # The winner's submit, new application and confirmation; the loser's went with its transaction.
    assert (reached["submitted"], reached["draft"], reached["eligible"]) == (
        before["submitted"] + 1, before["draft"] + 1, before.get("eligible", 0) + 1)
    assert without == without_before + 1


def test_two_submits_at_once_both_count(registry, database_url):
    """Two applications of one round submitted in two transactions at the same moment:
    each adds one to the same counter (on SQLite the second may be told to try again)."""
    from grants.workflow import Conflict

    with registry.database.transaction() as (_tm, db):
        rnd = f.round_(db, registry)
        owner = f.user(db)
        drafts = [f.application(db, registry, rnd, f.organisation(db, owner)).id for _ in range(2)]
        rnd_id = rnd.id
    barrier = threading.Barrier(2, timeout=30)
    outcomes: dict[int, str] = {}

    def submit(i):
        try:
            with registry.database.transaction() as (tm, db):
                application = db.get(Application, drafts[i])
                barrier.wait()
                WorkflowService(registry.workflows, db, transaction_manager=tm).fire(application, "submit",
                                                                                    actor=f.SYSTEM)
            outcomes[i] = "won"
        except Conflict:
            outcomes[i] = "conflict"

    threads = [threading.Thread(target=submit, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(90)
    if database_url.startswith("postgresql"):
        assert outcomes == {0: "won", 1: "won"}
    reached, _regions, _without = assert_kept_right(registry, rnd_id)
    assert reached["submitted"] == sum(1 for o in outcomes.values() if o == "won")


def test_the_counts_follow_a_workflow_migrate_from_the_command_line(tmp_path, database_url, registry):
    """Moving applications to v2 of their workflow writes history rows: the states they are
    moved to count as reached, once per application."""
    extra = tmp_path / "v2"
    extra.mkdir()
    (extra / "application_v2.toml").write_text(
        (WORKFLOWS / "application.toml").read_text().replace("version = 1", "version = 2", 1))
    ini = write_ini(tmp_path / "t.ini", database_url, **{"grants.workflow_dirs": str(extra)})
    with registry.database.transaction() as (_tm, db):
        rnd = f.round_(db, registry)
        owner = f.user(db)
        for state in ("draft", "submitted", "submitted", "eligible"):
            f.application(db, registry, rnd, f.organisation(db, owner), state=state)
        rnd_id = rnd.id
    before, _regions, _without = assert_kept_right(registry, rnd_id)
    proc = grants("workflow", "migrate", str(ini), "application", "--from", "1", "--to", "2",
                  "--map", "submitted=eligible")
    assert "submitted -> eligible: 2" in proc.stdout, proc.stdout
    reached, _regions, _without = assert_kept_right(registry, rnd_id)
    assert before["eligible"] == 1 and reached["eligible"] == 3  # the one already eligible counts once
    assert reached["submitted"] == before["submitted"] == 3


def test_migration_0023_makes_the_counts_from_the_rows(grants_empty_database_url, tmp_path):
    """On a database holding applications and history, the migration's counts are those
    the services kept (dropped by a downgrade, made again by the upgrade)."""
    from alembic import command

    from grants import make_app
    from grants.migrations import alembic_config

    settings = {"sqlalchemy.url": grants_empty_database_url, "grants.secret": "test", "mail.backend": "console",
                "grants.files_dir": str(tmp_path / "files")}
    cfg = alembic_config(settings)
    command.upgrade(cfg, "heads")
    app_registry = make_app(settings).registry
    try:
        with app_registry.database.transaction() as (_tm, db):
            rnd = f.round_(db, app_registry)
            owner = f.user(db)
            sfax, nowhere = f.organisation(db, owner), f.organisation(db, owner)
            sfax.regions = ["TN-61", "TN-73"]
            db.flush()
            for org, state in ((sfax, "eligible"), (sfax, "submitted"), (nowhere, "draft")):
                f.application(db, app_registry, rnd, org, state=state)
            rnd_id = rnd.id
        kept_by_services = assert_kept_right(app_registry, rnd_id)
        assert kept_by_services == ({"draft": 3, "submitted": 2, "eligible": 1}, [("TN-61", 2), ("TN-73", 2)], 1)
        command.downgrade(cfg, "0022_mail_outbox")
        command.upgrade(cfg, "heads")
        assert assert_kept_right(app_registry, rnd_id) == kept_by_services
    finally:
        app_registry.database.engine.dispose()


def test_two_fires_taking_counters_in_opposite_orders_one_is_a_conflict(registry, database_url):
    """Each fire holds its round's counter of the state it reached until it commits (and
    the current counts of the states it left and entered).  Two transactions that each
    fire twice, into the same two states in opposite orders, from states the other does
    not touch first, wait on each other: PostgreSQL ends the deadlock by failing one, and
    that one is a Conflict (a 409 on a page), not an error; the other commits, and the
    counts stay right."""
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite lets one writer at a time: no two transactions hold rows at once")
    from grants.workflow import Conflict

    with registry.database.transaction() as (tm, db):
        rnd = f.round_(db, registry)
        owner = f.user(db)
        drafts = [f.application(db, registry, rnd, f.organisation(db, owner)).id for _ in range(3)]
        eligible = [f.application(db, registry, rnd, f.organisation(db, owner), state="eligible").id
                    for _ in range(3)]
        service = WorkflowService(registry.workflows, db, transaction_manager=tm)
        # The counters exist before the race, so each fire updates (and locks) rows.
        service.fire(db.get(Application, drafts[2]), "submit", actor=f.SYSTEM)
        service.fire(db.get(Application, eligible[2]), "withdraw", actor=f.SYSTEM)
        rnd_id = rnd.id
    # The first steps share no counter (draft→submitted, eligible→withdrawn); the second
    # steps each want the "reached" counter the other's first step holds.
    orders = {0: [(drafts[0], "submit"), (eligible[0], "withdraw")],
              1: [(eligible[1], "withdraw"), (drafts[1], "submit")]}
    barrier = threading.Barrier(2, timeout=30)
    outcomes: dict[int, str] = {}

    def fire_both(i):
        try:
            with registry.database.transaction() as (tm, db):
                service = WorkflowService(registry.workflows, db, transaction_manager=tm)
                for step, (application_id, trigger) in enumerate(orders[i]):
                    service.fire(db.get(Application, application_id), trigger, actor=f.SYSTEM)
                    if step == 0:
                        barrier.wait()  # each holds its first counter before asking for the other's
            outcomes[i] = "won"
        except Conflict as conflict:  # told the database was busy, and to try again
            outcomes[i] = "conflict" if "busy" in str(conflict) else f"another conflict: {conflict}"

    threads = [threading.Thread(target=fire_both, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(90)
    assert sorted(outcomes.values()) == ["conflict", "won"], outcomes
    reached, _regions, _without = assert_kept_right(registry, rnd_id)
    # submitted: the three made eligible (through "submitted"), the one before the race, the winner's
    assert (reached["submitted"], reached["withdrawn"]) == (5, 2)


def test_rows_moved_or_deleted_outside_the_services_are_counted(registry):
    """The current counts are kept by the database, so an UPDATE or DELETE written by
    hand (an operator's fix, a bulk job) keeps them right too.  (The "reached" and region
    counts are kept by the services: SQL written by hand must add to them itself.)"""
    from sqlalchemy import delete, update

    with registry.database.transaction() as (_tm, db):
        rnd = f.round_(db, registry)
        other = f.round_(db, registry, rnd.programme, title="Another round")
        owner = f.user(db)
        ids = [f.application(db, registry, rnd, f.organisation(db, owner), state=state).id
               for state in ("draft", "submitted", "submitted", "eligible")]
        rnd_id, other_id = rnd.id, other.id
    with registry.database.transaction() as (_tm, db):
        db.execute(update(Application).where(Application.id == ids[1]).values(state="ineligible"))
        db.execute(update(Application).where(Application.id == ids[2]).values(round_id=other_id))
        db.execute(update(Application).where(Application.id == ids[3]).values(title="Renamed"))  # not counted
        db.execute(delete(Application).where(Application.id == ids[0]))
    with registry.database.transaction() as (_tm, db):
        for round_id in (rnd_id, other_id):
            counted, kept_now = current(db, round_id)
            assert kept_now == counted, round_id
        assert {s: n for s, n in round_funnel(db, db.get(Round, rnd_id)).by_state if n} == {
            "ineligible": 1, "eligible": 1}
        assert {s: n for s, n in round_funnel(db, db.get(Round, other_id)).by_state if n} == {"submitted": 1}
