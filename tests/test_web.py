"""The web shell through WebTest against the real app: languages and direction, CSRF,
cookies, "my tasks", workflow pages, and firing transitions from a page."""
from __future__ import annotations

import datetime as dt
import re

import pytest

import factories as f
from grants.applications.models import Application
from grants.static_files import unhashed_name


sign_in = f.sign_in


def csrf_of(page) -> str:
    return page.html.find("input", {"name": "csrf_token"})["value"]


def url(obj) -> str:
    if isinstance(obj, Application):
        return f"/programmes/{obj.round.programme_id}/rounds/{obj.round_id}/applications/{obj.id}"
    return f"/programmes/{obj.programme_id}/rounds/{obj.id}"


@pytest.mark.parametrize("lang, direction, stylesheet", [
    ("ar", "rtl", "bootstrap.rtl.min.css"), ("fr", "ltr", "bootstrap.min.css"), ("en", "ltr", "bootstrap.min.css")])
def test_page_language_and_direction(testapp, lang, direction, stylesheet):
    page = testapp.get("/", headers={"Cookie": f"grants_lang={lang}"})
    html = page.html.find("html")
    assert (html["lang"], html["dir"]) == (lang, direction)
    sheets = [link["href"] for link in page.html.find_all("link", rel="stylesheet")]
    bootstrap = [unhashed_name(s.rsplit("/", 1)[1]) for s in sheets if "/bootstrap" in s]
    assert bootstrap == [stylesheet], sheets  # exactly one Bootstrap, in the page's direction
    testapp.get(next(s for s in sheets if unhashed_name(s).endswith(stylesheet)), status=200)


def test_arabic_page_is_translated(testapp):
    page = testapp.get("/", headers={"Cookie": "grants_lang=ar"})
    assert "تسجيل الدخول" in page.text  # "Sign in"


def test_browser_language_is_used_until_a_choice_is_made(testapp):
    page = testapp.get("/", headers={"Accept-Language": "fr-TN,fr;q=0.9,ar;q=0.5"})
    assert page.html.find("html")["lang"] == "fr"


def test_language_switcher_remembers_the_choice(testapp):
    home = testapp.get("/")
    form = next(fm for fm in home.forms.values() if fm.action.endswith("/language"))
    response = form.submit("lang", value="ar")
    assert response.status_int == 302
    cookie = response.headers["Set-Cookie"]
    assert "grants_lang=ar" in cookie and "HttpOnly" in cookie
    assert testapp.get("/").html.find("html")["dir"] == "rtl"


def test_post_without_csrf_token_is_refused(testapp):
    response = testapp.post("/language", {"lang": "ar"}, status=400)
    assert "The form expired" in response.text
    assert "grants_lang" not in response.headers.get("Set-Cookie", "")


def test_post_with_a_wrong_csrf_token_is_refused(testapp):
    testapp.get("/")
    testapp.post("/language", {"lang": "ar", "csrf_token": "forged"}, status=400)


