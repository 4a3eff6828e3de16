"""Refresh grants/locale/grants.pot: messages from Python and page templates (lingua's
pot-create, a developer tool: `pip install lingua`) plus the labels in workflow
definitions, which templates translate at run time.  Then update each .po with
`python -m grants.locale.extract --update` and compile with `python -m grants.locale.compile`.
"""
from __future__ import annotations

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


def extract() -> Catalog:
    with tempfile.TemporaryDirectory() as tmp:
        cfg = Path(tmp) / "lingua.cfg"
        cfg.write_text("[extensions]\n.pt = chameleon\n.py = python\n")
        out = Path(tmp) / "grants.pot"
        subprocess.run(["pot-create", "-c", str(cfg), "-d", "grants", "-o", str(out), "grants", "templates"],
                       cwd=ROOT, check=True)
        with out.open("rb") as fp:
            catalog = read_po(fp)
    for path in sorted((ROOT / "workflows").glob("*.toml")):
        for label in workflow_labels(path):
            catalog.add(label, locations=[(str(path.relative_to(ROOT)), 0)])
    return catalog


def main(argv: list[str]) -> int:
    catalog = extract()
    with POT.open("wb") as fp:
        write_po(fp, catalog, omit_header=False, width=100)
    print(f"{POT.relative_to(ROOT)}: {len(catalog)} messages")
    if "--update" in argv:
        for lang in TRANSLATED_LANGUAGES:
            po_path = ROOT / "grants" / "locale" / lang / "LC_MESSAGES" / "grants.po"
            if po_path.exists():
                with po_path.open("rb") as fp:
                    po = read_po(fp, locale=lang)
            else:
                po = Catalog(locale=lang, domain="grants")
                po_path.parent.mkdir(parents=True, exist_ok=True)
            po.update(catalog, no_fuzzy_matching=True)
            with po_path.open("wb") as fp:
                write_po(fp, po, width=100, ignore_obsolete=True)
            missing = sum(1 for m in po if m.id and not m.string)
            print(f"{po_path.relative_to(ROOT)}: {missing} untranslated")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
