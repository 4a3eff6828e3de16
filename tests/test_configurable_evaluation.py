"""Evaluation criteria configured in the browser: a programme's criteria sets as versioned,
multilingual data (draft, ordered, published, copied), chosen by a round from a list beside
the code-defined ones, locked once the round is assessed, and kept by each assessment."""
from __future__ import annotations

import pytest
import webtest

import factories as f
from grants.audit.services import changes_of
from grants.evaluation import criteria_sets, services as evaluation
from grants.evaluation.models import Assessment, EvaluationCriteriaSet
from grants.programmes import services as programmes
from grants.programmes.models import Round

LANGUAGES = ("en", "fr", "ar")


def _criterion(page, **values):
    form = page.forms["criterion"]
    for name, value in values.items():
        form[name] = value
    return form


def _titles(page) -> list[str]:
    return [td.get_text(strip=True) for td in page.html.select("#criteria-table tbody tr td:first-child")]


def _published_set(db, programme, title, criteria, officer=None):
    made = criteria_sets.new_set(db, programme, title, user=officer)
    for name in criteria:
        criteria_sets.save_criterion(db, made, None, titles={c: f"{name} {c}" for c in LANGUAGES},
                                     hints={"en": f"Was there {name}?"}, languages=LANGUAGES, user=officer)
    return criteria_sets.publish(db, made, languages=LANGUAGES, user=officer)


