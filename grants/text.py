"""Text people send us: what may be stored, and how long it may be.

One set of rules for every text input — form fields, raw form reads, stored columns:

- bidirectional embeddings, overrides and isolates (and the deprecated format controls
  beside them) are removed: invisible, they can make a title or a name display as
  something else ("invoice\u202efdp.exe");
- control characters cannot be stored (PostgreSQL refuses NUL outright) and are never
  typed: a value holding one is refused, except tab, newline and carriage return in
  multi-line text; in a single line those three become a space, as a browser would;
- every text has a maximum, and the column that stores it is at least that long.

The direction marks (U+200E, U+200F, U+061C) and the joiners are kept: Arabic and mixed
text needs them, and they cannot reorder what follows them.
"""
from __future__ import annotations

import re

from babel.numbers import format_decimal

from grants.i18n import _, count_figure, ngettext

#: A single-line input with no limit of its own (titles and names are 300 or fewer).
LINE_MAX = 300
#: A multi-line input with no limit of its own: reasons, notes, comments, rationales.
NOTE_MAX = 2000
#: Long accounts: narratives, findings, exit plans, evidence.
LONG_MAX = 20_000

BIDI_CONTROLS = frozenset(
    [chr(c) for c in range(0x202A, 0x202F)]  # LRE RLE PDF LRO RLO
    + [chr(c) for c in range(0x2066, 0x206A)]  # LRI RLI FSI PDI
    + [chr(c) for c in range(0x206A, 0x2070)]  # deprecated shaping and swapping controls
)
_STRIP_BIDI = dict.fromkeys(map(ord, BIDI_CONTROLS))

_LINE_BREAKS = "\t\n\r"
# C0 controls, DEL, C1 controls and lone surrogates (which no UTF-8 can carry).
_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_LINE_CONTROLS = re.compile("[\t\n\r]")


def strip_bidi_controls(value: str) -> str:
    return value.translate(_STRIP_BIDI)


def neutralise(value: str, *, multiline: bool = False) -> str:
    """``value`` without bidi controls; in a single line, tab and line breaks as spaces."""
    value = strip_bidi_controls(value)
    if not multiline:
        value = _LINE_CONTROLS.sub(" ", value)
    return value


def has_control_characters(value: str, *, multiline: bool = True) -> bool:
    """Whether ``value`` holds a character no text input may store (see the module's
    notes); tab and line breaks count only when ``multiline`` is false."""
    if _CONTROLS.search(value):
        return True
    return not multiline and any(c in value for c in _LINE_BREAKS)


CONTROL_CHARACTERS = _("Remove the invisible control characters from this text: they cannot be stored.")


def too_long(limit: int, locale_name: str | None = None):
    """"Enter 2,000 characters or fewer.", the number written as ``locale_name`` writes
    it (plain digits, which every language reads alike, when the language is not known)."""
    written = format_decimal(limit, locale=locale_name) if locale_name else count_figure(limit)
    return ngettext("Enter ${count} character or fewer.", "Enter ${count} characters or fewer.", limit,
                    {"count": written})


def control_problems(*, multiline: bool = True, **fields: str) -> list[tuple[str, object]]:
    """(field name, reason) for each of ``fields`` that holds a control character: for a
    service that reads text a form did not check (a raw form read, an import)."""
    return [(name, CONTROL_CHARACTERS) for name, value in fields.items()
            if isinstance(value, str) and has_control_characters(value, multiline=multiline)]
