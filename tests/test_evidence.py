"""Triangulation evidence: kept only with a consent record, linked to an outcome of the
award's own theory of change, always marked not representative — and never counted in
any aggregate.  Then the award's evidence page."""
from __future__ import annotations

import datetime as dt

import pytest
import transaction
from sqlalchemy import func, select

import factories as f
from grants.files import store
from grants.mel import evidence as ev
from grants.mel import surveys
from grants.mel.evidence import EvidenceRefused
from grants.mel.models import Evidence, Indicator, IndicatorValue, Report, TocElement
from grants.workflow.engine import plain

NOW = dt.datetime(2019, 11, 4, 9, 30, tzinfo=dt.timezone.utc)
TODAY = NOW.date()


def problems(refused) -> list[tuple]:
    return [(name, plain(reason)) for name, reason in refused.value.problems]


def element(db, award, kind, text="Pupils trust each other more"):
    row = TocElement(award_id=award.id, kind=kind, text=text)
    db.add(row)
    db.flush()
    return row


def consent(**overrides):
    return {"consent_given": True, "consent_method": "written", "consent_date": dt.date(2019, 10, 30), **overrides}


def test_evidence_is_kept_with_its_consent_record_and_marked_not_representative(db, registry):
    award = f.award(db, registry)
    outcome = element(db, award, "short_term_outcomes")
    member = f.user(db)
    signed = store(db, registry.settings, filename="consent.pdf", data=f.PDF)
    item = ev.add_evidence(db, award, kind="testimonial", title="  A mother on the theatre club ",
                           text="My son talks to the neighbours' children now.", toc_element=outcome,
                           consent_file=signed, sensitive=True, user=member, now=NOW, **consent())
    assert (item.title, item.toc_element_id, item.not_representative, item.consent_given, item.consent_method,
            item.consent_date, item.consent_file_id, item.sensitive, item.created_by_id) == (
        "A mother on the theatre club", outcome.id, True, True, "written", dt.date(2019, 10, 30), signed.id, True,
        member.id)
    assert ev.evidence_of(db, award) == [item]
    assert ev.evidence_of(db, award, include_sensitive=False) == []


def test_evidence_without_consent_is_refused_and_nothing_is_kept(db, registry):
    award = f.award(db, registry)
    with pytest.raises(EvidenceRefused) as refused:
        ev.add_evidence(db, award, kind="diary", title="Week 3", text="…", now=NOW,
                        consent_given=False, consent_method="", consent_date=None)
    assert problems(refused) == [
        ("consent_given", "Evidence about a person is kept only with their consent: confirm that consent was given."),
        ("consent_method", "Choose how consent was given."),
        ("consent_date", "Enter the date consent was given, with a day, month and year."),
    ]
    with pytest.raises(EvidenceRefused) as refused:
        ev.add_evidence(db, award, kind="diary", title="Week 3", text="…", now=NOW,
                        **consent(consent_date=TODAY + dt.timedelta(days=1)))
    assert problems(refused) == [("consent_date", "The date consent was given cannot be in the future.")]
    assert db.scalar(select(func.count()).select_from(Evidence)) == 0


def test_evidence_links_only_to_an_outcome_or_the_impact_of_the_same_award(db, registry):
    award = f.award(db, registry)
    other = f.award(db, registry, title="Radio in Sfax")
    activity = element(db, award, "activities", "Weekly theatre clubs")
    elsewhere = element(db, other, "short_term_outcomes")
    impact = element(db, award, "impact", "A more cohesive town")
    custom = element(db, award, "intermediate_outcomes", "Schools keep the clubs")
    for wrong, reason in ((activity, "Evidence is linked to an outcome or to the impact, not to an activity or "
                                     "output: choose an outcome."),
                          (elsewhere, "Choose an outcome of this grant's theory of change."),
                          (999_999, "Choose an outcome of this grant's theory of change.")):
        with pytest.raises(EvidenceRefused) as refused:
            ev.add_evidence(db, award, kind="success_story", title="A story", text="…", toc_element=wrong, now=NOW,
                            **consent())
        assert problems(refused) == [("toc_element", reason)]
    for right in (impact, custom.id):
        ev.add_evidence(db, award, kind="success_story", title="A story", text="…", toc_element=right, now=NOW,
                        **consent())
    assert [e.text for e in ev.outcome_elements(db, award)] == ["A more cohesive town", "Schools keep the clubs"]


def test_evidence_needs_a_kind_a_title_and_the_account(db, registry):
    award = f.award(db, registry)
    with pytest.raises(EvidenceRefused) as refused:
        ev.add_evidence(db, award, kind="rumour", title=" ", text="", now=NOW, **consent())
    assert [name for name, _r in refused.value.problems] == ["kind", "title", "text"]
    video = store(db, registry.settings, filename="diary.pdf", data=f.PDF)
    item = ev.add_evidence(db, award, kind="video_diary", title="Diary", file=video, now=NOW, **consent())
    assert item.file_id == video.id and item.text == ""


