"""BLADI's demo, loaded through the services with the plugin enabled: its round's funnel
agrees with its applications at every step (264 applied, 20 incubated, 11 funded), every
application that did not go on ends in a final state with a reason, and the year after the
decisions (awards in dinars from a dollar budget at 2.8718, quarterly reports, tranches,
the evaluation and the public report) is there."""
from __future__ import annotations

import datetime as dt
import io
import re
from collections import Counter
from decimal import Decimal

from sqlalchemy import func, select

from grants.accounts.models import Organisation
from grants.applications.eligibility import ineligible_reasons
from grants.applications.models import Application
from grants.demo import DEMO_PASSWORD, load_demo
from grants.incubation.models import CapacityScore, Cohort
from grants.lifecycle.models import HistoryEntry
from grants.programmes.models import Round
from grants.programmes.services import round_funnel
from grants.review.models import Decision, Review, ReviewAssignment, ScoreModeration, SelectionOverride
from grants.testing import sign_in
from grants_bladi.demo import APPLICANT, FX_DATE, FX_RATE, PEOPLE
from grants_bladi.demo import load_demo as load_bladi

ARABIC = re.compile(r"[\u0600-\u06FF]")


def _check_funnel(db, registry, rnd) -> Counter:
    """The funnel's counts are the applications' states, read another way."""
    funnel = round_funnel(db, rnd, registry)
    states = Counter(db.scalars(select(Application.state).where(Application.round_id == rnd.id)))
    assert funnel.total == sum(states.values())
    assert {s: n for s, n in funnel.by_state if n} == dict(states)
    assert sum(n for _s, n in funnel.by_state) == funnel.total
    return Counter(dict(funnel.reached))


def test_the_demo_runs_a_whole_bladi_call_and_its_funnel_agrees_at_every_step(grants_registry, grants_testapp):
    registry, testapp = grants_registry, grants_testapp
    seen = {}

    def on_step(name, db, rnd):
        seen[name] = _check_funnel(db, registry, rnd)

    out = io.StringIO()
    load_bladi(registry, out, dt.datetime.now(dt.timezone.utc), on_step=on_step)
    # the whole demo: grants' own, then BLADI's, already there; reports past due become overdue
    again = io.StringIO()
    load_demo(registry, out=again)
    assert "already loaded" in again.getvalue().split("BLADI (Tunisia)")[1]
    assert list(seen) == ["applied", "screened", "incubation", "proposals", "decided", "awarded"]
    assert seen["applied"]["submitted"] >= 250
    assert seen["incubation"]["incubation"] == 20
    assert seen["decided"]["incubation"] == 20 and seen["decided"]["selected"] == 11

    with registry.database.transaction() as (_tm, db):
        call = db.scalars(select(Round).order_by(Round.id)).first()
        assert call.opens_at.astimezone(call.opens_at.tzinfo).date().isoformat() == "2018-12-25"
        assert call.state == "decided"
        states = Counter(db.scalars(select(Application.state).where(Application.round_id == call.id)))
        assert sum(states.values()) >= 250
        assert states["selected"] == 11 and states["not_funded"] == 9
        # everyone else is in a final state
        workflow = registry.workflows.get("application").definition
        assert all(workflow.states[s].final or s == "selected" for s in states)

        # from all 24 governorates, with Arabic and French names
        regions = dict(round_funnel(db, call, registry).by_region)
        assert len([c for c in regions if c.startswith("TN-")]) == 24
        names = list(db.scalars(select(Organisation.legal_name)))
        assert sum(bool(ARABIC.search(n)) for n in names) >= 100
        assert sum(n.startswith("Association") for n in names) >= 100

        # final states carry their reasons
        apps = list(db.scalars(select(Application).where(Application.round_id == call.id)))
        decisions = {}
        for d in db.scalars(select(Decision)):
            decisions.setdefault(d.application_id, []).append(d)
        for app in apps:
            if app.state in ("declined", "not_funded"):
                assert decisions[app.id][-1].reason.strip(), app.id
            if app.state == "ineligible":
                assert ineligible_reasons(app, "en"), app.id
            if app.state == "withdrawn":
                comment = db.scalar(select(HistoryEntry.comment).where(
                    HistoryEntry.object_id == app.id, HistoryEntry.object_type == "applications",
                    HistoryEntry.to_state == "withdrawn"))
                assert comment.strip()
        references = {d.funder_reference for ds in decisions.values() for d in ds}
        assert {"BLADI-SC-2019-03", "US-DOS-MEPI-2019-117"} <= references

        # reviews and scores, a declared conflict, a moderation and an override
        assert db.scalar(select(func.count()).select_from(Review).where(Review.submitted_at.is_not(None))) >= 2 * 200
        assert db.scalar(select(func.count()).select_from(ReviewAssignment).where(ReviewAssignment.conflict)) >= 1
        assert db.scalar(select(func.count()).select_from(ScoreModeration)) == 1
        assert db.scalar(select(func.count()).select_from(SelectionOverride)) == 2

        # the cohort: 20 members, capacity scored in five areas at entry and at exit
        cohort = db.scalars(select(Cohort)).one()
        assert len(cohort.members) == 20 and len(cohort.sessions) == 8
        assert (cohort.ends_on - cohort.starts_on).days in range(119, 124)  # four months
        per_phase = Counter(db.scalars(select(CapacityScore.phase)))
        assert per_phase == {"entry": 100, "exit": 100}

        # a second call is open, with the demo applicant's draft
        second = db.scalars(select(Round).where(Round.programme_id == call.programme_id)
                            .order_by(Round.id.desc())).first()
        assert second.state == "open"
        assert [a.state for a in second.applications] == ["draft"]

    assert "call 1: 264 applied, 20 incubated, 11 selected" in out.getvalue()
    for person in PEOPLE:
        assert person.email in again.getvalue()

    # the pages of the decided call still show its record to its officer
    sign_in(testapp, "officer@bladi.example.org", DEMO_PASSWORD)
    url = f"/programmes/{call.programme_id}/rounds/{call.id}"
    page = testapp.get(url)
    assert "264" in page.html.find(id="funnel").get_text()
    ranking = testapp.get(url + "/@@ranking?stage=proposal")
    assert len(ranking.html.find(id="decided").tbody.find_all("tr")) >= 20
    assert "BLADI cohort 2019" in testapp.get(url + "/@@incubation").text
    testapp.get(url + "/@@screening")
    # the applicant sees AFEK's application selected, in Arabic
    testapp.post("/logout", {"csrf_token": testapp.get("/").html.find("input", {"name": "csrf_token"})["value"]})
    sign_in(testapp, APPLICANT, DEMO_PASSWORD)
    with registry.database.transaction() as (_tm, db):
        afek = db.scalars(select(Application).join(Application.organisation).where(
            Application.round_id == call.id, Organisation.legal_name == "جمعية أفق")).one()
        afek_url = f"{url}/applications/{afek.id}"
    mine = testapp.get(afek_url)
    assert mine.html.find("html")["dir"] == "rtl" and "تم اختياره للتمويل" in mine.text  # the public label
    # her colleague is invited to AFEK, and not a member until she accepts
    afek_page = testapp.get(f"/organisations/{afek.organisation_id}")
    invited = afek_page.html.select("table.invitations tbody tr")
    assert [tr.find("td").get_text().strip() for tr in invited] == ["youssef@afek.example.org"]
    assert "youssef@afek.example.org" not in afek_page.html.select_one("table.members").get_text()

    _check_post_award(registry, testapp, call.id)


