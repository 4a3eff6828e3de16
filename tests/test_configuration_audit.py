"""The audit of configuration seen from the pages: an officer changes a programme and a
round of every kind of thing a funder configures, through the forms, and reads each
change — who, when, what, before and after, money, moments and names as people read
them — on the object's "History of changes" page, in their language."""
from __future__ import annotations

import datetime as dt

import pytest

from sqlalchemy import select

import factories as f
from grants.accounts.models import User
from grants.audit.services import changes_of
from grants.programmes import services
from grants.programmes.models import Programme, Round

UTC = dt.timezone.utc
LONDON = "Europe/London"


def _setup(registry):
    with registry.database.transaction() as (_tm, db):
        officer = f.user(db, email="leila@example.org", name="Leila Officer")
        prog = services.create_programme(db, title="Shared Endeavour Fund", currency="GBP")
        f.grant_role(db, officer, "programme_officer", prog)
        mopac = services.get_or_create_funder(db, name="MOPAC", identifier="GB-GOV-MOPAC", kind="government")
        services.add_funder_contribution(db, prog, mopac, role="lead")
        rnd = services.create_round(db, registry, prog, title="Call 5", timezone=LONDON,
                                    opens_at=dt.datetime(2030, 3, 15, 9, 0, tzinfo=UTC),
                                    closes_at=dt.datetime(2030, 5, 5, 11, 0, tzinfo=UTC), budget=f.money(875_000),
                                    actor=f.SYSTEM)
        return prog.id, rnd.id


def history(page) -> list[list[str]]:
    """The history table's rows: when, who, what, before, after."""
    return [[" ".join(td.get_text().split()) for td in tr.find_all("td")]
            for tr in page.html.select("#configuration-changes tbody tr")]


def change(rows, what) -> list[str]:
    """The newest row about ``what``, without its moment."""
    found = [row[1:] for row in rows if row[2] == what]
    assert found, (what, rows)
    return found[0]


def test_each_change_of_a_programme_and_a_round_is_on_their_history_pages(testapp, registry):
    prog_id, rnd_id = _setup(registry)
    url = f"/programmes/{prog_id}/rounds/{rnd_id}"
    f.sign_in(testapp, "leila@example.org")

    # the programme: its name and description, through its own form
    page = testapp.get(f"/programmes/{prog_id}")
    form = f.main_form(page.click(href=f"/programmes/{prog_id}/edit"))
    form["title"] = "Shared Endeavour Fund 2030"
    form["description"] = "Youth work against violence."
    form.submit("submit").follow()
    # a co-funder matching the lead funder's money, for the round
    form = f.main_form(testapp.get(f"/programmes/{prog_id}/add-funder"))
    form["funder_name"], form["funder_kind"], form["role"] = "Google.org", "corporate", "co_funder"
    form["amount"], form["currency"], form["round_id"] = "400,000", "GBP", str(rnd_id)
    form["matches_funder_id"] = form["matches_funder_id"].options[1][0]  # MOPAC
    form.submit("submit").follow()

    # the round: title, closing date, budget, blind review, eligibility
    form = f.main_form(testapp.get(url + "/edit"))
    form["title"] = "Call 5 (extended)"
    form["budget"] = "900 000"
    form["blind_review"].checked = True
    form["registered_organisation"].checked = True
    [fld for fld in form.fields["day"] if fld.id == "round-closes-day"][0].value = "12"
    form.submit("submit").follow()
    # a tier
    form = testapp.get(url + "/tiers").forms["tier"]
    form["name"], form["minimum"], form["maximum"], form["match_funding_percent"] = "Small", "10,000", "25,000", "50"
    form.submit("submit").follow()
    # public-report settings: a higher threshold, and the co-funder not named
    settings = testapp.get(url + "/public-report-settings")
    form = settings.forms["report-options"]
    form["small_cell_threshold"] = "10"
    label = next(lb for lb in settings.html.select("#report-options label") if lb.get_text().strip() == "Google.org")
    box_id = label.get("for") or label.find("input")["id"]
    next(fld for fields in form.fields.values() for fld in fields if getattr(fld, "id", None) == box_id).checked = True
    form.submit("submit").follow()

    # the programme's history, linked from its page
    page = testapp.get(f"/programmes/{prog_id}").click(href=f"/programmes/{prog_id}/changes")
    assert page.html.find("title").get_text().strip().startswith("History of changes")
    rows = history(page)
    assert change(rows, "Title") == ["Leila Officer", "Title", "Shared Endeavour Fund", "Shared Endeavour Fund 2030"]
    assert change(rows, "Created")[2:] == ["—", "Shared Endeavour Fund"]
    assert change(rows, "Description") == ["Leila Officer", "Description", "—", "Youth work against violence."]
    assert change(rows, "Funder and contribution") == [
        "Leila Officer", "Funder and contribution", "—",
        "Google.org — Co-funder — £400,000.00 — for Call 5 — matching MOPAC"]

    # the round's, linked from its menu: moments in the round's zone, money formatted
    page = testapp.get(url).click(href=f"{url}/changes")
    rows = history(page)
    assert all(row[0].endswith("(United Kingdom Time)") for row in rows)  # the zone named, in English
    assert change(rows, "Title")[2:] == ["Call 5", "Call 5 (extended)"]
    assert change(rows, "Budget")[2:] == ["£875,000.00", "£900,000.00"]
    assert change(rows, "Closes")[2:] == ["5 May 2030, 12:00 (United Kingdom Time)", "12 May 2030, 12:00 (United Kingdom Time)"]
    assert change(rows, "Blind review")[2:] == ["No", "Yes"]
    assert change(rows, "Eligibility rules")[2:] == ["—", "Only officially registered organisations may apply"]
    assert change(rows, "Grant-size tiers")[2:] == [
        "—", "Small (£10,000.00 – £25,000.00) with 50% match funding"]
    assert change(rows, "Funder and contribution")[2:] == [  # named as the round was then
        "—", "Google.org — Co-funder — £400,000.00 — for Call 5 — matching MOPAC"]
    assert change(rows, "Smallest count shown")[2:] == ["5", "10"]
    assert change(rows, "Funders not named on public pages")[2:] == ["—", "Google.org"]

    # and in the database, plain JSON before and after, with who
    with registry.database.transaction() as (_tm, db):
        kinds = [c.what for c in changes_of(db, db.get(Round, rnd_id))]
        assert {"title", "budget", "closes_at", "blind_review", "eligibility_rules", "tiers", "funder",
                "small_cell_threshold", "hidden_funders"} <= set(kinds)
        budget = [c for c in changes_of(db, db.get(Round, rnd_id)) if c.what == "budget"][-1]  # the officer's edit
        assert (budget.before, budget.after, budget.user.email) == (
            {"amount": "875000.00", "currency": "GBP"}, {"amount": "900000.00", "currency": "GBP"},
            "leila@example.org")


