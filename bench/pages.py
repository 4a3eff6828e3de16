"""What the main pages cost at 1,000 and at 10,000 applications, next to a hello-world.

The app is served by waitress with the threads of development.ini (waitress' default,
4) on a database holding the demo (``grants demo``) and N seeded applications in its open
round (``grants bench seed``, grants.demo.seed); a Pyramid app answering "Hello" is served
the same way in the same run.  A Python load generator (threads, each with a keep-alive
http.client connection) asks for one page at a time for a fixed time; pages and the
hello-world are interleaved over several repeats, so a slow moment of the machine hits all
alike.  Printed: each page's rate (requests per second, median of the repeats), its ratio
to the hello-world's, and at the end how much slower each page is at the largest size
than at the smallest (1.0: a page that costs the same at any size).

Signing in goes through the real login form (webtest on the same app, once per person);
the session cookie it gets is then sent over HTTP.  Nothing is asserted; figures vary
with the machine.  Databases: SQLite in a temporary folder; PostgreSQL at
``GRANTS_BENCH_DATABASE_URL`` (default ``postgresql+psycopg://postgres@127.0.0.1:5432/test``)
in a schema of its own, dropped after (``--no-postgresql`` skips it).

    python bench/pages.py [--sizes 1000 10000] [--seconds 2] [--repeats 3] [--clients 4]
"""
from __future__ import annotations

import argparse
import http.client
import io
import logging
import os
import statistics
import tempfile
import threading
import time
from pathlib import Path

import webtest
from alembic import command
from pyramid.config import Configurator
from pyramid.response import Response
from sqlalchemy import func, select
from waitress.server import create_server

from grants import make_app
from grants.applications.models import Application
from grants.demo import DEMO_PASSWORD, load_demo
from grants.demo.seed import open_demo_round, seed_applications
from grants.migrations import alembic_config
from grants.reporting import public
from grants.testing import scratch_schema

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
THREADS = 4  # waitress' default, which development.ini keeps


def hello_app():
    config = Configurator()
    config.add_route("hello", "/")
    config.add_view(lambda request: Response("Hello"), route_name="hello")
    return config.make_wsgi_app()


class Served:
    """A WSGI app behind waitress on a free local port, in a thread of its own."""

    def __init__(self, app):
        logging.getLogger("waitress.queue").setLevel(logging.ERROR)  # "queue depth" is the load itself
        self.server = create_server(app, host="127.0.0.1", port=0, threads=THREADS)
        self.port = self.server.effective_port
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()

    def close(self):
        time.sleep(0.5)  # let the last answers go out before the sockets close
        self.server.task_dispatcher.shutdown()
        self.server.close()


def load(port: int, path: str, cookie: str, seconds: float, clients: int) -> float:
    """Requests per second answered 200 by ``clients`` threads asking for ``path``."""
    done, stop = [0] * clients, time.perf_counter() + seconds

    def client(i):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
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


def session_cookie(app, email: str) -> str:
    """Sign in through the login form; the cookies as a Cookie header."""
    browser = webtest.TestApp(app, extra_environ={"HTTP_HOST": "localhost"})
    page = browser.get("/login")
    form = next(f for key, f in page.forms.items()
                if isinstance(key, int) and f.id not in ("language-form", "logout-form"))
    form["email"], form["password"] = email, DEMO_PASSWORD
    form.submit().follow()
    return "; ".join(f"{c.name}={c.value}" for c in browser.cookiejar)


def grow(registry, size: int) -> tuple[dict, float]:
    """The open round brought to ``size`` applications; the page paths and seconds taken."""
    with registry.database.transaction() as (_tm, db):
        already = db.scalar(select(func.count(Application.id)).where(Application.round_id == open_demo_round(db).id))
    start = time.perf_counter()
    if size > already:
        seed_applications(registry, size - already)
    seeded = time.perf_counter() - start
    with registry.database.transaction() as (_tm, db):
        rnd = open_demo_round(db)
        public.publish_report(db, rnd)
        submitted = db.scalar(select(func.min(Application.id)).where(Application.round_id == rnd.id,
                                                                      Application.state == "submitted"))
        base = f"/programmes/{rnd.programme_id}/rounds/{rnd.id}"
    return {"round": base, "application": f"{base}/applications/{submitted}",
            "report": f"{base}/@@public-report"}, seeded


def measure(url: str, tmp: Path, sizes, seconds: float, repeats: int, clients: int, name: str) -> dict:
    settings = {"sqlalchemy.url": url, "grants.secret": "bench", "mail.backend": "maildir",
                "mail.maildir": str(tmp / "mail"), "grants.files_dir": str(tmp / "files")}
    command.upgrade(alembic_config(settings), "heads")
    app = make_app(settings)
    load_demo(app.registry, out=io.StringIO())
    cookies = {who: session_cookie(app, f"{who}@example.org") for who in ("officer", "applicant", "reviewer")}
    grants_server, hello_server = Served(app), Served(hello_app())
    results = {}
    try:
        for size in sizes:
            paths, seeded = grow(app.registry, size)
            print(f"{name}: {size} applications (seeding took {seeded:.1f} s)", flush=True)
            pages = {
                "hello-world": (hello_server.port, "/", ""),
                "home (officer)": (grants_server.port, "/", cookies["officer"]),
                "home (applicant)": (grants_server.port, "/", cookies["applicant"]),
                "home (reviewer)": (grants_server.port, "/", cookies["reviewer"]),
                "my tasks (officer)": (grants_server.port, "/tasks", cookies["officer"]),
                "round page (officer)": (grants_server.port, paths["round"], cookies["officer"]),
                "application (officer)": (grants_server.port, paths["application"], cookies["officer"]),
                "public report": (grants_server.port, paths["report"], ""),
            }
            for port, path, cookie in pages.values():  # warm: translations, templates, the report cache
                load(port, path, cookie, 0.3, 1)
            rates = {page: [] for page in pages}
            for _r in range(repeats):
                for page, (port, path, cookie) in pages.items():
                    rates[page].append(load(port, path, cookie, seconds, clients))
            rates = {page: statistics.median(r) for page, r in rates.items()}
            hello = rates["hello-world"]
            for page, rate in rates.items():
                print(f"{name}: {size:>6} {page:<24} {rate:8.1f}/s  {rate / hello:6.3f}x hello-world", flush=True)
            results[size] = rates
    finally:
        grants_server.close()
        hello_server.close()
        app.registry.database.engine.dispose()
    small, large = results[sizes[0]], results[sizes[-1]]
    for page in small:
        print(f"{name}: {page:<24} time at {sizes[-1]} ÷ time at {sizes[0]}: {small[page] / large[page]:.2f}")
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--seconds", type=float, default=2.0, help="seconds of load per page per repeat")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--clients", type=int, default=THREADS)
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--no-postgresql", action="store_true")
    args = parser.parse_args()
    sizes = sorted(args.sizes)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if not args.no_sqlite:
            measure(f"sqlite:///{folder / 'bench.sqlite'}", folder / "sqlite", sizes, args.seconds, args.repeats,
                    args.clients, "SQLite")
        if not args.no_postgresql:
            with scratch_schema(os.environ.get("GRANTS_BENCH_DATABASE_URL", DEFAULT_PG)) as url:
                measure(url, folder / "pg", sizes, args.seconds, args.repeats, args.clients, "PostgreSQL")


if __name__ == "__main__":
    main()
