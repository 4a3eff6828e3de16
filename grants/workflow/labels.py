"""Titles typed in the browser, one per language, for workflows stored in the database.

A shipped workflow's titles are msgids of the ``grants`` catalog.  A workflow edited in the
browser carries its titles with it instead: each title is a ``TranslationString`` of a
domain of its own (one per stored workflow version), and its translations are kept here,
so that every page that translates a state or step title (``grants.i18n.localize``) finds
them without a catalog.  A stored version never changes, so neither do its labels: any
process may register them once, when it loads the version.
"""
from __future__ import annotations

from typing import Any, Mapping

from translationstring import TranslationString

PREFIX = "grants.stored-workflow:"

#: domain -> msgid (the title in the source language) -> language -> title
_LABELS: dict[str, dict[str, dict[str, str]]] = {}


def domain_of(workflow_id: str, version: int) -> str:
    return f"{PREFIX}{workflow_id}:{version}"


def stored_label(text: str, domain: str, translations: Mapping[str, str]) -> TranslationString:
    """``text`` as a label whose translations are ``translations`` (language -> text)."""
    known = {lang: value for lang, value in translations.items() if value}
    _LABELS.setdefault(domain, {})[text] = known
    return TranslationString(text, domain=domain)


def lookup(message: Any, locale_name: str) -> str | None:
    """The stored translation of ``message`` into ``locale_name``; its source text when the
    title was not given in that language; None for a message that is not a stored label."""
    domain = getattr(message, "domain", None)
    if not domain or not domain.startswith(PREFIX):
        return None
    translations = _LABELS.get(domain, {}).get(str(message), {})
    language = locale_name.split("_")[0]
    return translations.get(locale_name) or translations.get(language) or str(message)
