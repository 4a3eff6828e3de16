"""The fund's demonstration data, loaded by ``grants demo`` when the plugin is enabled.

Four yearly calls of the Mayor of London's fund against hate, intolerance and exclusion,
managed by Groundwork London with an independent evaluator: £800,000 in call 1 (£400,000
from the Mayor's Office for Policing and Crime matched pound for pound by Google.org),
£600,000, £725,000 and £873,925 — 95 projects, £2,998,925 in all.  Each call: London
organisations apply on the fund's form (themes, tiers, match funding for the largest
grants), the officer screens them against the round's rules (an organisation whose legal
form the fund does not take is found ineligible), the panel decides with the funder's
reference, due diligence clears the selected ones, and each award runs a year reporting
half-yearly.  Calls 1–2 use the before-and-after survey, calls 3–4 the one looking back;
each call's evaluation is written and its public report published.
"""
from __future__ import annotations

import datetime as dt
import random
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select

from grants.demo import tools
from grants.money import Money

from .form import THEMES, match_funding_needed
from .rules import ACCEPTED_LEGAL_FORMS, LEGAL_FORM_IN
from .workflow import APPLICATION

TITLE = "Shared Endeavour Fund"
PLUGIN = "shared_endeavour"
LONDON = "Europe/London"

PEOPLE = [
    tools.DemoPerson("fundmanager@example.org", "Grace Fund Manager", "en",
                     "programme officer (Shared Endeavour Fund)"),
    tools.DemoPerson("sef-evaluator@example.org", "Sam Evaluator", "en",
                     "evaluator (Shared Endeavour Fund, every call)"),
    tools.DemoPerson("grantee@example.org", "Priya Grantee", "en",
                     "grantee (Lewisham Young Voices CIC, Shared Endeavour call 4)"),
]

#: The calls: (title, opens, closes, decided, money, projects funded, largest grant).
CALLS = [
    ("Call 1", dt.date(2020, 1, 14), dt.date(2020, 2, 28), dt.date(2020, 5, 6), Decimal(800_000), 31, 50_000),
    ("Call 2", dt.date(2021, 1, 11), dt.date(2021, 2, 26), dt.date(2021, 5, 4), Decimal(600_000), 19, 50_000),
    ("Call 3", dt.date(2022, 6, 6), dt.date(2022, 7, 15), dt.date(2022, 10, 3), Decimal(725_000), 22, 50_000),
    ("Call 4", dt.date(2023, 4, 12), dt.date(2023, 5, 22), dt.date(2023, 8, 14), Decimal("873925"), 23, 100_000),
]
DECLINED_PER_CALL = 8
WORK = ["Youth voices", "Safer streets", "Digital resilience", "Faith and neighbours", "Sport for unity",
        "Parents together", "Art against hate", "Schools in dialogue", "Women's circles", "Mentoring futures"]
#: Legal forms of the applicants, in turn (every one the fund accepts).
LEGAL_FORMS = ["community_interest_company", "registered_charity", "cio", "company_limited_by_guarantee",
               "registered_charity", "constituted_group"]
SUFFIX = {"community_interest_company": "CIC", "registered_charity": "Trust", "cio": "Foundation",
          "company_limited_by_guarantee": "Ltd", "constituted_group": "Group"}
#: Instrument files by design: calls 1–2 ran the survey before and after, calls 3–4 once, looking back.
PREPOST, RETROSPECTIVE = "shared_endeavour_prepost", "shared_endeavour_retrospective"


def tiers(largest: int) -> list:
    """The call's grant sizes: the largest asks for half the amount in match funding."""
    from grants.programmes.services import TierSpec

    def gbp(n):
        return Money(Decimal(n), "GBP")

    out = [TierSpec("Small grants", gbp(10_000), gbp(25_000)), TierSpec("Medium grants", gbp(25_001), gbp(50_000))]
    if largest > 50_000:
        out.append(TierSpec("Large grants", gbp(50_001), gbp(largest), conditions="With 50% match funding",
                            match_funding_percent=50))
    return out


RULES = [{"kind": "registered_organisation"}, {"kind": LEGAL_FORM_IN, "legal_forms": list(ACCEPTED_LEGAL_FORMS)},
         {"kind": "amount_within_max"},
         {"kind": "required_attachments", "attachments": ["governing_document", "safeguarding_policy"]}]


