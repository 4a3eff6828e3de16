"""Helpers for the plugin's tests (a module of its own: grants' suite has a conftest too)."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal


def gbp(amount) -> "Money":
    from grants.money import Money

    return Money(Decimal(amount), "GBP")


def open_round(db, registry, programme, *, title="Call 5", tiers=(), rules=()):
    from grants.lifecycle.services import WorkflowService
    from grants.money import Money
    from grants.programmes.services import create_round
    from grants.workflow import Actor

    now = dt.datetime.now(dt.timezone.utc)
    system = Actor.system_actor("system:tests")
    rnd = create_round(db, registry, programme, title=title, timezone="Europe/London",
                       opens_at=now - dt.timedelta(days=1), closes_at=now + dt.timedelta(days=30),
                       budget=gbp(500_000) if programme.currency == "GBP" else Money(Decimal(500_000), programme.currency), tiers=tiers,
                       eligibility_rules=rules, actor=system)
    WorkflowService(registry.workflows, db).fire(rnd, "open", actor=system)
    return rnd
