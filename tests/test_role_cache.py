"""Local roles are asked once per object and person between writes (pages check many
permissions on the same lineage), and a write makes them asked again."""
from __future__ import annotations

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
