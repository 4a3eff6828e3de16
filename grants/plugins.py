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
    applicants fill in; ``default=True`` makes it the one used when a round names none —
    in the programmes that use the plugin only (elsewhere grants' default stays).  Two
    registrations of the same version conflict, and so do two defaults for one stage in
    one programme.
``config.add_application_form_file(path, version=None, default=False)``
    the same, from a JSON file exported from the form builder (an asset spec such as
    ``"my_plugin:forms/fund.json"``): a form shipped as data.

Each takes ``version=`` where it targets a workflow (default: every version).  Two
plugins changing the same thing stop start-up with a message naming both.

grants' areas add directives of their own, which work the same way (docs/plugins.md):
``config.add_eligibility_rule_kind`` (grants.applications), ``config.add_survey_instrument``
(grants.mel), ``config.add_report_section`` (grants.reporting),
``config.add_evaluation_criteria`` (grants.evaluation), ``config.add_rubric`` (grants.review),
``config.add_capacity_areas`` (grants.incubation), ``config.add_tranche_condition``
(grants.awards), ``config.add_setup_task`` (grants.programmes: a task on a round's set-up
checklist) and ``config.add_demo`` (grants.demo).
"""
from __future__ import annotations

from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any

from pyramid.exceptions import ConfigurationConflictError

from grants.security import lineage
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
    Variant,
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


def register_change(config, discriminator, description: str, callable_) -> None:
    """For directives that grants' own areas add (``config.add_directive`` in an area's
    ``includeme``): register a plugin's change under ``discriminator``, so two plugins
    changing the same thing conflict at start-up, naming both."""
    _action(config, discriminator, description, callable_)


def current_plugin(config) -> str:
    """The entry-point name of the plugin being included ("" outside a plugin): what a
    directive records as the origin of what it adds, so it applies to that plugin's
    programmes only (:func:`in_scope`)."""
    return _plugin(config)


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
        means=frozenset(data.pop("means", ())),
    )


def _plugin(config) -> str:
    """The plugin being included, or "" for the deployment's own configuration."""
    return config.registry.get("grants.including_plugin") or ""


def add_workflow(config, spec: str):
    import dataclasses

    path = _asset_path(config.absolute_asset_spec(spec))
    definition = dataclasses.replace(load_definition(path), origin=_plugin(config))
    disc = ("grants:workflow", definition.id, definition.version)
    _action(config, disc, f"add workflow {definition.id} v{definition.version}",
            lambda: config.registry.workflows.add_definition(definition))


def add_workflow_variant(config, variant_id: str, base: str, title=None):
    variant = Variant(variant_id, base, _plugin(config), title)
    _action(config, ("grants:workflow", variant_id), f"add workflow variant {variant_id} of {base}",
            lambda: config.registry.workflows.add_variant(variant))


def insert_workflow_step(config, workflow, after, before, state, trigger, permission, reroute, title=None,
                         guards=(), effects=(), form=None, run_rerouted_effects="after_step", version=None):
    st = _state(config, state)
    reroute = (reroute,) if isinstance(reroute, str) else tuple(reroute)
    t = Transition(trigger=trigger, title=title or trigger, sources=(st.id,), dest=before, permission=permission,
                   guards=tuple(_callable_name(config, g) for g in guards),
                   effects=tuple(_callable_name(config, e) for e in effects), form=form, origin=_origin(config))
    ext = InsertStep(workflow, _origin(config), version, after=after, before=before, state=st, transition=t,
                     reroute=reroute, effects=run_rerouted_effects)
    _action(config, ("grants:workflow-edge", workflow, version, after, before), ext.describe(),
            lambda: config.registry.workflows.add_extension(ext))


def add_workflow_state(config, workflow, state, version=None):
    st = _state(config, state)
    ext = AddState(workflow, _origin(config), version, state=st)
    _action(config, ("grants:workflow-state", workflow, version, st.id), ext.describe(),
            lambda: config.registry.workflows.add_extension(ext))


def add_workflow_transition(config, workflow, trigger, from_, to, permission, title=None, guards=(), effects=(),
                            form=None, at=None, comment_required=False, version=None, destructive=False):
    sources = (from_,) if isinstance(from_, str) else tuple(from_)
    t = Transition(trigger=trigger, title=title or trigger, sources=sources, dest=to, permission=permission,
                   guards=tuple(_callable_name(config, g) for g in guards),
                   effects=tuple(_callable_name(config, e) for e in effects), form=form, at=at,
                   comment_required=comment_required, destructive=destructive, origin=_origin(config))
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


def add_role(config, name: str, title, grantable_on=("programme", "round")):
    """A role people can be given on a programme or round of a programme that uses the
    plugin (``grantable_on``); name it in workflow permission maps like a shipped role."""
    role = RoleInfo(name, title, _plugin(config), tuple(grantable_on))

    def register():
        roles(config.registry)[name] = role
        config.registry.workflows.add_roles([name])

    _action(config, ("grants:role", name), f"add role {name!r}", register)


def add_workflow_permission(config, name: str, title=None):
    """A permission a plugin's workflow states and views use (``area:resource:action``)."""
    _action(config, ("grants:permission", name), f"add permission {name!r}",
            lambda: config.registry.workflows.add_permissions([name]))


