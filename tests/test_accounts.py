"""Accounts through the web: registration with e-mail verification, sign-in with rate
limiting, sign-out, password reset — against the real app, database and maildir."""
from __future__ import annotations

import datetime as dt
import hashlib
import re

import pytest
from sqlalchemy import func, select, update

from grants.accounts import services
from grants.accounts.models import EmailToken, SignInThrottle, User
from grants.mail import Mailer

PASSWORD = "correct horse battery"
NEW_PASSWORD = "a brand new passphrase"


# --- helpers --------------------------------------------------------------------------



def sent_mail(settings) -> list:
    return Mailer(settings).sent()  # in delivery order


def body_of(message) -> str:
    return message.get_content()


def link_in(message) -> str:
    return re.search(r"http://localhost/\S+", body_of(message)).group(0)


def path_of(link: str) -> str:
    return link.removeprefix("http://localhost")


def csrf_token(res, form_action: str | None = None) -> str:
    scope = res.html
    if form_action is not None:
        scope = next(f for f in res.html.find_all("form") if f.get("action", "").endswith(form_action))
    return scope.find("input", {"name": "csrf_token"})["value"]


def main_text(res) -> str:
    return " ".join(res.html.find("main").get_text().split())


def register(testapp, name="Amel Ben Salah", email="amel@example.org", password=PASSWORD, status=200, **extra):
    form = testapp.get("/register").forms["register"]
    form["name"] = name
    form["email"] = email
    form["password"] = password
    for key, value in extra.items():
        form[key] = value
    return form.submit("submit", status=status)


def sign_in(testapp, email="amel@example.org", password=PASSWORD, status=302, came_from=None):
    form = testapp.get("/login", params={"came_from": came_from} if came_from else {}).forms["login"]
    form["email"] = email
    form["password"] = password
    return form.submit("submit", status=status)


def register_and_verify(testapp, settings, **kw):
    register(testapp, **kw)
    testapp.get(path_of(link_in(sent_mail(settings)[-1])), status=302)


def one_user(database, email="amel@example.org") -> User:
    with database.transaction() as (_tm, session):
        return session.scalars(select(User).where(User.email == email)).one()


# --- the whole journey ----------------------------------------------------------------


def test_register_verify_sign_in_out_and_reset_password(testapp, settings, registry):
    res = register(testapp)
    assert "Check your e-mail" in main_text(res)

    (message,) = registry.mailer.sent()  # the request committed, so the mail went out
    assert message["To"] == "amel@example.org"
    assert message["Subject"] == "Confirm your e-mail address"
    assert "Amel Ben Salah" in body_of(message)

    res = testapp.get(path_of(link_in(message)), status=302)
    assert res.location == "http://localhost/login"
    res = res.follow()
    assert "Your e-mail address is confirmed" in main_text(res)

    res = sign_in(testapp).follow()
    assert "Amel Ben Salah" in res.html.find("header").get_text()

    res = testapp.post("/logout", {"csrf_token": csrf_token(res, "/logout")}, status=302).follow()
    assert "You have signed out" in main_text(res)
    assert "Amel Ben Salah" not in res.text

    form = testapp.get("/reset-password").forms["reset_request"]
    form["email"] = "amel@example.org"
    res = form.submit("submit")
    assert "we have sent it a link to choose a new password" in main_text(res)
    reset_mail = registry.mailer.sent()[-1]
    assert reset_mail["Subject"] == "Choose a new password"

    form = testapp.get(path_of(link_in(reset_mail))).forms["reset"]
    form["password"] = NEW_PASSWORD
    form["confirm"] = NEW_PASSWORD
    res = form.submit("submit", status=302)
    assert res.location == "http://localhost/login"
    assert "Your password has been changed" in main_text(res.follow())

    sign_in(testapp, password=PASSWORD, status=400)
    res = sign_in(testapp, password=NEW_PASSWORD).follow()
    assert "Amel Ben Salah" in res.html.find("header").get_text()


# --- mail waits for the commit --------------------------------------------------------


