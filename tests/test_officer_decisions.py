"""An officer's journey through the pages: the ranking, a moderation (refused once without
a reason, with what was typed kept), an override of the suggestion with a reason, the
round's decisions with the funder's reference, and the applications' new states."""
from __future__ import annotations

from sqlalchemy import select

import factories as f
from grants.applications.models import Application
from grants.review.models import Decision, ScoreModeration, SelectionOverride
from test_decisions import candidate, review, review_round, start_review


def bladi_round(registry):
    """$10,000: ACEC (4.333, $6,000), Khatwa (3, $5,000), AFEK (3, $3,000), ARA (1, $4,000);
    Mashhad not yet scored.  Leila is the programme's officer."""
    with registry.database.transaction() as (_tm, db):
        rnd = review_round(db, registry)
        officer = f.user(db, email="leila@example.org", name="Leila Ben Salah")
        f.grant_role(db, officer, "programme_officer", rnd.programme)
        r1, r2 = f.user(db, name="Reviewer One"), f.user(db, name="Reviewer Two")
        apps = {name: candidate(db, registry, rnd, name, amount) for name, amount in (
            ("ACEC", 6_000), ("Khatwa", 5_000), ("AFEK", 3_000), ("ARA", 4_000), ("Mashhad", 2_000))}
        review(db, apps["ACEC"], r1, 5, 4)
        review(db, apps["ACEC"], r2, 4, 4)
        review(db, apps["Khatwa"], r1, 3, 3)
        review(db, apps["AFEK"], r2, 2, 5)
        review(db, apps["ARA"], r1, 1, 1)
        start_review(db, registry, rnd)
        url = f"/programmes/{rnd.programme_id}/rounds/{rnd.id}"
        return url, {name: a.id for name, a in apps.items()}


def ranked_names(page) -> list[str]:
    return [row.find("th").find("bdi").get_text() for row in page.html.find(id="ranking").find("tbody").find_all("tr")]


def cell(page, app_id, css) -> str:
    return page.html.find(id=f"row-{app_id}").find(class_=css).get_text(" ", strip=True)


def summary(page) -> str:
    return page.html.find(class_="error-summary").get_text(" ", strip=True)


def test_an_officer_moderates_overrides_and_records_the_decisions(testapp, registry):
    url, ids = bladi_round(registry)
    f.sign_in(testapp, "leila@example.org")

    page = testapp.get(url + "/@@ranking?stage=application")
    assert ranked_names(page) == ["ACEC", "AFEK", "Khatwa", "ARA"]
    assert "Mashhad" in page.html.find(id="unscored").get_text()
    budget = page.html.find(id="budget").get_text(" ", strip=True)
    assert "$10,000.00" in budget and "$9,000.00" in budget and "$1,000.00" in budget  # ACEC + AFEK
    assert cell(page, ids["ACEC"], "final") == "4.333"

    # the normalisation toggle adds the column
    normalised = testapp.get(url + "/@@ranking?stage=application&normalise=1")
    assert "Normalised" in normalised.html.find(id="ranking").find("thead").get_text()

    # moderate Khatwa: refused once without a reason, with the score typed kept
    moderate = page.click(href=f"/applications/{ids['Khatwa']}/moderate")
    assert moderate.html.find(id="score-before").get_text(strip=True) == "3.000"
    form = moderate.forms["moderation"]
    form["score_after"] = "4,5"
    failed = form.submit("moderate", status=400)
    assert "Give a reason for the moderation." in summary(failed)
    assert failed.html.find(id="error-moderation-reason") is not None  # beside the field
    assert failed.forms["moderation"]["score_after"].value == "4,5"
    assert failed.html.title.get_text().startswith("Error:")
    form = failed.forms["moderation"]
    form["reason"] = "Reviewer One missed the letters of support."
    page = form.submit("moderate").follow()
    assert "Moderated the score of Khatwa." in page.text
    assert ranked_names(page) == ["Khatwa", "ACEC", "AFEK", "ARA"]
    assert "3.000 → 4.500" in cell(page, ids["Khatwa"], "moderation")
    # $10,000: Khatwa $5,000, ACEC $6,000 does not fit in what is left, AFEK $3,000 does
    assert cell(page, ids["ACEC"], "selected").startswith("✗")

    # override the suggestion: add ACEC, first without a reason
    override = page.click(href=f"override={ids['ACEC']}&change=add")
    form = override.forms["override"]
    assert form["application"].value == str(ids["ACEC"]) and form["change"].value == "add"
    failed = form.submit("override", status=400)
    assert "Give a reason for the override: it is kept with the selection." in summary(failed)
    form = failed.forms["override"]
    form["reason"] = "The only applicant working in juvenile centres."
    page = form.submit("override").follow()
    assert "Added: The only applicant working in juvenile centres." in cell(page, ids["ACEC"], "selected")
    assert "over the budget by $4,000.00" in page.html.find(id="over-budget").get_text(" ", strip=True)

    # record the decisions: refused without feedback and with Mashhad unscored, then done
    form = page.forms["decisions"]
    assert form["selected_trigger"].value == "incubate"
    form["funder_reference"] = "Steering committee 2019-03"
    failed = form.submit("decide", status=400)
    errors = summary(failed)
    assert "Give the reason the other applications are not selected" in errors and "Mashhad" in errors
    assert failed.forms["decisions"]["funder_reference"].value == "Steering committee 2019-03"
    form = failed.forms["decisions"]
    form["reason_declined"] = "Other proposals ranked higher on relevance to the neighbourhood."
    form["reason_selected"] = "Welcome to the incubation."
    form["allow_unscored"].checked = True
    page = form.submit("decide").follow()
    assert "Recorded 3 selected and 1 not selected." in page.text

    decided = {row.find("bdi").get_text(): row.find(class_="state").get_text(strip=True)
               for row in page.html.find(id="decided").find("tbody").find_all("tr")}
    assert decided == {"Khatwa": "In incubation", "ACEC": "In incubation", "AFEK": "In incubation",
                       "ARA": "Declined"}
    assert "Mashhad" in page.html.find(id="unscored").get_text()  # still to be decided

    with registry.database.transaction() as (_tm, db):
        states = {name: db.get(Application, i).state for name, i in ids.items()}
        assert states == {"ACEC": "incubation", "Khatwa": "incubation", "AFEK": "incubation", "ARA": "declined",
                          "Mashhad": "eligible"}
        ara = db.scalars(select(Decision).where(Decision.application_id == ids["ARA"])).one()
        assert (ara.outcome, ara.reason, ara.funder_reference) == (
            "decline", "Other proposals ranked higher on relevance to the neighbourhood.", "Steering committee 2019-03")
        moderation = db.scalars(select(ScoreModeration)).one()
        assert (moderation.score_before, moderation.score_after) == ("3", "4.5")
        assert db.scalars(select(SelectionOverride)).one().action == "add"

    # the application's decisions page: what was decided, and what can be decided now
    decide = testapp.get(f"{url}/applications/{ids['ACEC']}/@@decide")
    assert "Welcome to the incubation." in decide.html.find(id="decisions").get_text()
    assert "Do not fund (give feedback)" in decide.html.find(id="steps").get_text()


