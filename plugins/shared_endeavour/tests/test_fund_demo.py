"""The fund's demonstration data: four calls, 95 awards, £2,998,925 to the pound, made on
the fund's own form, tiers, themes, legal forms and workflow; loading it again adds nothing."""
from __future__ import annotations

import datetime as dt
import io
from collections import Counter
from decimal import Decimal

from sqlalchemy import func, select

from grants.accounts.models import LocalRole, Organisation, User
from grants.applications.models import Application
from grants.awards.models import Award
from grants.demo import load_demo as load_every_demo
from grants.evaluation.models import Assessment
from grants.mel.models import RoundInstrument, SurveyInstrument
from grants.money import Money, sum_money
from grants.programmes.models import Programme, ProgrammeFunder
from grants_shared_endeavour.demo import CALLS, TITLE, load_demo
from grants_shared_endeavour.form import THEMES, VERSION
from grants_shared_endeavour.rules import ACCEPTED_LEGAL_FORMS
from grants_shared_endeavour.workflow import APPLICATION


def test_the_demo_loads_four_calls_and_95_awards_exactly_once(grants_registry):
    now = dt.datetime.now(dt.timezone.utc)
    out = io.StringIO()
    people = load_demo(grants_registry, out, now)
    assert out.getvalue().strip() == "4 calls, 95 awards, £2,998,925.00 in all"
    assert [p.email for p in people] == ["fundmanager@example.org", "sef-evaluator@example.org", "grantee@example.org"]

    with grants_registry.database.transaction() as (_tm, db):
        programme = db.scalars(select(Programme).where(Programme.title == TITLE)).one()
        assert programme.plugins == ["shared_endeavour"]
        assert programme.workflow_choices == {"application": APPLICATION}
        calls = programme.rounds
        assert len(calls) == 4 and all(c.state == "decided" and c.report_published_at for c in calls)
        awards = db.scalars(select(Award).where(Award.round_id.in_([c.id for c in calls]))).all()
        assert len(awards) == 95
        assert sum_money([a.amount for a in awards], "GBP") == Money(Decimal("2998925"), "GBP")
        per_call = [sum_money([a.amount for a in awards if a.round_id == c.id], "GBP") for c in calls]
        assert per_call == [Money(Decimal(v), "GBP") for v in ("800000", "600000", "725000", "873925")]
        assert [len([a for a in awards if a.round_id == c.id]) for c in calls] == [n for *_x, n, _m in CALLS]
        assert {a.cadence for a in awards} == {"half_yearly"}
        match = db.scalars(select(ProgrammeFunder).where(ProgrammeFunder.round_id == calls[0].id,
                                                         ProgrammeFunder.matches_funder_id.is_not(None))).one()
        assert match.contribution == Money(Decimal(400_000), "GBP") and match.matches.name.startswith("Mayor")

        # every application on the fund's form and workflow; every award within a tier, with its match
        applications = db.scalars(select(Application).where(Application.round_id.in_([c.id for c in calls]))).all()
        assert {(a.form_version, a.workflow_id) for a in applications} == {(VERSION, APPLICATION)}
        for award in awards:
            application = award.application
            tier = next(t for t in award.round.tiers if t.minimum <= award.amount <= t.maximum)
            if tier.match_funding_percent:
                match_funding = Decimal(application.answers["budget"]["match_funding"]["amount"])
                assert match_funding * 2 >= award.amount.amount
            assert set(application.answers["themes"]["themes"]) <= set(THEMES)
            assert application.organisation.legal_form in ACCEPTED_LEGAL_FORMS
        large = [a for a in awards if a.amount > Money(Decimal(50_000), "GBP")]
        assert large and all(a.round_id == calls[3].id for a in large)
        ineligible = [a for a in applications if a.state == "ineligible"]
        assert len(ineligible) == 4 and {a.organisation.legal_form for a in ineligible} == {"other"}
        states = Counter(a.state for a in applications)
        assert states["selected"] == 95 and states["declined"] == 32

        # its instruments (one design per pair of calls), its criteria, its people
        used = [db.scalars(select(SurveyInstrument.code).join(RoundInstrument).where(
            RoundInstrument.round_id == c.id)).all() for c in calls]
        assert used == [["shared_endeavour_prepost"]] * 2 + [["shared_endeavour_retrospective"]] * 2
        assessment = db.scalars(select(Assessment).join(Award).where(Award.round_id == calls[0].id)).first()
        assert set(assessment.scores) == {"reach", "delivery", "attitudes", "safeguarding", "partnership", "learning"}
        manager = db.scalars(select(User).where(User.email == "fundmanager@example.org")).one()
        assert db.scalar(select(func.count()).select_from(LocalRole).where(
            LocalRole.user_id == manager.id, LocalRole.role == "programme_officer")) == 1
        grantee = db.scalars(select(Organisation).where(Organisation.legal_name == "Lewisham Young Voices CIC")).one()
        assert grantee.memberships[0].user.email == "grantee@example.org"

    again = io.StringIO()
    load_demo(grants_registry, again, now)
    assert "already loaded" in again.getvalue()
    with grants_registry.database.transaction() as (_tm, db):
        assert db.scalar(select(func.count()).select_from(Programme).where(Programme.title == TITLE)) == 1
        assert db.scalar(select(func.count()).select_from(Award)) == 95


def test_grants_demo_runs_the_fund_s_demo_among_the_enabled_plugins(grants_registry):
    from grants.demo import demos

    assert [d.origin for d in demos(grants_registry)] == ["shared_endeavour"]
    assert callable(load_every_demo)
