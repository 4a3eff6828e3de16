"""Programmes and rounds: funders and exact totals (the Shared Endeavour Fund's matched
first call), round configuration and its refusals, the funnel, and the pages."""
from __future__ import annotations

import datetime as dt
import re

import pytest

import factories as f
from grants.accounts.models import Organisation
from grants.money import Money, MoneyBag
from grants.programmes import services
from grants.programmes.models import Programme, Round
from grants.programmes.services import ProgrammeRefused, TierSpec
from grants.review.services import default_rubric

UTC = dt.timezone.utc
LONDON = "Europe/London"


def reasons(refused) -> list[str]:
    return [str(r.interpolate()) if hasattr(r, "interpolate") else str(r) for r in refused.value.reasons]


def sef_tiers():
    """Call 4's tiers: £10,000–£25,000; £25,001–£50,000; £50,001–£100,000 with 50% match."""
    return [TierSpec("Small", f.money(10_000), f.money(25_000)),
            TierSpec("Medium", f.money(25_001), f.money(50_000)),
            TierSpec("Large", f.money(50_001), f.money(100_000), "Half the cost from another funder", 50)]


# -- programmes, funders, totals ------------------------------------------------------------


def test_sef_call_one_totals_with_google_matching_city_hall(registry):
    with registry.database.transaction() as (_tm, db):
        prog, call1, call2, funders = f.sef(db, registry)
        totals = services.programme_totals(db, prog)

        assert totals.overall == MoneyBag([f.money(1_400_000)])
        assert totals.matching == MoneyBag([f.money(400_000)])
        assert totals.budgets == f.money(1_400_000)
        assert totals.programme_wide == MoneyBag()

        first, second = totals.by_round
        assert first.round is call1 and first.budget == f.money(800_000)
        assert first.committed == MoneyBag([f.money(800_000)])
        assert first.matching == MoneyBag([f.money(400_000)])
        assert first.uncommitted == f.money(0)
        assert {fu.name: bag for fu, bag in first.by_funder} == {
            "Mayor's Office for Policing and Crime": MoneyBag([f.money(400_000)]),
            "Google.org": MoneyBag([f.money(400_000)])}
        assert second.committed == MoneyBag([f.money(600_000)]) and second.matching == MoneyBag()

        by_name = {ft.funder.name: ft for ft in totals.by_funder}
        mopac, google, groundwork = (by_name["Mayor's Office for Policing and Crime"], by_name["Google.org"],
                                     by_name["Groundwork London"])
        assert mopac.total == MoneyBag([f.money(1_000_000)]) and mopac.roles == ["lead"]
        assert mopac.matched_by_others == MoneyBag([f.money(400_000)]) and mopac.matching == MoneyBag()
        assert google.total == google.matching == MoneyBag([f.money(400_000)])
        assert groundwork.roles == ["implementer"] and groundwork.total == MoneyBag()
        assert [ft.funder.name for ft in totals.by_funder][0] == "Mayor's Office for Policing and Crime"  # lead first
        assert prog.lead_funders == [funders["mopac"]] and prog.co_funders == [funders["google"]]
        assert prog.implementers == [funders["groundwork"]]


def test_a_match_in_another_currency_is_kept_apart_never_converted(registry):
    with registry.database.transaction() as (_tm, db):
        prog, call1, _call2, funders = f.sef(db, registry)
        philanthropy = services.get_or_create_funder(db, name="A US foundation", kind="foundation")
        services.add_funder_contribution(db, prog, philanthropy, role="co_funder", amount=f.money("250000.00", "USD"),
                                         round=call1, matches=funders["mopac"])
        totals = services.programme_totals(db, prog)
        assert totals.overall == MoneyBag([f.money(1_400_000), f.money(250_000, "USD")])
        assert totals.by_round[0].uncommitted == f.money(0)  # the USD is not counted against a GBP budget
        assert totals.matching.format("en") == "£400,000.00 + $250,000.00"


