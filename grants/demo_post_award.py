"""The demo after the decisions: BLADI's awards and their MEL.  Called by
``grants.demo.load_demo``; everything goes through the services the pages use.

BLADI (call 1, decided 12 September 2019): the 11 selected associations get awards in
Tunisian dinars from the US Department of State's dollar budget (the rate and its date
recorded on each award), twelve months from 1 October 2019, reporting quarterly: a results
framework with two indicators each, a payment schedule of three tranches (the second
waits for the first report's acceptance), a budget and its spend, quarterly reports with
values disaggregated by sex (one returned once and corrected; AFEK's last report returned
with comments, one grantee's final report overdue), a survey at baseline and after the
project, a success story with its consent record, the evaluator's assessments and
findings, and the round's public report, published.
"""
from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from grants.demo import tools
from grants.money import Money

UTC = dt.timezone.utc

#: BLADI's exchange rate when the awards were made (TND per USD, recorded on each award).
BLADI_FX = Decimal("2.8718")
BLADI_FX_DATE = dt.date(2019, 9, 30)
BLADI_START = dt.date(2019, 10, 1)

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
