"""Several waitress processes on one PostgreSQL database, as a deployment runs them behind
a reverse proxy (docs/deploy.md): two real `pserve` processes on two ports, and nothing
kept in a process's memory that the other would need — a session made by one works on
the other, a CSRF token drawn from one is accepted by the other, sign-in throttling
counts the attempts made on both, and a step fired through both at once is taken once
(the other gets 409)."""
from __future__ import annotations

import re
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

import factories as f
from grants.accounts import throttling
from test_conflicts import CONFLICT, Browser, officers_and_round

pytestmark = pytest.mark.postgres_only

INI = """\
[app:main]
use = egg:grants
sqlalchemy.url = {url}
grants.secret = one-secret-for-every-process
grants.plugins =
grants.files_dir = {here}/files
mail.backend = maildir
mail.maildir = {here}/mail
mail.sender = grants@test

[server:main]
use = egg:waitress#main
listen = 127.0.0.1:%(http_port)s
threads = 4
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_serving(base: str, process: subprocess.Popen, log: Path, seconds: float = 300) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"pserve ended ({process.returncode}):\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(base + "/", timeout=5) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.3)
    raise AssertionError(f"pserve did not answer within {seconds} s:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="module")
def two_processes(tmp_path_factory, database_url, database):
    """Two `pserve` processes of one .ini, for this module's tests (each test's rows are
    deleted after it, as for every test; the processes keep nothing of them)."""
    import os

    if not database_url.startswith("postgresql"):
        pytest.skip("several processes share one PostgreSQL database (GRANTS_TEST_DATABASE_URL)")
    tmp_path = tmp_path_factory.mktemp("deploy")
    # Compiling the templates takes most of a start; the second process reads what the first compiled.
    environment = {**os.environ, "CHAMELEON_CACHE": str(tmp_path)}
    ini = tmp_path / "deploy.ini"
    # %% because PasteDeploy's .ini interpolates %(…)s, and a URL may carry escapes.
    ini.write_text(INI.format(url=database_url.replace("%", "%%"), here=tmp_path))
    pserve = Path(sys.executable).with_name("pserve")
    processes, bases = [], []
    try:
        for n in range(2):
            port = free_port()
            log = tmp_path / f"pserve{n}.log"
            with log.open("wb") as out:
                process = subprocess.Popen([str(pserve), str(ini), f"http_port={port}"], stdout=out,
                                           stderr=subprocess.STDOUT, env=environment)
            processes.append((process, log))
            bases.append(f"http://127.0.0.1:{port}")
            wait_until_serving(bases[-1], process, log)
        yield bases
    finally:
        for process, _log in processes:
            process.terminate()
        for process, _log in processes:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)


def on(browser: Browser, base: str) -> Browser:
    """The same person (the same cookies) now talking to the process at ``base``."""
    browser.base = base
    return browser


def test_a_session_and_its_csrf_token_from_one_process_work_on_the_other(registry, two_processes):
    one, other = two_processes
    with registry.database.transaction() as (_tm, db):
        f.user(db, email="amel@example.org", name="Amel Haddad")
    amel = Browser(one)
    amel.sign_in("amel@example.org")  # through the first process
    status, html, _ = on(amel, other).request("/tasks")  # the second knows her
    assert status == 200 and "Amel Haddad" in html
    token = on(amel, one).csrf("/")  # drawn by the first…
    status, _html, headers = on(amel, other).request("/language", {"csrf_token": token, "lang": "fr",
                                                                   "came_from": "/"})
    assert status == 302, "…accepted by the second"
    status, html, _ = on(amel, other).request("/language", {"csrf_token": "not-" + token, "lang": "fr"})
    assert status == 400 and "Le formulaire a expiré" in html  # a wrong one is refused (in French: she chose it)
    # Signing out through the second ends the session on the first as well.
    token = on(amel, other).csrf("/")
    assert on(amel, other).request("/logout", {"csrf_token": token})[0] in (302, 303)
    status, _html, headers = on(amel, one).request("/tasks")
    assert status == 302 and "/login" in headers["Location"]


def test_sign_in_throttling_counts_the_attempts_made_on_every_process(registry, two_processes):
    with registry.database.transaction() as (_tm, db):
        f.user(db, email="amel@example.org")
    guesser = Browser(two_processes[0])
    for attempt in range(throttling.ACCOUNT.attempts):  # alternately on each process
        on(guesser, two_processes[attempt % 2])
        token = guesser.csrf("/login")
        status, _, _ = guesser.request("/login", {"csrf_token": token, "email": "amel@example.org",
                                                  "password": "wrong guess", "submit": "submit"})
        assert status == 400, attempt
    for base in two_processes:  # now the account waits, on both, even with the right password
        owner = Browser(base)
        token = owner.csrf("/login")
        status, html, headers = owner.request("/login", {"csrf_token": token, "email": "amel@example.org",
                                                         "password": f.PASSWORD, "submit": "submit"})
        assert status == 429 and int(headers["Retry-After"]) > 0
        assert "too many attempts to sign in with this e-mail address" in html


def test_a_step_fired_through_both_processes_at_once_is_taken_once(registry, two_processes):
    emails, _round_id, path = officers_and_round(registry, 2)
    browsers = [Browser(base) for base in two_processes]
    forms = []
    for browser, email in zip(browsers, emails):
        browser.sign_in(email)
        forms.append(browser.form_fields(path + "transition?trigger=close", "transition"))
    barrier = threading.Barrier(2, timeout=60)
    results: list = [None, None]

    def close(i):
        barrier.wait()
        results[i] = browsers[i].request(path + "transition?trigger=close", {**forms[i], "fire": "fire"})

    threads = [threading.Thread(target=close, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert sorted(r[0] for r in results) == [302, 409], [(r[0], r[1][-2000:]) for r in results]
    assert CONFLICT in next(html for status, html, _ in results if status == 409)
    from sqlalchemy import select

    from grants.lifecycle.models import HistoryEntry

    with registry.database.transaction() as (_tm, db):
        closes = db.scalars(select(HistoryEntry).where(HistoryEntry.trigger == "close")).all()
        assert len(closes) == 1
