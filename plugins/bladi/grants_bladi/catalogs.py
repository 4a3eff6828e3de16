"""The plugin's catalogs (domain ``grants``, merged with grants' own at run time): its
messages (forms, rubric, capacity areas).

    python -m grants_bladi.catalogs            # refresh locale/grants.pot
    python -m grants_bladi.catalogs --update   # ... and merge it into fr and ar, then compile

Extraction uses lingua's ``pot-create`` (a developer tool, as for grants itself); compiling
uses grants' own compiler, so a committed .mo is current when its messages match its .po.
"""
from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

PACKAGE = Path(__file__).resolve().parent
LOCALE = PACKAGE / "locale"
POT = LOCALE / "grants.pot"
LANGUAGES = ("fr", "ar")


def extract() -> Catalog:
    with tempfile.TemporaryDirectory() as tmp:
        cfg = Path(tmp) / "lingua.cfg"
        cfg.write_text("[extensions]\n.pt = chameleon\n.py = python\n")
        out = Path(tmp) / "grants.pot"
        subprocess.run([str(Path(sys.executable).parent / "pot-create"), "-c", str(cfg), "-d", "grants", "-o",
                        str(out), PACKAGE.name], cwd=PACKAGE.parent, check=True)
        with out.open("rb") as fp:
            return read_po(fp)


def compile_catalogs() -> list[Path]:
    from grants.locale.compile import compile_po

    written = []
    for po_path in sorted(LOCALE.glob("*/LC_MESSAGES/grants.po")):
        mo_path = po_path.with_suffix(".mo")
        mo_path.write_bytes(compile_po(po_path))
        written.append(mo_path)
    return written


def main(argv: list[str]) -> int:
    catalog = extract()
    with POT.open("wb") as fp:
        write_po(fp, catalog, omit_header=False, width=100)
    print(f"{POT.name}: {len(catalog)} messages")
    if "--update" in argv:
        for lang in LANGUAGES:
            po_path = LOCALE / lang / "LC_MESSAGES" / "grants.po"
            if po_path.exists():
                with po_path.open("rb") as fp:
                    po = read_po(fp, locale=lang)
            else:
                po = Catalog(locale=lang, domain="grants")
                po_path.parent.mkdir(parents=True, exist_ok=True)
            po.update(catalog, no_fuzzy_matching=True)
            with po_path.open("wb") as fp:
                write_po(fp, po, width=100, ignore_obsolete=True)
            print(f"{lang}: {sum(1 for m in po if m.id and not m.string)} untranslated")
        for path in compile_catalogs():
            print(f"compiled {path.relative_to(PACKAGE)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
