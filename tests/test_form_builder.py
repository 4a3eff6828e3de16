"""The form builder: forms as versioned data edited in the browser, compiled into the same
ApplicationForm objects as code-defined forms, so applicants fill them on the ordinary
pages.  Services, the officers' pages (editor, preview, publish, copy, export, import, a
409 for two officers saving one draft) and an applicant filling a built form in Arabic."""
from __future__ import annotations

import copy
import json

import pytest
import webtest
from sqlalchemy import select

from grants.applications import builder, services as applications
from grants.applications.builder import BuilderRefused
from grants.applications.builder_models import BuiltFormVersion
from grants.applications.formdefs import form_for, forms_in_scope
from grants.audit.services import changes_of
from grants.programmes import services as programmes
from grants.programmes.models import Programme, Round
from grants.testing import build_site as build_test_site


def build_site(registry, **options):
    """The test site, its programme written in English, French and Arabic: a form's texts
    are in the programme's languages."""
    site = build_test_site(registry, **options)
    with registry.database.transaction() as (_tm, db):
        programmes.set_content_languages(db, db.get(Programme, site.programme.id), ["en", "fr", "ar"], "en")
    return site


@pytest.fixture
def grants_site(grants_registry, grants_plugins, grants_site_workflows):
    return build_site(grants_registry, plugins=grants_plugins, workflows=grants_site_workflows)


def text(en, ar):
    return {"en": en, "fr": en, "ar": ar}


def community_form(key="community-fund") -> dict:
    """Three sections in English, French and Arabic: a conditional question, a budget table
    with a total, and a document slot in a section with questions."""
    return {
        "format": builder.FORMAT, "key": key, "stage": "application", "languages": ["en", "fr", "ar"],
        "fallback": False, "title": text("Community fund", "صندوق المجتمع"),
        "amount_question": "budget.amount", "title_question": "project.project_title",
        "sections": [
            {"name": "project", "title": text("Describe your project", "صف مشروعك"), "documents": [],
             "questions": [
                 {"name": "project_title", "kind": "short_text", "label": text("Project title", "عنوان المشروع"),
                  "help": {}, "required": True, "max_length": 120},
                 {"name": "has_partner", "kind": "yes_no", "label": text("Do you work with a partner?",
                                                                          "هل تعملون مع شريك؟"),
                  "help": {}, "required": True},
                 {"name": "partner_name", "kind": "short_text", "label": text("Partner's name", "اسم الشريك"),
                  "help": {}, "required": True, "condition": {"question": "has_partner", "value": "yes"}},
                 {"name": "themes", "kind": "multiple_choice", "label": text("Themes", "المحاور"), "help": {},
                  "required": True, "choices": [{"code": "youth", "label": text("Youth", "الشباب")},
                                                {"code": "water", "label": text("Water", "الماء")}]},
             ]},
            {"name": "budget", "title": text("Plan your budget", "خطط ميزانيتك"),
             "documents": [{"kind": "budget_plan", "title": text("Budget plan", "خطة الميزانية"), "required": True}],
             "questions": [
                 {"name": "lines", "kind": "table", "label": text("Budget lines", "بنود الميزانية"), "help": {},
                  "required": True, "rows": 3, "total": "cost",
                  "columns": [{"name": "item", "kind": "short_text", "label": text("Item", "البند")},
                              {"name": "cost", "kind": "money", "label": text("Cost", "الكلفة")}]},
                 {"name": "amount", "kind": "money", "label": text("Amount asked", "المبلغ المطلوب"), "help": {},
                  "required": True},
             ]},
            {"name": "contact", "title": text("Contact", "الاتصال"), "documents": [],
             "questions": [
                 {"name": "email", "kind": "email", "label": text("E-mail", "البريد الإلكتروني"), "help": {},
                  "required": True},
                 {"name": "start", "kind": "date", "label": text("Start date", "تاريخ البدء"), "help": {},
                  "required": False},
             ]},
        ],
    }


def published(registry, site, content=None):
    """The site's programme with ``content`` imported and published; its version id."""
    with registry.database.transaction() as (_tm, db):
        programme = db.get(Programme, site.programme.id)
        version = builder.import_file(db, programme, json.dumps(content or community_form()))
        builder.publish(db, version)
        return version.version_id


# -- services -------------------------------------------------------------------------------------------


def test_content_checks_name_every_problem_and_a_good_form_has_none():
    assert builder.check_content(community_form()) == []
    bad = community_form()
    bad["sections"][0]["questions"][2]["condition"] = {"question": "themes_later", "value": "x"}
    bad["sections"][0]["questions"][3]["choices"] = []
    bad["sections"][1]["questions"][0]["name"] = "project_title"  # taken in the first section
    del bad["sections"][2]["title"]["ar"]
    where = [w for w, _r in builder.check_content(bad)]
    assert where == ["sections[0].questions[2].condition", "sections[0].questions[3].choices",
                     "sections[1].questions[0].name", "sections[2].title.ar"]
    bad["fallback"] = True  # a missing translation falls back explicitly
    assert "sections[2].title.ar" not in [w for w, _r in builder.check_content(bad)]
    later = community_form()  # a condition on a question that comes after it
    later["sections"][0]["questions"][2]["condition"] = {"question": "themes", "value": "youth"}
    assert [w for w, _r in builder.check_content(later)] == ["sections[0].questions[2].condition"]


