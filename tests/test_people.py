"""Naming a programme's officers and a round's evaluators (and the roles plugins declare)
from the browser, with every change in the audit."""
from __future__ import annotations

import re

import pytest
import webtest
from sqlalchemy import select

import factories as f
from grants import make_app
from grants.accounts.models import User
from grants.audit.services import changes_of
from grants.programmes import people, services as programmes
from grants.programmes.models import Programme


def _setup(registry):
    with registry.database.transaction() as (_tm, db):
        admin = f.user(db, email="admin@example.org", admin=True)
        f.user(db, email="leila@example.org", name="Leila Officer")
        f.user(db, email="eve@example.org", name="Eve Evaluator")
        prog = f.programme(db, title="Community Fund")
        rnd = f.round_(db, registry, prog)
        return admin.id, prog.id, rnd.id


def main_text(res) -> str:
    return " ".join(res.html.find("main").get_text().split())


def changes_text(page) -> str:
    return " ".join(page.html.select_one("#role-changes").get_text().split())


def mail_to(registry, address):
    return [m for m in registry.mailer.sent() if m["To"] == address][-1]


def invitation_path(message) -> str:
    return re.search(r"http://localhost(/role-invitations/\S+)", message.get_content()).group(1)


def answer_form(page, answer: str):
    return next((fm for fm in page.forms.values()
                 if "answer" in fm.fields and fm.fields["answer"][0]._value == answer), None)


def invite(testapp, path, email, role, status=None, **fields):
    form = testapp.get(path).forms["grant-role"]
    form["email"] = email
    form["role"] = role
    for name, value in fields.items():
        form[name] = value
    return form.submit("submit", status=status)


def newcomer(app, lang=None):
    browser = webtest.TestApp(app, extra_environ={"HTTP_HOST": "localhost"})
    if lang:
        browser.set_cookie("grants_lang", lang)
    return browser


def test_an_admin_invites_an_officer_who_accepts_then_manages_the_programme_until_the_role_is_taken_back(
        testapp, app):
    registry = app.registry
    _admin, prog_id, rnd_id = _setup(registry)
    f.sign_in(testapp, "admin@example.org")
    page = testapp.get(f"/programmes/{prog_id}/people")
    assert [value for value, _sel, _text in page.forms["grant-role"]["role"].options] == ["programme_officer"]
    page = invite(testapp, f"/programmes/{prog_id}/people", "  Leila@Example.org ", "programme_officer").follow()
    assert "We have sent an invitation to leila@example.org" in main_text(page)
    assert "Nobody has a role here yet." in page  # not before she accepts
    assert "leila@example.org" in page.html.select_one("#waiting").get_text()
    assert "invited leila@example.org to the role “Programme officer”" in changes_text(page)

    officer = newcomer(app)
    f.sign_in(officer, "leila@example.org")
    officer.get(f"/programmes/{prog_id}/rounds/{rnd_id}/edit", status=403)
    link = invitation_path(mail_to(registry, "leila@example.org"))
    answer = officer.get(link)
    assert answer.headers["Referrer-Policy"] == "no-referrer"
    assert "Community Fund" in main_text(answer)
    landed = answer_form(answer, "accept").submit("answer", value="accept", status=302).follow()
    assert landed.request.path == f"/programmes/{prog_id}/"
    assert "You now have the role “Programme officer” on Community Fund." in main_text(landed)
    assert officer.get(f"/programmes/{prog_id}/rounds/{rnd_id}/edit").status_code == 200
    officer.get(link, status=400)  # used

    page = testapp.get(f"/programmes/{prog_id}/people")
    assert "Leila Officer" in page.html.select_one("#holders").get_text()
    assert "No invitation is waiting for an answer." in page
    assert "Leila Officer: accepted the invitation: leila@example.org now has the role" in changes_text(page)

    # Taken back: recorded, and the officer can no longer manage the round.
    remove = page.html.select_one("#holders button[name=remove]")["value"]
    page = testapp.post(f"/programmes/{prog_id}/people",
                        {"remove": remove, "csrf_token": page.forms["grant-role"]["csrf_token"].value}).follow()
    assert "Nobody has a role here yet." in page
    assert "took back from leila@example.org the role “Programme officer”" in changes_text(page)
    assert officer.get(f"/programmes/{prog_id}/rounds/{rnd_id}/edit", status=403)
    with registry.database.transaction() as (_tm, db):
        changes = changes_of(db, db.get(Programme, prog_id))
        leila = changes[1].after["user_id"]
        assert [(c.what, c.before, c.after) for c in changes] == [
            ("role_invitation", None, {"role": "programme_officer", "email": "leila@example.org", "status": "waiting"}),
            ("role", None, {"role": "programme_officer", "user_id": leila, "email": "leila@example.org",
                            "by_invitation": True}),
            ("role", {"role": "programme_officer", "user_id": leila, "email": "leila@example.org"}, None),
        ]
        assert [c.user.email for c in changes] == ["admin@example.org", "leila@example.org", "admin@example.org"]


