"""Naming a programme's officers and a round's evaluators (and the roles plugins declare)
from the browser, with every change in the audit."""
from __future__ import annotations

import pytest
import webtest

import factories as f
from grants import make_app
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


def test_an_admin_names_an_officer_who_then_manages_the_programme(testapp, app):
    registry = app.registry
    _admin, prog_id, rnd_id = _setup(registry)
    f.sign_in(testapp, "admin@example.org")
    page = testapp.get(f"/programmes/{prog_id}/people")
    form = page.forms["grant-role"]
    assert [value for value, _sel, _text in form["role"].options] == ["programme_officer"]
    form["email"] = "  Leila@Example.org "
    form["role"] = "programme_officer"
    page = form.submit("submit").follow()
    assert "Leila Officer" in page.html.select_one("#holders").get_text()
    assert "gave leila@example.org the role" in " ".join(page.html.select_one("#role-changes").get_text().split())

    officer = webtest.TestApp(app, extra_environ={"HTTP_HOST": "localhost"})
    f.sign_in(officer, "leila@example.org")
    assert officer.get(f"/programmes/{prog_id}/rounds/{rnd_id}/edit").status_code == 200

    # Taken back: recorded, and the officer can no longer manage the round.
    page = testapp.get(f"/programmes/{prog_id}/people")
    remove = page.html.select_one("#holders button[name=remove]")["value"]
    page = testapp.post(f"/programmes/{prog_id}/people",
                        {"remove": remove, "csrf_token": page.forms["grant-role"]["csrf_token"].value}).follow()
    assert "Nobody has a role here yet." in page
    assert "took back from leila@example.org" in " ".join(page.html.select_one("#role-changes").get_text().split())
    assert officer.get(f"/programmes/{prog_id}/rounds/{rnd_id}/edit", status=403)
    with registry.database.transaction() as (_tm, db):
        changes = changes_of(db, db.get(Programme, prog_id))
        assert [(c.before, c.after) for c in changes] == [
            (None, {"role": "programme_officer", "user_id": changes[0].after["user_id"], "email": "leila@example.org"}),
            ({"role": "programme_officer", "user_id": changes[0].after["user_id"], "email": "leila@example.org"}, None),
        ]


def test_a_round_names_its_evaluator_and_unknown_addresses_are_refused_in_the_readers_language(testapp, app):
    _admin, prog_id, rnd_id = _setup(app.registry)
    f.sign_in(testapp, "admin@example.org")
    testapp.set_cookie("grants_lang", "fr")
    page = testapp.get(f"/programmes/{prog_id}/rounds/{rnd_id}/people")
    form = page.forms["grant-role"]
    form["email"] = "nobody@example.org"
    form["role"] = "evaluator"
    failed = form.submit("submit", status=400)
    assert "Aucun compte" in failed.html.select_one(".error-summary").get_text()
    form = failed.forms["grant-role"]
    form["email"] = "eve@example.org"
    page = form.submit("submit").follow()
    assert "Eve Evaluator" in page.html.select_one("#holders").get_text()


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
