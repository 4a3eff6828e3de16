"""Versioned data a programme makes in the browser (rubrics, evaluation criteria, survey
instruments) is written in the programme's content languages; an instrument's title is
multilingual; and a text shown in another language than the reader's says so — on the
reviewer's score page and in the grantee's budget-line dropdown too."""
from __future__ import annotations

import datetime as dt

import pytest

import factories as f
from grants import multilingual, versioned
from grants.audit.services import changes_of
from grants.mel import instrument_editor as editor, surveys
from grants.mel.models import SurveyInstrument
from grants.programmes import services as programmes
from grants.review import rubrics, services as review
from grants.review.models import Rubric

NOTE_AR = "(غير مترجم)"


def _programme(db, languages, title="Community Fund"):
    prog = f.programme(db, title=title)
    programmes.set_content_languages(db, prog, list(languages), languages[0])
    return prog


def _field_names(form) -> list[str]:
    return [name for name in form.fields if name]


# -- the shared versioning steps ---------------------------------------------------------------------------


def test_a_copy_of_an_old_version_is_numbered_after_the_family_s_latest_and_records_where_it_came_from(registry):
    with registry.database.transaction() as (_tm, db):
        prog = _programme(db, ("en",))
        officer = f.user(db)
        first = rubrics.new_rubric(db, prog, "Call 5", user=officer)
        rubrics.save_criterion(db, first, None, titles={"en": "Need"}, guidance={}, weight="1", languages=("en",))
        rubrics.publish(db, first, languages=("en",), user=officer)
        second = rubrics.copy_rubric(db, first, user=officer)
        assert rubrics.KIND.next_version(db, first) == 3
        third = rubrics.copy_rubric(db, first, user=officer)  # from version 1 again: after version 2
        assert [(r.version, r.status) for r in rubrics.KIND.versions(db, first)] == [
            (1, "published"), (2, "draft"), (3, "draft")]
        assert third.family_id == second.family_id == first.id
        created = changes_of(db, third)[0]
        assert (created.what, created.after["copied_from"], created.after["version"]) == ("created", first.id, 3)
        # Published is frozen: each kind refuses in its own words, and nothing is recorded.
        recorded = len(changes_of(db, first))
        with pytest.raises(rubrics.RubricRefused) as refused:
            rubrics.KIND.refuse_unless_draft(first)
        assert "copy it to make its next version" in str(refused.value)
        with pytest.raises(rubrics.RubricRefused):
            rubrics.publish(db, first, languages=("en",), user=officer)
        assert len(changes_of(db, first)) == recorded


def test_an_instrument_with_results_is_frozen_even_as_a_draft(registry):
    with registry.database.transaction() as (_tm, db):
        prog = _programme(db, ("en",))
        inst = editor.new_instrument(db, prog, "feedback", "Feedback")
        editor.KIND.refuse_unless_draft(inst)  # a draft: allowed
        with pytest.raises(surveys.SurveyRefused) as refused:
            editor.KIND.refuse_unless_draft(inst, frozen=True)
        assert "never changes" in str(refused.value)
        assert versioned.next_entry_id([{"id": "criterion_2"}]) == "criterion_3"
        assert versioned.next_entry_id([{"id": "criterion_2"}, {"id": "criterion_3"}]) == "criterion_4"


# -- the programme's languages, its default first ----------------------------------------------------------


def test_criteria_and_instruments_are_written_in_the_programme_s_languages_default_first(testapp, app):
    registry = app.registry
    with registry.database.transaction() as (_tm, db):
        f.user(db, email="admin@example.org", admin=True)
        prog_id = _programme(db, ("ar", "fr")).id
    f.sign_in(testapp, "admin@example.org")

    form = testapp.get(f"/programmes/{prog_id}/evaluation-criteria").forms["new-criteria"]
    form["title"] = "Évaluation 2027"
    page = form.submit("submit").follow()
    names = _field_names(page.forms["criterion"])
    assert [n for n in names if n.startswith("title_")] == ["title_ar", "title_fr"]  # no English: not the programme's
    form = page.forms["criterion"]
    form["title_ar"], form["hint_ar"] = "الوصول", "هل وصل إلى من خطط لهم؟"
    page = form.submit("submit").follow()
    refused = page.forms["publish-form"].submit(status=400)
    assert "Criterion 1 has no title in Français." in refused.html.select_one(".error-summary").get_text()

    form = testapp.get(f"/programmes/{prog_id}/survey-instruments").forms["new-instrument"]
    assert [n for n in _field_names(form) if n.startswith("title")] == ["title", "title_fr"]  # "title": Arabic
    form["code"], form["title"], form["title_fr"] = "belonging", "الانتماء", "Appartenance"
    page = form.submit("submit").follow()
    names = _field_names(page.forms["item"])
    assert [n for n in names if n.startswith("text_")] == ["text_ar", "text_fr"]
    assert page.html.select_one("#item-text_ar")["lang"] == "ar"


