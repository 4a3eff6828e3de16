"""Pre-award journeys in a real Chromium against the app on a real waitress server: an
applicant applies (saving a section for later, failing validation and fixing it,
uploading documents, submitting); a reviewer accepts an invitation, declares a conflict on
one application and none on another, and scores it; an officer screens an application
and records the round's decisions; and the task list in Arabic, right to left."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

import factories as f
from grants.applications import eligibility
from grants.applications.models import Application
from grants.money import Money
from grants.review import services as review
from grants.review.models import Decision, Review

pytestmark = pytest.mark.browser

CRITERIA = ("relevance", "feasibility", "value_for_money", "capacity", "sustainability")
CSV = b"item,amount\nTraining of club leaders,5000\nCostumes and sets,3000\n"


# -- helpers -------------------------------------------------------------------------------


def submit(page, button) -> None:
    """Click a button (a Locator) that submits a form, and wait for the page it leads to."""
    with page.expect_navigation():
        button.click()


def sign_in(page, live_server, email) -> None:
    page.goto(live_server + "/login")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(f.PASSWORD)
    submit(page, page.get_by_role("button", name="Sign in").last)
    assert page.locator("#logout-form").is_visible()


def state_shown(page) -> str:
    return page.locator("main p", has_text=re.compile(r"^\s*State:")).locator("strong").inner_text().strip()


def flash(page) -> str:
    return page.locator("main [role=status]").inner_text()


def a_round(db, registry, *, currency="TND", rules=(), budget=None):
    prog = f.programme(db, title="BLADI")
    prog.currency = currency
    rnd = f.round_(db, registry, prog, title="Nabda b houmti 2019")
    rnd.eligibility_rules = list(rules)
    rnd.budget = budget
    db.flush()
    return rnd


def round_url(live_server, rnd) -> str:
    return f"{live_server}/programmes/{rnd.programme_id}/rounds/{rnd.id}"


def app_url(live_server, application) -> str:
    return f"{round_url(live_server, application.round)}/applications/{application.id}"


# -- a. an applicant applies ------------------------------------------------------------------


def test_an_applicant_saves_for_later_fixes_an_error_uploads_and_submits(live_server, page, registry):
    with registry.database.transaction() as (_tm, db):
        amel = f.user(db, email="amel@example.org", name="Amel Ben Salah")
        f.registered_organisation(db, amel)  # AFEK, in Kebili
        url = round_url(live_server, a_round(db, registry))
    sign_in(page, live_server, "amel@example.org")

    # The round's page → Apply → name the project → the task list.
    page.goto(url)
    submit(page, page.get_by_role("link", name="Apply to this round"))
    assert "You are applying for" in page.locator("main").inner_text()
    page.get_by_label("What is your project called?").fill("Clubs de théâtre")
    submit(page, page.get_by_role("button", name="Start the application"))
    tasks_url = page.url
    assert page.locator("#status-organisation").inner_text() == "Not yet started"

    # Part of the first section, then "Save and come back later".
    submit(page, page.get_by_role("link", name="Tell us about your organisation"))
    page.get_by_label("What is your organisation's mission?").fill("Le théâtre pour les jeunes du Sud — المسرح للشباب")
    submit(page, page.get_by_role("button", name="Save and come back later"))
    assert page.url == tasks_url
    assert "You can come back to them later" in flash(page)
    assert page.locator("#status-organisation").inner_text() == "In progress"

    # Back again: a year in letters fails; the summary links to the input; nothing typed is lost.
    submit(page, page.get_by_role("link", name="Tell us about your organisation"))
    assert page.get_by_label("What is your organisation's mission?").input_value().startswith("Le théâtre")
    page.get_by_label("In what year was it founded?").fill("two thousand and eleven")
    page.get_by_label("How many paid staff does it have?").fill("4")
    submit(page, page.get_by_role("button", name="Save and continue"))
    assert page.title().startswith("Error:")
    summary = page.locator(".error-summary")
    assert summary.locator("h2").inner_text() == "There is a problem"
    link = summary.get_by_role("link", name="Enter the year your organisation was founded with 4 digits, like 2011")
    assert link.get_attribute("href") == "#section-year_founded"
    page.wait_for_function("document.activeElement.classList.contains('error-summary')")  # announced first
    link.click()
    page.wait_for_function("document.activeElement.id === 'section-year_founded'")
    assert page.locator("#error-section-year_founded").is_visible()
    assert page.get_by_label("In what year was it founded?").input_value() == "two thousand and eleven"
    assert page.get_by_label("How many paid staff does it have?").input_value() == "4"
    assert page.get_by_label("What is your organisation's mission?").input_value().startswith("Le théâtre")

    # Fixed, and on through the sections.
    page.get_by_label("In what year was it founded?").fill("2011")
    submit(page, page.get_by_role("button", name="Save and continue"))
    assert page.locator("h1").inner_text() == "Describe your project"
    assert page.get_by_label("Project title").input_value() == "Clubs de théâtre"
    page.get_by_label("Summarise your project").fill("Des clubs de théâtre dans quatre écoles de Kébili.")
    page.get_by_label("What are the project's objectives?").fill("Deux cents élèves jouent ensemble.")
    page.get_by_label("Who will take part or benefit?").fill("Élèves de 12 à 18 ans")
    page.get_by_label("Kebili").check()
    submit(page, page.get_by_role("button", name="Save and continue"))
    assert page.locator("h1").inner_text() == "Plan your budget"
    page.get_by_label("How much are you asking for?").fill("20,000")
    submit(page, page.get_by_role("button", name="Save and continue"))

    # Documents: a PDF and a CSV spreadsheet, chosen in the file inputs.
    assert page.locator("h1").inner_text() == "Upload your documents"
    page.set_input_files("#attachments-registration_certificate", files=[
        {"name": "certificate.pdf", "mimeType": "application/pdf", "buffer": f.PDF}])
    page.get_by_label("Budget sheet").set_input_files(files=[
        {"name": "budget.csv", "mimeType": "text/csv", "buffer": CSV}])
    submit(page, page.get_by_role("button", name="Save and continue"))

    # Check your answers, then submit.
    assert page.locator("h1").inner_text() == "Check your answers before submitting your application"
    assert page.locator("#missing").count() == 0
    assert "certificate.pdf" in page.locator("#document-registration_certificate").inner_text()
    assert "budget.csv" in page.locator("#document-budget").inner_text()
    assert page.locator("#answer-budget-amount").inner_text().strip() == "TND\u00a020,000.000"
    submit(page, page.get_by_role("button", name="Confirm and submit application"))
    assert "Your application is submitted" in flash(page)
    assert state_shown(page) == "Submitted"
    assert page.locator("#task-list").count() == 0

    with registry.database.transaction() as (_tm, db):
        application = db.scalars(select(Application)).one()
        assert application.state == "submitted" and application.title == "Clubs de théâtre"
        assert application.answers["organisation"]["year_founded"] == 2011
        assert application.amount == Money.from_minor(20_000_000, "TND")
        assert sorted((a.kind, a.file.filename) for a in application.attachments) == [
            ("budget", "budget.csv"), ("registration_certificate", "certificate.pdf")]


# -- b. a reviewer -------------------------------------------------------------------------------


def test_a_reviewer_accepts_declares_a_conflict_and_scores_another(live_server, page, registry):
    with registry.database.transaction() as (tm, db):
        officer = f.user(db, email="leila@example.org", name="Leila Ben Salah")
        sami = f.user(db, email="sami@example.org", name="Sami Reviewer")
        rnd = a_round(db, registry)
        f.grant_role(db, officer, "programme_officer", rnd.programme)
        board = f.application(db, registry, rnd, f.organisation(db, f.user(db), name="Association Afek"),
                              title="Theatre clubs in Kebili", state="eligible")
        radio = f.application(db, registry, rnd, f.organisation(db, f.user(db), name="Radio Sfax"),
                              title="Community radio", state="eligible")
        review.invite_reviewer(db, registry, rnd, sami, officer, transaction_manager=tm)
        refs = {"board": board.reference, "radio": radio.reference}
        urls = {"board": app_url(live_server, board), "radio": app_url(live_server, radio)}
        ids = {"board": board.id, "radio": radio.id, "round": rnd.id, "sami": sami.id, "officer": officer.id}

    sign_in(page, live_server, "sami@example.org")
    page.goto(live_server + "/reviews")
    invitation = page.locator("#invitations")
    assert "Nabda b houmti 2019" in invitation.inner_text()
    submit(page, invitation.get_by_role("button", name="Accept"))
    assert "You accepted to review in Nabda b houmti 2019" in flash(page)
    assert page.locator("#invitations").count() == 0

    # The officer gives him both applications.
    with registry.database.transaction() as (_tm, db):
        from grants.accounts.models import User

        for key in ("board", "radio"):
            review.assign(db, db.get(Application, ids[key]), db.get(User, ids["sami"]), db.get(User, ids["officer"]))

    # A conflict with Afek: declared with what it is; from then on the application is refused to him.
    page.goto(live_server + "/reviews")
    assert page.locator("#to-declare a").count() == 2
    submit(page, page.get_by_role("link", name=f"Declare for {refs['board']}"))
    assert "Association Afek" in page.locator("#declare-details").inner_text()
    page.get_by_label("I have a conflict of interest with this application", exact=True).check()
    page.get_by_label("If you have a conflict, what is it?").fill("I sit on Afek's board.")
    submit(page, page.get_by_role("button", name="Send my declaration"))
    assert page.url == live_server + "/reviews"
    assert f"Your conflict of interest with {refs['board']} is recorded" in flash(page)
    assert "Theatre clubs in Kebili" in page.locator("#conflicts").inner_text()
    refused = page.goto(urls["board"] + "/@@score")
    assert refused.status == 403
    assert "You declared a conflict of interest with this application; you cannot see or score it." in (
        page.locator("main").inner_text())

    # No conflict with the radio: straight to its answers and the rubric.
    page.goto(live_server + "/reviews")
    submit(page, page.get_by_role("link", name=f"Declare for {refs['radio']}"))
    page.get_by_label("I have no conflict of interest with this application", exact=True).check()
    submit(page, page.get_by_role("button", name="Send my declaration"))
    assert page.url == urls["radio"] + "/score"
    assert "Community radio" in page.locator("#answers").inner_text()
    scores = {"relevance": 5, "feasibility": 4, "value_for_money": 2, "capacity": 3, "sustainability": 4}
    page.get_by_label("5 — Addresses a pressing need, evidenced and voiced by the people concerned").check()
    for criterion, value in scores.items():
        radio_button = page.locator(f"#score-{criterion}-score input[type=radio][value='{value}']")
        radio_button.check()
        assert radio_button.is_checked()
        page.locator(f"#score-{criterion}-rationale").fill(f"Why {value} for {criterion}.")
    submit(page, page.get_by_role("button", name="Submit scores"))
    assert page.url == live_server + "/reviews"
    assert f"Your scores for {refs['radio']} are submitted" in flash(page)
    submitted = page.locator("#submitted").inner_text()
    assert "Community radio" in submitted and "Theatre clubs in Kebili" not in submitted
    assert page.locator("#to-declare").count() == 0 and page.locator("#to-score").count() == 0

    with registry.database.transaction() as (_tm, db):
        (stored,) = db.scalars(select(Review)).all()
        assert (stored.application_id, stored.scores) == (ids["radio"], scores)
        assert stored.submitted_at is not None and stored.rationales["value_for_money"] == "Why 2 for value_for_money."


# -- c. an officer ----------------------------------------------------------------------------------


def test_an_officer_screens_an_application_and_records_the_decisions(live_server, page, registry):
    with registry.database.transaction() as (tm, db):
        officer = f.user(db, email="leila@example.org", name="Leila Ben Salah")
        rnd = a_round(db, registry, currency="USD", rules=[{"kind": "registered_organisation"}],
                      budget=Money.from_minor(5_000_000, "USD"))
        f.grant_role(db, officer, "programme_officer", rnd.programme)
        waiting = f.application(db, registry, rnd, f.registered_organisation(db, f.user(db)), state="submitted",
                                title="Theatre clubs in Kebili")
        scored = f.application(db, registry, rnd, f.registered_organisation(
            db, f.user(db), legal_name="Radio Sfax", registration_number="2014-0031"), state="submitted",
            title="Community radio")
        eligibility.screen(db, registry, scored, officer, {0: "confirmed"}, transaction_manager=tm)
        reviewer = f.user(db, name="Sami Reviewer")
        review.respond(db, review.invite_reviewer(db, registry, rnd, reviewer, officer, transaction_manager=tm),
                       reviewer, accept=True)
        assignment = review.declare(db, review.assign(db, scored, reviewer, officer), reviewer, conflict=False)
        review.save_review(db, registry, assignment, reviewer, scores={c: 4 for c in CRITERIA},
                           rationales={c: "Solid." for c in CRITERIA}, submit=True)
        url, ids = round_url(live_server, rnd), {"waiting": waiting.id, "scored": scored.id}

    sign_in(page, live_server, "leila@example.org")
    page.goto(url)
    submit(page, page.locator("#round-work").get_by_role("link", name="Screening"))
    submit(page, page.locator("#screening").get_by_role("link", name="Theatre clubs in Kebili"))
    assert "Met" in page.locator("#screen-rule-0").inner_text()
    page.get_by_label("Confirm this result").check()
    submit(page, page.get_by_role("button", name="Record the screening decision"))
    assert "“Theatre clubs in Kebili” is eligible and goes to review" in flash(page)
    assert page.locator("#nothing-to-screen").is_visible()

    page.goto(url)
    submit(page, page.locator("#round-work").get_by_role("link", name="Ranking and decisions"))
    assert page.locator("#ranking tbody tr").count() == 1
    assert "Theatre clubs in Kebili" in page.locator("#unscored").inner_text()  # not reviewed yet
    page.get_by_label("The selected applications").select_option(label="Select for funding")
    page.get_by_label("Message to the selected applicants").fill("Welcome to the programme.")
    page.get_by_label("Funder's decision reference").fill("GC-2019-11")
    page.get_by_label("Decide without the applications that have no review yet").check()
    submit(page, page.get_by_role("button", name="Record the decisions"))
    assert "Recorded 1 selected and 0 not selected." in flash(page)
    assert page.locator("#decided tbody tr").count() == 1
    assert "GC-2019-11" in page.locator("#decided").inner_text()

    with registry.database.transaction() as (_tm, db):
        assert db.get(Application, ids["scored"]).state == "selected"
        assert db.get(Application, ids["waiting"]).state == "eligible"
        decision = db.scalars(select(Decision)).one()
        assert (decision.application_id, decision.outcome, decision.reason, decision.funder_reference) == (
            ids["scored"], "select", "Welcome to the programme.", "GC-2019-11")


# -- d. in Arabic -----------------------------------------------------------------------------------


def test_the_task_list_and_its_errors_in_arabic_read_right_to_left(live_server, page, registry):
    with registry.database.transaction() as (_tm, db):
        amel = f.user(db, email="amel@example.org")
        application = f.application(db, registry, a_round(db, registry), f.registered_organisation(db, amel),
                                    complete=False)
        url = app_url(live_server, application)
    sign_in(page, live_server, "amel@example.org")
    page.goto(url)
    assert page.evaluate("document.documentElement.dir") == "ltr"
    submit(page, page.get_by_role("button", name="العربية"))
    assert page.url.rstrip("/") == url.rstrip("/")
    assert page.evaluate("[document.documentElement.lang, document.documentElement.dir]") == ["ar", "rtl"]
    assert page.locator("#task-list li").count() == 4

    page.locator("#task-organisation a").click()
    page.wait_for_url("**/section/organisation")
    submit(page, page.locator("#sectioncontinue"))  # nothing typed
    assert page.evaluate("document.documentElement.dir") == "rtl"
    title = page.locator("#error-summary-title").inner_text().strip()
    assert title and title != "There is a problem"
    assert re.search("[\u0600-\u06ff]", title), title
    assert page.locator(".error-summary a").first.get_attribute("href") == "#section-mission"
