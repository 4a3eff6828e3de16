"""What the versioned data a programme edits in the browser shares: evaluation criteria
(grants.evaluation.criteria_sets) and survey instruments (grants.mel.instrument_editor),
built on the pattern of rubrics (grants.review.rubrics).

Each is a row with a ``status`` (a draft is edited; publishing freezes it for good) and
a list of entries kept as JSON; a copy is the next version, a draft again; every change
is recorded with ``record_change``.  This module holds the small pieces they would
otherwise each write out: moving an entry, and the history shown on the row's page."""
from __future__ import annotations

import json
from typing import Any, Mapping

from grants.audit.services import changes_of
from grants.i18n import format_datetime


def moved(entries: list, index: int, step: int) -> list | None:
    """``entries`` with the one at ``index`` moved one place up (``step`` -1) or down
    (+1), as a new list (so a JSON column sees the change); None when it is already
    first or last (nothing to record)."""
    target = index + step
    if step not in (-1, 1) or not 0 <= index < len(entries) or not 0 <= target < len(entries):
        return None
    out = list(entries)
    out[index], out[target] = out[target], out[index]
    return out


def history(request, obj, labels: Mapping[str, Any]) -> list[dict]:
    """The audit of ``obj``, newest first, for its page: when, who, what (``labels`` maps
    each recorded ``what`` to a message) and the plain JSON before and after."""
    return [{"when": format_datetime(c.at), "who": c.user.name if c.user else "—",
             "what": labels.get(c.what, c.what), "before": c.before, "after": c.after}
            for c in reversed(changes_of(request.dbsession, obj))]


def json_text(value) -> str:
    """A recorded before or after as readable text ("—" for nothing)."""
    return "—" if value is None else json.dumps(value, ensure_ascii=False, indent=1)
