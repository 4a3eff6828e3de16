"""Helpers for demonstration data: the public API a demo loader (grants' own, or a
plugin's, registered with ``config.add_demo``) builds its programme with.

Everything here goes through the same services the pages use, so a demo is a record of
what people could have done by hand.  Nothing commits: a loader runs these inside its own
``registry.database.transaction()``.  None of them knows a funder; a loader brings its own
wording, amounts and dates::

    from grants.demo import tools

    def load(registry, out, now):
        with registry.database.transaction() as (tm, db):
            if tools.programme_exists(db, "My Fund"):
                return SIGN_INS                        # loaded before: nothing to do
            people = tools.make_people(db, [
                tools.DemoPerson("officer@myfund.example.org", "Olu Officer", "en", "programme officer (My Fund)"),
            ])
            ...
            tools.fill_application(db, registry, application, owner, {"project": {"summary": "…"}},
                                   amount=Money(Decimal(20_000), "GBP"))
            ...
        return SIGN_INS

Award-year helpers (:func:`results_framework`, :func:`file_report`, :func:`payment_schedule`,
:func:`pay_tranches`, :func:`sign_agreement`, :func:`plan_budget`, :func:`assess`,
:func:`survey_instrument`, :func:`survey_csv`) take the award and the people involved; those
that vary take a ``random.Random`` so that a demo is the same every time it is loaded.
"""
from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Iterable

import colander

from grants.money import Money

#: Every demo person signs in with this password.
DEMO_PASSWORD = "demo-password-2026"
UTC = dt.timezone.utc

#: A tiny real PDF (a registration certificate, an agreement, an assessment report).
PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>"
       b"endobj\n3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\ntrailer<</Root 1 0 R>>\n"
       b"%%EOF\n")


def at(day: dt.date, hour: int = 10, tz=UTC) -> dt.datetime:
    """``day`` at ``hour`` o'clock in ``tz`` (UTC unless given)."""
    return dt.datetime.combine(day, dt.time(hour), tzinfo=tz)


# -- people ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoPerson:
    """Someone a demo signs in as: ``description`` is printed beside the address."""

    email: str
    name: str
    locale: str = "en"
    description: str = ""
    admin: bool = False

    @property
    def key(self) -> str:
        """How :func:`make_people` names them: the address before the ``@``."""
        return self.email.split("@")[0]


_hashes: dict[str, str] = {}


def password_hash(password: str = DEMO_PASSWORD) -> str:
    """The hash of the demo password, computed once (argon2 is slow on purpose)."""
    if password not in _hashes:
        from grants.accounts.services import hash_password

        _hashes[password] = hash_password(password)
    return _hashes[password]


def make_people(db, people: Iterable[DemoPerson]) -> dict[str, Any]:
    """Accounts for ``people`` (verified, with the demo password), by :attr:`DemoPerson.key`.
    Someone another demo made already (the same address) is reused, not made twice."""
    from sqlalchemy import select

    from grants.accounts.models import User

    users = {}
    for person in people:
        user = db.scalar(select(User).where(User.email == person.email))
        if user is None:
            user = User(email=person.email, name=person.name, locale=person.locale, password_hash=password_hash(),
                        email_verified=True, is_admin=person.admin)
            db.add(user)
        users[person.key] = user
    db.flush()
    return users


def make_user(db, email: str, name: str, locale: str = "en"):
    """One more account with the demo password (an applicant's contact, say), not listed
    among the sign-ins."""
    return make_people(db, [DemoPerson(email, name, locale)])[email.split("@")[0]]


def programme_exists(db, title: str) -> bool:
    """Has a programme of this title been made (by an earlier run of the demo)?"""
    from sqlalchemy import select

    from grants.programmes.models import Programme

    return db.scalar(select(Programme.id).where(Programme.title == title).limit(1)) is not None


def grant_role(db, user, role: str, place) -> None:
    """A local role (``programme_officer`` on a programme, ``evaluator`` on a round)."""
    from grants.accounts.models import LocalRole

    db.add(LocalRole(user_id=user.id, role=role, object_type=place.__tablename__, object_id=place.id))
    db.flush()


# -- applications ---------------------------------------------------------------------------


def budget_csv(amount: Decimal, currency: str = "") -> bytes:
    """A budget sheet (CSV) whose lines add up to ``amount`` exactly."""
    third = (amount / 3).quantize(Decimal("0.001"))
    rest = amount - 2 * third
    column = f"amount_{currency.lower()}" if currency else "amount"
    return f"line,{column}\nstaff,{third}\nactivities,{third}\nequipment,{rest}\ntotal,{amount}\n".encode()