def test_publish_copy_and_the_audit(registry, grants_site):
    site = grants_site
    with registry.database.transaction() as (_tm, db):
        programme = db.get(Programme, site.programme.id)
        draft = builder.create_form(db, programme, key="small-grants", stage="application",
                                    title={"en": "Small grants"}, languages=["en", "ar"])
        with pytest.raises(BuilderRefused) as refused:
            builder.publish(db, draft)  # an empty section, no Arabic title
        assert ("title.ar" in [w for w, _r in refused.value.problems]) and draft.status == "draft"
        content = community_form("small-grants")
        builder.save_draft(db, draft, content)
        builder.publish(db, draft)
        with pytest.raises(BuilderRefused):
            builder.save_draft(db, draft, community_form("small-grants"))  # published: never edited
        second = builder.copy_to_draft(db, draft)
        assert (second.version_id, second.status) == ("small-grants@2", "draft")
        with pytest.raises(BuilderRefused):
            builder.copy_to_draft(db, draft)  # one draft at a time
        assert [c.what for c in changes_of(db, draft)] == ["form", "draft", "status"]
        assert [c.what for c in changes_of(db, second)] == ["form"]
        assert changes_of(db, draft)[2].after == "published"
        # A round of the programme may choose it; another programme's round may not.
        assert "small-grants@1" in [f.version for f in forms_in_scope(registry, programme)]
        assert "small-grants@2" not in [f.version for f in forms_in_scope(registry, programme)]
        other = programmes.create_programme(db, title="Other", currency="EUR", registry=registry)
        from grants.applications.formdefs import form_refusal

        assert form_refusal(registry, programme, "small-grants@1") is None
        assert form_refusal(registry, other, "small-grants@1") is not None
        assert form_refusal(registry, programme, "small-grants@2") is not None  # a draft


def test_an_import_with_errors_names_the_line_or_field_and_stores_nothing(registry, grants_site):
    with registry.database.transaction() as (_tm, db):
        programme = db.get(Programme, grants_site.programme.id)
        with pytest.raises(BuilderRefused) as refused:
            builder.import_file(db, programme, '{"format": "grants-form/1",\n "key": }')
        assert refused.value.problems[0][0] == "line 2"
        wrong = community_form()
        wrong["sections"][1]["questions"][0]["columns"][1]["kind"] = "colour"
        with pytest.raises(BuilderRefused) as refused:
            builder.import_file(db, programme, json.dumps(wrong))
        assert [w for w, _r in refused.value.problems] == ["sections[1].questions[0].columns[1].kind",
                                                           "sections[1].questions[0].total"]  # no longer money
        assert db.scalars(select(BuiltFormVersion)).all() == []


def test_applications_keep_the_version_they_started_with(registry, grants_site):
    site = grants_site
    v1 = published(registry, site)
    with registry.database.transaction() as (_tm, db):
        programmes.update_round(db, db.get(Round, site.round.id), registry=registry, application_form_version=v1)
    from grants.accounts.models import Organisation, User

    with registry.database.transaction() as (_tm, db):
        member = db.get(User, site.member.id)
        app = applications.create_application(db, registry, db.get(Round, site.round.id),
                                              db.get(Organisation, site.organisation.id), member, title="Wells")
        app_id = app.id
        assert app.form_version == "community-fund@1"
    with registry.database.transaction() as (_tm, db):
        v1_row = builder.find_version(db, v1)
        v2 = builder.copy_to_draft(db, v1_row)
        content = copy.deepcopy(v2.content)
        content["sections"][0]["questions"].append(
            {"name": "village", "kind": "short_text", "label": text("Village", "القرية"), "help": {}, "required": True})
        builder.save_draft(db, v2, content)
        builder.publish(db, v2)
        programmes.update_round(db, db.get(Round, site.round.id), registry=registry,
                                application_form_version=v2.version_id)
    with registry.database.transaction() as (_tm, db):
        from grants.applications.models import Application

        form = form_for(registry, db.get(Application, app_id))
        assert form.version == "community-fund@1"
        assert "village" not in form.section("project").schema_factory()


# -- the officers' pages ------------------------------------------------------------------------------------


def client(app):
    return webtest.TestApp(app, extra_environ={"HTTP_HOST": "localhost"})