def test_contribution_refusals(registry):
    with registry.database.transaction() as (_tm, db):
        prog, _c1, _c2, funders = f.sef(db, registry)
        other = services.create_programme(db, title="BLADI", currency="USD")
        other_round = services.create_round(db, registry, other, title="Call", actor=f.SYSTEM)
        with pytest.raises(ProgrammeRefused) as refused:
            services.add_funder_contribution(db, prog, funders["google"], role="sponsor")
        assert "Choose the funder's role" in reasons(refused)[0]
        with pytest.raises(ProgrammeRefused) as refused:
            services.add_funder_contribution(db, prog, funders["google"], role="co_funder", amount=f.money(5),
                                             matches=funders["google"])
        assert reasons(refused) == ["A funder cannot match its own money: choose another funder"]
        with pytest.raises(ProgrammeRefused) as refused:
            services.add_funder_contribution(db, prog, funders["google"], role="co_funder", amount=f.money(5),
                                             round=other_round)
        assert reasons(refused) == ["Choose a round of this programme"]
        with pytest.raises(ProgrammeRefused):
            services.get_or_create_funder(db, name="Someone", identifier="not an id")
        # the same org-id is the same funder
        again = services.get_or_create_funder(db, name="MOPAC", identifier="GB-GOV-MOPAC", kind="government")
        assert again is funders["mopac"]


def test_plugins_are_checked_against_installed_entry_points(registry):
    with registry.database.transaction() as (_tm, db):
        with pytest.raises(ProgrammeRefused) as refused:
            services.create_programme(db, title="BLADI", currency="USD", plugins=["incubation"])
        assert "incubation is not an installed plugin" in reasons(refused)[0]
        prog = services.create_programme(db, title="BLADI", currency="USD", plugins=["referral"],
                                         available_plugins=["referral", "incubation"])
        assert prog.plugins == ["referral"]
        installed = services.installed_plugins()
        if installed:
            assert services.create_programme(db, title="X", currency="USD", plugins=installed[:1]).plugins == installed[:1]
        with pytest.raises(ProgrammeRefused) as refused:
            services.create_programme(db, title="BLADI", currency="XYZ")
        assert "XYZ is not an ISO 4217 code" in reasons(refused)[0]


def test_the_currency_is_fixed_once_there_are_rounds(registry):
    with registry.database.transaction() as (_tm, db):
        prog, *_ = f.sef(db, registry)
        with pytest.raises(ProgrammeRefused) as refused:
            services.update_programme(db, prog, currency="EUR")
        assert "cannot change once the programme has rounds" in reasons(refused)[0]


# -- rounds -----------------------------------------------------------------------------------------


def test_create_round_starts_its_workflow_in_draft(registry):
    opens = dt.datetime(2023, 4, 12, 9, 0, tzinfo=UTC)
    with registry.database.transaction() as (_tm, db):
        prog = services.create_programme(db, title="Shared Endeavour Fund", currency="GBP")
        rubric_id = default_rubric(db).id  # a round chooses a stored rubric (grants.review.rubrics)
        rnd = services.create_round(
            db, registry, prog, title="Call 4", timezone=LONDON, opens_at=opens,
            closes_at=dt.datetime(2023, 5, 22, 16, 0, tzinfo=UTC), budget=f.money("873925"), tiers=sef_tiers(),
            eligibility_rules=[{"kind": "registered_organisation"},
                               {"kind": "region_in", "regions": ["gb-hrw", "GB-LND"]},
                               {"kind": "required_attachments", "attachments": ["Budget", "registration certificate"]}],
            application_form_version="general", rubric_id=rubric_id, blind_review=True, actor=f.SYSTEM)
        rnd_id = rnd.id
        history = f.WorkflowService(registry.workflows, db).history(rnd)
        assert [(h.trigger, h.to_state) for h in history] == [("create", "draft")]
    with registry.database.transaction() as (_tm, db):
        rnd = db.get(Round, rnd_id)
        assert rnd.state == "draft" and rnd.workflow_id == "round"
        assert rnd.budget == f.money("873925.00") and rnd.budget_minor == 87_392_500
        assert [(t.name, t.minimum, t.maximum, t.match_funding_percent) for t in rnd.tiers] == [
            ("Small", f.money(10_000), f.money(25_000), None), ("Medium", f.money(25_001), f.money(50_000), None),
            ("Large", f.money(50_001), f.money(100_000), 50)]
        assert rnd.eligibility_rules == [
            {"kind": "registered_organisation"}, {"kind": "region_in", "regions": ["GB-HRW", "GB-LND"]},
            {"kind": "required_attachments", "attachments": ["budget", "registration_certificate"]}]
        assert (rnd.application_form_version, rnd.rubric_id, rnd.blind_review) == ("general", rubric_id, True)
        assert rnd.opens_at == opens


