"""How long a first visit on a slow mobile connection shows a blank page.

Loads the demo into a fresh SQLite database and serves the app under waitress twice in
this process: as it is, and with every request's Accept-Encoding removed (static files then
go uncompressed, as before grants.static_files).  Debian's Chromium, through Playwright,
opens each page in a new browser context (an empty cache) with the network throttled by
DevTools' Network.emulateNetworkConditions: 400 kbit/s down and up, 400 ms latency.  Prints
first-contentful-paint for

* a minimal HTML page, no stylesheet, served by the same server: the baseline, what the
  connection alone costs;
* the home page, signed out;
* an application's section page, signed in as the demo applicant;

each in milliseconds (median of the runs) and as a ratio to the baseline.

    python bench/first_paint.py [runs]
"""
from __future__ import annotations

import io
import statistics
import sys
import tempfile
import threading
from pathlib import Path

from alembic import command
from playwright.sync_api import sync_playwright
from sqlalchemy import select
from waitress.server import create_server

from grants import make_app
from grants.applications.models import Application
from grants.demo import DEMO_PASSWORD, load_demo
from grants.migrations import alembic_config
from grants.testing import CHROMIUM, CHROMIUM_ARGS

KBITS = 400
LATENCY_MS = 400
BASELINE = "/__baseline__"
BASELINE_HTML = (b"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>baseline</title></head>"
                 b"<body><p>A page with nothing to wait for.</p></body></html>")


def with_baseline(app, *, compressed: bool):
    """The app, plus the baseline page; without compression when ``compressed`` is false."""

    def bench_app(environ, start_response):
        if not compressed:
            environ.pop("HTTP_ACCEPT_ENCODING", None)
        if environ.get("PATH_INFO") == BASELINE:
            start_response("200 OK", [("Content-Type", "text/html; charset=utf-8"),
                                      ("Content-Length", str(len(BASELINE_HTML)))])
            return [BASELINE_HTML]
        return app(environ, start_response)

    return bench_app


def serve(app) -> tuple[str, object]:
    server = create_server(app, host="127.0.0.1", port=0, threads=4)
    threading.Thread(target=server.run, daemon=True).start()
    return f"http://127.0.0.1:{server.effective_port}", server


def first_paint(browser, url: str, storage_state=None) -> tuple[float, int, str]:
    """First-contentful-paint in ms, bytes received, and how the stylesheets were encoded."""
    context = browser.new_context(storage_state=storage_state)  # a new context: an empty cache
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", {
        "offline": False, "latency": LATENCY_MS,
        "downloadThroughput": KBITS * 1000 / 8, "uploadThroughput": KBITS * 1000 / 8})
    received = [0]
    encodings: set[str] = set()
    cdp.on("Network.loadingFinished", lambda e: received.__setitem__(0, received[0] + int(e["encodedDataLength"])))
    cdp.on("Network.responseReceived", lambda e: encodings.add(
        e["response"]["headers"].get("content-encoding", e["response"]["headers"].get("Content-Encoding", "none")))
        if e["type"] == "Stylesheet" else None)
    page.goto(url, wait_until="load", timeout=120_000)
    # A function, not wait_for_function's string: the pages' Content-Security-Policy forbids eval.
    fcp = page.evaluate("""() => new Promise(resolve => new PerformanceObserver(list => {
        const paint = list.getEntriesByName('first-contentful-paint')[0];
        if (paint) resolve(paint.startTime);
    }).observe({type: 'paint', buffered: true}))""")
    context.close()
    return fcp, received[0], ",".join(sorted(encodings)) or "-"


def signed_in_state(browser, base: str) -> dict:
    context = browser.new_context()
    page = context.new_page()
    page.goto(base + "/login")
    page.get_by_label("E-mail address").fill("applicant@example.org")
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").last.click()
    page.wait_for_selector("#logout-form")
    state = context.storage_state()
    context.close()
    return state


def main(runs: int = 3) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        settings = {"sqlalchemy.url": f"sqlite:///{Path(tmp) / 'bench.sqlite'}", "grants.secret": "bench",
                    "mail.backend": "maildir", "mail.maildir": str(Path(tmp) / "mail"), "grants.files_dir": tmp,
                    "pyramid.default_locale_name": "en"}
        command.upgrade(alembic_config(settings), "heads")
        app = make_app(settings)
        load_demo(app.application.registry, out=io.StringIO())
        with app.application.registry.database.transaction() as (_tm, db):
            draft = db.scalars(select(Application).where(Application.title == "Riverside garden days")).one()
            section = (f"/programmes/{draft.round.programme_id}/rounds/{draft.round_id}"
                       f"/applications/{draft.id}/section/organisation")
        servers = {name: serve(with_baseline(app, compressed=compressed))
                   for name, compressed in (("compressed", True), ("uncompressed", False))}
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            print(f"first-contentful-paint at {KBITS} kbit/s, {LATENCY_MS} ms latency, empty cache; "
                  f"median of {runs} runs")
            print(f"{'server':<13} {'page':<21} {'FCP ms':>8} {'x baseline':>10} {'KB received':>12}  stylesheets")
            for name, (base, _server) in servers.items():
                state = signed_in_state(browser, base)
                # One unthrottled visit first, so that the server has prepared (compressed)
                # the stylesheets: a cost paid once per process, not per visitor.
                first_paint(browser, base + section, state)
                rows = [("baseline", base + BASELINE, None), ("home", base + "/", None),
                        ("application section", base + section, state)]
                baseline = None
                for label, url, storage in rows:
                    results = [first_paint(browser, url, storage) for _ in range(runs)]
                    fcp = statistics.median(r[0] for r in results)
                    size = statistics.median(r[1] for r in results) / 1024
                    baseline = baseline or fcp
                    print(f"{name:<13} {label:<21} {fcp:>8.0f} {fcp / baseline:>10.2f} {size:>12.1f}  {results[0][2]}")
            browser.close()
        for _base, server in servers.values():
            server.close()


if __name__ == "__main__":
    main(*map(int, sys.argv[1:]))
