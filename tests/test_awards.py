"""Awards and their money through the services: making an award, amending it, the
payment schedule and its conditions, the tranche and award workflows end to end, and
budget against actual — every sum exact to the currency's minor unit (TND millimes, GBP
pence, UGX shillings), in the database as in the totals."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import func, select

import factories as f
from grants.accounts.organisations import add_member_without_invitation
from grants.awards import services
from grants.awards.models import Award, BudgetLine, Disbursement, Expenditure, Tranche
from grants.awards.services import AwardRefused
from grants.i18n import _
from grants.lifecycle.models import HistoryEntry
from grants.lifecycle.services import WorkflowService
from grants.mel.models import Report
from grants.money import Money, MoneyBag
from grants.workflow import Refused
from grants.workflow.engine import plain

NOW = dt.datetime(2019, 7, 1, 9, 0, tzinfo=dt.timezone.utc)


def tnd(amount: str) -> Money:
    return Money(Decimal(amount), "TND")


def reasons(refusal) -> list[str]:
    return [plain(r) for r in refusal.reasons]


def reports_of(db, award) -> list[Report]:
    return list(db.scalars(select(Report).where(Report.award_id == award.id).order_by(Report.number)))


def fire(db, registry, obj, trigger, **kw):
    return WorkflowService(registry.workflows, db).fire(obj, trigger, actor=kw.pop("actor", f.SYSTEM), **kw)


def accept(db, registry, report):
    report.narrative = "What happened this quarter."
    fire(db, registry, report, "submit")
    fire(db, registry, report, "accept")


def history_count(db, obj) -> int:
    return db.scalar(select(func.count(HistoryEntry.id)).where(HistoryEntry.object_type == obj.object_type,
                                                                HistoryEntry.object_id == obj.id))


def officer_of(db, award):
    officer = f.user(db, name="Leila Officer")
    f.grant_role(db, officer, "programme_officer", award.round.programme)
    return officer


# -- making awards ---------------------------------------------------------------------------------------


def test_award_is_made_once_and_only_for_a_selected_application(db, registry):
    award = f.award(db, registry)
    with pytest.raises(AwardRefused) as refused:
        services.make_award(db, registry, award.application, amount=tnd("1.000"), starts_on=dt.date(2019, 1, 1),
                            ends_on=dt.date(2019, 12, 31), actor=f.SYSTEM)
    assert ("application", _("This application already has an award.")) in refused.value.problems
    draft = f.application(db, registry, award.round, f.organisation(db))
    with pytest.raises(AwardRefused) as refused:
        services.make_award(db, registry, draft, amount=tnd("1.000"), starts_on=dt.date(2019, 1, 1),
                            ends_on=dt.date(2018, 12, 31), cadence="weekly", actor=f.SYSTEM)
    fields = {name for name, _reason in refused.value.problems}
    assert fields == {"application", "ends_on", "cadence"}
    assert db.scalar(select(func.count(Award.id))) == 1


def test_a_source_budget_needs_its_rate_and_another_currency(db, registry):
    rnd = f.round_(db, registry)
    awarded = f.award(db, registry, rnd=rnd)
    application = f.application(db, registry, rnd, f.organisation(db), state="eligible")
    fire(db, registry, application, "select", data={"funder_reference": ""}, comment="Selected")
    terms = dict(amount=tnd("43500.000"), starts_on=dt.date(2019, 7, 1), ends_on=dt.date(2020, 6, 30),
                 actor=f.SYSTEM)
    with pytest.raises(AwardRefused) as refused:
        services.make_award(db, registry, application, source_amount=tnd("43500.000"), **terms)
    assert {name for name, _r in refused.value.problems} == {"fx_rate", "source_currency"}
    award = services.make_award(db, registry, application, source_amount=Money(Decimal("15000.00"), "USD"),
                                fx_rate=Decimal("2.9"), fx_date=dt.date(2019, 6, 28), **terms)
    db.expire_all()
    assert (award.source_amount, award.fx_rate, award.amount) == (Money(Decimal(15000), "USD"), Decimal("2.9"),
                                                                  tnd("43500"))
    listing = services.round_awards(db, rnd)
    assert [row.award for row in listing.rows] == [awarded, award]
    assert listing.awarded == MoneyBag([tnd("88500.000")])
    assert services.awaiting_award(db, rnd) == []


def test_the_agreement_must_be_a_pdf(db, registry):
    award = f.award(db, registry)
    with pytest.raises(AwardRefused) as refused:
        services.store_agreement(db, registry, filename="agreement.pdf", data=b"just some words")
    assert refused.value.problems[0][0] == "agreement"
    with pytest.raises(AwardRefused):
        services.store_agreement(db, registry, filename="agreement.csv", data=b"a,b\n1,2\n")
    pdf = services.store_agreement(db, registry, filename="C:\\docs\\agreement.pdf", data=f.PDF)
    with pytest.raises(AwardRefused) as refused:
        services.record_agreement(db, award, file=pdf, signed_on=dt.date(2019, 7, 2), now=NOW)
    assert refused.value.problems == [("agreement_signed_on",
                                       _("The agreement cannot be signed on a day still to come."))]
    assert award.agreement_file is None
    services.record_agreement(db, award, file=pdf, signed_on=dt.date(2019, 6, 20), now=NOW)
    assert (award.agreement_file.filename, award.agreement_signed_on) == ("agreement.pdf", dt.date(2019, 6, 20))


# -- exact splits ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("total, percents, shares", [
    (Money(Decimal(100_000), "UGX"), ["33.33", "33.33", "33.34"], [33_330, 33_330, 33_340]),
    (Money(Decimal(100_001), "UGX"), ["33.33", "33.33", "33.34"], [33_330, 33_330, 33_341]),
    (tnd("12345.678"), ["33.3333", "33.3333", "33.3334"], [4_115_221, 4_115_221, 4_115_236]),
    (Money(Decimal("100.00"), "GBP"), ["33.33", "33.33", "33.34"], [3_333, 3_333, 3_334]),
    (Money(Decimal("1000.01"), "GBP"), ["50", "50"], [50_000, 50_001]),
])
def test_percentages_split_exactly_with_the_remainder_on_the_last(total, percents, shares):
    split = services.split_by_percent(total, [Decimal(p) for p in percents])
    assert [m.minor_units for m in split] == shares
    assert sum(m.minor_units for m in split) == total.minor_units


def test_a_schedule_in_percentages_is_stored_in_exact_minor_units(db, registry):
    award = f.award(db, registry, amount=Money(Decimal(100_001), "UGX"))
    tranches = services.set_schedule(db, registry, award, [
        {"percent": Decimal("33.33"), "due_on": dt.date(2019, 7, 15)},
        {"percent": Decimal("33.33")}, {"percent": Decimal("33.34")}], now=NOW)
    db.expire_all()
    rows = db.execute(select(Tranche.position, Tranche.amount_minor, Tranche.currency, Tranche.state)
                      .where(Tranche.award_id == award.id).order_by(Tranche.position)).all()
    assert rows == [(1, 33_330, "UGX", "pending"), (2, 33_330, "UGX", "pending"), (3, 33_341, "UGX", "pending")]
    assert services.scheduled(award) == award.amount
    assert [history_count(db, t) for t in tranches] == [1, 1, 1]  # each started in the tranche workflow


def test_a_schedule_in_amounts_must_add_up_to_the_award_to_the_millime(db, registry):
    award = f.award(db, registry, amount=tnd("12345.678"))
    with pytest.raises(AwardRefused) as refused:
        services.set_schedule(db, registry, award, [{"amount": tnd("4115.226")}, {"amount": tnd("4115.226")},
                                                    {"amount": tnd("4115.225")}])
    assert reasons(refused.value) == [
        "The tranches add up to TND\u00a012,345.677; the award is TND\u00a012,345.678: they must be equal (TND\u00a00.001 to add)."]
    assert award.tranches == []
    services.set_schedule(db, registry, award, [{"amount": tnd("4115.226")}] * 3)
    db.expire_all()
    assert sum(db.scalars(select(Tranche.amount_minor).where(Tranche.award_id == award.id))) == 12_345_678


def test_a_schedule_is_refused_when_percentages_do_not_make_100(db, registry):
    award = f.award(db, registry)
    other = f.award(db, registry, title="Another grant")
    with pytest.raises(AwardRefused) as refused:
        services.set_schedule(db, registry, award, [{"percent": Decimal("33.33")}] * 3)
    assert reasons(refused.value) == ["The percentages add up to 99.99 %; they must add up to exactly 100 %."]
    with pytest.raises(AwardRefused) as refused:
        services.set_schedule(db, registry, award, [
            {"percent": Decimal(50)}, {"amount": tnd("22500")},
            {"percent": Decimal(50), "condition": "report_accepted", "condition_report": reports_of(db, other)[0]}])
    assert {name for name, _r in refused.value.problems} == {"tranches", "tranche_3.condition_report"}
    assert award.tranches == []


def test_the_schedule_can_change_until_a_tranche_is_released(db, registry):
    award = f.award(db, registry)
    first = services.set_schedule(db, registry, award, [{"percent": Decimal(50)}, {"percent": Decimal(50)}])
    ids = [t.id for t in first]
    second = services.set_schedule(db, registry, award, [{"percent": Decimal(40)}, {"percent": Decimal(40)},
                                                         {"percent": Decimal(20)}])
    assert [t.id for t in second[:2]] == ids  # kept rows keep their ids (and history)
    assert [t.amount for t in second] == [tnd("18000"), tnd("18000"), tnd("9000")]
    fire(db, registry, second[0], "release")
    with pytest.raises(AwardRefused) as refused:
        services.set_schedule(db, registry, award, [{"percent": Decimal(100)}])
    assert refused.value.problems[0][1] == _(
        "A tranche has already been released: the payment schedule can no longer change. Amend the award to "
        "change its amount.")
    assert len(award.tranches) == 3


def test_only_officers_set_the_schedule_or_amend(db, registry):
    award = f.award(db, registry)
    evaluator = f.user(db)
    f.grant_role(db, evaluator, "evaluator", award.round)
    with pytest.raises(AwardRefused):
        services.set_schedule(db, registry, award, [{"percent": Decimal(100)}], user=evaluator)
    with pytest.raises(AwardRefused):
        services.amend(db, registry, award, amount=tnd("50000"), reason="More", user=evaluator)
    with pytest.raises(AwardRefused):
        services.set_budget(db, award, [("Everything", award.amount)], user=evaluator)
    officer = officer_of(db, award)
    services.set_schedule(db, registry, award, [{"percent": Decimal(100)}], user=officer)
    assert award.tranches[0].amount == award.amount


# -- conditions and the tranche workflow -----------------------------------------------------------------------


def test_a_tranche_waits_for_its_report_to_be_accepted(db, registry):
    award = f.award(db, registry)
    report1 = reports_of(db, award)[0]
    t1, t2 = services.set_schedule(db, registry, award, [
        {"percent": Decimal(60)},
        {"percent": Decimal(40), "condition": "report_accepted", "condition_report": report1}])
    assert services.tranche_condition_problem(t1) is None
    problem = services.tranche_condition_problem(t2)
    assert plain(problem) == "Report 1 (1 Jul – 30 Sept 2019) is not accepted yet: it is not submitted yet."
    with pytest.raises(Refused) as refused:
        fire(db, registry, t2, "release")
    assert [plain(r) for r in refused.value.reasons] == [plain(problem)]
    assert (t2.state, history_count(db, t2)) == ("pending", 1)
    report1.narrative = "Clubs started in four schools."
    fire(db, registry, report1, "submit")
    assert plain(services.tranche_condition_problem(t2)).endswith("it is submitted and waiting for review.")
    fire(db, registry, report1, "accept")
    fire(db, registry, t2, "release", now=NOW)
    assert (t2.state, t2.released_at) == ("released", NOW)


def test_a_tranche_can_wait_for_the_signed_agreement(db, registry):
    award = f.award(db, registry)
    (tranche,) = services.set_schedule(db, registry, award, [{"percent": Decimal(100),
                                                              "condition": "agreement_signed"}])
    assert "not on file" in plain(services.tranche_condition_problem(tranche))
    pdf = services.store_agreement(db, registry, filename="agreement.pdf", data=f.PDF)
    services.record_agreement(db, award, file=pdf)
    assert "signed is not recorded" in plain(services.tranche_condition_problem(tranche))
    services.record_agreement(db, award, signed_on=dt.date(2019, 6, 20), now=NOW)
    assert services.tranche_condition_problem(tranche) is None


def test_paying_tranches_adds_up_exactly(db, registry):
    award = f.award(db, registry, amount=tnd("12345.678"))
    tranches = services.set_schedule(db, registry, award, [{"percent": Decimal("33.3333")},
                                                           {"percent": Decimal("33.3333")},
                                                           {"percent": Decimal("33.3334")}])
    for tranche in tranches:
        fire(db, registry, tranche, "release")
        fire(db, registry, tranche, "disburse", data={"amount": tranche.amount, "paid_on": dt.date(2019, 7, 10),
                                                      "reference": "VIR-1"})
    db.expire_all()
    assert db.scalar(select(func.sum(Disbursement.amount_minor)).where(Disbursement.award_id == award.id)) \
        == 12_345_678
    assert services.disbursed(award) == tnd("12345.678") == services.committed(award)


def test_a_payment_cannot_exceed_its_tranche_or_change_currency(db, registry):
    award = f.award(db, registry)
    (tranche,) = services.set_schedule(db, registry, award, [{"percent": Decimal(100)}])
    fire(db, registry, tranche, "release")
    for amount in (tnd("45000.001"), Money(Decimal("45000"), "USD")):
        with pytest.raises(Refused):
            fire(db, registry, tranche, "disburse", data={"amount": amount, "paid_on": dt.date(2019, 7, 10)})
    assert (tranche.state, tranche.disbursements) == ("released", [])


# -- amendments -------------------------------------------------------------------------------------------------


def test_an_amendment_needs_a_reason_and_keeps_before_and_after(db, registry):
    award = f.award(db, registry)
    officer = officer_of(db, award)
    with pytest.raises(AwardRefused) as refused:
        services.amend(db, registry, award, amount=tnd("50000"), reason="  ", user=officer)
    assert refused.value.problems == [("reason", _("Give the reason for the change: it is kept with the award."))]
    assert award.amount == tnd("45000") and award.amendments == []
    amendment = services.amend(db, registry, award, amount=tnd("50000.500"), reason="A fifth school joins",
                               user=officer, now=NOW)
    db.expire_all()
    assert (amendment.kind, amendment.before, amendment.after, amendment.made_by_id, amendment.made_at) == (
        "amount", {"amount_minor": 45_000_000, "currency": "TND"}, {"amount_minor": 50_000_500, "currency": "TND"},
        officer.id, NOW)
    assert award.amount_minor == 50_000_500
    assert services.amendment_changes(amendment) == [("amount", tnd("45000"), tnd("50000.500"))]


def test_the_amount_cannot_fall_below_what_is_released_and_pending_tranches_follow(db, registry):
    award = f.award(db, registry, amount=Money(Decimal("1000.00"), "GBP"))
    t1, t2, t3 = services.set_schedule(db, registry, award, [{"percent": Decimal(40)}, {"percent": Decimal(40)},
                                                             {"percent": Decimal(20)}])
    fire(db, registry, t1, "release")
    with pytest.raises(AwardRefused) as refused:
        services.amend(db, registry, award, amount=Money(Decimal("399.99"), "GBP"), reason="Cut")
    assert reasons(refused.value) == ["The amount cannot be less than what is already released or paid (£400.00)."]
    services.amend(db, registry, award, amount=Money(Decimal("1000.01"), "GBP"), reason="A penny more")
    db.expire_all()
    assert [t.amount_minor for t in award.tranches] == [40_000, 40_000, 20_001]
    assert sum(t.amount_minor for t in award.tranches) == award.amount_minor == 100_001
    services.amend(db, registry, award, amount=Money(Decimal("400.00"), "GBP"), reason="Only what is released")
    db.expire_all()
    assert [(t.position, t.amount_minor, t.state) for t in award.tranches] == [(1, 40_000, "released")]


def test_new_dates_replan_the_reports(db, registry):
    award = f.award(db, registry)  # 1 Jul 2019 – 30 Jun 2020, four quarterly reports
    services.amend(db, registry, award, ends_on=dt.date(2020, 12, 31), reason="Schools closed for three months",
                   now=NOW)
    assert [(r.number, r.period_end, r.kind) for r in reports_of(db, award)][-3:] == [
        (4, dt.date(2020, 6, 30), "progress"), (5, dt.date(2020, 9, 30), "progress"),
        (6, dt.date(2020, 12, 31), "final")]
    amendment = award.amendments[-1]
    assert (amendment.kind, amendment.before["ends_on"], amendment.after["ends_on"]) == (
        "dates", "2020-06-30", "2020-12-31")
    removed_id = reports_of(db, award)[-1].id
    services.amend(db, registry, award, ends_on=dt.date(2020, 3, 31), reason="The project finishes sooner")
    assert [(r.number, r.period_end, r.kind) for r in reports_of(db, award)] == [
        (1, dt.date(2019, 9, 30), "progress"), (2, dt.date(2019, 12, 31), "progress"),
        (3, dt.date(2020, 3, 31), "final")]
    assert db.scalar(select(func.count(HistoryEntry.id)).where(HistoryEntry.object_type == "reports",
                                                               HistoryEntry.object_id == removed_id)) == 1


def test_an_end_before_a_submitted_report_is_refused(db, registry):
    award = f.award(db, registry)
    accept(db, registry, reports_of(db, award)[0])
    accept(db, registry, reports_of(db, award)[1])
    with pytest.raises(AwardRefused) as refused:
        services.amend(db, registry, award, ends_on=dt.date(2019, 9, 30), reason="Shorter")
    assert reasons(refused.value) == [
        "Report 2 covers a period after this end date and is already accepted: choose a later end date."]
    with pytest.raises(AwardRefused):
        services.amend(db, registry, award, starts_on=dt.date(2019, 8, 1), reason="Later start")
    assert (award.ends_on, len(reports_of(db, award)), award.amendments) == (dt.date(2020, 6, 30), 4, [])


# -- the award workflow ----------------------------------------------------------------------------------------------


def test_a_no_cost_extension_moves_the_end_and_adds_reports(db, registry):
    award = f.award(db, registry)
    with pytest.raises(Refused) as refused:
        fire(db, registry, award, "extend_no_cost", data={"new_end_date": dt.date(2020, 6, 30)}, comment="Why not")
    assert "must end after the current end date" in reasons(refused.value)[0]
    fire(db, registry, award, "extend_no_cost", data={"new_end_date": dt.date(2020, 9, 30)},
         comment="Schools closed in spring", now=NOW)
    assert (award.state, award.ends_on, award.amount) == ("active", dt.date(2020, 9, 30), tnd("45000"))
    (amendment,) = award.amendments
    assert (amendment.kind, amendment.before, amendment.after, amendment.reason) == (
        "no_cost_extension", {"ends_on": "2020-06-30"}, {"ends_on": "2020-09-30"}, "Schools closed in spring")
    assert [(r.number, r.kind, r.state) for r in reports_of(db, award)][-2:] == [(4, "progress", "due"),
                                                                                 (5, "final", "due")]


@pytest.mark.parametrize("missing", ["exit_plan", "rationale"])
def test_ending_early_needs_an_exit_plan_and_a_rationale(db, registry, missing):
    award = f.award(db, registry)
    data = {"ended_on": dt.date(2019, 12, 31), "exit_plan": "Clubs handed to the schools' teachers.",
            "rationale": "The partner school closed.", missing: " "}
    with pytest.raises(Refused):
        fire(db, registry, award, "end_early", data=data)
    db.expire_all()
    assert (award.state, award.ended_on, award.exit_plan, award.amendments, len(reports_of(db, award))) == (
        "active", None, "", [], 4)
    assert history_count(db, award) == 1


def test_ending_early_removes_the_reports_after_the_last_day(db, registry):
    award = f.award(db, registry)
    later = [r.id for r in reports_of(db, award)[2:]]
    fire(db, registry, award, "end_early", data={"ended_on": dt.date(2019, 11, 15),
                                                 "exit_plan": "Clubs handed to the schools' teachers.",
                                                 "rationale": "The partner school closed."}, now=NOW)
    db.expire_all()
    assert (award.state, award.ended_on, award.exit_plan) == (
        "ended_early", dt.date(2019, 11, 15), "Clubs handed to the schools' teachers.")
    assert [(r.number, r.period_end, r.kind) for r in reports_of(db, award)] == [
        (1, dt.date(2019, 9, 30), "progress"), (2, dt.date(2019, 11, 15), "final")]
    for report_id in later:  # gone, but their creation stays in the history
        assert db.scalar(select(func.count(HistoryEntry.id)).where(HistoryEntry.object_type == "reports",
                                                                   HistoryEntry.object_id == report_id)) == 1
    (amendment,) = award.amendments
    assert (amendment.kind, amendment.after, amendment.reason) == (
        "early_end", {"ends_on": "2019-11-15"}, "The partner school closed.")


def test_an_award_closes_once_every_report_is_accepted(db, registry):
    award = f.award(db, registry)
    with pytest.raises(Refused) as refused:
        fire(db, registry, award, "close")
    assert reasons(refused.value) == ["4 reports are not accepted yet."]
    for report in reports_of(db, award):
        accept(db, registry, report)
    assert services.open_reports(db, award) == []
    fire(db, registry, award, "close")
    assert award.state == "closed"


# -- budget against actual -------------------------------------------------------------------------------------------


def test_budget_against_actual_is_exact(db, registry):
    award = f.award(db, registry, amount=tnd("12345.678"))
    officer = officer_of(db, award)
    member = f.user(db)  # a member of the grantee records spending
    add_member_without_invitation(db, award.application.organisation, member)
    with pytest.raises(AwardRefused) as refused:
        services.set_budget(db, award, [("Staff", tnd("6000")), ("Activities", tnd("6345.677"))], user=officer)
    assert "they must be equal" in reasons(refused.value)[0]
    staff, activities, equipment = services.set_budget(
        db, award, [("Staff", tnd("6000.001")), ("Activities", tnd("5345.677")), ("Equipment", tnd("1000"))],
        user=officer)
    for amount in ("1000.333", "1000.333", "0.001"):
        services.record_expenditure(db, staff, amount=tnd(amount), spent_on=dt.date(2019, 8, 1), user=member)
    services.record_expenditure(db, activities, amount=tnd("5400.000"), spent_on=dt.date(2019, 9, 1),
                                report=reports_of(db, award)[0], note="Festival", user=officer)
    db.expire_all()
    summary = services.budget_vs_actual(award)
    assert [(r.category, r.planned, r.actual, r.remaining, r.percent_spent) for r in summary.rows] == [
        ("Staff", tnd("6000.001"), tnd("2000.667"), tnd("3999.334"), Decimal("33.34")),
        ("Activities", tnd("5345.677"), tnd("5400"), tnd("-54.323"), Decimal("101.02")),
        ("Equipment", tnd("1000"), tnd("0"), tnd("1000"), Decimal("0.00")),
    ]
    total = summary.total
    assert (total.planned, total.actual, total.remaining, total.percent_spent) == (
        tnd("12345.678"), tnd("7400.667"), tnd("4945.011"), Decimal("59.95"))
    assert db.scalar(select(func.sum(Expenditure.amount_minor))) == 7_400_667
    assert db.scalar(select(func.sum(BudgetLine.planned_minor))) == 12_345_678


def test_budget_lines_with_spending_stay(db, registry):
    award = f.award(db, registry)
    staff, other = services.set_budget(db, award, [("Staff", tnd("40000")), ("Other", tnd("5000"))])
    services.record_expenditure(db, staff, amount=tnd("100"), spent_on=dt.date(2019, 8, 1))
    with pytest.raises(AwardRefused) as refused:
        services.set_budget(db, award, [("Other", tnd("45000"))])
    assert reasons(refused.value) == [
        "“Staff” has spending recorded against it: keep the line (its planned amount may change)."]
    lines = services.set_budget(db, award, [("staff", tnd("20000")), ("Travel", tnd("25000"))])
    assert lines[0].id == staff.id and len(lines[0].expenditures) == 1
    db.expire_all()
    assert [(line.category, line.planned) for line in award.budget_lines] == [("staff", tnd("20000")),
                                                                             ("Travel", tnd("25000"))]


def test_spending_is_refused_outside_the_grant_or_in_another_currency(db, registry):
    award = f.award(db, registry)
    (line,) = services.set_budget(db, award, [("Everything", tnd("45000"))])
    stranger = f.user(db)
    with pytest.raises(AwardRefused) as refused:
        services.record_expenditure(db, line, amount=Money(Decimal("10"), "USD"), spent_on=dt.date(2021, 1, 1),
                                    user=stranger)
    assert {name for name, _r in refused.value.problems} == {None, "amount", "spent_on"}
    assert line.expenditures == []