def test_an_officer_builds_previews_and_publishes_a_form_in_the_browser(app, testapp):
    registry = app.registry
    site = build_site(registry)
    base = f"/programmes/{site.programme.id}/forms"
    site.sign_in(testapp, site.officer)
    assert testapp.get(f"/programmes/{site.programme.id}").html.select_one("#forms-link")["href"].endswith("/forms")
    page = testapp.get(base)
    create = page.forms["create-form"]
    create["key"] = "Bad key!"
    page = create.submit("action", value="create", status=400)
    assert "lower-case letters" in page.html.select_one(".error-summary").get_text()
    create = page.forms["create-form"]
    create["key"] = "village-fund"
    create["title.en"], create["title.fr"], create["title.ar"] = "Village fund", "Fonds des villages", "صندوق القرى"
    page = create.submit("action", value="create").follow()
    assert page.html.select_one("h1").get_text(" ", strip=True).startswith("village-fund@1")

    # The first section: its title in each language, then a yes/no question and one shown only after "yes".
    editor = page.forms["editor"]
    editor["s.0.name"] = "project"
    for code, words in (("en", "Your project"), ("fr", "Votre projet"), ("ar", "مشروعك")):
        editor[f"s.0.title.{code}"] = words
    editor["s.0.new_kind"] = "yes_no"
    page = editor.submit("action", value="add_question.0").follow()
    editor = page.forms["editor"]
    assert editor["s.0.q.0.kind"].value == "yes_no"
    editor["s.0.q.0.name"] = "has_partner"
    for code, words in (("en", "Do you have a partner?"), ("fr", "Avez-vous un partenaire ?"),
                        ("ar", "هل لديكم شريك؟")):
        editor[f"s.0.q.0.label.{code}"] = words
    page = editor.submit("action", value="add_question.0").follow()
    editor = page.forms["editor"]
    editor["s.0.q.1.name"] = "partner_name"
    for code, words in (("en", "Partner's name"), ("fr", "Nom du partenaire"), ("ar", "اسم الشريك")):
        editor[f"s.0.q.1.label.{code}"] = words
    editor["s.0.q.1.condition_question"] = "has_partner"
    editor["s.0.q.1.condition_value"] = "yes"
    editor["s.0.q.1.max_length"] = "a lot"
    page = editor.submit("action", value="save", status=400)  # a limit that is not a number: nothing saved
    assert "Enter a whole number" in page.html.select_one(".error-summary").get_text()
    assert page.html.select_one("#field-s-0-q-1-max-length")["value"] == "a lot"  # as typed
    editor = page.forms["editor"]
    editor["s.0.q.1.max_length"] = "80"
    # A budget table, and a document in the same section.
    editor["s.0.new_kind"] = "table"
    page = editor.submit("action", value="add_question.0").follow()
    editor = page.forms["editor"]
    editor["s.0.q.2.name"] = "budget_lines"
    for code, words, labels in (("en", "Budget lines", "item = Item\ncost = Cost"),
                                ("fr", "Lignes du budget", "item = Poste\ncost = Coût"),
                                ("ar", "بنود الميزانية", "item = البند\ncost = الكلفة")):
        editor[f"s.0.q.2.label.{code}"] = words
        editor[f"s.0.q.2.column_labels.{code}"] = labels
    editor["s.0.q.2.rows"] = "3"
    page = editor.submit("action", value="add_document.0").follow()
    editor = page.forms["editor"]
    editor["s.0.d.0.kind"] = "work_plan"
    editor["s.0.d.0.identifying"] = True  # names the organisation: hidden from blind reviewers
    for code, words in (("en", "Work plan"), ("fr", "Plan de travail"), ("ar", "خطة العمل")):
        editor[f"s.0.d.0.title.{code}"] = words
    # Publishing checks first: the French question text is missing.
    editor["s.0.q.0.label.fr"] = ""
    page = editor.submit("action", value="publish", status=400)
    summary = page.html.select_one(".error-summary")
    assert "“fr”" in summary.get_text()
    assert summary.select_one("a")["href"] == "#field-s-0-q-0-label-fr"
    editor = page.forms["editor"]
    editor["s.0.q.0.label.fr"] = "Avez-vous un partenaire ?"
    page = editor.submit("action", value="save").follow()

    # Moving and removing: a second section, moved up and removed again.
    page = page.forms["editor"].submit("action", value="add_section").follow()
    assert page.forms["editor"]["s.1.name"].value == "section_1"
    page = page.forms["editor"].submit("action", value="up_section.1").follow()
    assert page.forms["editor"]["s.0.name"].value == "section_1"
    page = page.forms["editor"].submit("action", value="remove_section.0").follow()
    assert page.forms["editor"]["s.0.name"].value == "project" and "s.1.name" not in page.forms["editor"].fields

    # The preview in Arabic, right to left, exactly the applicant's section page.
    preview = testapp.get(f"{base}/village-fund@1/preview", {"lang": "ar"})
    assert preview.html.select_one("html")["dir"] == "rtl"
    assert preview.html.select_one("h1").get_text(strip=True) == "مشروعك"
    labels = preview.html.select_one("form#section").get_text(" ", strip=True)
    assert "هل لديكم شريك؟" in labels and "اسم الشريك" in labels and "البند" in labels
    assert "خطة العمل" in preview.html.select_one("#section-documents").get_text()
    # Its answers are checked, and the condition holds: a partner's name is needed after "yes".
    form = preview.forms["section"]
    form["section-has_partner"] = "yes"
    checked = form.submit("continue", status=400)
    assert "اسم الشريك" in checked.html.select_one(".error-summary").get_text(), checked.html.select_one(".error-summary")

    page = testapp.get(f"{base}/village-fund@1")
    page = page.forms["editor"].submit("action", value="publish").follow()
    assert page.html.select_one("#status").get_text(strip=True) == "Published"
    assert "editor" in page.forms and page.html.select_one("#editor fieldset")["disabled"] == "disabled"
    assert page.html.select_one("#editor #save") is None

    # The round chooses it from the list.
    edit = testapp.get(f"/programmes/{site.programme.id}/rounds/{site.round.id}/edit")
    options = [value for value, _sel, _text in edit.forms[0]["application_form_version"].options] \
        if "application_form_version" in edit.forms[0].fields else \
        [value for value, _sel, _text in next(f for f in edit.forms.values()
                                              if "application_form_version" in f.fields)["application_form_version"].options]
    assert "village-fund@1" in options and "general" in options

    # Copy to a new draft; export and import.
    page = page.forms["copy-form"].submit("action", value="copy").follow()
    assert page.html.select_one("h1").get_text(" ", strip=True).startswith("village-fund@2")
    exported = testapp.get(f"{base}/village-fund@1/export")
    assert exported.content_type == "application/json"
    assert json.loads(exported.text)["sections"][0]["questions"][1]["condition"] == {"question": "has_partner",
                                                                                      "value": "yes"}
    rows = [[td.get_text(" ", strip=True) for td in tr.select("td")]
            for tr in testapp.get(f"{base}/village-fund@1").html.select("#form-changes tbody tr")]
    assert rows[0][2:] == ["Status", "Draft", "Published"]  # newest first
    assert rows[-1][2] == "Version" and rows[-1][4] == "village-fund@1: Started the form"
    # A saved draft is one row per field it changed, named by section and question, before and after.
    fields = {row[2]: row[3:] for row in rows[1:-1]}
    assert any(name.endswith("› label › en") and after != "—" for name, (_before, after) in fields.items()), fields
    with registry.database.transaction() as (_tm, db):
        history = [c.what for c in changes_of(db, builder.find_version(db, "village-fund@1"))]
        assert history[0] == "form" and history[-1] == "status" and history.count("draft") >= 5
        form = builder.published_form(db, "village-fund@1")
        assert form.attachment("work_plan").identifying and form.attachment("work_plan").required
        assert form.section("project").schema_factory()["partner_name"].builder["max_length"] == 80


