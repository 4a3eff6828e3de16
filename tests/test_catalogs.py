"""The Arabic catalogs grants ships for deform and colander.

deform and colander carry no Arabic translations, so grants provides
``grants/locale/ar/LC_MESSAGES/{deform,colander}.po`` and the compiled .mo
files beside them.  These tests keep the catalogs complete against the
installed packages' templates and keep the committed .mo files in step with
their .po sources.
"""

from __future__ import annotations

import gettext
import importlib.util
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

REPO_ROOT = Path(__file__).resolve().parent.parent
LOCALE_DIR = REPO_ROOT / "grants" / "locale"
AR_DIR = LOCALE_DIR / "ar" / "LC_MESSAGES"
DOMAINS = ("deform", "colander")

PLACEHOLDER = re.compile(r"\$\{[^}]*\}")
ARABIC = re.compile(r"[\u0600-\u06FF]")
# msgids whose translation is deliberately not Arabic prose.
NOT_PROSE = {("deform", "language-code"): "ar"}
AR_PLURAL_FORMS = (
    "nplurals=6; plural=n==0 ? 0 : n==1 ? 1 : n==2 ? 2 : "
    "n%100>=3 && n%100<=10 ? 3 : n%100>=11 ? 4 : 5;"
)


def _load_compiler():
    # Loaded by path: the tests must not depend on grants being installed.
    spec = importlib.util.spec_from_file_location(
        "grants_locale_compile", LOCALE_DIR / "compile.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


catalog_compiler = _load_compiler()


def _pot_path(domain: str) -> Path:
    # find_spec locates the installed package without importing it.
    spec = importlib.util.find_spec(domain)
    assert spec is not None and spec.submodule_search_locations, domain
    pot = Path(next(iter(spec.submodule_search_locations))) / "locale" / f"{domain}.pot"
    assert pot.is_file(), f"{domain} no longer ships {pot}"
    return pot


def _read(path: Path):
    with path.open("rb") as fileobj:
        return read_po(fileobj, abort_invalid=True)


def _entries(catalog):
    """msgid -> Message for every real (non-header) entry."""
    return {message.id: message for message in catalog if message.id}


@pytest.mark.parametrize("domain", DOMAINS)
def test_po_translates_every_msgid_of_installed_pot(domain):
    template = _entries(_read(_pot_path(domain)))
    translated = _entries(_read(AR_DIR / f"{domain}.po"))
    assert template, f"{domain}.pot has no messages"

    missing = sorted(msgid for msgid in template if msgid not in translated)
    empty = sorted(
        msgid for msgid in template
        if msgid in translated and not (translated[msgid].string or "").strip()
    )
    fuzzy = sorted(
        msgid for msgid in template
        if msgid in translated and translated[msgid].fuzzy
    )
    assert not missing, f"ar/{domain}.po lacks msgids: {missing}"
    assert not empty, f"ar/{domain}.po leaves msgstr empty for: {empty}"
    assert not fuzzy, f"ar/{domain}.po marks as fuzzy (not compiled): {fuzzy}"


@pytest.mark.parametrize("domain", DOMAINS)
def test_placeholders_survive_translation(domain):
    bad = []
    for msgid, message in _entries(_read(AR_DIR / f"{domain}.po")).items():
        wanted = set(PLACEHOLDER.findall(msgid))
        got = set(PLACEHOLDER.findall(message.string or ""))
        if wanted != got:
            bad.append((msgid, sorted(wanted - got), sorted(got - wanted)))
    assert not bad, f"ar/{domain}.po placeholder mismatches (msgid, lost, added): {bad}"


@pytest.mark.parametrize("domain", DOMAINS)
def test_translations_are_arabic(domain):
    untranslated = []
    for msgid, message in _entries(_read(AR_DIR / f"{domain}.po")).items():
        if (domain, msgid) in NOT_PROSE:
            assert message.string == NOT_PROSE[domain, msgid], msgid
        elif not ARABIC.search(message.string or ""):
            untranslated.append(msgid)
    assert not untranslated, f"ar/{domain}.po msgstr has no Arabic: {untranslated}"


@pytest.mark.parametrize("domain", DOMAINS)
def test_po_headers(domain):
    text = (AR_DIR / f"{domain}.po").read_text(encoding="utf-8")
    assert '"Language: ar\\n"' in text
    assert '"Content-Type: text/plain; charset=UTF-8\\n"' in text
    assert f'"Plural-Forms: {AR_PLURAL_FORMS}\\n"' in text
    catalog = _read(AR_DIR / f"{domain}.po")
    assert str(catalog.locale) == "ar"
    assert catalog.num_plurals == 6
    assert not catalog.fuzzy, "a fuzzy header would make tools skip the catalog"


def test_compile_check_passes():
    result = subprocess.run(
        [sys.executable, "-m", "grants.locale.compile", "--check"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, (
        "committed .mo files are missing or stale; run "
        f"`python -m grants.locale.compile`:\n{result.stderr}"
    )


def test_compile_check_detects_missing_and_stale_mo(tmp_path):
    messages = tmp_path / "ar" / "LC_MESSAGES"
    messages.mkdir(parents=True)
    shutil.copy(AR_DIR / "colander.po", messages / "colander.po")
    mo_path = messages / "colander.mo"

    assert catalog_compiler.stale_mo_files(tmp_path) == [(mo_path, "missing")]

    mo_path.write_bytes((AR_DIR / "deform.mo").read_bytes())
    assert catalog_compiler.stale_mo_files(tmp_path) == [(mo_path, "differs from its .po")]

    assert catalog_compiler.compile_all(tmp_path) == [mo_path]
    assert catalog_compiler.stale_mo_files(tmp_path) == []
    assert catalog_compiler.messages(mo_path.read_bytes()) == catalog_compiler.messages(
        (AR_DIR / "colander.mo").read_bytes())
    # Nothing to do a second time.
    assert catalog_compiler.compile_all(tmp_path) == []


def test_compile_check_ignores_header_bytes_but_not_a_changed_translation(tmp_path):
    """Another Babel release writes other header bytes; that is not staleness.  A
    translation that changed is."""
    import io

    from babel.messages.mofile import write_mo

    messages = tmp_path / "ar" / "LC_MESSAGES"
    messages.mkdir(parents=True)
    po_path = messages / "colander.po"
    shutil.copy(AR_DIR / "colander.po", po_path)
    mo_path = po_path.with_suffix(".mo")

    catalog = _read(po_path)
    catalog.project, catalog.version = "written by another Babel", "9.9"
    buf = io.BytesIO()
    write_mo(buf, catalog)
    assert buf.getvalue() != catalog_compiler.compile_po(po_path)
    mo_path.write_bytes(buf.getvalue())
    assert catalog_compiler.stale_mo_files(tmp_path) == []

    text = po_path.read_text(encoding="utf-8")
    assert 'msgstr "هذا الحقل مطلوب، يُرجى تعبئته"' in text
    po_path.write_text(text.replace("هذا الحقل مطلوب، يُرجى تعبئته", "هذا الحقل إلزامي"), encoding="utf-8")
    assert catalog_compiler.stale_mo_files(tmp_path) == [(mo_path, "differs from its .po")]


def _translations(domain: str) -> gettext.GNUTranslations:
    with (AR_DIR / f"{domain}.mo").open("rb") as fileobj:
        return gettext.GNUTranslations(fileobj)


def test_compiled_colander_catalog_translates_required():
    translated = _translations("colander").gettext("Required")
    assert translated != "Required"
    assert ARABIC.search(translated), translated


def test_compiled_deform_catalog_translates_form_error():
    translated = _translations("deform").gettext("There was a problem with your submission")
    assert ARABIC.search(translated), translated


@pytest.mark.parametrize("domain", DOMAINS)
def test_compiled_catalog_uses_arabic_plural_rules(domain):
    translations = _translations(domain)
    assert translations.info()["language"] == "ar"
    forms = {n: translations.plural(n) for n in (0, 1, 2, 3, 10, 11, 99, 100, 102, 103, 111)}
    assert forms == {0: 0, 1: 1, 2: 2, 3: 3, 10: 3, 11: 4, 99: 4,
                     100: 5, 102: 5, 103: 3, 111: 4}


# -- our own catalog (domain "grants") -------------------------------------------------------


@pytest.mark.parametrize("lang", ["fr", "ar"])
def test_grants_catalog_translates_every_message_keeping_placeholders(lang):
    pot = set(_entries(_read(LOCALE_DIR / "grants.pot")))
    po = {msgid: m.string for msgid, m in _entries(_read(LOCALE_DIR / lang / "LC_MESSAGES" / "grants.po")).items()}
    assert pot, "grants.pot is empty"
    missing = sorted((msgid for msgid in pot if not po.get(msgid) or not all(po[msgid])), key=str)
    assert missing == [], f"{lang}: {len(missing)} untranslated, e.g. {missing[:3]}"
    for msgid in pot:
        if isinstance(msgid, tuple):
            # A message with a count: each plural form keeps every name but the count, which
            # a form may spell out in words ("تقريران", two reports) instead of a figure.
            wanted = set(PLACEHOLDER.findall(" ".join(msgid)))
            for form in po[msgid]:
                got = set(PLACEHOLDER.findall(form))
                assert got <= wanted and wanted - {"${count}"} <= got, (lang, msgid, form)
            continue
        assert set(PLACEHOLDER.findall(msgid)) == set(PLACEHOLDER.findall(po[msgid])), (lang, msgid)


@pytest.mark.parametrize("lang, forms", [("fr", 2), ("ar", 6)])
def test_grants_catalog_gives_every_plural_form(lang, forms):
    """A message with a count has as many forms as the language's plural rule names: two in
    French, six in Arabic (none, one, two, a few, many, other)."""
    catalog = _read(LOCALE_DIR / lang / "LC_MESSAGES" / "grants.po")
    assert catalog.num_plurals == forms
    plurals = [m for m in catalog if m.id and m.pluralizable]
    assert plurals, "grants has messages with a count"
    for message in plurals:
        assert len(message.string) == forms and all(s.strip() for s in message.string), message.id


def test_grants_pot_is_current_with_the_sources():
    """Every message in the code, templates and shipped workflows is in grants.pot (run
    `python -m grants.locale.extract --update` after adding one)."""
    if shutil.which("pot-create") is None and not (Path(sys.executable).parent / "pot-create").exists():
        pytest.skip("lingua (pot-create) is not installed")
    import os

    from grants.locale.extract import extract

    os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    fresh = {m.id for m in extract() if m.id}
    committed = set(_entries(_read(LOCALE_DIR / "grants.pot")))
    assert sorted(fresh - committed) == []
