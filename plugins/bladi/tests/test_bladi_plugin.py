"""What the plugin brings, and only to the programmes that use it: its forms (the
association's JORT registration number, its governorate, youth focus), its proposal, its
rubric as their rounds' default, its five capacity areas for their cohorts, its wording in
French and Arabic."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from importlib.metadata import entry_points

import pytest
from sqlalchemy import select

from grants.applications import services as applications
from grants.applications.formdefs import form_for, forms_of
from grants.applications.services import ApplicationRefused
from grants.incubation import services as incubation
from grants.lifecycle.services import WorkflowService
from grants.money import Money
from grants.programmes import services as programmes
from grants.programmes.models import Programme, Round
from grants.programmes.services import ProgrammeRefused
from grants.review import services as review
from grants.testing import sign_in
from grants.workflow import Actor
from grants.workflow.engine import plain
from grants_bladi.forms import APPLICATION_2018, APPLICATION_2018_V2, PROPOSAL_2019
from grants_bladi.review import CAPACITY_AREAS, RUBRIC_TITLE

SYSTEM = Actor.system_actor("system:test")


def test_the_plugin_is_installed_under_its_entry_point_name():
    assert "bladi" in {ep.name for ep in entry_points(group="grants.plugins")}


def test_a_programme_uses_the_plugin(grants_site):
    assert grants_site.programme.plugins == ["bladi"]


def _programme(db, registry, plugins, title):
    return programmes.create_programme(db, title=title, currency="TND", plugins=plugins, registry=registry)


def _open_round(db, registry, programme, **kw):
    now = dt.datetime.now(dt.timezone.utc)
    kw.setdefault("budget", Money(Decimal(100_000), programme.currency))  # a round needs one to open
    rnd = programmes.create_round(db, registry, programme, title="Call", timezone="Africa/Tunis",
                                  opens_at=now - dt.timedelta(days=1), closes_at=now + dt.timedelta(days=20), **kw)
    WorkflowService(registry.workflows, db).fire(rnd, "open", actor=SYSTEM)
    return rnd


def test_its_programmes_default_to_its_forms_and_rubric_and_others_keep_grants_own(grants_registry, grants_site):
    registry = grants_registry
    forms = forms_of(registry)
    assert {f.version: f.origin for f in forms if f.origin} == {
        APPLICATION_2018: "bladi", APPLICATION_2018_V2: "bladi", PROPOSAL_2019: "bladi"}
    with registry.database.transaction() as (_tm, db):
        bladi = db.get(Programme, grants_site.programme.id)
        core = _programme(db, registry, [], "Another programme")
        bladi_round, core_round = _open_round(db, registry, bladi), _open_round(db, registry, core)
        assert forms.default("application", bladi.plugins).version == APPLICATION_2018_V2
        assert forms.default("proposal", bladi.plugins).version == PROPOSAL_2019
        assert forms.default("application", core.plugins).version == "general"
        # the rubric: BLADI's for its rounds, the general one elsewhere; stored once
        assert review.rubric_for(db, bladi_round).title == RUBRIC_TITLE
        assert [c["id"] for c in review.rubric_for(db, bladi_round).criteria] == [
            "relevance", "feasibility", "capacity", "participation", "value"]
        assert review.rubric_for(db, core_round).title == review.GENERAL_RUBRIC_TITLE
        assert review.registered_rubric(db, registry, RUBRIC_TITLE).id == bladi_round.rubric_id
        # a round of a programme without the plugin may not name its rubric
        with pytest.raises(ProgrammeRefused) as refused:
            programmes.update_round(db, core_round, registry=registry, rubric_id=bladi_round.rubric_id)
        assert [plain(r) for r in refused.value.reasons] == [
            "The rubric “BLADI — first-stage review” belongs to a plugin this programme does not use."]
        assert core_round.rubric_id is None


def test_its_cohorts_assess_its_five_areas_unless_the_officer_names_others(grants_registry, grants_site):
    registry = grants_registry
    with registry.database.transaction() as (_tm, db):
        rnd = db.get(Round, grants_site.round.id)
        cohort = incubation.create_cohort(db, rnd, title="Cohort", starts_on=dt.date(2019, 4, 1), registry=registry)
        assert cohort.capacity_areas == [str(a) for a in CAPACITY_AREAS] == [
            "Programme delivery", "Financial management", "Human resources management",
            "External relations and communication", "Management and governance"]
        own = incubation.create_cohort(db, rnd, title="Own", starts_on=dt.date(2019, 4, 1), registry=registry,
                                       capacity_areas=["Fundraising"])
        assert own.capacity_areas == ["Fundraising"]
        core = _programme(db, registry, [], "Another programme")
        with pytest.raises(incubation.IncubationRefused):  # grants names none of its own
            incubation.create_cohort(db, _open_round(db, registry, core), title="Cohort", starts_on=dt.date(2019, 4, 1),
                                     registry=registry)


ORGANISATION = {"mission": "Théâtre pour les jeunes du Sud", "year_founded": "2011", "staff": "4",
                "registration_number": "٢٠١١/0457", "governorate": "TN-73"}


def test_its_form_asks_the_jort_number_the_governorate_and_the_youth_focus(grants_registry, grants_site):
    registry = grants_registry
    with registry.database.transaction() as (_tm, db):
        rnd = db.get(Round, grants_site.round.id)
        member = grants_site.member
        from grants.accounts.models import Organisation, User

        member, organisation = db.get(User, member.id), db.get(Organisation, grants_site.organisation.id)
        app = applications.create_application(db, registry, rnd, organisation, member, title="Clubs de théâtre")
        assert form_for(registry, app).version == APPLICATION_2018_V2  # the programme's default
        for wrong, message in (({"registration_number": "457"}, "Enter the registration number as the year and the "
                                                                 "number, like 2011-0457"),
                               ({"governorate": "GB-LND"}, "Choose one of Tunisia's 24 governorates")):
            with pytest.raises(ApplicationRefused) as refused:
                applications.save_section(db, registry, app, member, "organisation", {**ORGANISATION, **wrong})
            assert [plain(r) for r in refused.value.reasons] == [message]
        applications.save_section(db, registry, app, member, "organisation", ORGANISATION)
        assert app.answers["organisation"]["registration_number"] == "2011-0457"  # digits and separator tidied
        with pytest.raises(ApplicationRefused) as refused:
            applications.save_section(db, registry, app, member, "project", {
                "project_title": "Clubs", "summary": "s", "objectives": "o", "beneficiaries_count": "60",
                "regions": ["TN-73"], "youth_focus": "everyone"})
        assert [name for name, _r in refused.value.problems] == ["youth_focus"]
        asked = Money(Decimal(20_000), grants_site.programme.currency)
        applications.save_section(db, registry, app, member, "budget", {"amount": asked})
        assert app.amount == asked


def test_its_questions_read_in_french_and_arabic_on_the_page(grants_registry, grants_testapp, grants_site):
    from grants.accounts.models import Organisation, User

    registry, testapp = grants_registry, grants_testapp
    with registry.database.transaction() as (_tm, db):
        member = db.get(User, grants_site.member.id)
        app = applications.create_application(db, registry, db.get(Round, grants_site.round.id),
                                              db.get(Organisation, grants_site.organisation.id), member,
                                              title="Clubs de théâtre")
        url = f"/programmes/{grants_site.programme.id}/rounds/{grants_site.round.id}/applications/{app.id}"
    sign_in(testapp, grants_site.member.email)
    for lang, words, governorate in (("fr", "Numéro d'enregistrement au Journal officiel (JORT)", "Kébili"),
                                     ("ar", "رقم التسجيل في الرائد الرسمي للجمهورية التونسية", "قبلي")):
        page = testapp.get(url + "/@@section/organisation", {"_LOCALE_": lang})
        text = page.html.find("main").get_text(" ", strip=True)
        assert words in text and governorate in text


def test_its_rubric_is_offered_to_its_rounds_by_a_translated_title(grants_registry, grants_testapp, grants_site):
    """The rubric is stored under its English title; the round's form says it in the reader's
    language, as it says grants' general rubric."""
    testapp = grants_testapp
    sign_in(testapp, grants_site.officer.email)
    url = f"/programmes/{grants_site.programme.id}/rounds/{grants_site.round.id}/edit"
    for lang, bladi, general in (("en", RUBRIC_TITLE, "General review"),
                                 ("fr", "BLADI — examen de la première phase", "Examen général"),
                                 ("ar", "BLADI — مراجعة المرحلة الأولى", "المراجعة العامة")):
        form = testapp.get(url, {"_LOCALE_": lang}).forms["round"]
        offered = [text for _value, _selected, text in form["rubric_id"].options]
        assert bladi in offered and general in offered, (lang, offered)