@pytest.mark.parametrize("changes, message", [
    ({"opens_at": dt.datetime(2024, 5, 5, tzinfo=UTC), "closes_at": dt.datetime(2024, 3, 15, tzinfo=UTC)},
     "The round must close after it opens"),
    ({"budget": Money.from_minor(100, "EUR")}, "Enter the budget in GBP, the programme's currency"),
    ({"budget": f.money(0)}, "Enter a budget of more than 0"),
    ({"tiers": [TierSpec("Small", f.money(10_000), f.money(25_000)), TierSpec("Medium", f.money(25_000),
                                                                              f.money(50_000))]},
     "Tiers “Small” and “Medium” overlap: “Medium” must start above 25000.00, where “Small” ends"),
    ({"tiers": [TierSpec("Upside down", f.money(50_000), f.money(10_000))]},
     "In “Upside down” the smallest grant (50000.00) is larger than the largest (10000.00): swap them"),
    ({"tiers": [TierSpec("Large", f.money(1), f.money(2), match_funding_percent=150)]},
     "Enter the match funding of “Large” as a percentage from 0 to 100"),
    ({"tiers": [TierSpec("Dollars", f.money(1, "USD"), f.money(2, "USD"))]},
     "Enter the amounts of “Dollars” in GBP, the programme's currency"),
    ({"eligibility_rules": [{"kind": "has_a_website"}]}, "Unknown eligibility rule “has_a_website”"),
    ({"eligibility_rules": [{"kind": "region_in", "regions": []}]}, "List at least one region code"),
    ({"eligibility_rules": [{"kind": "region_in", "regions": ["London"]}]}, "London: not a region code we know"),
    ({"timezone": "Mars/Olympus"}, "Choose the round's time zone from the list"),
    ({"title": "  "}, "Enter the round's name"),
])
def test_round_configuration_refusals_say_why(registry, changes, message):
    with registry.database.transaction() as (_tm, db):
        prog = services.create_programme(db, title="SEF", currency="GBP")
        args = {"title": "Call 5", "timezone": LONDON, **changes}
        with pytest.raises(ProgrammeRefused) as refused:
            services.create_round(db, registry, prog, actor=f.SYSTEM, **args)
        assert any(message in r for r in reasons(refused)), reasons(refused)
        assert db.query(Round).count() == 0
        # the same rules hold when a draft is changed
        rnd = services.create_round(db, registry, prog, title="Call 5", timezone=LONDON, actor=f.SYSTEM)
        with pytest.raises(ProgrammeRefused) as refused:
            services.update_round(db, rnd, **changes)
        assert any(message in r for r in reasons(refused)), reasons(refused)


