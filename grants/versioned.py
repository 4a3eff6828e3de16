"""What the versioned data a programme edits in the browser shares: rubrics
(grants.review.rubrics), evaluation criteria (grants.evaluation.criteria_sets) and survey
instruments (grants.mel.instrument_editor).

Each is a row with a ``status`` (a draft is edited; publishing freezes it for good) and
a list of entries kept as JSON; a copy is the next version, a draft again; every change
is recorded with ``record_change``.  Each module describes its kind once with
:class:`Kind` (its model, its refusal, its snapshot for the audit, how its versions are
grouped) and calls the steps here, so that "a published row never changes", the
numbering of versions and what the audit keeps are written once::

    KIND = versioned.Kind(Rubric, RubricRefused, snapshot, frozen=_("…copy it…"),
                          family=lambda rubric: Rubric.family_id == rubric.family_id)
    KIND.refuse_unless_draft(rubric)
    KIND.change(db, rubric, "criterion", lambda: setattr(rubric, "criteria", new), user=user)
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from grants import multilingual
from grants.audit.services import changes_of, record_change
from grants.i18n import _, deployment_languages, format_datetime, language_name, zone_of
from grants.resources import _Container

DRAFT, PUBLISHED = "draft", "published"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


@dataclass(frozen=True)
class Kind:
    """One kind of versioned row (a small description, not a base class: the models stay
    as they are).  ``refused`` is its ProblemsRefused; ``snapshot`` what
    the audit keeps of a row (plain JSON); ``frozen`` the sentence refusing to change a
    published row; ``family`` the condition selecting the rows that are versions of the
    same thing as a given row; ``errors_field`` where its page shows why a button was
    refused."""

    model: type
    refused: type
    snapshot: Callable[[Any], dict]
    frozen: Any
    family: Callable[[Any], Any]
    errors_field: str = "criteria"  # where a page shows the reasons a button was refused

    def refuse_unless_draft(self, obj, *, frozen: bool = False) -> None:
        """Refuse (nothing changes) unless ``obj`` is a draft; ``frozen`` refuses a draft
        too (one with results already read with it)."""
        if obj.status != DRAFT or frozen:
            raise self.refused([(None, self.frozen)])

    def start(self, dbsession: Session, obj, *, user=None):
        """Store a new row (version 1 of a family of its own) and record its creation."""
        dbsession.add(obj)
        dbsession.flush()
        if hasattr(obj, "family_id") and obj.family_id is None:
            obj.family_id = obj.id
        record_change(dbsession, obj, "created", None, self.snapshot(obj), user=user)
        dbsession.flush()
        return obj

    def change(self, dbsession: Session, obj, what: str, apply: Callable[[], Any], *, user=None):
        """Run ``apply`` (which changes ``obj``) and record it as ``what``, with the row
        before and after."""
        before = self.snapshot(obj)
        result = apply()
        record_change(dbsession, obj, what, before, self.snapshot(obj), user=user)
        dbsession.flush()
        return result

    def publish(self, dbsession: Session, obj, problems=(), *, user=None, now: dt.datetime | None = None):
        """Freeze a draft for good, unless there are ``problems`` (refused with them)."""
        self.refuse_unless_draft(obj)
        self.refused.refuse_if(list(problems))

        def freeze():
            obj.status = PUBLISHED
            obj.published_at = now or _now()

        self.change(dbsession, obj, "published", freeze, user=user)
        return obj

    def next_version(self, dbsession: Session, obj) -> int:
        """The number the next copy of ``obj`` takes: one more than its family's latest."""
        latest = dbsession.scalar(select(func.max(self.model.version)).where(self.family(obj)))
        return (latest or obj.version) + 1

    def copy(self, dbsession: Session, obj, copy, *, user=None):
        """Store ``copy`` (made from ``obj`` by the caller, a draft numbered with
        :meth:`next_version`) and record where it came from."""
        dbsession.add(copy)
        dbsession.flush()
        record_change(dbsession, copy, "created", None, {**self.snapshot(copy), "copied_from": obj.id}, user=user)
        dbsession.flush()
        return copy

    def versions(self, dbsession: Session, obj) -> list:
        """Every version of ``obj``'s family, oldest first."""
        return list(dbsession.scalars(select(self.model).where(self.family(obj)).order_by(self.model.version)))


# -- the entries of a draft ----------------------------------------------------------------------


def next_entry_id(entries: list, prefix: str = "criterion") -> str:
    """An id no entry has yet, like ``criterion_3``: ids stay put when entries move or go,
    so scores saved against them keep their meaning."""
    taken = {e["id"] for e in entries}
    number = len(taken) + 1
    while f"{prefix}_{number}" in taken:
        number += 1
    return f"{prefix}_{number}"


