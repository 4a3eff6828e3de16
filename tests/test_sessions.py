"""Sessions kept in the database: a copied cookie dies with sign-out, a password change
and a password reset; flash messages of any size; sessions and CSRF tokens shared by
several app processes on one database; expiry; two requests of one session at once —
against the real app, database and maildir."""
from __future__ import annotations

import datetime as dt
import json
import re
import threading
import urllib.error
import urllib.parse
import urllib.request

import pytest
import webob
import webtest
from pyramid.httpexceptions import HTTPFound
from pyramid.security import NO_PERMISSION_REQUIRED
from sqlalchemy import func, select, update

import factories as f
from grants.mail import Mailer

# grants.accounts.sessions and WebSession are imported inside the tests that read them,
# so that the tests of what a person sees also run (and fail) against the signed-cookie
# sessions they replaced.

NEW_PASSWORD = "a brand new passphrase"


def client(app) -> webtest.TestApp:
    return webtest.TestApp(app, extra_environ={"HTTP_HOST": "localhost"})


def session_cookie(testapp) -> str:
    return testapp.cookies["session"]


def copy_of(testapp, app=None) -> webtest.TestApp:
    """Another browser holding a copy of ``testapp``'s session cookie."""
    other = client(app or testapp.app)
    other.set_cookie("session", session_cookie(testapp))
    return other


def is_signed_in(testapp, name="Amel Ben Salah") -> bool:
    return name in testapp.get("/").html.find("header").get_text()


def lands_on_sign_in(testapp) -> bool:
    """A page only signed-in people see sends this browser to the sign-in page."""
    res = testapp.get("/organisations", status=302)
    return res.location.startswith("http://localhost/login") and "Sign in" in res.follow().text


def csrf_token(res, form_action: str) -> str:
    form = next(fm for fm in res.html.find_all("form") if fm.get("action", "").endswith(form_action))
    return form.find("input", {"name": "csrf_token"})["value"]


def count_sessions(database, user_id=None) -> int:
    from grants.accounts.models import WebSession

    with database.transaction() as (_tm, db):
        query = select(func.count()).select_from(WebSession)
        if user_id is not None:
            query = query.where(WebSession.user_id == user_id)
        return db.scalar(query)


@pytest.fixture
def amel(registry):
    with registry.database.transaction() as (_tm, db):
        return f.user(db, email="amel@example.org", name="Amel Ben Salah").id


# --- 1. a copied cookie stops working --------------------------------------------------


def test_a_copied_cookie_stops_working_after_sign_out(testapp, amel):
    f.sign_in(testapp, "amel@example.org")
    elsewhere = copy_of(testapp)
    assert is_signed_in(elsewhere)  # the copy works, as a stolen cookie would

    page = testapp.get("/")
    testapp.post("/logout", {"csrf_token": csrf_token(page, "/logout")}, status=302)

    assert lands_on_sign_in(elsewhere)
    assert not is_signed_in(elsewhere)


def test_signing_out_ends_the_sessions_on_other_devices_too(app, testapp, amel, database):
    f.sign_in(testapp, "amel@example.org")
    phone = client(app)
    f.sign_in(phone, "amel@example.org")
    assert count_sessions(database, amel) == 2

    page = testapp.get("/")
    testapp.post("/logout", {"csrf_token": csrf_token(page, "/logout")}, status=302)
    assert lands_on_sign_in(phone)
    assert count_sessions(database, amel) == 0


def test_a_copied_cookie_stops_working_after_a_password_change(testapp, amel, database):
    f.sign_in(testapp, "amel@example.org")
    elsewhere = copy_of(testapp)
    old_cookie = session_cookie(testapp)

    form = testapp.get("/account/password").forms["change_password"]
    form["current"] = f.PASSWORD
    form["password"] = form["confirm"] = NEW_PASSWORD
    res = form.submit("submit", status=302).follow()
    assert "You have been signed out everywhere else" in res.text

    assert lands_on_sign_in(elsewhere)
    # the person who changed it carries on, in a new session
    assert session_cookie(testapp) != old_cookie and is_signed_in(testapp)
    assert count_sessions(database, amel) == 1
    f.sign_in(client(testapp.app), "amel@example.org", NEW_PASSWORD)


def test_changing_the_password_needs_the_current_one(testapp, amel):
    f.sign_in(testapp, "amel@example.org")
    elsewhere = copy_of(testapp)
    form = testapp.get("/account/password").forms["change_password"]
    form["current"] = "not my password at all"
    form["password"] = form["confirm"] = NEW_PASSWORD
    res = form.submit("submit", status=400)
    assert "Your current password is not right" in res.html.find(class_="error-summary").get_text()
    assert is_signed_in(elsewhere)  # nothing changed, nobody signed out
    f.sign_in(client(testapp.app), "amel@example.org")  # the old password still works