def test_a_round_that_has_left_draft_keeps_its_dates_budget_and_rules(registry):
    with registry.database.transaction() as (_tm, db):
        prog = services.create_programme(db, title="SEF", currency="GBP")
        opens, closes = f.now() - dt.timedelta(days=1), f.now() + dt.timedelta(days=30)
        rnd = services.create_round(db, registry, prog, title="Call 5", timezone=LONDON, opens_at=opens,
                                    closes_at=closes, budget=f.money(875_000), tiers=sef_tiers(), actor=f.SYSTEM)
        services.update_round(db, rnd, budget=f.money(900_000), tiers=sef_tiers()[:2])  # fine in draft
        assert rnd.budget == f.money(900_000) and len(rnd.tiers) == 2
        f.WorkflowService(registry.workflows, db).fire(rnd, "open", actor=f.SYSTEM)
        for change, message in [
            ({"budget": f.money(1_000_000)}, "The round has left draft, so its budget can no longer change"),
            ({"closes_at": closes + dt.timedelta(days=7)},
             "The round has left draft, so its closing date can no longer change"),
            ({"tiers": sef_tiers()}, "The round has left draft, so its grant-size tiers can no longer change"),
        ]:
            with pytest.raises(ProgrammeRefused) as refused:
                services.update_round(db, rnd, title="Call 5 (renamed)", **change)
            assert reasons(refused) == [message]
        assert rnd.budget == f.money(900_000) and rnd.title == "Call 5"  # a refusal changes nothing
        with pytest.raises(ProgrammeRefused):
            services.remove_round_tier(db, rnd, rnd.tiers[0].id)
        # what does not affect applicants may still change; re-sending unchanged values is fine
        rubric_id = default_rubric(db).id
        services.update_round(db, rnd, title="Call 5 — 2024", rubric_id=rubric_id, blind_review=True,
                              budget=f.money(900_000), closes_at=closes)
        assert (rnd.title, rnd.rubric_id, rnd.blind_review) == ("Call 5 — 2024", rubric_id, True)


def test_tiers_are_added_and_removed_one_at_a_time_in_draft(registry):
    with registry.database.transaction() as (_tm, db):
        prog = services.create_programme(db, title="SEF", currency="GBP")
        rnd = services.create_round(db, registry, prog, title="Call 4", actor=f.SYSTEM)
        for spec in reversed(sef_tiers()):
            services.add_round_tier(db, rnd, spec)
        assert [t.name for t in rnd.tiers] == ["Small", "Medium", "Large"]  # ordered by size
        with pytest.raises(ProgrammeRefused) as refused:
            services.add_round_tier(db, rnd, TierSpec("Huge", f.money(90_000), f.money(200_000)))
        assert "overlap" in reasons(refused)[0]
        services.remove_round_tier(db, rnd, rnd.tiers[1].id)
        assert [t.name for t in rnd.tiers] == ["Small", "Large"]


# -- the funnel -------------------------------------------------------------------------------------


def _with_regions(db, org, *codes):
    if hasattr(Organisation, "regions"):
        org.regions = list(codes)
        db.flush()


def test_round_funnel_counts_applications_per_state_and_region(registry):
    with registry.database.transaction() as (_tm, db):
        rnd = f.round_(db, registry)
        other_round = f.round_(db, registry, rnd.programme, title="Another round")
        kebili, sfax, both, nowhere = (f.organisation(db) for _ in range(4))
        _with_regions(db, kebili, "TN-73")
        _with_regions(db, sfax, "TN-61")
        _with_regions(db, both, "TN-81", "TN-82")  # Horizon d'Enfance, Gabès and Medenine
        f.application(db, registry, rnd, kebili, state="draft")
        f.application(db, registry, rnd, kebili, state="submitted")
        f.application(db, registry, rnd, sfax, state="submitted")
        f.application(db, registry, rnd, both, state="eligible")
        f.application(db, registry, rnd, nowhere, state="submitted")
        f.application(db, registry, other_round, sfax, state="submitted")  # not this round's

        funnel = services.round_funnel(db, rnd, registry)
        counts = dict(funnel.by_state)
        assert funnel.total == 5
        assert (counts["draft"], counts["submitted"], counts["eligible"]) == (1, 3, 1)
        assert counts["selected"] == 0 and counts["withdrawn"] == 0  # every state is listed
        assert [s for s, _n in funnel.by_state][:3] == ["draft", "submitted", "eligible"]  # workflow order
        assert str(funnel.state_titles["eligible"]) == "Eligible — in review"
        reached = dict(funnel.reached)  # from the history: the eligible one was submitted too
        assert (reached["draft"], reached["submitted"], reached["eligible"], reached["selected"]) == (5, 4, 1, 0)
        # without a registry, only the states that occur
        assert dict(services.round_funnel(db, rnd).by_state) == {"draft": 1, "submitted": 3, "eligible": 1}
        if hasattr(Organisation, "regions"):
            assert funnel.by_region == [("TN-61", 1), ("TN-73", 2), ("TN-81", 1), ("TN-82", 1)]
            assert funnel.without_region == 1
        else:
            assert funnel.by_region is None


