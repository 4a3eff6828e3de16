"""The plugin's French and Arabic catalogs translate every one of its messages and are
compiled; and grants itself (its code, templates and workflows) names no funder of ours."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

import grants_shared_endeavour
from grants.locale.compile import stale_mo_files

PACKAGE = Path(grants_shared_endeavour.__file__).resolve().parent
LOCALE = PACKAGE / "locale"
PLACEHOLDER = re.compile(r"\$\{[^}]*\}")
ARABIC = re.compile(r"[\u0600-\u06FF]")


@pytest.mark.parametrize("lang", ["fr", "ar"])
def test_every_message_is_translated_with_its_placeholders(lang):
    with (LOCALE / "grants.pot").open("rb") as fp:
        template = {m.id for m in read_po(fp) if m.id}
    with (LOCALE / lang / "LC_MESSAGES" / "grants.po").open("rb") as fp:
        catalog = read_po(fp, locale=lang)
    translated = {m.id: m.string for m in catalog if m.id and m.string and not m.fuzzy}
    assert template and template <= set(translated), sorted(template - set(translated))
    for msgid, text in translated.items():
        if isinstance(msgid, tuple):  # a plural: every form is filled, and may write the count in words
            assert all(text), msgid
            wanted = set(PLACEHOLDER.findall(msgid[1])) - {"${count}"}
            for form in text:
                assert wanted <= set(PLACEHOLDER.findall(form)) <= wanted | {"${count}"}, (msgid, form)
                assert lang != "ar" or ARABIC.search(form), msgid
            continue
        assert sorted(PLACEHOLDER.findall(msgid)) == sorted(PLACEHOLDER.findall(text)), msgid
        if lang == "ar":
            assert ARABIC.search(text), msgid


def test_the_compiled_catalogs_are_current():
    assert stale_mo_files(LOCALE) == []


def test_the_catalog_template_has_every_message_of_the_plugin():
    """Extraction is lingua's pot-create, as for grants itself (skipped where it is missing)."""
    import shutil

    from grants_shared_endeavour import catalogs

    if shutil.which("pot-create") is None and not (Path(__import__("sys").executable).parent / "pot-create").exists():
        pytest.skip("lingua's pot-create is not installed")
    with (LOCALE / "grants.pot").open("rb") as fp:
        committed = {m.id for m in read_po(fp) if m.id}
    assert {m.id for m in catalogs.extract() if m.id} == committed


#: What would name the fund, its funders or its people.
FUNDER_WORDS = re.compile(r"shared.?endeavou?r|\bsef\b|sef[-_]|mopac|groundwork|google\.org|city hall|"
                          r"mayor'?s office|mayor of london|fundmanager@|lewisham young voices", re.IGNORECASE)


def test_grants_itself_names_none_of_the_fund_s_funders_or_people():
    root = Path(__file__).resolve().parents[3]
    found = []
    for folder in ("grants", "templates", "workflows"):
        for path in sorted((root / folder).rglob("*")):
            if not path.is_file() or path.suffix in (".mo", ".pyc", ".png", ".ico", ".woff", ".woff2"):
                continue
            text = path.read_text(encoding="utf-8", errors="ignore")
            for number, line in enumerate(text.splitlines(), start=1):
                if FUNDER_WORDS.search(line):
                    found.append(f"{path.relative_to(root)}:{number}: {line.strip()[:100]}")
    assert found == []
