"""Results frameworks: the theory of change by the programme's levels (its own, or the
default six), assumptions and external factors; indicators with a baseline or the reason
there is none, exact targets per reporting period, typed numbers read in any digits; the
indicator library loaded from CSV (checked line by line, loaded twice without change) and
picked from; and the ``@@framework`` page for the grantee, the officer and the evaluator."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import func, select

import factories as f
from grants.mel import framework
from grants.mel.framework import FrameworkRefused
from grants.mel.models import DEFAULT_LEVELS, Indicator, IndicatorTarget, LibraryIndicator, Report, TocElement
from grants.workflow.engine import plain

D = dt.date


def reasons(refused) -> list[str]:
    return [plain(r) for r in refused.value.reasons]


def fields(refused) -> list:
    return [name for name, _reason in refused.value.problems]


def count(db, model) -> int:
    return db.scalar(select(func.count()).select_from(model))


def reports(db, award) -> list[Report]:
    return list(db.scalars(select(Report).where(Report.award_id == award.id).order_by(Report.number)))


def indicator(db, award, **overrides) -> Indicator:
    values = dict(code="OUT1", title="Young people taking part in the clubs", level="outputs", measure="unit",
                  unit="people", method="administrative_data", baseline_value=Decimal(0),
                  baseline_date=D(2019, 6, 1), disaggregation=("sex",))
    values.update(overrides)
    return framework.add_indicator(db, award, **values)


# -- levels and the theory of change ------------------------------------------------------------


def test_levels_are_the_programmes_own_or_the_default_six(db, registry):
    award = f.award(db, registry)
    programme = award.round.programme
    assert framework.levels_for(programme) == DEFAULT_LEVELS
    programme.results_levels = ["outputs", "intermediate_outcomes", "long_term_outcomes"]
    assert framework.levels_for(programme) == ("outputs", "intermediate_outcomes", "long_term_outcomes")
    assert framework.toc_kinds(programme)[-2:] == ("assumption", "external_factor")


def test_theory_of_change_follows_the_programmes_order_with_assumptions_and_factors_last(db, registry):
    award = f.award(db, registry)
    award.round.programme.results_levels = ["impact", "outputs", "intermediate_outcomes"]
    framework.add_toc_element(db, award, kind="outputs", text="Four theatre clubs meet every week")
    framework.add_toc_element(db, award, kind="assumption", text="Schools keep their halls open after class")
    framework.add_toc_element(db, award, kind="intermediate_outcomes",
                              text="Pupils of different quarters work together")
    framework.add_toc_element(db, award, kind="outputs", text="Two festivals a year")
    framework.add_toc_element(db, award, kind="external_factor", text="A stable school calendar")
    sections = framework.theory_of_change(db, award)
    assert [s.kind for s in sections] == ["impact", "outputs", "intermediate_outcomes", "assumption",
                                          "external_factor"]
    assert [e.text for e in sections[1].elements] == ["Four theatre clubs meet every week", "Two festivals a year"]
    assert sections[0].elements == []
    assert [e.text for e in sections[3].elements] == ["Schools keep their halls open after class"]


def test_a_box_must_be_a_level_of_the_programme_and_say_something(db, registry):
    award = f.award(db, registry)
    with pytest.raises(FrameworkRefused) as refused:
        framework.add_toc_element(db, award, kind="intermediate_outcomes", text="  ")
    assert fields(refused) == ["kind", "text"]
    assert count(db, TocElement) == 0


def test_editing_and_removing_a_box_keeps_its_indicator(db, registry):
    award = f.award(db, registry)
    box = framework.add_toc_element(db, award, kind="outputs", text="Clubs meet")
    ind = indicator(db, award, toc_element=box)
    framework.edit_toc_element(db, box, text="Four clubs meet weekly", kind="activities")
    assert (box.kind, box.text) == ("activities", "Four clubs meet weekly")
    framework.remove_toc_element(db, box)
    assert count(db, TocElement) == 0
    assert db.get(Indicator, ind.id).toc_element_id is None


# -- indicators ------------------------------------------------------------------------------------


def test_an_indicator_needs_a_baseline_with_its_date_or_the_reason_there_is_none(db, registry):
    award = f.award(db, registry)
    with pytest.raises(FrameworkRefused) as refused:
        indicator(db, award, baseline_value=None, baseline_date=None)
    assert fields(refused) == ["baseline_value"]
    assert "explain why there is no baseline" in reasons(refused)[0]
    with pytest.raises(FrameworkRefused) as refused:
        indicator(db, award, baseline_value=Decimal("12.5"), baseline_date=None)
    assert fields(refused) == ["baseline_date"]
    assert count(db, Indicator) == 0

    without = indicator(db, award, code="OUT2", baseline_value=None, baseline_date=None,
                        baseline_missing_reason="No register was kept before the project.")
    assert without.baseline_value is None
    assert without.baseline_missing_reason == "No register was kept before the project."
    with_value = indicator(db, award, code="OUT3", baseline_value=Decimal("12.50"), baseline_missing_reason="ignored")
    db.expire_all()
    stored = db.get(Indicator, with_value.id)
    assert stored.baseline_value == Decimal("12.50") and str(stored.baseline_value) == "12.50"
    assert stored.baseline_date == D(2019, 6, 1) and stored.baseline_missing_reason == ""


def test_measure_method_level_and_disaggregation_are_checked(db, registry):
    award = f.award(db, registry)
    with pytest.raises(FrameworkRefused) as refused:
        indicator(db, award, level="goal", measure="count", method="guess", disaggregation=("sex", "religion"))
    assert fields(refused) == ["level", "measure", "method", "disaggregation"]
    with pytest.raises(FrameworkRefused) as refused:
        indicator(db, award, measure="qualitative", disaggregation=("sex",), baseline_value=None,
                  baseline_missing_reason="New")
    assert fields(refused) == ["disaggregation"]
    with pytest.raises(FrameworkRefused) as refused:
        indicator(db, award, measure="percentage", baseline_value=Decimal("140"))
    assert "from 0 to 100" in reasons(refused)[0]
    ind = indicator(db, award, disaggregation=("region", "sex", "age_band", "sex"))
    assert ind.disaggregation == ["sex", "age_band", "region"]  # DIMENSIONS order, once each
    with pytest.raises(FrameworkRefused) as refused:
        indicator(db, award, code="out1")  # codes are unique per award, whatever the case
    assert fields(refused) == ["code"]


def test_targets_are_exact_per_reporting_period(db, registry):
    award = f.award(db, registry)
    r1, r2, r3, r4 = reports(db, award)
    ind = indicator(db, award, targets={r1: Decimal("40"), r2: "80,5"})
    assert framework.targets_by_report(ind) == {r1.id: Decimal(40), r2.id: Decimal("80.5")}
    framework.set_targets(db, ind, {r2: Decimal("90"), r3: "١٢٠", r1: None})
    db.expire_all()
    ind = db.get(Indicator, ind.id)
    assert framework.targets_by_report(ind) == {r2.id: Decimal(90), r3.id: Decimal(120)}
    assert count(db, IndicatorTarget) == 2

    other = f.award(db, registry, title="Another award")
    (foreign, *_rest) = reports(db, other)
    percent = indicator(db, award, code="PCT1", measure="percentage", unit="")
    with pytest.raises(FrameworkRefused) as refused:
        framework.set_targets(db, percent, {r1: Decimal("101"), foreign: Decimal(5), r2: "lots"})
    assert sorted(fields(refused)) == sorted([f"target-{r1.id}", f"target-{foreign.id}", f"target-{r2.id}"])
    assert framework.targets_by_report(percent) == {}


@pytest.mark.parametrize("typed, expected", [
    ("12", "12"), ("12,5", "12.5"), ("12.5", "12.5"), ("١٢٫٥", "12.5"), ("٣٤", "34"), ("1 234,5", "1234.5"),
    ("1,234.5", "1234.5"), ("1.234,5", "1234.5"), ("1,234,567", "1234567"), ("75%", "75"), ("۷۵٪", "75"),
    ("-3", "-3"), (" 0.125 ", "0.125"),
])
def test_typed_numbers_are_read_exactly(typed, expected):
    assert framework.read_decimal(typed) == Decimal(expected)
    assert str(framework.read_decimal(typed)) == expected


@pytest.mark.parametrize("typed", ["", "twelve", "1.2.3", "12,5,", "1e5", "NaN", 1.5])
def test_what_is_not_a_number_is_refused(typed):
    with pytest.raises(ValueError):
        framework.read_decimal(typed)


def test_editing_an_indicator_checks_it_again_and_keeps_reported_values_readable(db, registry):
    from grants.mel.services import save_report

    award = f.award(db, registry)
    r1 = reports(db, award)[0]
    ind = indicator(db, award)
    framework.edit_indicator(db, ind, title="Pupils in the clubs", targets={r1: Decimal(30)})
    assert ind.title == "Pupils in the clubs" and framework.targets_by_report(ind) == {r1.id: Decimal(30)}
    with pytest.raises(FrameworkRefused) as refused:
        framework.edit_indicator(db, ind, baseline_value=None, baseline_date=None, baseline_missing_reason="")
    assert fields(refused) == ["baseline_value"]
    save_report(db, r1, narrative="", values=[(ind, {}, Decimal(10), ""), (ind, {"sex": "female"}, Decimal(6), "")])
    with pytest.raises(FrameworkRefused) as refused:
        framework.edit_indicator(db, ind, measure="percentage", disaggregation=())
    assert fields(refused) == ["measure", "disaggregation"]
    assert (ind.measure, ind.disaggregation) == ("unit", ["sex"])


def test_an_indicator_with_submitted_values_cannot_be_removed(db, registry):
    from grants.lifecycle.services import WorkflowService
    from grants.mel.services import save_report

    award = f.award(db, registry)
    r1 = reports(db, award)[0]
    ind = indicator(db, award, disaggregation=())
    spare = indicator(db, award, code="SPARE", disaggregation=())
    framework.remove_indicator(db, spare)
    save_report(db, r1, narrative="Clubs started.", values=[(ind, {}, Decimal(10), "")])
    WorkflowService(registry.workflows, db).fire(r1, "submit", actor=f.SYSTEM)
    with pytest.raises(FrameworkRefused):
        framework.remove_indicator(db, ind)
    assert [i.code for i in framework.indicators_of(db, award)] == ["OUT1"]


# -- the library ---------------------------------------------------------------------------------------


def test_the_shipped_library_loads_and_loading_it_twice_changes_nothing(db):
    first = framework.load_library(db, framework.SHIPPED_LIBRARY)
    assert len(first.created) >= 12 and first.updated == [] and first.unchanged == []
    stored = {row.code: row for row in db.scalars(select(LibraryIndicator))}
    assert set(stored) == set(first.created)
    assert {row.library for row in stored.values()} == {"pve-bank"}
    assert stored["SC-OUT-01"].disaggregation == ["sex", "age_band", "region"]
    assert stored["SC-MTO-04"].measure == "qualitative"
    # Neutral terminology in public-facing indicators: naming extremism stigmatises the
    # communities a prevention project works with.
    for row in stored.values():
        assert "extrem" not in (row.title + row.description).lower()
        assert "radical" not in (row.title + row.description).lower()
    snapshot = {code: (r.title, r.level, r.measure, r.unit, r.method, r.disaggregation, r.description)
                for code, r in stored.items()}

    second = framework.load_library(db, framework.SHIPPED_LIBRARY)
    assert second.created == [] and second.updated == [] and sorted(second.unchanged) == sorted(first.created)
    db.expire_all()
    again = {r.code: (r.title, r.level, r.measure, r.unit, r.method, r.disaggregation, r.description)
             for r in db.scalars(select(LibraryIndicator))}
    assert again == snapshot


def test_a_changed_row_is_updated_and_other_libraries_are_apart(db):
    framework.load_library(db, "code,title,level,measure,unit,method,disaggregation,description\n"
                               "A1,Sessions held,activities,unit,sessions,administrative_data,,\n")
    outcome = framework.load_library(db, "code,title,level,measure,unit,method,disaggregation,description\n"
                                         "A1,Sessions run,activities,unit,sessions,administrative_data,region,\n")
    assert outcome.updated == ["A1"]
    framework.load_library(db, "code,title,level,measure,unit,method,disaggregation,description\n"
                               "A1,Other bank's A1,outputs,unit,,survey,,\n", library="other-bank")
    rows = {(r.library, r.code): r for r in db.scalars(select(LibraryIndicator))}
    assert rows[("pve-bank", "A1")].title == "Sessions run" and rows[("pve-bank", "A1")].disaggregation == ["region"]
    assert rows[("other-bank", "A1")].title == "Other bank's A1"


def test_a_bad_library_file_is_refused_line_by_line_and_nothing_is_stored(db, tmp_path):
    path = tmp_path / "bank.csv"
    path.write_text(
        "code,title,level,measure,unit,method,disaggregation,description\n"
        "G1,Good one,outputs,unit,people,survey,sex,\n"
        "B1,,goal,unit,people,survey,,\n"
        "B2,Bad method,outputs,percentage,,guesswork,sex;religion,\n"
        "G1,Twice,outputs,unit,people,survey,,\n", encoding="utf-8")
    with pytest.raises(FrameworkRefused) as refused:
        framework.load_library(db, path)
    messages = reasons(refused)
    assert messages[0].startswith("Line 3: the title is empty")
    assert any(m.startswith("Line 3: the level “goal”") for m in messages)
    assert any(m.startswith("Line 4: the method “guesswork”") for m in messages)
    assert any(m.startswith("Line 4: the disaggregation “religion”") for m in messages)
    assert any(m.startswith("Line 5: the code G1 is already on line 2") for m in messages)
    assert not any(m.startswith("Line 2") for m in messages)
    assert count(db, LibraryIndicator) == 0
    with pytest.raises(FrameworkRefused) as refused:
        framework.load_library(db, "code,title\nX,Y\n")
    assert "columns level, measure, unit, method, disaggregation, description are missing" in reasons(refused)[0]


def test_picking_from_the_library_copies_its_fields_and_still_needs_a_baseline(db, registry):
    award = f.award(db, registry)
    entry = next(e for e in framework.library_indicators(db) if e.code == "SC-STO-02")  # loads the shipped bank
    with pytest.raises(FrameworkRefused) as refused:
        framework.pick_from_library(db, award, entry)
    assert fields(refused) == ["baseline_value"]
    r1 = reports(db, award)[0]
    ind = framework.pick_from_library(db, award, entry, baseline_value="٤٢٫٥", baseline_date=D(2019, 6, 15),
                                      targets={r1: Decimal(50)})
    assert (ind.code, ind.title, ind.level, ind.measure, ind.method, ind.disaggregation, ind.library_code) == (
        "SC-STO-02", entry.title, "short_term_outcomes", "percentage", "survey", ["sex", "age_band", "region"],
        "SC-STO-02")
    assert ind.baseline_value == Decimal("42.5")
    # A programme with its own levels chooses where the library's indicator sits.
    award.round.programme.results_levels = ["outputs", "outcomes"]
    with pytest.raises(FrameworkRefused) as refused:
        framework.pick_from_library(db, award, entry, code="STO2b", baseline_missing_reason="New measure")
    assert fields(refused) == ["level"]
    placed = framework.pick_from_library(db, award, entry, code="STO2b", level="outcomes",
                                         baseline_missing_reason="New measure")
    assert placed.level == "outcomes" and placed.library_code == "SC-STO-02"


# -- the @@framework page -------------------------------------------------------------------------------


def main_text(page) -> str:
    return " ".join(page.html.find("main").get_text().split())


def summary_links(page) -> dict[str, str]:
    summary = page.html.find(class_="error-summary")
    assert summary is not None, "no error summary"
    return {a["href"]: " ".join(a.get_text().split()) for a in summary.find_all("a")}


def an_award_with_people(registry, *, levels=()):
    """An award whose grantee has a member, an officer on the programme and an evaluator
    on the round.  Committed; returns the award's URL and id."""
    with registry.database.transaction() as (_tm, db):
        member = f.user(db, email="amel@example.org", name="Amel")
        officer = f.user(db, email="leila@example.org", name="Leila")
        evaluator = f.user(db, email="eva@example.org", name="Eva")
        org = f.organisation(db, member, name="AFEK")
        award = f.award(db, registry, org=org)
        award.round.programme.results_levels = list(levels)
        f.grant_role(db, officer, "programme_officer", award.round.programme)
        f.grant_role(db, evaluator, "evaluator", award.round)
        url = f"/programmes/{award.round.programme_id}/rounds/{award.round_id}/awards/{award.id}"
        return url, award.id