def test_an_import_from_the_page_reports_errors_and_stores_nothing(app, testapp):
    site = build_site(app.registry)
    base = f"/programmes/{site.programme.id}/forms"
    site.sign_in(testapp, site.officer)
    page = testapp.get(base)
    upload = page.forms["import-form"]
    upload["file"] = webtest.Upload("form.json", b'{\n  "format": "grants-form/1",\n  oops\n}', "application/json")
    page = upload.submit("action", value="import", status=400)
    assert "Line 3" in page.html.select_one(".error-summary").get_text()
    upload = page.forms["import-form"]
    upload["file"] = webtest.Upload("form.json", json.dumps(community_form()).encode(), "application/json")
    page = upload.submit("action", value="import").follow()
    assert page.html.select_one("h1").get_text(" ", strip=True).startswith("community-fund@1")
    # Members of the public and applicants may not see the builder.
    member = client(app)
    site.sign_in(member, site.member)
    member.get(base, status=403)


def test_two_officers_saving_one_draft_the_second_gets_409_with_both_versions(app, testapp):
    site = build_site(app.registry)
    published(app.registry, site)  # community-fund@1
    base = f"/programmes/{site.programme.id}/forms"
    site.sign_in(testapp, site.officer)
    testapp.get(f"{base}/community-fund@1").forms["copy-form"].submit("action", value="copy")
    second = client(app)
    site.sign_in(second, site.admin)
    mine = testapp.get(f"{base}/community-fund@2").forms["editor"]
    theirs = second.get(f"{base}/community-fund@2").forms["editor"]
    mine["s.0.title.en"] = "Tell us about your project"
    mine.submit("action", value="save").follow()
    theirs["s.0.title.en"] = "Your project, briefly"
    refused = theirs.submit("action", value="save", status=409)
    table = refused.html.select_one("#differences").get_text(" ", strip=True)
    assert "Your project, briefly" in table and "Tell us about your project" in table
    with app.registry.database.transaction() as (_tm, db):
        assert builder.find_version(db, "community-fund@2").content["sections"][0]["title"]["en"] == \
            "Tell us about your project"
    # The editor comes back with what they typed, drawn from the version saved now: sent
    # again, it keeps theirs on purpose.
    again = refused.forms["editor"]
    assert again["s.0.title.en"].value == "Your project, briefly"
    again.submit("action", value="save").follow()
    with app.registry.database.transaction() as (_tm, db):
        assert builder.find_version(db, "community-fund@2").content["sections"][0]["title"]["en"] == \
            "Your project, briefly"


