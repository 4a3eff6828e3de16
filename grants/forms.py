"""Forms for every page: colander schemas rendered by deform through our own form
template (no browser validation, so every message comes from the server in the page's
language), a CSRF token in each, stable input ids, and the error summary's entries.

Build a page's form with ``make_form(request, SomeSchema(), formid, button_title)``; on a
failed submit pass ``field_errors(request, form)`` to the template as ``errors`` and use
``macros['error_summary']`` at the top of the page (see templates/accounts/login.pt).
"""
from __future__ import annotations

import copy

import colander
import deform
from pyramid.csrf import get_csrf_token

from grants.i18n import _, translate
from grants.text import CONTROL_CHARACTERS, LINE_MAX, NOTE_MAX, has_control_characters, neutralise, too_long

FORM_TEMPLATE = "grants.templates:form.pt"


def csrf_node(token: str) -> colander.SchemaNode:
    # Pyramid checks the token before any view runs; the field only carries it.
    return colander.SchemaNode(colander.String(), name="csrf_token", widget=deform.widget.HiddenWidget(),
                               default=token, missing="")


class FormSchema(colander.MappingSchema):
    """Every form: our template, and the CSRF token as a hidden field."""

    widget = deform.widget.FormWidget(template=FORM_TEMPLATE)

    def after_bind(self, node, kw):
        node.add(csrf_node(get_csrf_token(kw["request"])))


def make_form(request, schema: colander.Schema, formid: str, button_title, *, button_name: str = "submit",
              bind: dict | None = None) -> deform.Form:
    schema = schema.bind(request=request, **(bind or {}))
    guard_inputs(schema, request.locale_name)
    if "csrf_token" not in schema:
        schema.add(csrf_node(get_csrf_token(request)))
    schema.widget = deform.widget.FormWidget(template=FORM_TEMPLATE)
    for node in schema.children:
        # Stable ids, unique even with two forms on one page (deform counts from 0 per form).
        node.oid = f"{formid}-{node.name}"
    button = deform.Button(button_name, translate(request, button_title), css_class="btn-primary")
    form = deform.Form(schema, buttons=(button,), formid=formid, focus="off")
    for field in form.children:
        if field.description:
            _describe(field, f"help-{field.oid}")
    return form


# -- what every input accepts ------------------------------------------------------------

TOO_LARGE = _("This number is too large to be stored: enter a smaller one.")
# Whole-number inputs are stored in 32-bit integer columns (counts, ids, days).
INT_MIN, INT_MAX = -(2 ** 31), 2 ** 31 - 1


def guard_inputs(schema: colander.SchemaNode, locale_name: str = "en") -> None:
    """Give every text input of a bound ``schema`` the rules of :mod:`grants.text`
    (bidi controls removed, control characters refused, a maximum length: its own
    ``colander.Length``, its ``max_length``, or ``LINE_MAX`` / ``NOTE_MAX``) and every
    whole-number input the range of the column that keeps it.  Choices, hidden fields and
    passwords are left to their own validators: nobody types them, and a password is
    never shown."""
    for node in _nodes(schema):
        if isinstance(node.typ, colander.String) and _typed(node):
            multiline = isinstance(node.widget, deform.widget.TextAreaWidget)
            # A node's own colander.Length says its limit in its own words; ``max_length=``
            # on the node sets the limit for the standard message.
            own = _length_of(node.validator)
            limit = None if own is not None else (
                getattr(node, "max_length", None) or (NOTE_MAX if multiline else LINE_MAX))
            node.preparer = [_neutraliser(multiline), *_as_list(node.preparer)]
            node.validator = _first_of(_TextRule(multiline, limit, locale_name), node.validator)
        elif isinstance(node.typ, colander.Int) and not _has_range(node.validator):
            node.validator = _first_of(colander.Range(INT_MIN, INT_MAX, min_err=TOO_LARGE, max_err=TOO_LARGE),
                                       node.validator)


def _nodes(node):
    for child in node.children:
        yield child
        yield from _nodes(child)


def _typed(node) -> bool:
    """Whether ``node`` is text someone types (not a choice, a hidden field or a password)."""
    widget = getattr(node, "widget", None)
    if widget is None:
        return True
    return (isinstance(widget, (deform.widget.TextInputWidget, deform.widget.AutocompleteInputWidget))
            and not isinstance(widget, deform.widget.PasswordWidget))


def _as_list(preparer) -> list:
    if preparer is None:
        return []
    return [preparer] if callable(preparer) else list(preparer)


def _neutraliser(multiline: bool):
    def prepare(value):
        if not isinstance(value, str):
            return value
        cleaned = neutralise(value, multiline=multiline)
        # Nothing but bidi controls is nothing typed: the field's "required" message says so.
        return colander.null if value.strip() and not cleaned.strip() else cleaned

    return prepare


