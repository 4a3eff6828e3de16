"""Local roles are asked once per object and person between writes (pages check many
permissions on the same lineage), and a write makes them asked again."""
from __future__ import annotations

import io

from sqlalchemy import event

import factories as f
from grants.security import local_roles


class Queries:
    def __init__(self, engine):
        self.engine, self.count = engine, 0

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self._count)
        return self

    def __exit__(self, *exc):
        event.remove(self.engine, "before_cursor_execute", self._count)

    def _count(self, *args):
        self.count += 1


def test_roles_are_asked_once_until_the_next_write(registry):
    with registry.database.transaction() as (_tm, db):
        officer, member = f.user(db), f.user(db)
        rnd = f.round_(db, registry)
        f.grant_role(db, officer, "programme_officer", rnd.programme)
        application = f.application(db, registry, rnd, f.organisation(db, member), state="submitted")
        db.flush()
        engine = db.get_bind()

        with Queries(engine) as first:
            assert "programme_officer" in local_roles(application, officer)
        with Queries(engine) as again:
            for _ in range(5):
                assert "programme_officer" in local_roles(application, officer)
        with Queries(engine) as someone_else:
            assert "applicant" in local_roles(application, member)
        # the application, its round and its programme asked together, once per person
        assert first.count == 1 and again.count == 0 and someone_else.count == first.count

        # a role granted now is seen at once: unflushed, the cache is not used; flushed, it is emptied
        f.grant_role(db, member, "reviewer", application)
        assert "reviewer" in local_roles(application, member)
        db.flush()
        assert "reviewer" in local_roles(application, member)
        assert "reviewer" not in local_roles(application, officer)


def _roles_statements(sent: list[str]) -> list[str]:
    """The statements asking someone's roles on objects (``lineage_roles``,
    ``remember_roles``), not the lists' filters that read the ids holding a role."""
    return [s for s in sent if s.lstrip().startswith("SELECT local_roles.role")]


def test_roles_asked_together_are_those_asked_one_by_one(registry):
    """``remember_roles`` asks every object at once what each would answer alone: for
    every person of the demo (and the applicants of a grown round) on every application,
    grant, round and programme."""
    from sqlalchemy import select

    from grants.accounts.models import ROLE_CACHE, User, queried_roles, remember_roles
    from grants.applications.models import Application
    from grants.awards.models import Award
    from grants.demo import load_demo
    from grants.programmes.models import Programme, Round
    from test_page_statements import _grow_to
    from grants.testing import Statements

    load_demo(registry, out=io.StringIO())
    _grow_to(registry, 40)
    with registry.database.transaction() as (_tm, db):
        objects = [obj for model in (Application, Award, Round, Programme) for obj in db.scalars(select(model))]
        users = db.scalars(select(User)).all()
        assert len(objects) > 40 and len(users) > 8
        held = 0
        for user in users:
            alone = {obj: queried_roles(obj, user) for obj in objects}
            db.info.pop(ROLE_CACHE, None)
            with Statements(db.get_bind()) as sent:
                remember_roles(objects, user)
            assert len(sent.sent) == 1, sent.sent
            cache = db.info[ROLE_CACHE]
            assert {obj: set(cache[(type(obj).__name__, obj.id, user.id)]) for obj in objects} == alone, user.email
            with Statements(db.get_bind()) as again:  # remembered: asked no more, alone or together
                remember_roles(objects, user)
                assert all(local_roles(obj, user) >= alone[obj] for obj in objects)
            assert again.sent == []
            held += sum(1 for roles in alone.values() if roles)
        assert held > 20  # the demo's people hold roles here: the comparison compares something


def test_my_tasks_and_the_home_page_ask_roles_once(registry, testapp):
    """The tasks page, a full list of one kind of task and the home page ask the roles of
    the reader on all the objects they show in one statement, not one per object listed,
    for everyone in the demo, with a round full enough to fill every list."""
    from grants.demo import DEMO_PASSWORD, load_demo
    from test_page_statements import _grow_to
    from grants.testing import Statements

    people = [person.email for person in load_demo(registry, out=io.StringIO())]
    _grow_to(registry, 40)
    engine = registry.database.engine
    asked = {}
    for email in people:
        testapp.reset()
        f.sign_in(testapp, email, DEMO_PASSWORD)
        for page in ("/tasks", "/tasks?kind=screen", "/tasks?kind=steps-applications", "/"):
            testapp.get(page, status=200)  # once to warm what a process keeps
            with Statements(engine) as sent:
                response = testapp.get(page, status=200)
            asked[(email, page)] = _roles_statements(sent.sent)
            if email == "officer@example.org" and page == "/tasks":
                tasks = response
    assert {key: len(found) for key, found in asked.items() if len(found) > 1} == {}
    # The officer's tasks do need roles (steps on the applications to screen and others):
    # asked, once.
    assert len(asked[("officer@example.org", "/tasks")]) == 1
    assert "Screen the application" in tasks.text
