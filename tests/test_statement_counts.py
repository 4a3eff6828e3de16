"""Firing a transition costs its writes, not a walk of the database: the statements one
fire sends are counted (SQLAlchemy's ``before_cursor_execute``) and bounded, and they do
not grow with the number of applications in the round.

The bounds, statement by statement (the object and the person are loaded by the caller —
a page has them from traversal and the session — and loading the object brings its
round and programme in the same statement, ``WorkflowService.load``):

- withdraw (no guard, no effect): the roles of the person on the application, its round
  and its programme (1, ``grants.accounts.models.lineage_roles``); one more to the
  round's count of applications that ever reached the new state, unless this one had
  been there (1, ``grants.lifecycle.services.count_reached``); the history row (1); the
  application's new state (1).  Four.
- submit: the same four, and what its guards and effects read: the attachments, the
  organisation and the round's tiers, in one statement (``answers_complete``), the
  eligibility checks (``evaluate_on_submit``), the people to send the receipt to
  (``confirm_submission``) and the receipt itself, written to the mail outbox in the
  same transaction, already claimed for sending at once (``grants.mail``).  Eight.
"""
from __future__ import annotations

import pytest
from pyramid.interfaces import ILocalizer
from sqlalchemy import func, select, text

import factories as f
from grants.accounts.models import User
from grants.applications.models import Application
from grants.i18n import _, translate_for
from grants.lifecycle.models import HistoryEntry
from grants.lifecycle.services import WorkflowService
from grants.testing import Statements, build_site, make_application

BOUNDS = {"withdraw": 4, "submit": 8}


def _fire(registry, application_id: int, user_id: int, trigger: str) -> list[str]:
    """Fire ``trigger`` in a transaction of its own; the statements of the fire itself."""
    with registry.database.transaction() as (tm, db):
        service = WorkflowService(registry.workflows, db, transaction_manager=tm)
        with Statements(db.get_bind()) as loading:
            application = service.load(Application, application_id)
            application.round.programme  # noqa: B018 - already there: no statement
        assert len(loading.sent) == 1, loading.sent
        user = db.get(User, user_id)
        with Statements(db.get_bind()) as firing:
            service.fire(application, trigger, user)
    with registry.database.transaction() as (_tm, db):
        moved = db.get(Application, application_id)
        assert moved.state == {"withdraw": "withdrawn", "submit": "submitted"}[trigger]
        assert db.scalar(select(func.count()).select_from(HistoryEntry).where(
            HistoryEntry.object_type == "applications", HistoryEntry.object_id == application_id,
            HistoryEntry.trigger == trigger)) == 1
    return firing.sent


def _add_applications(registry, round_id: int, n: int) -> None:
    """``n`` more applications in the round, from organisations of their own."""
    from grants.programmes.models import Round

    with registry.database.transaction() as (_tm, db):
        rnd = db.get(Round, round_id)
        for _i in range(n):
            f.application(db, registry, rnd, f.organisation(db, f.user(db)), complete=False)


def test_a_fire_sends_a_bounded_number_of_statements_whatever_the_size_of_the_round(registry):
    site = build_site(registry)
    counts = {}
    for size in (10, 200):
        with registry.database.transaction() as (_tm, db):
            already = db.scalar(select(func.count()).select_from(Application)
                                .where(Application.round_id == site.round.id))
        _add_applications(registry, site.round.id, size - already - 2)
        to_withdraw = make_application(registry, site, title=f"Withdrawn at {size}")
        to_submit = make_application(registry, site, title=f"Submitted at {size}")
        with registry.database.transaction() as (_tm, db):
            assert db.scalar(select(func.count()).select_from(Application)
                             .where(Application.round_id == site.round.id)) == size
        counts[size] = {"withdraw": _fire(registry, to_withdraw, site.member.id, "withdraw"),
                        "submit": _fire(registry, to_submit, site.member.id, "submit")}
    for trigger, bound in BOUNDS.items():
        small, large = counts[10][trigger], counts[200][trigger]
        assert len(small) <= bound, (trigger, small)
        assert len(large) == len(small), (trigger, small, large)


def test_roles_of_the_whole_lineage_come_in_one_statement(registry):
    """An officer of the programme and a member of the applying organisation each get
    their roles from the application, its round and its programme in one statement;
    asked again, none."""
    from grants.security import local_roles

    with registry.database.transaction() as (_tm, db):
        officer, member, stranger = f.user(db), f.user(db), f.user(db)
        rnd = f.round_(db, registry)
        f.grant_role(db, officer, "programme_officer", rnd.programme)
        f.grant_role(db, member, "evaluator", rnd)
        application = f.application(db, registry, rnd, f.organisation(db, member), complete=False)
        application_id = application.id
    with registry.database.transaction() as (_tm, db):
        application = WorkflowService(registry.workflows, db).load(Application, application_id)
        people = {u.id: u for u in db.scalars(select(User).where(User.id.in_([officer.id, member.id, stranger.id])))}
        for person, expected, absent in ((officer, {"programme_officer"}, {"applicant", "evaluator"}),
                                         (member, {"applicant", "evaluator"}, {"programme_officer"}),
                                         (stranger, set(), {"applicant", "evaluator", "programme_officer"})):
            with Statements(db.get_bind()) as first:
                roles = local_roles(application, people[person.id])
            with Statements(db.get_bind()) as again:
                assert local_roles(application, people[person.id]) == roles
            assert expected <= roles and not (absent & roles), (roles, expected)
            assert len(first.sent) == 1 and again.sent == []


def test_the_mail_localizer_is_built_once_per_language(registry):
    """Mail translates with the localizer the registry keeps for the language (the one
    requests use), made on first use and then reused."""
    message = _("Your application “${title}” is returned to you for changes", mapping={"title": "T"})
    first = translate_for(registry, "fr", message)
    kept = registry.queryUtility(ILocalizer, name="fr")
    again = translate_for(registry, "fr", message)
    assert kept is not None and registry.queryUtility(ILocalizer, name="fr") is kept
    assert first == again and first != message.interpolate()  # really French
    assert translate_for(registry, "en", message) == message.interpolate()


def test_sqlite_writes_ahead(database):
    """SQLite runs in WAL mode with synchronous=NORMAL (grants.db): commits append to the
    log rather than rewriting a journal, and readers do not block the writer."""
    if database.engine.dialect.name != "sqlite":
        pytest.skip("a SQLite setting")
    with database.engine.connect() as conn:
        assert conn.scalar(text("PRAGMA journal_mode")) == "wal"
        assert conn.scalar(text("PRAGMA synchronous")) == 1  # NORMAL
