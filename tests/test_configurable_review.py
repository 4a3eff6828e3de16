"""Review configured in the browser: a programme's rubrics as versioned, multilingual data
(draft, published, copied; chosen by a round from a list; kept by rounds and reviews once
scored), eligibility rules checked against the round's applications before saving, and an
evaluator's assessment drafted, submitted and reopened with its history."""
from __future__ import annotations

import pytest
import webtest

import factories as f
from grants.audit.services import changes_of
from grants.programmes import services as programmes
from grants.programmes.models import Round
from grants.review import rubrics, services as review
from grants.review.models import Review, Rubric


LANGUAGES = ("en", "fr", "ar")


def _setup(registry, languages=LANGUAGES):
    with registry.database.transaction() as (_tm, db):
        f.user(db, email="admin@example.org", admin=True, name="Ada Admin")
        prog = f.programme(db, title="Community Fund")
        # A rubric is written in its programme's languages.
        programmes.set_content_languages(db, prog, list(languages), languages[0])
        rnd = f.round_(db, registry, prog, state="draft")
        return prog.id, rnd.id


def _criterion(page, **values):
    form = page.forms["criterion"]
    for name, value in values.items():
        form[name] = value
    return form


def test_an_officer_builds_publishes_and_copies_a_rubric_which_a_round_chooses_from_a_list(testapp, app):
    registry = app.registry
    prog_id, rnd_id = _setup(registry)
    f.sign_in(testapp, "admin@example.org")
    page = testapp.get(f"/programmes/{prog_id}/rubrics")
    assert "This programme has no rubric of its own yet." in page
    form = page.forms["new-rubric"]
    form["title"] = "Call 5 review"
    page = form.submit("submit").follow()
    rubric_url = page.request.path
    assert "Draft: rounds cannot use it until it is published." in page

    # Two criteria; the second only in English for now.
    page = _criterion(page, title_en="Need", title_fr="Besoin", title_ar="الحاجة", weight="2",
                      guidance_en="Is the need evidenced?", guidance_ar="هل الحاجة مثبتة؟").submit("submit").follow()
    page = _criterion(page, title_en="Plan", weight="1.5").submit("submit").follow()
    assert [td.get_text(strip=True) for td in page.html.select("#criteria-table tbody tr td:first-child")] == [
        "Need", "Plan"]
    bad = _criterion(page, title_en="", weight="0").submit("submit", status=400)
    summary = bad.html.select_one(".error-summary").get_text()
    assert "Give the criterion a title in English." in summary and "Enter a weight greater than 0" in summary

    # Publishing needs every criterion in every language: refused, nothing changes.
    refused = page.forms["publish-form"].submit(status=400)
    assert "Criterion 2 has no title in Français, العربية." in refused.html.select_one(".error-summary").get_text()
    page = testapp.get(rubric_url)
    change = page.html.select("#criteria-table a")[1]["href"]
    page = testapp.get(change)
    assert page.forms["criterion"]["title_en"].value == "Plan"
    page = _criterion(page, title_fr="Plan d'action", title_ar="الخطة").submit("submit").follow()
    page = page.forms["publish-form"].submit().follow()
    assert "Published: it can no longer change." in page
    assert "criterion" not in page.forms  # no form to change it any more

    with registry.database.transaction() as (_tm, db):
        stored = db.query(Rubric).filter(Rubric.programme_id == prog_id).one()
        rubric_id = stored.id
        assert stored.status == "published" and [c["weight"] for c in stored.criteria] == ["2", "1.5"]
        assert stored.scoring_rubric("ar").criteria[0].title == "الحاجة"
        assert [c.what for c in changes_of(db, stored)] == ["created", "criterion", "criterion", "criterion",
                                                           "published"]
        with pytest.raises(rubrics.RubricRefused):  # published: frozen for good, by the service too
            rubrics.save_criterion(db, stored, None, titles={"en": "More"}, guidance={}, weight="1",
                                   languages=LANGUAGES)

    # The round chooses it from a list (the general rubric is there too), by its title and version.
    edit = testapp.get(f"/programmes/{prog_id}/rounds/{rnd_id}/edit")
    options = {value: text for value, _sel, text in edit.forms["round"]["rubric_id"].options}
    assert options[str(rubric_id)] == "Call 5 review, version 1"
    assert "General review" in options.values()
    # stored in English, it is offered in the reader's language
    arabic = testapp.get(f"/programmes/{prog_id}/rounds/{rnd_id}/edit", {"_LOCALE_": "ar"})
    assert "المراجعة العامة" in [text for _value, _sel, text in arabic.forms["round"]["rubric_id"].options]
    edit.forms["round"]["rubric_id"] = str(rubric_id)
    edit.forms["round"].submit("submit").follow()

    # The next version: a copy, a draft; the round keeps version 1.
    page = testapp.get(rubric_url).forms["copy-form"].submit().follow()
    assert "Version 2" in page.html.select_one("#rubric-status").get_text()
    assert page.forms["criterion"]  # a draft again
    with registry.database.transaction() as (_tm, db):
        assert db.get(Round, rnd_id).rubric_id == rubric_id
        copies = db.query(Rubric).filter(Rubric.family_id == rubric_id).order_by(Rubric.version).all()
        assert [(r.version, r.status) for r in copies] == [(1, "published"), (2, "draft")]
        draft_id = copies[1].id
    # A draft is not in the round's list, and the service refuses it.
    options = [v for v, _s, _t in testapp.get(f"/programmes/{prog_id}/rounds/{rnd_id}/edit")
               .forms["round"]["rubric_id"].options]
    assert str(draft_id) not in options
    with registry.database.transaction() as (_tm, db):
        with pytest.raises(programmes.ProgrammeRefused) as refused:
            programmes.update_round(db, db.get(Round, rnd_id), registry=registry, rubric_id=draft_id)
        assert "is a draft" in str(refused.value)


