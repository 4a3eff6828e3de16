"""Two people changing one thing at once.

Every row people edit carries an integer ``row_version`` that SQLAlchemy uses for
optimistic locking (``version_id_col``): an UPDATE says ``WHERE row_version = <what we
read>``, so of two concurrent writers only one matches and the other's flush raises
``StaleDataError``.  That protects two writes that overlap in time.  It does not protect
an edit form opened before someone else saved and submitted after: by then the row has
the new version and the late form would silently undo the first person's work.  So each
edit form carries the version it was drawn from (a hidden ``row_version`` field) and
:func:`editing` refuses a stale one with a 409 page that shows, for every field that
differs, what the person typed and what is stored now, with the form again (what they
typed, the current version) so they can keep theirs deliberately.

The 409 pages are rendered after a failed flush: the request's session then cannot be
used until it is rolled back, and the layout reads the signed-in person from it.
:func:`abandon_changes` rolls it back (and dooms the request's transaction) before any
such page renders; :func:`flush_tween_factory` flushes before pyramid_tm commits, so a
conflict found only at commit is rendered the same way instead of escaping as a 500.
"""
from __future__ import annotations

import hashlib
import json
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, Iterator

import colander
import deform
from pyramid.security import NO_PERMISSION_REQUIRED
from pyramid.view import view_config
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm.attributes import flag_modified
from sqlalchemy.orm.exc import StaleDataError
from translationstring import TranslationString

from grants.i18n import _, translate
from grants.workflow import Conflict

ROW_VERSION = "row_version"
CONFLICT_PAGE = "grants.templates:conflict.pt"

#: What a person reads when their change lost a race (the engine's Conflict carries it too).
CHANGED_FIRST = _("This was changed by someone else while you were working, so what you sent was not saved. "
                  "Look at it as it is now, then do it again if it is still needed.")
DATABASE_BUSY = _("The database was busy with the same record, so what you sent was not saved. Try again.")


# -- the version a form was drawn from --------------------------------------------------------------


class ContentVersion:
    """The version of a part of a row that people edit on its own — one section of an
    application's answers: a number drawn from a digest of what is stored there, so that
    two members editing different sections do not refuse each other, and an edit of the
    same section made meanwhile is seen.  (The row's own ``row_version`` still settles two
    saves at the same moment.)"""

    def __init__(self, content):
        text = json.dumps(content, sort_keys=True, default=str)
        self.row_version = int(hashlib.sha256(text.encode()).hexdigest()[:9], 16)


def current_version(obj) -> int:
    """``obj``'s row version; 0 for a row not made yet (a round's first evaluation), so
    that a form drawn before someone else made it is stale too."""
    return 0 if obj is None else obj.row_version


def version_node(obj) -> colander.SchemaNode:
    """A hidden field carrying ``obj``'s row version.  A string, not an integer: a
    tampered value must not become a validation message beside an input nobody sees; it
    is simply not the current version (see :func:`posted_version`)."""
    return colander.SchemaNode(colander.String(), name=ROW_VERSION, widget=deform.widget.HiddenWidget(),
                               default=str(current_version(obj)), missing="")


def with_version(schema: colander.Schema, obj) -> colander.Schema:
    """``schema`` with the hidden version of ``obj`` (use before ``make_form``)."""
    if ROW_VERSION in schema:
        del schema[ROW_VERSION]
    schema.add(version_node(obj))
    return schema


def posted_version(request) -> int | None:
    """The version the form says it was drawn from; None for anything but digits (a file,
    a tampered value), which no row has."""
    raw = request.POST.get(ROW_VERSION, "")
    if not isinstance(raw, str) or not (raw.isascii() and raw.isdigit()) or len(raw) >= 12:
        return None
    return int(raw)


# -- the 409 page -------------------------------------------------------------------------------------


@dataclass
class Difference:
    label: Any  # a TranslationString or the text of a label
    typed: str
    stored: str


class StaleEdit(Conflict):
    """An edit form drawn from an older version of its row.  Nothing was saved."""

    def __init__(self, differences: list[Difference], form_html: str | None = None):
        super().__init__(CHANGED_FIRST)
        self.differences = differences
        self.form_html = form_html