def test_only_the_programmes_officers_see_the_ranking(testapp, registry):
    url, ids = bladi_round(registry)
    with registry.database.transaction() as (_tm, db):
        f.user(db, email="amel@example.org")
    f.sign_in(testapp, "amel@example.org")
    testapp.get(url + "/@@ranking", status=403)
    testapp.get(f"{url}/applications/{ids['ACEC']}/@@moderate", status=403)
    testapp.get(f"{url}/applications/{ids['ACEC']}/@@decide", status=403)


def test_a_moderated_score_out_of_range_is_refused_beside_the_field(testapp, registry):
    url, ids = bladi_round(registry)
    f.sign_in(testapp, "leila@example.org")
    form = testapp.get(f"{url}/applications/{ids['AFEK']}/@@moderate").forms["moderation"]
    form["score_after"] = "٧"  # Arabic-Indic 7
    form["reason"] = "Panel view"
    failed = form.submit("moderate", status=400)
    assert "A moderated score must be from 1 to 5, not 7." in summary(failed)
    assert failed.forms["moderation"]["reason"].value == "Panel view"
    with registry.database.transaction() as (_tm, db):
        assert db.scalars(select(ScoreModeration)).all() == []


def test_a_round_without_a_budget_is_capped_by_number(testapp, registry):
    url, ids = bladi_round(registry)
    with registry.database.transaction() as (_tm, db):
        from grants.programmes.models import Round

        rnd = db.get(Round, int(url.rsplit("/", 1)[1]))
        rnd.budget = None
    f.sign_in(testapp, "leila@example.org")
    page = testapp.get(url + "/@@ranking")
    assert "This round has no budget to fit a selection in" in page.html.find(id="problems").get_text()
    assert "decisions" not in page.forms
    page = testapp.get(url + "/@@ranking?limit=2")
    assert [cell(page, ids[n], "selected").startswith("✓") for n in ("ACEC", "AFEK", "Khatwa")] == [
        True, True, False]
    bad = testapp.get(url + "/@@ranking?limit=many", status=400)
    assert "Enter how many applications to select" in summary(bad)


def test_one_application_is_decided_through_its_decisions_page(testapp, registry):
    url, ids = bladi_round(registry)
    f.sign_in(testapp, "leila@example.org")
    decide_url = f"{url}/applications/{ids['Khatwa']}/@@decide"
    page = testapp.get(decide_url)
    assert "No decision has been recorded yet." in page.text
    step = page.click(description="Select for funding")
    form = f.main_form(step)
    form["funder_reference"] = "GC-2019-11"
    form["comment"] = "Strong plan for the youth centre."
    assert form.submit("fire").status_int == 302

    page = testapp.get(decide_url)
    decided = page.html.find(id="decisions").get_text(" ", strip=True)
    assert "Select for funding" in decided and "GC-2019-11" in decided and "Leila Ben Salah" in decided
    assert page.html.find(id="state").get_text() == "Selected"
    steps = page.html.find(id="steps").get_text(" ", strip=True)
    assert "Start due diligence" in steps and "Clear for award" in steps

    # failing due diligence needs a reason (the generic step page asks for it)
    form = f.main_form(page.click(description="Start due diligence"))
    assert form.submit("fire").status_int == 302
    form = f.main_form(testapp.get(decide_url).click(description="Fail due diligence"))
    failed = form.submit("fire", status=400)
    assert "Give a reason for this step" in failed.text
    with registry.database.transaction() as (_tm, db):
        assert db.get(Application, ids["Khatwa"]).state == "due_diligence"
