"""What the main pages cost at 1,000, 10,000 and 100,000 applications, next to a hello-world,
and how many SQL statements each sends.

The app is served by waitress with the threads of development.ini (waitress' default, 4)
in a process of its own, on a database holding the demo (``grants demo``) and N seeded
applications in its open round (``grants bench seed``, grants.demo.seed); a Pyramid app
answering "Hello" is served the same way from another process.  The load comes from
``wrk`` when it is on PATH (Debian package ``wrk``), else from a Python generator in this
process (threads, each with a keep-alive http.client connection); neither shares a GIL
with the servers.  The output says which was used.  Each page is asked for alone for a
fixed time; pages and the hello-world are interleaved over several repeats, so a slow
moment of the machine hits all alike.  Printed for each size: each page's rate (requests
per second, median of the repeats), its ratio to the hello-world's and the SQL statements
one request sends (counted by SQLAlchemy's ``before_cursor_execute`` on an app built in
this process on the same database, as tests/test_page_statements.py does).  At the end: a
table of rates, ratios to the hello-world and how much slower each page is at the largest
size than at the smallest (1.0: a page that costs the same at any size), then every page
whose statement count changed between those sizes, with the statements that did.

Signing in goes through the real login form (webtest on the same database, once per
person); the session cookie it gets is then sent over HTTP.  Nothing is asserted; figures
vary with the machine.  Databases: SQLite in a temporary folder; PostgreSQL at
``GRANTS_BENCH_DATABASE_URL`` (default ``postgresql+psycopg://postgres@127.0.0.1:5432/test``)
in a schema of its own, dropped after; after each seeding the planner's statistics are
refreshed, as autovacuum would soon after a bulk load (PostgreSQL) and ``grants tick`` does
(SQLite) (``--no-sqlite``, ``--no-postgresql`` skip one).

    python bench/pages.py [--sizes 1000 10000 100000] [--seconds 2] [--repeats 3] [--clients 4]
"""
from __future__ import annotations

import argparse
import configparser
import http.client
import io
import json
import logging
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import webtest
from alembic import command
from pyramid.config import Configurator
from pyramid.response import Response
from sqlalchemy import func, select, text
from waitress.server import create_server

from grants import make_app
from grants.applications.models import Application
from grants.demo import DEMO_PASSWORD, load_demo
from grants.demo.seed import open_demo_round, seed_applications
from grants.migrations import alembic_config
from grants.reporting import public
from grants.db import refresh_statistics
from grants.testing import Statements, scratch_schema

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
PEOPLE = ("officer", "applicant", "reviewer")
# Issue 13's acceptance, at the largest size: at least this share of the hello-world's
# rate, and at most this much slower than at the smallest size.
TARGET_RATIO, TARGET_GROWTH = 0.25, 1.5


def ini_threads() -> int:
    """The waitress threads development.ini asks for (waitress' default, 4, when it names none)."""
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(Path(__file__).resolve().parent.parent / "development.ini")
    return parser.getint("server:main", "threads", fallback=4)


THREADS = ini_threads()


def hello_app():
    config = Configurator()
    config.add_route("hello", "/")
    config.add_view(lambda request: Response("Hello"), route_name="hello")
    return config.make_wsgi_app()


def serve(which: str, settings: dict) -> None:
    """The child process: serve the grants app or the hello-world on a free port, printed first."""
    app = hello_app() if which == "hello" else make_app(settings)
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)  # "queue depth" is the load itself
    server = create_server(app, host="127.0.0.1", port=0, threads=THREADS)
    print(server.effective_port, flush=True)
    server.run()


class Served:
    """A WSGI app behind waitress in a process of its own (``serve``), so that the load
    generator and the other server take nothing from its GIL."""

    def __init__(self, which: str, settings: dict | None = None):
        self.process = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--serve", which, "--settings", json.dumps(settings or {})],
            stdout=subprocess.PIPE, text=True)
        line = self.process.stdout.readline()
        if not line.strip().isdigit():
            self.process.kill()
            raise RuntimeError(f"the {which} server did not start (its errors are above)")
        self.port = int(line)

    def close(self):
        self.process.terminate()
        self.process.wait(timeout=30)