def load_demo(registry, out, now):
    with registry.database.transaction() as (tm, db):
        if tools.programme_exists(db, TITLE):
            print("  already loaded", file=out)
            return PEOPLE
        people = tools.make_people(db, PEOPLE)
        programme, calls = shared_endeavour(db, registry, tm, people)
        print("  " + summary(db, calls), file=out)
    return PEOPLE


def summary(db, calls) -> str:
    from grants.awards.models import Award
    from grants.money import sum_money

    awards = db.scalars(select(Award).where(Award.round_id.in_([c.id for c in calls]))).all()
    total = sum_money([a.amount for a in awards], "GBP")
    return f"{len(calls)} calls, {len(awards)} awards, {total.format('en')} in all"


def shared_endeavour(db, registry, tm, people, rng=None):
    """The programme, its funders and its four decided calls with their awards."""
    from grants.mel import surveys
    from grants.programmes.services import (
        add_funder_contribution,
        choose_workflow,
        create_programme,
        get_or_create_funder,
    )

    rng = rng or random.Random(2023)  # the same demo every time
    programme = create_programme(
        db, title=TITLE, currency="GBP", plugins=[PLUGIN], registry=registry,
        description="The Mayor of London's fund for community projects against hate, intolerance and exclusion, "
                    "managed by Groundwork London with an independent evaluator.")
    programme.grant_id_prefix = "360G-sharedendeavour"
    choose_workflow(db, registry, programme, "application", APPLICATION)
    city = get_or_create_funder(db, name="Mayor's Office for Policing and Crime", identifier="GB-GOV-MOPAC",
                                kind="government")
    google = get_or_create_funder(db, name="Google.org", identifier="US-EIN-77-0493581", kind="corporate")
    groundwork = get_or_create_funder(db, name="Groundwork London", identifier="GB-CHC-291558", kind="ngo")
    add_funder_contribution(db, programme, groundwork, role="implementer", note="Grant fund manager")
    manager, evaluator = people["fundmanager"], people["sef-evaluator"]
    tools.grant_role(db, manager, "programme_officer", programme)
    files = {path.stem: path for path in surveys.standard_instrument_files(registry, programme.plugins)}
    instruments = {code: surveys.load_instrument_file(db, files[code]) for code in (PREPOST, RETROSPECTIVE)}
    calls = []
    for number, (title, opens, closes, decided, money, projects, largest) in enumerate(CALLS, start=1):
        rnd = _call(db, registry, tm, programme, people, number, title, opens, closes, decided, money, projects,
                    largest, rng)
        if number == 1:  # City Hall's £400,000, matched pound for pound by Google.org
            add_funder_contribution(db, programme, city, role="lead", amount=Money(Decimal(400_000), "GBP"),
                                    round=rnd)
            add_funder_contribution(db, programme, google, role="co_funder", amount=Money(Decimal(400_000), "GBP"),
                                    round=rnd, matches=city, note="Match funding, pound for pound")
        else:
            add_funder_contribution(db, programme, city, role="lead", amount=Money(money, "GBP"), round=rnd)
        tools.grant_role(db, evaluator, "evaluator", rnd)
        instrument = instruments[PREPOST if number <= 2 else RETROSPECTIVE]
        _awards(db, registry, tm, rnd, people, instrument, decided, rng, last_call=number == len(CALLS))
        calls.append(rnd)
    return programme, calls


def amounts_adding_up(total: Decimal, n: int, largest: int, rng) -> list[Decimal]:
    """``n`` grants adding up to ``total`` exactly, each a whole number of pounds from
    £10,000 to ``largest``."""
    weights = [rng.randrange(60, 140) for _ in range(n)]
    amounts = [(total * w / sum(weights)).quantize(Decimal(1), ROUND_HALF_UP) for w in weights]
    amounts[-1] += total - sum(amounts)
    assert sum(amounts) == total and all(10_000 <= a <= largest for a in amounts), amounts
    return amounts


def _organisation(db, owner, name, legal_form, borough, number, i, opens):
    from grants.accounts.organisations import register_organisation

    return register_organisation(db, owner, {
        "legal_name": name, "registration_number": f"{1100000 + number * 1000 + i}", "legal_form": legal_form,
        "country": "GB", "regions": [borough.code], "contact_email": owner.email,
    }, now=tools.at(opens - dt.timedelta(days=30)))


