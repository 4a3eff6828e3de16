"""What the fund adds after the award, in its programmes only: its standard survey in two
designs, its criteria for the evaluator, and two sections of the public round report."""
from __future__ import annotations

import datetime as dt

from shared_endeavour_fund_helpers import gbp
from sqlalchemy import select

from grants.demo import DEMO_PASSWORD
from grants.mel import surveys
from grants.programmes.models import Programme, Round
from grants.testing import sign_in


def test_the_fund_s_instruments_are_offered_to_its_rounds_only(grants_registry, grants_testapp, fund, core_round):
    with grants_registry.database.transaction() as (_tm, db):
        ours = {p.stem for p in surveys.standard_instrument_files(grants_registry, ["shared_endeavour"])}
        theirs = {p.stem for p in surveys.standard_instrument_files(grants_registry, [])}
        programme_id = db.get(Round, core_round).programme_id
    assert {"shared_endeavour_prepost", "shared_endeavour_retrospective"} <= ours
    assert not theirs & {"shared_endeavour_prepost", "shared_endeavour_retrospective"} and theirs
    sign_in(grants_testapp, fund.officer_email)
    page = grants_testapp.get(fund.round_url() + "/@@instruments")
    page.forms["load"].submit().follow()
    with grants_registry.database.transaction() as (_tm, db):
        loaded = {i.code for i in surveys.instrument_versions(db)}
        assert {"shared_endeavour_prepost", "shared_endeavour_retrospective"} <= loaded
        retrospective = surveys.instrument_versions(db, "shared_endeavour_retrospective")[0]
        assert surveys.item_text(retrospective.items[0], "ar") == "قبل المشروع: كنت أشعر بالانتماء إلى حيّي."
        retrospective_id = retrospective.id
    # Loaded for the fund, they are still not offered to a programme without the plugin,
    # and a hand-made post naming one is refused beside the list.
    core_url = f"/programmes/{programme_id}/rounds/{core_round}/@@instruments"
    page = grants_testapp.get(core_url)
    offered = {o[0] for o in page.forms["attach"].fields["instrument"][0].options} if "attach" in page.forms else set()
    assert str(retrospective_id) not in offered
    token = page.forms["load"]["csrf_token"].value
    refused = grants_testapp.post(core_url, {"csrf_token": token, "action": "attach", "instrument": retrospective_id,
                                             "waves": "post"}, status=400)
    assert "This instrument is not offered to this programme." in refused.text
    with grants_registry.database.transaction() as (_tm, db):
        for instrument in surveys.instrument_versions(db):
            db.delete(instrument)
    page = grants_testapp.get(f"/programmes/{programme_id}/rounds/{core_round}/@@instruments")
    page.forms["load"].submit().follow()
    with grants_registry.database.transaction() as (_tm, db):
        assert not {i.code for i in surveys.instrument_versions(db)} & {"shared_endeavour_prepost",
                                                                         "shared_endeavour_retrospective"}


def _awarded_round(registry, fund, *, themes_by_project):
    """The fund's round with one award per entry of ``themes_by_project``, report published."""
    from grants.accounts.models import User
    from grants.accounts.organisations import register_organisation
    from grants.applications import services as applications
    from grants.applications.eligibility import screen
    from grants.awards.services import make_award
    from grants.demo import tools
    from grants.lifecycle.services import WorkflowService
    from grants.reporting.public import publish_report

    today = dt.date.today()
    with registry.database.transaction() as (tm, db):
        officer = db.scalars(select(User).where(User.email == fund.officer_email)).one()
        rnd = db.get(Round, fund.round_id)
        service = WorkflowService(registry.workflows, db, transaction_manager=tm)
        for n, themes in enumerate(themes_by_project):
            owner = tools.make_user(db, f"grantee{n}@example.org", f"Grantee {n}")
            org = register_organisation(db, owner, {
                "legal_name": f"Charity {n}", "registration_number": f"11{n:05d}", "legal_form": "cio",
                "country": "GB", "regions": ["GB-HCK"], "contact_email": owner.email})
            application = applications.create_application(db, registry, rnd, org, owner, title=f"Project {n}")
            tools.fill_application(db, registry, application, owner, {"themes": {"themes": set(themes)}},
                                   amount=gbp(20_000))
            applications.submit(db, registry, application, owner, transaction_manager=tm)
            screen(db, registry, application, officer, {c.position: "confirmed"
                                                         for c in application.eligibility_checks},
                   transaction_manager=tm)
            service.fire(application, "select", officer, data={"funder_reference": "PCD 1"})
            service.fire(application, "pass_due_diligence", officer)
            make_award(db, registry, application, amount=gbp(20_000), starts_on=today,
                       ends_on=today + dt.timedelta(days=365), cadence="half_yearly", user=officer)
        publish_report(db, rnd, user=officer)
        return rnd.programme_id, rnd.id