def test_verification_mail_is_sent_only_when_the_transaction_commits(database, registry):
    with database.transaction() as (tm, session):
        result = services.register(session, name="Amel", email="amel@example.org", password=PASSWORD, locale="en")
        services.mail_verification_link(registry, tm, result.user, "http://localhost/verify/x")
        assert registry.mailer.sent() == []  # not yet committed
    assert len(registry.mailer.sent()) == 1

    with pytest.raises(RuntimeError):
        with database.transaction() as (tm, session):
            result = services.register(session, name="Sami", email="sami@example.org", password=PASSWORD,
                                       locale="en")
            services.mail_verification_link(registry, tm, result.user, "http://localhost/verify/y")
            raise RuntimeError("something later in the request failed")
    assert [m["To"] for m in registry.mailer.sent()] == ["amel@example.org"]


# --- CSRF -----------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/login", "/logout", "/register", "/reset-password"])
def test_post_without_csrf_token_is_refused(testapp, path):
    testapp.get("/login")  # a session exists, so only the token is missing
    res = testapp.post(path, {"email": "amel@example.org", "password": PASSWORD}, status=400)
    assert "The form expired" in res.text


def test_logout_with_the_token_from_before_sign_in_is_refused(testapp, settings):
    """Signing in starts a new session: a token an attacker planted or saw before is dead."""
    register_and_verify(testapp, settings)
    old_token = csrf_token(testapp.get("/login"))
    res = sign_in(testapp).follow()
    assert csrf_token(res, "/logout") != old_token
    testapp.post("/logout", {"csrf_token": old_token}, status=400)
    assert "Amel Ben Salah" in testapp.get("/").html.find("header").get_text()


# --- registration ---------------------------------------------------------------------


def test_invalid_registration_keeps_what_was_typed_and_summarises_errors(testapp, database):
    res = register(testapp, name="Amel Ben Salah", email="amel-at-example", password="short", status=400)

    assert res.html.title.get_text().strip().startswith("Error:")
    summary = res.html.find(class_="error-summary")
    assert "There is a problem" in summary.get_text()
    links = {a["href"]: a.get_text() for a in summary.find_all("a")}
    email_input = res.html.find("input", {"name": "email"})
    password_input = res.html.find("input", {"name": "password"})
    assert links["#" + email_input["id"]] == "Enter an e-mail address in the right format, like name@example.org"
    assert links["#" + password_input["id"]] == "Enter a password of at least 12 characters"
    # the same words beside the field, and the field points at them
    assert links["#" + email_input["id"]] in res.html.find(id=f"error-{email_input['id']}").get_text()
    assert f"error-{email_input['id']}" in email_input["aria-describedby"]

    assert res.html.find("input", {"name": "name"})["value"] == "Amel Ben Salah"
    assert email_input["value"] == "amel-at-example"
    assert password_input["value"] == ""  # never sent back
    with database.transaction() as (_tm, session):
        assert session.scalar(select(func.count()).select_from(User)) == 0


def test_registration_form_helps_browsers_fill_it_in(testapp):
    res = testapp.get("/register")
    assert res.html.find("input", {"name": "name"})["autocomplete"] == "name"
    assert res.html.find("input", {"name": "email"})["autocomplete"] == "email"
    assert res.html.find("input", {"name": "password"})["autocomplete"] == "new-password"
    assert res.html.find("form", id="register").has_attr("novalidate")
    login = testapp.get("/login")
    assert login.html.find("input", {"name": "password"})["autocomplete"] == "current-password"
    assert not login.html.find("input", {"name": "password"}).has_attr("onpaste")


def test_email_is_normalised(testapp, settings, database):
    register_and_verify(testapp, settings, email="  Amel@Example.ORG ")
    assert one_user(database).email == "amel@example.org"
    sign_in(testapp, email="AMEL@example.org ")


def test_registering_a_known_address_reveals_nothing_and_tells_the_owner(testapp, settings, database, registry):
    register_and_verify(testapp, settings)
    first = main_text(register(testapp, email="other@example.org", name="Other"))

    res = register(testapp, name="Intruder", password="another long password")
    assert main_text(res).replace("amel@example.org", "X") == first.replace("other@example.org", "X")

    note = registry.mailer.sent()[-1]
    assert note["To"] == "amel@example.org"
    assert note["Subject"] == "You already have an account"
    assert "http://localhost/reset-password" in body_of(note)
    user = one_user(database)
    assert user.name == "Amel Ben Salah"
    assert services.verify_password(user.password_hash, PASSWORD)