def test_an_officer_builds_orders_publishes_and_copies_criteria_which_a_round_chooses_from_a_list(testapp, app):
    registry = app.registry
    with registry.database.transaction() as (_tm, db):
        f.user(db, email="admin@example.org", admin=True, name="Ada Admin")
        award = f.award(db, registry)
        # Criteria are written in their programme's languages.
        programmes.set_content_languages(db, award.round.programme, list(LANGUAGES), LANGUAGES[0])
        prog_id, rnd_id = award.round.programme_id, award.round_id
    f.sign_in(testapp, "admin@example.org")
    page = testapp.get(f"/programmes/{prog_id}/evaluation-criteria")
    assert "This programme has no evaluation criteria of its own yet." in page
    assert "General evaluation criteria" in page.html.select_one("#default-criteria").get_text()
    form = page.forms["new-criteria"]
    form["title"] = "Evaluation 2027"
    page = form.submit("submit").follow()
    set_url = page.request.path
    assert "Draft: rounds cannot use them until they are published." in page

    page = _criterion(page, title_en="Reach", title_fr="Portée", title_ar="الوصول",
                      hint_en="Did it reach the people it planned to?").submit("submit").follow()
    page = _criterion(page, title_en="Safety").submit("submit").follow()
    assert _titles(page) == ["Reach", "Safety"]
    bad = _criterion(page, title_en="").submit("submit", status=400)
    assert "Give the criterion a title in English." in bad.html.select_one(".error-summary").get_text()

    # Evaluators see them in the set's order: Safety first.
    move = next(form for key, form in page.forms.items() if isinstance(key, int)
                and form.action.endswith("move-criterion") and form["criterion"].value == "criterion_2")
    page = move.submit("direction", value="up").follow()
    assert _titles(page) == ["Safety", "Reach"]

    # Publishing needs every criterion in every language: refused, nothing changes.
    refused = page.forms["publish-form"].submit(status=400)
    assert "Criterion 1 has no title in Français, العربية." in refused.html.select_one(".error-summary").get_text()
    page = testapp.get(testapp.get(set_url).html.select("#criteria-table a")[0]["href"])
    assert page.forms["criterion"]["title_en"].value == "Safety"
    page = _criterion(page, title_fr="Sécurité", title_ar="السلامة").submit("submit").follow()
    arabic = testapp.get(set_url, params={"_LOCALE_": "ar"})
    assert _titles(arabic) == ["السلامة", "الوصول"]
    page = page.forms["publish-form"].submit().follow()
    assert "Published: they can no longer change." in page
    assert "criterion" not in page.forms

    with registry.database.transaction() as (_tm, db):
        stored = db.query(EvaluationCriteriaSet).filter(EvaluationCriteriaSet.programme_id == prog_id).one()
        set_id = stored.id
        assert [c["id"] for c in stored.criteria] == ["criterion_2", "criterion_1"]
        assert [c.what for c in changes_of(db, stored)] == ["created", "criteria", "criteria", "criteria", "criteria",
                                                           "published"]
        with pytest.raises(criteria_sets.CriteriaRefused):  # frozen for good, by the service too
            criteria_sets.save_criterion(db, stored, None, titles={"en": "More"}, hints={}, languages=LANGUAGES)
    assert "changed the criteria" in page.html.select_one("#set-history").get_text()

    # The round chooses it on its evaluation page, from a list that has the code-defined criteria too.
    page = testapp.get(f"/programmes/{prog_id}/rounds/{rnd_id}/evaluation")
    options = {value: text for value, _sel, text in page.forms["criteria-form"]["criteria_set"].options}
    assert options[str(set_id)] == "Evaluation 2027 (version 1)"
    assert options["source:grants"] == "General evaluation criteria"  # not stored by reading the page
    form = page.forms["criteria-form"]
    form["criteria_set"] = "source:grants"
    page = form.submit().follow()
    with registry.database.transaction() as (_tm, db):
        general = db.get(EvaluationCriteriaSet, db.get(Round, rnd_id).evaluation_criteria_id)
        assert (general.source, general.programme_id, general.status) == ("grants", None, "published")
    form = page.forms["criteria-form"]
    form["criteria_set"] = str(set_id)
    page = form.submit().follow()
    assert [li.get_text(" ", strip=True).split(" ")[0] for li in page.html.select("#round-criteria li")] == [
        "Safety", "Reach"]

    # The next version: a copy, a draft, not in the round's list; the round keeps version 1.
    page = testapp.get(set_url).forms["copy-form"].submit().follow()
    assert "Version 2" in page.html.select_one("#set-status").get_text()
    with registry.database.transaction() as (_tm, db):
        rnd = db.get(Round, rnd_id)
        assert rnd.evaluation_criteria_id == set_id
        assert [c.what for c in changes_of(db, rnd)] == ["evaluation_criteria", "evaluation_criteria"]
        draft = db.query(EvaluationCriteriaSet).filter(EvaluationCriteriaSet.version == 2).one()
        draft_id = draft.id
        assert (draft.family_id, draft.status) == (set_id, "draft")
        with pytest.raises(criteria_sets.CriteriaRefused) as refused:
            criteria_sets.choose_for_round(db, registry, rnd, draft_id)
        assert "draft" in str(refused.value)
    page = testapp.get(f"/programmes/{prog_id}/rounds/{rnd_id}/evaluation")
    assert str(draft_id) not in [v for v, _s, _t in page.forms["criteria-form"]["criteria_set"].options]
    tampered = testapp.post(f"/programmes/{prog_id}/rounds/{rnd_id}/evaluation",
                            {"csrf_token": page.forms["criteria-form"]["csrf_token"].value, "__formid__": "criteria",
                             "criteria_set": "abc"}, status=400)
    assert "Choose evaluation criteria from the list." in tampered.html.select_one(".error-summary").get_text()


def test_two_officers_saving_one_draft_set_one_gets_a_409_with_both_versions(testapp, app):
    with app.registry.database.transaction() as (_tm, db):
        f.user(db, email="admin@example.org", admin=True)
        prog_id = f.programme(db).id
    f.sign_in(testapp, "admin@example.org")
    form = testapp.get(f"/programmes/{prog_id}/evaluation-criteria").forms["new-criteria"]
    form["title"] = "Panel"
    page = form.submit("submit").follow()
    other = webtest.TestApp(app, extra_environ={"HTTP_HOST": "localhost"})
    f.sign_in(other, "admin@example.org")
    theirs = other.get(page.request.path)
    _criterion(page, title_en="Reach").submit("submit", status=302)
    late = _criterion(theirs, title_en="Depth").submit("submit", status=409)
    assert "Depth" in late.text and "Reach" in late.text
    # A button drawn before the change is refused too.
    theirs.forms["publish-form"].submit(status=409)
    with app.registry.database.transaction() as (_tm, db):
        stored = db.query(EvaluationCriteriaSet).filter(EvaluationCriteriaSet.programme_id == prog_id).one()
        assert ([c["title"] for c in stored.criteria], stored.status) == (["Reach"], "draft")