def test_the_public_report_counts_funded_projects_by_theme_small_counts_suppressed(grants_registry, grants_testapp,
                                                                                    fund, core_round):
    themes = [["preventing_hate"]] * 6 + [["online_resilience", "preventing_hate"]] * 2
    programme_id, round_id = _awarded_round(grants_registry, fund, themes_by_project=themes)
    grants_testapp.set_cookie("grants_lang", "fr")
    page = grants_testapp.get(f"/programmes/{programme_id}/rounds/{round_id}/@@public-report")
    section = page.html.find(id="section-projects-by-theme")
    assert section.find("h2").get_text() == "Projets financés par thème prioritaire"
    rows = {tr.find("th").get_text().strip(): tr.find("td").get_text().strip()
            for tr in section.find("tbody").find_all("tr")}
    assert rows["Prévenir les crimes de haine et l'intolérance"] == "8"
    assert rows["Renforcer la résilience face aux discours extrémistes en ligne"] == "moins de 5"
    assert rows["Rapprocher les communautés"] == "0"
    priorities = page.html.find(id="section-priorities")
    assert len(priorities.find_all("li")) == 4
    # ... and on the report of a programme that does not use the plugin, neither section
    with grants_registry.database.transaction() as (_tm, db):
        rnd = db.get(Round, core_round)
        from grants.accounts.models import User
        from grants.reporting.public import publish_report

        publish_report(db, rnd, user=db.scalars(select(User).where(User.email == fund.officer_email)).one())
        other = f"/programmes/{rnd.programme_id}/rounds/{rnd.id}/@@public-report"
    page = grants_testapp.get(other)
    assert page.html.find(id="section-projects-by-theme") is None and page.html.find(id="section-priorities") is None


def test_evaluators_score_the_fund_s_grantees_on_its_criteria(grants_registry, grants_testapp, fund):
    import pytest

    from grants.accounts.models import User
    from grants.awards.models import Award
    from grants.evaluation import services as evaluation

    _programme_id, round_id = _awarded_round(grants_registry, fund, themes_by_project=[["bringing_together"]])
    with grants_registry.database.transaction() as (_tm, db):
        evaluator = tools_user(db)
        rnd = db.get(Round, round_id)
        evaluation.assign_evaluator(db, rnd, evaluator)
        award = db.scalars(select(Award).where(Award.round_id == round_id)).one()
        ids = [c.id for c in evaluation.criteria_for(grants_registry, rnd.programme)]
        assert ids == ["reach", "delivery", "attitudes", "safeguarding", "partnership", "learning"]
        with pytest.raises(evaluation.EvaluationRefused) as refused:
            evaluation.save_assessment(db, award, evaluator, registry=grants_registry, summary="Fine.",
                                       scores={c: 4 for c in ("relevance", "effectiveness", "efficiency",
                                                              "sustainability", "fidelity", "mel_quality")})
        assert "Score “Reach” from 1 to 5." in [r.interpolate() for r in refused.value.reasons]
        url = f"/programmes/{rnd.programme_id}/rounds/{round_id}/awards/{award.id}/@@assessment"
        core = [c.id for c in evaluation.criteria_for(grants_registry, db.get(Programme, 0))]
        assert core[0] == "relevance"
    sign_in(grants_testapp, "evaluator@fund.example.org", DEMO_PASSWORD)
    grants_testapp.set_cookie("grants_lang", "fr")
    page = grants_testapp.get(url)
    legends = [legend.get_text() for legend in page.html.select("fieldset legend")]
    assert "Portée" in legends and "Partenariat local" in legends and "Pertinence" not in legends


def tools_user(db):
    from grants.demo import tools

    return tools.make_user(db, "evaluator@fund.example.org", "Eve Evaluator")
