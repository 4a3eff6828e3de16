"""Rows for tests, made through the same services the app uses."""
from __future__ import annotations

import datetime as dt
import itertools

from grants.accounts.models import LocalRole, Organisation, User
from grants.accounts.organisations import add_member_without_invitation
from grants.accounts.services import hash_password
from grants.applications.models import Application
from grants.lifecycle.services import WorkflowService
from grants.programmes.models import Programme, Round
from grants.workflow import Actor

UTC = dt.timezone.utc
SYSTEM = Actor.system_actor("system:test")
_seq = itertools.count(1)
PASSWORD = "correct horse battery staple"
_HASH = hash_password(PASSWORD)  # argon2 is slow on purpose; hash once per run


def now() -> dt.datetime:
    return dt.datetime.now(UTC)


def user(db, *, email=None, name="Test Person", locale="en", admin=False, verified=True) -> User:
    u = User(email=email or f"person{next(_seq)}@example.org", name=name, locale=locale, password_hash=_HASH,
             email_verified=verified, is_admin=admin)
    db.add(u)
    db.flush()
    return u


def grant_role(db, u: User, role: str, obj) -> None:
    db.add(LocalRole(user_id=u.id, role=role, object_type=obj.__tablename__, object_id=obj.id))
    db.flush()


def organisation(db, *members: User, name=None) -> Organisation:
    org = Organisation(legal_name=name or f"Association {next(_seq)}", country="TN")
    db.add(org)
    db.flush()
    for m in members:
        add_member_without_invitation(db, org, m)
    return org


def programme(db, title="BLADI") -> Programme:
    p = Programme(title=title, currency="USD")
    db.add(p)
    db.flush()
    return p


#: The budget of a factory round (in its programme's currency): set-up must be complete
#: before a round opens (grants.programmes.setup), and a budget is one of its tasks.
ROUND_BUDGET = 10_000_000


def round_(db, registry, prog=None, *, state="open", opens_at=None, closes_at=None, title="Round 1") -> Round:
    prog = prog or programme(db)
    r = Round(programme=prog, title=title, timezone="Africa/Tunis",
              opens_at=opens_at or now() - dt.timedelta(days=1), closes_at=closes_at or now() + dt.timedelta(days=30))
    r.budget = money(ROUND_BUDGET, prog.currency)
    service = WorkflowService(registry.workflows, db)
    service.start(r, actor=SYSTEM)
    if state == "open":
        service.fire(r, "open", actor=SYSTEM)
    return r


def application(db, registry, rnd, org, *, title="Theatre clubs in Kebili", state="draft", complete=True,
                amount=None, answers=None) -> Application:
    """An application on its round's form version.  By default every section is answered
    and every document attached, as a member would through the pages, so that it can be
    submitted; ``complete=False`` leaves it as just started.  ``amount`` (Money) is the
    amount asked (default 20,000 in the programme's currency, or the round's maximum);
    ``answers`` replaces some of SAMPLE_ANSWERS ({"summary": …}).

    ``state`` is reached through the real transitions: submitted, eligible (the round
    must have no eligibility rules, or the screening guard refuses), incubation, or
    proposal_submitted (with a full proposal filled in)."""
    from grants.applications.formdefs import forms_of

    forms = forms_of(registry)
    version = rnd.application_form_version or forms.default("application").version
    filled = {}
    if complete:  # made whole before it is stored, so that it is inserted at row_version 1
        answers, done, attachments, amount = _answers_for(db, registry, forms.get(version), rnd, org, title, amount,
                                                          answers)
        filled = dict(answers=answers, sections_done=done, attachments=attachments, amount_minor=amount.minor_units,
                      amount_currency=amount.currency)
    a = Application(round=rnd, organisation=org, title=title, proposal={}, form_version=version,
                    **{"answers": {}, "sections_done": [], **filled})
    service = WorkflowService(registry.workflows, db)
    service.start(a, actor=SYSTEM)
    if complete:
        from grants.applications.services import missing_answers

        assert missing_answers(registry, a) == [], missing_answers(registry, a)
    path = ["submitted", "eligible", "incubation", "proposal_submitted"]
    reached = path[:path.index(state) + 1] if state in path else []
    for step in reached:
        if step == "submitted":
            service.fire(a, "submit", actor=SYSTEM)
        elif step == "eligible":
            service.fire(a, "confirm_eligible", actor=SYSTEM)
        elif step == "incubation":
            service.fire(a, "incubate", actor=SYSTEM, data={"funder_reference": ""}, comment="Invited to incubation")
        else:
            fill_proposal(db, registry, a, amount=a.amount)
            service.fire(a, "submit_proposal", actor=SYSTEM)
    return a


PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"

#: An answer for every question of the forms grants ships (each form takes its own).
SAMPLE_ANSWERS = {
    "mission": "Give young people in the south a stage: theatre, music and debate against exclusion.",
    "year_founded": 2011, "staff": 4, "volunteers": 12,
    "summary": "After-school theatre clubs in four schools of Kebili and Douz.",
    "objectives": "Two hundred pupils take part; teachers keep the clubs going after the grant.",
    "beneficiaries": "Pupils aged 12 to 18 and their teachers.", "beneficiaries_count": 200,
    "problem": "Few places where young people meet outside school.",
    "theory_of_change": "If pupils perform together, then trust grows, because they work as one troupe.",
    "activities": "Weekly clubs; two festivals.", "work_plan": "Months 1-3 training; 4-12 clubs.",
    "duration_months": 12, "sustainability": "Schools adopt the clubs.",
}


def _answers_for(db, registry, form, rnd, org, title, amount, overrides=None):
    """(answers, sections done, attachments, amount) filling every section of ``form``."""
    from decimal import Decimal

    from grants.applications import services
    from grants.applications.formdefs import bind_schema, from_stored, to_stored
    from grants.applications.models import ApplicationAttachment
    from grants.files import store
    from grants.money import Money

    currency = rnd.programme.currency
    if amount is None:
        amount = Money(Decimal(20_000), currency)
        maximum = services.round_maximum(rnd)
        if maximum is not None and maximum < amount:
            amount = maximum
    sample = {**SAMPLE_ANSWERS, "project_title": title, "amount": amount, "total": amount, **(overrides or {})}
    answers, done = {}, []
    for section in form.sections:
        schema = bind_schema(section, currency=currency, country=org.country)
        if schema is None:
            continue
        values = {k: v for k, v in sample.items() if k in schema}
        if "regions" in schema:
            values["regions"] = {schema["regions"].widget.values[0][0]}
        answers[section.name] = to_stored(schema, from_stored(schema, to_stored(schema, values)))
        done.append(section.name if form.stage == "application" else f"proposal:{section.name}")
    attachments = [ApplicationAttachment(stage=form.stage, kind=spec.kind,
                                         file=store(db, registry.settings, filename=f"{spec.kind}.pdf", data=PDF))
                   for spec in form.attachments]
    return answers, done, attachments, amount


def fill_proposal(db, registry, a, *, amount=None):
    """Answer every section of ``a``'s full proposal and attach its documents."""
    from grants.applications import services
    from grants.applications.formdefs import PROPOSAL_VERSION_KEY, forms_of

    form = forms_of(registry).default("proposal")
    answers, done, attachments, amount = _answers_for(db, registry, form, a.round, a.organisation, a.title, amount)
    a.proposal = {**answers, PROPOSAL_VERSION_KEY: form.version}
    a.sections_done = [*(a.sections_done or ()), *done]
    a.attachments.extend(attachments)
    a.amount = amount
    db.flush()
    assert services.missing_answers(registry, a, "proposal") == [], services.missing_answers(registry, a, "proposal")
    return a


def main_form(page):
    """The page's own form (every page also has the language switcher and sign-out forms,
    and a page with a long list its filters form)."""
    forms = [form for key, form in page.forms.items()
             if isinstance(key, int) and form.id not in ("language-form", "logout-form", "list-filters")]
    assert len(forms) == 1, [form.id for form in forms]
    return forms[0]


def sign_in(testapp, email, password=PASSWORD):
    page = testapp.get("/login")
    form = main_form(page)
    form["email"] = email
    form["password"] = password
    return form.submit().follow()


# --- organisations (appended) ---------------------------------------------------------