def fill_application(db, registry, application, owner, answers: dict | None = None, *, amount: Money | None = None,
                     stage: str = "application", documents: dict | None = None) -> None:
    """Fill every section of ``application``'s form at ``stage`` and attach its documents,
    through the services, whatever the form.

    ``answers`` is {section: {question: value}} (values as the services take them: text,
    numbers, Money, sets of codes).  A required question left out gets a plain answer
    (its choices' first, the organisation's regions, the smallest number allowed, the
    application's title for the title question, a sentence otherwise); ``amount`` answers
    the form's amount question.  ``documents`` is {kind: (filename, bytes)}; every document
    the form asks for and ``documents`` leaves out is a small PDF (a budget sheet, a CSV)."""
    from grants.applications import services as applications
    from grants.applications.formdefs import bind_schema, form_for

    answers = answers or {}
    documents = documents or {}
    form = form_for(registry, application, stage)
    organisation = application.organisation
    currency = application.round.programme.currency
    for section in form.sections:
        if section.has_questions:
            schema = bind_schema(section, currency=currency, country=organisation.country,
                                 locale=owner.locale or "en", application=application)
            values = dict(answers.get(section.name, {}))
            for node in schema.children:
                if node.name in values:
                    continue
                if form.amount_field == (section.name, node.name) and amount is not None:
                    values[node.name] = amount
                elif form.title_field == (section.name, node.name):
                    values[node.name] = application.title
                elif node.required:
                    values[node.name] = _plain_answer(node, organisation, amount, currency)
            applications.save_section(db, registry, application, owner, section.name, values, stage=stage)
        for spec in section.attachments:
            if spec.kind in documents:
                filename, data = documents[spec.kind]
            elif "budget" in spec.kind:
                filename, data = f"{spec.kind}.csv", budget_csv(amount.amount if amount else Decimal(1000))
            else:
                filename, data = f"{spec.kind}.pdf", PDF
            applications.attach(db, registry, application, owner, kind=spec.kind, filename=filename, data=data,
                                stage=stage)


def _plain_answer(node, organisation, amount, currency):
    from grants.programmes.forms import WholeNumber

    if getattr(node, "regions", False) or (isinstance(node.typ, colander.Set) and node.name == "regions"):
        from grants.regions import regions_for

        # where the organisation works, else the first region of its country
        return set(organisation.regions or ()) or {r.code for r in regions_for(organisation.country, "en")[:1]}
    values = getattr(node.widget, "values", None)
    if values:
        first = values[0][0]
        return {first} if isinstance(node.typ, colander.Set) else first
    if isinstance(node.typ, WholeNumber):
        return max(node.typ.minimum, 1)
    if getattr(node, "money", False):
        return amount or Money(Decimal(1000), currency)
    if isinstance(node.typ, colander.Boolean):
        return True
    if isinstance(node.typ, colander.Date):
        return dt.date.today()
    return "An answer written for the demonstration."


# -- the award's year -------------------------------------------------------------------------


def award_reports(db, award) -> list:
    """The award's reports (one per reporting period), in order."""
    from sqlalchemy import select

    from grants.mel.models import Report

    return db.scalars(select(Report).where(Report.award_id == award.id).order_by(Report.number)).all()


def report_indicators(db, report) -> list:
    """The indicators of the report's award, by code."""
    from sqlalchemy import select

    from grants.mel.models import Indicator

    return db.scalars(select(Indicator).where(Indicator.award_id == report.award_id).order_by(Indicator.code)).all()


