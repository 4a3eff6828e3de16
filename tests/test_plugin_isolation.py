"""A plugin that inserts a step into its own programme's workflow changes nothing for the
other programmes on the same site: their workflows, their pages and their demo numbers stay
what they are without it."""
from __future__ import annotations

import io
from decimal import Decimal

import pytest
import webtest
from sqlalchemy import func, select

from grants import make_app
from grants.applications.models import Application
from grants.awards.models import Award
from grants.demo import load_demo
from grants.lifecycle.meanings import history_reached
from grants.lifecycle.models import HistoryEntry
from grants.money import Money, sum_money
from grants.programmes.models import Programme, Round

pytest.importorskip("grants_testplugin")
bladi = pytest.importorskip("grants_bladi.demo")
fund = pytest.importorskip("grants_shared_endeavour.demo")


def reached(db, rnd, meaning) -> int:
    return db.scalar(select(func.count(func.distinct(HistoryEntry.object_id))).where(
        HistoryEntry.object_type == "applications", history_reached("application", meaning),
        HistoryEntry.object_id.in_(select(Application.id).where(Application.round_id == rnd.id))))


def test_the_demo_numbers_hold_with_a_plugin_inserting_a_step_elsewhere(settings):
    app = make_app({**settings, "grants.plugins": "testplugin bladi shared_endeavour"})
    registry = app.registry
    out = io.StringIO()
    load_demo(registry, out=out)
    with registry.database.transaction() as (_tm, db):
        theirs = db.scalars(select(Programme).where(Programme.title == "Test plugin programme")).one()
        assert theirs.workflow_choices["application"] == "testplugin_application"

        programme = db.scalars(select(Programme).where(Programme.title == bladi.TITLE)).one()
        call = programme.rounds[0]
        assert db.scalar(select(func.count(Application.id)).where(Application.round_id == call.id)) == 264
        assert reached(db, call, "incubation") == 20
        assert reached(db, call, "selected") == 11
        used = set(db.scalars(select(Application.workflow_id).where(Application.round_id == call.id)))
        assert not any(w.startswith("testplugin") for w in used)

        programme = db.scalars(select(Programme).where(Programme.title == fund.TITLE)).one()
        rounds = [r.id for r in programme.rounds]
        awards = db.scalars(select(Award).where(Award.round_id.in_(rounds))).all()
        assert len(awards) == 95
        assert sum_money([a.amount for a in awards], "GBP") == Money(Decimal("2998925"), "GBP")
        url = f"/programmes/{programme.id}/rounds/{rounds[-1]}/"
        decided = db.get(Round, rounds[-1])
        assert not decided.workflow_id.startswith("testplugin")

    page = webtest.TestApp(app, extra_environ={"HTTP_HOST": "localhost"}).get(url)
    assert "Reference check" not in page and "This round page comes from grants_testplugin." not in page
