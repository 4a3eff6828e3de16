"""A workflow variant that inserts and renames states: awards, the funnel, the public
report and the exports find applications by what their states mean, not by their ids."""
from __future__ import annotations

import datetime as dt
import json
import shutil
from decimal import Decimal
from pathlib import Path

import pytest

import factories as f
from grants import StartupError, make_config
from grants.applications.models import Application
from grants.awards.services import AwardRefused, awaiting_award, make_award
from grants.lifecycle.services import WorkflowService
from grants.programmes import services as programmes
from grants.programmes.services import round_funnel
from grants.reporting import exports
from grants.reporting.public import public_report
from grants.review.models import Decision

VARIANTS = Path(__file__).parent / "workflows"
VARIANT = "panel_application"


@pytest.fixture
def variant_registry(settings):
    return make_config({**settings, "grants.workflow_dirs": str(VARIANTS)}).registry


def decide(service, application, trigger, reason):
    service.fire(application, trigger, actor=f.SYSTEM, comment=reason,
                 data={"funder_reference": ""} if trigger in ("panel_approve", "decline") else None)


def test_the_variant_is_a_variant_of_the_application_workflow(variant_registry):
    d = variant_registry.workflows.get(VARIANT).definition
    assert d.family == "application" and "selected" not in d.states
    assert d.states_meaning("selected") == {"approved"} and d.states_meaning("awardable") == {"approved", "cleared"}
    assert [v.id for v in variant_registry.workflows.variants("application")] == ["application", VARIANT]


def test_awards_funnel_public_report_and_exports_follow_meanings(variant_registry):
    registry = variant_registry
    with registry.database.transaction() as (_tm, db):
        prog = programmes.create_programme(db, title="Panel fund", currency="GBP", registry=registry)
        prog.grant_id_prefix = "360G-panel"
        rnd = f.round_(db, registry, prog)
        programmes.choose_workflow(db, registry, rnd, "application", VARIANT)
        service = WorkflowService(registry.workflows, db)
        apps = [f.application(db, registry, rnd, f.organisation(db, f.user(db)), title=f"Project {n}",
                              amount=f.money(10_000), state="eligible") for n in range(3)]
        assert {a.workflow_id for a in apps} == {VARIANT}
        approved, waiting, declined = apps

        for a in (approved, waiting):
            decide(service, a, "select", "Recommended to the panel")
        decide(service, declined, "decline", "Weaker than the others")
        assert (approved.state, waiting.state) == ("panel_vote", "panel_vote")
        # The officer's selection records no decision: the panel decides.
        db.flush()
        assert {d.application_id for d in db.query(Decision)} == {declined.id}
        decide(service, approved, "panel_approve", "The panel approved it")
        assert approved.state == "approved"

        assert awaiting_award(db, rnd) == [approved]
        with pytest.raises(AwardRefused):
            make_award(db, registry, waiting, amount=f.money(10_000), starts_on=dt.date(2027, 1, 1),
                       ends_on=dt.date(2027, 12, 31), actor=f.SYSTEM)
        award = make_award(db, registry, approved, amount=f.money(10_000), starts_on=dt.date(2027, 1, 1),
                           ends_on=dt.date(2027, 12, 31), actor=f.SYSTEM)

        funnel = round_funnel(db, rnd, registry)
        assert dict(funnel.by_state)["panel_vote"] == 1 and dict(funnel.by_state)["approved"] == 1
        assert dict(funnel.reached)["eligible"] == 3 and dict(funnel.reached)["panel_vote"] == 2

        rnd.small_cell_threshold = 1  # nothing suppressed: the counts themselves are checked
        report = public_report(db, registry, rnd)
        assert {stage: cell.value for stage, cell in report.funnel.items()} == \
            {"applied": 3, "eligible": 3, "incubated": 0, "funded": 1}

        package = json.loads(exports.threesixty_giving(db, registry), parse_float=Decimal)
        assert [g["title"] for g in package["grants"]] == ["Project 0"]
        assert package["grants"][0]["amountAwarded"] == Decimal("10000.00")
        assert award.application_id == approved.id


def test_a_variant_that_loses_a_meaning_is_refused(settings, tmp_path):
    broken = (VARIANTS / "panel_application.toml").read_text().replace(
        'means = ["selected", "awardable"]', 'means = ["awardable"]')
    (tmp_path / "panel_application.toml").write_text(broken)
    with pytest.raises(StartupError) as err:
        make_config({**settings, "grants.workflow_dirs": str(tmp_path)})
    assert "no state means 'selected' any more" in str(err.value)
    assert "(in application the state 'selected' does)" in str(err.value)
