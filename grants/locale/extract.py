"""Refresh a catalog template and its translations: grants' own (grants/locale/grants.pot)
or a plugin's (its ``locale/grants.pot``).  Messages come from Python and page templates
(lingua's pot-create, a developer tool: ``pip install lingua``) plus the labels in
workflow definitions, which pages translate at run time.

    python -m grants.locale.extract [--update]                   # grants' own
    python -m grants.locale.extract --package my_plugin [--update]

``--update`` merges the template into each language's .po; then compile with
``python -m grants.locale.compile`` (grants) — a plugin's .mo files are compiled here.
"""
from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

from grants.i18n import SHIPPED_LANGUAGES, SOURCE_LANGUAGE

ROOT = Path(__file__).resolve().parents[2]
POT = ROOT / "grants" / "locale" / "grants.pot"
# The catalogs grants itself ships and keeps up to date.  A deployment may offer more
# languages (grants.languages); their catalogs come from plugins.
TRANSLATED_LANGUAGES = tuple(lang for lang in SHIPPED_LANGUAGES if lang != SOURCE_LANGUAGE)


def workflow_labels(path: Path) -> list[str]:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    labels = [data.get("title", "")]
    for state in data.get("states", {}).values():
        labels += [state.get("title", ""), state.get("public", "")]
    labels += [t.get("title", "") for t in data.get("transitions", [])]
    return [label for label in labels if label]


def _pot_create() -> str:
    # Beside this Python first: the environment's bin folder need not be on PATH.
    beside = Path(sys.executable).parent / "pot-create"
    return str(beside) if beside.exists() else "pot-create"


# A sentence with a count in a page template: ${ngettext("… ${count} thing", "… ${count} things", n)}.
# lingua reads a template's expressions only when they call _(), so these are read here.
_TEMPLATE_PLURAL = re.compile(r'\bngettext\(\s*"((?:[^"\\]|\\.)*)",\s*"((?:[^"\\]|\\.)*)"')


def template_plurals(folder: Path, sources: list[str]) -> list[tuple[str, str, str, int]]:
    """(singular, plural, file, line) of every ngettext call in the templates under ``sources``."""
    found = []
    for source in sources:
        for path in sorted((folder / source).rglob("*.pt")):
            text = path.read_text(encoding="utf-8")
            for match in _TEMPLATE_PLURAL.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                found.append((match.group(1), match.group(2), str(path.relative_to(folder)), line))
    return found


def extract_from(folder: Path, sources: list[str], workflow_dirs=()) -> Catalog:
    """The messages of ``sources`` (folders under ``folder``) in the ``grants`` domain, and
    the labels of the workflow definitions in ``workflow_dirs``."""
    with tempfile.TemporaryDirectory() as tmp:
        cfg = Path(tmp) / "lingua.cfg"
        cfg.write_text("[extensions]\n.pt = chameleon\n.py = python\n")
        out = Path(tmp) / "grants.pot"
        subprocess.run([_pot_create(), "-c", str(cfg), "-d", "grants", "-o", str(out), *sources],
                       cwd=folder, check=True, env={**os.environ, "PYTHONIOENCODING": "utf-8"})
        with out.open("rb") as fp:
            catalog = read_po(fp)
    for singular, plural, where, line in template_plurals(folder, sources):
        catalog.add((singular, plural), locations=[(where, line)])
    for workflows in workflow_dirs:
        for path in sorted(Path(workflows).glob("*.toml")):
            for label in workflow_labels(path):
                catalog.add(label, locations=[(str(path.relative_to(folder)), 0)])
    return catalog


def extract() -> Catalog:
    """grants' own messages."""
    return extract_from(ROOT, ["grants", "templates"], [ROOT / "workflows"])


def write_template(catalog: Catalog, pot: Path) -> None:
    with pot.open("wb") as fp:
        write_po(fp, catalog, omit_header=False, width=100)


def update_translations(catalog: Catalog, locale_dir: Path, languages) -> dict[Path, int]:
    """Merge ``catalog`` into each language's ``grants.po`` under ``locale_dir`` (made if
    missing); how many messages each leaves untranslated."""
    untranslated = {}
    for lang in languages:
        po_path = locale_dir / lang / "LC_MESSAGES" / "grants.po"
        if po_path.exists():
            with po_path.open("rb") as fp:
                po = read_po(fp, locale=lang)
        else:
            po = Catalog(locale=lang, domain="grants")
            po_path.parent.mkdir(parents=True, exist_ok=True)
        po.update(catalog, no_fuzzy_matching=True)
        with po_path.open("wb") as fp:
            write_po(fp, po, width=100, ignore_obsolete=True)
        untranslated[po_path] = sum(1 for m in po if m.id and not (all(m.string) if m.pluralizable else m.string))
    return untranslated


def package_folder(package: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit(f"no package {package!r} is installed")
    return Path(next(iter(spec.submodule_search_locations)))


def extract_package(package: str) -> Catalog:
    """A plugin's messages: its Python and templates, and its workflows' labels."""
    folder = package_folder(package)
    return extract_from(folder.parent, [folder.name], [folder / "workflows"])


def main(argv: list[str]) -> int:
    package = argv[argv.index("--package") + 1] if "--package" in argv else None
    if package is None:
        catalog, pot, locale_dir, languages = extract(), POT, POT.parent, TRANSLATED_LANGUAGES
    else:
        locale_dir = package_folder(package) / "locale"
        catalog, pot = extract_package(package), locale_dir / "grants.pot"
        languages = sorted(p.name for p in locale_dir.iterdir() if (p / "LC_MESSAGES").is_dir()) \
            if locale_dir.is_dir() else list(TRANSLATED_LANGUAGES)
        locale_dir.mkdir(exist_ok=True)
    write_template(catalog, pot)
    print(f"{pot}: {len(catalog)} messages")
    if "--update" in argv:
        for po_path, missing in update_translations(catalog, locale_dir, languages).items():
            print(f"{po_path}: {missing} untranslated")
        if package is not None:
            from grants.locale.compile import compile_all

            for path in compile_all(locale_dir):
                print(f"compiled {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