def test_an_assessment_keeps_its_criteria_and_the_round_is_locked_once_assessed(app, registry):
    with registry.database.transaction() as (_tm, db):
        f.user(db, email="admin@example.org", admin=True)
        eva = f.user(db, email="eva@example.org", name="Eva Independent")
        award = f.award(db, registry)
        rnd = award.round
        chosen = _published_set(db, rnd.programme, "Fund criteria", ["reach", "safety"])
        other = _published_set(db, rnd.programme, "Other criteria", ["depth"])
        criteria_sets.choose_for_round(db, registry, rnd, chosen.id)
        evaluation.assign_evaluator(db, rnd, eva)
        url = f"/programmes/{rnd.programme_id}/rounds/{rnd.id}"
        award_url = f"{url}/awards/{award.id}"
        chosen_id, other_id, rnd_id = chosen.id, other.id, rnd.id
    evaluator = webtest.TestApp(app, extra_environ={"HTTP_HOST": "localhost"})
    officer = webtest.TestApp(app, extra_environ={"HTTP_HOST": "localhost"})
    f.sign_in(evaluator, "eva@example.org")
    f.sign_in(officer, "admin@example.org")

    # The officer's page, drawn before the evaluator saves anything.
    before = officer.get(url + "/evaluation")
    page = evaluator.get(award_url + "/@@assessment")
    legends = [legend.get_text(strip=True) for legend in page.html.select("legend")]
    assert legends[:2] == ["reach en", "safety en"]
    assert "Was there reach?" in page.text
    form = page.forms["assessment"]
    form["score-criterion_1"] = "4"
    form["summary"] = "Reached three schools."
    missing = form.submit("draft", status=400)
    assert "Score “safety en” from 1 to 5." in missing.html.select_one(".error-summary").get_text()
    form = missing.forms["assessment"]
    form["score-criterion_1"] = "4"
    form["score-criterion_2"] = "5"
    form.submit().follow()

    # The round's criteria are locked now: the old form is refused, the page says why.
    form = before.forms["criteria-form"]
    form["criteria_set"] = str(other_id)
    refused = form.submit(status=409)
    page = officer.get(url + "/evaluation")
    assert "criteria-form" not in page.forms
    assert "can no longer change" in page.html.select_one("#criteria-locked").get_text()
    with registry.database.transaction() as (_tm, db):
        rnd = db.get(Round, rnd_id)
        with pytest.raises(criteria_sets.CriteriaRefused) as refused:
            criteria_sets.choose_for_round(db, registry, rnd, other_id)
        assert "already assessed" in str(refused.value)
        assert rnd.evaluation_criteria_id == chosen_id
        (assessment,) = db.query(Assessment).all()
        assert (assessment.criteria_set_id, assessment.scores) == (chosen_id, {"criterion_1": 4, "criterion_2": 5})
        assert criteria_sets.in_use(db, db.get(EvaluationCriteriaSet, chosen_id))

    # The grantee's page reads the scores under the set's own titles, in the reader's language.
    read = officer.get(award_url + "/@@assessments", params={"_LOCALE_": "fr"})
    assert [th.get_text(strip=True) for th in read.html.select(".scores tbody th")] == ["reach fr", "safety fr"]


def test_code_defined_criteria_are_stored_once_when_used_and_a_new_version_when_the_code_changes(db, registry):
    programme = f.programme(db)
    read = criteria_sets.default_set(db, registry, programme)  # reading stores nothing
    assert read.id is None and db.query(EvaluationCriteriaSet).count() == 0
    first = criteria_sets.default_set(db, registry, programme, create=True)
    assert first.source == "grants" and first.published and first.programme_id is None
    assert [c["id"] for c in first.criteria] == list(evaluation.ASSESSMENT_CRITERIA)
    assert criteria_sets.default_set(db, registry, programme, create=True).id == first.id
    # Code that changes its criteria gives a new version; the stored one is kept for its assessments.
    fewer = evaluation.CORE_CRITERIA[:2]
    second = criteria_sets._stored_code_set(db, "grants", "General evaluation criteria", fewer, create=True)
    assert (second.version, second.family_id, len(second.criteria)) == (2, first.id, 2)
    assert len(first.criteria) == 6
    assert criteria_sets.set_choices(db, registry, programme) == [first]  # the code as it is now
    with pytest.raises(criteria_sets.CriteriaRefused):
        criteria_sets.copy_set(db, first)


