"""grants' own demo, loaded first by ``grants demo``: one funder-neutral programme where
every role finds something, made through the services in a few seconds.

* a programme officer runs the "Community Grants Programme" (euros);
* its first round is decided: six organisations applied on the general form, one was
  found ineligible on screening (with the officer's reason), a reviewer scored the other
  five against the general rubric, two were selected with the funder's reference and three
  declined with feedback; the two awards have a signed agreement, a results framework,
  two tranches, their first report accepted and the first tranche paid, and the
  evaluator's assessment;
* its second round is open, and the demo applicant has a draft in it.

Nobody in it belongs to a funder's plugin; plugins' demos come after it.
"""
from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from . import tools

TITLE = "Community Grants Programme"
CURRENCY = "EUR"
ZONE = "Europe/Dublin"
PEOPLE = [
    tools.DemoPerson("admin@example.org", "Site Admin", "en", "admin", admin=True),
    tools.DemoPerson("officer@example.org", "Olivia Officer", "en", f"programme officer ({TITLE})"),
    tools.DemoPerson("reviewer@example.org", "Rami Reviewer", "fr", "reviewer (round 1)"),
    tools.DemoPerson("applicant@example.org", "Ana Applicant", "en",
                     "applicant and grantee (Riverside Community Association)"),
    tools.DemoPerson("evaluator@example.org", "Eve Evaluator", "en", "evaluator (round 1)"),
]
#: The organisations of round 1: (name, amount asked, how good the reviewer finds it, eligible).
APPLICANTS = [
    ("Riverside Community Association", 18_000, 5, True),
    ("Northside Youth Club", 22_000, 4, True),
    ("Harbour Arts Collective", 12_000, 3, True),
    ("Green Streets Network", 25_000, 3, True),
    ("Hillside Elders Forum", 9_000, 2, True),
    ("Meadow Lane Residents", 15_000, 4, False),  # its registration certificate is another's
]
FUNDED = 2


def load(registry, out, now: dt.datetime) -> list[tools.DemoPerson]:
    with registry.database.transaction() as (tm, db):
        if tools.programme_exists(db, TITLE):
            print("  already loaded", file=out)
            return PEOPLE
        people = tools.make_people(db, PEOPLE)
        programme = _programme(db, registry, people)
        organisations = _organisations(db, people)
        decided = _decided_round(db, registry, tm, programme, people, organisations)
        _open_round(db, registry, programme, people, organisations[0], now)
        awards = len(decided.rows)
    print(f"  round 1 decided ({len(APPLICANTS)} applied, {awards} awards), round 2 open", file=out)
    return PEOPLE


def _programme(db, registry, people):
    from grants.money import Money
    from grants.programmes.services import add_funder_contribution, create_programme, get_or_create_funder

    programme = create_programme(db, title=TITLE, currency=CURRENCY, registry=registry,
                                 description="Small grants for community projects: one round a year.")
    funder = get_or_create_funder(db, name="Community Foundation", kind="foundation")
    add_funder_contribution(db, programme, funder, role="lead", amount=Money(Decimal(200_000), CURRENCY))
    tools.grant_role(db, people["officer"], "programme_officer", programme)
    return programme


def _organisations(db, people) -> list:
    from grants.accounts.organisations import register_organisation

    made = []
    for n, (name, _amount, _quality, _eligible) in enumerate(APPLICANTS):
        owner = people["applicant"] if n == 0 else tools.make_user(
            db, f"contact{n}@community.example.org", f"{name} (contact)")
        made.append(register_organisation(db, owner, {
            "legal_name": name, "registration_number": f"CHY-{20_400 + n}", "legal_form": "association",
            "country": "IE", "regions": [], "contact_email": owner.email,
        }, now=tools.at(dt.date(2024, 1, 2))))
    return made