def test_the_grantee_builds_the_framework_through_the_page(testapp, registry):
    url, award_id = an_award_with_people(registry, levels=("outputs", "outcomes", "impact"))
    f.sign_in(testapp, "amel@example.org")
    page = testapp.get(url + "/@@framework")
    headings = [h.get_text(strip=True) for h in page.html.select("#theory-of-change h3")]
    assert headings == ["Outputs", "Outcomes", "Impact", "Assumptions", "External factors"]

    form = page.forms["toc"]
    form["kind"] = "assumption"
    form["text"] = "Schools keep their halls open after class"
    page = form.submit("submit").follow()
    assert "Added to the theory of change: Assumptions." in main_text(page)
    assert "Schools keep their halls open after class" in page.html.find(id="toc-assumption").get_text()

    form = page.forms["indicator"]
    form["code"] = "OUT1"
    form["title"] = "Pupils taking part in the clubs"
    form["level"] = "outputs"
    form["indicator-measure"] = "unit"
    form["unit"] = "pupils"
    form["method"] = "administrative_data"
    form.get("checkbox", index=0).checked = True  # sex
    form["r" + str(_report_ids(registry, award_id)[0])] = "٤٠"
    refused = form.submit("submit", status=400)
    links = summary_links(refused)
    assert links == {"#indicator-baseline_value": "Give the baseline and the date it was measured, or explain why "
                                                  "there is no baseline."}
    assert refused.forms["indicator"]["title"].value == "Pupils taking part in the clubs"  # nothing typed is lost
    assert refused.html.find("title").get_text().strip().startswith("Error:")

    form = refused.forms["indicator"]
    form["baseline_value"] = "12,5"
    form["day"], form["month"], form["year"] = "15", "juin", "2019"
    page = form.submit("submit").follow()
    assert "Added the indicator OUT1." in main_text(page)
    row = page.html.find(id="indicator-table").tbody.find("tr")
    assert "OUT1" in row.get_text() and "12.5 (15 Jun 2019)" in row.find(class_="baseline").get_text()
    assert "Period 1: 40" in " ".join(row.find(class_="targets").get_text().split())
    assert "Sex" in row.get_text()
    with registry.database.transaction() as (_tm, db):
        (ind,) = db.scalars(select(Indicator).where(Indicator.award_id == award_id)).all()
        assert (ind.baseline_value, ind.baseline_date, ind.disaggregation) == (Decimal("12.5"), D(2019, 6, 15),
                                                                               ["sex"])
        assert [t.value for t in ind.targets] == [Decimal(40)]