# -- an applicant fills a built form ----------------------------------------------------------------------


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def test_an_applicant_fills_a_built_form_in_arabic_and_submits_it(app, testapp):
    registry = app.registry
    site = build_site(registry)
    version = published(registry, site)
    with registry.database.transaction() as (_tm, db):
        programmes.update_round(db, db.get(Round, site.round.id), registry=registry, application_form_version=version)
    site.sign_in(testapp, site.member)
    testapp.set_cookie("grants_lang", "ar")
    round_url = f"/programmes/{site.programme.id}/rounds/{site.round.id}"
    apply = testapp.get(round_url + "/@@apply").forms["apply"]
    apply["title"] = "آبار القرية"
    tasks = apply.submit("submit", status=302).follow()
    assert tasks.html.select_one("html")["dir"] == "rtl"
    assert [a.get_text() for a in tasks.html.select("#task-list a")] == ["صف مشروعك", "خطط ميزانيتك", "الاتصال"]
    app_url = tasks.request.path

    # A question shown only after "yes": required then, and reported with the others.
    page = tasks.click("صف مشروعك")
    form = page.forms["section"]
    assert form["project_title"].value == "آبار القرية"
    assert "اسم الشريك" in page.html.select_one("form#section").get_text()
    form["section-has_partner"] = "yes"
    failed = form.submit("continue", status=400)
    messages = failed.html.select_one(".error-summary").get_text()
    assert "اسم الشريك" in messages and "المحاور" in messages
    form = failed.forms["section"]
    form["partner_name"] = "جمعية الماء"
    for box in form.fields["checkbox"]:
        if box._value == "water":
            box.checked = True
    page = form.submit("continue", status=302).follow()

    # The budget: a table of lines with its total, and a document asked in the same section.
    assert page.html.select_one("h1").get_text() == "خطط ميزانيتك"
    attach = page.html.select_one("#attach-documents")["href"]
    assert "خطة الميزانية" in page.html.select_one("#section-documents").get_text()
    form = page.forms["section"]
    form.set("item", "مضخة", index=0)
    form.set("cost", "١٠٠", index=0)
    form.set("item", "أنابيب", index=2)  # an empty row between is dropped
    form.set("cost", "50.5", index=2)
    form["amount"] = "150.5"
    page = form.submit("continue", status=302).follow()
    documents = testapp.get(attach)
    upload = documents.forms["attachments"]
    upload["budget_plan"] = webtest.Upload("الميزانية.pdf", PDF, "application/pdf")
    upload.submit("later", status=302)

    page = testapp.get(app_url + "/@@section/contact")
    form = page.forms["section"]
    form["email"] = "not an address"
    failed = form.submit("continue", status=400)
    form = failed.forms["section"]
    form["email"] = "contact@example.org"
    tasks = form.submit("continue", status=302).follow()  # the last section: back to the task list
    assert {li.select_one(".status").get_text(strip=True) for li in tasks.html.select("#task-list > li")} == {"مكتمل"}
    check = testapp.get(tasks.html.select_one("#check-answers")["href"])
    assert check.html.find(id="answer-project-has_partner").get_text(strip=True) == "نعم"  # labels, not codes
    assert check.html.find(id="answer-project-themes").get_text(strip=True) == "الماء"
    lines = " ".join(check.html.find(id="answer-budget-lines").get_text().split())
    assert "مضخة" in lines and "أنابيب" in lines and "150.50" in lines
    assert "الميزانية.pdf" in check.html.find(id="document-budget_plan").get_text()
    done = check.forms["submit-form"].submit("confirm", status=302).follow()
    assert done.status_int == 200
    with registry.database.transaction() as (_tm, db):
        from grants.applications.models import Application

        application = db.scalars(select(Application)).one()
        assert application.state == "submitted" and application.form_version == "community-fund@1"
        assert application.answers["project"]["partner_name"] == "جمعية الماء"
        assert application.answers["budget"]["lines"] == [
            {"item": "مضخة", "cost": {"amount": "100.00", "currency": "EUR"}},
            {"item": "أنابيب", "cost": {"amount": "50.50", "currency": "EUR"}}]
        assert str(application.amount.amount) == "150.50"


def test_a_hidden_questions_answer_is_not_kept(registry, grants_site):
    site = grants_site
    version = published(registry, site)
    from grants.accounts.models import Organisation, User

    with registry.database.transaction() as (_tm, db):
        rnd = db.get(Round, site.round.id)
        programmes.update_round(db, rnd, registry=registry, application_form_version=version)
        member = db.get(User, site.member.id)
        app = applications.create_application(db, registry, rnd, db.get(Organisation, site.organisation.id), member,
                                              title="Wells")
        applications.save_section(db, registry, app, member, "project",
                                  {"project_title": "Wells", "has_partner": "no", "partner_name": "Someone",
                                   "themes": ["youth"]})
        assert app.answers["project"] == {"project_title": "Wells", "has_partner": "no", "themes": ["youth"]}
        assert "project" in app.sections_done