def _decided_round(db, registry, tm, programme, people, organisations):
    from grants.applications import services as applications
    from grants.applications.eligibility import screen
    from grants.awards.services import make_award, round_awards
    from grants.lifecycle.services import WorkflowService
    from grants.money import Money
    from grants.programmes.services import TierSpec, create_round
    from grants.review import decisions
    from grants.review import services as review
    from grants.workflow import Actor

    rng = random.Random(2024)  # the same demo every time
    officer, reviewer, evaluator = people["officer"], people["reviewer"], people["evaluator"]
    service = WorkflowService(registry.workflows, db, transaction_manager=tm)
    system = Actor.system_actor("system:tick")
    rnd = create_round(
        db, registry, programme, title="Round 1 — 2024", timezone=ZONE, opens_at=tools.at(dt.date(2024, 1, 15), 9),
        closes_at=tools.at(dt.date(2024, 3, 1), 17), budget=Money(Decimal(60_000), CURRENCY),
        tiers=[TierSpec("Small grant", Money(Decimal(5_000), CURRENCY), Money(Decimal(25_000), CURRENCY))],
        eligibility_rules=[{"kind": "registered_organisation"}, {"kind": "amount_within_max"},
                           {"kind": "required_attachments", "attachments": ["registration_certificate", "budget"]}],
        user=officer)
    service.fire(rnd, "open", actor=system, now=tools.at(dt.date(2024, 1, 15), 9))
    tools.grant_role(db, evaluator, "evaluator", rnd)

    apps, quality = [], {}
    for n, (organisation, (name, amount, good, _eligible)) in enumerate(zip(organisations, APPLICANTS)):
        owner = organisation.memberships[0].user
        day = tools.at(dt.date(2024, 2, 1) + dt.timedelta(days=2 * n))
        app = applications.create_application(db, registry, rnd, organisation, owner,
                                              title=f"{name.split()[0]} together", now=day)
        tools.fill_application(db, registry, app, owner, {"project": {
            "summary": f"Weekly activities that bring {name.split()[0]}'s neighbours together for a year.",
            "objectives": "More neighbours take part in local life, and keep doing so after the grant.",
            "beneficiaries": "About 150 residents of all ages.",
        }}, amount=Money(Decimal(amount), CURRENCY))
        applications.submit(db, registry, app, owner, transaction_manager=tm, now=day + dt.timedelta(hours=1))
        apps.append(app)
        quality[app.id] = good
    service.fire(rnd, "close", actor=system, now=tools.at(dt.date(2024, 3, 1), 17))

    for n, (app, (_name, _amount, _good, eligible)) in enumerate(zip(apps, APPLICANTS)):
        words = {c.position: ("confirmed", "") for c in app.eligibility_checks}
        if not eligible:
            words[app.eligibility_checks[0].position] = (
                "overridden", "The registration certificate attached belongs to another organisation.")
        screen(db, registry, app, officer, words, transaction_manager=tm, locale="en",
               now=tools.at(dt.date(2024, 3, 4)) + dt.timedelta(minutes=n))
    service.fire(rnd, "start_review", officer, now=tools.at(dt.date(2024, 3, 5), 9))

    invitation = review.invite_reviewer(db, registry, rnd, reviewer, officer, transaction_manager=tm)
    review.respond(db, invitation, reviewer, accept=True)
    review.auto_assign(db, rnd, per_application=1, stage="application", assigned_by=officer)
    criteria = review.rubric_for(db, rnd).scoring_rubric().criteria
    for assignment in review.my_assignments(db, reviewer):
        review.declare(db, assignment, reviewer, conflict=False)
        good = quality[assignment.application_id]
        scores = {c.id: max(1, min(5, good + rng.choice((-1, 0, 0, 1)))) for c in criteria}
        review.save_review(db, registry, assignment, reviewer, scores=scores, submit=True,
                           rationales={c.id: "Clear and well argued." if scores[c.id] >= 4 else "Needs more detail."
                                       for c in criteria})
    decisions.decide_round(
        db, registry, rnd, officer, stage="application", selected_trigger="select", declined_trigger="decline",
        reason_selected="A clear plan with strong local support.",
        reason_declined="Thank you for applying. Other projects ranked higher this year; we encourage you to apply "
                        "again.", funder_reference="CGP-2024-01", limit=FUNDED, transaction_manager=tm,
        now=tools.at(dt.date(2024, 4, 10), 15))
    service.fire(rnd, "decide", officer, now=tools.at(dt.date(2024, 4, 12), 9))

    for application in decisions_selected(db, rnd):
        award = make_award(db, registry, application, amount=application.amount, starts_on=dt.date(2024, 6, 1),
                           ends_on=dt.date(2025, 5, 31), cadence="quarterly", user=officer,
                           now=tools.at(dt.date(2024, 5, 6)))
        tools.sign_agreement(db, registry, award, officer, dt.date(2024, 5, 20))
        reports = tools.award_reports(db, award)
        grantee = application.organisation.memberships[0].user
        tools.results_framework(db, award, reach_target=150)
        tools.payment_schedule(db, registry, award, reports, officer, tools.at(dt.date(2024, 5, 21)),
                               tools.TWO_TRANCHES)
        tools.file_report(db, service, reports[0], grantee, officer, reached=40 + rng.randrange(0, 20), rng=rng)
        tools.plan_budget(db, award, grantee, rng, reports)
        tools.pay_tranches(db, service, award, officer, upto=2)
        tools.assess(db, registry, award, evaluator, rng, tools.at(dt.date(2024, 12, 2)))
    return round_awards(db, rnd)


def decisions_selected(db, rnd) -> list:
    """The round's selected applications, in the order they applied."""
    from sqlalchemy import select

    from grants.applications.models import Application
    from grants.lifecycle.meanings import state_means

    return db.scalars(select(Application).where(Application.round_id == rnd.id, state_means(Application, "selected"))
                      .order_by(Application.id)).all()


def _open_round(db, registry, programme, people, organisation, now):
    from grants.applications import services as applications
    from grants.lifecycle.services import WorkflowService
    from grants.money import Money
    from grants.programmes.services import TierSpec, create_round
    from grants.workflow import Actor

    opens = now - dt.timedelta(days=5)
    rnd = create_round(
        db, registry, programme, title="Round 2", timezone=ZONE, opens_at=opens, closes_at=now + dt.timedelta(days=40),
        budget=Money(Decimal(60_000), CURRENCY),
        tiers=[TierSpec("Small grant", Money(Decimal(5_000), CURRENCY), Money(Decimal(25_000), CURRENCY))],
        eligibility_rules=[{"kind": "registered_organisation"}, {"kind": "amount_within_max"}],
        user=people["officer"])
    WorkflowService(registry.workflows, db).fire(rnd, "open", actor=Actor.system_actor("system:tick"), now=opens)
    applicant = people["applicant"]
    draft = applications.create_application(db, registry, rnd, organisation, applicant,
                                            title="Riverside garden days", now=now)
    applications.save_section(db, registry, draft, applicant, "organisation", {
        "mission": "We bring the neighbours of Riverside together.", "year_founded": 2009, "staff": 1,
        "volunteers": 20,
    })
    return rnd
