"""BLADI's demonstration data, loaded by ``grants demo`` when the plugin is enabled.

A programme like the real one, through the services the pages use, with its dates:

* the call opened on 25 December 2018 and closed on 15 February 2019; 264 associations
  from all 24 governorates applied on BLADI's form, with Arabic and French names;
* officers screened them against the round's rules (some ineligible, with reasons), four
  withdrew, five reviewers scored the rest against BLADI's rubric (one declared a conflict
  of interest), the officer moderated one score, overrode the suggested selection once,
  and invited 20 to a four-month incubation (the rest declined, with feedback);
* the cohort of 20 attended coaching and training sessions and was assessed over BLADI's
  five capacity areas at entry and at exit, then submitted full proposals, which were
  reviewed in turn: 11 selected, 9 not funded with written feedback;
* the 11 got awards in Tunisian dinars from the US Department of State's dollar budget
  (2.8718 dinars to the dollar on 30 September 2019, recorded on each award), twelve months
  from 1 October 2019, reporting each quarter: results frameworks, three tranches, budgets
  and spending, reports (one returned once and corrected, AFEK's last returned with
  comments, one final report overdue), a survey before and after, a success story with its
  consent, the evaluator's assessments and findings, and the published public report;
* a second call is open today, where the demo applicant has a draft.

Loading it again does nothing (it looks for its programme first).
"""
from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import select

from grants.demo import tools
from grants.money import Money

from .forms import APPLICATION_2018, APPLICATION_2018_V2

PLUGIN = "bladi"
TITLE = "BLADI — Building Local Associations for Development and Innovation"
PEOPLE = [
    tools.DemoPerson("officer@bladi.example.org", "Leila Officer", "en", "programme officer (BLADI)"),
    tools.DemoPerson("reviewer@bladi.example.org", "Karim Reviewer", "fr", "reviewer (BLADI calls)"),
    tools.DemoPerson("reviewer2@bladi.example.org", "سنية المراجعة", "ar", "reviewer (BLADI)"),
    tools.DemoPerson("reviewer3@bladi.example.org", "Mehdi Évaluateur", "fr", "reviewer (BLADI)"),
    tools.DemoPerson("reviewer4@bladi.example.org", "Ines Reviewer", "en", "reviewer (BLADI)"),
    tools.DemoPerson("reviewer5@bladi.example.org", "Hatem Reviewer", "fr", "reviewer (BLADI)"),
    tools.DemoPerson("evaluator@bladi.example.org", "Evelyn Evaluator", "en", "evaluator (BLADI call 1)"),
    tools.DemoPerson("applicant@bladi.example.org", "Amel Ben Salah", "ar",
                     "applicant and grantee (جمعية أفق / AFEK, Kébili; BLADI)"),
]
APPLICANT = "applicant@bladi.example.org"

#: The exchange rate when the awards were made (TND per USD, recorded on each award).
FX_RATE = Decimal("2.8718")
FX_DATE = dt.date(2019, 9, 30)
AWARDS_START = dt.date(2019, 10, 1)


def load_demo(registry, out, now: dt.datetime, on_step=None) -> list[tools.DemoPerson]:
    """Load BLADI's programme (``grants.demo.add_demo``'s loader).  ``on_step(name, db,
    round)``, if given, is called after each stage of the first call (its tests check the
    funnel against the applications there)."""
    with registry.database.transaction() as (tm, db):
        if tools.programme_exists(db, TITLE):
            print("  already loaded", file=out)
            return PEOPLE
        people = tools.make_people(db, PEOPLE)
        programme = _bladi_programme(db, registry, people)
        step = on_step or (lambda name, db, call: None)
        call1 = _bladi_call(db, registry, tm, programme, people, step)
        _after_decisions(db, registry, tm, call1, people)
        step("awarded", db, call1)
        _open_call(db, registry, programme, people, now)
        funnel_line = _funnel_line(db, registry, call1)
    print("  call 1: " + funnel_line, file=out)
    return PEOPLE


def day_at(day: dt.date, hour: int = 10) -> dt.datetime:
    return tools.at(day, hour)


TUNIS = ZoneInfo("Africa/Tunis")
APPLICATIONS = 264  # 11 from each of the 24 governorates
INCUBATED = 20
FUNDED = 11
WITHDRAWN = 4
OVERRIDDEN_INELIGIBLE = 26  # passed the automatic checks; the officer found otherwise