# -- a plugin ships a form as data ----------------------------------------------------------------------


def test_a_plugin_loads_an_exported_form_into_the_registry(settings, tmp_path):
    from grants import make_config
    from grants.applications.formdefs import forms_of

    path = tmp_path / "community.json"
    path.write_text(json.dumps(community_form(), ensure_ascii=False), encoding="utf-8")
    config = make_config(settings)
    config.add_application_form_file(str(path), version="community-2025")
    config.commit()
    form = forms_of(config.registry).get("community-2025")
    assert [s.name for s in form.sections] == ["project", "budget", "contact"]
    assert form.amount_field == ("budget", "amount") and form.attachment("budget_plan").required
    assert form.section("budget").title.in_language("ar") == "خطط ميزانيتك"

    wrong = community_form()
    wrong["sections"][0]["questions"][3]["choices"] = []
    path.write_text(json.dumps(wrong), encoding="utf-8")
    with pytest.raises(Exception, match=r"sections\[0\]\.questions\[3\]\.choices"):
        make_config(settings).add_application_form_file(str(path))


def test_an_application_in_progress_still_renders_its_version_after_v2_is_published(app, testapp):
    registry = app.registry
    site = build_site(registry)
    v1 = published(registry, site)
    from grants.accounts.models import Organisation, User

    with registry.database.transaction() as (_tm, db):
        rnd = db.get(Round, site.round.id)
        programmes.update_round(db, rnd, registry=registry, application_form_version=v1)
        member = db.get(User, site.member.id)
        first = applications.create_application(db, registry, rnd, db.get(Organisation, site.organisation.id),
                                                member, title="Wells").id
        content = community_form()
        content["sections"][0]["questions"].append(
            {"name": "village", "kind": "short_text", "label": text("Village", "القرية"), "help": {}, "required": True})
        v2 = builder.copy_to_draft(db, builder.find_version(db, v1))
        builder.save_draft(db, v2, content)
        builder.publish(db, v2)
        programmes.update_round(db, rnd, registry=registry, application_form_version=v2.version_id)
        second = applications.create_application(db, registry, rnd, db.get(Organisation, site.organisation.id),
                                                 member, title="Pumps").id
    site.sign_in(testapp, site.member)
    base = f"/programmes/{site.programme.id}/rounds/{site.round.id}/applications"
    old = testapp.get(f"{base}/{first}/@@section/project").forms["section"]
    new = testapp.get(f"{base}/{second}/@@section/project").forms["section"]
    assert "village" not in old.fields and "village" in new.fields


def test_tampered_or_wrong_requests_are_refused_without_a_500_and_change_nothing(app, testapp):
    site = build_site(app.registry)
    v1 = published(app.registry, site)
    base = f"/programmes/{site.programme.id}/forms"
    site.sign_in(testapp, site.officer)
    testapp.get(f"{base}/community-fund@1").forms["copy-form"].submit("action", value="copy")
    editor = testapp.get(f"{base}/community-fund@2").forms["editor"]
    fields = {name: field[0].value for name, field in editor.fields.items() if name and field[0].value is not None}
    for action in ("remove_question.9.9", "remove_section", "up_question.x", "explode"):
        testapp.post(f"{base}/community-fund@2", {**fields, "action": action}, status=400)
    page = testapp.post(f"{base}/community-fund@2", {**fields, "action": "save", "s.0.title.en": "Bell\x07"},
                        status=400)
    assert "control characters" in page.html.select_one(".error-summary").get_text()
    # A published version is not edited, whatever is posted to it.
    testapp.post(f"{base}/{v1}", {**fields, "action": "save"}, status=409)
    testapp.get(f"{base}/nothing@1", status=404)
    testapp.get(f"{base}/{v1}/somewhere", status=404)
    testapp.get(f"{base}/{v1}/preview", {"section": "nowhere"}, status=404)
    testapp.post(base, {"action": "import", "csrf_token": fields["csrf_token"]}, status=400)
    with app.registry.database.transaction() as (_tm, db):
        assert builder.find_version(db, "community-fund@2").content == builder.find_version(db, v1).content
        assert builder.find_version(db, v1).status == "published"


# -- the programme's languages ----------------------------------------------------------------------------


