"""The demo after the decisions: BLADI's awards and their MEL, and a Shared Endeavour–like
programme with four yearly rounds.  Called by ``grants.demo.load_demo``; everything goes
through the services the pages use.

BLADI (call 1, decided 12 September 2019): the 11 selected associations get awards in
Tunisian dinars from the US Department of State's dollar budget (the rate and its date
recorded on each award), twelve months from 1 October 2019, reporting quarterly: a results
framework with two indicators each, a payment schedule of three tranches (the second
waits for the first report's acceptance), a budget and its spend, quarterly reports with
values disaggregated by sex (one returned once and corrected; AFEK's last report returned
with comments, one grantee's final report overdue), a survey at baseline and after the
project, a success story with its consent record, the evaluator's assessments and
findings, and the round's public report, published.

Shared Endeavour (GBP): four calls of the Mayor's fund — £800,000 in call 1, half of it
Google.org matching City Hall pound for pound; £600,000; £725,000 (after an uplift); and
£873,925 — 95 projects in all, close to £3 million.  The evaluator used one instrument in
calls 1–2 and its second version (a retrospective design) in calls 3–4; each round has
its public report.
"""
from __future__ import annotations

import datetime as dt
import random
from decimal import ROUND_HALF_UP, Decimal

from grants.demo import tools
from grants.money import Money

UTC = dt.timezone.utc

#: BLADI's exchange rate when the awards were made (TND per USD, recorded on each award).
BLADI_FX = Decimal("2.8718")
BLADI_FX_DATE = dt.date(2019, 9, 30)
BLADI_START = dt.date(2019, 10, 1)

#: Shared Endeavour's calls: (title, opens, closes, decided, money, projects, tier maximum).
SEF_CALLS = [
    ("Call 1", dt.date(2020, 1, 14), dt.date(2020, 2, 28), dt.date(2020, 5, 6), Decimal(800_000), 31, 50_000),
    ("Call 2", dt.date(2021, 1, 11), dt.date(2021, 2, 26), dt.date(2021, 5, 4), Decimal(600_000), 19, 50_000),
    ("Call 3", dt.date(2022, 6, 6), dt.date(2022, 7, 15), dt.date(2022, 10, 3), Decimal(725_000), 22, 50_000),
    ("Call 4", dt.date(2023, 4, 12), dt.date(2023, 5, 22), dt.date(2023, 8, 14), Decimal("873925"), 23, 100_000),
]
SEF_DECLINED_PER_CALL = 8
LONDON_WORK = ["Youth voices", "Safer streets", "Digital resilience", "Faith and neighbours", "Sport for unity",
               "Parents together", "Art against hate", "Schools in dialogue", "Women's circles", "Mentoring futures"]


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=UTC)


# -- shared steps (grants.demo.tools, under the names this module's code uses) -------------------


_framework = tools.results_framework
award_reports = tools.award_reports
_report = tools.file_report
report_indicators = tools.report_indicators
_survey_csv = tools.survey_csv
_pay = tools.pay_tranches
_agreement = tools.sign_agreement
_budget = tools.plan_budget


def _schedule(db, registry, award, reports, officer, now):
    tools.payment_schedule(db, registry, award, reports, officer, now, tools.THREE_TRANCHES)


def _assess(db, award, evaluator, rng, now, *, with_file: bool, registry):
    tools.assess(db, registry, award, evaluator, rng, now, with_file=with_file)


# -- BLADI ------------------------------------------------------------------------------------


