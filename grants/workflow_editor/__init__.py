"""Workflow variants edited in the browser (``/workflow-editor``): copy an installed
workflow, change its states and steps, see the check and the diagram on each save, release
it as an immutable version, and move in-flight objects onto it."""


def includeme(config):
    from .services import StoredWorkflows

    # Released versions are read from the database by (id, version) when first needed.
    config.registry.workflows.stored = StoredWorkflows(config.registry.database)
    config.add_route("workflow_editor", "/workflow-editor")
    config.add_route("workflow_version", r"/workflow-editor/{workflow_id}/{version:[0-9]{1,6}}")
    config.add_route("workflow_move", r"/workflow-editor/{workflow_id}/{version:[0-9]{1,6}}/move")
    config.scan(".views")
