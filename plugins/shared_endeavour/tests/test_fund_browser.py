"""An applicant to the fund, in a real Chromium against the app on a real server: the
fund's form in French — ticking the priority themes, a grant in the largest tier refused
without enough match funding, then accepted with it."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from grants.applications.models import Application
from grants.testing import PASSWORD

pytestmark = pytest.mark.browser


def submit(page, button) -> None:
    with page.expect_navigation():
        button.click()


def test_an_applicant_chooses_themes_and_declares_match_funding(grants_live_server, grants_page, grants_registry,
                                                                fund):
    page = grants_page
    page.goto(grants_live_server + "/login")
    page.get_by_label("E-mail address").fill(fund.member_email)
    page.get_by_label("Password").fill(PASSWORD)
    submit(page, page.get_by_role("button", name="Sign in").last)
    page.context.add_cookies([{"name": "grants_lang", "value": "fr", "url": grants_live_server}])

    page.goto(grants_live_server + fund.round_url())
    submit(page, page.locator("#apply"))
    page.get_by_label("Lewisham Young Voices").check()
    page.get_by_label("Quel est le nom de votre projet ?").fill("Voix des jeunes de Lewisham")
    submit(page, page.get_by_role("button", name="Commencer la candidature"))

    submit(page, page.get_by_role("link", name="Choisissez les priorités auxquelles votre projet répond"))
    page.get_by_label("Comment votre projet y répond-il ?").fill("Des ateliers dans les écoles.")
    submit(page, page.get_by_role("button", name="Enregistrer et continuer"))
    assert "Choisissez au moins un des thèmes prioritaires du fonds" in page.locator(".error-summary").inner_text()
    page.get_by_label("Renforcer la résilience face aux discours extrémistes en ligne").check()
    page.get_by_label("Rapprocher les communautés").check()
    submit(page, page.get_by_role("button", name="Enregistrer et continuer"))
    assert page.locator("h1").inner_text() == "Décrivez votre projet"

    page.goto(page.url.replace("/project", "/budget"))
    page.get_by_label("Quel montant demandez-vous ?").fill("60 001")
    page.get_by_label("Financement de contrepartie provenant d'autres sources").fill("20 000")
    submit(page, page.get_by_role("button", name="Enregistrer et continuer"))
    error = page.locator(".error-summary").inner_text().replace("\u202f", " ").replace("\xa0", " ")
    assert "exigent un financement de contrepartie d'au moins 50 % du montant demandé" in error
    assert "30 000,50 £GB" in error
    page.get_by_label("Financement de contrepartie provenant d'autres sources").fill("30 000,50")
    submit(page, page.get_by_role("button", name="Enregistrer et continuer"))
    assert page.locator(".error-summary").count() == 0
    with grants_registry.database.transaction() as (_tm, db):
        application = db.scalars(select(Application)).one()
        assert application.answers["themes"]["themes"] == ["bringing_together", "online_resilience"]
        assert application.answers["budget"]["match_funding"]["amount"] == "30000.50"
        assert "budget" in application.sections_done