def bladi_after_decisions(db, registry, tm, call, people, rng=None):
    """Awards for the 11 selected associations of BLADI's call 1, and their year."""
    from sqlalchemy import select

    from grants.applications.models import Application
    from grants.awards.services import make_award
    from grants.evaluation.services import save_round_evaluation
    from grants.lifecycle.services import WorkflowService
    from grants.mel import surveys
    from grants.mel.evidence import add_evidence
    from grants.reporting.public import publish_report

    rng = rng or random.Random(2020)
    officer, evaluator = people["officer"], people["evaluator"]
    service = WorkflowService(registry.workflows, db, transaction_manager=tm)
    instrument = _instrument(db, version=1)
    surveys.attach_instrument(db, call, instrument, ["baseline", "post"])
    selected = db.scalars(select(Application).where(Application.round_id == call.id,
                                                    Application.state == "selected").order_by(Application.id)).all()
    awards = []
    for n, application in enumerate(selected):
        usd = Decimal(rng.randrange(10, 15) * 1000)
        tnd = (usd * BLADI_FX).quantize(Decimal("0.001"))
        award = make_award(db, registry, application, amount=Money(tnd, "TND"), starts_on=BLADI_START,
                           ends_on=dt.date(2020, 9, 30), cadence="quarterly",
                           source_amount=Money(usd, "USD"), fx_rate=BLADI_FX, fx_date=BLADI_FX_DATE,
                           user=officer, now=at(dt.date(2019, 9, 25)))
        _agreement(db, registry, award, officer, dt.date(2019, 9, 27))
        reports = award_reports(db, award)
        grantee = application.organisation.memberships[0].user
        afek = grantee.email == "applicant@example.org"
        _framework(db, award, reach_target=200, survey_code=instrument.code)
        _schedule(db, registry, award, reports, officer, at(dt.date(2019, 9, 28)))
        surveys.upload_survey_results(db, registry, award, instrument, "baseline",
                                      _survey_csv(instrument, rng, 60 + n, 0), filename="baseline.csv",
                                      user=grantee, now=at(dt.date(2019, 11, 5)))
        for report in reports:
            last = report.number == len(reports)
            if last:
                surveys.upload_survey_results(db, registry, award, instrument, "post",
                                              _survey_csv(instrument, rng, 55 + n, 2), filename="post.csv",
                                              user=grantee, now=at(dt.date(2020, 10, 5)))
                surveys.rollup_to_indicators(db, award, report)
            if last and n == 3:
                continue  # this grantee's final report is overdue (see `grants tick`)
            comment = None
            if report.number == 2 and n == 1:
                comment = "The figures by sex do not add up to the total; please check the attendance sheets."
            if last and afek:
                comment = "Please add how the clubs will continue after the grant (the schools' letters)."
            _report(db, service, report, grantee, officer, reached=50 * report.number + rng.randrange(0, 15),
                    rng=rng, returned_comment=comment, accept=not (last and afek))
        _budget(db, award, grantee, rng, reports)
        _pay(db, service, award, officer, upto=3 if not afek else 2)
        if n == 0 or afek:
            add_evidence(db, award, kind="success_story", title="Sonia's first public speech",
                         text="After six months in the club, a participant spoke at the municipal council.",
                         consent_given=True, consent_method="written", consent_date=dt.date(2020, 6, 2),
                         user=grantee, now=at(dt.date(2020, 6, 3)))
        _assess(db, award, evaluator, rng, at(dt.date(2020, 11, 20)), with_file=n < 3, registry=registry)
        awards.append(award)
    save_round_evaluation(
        db, call, user=evaluator, now=at(dt.date(2020, 12, 10)),
        findings="Ten of eleven projects reached or passed their participation targets; the survey shows more "
                 "participants ready to act against exclusion after the project than before.",
        shortcomings="Attendance records were weak in three projects, and the survey had no follow-up wave, so "
                     "we cannot say whether the change lasted.",
        lessons="Build data collection into the activities from the start, and budget for a follow-up survey.")
    publish_report(db, call, user=officer, now=at(dt.date(2021, 1, 15)))
    return awards


def _instrument(db, *, version: int):
    return tools.survey_instrument(db, version=version)


# -- Shared Endeavour ---------------------------------------------------------------------------