def organisation_data(**overrides) -> dict:
    """Valid details for ``organisations.register_organisation``: AFEK in Kebili."""
    data = {"legal_name": "جمعية أفق — AFEK", "alternative_name": "Association Afek",
            "registration_number": "2011-0457", "legal_form": "association", "country": "TN",
            "regions": ["TN-73"], "contact_email": "", "contact_phone": ""}
    data.update(overrides)
    return data


def registered_organisation(db, owner: User, **overrides) -> Organisation:
    """An organisation registered through the service, with ``owner`` as its owner."""
    from grants.accounts.organisations import register_organisation

    return register_organisation(db, owner, organisation_data(**overrides))


# --- programmes, funders and money (appended) ----------------------------------------------


def money(amount, currency="GBP"):
    """``money("800000")`` → £800,000.00 exactly (strings and ints only, never floats)."""
    from decimal import Decimal

    from grants.money import Money

    if isinstance(amount, float):
        raise TypeError("never floats for money")
    return Money(Decimal(amount), currency)


def sef(db, registry):
    """The Shared Endeavour Fund's first two calls: MOPAC leads, Google.org matched City
    Hall pound for pound in Call 1 (£800,000 of which £400,000 match), Groundwork London
    manages the fund.  Returns (programme, call1, call2, funders by short name)."""
    from grants.programmes import services

    prog = services.create_programme(db, title="Shared Endeavour Fund", currency="GBP",
                                     description="Mayor of London / MOPAC")
    funders = {
        "mopac": services.get_or_create_funder(db, name="Mayor's Office for Policing and Crime",
                                               identifier="GB-GOV-MOPAC", kind="government"),
        "google": services.get_or_create_funder(db, name="Google.org", identifier="US-EIN-000000000",
                                                kind="corporate"),
        "groundwork": services.get_or_create_funder(db, name="Groundwork London", kind="ngo"),
    }
    call1 = services.create_round(db, registry, prog, title="Call 1", timezone="Europe/London",
                                  budget=money(800_000), actor=SYSTEM)
    call2 = services.create_round(db, registry, prog, title="Call 2", timezone="Europe/London",
                                  budget=money(600_000), actor=SYSTEM)
    services.add_funder_contribution(db, prog, funders["mopac"], role="lead", amount=money(400_000), round=call1)
    services.add_funder_contribution(db, prog, funders["google"], role="co_funder", amount=money(400_000),
                                     round=call1, matches=funders["mopac"])
    services.add_funder_contribution(db, prog, funders["mopac"], role="lead", amount=money(600_000), round=call2)
    services.add_funder_contribution(db, prog, funders["groundwork"], role="implementer")
    return prog, call1, call2, funders


def award(db, registry, *, rnd=None, org=None, amount=None, starts_on=dt.date(2019, 7, 1), months=12,
          cadence="quarterly", title="Theatre clubs in Kebili"):
    """An active award on a selected application, with its reporting periods (reports in
    state ``due``).  ``amount`` is Money (default 45,000.000 TND); the round is new and
    open unless given, with no eligibility rules.  Made with the awards service."""
    from grants.awards.services import make_award
    from grants.mel.services import add_months

    rnd = rnd or round_(db, registry)
    org = org or organisation(db)
    amount = amount or money("45000.000", "TND")
    a = application(db, registry, rnd, org, title=title, state="eligible")
    WorkflowService(registry.workflows, db).fire(a, "select", actor=SYSTEM, data={"funder_reference": ""},
                                                 comment="Selected")
    ends_on = add_months(starts_on, months) - dt.timedelta(days=1)
    return make_award(db, registry, a, amount=amount, starts_on=starts_on, ends_on=ends_on, cadence=cadence,
                      actor=SYSTEM)


def links_of(response, skip=("/logout",)) -> set[str]:
    """The same-site links of a page (path and query), less those whose path starts or ends
    with one of ``skip`` — for crawls that follow every link a reader could."""
    from urllib.parse import urldefrag, urlsplit

    out = set()
    for a in response.html.find_all("a", href=True):
        href, _fragment = urldefrag(a["href"])
        parts = urlsplit(href)
        if not href or parts.scheme not in ("", "http") or parts.netloc not in ("", "localhost"):
            continue
        if any(parts.path.startswith(s) or parts.path.endswith(s) for s in skip):
            continue
        out.add(parts.path + (f"?{parts.query}" if parts.query else ""))
    return out