def abandon_changes(request) -> None:
    """Make the request's session usable again after a failed flush, writing nothing.

    Rolling back expires every loaded row, so the page reads them afresh (the signed-in
    person's name in the layout, the object's URL) in a new database transaction that the
    doomed request transaction will end."""
    session = request.__dict__.get("dbsession")  # only if this request made one
    if session is None:
        return
    if request.environ.get("tm.active"):
        request.tm.doom()
    session.rollback()


def back_url(request) -> str:
    """The page of the object the person was changing, or the home page."""
    context = getattr(request, "context", None)
    try:
        if getattr(context, "__parent__", None) is not None:
            return request.resource_url(context)
    except SQLAlchemyError:
        pass
    return request.resource_url(request.root)


def conflict_page(request, reason, *, differences=(), form_html=None) -> dict:
    request.response.status = 409
    return {"title": _("Someone else changed this first"), "detail": reason, "differences": list(differences),
            "form_html": form_html, "back_url": back_url(request)}


@view_config(context=StaleEdit, renderer=CONFLICT_PAGE, permission=NO_PERMISSION_REQUIRED)
def stale_edit(exc, request):
    abandon_changes(request)
    return conflict_page(request, exc.args[0], differences=exc.differences, form_html=exc.form_html)


@view_config(context=Conflict, renderer=CONFLICT_PAGE, permission=NO_PERMISSION_REQUIRED)
def conflict(exc, request):
    abandon_changes(request)
    reason = exc.args[0] if exc.args and isinstance(exc.args[0], TranslationString) else CHANGED_FIRST
    return conflict_page(request, reason)


@view_config(context=StaleDataError, renderer=CONFLICT_PAGE, permission=NO_PERMISSION_REQUIRED)
def stale_data(exc, request):
    """A flush that found the row already changed, wherever it happened."""
    abandon_changes(request)
    return conflict_page(request, CHANGED_FIRST)


def flush_tween_factory(handler, registry):
    """Flush the request's changes while its transaction is still open, so a row someone
    else changed meanwhile is a 409 page, rendered like any other, not a failure inside
    pyramid_tm's commit (where no page can read the database any more)."""

    def flush_tween(request):
        response = handler(request)
        session = request.__dict__.get("dbsession")
        if (session is None or request.exception is not None or not request.environ.get("tm.active")
                or request.tm.isDoomed() or not session.is_active):
            return response
        try:
            session.flush()
        except StaleDataError:
            return request.invoke_exception_view(sys.exc_info())
        return response

    return flush_tween


def refuse_overtaken(request, obj) -> None:
    """For a form that fires a transition: refuse it (409) when it was drawn from an older
    version of ``obj`` — someone else moved or changed it since.  Forms that do not send
    a version (a plugin's own) are left to the optimistic lock at the flush."""
    if ROW_VERSION in request.POST and posted_version(request) != current_version(obj):
        raise Conflict(CHANGED_FIRST)


# -- edit forms ---------------------------------------------------------------------------------------


def touch(obj) -> None:
    """Mark ``obj`` changed so its version moves on at the next flush — for an edit that
    only replaces its child rows (a budget's lines, a round's tiers, a report's values),
    which must still conflict with another edit of the same thing."""
    state = sa_inspect(obj)
    if state.modified or state.deleted or (state.session is not None and obj in state.session.deleted):
        return
    column = next(attr.key for attr in state.mapper.column_attrs
                  if attr.key != ROW_VERSION and not attr.columns[0].primary_key)
    getattr(obj, column)  # loaded, which flag_modified needs
    flag_modified(obj, column)


@contextmanager
def editing(request, obj, *, differences: Callable[[], list[Difference]], form_html: Callable[[], str | None]
            ) -> Iterator[None]:
    """Save one edit of ``obj`` made through a form drawn from ``obj.row_version``.  For a
    row the edit may make (a round's first evaluation), ``obj`` is a function that finds
    it or gives None: nobody else may have made it meanwhile.

    Refuses (:class:`StaleEdit`, a 409 page) before anything is written if the form came
    from an older version; otherwise runs the body (the service call), moves the version
    on and flushes, so a concurrent save that slipped past the check loses at the UPDATE
    and gets the same page.  ``differences`` and ``form_html`` are called only on a
    refusal, after the session has been rolled back, so they read what is stored now.

    For deform forms use :func:`editing_form`, which builds both from the form."""
    row = _row(obj)
    if posted_version(request) != current_version(row):
        raise StaleEdit(differences(), form_html())
    try:
        yield
        row = _row(obj)
        if row is not None and sa_inspect(row, raiseerr=False) is not None:
            touch(row)
        request.dbsession.flush()
    except StaleDataError:
        abandon_changes(request)
        raise StaleEdit(differences(), form_html()) from None


