"""In a real Chromium, in Arabic: an officer finds the draft round's set-up checklist from the
round's page, reads what is missing, completes it and opens the call from the checklist."""
from __future__ import annotations

import datetime as dt

import pytest

import factories as f
from grants.programmes import services as programmes
from grants.programmes.models import Round

pytestmark = pytest.mark.browser


def submit(page, button) -> None:
    with page.expect_navigation():
        button.click()


def test_an_officer_opens_the_call_from_the_checklist_in_arabic(registry, live_server, page):
    with registry.database.transaction() as (_tm, db):
        prog = programmes.create_programme(db, title="صندوق المدينة", currency="TND")
        f.grant_role(db, f.user(db, email="leila@example.org", name="Leila", locale="ar"), "programme_officer", prog)
        opens = f.now() + dt.timedelta(days=2)
        rnd = programmes.create_round(db, registry, prog, title="دعوة 2026", timezone="Africa/Tunis", opens_at=opens,
                                      closes_at=opens + dt.timedelta(days=30), actor=f.SYSTEM)
        url, round_id = f"{live_server}/programmes/{prog.id}/rounds/{rnd.id}", rnd.id
    page.goto(live_server + "/login")
    page.get_by_label("E-mail address").fill("leila@example.org")
    page.get_by_label("Password").fill(f.PASSWORD)
    submit(page, page.get_by_role("button", name="Sign in").last)
    page.context.add_cookies([{"name": "grants_lang", "value": "ar", "url": live_server}])

    page.goto(url)
    assert page.locator("html").get_attribute("dir") == "rtl"
    submit(page, page.locator("#setup-link"))
    assert page.locator("#setup-status-budget").inner_text() == "لم يبدأ"
    assert page.locator("#setup-missing").inner_text() == "الميزانية"
    assert page.locator("#open-call").count() == 0

    with registry.database.transaction() as (_tm, db):  # the budget, as the edit page would set it
        programmes.update_round(db, db.get(Round, round_id), budget=f.money(90_000, "TND"))
    page.reload()
    assert page.locator("#setup-status-budget").inner_text() == "مكتمل"
    submit(page, page.locator("#open-call"))
    submit(page, page.locator("button[name=fire]"))
    with registry.database.transaction() as (_tm, db):
        assert db.get(Round, round_id).state == "open"
