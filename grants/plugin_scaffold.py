"""`grants plugin new NAME`: a plugin distribution to start from, made from the templates in
grants/plugin_template (package data).  In a template's path ``__name__`` becomes the
plugin's name and the ``.tmpl`` suffix goes; in its text ``{{name}}``, ``{{dist}}``,
``{{core_heads}}`` and ``{{create_date}}`` are filled in.  The plugin it makes installs,
registers its entry point and passes its own tests (tests/test_plugin_new.py checks)."""
from __future__ import annotations

import datetime as dt
import keyword
import re
import sys
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parent / "plugin_template"
# Its name prefixes a table ("NAME_briefings"), a role and a permission: short, lower case.
NAME = re.compile(r"[a-z][a-z0-9_]{1,29}\Z")


class ScaffoldError(Exception):
    """The plugin cannot be made.  ``str()`` is one line saying why."""


def check_name(name: str) -> str:
    if not NAME.match(name or "") or name.endswith("_") or "__" in name:
        raise ScaffoldError(f"{name!r} cannot name a plugin: use 2 to 30 lower-case letters, digits and single "
                            f"underscores, starting with a letter (e.g. panel_briefing)")
    if keyword.iskeyword(name) or name in sys.stdlib_module_names or name in ("grants", "tests", "test"):
        raise ScaffoldError(f"{name!r} is already the name of a Python module: choose another")
    return name


def core_heads() -> tuple[str, ...]:
    """grants' own migration heads today: the plugin's first revision comes after them."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from grants.migrations import CORE_VERSIONS, HERE

    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    cfg.set_main_option("path_separator", "os")
    cfg.set_main_option("version_path_separator", "os")
    cfg.set_main_option("version_locations", str(CORE_VERSIONS))
    return tuple(sorted(ScriptDirectory.from_config(cfg).get_heads()))


def new_plugin(name: str, directory: Path | str | None = None) -> Path:
    """Write the plugin ``name`` into ``directory`` (default ./NAME), which must not exist
    or be empty.  Returns the folder."""
    from grants.locale.compile import compile_po

    check_name(name)
    target = Path(directory or name)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise ScaffoldError(f"{target} already exists and is not an empty folder")
    heads = core_heads()
    values = {
        "name": name,
        "dist": name.replace("_", "-"),
        "core_heads": repr(heads[0] if len(heads) == 1 else heads),
        "create_date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S"),
    }
    for source in sorted(TEMPLATE.rglob("*.tmpl")):
        relative = source.relative_to(TEMPLATE).as_posix().replace("__name__", name).removesuffix(".tmpl")
        text = source.read_text(encoding="utf-8")
        for key, value in values.items():
            text = text.replace("{{" + key + "}}", value)
        out = target / relative
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
        if out.suffix == ".po":
            out.with_suffix(".mo").write_bytes(compile_po(out))
    return target