def _row(obj):
    return obj() if callable(obj) else obj


def editing_form(request, obj, form: deform.Form, typed: dict, stored: Callable[[], dict], *, forget=()):
    """:func:`editing` for a deform form just validated: ``typed`` is its appstruct,
    ``stored`` gives the appstruct the form shows for ``obj`` as stored now.  On a refusal
    the form comes back exactly as typed (``forget`` names fields to empty instead, such
    as a file kept with the refused edit, which the refusal does not keep)."""
    typed_cstruct = dict(form.cstruct)

    def differences():
        return form_differences(request, form, typed, typed_cstruct, stored())

    def form_html():
        # What they typed, now drawn from the current version: sending it again keeps theirs.
        return render_as_typed(form, {**typed_cstruct, **{name: "" for name in forget}},
                               version=current_version(_row(obj)))

    return editing(request, obj, differences=differences, form_html=form_html)


def render_as_typed(form: deform.Form, cstruct: dict, *, version: int) -> str:
    """``form`` with exactly what was typed (its cstruct), carrying ``version``."""
    form.cstruct = {**cstruct, ROW_VERSION: str(version)}  # sets every field's own cstruct
    return form.serialize()


def form_differences(request, form: deform.Form, typed: dict, typed_cstruct: dict, stored: dict
                     ) -> list[Difference]:
    """Each field of ``form`` whose value differs between what was typed and what is
    stored, as text.  Only the fields ``stored`` names are compared: those are the row's;
    the others (a reason for the change, a file) are what the person adds, kept in the
    form shown again.  What was typed is compared as the field writes it when it can
    ("950 000" and "950,000.00" are the same budget), else as typed."""
    out = []
    for field in form.children:
        name = field.name
        if name not in stored or name in (ROW_VERSION, "csrf_token") or isinstance(
                field.widget, deform.widget.HiddenWidget):
            continue
        mine = typed_cstruct.get(name, colander.null)
        if name in typed:
            try:
                mine = field.schema.serialize(_null(typed[name]))
            except (colander.Invalid, TypeError, ValueError, AttributeError):
                pass
        theirs = field.schema.serialize(_null(stored[name]))
        text_mine, text_theirs = field_text(request, field, mine), field_text(request, field, theirs)
        if text_mine != text_theirs:
            out.append(Difference(field.title, text_mine, text_theirs))
    return out


def _null(value):
    return colander.null if value is None else value


def field_text(request, field, cstruct) -> str:
    """A field's serialized value as a person reads it: choices by their labels, groups
    as "label: value" pairs, yes or no for a tick box."""
    if cstruct is colander.null or cstruct is None or cstruct == "":
        return ""
    widget = field.widget
    if isinstance(widget, deform.widget.CheckboxWidget):
        return translate(request, _("Yes") if cstruct == widget.true_val else _("No"))
    labels = {str(item[0]): item[1] for item in getattr(widget, "values", None) or ()
              if isinstance(item, (tuple, list)) and len(item) == 2}
    if isinstance(cstruct, dict):
        parts = []
        for child in field.children:
            text = field_text(request, child, cstruct.get(child.name, colander.null))
            if text:
                parts.append(f"{translate(request, child.title)}: {text}" if child.title else text)
        return "; ".join(parts)
    if isinstance(cstruct, (list, tuple, set, frozenset)):
        if field.children:  # a sequence: each item through the one child field
            texts = [field_text(request, field.children[0], item) for item in cstruct]
        else:  # several choices of one field
            texts = [translate(request, labels.get(str(item), item)) for item in sorted(cstruct, key=str)]
        return "; ".join(t for t in texts if t)
    return translate(request, labels.get(str(cstruct), str(cstruct)))


def includeme(config):
    from pyramid.tweens import EXCVIEW

    config.add_tween("grants.concurrency.flush_tween_factory", over=EXCVIEW, under="pyramid_tm.tm_tween_factory")
    config.scan(__name__)