def shared_endeavour(db, registry, tm, people, rng=None):
    """The Shared Endeavour–like programme: four decided calls, their awards and reports."""
    from grants.accounts.models import LocalRole
    from grants.programmes.services import add_funder_contribution, create_programme, get_or_create_funder

    rng = rng or random.Random(2023)
    programme = create_programme(
        db, title="Shared Endeavour Fund", currency="GBP",
        description="The Mayor of London's fund for community projects against hate, intolerance and exclusion, "
                    "managed by Groundwork London with an independent evaluator.")
    programme.grant_id_prefix = "360G-sharedendeavour"
    city = get_or_create_funder(db, name="Mayor's Office for Policing and Crime", identifier="GB-GOV-MOPAC",
                                kind="government")
    google = get_or_create_funder(db, name="Google.org", identifier="US-EIN-77-0493581", kind="corporate")
    groundwork = get_or_create_funder(db, name="Groundwork London", identifier="GB-CHC-291558", kind="ngo")
    add_funder_contribution(db, programme, groundwork, role="implementer", note="Grant fund manager")
    manager, evaluator = people["fundmanager"], people["sef-evaluator"]
    db.add(LocalRole(user_id=manager.id, role="programme_officer", object_type="programmes",
                     object_id=programme.id))
    db.flush()
    instruments = {1: _instrument(db, version=1), 2: _instrument(db, version=2)}
    calls = []
    for number, (title, opens, closes, decided, money, projects, tier_max) in enumerate(SEF_CALLS, start=1):
        rnd = _sef_call(db, registry, tm, programme, people, number, title, opens, closes, decided, money,
                        projects, tier_max, rng)
        if number == 1:  # City Hall's £400,000, matched pound for pound by Google.org
            add_funder_contribution(db, programme, city, role="lead", amount=Money(Decimal(400_000), "GBP"),
                                    round=rnd)
            add_funder_contribution(db, programme, google, role="co_funder", amount=Money(Decimal(400_000), "GBP"),
                                    round=rnd, matches=city, note="Match funding, pound for pound")
        else:
            add_funder_contribution(db, programme, city, role="lead", amount=Money(money, "GBP"), round=rnd)
        db.add(LocalRole(user_id=evaluator.id, role="evaluator", object_type="rounds", object_id=rnd.id))
        db.flush()
        _sef_awards(db, registry, tm, rnd, people, instruments[1 if number <= 2 else 2], decided, rng,
                    last_call=number == len(SEF_CALLS))
        calls.append(rnd)
    return programme, calls


def _sef_amounts(total: Decimal, n: int, tier_max: int, rng) -> list[Decimal]:
    """``n`` grants adding up to ``total`` exactly, each a whole number of pounds within the tier."""
    weights = [rng.randrange(60, 140) for _ in range(n)]
    amounts = [(total * w / sum(weights)).quantize(Decimal(1), ROUND_HALF_UP) for w in weights]
    amounts[-1] += total - sum(amounts)
    assert sum(amounts) == total and all(0 < a <= tier_max for a in amounts), amounts
    return amounts


