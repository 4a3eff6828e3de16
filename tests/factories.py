"""Rows for tests, made through the same services the app uses."""
from __future__ import annotations

import datetime as dt
import itertools

from grants.accounts.models import LocalRole, Membership, Organisation, User
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
        db.add(Membership(user_id=m.id, organisation_id=org.id))
    db.flush()
    return org


def programme(db, title="BLADI") -> Programme:
    p = Programme(title=title, currency="USD")
    db.add(p)
    db.flush()
    return p


def round_(db, registry, prog=None, *, state="open", opens_at=None, closes_at=None, title="Round 1") -> Round:
    prog = prog or programme(db)
    r = Round(programme=prog, title=title, timezone="Africa/Tunis",
              opens_at=opens_at or now() - dt.timedelta(days=1), closes_at=closes_at or now() + dt.timedelta(days=30))
    service = WorkflowService(registry.workflows, db)
    service.start(r, actor=SYSTEM)
    if state == "open":
        service.fire(r, "open", actor=SYSTEM)
    return r


def application(db, registry, rnd, org, *, title="Theatre clubs in Kebili", state="draft") -> Application:
    a = Application(round=rnd, organisation=org, title=title)
    service = WorkflowService(registry.workflows, db)
    service.start(a, actor=SYSTEM)
    if state in ("submitted", "eligible"):
        service.fire(a, "submit", actor=SYSTEM)
    if state == "eligible":
        service.fire(a, "confirm_eligible", actor=SYSTEM)
    return a


def main_form(page):
    """The page's own form (every page also has the language switcher and sign-out forms)."""
    forms = [form for key, form in page.forms.items()
             if isinstance(key, int) and form.id not in ("language-form", "logout-form")]
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