def test_a_form_is_written_in_the_programmes_languages_and_published_only_when_each_is_filled(app, testapp):
    registry = app.registry
    site = build_test_site(registry)  # a programme in English only
    with registry.database.transaction() as (_tm, db):
        programmes.set_content_languages(db, db.get(Programme, site.programme.id), ["en", "ar"], "en")
    base = f"/programmes/{site.programme.id}/forms"
    site.sign_in(testapp, site.officer)
    create = testapp.get(base).forms["create-form"]
    assert "title.ar" in create.fields and "title.fr" not in create.fields  # French is not the programme's
    create["key"] = "two-tongues"
    create["title.en"] = "Two tongues"
    editor = create.submit("action", value="create").follow().forms["editor"]
    assert "s.0.title.ar" in editor.fields and "s.0.title.fr" not in editor.fields
    assert editor.html.select_one("[name='s.0.title.ar']")["lang"] == "ar"
    editor["s.0.title.en"] = "Your project"
    editor["s.0.new_kind"] = "short_text"
    editor = editor.submit("action", value="add_question.0").follow().forms["editor"]
    editor["s.0.q.0.name"] = "summary"
    editor["s.0.q.0.label.en"] = "Summary"
    page = editor.submit("action", value="publish", status=400)  # no Arabic yet: refused, still a draft
    summary = page.html.select_one(".error-summary").get_text()
    assert "“ar”" in summary and page.html.select_one("[name='s.0.q.0.label.ar']") is not None
    with registry.database.transaction() as (_tm, db):
        assert builder.find_version(db, "two-tongues@1").status == "draft"
        # The programme adds French while the draft is open: its inputs appear, and it is needed too.
        programmes.set_content_languages(db, db.get(Programme, site.programme.id), ["en", "ar", "fr"], "en")
    editor = testapp.get(base + "/two-tongues@1").forms["editor"]
    assert "s.0.q.0.label.fr" in editor.fields
    editor["s.0.q.0.label.en"] = "Summary"  # the refused publication stored nothing
    for name, ar, fr in (("title", "لغتان", "Deux langues"), ("s.0.title", "مشروعك", "Votre projet"),
                         ("s.0.q.0.label", "ملخص", "Résumé")):
        editor[f"{name}.ar"] = ar
    page = editor.submit("action", value="publish", status=400)
    assert "“fr”" in page.html.select_one(".error-summary").get_text()
    editor = page.forms["editor"]
    for name, fr in (("title", "Deux langues"), ("s.0.title", "Votre projet"), ("s.0.q.0.label", "Résumé")):
        editor[f"{name}.fr"] = fr
    editor.submit("action", value="publish", status=302)
    with registry.database.transaction() as (_tm, db):
        version = builder.find_version(db, "two-tongues@1")
        assert version.status == "published" and version.content["languages"] == ["en", "ar", "fr"]


def test_a_missing_translation_falls_back_visibly_on_the_applicants_page(app, testapp):
    """A form written in English and Arabic, read in French (a language of the site, not
    of the programme): each text shows in English, marked as English and untranslated."""
    registry = app.registry
    site = build_test_site(registry)
    with registry.database.transaction() as (_tm, db):
        programmes.set_content_languages(db, db.get(Programme, site.programme.id), ["en", "ar"], "en")
    content = community_form("bilingual")
    content["languages"] = ["en", "ar"]
    content = json.loads(json.dumps(content).replace('"fr": ', '"fr_unused": '))
    version = published(registry, site, content)
    with registry.database.transaction() as (_tm, db):
        programmes.update_round(db, db.get(Round, site.round.id), registry=registry, application_form_version=version)
    site.sign_in(testapp, site.member)
    testapp.set_cookie("grants_lang", "fr")
    round_url = f"/programmes/{site.programme.id}/rounds/{site.round.id}"
    apply = testapp.get(round_url + "/@@apply").forms["apply"]
    apply["title"] = "Puits du village"
    tasks = apply.submit("submit", status=302).follow()
    link = tasks.html.select("#task-list a")[0]
    marked = link.select_one("span[lang='en']")
    assert marked.get_text() == "Describe your project" and marked["dir"] == "ltr"
    assert "(non traduit)" in link.get_text()
    page = tasks.click(href=link["href"])
    assert page.html.select_one("h1 span[lang='en']").get_text() == "Describe your project"
    assert "Describe your project" in page.html.select_one("title").get_text()  # a plain page title
    assert "<span" not in page.html.select_one("title").get_text()
    label = page.html.select_one("label[for='section-project_title'] span[lang='en']")
    assert label.get_text() == "Project title" and label["dir"] == "ltr"
    assert "(non traduit)" in page.html.select_one("label[for='section-project_title']").get_text()
    note = page.html.select_one("#item-section-partner_name").get_text(" ", strip=True)
    assert "<span" not in note  # a note naming the question names it in words
    choice = [s for s in page.html.select("label.form-check-label span[lang='en']") if s.get_text() == "Youth"]
    assert choice, "a choice's label is marked too"
    # Read in Arabic, the same page has no marks: every text is written in Arabic.
    testapp.set_cookie("grants_lang", "ar")
    page = testapp.get(page.request.path)
    assert page.html.select_one("h1").get_text() == "صف مشروعك" and not page.html.select(".not-translated")