def test_a_rubric_is_written_in_the_programmes_languages(testapp, app):
    prog_id, _rnd_id = _setup(app.registry, languages=("en", "ar"))
    f.sign_in(testapp, "admin@example.org")
    form = testapp.get(f"/programmes/{prog_id}/rubrics").forms["new-rubric"]
    form["title"] = "Panel"
    page = form.submit("submit").follow()
    fields = page.forms["criterion"].fields
    assert "title_ar" in fields and "guidance_ar" in fields and "title_fr" not in fields  # not the programme's
    arabic = page.html.select_one("[name='title_ar']")
    assert (arabic["lang"], arabic["dir"]) == ("ar", "rtl")
    page = _criterion(page, title_en="Reach", weight="1").submit("submit").follow()
    refused = page.forms["publish-form"].submit(status=400)
    assert "Criterion 1 has no title in العربية." in refused.html.select_one(".error-summary").get_text()
    change = testapp.get(page.request.path).html.select("#criteria-table a")[0]["href"]
    page = _criterion(testapp.get(change), title_ar="الانتشار").submit("submit").follow()
    page = page.forms["publish-form"].submit().follow()
    assert "Published: it can no longer change." in page


def test_two_officers_saving_one_draft_rubric_one_gets_a_409(testapp, app):
    prog_id, _rnd_id = _setup(app.registry)
    f.sign_in(testapp, "admin@example.org")
    form = testapp.get(f"/programmes/{prog_id}/rubrics").forms["new-rubric"]
    form["title"] = "Panel"
    page = form.submit("submit").follow()
    other = webtest.TestApp(app, extra_environ={"HTTP_HOST": "localhost"})
    f.sign_in(other, "admin@example.org")
    theirs = other.get(page.request.path)
    _criterion(page, title_en="Reach", weight="1").submit("submit", status=302)
    late = _criterion(theirs, title_en="Depth", weight="3").submit("submit", status=409)
    assert "Depth" in late.text and "Reach" in late.text  # both versions shown
    with app.registry.database.transaction() as (_tm, db):
        rubric = db.query(Rubric).filter(Rubric.programme_id == prog_id).one()
        assert [c["title"] for c in rubric.criteria] == ["Reach"]


