"""Alembic migrations.  `grants initdb FILE.ini` upgrades every head: grants' own and the
branch of each enabled plugin that has migrations (``config.add_migrations``).  Write a new
one with `grants db revision FILE.ini -m "what changed"` (grants' tables) or
`grants db revision FILE.ini --plugin NAME -m "..."` (that plugin's tables), and review it
by hand.

Each table has one owner: grants, or the plugin whose package defines its model (a table
made without a model says ``info={"plugin": NAME}``).  A revision compares only its owner's
tables with the database, so it never drops or alters another's.
"""
from __future__ import annotations

import os
import uuid
from importlib.metadata import entry_points
from pathlib import Path

from alembic.config import Config

HERE = Path(__file__).resolve().parent
CORE_VERSIONS = HERE / "versions"


class MigrationsError(Exception):
    """The migrations cannot run.  ``str()`` is one line saying why and what to do."""


def alembic_config(settings: dict, plugins: dict | None = None, extra_locations=()) -> Config:
    """Alembic's configuration for grants and ``plugins`` (name -> PluginMigrations, from
    :func:`enabled_migrations`): their version folders are one revision tree."""
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    cfg.set_main_option("sqlalchemy.url", settings["sqlalchemy.url"].replace("%", "%%"))
    locations = [str(CORE_VERSIONS), *(m.versions for m in (plugins or {}).values()), *map(str, extra_locations)]
    # os.pathsep, not spaces: a folder may have a space in its name.  Both names: the first
    # for this Alembic, the second for older ones.
    cfg.set_main_option("path_separator", "os")
    cfg.set_main_option("version_path_separator", "os")
    cfg.set_main_option("version_locations", os.pathsep.join(dict.fromkeys(locations)).replace("%", "%%"))
    cfg.attributes["settings"] = settings
    cfg.attributes["grants.plugins"] = dict(plugins or {})
    return cfg


def enabled_migrations(settings: dict) -> dict:
    """The migrations of the plugins ``settings`` enable (name -> PluginMigrations).  Plugins
    declare them in their ``includeme``, so this builds the configuration, which also imports
    their models."""
    from grants import make_config
    from grants.plugins import enabled_plugins, plugin_migrations

    if not enabled_plugins(settings):
        return {}
    config = make_config(settings, compile_workflows=False)
    return dict(plugin_migrations(config.registry))


def upgrade(settings: dict, plugins: dict | None = None) -> None:
    """Bring the database to every head: grants' and each of ``plugins``'."""
    from alembic import command
    from alembic.util import CommandError

    cfg = alembic_config(settings, plugins)
    _check_plugin_revisions(cfg)
    try:
        command.upgrade(cfg, "heads")
    except CommandError as exc:
        raise MigrationsError(_explain(exc)) from None


def revision(settings: dict, plugins: dict, message: str, *, plugin: str | None = None,
             version_path: str | None = None):
    """Autogenerate a revision comparing the database with the tables of grants (``plugin``
    None) or of one enabled plugin, on its branch and in its folder (or ``version_path``).
    Returns (the new file's path, names of tables in the database that no model describes,
    left alone)."""
    from alembic import command
    from alembic.util import CommandError

    if plugin is not None and plugin not in plugins:
        raise MigrationsError(f"plugin {plugin!r} is enabled but declares no migrations: "
                              f"call config.add_migrations(\"its_package:migrations\") in its includeme")
    cfg = alembic_config(settings, plugins, [version_path] if version_path else [])
    _check_plugin_revisions(cfg)
    script = _script(cfg)
    core_heads = tuple(r.revision for r in script.get_revisions("heads") if Path(r.path).parent == CORE_VERSIONS)
    if plugin is None:
        # Several heads of grants' own (parallel work not merged yet): the new revision
        # follows all of them, which merges them.
        where = dict(head=core_heads if len(core_heads) > 1 else core_heads[0])
        folder = version_path or str(CORE_VERSIONS)
    else:
        branch = [r for r in script.get_revisions("heads") if plugin in _branch_of(script, r)]
        if branch:
            where = dict(head=f"{plugin}@head")
        else:  # the plugin's first revision starts its branch, after grants' schema of today
            where = dict(head="base", branch_label=plugin, depends_on=list(core_heads))
        folder = version_path or plugins[plugin].versions
        where["rev_id"] = f"{plugin}_{uuid.uuid4().hex[:12]}"
    cfg.attributes["grants.owner"] = plugin or ""
    left_alone = cfg.attributes["grants.left_alone"] = set()
    try:
        made = command.revision(cfg, message=message, autogenerate=True, version_path=folder, **where)
    except CommandError as exc:
        raise MigrationsError(_explain(exc)) from None
    return made.path, sorted(left_alone)


