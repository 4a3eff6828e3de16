"""Sign-in throttling per client and per account, counted by the database: one client
trying many addresses is slowed, guesses sent together never get past the limit (threads
with their own database sessions, on SQLite and PostgreSQL), and the owner of an account
a stranger has locked gets in through a password reset — against the real app."""
from __future__ import annotations

import re
import threading

import pytest
import webtest
from sqlalchemy import select

import factories as f
from grants.accounts import services
from grants.mail import Mailer

STRANGER = "203.0.113.7"
OWNER = "198.51.100.20"
NEW_PASSWORD = "a brand new passphrase"


def client(app, address: str, **environ) -> webtest.TestApp:
    return webtest.TestApp(app, extra_environ={"HTTP_HOST": "localhost", "REMOTE_ADDR": address, **environ})


def try_sign_in(testapp, email, password, status):
    form = testapp.get("/login").forms["login"]
    form["email"] = email
    form["password"] = password
    return form.submit("submit", status=status)


def summary(res) -> str:
    return " ".join(res.html.find(class_="error-summary").get_text().split())


@pytest.fixture
def amel(registry):
    with registry.database.transaction() as (_tm, db):
        return f.user(db, email="amel@example.org", name="Amel Ben Salah").id


@pytest.fixture
def client_limit(monkeypatch) -> int:
    """The per-client limit, lowered from its real value (tens of attempts) because every
    attempt costs an argon2 check: the counting is the same."""
    from grants.accounts import throttling

    monkeypatch.setattr(throttling, "CLIENT", throttling.Limit(4, throttling.CLIENT.window))
    return 4


# --- per client ------------------------------------------------------------------------------


def test_one_client_trying_many_addresses_is_slowed(app, amel, client_limit):
    stranger = client(app, STRANGER)
    for i in range(client_limit):
        try_sign_in(stranger, f"person{i}@example.org", "a guess at a password", status=400)

    res = try_sign_in(stranger, "someone.else@example.org", "a guess at a password", status=429)
    assert "too many attempts to sign in from your network" in summary(res)
    assert int(res.headers["Retry-After"]) > 0
    # even the right password is not looked at from there now
    try_sign_in(stranger, "amel@example.org", f.PASSWORD, status=429)
    # other clients are not slowed, and the accounts tried are not locked
    try_sign_in(client(app, OWNER), "amel@example.org", f.PASSWORD, status=302)


def test_a_right_password_gives_the_clients_place_back(app, amel, client_limit):
    """An office behind one address: its people signing in all day are never slowed."""
    office = client(app, STRANGER)
    for _ in range(client_limit + 5):
        try_sign_in(office, "amel@example.org", f.PASSWORD, status=302)
        office.reset()


def test_an_ipv6_client_is_counted_by_its_64(app, amel, client_limit):
    for i in range(client_limit):
        try_sign_in(client(app, f"2001:db8:1:2::{i + 1:x}"), f"p{i}@example.org", "a guess", status=400)
    try_sign_in(client(app, "2001:db8:1:2:ffff::1"), "p@example.org", "a guess", status=429)
    try_sign_in(client(app, "2001:db8:1:3::1"), "amel@example.org", f.PASSWORD, status=302)


def test_behind_a_trusted_proxy_the_forwarded_address_is_the_client(settings, amel, client_limit):
    from grants import make_app

    app = make_app({**settings, "grants.trusted_proxies": "10.0.0.1"})
    via_proxy = client(app, "10.0.0.1", HTTP_X_FORWARDED_FOR=f"1.2.3.4, {STRANGER}")
    for i in range(client_limit):
        try_sign_in(via_proxy, f"person{i}@example.org", "a guess", status=400)
    try_sign_in(via_proxy, "amel@example.org", f.PASSWORD, status=429)
    # another client through the same proxy is another client
    try_sign_in(client(app, "10.0.0.1", HTTP_X_FORWARDED_FOR=OWNER), "amel@example.org", f.PASSWORD, status=302)
    # a header from anyone else is not believed: the stranger stays slowed whatever it claims
    spoofing = client(app, STRANGER, HTTP_X_FORWARDED_FOR=OWNER)
    try_sign_in(spoofing, "amel@example.org", f.PASSWORD, status=429)