def override_template(config, template: str, replacement: str, everywhere: bool = False):
    """Render ``replacement`` instead of ``template`` on pages of programmes that use the
    plugin; ``everywhere=True`` replaces it on every page of the site (the home page, say)."""
    plugin = _plugin(config)
    if everywhere or not plugin:
        _claim(config, ("grants:template", template), f"override template {template}")
        config.override_asset(to_override=template, override_with=replacement)
        # override_asset registers no discriminator of its own; make a second override conflict.
        config.action(("grants:template", template), None)
        return
    scoped_claim(config, ("grants:template", template), f"override template {template}")
    config.action(("grants:template", template, plugin),
                  lambda: template_overrides(config.registry).setdefault(template, {}).__setitem__(plugin, replacement))


def add_application_form_file(config, path, version=None, default=False):
    """An application form a plugin ships as data: a file exported from the form builder
    (``"my_plugin:forms/fund.json"``, an asset spec, or a path), checked and compiled now
    (a wrong file stops start-up with its problems) and registered as
    ``add_application_form`` would.  Its version id is ``version``, else the file's key."""
    from pyramid.path import AssetResolver

    from grants.applications.builder import load_form_file

    resolved = AssetResolver(config.package).resolve(path).abspath() if ":" in path else path
    add_application_form(config, load_form_file(resolved, version=version), default=default)


def add_application_form(config, form, default=False):
    import dataclasses

    if form.origin != _plugin(config):
        form = dataclasses.replace(form, origin=_plugin(config))

    def register():
        from grants.applications.formdefs import application_forms

        application_forms(config.registry).add(form, default=default)

    _action(config, ("grants:application-form", form.version),
            f"add application form {form.version!r} ({form.stage})", register)
    if default and form.origin:
        # a plugin's default serves its own programmes: two such plugins may be enabled
        # together, but one programme cannot use both
        scoped_claim(config, ("grants:application-form-default", form.stage),
                     f"make their form the default {form.stage} form")
        _action(config, ("grants:application-form-default", form.stage, form.origin),
                f"make {form.version!r} the default {form.stage} form", None)
    elif default:
        # claimed on its own, so that two site-wide defaults collide
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
    "add_application_form_file": add_application_form_file,
    "add_workflow_permission": add_workflow_permission,
    "add_role": add_role,
    "add_workflow": add_workflow,
    "add_workflow_effect": add_workflow_effect,
    "add_workflow_form": add_workflow_form,
    "add_workflow_guard": add_workflow_guard,
    "add_workflow_state": add_workflow_state,
    "add_workflow_transition": add_workflow_transition,
    "add_workflow_variant": add_workflow_variant,
    "add_migrations": add_migrations,
    "add_translations": add_translations,
    "insert_workflow_step": insert_workflow_step,
    "override_template": override_template,
}


# -- what a plugin adds is scoped to the programmes that use it ------------------------------


@dataclass(frozen=True)
class RoleInfo:
    name: str
    title: Any
    origin: str  # the plugin that declares it; "" for grants' own
    grantable_on: tuple[str, ...] = ("programme", "round")


def roles(registry) -> dict[str, RoleInfo]:
    """Every role that can be granted on a programme or round, by name."""
    return registry.setdefault("grants.roles", {})


def template_overrides(registry) -> dict[str, dict[str, str]]:
    """template spec -> {plugin: replacement spec}, for pages of programmes using the plugin."""
    return registry.setdefault("grants.template_overrides", {})


def plugins_in_scope(context) -> frozenset[str] | None:
    """The plugins the programme around ``context`` uses; None outside any programme."""
    for node in lineage(context):
        scope = getattr(node, "plugin_scope", None)
        if scope is not None:
            return frozenset(scope)
    return None


def in_scope(origin: str, plugins) -> bool:
    """Is something added by ``origin`` ("" for grants itself) available where ``plugins``
    are in use?"""
    return not origin or origin in (plugins or ())


def scoped_template_renderer(info):
    """The ``.pt`` renderer: Chameleon's, except on pages of a programme that uses a
    plugin overriding the template, where the plugin's replacement renders instead."""
    from pyramid.renderers import RendererHelper
    from pyramid_chameleon.zpt import renderer_factory

    default = renderer_factory(info)
    overrides = template_overrides(info.registry).get(info.name)
    if not overrides:  # renderers are made after configuration: no override can come later
        return default
    replacements = {plugin: renderer_factory(RendererHelper(spec, registry=info.registry))
                    for plugin, spec in overrides.items()}

    class Scoped:
        def implementation(self):  # macros and layouts are the site's own
            return default.implementation()

        def __call__(self, value, system):
            plugins = plugins_in_scope(system.get("context")) or ()
            for plugin, renderer in replacements.items():
                if plugin in plugins:
                    return renderer(value, system)
            return default(value, system)

    return Scoped()


def scoped_claim(config, thing, description: str) -> None:
    """Remember that the plugin being included changes ``thing`` for its programmes.
    Two plugins may both claim a thing; a programme may not use both of them
    (:func:`programme_conflict`)."""
    claims = config.registry.setdefault("grants.scoped_claims", {})
    claims.setdefault(thing, []).append((_plugin(config), description))


def programme_conflict(registry, plugins) -> str | None:
    """Why a programme cannot use ``plugins`` together, naming both plugins, or None."""
    chosen = set(plugins or ())
    for _thing, owners in sorted(registry.get("grants.scoped_claims", {}).items(), key=lambda kv: repr(kv[0])):
        names = sorted({origin for origin, _ in owners if origin in chosen})
        if len(names) > 1:
            description = owners[0][1]
            return f"plugins {' and '.join(names)} both {description}: a programme can use only one of them"
    return None


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
        config.registry.workflows.plugin_names.add(name)
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
