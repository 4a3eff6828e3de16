"""The plugin's tests run on grants' public fixtures (grants.testing) with the plugin enabled.

``fund`` is a small site of the fund: a programme using the plugin and its workflow, an
open round with the fund's tiers and rules, its officer, and a London charity with one
member; ``core_round`` an open round of a programme that does not use the plugin."""
from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import select

from grants.testing import PASSWORD, build_site
from shared_endeavour_fund_helpers import open_round

PLUGIN = "shared_endeavour"


@pytest.fixture(scope="session")
def grants_plugins():
    return [PLUGIN]


@dataclass
class Fund:
    programme_id: int
    round_id: int
    officer_email: str
    member_email: str
    organisation_id: int
    password: str = PASSWORD

    def round_url(self) -> str:
        return f"/programmes/{self.programme_id}/rounds/{self.round_id}"


@pytest.fixture
def fund(grants_registry) -> Fund:
    from grants.accounts.models import User
    from grants.accounts.organisations import register_organisation
    from grants.programmes.models import Programme
    from grants_shared_endeavour.demo import RULES, tiers
    from grants_shared_endeavour.workflow import APPLICATION

    site = build_site(grants_registry, plugins=[PLUGIN], workflows={"application": APPLICATION}, title="The Fund",
                      currency="GBP")
    with grants_registry.database.transaction() as (_tm, db):
        member = db.get(User, site.member.id)
        organisation = register_organisation(db, member, {
            "legal_name": "Lewisham Young Voices", "registration_number": "1100001",
            "legal_form": "registered_charity", "country": "GB", "regions": ["GB-LEW"],
            "contact_email": member.email})
        rnd = open_round(db, grants_registry, db.get(Programme, site.programme.id), tiers=tiers(100_000),
                         rules=RULES)
        db.flush()
        return Fund(site.programme.id, rnd.id, site.officer.email, member.email, organisation.id)


@pytest.fixture
def core_round(grants_registry, fund) -> int:
    """An open round of a programme that does not use the plugin (same officer)."""
    from grants.accounts.models import LocalRole, User
    from grants.programmes.services import create_programme

    with grants_registry.database.transaction() as (_tm, db):
        programme = create_programme(db, title="Another programme", currency="GBP", registry=grants_registry)
        officer = db.scalars(select(User).where(User.email == fund.officer_email)).one()
        db.add(LocalRole(user_id=officer.id, role="programme_officer", object_type="programmes",
                         object_id=programme.id))
        rnd = open_round(db, grants_registry, programme, title="Round A")
        db.flush()
        return rnd.id