# -- pages --------------------------------------------------------------------------------------------


def _officer_programme(registry, email="leila@example.org"):
    with registry.database.transaction() as (_tm, db):
        officer = f.user(db, email=email, name="Leila")
        prog = services.create_programme(db, title="Shared Endeavour Fund", currency="GBP")
        f.grant_role(db, officer, "programme_officer", prog)
        return prog.id


def by_id(form, oid):
    """A form input by its id (day, month, year and time repeat their names per date)."""
    return next(fld for fields in form.fields.values() for fld in fields if getattr(fld, "id", None) == oid)


def _fill_round(form, **overrides):
    values = {"title": "Call 4", "timezone": LONDON, "opens-day": "12", "opens-month": "April", "opens-year": "2023",
              "opens-time": "09:00", "closes-day": "٢٢", "closes-month": "5", "closes-year": "2023",
              "closes-time": "5pm", "budget": "873,925", "application_form_version": "general", "rubric_id": "",
              "eligibility-regions": "GB-HRW GB-LND"}
    values.update(overrides)
    for key, value in values.items():
        by_id(form, f"round-{key}").value = value
    return form


def test_an_officer_creates_a_round_through_the_form(testapp, registry):
    prog_id = _officer_programme(registry)
    f.sign_in(testapp, "leila@example.org")
    programme_page = testapp.get(f"/programmes/{prog_id}")
    form_page = programme_page.click(description="Add a round")
    form = _fill_round(f.main_form(form_page))
    form["blind_review"].checked = True
    form["registered_organisation"].checked = True
    done = form.submit("submit").follow()
    assert "Round created: Call 4." in done.text
    with registry.database.transaction() as (_tm, db):
        rnd = db.query(Round).one()
        # 09:00 and 17:00 in London in British Summer Time are 08:00 and 16:00 UTC
        assert rnd.opens_at == dt.datetime(2023, 4, 12, 8, 0, tzinfo=UTC)
        assert rnd.closes_at == dt.datetime(2023, 5, 22, 16, 0, tzinfo=UTC)
        assert rnd.budget == f.money(873_925) and rnd.state == "draft" and rnd.blind_review
        assert rnd.application_form_version == "general"
        assert rnd.eligibility_rules == [{"kind": "registered_organisation"},
                                         {"kind": "region_in", "regions": ["GB-HRW", "GB-LND"]}]
    details = done.html.find(id="round-details").get_text(" ", strip=True)
    assert "12 Apr 2023, 09:00 (United Kingdom Time)" in details and "£873,925.00" in details
    assert done.html.find(id="funnel") is not None


def test_a_failed_submit_keeps_what_was_typed_and_says_what_is_wrong(testapp, registry):
    prog_id = _officer_programme(registry)
    f.sign_in(testapp, "leila@example.org")
    form = _fill_round(f.main_form(testapp.get(f"/programmes/{prog_id}/rounds/new")),
                       **{"budget": "873,925.5.5", "closes-day": "31", "closes-month": "février", "title": "Appel 4"})
    failed = form.submit("submit", status=400)
    assert failed.html.title.get_text().strip().startswith("Error:")
    summary = failed.html.select_one(".error-summary")
    assert "There is a problem" in summary.get_text()
    links = {a["href"]: a.get_text(strip=True) for a in summary.select("a")}
    assert links["#round-closes-day"] == "Enter a real date for the closing, like 5 5 2026"
    assert "Check the thousands separators" in links["#round-budget"]
    assert failed.html.find(id="round-budget")["aria-invalid"] == "true"
    again = f.main_form(failed)
    assert again["title"].value == "Appel 4"
    assert again["budget"].value == "873,925.5.5"
    assert failed.html.find(id="round-closes-month")["value"] == "février"
    with registry.database.transaction() as (_tm, db):
        assert db.query(Round).count() == 0


