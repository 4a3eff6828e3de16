"""Demonstration data: `grants demo development.ini`.

Loads a BLADI-like programme so that a newcomer sees a living system, and prints a
sign-in for each role.  Everything goes through the same services the pages use (the
library API), with the dates of the real programme:

* the call opened on 25 December 2018 and closed on 15 February 2019; 264 associations
  from all 24 governorates applied, with Arabic and French names;
* officers screened them against the round's rules (some ineligible, with reasons), four
  withdrew, five reviewers scored the rest against the BLADI rubric (one declared a
  conflict of interest), the officer moderated one score, overrode the suggested
  selection once, and invited 20 to a four-month incubation (the rest declined, with
  feedback);
* the cohort of 20 attended coaching and training sessions and was assessed over BLADI's
  five capacity areas at entry and at exit, then submitted full proposals, which were
  reviewed in turn: 11 selected, 9 not funded with written feedback;
* a second call is open today, where the demo applicant has a draft;
* after the decisions, BLADI's awards and their year of monitoring and evaluation
  (``grants.demo_post_award``).

Running it again does nothing (it checks for its own programme first).
"""
from __future__ import annotations

import datetime as dt
import random
import sys
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import select

from grants.demo.tools import DEMO_PASSWORD  # noqa: F401

DEMO_PEOPLE = [
    # email, name, locale, role description
    ("admin@example.org", "Admin", "en", "admin"),
    ("officer@example.org", "Leila Officer", "en", "programme officer (BLADI)"),
    ("reviewer@example.org", "Karim Reviewer", "fr", "reviewer (BLADI calls)"),
    ("reviewer2@example.org", "سنية المراجعة", "ar", "reviewer"),
    ("reviewer3@example.org", "Mehdi Évaluateur", "fr", "reviewer"),
    ("reviewer4@example.org", "Ines Reviewer", "en", "reviewer"),
    ("reviewer5@example.org", "Hatem Reviewer", "fr", "reviewer"),
    ("evaluator@example.org", "Evelyn Evaluator", "en", "evaluator (BLADI call 1)"),
    ("applicant@example.org", "Amel Ben Salah", "ar", "applicant and grantee (جمعية أفق / AFEK, Kébili)"),
]

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

# A tiny real PDF and a CSV budget sheet, as an applicant would attach them.
CERTIFICATE_PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>"
                   b"endobj\n3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\ntrailer<</Root 1 0 R>>\n"
                   b"%%EOF\n")


def _budget_csv(amount: Decimal) -> bytes:
    third = (amount / 3).quantize(Decimal("0.001"))
    rest = amount - 2 * third
    return (f"line,amount_tnd\nstaff,{third}\nactivities,{third}\nequipment,{rest}\ntotal,{amount}\n").encode()


def at(year, month, day, hour=10, minute=0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=TUNIS)


def load(registry, out=sys.stdout, now: dt.datetime | None = None, on_step=None) -> list:
    """Load the demo.  ``on_step(name, db, round)``, if given, is called after each stage of
    the first call (the tests check the funnel against the applications there)."""
    from grants.demo.tools import DemoPerson
    from grants.demo_post_award import bladi_after_decisions
    from grants.programmes.models import Programme

    now = now or dt.datetime.now(dt.timezone.utc)
    sign_ins = [DemoPerson(email, name, locale, desc) for email, name, locale, desc in DEMO_PEOPLE]
    with registry.database.transaction() as (tm, db):
        if db.scalar(select(Programme).where(Programme.title.like("BLADI%"))) is not None:
            print("demo data is already loaded", file=out)
            return sign_ins
        people = _people(db)
        programme = _bladi_programme(db, people)
        step = on_step or (lambda name, db, call: None)
        call1 = _bladi_call(db, registry, tm, programme, people, step)
        bladi_after_decisions(db, registry, tm, call1, people)
        step("awarded", db, call1)
        _open_call(db, registry, programme, people, now)
        funnel_line = _funnel_line(db, registry, call1)
    print("demo data loaded: BLADI call 1 — " + funnel_line, file=out)
    return sign_ins


# -- people and the programme -----------------------------------------------------------------


def _people(db) -> dict:
    from grants.accounts.models import User
    from grants.demo.tools import password_hash as demo_hash

    password_hash = demo_hash()  # one hash for everyone: argon2 is slow on purpose
    users = {}
    for email, name, locale, _desc in DEMO_PEOPLE:
        user = User(email=email, name=name, locale=locale, password_hash=password_hash, email_verified=True,
                    is_admin=email.startswith("admin@"))
        db.add(user)
        users[email.split("@")[0]] = user
    users["_hash"] = password_hash
    db.flush()
    return users