def _script(cfg):
    """The revision tree of every folder in ``cfg``, read now so that a revision naming one
    that no folder has is one line, not a traceback."""
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    script = ScriptDirectory.from_config(cfg)
    try:
        script.revision_map.heads  # noqa: B018 - builds the map
    except KeyError as exc:
        raise MigrationsError(f"a migration depends on revision {exc.args[0]!r}, which neither grants nor an "
                              f"enabled plugin has") from None
    except CommandError as exc:
        raise MigrationsError(_explain(exc)) from None
    return script


def _branch_of(script, rev) -> set[str]:
    labels = set()
    for r in script.iterate_revisions(rev.revision, "base"):
        labels |= set(r.branch_labels or ())
    return labels


def _check_plugin_revisions(cfg) -> None:
    """A plugin's revision ids start with its name and "_", so that a database keeping the
    revisions of a plugin enabled no longer can still be told apart from one that is ahead
    of this version of grants (see env.py)."""
    script = _script(cfg)
    for name, found in cfg.attributes["grants.plugins"].items():
        for rev in script.walk_revisions():
            if Path(rev.path).parent == Path(found.versions) and not rev.revision.startswith(f"{name}_"):
                raise MigrationsError(f"plugin {name!r}: revision {rev.revision!r} in {rev.path}: "
                                      f"a plugin's revision ids start with {name + '_'!r}")


def installed_plugin_names() -> set[str]:
    from grants.plugins import ENTRY_POINT_GROUP

    return {ep.name for ep in entry_points(group=ENTRY_POINT_GROUP)}


def table_owners(metadata, plugins: dict) -> dict[str, str | None]:
    """table name -> "" (grants), a plugin's name, or None (no one we know of)."""
    from grants.db import Base

    modules = {}
    for mapper in Base.registry.mappers:
        for table in mapper.tables:
            modules.setdefault(table.name, mapper.class_.__module__)
    owners = {}
    for name, table in metadata.tables.items():
        if "plugin" in table.info:
            owners[name] = table.info["plugin"] or ""
            continue
        module = modules.get(name, "")
        owner = next((p for p, m in plugins.items() if module == m.package or module.startswith(m.package + ".")),
                     None)
        if owner is None and (module == "grants" or module.startswith("grants.")):
            owner = ""
        owners[name] = owner
    return owners


def owned_by(owner: str, owners: dict, left_alone: set | None = None):
    """Alembic's ``include_object`` for a comparison of ``owner``'s tables ("" for grants)
    only.  A table in the database that no model here describes (a plugin's, when the
    plugin is not enabled) is left alone rather than dropped, and so is everything on it;
    its name goes into ``left_alone``."""

    def include_object(obj, name, type_, reflected, compare_to):
        table = name if type_ == "table" else getattr(getattr(obj, "table", None), "name", None)
        if table is None:
            return True
        if table not in owners:
            if type_ == "table" and left_alone is not None:
                left_alone.add(table)
            return False
        return owners[table] == owner

    return include_object


def _explain(exc) -> str:
    text = str(exc).strip().splitlines()[0].rstrip(".")
    if "Can't locate revision" in text:
        return (f"{text}: the database has a migration that neither grants nor an enabled plugin provides "
                f"(a newer grants, or a plugin that is not installed)")
    if "Target database is not up to date" in text:
        return f"{text}: run grants initdb first"
    return text
