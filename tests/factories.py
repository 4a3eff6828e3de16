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
