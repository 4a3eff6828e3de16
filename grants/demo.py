"""Demonstration data: `grants demo development.ini`.

Loads a BLADI-like programme so a newcomer sees a living system, and prints a sign-in
for each role.  Running it again does nothing (it checks for its own programme first).
"""
from __future__ import annotations

import datetime as dt
import sys

from sqlalchemy import select

DEMO_PASSWORD = "demo-password-2026"

DEMO_PEOPLE = [
    # email, name, locale, role description
    ("admin@example.org", "Admin", "en", "admin"),
    ("officer@example.org", "Leila Officer", "en", "programme officer (BLADI)"),
    ("reviewer@example.org", "Karim Reviewer", "fr", "reviewer"),
    ("evaluator@example.org", "Evelyn Evaluator", "en", "evaluator (BLADI round 1)"),
    ("applicant@example.org", "Amel Ben Salah", "ar", "applicant (جمعية أفق / AFEK)"),
]

TUNIS = dt.timezone(dt.timedelta(hours=1))


def load_demo(registry, out=sys.stdout, now: dt.datetime | None = None) -> None:
    from grants.accounts.models import LocalRole, Membership, Organisation, User
    from grants.accounts.services import hash_password
    from grants.applications.models import Application
    from grants.lifecycle.services import WorkflowService
    from grants.programmes.models import Programme, Round
    from grants.workflow import Actor

    now = now or dt.datetime.now(dt.timezone.utc)
    with registry.database.transaction() as (tm, db):
        if db.scalar(select(Programme).where(Programme.title.like("BLADI%"))) is not None:
            print("demo data is already loaded", file=out)
            _print_signins(out)
            return
        users = {}
        for email, name, locale, _desc in DEMO_PEOPLE:
            user = User(email=email, name=name, locale=locale, password_hash=hash_password(DEMO_PASSWORD),
                        email_verified=True, is_admin=email.startswith("admin@"))
            db.add(user)
            users[email] = user
        db.flush()

        programme = Programme(
            title="BLADI — Building Local Associations for Development and Innovation",
            description="Institutional strengthening for Tunisian associations, funded by the US Department of State "
                        "and implemented by AMIDEAST with Jamaity and Shanti.",
            currency="USD",
        )
        db.add(programme)
        db.flush()
        db.add(LocalRole(user_id=users["officer@example.org"].id, role="programme_officer",
                         object_type="programmes", object_id=programme.id))

        service = WorkflowService(registry.workflows, db, transaction_manager=tm)
        system = Actor.system_actor("system:demo")
        call = Round(programme=programme, title="Call for expressions of interest — Nabda b houmti",
                     opens_at=dt.datetime(2018, 12, 25, 9, 0, tzinfo=TUNIS),
                     closes_at=now + dt.timedelta(days=60), timezone="Africa/Tunis")
        service.start(call, actor=system)
        service.fire(call, "open", actor=system)
        db.add(LocalRole(user_id=users["evaluator@example.org"].id, role="evaluator",
                         object_type="rounds", object_id=call.id))

        afek = Organisation(legal_name="جمعية أفق — AFEK", registration_number="2011-0457", legal_form="association",
                            country="TN")
        afek.created_by_id = users["applicant@example.org"].id
        afek.regions = ["TN-73"]  # Kebili
        db.add(afek)
        db.flush()
        db.add(Membership(user_id=users["applicant@example.org"].id, organisation_id=afek.id, kind="owner"))
        draft = Application(round=call, organisation=afek, title="Clubs de théâtre à Kébili")
        service.start(draft, actor=system)
        submitted = Application(round=call, organisation=afek, title="نوادي الفنون في المدارس")
        service.start(submitted, actor=system)
        service.fire(submitted, "submit", actor=system)
        db.add(LocalRole(user_id=users["reviewer@example.org"].id, role="reviewer",
                         object_type="applications", object_id=submitted.id))
    print("demo data loaded", file=out)
    _print_signins(out)


def _print_signins(out) -> None:
    print(f"sign in at http://localhost:6543/login with password {DEMO_PASSWORD!r} as:", file=out)
    for email, _name, _locale, desc in DEMO_PEOPLE:
        print(f"  {email:<24} {desc}", file=out)