# -- an instrument's title in every language ---------------------------------------------------------------


def test_an_instrument_s_title_is_kept_in_every_language_and_shown_marked_where_it_is_missing(testapp, app):
    registry = app.registry
    with registry.database.transaction() as (_tm, db):
        f.user(db, email="admin@example.org", admin=True)
        award = f.award(db, registry)
        programmes.set_content_languages(db, award.round.programme, ["en", "fr"], "en")
        prog_id, rnd_id = award.round.programme_id, award.round_id
    f.sign_in(testapp, "admin@example.org")
    form = testapp.get(f"/programmes/{prog_id}/survey-instruments").forms["new-instrument"]
    form["code"], form["title"] = "belonging", "Belonging"
    page = form.submit("submit").follow()
    url = page.request.path

    # French readers see the English title marked until it has a French one.
    french = testapp.get(url, params={"_LOCALE_": "fr"})
    heading = french.html.select_one("#instrument-title")
    assert heading.select_one("span[lang=en][dir=ltr]").get_text() == "Belonging"
    assert "(non traduit)" in heading.get_text()

    form = page.forms["instrument-title"]
    assert form["title"].value == "Belonging" and form["title_fr"].value == ""
    form["title"] = ""
    refused = form.submit("submit", status=400)
    assert "Give the instrument a title." in refused.html.select_one(".error-summary").get_text()
    form = testapp.get(url).forms["instrument-title"]
    form["title_fr"] = "Appartenance"
    page = form.submit("submit").follow()
    french = testapp.get(url, params={"_LOCALE_": "fr"})
    assert french.html.select_one("#instrument-title").get_text(strip=True).startswith("Appartenance")
    assert "non traduit" not in french.html.select_one("#instrument-title").get_text()
    arabic = testapp.get(f"/programmes/{prog_id}/survey-instruments", params={"_LOCALE_": "ar"})
    assert NOTE_AR in arabic.html.select_one("tbody td").get_text()  # Arabic is not the programme's

    stale = testapp.get(url).forms["instrument-title"]
    with registry.database.transaction() as (_tm, db):
        inst = db.query(SurveyInstrument).filter(SurveyInstrument.programme_id == prog_id).one()
        inst_id = inst.id
        assert inst.title == "Belonging"
        assert multilingual.texts(inst, "title") == {"en": "Belonging", "fr": "Appartenance"}
        assert [c.what for c in changes_of(db, inst)] == ["created", "title"]
        editor.save_item(db, inst, None, code="belong", scale="2", texts={"en": "I belong.", "fr": "J'appartiens."},
                         labels={"en": "No\nYes", "fr": "Non\nOui"}, languages=("en", "fr"))
        editor.publish(db, inst, languages=("en", "fr"))
        copy = editor.copy_instrument(db, inst)
        assert (copy.version, multilingual.texts(copy, "title")) == (2, {"en": "Belonging", "fr": "Appartenance"})
        with pytest.raises(surveys.SurveyRefused):  # published: the title is frozen too
            editor.save_title(db, inst, {"en": "Other"})

    # A title form drawn while it was a draft, posted after publishing: 409, nothing changes.
    stale["title"] = "Other"
    stale.submit("submit", status=409)
    assert "instrument-title" not in testapp.get(url).forms
    with registry.database.transaction() as (_tm, db):
        assert db.get(SurveyInstrument, inst_id).title == "Belonging"

    # The round's list offers it in French, and says where the title is not translated (no markup in an option).
    page = testapp.get(f"/programmes/{prog_id}/rounds/{rnd_id}/instruments", params={"_LOCALE_": "fr"})
    options = {value: text for value, _s, text in page.forms["attach"]["instrument"].options}
    assert options[str(inst_id)].startswith("Appartenance")
    arabic = testapp.get(f"/programmes/{prog_id}/rounds/{rnd_id}/instruments", params={"_LOCALE_": "ar"})
    options = {value: text for value, _s, text in arabic.forms["attach"]["instrument"].options}
    assert f"Belonging {NOTE_AR}" in options[str(inst_id)]


