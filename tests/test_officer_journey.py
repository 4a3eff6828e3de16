"""An officer's journey through the pages, from screening to decisions (WebTest, the real
app): five applications are submitted to a BLADI round with eligibility rules; the officer
closes the round, screens each one (one fails a rule and is confirmed ineligible, one
passes and is overridden to ineligible with a reason — after a submit without the reason
is refused, keeping what was typed — three are confirmed eligible); the applicants who are
not eligible read why; the round goes into review and a reviewer scores the others; the
officer moderates a score, overrides the suggested selection and records the decisions with
the funder's reference.  Every applicant ends where they should, the decisions carry the
reason and the reference, and each applicant is mailed once it is all committed."""
from __future__ import annotations

from decimal import Decimal

import webtest
from sqlalchemy import select

import factories as f
from grants.applications.models import Application, EligibilityCheck
from grants.money import Money
from grants.programmes import services as programmes
from grants.programmes.models import Round
from grants.review import services as review
from grants.review.models import Decision, ScoreModeration, SelectionOverride

KEBILI, GAFSA, TOZEUR, TUNIS = "TN-73", "TN-71", "TN-72", "TN-11"
RULES = [{"kind": "registered_organisation"}, {"kind": "region_in", "regions": [KEBILI, GAFSA, TOZEUR]}]
CRITERIA = ("relevance", "feasibility", "value_for_money", "capacity", "sustainability")
#: name: (region, amount asked in TND, the reviewer's score on every criterion or None)
APPLICANTS = {
    "ACEC": (KEBILI, "30000", 4),
    "Khatwa": (GAFSA, "20000", 3),
    "AFEK": (TOZEUR, "15000", 2),
    "Nour": (KEBILI, "10000", None),  # meets every rule; the officer overrides one
    "Madar": (TUNIS, "10000", None),  # works outside the round's regions
}
OVERRIDE_REASON = "The registration number belongs to another association (JORT 2015-112)."
FEEDBACK = "Other proposals ranked higher on participation of young people."
WELCOME = "Congratulations: the grant agreement follows."
REFERENCE = "BLADI-CS-2019-04"


def tnd(amount: str) -> Money:
    return Money(Decimal(amount), "TND")


def browser(app) -> webtest.TestApp:
    return webtest.TestApp(app, extra_environ={"HTTP_HOST": "localhost"})


def text_of(node) -> str:
    return node.get_text(" ", strip=True)


def main_text(page) -> str:
    return text_of(page.html.find("main"))


def state_shown(page) -> str:
    """The state the page states (``State: <strong>…</strong>``)."""
    label = page.html.find("main").find(string=lambda s: s and s.strip() == "State:")
    return label.find_parent("p").find("strong").get_text(strip=True)


def summary_links(page) -> dict[str, str]:
    summary = page.html.find(class_="error-summary")
    assert summary is not None, "no error summary"
    return {a["href"]: text_of(a) for a in summary.find_all("a")}


def ranked_names(page) -> list[str]:
    return [row.find("th").find("bdi").get_text() for row in page.html.find(id="ranking").tbody.find_all("tr")]


def cell(page, application_id, css) -> str:
    return text_of(page.html.find(id=f"row-{application_id}").find(class_=css))


def mails_to(registry, emails) -> dict[str, list]:
    sent = {email: [] for email in emails}
    for message in registry.mailer.sent():
        if message["To"] in sent:
            sent[message["To"]].append(message)
    return sent


def a_round_with_five_applications(registry):
    """The BLADI round (TND 40,000, rules: a registered organisation working in Kebili,
    Gafsa or Tozeur), Leila its officer, and one submitted application per applicant,
    each organisation registered by its own member.  Committed."""
    import datetime as dt

    with registry.database.transaction() as (_tm, db):
        officer = f.user(db, email="leila@example.org", name="Leila Ben Salah")
        prog = programmes.create_programme(db, title="BLADI", currency="TND")
        now = f.now()
        rnd = programmes.create_round(db, registry, prog, title="Nabda b houmti 2019", timezone="Africa/Tunis",
                                      opens_at=now - dt.timedelta(days=20), closes_at=now + dt.timedelta(days=10),
                                      budget=tnd("40000"), eligibility_rules=RULES, actor=f.SYSTEM)
        f.WorkflowService(registry.workflows, db).fire(rnd, "open", actor=f.SYSTEM)
        f.grant_role(db, officer, "programme_officer", prog)
        ids = {}
        for number, (name, (region, amount, _score)) in enumerate(APPLICANTS.items(), start=1):
            member = f.user(db, email=f"{name.lower()}@example.org", name=f"Member of {name}")
            org = f.registered_organisation(db, member, legal_name=name, alternative_name="",
                                            registration_number=f"2011-{number:04d}", regions=[region])
            application = f.application(db, registry, rnd, org, title=f"Project of {name}", state="submitted",
                                        amount=tnd(amount))
            ids[name] = application.id
        return f"/programmes/{prog.id}/rounds/{rnd.id}", rnd.id, ids