def test_registration_in_arabic_stores_the_language_and_sends_mail(testapp, registry, database):
    testapp.set_cookie("grants_lang", "ar")
    page = testapp.get("/register")
    assert page.html.html["lang"] == "ar" and page.html.html["dir"] == "rtl"
    assert page.html.find("select", {"name": "locale"}).find("option", selected=True)["value"] == "ar"

    form = page.forms["register"]
    form["name"] = "أمل بن صالح"
    form["email"] = "amel@example.org"
    form["password"] = PASSWORD
    form.submit("submit")

    user = one_user(database)
    assert user.locale == "ar"
    (message,) = registry.mailer.sent()
    assert message["To"] == "amel@example.org"
    assert "أمل بن صالح" in body_of(message)
    assert "http://localhost/verify/" in body_of(message)


def test_passwords_are_argon2_hashes_and_tokens_are_stored_hashed(testapp, settings, database):
    register(testapp)
    token = link_in(sent_mail(settings)[-1]).rsplit("/", 1)[1]
    with database.transaction() as (_tm, session):
        user = session.scalars(select(User)).one()
        stored = session.scalars(select(EmailToken.token_hash)).all()
    assert user.password_hash.startswith("$argon2")
    assert PASSWORD not in user.password_hash
    assert token not in stored
    assert stored == [hashlib.sha256(token.encode()).hexdigest()]


# --- verification links ---------------------------------------------------------------


def test_expired_verification_link_is_refused_with_a_way_to_get_a_new_one(testapp, settings, database):
    register(testapp)
    link = path_of(link_in(sent_mail(settings)[-1]))
    with database.transaction() as (_tm, session):
        session.execute(update(EmailToken).values(expires_at=dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=1)))

    res = testapp.get(link, status=400)
    assert "This link has expired" in main_text(res)
    assert res.headers["Referrer-Policy"] == "no-referrer"
    assert not one_user(database).email_verified

    form = res.forms["resend"]
    form["email"] = "amel@example.org"
    form.submit("submit")
    testapp.get(path_of(link_in(sent_mail(settings)[-1])), status=302)
    assert one_user(database).email_verified


@pytest.mark.parametrize("link", ["/verify/not-a-token", "/reset-password/not-a-token"])
def test_unknown_links_get_a_clear_page(testapp, link):
    res = testapp.get(link, status=400)
    assert "This link cannot be used" in main_text(res)


def test_a_verification_link_works_once(testapp, settings):
    register(testapp)
    link = path_of(link_in(sent_mail(settings)[-1]))
    testapp.get(link, status=302)
    assert "This link cannot be used" in main_text(testapp.get(link, status=400))


# --- signing in -----------------------------------------------------------------------


def test_unverified_account_cannot_sign_in_and_is_offered_a_new_link(testapp, settings):
    register(testapp)
    res = sign_in(testapp, status=403)
    summary = res.html.find(class_="error-summary")
    assert "You need to confirm your e-mail address" in summary.get_text()
    ids = [tag["id"] for tag in res.html.find_all(id=True)]
    assert len(ids) == len(set(ids))  # two forms on the page, no clashing ids
    assert res.html.find(id=summary.find("a")["href"][1:])["name"] == "email"
    assert "auth.userid" not in str(testapp.cookies)

    form = res.forms["resend"]
    assert form["email"].value == "amel@example.org"
    res = form.submit("submit")
    assert "we have sent it a new link" in main_text(res)
    assert len(sent_mail(settings)) == 2
    testapp.get(path_of(link_in(sent_mail(settings)[-1])), status=302)
    sign_in(testapp)


def test_wrong_password_and_unknown_address_get_the_same_message(testapp, settings):
    register_and_verify(testapp, settings)
    wrong_password = sign_in(testapp, password="not the password at all", status=400)
    unknown = sign_in(testapp, email="nobody@example.org", status=400)
    for res in (wrong_password, unknown):
        assert "The e-mail address or password is not right" in res.html.find(class_="error-summary").get_text()
        assert res.html.title.get_text().strip().startswith("Error:")
    assert wrong_password.html.find("input", {"name": "email"})["value"] == "amel@example.org"


