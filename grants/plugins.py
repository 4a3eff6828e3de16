"""The plugin API: how a pip-installable package changes a deployment.

A plugin is a distribution that declares an entry point in the group ``grants.plugins``
pointing at a Pyramid ``includeme(config)``.  A deployment enables it by name::

    grants.plugins = grants_incubation my_funder_forms

Inside ``includeme`` a plugin uses only these configuration directives:

``config.add_workflow(spec)``
    a new definition file, e.g. ``"my_plugin:workflows/referral.toml"``.
``config.insert_workflow_step(workflow, after, before, state, trigger, permission, title=..., guards=(), effects=())``
    a new state between two existing ones; ``state`` is a dict like a definition's
    ``[states.x]`` table plus its ``id``.
``config.add_workflow_transition(workflow, trigger, from_, to, permission, title=..., guards=(), effects=(), form=None)``
``config.add_workflow_guard(workflow, trigger, guard)`` / ``config.add_workflow_effect(workflow, trigger, effect)``
    a callable, or a registered/dotted name.  A guard returns None or a reason.
``config.add_workflow_form(workflow, schema, transition=None, state=None)``
    a colander schema (class or factory) to fill when firing ``transition`` or to edit
    an object while it is in ``state``.
``config.override_template(template, replacement)``
    e.g. ``("grants.templates:home.pt", "my_plugin:templates/home.pt")``.
``config.add_translations(spec)``
    a ``locale/`` folder with catalogs that override ours, or that bring a language
    grants does not ship (the deployment lists it in ``grants.languages``).
``config.add_migrations(spec)``
    the plugin's Alembic migrations, e.g. ``"my_plugin:migrations"``: a folder of revision
    files, or one holding ``versions/`` like grants' own.  They form a branch named after the
    plugin; ``grants initdb`` upgrades it with grants' own (see docs/plugins.md).
``config.add_application_form(form, default=False)``
    a version of the application form (or of the second-stage proposal): a
    ``grants.applications.formdefs.ApplicationForm`` with its sections, questions
    (colander schemas) and the documents it asks for.  A round names the version its
    applicants fill in; ``default=True`` makes it the one used when a round names none.
    Two registrations of the same version, or two defaults for one stage, conflict.

Each takes ``version=`` where it targets a workflow (default: every version).  Two
plugins changing the same thing stop start-up with a message naming both.
"""
from __future__ import annotations

from importlib.metadata import entry_points

from pyramid.exceptions import ConfigurationConflictError

from grants.workflow import (
    AddEffect,
    AddGuard,
    AddState,
    AddTransition,
    InsertStep,
    SetStateForm,
    SetTransitionForm,
    State,
    Transition,
    load_definition,
)

ENTRY_POINT_GROUP = "grants.plugins"


class PluginError(Exception):
    """A plugin cannot be loaded, or two plugins collide.  ``str()`` is one line."""


def _origin(config) -> str:
    """The plugin making a change: its entry-point name while it is being included."""
    return config.registry.get("grants.including_plugin") or config.package_name or "<app>"


def _claim(config, discriminator, description: str) -> None:
    """Remember who asked for what, so a conflict can name both plugins."""
    claims = config.registry.setdefault("grants.claims", {})
    claims.setdefault(discriminator, []).append((_origin(config), description))


def _action(config, discriminator, description: str, callable_) -> None:
    _claim(config, discriminator, description)
    intr = config.introspectable("grants plugin changes", discriminator, description, "grants plugin change")
    intr["origin"] = _origin(config)
    config.action(discriminator, callable_, introspectables=(intr,))


def _callable_name(config, fn) -> str:
    """Guards and effects given as callables get a registered name (plugins may not need
    their functions importable by dotted name)."""
    if isinstance(fn, str):
        return fn
    name = f"{_origin(config)}:{getattr(fn, '__qualname__', repr(fn))}"
    config.registry.workflows.add_callable(name, fn)
    return name


def _state(config, data: dict) -> State:
    data = dict(data)
    title = data.pop("title", data["id"])
    return State(
        id=data.pop("id"),
        title=title,
        public_title=data.pop("public", title),
        permissions={p: frozenset(r) for p, r in data.pop("permissions", {}).items()},
        final=data.pop("final", False),
        form=data.pop("form", None),
    )