def _bladi_programme(db, people):
    from grants.accounts.models import LocalRole
    from grants.money import Money
    from grants.programmes.services import add_funder_contribution, create_programme, get_or_create_funder

    programme = create_programme(
        db, title="BLADI — Building Local Associations for Development and Innovation", currency="TND",
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
    from grants.accounts.models import User
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
            owner = User(email=f"association{i:03d}@bladi.example.org", name=f"{name_fr} (contact)", locale=locale,
                         password_hash=people["_hash"], email_verified=True)
            db.add(owner)
            db.flush()
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
    from grants.money import Money
    from grants.programmes.services import TierSpec, create_round
    from grants.review.services import bladi_rubric
    from grants.workflow import Actor

    rng = random.Random(2019)  # the same demo every time
    officer = people["officer"]
    rubric = bladi_rubric(db)
    call = create_round(
        db, registry, programme, title="Call for expressions of interest — Nabda b houmti", timezone="Africa/Tunis",
        opens_at=at(2018, 12, 25, 9), closes_at=at(2019, 2, 15, 17), budget=Money(Decimal(400_000), "TND"),
        tiers=[TierSpec("Seed grant", Money(Decimal(10_000), "TND"), Money(Decimal(40_000), "TND"),
                        conditions="Registered associations; projects of 12 months at most.")],
        eligibility_rules=[{"kind": "registered_organisation"}, {"kind": "amount_within_max"},
                           {"kind": "required_attachments", "attachments": ["registration_certificate", "budget"]}],
        application_form_version="bladi-2018", rubric_id=rubric.id, user=officer)
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


def _fill_application(db, registry, app, owner, title, gov, amount, currency="TND"):
    from grants.applications import services as applications
    from grants.money import Money

    arabic = owner.locale == "ar"
    applications.save_section(db, registry, app, owner, "organisation", {
        "mission": ("نعمل مع شباب الجهة من أجل مشاركة فاعلة في الحياة المحلية." if arabic else
                    "Nous travaillons avec les jeunes de la région pour une participation active à la vie locale."),
        "year_founded": 2011 + app.organisation_id % 7,
        "staff": app.organisation_id % 5,
        "volunteers": 10 + app.organisation_id % 30,
    })
    applications.save_section(db, registry, app, owner, "project", {
        "project_title": title,
        "summary": (f"مشروع لمدة اثني عشر شهرا في {gov.name('ar')}." if arabic else
                    f"Un projet de douze mois à {gov.name('fr')}."),
        "objectives": "تعزيز قدرات الشباب والنساء." if arabic else "Renforcer les capacités des jeunes et des femmes.",
        "beneficiaries": "200 شاب وشابة." if arabic else "200 jeunes de 15 à 25 ans.",
        "regions": {gov.code},
    })
    applications.save_section(db, registry, app, owner, "budget", {"amount": Money(amount, currency)})
    applications.attach(db, registry, app, owner, kind="registration_certificate",
                        filename="certificat-enregistrement.pdf", data=CERTIFICATE_PDF)
    applications.attach(db, registry, app, owner, kind="budget", filename="budget.csv", data=_budget_csv(amount))


def _fill_proposal(db, registry, app, owner):
    from grants.applications import services as applications

    amount = app.amount
    stage = "proposal"
    applications.save_section(db, registry, app, owner, "theory_of_change", {
        "problem": "Young people in the governorate have few places to take part in local decisions.",
        "theory_of_change": "If young people are trained and meet the municipality every month, then their "
                            "proposals enter the municipal plan, because the council committed to hear them.",
    }, stage=stage)
    applications.save_section(db, registry, app, owner, "activities", {
        "activities": "Training cycle; monthly youth council; two public hearings.",
        "work_plan": "Months 1-3 training; months 4-12 monthly councils; months 6 and 12 hearings.",
        "duration_months": 12,
    }, stage=stage)
    applications.save_section(db, registry, app, owner, "budget", {"total": amount}, stage=stage)
    applications.save_section(db, registry, app, owner, "sustainability", {
        "sustainability": "The youth council becomes part of the municipality's participatory process.",
    }, stage=stage)
    applications.attach(db, registry, app, owner, kind="detailed_budget", filename="budget-detaille.csv",
                        data=_budget_csv(amount.amount), stage=stage)


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

    cohort = incubation.create_cohort(db, call, title="BLADI cohort 2019", starts_on=dt.date(2019, 4, 1), months=4)
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
    from grants.money import Money
    from grants.programmes.services import TierSpec, create_round
    from grants.review.services import bladi_rubric
    from grants.workflow import Actor

    opens = now - dt.timedelta(days=10)
    call = create_round(
        db, registry, programme, title="Second call — associations of the interior", timezone="Africa/Tunis",
        opens_at=opens, closes_at=now + dt.timedelta(days=50), budget=Money(Decimal(300_000), "TND"),
        tiers=[TierSpec("Seed grant", Money(Decimal(10_000), "TND"), Money(Decimal(30_000), "TND"))],
        eligibility_rules=[{"kind": "registered_organisation"}, {"kind": "amount_within_max"},
                           {"kind": "required_attachments", "attachments": ["registration_certificate", "budget"]}],
        application_form_version="bladi-2018-v2", rubric_id=bladi_rubric(db).id, user=people["officer"])
    WorkflowService(registry.workflows, db).fire(call, "open", actor=Actor.system_actor("system:tick"), now=opens)
    applicant = people["applicant"]
    afek = organisations_of(db, applicant)[0]
    # A colleague of Amel's without an account yet: invited, not a member until she accepts.
    invite_member(db, applicant, afek, "youssef@afek.example.org", locale="ar", now=now)
    draft = applications.create_application(db, registry, call, afek, applicant,
                                            title="نوادي الفنون في مدارس قبلي", now=now)
    applications.save_section(db, registry, draft, applicant, "organisation", {
        "mission": "نعمل مع شباب قبلي من أجل الثقافة والمواطنة.", "year_founded": 2011, "staff": 3, "volunteers": 25,
    })
    return call


def _funnel_line(db, registry, call) -> str:
    from grants.programmes.services import round_funnel

    funnel = round_funnel(db, call, registry)
    reached = dict(funnel.reached)
    return f"{funnel.total} applied, {reached['incubation']} incubated, {reached['selected']} selected"
