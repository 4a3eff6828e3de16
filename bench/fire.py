"""What firing a transition costs next to the cheapest write there is.

In one run, on each database, it times, interleaved over several repeats:

- a bare write: one row inserted into a one-column table, in a transaction of its own;
- a fire of ``withdraw`` and of ``submit`` on an application, each in a transaction of its
  own, as a page would: the application loaded (with its round and programme), the
  person loaded, permission, guards, the new state, the history row, the effects (the
  receipt of ``submit`` is mailed to a maildir after commit), commit.

It prints each rate (per second) and the fire rate ÷ the bare rate: 1.0 would be a fire
as cheap as the one-row INSERT + COMMIT.  Nothing is asserted; figures vary with the
machine.  Databases:

- SQLite: a file in a temporary folder, with the pragmas of ``grants.db`` (WAL).
- PostgreSQL: ``GRANTS_BENCH_DATABASE_URL`` (default
  ``postgresql+psycopg://postgres@127.0.0.1:5432/test``), in a schema of its own
  made for the run and dropped after; ``--no-postgresql`` skips it.

    python bench/fire.py [--fires N] [--repeats R] [--no-postgresql]
"""
from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from alembic import command
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, insert, text

from grants import make_config
from grants.accounts.models import User
from grants.applications.models import Application
from grants.lifecycle.services import WorkflowService
from grants.migrations import alembic_config
from grants.testing import build_site, make_application, scratch_schema

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"

bare_rows = Table("bench_bare_writes", MetaData(), Column("id", Integer, primary_key=True), Column("note", String(40)))


def load(service: WorkflowService, application_id: int):
    # ``WorkflowService.load`` joins the parents in; the code before it had only ``get``
    # (kept so that this script also measures the earlier code, for comparison).
    if hasattr(service, "load"):
        return service.load(Application, application_id)
    return service.dbsession.get(Application, application_id)


def measure(url: str, tmp: Path, fires: int, repeats: int) -> dict[str, list[float]]:
    settings = {"sqlalchemy.url": url, "grants.secret": "bench", "mail.backend": "maildir",
                "mail.maildir": str(tmp / "mail"), "grants.files_dir": str(tmp / "files")}
    command.upgrade(alembic_config(settings), "heads")
    registry = make_config(settings).registry
    database = registry.database
    bare_rows.create(database.engine)
    site = build_site(registry)
    # Complete applications in draft, each fired once: ``submit`` takes one to submitted,
    # ``withdraw`` another to withdrawn.
    drafts = {trigger: [[make_application(registry, site, title=f"{trigger} {r}.{i}") for i in range(fires)]
                        for r in range(repeats)] for trigger in ("submit", "withdraw")}

    def bare(_r: int) -> None:
        for i in range(fires):
            with database.engine.begin() as conn:
                conn.execute(insert(bare_rows).values(note=f"row {i}"))

    def fire(trigger: str):
        def run(r: int) -> None:
            for application_id in drafts[trigger][r]:
                with database.transaction() as (tm, db):
                    service = WorkflowService(registry.workflows, db, transaction_manager=tm)
                    application = load(service, application_id)
                    service.fire(application, trigger, db.get(User, site.member.id))
        return run

    rates: dict[str, list[float]] = {"bare": [], "withdraw": [], "submit": []}
    runs = {"bare": bare, "withdraw": fire("withdraw"), "submit": fire("submit")}
    for r in range(repeats):  # interleaved, so a slow moment of the machine hits all alike
        for name, run in runs.items():
            start = time.perf_counter()
            run(r)
            rates[name].append(fires / (time.perf_counter() - start))
    with database.transaction() as (_tm, db):  # every fire really happened
        moved = db.scalars(text("SELECT state FROM applications")).all()
        assert moved.count("withdrawn") == moved.count("submitted") == fires * repeats, moved
    database.engine.dispose()
    return rates


def report(name: str, rates: dict[str, list[float]]) -> None:
    bare = statistics.median(rates["bare"])
    print(f"{name}: bare INSERT+COMMIT {bare:8.0f}/s")
    for trigger in ("withdraw", "submit"):
        rate = statistics.median(rates[trigger])
        ratios = ", ".join(f"{f / b:.2f}" for f, b in zip(rates[trigger], rates["bare"]))
        print(f"{name}: fire {trigger:<8} {rate:8.0f}/s   ratio {rate / bare:.2f}x  (per repeat: {ratios})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fires", type=int, default=100, help="fires of each kind per repeat")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--no-postgresql", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        report("SQLite", measure(f"sqlite:///{folder / 'bench.sqlite'}", folder / "sqlite", args.fires, args.repeats))
        if not args.no_postgresql:
            with scratch_schema(os.environ.get("GRANTS_BENCH_DATABASE_URL", DEFAULT_PG)) as url:
                report("PostgreSQL", measure(url, folder / "pg", args.fires, args.repeats))


if __name__ == "__main__":
    main()