def _sef_call(db, registry, tm, programme, people, number, title, opens, closes, decided, money, projects,
              tier_max, rng):
    from grants.accounts.models import User
    from grants.accounts.organisations import register_organisation
    from grants.applications import services as applications
    from grants.demo.legacy import _fill_application
    from grants.lifecycle.services import WorkflowService
    from grants.programmes.services import TierSpec, create_round
    from grants.regions import regions_for
    from grants.workflow import Actor

    manager = people["fundmanager"]
    boroughs = regions_for("GB", "en")
    rnd = create_round(
        db, registry, programme, title=f"{title} — {opens.year}", timezone="Europe/London",
        opens_at=at(opens, 9), closes_at=at(closes, 17), budget=Money(money, "GBP"),
        tiers=[TierSpec("Grant", Money(Decimal(10_000), "GBP"), Money(Decimal(tier_max), "GBP"))],
        application_form_version="bladi-2018", user=manager)
    service = WorkflowService(registry.workflows, db, transaction_manager=tm)
    system = Actor.system_actor("system:tick")
    service.fire(rnd, "open", actor=system, now=at(opens, 9))
    amounts = _sef_amounts(money, projects, tier_max, rng)
    apps = []
    for i in range(projects + SEF_DECLINED_PER_CALL):
        borough = boroughs[(i * 7 + number * 5) % len(boroughs)]
        work = LONDON_WORK[(i + number) % len(LONDON_WORK)]
        name = f"{borough.name('en')} {work} {'CIC' if i % 3 == 0 else 'Trust'}"
        if number == 4 and i == 0:
            owner = people["grantee"]
            name = "Lewisham Young Voices CIC"
        else:
            owner = User(email=f"sef{number}-{i:02d}@london.example.org", name=f"{name} (contact)", locale="en",
                         password_hash=people["_hash"], email_verified=True)
            db.add(owner)
            db.flush()
        org = register_organisation(db, owner, {
            "legal_name": name, "registration_number": f"{1100000 + number * 1000 + i}",
            "legal_form": "community_interest_company" if i % 3 == 0 else "registered_charity",
            "country": "GB", "regions": [borough.code], "contact_email": owner.email,
        }, now=at(opens - dt.timedelta(days=30)))
        day = at(opens + dt.timedelta(days=1 + i % 30))
        app = applications.create_application(db, registry, rnd, org, owner, title=f"{work} in {borough.name('en')}",
                                               now=day)
        amount = amounts[i] if i < projects else Decimal(rng.randrange(10, tier_max // 1000) * 1000)
        _fill_application(db, registry, app, owner, app.title, borough, amount, currency="GBP")
        applications.submit(db, registry, app, owner, transaction_manager=tm, now=day + dt.timedelta(hours=2))
        apps.append(app)
    service.fire(rnd, "close", actor=system, now=at(closes, 17))
    for app in apps:
        service.fire(app, "confirm_eligible", manager, now=at(closes + dt.timedelta(days=3)))
    service.fire(rnd, "start_review", manager, now=at(closes + dt.timedelta(days=4)))
    reference = f"PCD {1000 + number * 137}"
    for i, app in enumerate(apps):
        if i < projects:
            service.fire(app, "select", manager, data={"funder_reference": reference}, now=at(decided),
                         comment="Approved after assessment and moderation.")
        else:
            service.fire(app, "decline", manager, data={"funder_reference": reference}, now=at(decided),
                         comment="The panel found other projects closer to the fund's priorities this year.")
    service.fire(rnd, "decide", manager, now=at(decided + dt.timedelta(days=1)))
    return rnd


def _sef_awards(db, registry, tm, rnd, people, instrument, decided, rng, *, last_call: bool):
    from sqlalchemy import select

    from grants.applications.models import Application
    from grants.awards.services import make_award
    from grants.evaluation.services import save_round_evaluation
    from grants.lifecycle.services import WorkflowService
    from grants.mel import surveys
    from grants.reporting.public import publish_report

    manager, evaluator = people["fundmanager"], people["sef-evaluator"]
    service = WorkflowService(registry.workflows, db, transaction_manager=tm)
    surveys.attach_instrument(db, rnd, instrument, ["baseline", "post"])
    start = decided.replace(day=1) + dt.timedelta(days=62)
    start = start.replace(day=1)
    selected = db.scalars(select(Application).where(Application.round_id == rnd.id, Application.state == "selected")
                          .order_by(Application.id)).all()
    for n, application in enumerate(selected):
        award = make_award(db, registry, application, amount=application.amount, starts_on=start,
                           ends_on=start.replace(year=start.year + 1) - dt.timedelta(days=1), cadence="half_yearly",
                           user=manager, now=at(decided + dt.timedelta(days=20)))
        _agreement(db, registry, award, manager, decided + dt.timedelta(days=25))
        reports = award_reports(db, award)
        grantee = application.organisation.memberships[0].user
        _framework(db, award, reach_target=800, survey_code=instrument.code)
        _schedule_two(db, registry, award, reports, manager, at(decided + dt.timedelta(days=26)))
        surveys.upload_survey_results(db, registry, award, instrument, "baseline",
                                      _survey_csv(instrument, rng, 80 + n * 3, 0), filename="baseline.csv",
                                      user=grantee, now=at(start + dt.timedelta(days=20)))
        for report in reports:
            last = report.number == len(reports)
            if last:
                surveys.upload_survey_results(db, registry, award, instrument, "post",
                                              _survey_csv(instrument, rng, 70 + n * 3, 2), filename="post.csv",
                                              user=grantee, now=at(report.period_end))
                surveys.rollup_to_indicators(db, award, report)
                if last_call and n in (2, 5):
                    continue  # overdue final reports in the latest call
            _report(db, service, report, grantee, manager, reached=400 * report.number + rng.randrange(0, 300),
                    rng=rng)
        _pay(db, service, award, manager, upto=2 if reports[0].state == "accepted" else 1)
        _assess(db, award, evaluator, rng, at(start + dt.timedelta(days=400)), with_file=n == 0, registry=registry)
    save_round_evaluation(
        db, rnd, user=evaluator, now=at(start + dt.timedelta(days=420)),
        findings="Across the round, participants' agreement that they would speak up against unfair treatment "
                 "rose between the baseline and the end of the projects.",
        shortcomings="Response rates fell at the post-project wave in smaller projects; results from the two "
                     "versions of the survey cannot be compared with each other.",
        lessons="Keep the same instrument within a round; plan the follow-up wave when the grant starts.")
    publish_report(db, rnd, user=manager, now=at(start + dt.timedelta(days=430)))


def _schedule_two(db, registry, award, reports, officer, now):
    from grants.awards.services import set_schedule

    set_schedule(db, registry, award, [
        {"percent": Decimal(50), "due_on": award.starts_on, "condition": "agreement_signed"},
        {"percent": Decimal(50), "due_on": reports[0].period_end + dt.timedelta(days=45),
         "condition": "report_accepted", "condition_report": reports[0]},
    ], user=officer, now=now)