def test_a_round_chooses_its_proposal_form_from_a_list_on_its_edit_page(app, testapp):
    registry = app.registry
    site = build_site(registry)
    application_version = published(registry, site)
    proposal = community_form("full-proposal")
    proposal["stage"] = "proposal"
    proposal_version = published(registry, site, proposal)
    site.sign_in(testapp, site.officer)
    round_url = f"/programmes/{site.programme.id}/rounds/{site.round.id}"
    edit = testapp.get(round_url + "/edit").forms["round"]
    options = [value for value, _selected, _text in edit["proposal_form_version"].options]
    assert options == ["", "general-proposal", proposal_version]  # the default, grants' own, the built one
    assert application_version not in options
    edit["proposal_form_version"] = proposal_version
    edit.submit("submit", status=302)
    with registry.database.transaction() as (_tm, db):
        assert db.get(Round, site.round.id).proposal_form_version == "full-proposal@1"
    assert testapp.get(round_url + "/edit").forms["round"]["proposal_form_version"].value == proposal_version
    # A version that is not in the list (typed into a tampered request) is refused beside the field.
    edit = testapp.get(round_url + "/edit").forms["round"]
    edit["proposal_form_version"].force_value(application_version)
    refused = edit.submit("submit", status=400)
    assert "Choose a form from the list." in refused.html.select_one(".error-summary").get_text()
    history = testapp.get(round_url + "/changes")
    assert "Proposal form version" in history.text and "full-proposal@1" in history.text


def test_an_applicant_adds_and_removes_table_rows_without_script_and_nothing_typed_is_lost(app, testapp):
    registry = app.registry
    site = build_site(registry)
    content = community_form()
    lines = content["sections"][1]["questions"][0]
    lines["rows"], lines["max_rows"] = 2, 3
    version = published(registry, site, content)
    with registry.database.transaction() as (_tm, db):
        programmes.update_round(db, db.get(Round, site.round.id), registry=registry, application_form_version=version)
    site.sign_in(testapp, site.member)
    round_url = f"/programmes/{site.programme.id}/rounds/{site.round.id}"
    apply = testapp.get(round_url + "/@@apply").forms["apply"]
    apply["title"] = "Village wells"
    app_url = apply.submit("submit", status=302).follow().request.path
    budget_url = app_url + "/@@section/budget"

    page = testapp.get(budget_url)
    assert len(page.html.select("#section-lines input[name=item]")) == 2
    assert "up to 3" in page.html.select_one("#section-lines").get_text()
    # Enter in a text input presses the form's first submit button: it must save and continue,
    # not add a row.
    assert page.html.select_one("form#section").select("button[type=submit]")[0]["name"] == "continue"
    form = page.forms["section"]
    form.set("item", "Pump", index=0)
    form.set("cost", "100", index=0)
    form["amount"] = "150"  # another question of the section: kept too
    # "Add a row" keeps what was typed (blanks allowed, as "come back later") and draws one more row.
    page = form.submit("table_add_row", value="lines", status=302)
    assert "rows-lines=3" in page.location and page.location.endswith("#section-lines")
    page = page.follow()
    items = [i.get("value", "") for i in page.html.select("#section-lines input[name=item]")]
    assert items == ["Pump", "", ""]
    assert page.forms["section"]["amount"].value == "150.00"
    form = page.forms["section"]
    form.set("item", "Pipes", index=1)
    form.set("cost", "50", index=1)
    form.set("item", "Labour", index=2)
    form.set("cost", "30", index=2)
    # Beyond the builder's maximum: refused with a sentence, everything typed still there.
    refused = form.submit("table_add_row", value="lines", status=400)
    assert "This table takes at most 3 rows." in refused.html.select_one(".error-summary").get_text()
    assert [i.get("value", "") for i in refused.html.select("#section-lines input[name=item]")] == [
        "Pump", "Pipes", "Labour"]
    with registry.database.transaction() as (_tm, db):
        from grants.applications.models import Application

        assert [r["item"] for r in db.scalars(select(Application)).one().answers["budget"]["lines"]] == ["Pump"]
    # A row emptied, then "Remove empty rows": the table closes up.
    form = refused.forms["section"]
    form.set("item", "", index=1)
    form.set("cost", "", index=1)
    page = form.submit("table_remove_empty_rows", value="lines", status=302).follow()
    assert [i.get("value", "") for i in page.html.select("#section-lines input[name=item]")] == ["Pump", "Labour"]
    page.forms["section"].submit("continue", status=302)
    with registry.database.transaction() as (_tm, db):
        application = db.scalars(select(Application)).one()
        assert application.answers["budget"]["lines"] == [
            {"item": "Pump", "cost": {"amount": "100.00", "currency": "EUR"}},
            {"item": "Labour", "cost": {"amount": "30.00", "currency": "EUR"}}]
        assert "budget" in application.sections_done
    # A tampered request asking for more rows than allowed is refused, not a 500.
    page = testapp.get(budget_url + "?rows-lines=999")
    assert len(page.html.select("#section-lines input[name=item]")) == 3


def test_the_builder_refuses_a_maximum_of_rows_below_the_rows_offered():
    content = community_form()
    content["sections"][1]["questions"][0]["max_rows"] = 2  # 3 rows offered
    assert [w for w, _r in builder.check_content(content)] == ["sections[1].questions[0].max_rows"]
    content["sections"][1]["questions"][0]["max_rows"] = 5
    assert builder.check_content(content) == []