def test_a_draft_title_changed_meanwhile_is_a_409_showing_both(testapp, app):
    import webtest

    with app.registry.database.transaction() as (_tm, db):
        f.user(db, email="admin@example.org", admin=True)
        prog = _programme(db, ("en", "ar"))
        inst = editor.new_instrument(db, prog, "feedback", {"en": "Feedback"})
        url = f"/programmes/{prog.id}/survey-instruments/{inst.id}"
    f.sign_in(testapp, "admin@example.org")
    other = webtest.TestApp(app, extra_environ={"HTTP_HOST": "localhost"})
    f.sign_in(other, "admin@example.org")
    mine, theirs = testapp.get(url).forms["instrument-title"], other.get(url).forms["instrument-title"]
    mine["title_ar"] = "آراء"
    mine.submit("submit", status=302)
    theirs["title_ar"] = "ملاحظات"
    late = theirs.submit("submit", status=409)
    assert "آراء" in late.text and "ملاحظات" in late.text


def test_the_migration_keeps_each_existing_title_as_its_programme_s_default_language(grants_empty_database_url):
    from alembic import command
    from sqlalchemy import create_engine, text

    from grants.migrations import alembic_config

    cfg = alembic_config({"sqlalchemy.url": grants_empty_database_url})
    command.upgrade(cfg, "0018_round_workflow_pins")
    engine = create_engine(grants_empty_database_url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO programmes (id, title, description, currency, languages, default_language, "
                          "row_version, translations, plugins) VALUES (1, 'Fonds', '', 'USD', '[\"fr\"]', 'fr', 1, "
                          "'{}', '[]')"))
        for id_, code, title, programme in ((1, "own", "Appartenance", 1), (2, "standard", "Standard", None)):
            conn.execute(text("INSERT INTO survey_instruments (id, code, version, title, items, created_at, "
                              "programme_id, status, row_version) VALUES (:id, :code, 1, :title, '[]', :now, "
                              ":programme, 'published', 1)"),
                         {"id": id_, "code": code, "title": title, "programme": programme,
                          "now": dt.datetime(2026, 1, 1)})
    command.upgrade(cfg, "0019_instrument_titles")
    with engine.begin() as conn:
        rows = conn.execute(text("SELECT id, title, translations FROM survey_instruments ORDER BY id")).all()
    engine.dispose()
    import json

    assert [(r[0], r[1], r[2] if isinstance(r[2], dict) else json.loads(r[2])) for r in rows] == [
        (1, "Appartenance", {"title": {"fr": "Appartenance"}}), (2, "Standard", {"title": {"en": "Standard"}})]


# -- the reviewer's score page and the budget-line dropdown --------------------------------------------------


def test_an_arabic_reviewer_sees_a_criterion_s_english_title_marked_as_not_translated(testapp, app):
    registry = app.registry
    with registry.database.transaction() as (tm, db):
        officer = f.user(db, email="leila@example.org")
        sami = f.user(db, email="sami@example.org", locale="ar")
        prog = _programme(db, ("en", "fr"))  # the reviewer reads Arabic; the content is English and French
        f.grant_role(db, officer, "programme_officer", prog)
        rnd = f.round_(db, registry, prog, state="draft")
        own = rubrics.new_rubric(db, prog, "Call 5", user=officer)
        rubrics.save_criterion(db, own, None, titles={"en": "Need", "fr": "Besoin"}, guidance={}, weight="1",
                               languages=("en", "fr"))
        rubrics.publish(db, own, languages=("en", "fr"))
        programmes.update_round(db, rnd, registry=registry, rubric_id=own.id)
        f.WorkflowService(registry.workflows, db).fire(rnd, "open", actor=f.SYSTEM)
        application = f.application(db, registry, rnd, f.organisation(db, f.user(db), name="Radio Sfax"),
                                    state="eligible")
        review.respond(db, review.invite_reviewer(db, registry, rnd, sami, officer, transaction_manager=tm),
                       sami, accept=True)
        review.declare(db, review.assign(db, application, sami, officer), sami, conflict=False)
        url = f"/programmes/{prog.id}/rounds/{rnd.id}/applications/{application.id}/@@score"
    f.sign_in(testapp, "sami@example.org")
    page = testapp.get(url, params={"_LOCALE_": "ar"})
    legend = page.html.select_one("form fieldset.border legend")
    marked = legend.select_one("span[lang=en][dir=ltr]")
    assert marked is not None and marked.get_text() == "Need"
    assert NOTE_AR in legend.get_text()
    french = testapp.get(url, params={"_LOCALE_": "fr"})
    legend = french.html.select_one("form fieldset.border legend")
    assert "Besoin" in legend.get_text() and legend.select_one("[lang]") is None  # the reader's own: unmarked

    # Submitted, the scores read back with the title marked the same way.
    form = page.forms["score"]
    form["score-criterion_1-score"] = "4"
    form["rationale"] = "مبررة جيدا"
    form.submit("submit").follow()
    done = testapp.get(url, params={"_LOCALE_": "ar"}).html.select_one("#submitted-scores dt")
    assert done.select_one("span[lang=en]").get_text() == "Need" and NOTE_AR in done.get_text()