def test_a_copied_cookie_stops_working_after_a_password_reset(testapp, settings, amel):
    f.sign_in(testapp, "amel@example.org")
    elsewhere = copy_of(testapp)

    owner = client(testapp.app)  # on another device, signed out
    form = owner.get("/reset-password").forms["reset_request"]
    form["email"] = "amel@example.org"
    form.submit("submit")
    link = re.search(r"http://localhost(/\S+)", Mailer(settings).sent()[-1].get_content()).group(1)
    form = owner.get(link).forms["reset"]
    form["password"] = form["confirm"] = NEW_PASSWORD
    form.submit("submit", status=302)

    assert lands_on_sign_in(elsewhere)
    assert lands_on_sign_in(testapp)


def test_the_cookie_holds_only_a_signed_id(testapp, amel):
    f.sign_in(testapp, "amel@example.org")
    value = session_cookie(testapp)
    assert "amel" not in value.lower() and "auth" not in value and len(value) < 200
    tampered = value[:-4] + ("AAAA" if not value.endswith("AAAA") else "BBBB")
    forged = client(testapp.app)
    forged.set_cookie("session", tampered)
    assert not is_signed_in(forged)


def test_an_unknown_id_is_never_adopted(testapp, store, amel):
    """No fixation: a session id the server did not make is replaced, never stored."""
    planted = store.signer.dumps("an-id-chosen-by-an-attacker").decode()
    testapp.set_cookie("session", planted)
    f.sign_in(testapp, "amel@example.org")
    assert session_cookie(testapp) != planted
    assert store.id_from_cookie(session_cookie(testapp)) != "an-id-chosen-by-an-attacker"


# --- 2. flash messages of any size ---------------------------------------------------------


def test_a_20_kb_flash_message_is_shown(settings):
    """A view that flashes 20 kB (as automatic assignment does with long titles) and
    redirects: the next page is a 200 showing all of it."""
    from grants import make_config

    config = make_config(settings)
    long_message = "مراجعة " + "x" * 20_000 + " end of the message"

    def flash_a_lot(request):
        request.session.flash(long_message, "info")
        return HTTPFound(location=request.resource_url(request.root))

    config.add_route("test_flash", "/test-flash")
    config.add_view(flash_a_lot, route_name="test_flash", request_method="POST", require_csrf=False,
                    permission=NO_PERMISSION_REQUIRED)
    testapp = client(config.make_wsgi_app())
    res = testapp.post("/test-flash", status=302).follow(status=200)
    assert long_message in res.html.find("main").get_text()
    assert len(res.request.headers.get("Cookie", "")) < 300  # the message never went into the cookie
    assert long_message not in testapp.get("/").text  # shown once


def test_automatic_assignment_with_long_titles_names_ten_shortfalls_and_counts_the_rest(testapp, registry):
    """The case the testers met: no reviewer for dozens of applications with long titles.
    Every message is shown whole from the server-side session; ten shortfalls are named
    (``grants.review.views.SHORT_FLASHES``) and the rest counted, not a page of alerts."""
    title = "نوادي المسرح في المدارس الإعدادية بولاية قبلي وتكوين المنشطين " * 4
    with registry.database.transaction() as (_tm, db):
        officer = f.user(db, email="leila@example.org", name="Leila")
        rnd = f.round_(db, registry, title="BLADI 2018")
        f.grant_role(db, officer, "programme_officer", rnd.programme)
        for i in range(40):
            f.application(db, registry, rnd, f.organisation(db), title=f"{i:02d} {title}"[:300], state="eligible")
        round_url = f"/programmes/{rnd.programme_id}/rounds/{rnd.id}"
    f.sign_in(testapp, "leila@example.org")
    form = testapp.get(round_url + "/@@assignments").forms["auto"]
    form["per_application"] = "1"
    res = form.submit("submit", status=302).follow(status=200)
    shortfalls = [div.get_text(" ", strip=True) for div in res.html.select("main .alert-info")]
    assert len(shortfalls) == 11
    assert all(f"{i:02d} {title}"[:300].strip() in text for i, text in enumerate(shortfalls[:10]))
    assert "30 more applications have fewer reviewers than asked" in shortfalls[10]
    assert len(res.request.headers.get("Cookie", "")) < 300  # the messages never went into the cookie


# --- 3. several processes, one database ------------------------------------------------------


def test_another_process_knows_the_session_and_its_csrf_token(settings, amel):
    """Two apps built separately (as two waitress processes would be) on one database."""
    from grants import make_app

    first, second = make_app(settings), make_app(settings)
    browser = client(first)
    f.sign_in(browser, "amel@example.org")
    page = browser.get("/")
    token = csrf_token(page, "/logout")

    other_process = copy_of(browser, second)
    assert is_signed_in(other_process)
    other_process.post("/language", {"lang": "fr", "csrf_token": token, "came_from": "/"}, status=302)
    other_process.post("/language", {"lang": "fr", "csrf_token": "forged"}, status=400)
    other_process.post("/logout", {"csrf_token": token}, status=302)
    assert lands_on_sign_in(copy_of(browser, first))