def test_a_service_refusal_comes_back_beside_the_field(testapp, registry):
    prog_id = _officer_programme(registry)
    f.sign_in(testapp, "leila@example.org")
    form = _fill_round(f.main_form(testapp.get(f"/programmes/{prog_id}/rounds/new")),
                       **{"closes-day": "1", "closes-month": "1", "eligibility-regions": "Kebili"})
    failed = form.submit("submit", status=400)
    summary = failed.html.select_one(".error-summary").get_text(" ", strip=True)
    assert "The round must close after it opens" in summary
    assert "Kebili: not a region code we know" in summary.replace("KEBILI", "Kebili")
    assert f.main_form(failed)["regions"].value == "Kebili"


def test_the_round_page_shows_the_funnel_to_officers_only(testapp, registry):
    with registry.database.transaction() as (_tm, db):
        officer = f.user(db, email="leila@example.org")
        rnd = f.round_(db, registry)
        f.grant_role(db, officer, "programme_officer", rnd.programme)
        org = f.organisation(db)
        _with_regions(db, org, "TN-73")
        for state in ("submitted", "submitted", "eligible"):
            f.application(db, registry, rnd, org, state=state)
        url = f"/programmes/{rnd.programme_id}/rounds/{rnd.id}"
    public = testapp.get(url)
    assert public.html.find(id="funnel") is None
    f.sign_in(testapp, "leila@example.org")
    page = testapp.get(url)
    rows = {tr.th.get_text(strip=True): tr.td.get_text(strip=True) for tr in page.html.find(id="funnel").select("tr")
            if tr.th and tr.td}
    assert rows["Submitted — to be screened"] == "2" and rows["Eligible — in review"] == "1" and rows["Draft"] == "0"
    assert rows["All applications"] == "3"
    if hasattr(Organisation, "regions"):
        regions = page.html.find(id="funnel-regions").get_text(" ", strip=True)
        assert "TN-73" in regions and "3" in regions
    assert "Close the round" in page.text  # the workflow part, from object_page


def test_a_draft_round_is_hidden_from_the_public(testapp, registry):
    with registry.database.transaction() as (_tm, db):
        rnd = f.round_(db, registry, state="draft")
        url = f"/programmes/{rnd.programme_id}/rounds/{rnd.id}"
        prog_url = f"/programmes/{rnd.programme_id}"
    assert testapp.get(url, status=302).location.startswith("http://localhost/login")
    assert "Round 1" not in testapp.get(prog_url).text
    assert "Round 1" not in testapp.get("/programmes").text


def test_editing_a_round_prefills_it_in_its_zone_and_saves(testapp, registry):
    prog_id = _officer_programme(registry)
    with registry.database.transaction() as (_tm, db):
        prog = db.get(Programme, prog_id)
        rnd = services.create_round(db, registry, prog, title="Call 5", timezone=LONDON,
                                    opens_at=dt.datetime(2024, 3, 15, 9, 0, tzinfo=UTC),
                                    closes_at=dt.datetime(2024, 5, 5, 11, 0, tzinfo=UTC), budget=f.money(875_000),
                                    eligibility_rules=[{"kind": "amount_within_max"}], actor=f.SYSTEM)
        url = f"/programmes/{prog_id}/rounds/{rnd.id}"
    f.sign_in(testapp, "leila@example.org")
    form = f.main_form(testapp.get(url + "/edit"))
    assert by_id(form, "round-closes-time").value == "12:00"  # 11:00 UTC is noon in London in May
    assert by_id(form, "round-opens-month").value == "3"
    assert form["budget"].value == "875,000.00"
    assert form["amount_within_max"].checked
    form["budget"] = "900 000"
    form.submit("submit").follow()
    with registry.database.transaction() as (_tm, db):
        assert db.get(Round, rnd.id).budget == f.money(900_000)