# -- survey instruments ------------------------------------------------------------------------------


def _item(page, **values):
    form = page.forms["item"]
    for name, value in values.items():
        form[name] = value
    return form


THREE = {"labels_en": "No\nSomewhat\nYes", "labels_fr": "Non\nUn peu\nOui", "labels_ar": "لا\nإلى حد ما\nنعم"}


def test_an_officer_builds_a_survey_instrument_which_the_programme_rounds_use_beside_the_standard_ones(testapp, app):
    from grants.mel import surveys
    from grants.mel.models import SurveyInstrument

    registry = app.registry
    with registry.database.transaction() as (_tm, db):
        f.user(db, email="admin@example.org", admin=True)
        award = f.award(db, registry)
        standard = surveys.create_instrument(db, code="standard", title="Standard", items=[
            {"code": "q1", "text": "Statement.", "scale": 2, "labels": ["No", "Yes"]}])
        # An instrument is written in its programme's languages.
        programmes.set_content_languages(db, award.round.programme, list(LANGUAGES), LANGUAGES[0])
        elsewhere = f.round_(db, registry, f.programme(db, title="Elsewhere"))
        prog_id, rnd_id, standard_id = award.round.programme_id, award.round_id, standard.id
        elsewhere_url = f"/programmes/{elsewhere.programme_id}/rounds/{elsewhere.id}/instruments"
    f.sign_in(testapp, "admin@example.org")
    page = testapp.get(f"/programmes/{prog_id}/survey-instruments")
    assert "This programme has no survey instrument of its own yet." in page
    form = page.forms["new-instrument"]
    form["code"], form["title"] = "standard", "Belonging"
    taken = form.submit("submit", status=400)
    assert "An instrument already has the code “standard”" in taken.html.select_one(".error-summary").get_text()
    form = taken.forms["new-instrument"]
    form["code"] = "belonging"
    page = form.submit("submit").follow()
    url = page.request.path
    assert "Draft: rounds cannot use it until it is published." in page

    bad = _item(page, code="Bad Code", scale="3", text_en="", labels_en="No\nYes").submit("submit", status=400)
    summary = bad.html.select_one(".error-summary").get_text()
    assert "Give the item a code" in summary and "Write the question in English." in summary
    assert "Give 3 labels in English" in summary
    page = _item(page, code="belong", scale="3", text_en="I feel I belong here.", text_fr="Je me sens chez moi ici.",
                 text_ar="أشعر بالانتماء هنا.", **THREE).submit("submit").follow()
    page = _item(page, code="safe", scale="3", text_en="I feel safe.", labels_en="No\nSomewhat\nYes"
                 ).submit("submit").follow()
    refused = page.forms["publish-form"].submit(status=400)
    assert "Item 2 has no question or labels in Français, العربية." in refused.html.select_one(
        ".error-summary").get_text()
    page = testapp.get(url + "/item", params={"item": "safe"})
    assert page.forms["item"]["labels_en"].value == "No\nSomewhat\nYes"
    page = _item(page, text_fr="Je me sens en sécurité.", text_ar="أشعر بالأمان.", **THREE).submit("submit").follow()
    arabic = testapp.get(url, params={"_LOCALE_": "ar"})
    assert [td.get_text(strip=True) for td in arabic.html.select("#items-table tbody td:nth-of-type(2)")] == [
        "أشعر بالانتماء هنا.", "أشعر بالأمان."]
    page = page.forms["publish-form"].submit().follow()
    assert "Published: it never changes." in page and "item" not in page.forms

    with registry.database.transaction() as (_tm, db):
        inst = db.query(SurveyInstrument).filter(SurveyInstrument.programme_id == prog_id).one()
        inst_id = inst.id
        assert (inst.code, inst.version, inst.status) == ("belonging", 1, "published")
        assert surveys.item_labels(inst.items[1], "fr") == ["Non", "Un peu", "Oui"]
        assert [c.what for c in changes_of(db, inst)] == ["created", "items", "items", "items", "published"]

    # The round's page lists it beside the standard one; another programme's round does not.
    page = testapp.get(f"/programmes/{prog_id}/rounds/{rnd_id}/instruments")
    options = [v for v, _s, _t in page.forms["attach"]["instrument"].options]
    assert str(inst_id) in options and str(standard_id) in options
    assert str(inst_id) not in [v for v, _s, _t in testapp.get(elsewhere_url).forms["attach"]["instrument"].options]
    form = page.forms["attach"]
    form["instrument"] = str(inst_id)
    form["waves"] = ["baseline"]
    form.submit().follow()

    # A grantee uploads results for it; the version never changes; a copy is version 2, a draft, not listed.
    with registry.database.transaction() as (_tm, db):
        award = db.get(type(award), award.id)
        inst = db.get(SurveyInstrument, inst_id)
        surveys.upload_survey_results(db, registry, award, inst, "baseline",
                                      b"item,sex,age_band,region,count_1,count_2,count_3\r\nbelong,,,,1,2,3\r\n"
                                      b"safe,,,,0,1,5\r\n", filename="baseline.csv")
        rnd = db.get(Round, rnd_id)
        assert [c.what for c in changes_of(db, rnd)] == ["survey_instruments"]
    page = testapp.get(url)
    assert "Grantees have uploaded results for it." in page
    page = page.forms["copy-form"].submit().follow()
    assert "Version 2" in page.html.select_one("#instrument-status").get_text()
    with registry.database.transaction() as (_tm, db):
        from grants.mel import instrument_editor as editor

        draft = db.query(SurveyInstrument).filter(SurveyInstrument.version == 2).one()
        assert (draft.code, draft.status, len(draft.items)) == ("belonging", "draft", 2)
        with pytest.raises(surveys.SurveyRefused):
            editor.save_item(db, db.get(SurveyInstrument, inst_id), None, code="more", scale="2",
                             texts={"en": "More"}, labels={"en": "a\nb"}, languages=LANGUAGES)
        with pytest.raises(surveys.SurveyRefused) as refused:
            surveys.attach_instrument(db, db.get(Round, rnd_id), draft, ["post"])
        assert "draft" in str(refused.value)
        draft_id = draft.id
    page = testapp.get(f"/programmes/{prog_id}/rounds/{rnd_id}/instruments")
    assert str(draft_id) not in [v for v, _s, _t in page.forms["attach"]["instrument"].options]


