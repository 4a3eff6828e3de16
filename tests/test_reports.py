"""Reports: saving the grantee's draft (totals and disaggregated cells, one row per cell,
checked against the indicator's breakdown, percentages and totals), what stops a
submission, the officer's comments, mail to the grantee in each member's language after
commit, reminders before the due date, and the pages — the award's ``@@reports``, a
report's own page for the grantee, the officer and the evaluator, and the round's
``@@reports-due``."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

import factories as f
from grants.awards.models import Award
from grants.lifecycle.services import WorkflowService
from grants.mel import framework, services
from grants.mel.models import IndicatorValue, Report
from grants.mel.services import ReportRefused, save_report
from grants.workflow import Refused
from grants.workflow.engine import plain

D = dt.date
UTC = dt.timezone.utc


def reasons(refused) -> list[str]:
    return [plain(r) for r in refused.value.reasons]


def fields(refused) -> list:
    return [name for name, _reason in refused.value.problems]


def reports(db, award) -> list[Report]:
    return list(db.scalars(select(Report).where(Report.award_id == award.id).order_by(Report.number)))


def submit(db, registry, report, **fire) -> None:
    """Write the report in full (narrative, a total for every indicator) and submit it."""
    award = db.get(Award, report.award_id)
    values = [(i, {}, None, "Schools asked for more") if i.measure == "qualitative" else (i, {}, Decimal(50), "")
              for i in framework.indicators_of(db, award)]
    save_report(db, report, narrative="Clubs started in Kebili.", values=values)
    WorkflowService(registry.workflows, db).fire(report, "submit", actor=f.SYSTEM, **fire)


def framework_of(db, award):
    """Three indicators: a count by sex, age band and region; a percentage; a description."""
    people = framework.add_indicator(db, award, code="OUT1", title="Young people in the clubs", level="outputs",
                                     measure="unit", unit="people", method="administrative_data",
                                     baseline_value=Decimal(0), baseline_date=D(2019, 6, 1),
                                     disaggregation=("sex", "age_band", "region"))
    trust = framework.add_indicator(db, award, code="STO1", title="Trust across quarters",
                                    level="short_term_outcomes", measure="percentage", method="survey",
                                    baseline_missing_reason="Measured at the first session")
    story = framework.add_indicator(db, award, code="MTO1", title="How schools describe the change",
                                    level="medium_term_outcomes", measure="qualitative", method="focus_group",
                                    baseline_missing_reason="Not measurable before")
    return people, trust, story


# -- saving ------------------------------------------------------------------------------------------


def test_a_draft_keeps_one_row_per_cell_with_exact_values(db, registry):
    award = f.award(db, registry)
    people, trust, story = framework_of(db, award)
    r1 = reports(db, award)[0]
    save_report(db, r1, narrative="Clubs started in two schools.", values=[
        (people, {}, Decimal(42), ""),
        (people, {"sex": "female"}, Decimal(25), ""),
        (people, {"sex": "male"}, Decimal(17), ""),
        (people, {"age_band": "15_17", "sex": "female"}, Decimal(10), ""),
        (people, {"region": "TN-73"}, Decimal(42), ""),
        (trust, {}, Decimal("61.5"), ""),
        (story, {}, None, "Two schools asked to keep the clubs."),
    ])
    rows = {(v.indicator_id, v.cell): v for v in db.scalars(select(IndicatorValue))}
    assert set(rows) == {(people.id, ""), (people.id, "sex=female"), (people.id, "sex=male"),
                         (people.id, "age_band=15_17;sex=female"), (people.id, "region=TN-73"), (trust.id, ""),
                         (story.id, "")}
    assert rows[(people.id, "age_band=15_17;sex=female")].dimensions == {"age_band": "15_17", "sex": "female"}
    assert rows[(trust.id, "")].value == Decimal("61.5")
    assert rows[(story.id, "")].text == "Two schools asked to keep the clubs."

    # Saving again replaces a cell's value, clears a cell given blank, keeps cells not given.
    save_report(db, r1, narrative="Clubs started in two schools.", values=[
        (people, {}, Decimal(45), ""), (people, {"sex": "female"}, Decimal(27), ""),
        (people, {"sex": "male"}, None, ""),
    ])
    db.expire_all()
    rows = {(v.indicator_id, v.cell): v.value for v in db.scalars(select(IndicatorValue))}
    assert rows[(people.id, "")] == Decimal(45) and rows[(people.id, "sex=female")] == Decimal(27)
    assert (people.id, "sex=male") not in rows and (people.id, "region=TN-73") in rows
    assert db.scalar(select(func.count()).select_from(IndicatorValue).where(
        IndicatorValue.indicator_id == people.id, IndicatorValue.cell == "")) == 1


def test_cells_are_checked_against_the_indicators_breakdown_and_nothing_is_saved(db, registry):
    award = f.award(db, registry)
    people, trust, story = framework_of(db, award)
    r1 = reports(db, award)[0]
    with pytest.raises(ReportRefused) as refused:
        save_report(db, r1, narrative="Draft", values=[
            (trust, {"sex": "female"}, Decimal(50), ""),         # trust is not broken down
            (people, {"sex": "woman"}, Decimal(3), ""),           # not a value of sex
            (people, {"region": "TN-99"}, Decimal(3), ""),        # not a region we know
            (people, {"religion": "x"}, Decimal(3), ""),          # not a dimension at all
            (trust, {}, Decimal("100.5"), ""),                    # a percentage above 100
            (people, {}, Decimal(-1), ""),                        # a negative count
            (story, {}, Decimal(3), ""),                          # a description, not a number
        ])
    assert fields(refused) == [f"cell-{trust.id}-sex-female", f"cell-{people.id}-sex-woman",
                               f"cell-{people.id}-region-TN-99", f"cell-{people.id}-religion-x",
                               f"value-{trust.id}", f"value-{people.id}", f"value-{story.id}"]
    assert "STO1 is not broken down by sex." in reasons(refused)
    assert "OUT1: “TN-99” is not a region code we know." in reasons(refused)
    assert "STO1 is a percentage: give a number from 0 to 100." in reasons(refused)
    assert db.scalar(select(func.count()).select_from(IndicatorValue)) == 0
    assert r1.narrative == ""
    with pytest.raises(ReportRefused):
        save_report(db, r1, narrative="", values=[(trust, {}, 61.5, "")])  # floats would round


def test_a_counts_cells_of_one_breakdown_cannot_add_up_to_more_than_the_total(db, registry):
    award = f.award(db, registry)
    people, _trust, _story = framework_of(db, award)
    r1 = reports(db, award)[0]
    with pytest.raises(ReportRefused) as refused:
        save_report(db, r1, narrative="", values=[
            (people, {}, Decimal(40), ""),
            (people, {"sex": "female"}, Decimal(25), ""), (people, {"sex": "male"}, Decimal(17), ""),
            (people, {"age_band": "15_17"}, Decimal(20), ""), (people, {"age_band": "18_24"}, Decimal(20), ""),
        ])
    assert reasons(refused) == ["OUT1: the values by sex add up to 42, more than the total (40)."]
    assert fields(refused) == [f"value-{people.id}"]
    # Fewer than the total is fine: not everyone states their sex.
    save_report(db, r1, narrative="", values=[
        (people, {}, Decimal(42), ""), (people, {"sex": "female"}, Decimal(25), ""),
        (people, {"sex": "male"}, Decimal(16), "")])


def test_a_submitted_report_cannot_be_saved_until_it_is_returned(db, registry):
    award = f.award(db, registry)
    people, trust, story = framework_of(db, award)
    r1 = reports(db, award)[0]
    service = WorkflowService(registry.workflows, db)
    values = [(people, {}, Decimal(42), ""), (trust, {}, Decimal(60), ""), (story, {}, None, "Schools asked for more")]
    save_report(db, r1, narrative="", values=values)
    with pytest.raises(Refused) as refused:
        service.fire(r1, "submit", actor=f.SYSTEM)
    assert reasons(refused) == ["Write the narrative: what happened in this period."]
    save_report(db, r1, narrative="Clubs started.", values=values)
    service.fire(r1, "submit", actor=f.SYSTEM)
    assert r1.submitted_at is not None
    with pytest.raises(ReportRefused) as refused:
        save_report(db, r1, narrative="Changed after submitting", values=[])
    assert reasons(refused) == ["This report was submitted: it can no longer be changed."]
    service.fire(r1, "return_for_changes", actor=f.SYSTEM, comment="Give the numbers by age band.")
    save_report(db, r1, narrative="Clubs started.", values=[(people, {"age_band": "15_17"}, Decimal(30), "")])
    assert r1.state == "returned"


def test_what_stops_a_submission_is_said_field_by_field(db, registry):
    award = f.award(db, registry)
    people, trust, story = framework_of(db, award)
    r1 = reports(db, award)[0]
    save_report(db, r1, narrative="  ",
                values=[(trust, {}, Decimal(60), ""), (people, {"sex": "female"}, Decimal(3), "")])
    assert services.report_problem_fields(r1) == [
        ("narrative", services.report_problems(r1)[0]),
        (f"value-{story.id}", services.report_problems(r1)[1]),
        (f"value-{people.id}", services.report_problems(r1)[2]),
    ]
    assert [plain(p) for p in services.report_problems(r1)] == [
        "Write the narrative: what happened in this period.",
        "Describe the result for MTO1 (How schools describe the change).",
        "Give the value for OUT1 (Young people in the clubs).",
    ]


def test_an_indicator_with_targets_is_due_only_in_the_periods_it_has_a_target_for(db, registry):
    award = f.award(db, registry)
    r1, r2, r3, r4 = reports(db, award)
    endline = framework.add_indicator(db, award, code="STO2", title="Feel able to speak up",
                                      level="short_term_outcomes", measure="percentage", method="survey",
                                      baseline_missing_reason="The survey's baseline wave", targets={r4: Decimal(70)})
    save_report(db, r1, narrative="Clubs started.", values=[])
    assert services.report_problems(r1) == []  # measured at the end only
    save_report(db, r4, narrative="The year in full.", values=[])
    assert [plain(p) for p in services.report_problems(r4)] == ["Give the value for STO2 (Feel able to speak up)."]
    save_report(db, r4, narrative="The year in full.", values=[(endline, {}, Decimal("71.5"), "")])
    assert services.report_problems(r4) == []


def test_the_cell_key_is_sorted_and_stable():
    assert services.cell_key({}) == ""
    assert services.cell_key({"sex": "female", "age_band": "18_24"}) == "age_band=18_24;sex=female"
    assert services.cell_key({"region": "TN-73"}) == "region=TN-73"


def test_the_officers_comments_come_from_the_history(db, registry):
    award = f.award(db, registry)
    r1 = reports(db, award)[0]
    service = WorkflowService(registry.workflows, db)
    submit(db, registry, r1)
    service.fire(r1, "return_for_changes", actor=f.SYSTEM, comment="Add the numbers by sex.")
    service.fire(r1, "submit", actor=f.SYSTEM)
    service.fire(r1, "return_for_changes", actor=f.SYSTEM, comment="The total is missing.")
    assert [c.text for c in services.officer_comments(db, r1)] == ["Add the numbers by sex.", "The total is missing."]


# -- mail ---------------------------------------------------------------------------------------------------


def _award_with_members(registry):
    """An award whose organisation has an English, a French and an Arabic speaker, and
    its first report submitted.  Committed."""
    with registry.database.transaction() as (_tm, db):
        members = [f.user(db, email=f"{lang}@example.org", name=lang, locale=lang) for lang in ("en", "fr", "ar")]
        officer = f.user(db, email="officer@example.org", locale="fr")
        award = f.award(db, registry, org=f.organisation(db, *members))
        f.grant_role(db, officer, "programme_officer", award.round.programme)
        r1 = reports(db, award)[0]
        submit(db, registry, r1)
        return r1.id, officer.id


def _review(registry, report_id, officer_id, trigger, comment="", *, commit=True):
    from grants.accounts.models import User

    with registry.database.transaction() as (tm, db):
        report = db.get(Report, report_id)
        WorkflowService(registry.workflows, db, transaction_manager=tm).fire(
            report, trigger, db.get(User, officer_id), comment=comment)
        assert registry.mailer.sent() == []  # not before the commit
        if not commit:
            tm.abort()
            tm.begin()


def test_a_returned_report_is_mailed_to_every_member_in_their_language_with_the_comments(registry):
    report_id, officer_id = _award_with_members(registry)
    _review(registry, report_id, officer_id, "return_for_changes", "Donnez les chiffres par sexe.", commit=False)
    assert registry.mailer.sent() == []
    _review(registry, report_id, officer_id, "return_for_changes", "Donnez les chiffres par sexe.")
    mail = {m["To"]: m for m in registry.mailer.sent()}
    assert set(mail) == {"en@example.org", "fr@example.org", "ar@example.org"}
    for message in mail.values():
        assert "Donnez les chiffres par sexe." in message.get_content()
        assert "Theatre clubs in Kebili" in message["Subject"]
    assert "returned for changes" in mail["en@example.org"].get_content()
    assert f"/reports/{report_id}" in mail["en@example.org"].get_content()


def test_an_accepted_report_is_mailed_once(registry):
    report_id, officer_id = _award_with_members(registry)
    _review(registry, report_id, officer_id, "accept")
    mail = {m["To"]: m for m in registry.mailer.sent()}
    assert len(registry.mailer.sent()) == 3 and set(mail) == {"en@example.org", "fr@example.org", "ar@example.org"}
    assert mail["en@example.org"]["Subject"] == "Report 1 on “Theatre clubs in Kebili”: Accepted"
    assert "is now: Accepted" in mail["en@example.org"].get_content()


# -- reminders --------------------------------------------------------------------------------------------------


def test_reminders_go_once_to_each_member_of_reports_due_soon(registry):
    with registry.database.transaction() as (_tm, db):
        members = [f.user(db, email=f"{lang}@example.org", name=lang, locale=lang) for lang in ("en", "ar")]
        award = f.award(db, registry, org=f.organisation(db, *members))  # due 30 days after each quarter
        r1, r2, *_rest = reports(db, award)
        due1 = r1.due_at
        submit(db, registry, r2)  # submitted early: no reminder
    now = due1 - dt.timedelta(days=10)
    assert services.send_reminders(registry, now=now - dt.timedelta(days=30)) == []  # not yet within 14 days
    assert services.send_reminders(registry, now=now) == [r1.id]
    sent = registry.mailer.sent()
    assert sorted(m["To"] for m in sent) == ["ar@example.org", "en@example.org"]
    english = next(m for m in sent if m["To"] == "en@example.org")
    assert english["Subject"].startswith("Reminder: report 1 on “Theatre clubs in Kebili” is due on 30 Oct 2019, 23:59")
    assert services.send_reminders(registry, now=now + dt.timedelta(days=1)) == []
    assert len(registry.mailer.sent()) == 2
    with registry.database.transaction() as (_tm, db):
        assert db.get(Report, r1.id).reminded_at == now
        assert db.get(Report, r2.id).reminded_at is None


# -- pages --------------------------------------------------------------------------------------------------------


def main_text(page) -> str:
    return " ".join(page.html.find("main").get_text().split())


def people_and_award(registry):
    """An award with the framework above; a member of the grantee, its officer, an
    evaluator on the round.  Committed; returns the award's URL and the report ids."""
    with registry.database.transaction() as (_tm, db):
        member = f.user(db, email="amel@example.org", name="Amel")
        officer = f.user(db, email="leila@example.org", name="Leila")
        evaluator = f.user(db, email="eva@example.org", name="Eva")
        org = f.organisation(db, member, name="AFEK")
        org.regions = ["TN-73", "TN-81"]
        award = f.award(db, registry, org=org)
        f.grant_role(db, officer, "programme_officer", award.round.programme)
        f.grant_role(db, evaluator, "evaluator", award.round)
        framework_of(db, award)
        url = f"/programmes/{award.round.programme_id}/rounds/{award.round_id}/awards/{award.id}"
        return url, [r.id for r in reports(db, award)]


