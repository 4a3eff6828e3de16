"""Plugins that misbehave, for the tests of what start-up and firing do about it."""
from grants.security import Permission


def include_a(config):
    # Both replace the site's home page everywhere: they cannot both be enabled.
    config.override_template("grants.templates:home.pt", "grants_testplugin:templates/home.pt", everywhere=True)


def include_b(config):
    config.override_template("grants.templates:home.pt", "grants_testplugin:templates/home.pt", everywhere=True)


def include_scoped_a(config):
    # Both replace the round page of their programmes: fine apart, not in one programme.
    config.override_template("grants.templates:programmes/round.pt", "grants_testplugin:templates/round.pt")


def include_scoped_b(config):
    config.override_template("grants.templates:programmes/round.pt", "grants_testplugin:templates/round.pt")


def include_broken(config):
    config.add_workflow_guard("no_such_workflow", "submit", lambda ctx: None)


def include_meddler(config):
    # Changing the shipped workflow itself would change every programme: refused.
    config.insert_workflow_step(
        "application", after="submitted", before="eligible", reroute=["confirm_eligible"],
        state={"id": "vetting", "permissions": {"applications:application:screen": ["programme_officer"]}},
        trigger="finish_vetting", permission=Permission.ApplicationsApplicationScreen,
    )


def explode(ctx):
    raise RuntimeError("the panel service is down")


def include_failing_effect(config):
    config.add_workflow_variant("failing_effect_application", base="application")
    config.add_workflow_effect("failing_effect_application", "submit", explode)


def explode_when_marked(ctx):
    # Only the reports a test marks fail: a tick over many shows that the others still move.
    if "fail on tick" in (ctx.obj.narrative or ""):
        raise RuntimeError("the records office is down")


def include_failing_tick(config):
    config.add_workflow_variant("failing_tick_report", base="report")
    config.add_workflow_effect("failing_tick_report", "mark_overdue", explode_when_marked)