def test_session_cookie_is_signed_httponly_and_samesite(testapp, registry):
    with registry.database.transaction() as (_tm, db):
        f.user(db, email="leila@example.org")
    form = f.main_form(testapp.get("/login"))
    form["email"] = "leila@example.org"
    form["password"] = f.PASSWORD
    response = form.submit()
    cookie = next(v for k, v in response.headerlist if k == "Set-Cookie" and v.startswith("session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    value = cookie.split(";")[0].split("=", 1)[1]
    assert len(value) > 40  # a signature, not a bare id
    tampered = value[:-4] + ("AAAA" if not value.endswith("AAAA") else "BBBB")
    testapp.reset()
    testapp.set_cookie("session", tampered)
    assert "Sign in" in testapp.get("/").text  # a forged session is ignored


def test_my_tasks_lists_what_each_person_can_do_now(testapp, registry):
    with registry.database.transaction() as (_tm, db):
        officer = f.user(db, email="officer@example.org", name="Leila")
        applicant = f.user(db, email="amel@example.org", name="Amel")
        f.user(db, email="nobody@example.org")
        prog = f.programme(db)
        f.grant_role(db, officer, "programme_officer", prog)
        rnd = f.round_(db, registry, prog)
        org = f.organisation(db, applicant)
        f.application(db, registry, rnd, org, title="Draft by Amel")
        f.application(db, registry, rnd, f.organisation(db, f.user(db)), title="Submitted elsewhere",
                      state="submitted")
    sign_in(testapp, "officer@example.org")
    officer_tasks = testapp.get("/tasks")
    rows = [r.get_text(" ", strip=True) for r in officer_tasks.html.select("tbody tr")]
    assert any("Submitted elsewhere" in r and "Confirm eligibility" in r for r in rows), rows
    assert any("Round 1" in r and "Close the round" in r for r in rows), rows
    assert not any("Draft by Amel" in r for r in rows)
    testapp.reset()
    sign_in(testapp, "amel@example.org")
    rows = [r.get_text(" ", strip=True) for r in testapp.get("/tasks").html.select("tbody tr")]
    assert len(rows) == 1 and "Draft by Amel" in rows[0] and "Submit the application" in rows[0]
    testapp.reset()
    sign_in(testapp, "nobody@example.org")
    assert "Nothing is waiting for you." in testapp.get("/tasks").text


def test_firing_from_a_page_and_a_refusal_that_says_why(testapp, registry):
    with registry.database.transaction() as (_tm, db):
        applicant = f.user(db, email="amel@example.org")
        rnd = f.round_(db, registry)
        app = f.application(db, registry, rnd, f.organisation(db, applicant))
        app_url, app_id, rnd_id = url(app), app.id, rnd.id
    sign_in(testapp, "amel@example.org")
    page = testapp.get(app_url)
    assert "Submit the application" in page
    form_page = testapp.get(app_url + "/transition?trigger=submit")
    # The round closes while the applicant is on the page.
    with registry.database.transaction() as (_tm, db):
        from grants.programmes.models import Round

        db.get(Round, rnd_id).closes_at = f.now() - dt.timedelta(minutes=1)
    refused = f.main_form(form_page).submit("fire", status=409)
    assert "The round closed on" in refused.text
    with registry.database.transaction() as (_tm, db):
        assert db.get(Application, app_id).state == "draft"
        db.get(Round, rnd_id).closes_at = f.now() + dt.timedelta(days=1)
    done = f.main_form(testapp.get(app_url + "/transition?trigger=submit")).submit("fire").follow()
    assert "Done: Submit the application." in done.text
    assert re.search(r"State:\s*</span>\s*<strong[^>]*>Submitted", done.text)


def test_other_organisations_cannot_see_an_application(testapp, registry):
    with registry.database.transaction() as (_tm, db):
        f.user(db, email="other@example.org")
        app = f.application(db, registry, f.round_(db, registry), f.organisation(db, f.user(db)))
        app_url = url(app)
    sign_in(testapp, "other@example.org")
    testapp.get(app_url, status=403)


def test_anonymous_visitors_are_sent_to_sign_in(testapp, registry):
    with registry.database.transaction() as (_tm, db):
        app = f.application(db, registry, f.round_(db, registry), f.organisation(db, f.user(db)))
        app_url = url(app)
    response = testapp.get(app_url, status=302)
    assert "/login?came_from=" in response.location


def test_workflows_page_draws_every_workflow(testapp, registry):
    page = testapp.get("/workflows")
    svgs = page.html.find_all("svg")
    assert len(svgs) == len(list(registry.workflows))
    assert "<?xml" not in page.text  # inlined, not pasted as documents
    assert "Open the round" in page.text and "Submit the application" in page.text


def test_unknown_pages_are_404_in_the_users_language(testapp):
    response = testapp.get("/programmes/999", status=404, headers={"Cookie": "grants_lang=fr"})
    assert response.html.find("html")["lang"] == "fr"


def test_pages_carry_security_headers(testapp):
    headers = testapp.get("/").headers
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"


def test_workflow_labels_are_shown_in_the_readers_language(testapp, registry):
    # State and step titles come from the TOML definitions as plain strings; their msgids
    # are in the grants catalog, so they are translated like any other label.
    with registry.database.transaction() as (_tm, db):
        rnd = f.round_(db, registry)  # open: its state title is "Open"
        url = f"/programmes/{rnd.programme_id}/rounds/{rnd.id}"
    page = testapp.get(url, headers={"Cookie": "grants_lang=ar"})
    assert "مفتوحة" in page.html.find("main").get_text()