def test_the_grantee_s_budget_line_dropdown_says_which_categories_are_not_translated(testapp, app):
    from decimal import Decimal

    from grants.accounts.organisations import add_member_without_invitation
    from grants.awards import services as awards
    from grants.money import Money

    registry = app.registry
    with registry.database.transaction() as (_tm, db):
        award = f.award(db, registry)
        programmes.set_content_languages(db, award.round.programme, ["en", "ar"], "en")
        member = f.user(db, email="amel@example.org")
        add_member_without_invitation(db, award.application.organisation, member)
        awards.set_budget(db, award, [({"en": "Staff", "ar": "الموظفون"}, Money(Decimal("20000.000"), "TND")),
                                      ("Rent", Money(Decimal("25000.000"), "TND"))])  # the award's 45,000 TND
        url = f"/programmes/{award.round.programme_id}/rounds/{award.round_id}/awards/{award.id}/@@budget"
    f.sign_in(testapp, "amel@example.org")
    page = testapp.get(url, params={"_LOCALE_": "ar"})
    texts = [text for _v, _s, text in page.forms["spend"]["line"].options][1:]
    assert texts == ["الموظفون", f"Rent {NOTE_AR}"]
    english = testapp.get(url, params={"_LOCALE_": "en"})
    assert [text for _v, _s, text in english.forms["spend"]["line"].options][1:] == ["Staff", "Rent"]


def test_an_arabic_evaluator_sees_criteria_written_in_english_marked_as_not_translated(testapp, app):
    from grants.evaluation import criteria_sets, services as evaluation

    registry = app.registry
    with registry.database.transaction() as (_tm, db):
        eva = f.user(db, email="eva@example.org", locale="ar")
        award = f.award(db, registry)
        rnd = award.round
        programmes.set_content_languages(db, rnd.programme, ["en", "fr"], "en")  # no Arabic
        made = criteria_sets.new_set(db, rnd.programme, "Fund criteria")
        criteria_sets.save_criterion(db, made, None, titles={"en": "Reach", "fr": "Portée"},
                                     hints={"en": "Who took part?"}, languages=("en", "fr"))
        criteria_sets.choose_for_round(db, registry, rnd, criteria_sets.publish(db, made, languages=("en", "fr")).id)
        evaluation.assign_evaluator(db, rnd, eva)
        url = f"/programmes/{rnd.programme_id}/rounds/{rnd.id}/awards/{award.id}/@@assessment"
    f.sign_in(testapp, "eva@example.org")
    page = testapp.get(url, params={"_LOCALE_": "ar"})
    legend = page.html.select_one("#assessment-score-criterion_1 legend")
    assert legend.select_one("span[lang=en][dir=ltr]").get_text() == "Reach" and NOTE_AR in legend.get_text()
    hint = page.html.select_one("#help-assessment-score-criterion_1")
    assert hint.select_one("span[lang=en]").get_text() == "Who took part?" and NOTE_AR in hint.get_text()
    french = testapp.get(url, params={"_LOCALE_": "fr"}).html.select_one("#assessment-score-criterion_1 legend")
    assert french.get_text(strip=True) == "Portée" and french.select_one("[lang]") is None  # the reader's own
