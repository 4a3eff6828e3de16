"""An organisation's journey through the pages: a person registers, registers their
association, starts an application, saves a section to come back later, fails
validation (and keeps what they typed), fixes it, uploads documents, checks the answers
and submits — after which the application is read-only for everyone."""
from __future__ import annotations

import datetime as dt
import re

import webtest
from sqlalchemy import select

import factories as f
from grants.applications.models import Application
from grants.programmes.models import Round

EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 64
MAX_TND = 250_000_000  # TND 250,000.000 in millimes


def main_text(page) -> str:
    return " ".join(page.html.find("main").get_text().split())


def summary_links(page) -> dict[str, str]:
    summary = page.html.find(class_="error-summary")
    assert summary is not None, "no error summary"
    return {a["href"]: " ".join(a.get_text().split()) for a in summary.find_all("a")}


def statuses(page) -> dict[str, str]:
    return {li["id"].removeprefix("task-"): " ".join(li.find(class_="status").get_text().split())
            for li in page.html.select("#task-list > li")}


def tick(form, *codes: str) -> None:
    for box in form.fields["checkbox"]:
        box.checked = box._value in codes


def answer(page, section, name) -> str:
    return " ".join(page.html.find(id=f"answer-{section}-{name}").get_text().split())


def state_shown(page) -> str:
    return re.search(r"State:\s*</span>\s*<strong[^>]*>([^<]+)</strong>", page.text).group(1)


def a_round_open_for_applications(registry):
    with registry.database.transaction() as (_tm, db):
        officer = f.user(db, email="officer@example.org", name="Leila Officer")
        prog = f.programme(db, title="BLADI")
        prog.currency = "TND"
        f.grant_role(db, officer, "programme_officer", prog)
        rnd = f.round_(db, registry, prog, title="Nabda b houmti 2018")
        rnd.eligibility_rules = [{"kind": "amount_within_max", "max_minor": MAX_TND}]
        return f"/programmes/{prog.id}/rounds/{rnd.id}", rnd.id


def register_and_sign_in(testapp, registry):
    form = testapp.get("/register").forms["register"]
    form["name"] = "Amel Ben Salah"
    form["email"] = "amel@example.org"
    form["password"] = f.PASSWORD
    form.submit("submit")
    (mail,) = registry.mailer.sent()
    link = re.search(r"http://localhost(/\S+)", mail.get_content()).group(1)
    testapp.get(link, status=302)
    f.sign_in(testapp, "amel@example.org")


