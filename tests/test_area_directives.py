"""The areas' directives for funders' plugins, through the test plugin: a rubric
(config.add_rubric), the capacity areas of cohorts (config.add_capacity_areas) and a
tranche condition (config.add_tranche_condition) — each for the plugin's programmes only."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from pyramid.exceptions import ConfigurationError

import factories as f
from grants.awards import services as awards
from grants.awards.services import AwardRefused
from grants.incubation import services as incubation
from grants.lifecycle.services import WorkflowService
from grants.programmes import services as programmes
from grants.programmes.services import ProgrammeRefused
from grants.review import services as review
from grants.workflow import Refused
from grants.workflow.engine import plain


@pytest.fixture
def with_testplugin(settings):
    settings["grants.plugins"] = "testplugin"


def _round(db, registry, plugins):
    prog = f.programme(db, title=f"Programme {'/'.join(plugins) or 'of grants'}")
    prog.plugins = list(plugins)
    return f.round_(db, registry, prog)


def test_a_plugins_tranche_condition_is_offered_to_its_programmes_and_holds_back_the_release(
        with_testplugin, registry):
    with registry.database.transaction() as (_tm, db):
        own = f.award(db, registry, rnd=_round(db, registry, ["testplugin"]))
        other = f.award(db, registry, rnd=_round(db, registry, []))
        assert list(awards.conditions_for(registry, own)) == ["none", "agreement_signed", "report_accepted",
                                                              "site_visit"]
        assert "site_visit" not in awards.conditions_for(registry, other)
        with pytest.raises(AwardRefused) as refused:
            awards.set_schedule(db, registry, other, [{"percent": Decimal(100), "condition": "site_visit"}])
        assert [plain(r) for r in refused.value.reasons] == ["Choose what tranche 1 waits for."]
        (tranche,) = awards.set_schedule(db, registry, own, [{"percent": Decimal(100), "condition": "site_visit"}])
        service = WorkflowService(registry.workflows, db)
        with pytest.raises(Refused) as refused:
            service.fire(tranche, "release", actor=f.SYSTEM)
        assert "Visit the grantee first" in plain(refused.value.reasons[0])
        assert tranche.state == "pending"
        own.title += " (site visited)"
        service.fire(tranche, "release", actor=f.SYSTEM)
        assert tranche.state == "released"
        assert str(awards.condition_title(registry, "site_visit")) == "A site visit is done"


def test_a_plugins_rubric_and_capacity_areas_are_its_programmes_only(with_testplugin, registry):
    with registry.database.transaction() as (_tm, db):
        own, other = _round(db, registry, ["testplugin"]), _round(db, registry, [])
        panel = review.registered_rubric(db, registry, "Test plugin panel")
        assert review.registered_rubric(db, registry, "Test plugin panel").id == panel.id  # stored once
        assert own.rubric_id is None  # not its programmes' default: the general rubric scores
        programmes.update_round(db, own, registry=registry, rubric_id=panel.id)
        assert review.rubric_for(db, own).title == "Test plugin panel"
        with pytest.raises(ProgrammeRefused):
            programmes.update_round(db, other, registry=registry, rubric_id=panel.id)
        cohort = incubation.create_cohort(db, own, title="C", starts_on=dt.date(2019, 2, 1), registry=registry)
        assert cohort.capacity_areas == ["Bookkeeping", "Volunteering"]
        with pytest.raises(incubation.IncubationRefused):
            incubation.create_cohort(db, other, title="C", starts_on=dt.date(2019, 2, 1), registry=registry)


@pytest.mark.parametrize("directive, args", [
    ("add_rubric", ("Broken", [{"id": "Bad id", "title": "", "weight": "0", "labels": {}}])),
    ("add_capacity_areas", ([],)),
    ("add_capacity_areas", (["Governance", "Governance"],)),
    ("add_tranche_condition", ("Not a name!", "Title", lambda tranche: None)),
])
def test_a_directive_refuses_what_it_cannot_use_at_start_up(settings, directive, args):
    from grants import make_config

    config = make_config(settings)
    with pytest.raises(ConfigurationError):
        getattr(config, directive)(*args)
