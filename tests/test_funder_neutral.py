"""grants is funder-neutral: no funder's identifiers, forms, rubrics, hints or demo data in
its code, page templates, workflows or catalogs (compiled ones included).  A funder's
things live in its plugin (plugins/bladi, plugins/shared_endeavour).  Places are
geography, not a funder's data: Kebili may be named (the region catalogue, an example of
a region code), but not as BLADI's hints named it ("Theatre clubs in Kebili")."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FOLDERS = ("grants", "templates", "workflows")
FORBIDDEN = re.compile(
    r"bladi|shared[ _-]?endeavour|\bsef\b|mopac|amideast|jamaity|shanti|groundwork|google\.org|city hall"
    r"|department of state|nabda|theatre clubs in k[eé]bili|neighbourhoods of k[eé]bili", re.IGNORECASE)


def _files():
    for folder in FOLDERS:
        for path in sorted((ROOT / folder).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                yield path


def hits(text: str, relative: str) -> list[str]:
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        if FORBIDDEN.search(line):
            found.append(f"{relative}:{number}: {line.strip()[:120]}")
    return found


def test_the_core_names_no_funder():
    found = []
    for path in _files():
        relative = path.relative_to(ROOT).as_posix()
        found += hits(path.read_bytes().decode("utf-8", errors="ignore"), relative)
    assert found == []


@pytest.mark.parametrize("text, expected", [
    ("The BLADI rubric", 1), ("shared_endeavour", 1), ("Shared Endeavour Fund", 1), ("a SEF call", 1),
    ("self-assessment", 0), ("Theatre clubs in Kebili", 1), ("MOPAC", 1), ("Google.org", 1), ("googleXorg", 0),
])
def test_the_check_finds_what_it_looks_for(text, expected):
    assert len(hits(text, "grants/example.py")) == expected


def test_places_are_geography():
    assert hits('"TN-73": ("Kebili", "Kébili", "قبلي"),', "grants/regions.py") == []
    assert hits("Use ISO 3166-2 codes such as TN-73 (Kébili)", "grants/programmes/services.py") == []
    assert hits("young people aged 15 to 25 in two neighbourhoods of Kebili", "grants/applications/formdefs.py")