def results_framework(db, award, *, reach_target: int, survey_code: str | None = None):
    """A small theory of change and two indicators: people taking part (``OUT-1``, by sex,
    with targets growing to ``reach_target`` over the periods) and, with ``survey_code``, the
    share of participants who agree they can act (``OC-1``, measured by that instrument's
    item ``act``).  Returns (reach indicator, survey indicator or None, outcome element)."""
    from grants.mel import framework

    out = framework.add_toc_element(db, award, kind="outputs", text="Young people take part in the activities.")
    framework.add_toc_element(db, award, kind="activities", text="Weekly clubs, workshops and two public events.")
    outcome = framework.add_toc_element(db, award, kind="short_term_outcomes",
                                        text="Participants feel they belong and can speak up against exclusion.")
    framework.add_toc_element(db, award, kind="impact", text="A more cohesive community that resists division.")
    framework.add_toc_element(db, award, kind="assumption",
                              text="Participants take part because they want to, not to meet another obligation.")
    framework.add_toc_element(db, award, kind="external_factor",
                              text="Local elections may make public events harder to hold.")
    reports = sorted(award_reports(db, award), key=lambda r: r.number)
    per_period = Decimal(reach_target) / len(reports)
    targets = {r: (per_period * r.number).quantize(Decimal(1)) for r in reports}
    reach = framework.add_indicator(
        db, award, code="OUT-1", title="Young people taking part in the activities", level="outputs",
        measure="unit", unit="people", baseline_value=Decimal(0), baseline_date=award.starts_on,
        method="direct_measurement", disaggregation=["sex"], toc_element=out, targets=targets)
    agree = None
    if survey_code:
        agree = framework.add_indicator(
            db, award, code="OC-1", title="Participants who feel able to act against exclusion",
            level="short_term_outcomes", measure="percentage", unit="%", method="survey",
            baseline_missing_reason="Measured by the round's survey: the baseline wave is the starting point.",
            toc_element=outcome, targets={reports[-1]: Decimal(70)})
        agree.instrument_code = survey_code
        agree.instrument_item = "act"
    return reach, agree, outcome


def file_report(db, service, report, grantee, officer, *, reached: int, rng: random.Random,
                returned_comment: str | None = None, accept: bool = True) -> None:
    """The grantee writes and submits the period's report (``reached`` people, split by
    sex); the officer accepts it — or returns it first with ``returned_comment``, and the
    grantee corrects it (unless ``accept`` is false: then it stays returned)."""
    from grants.mel.services import save_report

    women = (Decimal(reached) * Decimal(rng.randrange(45, 62)) / 100).quantize(Decimal(1))
    values = []
    for indicator in report_indicators(db, report):
        if indicator.code == "OUT-1":
            values += [(indicator, {}, Decimal(reached), ""),
                       (indicator, {"sex": "female"}, women, ""),
                       (indicator, {"sex": "male"}, Decimal(reached) - women, "")]
    narrative = (f"Period {report.number}: {reached} young people took part; clubs met weekly and the "
                 "volunteers' training went ahead as planned.")
    submitted = report.due_at - dt.timedelta(days=rng.randrange(2, 20))
    save_report(db, report, narrative=narrative, values=values, user=grantee, now=submitted)
    service.fire(report, "submit", grantee, now=submitted)
    if returned_comment:
        service.fire(report, "return_for_changes", officer, comment=returned_comment,
                     now=submitted + dt.timedelta(days=5))
        if not accept:
            return
        save_report(db, report, narrative=narrative + " Attendance sheets are attached as agreed.",
                    values=values, user=grantee, now=submitted + dt.timedelta(days=9))
        service.fire(report, "submit", grantee, now=submitted + dt.timedelta(days=9))
    if accept:
        service.fire(report, "accept", officer, comment="Thank you.", now=submitted + dt.timedelta(days=12))


#: The usual plan: 40% on signing, 40% once the first report is accepted, 20% once the
#: last-but-one is.  Each entry: (percent, None for the signed agreement or the index of
#: the report whose acceptance releases it).
THREE_TRANCHES = ((40, None), (40, 0), (20, -2))
#: Half on signing, half once the first report is accepted.
TWO_TRANCHES = ((50, None), (50, 0))


def payment_schedule(db, registry, award, reports, officer, now, plan=THREE_TRANCHES) -> None:
    """The award's tranches after ``plan`` (see :data:`THREE_TRANCHES`): a tranche waiting
    for a report falls due 45 days after that report's period ends."""
    from grants.awards.services import set_schedule

    tranches = []
    for percent, report_index in plan:
        if report_index is None:
            tranches.append({"percent": Decimal(percent), "due_on": award.starts_on, "condition": "agreement_signed"})
        else:
            report = reports[report_index]
            tranches.append({"percent": Decimal(percent), "due_on": report.period_end + dt.timedelta(days=45),
                             "condition": "report_accepted", "condition_report": report})
    set_schedule(db, registry, award, tranches, user=officer, now=now)


def pay_tranches(db, service, award, officer, *, upto: int) -> None:
    """Release and pay the first ``upto`` tranches (their conditions must hold): each is
    paid on its due day, or two weeks after the report it waits for was submitted."""
    for tranche in award.tranches[:upto]:
        paid_on = max(tranche.due_on, (tranche.condition_report.submitted_at.date() + dt.timedelta(days=14))
                      if tranche.condition_report is not None and tranche.condition_report.submitted_at else
                      tranche.due_on)
        service.fire(tranche, "release", officer, now=at(paid_on, 9))
        service.fire(tranche, "disburse", officer, now=at(paid_on, 15),
                     data={"amount": tranche.amount, "paid_on": paid_on,
                           "reference": f"TRF-{award.id:04d}-{tranche.position}"})


