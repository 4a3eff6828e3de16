"""The form builder in a real Chromium, without any script of ours: an officer starts a
form, adds a question with a button, saves, and previews it in Arabic, right to left."""
from __future__ import annotations

import pytest

from grants.programmes import services as programmes
from grants.programmes.models import Programme
from grants.testing import PASSWORD, build_site

pytestmark = pytest.mark.browser


def test_an_officer_builds_and_previews_a_form_in_chromium(live_server, page, registry):
    site = build_site(registry)
    with registry.database.transaction() as (_tm, db):  # a form is written in the programme's languages
        programmes.set_content_languages(db, db.get(Programme, site.programme.id), ["en", "fr", "ar"], "en")
    page.goto(live_server + "/login")
    page.get_by_label("E-mail address").fill(site.officer.email)
    page.get_by_label("Password").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").last.click()
    page.goto(f"{live_server}/programmes/{site.programme.id}")
    page.locator("#forms-link").click()
    page.locator("#new-key").fill("village-fund")
    for code, title in (("en", "Village fund"), ("fr", "Fonds des villages"), ("ar", "صندوق القرى")):
        page.locator(f"#new-title-{code}").fill(title)
    page.locator("#create").click()
    for code, title in (("en", "Your project"), ("fr", "Votre projet"), ("ar", "مشروعك")):
        page.locator(f"#field-s-0-title-{code}").fill(title)
    page.locator("#new-kind-0").select_option("yes_no")
    page.locator("#add-question-0").click()
    assert page.locator("#field-s-0-title-ar").input_value() == "مشروعك"  # saved with the button
    assert page.locator("#field-s-0-title-ar").get_attribute("dir") == "rtl"
    for code, label in (("en", "Do you have a partner?"), ("fr", "Avez-vous un partenaire ?"),
                        ("ar", "هل لديكم شريك؟")):
        page.locator(f"#field-s-0-q-0-label-{code}").fill(label)
    page.locator("#save").click()
    page.locator("#preview-ar").click()
    assert page.locator("html").get_attribute("dir") == "rtl"
    assert page.locator("h1").inner_text() == "مشروعك"
    assert page.get_by_text("هل لديكم شريك؟").is_visible()