def test_the_awards_reports_page_lists_every_period(testapp, registry):
    url, report_ids = people_and_award(registry)
    f.sign_in(testapp, "amel@example.org")
    page = testapp.get(url + "/@@reports")
    rows = page.html.find(id="reports").tbody.find_all("tr")
    assert len(rows) == 4
    first = " ".join(rows[0].get_text().split())
    assert "Report 1" in first and "1 Jul – 30 Sept 2019" in first and "30 Oct 2019, 23:59 (Tunisia Time)" in first
    assert "Due" in rows[0].find(class_="state").get_text()
    assert "(final)" in rows[3].get_text()
    report = page.click(href=f"/reports/{report_ids[0]}/")
    assert "Report 1" in report.html.find("h1").get_text()


def test_the_grantee_saves_a_draft_and_a_bad_number_keeps_what_was_typed(testapp, registry):
    url, report_ids = people_and_award(registry)
    f.sign_in(testapp, "amel@example.org")
    page = testapp.get(f"{url}/reports/{report_ids[0]}/")
    form = page.forms["report-form"]
    with registry.database.transaction() as (_tm, db):
        people_id = db.scalar(select(framework.Indicator.id).where(framework.Indicator.code == "OUT1"))
    assert f"cell-{people_id}-region-TN-73" in form.fields and f"cell-{people_id}-region-TN-81" in form.fields
    assert f"cell-{people_id}-region-TN-11" not in form.fields  # only the grantee's regions
    form["narrative"] = "مشاركة جيدة في النوادي"
    form[f"value-{people_id}"] = "٤٢"
    form[f"cell-{people_id}-sex-female"] = "many"
    refused = form.submit("save", status=400)
    links = refused.html.find(class_="error-summary").find_all("a")
    summary = {a["href"]: " ".join(a.get_text().split()) for a in links}
    assert summary == {f"#cell-{people_id}-sex-female": "Give OUT1 as a number, like 12 or 12.5."}
    again = refused.forms["report-form"]
    assert again["narrative"].value == "مشاركة جيدة في النوادي" and again[f"value-{people_id}"].value == "٤٢"
    assert again[f"cell-{people_id}-sex-female"].value == "many"
    with registry.database.transaction() as (_tm, db):
        assert db.get(Report, report_ids[0]).narrative == ""  # nothing saved

    again[f"cell-{people_id}-sex-female"] = "25"
    saved = again.submit("save").follow()
    assert "Your draft is saved." in main_text(saved)
    assert saved.forms["report-form"][f"value-{people_id}"].value == "42"
    with registry.database.transaction() as (_tm, db):
        report = db.get(Report, report_ids[0])
        assert report.state == "due" and report.narrative == "مشاركة جيدة في النوادي"
        assert {v.cell: v.value for v in report.values} == {"": Decimal(42), "sex=female": Decimal(25)}


