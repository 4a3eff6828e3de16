"""The fund's application form: the default for its programmes only, at least one priority
theme (checked by the server), grants within the round's tiers, and match funding of half
the amount for the largest — refused on saving and on submitting, in the applicant's language."""
from __future__ import annotations

import pytest
from shared_endeavour_fund_helpers import gbp
from sqlalchemy import select

from grants.applications import services as applications
from grants.applications.formdefs import form_for
from grants.applications.models import Application
from grants.demo import tools
from grants.testing import sign_in
from grants_shared_endeavour.form import VERSION


def _application(registry, fund, round_id=None, amount=None, answers=None):
    from grants.accounts.models import Organisation, User
    from grants.programmes.models import Round

    with registry.database.transaction() as (_tm, db):
        member = db.scalars(select(User).where(User.email == fund.member_email)).one()
        rnd = db.get(Round, round_id or fund.round_id)
        application = applications.create_application(db, registry, rnd, db.get(Organisation, fund.organisation_id),
                                                      member, title="Youth voices in Lewisham")
        if amount is not None:
            tools.fill_application(db, registry, application, member, answers, amount=gbp(amount))
        return application.id, rnd.programme_id, rnd.id


def _url(ids):
    application_id, programme_id, round_id = ids
    return f"/programmes/{programme_id}/rounds/{round_id}/applications/{application_id}"


def test_the_fund_s_form_is_the_default_in_its_programmes_only(grants_registry, fund, core_round):
    ours = _application(grants_registry, fund)
    theirs = _application(grants_registry, fund, round_id=core_round)
    with grants_registry.database.transaction() as (_tm, db):
        assert db.get(Application, ours[0]).form_version == VERSION
        other = db.get(Application, theirs[0])
        assert other.form_version != VERSION
        assert form_for(grants_registry, other).origin == ""  # grants' own default form


def test_an_application_addresses_at_least_one_priority_theme(grants_registry, grants_testapp, fund):
    ids = _application(grants_registry, fund)
    sign_in(grants_testapp, fund.member_email)
    page = grants_testapp.get(_url(ids) + "/@@section/themes")
    themes = page.forms["section"] if "section" in page.forms else next(
        f for k, f in page.forms.items() if isinstance(k, int) and "how" in f.fields)
    themes["how"] = "Workshops in schools."
    refused = themes.submit("save", status=400)
    assert "Choose at least one of the fund's priority themes" in refused.text
    # a code that is not one of the themes, posted by hand, is refused as well
    form = next(f for k, f in refused.forms.items() if isinstance(k, int) and "how" in f.fields)
    fields = list(form.submit_fields())
    start = fields.index(("__start__", "themes:sequence"))
    fields.insert(start + 1, ("checkbox", "recruiting_members"))
    forged = grants_testapp.post(_url(ids) + "/@@section/themes", fields + [("save", "save")], status=400)
    assert "Choose the themes from the list" in forged.text
    with grants_registry.database.transaction() as (_tm, db):
        assert "themes" not in (db.get(Application, ids[0]).answers or {})

    form = next(f for k, f in forged.forms.items() if isinstance(k, int) and "how" in f.fields)
    for box in form.fields["checkbox"]:
        box.checked = box._value in ("online_resilience", "bringing_together")
    form.submit("save", status=302)
    with grants_registry.database.transaction() as (_tm, db):
        stored = db.get(Application, ids[0]).answers["themes"]
        assert stored["themes"] == ["bringing_together", "online_resilience"]


def _budget_form(page):
    return next(f for k, f in page.forms.items() if isinstance(k, int) and "match_funding_sources" in f.fields)


@pytest.mark.parametrize("lang, expected", [
    ("en", "Grants of this size (Large grants) need match funding of at least 50% of the amount asked: "
           "declare at least £30,000.50 of match funding from other sources"),
    ("fr", "Les subventions de cette taille (Large grants) exigent un financement de contrepartie d'au moins 50 % "
           "du montant demandé : déclarez au moins 30 000,50 £GB de financement de contrepartie provenant d'autres "
           "sources"),
])
def test_the_largest_tier_needs_half_the_amount_in_match_funding(grants_registry, grants_testapp, fund, lang,
                                                                  expected):
    ids = _application(grants_registry, fund)
    sign_in(grants_testapp, fund.member_email)
    grants_testapp.set_cookie("grants_lang", lang)
    form = _budget_form(grants_testapp.get(_url(ids) + "/@@section/budget"))
    form["amount"] = "60001"
    form["match_funding"] = "30000"
    refused = form.submit("save", status=400)
    assert expected.replace("\u202f", " ") in refused.html.get_text().replace("\u202f", " ").replace("\xa0", " ")
    with grants_registry.database.transaction() as (_tm, db):
        assert "budget" not in (db.get(Application, ids[0]).answers or {})
    form = _budget_form(refused)
    form["match_funding"] = "30000.50"
    form.submit("save", status=302)
    with grants_registry.database.transaction() as (_tm, db):
        assert db.get(Application, ids[0]).answers["budget"]["match_funding"]["amount"] == "30000.50"


def test_an_amount_outside_every_tier_is_refused(grants_registry, grants_testapp, fund):
    ids = _application(grants_registry, fund)
    sign_in(grants_testapp, fund.member_email)
    form = _budget_form(grants_testapp.get(_url(ids) + "/@@section/budget"))
    form["amount"] = "9000"
    refused = form.submit("save", status=400)
    assert "Ask for an amount within one of the round's grant sizes: £10,000.00 – £25,000.00" in refused.text


def test_submitting_without_the_match_funding_is_refused(grants_registry, grants_testapp, fund):
    """A budget saved for later may lack the match funding, and is then unfinished; and
    answers that reached the database another way (an import, say) are checked again when
    the application is submitted."""
    ids = _application(grants_registry, fund, amount=80_000, answers={"budget": {"match_funding": gbp(40_000)}})
    sign_in(grants_testapp, fund.member_email)
    grants_testapp.set_cookie("grants_lang", "ar")
    form = _budget_form(grants_testapp.get(_url(ids) + "/@@section/budget"))
    form["match_funding"] = ""
    form.submit("later", status=302)
    with grants_registry.database.transaction() as (_tm, db):
        application = db.get(Application, ids[0])
        assert "match_funding" not in application.answers["budget"]
        assert "budget" not in application.sections_done
        application.sections_done = [*application.sections_done, "budget"]  # as an import would leave it
    refused = grants_testapp.get(_url(ids) + "/@@check").forms["submit-form"].submit("confirm", status=409)
    reasons = refused.html.find(id="refusal").get_text()
    assert "تحتاج المنح بهذا الحجم (Large grants) إلى تمويل مقابل لا يقل عن 50٪ من المبلغ المطلوب" in reasons
    with grants_registry.database.transaction() as (_tm, db):
        assert db.get(Application, ids[0]).state == "draft"


def test_with_the_match_funding_declared_the_application_is_submitted(grants_registry, fund):
    from grants.accounts.models import User

    ids = _application(grants_registry, fund, amount=80_000, answers={"budget": {"match_funding": gbp(40_000)}})
    with grants_registry.database.transaction() as (tm, db):
        application = db.get(Application, ids[0])
        member = db.scalars(select(User).where(User.email == fund.member_email)).one()
        applications.submit(db, grants_registry, application, member, transaction_manager=tm)
        assert application.submitted_at is not None