def test_evidence_never_enters_an_aggregate(db, registry):
    award = f.award(db, registry)
    inst = surveys.create_instrument(db, code="belonging", title="Belonging", items=[
        {"code": "q1", "text": "I belong.", "scale": 5, "labels": ["1", "2", "3", "4", "5"]}])
    surveys.attach_instrument(db, award.round, inst, ["baseline"])
    surveys.upload_survey_results(db, registry, award, inst, "baseline",
                                  b"item,count_1,count_2,count_3,count_4,count_5\nq1,1,2,3,4,5\n", filename="b.csv")
    outcome = element(db, award, "short_term_outcomes")
    db.add(Indicator(award_id=award.id, code="OC1", title="Belonging", level="short_term_outcomes",
                     measure="percentage", method="survey", instrument_code="belonging", instrument_item="q1",
                     toc_element_id=outcome.id))
    report = db.scalars(select(Report).where(Report.award_id == award.id).order_by(Report.number)).first()

    def aggregates():
        surveys.rollup_to_indicators(db, award, report)
        values = sorted((v.indicator_id, v.cell, v.value, v.source)
                        for v in db.scalars(select(IndicatorValue).where(IndicatorValue.report_id == report.id)))
        results = [(r.code, r.version, w.wave, i.item, i.respondents, i.mean, i.agree_share)
                   for r in surveys.award_results(db, award) for w in r.waves for i in w.items]
        return results, surveys.round_survey_summary(db, award.round), values

    before = aggregates()
    for n in range(3):
        ev.add_evidence(db, award, kind="testimonial", title=f"Story {n}", text="Everything changed for me.",
                        toc_element=outcome, now=NOW, **consent())
    after = aggregates()
    assert before == after
    assert before[0] and before[1] and before[2]  # the aggregates exist, so the comparison means something


# -- the page ------------------------------------------------------------------------------------------


def _award_with_people(registry):
    with registry.database.transaction() as (_tm, db):
        member = f.user(db, email="amel@example.org", name="Amel")
        officer = f.user(db, email="leila@example.org", name="Leila")
        stranger = f.user(db, email="sami@example.org", name="Sami")
        award = f.award(db, registry, org=f.organisation(db, member, name="Association Afek"))
        f.grant_role(db, officer, "programme_officer", award.round.programme)
        outcome = element(db, award, "short_term_outcomes", "Pupils trust each other more")
        activity = element(db, award, "activities", "Weekly clubs")
        url = (f"/programmes/{award.round.programme_id}/rounds/{award.round_id}/awards/{award.id}")
        ids = {"award": award.id, "outcome": outcome.id, "activity": activity.id, "stranger": stranger.id}
    return url, ids


def test_the_evidence_page_adds_evidence_with_consent_and_labels_it_not_representative(testapp, registry):
    url, ids = _award_with_people(registry)
    f.sign_in(testapp, "amel@example.org")
    page = testapp.get(url + "/@@evidence")
    assert "No evidence has been added yet." in page.text
    options = [o[0] for o in page.forms["evidence"]["toc_element"].options]
    assert str(ids["outcome"]) in options and str(ids["activity"]) not in options  # outcomes only

    # No consent: refused, the reason beside the field, everything typed kept.
    form = page.forms["evidence"]
    form["kind"] = "testimonial"
    form["title"] = "A mother on the theatre club"
    form["text"] = "My son talks to the neighbours' children now."
    form["toc_element"] = str(ids["outcome"])
    form["consent_method"] = "written"
    form["consent_date-day"], form["consent_date-month"], form["consent_date-year"] = "30", "octobre", "2019"
    failed = form.submit(status=400)
    assert failed.html.title.get_text().strip().startswith("Error:")
    summary = failed.html.select_one(".error-summary")
    assert summary.a["href"] == "#evidence-consent_given"
    assert "kept only with their consent" in summary.get_text()
    assert failed.forms["evidence"]["title"].value == "A mother on the theatre club"
    assert failed.forms["evidence"]["consent_date-month"].value == "octobre"
    with registry.database.transaction() as (_tm, db):
        assert db.scalar(select(func.count()).select_from(Evidence)) == 0

    form = failed.forms["evidence"]
    form["consent_given"] = True
    form["consent_file"] = ("consent.pdf", f.PDF, "application/pdf")
    done = form.submit().follow()
    assert "Evidence added" in done.text
    listed = done.html.find(id="evidence-list")
    assert "Not representative — an individual account" in listed.get_text()
    assert "A mother on the theatre club" in listed.get_text()
    assert "Pupils trust each other more" in listed.get_text()
    assert "30" in listed.get_text() and "2019" in listed.get_text()
    with registry.database.transaction() as (_tm, db):
        (item,) = db.scalars(select(Evidence)).all()
        assert (item.consent_given, item.consent_method, item.consent_date, item.not_representative) == (
            True, "written", dt.date(2019, 10, 30), True)
        assert item.consent_file_id is not None
    consent_link = listed.find("a", string=lambda s: s and "consent.pdf" in s)
    download = testapp.get(consent_link["href"])
    assert download.body == f.PDF


def test_people_outside_the_award_cannot_read_or_add_evidence(testapp, registry):
    url, _ids = _award_with_people(registry)
    f.sign_in(testapp, "sami@example.org")
    testapp.get(url + "/@@evidence", status=403)
    testapp.post(url + "/@@evidence", {"title": "x"}, status=403)
    transaction.abort()
