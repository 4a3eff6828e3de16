"""A report's journey through the pages (WebTest, the real app): the grantee opens the
first report of an award with two indicators — a count broken down by sex and a
percentage — and submits it with a value missing: refused, with the reason beside the
input and the narrative kept (and saved as a draft).  They fill in the values and submit.
The officer returns it with comments; the grantee reads them on the report, corrects it
and submits again; the officer accepts it.  The states and the history are right, and
each member of the grantee was mailed, in their own language, at each decision."""
from __future__ import annotations

from decimal import Decimal

import webtest
from sqlalchemy import select

import factories as f
from grants.lifecycle.models import HistoryEntry
from grants.mel import framework
from grants.mel.models import IndicatorValue, Report

NARRATIVE = "Les clubs de théâtre ont démarré dans deux écoles de Kébili ; 42 jeunes y participent."
COMMENTS = "Merci. Donnez le nombre de filles et de garçons séparément, et le score de confiance du mois de septembre."


def browser(app) -> webtest.TestApp:
    return webtest.TestApp(app, extra_environ={"HTTP_HOST": "localhost"})


def main_text(page) -> str:
    return " ".join(page.html.find("main").get_text().split())


def summary_links(page) -> dict[str, str]:
    summary = page.html.find(class_="error-summary")
    assert summary is not None, "no error summary"
    return {a["href"]: " ".join(a.get_text().split()) for a in summary.find_all("a")}


def state_shown(page) -> str:
    label = page.html.find("main").find(string=lambda s: s and s.strip() == "State:")
    return label.find_parent("p").find("strong").get_text(strip=True)


def an_award_with_two_indicators(registry):
    """AFEK's award (members Amel in English, Sami in French, Youssef in Arabic), its results
    framework of two indicators, and Leila, the programme's officer.  Committed."""
    with registry.database.transaction() as (_tm, db):
        amel = f.user(db, email="amel@example.org", name="Amel Ben Salah", locale="en")
        sami = f.user(db, email="sami@example.org", name="Sami", locale="fr")
        youssef = f.user(db, email="youssef@example.org", name="يوسف", locale="ar")
        officer = f.user(db, email="leila@example.org", name="Leila", locale="en")
        award = f.award(db, registry, org=f.organisation(db, amel, sami, youssef, name="AFEK"))
        f.grant_role(db, officer, "programme_officer", award.round.programme)
        report1 = db.scalars(select(Report).where(Report.award_id == award.id, Report.number == 1)).one()
        people = framework.add_indicator(
            db, award, code="OUT1", title="Young people taking part in the clubs", level="outputs", measure="unit",
            unit="people", method="administrative_data", baseline_value=Decimal(0),
            baseline_date=award.starts_on, disaggregation=("sex",), targets={report1: Decimal(40)})
        trust = framework.add_indicator(
            db, award, code="STO1", title="Participants who trust young people from other quarters",
            level="short_term_outcomes", measure="percentage", method="survey",
            baseline_missing_reason="Measured for the first time at the first session.")
        url = f"/programmes/{award.round.programme_id}/rounds/{award.round_id}/awards/{award.id}"
        return url, report1.id, people.id, trust.id