def test_an_organisation_drafts_fails_validation_fixes_and_submits(testapp, registry):
    round_url, round_id = a_round_open_for_applications(registry)
    register_and_sign_in(testapp, registry)

    # No organisation yet: the apply page says to register one first.
    apply = testapp.get(round_url).click("Apply to this round")
    assert "Register your organisation first" in main_text(apply)
    register = apply.click(href="/organisations/new")
    form = register.forms["organisation"]
    data = f.organisation_data()
    for name in ("legal_name", "alternative_name", "registration_number", "legal_form", "country"):
        form[name] = data[name]
    tick(form, "TN-73")
    form.submit("submit", status=302)

    # Start the application for the one organisation.
    apply = testapp.get(round_url + "/@@apply")
    assert "You are applying for جمعية أفق — AFEK" in main_text(apply)
    form = apply.forms["apply"]
    assert apply.html.find("input", {"name": "title"})["dir"] == "auto"
    form["title"] = "Clubs de théâtre"
    tasks = form.submit("submit", status=302).follow()
    assert statuses(tasks) == {"organisation": "Not yet started", "project": "Not yet started",
                               "budget": "Not yet started", "documents": "Not yet started"}
    assert [a.get_text() for a in tasks.html.select("#task-list a")] == [
        "Tell us about your organisation", "Describe your project", "Plan your budget", "Attach your documents"]
    assert "2011-0457" in main_text(tasks)  # the organisation's details, not asked again
    app_url = tasks.request.path

    # Part of a section, then "Save and come back later".
    page = tasks.click("Tell us about your organisation")
    form = page.forms["section"]
    assert page.html.find("textarea", {"name": "mission"})["dir"] == "auto"
    form["mission"] = "Le théâtre pour les jeunes du Sud — المسرح للشباب"
    form["year_founded"] = "٢٠١١"
    tasks = form.submit("later", status=302).follow()
    assert "You can come back to them later" in main_text(tasks)
    assert statuses(tasks)["organisation"] == "In progress"

    # Coming back: what was saved is there; finish the section.
    page = tasks.click("Tell us about your organisation")
    assert page.html.find("textarea", {"name": "mission"}).get_text() == "Le théâtre pour les jeunes du Sud — المسرح للشباب"
    assert page.html.find("input", {"name": "year_founded"})["value"] == "2011"
    form = page.forms["section"]
    form["staff"] = "4"
    page = form.submit("continue", status=302).follow()  # on to the next section
    assert page.html.find("h1").get_text() == "Describe your project"

    # A failed "Save and continue": an error summary, each message beside its field, nothing typed lost.
    form = page.forms["section"]
    assert form["project_title"].value == "Clubs de théâtre"  # asked once, at the start
    form["objectives"] = "Deux cents élèves jouent ensemble."
    form["beneficiaries"] = "Élèves de 12 à 18 ans"
    failed = form.submit("continue", status=400)
    assert failed.html.title.get_text().strip().startswith("Error:")
    assert summary_links(failed) == {
        "#section-summary": "Enter a summary of your project",
        "#section-regions": "Choose at least one place where the project will take place",
    }
    assert failed.html.find(id="error-section-summary").get_text().strip() == "Enter a summary of your project"
    assert "error-section-summary" in failed.html.find(id="section-summary")["aria-describedby"]
    assert failed.html.find("textarea", {"name": "objectives"}).get_text() == "Deux cents élèves jouent ensemble."
    assert failed.html.find("input", {"name": "project_title"})["value"] == "Clubs de théâtre"
    with registry.database.transaction() as (_tm, db):
        assert "project" not in db.scalars(select(Application)).one().answers

    form = failed.forms["section"]
    form["summary"] = "Des clubs de théâtre dans quatre écoles de Kébili."
    tick(form, "TN-73", "TN-81")
    page = form.submit("continue", status=302).follow()
    assert page.html.find("h1").get_text() == "Plan your budget"

    # Too much money: a field error, nothing stored.
    form = page.forms["section"]
    form["amount"] = "300,000"
    failed = form.submit("continue", status=400)
    assert summary_links(failed) == {"#section-amount": "Enter an amount of TND 250,000.000 or less."}
    assert failed.html.find("input", {"name": "amount"})["value"] == "300,000"
    with registry.database.transaction() as (_tm, db):
        app = db.scalars(select(Application)).one()
        assert "budget" not in app.answers and app.amount is None
    form = failed.forms["section"]
    form["amount"] = "200,000.500"
    page = form.submit("continue", status=302).follow()
    assert page.html.find("h1").get_text() == "Upload your documents"

    # Documents: a program posing as a certificate is refused; the budget sheet is kept.
    form = page.forms["attachments"]
    form["registration_certificate"] = webtest.Upload("certificate.exe", EXE)
    form["budget"] = webtest.Upload("budget.pdf", f.PDF, "application/pdf")
    failed = form.submit("continue", status=400)
    assert summary_links(failed) == {
        "#attachments-registration_certificate":
            "The file “certificate.exe” is not a PDF, image, spreadsheet or document we accept."}
    assert "budget.pdf" in failed.html.find(id="current-attachments-budget").get_text()
    form = failed.forms["attachments"]
    form["registration_certificate"] = webtest.Upload("شهادة التسجيل.pdf", f.PDF, "application/pdf")
    check = form.submit("continue", status=302).follow()

    # Check your answers: every answer with a way back to it; skipped optional answers said so.
    assert check.html.find("h1").get_text() == "Check your answers before submitting your application"
    assert answer(check, "organisation", "year_founded") == "2011"
    assert answer(check, "organisation", "volunteers") == "Not provided"
    assert answer(check, "budget", "amount") == "TND 200,000.500"
    assert answer(check, "budget", "co_funding") == "Not provided"
    assert answer(check, "project", "regions") == "Gabès, Kebili"
    assert "شهادة التسجيل.pdf" in check.html.find(id="document-registration_certificate").get_text()
    change = check.html.select("#answers-organisation a")[0]["href"]
    assert change.endswith("/@@section/organisation#section-mission") or change.endswith(
        "/section/organisation#section-mission")
    button = check.html.find("button", {"name": "confirm"})
    assert button.get_text().strip() == "Confirm and submit application"

    # The round closes while the applicant reads: submission is refused, with why, and nothing changes.
    with registry.database.transaction() as (_tm, db):
        db.get(Round, round_id).closes_at = f.now() - dt.timedelta(minutes=1)
    refused = check.forms["submit-form"].submit("confirm", status=409)
    assert "The round closed on" in refused.html.find(id="refusal").get_text()
    with registry.database.transaction() as (_tm, db):
        app = db.scalars(select(Application)).one()
        assert (app.state, app.submitted_at) == ("draft", None)
        db.get(Round, round_id).closes_at = f.now() + dt.timedelta(days=3)

    done = check.forms["submit-form"].submit("confirm", status=302).follow()
    assert "Your application is submitted" in main_text(done)

    # Read-only for the applicant, with the public label; no way to change it.
    assert state_shown(done) == "Submitted"
    assert done.html.find(id="task-list") is None and "Change" not in main_text(done)
    assert answer(done, "project", "summary") == "Des clubs de théâtre dans quatre écoles de Kébili."
    section = testapp.get(app_url + "/@@section/organisation")
    assert "section" not in section.forms
    assert "its answers can no longer be changed" in main_text(section)
    csrf = done.html.find("input", {"name": "csrf_token"})["value"]
    refused = testapp.post(app_url + "/@@section/organisation",
                           {"csrf_token": csrf, "mission": "Changed", "year_founded": "2012", "staff": "9",
                            "continue": "continue"}, status=409)
    assert "This application was submitted on" in main_text(refused)
    with registry.database.transaction() as (_tm, db):
        app = db.scalars(select(Application)).one()
        assert app.answers["organisation"]["staff"] == 4 and app.state == "submitted"
        assert app.title == "Clubs de théâtre" and app.form_version == "general"

    # The officer sees everything, read-only too, with the staff's label for the state.
    testapp.reset()
    f.sign_in(testapp, "officer@example.org")
    page = testapp.get(app_url)
    assert state_shown(page) == "Submitted — to be screened"
    assert "جمعية أفق — AFEK" in main_text(page) and "Amel Ben Salah" in main_text(page)
    assert answer(page, "organisation", "staff") == "4"
    assert "Change" not in main_text(page) and page.html.find(id="task-list") is None
    testapp.get(app_url + "/@@section/organisation").mustcontain("its answers can no longer be changed")