def test_an_open_round_offers_only_what_may_still_change(testapp, registry):
    with registry.database.transaction() as (_tm, db):
        officer = f.user(db, email="leila@example.org")
        rnd = f.round_(db, registry)  # open
        f.grant_role(db, officer, "programme_officer", rnd.programme)
        url = f"/programmes/{rnd.programme_id}/rounds/{rnd.id}"
    f.sign_in(testapp, "leila@example.org")
    page = testapp.get(url + "/edit")
    form = f.main_form(page)
    assert "budget" not in form.fields and "title" in form.fields
    assert "has left draft" in page.text
    form["title"] = "Round 1 (extended reach)"
    form.submit("submit").follow()
    tiers = testapp.get(url + "/tiers")
    assert "its tiers are fixed" in tiers.text


def test_tiers_page_adds_and_refuses_overlaps(testapp, registry):
    prog_id = _officer_programme(registry)
    with registry.database.transaction() as (_tm, db):
        rnd = services.create_round(db, registry, db.get(Programme, prog_id), title="Call 4", actor=f.SYSTEM)
        url = f"/programmes/{prog_id}/rounds/{rnd.id}/tiers"
    f.sign_in(testapp, "leila@example.org")
    form = testapp.get(url).forms["tier"]
    form["name"], form["minimum"], form["maximum"], form["match_funding_percent"] = "Small", "10,000", "25,000", ""
    page = form.submit("submit").follow()
    assert "£10,000.00" in page.text and "£25,000.00" in page.text
    form = page.forms["tier"]
    form["name"], form["minimum"], form["maximum"], form["match_funding_percent"] = "Overlap", "20 000", "30000", "50"
    failed = form.submit("submit", status=400)
    assert "There is a problem" in failed.text and "overlap" in failed.text
    assert failed.forms["tier"]["minimum"].value == "20 000"
    removal = next(fm for fm in page.forms.values() if fm.action.endswith("/remove-tier"))
    after = removal.submit().follow()
    assert "£10,000.00" not in after.text


def test_admin_creates_a_programme_and_an_officer_adds_a_matched_funder(testapp, registry):
    with registry.database.transaction() as (_tm, db):
        f.user(db, email="admin@example.org", admin=True)
    f.sign_in(testapp, "admin@example.org")
    listing = testapp.get("/programmes")
    form = f.main_form(listing.click(description="Add a programme"))
    form["title"], form["currency"], form["lead_funder"] = "Shared Endeavour Fund", "GBP", "MOPAC"
    form["lead_funder_identifier"], form["lead_funder_kind"] = "GB-GOV-MOPAC", "government"
    programme_page = form.submit("submit").follow()
    assert "Programme created: Shared Endeavour Fund." in programme_page.text
    with registry.database.transaction() as (_tm, db):
        prog = db.query(Programme).one()
        prog_id = prog.id
        rnd = services.create_round(db, registry, prog, title="Call 1", budget=f.money(800_000), actor=f.SYSTEM)
        round_id = rnd.id
        services.add_funder_contribution(db, prog, prog.lead_funders[0], role="lead", amount=f.money(400_000),
                                         round=rnd)
    form = f.main_form(testapp.get(f"/programmes/{prog_id}/add-funder"))
    form["funder_name"], form["funder_kind"], form["role"] = "Google.org", "corporate", "co_funder"
    form["amount"], form["currency"], form["round_id"] = "400.000", "GBP", str(round_id)
    form["matches_funder_id"] = form["matches_funder_id"].options[1][0]  # MOPAC
    page = form.submit("submit").follow()
    totals = page.html.find(id="totals").get_text(" ", strip=True)
    assert "£800,000.00" in totals and "£400,000.00" in totals
    rounds = page.html.find(id="rounds").get_text(" ", strip=True)
    assert re.search(r"Call 1 Draft £800,000.00 £800,000.00 £400,000.00", rounds), rounds