def test_the_evaluator_reads_a_report_but_cannot_save_submit_or_review_it(testapp, registry):
    url, report_ids = people_and_award(registry)
    with registry.database.transaction() as (_tm, db):
        submit(db, registry, db.get(Report, report_ids[0]))
    f.sign_in(testapp, "eva@example.org")
    page = testapp.get(f"{url}/reports/{report_ids[0]}/")
    assert "Clubs started in Kebili." in page.html.find(id="narrative-text").get_text()
    assert "report-form" not in page.forms and "review-form" not in page.forms
    token = page.forms["logout-form"]["csrf_token"].value
    testapp.post(f"{url}/reports/{report_ids[0]}/", {"__formid__": "review", "accept": "1", "csrf_token": token},
                 status=403)
    testapp.post(f"{url}/reports/{report_ids[1]}/", {"__formid__": "report", "submit": "1", "narrative": "x",
                                                      "csrf_token": token}, status=403)
    with registry.database.transaction() as (_tm, db):
        assert db.get(Report, report_ids[0]).state == "submitted"
        assert db.get(Report, report_ids[1]).narrative == ""


def test_the_officer_must_comment_to_return_a_report(testapp, registry):
    url, report_ids = people_and_award(registry)
    with registry.database.transaction() as (_tm, db):
        submit(db, registry, db.get(Report, report_ids[0]))
    f.sign_in(testapp, "leila@example.org")
    page = testapp.get(f"{url}/reports/{report_ids[0]}/")
    refused = page.forms["review-form"].submit("return_for_changes", status=400)
    links = {a["href"]: a.get_text(strip=True) for a in refused.html.find(class_="error-summary").find_all("a")}
    assert links == {"#review-comment": "Write your comments: say what the grantee should correct."}
    with registry.database.transaction() as (_tm, db):
        assert db.get(Report, report_ids[0]).state == "submitted"


