"""The round's public report: aggregates only, small cells suppressed, a hidden funder's
name left out (its money kept), accepted reports only, in English, French and Arabic;
published by the round's officers, and a 404 for everyone else until then."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select

import factories as f
from grants.evaluation.models import RoundEvaluation
from grants.lifecycle.services import WorkflowService
from grants.mel.models import Evidence, Indicator, IndicatorTarget, Report
from grants.mel.services import save_report
from grants.money import format_money
from grants.programmes import services as programmes
from grants.programmes.models import Funder, Round
from grants.reporting import public
from grants.static_files import unhashed_name

UTC = dt.timezone.utc
NOW = dt.datetime(2021, 1, 15, 10, 0, tzinfo=UTC)
HIDDEN = "Quiet Donor Foundation"
EVALUATOR = "Dr Hana Evaluator"


def tnd(amount):
    return f.money(amount, "TND")


def _org(db, *codes, name=None):
    org = f.organisation(db, name=name)
    org.regions = list(codes)
    db.flush()
    return org


def _reports(db, award):
    return list(db.scalars(select(Report).where(Report.award_id == award.id).order_by(Report.number)))


def _reach(db, award, *, baseline, targets, library_code="pve-reach"):
    indicator = Indicator(award_id=award.id, code="OUT-1", title="Young people taking part", level="outputs",
                          measure="unit", unit="people", baseline_value=Decimal(baseline),
                          baseline_date=award.starts_on, method="direct_measurement", disaggregation=["sex"],
                          library_code=library_code)
    db.add(indicator)
    db.flush()
    reports = _reports(db, award)
    for number, value in targets.items():
        db.add(IndicatorTarget(indicator_id=indicator.id, report_id=reports[number - 1].id, value=Decimal(value)))
    db.flush()
    return indicator, reports


def build(db, registry, *, threshold=5, published=True) -> dict:
    """A BLADI round in Kebili, Sfax and Tunis: 20 applied, 5 eligible, 2 funded."""
    service = WorkflowService(registry.workflows, db)
    officer = f.user(db, email="leila@example.org", name="Leila Ben Salah")
    evaluator = f.user(db, email="hana@example.org", name=EVALUATOR)
    prog = programmes.create_programme(db, title="BLADI", currency="TND")
    rnd = f.round_(db, registry, prog, title="Nabda b houmti")
    f.grant_role(db, officer, "programme_officer", prog)
    state_dept = programmes.get_or_create_funder(db, name="US Department of State", identifier="US-GOV-1",
                                                 kind="government")
    quiet = programmes.get_or_create_funder(db, name=HIDDEN, kind="foundation")
    programmes.add_funder_contribution(db, prog, state_dept, role="lead", amount=tnd("700000"))
    programmes.add_funder_contribution(db, prog, quiet, role="co_funder", amount=tnd("12345.678"), round=rnd,
                                       matches=state_dept)
    public.set_report_options(db, rnd, small_cell_threshold=threshold, hidden_funder_ids=[quiet.id])
    kebili = _org(db, "TN-73", name="AFEK Kebili")
    sfax = _org(db, "TN-61", name="Bithret Amal")
    tunis = _org(db, "TN-11", name="ACEC Kabaria")
    for org, state, n in ((kebili, "submitted", 6), (kebili, "eligible", 3), (sfax, "submitted", 3),
                          (tunis, "submitted", 6)):
        for _ in range(n):
            f.application(db, registry, rnd, org, state=state)
    first = f.award(db, registry, rnd=rnd, org=kebili, amount=tnd("45000.125"), starts_on=dt.date(2019, 10, 1))
    second = f.award(db, registry, rnd=rnd, org=kebili, amount=tnd("30000.000"), starts_on=dt.date(2019, 10, 1),
                     title="Music in Douz")
    reach1, reports1 = _reach(db, first, baseline=0, targets={1: 50, 4: 200})
    reach2, reports2 = _reach(db, second, baseline=10, targets={4: 100})
    save_report(db, reports1[0], narrative="Clubs met.", values=[(reach1, {}, Decimal(60), "")], now=NOW)
    save_report(db, reports2[0], narrative="Music met.", values=[(reach2, {}, Decimal(40), "")], now=NOW)
    for report in (reports1[0], reports2[0]):
        service.fire(report, "submit", actor=f.SYSTEM, now=NOW)
        service.fire(report, "accept", actor=f.SYSTEM, now=NOW)
    # Submitted but not accepted, and a story: neither is ever counted.
    save_report(db, reports1[1], narrative="Later.", values=[(reach1, {}, Decimal(999), "")], now=NOW)
    service.fire(reports1[1], "submit", actor=f.SYSTEM, now=NOW)
    db.add(Evidence(award_id=first.id, kind="success_story", title="Yasmine's story", text="Counted 5000 people.",
                    consent_given=True, consent_method="written", consent_date=dt.date(2020, 2, 1)))
    db.add(RoundEvaluation(round_id=rnd.id, evaluator_id=evaluator.id, findings="Clubs kept going after the grant.",
                           shortcomings="Two grantees reported late.", lessons="Start the survey before the clubs."))
    if published:
        public.publish_report(db, rnd, user=officer, now=NOW)
    db.flush()
    return {"url": f"/programmes/{prog.id}/rounds/{rnd.id}", "round": rnd.id, "quiet": quiet.id}


@pytest.fixture
def world(registry):
    with registry.database.transaction() as (_tm, db):
        return build(db, registry)


def cell(page, row_id, column):
    row = page.html.find(id=row_id)
    return row.find_all("td")[column].get_text(" ", strip=True)


# -- the figures -------------------------------------------------------------------------------------


def test_small_cells_are_suppressed_with_the_next_smallest_cell_of_the_breakdown(registry):
    with registry.database.transaction() as (_tm, db):
        build(db, registry)
        rnd = db.scalars(select(Round)).one()
        report = public.public_report(db, registry, rnd)
    assert {s: c.value for s, c in report.funnel.items()} == {"applied": 20, "eligible": 5, "incubated": 0,
                                                               "funded": None}
    assert report.funnel["funded"].why == public.SMALL  # 2 grants: fewer than 5
    applied = {row.region: row.cells["applied"] for row in report.by_region}
    assert applied["TN-61"] == public.Cell(None, True, public.SMALL)  # Sfax: 3
    assert applied["TN-11"] == public.Cell(None, True, public.SECONDARY)  # Tunis: 6, else 3 = 20 - 6 - 11
    assert applied["TN-73"] == public.Cell(11)
    funded = {row.region: row.cells["funded"] for row in report.by_region}
    assert funded["TN-73"].why == public.SMALL and funded["TN-11"] == public.Cell(0)  # its total is hidden: no more


def test_suppress_rules():
    assert public.suppress([3, 6, 11], 5) == [public.Cell(None, True, "small"), public.Cell(None, True, "secondary"),
                                              public.Cell(11)]
    assert public.suppress([3, 6, 11], 5, total_shown=False)[1] == public.Cell(6)
    assert public.suppress([3, 4, 11], 5)[2] == public.Cell(11)  # two small ones already hide each other
    assert public.suppress([0, 3, 0, 9], 5) == [public.Cell(0), public.Cell(None, True, "small"), public.Cell(0),
                                                public.Cell(None, True, "secondary")]
    assert public.suppress([5, 0], 5) == [public.Cell(5), public.Cell(0)]


def test_money_results_and_evaluation(registry):
    with registry.database.transaction() as (_tm, db):
        build(db, registry)
        report = public.public_report(db, registry, db.scalars(select(Round)).one())
    assert [(line.name, line.amount, line.scope, line.matches) for line in report.funders] == [
        (None, tnd("12345.678"), "round", "US Department of State"),
        ("US Department of State", tnd("700000"), "programme", None)]
    assert report.awarded["TND"] == tnd("75000.125")
    [reach] = report.indicators
    assert (reach.key, reach.aggregate, reach.grantees) == ("pve-reach", "sum", 2)
    # Accepted reports only: 60 + 40, never the 999 still in review, never a story.
    assert (reach.baseline.value, reach.target.value, reach.result.value) == (10, 300, 100)
    assert report.evaluation.shortcomings == "Two grantees reported late."


def test_surveys_are_summed_per_version_and_small_samples_hidden(registry):
    from grants.awards.models import Award
    from grants.mel.models import SurveyInstrument, SurveyResult, SurveyUpload

    with registry.database.transaction() as (_tm, db):
        build(db, registry)
        rnd = db.scalars(select(Round)).one()
        award = db.scalars(select(Award).where(Award.round_id == rnd.id).order_by(Award.id)).first()
        item = {"code": "act", "text": "I can act against exclusion", "scale": 5,
                "labels": ["1", "2", "3", "4", "5"], "translations": {"fr": {"text": "Je peux agir"}}}
        instrument = SurveyInstrument(code="belong", version=1, title="Belonging", items=[item])
        db.add(instrument)
        db.flush()
        for wave, counts in (("baseline", [1, 1, 1, 0, 0]), ("post", [0, 1, 2, 4, 5])):
            upload = SurveyUpload(award_id=award.id, instrument_id=instrument.id, wave=wave, respondents=sum(counts))
            upload.results.append(SurveyResult(item="act", counts=counts, respondents=sum(counts),
                                               mean=Decimal("1"), cell=""))
            db.add(upload)
        db.flush()
        before, after = public.public_report(db, registry, rnd, locale="fr").surveys
    assert (before.wave, before.respondents, before.mean, before.agree_share) == (
        "baseline", public.Cell(None, True, public.SMALL), None, None)  # 3 people: nothing about them
    assert (after.wave, after.respondents.value, after.item_text) == ("post", 12, "Je peux agir")
    assert after.mean == Decimal("4.08") and after.agree_share == Decimal("0.75")


# -- the page -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "fr", "ar"])
def test_the_report_renders_in_every_language_with_accessible_charts(testapp, world, lang):
    page = testapp.get(world["url"] + "/@@public-report", headers={"Cookie": f"grants_lang={lang}"})
    html = page.html.find("html")
    assert html["lang"] == lang and html["dir"] == ("rtl" if lang == "ar" else "ltr")
    svgs = page.html.select("svg.report-chart")
    assert {s["id"] for s in svgs} >= {"chart-funnel", "chart-regions", "chart-indicator-0"}
    for svg in svgs:
        assert svg["role"] == "img" and svg.find("title").get_text() and svg.find("desc").get_text()
        assert svg["aria-labelledby"] == f"{svg['id']}-title {svg['id']}-desc"
    assert cell(page, "funnel-applied", 0) == "20"
    # Money as the page's language writes it, exactly.
    totals = page.html.find(id="money").get_text(" ", strip=True)
    assert format_money(tnd("75000.125"), lang) in totals
    assert format_money(tnd("12345.678"), lang) in totals
    # Arabic: bars grow from the right, labels sit on the right.
    funnel = page.html.find(id="chart-funnel")
    first_label = funnel.find("text")
    assert (first_label["x"] == "636") is (lang == "ar")
    # Printable: the site's stylesheet (pages carry no inline style) hides the navigation
    # when a report is printed, and keeps the charts and tables whole.
    css = next(link["href"] for link in page.html.find_all("link", rel="stylesheet")
               if unhashed_name(link["href"]).endswith("/static/grants.css"))
    print_css = testapp.get(css).text.split("@media print", 1)[1]
    assert "body:has(.report) :is(header, footer, nav" in print_css and ".report figure" in print_css
    assert page.html.find("style") is None
    assert page.html.find(id="print-note") is not None


def test_small_cells_never_show_their_number(testapp, world):
    page = testapp.get(world["url"] + "/@@public-report")
    assert cell(page, "region-TN-61", 0) == "fewer than 5"
    assert cell(page, "region-TN-11", 0) == "not shown"
    assert cell(page, "region-TN-73", 0) == "11"
    assert cell(page, "funnel-funded", 0) == "fewer than 5"
    regions_chart = page.html.find(id="chart-regions").get_text(" ")
    assert "Sfax" not in regions_chart and "Tunis" not in regions_chart and "Kebili" in regions_chart
    funnel_chart = page.html.find(id="chart-funnel").get_text(" ")
    assert "Funded" not in funnel_chart and "Applied" in funnel_chart


def test_a_hidden_funder_keeps_its_money_and_loses_its_name(testapp, world):
    page = testapp.get(world["url"] + "/@@public-report")
    funders = page.html.find(id="funders").get_text(" ", strip=True)
    assert "Another funder" in funders and "TND\u00a012,345.678" in funders
    assert "Matches US Department of State" in funders
    assert HIDDEN not in page.text


def test_no_person_and_nothing_unaccepted_is_on_the_page(testapp, world):
    page = testapp.get(world["url"] + "/@@public-report")
    text = page.html.find("main").get_text(" ", strip=True)
    for leaked in (EVALUATOR, "hana@example.org", "Leila", "Yasmine", "5000", "999"):
        assert leaked not in text
    indicator = page.html.find(id="indicator-pve-reach")
    assert indicator.find(class_="figure-result").get_text(" ", strip=True).startswith("Latest accepted result 100")
    assert "Two grantees reported late." in page.html.find(id="shortcomings").get_text()
    grants = page.html.find(id="grants-table").get_text(" ", strip=True)
    assert "AFEK Kebili" in grants and "TND\u00a045,000.125" in grants  # organisations are named, with their amounts


# -- publication ------------------------------------------------------------------------------------------


def test_an_unpublished_report_is_404_for_the_public_and_a_preview_for_the_officer(testapp, registry):
    with registry.database.transaction() as (_tm, db):
        world = build(db, registry, published=False)
        f.user(db, email="someone@example.org", name="Someone Else")
    url = world["url"] + "/@@public-report"
    testapp.get(url, status=404)
    f.sign_in(testapp, "someone@example.org")
    testapp.get(url, status=404)
    testapp.reset()
    f.sign_in(testapp, "leila@example.org")
    preview = testapp.get(url)
    assert preview.html.find(id="preview-notice") is not None
    settings = testapp.get(world["url"] + "/@@public-report-settings")
    assert "Not published" in settings.html.find(id="status").get_text()
    done = settings.forms["publish-form"].submit().follow()
    assert "The public report is published" in done.text
    testapp.reset()
    page = testapp.get(url)
    assert page.html.find(id="preview-notice") is None and page.html.find(id="published") is not None
    with registry.database.transaction() as (_tm, db):
        assert db.get(Round, world["round"]).report_published_at is not None


def test_officer_changes_the_threshold_and_hidden_funders(testapp, registry, world):
    f.sign_in(testapp, "leila@example.org")
    settings = testapp.get(world["url"] + "/@@public-report-settings")
    form = settings.forms["report-options"]
    form["small_cell_threshold"] = "1"
    failed = form.submit("submit", status=400)
    assert failed.html.title.get_text().strip().startswith("Error:")
    summary = {a["href"]: a.get_text(strip=True) for a in failed.html.select(".error-summary a")}
    assert summary == {"#report-options-small_cell_threshold":
                       "Enter the smallest count to show, a whole number from 2 to 100, like 5"}
    form = failed.forms["report-options"]
    assert form["small_cell_threshold"].value == "1"
    form["small_cell_threshold"] = "٣"  # Arabic-Indic 3
    for box in form.fields["checkbox"]:
        box.checked = False
    done = form.submit("submit").follow()
    assert "Settings saved." in done.text
    with registry.database.transaction() as (_tm, db):
        rnd = db.get(Round, world["round"])
        assert (rnd.small_cell_threshold, rnd.hidden_funder_ids) == (3, [])
    page = testapp.get(world["url"] + "/@@public-report")
    # At 3, Sfax's 3 applications are shown; the two grants are the only small count left.
    assert HIDDEN in page.text and cell(page, "region-TN-61", 0) == "3" and cell(page, "region-TN-11", 0) == "6"
    assert cell(page, "funnel-funded", 0) == "fewer than 3"


def test_report_options_refusals(registry):
    with registry.database.transaction() as (_tm, db):
        build(db, registry)
        rnd = db.scalars(select(Round)).one()
        stranger = programmes.get_or_create_funder(db, name="Not a funder here", kind="other")
        with pytest.raises(public.ReportRefused) as refused:
            public.set_report_options(db, rnd, small_cell_threshold=101, hidden_funder_ids=[stranger.id])
        assert [p for p, _ in refused.value.problems] == ["small_cell_threshold", "hidden_funder_ids"]
        assert rnd.small_cell_threshold == 5


def test_a_funder_a_round_hides_is_not_named_on_the_public_programme_page(testapp, registry, world):
    """The programme's page speaks for all its rounds: a funder any of them hides is
    "Another funder" there too (lists, contributions, what it matches, totals by funder),
    even beside a round that names everyone; its money stays."""
    with registry.database.transaction() as (_tm, db):
        rnd = db.get(Round, world["round"])
        other = f.round_(db, registry, rnd.programme, title="Round 2")
        quiet = db.get(Funder, world["quiet"])
        programmes.add_funder_contribution(db, rnd.programme, quiet, role="co_funder", amount=tnd("1000"),
                                           round=other)
        programme_url = f"/programmes/{rnd.programme_id}"
    page = testapp.get(programme_url)  # anonymous
    assert HIDDEN not in page.text
    text = page.html.find("main").get_text(" ", strip=True)
    assert "Co-funders Another funder" in text
    contributions = page.html.find(id="contributions").get_text(" ", strip=True)
    assert contributions.count("Another funder") == 2 and "TND\u00a012,345.678" in contributions
    assert "US Department of State" in contributions
    assert "Another funder" in page.html.find(id="funder-totals").get_text(" ", strip=True)

    f.sign_in(testapp, "leila@example.org")  # the programme's officer manages it and sees who it is
    page = testapp.get(programme_url)
    contributions = page.html.find(id="contributions").get_text(" ", strip=True)
    assert HIDDEN in contributions and "not named on public pages" in contributions
    assert "Another funder" not in contributions


# -- the cache ---------------------------------------------------------------------------------------


def test_the_published_report_is_gathered_again_only_when_its_data_change(registry, testapp, world):
    """Read twice, gathered once; an application to another round or a new account leaves
    it as it was (not gathered again); one more application to this round shows at once."""
    url = world["url"] + "/@@public-report"
    cache = lambda: testapp.app.registry[public.CACHE_KEY]  # noqa: E731 - the app's, made on first use
    assert cell(testapp.get(url), "funnel-applied", 0) == "20"
    assert cell(testapp.get(url), "funnel-applied", 0) == "20"
    assert cache().gathered == 1

    with registry.database.transaction() as (_tm, db):  # unrelated: another round, a new person
        elsewhere = f.round_(db, registry, programmes.create_programme(db, title="Elsewhere", currency="TND"))
        f.application(db, registry, elsewhere, f.organisation(db), state="submitted")
        f.user(db, email="someone.new@example.org")
    assert cell(testapp.get(url), "funnel-applied", 0) == "20"
    assert cache().gathered == 1

    with registry.database.transaction() as (_tm, db):  # shown: a 21st application here
        rnd = db.get(Round, world["round"])
        f.application(db, registry, rnd, _org(db, "TN-11"), state="submitted")
    assert cell(testapp.get(url), "funnel-applied", 0) == "21"
    assert cache().gathered == 2


def test_a_step_of_an_application_of_the_round_refreshes_the_cached_report(registry, testapp, world):
    """A move that adds no row (an application confirmed eligible) changes its row version,
    and with it the report's markers."""
    from grants.applications.models import Application

    url = world["url"] + "/@@public-report"
    assert cell(testapp.get(url), "funnel-eligible", 0) == "5"
    with registry.database.transaction() as (_tm, db):
        submitted = db.scalars(select(Application).where(Application.round_id == world["round"],
                                                         Application.state == "submitted")
                               .order_by(Application.id)).first()
        WorkflowService(registry.workflows, db).fire(submitted, "confirm_eligible", actor=f.SYSTEM, now=NOW)
    assert cell(testapp.get(url), "funnel-eligible", 0) == "6"
    assert testapp.app.registry[public.CACHE_KEY].gathered == 2


def test_an_organisation_of_the_round_moving_region_refreshes_the_cached_report(registry, testapp, world):
    """The report's markers for the round's applications are the counters kept as they
    are made and move, by region too: an organisation that applied here and now names
    another region gathers the report again."""
    from grants.applications.models import Application

    url = world["url"] + "/@@public-report"
    testapp.get(url)
    gathered = testapp.app.registry[public.CACHE_KEY].gathered
    testapp.get(url)
    assert testapp.app.registry[public.CACHE_KEY].gathered == gathered  # unchanged: not gathered again
    with registry.database.transaction() as (_tm, db):
        application = db.scalars(select(Application).where(Application.round_id == world["round"])
                                 .order_by(Application.id)).first()
        application.organisation.regions = ["TN-83"]
    testapp.get(url)
    assert testapp.app.registry[public.CACHE_KEY].gathered == gathered + 1