def test_five_failures_lock_the_address_even_for_the_right_password(testapp, settings, database):
    register_and_verify(testapp, settings)
    token = csrf_token(testapp.get("/login"))
    for _ in range(services.MAX_FAILED_LOGINS):
        testapp.post("/login", {"csrf_token": token, "email": "amel@example.org", "password": "guess guess guess"},
                     status=400)

    res = sign_in(testapp, status=429)
    assert "Try again in 15 minutes" in res.html.find(class_="error-summary").get_text()
    assert int(res.headers["Retry-After"]) == 15 * 60
    sign_in(testapp, email="someone-else@example.org", password="whatever it is", status=400)  # others unaffected

    with database.transaction() as (_tm, session):
        # refused without checking the password: nothing more counted for it
        assert session.get(SignInThrottle, "account:amel@example.org").attempts == 5
        later = dt.datetime.now(dt.timezone.utc) - services.FAILED_LOGIN_WINDOW - dt.timedelta(seconds=1)
        session.execute(update(SignInThrottle).values(window_started_at=later))

    sign_in(testapp)  # the window has passed
    with database.transaction() as (_tm, session):
        assert session.get(SignInThrottle, "account:amel@example.org") is None


def test_sign_in_returns_to_where_the_person_was_going_but_never_off_site(testapp, settings):
    register_and_verify(testapp, settings)
    res = sign_in(testapp, came_from="http://localhost/tasks")
    assert res.location == "http://localhost/tasks"
    testapp.post("/logout", {"csrf_token": csrf_token(res.follow(), "/logout")})
    res = sign_in(testapp, came_from="https://evil.example/phish")
    assert res.location == "http://localhost/"


def test_logout_page_offers_a_button(testapp, settings):
    register_and_verify(testapp, settings)
    sign_in(testapp)
    res = testapp.get("/logout")
    res = res.forms["logout"].submit(status=302).follow()
    assert "You have signed out" in main_text(res)


# --- password reset -------------------------------------------------------------------


def test_reset_request_for_an_unknown_address_looks_the_same_and_sends_nothing(testapp, settings):
    register_and_verify(testapp, settings)
    before = len(sent_mail(settings))
    pages = []
    for email in ("amel@example.org", "nobody@example.org"):
        form = testapp.get("/reset-password").forms["reset_request"]
        form["email"] = email
        pages.append(main_text(form.submit("submit")).replace(email, "X"))
    assert pages[0] == pages[1]
    assert len(sent_mail(settings)) == before + 1


def test_using_a_reset_link_cancels_the_others(testapp, settings):
    register_and_verify(testapp, settings)
    links = []
    for _ in range(2):
        form = testapp.get("/reset-password").forms["reset_request"]
        form["email"] = "amel@example.org"
        form.submit("submit")
        links.append(path_of(link_in(sent_mail(settings)[-1])))

    form = testapp.get(links[1]).forms["reset"]
    assert form["password"].value == "" and testapp.get(links[1]).headers["Referrer-Policy"] == "no-referrer"
    form["password"] = form["confirm"] = NEW_PASSWORD
    form.submit("submit", status=302)

    for link in links:
        assert "This link cannot be used" in main_text(testapp.get(link, status=400))


def test_new_password_must_be_long_enough_and_typed_twice_the_same(testapp, settings, database):
    register_and_verify(testapp, settings)
    form = testapp.get("/reset-password").forms["reset_request"]
    form["email"] = "amel@example.org"
    form.submit("submit")
    link = path_of(link_in(sent_mail(settings)[-1]))

    form = testapp.get(link).forms["reset"]
    form["password"] = NEW_PASSWORD
    form["confirm"] = NEW_PASSWORD + "!"
    res = form.submit("submit", status=400)
    assert "the two do not match" in res.html.find(class_="error-summary").get_text()
    assert res.html.title.get_text().strip().startswith("Error:")

    form = res.forms["reset"]
    form["password"] = form["confirm"] = "too short"
    res = form.submit("submit", status=400)
    assert "Enter a password of at least 12 characters" in res.html.find(class_="error-summary").get_text()
    assert services.verify_password(one_user(database).password_hash, PASSWORD)


def test_expired_reset_link_is_refused(testapp, settings, database):
    register_and_verify(testapp, settings)
    form = testapp.get("/reset-password").forms["reset_request"]
    form["email"] = "amel@example.org"
    form.submit("submit")
    link = path_of(link_in(sent_mail(settings)[-1]))
    with database.transaction() as (_tm, session):
        session.execute(update(EmailToken).where(EmailToken.purpose == "reset")
                        .values(expires_at=dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=1)))
    res = testapp.get(link, status=400)
    assert "This link has expired" in main_text(res)
    assert res.html.find("a", href="http://localhost/reset-password")