def test_the_officers_list_of_reports_due_and_overdue(testapp, registry):
    now = dt.datetime.now(UTC)
    with registry.database.transaction() as (_tm, db):
        officer = f.user(db, email="leila@example.org")
        rnd = f.round_(db, registry)
        f.grant_role(db, officer, "programme_officer", rnd.programme)
        late = f.award(db, registry, rnd=rnd, org=f.organisation(db, name="Khatwa"), title="Late award")
        soon = f.award(db, registry, rnd=rnd, org=f.organisation(db, name="ACEC"), title="Soon award")
        far = f.award(db, registry, rnd=rnd, org=f.organisation(db, name="Nour"), title="Far award")
        other = f.award(db, registry, org=f.organisation(db, name="Elsewhere"), title="Other round")
        # Every period far ahead, then, relative to now: one overdue, one past due not yet
        # ticked, one due in 10 days, one in 60, one submitted after its due date.
        service = WorkflowService(registry.workflows, db)
        for award in (late, soon, far, other):
            for r in reports(db, award):
                r.due_at = now + dt.timedelta(days=400 + r.number)
        today = now.astimezone(ZoneInfo(rnd.timezone)).date()
        (l1, l2, *_l) = reports(db, late)
        l1.due_at = services.due_moment(today - dt.timedelta(days=5), rnd.timezone, due_days=0)
        service.fire(l1, "mark_overdue", actor=f.SYSTEM)
        l2.due_at = services.due_moment(today - dt.timedelta(days=2), rnd.timezone, due_days=0)
        s1, submitted, *_s = reports(db, soon)
        s1.due_at = services.due_moment(today + dt.timedelta(days=10), rnd.timezone, due_days=0)
        submitted.due_at = now - dt.timedelta(days=1)
        submit(db, registry, submitted)
        reports(db, far)[0].due_at = now + dt.timedelta(days=60)
        reports(db, other)[0].due_at = now - dt.timedelta(days=3)
        ids = (l1.id, l2.id, s1.id)
        round_url = f"/programmes/{rnd.programme_id}/rounds/{rnd.id}"
    f.sign_in(testapp, "leila@example.org")
    page = testapp.get(round_url + "/@@reports-due")
    rows = page.html.find(id="reports-due").tbody.find_all("tr")
    assert [r["id"] for r in rows] == [f"due-{i}" for i in ids]
    assert [r.find("th").get_text(strip=True) for r in rows] == ["Khatwa", "Khatwa", "ACEC"]
    assert [r.find(class_="days-overdue").get_text(strip=True) for r in rows] == ["5", "2", "—"]
    assert [r.find(class_="state").get_text(strip=True) for r in rows] == ["Overdue", "Due", "Due"]
    wider = testapp.get(round_url + "/@@reports-due?days=90")
    assert len(wider.html.find(id="reports-due").tbody.find_all("tr")) == 4
    bad = testapp.get(round_url + "/@@reports-due?days=lots", status=400)
    assert "Enter a number of days from 1 to 366, like 30" in main_text(bad)


def test_only_the_rounds_officers_see_the_reports_due(testapp, registry):
    url, _report_ids = people_and_award(registry)
    round_url = url.rsplit("/awards/", 1)[0]
    f.sign_in(testapp, "amel@example.org")
    testapp.get(round_url + "/@@reports-due", status=403)
