"""How much of each catalog is translated, for each language a deployment offers
(``grants i18n coverage development.ini``)::

    en  grants 1,939/1,939 (100%, source)  deform 100%  colander 100%
    fr  grants 1,939/1,939 (100%)  deform 100%  colander 100%
    sw  grants 12/1,939 (<1%)  deform 0%  colander 0%  swahili: grants 12/12 (100%)

English is the language the messages are written in: it is complete by definition.

The ``grants``, ``deform`` and ``colander`` figures count the messages of the installed
templates (grants/locale/grants.pot and the packages' own .pot) that a reader of the
language sees translated, whichever catalog translates them: ours, the packages', or a
plugin's.  Then each enabled plugin's messages, domain by domain, counted the same way:
its ``<domain>.pot`` beside its language folders, or else every message any of its
catalogs translates.  Catalogs are read as Pyramid reads them: the compiled .mo
files, the language's own folder and, for a regional code ("pt_BR"), the language's
("pt") too.
"""
from __future__ import annotations

import importlib.util
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

POT = Path(__file__).resolve().parent / "grants.pot"
#: The catalogs every deployment uses: ours, and the form libraries'.
CORE_DOMAINS = ("grants", "deform", "colander")


@dataclass(frozen=True)
class Coverage:
    label: str  # "grants", "deform", or "<plugin>: <domain>"
    translated: int
    total: int
    source: bool = False  # the catalog's messages are written in this language

    @property
    def share(self) -> str:
        if self.source or self.translated == self.total:
            return "100%"
        percent = 100 * self.translated // self.total
        return "<1%" if percent == 0 and self.translated else f"{percent}%"

    def __str__(self) -> str:
        if self.label == "grants" or ":" in self.label:
            note = ", source" if self.source else ""
            return f"{self.label} {self.translated:,}/{self.total:,} ({self.share}{note})"
        return f"{self.label} {self.share}"


def _keys(messages: Iterable) -> set[tuple[str | None, str]]:
    """(context, singular msgid) of every message; plural forms are one message."""
    return {(m.context, m.id[0] if isinstance(m.id, (list, tuple)) else m.id) for m in messages if m.id}


def _translated(messages: Iterable) -> set[tuple[str | None, str]]:
    def done(m) -> bool:
        strings = m.string if isinstance(m.string, (list, tuple)) else [m.string]
        return all(s for s in strings) if strings else False

    return _keys(m for m in messages if done(m))


def _template(path: Path) -> set[tuple[str | None, str]]:
    with path.open("rb") as fp:
        return _keys(read_po(fp))


def _package_pot(domain: str) -> Path | None:
    spec = importlib.util.find_spec(domain)
    if spec is None or not spec.submodule_search_locations:
        return None
    pot = Path(next(iter(spec.submodule_search_locations))) / "locale" / f"{domain}.pot"
    return pot if pot.is_file() else None


def _locales_to_try(language: str) -> list[str]:
    # As pyramid.i18n.make_localizer: "pt_BR" reads "pt" too.
    return ([language.split("_")[0]] if "_" in language else []) + [language]


def _mo_translated(directories: Iterable[str], language: str, domain: str) -> set:
    found: set = set()
    for directory in directories:
        for locale in _locales_to_try(language):
            mo = Path(directory) / locale / "LC_MESSAGES" / f"{domain}.mo"
            if mo.is_file():
                with mo.open("rb") as fp:
                    found |= _translated(read_mo(fp))
    return found


def _plugin_domains(directory: str) -> set[str]:
    root = Path(directory)
    return {p.stem for p in root.glob("*/LC_MESSAGES/*.mo")} | {p.stem for p in root.glob("*.pot")}


def _plugin_template(directory: str, domain: str) -> set:
    pot = Path(directory) / f"{domain}.pot"
    if pot.is_file():
        return _template(pot)
    found: set = set()
    for mo in Path(directory).glob(f"*/LC_MESSAGES/{domain}.mo"):
        with mo.open("rb") as fp:
            found |= _translated(read_mo(fp))
    return found


def coverage(registry) -> list[tuple[str, list[Coverage]]]:
    """For each language the deployment offers, in the order of its setting: the
    coverage of grants', deform's and colander's catalogs, then of each plugin's."""
    from pyramid.interfaces import ITranslationDirectories
    from pyramid.path import AssetResolver

    from grants.i18n import SOURCE_LANGUAGE, deployment_languages

    directories = list(registry.queryUtility(ITranslationDirectories, default=[]))
    templates = {"grants": _template(POT)}
    for domain in CORE_DOMAINS[1:]:
        pot = _package_pot(domain)
        if pot is not None:
            templates[domain] = _template(pot)
    plugins = [(name, AssetResolver().resolve(spec).abspath())
               for name, spec in registry.get("grants.plugin_translations", [])]
    report = []
    for language in deployment_languages(registry):
        source = language.split("_")[0] == SOURCE_LANGUAGE
        line = []
        for domain, template in templates.items():
            done = len(template) if source else len(template & _mo_translated(directories, language, domain))
            line.append(Coverage(domain, done, len(template), source))
        for name, directory in plugins:
            for domain in sorted(_plugin_domains(directory), key=lambda d: (d != "grants", d)):
                template = _plugin_template(directory, domain)
                if template:
                    done = len(template) if source else len(template & _mo_translated(directories, language, domain))
                    line.append(Coverage(f"{name}: {domain}", done, len(template), source))
        report.append((language, line))
    return report


def format_report(report: list[tuple[str, list[Coverage]]]) -> str:
    width = max((len(language) for language, _line in report), default=0)
    return "".join(f"{language:<{width}}  {'  '.join(map(str, line))}\n" for language, line in report)