# (Arabic theme, French theme, project in French, project in Arabic)
THEMES = [
    ("التنمية المحلية", "pour le développement local", "Budget participatif à {place}", "الميزانية التشاركية في {place}"),
    ("المواطنة والمشاركة", "Citoyenneté et participation", "École de la citoyenneté à {place}", "مدرسة المواطنة في {place}"),
    ("الشباب المبادر", "des jeunes entreprenants", "Incubateur de projets de jeunes à {place}", "حاضنة مشاريع الشباب في {place}"),
    ("المرأة الريفية", "des femmes rurales", "Coopérative de femmes artisanes à {place}", "تعاونية الحرفيات في {place}"),
    ("حماية البيئة والواحات", "de protection de l'environnement", "Oasis propres à {place}", "واحات نظيفة في {place}"),
    ("الثقافة والفنون", "Culture et arts", "Clubs de théâtre dans les écoles de {place}", "نوادي المسرح في مدارس {place}"),
    ("دعم التمدرس", "de soutien scolaire", "Soutien scolaire du soir à {place}", "الدعم المدرسي المسائي في {place}"),
    ("الصحة الإنجابية", "pour la santé de proximité", "Caravanes de santé à {place}", "قوافل صحية في {place}"),
    ("حقوق الأشخاص ذوي الإعاقة", "pour les droits des personnes handicapées", "Accessibilité des services publics à {place}",
     "تيسير النفاذ إلى المرافق العمومية في {place}"),
    ("التراث والذاكرة", "du patrimoine et de la mémoire", "Mémoire orale de {place}", "الذاكرة الشفوية في {place}"),
    ("التشغيل والإدماج", "pour l'emploi et l'insertion", "Chantiers-écoles à {place}", "ورشات التكوين بالعمل في {place}"),
]

def at(year, month, day, hour=10, minute=0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=TUNIS)


# -- people and the programme -----------------------------------------------------------------


def _bladi_programme(db, registry, people):
    from grants.accounts.models import LocalRole
    from grants.programmes.services import add_funder_contribution, create_programme, get_or_create_funder

    programme = create_programme(
        db, title=TITLE, currency="TND", plugins=[PLUGIN], registry=registry,
        description="Institutional strengthening for Tunisian associations in all 24 governorates, funded by the "
                    "US Department of State and implemented by AMIDEAST with Jamaity and Shanti.")
    state = get_or_create_funder(db, name="US Department of State", identifier="US-GOV-DOS", kind="government")
    amideast = get_or_create_funder(db, name="AMIDEAST", identifier="US-EIN-13-1867236", kind="ngo")
    jamaity = get_or_create_funder(db, name="Jamaity", kind="ngo")
    shanti = get_or_create_funder(db, name="Shanti", kind="ngo")
    add_funder_contribution(db, programme, state, role="lead", amount=Money(Decimal(1_500_000), "USD"),
                            note="Middle East Partnership Initiative award")
    for partner in (amideast, jamaity, shanti):
        add_funder_contribution(db, programme, partner, role="implementer")
    db.add(LocalRole(user_id=people["officer"].id, role="programme_officer", object_type="programmes",
                     object_id=programme.id))
    db.flush()
    return programme


