"""Post-award journeys in a real Chromium against the app on a real waitress server: a
grantee's report is refused while a value is missing (nothing typed is lost), submitted,
returned with comments, corrected and accepted; the officer's release of the tranche that
waits for that report is refused before the acceptance and goes through after it; and the
round's public report, in Arabic, right to left, with its charts."""
from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

import factories as f
from grants.awards.models import Tranche
from grants.awards.services import set_schedule
from grants.mel import framework
from grants.mel.models import Report
from grants.mel.services import field_for
from grants.reporting.public import publish_report

pytestmark = pytest.mark.browser


def submit(page, button) -> None:
    with page.expect_navigation():
        button.click()


def sign_in(page, live_server, email) -> None:
    page.goto(live_server + "/login")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(f.PASSWORD)
    submit(page, page.get_by_role("button", name="Sign in").last)
    assert page.locator("#logout-form").is_visible()


@pytest.fixture
def award_setting(registry):
    with registry.database.transaction() as (_tm, db):
        officer = f.user(db, email="leila@example.org", name="Leila")
        grantee = f.user(db, email="amel@example.org", name="Amel")
        award = f.award(db, registry, org=f.organisation(db, grantee, name="Association AFEK"))
        f.grant_role(db, officer, "programme_officer", award.round.programme)
        reach = framework.add_indicator(db, award, code="OUT-1", title="Young people in the clubs",
                                        level="outputs", measure="unit", unit="people", method="direct_measurement",
                                        baseline_value=Decimal(0), baseline_date=award.starts_on,
                                        disaggregation=["sex"])
        report = db.scalars(select(Report).where(Report.award_id == award.id).order_by(Report.number)).first()
        set_schedule(db, registry, award, [
            {"percent": Decimal(50), "due_on": award.starts_on, "condition": "none"},
            {"percent": Decimal(50), "due_on": report.period_end, "condition": "report_accepted",
             "condition_report": report},
        ], now=f.now())
        base = f"/programmes/{award.round.programme_id}/rounds/{award.round_id}"
        ids = {"round": award.round_id, "award": award.id, "report": report.id,
               "total": field_for(reach), "women": field_for(reach, {"sex": "female"}),
               "men": field_for(reach, {"sex": "male"}),
               "award_url": f"{base}/awards/{award.id}", "report_url": f"{base}/awards/{award.id}/reports/{report.id}",
               "public_url": f"{base}/@@public-report"}
    return ids


def test_a_report_is_returned_corrected_and_accepted_and_only_then_its_tranche_is_released(
        live_server, page, chromium, registry, award_setting):
    ids = award_setting
    sign_in(page, live_server, "amel@example.org")
    page.goto(live_server + ids["report_url"])
    page.locator("#narrative").fill("Clubs started in four schools of Kebili.")
    submit(page, page.locator("#submit-report"))
    summary = page.locator(".error-summary")
    assert summary.is_visible() and "Give the value for OUT-1" in summary.inner_text()
    assert page.locator("#narrative").input_value() == "Clubs started in four schools of Kebili."  # nothing lost
    page.locator("#" + ids["total"]).fill("120")
    page.locator("#" + ids["women"]).fill("70")
    page.locator("#" + ids["men"]).fill("50")
    submit(page, page.locator("#submit-report"))
    assert "is submitted" in page.locator("main [role=status]").inner_text()

    officer = chromium.new_context().new_page()
    sign_in(officer, live_server, "leila@example.org")
    officer.goto(live_server + ids["award_url"])
    submit(officer, officer.locator("#release-2 button"))
    assert "not accepted yet" in officer.locator("#tranche-2 .release-refusal").inner_text()
    officer.goto(live_server + ids["report_url"])
    officer.locator("#review-comment").fill("The figures by sex are missing the school in Douz.")
    submit(officer, officer.locator("#return-report"))

    page.goto(live_server + ids["report_url"])
    assert "missing the school in Douz" in page.locator("#officer-comments").inner_text()
    page.locator("#narrative").fill("Clubs started in five schools of Kebili and Douz.")
    page.locator("#" + ids["total"]).fill("140")
    page.locator("#" + ids["women"]).fill("80")
    page.locator("#" + ids["men"]).fill("60")
    submit(page, page.locator("#submit-report"))

    officer.goto(live_server + ids["report_url"])
    submit(officer, officer.locator("#accept-report"))
    officer.goto(live_server + ids["award_url"])
    submit(officer, officer.locator("#release-2 button"))
    assert officer.locator("#tranche-2 .release-refusal").count() == 0
    with registry.database.transaction() as (_tm, db):
        report = db.get(Report, ids["report"])
        assert report.state == "accepted" and report.narrative.startswith("Clubs started in five schools")
        tranche = db.scalars(select(Tranche).where(Tranche.award_id == ids["award"], Tranche.position == 2)).one()
        assert tranche.state == "released"
    officer.context.close()


def test_the_public_report_reads_right_to_left_in_arabic_with_its_charts(live_server, page, registry, award_setting):
    ids = award_setting
    with registry.database.transaction() as (_tm, db):
        from grants.programmes.models import Round

        publish_report(db, db.get(Round, ids["round"]), now=f.now())
    page.context.add_cookies([{"name": "grants_lang", "value": "ar", "url": live_server}])
    page.goto(live_server + ids["public_url"])
    assert page.locator("html").get_attribute("dir") == "rtl"
    assert page.locator("html").get_attribute("lang") == "ar"
    charts = page.locator("svg[role=img]")
    assert charts.count() >= 1 and charts.first.is_visible()
    assert page.locator("h1").inner_text().strip()