def screen(officer, round_url, application_id, decisions: dict, *, status=302):
    """Open the application's screening page from the round's list and record
    ``decisions`` ({rule position: (decision, reason)})."""
    listing = officer.get(round_url + "/@@screening")
    page = listing.click(href=f"/applications/{application_id}/@@screen$")
    form = f.main_form(page)
    for position, (decision, reason) in decisions.items():
        form[f"screen-rule-{position}-decision"] = decision
        form.set("reason", reason, index=position)
    return form.submit("submit", status=status)


def reviews_by_one_reviewer(registry, round_id, ids, officer_email):
    """Sami, invited and accepting, scores each eligible application the same on every
    criterion (so its weighted score is that number), through the review services."""
    from grants.accounts.services import find_user_by_email

    with registry.database.transaction() as (tm, db):
        rnd = db.get(Round, round_id)
        officer = find_user_by_email(db, officer_email)
        sami = f.user(db, email="sami@example.org", name="Sami Reviewer")
        invitation = review.invite_reviewer(db, registry, rnd, sami, officer, transaction_manager=tm)
        review.respond(db, invitation, sami, accept=True)
        for name, (_region, _amount, score) in APPLICANTS.items():
            if score is None:
                continue
            assignment = review.assign(db, db.get(Application, ids[name]), sami, officer)
            review.declare(db, assignment, sami, conflict=False)
            review.save_review(db, registry, assignment, sami, scores={c: score for c in CRITERIA},
                               rationales={c: f"{name}: why {score} for {c}." for c in CRITERIA}, submit=True)