def test_with_several_organisations_the_applicant_chooses_one(testapp, registry):
    round_url, _round_id = a_round_open_for_applications(registry)
    with registry.database.transaction() as (_tm, db):
        amel = f.user(db, email="amel@example.org")
        f.registered_organisation(db, amel)
        horizon = f.registered_organisation(db, amel, legal_name="Horizon d'Enfance", registration_number="2009-1123",
                                            regions=["TN-81", "TN-82"])
        horizon_id = horizon.id
    f.sign_in(testapp, "amel@example.org")
    form = testapp.get(round_url + "/@@apply").forms["apply"]
    form["title"] = "Ateliers"
    failed = form.submit("submit", status=400)
    assert summary_links(failed) == {"#apply-organisation": "Choose the organisation you are applying for"}
    assert failed.html.find("input", {"name": "title"})["value"] == "Ateliers"
    form = failed.forms["apply"]
    legend = failed.html.find(id="apply-organisation").find("legend")
    assert legend.select_one(".required-marker").extract().get_text() == "*(required)"  # seen and heard
    assert legend.get_text() == "Which organisation are you applying for?"
    form["apply-organisation"] = str(horizon_id)
    tasks = form.submit("submit", status=302).follow()
    assert "Ateliers" in tasks.html.find("h1").get_text()
    with registry.database.transaction() as (_tm, db):
        assert db.scalars(select(Application)).one().organisation_id == horizon_id


def test_an_applicant_withdraws_with_a_reason(testapp, registry):
    with registry.database.transaction() as (_tm, db):
        amel = f.user(db, email="amel@example.org")
        app = f.application(db, registry, f.round_(db, registry), f.organisation(db, amel), state="submitted")
        url = f"/programmes/{app.round.programme_id}/rounds/{app.round_id}/applications/{app.id}"
    f.sign_in(testapp, "amel@example.org")
    page = testapp.get(url)
    confirm = page.click("Withdraw the application")
    form = confirm.forms["withdraw"]
    assert confirm.html.find("textarea", {"name": "reason"})["dir"] == "auto"
    form["reason"] = "Nous avons fusionné avec une autre association."
    done = form.submit("withdraw", status=302).follow()
    assert "Your application is withdrawn" in main_text(done) and state_shown(done) == "Withdrawn"
    assert "Nous avons fusionné avec une autre association." in done.html.find(id="history").get_text()
    testapp.get(url + "/@@withdraw", status=403)