def test_the_history_reads_in_the_readers_language_and_names_workflows_and_publication(testapp, registry):
    from grants.reporting import public

    prog_id, rnd_id = _setup(registry)
    with registry.database.transaction() as (_tm, db):
        rnd = db.get(Round, rnd_id)
        leila = db.scalar(select(User).where(User.email == "leila@example.org"))
        services.update_round(db, rnd, user=leila, budget=f.money("950000.5"))
        public.publish_report(db, rnd, user=leila)
        public.unpublish_report(db, rnd, user=leila)
    f.sign_in(testapp, "leila@example.org")
    testapp.set_cookie("grants_lang", "fr")
    page = testapp.get(f"/programmes/{prog_id}/rounds/{rnd_id}/changes")
    assert page.html.find("h1").get_text().strip() == "Historique des modifications"
    rows = history(page)
    assert change(rows, "Budget")[2:] == ["875 000,00 £GB", "950 000,50 £GB"]
    assert [row[3:] for row in rows if row[2] == "Rapport public"] == [["Publié", "Non publié"],
                                                                       ["Non publié", "Publié"]]


def test_only_those_who_manage_read_the_history_and_an_empty_one_says_so(testapp, app, registry):
    prog_id, rnd_id = _setup(registry)
    with registry.database.transaction() as (_tm, db):
        f.user(db, email="someone@example.org")
    f.sign_in(testapp, "someone@example.org")
    testapp.get(f"/programmes/{prog_id}/changes", status=403)
    testapp.get(f"/programmes/{prog_id}/rounds/{rnd_id}/changes", status=403)
    with registry.database.transaction() as (_tm, db):
        quiet = f.round_(db, registry, db.get(Programme, prog_id), title="Made by a script")  # no service: no record
        quiet_url = f"/programmes/{prog_id}/rounds/{quiet.id}/changes"
    officer = type(testapp)(app, extra_environ={"HTTP_HOST": "localhost"})
    f.sign_in(officer, "leila@example.org")
    assert "Nothing has been changed here yet." in officer.get(quiet_url).text
    rows = history(officer.get(f"/programmes/{prog_id}/rounds/{rnd_id}/changes"))
    assert [row[1:] for row in rows if row[2] == "Created"] == [
        ["Nobody signed in (a mailed link, the command line or the demo)", "Created", "—", "Call 5"]]
    # What the round was made with is there too, each from nothing.
    assert ["Budget", "—", "£875,000.00"] in [row[2:] for row in rows]