def test_a_report_is_refused_submitted_returned_corrected_and_accepted(app, registry):
    award_url, report_id, people, trust = an_award_with_two_indicators(registry)
    grantee, officer = browser(app), browser(app)
    f.sign_in(grantee, "amel@example.org")
    f.sign_in(officer, "leila@example.org")

    # The grantee finds report 1 among the award's reports.
    reports = grantee.get(award_url + "/@@reports")
    page = reports.click(href=f"/reports/{report_id}/$")
    assert state_shown(page) == "Due"
    assert "Target for this period: 40" in main_text(page)

    # A value is missing: the submission is refused, saying what is missing, and keeps everything.
    form = page.forms["report-form"]
    form["narrative"] = NARRATIVE
    form[f"value-{people}"] = "42"
    form[f"cell-{people}-sex-female"] = "25"
    form[f"cell-{people}-sex-male"] = "17"
    refused = form.submit("submit", status=400)
    assert summary_links(refused) == {
        "#report-form": "Your draft is saved, but the report cannot be submitted yet:",
        f"#value-{trust}": "Give the value for STO1 (Participants who trust young people from other quarters).",
    }
    assert refused.html.find(id=f"error-value-{trust}").get_text(strip=True).startswith("Give the value for STO1")
    kept = refused.forms["report-form"]
    assert kept["narrative"].value == NARRATIVE
    assert (kept[f"value-{people}"].value, kept[f"cell-{people}-sex-female"].value) == ("42", "25")
    assert state_shown(refused) == "Due"

    # The values filled in, the report is submitted.
    kept[f"value-{trust}"] = "٦١٫٥"  # typed with Arabic-Indic digits and the Arabic decimal mark
    submitted = kept.submit("submit").follow()
    assert "Report 1 is submitted." in main_text(submitted)
    assert state_shown(submitted) == "Submitted — to be reviewed"
    assert "report-form" not in submitted.forms  # read-only now
    assert NARRATIVE in submitted.html.find(id="narrative-text").get_text()

    # The officer returns it with comments (after trying without any).
    review = officer.get(f"{award_url}/reports/{report_id}/")
    refused = review.forms["review-form"].submit("return_for_changes", status=400)
    assert "#review-comment" in summary_links(refused)
    form = refused.forms["review-form"]
    form["comment"] = COMMENTS
    returned = form.submit("return_for_changes").follow()
    assert state_shown(returned) == "Returned for changes"
    mail = {m["To"]: m for m in registry.mailer.sent()}
    assert set(mail) == {"amel@example.org", "sami@example.org", "youssef@example.org"}
    assert all(COMMENTS in m.get_content() and f"/reports/{report_id}/" in m.get_content() for m in mail.values())

    # The grantee reads the comments on the report, corrects it and submits it again.
    page = grantee.get(f"{award_url}/reports/{report_id}/")
    assert state_shown(page) == "Returned for changes"
    assert COMMENTS in page.html.find(id="officer-comments").get_text()
    form = page.forms["report-form"]
    assert form[f"value-{trust}"].value == "61.5" and form["narrative"].value == NARRATIVE
    form[f"cell-{people}-sex-female"] = "24"
    form[f"cell-{people}-sex-male"] = "18"
    form[f"cell-{people}-sex-not_stated"] = "0"
    resubmitted = form.submit("submit").follow()
    assert state_shown(resubmitted) == "Submitted — to be reviewed"

    # The officer accepts it.
    review = officer.get(f"{award_url}/reports/{report_id}/")
    accepted = review.forms["review-form"].submit("accept").follow()
    assert state_shown(accepted) == "Accepted"
    assert "review-form" not in accepted.forms
    page = grantee.get(f"{award_url}/reports/{report_id}/")
    assert state_shown(page) == "Accepted" and "report-form" not in page.forms

    with registry.database.transaction() as (_tm, db):
        report = db.get(Report, report_id)
        assert report.state == "accepted" and report.narrative == NARRATIVE
        values = {(v.indicator_id, v.cell): v.value for v in db.scalars(
            select(IndicatorValue).where(IndicatorValue.report_id == report_id))}
        assert values == {(people, ""): Decimal(42), (people, "sex=female"): Decimal(24),
                          (people, "sex=male"): Decimal(18), (people, "sex=not_stated"): Decimal(0),
                          (trust, ""): Decimal("61.5")}
        history = db.scalars(select(HistoryEntry).where(
            HistoryEntry.object_type == "reports", HistoryEntry.object_id == report_id).order_by(HistoryEntry.id)).all()
        assert [(h.trigger, h.from_state, h.to_state) for h in history] == [
            ("create", None, "due"), ("submit", "due", "submitted"),
            ("return_for_changes", "submitted", "returned"), ("submit", "returned", "submitted"),
            ("accept", "submitted", "accepted")]
        assert history[2].comment == COMMENTS
        users = {h.trigger: h.user_id for h in history[1:]}
        assert users["return_for_changes"] == users["accept"] != users["submit"]

    sent = registry.mailer.sent()
    assert sorted(m["To"] for m in sent) == sorted(["amel@example.org", "sami@example.org",
                                                    "youssef@example.org"] * 2)
    accepted_mail = {m["To"]: m["Subject"] for m in sent[3:]}
    # Each in the member's language, not the officer's: the state's name in French for Sami.
    assert accepted_mail["amel@example.org"].endswith(": Accepted")
    assert accepted_mail["sami@example.org"].endswith(": Acceptée")
    assert not accepted_mail["youssef@example.org"].endswith(("Accepted", "Acceptée"))