def _report_ids(registry, award_id) -> list[int]:
    with registry.database.transaction() as (_tm, db):
        return list(db.scalars(select(Report.id).where(Report.award_id == award_id).order_by(Report.number)))


def test_the_officer_picks_from_the_library_and_edits_the_indicator(testapp, registry):
    url, award_id = an_award_with_people(registry)
    f.sign_in(testapp, "leila@example.org")
    page = testapp.get(url + "/@@framework")
    form = page.forms["library"]
    with registry.database.transaction() as (_tm, db):
        entry_id = db.scalar(select(LibraryIndicator.id).where(LibraryIndicator.code == "SC-OUT-01"))
    form["entry"] = str(entry_id)
    refused = form.submit("submit", status=400)
    assert "#library-baseline_value" in summary_links(refused)
    form = refused.forms["library"]
    form["baseline_missing_reason"] = "No attendance lists were kept before the project."
    page = form.submit("submit").follow()
    assert "Added the indicator SC-OUT-01." in main_text(page)
    edit = page.click(href="framework-indicator")
    form = edit.forms["indicator"]
    assert form["code"].value == "SC-OUT-01"
    form["indicator-measure"] = "percentage"
    form["baseline_value"] = "140"
    form["day"], form["month"], form["year"] = "1", "6", "2019"
    refused = form.submit("submit", status=400)
    assert "The baseline is a percentage: give a number from 0 to 100." in summary_links(refused).values()
    form = refused.forms["indicator"]
    form["indicator-measure"] = "unit"
    form["baseline_value"] = "30"
    form.submit("submit").follow()
    with registry.database.transaction() as (_tm, db):
        ind = db.scalars(select(Indicator).where(Indicator.award_id == award_id)).one()
        assert (ind.library_code, ind.baseline_value, ind.baseline_missing_reason) == ("SC-OUT-01", Decimal(30), "")