def test_a_blind_round_hides_who_applied_from_reviewers_but_not_from_officers(testapp, registry):
    from grants.review.models import ReviewAssignment

    with registry.database.transaction() as (_tm, db):
        amel = f.user(db, email="amel@example.org", name="Amel Ben Salah")
        officer = f.user(db, email="officer@example.org")
        reviewer = f.user(db, email="reviewer@example.org")
        rnd = f.round_(db, registry)
        rnd.blind_review = True
        f.grant_role(db, officer, "programme_officer", rnd.programme)
        org = f.registered_organisation(db, amel)
        app = f.application(db, registry, rnd, org, state="eligible")
        db.add(ReviewAssignment(application_id=app.id, reviewer_id=reviewer.id, conflict=False))
        url = f"/programmes/{rnd.programme_id}/rounds/{rnd.id}/applications/{app.id}"
        reference = app.reference
    f.sign_in(testapp, "reviewer@example.org")
    page = testapp.get(url)
    text = main_text(page)
    assert reference in text and "reviewed blind" in text
    for identity in ("AFEK", "2011-0457", "Amel Ben Salah", "amel@example.org", "registration_certificate.pdf"):
        assert identity not in text, identity
    # The answers and the other documents are there to review, the documents under neutral
    # names: a file's own name can carry who applied.
    assert re.search(r"Document \d+ — Budget sheet\.pdf", text) and "budget.pdf" not in text
    assert state_shown(page) == "Eligible — in review"
    testapp.reset()
    f.sign_in(testapp, "officer@example.org")
    text = main_text(testapp.get(url))
    assert "AFEK" in text and "2011-0457" in text and "registration_certificate.pdf" in text


def test_an_ineligible_applicant_is_told_why(testapp, registry):
    from grants.applications import eligibility

    with registry.database.transaction() as (_tm, db):
        amel = f.user(db, email="amel@example.org")
        rnd = f.round_(db, registry)
        rnd.eligibility_rules = [{"kind": "required_attachments", "attachments": ["annual_report"]}]
        app = f.application(db, registry, rnd, f.organisation(db, amel), state="submitted")
        for check in eligibility.run_checks(db, app):
            check.officer_decision = "confirmed"
        f.WorkflowService(registry.workflows, db).fire(app, "mark_ineligible", actor=f.SYSTEM,
                                                       comment="No annual report.")
        url = f"/programmes/{rnd.programme_id}/rounds/{rnd.id}/applications/{app.id}"
    f.sign_in(testapp, "amel@example.org")
    page = testapp.get(url)
    assert state_shown(page) == "Not eligible"
    why = page.html.find(id="ineligible")
    assert why.find("h2").get_text() == "Why this application is not eligible"
    assert why.find_all("li"), why


def test_the_full_proposal_is_written_in_incubation_through_its_own_task_list(testapp, registry):
    with registry.database.transaction() as (_tm, db):
        amel = f.user(db, email="amel@example.org")
        app = f.application(db, registry, f.round_(db, registry), f.organisation(db, amel), state="eligible")
        f.WorkflowService(registry.workflows, db).fire(app, "incubate", actor=f.SYSTEM,
                                                       data={"funder_reference": ""}, comment="Welcome")
        url = f"/programmes/{app.round.programme_id}/rounds/{app.round_id}/applications/{app.id}"
        app_id = app.id
    f.sign_in(testapp, "amel@example.org")
    tasks = testapp.get(url).click("Write your full proposal")
    assert list(statuses(tasks).values()) == ["Not yet started"] * 5
    page = tasks.click("Explain how your work will last")
    form = page.forms["section"]
    form["sustainability"] = "Les écoles reprennent les clubs."
    tasks = form.submit("later", status=302).follow()
    assert statuses(tasks)["sustainability"] == "In progress"
    with registry.database.transaction() as (_tm, db):
        app = db.get(Application, app_id)
        f.fill_proposal(db, registry, app)
    check = testapp.get(url + "/@@proposal-check")
    assert check.html.find("button", {"name": "confirm"}).get_text().strip() == "Confirm and submit full proposal"
    done = check.forms["submit-form"].submit("confirm", status=302).follow()
    assert state_shown(done) == "Full proposal being assessed"
    assert done.html.find(string="Full proposal") is not None
    with registry.database.transaction() as (_tm, db):
        assert db.get(Application, app_id).proposal_submitted_at is not None