# --- guesses at the same moment ----------------------------------------------------------------


def _guess_at_once(database, attempts: list[dict]) -> list[str]:
    """Every attempt in its own thread and database session, released together."""
    outcomes: list[str] = []
    barrier = threading.Barrier(len(attempts))

    def attempt(kw):
        barrier.wait()
        try:
            with database.transaction() as (_tm, session):
                services.authenticate(session, **kw)
            outcomes.append("signed in")
        except services.LoginRefused as refused:
            outcomes.append(refused.reason)

    threads = [threading.Thread(target=attempt, args=(kw,)) for kw in attempts]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


def test_guesses_sent_together_never_pass_the_account_limit(database, amel):
    guesses = [{"email": "amel@example.org", "password": f"guess number {i}"} for i in range(12)]
    outcomes = _guess_at_once(database, guesses)
    assert outcomes.count("credentials") == services.MAX_FAILED_LOGINS
    assert outcomes.count("throttled") == 12 - services.MAX_FAILED_LOGINS


def test_guesses_from_one_client_sent_together_never_pass_the_client_limit(database, amel, client_limit):
    guesses = [{"email": f"person{i}@example.org", "password": "a guess", "client": STRANGER} for i in range(10)]
    outcomes = _guess_at_once(database, guesses)
    assert outcomes.count("credentials") == client_limit
    assert outcomes.count("throttled") == 10 - client_limit


# --- the owner of a locked account -------------------------------------------------------------


def test_the_owner_gets_in_through_a_reset_while_a_stranger_keeps_the_account_locked(app, settings, amel):
    stranger, owner = client(app, STRANGER), client(app, OWNER)
    for _ in range(services.MAX_FAILED_LOGINS):
        try_sign_in(stranger, "amel@example.org", "a guess at her password", status=400)

    locked = try_sign_in(owner, "amel@example.org", f.PASSWORD, status=429)
    assert "too many attempts to sign in with this e-mail address" in summary(locked)
    assert "choose a new password" in summary(locked)

    form = owner.get(locked.html.find("a", string="Choose a new password")["href"]).forms["reset_request"]
    form["email"] = "amel@example.org"
    form.submit("submit")
    link = re.search(r"http://localhost(/\S+)", Mailer(settings).sent()[-1].get_content()).group(1)
    form = owner.get(link).forms["reset"]
    form["password"] = form["confirm"] = NEW_PASSWORD
    form.submit("submit", status=302)

    try_sign_in(owner, "amel@example.org", NEW_PASSWORD, status=302)
    assert "Amel Ben Salah" in owner.get("/").html.find("header").get_text()


def test_the_refusal_is_in_the_persons_language(app, amel):
    stranger = client(app, STRANGER)
    for _ in range(services.MAX_FAILED_LOGINS):
        try_sign_in(stranger, "amel@example.org", "a guess", status=400)
    stranger.set_cookie("grants_lang", "fr")
    french = summary(try_sign_in(stranger, "amel@example.org", "a guess", status=429))
    assert "Réessayez dans 15 minutes" in french
    stranger.set_cookie("grants_lang", "ar")
    arabic = summary(try_sign_in(stranger, "amel@example.org", "a guess", status=429))
    assert "15" in arabic and "دقيقة" in arabic


def test_a_stolen_session_cannot_guess_the_password_faster_on_the_change_page(app, amel, registry):
    testapp = client(app, OWNER)
    f.sign_in(testapp, "amel@example.org")
    for _ in range(services.MAX_FAILED_LOGINS):
        form = testapp.get("/account/password").forms["change_password"]
        form["current"] = "a guess at her password"
        form["password"] = form["confirm"] = NEW_PASSWORD
        form.submit("submit", status=400)
    form = testapp.get("/account/password").forms["change_password"]
    form["current"] = f.PASSWORD
    form["password"] = form["confirm"] = NEW_PASSWORD
    res = form.submit("submit", status=429)
    assert "Try again in" in summary(res)
    with registry.database.transaction() as (_tm, db):
        stored = db.scalars(select(services.User.password_hash).where(services.User.id == amel)).one()
    assert services.verify_password(stored, f.PASSWORD)