def test_the_evaluator_reads_the_framework_but_cannot_change_it(testapp, registry):
    url, award_id = an_award_with_people(registry)
    with registry.database.transaction() as (_tm, db):
        from grants.awards.models import Award

        award = db.get(Award, award_id)
        framework.add_toc_element(db, award, kind="outputs", text="Clubs meet weekly")
        indicator(db, award, baseline_value=None, baseline_missing_reason="No register before")
    f.sign_in(testapp, "eva@example.org")
    page = testapp.get(url + "/@@framework")
    assert "Clubs meet weekly" in main_text(page)
    assert "No baseline: No register before" in " ".join(page.html.find(class_="baseline").get_text().split())
    assert "toc" not in page.forms and "indicator" not in page.forms and "library" not in page.forms
    testapp.post(url + "/@@framework", {"__formid__": "toc", "kind": "outputs", "text": "x",
                                        "csrf_token": page.forms["logout-form"]["csrf_token"].value}, status=403)
    testapp.get(url + "/@@framework-indicator?indicator=1", status=403)


def test_strangers_cannot_see_the_framework(testapp, registry):
    url, _award_id = an_award_with_people(registry)
    with registry.database.transaction() as (_tm, db):
        f.user(db, email="stranger@example.org")
    f.sign_in(testapp, "stranger@example.org")
    testapp.get(url + "/@@framework", status=403)
