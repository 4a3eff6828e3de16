"""The rule kind ``legal_form_in``: rounds of the fund's programmes may declare it, others
may not; it is checked on submission, described on the round page and explained to each
reader in their own language."""
from __future__ import annotations

import pytest
from shared_endeavour_fund_helpers import gbp
from sqlalchemy import select

from grants.applications import eligibility
from grants.applications import services as applications
from grants.demo import tools
from grants.programmes import services as programmes
from grants.programmes.models import Round
from grants.testing import sign_in


def test_only_rounds_of_the_fund_s_programmes_may_declare_the_legal_form_rule(grants_registry, fund, core_round):
    rule = {"kind": "legal_form_in", "legal_forms": ["cio", "registered_charity"]}
    with grants_registry.database.transaction() as (_tm, db):
        theirs = db.get(Round, core_round)
        with pytest.raises(programmes.ProgrammeRefused) as refused:
            programmes.create_round(db, grants_registry, theirs.programme, title="Draft", eligibility_rules=[rule])
        assert "Unknown eligibility rule “legal_form_in”" in refused.value.reasons[0].interpolate()
        ours = db.get(Round, fund.round_id)
        draft = programmes.create_round(db, grants_registry, ours.programme, title="Draft", eligibility_rules=[rule])
        assert draft.eligibility_rules == [rule]
        with pytest.raises(programmes.ProgrammeRefused) as refused:
            programmes.update_round(db, draft, registry=grants_registry, eligibility_rules=[
                {"kind": "legal_form_in", "legal_forms": ["limited_partnership"]}])
        assert "List the legal forms the round accepts" in refused.value.reasons[0].interpolate()
        assert draft.eligibility_rules == [rule]


def _submitted(registry, fund, legal_form):
    from grants.accounts.models import Organisation, User

    with registry.database.transaction() as (tm, db):
        member = db.scalars(select(User).where(User.email == fund.member_email)).one()
        organisation = db.get(Organisation, fund.organisation_id)
        organisation.legal_form = legal_form
        application = applications.create_application(db, registry, db.get(Round, fund.round_id), organisation,
                                                      member, title="Youth voices")
        tools.fill_application(db, registry, application, member, amount=gbp(20_000))
        applications.submit(db, registry, application, member, transaction_manager=tm)
        return application.id


@pytest.mark.parametrize("locale, expected", [
    ("en", "The organisation is registered as Other; this round accepts Registered charity, Charitable "
           "incorporated organisation (CIO), Community interest company (CIC), Company limited by guarantee, or "
           "Community group with a written constitution."),
    ("fr", "L'organisation est enregistrée comme Autre ; cet appel accepte Organisation caritative enregistrée "
           "(registered charity), Organisation caritative constituée en personne morale (CIO), Société d'intérêt "
           "communautaire (CIC), Société à responsabilité limitée par garantie (company limited by guarantee) ou "
           "Groupe communautaire doté de statuts écrits."),
])
def test_an_organisation_of_another_legal_form_fails_the_rule_with_a_reason_in_the_reader_s_language(
        grants_registry, fund, locale, expected):
    from grants.applications.models import Application
    from grants.i18n import translate_for

    application_id = _submitted(grants_registry, fund, "other")
    with grants_registry.database.transaction() as (_tm, db):
        application = db.get(Application, application_id)
        check = next(c for c in application.eligibility_checks if c.kind == "legal_form_in")
        assert check.passed is False
        text = translate_for(grants_registry, locale, eligibility.reason_text(check, locale))
        assert text == expected
        assert all(c.passed for c in application.eligibility_checks if c.kind != "legal_form_in")


def test_an_accepted_legal_form_passes(grants_registry, fund):
    from grants.applications.models import Application

    application_id = _submitted(grants_registry, fund, "constituted_group")
    with grants_registry.database.transaction() as (_tm, db):
        assert all(c.passed for c in db.get(Application, application_id).eligibility_checks)


def test_the_round_page_and_the_screening_page_name_the_rule(grants_registry, grants_testapp, fund):
    application_id = _submitted(grants_registry, fund, "other")
    sign_in(grants_testapp, fund.officer_email)
    grants_testapp.set_cookie("grants_lang", "ar")
    page = grants_testapp.get(fund.round_url())
    rules = page.html.find(id="rules").get_text()
    assert "يجب أن يكون مقدّم الطلب واحدًا مما يلي:" in rules and "جمعية خيرية مسجلة" in rules
    screening = grants_testapp.get(f"{fund.round_url()}/applications/{application_id}/@@screen")
    assert "الشكل القانوني" in screening.text


def _boxes(form):
    return {box._value: box for box in form.fields["checkbox"]}


def test_the_officer_sets_the_legal_forms_on_the_round_form(grants_registry, grants_testapp, fund, core_round):
    from grants.programmes.models import Programme

    with grants_registry.database.transaction() as (_tm, db):
        draft = programmes.create_round(db, grants_registry, db.get(Programme, fund.programme_id), title="Call 6",
                                        eligibility_rules=[{"kind": "registered_organisation"},
                                                           {"kind": "legal_form_in", "legal_forms": ["cio"]}])
        url = f"/programmes/{fund.programme_id}/rounds/{draft.id}"
        draft_id = draft.id
        other = db.get(Round, core_round)
        other_new = f"/programmes/{other.programme_id}/rounds/@@new"
    sign_in(grants_testapp, fund.officer_email)
    grants_testapp.set_cookie("grants_lang", "fr")
    page = grants_testapp.get(url + "/@@edit")
    assert "Formes juridiques admises" in page.html.find(id="round-eligibility").get_text()
    form = page.forms["round"]
    boxes = _boxes(form)
    assert boxes["cio"].checked and not boxes["registered_charity"].checked
    boxes["registered_charity"].checked = True
    form["title"] = "Call 6 — 2027"
    form.submit("submit", status=302)
    with grants_registry.database.transaction() as (_tm, db):
        kept = db.get(Round, draft_id)
        assert kept.title == "Call 6 — 2027"
        assert kept.eligibility_rules == [{"kind": "registered_organisation"},
                                          {"kind": "legal_form_in", "legal_forms": ["registered_charity", "cio"]}]
    form = grants_testapp.get(url + "/@@edit").forms["round"]
    for box in form.fields["checkbox"]:
        box.checked = False
    form.submit("submit", status=302)
    with grants_registry.database.transaction() as (_tm, db):
        assert db.get(Round, draft_id).eligibility_rules == [{"kind": "registered_organisation"}]
    # a programme that does not use the plugin asks no such question
    page = grants_testapp.get(other_new)
    assert "checkbox" not in page.forms["round"].fields