def test_a_round_keeps_the_rubric_its_reviews_were_scored_with(registry):
    with registry.database.transaction() as (_tm, db):
        prog = f.programme(db)
        rnd = f.round_(db, registry, prog, state="draft")
        officer = f.user(db)
        own = rubrics.new_rubric(db, prog, "Own", user=officer)
        rubrics.save_criterion(db, own, None, titles={c: f"Need {c}" for c in LANGUAGES}, guidance={}, weight="1",
                               languages=LANGUAGES, user=officer)
        rubrics.publish(db, own, languages=LANGUAGES, user=officer)
        programmes.update_round(db, rnd, registry=registry, rubric_id=own.id)
        f.WorkflowService(registry.workflows, db).fire(rnd, "open", actor=f.SYSTEM)
        application = f.application(db, registry, rnd, f.organisation(db), state="eligible")
        reviewer = f.user(db)
        assignment = review.ReviewAssignment(application_id=application.id, reviewer_id=reviewer.id,
                                             conflict=False)
        db.add(assignment)
        db.flush()
        scored = Review(assignment_id=assignment.id, application_id=application.id, reviewer_id=reviewer.id,
                        rubric_id=own.id, scores={"criterion_1": 4})
        db.add(scored)
        db.flush()
        assert review.rubric_of(db, assignment).id == own.id
        with pytest.raises(programmes.ProgrammeRefused) as refused:
            programmes.update_round(db, rnd, registry=registry, rubric_id=review.default_rubric(db).id)
        assert "can no longer change" in str(refused.value)
        assert rnd.rubric_id == own.id and rubrics.in_use(db, own)


# -- eligibility rules: checked before saving -------------------------------------------------------------


def test_the_round_form_shows_how_many_applications_each_rule_would_fail_and_saves_nothing(testapp, app):
    from grants.applications import eligibility

    registry = app.registry
    with registry.database.transaction() as (_tm, db):
        f.user(db, email="admin@example.org", admin=True)
        rnd = f.round_(db, registry, f.programme(db))
        registered = f.organisation(db, name="Registered")
        registered.registration_number = "2011-0457"
        f.application(db, registry, rnd, registered, state="submitted")
        f.application(db, registry, rnd, f.organisation(db, name="Informal"), state="submitted")
        url = f"/programmes/{rnd.programme_id}/rounds/{rnd.id}"
        rnd_id = rnd.id
    f.sign_in(testapp, "admin@example.org")
    form = testapp.get(url + "/edit").forms["round"]
    form["registered_organisation"] = True
    page = form.submit("check")
    rows = [[td.get_text(" ", strip=True) for td in tr.find_all("td")]
            for tr in page.html.select("#rules-preview tbody tr")]
    assert rows == [["Only officially registered organisations may apply", "1 of 2"]]
    assert page.forms["round"]["registered_organisation"].checked  # the form as typed
    with registry.database.transaction() as (_tm, db):
        assert db.get(Round, rnd_id).eligibility_rules == []  # nothing saved

    # Saved while the round is open: the applications awaiting screening are checked again.
    page.forms["round"].submit("submit").follow()
    with registry.database.transaction() as (_tm, db):
        rnd = db.get(Round, rnd_id)
        assert rnd.eligibility_rules == [{"kind": "registered_organisation"}]
        applications = sorted(rnd.applications, key=lambda a: a.id)
        assert [[c.passed for c in a.eligibility_checks] for a in applications] == [[True], [False]]
        # Once an officer has screened an application under the rules, they stay.
        officer = f.user(db)
        f.grant_role(db, officer, "programme_officer", rnd.programme)
        eligibility.screen(db, registry, applications[0], officer, {0: ("confirmed", "")})
        with pytest.raises(programmes.ProgrammeRefused) as refused:
            programmes.update_round(db, rnd, registry=registry, eligibility_rules=[])
        assert "have been screened under its eligibility rules" in str(refused.value)