def add_workflow(config, spec: str):
    path = _asset_path(config.absolute_asset_spec(spec))
    definition = load_definition(path)
    disc = ("grants:workflow", definition.id, definition.version)
    _action(config, disc, f"add workflow {definition.id} v{definition.version}",
            lambda: config.registry.workflows.add_definition(definition))


def insert_workflow_step(config, workflow, after, before, state, trigger, permission, title=None, guards=(),
                         effects=(), version=None):
    st = _state(config, state)
    t = Transition(trigger=trigger, title=title or trigger, sources=(st.id,), dest=before, permission=permission,
                   guards=tuple(_callable_name(config, g) for g in guards),
                   effects=tuple(_callable_name(config, e) for e in effects), origin=_origin(config))
    ext = InsertStep(workflow, _origin(config), version, after=after, before=before, state=st, transition=t)
    _action(config, ("grants:workflow-edge", workflow, version, after, before), ext.describe(),
            lambda: config.registry.workflows.add_extension(ext))


def add_workflow_state(config, workflow, state, version=None):
    st = _state(config, state)
    ext = AddState(workflow, _origin(config), version, state=st)
    _action(config, ("grants:workflow-state", workflow, version, st.id), ext.describe(),
            lambda: config.registry.workflows.add_extension(ext))


def add_workflow_transition(config, workflow, trigger, from_, to, permission, title=None, guards=(), effects=(),
                            form=None, at=None, comment_required=False, version=None):
    sources = (from_,) if isinstance(from_, str) else tuple(from_)
    t = Transition(trigger=trigger, title=title or trigger, sources=sources, dest=to, permission=permission,
                   guards=tuple(_callable_name(config, g) for g in guards),
                   effects=tuple(_callable_name(config, e) for e in effects), form=form, at=at,
                   comment_required=comment_required, origin=_origin(config))
    ext = AddTransition(workflow, _origin(config), version, transition=t)
    _action(config, ("grants:workflow-transition", workflow, version, trigger), ext.describe(),
            lambda: config.registry.workflows.add_extension(ext))


def add_workflow_guard(config, workflow, trigger, guard, version=None):
    name = _callable_name(config, guard)
    ext = AddGuard(workflow, _origin(config), version, trigger=trigger, guard=name)
    _action(config, ("grants:workflow-guard", workflow, version, trigger, name), ext.describe(),
            lambda: config.registry.workflows.add_extension(ext))


def add_workflow_effect(config, workflow, trigger, effect, version=None):
    name = _callable_name(config, effect)
    ext = AddEffect(workflow, _origin(config), version, trigger=trigger, effect=name)
    _action(config, ("grants:workflow-effect", workflow, version, trigger, name), ext.describe(),
            lambda: config.registry.workflows.add_extension(ext))


def add_workflow_form(config, workflow, schema, transition=None, state=None, version=None):
    if (transition is None) == (state is None):
        raise PluginError("add_workflow_form needs exactly one of transition= or state=")
    target = transition or state
    name = f"{workflow}.{'transition' if transition else 'state'}.{target}"

    def register():
        config.registry.workflows.add_form(name, schema)
        if transition:
            ext = SetTransitionForm(workflow, _origin(config), version, trigger=transition, form=name)
        else:
            ext = SetStateForm(workflow, _origin(config), version, state_id=state, form=name)
        config.registry.workflows.add_extension(ext)

    kind = "transition" if transition else "state"
    _action(config, ("grants:workflow-form", workflow, version, kind, target),
            f"set the form of {kind} {target!r} in workflow {workflow}", register)


def override_template(config, template: str, replacement: str):
    _claim(config, ("grants:template", template), f"override template {template}")
    config.override_asset(to_override=template, override_with=replacement)
    # override_asset registers no discriminator of its own; make a second override conflict.
    config.action(("grants:template", template), None)


