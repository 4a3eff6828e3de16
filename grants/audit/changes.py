"""Showing the audit of configuration to people: each change as who, when, what, before
and after, in the reader's language — the one way every object's history page renders a
change, whatever recorded it.

A service records a change with ``grants.audit.services.record_change(dbsession, obj,
what, before, after, user=...)``, ``before`` and ``after`` plain JSON.  To be readable,
a value should follow these shapes, which :func:`show_value` understands without help:

* money: ``{"amount": "875000.00", "currency": "GBP"}`` → "£875,000.00" (the reader's way);
* a moment: an ISO 8601 string with its offset → "2027-03-01 09:00 (Africa/Tunis)", in
  the zone the page passes (a round's own);
* something with an id: ``{"id": 3, "name": "General rubric"}`` → its name (keep the name
  beside the id when recording: the history shows what it was called then);
* yes/no: a boolean; a list: its items, separated by semicolons; any other dict:
  "key: value" pairs.

A kind of change can have a title and its own way to show a value; register it where
the thing is defined (at import)::

    from grants.audit.changes import change_kind

    change_kind("rubric_version", _("Rubric version"),
                show=lambda request, value, obj, zone: f"{value['title']} v{value['version']}")

An object's page then lists its changes with the ``configuration_changes`` macro of
``grants.templates:macros.pt``::

    # the view
    return {"changes": readable_changes(request, obj, zone=rnd.timezone), ...}
    <!-- the template -->
    <div metal:use-macro="macros['configuration_changes']"></div>

:func:`changes_page` gives everything the shared page template
``grants.templates:audit/changes.pt`` needs, for an object's "History of changes" view.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Callable

from grants.i18n import _, format_datetime, format_number, language_name, translate
from grants.money import Money, MoneyError, format_money

from .services import changes_of

#: A value nobody set (the thing did not exist, or was empty).
EMPTY = "—"
#: Who made a change recorded without a signed-in person.
NOBODY = _("Nobody signed in (a mailed link, the command line or the demo)")


@dataclass(frozen=True)
class ChangeKind:
    title: Any  # a TranslationString
    #: ``show(request, value, obj, zone) -> str``; None: :func:`show_value`.
    show: Callable | None = None


_KINDS: dict[str, ChangeKind] = {}


def change_kind(what: str, title, show: Callable | None = None) -> None:
    """Name a kind of change (``what``) for people, and optionally say how its values read."""
    _KINDS[what] = ChangeKind(title, show)


def kind_title(what: str):
    kind = _KINDS.get(what)
    return kind.title if kind is not None else what.replace("_", " ").capitalize()


@dataclass
class ReadableChange:
    """One change as a page shows it: every field is text in the reader's language."""

    when: str
    who: str
    what: str
    before: str
    after: str
    change: Any  # the ConfigurationChange


def readable_changes(request, obj, *, zone: str = "UTC", only: Callable[[str], bool] | None = None
                     ) -> list[ReadableChange]:
    """``obj``'s recorded changes, newest first, readable: moments in ``zone``, money as
    the reader writes it, names for ids.  ``only(what)`` keeps some kinds."""
    out = []
    for change in reversed(changes_of(request.dbsession, obj)):
        if only is not None and not only(change.what):
            continue
        kind = _KINDS.get(change.what)
        show = kind.show if kind is not None and kind.show is not None else _generic
        out.append(ReadableChange(
            when=format_datetime(change.at, zone),
            who=change.user.name if change.user is not None else translate(request, NOBODY),
            what=translate(request, kind_title(change.what)),
            before=EMPTY if _empty(change.before) else show(request, change.before, obj, zone),
            after=EMPTY if _empty(change.after) else show(request, change.after, obj, zone),
            change=change))
    return out


def _empty(value) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _generic(request, value, obj, zone) -> str:
    return show_value(request, value, zone)


def show_value(request, value, zone: str = "UTC") -> str:
    """A recorded value as text for people (the shapes are in the module's docstring)."""
    if _empty(value):
        return EMPTY
    if isinstance(value, bool):
        return translate(request, _("Yes") if value else _("No"))
    if isinstance(value, (int, float)):
        return format_number(value, request.locale_name)
    if isinstance(value, str):
        moment = _moment(value)
        return format_datetime(moment, zone) if moment is not None else value
    if isinstance(value, list):
        return "; ".join(show_value(request, item, zone) for item in value)
    if isinstance(value, dict):
        money = as_money(value)
        if money is not None:
            return format_money(money, request.locale_name)
        if "name" in value:
            return show_value(request, value["name"], zone)
        if _texts_by_language(value):
            # A text in several languages (grants.multilingual): one language needs no label.
            if len(value) == 1:
                return next(iter(value.values()))
            return " · ".join(f"{language_name(code)}: {text}" for code, text in value.items())
        return "; ".join(f"{key}: {show_value(request, item, zone)}" for key, item in value.items())
    return str(value)


def _texts_by_language(value: dict) -> bool:
    """``{"en": "…", "ar": "…"}``: every key a language Babel knows, every value a text."""
    from grants.i18n import is_language

    return bool(value) and all(isinstance(k, str) and isinstance(v, str) and is_language(k) for k, v in value.items())


def as_money(value) -> Money | None:
    """``{"amount", "currency"}`` as Money, else None."""
    if not isinstance(value, dict) or set(value) != {"amount", "currency"}:
        return None
    try:
        return Money(Decimal(str(value["amount"])), value["currency"])
    except (InvalidOperation, MoneyError, TypeError, ValueError):
        return None


def _moment(text: str) -> dt.datetime | None:
    """An ISO 8601 moment with its offset, else None (a plain word stays a word)."""
    if len(text) < 19 or text[4:5] != "-" or "T" not in text:
        return None
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def changes_page(request, obj, *, zone: str = "UTC", back_url: str | None = None) -> dict:
    """The values of ``grants.templates:audit/changes.pt`` for ``obj`` (which has a ``title``)."""
    return {"obj": obj, "changes": readable_changes(request, obj, zone=zone), "zone": zone,
            "back_url": back_url or request.resource_url(obj)}
