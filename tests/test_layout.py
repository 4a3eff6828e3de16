"""The page shell and its theme, over real HTTP: the menu that needs no script, the icon,
state badges that say their state in words, required markers on every kind of question,
and a deployment's own stylesheet.  How it looks in a browser: test_browser_crawl.py and
test_browser_shell.py."""
from __future__ import annotations

import colander
import deform
import pytest
import webtest

from grants.applications.formdefs import CheckboxesWidget, RadiosWidget
from grants.lifecycle.meanings import state_tone
from grants.testing import make_application


def test_the_navigation_is_a_details_menu_and_the_page_runs_no_script(testapp):
    page = testapp.get("/")
    menu = page.html.select_one("header details.site-menu")
    assert menu.select_one("summary").get_text(strip=True) == "Menu"
    assert menu.select_one("nav[aria-label=Main]") is not None
    assert menu.select_one("#language-form") is not None
    assert page.html.find("script") is None
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]


def test_the_menu_is_translated(testapp):
    testapp.set_cookie("grants_lang", "ar")
    page = testapp.get("/")
    assert page.html.select_one("header summary").get_text(strip=True) == "القائمة"
    assert page.html.html["dir"] == "rtl"


def test_the_icon_is_linked_and_favicon_ico_answers(testapp):
    page = testapp.get("/")
    icon = page.html.select_one("link[rel=icon]")
    assert icon["type"] == "image/svg+xml"
    svg = testapp.get(icon["href"].replace("http://localhost", ""))
    assert svg.content_type == "image/svg+xml" and b"<svg" in svg.body
    ico = testapp.get("/favicon.ico")
    assert ico.status_int == 200
    assert ico.content_type == "image/svg+xml"
    assert ico.body == svg.body


def test_the_arabic_typeface_and_its_licence_are_served(testapp):
    css = testapp.get("/static/grants.css").text
    assert "Noto Naskh Arabic" in css
    font = testapp.get("/static/vendor/noto-naskh-arabic/noto-naskh-arabic-arabic-400-normal.woff2")
    assert font.body[:4] == b"wOF2"
    assert "SIL Open Font License" in testapp.get("/static/vendor/noto-naskh-arabic/LICENSE").text


def test_a_state_badge_says_the_state_and_is_coloured_by_its_meaning(registry, testapp, grants_site):
    from grants.applications.models import Application

    draft = make_application(registry, grants_site, title="Draft one")
    submitted = make_application(registry, grants_site, title="Submitted one", state="submitted")
    with registry.database.transaction() as (_tm, db):
        assert state_tone(db.get(Application, draft)) == "neutral"
        assert state_tone(db.get(Application, submitted)) == "progress"
        urls = {app_id: f"/programmes/{grants_site.programme.id}/rounds/{grants_site.round.id}/applications/{app_id}"
                for app_id in (draft, submitted)}
    grants_site.sign_in(testapp, grants_site.officer)
    badge = testapp.get(urls[submitted]).html.select_one("main .state-badge")
    assert badge.name == "strong"
    assert badge["class"] == ["state-badge", "state-progress"]
    assert badge.get_text(strip=True).startswith("Submitted")


def test_a_round_s_state_badge_and_a_table_that_scrolls_in_a_named_region(registry, testapp, grants_site):
    grants_site.sign_in(testapp, grants_site.officer)
    page = testapp.get(f"/programmes/{grants_site.programme.id}/rounds/{grants_site.round.id}")
    badge = page.html.select_one("main .state-badge")
    assert "state-progress" in badge["class"] and badge.get_text(strip=True) == "Open"
    regions = page.html.select("main .table-responsive")
    assert regions
    for region in regions:
        assert region["tabindex"] == "0" and region["role"] == "region"
        assert page.html.find(id=region["aria-labelledby"]).get_text(strip=True)


def test_every_table_of_every_template_scrolls_in_a_named_region():
    """No wide table widens a page on a phone: each is in a keyboard-reachable region
    named by its caption or heading (or, in a macro that knows no heading, by a label).
    grants' templates, and those of the plugins maintained with it."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    templates = sorted((root / "templates").glob("**/*.pt")) + sorted((root / "plugins").glob("*/*/templates/**/*.pt"))
    assert any(path.is_relative_to(root / "plugins") for path in templates)  # the plugins' are read too
    bare = []
    for path in templates:
        text = path.read_text()
        for table in re.finditer(r"<table\b[^>]*>", text):
            if "use-macro" in table.group(0):
                continue
            opening = re.search(r"<div\b[^>]*>\s*$", text[:table.start()])
            named = opening and ('aria-labelledby="' in opening.group(0) or 'aria-label="' in opening.group(0))
            if not (named and all(attribute in opening.group(0) for attribute in (
                    'class="table-responsive"', 'tabindex="0"', 'role="region"'))):
                bare.append(f"{path.relative_to(root)}: {table.group(0)}")
    assert bare == []


def test_required_questions_of_every_kind_are_marked(app):
    """Radios and ticks carry a marker with hidden words; labelled controls carry the
    required attribute that grants.css marks and screen readers announce."""
    choices = [("a", "A"), ("b", "B")]
    schema = colander.SchemaNode(colander.Mapping())
    schema.add(colander.SchemaNode(colander.String(), name="one", title="Pick one", widget=RadiosWidget(values=choices)))
    schema.add(colander.SchemaNode(colander.Set(), name="some", title="Tick some", widget=CheckboxesWidget(values=choices)))
    schema.add(colander.SchemaNode(colander.String(), name="maybe", title="Maybe", missing="",
                                   widget=RadiosWidget(values=choices)))
    schema.add(colander.SchemaNode(colander.String(), name="kind", title="Kind",
                                   widget=deform.widget.SelectWidget(values=choices)))
    schema.add(colander.SchemaNode(colander.String(), name="note", title="Note",
                                   widget=deform.widget.TextAreaWidget()))
    from bs4 import BeautifulSoup

    html = BeautifulSoup(deform.Form(schema).render(), "html.parser")
    legends = {legend.contents[0].strip(): legend for legend in html.select("legend")}
    for title in ("Pick one", "Tick some"):
        marker = legends[title].select_one(".required-marker")
        assert marker.select_one("[aria-hidden=true]").get_text() == "*"
        assert marker.select_one(".visually-hidden").get_text() == "(required)"
    assert legends["Maybe"].select_one(".required-marker") is None
    assert html.select_one("select[name=kind]").has_attr("required")
    assert html.select_one("textarea[name=note]").has_attr("required")


@pytest.fixture
def themed_settings(settings):
    settings["grants.stylesheets"] = "grants:static/favicon.svg"  # any served asset stands for a theme
    return settings


def test_a_deployment_s_stylesheet_comes_after_grants_own(themed_settings):
    from grants import make_app

    client = webtest.TestApp(make_app(themed_settings), extra_environ={"HTTP_HOST": "localhost"})
    sheets = [link["href"] for link in client.get("/").html.select("link[rel=stylesheet]")]
    from grants.static_files import unhashed_name

    assert unhashed_name(sheets[-2].split("/static/")[1]) == "grants.css"
    assert unhashed_name(sheets[-1].split("/static/")[1]) == "favicon.svg"


def test_the_organisation_form_s_required_questions_say_so(registry, testapp):
    import factories as f

    with registry.database.transaction() as (_tm, db):
        f.user(db, email="nadia@example.org")
    f.sign_in(testapp, "nadia@example.org")
    form = testapp.get("/organisations/new").html
    required = {control["name"] for control in form.select("main form [required]")}
    assert required == {"legal_name", "registration_number", "legal_form", "country"}