def warm(port: int, path: str, cookie: str, times: int = 5) -> None:
    """A few requests, one at a time, each of which must answer 200: what a process keeps
    (translations, templates, the report cache) is loaded, and a lost sign-in is told."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    headers = {"Host": "localhost", "Cookie": cookie} if cookie else {"Host": "localhost"}
    for _i in range(times):
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        response.read()
        if response.status != 200:
            raise RuntimeError(f"{path}: {response.status}")
    conn.close()


def load_python(port: int, path: str, cookie: str, seconds: float, clients: int) -> float:
    """Requests per second answered 200 by ``clients`` threads asking for ``path``."""
    done, stop = [0] * clients, time.perf_counter() + seconds

    def client(i):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        headers = {"Host": "localhost", "Cookie": cookie} if cookie else {"Host": "localhost"}
        while time.perf_counter() < stop:
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                raise RuntimeError(f"{path}: {response.status}")
            done[i] += 1
        conn.close()

    start = time.perf_counter()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(done) / (time.perf_counter() - start)


def load_wrk(port: int, path: str, cookie: str, seconds: float, clients: int) -> float:
    """The same with wrk: one thread of its own (C, no GIL) holding ``clients`` keep-alive
    connections.  wrk takes whole seconds; an answer other than 2xx/3xx or a socket error
    (a timeout is one) spoils the figure, so it stops the run."""
    cmd = ["wrk", "-t1", f"-c{clients}", f"-d{max(1, round(seconds))}s", "--timeout", "120s",
           "-H", "Host: localhost"]
    if cookie:
        cmd += ["-H", f"Cookie: {cookie}"]
    out = subprocess.run([*cmd, f"http://127.0.0.1:{port}{path}"], capture_output=True, text=True,
                         check=True).stdout
    if "Non-2xx" in out or "Socket errors" in out:
        raise RuntimeError(f"{path}: wrk saw failures\n{out}")
    return float(re.search(r"Requests/sec:\s+([0-9.]+)", out).group(1))


def browser(app, email: str | None) -> webtest.TestApp:
    """A webtest browser on ``app``, signed in through the login form unless ``email`` is None."""
    testapp = webtest.TestApp(app, extra_environ={"HTTP_HOST": "localhost"})
    if email is not None:
        page = testapp.get("/login")
        form = next(f for key, f in page.forms.items()
                    if isinstance(key, int) and f.id not in ("language-form", "logout-form"))
        form["email"], form["password"] = email, DEMO_PASSWORD
        form.submit().follow()
    return testapp


def cookie_header(testapp: webtest.TestApp) -> str:
    return "; ".join(f"{c.name}={c.value}" for c in testapp.cookiejar)


def statements(engine, browsers: dict, pages: dict) -> dict:
    """For each page but the hello-world, the statements one request sends (after a first
    request that loads what a process keeps)."""
    sent = {}
    for page, (who, path) in pages.items():
        if who == "hello":
            continue
        browsers[who].get(path, status=200)
        with Statements(engine) as counted:
            browsers[who].get(path, status=200)
        sent[page] = counted.sent
    return sent


def grow(registry, size: int) -> tuple[dict, float]:
    """The open round brought to ``size`` applications; the page paths and seconds taken."""
    with registry.database.transaction() as (_tm, db):
        already = db.scalar(select(func.count(Application.id)).where(Application.round_id == open_demo_round(db).id))
    start = time.perf_counter()
    if size > already:
        seed_applications(registry, size - already)
    seeded = time.perf_counter() - start
    # Fresh planner statistics, as autovacuum gives a bulk load soon after on PostgreSQL
    # and the next `grants tick` on SQLite (grants.db.refresh_statistics).
    refresh_statistics(registry.database.engine)
    with registry.database.transaction() as (_tm, db):
        if db.get_bind().dialect.name == "postgresql":
            db.execute(text("ANALYZE"))
        rnd = open_demo_round(db)
        public.publish_report(db, rnd)
        submitted = db.scalar(select(func.min(Application.id)).where(Application.round_id == rnd.id,
                                                                      Application.state == "submitted"))
        base = f"/programmes/{rnd.programme_id}/rounds/{rnd.id}"
    # Page: (who asks, path); "hello" is the hello-world's server, None an anonymous visitor.
    return {
        "hello-world": ("hello", "/"),
        "home (officer)": ("officer", "/"),
        "home (applicant)": ("applicant", "/"),
        "home (reviewer)": ("reviewer", "/"),
        "my tasks (officer)": ("officer", "/tasks"),
        "my tasks (applicant)": ("applicant", "/tasks"),
        "my tasks (reviewer)": ("reviewer", "/tasks"),
        "your reviews (reviewer)": ("reviewer", "/reviews"),
        "round page (officer)": ("officer", base),
        "screening (officer)": ("officer", f"{base}/@@screening"),
        "awards (officer)": ("officer", f"{base}/@@awards"),
        "application (officer)": ("officer", f"{base}/applications/{submitted}"),
        "public report": (None, f"{base}/@@public-report"),
    }, seeded


def measure(url: str, tmp: Path, sizes, seconds: float, repeats: int, clients: int, name: str, load) -> dict:
    settings = {"sqlalchemy.url": url, "grants.secret": "bench", "mail.backend": "maildir",
                "mail.maildir": str(tmp / "mail"), "grants.files_dir": str(tmp / "files")}
    command.upgrade(alembic_config(settings), "heads")
    app = make_app(settings)
    load_demo(app.registry, out=io.StringIO())
    browsers = {who: browser(app, f"{who}@example.org") for who in PEOPLE}
    browsers[None] = browser(app, None)
    cookies = {who: cookie_header(b) for who, b in browsers.items()}
    cookies["hello"] = ""
    servers = {"grants": Served("grants", settings), "hello": Served("hello")}
    results = {}
    try:
        for size in sizes:
            pages, seeded = grow(app.registry, size)
            print(f"{name}: {size} applications (seeding took {seeded:.1f} s)", flush=True)
            port = {page: servers["hello" if who == "hello" else "grants"].port for page, (who, _p) in pages.items()}
            sent = statements(app.registry.database.engine, browsers, pages)
            for page, (who, path) in pages.items():
                warm(port[page], path, cookies[who])
            rates = {page: [] for page in pages}
            for _r in range(repeats):
                for page, (who, path) in pages.items():
                    rates[page].append(load(port[page], path, cookies[who], seconds, clients))
            rates = {page: statistics.median(r) for page, r in rates.items()}
            hello = rates["hello-world"]
            for page, rate in rates.items():
                count = f"{len(sent[page]):4d} statements" if page in sent else ""
                print(f"{name}: {size:>6} {page:<24} {rate:8.1f}/s  {rate / hello:6.3f}x hello-world  {count}",
                      flush=True)
            results[size] = {"rates": rates, "sent": sent, "seeded": seeded}
    finally:
        for server in servers.values():
            server.close()
        app.registry.database.engine.dispose()
    report(name, sizes, results)
    return results


def report(name: str, sizes, results: dict) -> None:
    """The table of rates, ratios and growth; then the pages whose statements changed."""
    small, large = sizes[0], sizes[-1]
    w = max(len(f"x hw @{large}"), len(f"{large}/{small}")) + 2  # a column: its longest heading and a gap
    head = (f"{'page':<24}" + "".join(f"{f'/s @{s}':>{w}}" for s in sizes) + "".join(f"{f'x hw @{s}':>{w}}" for s in sizes)
            + f"{f'{large}/{small}':>{w}}" + "".join(f"{f'sql @{s}':>{w}}" for s in sizes))
    print(f"\n{name}: rates (requests/s), × hello-world, time at {large} ÷ time at {small}, statements per request")
    print(head)
    for page in results[small]["rates"]:
        rates = [results[s]["rates"][page] for s in sizes]
        hello = [results[s]["rates"]["hello-world"] for s in sizes]
        growth = rates[0] / rates[-1]
        counts = [len(results[s]["sent"][page]) if page in results[s]["sent"] else "" for s in sizes]
        flags = []
        if page != "hello-world":  # the baseline itself
            if rates[-1] / hello[-1] < TARGET_RATIO:
                flags.append(f"<{TARGET_RATIO}x hw")
            if growth > TARGET_GROWTH:
                flags.append(f">{TARGET_GROWTH}x slower")
        print(f"{page:<24}" + "".join(f"{r:{w}.1f}" for r in rates) + "".join(f"{r / h:{w}.3f}" for r, h in zip(rates, hello))
              + f"{growth:{w}.2f}"
              + "".join(f"{c:>{w}}" for c in counts) + ("  " + ", ".join(flags) if flags else ""))
    grown = [page for page in results[small]["sent"]
             if len(results[small]["sent"][page]) != len(results[large]["sent"][page])]
    print(f"\n{name}: statements per request that differ between {small} and {large} applications:"
          + ("" if grown else " none"))
    for page in grown:
        before, after = Counter(results[small]["sent"][page]), Counter(results[large]["sent"][page])
        print(f"  {page}: {sum(before.values())} -> {sum(after.values())}")
        for statement in sorted(set(before) | set(after), key=lambda s: (before[s] - after[s], s)):
            if before[statement] != after[statement]:
                print(f"    {before[statement]} -> {after[statement]}: {' '.join(statement.split())[:300]}")
    print(flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--seconds", type=float, default=2.0,
                        help="seconds of load per page per repeat (whole seconds with wrk)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--clients", type=int, default=THREADS)
    parser.add_argument("--generator", choices=("wrk", "python"), default="wrk" if shutil.which("wrk") else "python",
                        help="the load generator (default: wrk when it is on PATH)")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--no-postgresql", action="store_true")
    parser.add_argument("--serve", choices=("grants", "hello"), help=argparse.SUPPRESS)  # the servers' processes
    parser.add_argument("--settings", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, json.loads(args.settings))
        return
    sizes = sorted(args.sizes)
    load = load_wrk if args.generator == "wrk" else load_python
    print(f"Load generator: {'wrk (1 thread)' if args.generator == 'wrk' else 'Python threads in this process'},"
          f" {args.clients} keep-alive connections; each server: its own process, waitress with {THREADS} threads",
          flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if not args.no_sqlite:
            measure(f"sqlite:///{folder / 'bench.sqlite'}", folder / "sqlite", sizes, args.seconds, args.repeats,
                    args.clients, "SQLite", load)
        if not args.no_postgresql:
            with scratch_schema(os.environ.get("GRANTS_BENCH_DATABASE_URL", DEFAULT_PG)) as url:
                measure(url, folder / "pg", sizes, args.seconds, args.repeats, args.clients, "PostgreSQL", load)


if __name__ == "__main__":
    main()