def add_application_form(config, form, default=False):
    def register():
        from grants.applications.formdefs import application_forms

        application_forms(config.registry).add(form, default=default)

    _action(config, ("grants:application-form", form.version),
            f"add application form {form.version!r} ({form.stage})", register)
    if default:
        # claimed on its own, so that two plugins making themselves the default collide
        _action(config, ("grants:application-form-default", form.stage),
                f"make {form.version!r} the default {form.stage} form", None)


def add_translations(config, spec: str):
    config.add_translation_dirs(spec, override=True)  # a plugin's wording wins over ours
    # Remembered by plugin, so that `grants i18n coverage` can report each plugin's catalogs.
    config.registry.setdefault("grants.plugin_translations", []).append(
        (_origin(config), config.absolute_asset_spec(spec)))


class PluginMigrations:
    """Where a plugin's migrations live, and the package whose models own its tables."""

    def __init__(self, plugin: str, versions: str, package: str):
        self.plugin, self.versions, self.package = plugin, versions, package

    def __repr__(self):
        return f"PluginMigrations({self.plugin!r}, {self.versions!r}, {self.package!r})"


def add_migrations(config, spec: str):
    """The plugin's Alembic versions folder (``"my_plugin:migrations"``).  The tables of
    models defined in that package (``my_plugin`` and below) belong to the plugin: its
    revisions create them, and grants' own never touch them."""
    from pathlib import Path

    plugin = config.registry.get("grants.including_plugin") or ""
    if not plugin:
        raise PluginError(f"add_migrations({spec!r}) is for plugins, called from their includeme")
    spec = config.absolute_asset_spec(spec)
    folder = Path(_asset_path(spec))
    versions = folder / "versions" if (folder / "versions").is_dir() else folder
    if not versions.is_dir():
        raise PluginError(f"plugin {plugin!r}: add_migrations({spec!r}) names no folder ({folder})")
    found = PluginMigrations(plugin, str(versions), spec.partition(":")[0])
    _action(config, ("grants:migrations", plugin), f"add migrations {spec}",
            lambda: plugin_migrations(config.registry).__setitem__(plugin, found))


def plugin_migrations(registry) -> dict[str, PluginMigrations]:
    """The enabled plugins that have migrations, by plugin name."""
    return registry.setdefault("grants.migrations", {})


def _asset_path(spec: str) -> str:
    from pyramid.path import AssetResolver

    return AssetResolver().resolve(spec).abspath()


DIRECTIVES = {
    "add_application_form": add_application_form,
    "add_workflow": add_workflow,
    "add_workflow_effect": add_workflow_effect,
    "add_workflow_form": add_workflow_form,
    "add_workflow_guard": add_workflow_guard,
    "add_workflow_state": add_workflow_state,
    "add_workflow_transition": add_workflow_transition,
    "add_migrations": add_migrations,
    "add_translations": add_translations,
    "insert_workflow_step": insert_workflow_step,
    "override_template": override_template,
}


def enabled_plugins(settings: dict) -> list[str]:
    return (settings.get("grants.plugins") or "").split()


def include_plugins(config) -> None:
    """Include every plugin the deployment enables, by entry-point name."""
    available = {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}
    for name in enabled_plugins(config.get_settings()):
        if name not in available:
            known = ", ".join(sorted(available)) or "none installed"
            raise PluginError(f"plugin {name!r} is enabled in the settings but not installed (installed: {known})")
        try:
            includeme = available[name].load()
        except Exception as exc:
            raise PluginError(f"plugin {name!r} failed to import: {exc}") from None
        config.registry["grants.including_plugin"] = name
        try:
            config.include(includeme)
        finally:
            config.registry["grants.including_plugin"] = None


def explain_conflict(config, exc: ConfigurationConflictError) -> str:
    """One line naming the plugins that changed the same thing."""
    claims = config.registry.get("grants.claims", {})
    for discriminator in exc._conflicts:
        owners = claims.get(discriminator)
        if owners and len({o for o, _ in owners}) > 1:
            names = sorted({o for o, _ in owners})
            return f"plugins {' and '.join(names)} both {owners[0][1]}: enable only one, or make one depend on the other"
    first = next(iter(exc._conflicts))
    return f"two configurations register the same thing {first!r}"


def includeme(config):
    for name, directive in DIRECTIVES.items():
        config.add_directive(name, directive)
