"""CSV that grants writes for people to open in a spreadsheet program.

Excel, LibreOffice and Google Sheets take a cell that begins with ``=``, ``+``, ``-`` or
``@`` (or a tab or carriage return before one) as a formula, so a grant title or an
organisation's name typed as ``=HYPERLINK("http://…")`` would run on the machine of
whoever opens the export (CSV or formula injection).  Every CSV the app writes goes through
:func:`writer`, which writes such text cells with a leading apostrophe, as OWASP advises:
spreadsheets show the text itself and never evaluate it.

Numbers are written as numbers.  A cell is neutralised by what it is, not by what it looks
like: a ``Decimal`` or ``int`` from our own data (an amount, a duration, a count) is a
number and is written plainly, so a negative amount stays ``-250.00`` and still adds up;
text that only looks like a number ("-5" typed as a title) is text, and gets the
apostrophe like any other text.  Readers of the 360Giving CSV therefore find text cells
exactly as typed except for that leading apostrophe.
"""
from __future__ import annotations

import csv
import datetime as dt
from decimal import Decimal

#: What makes a spreadsheet read a cell as a formula (OWASP's list).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(value) -> str:
    """One value as a CSV cell that no spreadsheet will evaluate."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value, "f")  # "1500000", never "1.5E+6"
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


class _Writer:
    def __init__(self, out, **options):
        self._writer = csv.writer(out, **options)

    def writerow(self, row):
        return self._writer.writerow([cell(value) for value in row])

    def writerows(self, rows):
        for row in rows:
            self.writerow(row)


def writer(out, *, lineterminator: str = "\r\n", **options) -> _Writer:
    """``csv.writer`` over ``out`` whose rows are written cell by cell through :func:`cell`."""
    return _Writer(out, lineterminator=lineterminator, **options)
