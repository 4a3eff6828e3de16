"""Survey instruments (versioned, never changed), the waves a round runs them in, grantees'
aggregated responses (CSV, checked line by line against the instrument version), and the
roll-ups that never put two versions together: award results, wave comparisons, indicator
values and the round's summary."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import func, select

import factories as f
from grants.files.models import StoredFile
from grants.files.storage import read
from grants.mel import surveys
from grants.mel.models import Indicator, IndicatorValue, Report, SurveyInstrument, SurveyResult, SurveyUpload
from grants.mel.surveys import SurveyRefused
from grants.workflow.engine import plain

NOW = dt.datetime(2019, 11, 4, 9, 30, tzinfo=dt.timezone.utc)
LIKERT = ["Strongly disagree", "Disagree", "Neither agree nor disagree", "Agree", "Strongly agree"]


def problems(refused) -> list[tuple]:
    return [(name, plain(reason)) for name, reason in refused.value.problems]


def messages(refused) -> list[str]:
    return [plain(reason) for _name, reason in refused.value.problems]


def count(db, model) -> int:
    return db.scalar(select(func.count()).select_from(model))


def items(*codes, scale=5):
    labels = LIKERT if scale == 5 else [f"Point {n}" for n in range(1, scale + 1)]
    return [{"code": c, "text": f"Statement {c}.", "scale": scale, "labels": labels} for c in codes]


def instrument(db, code="belonging", codes=("q1", "q2"), scale=5, title="Belonging"):
    return surveys.create_instrument(db, code=code, title=title, items=items(*codes, scale=scale))


def csv(*lines: str) -> bytes:
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


HEADER = "item,sex,age_band,region,count_1,count_2,count_3,count_4,count_5"
GOOD = csv(HEADER,
           "q1,,,,3,5,10,20,12",       # 50 answers: mean 183/50 = 3.66; 32 agree
           "q1,female,,,1,2,6,11,7",
           "q1,male,,,2,3,4,9,5",
           "q2,,,,0,0,123,77,0")       # 200 answers: mean 677/200 = 3.385 → 3.39 (half up)


@pytest.fixture
def setting(db, registry):
    """An award in its round, which runs a two-item instrument at baseline and after."""
    award = f.award(db, registry)
    inst = instrument(db)
    surveys.attach_instrument(db, award.round, inst, ["baseline", "post"])
    return award, inst


# -- instruments -----------------------------------------------------------------------------------


def test_each_instrument_created_is_a_new_version_and_the_older_one_is_unchanged(db):
    first = instrument(db, codes=("q1", "q2"))
    second = instrument(db, codes=("q1", "q2", "q3"), title="Belonging (revised)")
    other = instrument(db, code="feedback")
    assert (first.version, second.version, other.version) == (1, 2, 1)
    assert [i["code"] for i in first.items] == ["q1", "q2"]
    assert [i["code"] for i in second.items] == ["q1", "q2", "q3"]
    assert [(i.code, i.version) for i in surveys.instrument_versions(db)] == [
        ("belonging", 1), ("belonging", 2), ("feedback", 1)]


def test_an_instrument_with_bad_items_is_refused_with_each_problem_and_nothing_is_made(db):
    bad = [
        {"code": "q1", "text": "One.", "scale": 5, "labels": LIKERT},
        {"code": "q1", "text": "Two.", "scale": 5, "labels": LIKERT},           # code used twice
        {"code": "q3", "text": "", "scale": 5, "labels": LIKERT},               # no text
        {"code": "q4", "text": "Four.", "scale": 12, "labels": ["x"] * 12},     # too many points
        {"code": "q5", "text": "Five.", "scale": 1, "labels": ["x"]},           # too few
        {"code": "q6", "text": "Six.", "scale": 4, "labels": LIKERT},           # 5 labels for 4 points
    ]
    with pytest.raises(SurveyRefused) as refused:
        surveys.create_instrument(db, code="Bad Code", title="", items=bad)
    assert messages(refused) == [
        "Give the instrument a code of lower-case letters, digits, “_” or “-”, 60 characters at most, like "
        "“resilience_belonging”.",
        "Give the instrument a title.",
        "Item 2: the code “q1” is used twice; each item needs its own.",
        "Item 3: write the statement or question respondents rate.",
        "Item 4: the scale must have from 2 to 11 points.",
        "Item 5: the scale must have from 2 to 11 points.",
        "Item 6: give one label for each of its 4 points, from the lowest to the highest.",
    ]
    assert count(db, SurveyInstrument) == 0


def test_the_standard_instruments_load_once_with_their_translations(db):
    loaded = surveys.load_standard_instruments(db)
    by_code = {i.code: i for i in loaded}
    assert set(by_code) == {"resilience_belonging", "activity_feedback"}
    resilience = by_code["resilience_belonging"]
    assert len(resilience.items) == 6 and all(i["scale"] == 5 for i in resilience.items)
    belong = resilience.items[0]
    assert belong["labels"][0] == "Strongly disagree"
    assert surveys.item_text(belong, "ar") == "أشعر بالانتماء إلى حيّي."
    assert surveys.item_labels(belong, "fr")[-1] == "Tout à fait d'accord"
    assert surveys.item_text(belong, "en") == "I feel I belong in my neighbourhood."
    # Loading again changes nothing: same content, same version.
    again = surveys.load_standard_instruments(db)
    assert [i.id for i in again] == [i.id for i in loaded]
    assert count(db, SurveyInstrument) == 2


def test_a_changed_instrument_file_loads_as_a_new_version(db, tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text('code = "mine"\ntitle = "Mine"\nscale = 3\nlabels = ["No", "Maybe", "Yes"]\n'
                    '[[items]]\ncode = "a"\ntext = "A."\n', encoding="utf-8")
    first = surveys.load_instrument_file(db, path)
    path.write_text(path.read_text(encoding="utf-8").replace('"A."', '"A, reworded."'), encoding="utf-8")
    second = surveys.load_instrument_file(db, path)
    assert (first.version, second.version) == (1, 2)
    assert first.items[0]["text"] == "A." and second.items[0]["text"] == "A, reworded."


# -- a round's instruments -----------------------------------------------------------------------------


def test_a_round_uses_one_version_of_an_instrument_in_the_waves_chosen(db, registry):
    rnd = f.round_(db, registry)
    v1, v2 = instrument(db), instrument(db)
    with pytest.raises(SurveyRefused) as refused:
        surveys.attach_instrument(db, rnd, v1, [])
    assert messages(refused) == ["Choose at least one wave in which grantees run the survey."]
    with pytest.raises(SurveyRefused):
        surveys.attach_instrument(db, rnd, v1, ["baseline", "next_year"])
    surveys.attach_instrument(db, rnd, v1, ["post", "baseline"])
    assert [(ri.instrument.version, ri.waves) for ri in surveys.round_instruments(db, rnd)] == [
        (1, ["baseline", "post"])]
    with pytest.raises(SurveyRefused) as refused:
        surveys.attach_instrument(db, rnd, v2, ["baseline"])
    assert "detach version 1 first" in messages(refused)[0]
    surveys.attach_instrument(db, rnd, v1, ["baseline", "plus_6_months"])  # again: new waves
    assert surveys.round_instruments(db, rnd)[0].waves == ["baseline", "plus_6_months"]
    surveys.detach_instrument(db, rnd, v1)
    surveys.attach_instrument(db, rnd, v2, ["post"])
    assert [ri.instrument.version for ri in surveys.round_instruments(db, rnd)] == [2]


# -- uploads ---------------------------------------------------------------------------------------------


def test_an_upload_stores_counts_respondents_exact_means_and_the_file(db, registry, setting):
    award, inst = setting
    member = f.user(db)
    upload = surveys.upload_survey_results(db, registry, award, inst, "baseline", GOOD, filename="baseline.csv",
                                           user=member, now=NOW)
    assert (upload.wave, upload.respondents, upload.uploaded_by_id, upload.uploaded_at) == (
        "baseline", 200, member.id, NOW)
    rows = {(r.item, r.cell): r for r in upload.results}
    assert set(rows) == {("q1", ""), ("q1", "sex=female"), ("q1", "sex=male"), ("q2", "")}
    total = rows[("q1", "")]
    assert (total.counts, total.respondents, total.mean) == ([3, 5, 10, 20, 12], 50, Decimal("3.66"))
    assert rows[("q2", "")].mean == Decimal("3.39")  # 3.385 rounds half up, not to even
    assert rows[("q1", "sex=female")].dimensions == {"sex": "female"}
    stored = db.get(StoredFile, upload.file_id)
    assert stored.filename == "baseline.csv" and read(registry.settings, stored) == GOOD


def test_a_bad_upload_lists_every_problem_by_line_and_stores_nothing(db, registry, setting):
    award, inst = setting
    files_before = count(db, StoredFile)
    data = csv(HEADER,
               "q1,,,,3,5,10,20,12",
               "q9,,,,1,1,1,1,1",               # 3: not an item
               "q1,woman,,,1,1,1,1,1",          # 4: not a sex
               "q1,,,TN-99,1,1,1,1,1",          # 5: not a region
               "q1,,,,1,1,1,1,1",               # 6: repeats line 2
               "q1,,18_24,,1,-2,x,1.5,",        # 7: not whole numbers
               "q1,,,,0",                       # 8: too few values
               "q1,,15_17,,0,0,0,0,0")          # 9: nobody answered
    with pytest.raises(SurveyRefused) as refused:
        surveys.upload_survey_results(db, registry, award, inst, "baseline", data, filename="baseline.csv")
    assert messages(refused) == [
        "Line 3: “q9” is not an item of this instrument; its items are q1, q2.",
        "Line 4: “woman” is not a value of sex; use one of female, male, other, not_stated.",
        "Line 5: “TN-99” is not a region code; use the ISO 3166-2 code, like TN-73.",
        "Line 6 repeats line 2: one row per item and cell.",
        "Line 7: count_2 must be a whole number of responses, 0 or more; found “-2”.",
        "Line 7: count_3 must be a whole number of responses, 0 or more; found “x”.",
        "Line 7: count_4 must be a whole number of responses, 0 or more; found “1.5”.",
        "Line 7: count_5 is empty; enter 0 when nobody chose that point.",
        "Line 8 has 5 values where the header has 9 columns.",
        "Line 9: every count is 0; leave out rows nobody answered.",
        "Item “q2” has no total row: add a row with the item code, no sex, age band or region, and its counts.",
    ]
    assert {name for name, _r in refused.value.problems} == {"file"}
    assert (count(db, SurveyUpload), count(db, SurveyResult), count(db, StoredFile)) == (0, 0, files_before)


def test_the_header_must_have_exactly_the_scale_s_count_columns(db, registry, setting):
    award, inst = setting
    data = csv("item,sex,colour,count_1,count_2,count_3,count_4,count_6", "q1,,,1,1,1,1,1")
    with pytest.raises(SurveyRefused) as refused:
        surveys.upload_survey_results(db, registry, award, inst, "baseline", data, filename="b.csv")
    assert messages(refused) == [
        "Line 1: “colour” is not a column of this upload; the columns are item, sex, age_band, region and count_1 "
        "to count_5.",
        "Line 1: add the column count_5: this instrument's items are rated on 5 points, so the upload has count_1 "
        "to count_5.",
        "Line 1: remove the column count_6: this instrument's items are rated on 5 points.",
    ]
    assert count(db, SurveyUpload) == 0


def test_a_breakdown_cannot_count_more_people_than_its_total(db, registry, setting):
    award, inst = setting
    data = csv(HEADER, "q1,,,,1,1,1,1,1", "q1,female,,,3,0,0,0,0", "q1,male,,,3,0,0,0,0", "q2,,,,1,1,1,1,1")
    with pytest.raises(SurveyRefused) as refused:
        surveys.upload_survey_results(db, registry, award, inst, "baseline", data, filename="b.csv")
    assert messages(refused) == ["Item “q1”: the rows by sex count 6 responses, more than the 5 of its total row."]


def test_spreadsheet_habits_are_accepted_semicolons_arabic_digits_lower_case_regions_and_a_bom(
        db, registry, setting):
    award, inst = setting
    data = "\ufeffItem;Sex;Region;count_1;count_2;count_3;count_4;count_5\r\n" \
           "q1;;;٣;٥;١٠;٢٠;١٢\r\nq1;;tn-73;1;1;1;1;1\r\n\r\nq2;;;1;1;1;1;1\r\n"
    upload = surveys.upload_survey_results(db, registry, award, inst, "post", data.encode("utf-8"),
                                           filename="post.csv")
    rows = {(r.item, r.cell): r for r in upload.results}
    assert rows[("q1", "")].counts == [3, 5, 10, 20, 12]
    assert rows[("q1", "region=TN-73")].dimensions == {"region": "TN-73"}


def test_uploads_are_refused_for_an_instrument_or_wave_the_round_does_not_use(db, registry, setting):
    award, inst = setting
    other = instrument(db, code="feedback")
    with pytest.raises(SurveyRefused) as refused:
        surveys.upload_survey_results(db, registry, award, other, "baseline", GOOD, filename="b.csv")
    assert problems(refused)[0][0] == "instrument"
    with pytest.raises(SurveyRefused) as refused:
        surveys.upload_survey_results(db, registry, award, inst, "plus_3_months", GOOD, filename="b.csv")
    assert problems(refused) == [("wave", "The round does not run “Belonging” in this wave.")]
    with pytest.raises(SurveyRefused) as refused:  # not a CSV by its bytes
        surveys.upload_survey_results(db, registry, award, inst, "baseline", f.PDF, filename="b.csv")
    assert problems(refused)[0][0] == "file"
    assert count(db, SurveyUpload) == 0


def test_uploading_the_same_wave_again_replaces_the_earlier_upload(db, registry, setting):
    award, inst = setting
    surveys.upload_survey_results(db, registry, award, inst, "baseline", GOOD, filename="first.csv")
    second = surveys.upload_survey_results(db, registry, award, inst, "baseline",
                                           csv(HEADER, "q1,,,,0,0,0,0,4", "q2,,,,4,0,0,0,0"), filename="second.csv")
    assert db.scalars(select(SurveyUpload)).all() == [second]
    assert {(r.item, r.mean) for r in db.scalars(select(SurveyResult))} == {("q1", Decimal("5.00")),
                                                                           ("q2", Decimal("1.00"))}


# -- roll-ups ---------------------------------------------------------------------------------------------


def _two_versions(db, registry, award, v1):
    """Baseline on version 1; the round then moves to version 2, used after the activity."""
    surveys.upload_survey_results(db, registry, award, v1, "baseline", GOOD, filename="baseline.csv")
    surveys.detach_instrument(db, award.round, v1)
    v2 = instrument(db)
    surveys.attach_instrument(db, award.round, v2, ["baseline", "post"])
    surveys.upload_survey_results(db, registry, award, v2, "post", csv(HEADER, "q1,,,,0,0,0,5,5", "q2,,,,0,0,0,0,10"),
                                  filename="post.csv")
    return v2


def test_award_results_keep_each_version_apart(db, registry, setting):
    award, v1 = setting
    _two_versions(db, registry, award, v1)
    results = surveys.award_results(db, award)
    assert [(r.code, r.version, [w.wave for w in r.waves]) for r in results] == [
        ("belonging", 1, ["baseline"]), ("belonging", 2, ["post"])]
    q1 = results[0].wave("baseline").item("q1")
    assert (q1.respondents, q1.mean, q1.agree_share) == (50, Decimal("3.66"), Decimal("0.6400"))
    assert [c.cell for c in q1.cells] == ["sex=female", "sex=male"]
    assert results[1].wave("post").item("q1").agree_share == Decimal("1.0000")


def test_waves_of_different_versions_are_never_compared(db, registry, setting):
    award, v1 = setting
    _two_versions(db, registry, award, v1)
    with pytest.raises(SurveyRefused) as refused:
        surveys.compare_waves(db, award, "belonging", 1, "baseline", "post")
    assert messages(refused) == [
        "The Straight after the activity data come from version 2, not version 1: results of different versions of "
        "an instrument are never compared."]
    with pytest.raises(SurveyRefused):
        surveys.compare_waves(db, award, "belonging", 2, "baseline", "post")


def test_two_waves_of_one_version_are_compared_item_by_item(db, registry, setting):
    award, inst = setting
    surveys.upload_survey_results(db, registry, award, inst, "baseline", GOOD, filename="b.csv")
    surveys.upload_survey_results(db, registry, award, inst, "post", csv(HEADER, "q1,,,,0,0,0,5,5", "q2,,,,1,1,1,1,1"),
                                  filename="p.csv")
    comparison = surveys.compare_waves(db, award, "belonging", 1, "baseline", "post")
    q1 = comparison.items[0]
    assert (q1.item, q1.a.mean, q1.b.mean, q1.mean_change, q1.agree_change) == (
        "q1", Decimal("3.66"), Decimal("4.50"), Decimal("0.84"), Decimal("0.3600"))


def _indicator(db, award, code, measure, item="q1", instrument_code="belonging", disaggregation=()):
    indicator = Indicator(award_id=award.id, code=code, title=f"Indicator {code}", level="short_term_outcomes",
                          measure=measure, method="survey", instrument_code=instrument_code, instrument_item=item,
                          disaggregation=list(disaggregation))
    db.add(indicator)
    db.flush()
    return indicator


def test_indicator_values_roll_up_from_the_version_the_round_uses(db, registry, setting):
    award, v1 = setting
    share = _indicator(db, award, "OC1", "percentage", disaggregation=["sex"])
    mean = _indicator(db, award, "OC2", "unit", item="q2")
    unlinked = _indicator(db, award, "OC3", "unit", instrument_code="elsewhere")
    report = db.scalars(select(Report).where(Report.award_id == award.id).order_by(Report.number)).first()
    surveys.upload_survey_results(db, registry, award, v1, "baseline", GOOD, filename="b.csv")
    written = surveys.rollup_to_indicators(db, award, report)
    values = {(v.indicator_id, v.cell): v for v in written}
    assert values[(share.id, "")].value == Decimal("64.00")       # 32 of 50 agree
    assert values[(share.id, "sex=female")].value == Decimal("66.67")  # 18 of 27
    assert values[(mean.id, "")].value == Decimal("3.39")
    assert all(v.source == "survey" and v.instrument_id == v1.id for v in written)
    assert not any(v.indicator_id == unlinked.id for v in written)

    # The round moves to version 2: version 1's data no longer feed the indicators.
    surveys.detach_instrument(db, award.round, v1)
    v2 = instrument(db)
    surveys.attach_instrument(db, award.round, v2, ["post"])
    assert surveys.rollup_to_indicators(db, award, report) == []
    assert db.scalars(select(IndicatorValue).where(IndicatorValue.report_id == report.id)).all() == []
    surveys.upload_survey_results(db, registry, award, v2, "post", csv(HEADER, "q1,,,,0,0,0,5,5", "q2,,,,1,1,1,1,1"),
                                  filename="p.csv")
    again = surveys.rollup_to_indicators(db, award, report)
    assert {(v.indicator_id, v.value, v.instrument_id) for v in again} == {
        (share.id, Decimal("100.00"), v2.id), (mean.id, Decimal("3.00"), v2.id)}


def test_survey_figures_replace_a_typed_value_of_the_same_cell_and_leave_others(db, registry, setting):
    award, v1 = setting
    fed = _indicator(db, award, "OC1", "unit")
    waiting = _indicator(db, award, "OC2", "unit", instrument_code="feedback")  # the round has no such instrument
    report = db.scalars(select(Report).where(Report.award_id == award.id).order_by(Report.number)).first()
    for indicator in (fed, waiting):
        report.values.append(IndicatorValue(indicator_id=indicator.id, dimensions={}, cell="", value=Decimal("9")))
    db.flush()
    surveys.upload_survey_results(db, registry, award, v1, "baseline", GOOD, filename="b.csv")
    surveys.rollup_to_indicators(db, award, report)
    values = {v.indicator_id: (v.value, v.source) for v in report.values}
    assert values == {fed.id: (Decimal("3.66"), "survey"), waiting.id: (Decimal("9"), "reported")}


def test_the_round_summary_sums_every_grantee_s_counts_and_keeps_versions_apart(db, registry, setting):
    award, v1 = setting
    second = f.award(db, registry, rnd=award.round, title="Radio in Sfax")
    surveys.upload_survey_results(db, registry, award, v1, "baseline", GOOD, filename="a.csv")
    surveys.upload_survey_results(db, registry, second, v1, "baseline", csv(HEADER, "q1,,,,0,0,0,0,150",
                                                                             "q2,,,,1,0,0,0,0"), filename="b.csv")
    surveys.detach_instrument(db, award.round, v1)
    v2 = instrument(db)
    surveys.attach_instrument(db, award.round, v2, ["baseline"])
    surveys.upload_survey_results(db, registry, second, v2, "baseline", csv(HEADER, "q1,,,,1,1,1,1,1",
                                                                             "q2,,,,1,1,1,1,1"), filename="c.csv")
    summary = surveys.round_survey_summary(db, award.round)
    assert [(s["code"], s["version"], s["wave"], s["item"]) for s in summary] == [
        ("belonging", 1, "baseline", "q1"), ("belonging", 1, "baseline", "q2"),
        ("belonging", 2, "baseline", "q1"), ("belonging", 2, "baseline", "q2")]
    q1 = summary[0]
    # Weighted: (183 + 750) / 200, not the mean of the two grantees' means (3.66 and 5).
    assert (q1["respondents"], q1["mean"], q1["agree_share"], q1["grantees"]) == (
        200, Decimal("4.67"), Decimal("0.9100"), 2)  # 933/200 = 4.665 → 4.67; (32 + 150)/200
    assert q1["title"] == "Belonging" and q1["item_text"] == "Statement q1."
    assert (summary[2]["respondents"], summary[2]["mean"], summary[2]["grantees"]) == (5, Decimal("3.00"), 1)
    assert isinstance(q1["respondents"], int) and isinstance(q1["mean"], Decimal)


def test_the_csv_template_has_the_header_and_a_row_per_item(db):
    inst = instrument(db, codes=("q1", "q2"), scale=4)
    assert surveys.csv_template(inst).splitlines() == [
        "item,sex,age_band,region,count_1,count_2,count_3,count_4", "q1,,,,0,0,0,0", "q2,,,,0,0,0,0"]


# -- the pages ------------------------------------------------------------------------------------------------


def test_an_officer_chooses_the_round_s_instruments_and_waves(testapp, registry):
    with registry.database.transaction() as (_tm, db):
        officer = f.user(db, email="leila@example.org", name="Leila")
        member = f.user(db, email="amel@example.org", name="Amel")
        award = f.award(db, registry, org=f.organisation(db, member))
        f.grant_role(db, officer, "programme_officer", award.round.programme)
        url = f"/programmes/{award.round.programme_id}/rounds/{award.round_id}/@@instruments"
        round_id = award.round_id
    f.sign_in(testapp, "leila@example.org")
    page = testapp.get(url)
    assert "The round uses no survey instrument yet." in page.text
    page = page.forms["load"].submit().follow()
    assert "Resilience and belonging" in page.html.find(id="library-title").parent.get_text()

    form = page.forms["attach"]
    resilience = next(value for value, _sel, text in form["instrument"].options if "Resilience" in (text or ""))
    form["instrument"] = resilience
    for field in form.fields["waves"]:
        field.checked = False
    failed = form.submit(status=400)
    assert failed.html.select_one(".error-summary").a["href"] == "#attach-waves-0"
    assert "Choose at least one wave" in failed.html.select_one(".error-summary").get_text()
    assert failed.forms["attach"]["instrument"].value == resilience

    form = failed.forms["attach"]
    form.fields["waves"][0].checked = True   # baseline
    form.fields["waves"][3].checked = True   # 6 months after
    done = form.submit().follow()
    attached = done.html.find(id="attached").get_text()
    assert "Resilience and belonging" in attached and "Baseline, before the activity" in attached
    assert "6 months after" in attached and "Straight after the activity" not in attached
    with registry.database.transaction() as (_tm, db):
        from grants.programmes.models import Round

        (ri,) = surveys.round_instruments(db, db.get(Round, round_id))
        assert (ri.instrument.code, ri.waves) == ("resilience_belonging", ["baseline", "plus_6_months"])

    detach = next(fm for key, fm in done.forms.items() if isinstance(key, int)
                  and "action" in fm.fields and fm["action"].value == "detach")
    after = detach.submit().follow()
    assert "The round uses no survey instrument yet." in after.text

    f.sign_in(testapp, "amel@example.org")
    testapp.get(url, status=403)


def _surveys_setting(registry):
    with registry.database.transaction() as (_tm, db):
        member = f.user(db, email="amel@example.org", name="Amel")
        eva = f.user(db, email="eva@example.org", name="Eva")
        f.user(db, email="sami@example.org", name="Sami")
        award = f.award(db, registry, org=f.organisation(db, member, name="Association Afek"))
        f.grant_role(db, eva, "evaluator", award.round)
        inst = instrument(db)
        surveys.attach_instrument(db, award.round, inst, ["baseline", "post"])
        url = f"/programmes/{award.round.programme_id}/rounds/{award.round_id}/awards/{award.id}"
        ids = {"award": award.id, "instrument": inst.id}
    return url, ids


def test_a_grantee_uploads_results_sees_problems_by_line_and_reads_them_per_version(testapp, registry):
    url, ids = _surveys_setting(registry)
    f.sign_in(testapp, "amel@example.org")
    page = testapp.get(url + "/@@surveys")
    assert "Not yet uploaded" in page.html.find(id=f"waves-{ids['instrument']}").get_text()
    template = testapp.get(page.html.find("a", string="Download an empty CSV for this instrument")["href"])
    assert template.text.splitlines()[0] == HEADER

    form_id = f"upload-{ids['instrument']}-baseline"
    form = page.forms[form_id]
    form["file"] = ("baseline.csv", csv(HEADER, "q1,,,,3,5,10,20,12", "q9,,,,1,1,1,1,1"), "text/csv")
    failed = form.submit(status=400)
    summary = failed.html.select_one(".error-summary")
    assert {a["href"] for a in summary.find_all("a")} == {f"#{form_id}-file"}
    text = summary.get_text()
    assert "Line 3: “q9” is not an item of this instrument" in text
    assert "Item “q2” has no total row" in text
    assert "Line 3" in failed.html.find(id=f"error-{form_id}-file").get_text()
    with registry.database.transaction() as (_tm, db):
        assert count(db, SurveyUpload) == 0

    form = failed.forms[form_id]
    form["file"] = ("baseline.csv", GOOD, "text/csv")
    done = form.submit().follow()
    assert "200 respondents" in done.text
    table = done.html.find(id=f"version-{ids['instrument']}")
    row = next(tr for tr in table.find_all("tr") if "Statement q1." in tr.get_text())
    assert [td.get_text(strip=True) for td in row.find_all("td")] == ["50", "3.66", "64.0%"]
    download = testapp.get(done.html.find(id=f"waves-{ids['instrument']}").find("a", string="Download the file")["href"])
    assert download.body == GOOD

    # The round moves to a new version: each version in its own table, never merged.
    with registry.database.transaction() as (_tm, db):
        from grants.awards.models import Award

        award = db.get(Award, ids["award"])
        surveys.detach_instrument(db, award.round, db.get(SurveyInstrument, ids["instrument"]))
        v2 = instrument(db)
        surveys.attach_instrument(db, award.round, v2, ["post"])
        surveys.upload_survey_results(db, registry, award, v2, "post", csv(HEADER, "q1,,,,0,0,0,5,5",
                                                                             "q2,,,,1,1,1,1,1"), filename="post.csv")
        v2_id = v2.id
    page = testapp.get(url + "/@@surveys")
    assert "results of different versions are not comparable" in page.html.find(id="versions-warning").get_text()
    old, new = page.html.find(id=f"version-{ids['instrument']}"), page.html.find(id=f"version-{v2_id}")
    assert "version 1" in old.h3.get_text() and "no longer used by the round" in old.h3.get_text()
    assert "version 2" in new.h3.get_text() and "no longer used" not in new.h3.get_text()
    assert "Straight after the activity" not in old.get_text() and "Baseline" not in new.get_text()


def test_an_evaluator_reads_surveys_but_does_not_upload_and_outsiders_see_nothing(testapp, registry):
    url, ids = _surveys_setting(registry)
    f.sign_in(testapp, "eva@example.org")
    page = testapp.get(url + "/@@surveys")
    assert f"upload-{ids['instrument']}-baseline" not in page.forms
    token = page.forms["logout-form"]["csrf_token"].value
    testapp.post(url + "/@@surveys", {"csrf_token": token, "instrument": str(ids["instrument"]), "wave": "baseline"},
                 upload_files=[("file", "b.csv", GOOD)], status=403)
    f.sign_in(testapp, "sami@example.org")
    testapp.get(url + "/@@surveys", status=403)
    with registry.database.transaction() as (_tm, db):
        assert count(db, SurveyUpload) == 0


def test_the_survey_pages_speak_arabic_right_to_left_with_the_instrument_s_own_wording(testapp, registry):
    with registry.database.transaction() as (_tm, db):
        member = f.user(db, email="amel@example.org", name="Amel", locale="ar")
        award = f.award(db, registry, org=f.organisation(db, member, name="جمعية أفق"))
        resilience = next(i for i in surveys.load_standard_instruments(db) if i.code == "resilience_belonging")
        surveys.attach_instrument(db, award.round, resilience, ["baseline"])
        data = "item,count_1,count_2,count_3,count_4,count_5\n" + "".join(
            f"{item['code']},1,1,2,3,3\n" for item in resilience.items)
        surveys.upload_survey_results(db, registry, award, resilience, "baseline", data.encode(), filename="b.csv")
        url = f"/programmes/{award.round.programme_id}/rounds/{award.round_id}/awards/{award.id}"
    f.sign_in(testapp, "amel@example.org")
    for name in ("@@surveys", "@@evidence"):
        page = testapp.get(f"{url}/{name}?_LOCALE_=ar")
        assert page.html.html["dir"] == "rtl" and page.html.html["lang"] == "ar"
    page = testapp.get(f"{url}/@@surveys?_LOCALE_=ar")
    assert "أشعر بالانتماء إلى حيّي." in page.html.find(id="results").get_text()
    page = testapp.get(f"{url}/@@surveys?_LOCALE_=fr")
    assert "Je me sens à ma place dans mon quartier." in page.html.find(id="results").get_text()


def test_the_grantee_fills_a_report_s_survey_indicators_from_the_uploaded_results(testapp, registry):
    url, ids = _surveys_setting(registry)
    with registry.database.transaction() as (_tm, db):
        from grants.awards.models import Award

        award = db.get(Award, ids["award"])
        share = _indicator(db, award, "OC1", "percentage")
        report = db.scalars(select(Report).where(Report.award_id == award.id).order_by(Report.number)).first()
        report_url, share_id = f"{url}/reports/{report.id}", share.id
    f.sign_in(testapp, "amel@example.org")
    page = testapp.get(report_url)
    nothing = page.forms["survey-fill"].submit().follow()
    assert "There are no survey results for these indicators yet" in nothing.text
    with registry.database.transaction() as (_tm, db):
        surveys.upload_survey_results(db, registry, db.get(Award, ids["award"]), db.get(SurveyInstrument,
                                      ids["instrument"]), "baseline", GOOD, filename="b.csv")
    filled = testapp.get(report_url).forms["survey-fill"].submit().follow()
    assert "filled in from your uploaded results" in filled.text
    with registry.database.transaction() as (_tm, db):
        value = db.scalars(select(IndicatorValue).where(IndicatorValue.indicator_id == share_id)).one()
        assert (value.value, value.source) == (Decimal("64.00"), "survey")
    # the evaluator reads the report but may not fill it
    f.sign_in(testapp, "eva@example.org")
    assert "survey-fill" not in testapp.get(report_url).forms
