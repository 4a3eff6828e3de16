"""Why local roles are remembered per session between writes (``cached_roles`` in
grants/accounts/models.py): a page over a round's applications checks permissions on each
of them, and each check walks the lineage — application, round, programme — asking every
node for the person's roles (in one statement, ``lineage_roles``).  Times the same
permission checks with the cache and with the cache emptied before each check, on a real
SQLite database.  Prints the ratio and the number of queries.

    python bench/local_roles.py [N applications] [passes]
"""
from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from alembic import command
from sqlalchemy import event

from grants import make_config
from grants.accounts.models import ROLE_CACHE, LocalRole, Organisation, User
from grants.applications.models import Application
from grants.lifecycle.services import WorkflowService
from grants.migrations import alembic_config
from grants.programmes.models import Programme, Round
from grants.security import local_roles
from grants.workflow import Actor

def main(n: int = 250, passes: int = 4) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        settings = {"sqlalchemy.url": f"sqlite:///{Path(tmp) / 'bench.sqlite'}", "grants.secret": "bench",
                    "mail.backend": "console", "grants.files_dir": tmp}
        command.upgrade(alembic_config(settings), "heads")
        registry = make_config(settings).registry
        with registry.database.transaction() as (_tm, db):
            officer = User(email="officer@example.org", name="Officer", password_hash="-")
            programme = Programme(title="BLADI", currency="TND")
            db.add_all([officer, programme])
            db.flush()
            db.add(LocalRole(user_id=officer.id, role="programme_officer", object_type="programmes",
                             object_id=programme.id))
            rnd = Round(programme=programme, title="Call 1", timezone="Africa/Tunis")
            service = WorkflowService(registry.workflows, db)
            service.start(rnd, actor=Actor.system_actor())
            for i in range(n):
                org = Organisation(legal_name=f"Association {i}", country="TN")
                service.start(Application(round=rnd, organisation=org, title=f"Project {i}"),
                              actor=Actor.system_actor())
            db.flush()
            applications = list(rnd.applications)
            engine = db.get_bind()

            queries = [0]
            event.listen(engine, "before_cursor_execute", lambda *a: queries.__setitem__(0, queries[0] + 1))

            def run(forget: bool) -> tuple[float, int]:
                queries[0] = 0
                start = time.perf_counter()
                for _ in range(passes):
                    for application in applications:
                        if forget:  # the baseline: the lineage asked again on every check
                            db.info.pop(ROLE_CACHE, None)
                        assert "programme_officer" in local_roles(application, officer)
                return time.perf_counter() - start, queries[0]

            db.info.clear()
            cached, cached_queries = run(forget=False)
            uncached, uncached_queries = run(forget=True)

    checks = n * passes
    print(f"{checks} permission checks ({n} applications, {passes} passes), one officer")
    print(f"remembered per session: {cached * 1000:8.1f} ms, {cached_queries} queries")
    print(f"asked every time:       {uncached * 1000:8.1f} ms, {uncached_queries} queries")
    print(f"ratio every-time / remembered: {uncached / cached:.1f}x")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