def _apply(db, registry, tm, rnd, org, owner, title, amount, rng, day):
    """The organisation's application on the fund's form: one or two themes, the amount
    and, in the largest tier, match funding of half of it or a little more."""
    from grants.applications import services as applications

    application = applications.create_application(db, registry, rnd, org, owner, title=title, now=day)
    themes = set(rng.sample(sorted(THEMES), rng.choice((1, 1, 2))))
    budget = {}
    tier = next(t for t in rnd.tiers if t.minimum <= Money(amount, "GBP") <= t.maximum)
    needed = match_funding_needed(tier, Money(amount, "GBP"))
    if needed is not None:
        budget = {"match_funding": Money(needed.amount + rng.randrange(0, 5) * 1000, "GBP"),
                  "match_funding_sources": "A charitable trust and the borough council's community fund."}
    tools.fill_application(db, registry, application, owner, {
        "themes": {"themes": themes, "how": "Workshops in schools and youth clubs, led by trained young people, "
                                           "followed by a public event in the borough."},
        "project": {"regions": set(org.regions), "participants": 400 + rng.randrange(0, 400),
                    "summary": f"A year of {title.lower()}, with local schools and faith groups."},
        "budget": budget,
    }, amount=Money(amount, "GBP"))
    applications.submit(db, registry, application, owner, transaction_manager=tm, now=day + dt.timedelta(hours=2))
    return application


