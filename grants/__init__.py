"""grants: a pluggable workflow engine for grant programmes.

``main`` is the WSGI app factory (``pserve development.ini``); ``make_config`` builds
the same configuration for the ``grants`` command and for tests.
"""
from __future__ import annotations

import warnings

# pyramid 2.1 imports pkg_resources; the deprecation is not ours to act on, and it would put
# a second line on the stderr of every `grants` command.
warnings.filterwarnings("ignore", message="pkg_resources is deprecated", category=UserWarning)

from typing import TYPE_CHECKING  # noqa: E402

if TYPE_CHECKING:
    from pyramid.config import Configurator

# Pyramid is imported by the functions that use it, not here: pytest imports grants.testing
# (and so this package) in every run wherever grants is installed, plugins' suites included.


class StartupError(Exception):
    """The app must not start.  ``str()`` is one line saying why."""


def make_config(settings: dict, *, compile_workflows: bool = True) -> Configurator:
    from pyramid.config import Configurator
    from pyramid.exceptions import ConfigurationConflictError, ConfigurationError, ConfigurationExecutionError

    from grants.plugins import PluginError, explain_conflict, include_plugins
    from grants.workflow import DefinitionError, WorkflowConfigurationError

    from grants.templating import serialise_compilation

    serialise_compilation()  # before any template compiles (see grants.templating)
    config = Configurator(settings=settings)
    try:
        config.include("pyramid_chameleon")
        # Templates a plugin overrides apply on its programmes' pages only.
        config.add_renderer(".pt", "grants.plugins.scoped_template_renderer")
        config.include(".db")
        config.include(".security")
        config.include(".i18n")
        config.include(".multilingual")  # ml() and ml_text() for templates
        config.include(".mail")
        config.include(".plugins")  # the plugin directives, before anything may use them
        config.include(".lifecycle")  # the workflow registry and the shipped definitions
        config.include(".resources")
        config.include(".web")  # layout, static files, sessions, CSRF, error pages
        config.include(".concurrency")  # the 409 pages when someone else changed a thing first
        config.include(".accounts")
        config.include(".programmes")
        config.include(".workflow_editor")  # workflow variants edited in the browser
        config.include(".files")
        config.include(".applications")
        config.include(".review")
        config.include(".incubation")
        config.include(".awards")
        config.include(".mel")
        config.include(".evaluation")
        config.include(".reporting")
        config.include(".demo")  # config.add_demo
        include_plugins(config)  # last: plugins extend what the core registered
        config.commit()
        if compile_workflows:
            config.registry.workflows.freeze()
    except ConfigurationConflictError as exc:
        raise StartupError(explain_conflict(config, exc)) from None
    except ConfigurationExecutionError as exc:
        cause = exc.etype, exc.evalue
        if isinstance(exc.evalue, (DefinitionError, WorkflowConfigurationError, PluginError)):
            raise StartupError(str(exc.evalue)) from None
        raise StartupError(f"{cause[0].__name__}: {cause[1]}") from None
    except (DefinitionError, WorkflowConfigurationError, PluginError, ConfigurationError) as exc:
        raise StartupError(str(exc)) from None
    return config


def make_app(settings: dict):
    from sqlalchemy.exc import IntegrityError

    from grants.lifecycle.services import StoredStateError, check_stored_states, record_installed_workflows
    from grants.programmes.services import programme_plugin_conflicts
    from grants.static_files import serve_static
    from grants.templating import compile_templates
    from grants.workflow_editor.services import load_released

    config = make_config(settings)
    load_released(config.registry)  # workflow versions released in the browser, before objects are checked
    with config.registry.database.transaction() as (_tm, dbsession):
        try:
            check_stored_states(dbsession, config.registry.workflows)
        except StoredStateError as exc:
            raise StartupError(str(exc)) from None
        problem = programme_plugin_conflicts(dbsession, config.registry)
        if problem:
            raise StartupError(problem)
    try:
        with config.registry.database.transaction() as (_tm, dbsession):
            record_installed_workflows(dbsession, config.registry.workflows)
    except IntegrityError:
        pass  # another process starting at the same moment wrote the same rows
    compile_templates(config.registry)  # before serving, in this thread (grants.templating says why)
    return serve_static(config.make_wsgi_app())  # static files compressed, under hashed names


def main(global_config, **settings):
    """Paste app factory.  Refuses to start with one line on stderr, never a traceback."""
    try:
        return make_app(settings)
    except StartupError as exc:
        raise SystemExit(f"grants: cannot start: {exc}") from None