def test_two_officers_changing_the_programme_at_once_the_second_sees_a_409_and_nothing_is_recorded(
        testapp, app, registry):
    prog_id, _rnd_id = _setup(registry)
    with registry.database.transaction() as (_tm, db):
        other = f.user(db, email="omar@example.org", name="Omar")
        f.grant_role(db, other, "programme_officer", db.get(Programme, prog_id))
    f.sign_in(testapp, "leila@example.org")
    omar = type(testapp)(app, extra_environ={"HTTP_HOST": "localhost"})
    f.sign_in(omar, "omar@example.org")
    mine = f.main_form(testapp.get(f"/programmes/{prog_id}/edit"))
    theirs = f.main_form(omar.get(f"/programmes/{prog_id}/edit"))
    mine["title"] = "Leila's name"
    mine.submit("submit").follow()
    theirs["title"] = "Omar's name"
    refused = theirs.submit("submit", status=409)
    assert "Omar's name" in refused.text and "Leila's name" in refused.text
    with registry.database.transaction() as (_tm, db):
        prog = db.get(Programme, prog_id)
        assert prog.title == "Leila's name"
        assert [(c.what, c.after) for c in changes_of(db, prog) if c.what == "title"] == [("title", {"en": "Leila's name"})]


def test_a_refused_programme_change_keeps_nothing_and_says_why(testapp, registry):
    prog_id, _rnd_id = _setup(registry)
    f.sign_in(testapp, "leila@example.org")
    form = f.main_form(testapp.get(f"/programmes/{prog_id}/edit"))
    form["currency"] = "EUR"  # the programme has a round in GBP
    refused = form.submit("submit", status=400)
    assert "cannot change once the programme has rounds" in refused.html.select_one(".error-summary").get_text()
    with registry.database.transaction() as (_tm, db):
        prog = db.get(Programme, prog_id)
        assert prog.currency == "GBP" and [c.what for c in changes_of(db, prog)] == ["created", "funder"]


@pytest.fixture
def with_testplugin(settings):
    """The test plugin enabled: a second application form and an application workflow variant."""
    settings["grants.plugins"] = "testplugin"


def test_a_rounds_form_and_workflow_chosen_from_lists_are_in_its_history_by_name(with_testplugin, testapp, registry):
    pytest.importorskip("grants_testplugin")
    with registry.database.transaction() as (_tm, db):
        officer = f.user(db, email="leila@example.org", name="Leila Officer")
        prog = services.create_programme(db, title="Municipal", currency="EUR", plugins=["testplugin"],
                                         registry=registry)
        f.grant_role(db, officer, "programme_officer", prog)
        rnd = services.create_round(db, registry, prog, title="Call 1", timezone="Africa/Tunis", actor=f.SYSTEM)
        url = f"/programmes/{prog.id}/rounds/{rnd.id}"
    f.sign_in(testapp, "leila@example.org")
    form = f.main_form(testapp.get(url + "/edit"))
    form["application_form_version"] = "testplugin-2026"
    form["application_workflow"] = "testplugin_application"
    form["timezone"] = "Europe/Paris"
    form.submit("submit").follow()
    rows = history(testapp.get(url + "/changes"))
    assert change(rows, "Application form version")[2:] == ["—", "testplugin-2026"]
    assert change(rows, "Workflow for applications")[2:] == [
        "The programme's default", "Application with a reference check (testplugin_application)"]
    assert change(rows, "Time zone")[2:] == ["Africa/Tunis", "Europe/Paris"]
    assert all(row[0].endswith("(France Time)") for row in rows)  # the round's zone now


def test_results_levels_change_on_the_programme_page_but_not_under_grantees_frameworks(testapp, registry):
    from grants.mel.models import TocElement

    with registry.database.transaction() as (_tm, db):
        officer = f.user(db, email="leila@example.org", name="Leila Officer")
        award = f.award(db, registry)
        prog = award.round.programme
        f.grant_role(db, officer, "programme_officer", prog)
        db.add(TocElement(award_id=award.id, kind="outputs", position=0, text="20 theatre clubs"))
        prog_id = prog.id
    f.sign_in(testapp, "leila@example.org")
    form = f.main_form(testapp.get(f"/programmes/{prog_id}/edit"))
    assert form["results_levels"].value == ""  # the usual levels
    form["results_levels"] = "inputs\nactivities\nIntermediate results\nimpact"  # outputs would go
    refused = form.submit("submit", status=400)
    assert "already use outputs" in refused.html.select_one(".error-summary").get_text()
    form = f.main_form(refused)
    form["results_levels"] = "inputs\nactivities\noutputs\n  Intermediate   results \nimpact"
    form.submit("submit").follow()
    rows = history(testapp.get(f"/programmes/{prog_id}/changes"))
    assert change(rows, "Levels of results")[2:] == ["—", "inputs, activities, outputs, Intermediate results, impact"]
    with registry.database.transaction() as (_tm, db):
        assert db.get(Programme, prog_id).results_levels == [
            "inputs", "activities", "outputs", "Intermediate results", "impact"]