def _call(db, registry, tm, programme, people, number, title, opens, closes, decided, money, projects, largest,
          rng):
    from grants.applications.eligibility import screen
    from grants.lifecycle.services import WorkflowService
    from grants.programmes.services import create_round
    from grants.regions import regions_for
    from grants.workflow import Actor

    manager = people["fundmanager"]
    # A London fund: its grantees work in London's boroughs, not elsewhere in the United Kingdom.
    boroughs = [r for r in regions_for("GB", "en") if r.kind in ("london_borough", "city_corporation")]
    rnd = create_round(
        db, registry, programme, title=f"{title} — {opens.year}", timezone=LONDON,
        opens_at=tools.at(opens, 9), closes_at=tools.at(closes, 17), budget=Money(money, "GBP"),
        tiers=tiers(largest), eligibility_rules=RULES, user=manager)
    service = WorkflowService(registry.workflows, db, transaction_manager=tm)
    system = Actor.system_actor("system:tick")
    service.fire(rnd, "open", actor=system, now=tools.at(opens, 9))
    amounts = amounts_adding_up(money, projects, largest, rng)
    applications = []
    for i in range(projects + DECLINED_PER_CALL + 1):
        borough = boroughs[(i * 7 + number * 5) % len(boroughs)]
        work = WORK[(i + number) % len(WORK)]
        legal_form = LEGAL_FORMS[i % len(LEGAL_FORMS)]
        if i == projects + DECLINED_PER_CALL:
            legal_form = "other"  # a sole trader: not a form the fund takes
        name = f"{borough.name('en')} {work} {SUFFIX.get(legal_form, 'Collective')}"
        if number == 4 and i == 0:
            owner, name, legal_form = people["grantee"], "Lewisham Young Voices CIC", "community_interest_company"
        else:
            owner = tools.make_user(db, f"sef{number}-{i:02d}@london.example.org", f"{name} (contact)")
        org = _organisation(db, owner, name, legal_form, borough, number, i, opens)
        amount = amounts[i] if i < projects else Decimal(rng.randrange(10, largest // 1000) * 1000)
        day = tools.at(opens + dt.timedelta(days=1 + i % 30))
        applications.append(_apply(db, registry, tm, rnd, org, owner, f"{work} in {borough.name('en')}", amount,
                                   rng, day))
    service.fire(rnd, "close", actor=system, now=tools.at(closes, 17))
    for n, application in enumerate(applications):
        screen(db, registry, application, manager, {c.position: "confirmed" for c in application.eligibility_checks},
               transaction_manager=tm, locale="en", now=tools.at(closes + dt.timedelta(days=3), 9 + n % 8))
    service.fire(rnd, "start_review", manager, now=tools.at(closes + dt.timedelta(days=4)))
    reference = f"PCD {1000 + number * 137}"
    for i, application in enumerate(applications[:projects + DECLINED_PER_CALL]):
        if i < projects:
            service.fire(application, "select", manager, data={"funder_reference": reference}, now=tools.at(decided),
                         comment="Approved after assessment and moderation.")
            service.fire(application, "pass_due_diligence", manager, now=tools.at(decided + dt.timedelta(days=10)),
                         comment="Governing document, accounts and safeguarding policy checked.")
        else:
            service.fire(application, "decline", manager, data={"funder_reference": reference}, now=tools.at(decided),
                         comment="The panel found other projects closer to the fund's priorities this year.")
    service.fire(rnd, "decide", manager, now=tools.at(decided + dt.timedelta(days=11)))
    return rnd


def _framework(db, award, instrument, item: str):
    """People taking part, and the share of participants who would speak up (the survey)."""
    from grants.mel import framework

    _reach, _none, outcome = tools.results_framework(db, award, reach_target=800)
    reports = tools.award_reports(db, award)
    indicator = framework.add_indicator(
        db, award, code="OC-1", title="Participants who would speak up against unfair treatment",
        level="short_term_outcomes", measure="percentage", unit="%", method="survey",
        baseline_missing_reason="Measured by the fund's survey.", toc_element=outcome,
        targets={reports[-1]: Decimal(70)})
    indicator.instrument_code, indicator.instrument_item = instrument.code, item


def _awards(db, registry, tm, rnd, people, instrument, decided, rng, *, last_call: bool):
    from grants.awards.services import awaiting_award, make_award
    from grants.evaluation.services import save_round_evaluation
    from grants.lifecycle.services import WorkflowService
    from grants.mel import surveys
    from grants.reporting.public import publish_report

    manager, evaluator = people["fundmanager"], people["sef-evaluator"]
    service = WorkflowService(registry.workflows, db, transaction_manager=tm)
    prepost = instrument.code == PREPOST
    waves = ["baseline", "post"] if prepost else ["post"]
    surveys.attach_instrument(db, rnd, instrument, waves)
    start = (decided.replace(day=1) + dt.timedelta(days=62)).replace(day=1)
    for n, application in enumerate(awaiting_award(db, rnd)):
        award = make_award(db, registry, application, amount=application.amount, starts_on=start,
                           ends_on=start.replace(year=start.year + 1) - dt.timedelta(days=1), cadence="half_yearly",
                           user=manager, now=tools.at(decided + dt.timedelta(days=20)))
        tools.sign_agreement(db, registry, award, manager, decided + dt.timedelta(days=25))
        reports = tools.award_reports(db, award)
        grantee = application.organisation.memberships[0].user
        _framework(db, award, instrument, "speak_up" if prepost else "speak_up_now")
        tools.payment_schedule(db, registry, award, reports, manager, tools.at(decided + dt.timedelta(days=26)),
                               plan=tools.TWO_TRANCHES)
        if prepost:
            surveys.upload_survey_results(db, registry, award, instrument, "baseline",
                                          tools.survey_csv(instrument, rng, 80 + n * 3, 0), filename="baseline.csv",
                                          user=grantee, now=tools.at(start + dt.timedelta(days=20)))
        for report in reports:
            last = report.number == len(reports)
            if last:
                surveys.upload_survey_results(db, registry, award, instrument, "post",
                                              tools.survey_csv(instrument, rng, 70 + n * 3, 2), filename="post.csv",
                                              user=grantee, now=tools.at(report.period_end))
                surveys.rollup_to_indicators(db, award, report)
                if last_call and n in (2, 5):
                    continue  # overdue final reports in the latest call
            tools.file_report(db, service, report, grantee, manager,
                              reached=400 * report.number + rng.randrange(0, 300), rng=rng)
        tools.pay_tranches(db, service, award, manager, upto=2 if reports[0].state == "accepted" else 1)
        tools.assess(db, registry, award, evaluator, rng, tools.at(start + dt.timedelta(days=400)), with_file=n == 0)
    save_round_evaluation(
        db, rnd, user=evaluator, now=tools.at(start + dt.timedelta(days=420)),
        findings="Across the round, participants' agreement that they would speak up against unfair treatment "
                 "rose by the end of the projects.",
        shortcomings="Response rates fell at the post-project wave in smaller projects; the survey looking back "
                     "relies on memory, and its results cannot be compared with the before-and-after survey's.",
        lessons="Keep the same instrument within a round; plan the follow-up wave when the grant starts.")
    publish_report(db, rnd, user=manager, now=tools.at(start + dt.timedelta(days=430)))
