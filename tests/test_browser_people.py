"""Inviting a programme officer in a real Chromium: the invitee, who has no account,
registers from the mailed link and lands signed in with the role."""
from __future__ import annotations

import re

import pytest

import factories as f

pytestmark = pytest.mark.browser


def test_an_invited_officer_registers_from_the_link_and_lands_with_the_role(live_server, page, registry):
    with registry.database.transaction() as (_tm, db):
        f.user(db, email="admin@example.org", name="Admin", admin=True)
        prog_id = f.programme(db, title="Community Fund").id
    page.goto(live_server + "/login")
    page.get_by_label("E-mail address").fill("admin@example.org")
    page.get_by_label("Password").fill(f.PASSWORD)
    page.get_by_role("button", name="Sign in").last.click()
    page.wait_for_load_state()

    page.goto(f"{live_server}/programmes/{prog_id}/people")
    page.get_by_label("Their e-mail address").fill("nour@example.org")
    page.get_by_label("Role").select_option("programme_officer")
    page.get_by_role("button", name="Send the invitation").click()
    page.wait_for_load_state()
    assert page.locator("#waiting").get_by_text("nour@example.org").is_visible()
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_load_state()

    mail = [m for m in registry.mailer.sent() if m["To"] == "nour@example.org"][-1]
    page.goto(re.search(r"(http://\S+/role-invitations/\S+)", mail.get_content()).group(1))
    page.get_by_role("link", name="Create an account to accept").click()
    page.wait_for_load_state()
    page.get_by_label("Full name").fill("Nour Officer")
    page.get_by_label("Password").fill("a long enough passphrase")
    page.get_by_role("button", name="Create account and accept").click()
    page.wait_for_load_state()
    assert page.url.rstrip("/").endswith(f"/programmes/{prog_id}")
    assert page.get_by_text("You now have the role “Programme officer” on Community Fund.").is_visible()
    assert page.locator("header").get_by_text("Nour Officer").is_visible()
    assert page.get_by_role("link", name="Edit the programme").is_visible()  # she manages it now