def sign_agreement(db, registry, award, officer, signed_on: dt.date) -> None:
    """The signed grant agreement, uploaded by the officer."""
    from grants.files.storage import store

    award.agreement_file = store(db, registry.settings, filename=f"grant-agreement-{award.reference}.pdf",
                                 data=PDF, uploaded_by=officer)
    award.agreement_signed_on = signed_on


def plan_budget(db, award, grantee, rng: random.Random, reports) -> list:
    """Three budget lines (staff 45%, activities 40%, the rest) and, for each submitted or
    accepted report, a fifth or so of each line spent in its period."""
    from grants.awards.services import record_expenditure, set_budget

    minor = award.amount_minor
    staff = minor * 45 // 100
    activities = minor * 40 // 100
    lines = set_budget(db, award, [("Staff", Money.from_minor(staff, award.currency)),
                                   ("Activities", Money.from_minor(activities, award.currency)),
                                   ("Equipment and running costs",
                                    Money.from_minor(minor - staff - activities, award.currency))])
    for report in reports:
        if report.state not in ("accepted", "submitted"):
            continue
        for line in lines:
            share = Decimal(rng.randrange(18, 27)) / 100
            spent = (Decimal(line.planned_minor) * share).to_integral_value(ROUND_HALF_UP)
            record_expenditure(db, line, amount=Money.from_minor(int(spent), award.currency),
                               spent_on=report.period_end, report=report, note="", user=grantee)
    return lines


def assess(db, registry, award, evaluator, rng: random.Random, now: dt.datetime, *, with_file: bool = False,
           summary: str | None = None) -> None:
    """The evaluator's assessment of the award, scored on every criterion of its
    programme (2 to 5), with a report attached if ``with_file``."""
    from grants.evaluation.services import criteria_for, save_assessment
    from grants.files.storage import store

    scores = {c.id: rng.randrange(2, 6) for c in criteria_for(registry, award.round.programme)}
    files = []
    if with_file:
        files = [("Assessment report", store(db, registry.settings, filename=f"assessment-{award.reference}.pdf",
                                             data=PDF, uploaded_by=evaluator))]
    save_assessment(db, award, evaluator, scores=scores, files=files, now=now, registry=registry, submit=True,
                    summary=summary or "Activities delivered as planned; the survey shows a clear change between "
                                       "the baseline and the end of the project. Record-keeping of attendance "
                                       "needs work.")


LIKERT = ["Strongly disagree", "Disagree", "Neither agree nor disagree", "Agree", "Strongly agree"]


def survey_instrument(db, *, version: int = 1, code: str = "belonging", title: str = "Belonging and speaking up"):
    """A three-item survey on a five-point scale (``belong``, ``trust``, ``act``), made once
    per version; version 2 asks the same retrospectively (now, compared with before)."""
    from sqlalchemy import select

    from grants.mel.models import SurveyInstrument
    from grants.mel.surveys import create_instrument

    existing = db.scalar(select(SurveyInstrument).where(SurveyInstrument.code == code,
                                                        SurveyInstrument.version == version))
    if existing is not None:
        return existing
    items = [
        {"code": "belong", "text": "I feel I belong in my neighbourhood.", "scale": 5, "labels": LIKERT},
        {"code": "trust", "text": "I trust people from other backgrounds in my area.", "scale": 5, "labels": LIKERT},
        {"code": "act", "text": "I would speak up if someone were treated unfairly.", "scale": 5, "labels": LIKERT},
    ]
    if version == 2:
        items = [dict(i, text=i["text"] + " (Thinking about now, compared with before the project.)") for i in items]
    return create_instrument(db, code=code, title=title, items=items)


def survey_csv(instrument, rng: random.Random, respondents: int, shift: int) -> bytes:
    """Aggregated answers as uploaded: per item, how many of ``respondents`` chose each
    point of the scale; a larger ``shift`` leans towards agreement."""
    lines = ["item," + ",".join(f"count_{i}" for i in range(1, 6))]
    for item in instrument.items:
        weights = [max(1, 10 - abs(point - (2 + shift)) * 3 + rng.randrange(0, 3)) for point in range(1, 6)]
        total = sum(weights)
        counts = [respondents * w // total for w in weights]
        counts[-1] += respondents - sum(counts)
        lines.append(item["code"] + "," + ",".join(str(c) for c in counts))
    return ("\n".join(lines) + "\n").encode()