def _validators(validator) -> list:
    if validator is None:
        return []
    if isinstance(validator, (colander.All, colander.Any)):
        return [v for inner in validator.validators for v in _validators(inner)]
    return [validator]


def _length_of(validator) -> int | None:
    return next((v.max for v in _validators(validator) if isinstance(v, colander.Length) and v.max is not None),
                None)


def _has_range(validator) -> bool:
    return any(isinstance(v, colander.Range) for v in _validators(validator))


def _first_of(rule, validator):
    """``rule``, then (when it passes) the node's own ``validator``: one message at a time."""
    if validator is None:
        return rule

    def validate(node, value):
        rule(node, value)
        validator(node, value)

    return validate


class _TextRule:
    def __init__(self, multiline: bool, limit: int | None, locale_name: str):
        self.multiline, self.limit, self.locale_name = multiline, limit, locale_name

    def __call__(self, node, value):
        if not isinstance(value, str):
            return
        if has_control_characters(value, multiline=self.multiline):
            raise colander.Invalid(node, CONTROL_CHARACTERS)
        if self.limit is not None and len(value) > self.limit:
            raise colander.Invalid(node, too_long(self.limit, self.locale_name))


def _describe(field, *ids: str, invalid: bool = False) -> None:
    """Point an input at the texts that describe it (its hint, its error message)."""
    # The schema's widgets are shared between requests: change a copy.
    widget = copy.copy(field.widget)
    attributes = dict(getattr(widget, "attributes", None) or {})
    described_by = [*ids, *attributes.get("aria-describedby", "").split()]
    attributes["aria-describedby"] = " ".join(dict.fromkeys(described_by))
    if invalid:
        attributes["aria-invalid"] = "true"
    widget.attributes = attributes
    field.widget = widget


def field_errors(request, form: deform.Form) -> list[tuple[str, str]]:
    """(input id, message) for every error, in form order, for the error summary — nested
    fields (a day/month/year group) included; a group's own message links to its first
    input.  Also points each invalid input at its message, for screen readers."""
    errors: list[tuple[str, str]] = []
    _collect_errors(request, form, errors)
    return errors


def _collect_errors(request, field, errors: list) -> None:
    if field.error is not None and field.error.msg:
        target = field.children[0] if field.children else field
        errors.extend((target.oid, translate(request, m)) for m in field.error.messages())
        if not field.children:
            _describe(field, f"error-{field.oid}", invalid=True)
    for child in field.children:
        _collect_errors(request, child, errors)


def form_failed(request, failure: deform.ValidationFailure) -> dict:
    """A failed submit's page values: the form again with everything typed, and the error
    summary's entries.  The response becomes 400."""
    errors = field_errors(request, failure.field)  # before rendering: it marks the inputs
    request.response.status = 400
    return {"form_html": failure.render(), "errors": errors}


def refusal_failure(form: deform.Form, problems, field_map: dict | None = None) -> deform.ValidationFailure:
    """A service's refusal (``problems``: (field name or None, reason) pairs) as a
    validation failure of ``form``: each reason beside its input, the others at the top of
    the form, everything typed kept.  ``field_map`` renames a service's field to the form's
    (a name, ``"group.child"`` or a (group, child) tuple); names with a dot reach inside a
    group of the form."""
    field_map = field_map or {}
    error = colander.Invalid(form.schema)
    messages: dict[tuple, list] = {}
    general = []
    for name, reason in problems:
        path = _path_in(form.schema, field_map.get(name, name) if name else None)
        if path is None:
            general.append(reason)
        else:
            messages.setdefault(path, []).append(reason)
    groups: dict[str, colander.Invalid] = {}
    for path, reasons in messages.items():
        message = reasons if len(reasons) > 1 else reasons[0]
        if len(path) == 1:
            error[path[0]] = message
            continue
        group_name, child_name = path
        group = groups.get(group_name)
        if group is None:
            node = form.schema[group_name]
            group = groups[group_name] = colander.Invalid(node)
            error.add(group, form.schema.children.index(node))
        group[child_name] = message
    if general:
        error.msg = general
    form.widget.handle_error(form, error)
    return deform.ValidationFailure(form, form.cstruct, error)


def _path_in(schema, target) -> tuple | None:
    if not target:
        return None
    parts = tuple(target) if isinstance(target, tuple) else (
        (target,) if target in schema else tuple(target.split(".", 1)))
    if len(parts) == 1 and parts[0] in schema:
        return parts
    if len(parts) == 2 and parts[0] in schema and parts[1] in schema[parts[0]]:
        return parts
    return None


def form_refused(request, form: deform.Form, problems, field_map: dict | None = None) -> dict:
    """:func:`form_failed` for a service's refusal (see :func:`refusal_failure`)."""
    return form_failed(request, refusal_failure(form, problems, field_map))


def flash_done(request, message) -> None:
    """Say, on the next page, that what was asked is done ("saved" is announced: WCAG 4.1.3)."""
    request.session.flash(translate(request, message), "success")