# -- the evaluator's assessment: draft, submitted, reopened -------------------------------------------------

SCORES = {"relevance": "4", "effectiveness": "4", "efficiency": "3", "sustainability": "3", "fidelity": "5",
          "mel_quality": "2"}


def test_a_submitted_assessment_is_never_silently_overwritten(app, registry):
    from grants.evaluation import services as evaluation

    with registry.database.transaction() as (_tm, db):
        member = f.user(db, email="amel@example.org")
        eva = f.user(db, email="eva@example.org", name="Eva Independent")
        award = f.award(db, registry, org=f.organisation(db, member))
        evaluation.assign_evaluator(db, award.round, eva)
        url = f"/programmes/{award.round.programme_id}/rounds/{award.round_id}/awards/{award.id}"
    evaluator = webtest.TestApp(app, extra_environ={"HTTP_HOST": "localhost"})
    grantee = webtest.TestApp(app, extra_environ={"HTTP_HOST": "localhost"})
    f.sign_in(evaluator, "eva@example.org")
    f.sign_in(grantee, "amel@example.org")

    form = evaluator.get(url + "/@@assessment").forms["assessment"]
    for criterion, score in SCORES.items():
        form[f"score-{criterion}"] = score
    form["summary"] = "First draft."
    page = form.submit("draft").follow()
    assert "Draft: the grantee does not read it" in page.html.select_one("#assessment-status").get_text()
    assert "No evaluator has assessed this grant yet." in grantee.get(url + "/@@assessments")

    form = page.forms["assessment"]
    form["summary"] = "Clubs ran in all four schools."
    form.submit().follow()  # the main button submits
    read = grantee.get(url + "/@@assessments")
    assert "Clubs ran in all four schools." in read.html.select_one(".summary").get_text()

    # Posting over it is refused (409), nothing changes; it is reopened with a reason first.
    page = evaluator.get(url + "/@@assessment")
    assert "assessment" not in page.forms
    version = page.forms["reopen"]["row_version"].value
    refused = evaluator.post(url + "/@@assessment", {"csrf_token": page.forms["reopen"]["csrf_token"].value,
                                                     "row_version": version, "summary": "Overwritten.",
                                                     **{f"score-{c}": "1" for c in SCORES}}, status=409)
    assert "reopen it first" in refused.html.select_one(".error-summary").get_text()
    no_reason = page.forms["reopen"].submit(status=400)
    assert "Say why you reopen the assessment" in no_reason.html.select_one(".error-summary").get_text()
    reopen = page.forms["reopen"]
    reopen["reason"] = "The end-line survey came in."
    page = reopen.submit().follow()
    form = page.forms["assessment"]
    form["summary"] = "Clubs ran; attitudes changed."
    form.submit("draft").follow()

    # Meanwhile the grantee still reads what was submitted, and why it was reopened.
    read = grantee.get(url + "/@@assessments")
    assert "Clubs ran in all four schools." in read.html.select_one(".summary").get_text()
    assert read.html.select_one(".reopened") is not None
    history = " ".join(read.html.select_one(".assessment-history").get_text().split())
    assert "Eva Independent: submitted" in history and "The end-line survey came in." in history

    with registry.database.transaction() as (_tm, db):
        (assessment,) = db.query(evaluation.Assessment).all()
        assert assessment.submitted_at is None and assessment.summary == "Clubs ran; attitudes changed."
        changes = evaluation.assessment_history(db, assessment)
        assert [c.what for c in changes] == ["submitted", "reopened"]
        assert changes[1].before["summary"] == "Clubs ran in all four schools."