def test_an_officer_screens_has_the_round_reviewed_and_records_the_decisions(app, registry):
    round_url, round_id, ids = a_round_with_five_applications(registry)
    url = {name: f"{round_url}/applications/{i}" for name, i in ids.items()}
    applicant_emails = [f"{name.lower()}@example.org" for name in APPLICANTS]
    officer = browser(app)
    f.sign_in(officer, "leila@example.org")

    # The round closes: from its page, through its own step page.
    page = officer.get(round_url)
    assert state_shown(page) == "Open"
    links = [a.get_text(strip=True) for a in page.html.find(id="round-work").find_all("a")]
    assert links == ["Screening", "Reviewers", "Assignments", "Ranking and decisions", "Incubation",
                     "Awards and payments", "Reports due and overdue", "Survey instruments", "Evaluation",
                     "Public report", "People and roles", "History of changes"]
    step = page.click(description="Close the round")
    assert state_shown(f.main_form(step).submit("fire", status=302).follow()) == "Closed"

    # What awaits screening: every application, with the rules each met and did not.
    page = officer.get(round_url).click(description="Screening")
    rows = {text_of(tr.find("td")): [text_of(td) for td in tr.find_all("td")]
            for tr in page.html.find(id="screening").tbody.find_all("tr")}
    assert set(rows) == {f"Project of {name}" for name in APPLICANTS}
    assert {title: (row[4], row[5]) for title, row in rows.items()} == {
        "Project of ACEC": ("2", "0"), "Project of Khatwa": ("2", "0"), "Project of AFEK": ("2", "0"),
        "Project of Nour": ("2", "0"), "Project of Madar": ("1", "1")}
    assert rows["Project of ACEC"][3] == "TND\u00a030,000.000"

    # Madar works in Tunis only: the automatic result says so; the officer confirms it.
    screen_page = page.click(href=f"/applications/{ids['Madar']}/@@screen$")
    rules = screen_page.html.select("fieldset.border")
    assert "Not met" in text_of(rules[1]) and "The organisation works in Tunis" in text_of(rules[1])
    done = screen(officer, round_url, ids["Madar"], {0: ("confirmed", ""), 1: ("confirmed", "")}).follow()
    assert "“Project of Madar” is not eligible. The applicant is told why." in main_text(done)

    # Nour meets both rules, but the officer knows better: an override needs a reason.
    failed = screen(officer, round_url, ids["Nour"],
                    {0: ("overridden", "   "), 1: ("confirmed", "Branch in Douz, checked by phone.")}, status=400)
    assert failed.html.title.get_text().strip().startswith("Error:")
    assert summary_links(failed) == {
        "#screen-rule-0-reason": "Give the reason for overriding this result: it is kept with the decision"}
    assert "Give the reason" in failed.html.find(id="error-screen-rule-0-reason").get_text()
    kept = f.main_form(failed)
    assert kept["screen-rule-0-decision"].value == "overridden"
    assert kept["screen-rule-1-decision"].value == "confirmed"
    assert kept.get("reason", index=1).value == "Branch in Douz, checked by phone."
    with registry.database.transaction() as (_tm, db):
        nour = db.get(Application, ids["Nour"])
        assert nour.state == "submitted"
        assert [c.officer_decision for c in nour.eligibility_checks] == [None, None]
    kept.set("reason", OVERRIDE_REASON, index=0)
    done = kept.submit("submit", status=302).follow()
    assert "“Project of Nour” is not eligible" in main_text(done)

    # The other three are confirmed eligible; nothing is left to screen.
    for name in ("ACEC", "Khatwa", "AFEK"):
        done = screen(officer, round_url, ids[name], {0: ("confirmed", ""), 1: ("confirmed", "")}).follow()
        assert f"“Project of {name}” is eligible and goes to review." in main_text(done)
    assert done.html.find(id="nothing-to-screen") is not None
    officer.get(url["ACEC"] + "/@@screen", status=403)  # screened: nothing more to do there

    # Those not eligible are told why — by mail once committed, and on their application's page.
    mail = mails_to(registry, applicant_emails)
    assert {email: len(messages) for email, messages in mail.items()} == {
        "acec@example.org": 0, "khatwa@example.org": 0, "afek@example.org": 0,
        "nour@example.org": 1, "madar@example.org": 1}
    assert "Not eligible" in mail["madar@example.org"][0]["Subject"]
    assert "this round is open to Kebili, Gafsa, and Tozeur only" in mail["madar@example.org"][0].get_content()
    assert OVERRIDE_REASON in mail["nour@example.org"][0].get_content()
    for name, why in (("Madar", "The organisation works in Tunis; this round is open to Kebili, Gafsa, and Tozeur"
                                " only."), ("Nour", OVERRIDE_REASON)):
        applicant = browser(app)
        f.sign_in(applicant, f"{name.lower()}@example.org")
        page = applicant.get(url[name])
        assert state_shown(page) == "Not eligible"
        reasons = [text_of(li) for li in page.html.find(id="ineligible").find_all("li")]
        assert reasons == [why]
    with registry.database.transaction() as (_tm, db):
        checks = {(c.application_id, c.position): (c.passed, c.officer_decision, c.officer_reason)
                  for c in db.scalars(select(EligibilityCheck))}
        assert checks[(ids["Nour"], 0)] == (True, "overridden", OVERRIDE_REASON)
        assert checks[(ids["Nour"], 1)] == (True, "confirmed", "Branch in Douz, checked by phone.")
        assert checks[(ids["Madar"], 1)] == (False, "confirmed", "")

    # The review starts; a reviewer scores the eligible three (ACEC 4, Khatwa 3, AFEK 2).
    step = officer.get(round_url).click(description="Start the review")
    assert state_shown(f.main_form(step).submit("fire", status=302).follow()) == "In review"
    reviews_by_one_reviewer(registry, round_id, ids, "leila@example.org")

    # The ranking: TND 40,000 fits ACEC's 30,000 and neither of the others.
    page = officer.get(round_url).click(description="Ranking and decisions")
    assert ranked_names(page) == ["ACEC", "Khatwa", "AFEK"]
    assert [cell(page, ids[n], "final") for n in ("ACEC", "Khatwa", "AFEK")] == ["4.000", "3.000", "2.000"]
    assert [cell(page, ids[n], "selected").startswith("✓") for n in ("ACEC", "Khatwa", "AFEK")] == [
        True, False, False]
    assert page.html.find(id="unscored") is None

    # Moderating AFEK's score: the score before is shown, and kept beside the one after.
    moderate = page.click(href=f"/applications/{ids['AFEK']}/moderate")
    assert moderate.html.find(id="score-before").get_text(strip=True) == "2.000"
    form = moderate.forms["moderation"]
    form["score_after"] = "3,5"
    form["reason"] = "The reviewer missed the letters of support from three schools."
    page = form.submit("moderate", status=302).follow()
    assert "Moderated the score of AFEK." in main_text(page)
    assert ranked_names(page) == ["ACEC", "AFEK", "Khatwa"]
    assert "2.000 → 3.500" in cell(page, ids["AFEK"], "moderation")
    assert "letters of support" in cell(page, ids["AFEK"], "moderation")

    # Overriding the suggestion: AFEK is added, with why, and the selection goes over the budget.
    override = page.click(href=f"override={ids['AFEK']}&change=add")
    form = override.forms["override"]
    assert (form["application"].value, form["change"].value) == (str(ids["AFEK"]), "add")
    form["reason"] = "The only applicant in Tozeur; the committee funds it from the reserve."
    page = form.submit("override", status=302).follow()
    assert "Added: The only applicant in Tozeur" in cell(page, ids["AFEK"], "selected")
    assert "over the budget by TND\u00a05,000.000" in text_of(page.html.find(id="over-budget"))

    # Recording the decisions: refused without feedback for the one not selected — nothing
    # changes, nobody is mailed, the reference typed is kept — then done.
    form = page.forms["decisions"]
    form["selected_trigger"] = "select"
    form["reason_selected"] = WELCOME
    form["funder_reference"] = REFERENCE
    failed = form.submit("decide", status=400)
    assert "Give the reason the other applications are not selected" in text_of(
        failed.html.find(class_="error-summary"))
    again = failed.forms["decisions"]
    assert (again["funder_reference"].value, again["selected_trigger"].value) == (REFERENCE, "select")
    assert again["reason_selected"].value == WELCOME
    with registry.database.transaction() as (_tm, db):
        assert {db.get(Application, ids[n]).state for n in ("ACEC", "Khatwa", "AFEK")} == {"eligible"}
        assert db.scalars(select(Decision)).all() == []
    assert sum(len(m) for m in mails_to(registry, applicant_emails).values()) == 2  # the two screenings only
    again["reason_declined"] = FEEDBACK
    page = again.submit("decide", status=302).follow()
    assert "Recorded 2 selected and 1 not selected." in main_text(page)
    decided = {row.find("bdi").get_text(): text_of(row.find(class_="state"))
               for row in page.html.find(id="decided").tbody.find_all("tr")}
    assert decided == {"ACEC": "Selected", "AFEK": "Selected", "Khatwa": "Declined"}

    # Where everyone ends, and what is on record.
    with registry.database.transaction() as (_tm, db):
        states = {name: db.get(Application, i).state for name, i in ids.items()}
        assert states == {"ACEC": "selected", "AFEK": "selected", "Khatwa": "declined", "Nour": "ineligible",
                          "Madar": "ineligible"}
        rows = {d.application_id: (d.outcome, d.to_state, d.reason, d.funder_reference)
                for d in db.scalars(select(Decision))}
        assert rows == {ids["ACEC"]: ("select", "selected", WELCOME, REFERENCE),
                        ids["AFEK"]: ("select", "selected", WELCOME, REFERENCE),
                        ids["Khatwa"]: ("decline", "declined", FEEDBACK, REFERENCE)}
        moderation = db.scalars(select(ScoreModeration)).one()
        assert (moderation.application_id, moderation.score_before, moderation.score_after) == (
            ids["AFEK"], "2", "3.5")
        (added,) = db.scalars(select(SelectionOverride)).all()
        assert (added.application_id, added.action) == (ids["AFEK"], "add")
        assert db.get(Round, round_id).state == "in_review"

    # Each applicant decided on was mailed once, with the reason given.
    mail = mails_to(registry, applicant_emails)
    assert {email: len(messages) for email, messages in mail.items()} == {
        "acec@example.org": 1, "khatwa@example.org": 1, "afek@example.org": 1,
        "nour@example.org": 1, "madar@example.org": 1}
    for email in ("acec@example.org", "afek@example.org"):
        assert "Selected for funding" in mail[email][0]["Subject"]
        assert WELCOME in mail[email][0].get_content()
    assert "Not selected" in mail["khatwa@example.org"][0]["Subject"]
    assert FEEDBACK in mail["khatwa@example.org"][0].get_content()

    # The applicants see their decision, in their words, with the feedback.
    khatwa = browser(app)
    f.sign_in(khatwa, "khatwa@example.org")
    page = khatwa.get(url["Khatwa"])
    assert state_shown(page) == "Not selected"
    assert FEEDBACK in text_of(page.html.find(id="history"))
    afek = browser(app)
    f.sign_in(afek, "afek@example.org")
    assert state_shown(afek.get(url["AFEK"])) == "Selected for funding"
