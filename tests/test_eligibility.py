"""Eligibility: each rule kind checked automatically with a specific reason, the checks
stored when an application is submitted, and an officer confirming or overriding each
result (through the service and through the pages) — refusals changing nothing."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select

import factories as f
from grants.applications import eligibility
from grants.applications.eligibility import EligibilityRefused, ScreeningBlocked
from grants.applications.models import Application, ApplicationAttachment, EligibilityCheck
from grants.files.models import StoredFile
from grants.i18n import translate_for
from grants.lifecycle.models import HistoryEntry
from grants.lifecycle.services import WorkflowService
from grants.money import Money
from grants.programmes import services as programmes
from grants.programmes.services import TierSpec
from grants.workflow import Refused

KEBILI, GAFSA, TOZEUR, TUNIS, ARIANA = "TN-73", "TN-71", "TN-72", "TN-11", "TN-12"
ALL_RULES = [
    {"kind": "registered_organisation"},
    {"kind": "region_in", "regions": [KEBILI, GAFSA, TOZEUR]},
    {"kind": "amount_within_max", "max_minor": 250_000_000},  # 250,000.000 TND
    {"kind": "required_attachments", "attachments": ["registration_certificate", "budget"]},
]


def tnd(amount: str) -> Money:
    return Money(Decimal(amount), "TND")


def bladi_round(db, registry, rules, *, tiers=(), budget=None, state="open"):
    """A round of a TND programme declaring ``rules``, open for applications (with a large
    budget unless given one: a round needs a budget to open)."""
    budget = budget or tnd("10000000")
    prog = programmes.create_programme(db, title="BLADI", currency="TND")
    now = dt.datetime.now(dt.timezone.utc)
    rnd = programmes.create_round(db, registry, prog, title="BLADI 2019", timezone="Africa/Tunis",
                                  opens_at=now - dt.timedelta(days=1), closes_at=now + dt.timedelta(days=30),
                                  budget=budget, tiers=tiers, eligibility_rules=rules, actor=f.SYSTEM)
    if state == "open":
        WorkflowService(registry.workflows, db).fire(rnd, "open", actor=f.SYSTEM)
    return rnd


def applicant_organisation(db, *members, registration_number="2011-0457", regions=(KEBILI,), name="جمعية أفق"):
    members = members or (f.user(db, name="Member"),)
    org = f.organisation(db, *members, name=name)
    org.registration_number = registration_number
    org.regions = list(regions)
    db.flush()
    return org


def attach(db, application, kind):
    stored = StoredFile(sha256="0" * 64, filename=f"{kind}.pdf", content_type="application/pdf", size=10)
    db.add(stored)
    db.flush()
    application.attachments.append(ApplicationAttachment(stage="application", kind=kind, file_id=stored.id))
    db.flush()


def draft(db, registry, rnd, org, *, amount="200000", attachments=("registration_certificate", "budget"),
          title="Clubs de théâtre à Kébili"):
    """A draft asking ``amount`` (TND) with ``attachments``, for the rules to look at."""
    application = f.application(db, registry, rnd, org, title=title, complete=False)
    application.amount = tnd(amount) if amount is not None else None
    for kind in attachments:
        attach(db, application, kind)
    return application


def submitted(db, registry, rnd, org, *, title="Clubs de théâtre à Kébili"):
    """A complete application (every section answered, every document attached), submitted."""
    return f.application(db, registry, rnd, org, title=title, state="submitted")


def officer_of(db, rnd, *, email=None, locale="en"):
    officer = f.user(db, email=email, name="Leila Officer", locale=locale)
    f.grant_role(db, officer, "programme_officer", rnd.programme)
    return officer


def results(application, locale="en"):
    return {r.kind: r for r in eligibility.evaluate(application, locale=locale)}


def text(registry, message, locale="en"):
    return translate_for(registry, locale, message)


# -- each rule, passing and failing, with its reason ---------------------------------------


def test_every_rule_passes_for_a_registered_organisation_in_the_regions_within_the_maximum(db, registry):
    rnd = bladi_round(db, registry, ALL_RULES)
    application = draft(db, registry, rnd, applicant_organisation(db), amount="250000")  # the maximum itself
    found = eligibility.evaluate(application)
    assert [(r.position, r.kind, r.passed, r.reason) for r in found] == [
        (0, "registered_organisation", True, None), (1, "region_in", True, None),
        (2, "amount_within_max", True, None), (3, "required_attachments", True, None)]


def test_an_organisation_without_a_registration_number_is_not_registered(db, registry):
    rnd = bladi_round(db, registry, [{"kind": "registered_organisation"}])
    application = draft(db, registry, rnd, applicant_organisation(db, registration_number="  "))
    result = results(application)["registered_organisation"]
    assert not result.passed
    assert text(registry, result.reason) == "The organisation has no registration number."


def test_an_organisation_working_elsewhere_is_told_where_it_works_and_where_the_round_is_open(db, registry):
    rnd = bladi_round(db, registry, [{"kind": "region_in", "regions": [KEBILI, GAFSA, TOZEUR]}])
    application = draft(db, registry, rnd, applicant_organisation(db, regions=(TUNIS, ARIANA)))
    assert not results(application)["region_in"].passed
    assert text(registry, results(application, "en")["region_in"].reason) == (
        "The organisation works in Tunis and Ariana; this round is open to Kebili, Gafsa, and Tozeur only.")
    # Region names in the reader's language (the sentence itself is translated by the catalogs).
    assert "Tunis et Ariana" in text(registry, results(application, "fr")["region_in"].reason, "fr")
    assert "Kébili, Gafsa et Tozeur" in text(registry, results(application, "fr")["region_in"].reason, "fr")
    arabic = text(registry, results(application, "ar")["region_in"].reason, "ar")
    assert "قبلي" in arabic and "أريانة" in arabic


def test_an_organisation_in_one_of_the_regions_passes_and_one_without_regions_is_told_so(db, registry):
    rnd = bladi_round(db, registry, [{"kind": "region_in", "regions": [KEBILI, GAFSA]}])
    assert results(draft(db, registry, rnd, applicant_organisation(db, regions=(TUNIS, GAFSA))))["region_in"].passed
    nowhere = results(draft(db, registry, rnd, applicant_organisation(db, regions=())))["region_in"]
    assert not nowhere.passed
    assert text(registry, nowhere.reason) == (
        "The organisation has not said which regions it works in; this round is open to Kebili and Gafsa only.")


def test_an_amount_above_the_explicit_maximum_names_both_amounts(db, registry):
    rnd = bladi_round(db, registry, [{"kind": "amount_within_max", "max_minor": 250_000_000}])
    application = draft(db, registry, rnd, applicant_organisation(db), amount="300000")
    result = results(application)["amount_within_max"]
    assert not result.passed
    assert text(registry, result.reason) == (
        "The amount requested, TND\u00a0300,000.000, is more than the maximum of TND\u00a0250,000.000.")
    french = text(registry, results(application, "fr")["amount_within_max"].reason, "fr")
    assert "300 000,000 TND" in french.replace("\u202f", " ").replace("\u00a0", " ")  # as French writes it


def test_without_an_explicit_maximum_the_largest_tier_is_the_maximum(db, registry):
    tiers = [TierSpec("Small", tnd("10000"), tnd("50000")), TierSpec("Large", tnd("50000.001"), tnd("150000"))]
    rnd = bladi_round(db, registry, [{"kind": "amount_within_max"}], tiers=tiers)
    org = applicant_organisation(db)
    assert results(draft(db, registry, rnd, org, amount="150000"))["amount_within_max"].passed
    over = results(draft(db, registry, rnd, org, amount="150000.001"))["amount_within_max"]
    assert not over.passed
    assert text(registry, over.reason) == (
        "The amount requested, TND\u00a0150,000.001, is more than the maximum of TND\u00a0150,000.000.")


def test_an_application_without_an_amount_fails_the_maximum_rule(db, registry):
    rnd = bladi_round(db, registry, [{"kind": "amount_within_max", "max_minor": 250_000_000}])
    result = results(draft(db, registry, rnd, applicant_organisation(db), amount=None))["amount_within_max"]
    assert not result.passed
    assert text(registry, result.reason) == "The application does not say how much it requests."


def test_missing_attachments_are_named(db, registry):
    rule = {"kind": "required_attachments", "attachments": ["registration_certificate", "budget"]}
    rnd = bladi_round(db, registry, [rule])
    org = applicant_organisation(db)
    no_budget = results(draft(db, registry, rnd, org, attachments=("registration_certificate",)))
    assert not no_budget["required_attachments"].passed
    assert text(registry, no_budget["required_attachments"].reason) == "The budget sheet is missing."
    neither = results(draft(db, registry, rnd, org, attachments=()))["required_attachments"]
    assert text(registry, neither.reason) == (
        "These attachments are missing: Registration certificate and Budget sheet.")
    assert results(draft(db, registry, rnd, org))["required_attachments"].passed


def test_other_missing_documents_are_named_as_their_form_calls_them(db, registry):
    rnd = bladi_round(db, registry, [{"kind": "required_attachments", "attachments": ["detailed_budget"]}])
    result = results(draft(db, registry, rnd, applicant_organisation(db)))["required_attachments"]
    assert text(registry, result.reason) == "The document “Detailed budget sheet” is missing."
    rnd.eligibility_rules = [{"kind": "required_attachments", "attachments": ["statutes"]}]
    result = results(draft(db, registry, rnd, applicant_organisation(db)))["required_attachments"]
    assert text(registry, result.reason) == "The document “statutes” is missing."


# -- stored at submission ----------------------------------------------------------------------


def test_submitting_stores_one_check_per_rule_with_a_reason_each_reader_can_read(db, registry):
    rules = [{"kind": "registered_organisation"}, {"kind": "region_in", "regions": [KEBILI, GAFSA, TOZEUR]}]
    rnd = bladi_round(db, registry, rules)
    application = submitted(db, registry, rnd, applicant_organisation(db, regions=(TUNIS,)))
    assert application.state == "submitted"
    checks = db.scalars(select(EligibilityCheck).where(EligibilityCheck.application_id == application.id)
                        .order_by(EligibilityCheck.position)).all()
    assert [(c.position, c.kind, c.passed, c.officer_decision) for c in checks] == [
        (0, "registered_organisation", True, None), (1, "region_in", False, None)]
    assert checks[0].reason is None and checks[1].rule == rules[1]
    # Kept as the message and its raw values, so each reader gets names in their language.
    assert checks[1].reason["msgid"].startswith("The organisation works in ${regions}")
    assert checks[1].reason["mapping"] == {"regions": {"regions": [TUNIS]},
                                           "allowed": {"regions": [KEBILI, GAFSA, TOZEUR]}}
    assert "قبلي" in text(registry, eligibility.reason_text(checks[1], "ar"), "ar")
    assert "Kébili" in text(registry, eligibility.reason_text(checks[1], "fr"), "fr")


def test_running_the_checks_again_keeps_what_the_officer_decided(db, registry):
    rnd = bladi_round(db, registry, [{"kind": "registered_organisation"},
                                     {"kind": "region_in", "regions": [KEBILI]}])
    org = applicant_organisation(db, regions=(TUNIS,))
    application = submitted(db, registry, rnd, org)
    first, second = application.eligibility_checks
    first.officer_decision, first.officer_reason = "confirmed", ""
    org.registration_number = ""  # would fail now
    org.regions = [KEBILI]  # would pass now
    eligibility.run_checks(db, application)
    assert [c.id for c in application.eligibility_checks] == [first.id, second.id]
    assert first.passed is True  # screened: the officer's word stands
    assert second.passed is True and second.reason is None  # not screened: replaced


# -- screening -------------------------------------------------------------------------------


def screened_setup(db, registry, *, regions=(TUNIS,), officer_locale="en"):
    """A submitted application that meets the first rule and not the second."""
    rnd = bladi_round(db, registry, [{"kind": "registered_organisation"},
                                     {"kind": "region_in", "regions": [KEBILI, GAFSA, TOZEUR]}])
    applicant = f.user(db, name="Amel", locale="ar")
    application = submitted(db, registry, rnd, applicant_organisation(db, applicant, regions=regions))
    return rnd, application, officer_of(db, rnd, locale=officer_locale), applicant


def test_confirming_a_failure_makes_the_application_ineligible_with_the_reasons_in_the_history(db, registry):
    _rnd, application, officer, _applicant = screened_setup(db, registry, officer_locale="fr")
    moment = dt.datetime(2019, 2, 1, 9, 30, tzinfo=dt.timezone.utc)
    eligible = eligibility.screen(db, registry, application, officer,
                                  {0: ("confirmed", ""), 1: ("confirmed", "")}, now=moment)
    assert eligible is False and application.state == "ineligible"
    assert [(c.officer_decision, c.decided_by_id, c.decided_at) for c in application.eligibility_checks] == [
        ("confirmed", officer.id, moment), ("confirmed", officer.id, moment)]
    entry = db.scalars(select(HistoryEntry).where(HistoryEntry.object_id == application.id,
                                                  HistoryEntry.trigger == "mark_ineligible")).one()
    assert entry.user_id == officer.id
    assert "Kébili, Gafsa et Tozeur" in entry.comment  # the officer's language (French)
    reasons = eligibility.ineligible_reasons(application, locale="ar")
    assert len(reasons) == 1 and "قبلي" in text(registry, reasons[0], "ar")


def test_overriding_a_failure_with_a_reason_makes_the_application_eligible(db, registry):
    _rnd, application, officer, _applicant = screened_setup(db, registry)
    eligible = eligibility.screen(db, registry, application, officer, {
        0: ("confirmed", ""), 1: ("overridden", "  Its statutes show a branch in Kébili since 2019.  ")})
    assert eligible is True and application.state == "eligible"
    overridden = application.eligibility_checks[1]
    assert (overridden.passed, overridden.officer_decision, overridden.outcome) == (False, "overridden", True)
    assert overridden.officer_reason == "Its statutes show a branch in Kébili since 2019."
    assert eligibility.ineligible_reasons(application) == []


def test_overriding_a_pass_tells_the_applicant_the_officers_reason(db, registry):
    _rnd, application, officer, _applicant = screened_setup(db, registry, regions=(KEBILI,))
    eligibility.screen(db, registry, application, officer, {
        0: ("overridden", "The registration number belongs to another association."), 1: ("confirmed", "")})
    assert application.state == "ineligible"
    assert [text(registry, r, "ar") for r in eligibility.ineligible_reasons(application, "ar")] == [
        "The registration number belongs to another association."]


def test_an_override_without_a_reason_is_refused_and_changes_nothing(db, registry):
    _rnd, application, officer, _applicant = screened_setup(db, registry)
    with pytest.raises(EligibilityRefused) as refused:
        eligibility.screen(db, registry, application, officer, {0: ("confirmed", ""), 1: ("overridden", "   ")})
    assert [(field, text(registry, reason)) for field, reason in refused.value.problems] == [
        ("rule-1.reason", "Give the reason for overriding this result: it is kept with the decision")]
    assert isinstance(refused.value, Refused) and not isinstance(refused.value, ScreeningBlocked)
    assert application.state == "submitted"
    assert [c.officer_decision for c in application.eligibility_checks] == [None, None]


def test_every_rule_needs_a_decision(db, registry):
    _rnd, application, officer, _applicant = screened_setup(db, registry)
    with pytest.raises(EligibilityRefused) as refused:
        eligibility.screen(db, registry, application, officer, {1: ("confirmed", ""), 7: ("confirmed", "")})
    assert [field for field, _reason in refused.value.problems] == [None, "rule-0.decision"]
    assert "There is no eligibility rule number 7" in text(registry, refused.value.problems[0][1])
    assert application.state == "submitted" and eligibility.screening_outcome(application) is None


def test_someone_who_may_not_screen_is_refused_and_nothing_changes(db, registry):
    _rnd, application, _officer, applicant = screened_setup(db, registry)
    with pytest.raises(ScreeningBlocked) as blocked:
        eligibility.screen(db, registry, application, applicant, {0: ("confirmed", ""), 1: ("confirmed", "")})
    assert "You are not allowed to do “Mark ineligible” here." in [text(registry, r) for r in blocked.value.reasons]
    assert application.state == "submitted"
    assert [(c.officer_decision, c.decided_by_id) for c in application.eligibility_checks] == [(None, None)] * 2


def test_an_application_already_screened_cannot_be_screened_again(db, registry):
    _rnd, application, officer, _applicant = screened_setup(db, registry, regions=(KEBILI,))
    eligibility.screen(db, registry, application, officer, {0: "confirmed", 1: "confirmed"})  # no reason needed
    with pytest.raises(ScreeningBlocked) as blocked:
        eligibility.screen(db, registry, application, officer,
                           {0: ("overridden", "second thoughts"), 1: ("confirmed", "")})
    assert text(registry, blocked.value.reasons[0]) == (
        "This application is not waiting for screening: it is “Eligible — in review”.")
    assert application.eligibility_checks[0].officer_decision == "confirmed"


def test_a_round_without_rules_is_screened_with_no_decisions(db, registry):
    rnd = bladi_round(db, registry, [])
    application = submitted(db, registry, rnd, applicant_organisation(db))
    assert application.eligibility_checks == [] and eligibility.screening_outcome(application) is True
    assert eligibility.screen(db, registry, application, officer_of(db, rnd), {}) is True
    assert application.state == "eligible"


# -- the guards on the workflow ----------------------------------------------------------------


def test_the_guards_refuse_a_step_that_contradicts_the_screening(db, registry):
    _rnd, application, officer, _applicant = screened_setup(db, registry)
    service = WorkflowService(registry.workflows, db)
    with pytest.raises(Refused) as unscreened:
        service.fire(application, "confirm_eligible", officer)
    assert [text(registry, r) for r in unscreened.value.reasons] == [
        "Confirm or override the result of every eligibility rule first."]
    for check in application.eligibility_checks:
        check.officer_decision = "confirmed"
    with pytest.raises(Refused) as failing:
        service.fire(application, "confirm_eligible", officer)
    assert "At least one eligibility rule is not met" in text(registry, failing.value.reasons[0])
    application.eligibility_checks[1].officer_decision = "overridden"
    with pytest.raises(Refused) as passing:
        service.fire(application, "mark_ineligible", officer, comment="no")
    assert "Every eligibility rule is met" in text(registry, passing.value.reasons[0])
    assert application.state == "submitted"


# -- the pages ---------------------------------------------------------------------------------


def _web_setup(registry, *, regions=(TUNIS,)):
    with registry.database.transaction() as (_tm, db):
        rnd, application, officer, applicant = screened_setup(db, registry, regions=regions)
        other = submitted(db, registry, rnd, applicant_organisation(db, name="Association Nour", regions=(GAFSA,)),
                          title="Bibliothèque mobile")
        drafted = draft(db, registry, rnd, applicant_organisation(db, name="Association Amal"),
                        title="Encore brouillon")
        ids = {"round": f"/programmes/{rnd.programme_id}/rounds/{rnd.id}", "application": application.id,
               "other": other.id, "draft": drafted.id, "officer": officer.email, "applicant": applicant.email}
    ids["screen"] = f"{ids['round']}/applications/{ids['application']}/@@screen"
    return ids


def _state_and_decisions(registry, application_id):
    with registry.database.transaction() as (_tm, db):
        application = db.get(Application, application_id)
        return application.state, [(c.officer_decision, c.officer_reason) for c in application.eligibility_checks]


def test_the_screening_list_shows_what_awaits_the_officer_with_the_automatic_results(testapp, registry):
    ids = _web_setup(registry)
    f.sign_in(testapp, ids["officer"])
    page = testapp.get(ids["round"] + "/@@screening")
    rows = [[td.get_text(" ", strip=True) for td in tr.find_all("td")]
            for tr in page.html.find(id="screening").tbody.find_all("tr")]
    assert [(r[0], r[1], r[4], r[5]) for r in rows] == [
        ("Clubs de théâtre à Kébili", "جمعية أفق", "1", "1"), ("Bibliothèque mobile", "Association Nour", "2", "0")]
    assert "Encore brouillon" not in page.text  # drafts are not submitted
    link = page.html.find(id="screening").find("a")["href"]
    assert link.endswith(f"/applications/{ids['application']}/@@screen")


def test_only_officers_see_the_screening_pages(testapp, registry):
    ids = _web_setup(registry)
    f.sign_in(testapp, ids["applicant"])
    testapp.get(ids["round"] + "/@@screening", status=403)
    testapp.get(ids["screen"], status=403)


def test_an_override_without_a_reason_shows_the_error_and_keeps_what_was_typed(testapp, registry):
    ids = _web_setup(registry)
    f.sign_in(testapp, ids["officer"])
    page = testapp.get(ids["screen"])
    fieldsets = page.html.select("fieldset.border")
    assert len(fieldsets) == 2
    assert "The organisation works in Tunis" in fieldsets[1].get_text(" ", strip=True)
    form = f.main_form(page)
    form["screen-rule-0-decision"] = "confirmed"
    form.set("reason", "Registration checked in the JORT.", index=0)
    form["screen-rule-1-decision"] = "overridden"
    failed = form.submit("submit", status=400)
    summary = failed.html.find(class_="error-summary")
    assert summary.find("a")["href"] == "#screen-rule-1-reason"
    assert "Give the reason for overriding this result" in summary.get_text()
    assert "Give the reason for overriding this result" in failed.html.find(id="error-screen-rule-1-reason").get_text()
    assert failed.html.title.get_text().strip().startswith("Error:")
    again = f.main_form(failed)
    assert again["screen-rule-0-decision"].value == "confirmed"
    assert again["screen-rule-1-decision"].value == "overridden"
    assert again.get("reason", index=0).value == "Registration checked in the JORT."
    assert _state_and_decisions(registry, ids["application"]) == ("submitted", [(None, ""), (None, "")])


def test_no_choice_made_is_shown_beside_the_rule(testapp, registry):
    ids = _web_setup(registry)
    f.sign_in(testapp, ids["officer"])
    failed = f.main_form(testapp.get(ids["screen"])).submit("submit", status=400)
    links = [a["href"] for a in failed.html.find(class_="error-summary").find_all("a")]
    assert links == ["#screen-rule-0-decision", "#screen-rule-1-decision"]
    assert failed.html.find(id="screen-rule-0-decision").name == "fieldset"  # the link's target
    assert _state_and_decisions(registry, ids["application"])[0] == "submitted"


def test_the_officer_overrides_a_result_and_the_application_goes_to_review(testapp, registry):
    ids = _web_setup(registry)
    f.sign_in(testapp, ids["officer"])
    form = f.main_form(testapp.get(ids["screen"]))
    form["screen-rule-0-decision"] = "confirmed"
    form["screen-rule-1-decision"] = "overridden"
    form.set("reason", "Works in Kébili through its Douz branch.", index=1)
    done = form.submit("submit").follow()
    assert done.request.path.endswith("/@@screening")
    assert "is eligible and goes to review" in done.text
    assert "Clubs de théâtre" not in done.html.find(id="screening").get_text()
    assert _state_and_decisions(registry, ids["application"]) == (
        "eligible", [("confirmed", ""), ("overridden", "Works in Kébili through its Douz branch.")])
    testapp.get(ids["screen"], status=403)  # screened: nothing more to screen


def test_the_officer_confirms_a_failure_and_the_applicant_sees_why(testapp, registry):
    ids = _web_setup(registry)
    f.sign_in(testapp, ids["officer"])
    form = f.main_form(testapp.get(ids["screen"]))
    form["screen-rule-0-decision"] = "confirmed"
    form["screen-rule-1-decision"] = "confirmed"
    done = form.submit("submit").follow()
    assert "is not eligible" in done.text
    assert _state_and_decisions(registry, ids["application"])[0] == "ineligible"
    testapp.post("/logout", {"csrf_token": done.html.find(id="logout-form").find("input")["value"]})
    f.sign_in(testapp, ids["applicant"])
    page = testapp.get(f"{ids['round']}/applications/{ids['application']}", headers={"Accept-Language": "en"})
    assert "this round is open to Kebili, Gafsa, and Tozeur only" in page.text
    arabic = testapp.get(f"{ids['round']}/applications/{ids['application']}", params={"_LOCALE_": "ar"})
    assert "قبلي وقفصة وتوزر" in arabic.html.find(id="ineligible").get_text()


def refuse_until_sanctions_checked(ctx):
    return "The funder's sanctions check has not come back yet."


def test_a_step_the_workflow_refuses_is_a_conflict_and_changes_nothing(settings):
    """A funder's plugin guards confirm_eligible: the page says why, with 409."""
    import webtest

    from grants import make_config

    config = make_config(settings, compile_workflows=False)
    config.add_workflow_guard("application", "confirm_eligible", refuse_until_sanctions_checked)
    config.commit()
    config.registry.workflows.freeze()
    testapp = webtest.TestApp(config.make_wsgi_app(), extra_environ={"HTTP_HOST": "localhost"})
    ids = _web_setup(config.registry, regions=(KEBILI,))
    f.sign_in(testapp, ids["officer"])
    form = f.main_form(testapp.get(ids["screen"]))
    form["screen-rule-0-decision"] = "confirmed"
    form["screen-rule-1-decision"] = "confirmed"
    refused = form.submit("submit", status=409)
    assert "The funder's sanctions check has not come back yet." in refused.html.find(id="refusal").get_text()
    assert f.main_form(refused)["screen-rule-1-decision"].value == "confirmed"
    assert _state_and_decisions(config.registry, ids["application"]) == ("submitted", [(None, ""), (None, "")])
