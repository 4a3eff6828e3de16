"""Compile the translation catalogs under grants/locale into .mo files.

Usage (from the repository root)::

    python -m grants.locale.compile           # (re)write every .mo beside its .po
    python -m grants.locale.compile --check   # exit 1 if any .mo is missing or stale

``python grants/locale/compile.py`` works too.  Every
``grants/locale/<lang>/LC_MESSAGES/<domain>.po`` is read with babel's
``read_po`` and written with ``write_mo``; fuzzy entries are left out.

A committed .mo is *current* when it carries the same messages as its .po —
the same translations, contexts and plural rule.  Its bytes are not compared:
each Babel release writes a slightly different header, and the check must not
depend on which release a resolver picked.
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po

LOCALE_DIR = Path(__file__).resolve().parent


def po_files(locale_dir: Path = LOCALE_DIR) -> list[Path]:
    """Every ``<lang>/LC_MESSAGES/*.po`` under *locale_dir*, sorted."""
    return sorted(locale_dir.glob("*/LC_MESSAGES/*.po"))


def compile_po(po_path: Path) -> bytes:
    """The bytes of the .mo that *po_path* compiles to (fuzzy entries skipped)."""
    with po_path.open("rb") as fileobj:
        catalog = read_po(
            fileobj,
            locale=po_path.parent.parent.name,
            domain=po_path.stem,
            abort_invalid=True,
        )
    buf = io.BytesIO()
    write_mo(buf, catalog, use_fuzzy=False)
    return buf.getvalue()


def messages(mo_bytes: bytes) -> tuple[str | None, dict]:
    """What a compiled catalog means: its plural rule and every translation, keyed by
    (context, msgid); the header's other lines (generator, dates) are left out."""
    catalog = read_mo(io.BytesIO(mo_bytes))
    entries = {}
    for message in catalog:
        if not message.id:
            continue
        key = (message.context, message.id if isinstance(message.id, str) else tuple(message.id))
        string = message.string if isinstance(message.string, str) else tuple(message.string)
        entries[key] = string
    return catalog.plural_forms, entries


def stale_mo_files(locale_dir: Path = LOCALE_DIR) -> list[tuple[Path, str]]:
    """``(mo_path, reason)`` for every .mo that is missing or out of date."""
    problems = []
    for po_path in po_files(locale_dir):
        mo_path = po_path.with_suffix(".mo")
        if not mo_path.exists():
            problems.append((mo_path, "missing"))
        elif messages(mo_path.read_bytes()) != messages(compile_po(po_path)):
            problems.append((mo_path, "differs from its .po"))
    return problems


def compile_all(locale_dir: Path = LOCALE_DIR) -> list[Path]:
    """Write every .mo whose messages would change; return the paths written."""
    written = []
    for po_path in po_files(locale_dir):
        mo_path = po_path.with_suffix(".mo")
        data = compile_po(po_path)
        if not mo_path.exists() or messages(mo_path.read_bytes()) != messages(data):
            mo_path.write_bytes(data)
            written.append(mo_path)
    return written


def _display(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m grants.locale.compile",
        description="Compile grants/locale/*/LC_MESSAGES/*.po into .mo files.",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 listing every .mo that is missing or stale",
    )
    args = parser.parse_args(argv)

    if not po_files():
        print(f"no .po files under {_display(LOCALE_DIR)}", file=sys.stderr)
        return 1

    if args.check:
        problems = stale_mo_files()
        for mo_path, reason in problems:
            print(f"{_display(mo_path)}: {reason}", file=sys.stderr)
        if problems:
            print("run `python -m grants.locale.compile` and commit the .mo files",
                  file=sys.stderr)
            return 1
        return 0

    for mo_path in compile_all():
        print(f"wrote {_display(mo_path)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
