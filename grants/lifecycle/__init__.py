"""Workflows applied to stored objects: the registry of definitions, firing in the
database, history, `grants tick`, and migrations."""
from pathlib import Path

from grants.security import Permission, Role
from grants.workflow import WorkflowRegistry, load_definition



def shipped_definition_files() -> list[Path]:
    import grants.workflows  # the top-level workflows/ folder, installed inside the package

    return sorted(Path(grants.workflows.__path__[0]).glob("*.toml"))


def workflow_service(request):
    from .services import WorkflowService

    return WorkflowService(request.registry.workflows, request.dbsession, request=request,
                           transaction_manager=request.tm, settings=request.registry.settings)


def includeme(config):
    registry = WorkflowRegistry(permissions=[str(p) for p in Permission], roles=[str(r) for r in Role])
    config.registry.workflows = registry
    # Effects reach the mailer and the translations through it (``ctx.env.app``), also
    # outside a request: `grants tick`, `grants demo`, services called from scripts.
    registry.app_registry = config.registry
    files = shipped_definition_files()
    for folder in (config.get_settings().get("grants.workflow_dirs") or "").split():
        files += sorted(Path(folder).glob("*.toml"))
    for path in files:
        registry.add_definition(load_definition(path))
    config.add_request_method(workflow_service, "workflows", reify=True)
    config.include(".views")