# --- expiry ------------------------------------------------------------------------------------


def test_an_idle_session_ends(testapp, amel, database, store):
    from grants.accounts import sessions
    from grants.accounts.models import WebSession

    f.sign_in(testapp, "amel@example.org")
    with database.transaction() as (_tm, db):
        long_ago = sessions.utcnow() - store.idle_timeout - dt.timedelta(seconds=1)
        db.execute(update(WebSession).values(last_seen_at=long_ago))
    assert lands_on_sign_in(testapp)


def test_a_session_ends_at_its_expiry_however_active(testapp, amel, database):
    from grants.accounts import sessions
    from grants.accounts.models import WebSession

    f.sign_in(testapp, "amel@example.org")
    with database.transaction() as (_tm, db):
        db.execute(update(WebSession).values(expires_at=sessions.utcnow() - dt.timedelta(seconds=1)))
    assert lands_on_sign_in(testapp)


def test_tick_deletes_sessions_past_their_time(testapp, amel, database, registry):
    from grants.accounts import sessions
    from grants.accounts.models import WebSession
    from grants.cli import purge_accounts

    f.sign_in(testapp, "amel@example.org")
    client(testapp.app).get("/login")  # an anonymous visitor's session, still live
    with database.transaction() as (_tm, db):
        db.execute(update(WebSession).where(WebSession.user_id == amel)
                   .values(expires_at=sessions.utcnow() - dt.timedelta(seconds=1)))
    assert purge_accounts(registry) == 1
    assert count_sessions(database) == 1
    assert purge_accounts(registry) == 0


def test_pages_that_change_nothing_write_nothing(testapp, amel, database, store):
    from grants.accounts.models import WebSession

    f.sign_in(testapp, "amel@example.org")
    with database.transaction() as (_tm, db):
        before = db.execute(select(WebSession.data, WebSession.last_seen_at)).one()
    testapp.get("/")
    testapp.get("/organisations")
    with database.transaction() as (_tm, db):
        assert db.execute(select(WebSession.data, WebSession.last_seen_at)).one() == before


# --- two requests of one session at once -------------------------------------------------------


@pytest.fixture
def store(registry):
    return registry.session_store


def _load(store, cookie_value):
    from grants.accounts import sessions

    session_id = store.id_from_cookie(cookie_value)
    return sessions.DatabaseSession(store, session_id, store.load(session_id, sessions.utcnow()))


def test_two_requests_of_one_session_at_once_last_write_wins(testapp, store, amel, database):
    from grants.accounts.models import WebSession

    f.sign_in(testapp, "amel@example.org")
    cookie = session_cookie(testapp)
    one, two = _load(store, cookie), _load(store, cookie)
    one.flash("from the first tab")
    two.flash("from the second tab")
    store.save(one, webob.Response())
    store.save(two, webob.Response())
    with database.transaction() as (_tm, db):
        data = json.loads(db.scalars(select(WebSession.data)).one())
    assert data["_f_"] == ["from the second tab"] and int(data["auth.userid"]) == amel


def test_a_request_finishing_after_sign_out_does_not_bring_the_session_back(testapp, store, amel, database):
    f.sign_in(testapp, "amel@example.org")
    slow = _load(store, session_cookie(testapp))  # a request that started before signing out
    page = testapp.get("/")
    testapp.post("/logout", {"csrf_token": csrf_token(page, "/logout")}, status=302)
    slow.flash("written late")
    response = webob.Response()
    store.save(slow, response)
    assert count_sessions(database, amel) == 0
    assert "Set-Cookie" not in response.headers


def test_many_requests_of_one_session_at_once_on_a_real_server(live_server, registry, amel):
    """Threads sharing one session cookie against waitress: every page answers, none 500."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
    login = opener.open(live_server + "/login").read().decode()
    token = re.search(r'name="csrf_token" value="([^"]+)"', login).group(1)
    data = urllib.parse.urlencode({"csrf_token": token, "email": "amel@example.org", "password": f.PASSWORD,
                                   "came_from": "", "__formid__": "login", "submit": "submit"}).encode()
    opener.open(live_server + "/login", data=data).read()
    for path in ("/", "/organisations", "/tasks"):
        # Python 3.11 can fail compiling two templates at once in threads; serving compiled ones is our concern here.
        opener.open(live_server + path).read()
    statuses, barrier = [], threading.Barrier(8)

    def browse():
        barrier.wait()
        for path in ("/", "/organisations", "/tasks"):
            try:
                with opener.open(live_server + path) as res:
                    statuses.append((res.status, "Amel Ben Salah" in res.read().decode()))
            except urllib.error.HTTPError as exc:
                statuses.append((exc.code, False))

    threads = [threading.Thread(target=browse) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses == [(200, True)] * 24
