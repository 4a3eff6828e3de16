"""The shell in a real Chromium against the app on a real waitress server."""
from __future__ import annotations

import pytest

import factories as f

pytestmark = pytest.mark.browser


def test_switching_to_arabic_turns_the_page_right_to_left(live_server, page, tmp_path):
    page.goto(live_server + "/")
    assert page.evaluate("document.documentElement.dir") == "ltr"
    page.get_by_role("button", name="العربية").click()
    page.wait_for_load_state()
    assert page.evaluate("[document.documentElement.lang, document.documentElement.dir]") == ["ar", "rtl"]
    # The RTL stylesheet really applies: the header bar runs right to left, brand first.
    brand_left = page.locator(".navbar-brand").bounding_box()["x"]
    assert brand_left > page.viewport_size["width"] / 2
    page.screenshot(path=str(tmp_path / "arabic-home.png"))
    # The choice is remembered on the next visit.
    page.goto(live_server + "/workflows")
    assert page.evaluate("document.documentElement.dir") == "rtl"


def test_sign_in_and_out_in_a_browser(live_server, page, registry):
    with registry.database.transaction() as (_tm, db):
        f.user(db, email="leila@example.org", name="Leila Ben Ali")
    page.goto(live_server + "/login")
    page.get_by_label("E-mail address").fill("leila@example.org")
    page.get_by_label("Password").fill(f.PASSWORD)
    page.get_by_role("button", name="Sign in").last.click()
    page.wait_for_load_state()
    assert page.locator("header").get_by_text("Leila Ben Ali").is_visible()
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_load_state()
    assert page.get_by_role("link", name="Sign in").is_visible()


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_on_a_320px_phone_the_menu_opens_without_script_and_nothing_overflows(live_server, chromium, registry, lang):
    with registry.database.transaction() as (_tm, db):
        f.user(db, email="leila@example.org", name="Leila Ben Ali Abderrahmane Al-Kairouani")
    # No script at all: the menu is HTML and CSS only.
    context = chromium.new_context(java_script_enabled=False, viewport={"width": 320, "height": 640})
    page = context.new_page()
    try:
        context.add_cookies([{"name": "grants_lang", "value": lang, "url": live_server}])
        page.goto(live_server + "/login")
        page.locator("main input[name=email]").fill("leila@example.org")
        page.locator("main input[name=password]").fill(f.PASSWORD)
        page.locator("main form button[type=submit]").last.click()
        page.wait_for_load_state()
        sign_out = page.locator("#logout-form button")
        assert not sign_out.is_visible()  # folded away in the menu
        summary = page.locator("header summary")
        assert summary.is_visible()
        summary.click()
        assert sign_out.is_visible()
        box = sign_out.bounding_box()
        assert 0 <= box["x"] and box["x"] + box["width"] <= 320
        assert page.locator("header").get_by_text("Leila Ben Ali").is_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= 320
        # On a wide screen there is no menu button: everything is on the bar.
        page.set_viewport_size({"width": 1280, "height": 720})
        page.reload()
        assert not summary.is_visible()
        assert sign_out.is_visible()
    finally:
        context.close()


def test_required_questions_are_marked_beside_their_label(live_server, page, registry):
    with registry.database.transaction() as (_tm, db):
        f.user(db, email="nadia@example.org")
    page.goto(live_server + "/login")
    page.get_by_label("E-mail address").fill("nadia@example.org")
    page.get_by_label("Password").fill(f.PASSWORD)
    page.get_by_role("button", name="Sign in").last.click()
    page.wait_for_load_state()
    page.goto(live_server + "/organisations/new")
    marks = page.evaluate("""() => Object.fromEntries([...document.querySelectorAll('main label.form-label')]
        .map(label => [label.htmlFor, getComputedStyle(label, '::after').content]))""")
    for name in ("legal_name", "registration_number", "legal_form", "country"):
        assert "*" in marks[f"organisation-{name}"], marks
    for name in ("alternative_name", "contact_email", "contact_phone"):
        assert "*" not in marks[f"organisation-{name}"], marks
    # A screen reader hears it from the control itself.
    assert page.get_by_role("combobox", name="Legal form").evaluate("e => e.required")