def untitled(entries: list, languages) -> list:
    """Problems refusing to publish: each criterion with no title in one of ``languages``."""
    problems = []
    for position, entry in enumerate(entries, start=1):
        missing = [language_name(code) for code in languages if not (entry.get("titles") or {}).get(code)]
        if missing:
            problems.append((None, _("Criterion ${position} has no title in ${languages}.",
                                     mapping={"position": position, "languages": ", ".join(missing)})))
    return problems


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


# -- traversal and pages ------------------------------------------------------------------------------


class ProgrammeRows(_Container):
    """The rows of one kind a programme owns, under it (``/programmes/{id}/rubrics/{id}``):
    a subclass names the segment (``__name__``) and the ``model``; another programme's row
    is not found here."""

    def _owns(self, obj):
        return obj.programme_id == self.__parent__.id

    def __getitem__(self, name):
        return self._get(name)


def content_languages(request, obj) -> list[str]:
    """The languages a versioned row is written in: its programme's content languages, the
    default first (grants.multilingual); the deployment's for a row of no programme."""
    from grants.programmes.models import Programme

    if obj.programme_id is None:
        return list(deployment_languages(request))
    return multilingual.languages_of(request.dbsession.get(Programme, obj.programme_id))



def history(request, obj, labels: Mapping[str, Any]) -> list[dict]:
    """The audit of ``obj``, newest first, for its page: when, who, what (``labels`` maps
    each recorded ``what`` to a message) and the plain JSON before and after."""
    from grants.programmes.models import Programme

    programme = request.dbsession.get(Programme, obj.programme_id) if obj.programme_id is not None else None
    zone = zone_of(programme)  # a programme's row: its rounds' zone, named; the site's own: UTC
    return [{"when": format_datetime(c.at, zone), "who": c.user.name if c.user else "—",
             "what": labels.get(c.what, c.what), "before": c.before, "after": c.after}
            for c in reversed(changes_of(request.dbsession, obj))]


def json_text(value) -> str:
    """A recorded before or after as readable text ("—" for nothing)."""
    return "—" if value is None else json.dumps(value, ensure_ascii=False, indent=1)


def action(request, kind: Kind, obj, do, done, page):
    """A button on a row's page (remove, move, publish, copy): ``do()`` changes it; when
    refused, ``page(errors)`` draws the page again with the reasons (409 when the row was
    published meanwhile, else 400); else the flash ``done`` and the row's page (the
    copy's, when ``do`` returns a new row)."""
    from pyramid.httpexceptions import HTTPFound

    from grants.concurrency import refuse_overtaken
    from grants.forms import flash_done
    from grants.i18n import translate

    refuse_overtaken(request, obj)  # a button drawn from an older version: 409
    try:
        result = do()
    except kind.refused as refused:
        request.tm.doom()
        request.response.status = 409 if obj.status != DRAFT else 400
        return page([(kind.errors_field, translate(request, r)) for r in refused.reasons])
    flash_done(request, done)
    return HTTPFound(location=request.resource_url(result if isinstance(result, kind.model) else obj))


def edit_entry(request, kind: Kind, obj, *, entry_id: str, existing, form, values, page, save, differences, done):
    """The page adding an entry to a draft (``entry_id`` "") or changing one: GET shows
    ``form`` (filled with ``values(existing)``), POST validates it and calls
    ``save(data)`` under :func:`grants.concurrency.editing` (a save overtaken by another
    is a 409 showing ``differences(data)``).  ``page(form_html, errors, editing)`` draws
    the row's page; ``done`` is the flash after saving."""
    import deform
    from pyramid.httpexceptions import HTTPFound, HTTPNotFound

    from grants.concurrency import editing, render_as_typed
    from grants.forms import flash_done, form_failed, form_refused

    if entry_id and existing is None:
        raise HTTPNotFound()
    if request.method != "POST":
        if obj.status != DRAFT:
            return HTTPFound(location=request.resource_url(obj))
        return page(form.render(values(existing) if existing else {}), (), entry_id or None)
    try:
        data = form.validate(list(request.POST.items()))
    except deform.ValidationFailure as failure:
        failed = form_failed(request, failure)
        return page(failed["form_html"], failed["errors"], entry_id or None)
    typed = dict(form.cstruct)
    try:
        with editing(request, obj, differences=lambda: differences(data),
                     form_html=lambda: render_as_typed(form, typed, version=obj.row_version)):
            save(data)
    except kind.refused as refused:
        request.tm.doom()
        failed = form_refused(request, form, refused.problems)
        return page(failed["form_html"], failed["errors"], entry_id or None)
    flash_done(request, done)
    return HTTPFound(location=request.resource_url(obj))
