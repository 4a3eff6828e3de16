"""Page templates are compiled as the app starts, and compilation never runs in two
threads at once: CPython 3.11's AST converter shares one recursion counter between
threads, so concurrent first requests on a cold server could fail with
``SystemError: AST constructor recursion depth mismatch`` (grants.templating)."""
from __future__ import annotations

import gc
import sys
import threading
import urllib.error
import urllib.request
import uuid
from pathlib import Path

from pyramid.renderers import get_renderer

from grants.templating import serialise_compilation, template_specs

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def test_every_page_template_is_compiled_as_the_app_starts(app):
    specs = template_specs(app.registry)
    assert len(specs) == len(list(TEMPLATES.rglob("*.pt"))) > 50
    for spec in specs:
        assert get_renderer(spec, registry=app.registry).implementation()._cooked, spec


def test_templates_compiled_in_many_threads_at_once_do_not_fail():
    """Many threads compile at once while the garbage collector keeps running Python code
    (finalizers) — what lets a thread switch happen in the middle of ``ast.parse``.
    Without the lock this fails most runs with the SystemError; with it, never."""
    from chameleon.zpt.template import PageTemplate

    serialise_compilation()

    class Cycle:
        def __del__(self):
            sum(range(20))

    # Each text is new to this process, so nothing comes from the cache of compiled templates.
    bodies = [path.read_text() + f"<!--! {uuid.uuid4()} -->" for path in sorted(TEMPLATES.rglob("*.pt"))[:16]]
    errors: list[str] = []

    def compile_two(i):
        for body in bodies[i * 2:(i + 1) * 2]:
            for _ in range(30):
                cycle = Cycle()
                cycle.itself = cycle
            try:
                PageTemplate(body)
            except SystemError as exc:
                errors.append(str(exc))

    interval, thresholds = sys.getswitchinterval(), gc.get_threshold()
    sys.setswitchinterval(1e-6)
    gc.set_threshold(1, 1, 1)
    try:
        threads = [threading.Thread(target=compile_two, args=(i,)) for i in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
    finally:
        sys.setswitchinterval(interval)
        gc.set_threshold(*thresholds)
    assert errors == []


def test_a_new_server_answers_many_first_requests_at_once(live_server):
    paths = ["/", "/login", "/register", "/workflows", "/programmes", "/reset", "/nowhere", "/tasks"] * 4
    statuses: list = [None] * len(paths)
    barrier = threading.Barrier(len(paths), timeout=60)

    def fetch(i):
        barrier.wait()
        try:
            with urllib.request.urlopen(live_server + paths[i], timeout=120) as response:
                statuses[i] = response.status
        except urllib.error.HTTPError as error:
            statuses[i] = error.code

    threads = [threading.Thread(target=fetch, args=(i,)) for i in range(len(paths))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(180)
    assert None not in statuses and all(s < 500 for s in statuses), list(zip(paths, statuses))
