"""The demo (`grants demo`): grants' own funder-neutral programme, loaded through the
services with no plugin enabled, where every demo person finds something to do; plugins'
demos after it, each loaded once; the sign-ins printed at the end."""
from __future__ import annotations

import io
import json
from collections import Counter

import pytest
from sqlalchemy import func, select

import factories as f
import standards_checks
from grants.accounts.models import Organisation, User
from grants.applications.eligibility import ineligible_reasons
from grants.applications.models import Application
from grants.awards.models import Award, Disbursement
from grants.demo import DEMO_PASSWORD, core, load_demo
from grants.evaluation.models import Assessment
from grants.mel.models import Report
from grants.programmes.models import Programme, Round
from grants.programmes.services import round_funnel
from grants.reporting import exports
from grants.review.models import Decision, Review


def _counts(db) -> tuple:
    return tuple(db.scalar(select(func.count()).select_from(model))
                 for model in (User, Organisation, Programme, Round, Application, Award, Report, Review))


def _logout(testapp):
    testapp.post("/logout", {"csrf_token": testapp.get("/").html.find("input", {"name": "csrf_token"})["value"]})


def test_the_core_demo_gives_every_role_something_and_loads_once(registry, testapp):
    assert not registry.settings.get("grants.plugins")  # grants alone
    out = io.StringIO()
    people = load_demo(registry, out=out)
    text = out.getvalue()
    assert [p.email for p in people] == [p.email for p in core.PEOPLE]
    assert text.index(f"{core.TITLE}:") < text.index("round 1 decided (6 applied, 2 awards)") < text.index("sign in at")
    for person in core.PEOPLE:
        assert person.email in text.split("sign in at")[1]
    assert repr(DEMO_PASSWORD) in text

    with registry.database.transaction() as (_tm, db):
        programme = db.scalars(select(Programme)).one()
        assert (programme.title, programme.currency, programme.plugins) == (core.TITLE, "EUR", [])
        decided, open_round = programme.rounds
        assert (decided.state, open_round.state) == ("decided", "open")
        states = Counter(a.state for a in decided.applications)
        assert states == {"selected": 2, "declined": 3, "ineligible": 1}
        funnel = round_funnel(db, decided, registry)
        assert funnel.total == 6 and dict(funnel.reached)["selected"] == 2
        (ineligible,) = [a for a in decided.applications if a.state == "ineligible"]
        assert ineligible_reasons(ineligible, "en")
        declined = [a for a in decided.applications if a.state == "declined"]
        assert all(db.scalars(select(Decision).where(Decision.application_id == a.id)).one().reason for a in declined)
        assert db.scalar(select(func.count()).select_from(Review).where(Review.submitted_at.is_not(None))) == 5
        awards = db.scalars(select(Award).order_by(Award.id)).all()
        assert [a.application.organisation.legal_name for a in awards][0] == "Riverside Community Association"
        for award in awards:
            reports = db.scalars(select(Report).where(Report.award_id == award.id).order_by(Report.number)).all()
            assert len(reports) == 4 and reports[0].state == "accepted"
            assert award.agreement_file_id is not None
        assert db.scalar(select(func.count()).select_from(Disbursement)) == 4  # both tranches of both awards
        assert db.scalar(select(func.count()).select_from(Assessment)) == 2
        assert [a.state for a in open_round.applications] == ["draft"]
        ids = {"programme": programme.id, "decided": decided.id, "open": open_round.id,
               "award": awards[0].id, "draft": open_round.applications[0].id}
        before = _counts(db)

        # its exports are sound, and name nobody
        forbidden = [u.email for u in db.scalars(select(User))] + [u.name for u in db.scalars(select(User))]
        package = json.loads(exports.threesixty_giving(db, registry, fmt="json"))
        standards_checks.check_360giving_package(package, forbidden)
        assert len(package["grants"]) == 2
        standards_checks.check_iati(exports.iati_activities(db, registry), forbidden)

    # every person finds something
    decided_url = f"/programmes/{ids['programme']}/rounds/{ids['decided']}"
    f.sign_in(testapp, "officer@example.org", DEMO_PASSWORD)
    assert "6" in testapp.get(decided_url).html.find(id="funnel").get_text()
    _logout(testapp)
    f.sign_in(testapp, "reviewer@example.org", DEMO_PASSWORD)
    assert "Round 1 — 2024" in testapp.get("/reviews").text
    _logout(testapp)
    f.sign_in(testapp, "evaluator@example.org", DEMO_PASSWORD)
    testapp.get(f"{decided_url}/awards/{ids['award']}")
    _logout(testapp)
    f.sign_in(testapp, "applicant@example.org", DEMO_PASSWORD)
    testapp.get(f"/programmes/{ids['programme']}/rounds/{ids['open']}/applications/{ids['draft']}")
    testapp.get(f"{decided_url}/awards/{ids['award']}")
    _logout(testapp)
    f.sign_in(testapp, "admin@example.org", DEMO_PASSWORD)

    again = io.StringIO()
    load_demo(registry, out=again)
    assert "already loaded" in again.getvalue() and "sign in at" in again.getvalue()
    with registry.database.transaction() as (_tm, db):
        assert _counts(db) == before


@pytest.fixture
def with_testplugin(settings):
    settings["grants.plugins"] = "testplugin"


def test_a_plugins_demo_runs_after_grants_own_and_once(with_testplugin, registry):
    out = io.StringIO()
    people = load_demo(registry, out=out)
    text = out.getvalue()
    assert text.index(f"{core.TITLE}:") < text.index("Test plugin demo:") < text.index("sign in at")
    assert [p.email for p in people][-1] == "referee@testplugin.example.org"
    assert "referee@testplugin.example.org" in text.split("sign in at")[1]
    again = io.StringIO()
    load_demo(registry, out=again)
    assert again.getvalue().count("already loaded") == 2
    assert "referee@testplugin.example.org" in again.getvalue()
    with registry.database.transaction() as (_tm, db):
        titles = sorted(db.scalars(select(Programme.title)))
        assert titles == sorted([core.TITLE, "Test plugin programme"])


def test_a_plugin_registers_one_demo(settings):
    from pyramid.exceptions import ConfigurationConflictError

    from grants import make_config

    config = make_config(settings)
    config.registry["grants.including_plugin"] = "my_plugin"  # as while a plugin is included
    config.add_demo(lambda registry, out, now: [], title="A demo")
    config.add_demo(lambda registry, out, now: [], title="Another demo")
    with pytest.raises(ConfigurationConflictError):
        config.commit()
