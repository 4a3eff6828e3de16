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
    # The RTL stylesheet really applies: Bootstrap mirrors the navbar's margin-end.
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