def test_only_admins_create_programmes_and_only_officers_add_rounds(testapp, registry):
    prog_id = _officer_programme(registry)
    with registry.database.transaction() as (_tm, db):
        f.user(db, email="amel@example.org")
    f.sign_in(testapp, "amel@example.org")
    testapp.get("/programmes/new", status=403)
    testapp.get(f"/programmes/{prog_id}/rounds/new", status=403)
    testapp.get(f"/programmes/{prog_id}/add-funder", status=403)
    assert "Add a round" not in testapp.get(f"/programmes/{prog_id}").text
    testapp.reset()
    f.sign_in(testapp, "leila@example.org")
    testapp.get("/programmes/new", status=403)
    testapp.get(f"/programmes/{prog_id}/rounds/new", status=200)


@pytest.mark.parametrize("lang, shown", [("fr", "1\u202f400\u202f000,00\u00a0£GB"), ("ar", "1,400,000.00\u00a0UK£"),
                                         ("en", "£1,400,000.00")])
def test_money_is_shown_the_way_the_page_language_writes_it(testapp, registry, lang, shown):
    with registry.database.transaction() as (_tm, db):
        prog, *_ = f.sef(db, registry)
        url = f"/programmes/{prog.id}"
    page = testapp.get(url, headers={"Cookie": f"grants_lang={lang}"})
    assert shown in page.html.find(id="totals").get_text()
    assert page.html.find("html")["dir"] == ("rtl" if lang == "ar" else "ltr")


def test_a_french_officer_types_french_numbers_and_month_names(testapp, registry):
    prog_id = _officer_programme(registry)
    f.sign_in(testapp, "leila@example.org")
    testapp.set_cookie("grants_lang", "fr")
    form = _fill_round(f.main_form(testapp.get(f"/programmes/{prog_id}/rounds/new")),
                       **{"budget": "873 925,50", "opens-month": "avril", "closes-month": "mai", "closes-time": "17h30"})
    form.submit("submit").follow()
    with registry.database.transaction() as (_tm, db):
        rnd = db.query(Round).one()
        assert rnd.budget == f.money("873925.50")
        assert rnd.closes_at == dt.datetime(2023, 5, 22, 16, 30, tzinfo=UTC)


@pytest.fixture
def with_testplugin(settings):
    """The test plugin enabled: it brings a second application form, testplugin-2026."""
    settings["grants.plugins"] = "testplugin"


def test_an_officer_changes_an_open_rounds_form_and_applications_already_made_keep_theirs(with_testplugin, testapp,
                                                                                          registry):
    from grants.applications.models import Application

    with registry.database.transaction() as (_tm, db):
        officer = f.user(db, email="leila@example.org")
        rnd = f.round_(db, registry)  # open, on the default form (general)
        rnd.programme.plugins = ["testplugin"]
        f.grant_role(db, officer, "programme_officer", rnd.programme)
        made = f.application(db, registry, rnd, f.organisation(db), state="submitted")
        made_id, before = made.id, (made.form_version, dict(made.answers), made.amount_minor)
        url = f"/programmes/{rnd.programme_id}/rounds/{rnd.id}"
    f.sign_in(testapp, "leila@example.org")
    form = f.main_form(testapp.get(url + "/edit"))
    assert [v for v, _s, _t in form["application_form_version"].options] == ["", "general", "testplugin-2026"]
    form["application_form_version"].force_value("no-such-form")  # a forged post
    refused = form.submit("submit", status=400)
    assert "Choose a form from the list." in refused.text
    form = f.main_form(refused)
    form["application_form_version"] = "testplugin-2026"
    form.submit("submit").follow()
    with registry.database.transaction() as (_tm, db):
        assert db.get(Round, rnd.id).application_form_version == "testplugin-2026"
        made = db.get(Application, made_id)
        assert (made.form_version, dict(made.answers), made.amount_minor) == before
        assert before[0] == "general"
        new = f.application(db, registry, db.get(Round, rnd.id), f.organisation(db))
        assert new.form_version == "testplugin-2026"