def test_two_officers_saving_one_draft_instrument_one_gets_a_409_with_both_versions(testapp, app):
    with app.registry.database.transaction() as (_tm, db):
        f.user(db, email="admin@example.org", admin=True)
        prog_id = f.programme(db).id
    f.sign_in(testapp, "admin@example.org")
    form = testapp.get(f"/programmes/{prog_id}/survey-instruments").forms["new-instrument"]
    form["code"], form["title"] = "feedback", "Feedback"
    page = form.submit("submit").follow()
    page = _item(page, code="useful", scale="3", text_en="It was useful.", labels_en="No\nSomewhat\nYes"
                 ).submit("submit").follow()
    change = page.html.select("#items-table a")[0]["href"]
    mine = testapp.get(change)
    other = webtest.TestApp(app, extra_environ={"HTTP_HOST": "localhost"})
    f.sign_in(other, "admin@example.org")
    theirs = other.get(change)
    _item(mine, text_en="It was worth my time.").submit("submit", status=302)
    late = _item(theirs, text_en="It helped me.").submit("submit", status=409)
    assert "It helped me." in late.text and "It was worth my time." in late.text
    with app.registry.database.transaction() as (_tm, db):
        from grants.mel.models import SurveyInstrument

        stored = db.query(SurveyInstrument).filter(SurveyInstrument.programme_id == prog_id).one()
        assert [i["text"] for i in stored.items] == ["It was worth my time."]