def _organisations(db, people):
    """264 associations, 11 per governorate; half registered under an Arabic name (with a
    French one beside it), half the other way round.  The first is the demo applicant's."""
    from grants.accounts.organisations import register_organisation
    from grants.regions import regions_for

    governorates = regions_for("TN", "fr")
    orgs = []
    for i in range(APPLICATIONS):
        gov = governorates[i % 24]
        theme_ar, theme_fr, _p_fr, _p_ar = THEMES[(i // 24) % len(THEMES)]
        name_ar = f"جمعية {theme_ar} ب{gov.name('ar')}"
        name_fr = f"Association {theme_fr} de {gov.name('fr')}"
        if theme_fr[0].isupper():
            name_fr = f"Association {theme_fr} — {gov.name('fr')}"
        arabic_first = i % 2 == 0
        if i == 0:
            owner = people["applicant"]
            gov = next(g for g in governorates if g.code == "TN-73")
            name_ar, name_fr, arabic_first = "جمعية أفق", "Association AFEK", True
        else:
            locale = "ar" if arabic_first else "fr"
            owner = tools.make_user(db, f"association{i:03d}@bladi.example.org", f"{name_fr} (contact)", locale)
        regions = [gov.code]
        if i % 7 == 3:  # some work in a neighbouring governorate too
            regions.append(governorates[(i + 1) % 24].code)
        org = register_organisation(db, owner, {
            "legal_name": name_ar if arabic_first else name_fr,
            "alternative_name": name_fr if arabic_first else name_ar,
            "registration_number": f"{2011 + i % 7}-{1000 + i * 7:04d}",
            "legal_form": "association",
            "country": "TN",
            "regions": regions,
            "contact_email": owner.email,
        }, now=at(2018, 12, 1))
        orgs.append((org, owner, gov, i))
    return orgs


# -- call 1: the whole funnel ---------------------------------------------------------------------


def _bladi_call(db, registry, tm, programme, people, step):
    from grants.accounts.models import LocalRole
    from grants.applications import services as applications
    from grants.applications.eligibility import screen
    from grants.lifecycle.services import WorkflowService
    from grants.programmes.services import TierSpec, create_round
    from grants.workflow import Actor

    rng = random.Random(2019)  # the same demo every time
    officer = people["officer"]
    call = create_round(
        db, registry, programme, title="Call for expressions of interest — Nabda b houmti", timezone="Africa/Tunis",
        opens_at=at(2018, 12, 25, 9), closes_at=at(2019, 2, 15, 17), budget=Money(Decimal(400_000), "TND"),
        tiers=[TierSpec("Seed grant", Money(Decimal(10_000), "TND"), Money(Decimal(40_000), "TND"),
                        conditions="Registered associations; projects of 12 months at most.")],
        eligibility_rules=[{"kind": "registered_organisation"}, {"kind": "amount_within_max"},
                           {"kind": "required_attachments", "attachments": ["registration_certificate", "budget"]}],
        application_form_version=APPLICATION_2018, user=officer)  # BLADI's rubric: its programmes' default
    service = WorkflowService(registry.workflows, db, transaction_manager=tm)
    system = Actor.system_actor("system:tick")
    service.fire(call, "open", actor=system, now=at(2018, 12, 25, 9))
    db.add(LocalRole(user_id=people["evaluator"].id, role="evaluator", object_type="rounds", object_id=call.id))

    # Organisations apply between Christmas and mid-February.
    quality = {}
    apps = []
    for org, owner, gov, i in _organisations(db, people):
        day = at(2018, 12, 26) + dt.timedelta(days=rng.randrange(0, 50), hours=rng.randrange(0, 8))
        _theme_ar, _theme_fr, project_fr, project_ar = THEMES[(i // 24) % len(THEMES)]
        title = (project_ar if owner.locale == "ar" else project_fr).format(
            place=gov.name("ar" if owner.locale == "ar" else "fr"))
        app = applications.create_application(db, registry, call, org, owner, title=title, now=day)
        amount = Decimal(rng.randrange(20, 81) * 500)  # 10,000 to 40,000 TND
        _fill_application(db, registry, app, owner, title, gov, amount)
        applications.submit(db, registry, app, owner, transaction_manager=tm, now=day + dt.timedelta(hours=1))
        quality[app.id] = 4.6 if i == 0 else rng.uniform(1.5, 4.5)  # how good the proposal really is
        apps.append(app)

    closed = at(2019, 2, 15, 17)
    service.fire(call, "close", actor=system, now=closed)
    step("applied", db, call)

    # Four withdraw (one found other funding, ...).
    for app in apps[-WITHDRAWN:]:
        applications.withdraw(db, registry, app, app.organisation.memberships[0].user,
                              reason="Nous avons obtenu un autre financement pour ce projet.",
                              now=closed + dt.timedelta(days=1))
    screened = [a for a in apps if a.state == "submitted"]

    # Screening: the officer confirms the automatic results, and overrides some passes
    # where the documents did not hold up.
    override_reasons = [
        "The registration certificate attached belongs to another association.",
        "The association was registered after the call opened; the call asks for one year of activity.",
        "The budget sheet is for a different project than the one described.",
    ]
    ineligible_ids = set(a.id for a in rng.sample(screened[1:], OVERRIDDEN_INELIGIBLE))
    for n, app in enumerate(screened):
        decisions = {c.position: ("confirmed", "") for c in app.eligibility_checks}
        if app.id in ineligible_ids:
            first = app.eligibility_checks[0].position
            decisions[first] = ("overridden", override_reasons[n % len(override_reasons)])
        screen(db, registry, app, officer, decisions, transaction_manager=tm, locale="en",
               now=closed + dt.timedelta(days=3, minutes=n))
    service.fire(call, "start_review", officer, now=at(2019, 2, 20, 9))
    step("screened", db, call)

    eligible = [a for a in apps if a.state == "eligible"]
    reviewers = _review_stage(db, registry, tm, call, people, eligible, quality, rng, stage="application")

    # Ranking, one moderation, one override, and the decisions: 20 to incubation.
    from grants.review import decisions as review

    ranking = review.round_ranking(db, call, stage="application", normalise=True)
    rows = ranking.rows
    moderated = rows[24].application if len(rows) > 24 else rows[-1].application
    review.moderate(db, moderated, officer, score_after=Decimal("4.10"), stage="application", normalise=True,
                    reason="Two reviewers missed the partnership with the regional youth centre; the third saw it.")
    selection = review.suggested_selection(db, call, stage="application", normalise=True, limit=INCUBATED)
    dropped = selection.selection.selected[-1]
    review.override_selection(db, call, db.get(type(moderated), dropped), officer, action="remove",
                              stage="application", normalise=True, limit=INCUBATED,
                              reason="The same association already receives coaching from another programme.")
    review.override_selection(db, call, moderated, officer, action="add", stage="application", normalise=True,
                              limit=INCUBATED, reason="Moderated score: among the strongest in its governorate.")
    review.decide_round(
        db, registry, call, officer, stage="application", selected_trigger="incubate", declined_trigger="decline",
        reason_selected="Strong local anchoring and a realistic first plan.",
        reason_declined="Thank you for applying. The committee found other projects more ready for incubation; "
                        "we encourage you to apply to the next call.",
        funder_reference="BLADI-SC-2019-03", normalise=True, limit=INCUBATED, transaction_manager=tm,
        now=at(2019, 3, 20, 15))
    step("incubation", db, call)

    incubated = [a for a in apps if a.state == "incubation"]
    _incubation(db, registry, tm, call, people, rng)

    # Second stage: full proposals, reviewed in turn; 11 funded.
    for n, app in enumerate(incubated):
        _fill_proposal(db, registry, app, app.organisation.memberships[0].user)
        applications.submit_proposal(db, registry, app, app.organisation.memberships[0].user,
                                     transaction_manager=tm, now=at(2019, 7, 10) + dt.timedelta(hours=n))
    proposals = [a for a in apps if a.state == "proposal_submitted"]
    step("proposals", db, call)
    _review_stage(db, registry, tm, call, people, proposals, quality, rng, stage="proposal", reviewers=reviewers)
    review.decide_round(
        db, registry, call, officer, stage="proposal", selected_trigger="select", declined_trigger="not_fund",
        reason_selected="A clear theory of change and a budget that matches it.",
        reason_declined="Your capacity grew during incubation (see your exit assessment). The proposal's budget "
                        "did not yet match its activities; the team will help you prepare for the next call.",
        funder_reference="US-DOS-MEPI-2019-117", limit=FUNDED, transaction_manager=tm, now=at(2019, 9, 10, 11))
    service.fire(call, "decide", officer, now=at(2019, 9, 12, 9))
    step("decided", db, call)
    return call


def _fill_application(db, registry, app, owner, title, gov, amount):
    arabic = owner.locale == "ar"
    organisation = app.organisation
    tools.fill_application(db, registry, app, owner, {
        "organisation": {
            "mission": ("نعمل مع شباب الجهة من أجل مشاركة فاعلة في الحياة المحلية." if arabic else
                        "Nous travaillons avec les jeunes de la région pour une participation active à la vie locale."),
            "year_founded": 2011 + app.organisation_id % 7,
            "staff": app.organisation_id % 5,
            "volunteers": 10 + app.organisation_id % 30,
            "registration_number": organisation.registration_number,
            "governorate": gov.code,
        },
        "project": {
            "project_title": title,
            "summary": (f"مشروع لمدة اثني عشر شهرا في {gov.name('ar')}." if arabic else
                        f"Un projet de douze mois à {gov.name('fr')}."),
            "objectives": ("تعزيز قدرات الشباب والنساء." if arabic else
                           "Renforcer les capacités des jeunes et des femmes."),
            "beneficiaries": "200 شاب وشابة." if arabic else "200 jeunes de 15 à 25 ans.",
            "regions": {gov.code},
            "youth_focus": "main" if app.organisation_id % 3 else "part",
        },
    }, amount=Money(amount, "TND"), documents={
        "registration_certificate": ("certificat-enregistrement.pdf", tools.PDF),
        "budget": ("budget.csv", tools.budget_csv(amount, "TND")),
    })


def _fill_proposal(db, registry, app, owner):
    amount = app.amount
    tools.fill_application(db, registry, app, owner, {
        "theory_of_change": {
            "problem": "Young people in the governorate have few places to take part in local decisions.",
            "theory_of_change": "If young people are trained and meet the municipality every month, then their "
                                "proposals enter the municipal plan, because the council committed to hear them.",
        },
        "activities": {
            "activities": "Training cycle; monthly youth council; two public hearings.",
            "work_plan": "Months 1-3 training; months 4-12 monthly councils; months 6 and 12 hearings.",
            "duration_months": 12,
        },
        "budget": {"total": amount},
        "municipality": {"municipality": "The municipal council hears the youth council every month."},
        "sustainability": {
            "sustainability": "The youth council becomes part of the municipality's participatory process.",
        },
    }, stage="proposal", amount=amount,
        documents={"detailed_budget": ("budget-detaille.csv", tools.budget_csv(amount.amount, "TND"))})


def _review_stage(db, registry, tm, call, people, candidates, quality, rng, *, stage, reviewers=None):
    """Reviewers accept, declare, and score every candidate: two per application at the
    first stage, three for full proposals.  Reviewers differ: one is lenient, one harsh
    (what normalisation is for)."""
    from grants.review import services as review

    if reviewers is None:
        reviewers = [people[k] for k in ("reviewer", "reviewer2", "reviewer3", "reviewer4", "reviewer5")]
        for reviewer in reviewers:
            invitation = review.invite_reviewer(db, registry, call, reviewer, people["officer"], transaction_manager=tm)
            review.respond(db, invitation, reviewer, accept=True)
    bias = {reviewers[0].id: 0.6, reviewers[1].id: -0.7}  # lenient, harsh
    rubric = review.rubric_for(db, call).scoring_rubric()
    review.auto_assign(db, call, per_application=2 if stage == "application" else 3, stage=stage,
                       assigned_by=people["officer"])
    # One reviewer knows one association well: a declared conflict, and someone else steps in.
    first = True
    for reviewer in reviewers:
        for assignment in review.my_assignments(db, reviewer):
            if assignment.stage != stage or assignment.conflict is not None:
                continue
            if first and stage == "application" and assignment.application_id != candidates[0].id:
                review.declare(db, assignment, reviewer, conflict=True,
                               reason="I was on this association's board until 2018.")
                first = False
                continue
            review.declare(db, assignment, reviewer, conflict=False)
    review.auto_assign(db, call, per_application=2 if stage == "application" else 3, stage=stage,
                       assigned_by=people["officer"])
    for reviewer in reviewers:
        for assignment in review.my_assignments(db, reviewer):
            if assignment.stage != stage:
                continue
            if assignment.conflict is None:
                review.declare(db, assignment, reviewer, conflict=False)
            if assignment.conflict or (assignment.review is not None and assignment.review.submitted_at):
                continue
            scores, rationales = {}, {}
            for criterion in rubric.criteria:
                raw = quality[assignment.application_id] + bias.get(reviewer.id, 0) + rng.uniform(-0.6, 0.6)
                scores[criterion.id] = max(1, min(5, round(raw)))
                rationales[criterion.id] = _rationale(reviewer.locale, scores[criterion.id])
            review.save_review(db, registry, assignment, reviewer, scores=scores, rationales=rationales, submit=True)
    return reviewers


def _rationale(locale: str, score: int) -> str:
    good = score >= 4
    if locale == "ar":
        return "مقترح متين ومرتبط بحاجيات الجهة." if good else "المقترح يحتاج إلى مزيد من التدقيق."
    if locale == "fr":
        return "Proposition solide, ancrée dans les besoins locaux." if good else "La proposition reste à préciser."
    return "A solid proposal grounded in local needs." if good else "The proposal needs more detail."


def _incubation(db, registry, tm, call, people, rng):
    from grants.incubation import services as incubation

    # BLADI's five capacity areas: the plugin supplies them for its programmes' cohorts
    cohort = incubation.create_cohort(db, call, title="BLADI cohort 2019", starts_on=dt.date(2019, 4, 1), months=4,
                                      registry=registry)
    incubation.enrol_incubated(db, cohort)
    members = list(cohort.members)
    sessions = [
        ("Theory of change and results frameworks", "training", dt.date(2019, 4, 6)),
        ("Financial management and procurement", "training", dt.date(2019, 4, 27)),
        ("One-to-one coaching: governance", "coaching", dt.date(2019, 5, 11)),
        ("Communication and working with the media", "training", dt.date(2019, 5, 25)),
        ("One-to-one coaching: budget and work plan", "coaching", dt.date(2019, 6, 8)),
        ("Human resources and volunteers", "training", dt.date(2019, 6, 22)),
        ("Monitoring, evaluation and learning", "training", dt.date(2019, 7, 6)),
        ("One-to-one coaching: the full proposal", "coaching", dt.date(2019, 7, 20)),
    ]
    for title, kind, day in sessions:
        session = incubation.add_session(db, cohort, title=title, kind=kind, held_on=day,
                                         facilitator="AMIDEAST / Jamaity")
        incubation.record_attendance(db, session, [m.id for m in members if rng.random() < 0.88])
    for member in members:
        entry = {area: rng.randint(1, 3) for area in cohort.capacity_areas}
        exit_ = {area: min(5, score + rng.choice((0, 1, 1, 2))) for area, score in entry.items()}
        incubation.record_capacity(db, member, people["officer"], phase="entry", scores=entry)
        incubation.record_capacity(db, member, people["officer"], phase="exit", scores=exit_)
    incubation.invite_to_second_stage(db, registry, cohort, transaction_manager=tm, base_url="http://localhost:6543")
    return cohort


# -- call 2: open today -------------------------------------------------------------------------


def _open_call(db, registry, programme, people, now):
    from grants.accounts.organisations import invite_member, organisations_of
    from grants.applications import services as applications
    from grants.lifecycle.services import WorkflowService
    from grants.programmes.services import TierSpec, create_round
    from grants.workflow import Actor

    opens = now - dt.timedelta(days=10)
    call = create_round(
        db, registry, programme, title="Second call — associations of the interior", timezone="Africa/Tunis",
        opens_at=opens, closes_at=now + dt.timedelta(days=50), budget=Money(Decimal(300_000), "TND"),
        tiers=[TierSpec("Seed grant", Money(Decimal(10_000), "TND"), Money(Decimal(30_000), "TND"))],
        eligibility_rules=[{"kind": "registered_organisation"}, {"kind": "amount_within_max"},
                           {"kind": "required_attachments", "attachments": ["registration_certificate", "budget"]}],
        application_form_version=APPLICATION_2018_V2, user=people["officer"])
    WorkflowService(registry.workflows, db).fire(call, "open", actor=Actor.system_actor("system:tick"), now=opens)
    applicant = people["applicant"]
    afek = organisations_of(db, applicant)[0]
    # A colleague of Amel's without an account yet: invited, not a member until she accepts.
    invite_member(db, applicant, afek, "youssef@afek.example.org", locale="ar", now=now)
    draft = applications.create_application(db, registry, call, afek, applicant,
                                            title="نوادي الفنون في مدارس قبلي", now=now)
    applications.save_section(db, registry, draft, applicant, "organisation", {
        "mission": "نعمل مع شباب قبلي من أجل الثقافة والمواطنة.", "year_founded": 2011, "staff": 3, "volunteers": 25,
        "registration_number": afek.registration_number, "governorate": "TN-73",
    })
    return call


def _funnel_line(db, registry, call) -> str:
    from grants.programmes.services import round_funnel

    funnel = round_funnel(db, call, registry)
    reached = dict(funnel.reached)
    return f"{funnel.total} applied, {reached['incubation']} incubated, {reached['selected']} selected"


# -- after the decisions: awards and their year ------------------------------------------------


def _after_decisions(db, registry, tm, call, people, rng=None):
    """Awards for the 11 selected associations of call 1, and their year."""
    from grants.applications.models import Application
    from grants.awards.services import make_award
    from grants.evaluation.services import save_round_evaluation
    from grants.lifecycle.meanings import state_means
    from grants.lifecycle.services import WorkflowService
    from grants.mel import surveys
    from grants.mel.evidence import add_evidence
    from grants.reporting.public import publish_report

    rng = rng or random.Random(2020)
    officer, evaluator = people["officer"], people["evaluator"]
    service = WorkflowService(registry.workflows, db, transaction_manager=tm)
    instrument = tools.survey_instrument(db, version=1)
    surveys.attach_instrument(db, call, instrument, ["baseline", "post"])
    selected = db.scalars(select(Application).where(Application.round_id == call.id,
                                                    state_means(Application, "selected"))
                          .order_by(Application.id)).all()
    awards = []
    for n, application in enumerate(selected):
        usd = Decimal(rng.randrange(10, 15) * 1000)
        tnd = (usd * FX_RATE).quantize(Decimal("0.001"))
        award = make_award(db, registry, application, amount=Money(tnd, "TND"), starts_on=AWARDS_START,
                           ends_on=dt.date(2020, 9, 30), cadence="quarterly",
                           source_amount=Money(usd, "USD"), fx_rate=FX_RATE, fx_date=FX_DATE,
                           user=officer, now=day_at(dt.date(2019, 9, 25)))
        tools.sign_agreement(db, registry, award, officer, dt.date(2019, 9, 27))
        reports = tools.award_reports(db, award)
        grantee = application.organisation.memberships[0].user
        afek = grantee.email == APPLICANT
        tools.results_framework(db, award, reach_target=200, survey_code=instrument.code)
        tools.payment_schedule(db, registry, award, reports, officer, day_at(dt.date(2019, 9, 28)),
                               tools.THREE_TRANCHES)
        surveys.upload_survey_results(db, registry, award, instrument, "baseline",
                                      tools.survey_csv(instrument, rng, 60 + n, 0), filename="baseline.csv",
                                      user=grantee, now=day_at(dt.date(2019, 11, 5)))
        for report in reports:
            last = report.number == len(reports)
            if last:
                surveys.upload_survey_results(db, registry, award, instrument, "post",
                                              tools.survey_csv(instrument, rng, 55 + n, 2), filename="post.csv",
                                              user=grantee, now=day_at(dt.date(2020, 10, 5)))
                surveys.rollup_to_indicators(db, award, report)
            if last and n == 3:
                continue  # this grantee's final report is overdue (see `grants tick`)
            comment = None
            if report.number == 2 and n == 1:
                comment = "The figures by sex do not add up to the total; please check the attendance sheets."
            if last and afek:
                comment = "Please add how the clubs will continue after the grant (the schools' letters)."
            tools.file_report(db, service, report, grantee, officer,
                              reached=50 * report.number + rng.randrange(0, 15), rng=rng,
                              returned_comment=comment, accept=not (last and afek))
        tools.plan_budget(db, award, grantee, rng, reports)
        tools.pay_tranches(db, service, award, officer, upto=3 if not afek else 2)
        if n == 0 or afek:
            add_evidence(db, award, kind="success_story", title="Sonia's first public speech",
                         text="After six months in the club, a participant spoke at the municipal council.",
                         consent_given=True, consent_method="written", consent_date=dt.date(2020, 6, 2),
                         user=grantee, now=day_at(dt.date(2020, 6, 3)))
        tools.assess(db, registry, award, evaluator, rng, day_at(dt.date(2020, 11, 20)), with_file=n < 3)
        awards.append(award)
    save_round_evaluation(
        db, call, user=evaluator, now=day_at(dt.date(2020, 12, 10)),
        findings="Ten of eleven projects reached or passed their participation targets; the survey shows more "
                 "participants ready to act against exclusion after the project than before.",
        shortcomings="Attendance records were weak in three projects, and the survey had no follow-up wave, so "
                     "we cannot say whether the change lasted.",
        lessons="Build data collection into the activities from the start, and budget for a follow-up survey.")
    publish_report(db, call, user=officer, now=day_at(dt.date(2021, 1, 15)))
    return awards