def _check_post_award(registry, testapp, bladi_call_id):
    """BLADI's awards and their year of MEL, the public report and both exports of the
    demo data."""
    import json

    from grants.awards.models import Award, Disbursement
    from grants.evaluation.models import Assessment, RoundEvaluation
    from grants.mel.models import Evidence, IndicatorValue, Report, SurveyUpload
    from grants.reporting import exports

    with registry.database.transaction() as (_tm, db):
        bladi = db.get(Round, bladi_call_id)
        awards = db.scalars(select(Award).where(Award.round_id == bladi.id)).all()
        assert len(awards) == 11
        for award in awards:
            assert award.currency == "TND" and award.source_currency == "USD"
            # the dinar amount is the dollar budget at the recorded rate, to the millime
            assert (award.fx_rate, award.fx_date) == (FX_RATE, FX_DATE) == (Decimal("2.8718"), dt.date(2019, 9, 30))
            assert award.amount.amount == (award.source_amount.amount * award.fx_rate).quantize(Decimal("0.001"))
            assert award.agreement_file_id is not None
            states = Counter(r.state for r in db.scalars(select(Report).where(Report.award_id == award.id)))
            assert sum(states.values()) == 4  # quarterly over twelve months
        report_states = Counter(db.scalars(select(Report.state).join(Award).where(Award.round_id == bladi.id)))
        assert report_states["accepted"] >= 40 and report_states["overdue"] == 1 and report_states["returned"] == 1
        assert db.scalar(select(func.count()).select_from(IndicatorValue)) > 0
        assert db.scalar(select(func.count()).select_from(SurveyUpload)) > 0
        assert db.scalar(select(func.count()).select_from(Evidence)) >= 1
        assert db.scalar(select(func.count()).select_from(Assessment).join(Award)
                         .where(Award.round_id == bladi.id)) == 11
        assert db.scalar(select(RoundEvaluation).where(RoundEvaluation.round_id == bladi.id)).shortcomings
        assert bladi.report_published_at is not None
        paid = db.scalars(select(Disbursement).join(Award).where(Award.round_id == bladi.id)).all()
        assert paid and all(d.currency == "TND" for d in paid)

        # the exports carry BLADI's grants in dinars (the rest of the demo is grants' own)
        package = json.loads(exports.threesixty_giving(db, registry, fmt="json"))
        tnd = [g for g in package["grants"] if g["currency"] == "TND"]
        assert len(tnd) == 11 and all(g["fundingOrganization"][0]["name"] == "US Department of State" for g in tnd)
        assert exports.iati_activities(db, registry).count(b"<iati-activity") == len(package["grants"])
        report_urls = {bladi.id: f"/programmes/{bladi.programme_id}/rounds/{bladi.id}/@@public-report"}

    # the public reports, for anyone, in three languages
    testapp.post("/logout", {"csrf_token": testapp.get("/").html.find("input", {"name": "csrf_token"})["value"]})
    for url in report_urls.values():
        for lang in ("en", "fr", "ar"):
            testapp.set_cookie("grants_lang", lang)
            page = testapp.get(url)
            assert page.html.find("html")["lang"] == lang
            assert page.html.find("svg", attrs={"role": "img"}) is not None