def test_inviting_says_the_same_whether_or_not_the_address_has_an_account_and_mails_in_their_language(
        testapp, app):
    registry = app.registry
    _admin, prog_id, rnd_id = _setup(registry)
    with registry.database.transaction() as (_tm, db):
        f.user(db, email="sami@example.org", name="Sami Trabelsi", locale="ar")
    f.sign_in(testapp, "admin@example.org")
    path = f"/programmes/{prog_id}/rounds/{rnd_id}/people"
    replies = []
    for email in ("sami@example.org", "nobody@example.org"):
        res = invite(testapp, path, email, "evaluator", locale="fr")
        assert res.status_int == 302
        reply = res.follow().html.select_one("main .alert-success")
        replies.append((res.location, " ".join(reply.get_text().split()).replace(email, "X")))
    assert replies[0] == replies[1]
    page = testapp.get(path)
    assert "Sami" not in page.text
    assert [tr.find("td").get_text() for tr in page.html.select("#waiting tbody tr")] == [
        "sami@example.org", "nobody@example.org"]
    # the account's own language, else the one the officer chose
    assert "Independent evaluator" not in mail_to(registry, "sami@example.org")["Subject"]
    assert "مقيّم" in mail_to(registry, "sami@example.org")["Subject"] or "تقييم" in mail_to(
        registry, "sami@example.org")["Subject"]
    assert mail_to(registry, "nobody@example.org")["Subject"].startswith("Invitation au rôle")

    # refusals beside the field, in the reader's language, nothing sent
    testapp.set_cookie("grants_lang", "fr")
    sent = len(registry.mailer.sent())
    failed = invite(testapp, path, "nobody-at-example", "evaluator", status=400)
    assert "format" in failed.html.select_one(".error-summary").get_text()
    assert len(registry.mailer.sent()) == sent


def test_someone_without_an_account_registers_from_the_invitation_and_lands_signed_in_with_the_role(
        testapp, app):
    registry = app.registry
    _admin, prog_id, rnd_id = _setup(registry)
    f.sign_in(testapp, "admin@example.org")
    invite(testapp, f"/programmes/{prog_id}/rounds/{rnd_id}/people", "nour@example.org", "evaluator", locale="ar")
    message = mail_to(registry, "nour@example.org")
    assert "Community Fund" in message.get_content()

    browser = newcomer(app, "ar")
    page = browser.get(invitation_path(message))
    assert page.html.find("html")["dir"] == "rtl"
    form = page.click(href=r"/role-invitations/.*/register$").forms["register"]
    assert "email" not in form.fields  # the invited address, nobody else's
    form["name"] = "نور الهدى"
    form["password"] = "a long enough passphrase"
    landed = form.submit("submit", status=302).follow()
    assert landed.request.path == f"/programmes/{prog_id}/rounds/{rnd_id}/"
    assert "نور الهدى" in landed.html.find("header").get_text()  # signed in
    page = testapp.get(f"/programmes/{prog_id}/rounds/{rnd_id}/people")
    assert "نور الهدى" in page.html.select_one("#holders").get_text()


