"""Two plugins that change the same thing, and one that names a workflow nobody has."""
from grants.security import Permission


def _insert(config, state_id):
    config.insert_workflow_step(
        "application", after="submitted", before="eligible",
        state={"id": state_id, "permissions": {"applications:application:screen": ["programme_officer"]}},
        trigger=f"finish_{state_id}", permission=Permission.ApplicationsApplicationScreen,
    )


def include_a(config):
    _insert(config, "vetting_a")


def include_b(config):
    _insert(config, "vetting_b")


def include_broken(config):
    config.add_workflow_guard("no_such_workflow", "submit", lambda ctx: None)