def test_only_the_addressee_accepts_an_invitation_is_withdrawn_declined_or_expires(testapp, app):
    registry = app.registry
    _admin, prog_id, rnd_id = _setup(registry)
    f.sign_in(testapp, "admin@example.org")
    path = f"/programmes/{prog_id}/people"
    invite(testapp, path, "leila@example.org", "programme_officer")
    first = invitation_path(mail_to(registry, "leila@example.org"))

    eve = newcomer(app)
    f.sign_in(eve, "eve@example.org")
    page = eve.get(first)
    assert "but you are signed in as eve@example.org" in main_text(page)
    assert answer_form(page, "accept") is None
    token = first.rsplit("/", 1)[1]
    eve.post(first, {"answer": "accept", "csrf_token": page.forms[0]["csrf_token"].value}, status=403)
    with registry.database.transaction() as (_tm, db):
        with pytest.raises(people.InvitationForSomeoneElse):
            people.accept(db, token, db.scalar(select(User).where(User.email == "eve@example.org")))

    # withdrawn: the link stops working, and the page says who did it
    page = testapp.get(path)
    withdraw = page.html.select_one("#waiting button[name=withdraw]")["value"]
    csrf = page.forms["grant-role"]["csrf_token"].value
    page = testapp.post(path, {"withdraw": withdraw, "csrf_token": csrf}).follow()
    assert "The invitation to leila@example.org is withdrawn" in main_text(page)
    assert "withdrew the invitation of leila@example.org" in changes_text(page)
    assert testapp.post(path, {"withdraw": withdraw, "csrf_token": csrf}, status=409)
    assert "cannot be used" in main_text(newcomer(app).get(first, status=400))

    # declined by the person at the address, without an account
    invite(testapp, path, "leila@example.org", "programme_officer")
    second = invitation_path(mail_to(registry, "leila@example.org"))
    anonymous = newcomer(app)
    answer_form(anonymous.get(second), "decline").submit("answer", value="decline", status=302)
    assert "leila@example.org declined the invitation" in changes_text(testapp.get(path))

    # expired
    with registry.database.transaction() as (_tm, db):
        prog = db.get(Programme, prog_id)
        _late, late = people.invite(db, registry, prog, email="late@example.org", role="programme_officer",
                                    now=f.now() - people.INVITATION_LIFETIME)
        assert people.waiting_invitations(db, prog) == []
    page = newcomer(app).get(f"/role-invitations/{late}", status=400)
    assert "This invitation has expired" in main_text(page)
    newcomer(app).get("/role-invitations/not-a-token", status=400)


def test_a_reviewer_invited_from_the_people_page_joins_the_pool_on_accepting(testapp, app):
    from grants.review.models import RoundReviewer

    registry = app.registry
    _admin, prog_id, rnd_id = _setup(registry)
    f.sign_in(testapp, "admin@example.org")
    invite(testapp, f"/programmes/{prog_id}/rounds/{rnd_id}/people", "eve@example.org", "reviewer")
    reviewer = newcomer(app)
    f.sign_in(reviewer, "eve@example.org")
    page = reviewer.get(invitation_path(mail_to(registry, "eve@example.org")))
    answer_form(page, "accept").submit("answer", value="accept", status=302)
    with registry.database.transaction() as (_tm, db):
        row = db.scalars(select(RoundReviewer).where(RoundReviewer.round_id == rnd_id)).one()
        assert row.accepted_at is not None and row.user.email == "eve@example.org"
    refused = invite(testapp, f"/programmes/{prog_id}/rounds/{rnd_id}/people", "eve@example.org", "reviewer",
                     status=400)
    assert "already has this role here" in refused.html.select_one(".error-summary").get_text()


def test_only_those_who_manage_the_programme_reach_the_page(testapp, app):
    _admin, prog_id, _rnd_id = _setup(app.registry)
    f.sign_in(testapp, "leila@example.org")  # not (yet) an officer
    testapp.get(f"/programmes/{prog_id}/people", status=403)


def test_a_plugins_roles_are_offered_only_in_the_programmes_that_use_it(settings):
    pytest.importorskip("grants_testplugin")
    app = make_app({**settings, "grants.plugins": "testplugin"})
    registry = app.registry
    with registry.database.transaction() as (_tm, db):
        plain = f.programme(db, title="Plain")
        theirs = programmes.create_programme(db, title="Municipal", currency="EUR", plugins=["testplugin"],
                                             registry=registry)
        assert [r.name for r in people.grantable_roles(registry, plain)] == ["programme_officer"]
        assert [r.name for r in people.grantable_roles(registry, theirs)] == ["programme_officer", "referee"]
        f.user(db, email="ref@example.org")
        people.grant(db, registry, theirs, email="ref@example.org", role="referee")
        with pytest.raises(people.PeopleRefused, match="Choose a role from the list"):
            people.grant(db, registry, plain, email="ref@example.org", role="referee")
