"""Text a funder enters in every language its programme uses, and shown in the reader's.

A programme names the languages its content is written in (``Programme.languages``, a
subset of the deployment's ``grants.languages``) and one of them as its default
(``Programme.default_language``).  Each text a funder enters — a programme's title and
description, a round's title, a tier's name, a budget line's category, an indicator's
title and unit — is a *multilingual text*: a dict ``{language: text}``.

Storage keeps what was there: the text's own column (``Programme.title``…) always holds
the text in the programme's default language (or, while that is missing, the first text
there is), with its length limit and the hygiene of :mod:`grants.text`; every language
is kept in the row's ``translations`` JSON column, ``{field: {language: text}}``.  Code
that reads ``programme.title`` (exports, sorting, plugins, mail) therefore reads the
default language, and a row written before languages existed — or by a plugin passing
a plain string — reads as that string in the default language.

Reading for a person goes through :func:`shown`: the reader's language, else the
default, else any; a text shown in another language than the page's says so — its
element carries ``lang`` and ``dir`` and a small "(not translated)" note follows — so an
English title never sits unmarked in an Arabic page.  Templates call ``ml(obj, field)``
(markup) and ``ml_text(obj, field)`` (plain text, for page titles and attributes).

Writing goes through :func:`set_texts` (services) after :func:`clean_texts` (refusals a
person can read), and forms use :func:`multilingual_node`: one input per programme
language, each with its own ``lang`` and ``dir``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import colander
import deform
from markupsafe import Markup, escape

from grants.i18n import SOURCE_LANGUAGE, _, is_language, language_name, language_tag, text_direction
from grants.text import has_control_characters, neutralise, too_long

#: The JSON column on every row with multilingual texts.
COLUMN = "translations"
FIELDSET = "grants.templates:programmes/fieldset.pt"


# -- which languages ----------------------------------------------------------------------------


def programme_of(obj):
    """The programme whose languages ``obj``'s texts are written in (a programme, a round,
    a tier, an award, a budget line, an indicator), or None."""
    seen = 0
    while obj is not None and seen < 6:
        if getattr(obj, "__tablename__", None) == "programmes":
            return obj
        for parent in ("programme", "round", "award"):
            if getattr(obj, parent, None) is not None:
                obj = getattr(obj, parent)
                break
        else:
            return None
        seen += 1
    return None


def default_language_of(obj) -> str:
    programme = programme_of(obj)
    return (getattr(programme, "default_language", None) or SOURCE_LANGUAGE) if programme else SOURCE_LANGUAGE


def languages_of(obj) -> list[str]:
    """The programme's content languages, its default first."""
    programme = programme_of(obj)
    default = default_language_of(obj)
    rest = [code for code in (getattr(programme, "languages", None) or ()) if code != default]
    return [default, *rest]


# -- reading --------------------------------------------------------------------------------------


def texts(obj, field: str) -> dict[str, str]:
    """Every language of ``obj``'s ``field``: ``{language: text}``, the default first."""
    stored = dict(((getattr(obj, COLUMN, None) or {}).get(field)) or {})
    base = getattr(obj, field, None) or ""
    default = default_language_of(obj)
    if not stored:
        return {default: base} if base else {}
    ordered = {code: stored[code] for code in languages_of(obj) if stored.get(code)}
    ordered.update({code: text for code, text in stored.items() if text and code not in ordered})
    return ordered


def text_in(obj, field: str, language: str) -> str:
    """The text in ``language`` exactly ("" when it has none): for exports naming it."""
    return texts(obj, field).get(language, "")


@dataclass(frozen=True)
class Shown:
    """A text chosen for a reader: ``language`` is the one it is written in, and
    ``translated`` whether that is the reader's."""

    text: str
    language: str
    translated: bool

    @property
    def tag(self) -> str:
        return language_tag(self.language)

    @property
    def direction(self) -> str:
        try:
            return text_direction(self.language)
        except (ValueError, LookupError):
            return "auto"


def shown(obj, field: str, reader: str) -> Shown:
    """The text for a reader of ``reader``: theirs, else the default, else any."""
    all_texts = texts(obj, field)
    if all_texts.get(reader):
        return Shown(all_texts[reader], reader, True)
    default = default_language_of(obj)
    for code in (default, *all_texts):
        if all_texts.get(code):
            return Shown(all_texts[code], code, False)
    return Shown(getattr(obj, field, None) or "", reader, True)


NOT_TRANSLATED = _("(not translated)")


def render(request, obj, field: str, *, note: bool = True) -> Markup:
    """The text as markup in the page: plain when it is in the page's language, else in an
    element with its ``lang`` and ``dir`` and, with ``note``, "(not translated)"."""
    from grants.i18n import translate

    found = shown(obj, field, request.locale_name)
    if found.translated:
        return escape(found.text)
    marked = Markup('<span lang="{}" dir="{}">{}</span>').format(found.tag, found.direction, found.text)
    if note:
        marked += Markup(' <small class="text-muted not-translated">{}</small>').format(
            translate(request, NOT_TRANSLATED))
    return marked


def option_text(request, obj, field: str) -> str:
    """The text for an ``<option>`` (which holds no markup): as :func:`render`, but the
    note "(not translated)" is plain text after it."""
    from grants.i18n import translate

    found = shown(obj, field, request.locale_name)
    return found.text if found.translated else f"{found.text} {translate(request, NOT_TRANSLATED)}"


def fallback_markup(text: str, language: str, reader: str) -> Markup:
    """``text``, written in ``language``, in a page of ``reader``'s language: in an element
    with its ``lang`` and ``dir``, and "(not translated)" in the reader's language."""
    from pyramid.threadlocal import get_current_request

    from grants.i18n import translate, translate_for

    try:
        direction = text_direction(language)
    except (ValueError, LookupError):
        direction = "auto"
    request = get_current_request()
    if request is None:
        note = NOT_TRANSLATED.interpolate()  # outside a request (a script): the English note
    elif request.locale_name == reader:
        note = translate(request, NOT_TRANSLATED)
    else:
        note = translate_for(request.registry, reader, NOT_TRANSLATED)
    return Markup('<span lang="{}" dir="{}">{}</span> <small class="text-muted not-translated">{}</small>').format(
        language_tag(language), direction, text, note)


def local_markup(request, value) -> Markup:
    """A text written in several languages (a built form's, grants.applications.builder)
    for the page: the reader's language, else marked as another; any other message is
    translated as ``t()`` does."""
    from grants.i18n import translate

    if hasattr(value, "marked"):
        return escape(value.marked(request.locale_name))
    return escape(translate(request, value))


def _template_globals(event) -> None:
    """``ml(obj, field)``, ``ml_text(obj, field)`` and ``ml_option(obj, field)`` for every
    page template."""
    request = event.get("request")
    if request is None:
        return
    event["ml"] = lambda obj, field, note=True: render(request, obj, field, note=note)
    event["ml_text"] = lambda obj, field: shown(obj, field, request.locale_name).text
    event["ml_option"] = lambda obj, field: option_text(request, obj, field)
    event["lt"] = lambda value: local_markup(request, value)


# -- writing --------------------------------------------------------------------------------------


def as_texts(value, default_language: str, current: Mapping[str, str] | None = None) -> dict[str, str]:
    """``value`` as ``{language: text}``: a plain string (a plugin's, the demo's) is the
    default language's text and keeps the other languages of ``current``; a dict is
    every language."""
    if value is None:
        return dict(current or {})
    if isinstance(value, str):
        return {**(current or {}), default_language: value}
    if isinstance(value, Mapping):
        return dict(value)
    raise TypeError(f"a text is a string or a {{language: text}} dict, not {value!r}")


def clean_texts(value, *, languages, field: str, limit: int, required=None, multiline: bool = False,
                current: Mapping[str, str] | None = None) -> tuple[dict[str, str], list[tuple[str, Any]]]:
    """``value`` cleaned (bidi controls removed, blank languages dropped) and the problems
    with it: a language the programme does not use, control characters, a text over
    ``limit``, and — when ``required`` is a message — no text in the default language
    (the first of ``languages``)."""
    languages = list(languages)
    wanted = as_texts(value, languages[0], current)
    cleaned: dict[str, str] = {}
    problems: list[tuple[str, Any]] = []
    for code, text in wanted.items():
        if not isinstance(text, str):
            raise TypeError(f"{field}[{code!r}] is not a string")
        text = neutralise(text, multiline=multiline).strip()
        if not text:
            continue
        if code not in languages:
            problems.append((field, _("${language} is not one of the programme's languages: add it to the "
                                      "programme first", mapping={"language": code if not is_language(code)
                                                                  else language_name(code)})))
        elif has_control_characters(text, multiline=multiline):
            problems.append((f"{field}.{code}", _("Remove the invisible control characters from this text: they "
                                                 "cannot be stored.")))
        elif len(text) > limit:
            problems.append((f"{field}.{code}", too_long(limit)))
        cleaned[code] = text
    if required is not None and not cleaned.get(languages[0]):
        problems.append((f"{field}.{languages[0]}", required))
    return cleaned, problems


def set_texts(obj, field: str, cleaned: Mapping[str, str]) -> dict[str, str]:
    """Store ``cleaned`` (from :func:`clean_texts`) as ``obj``'s ``field``; the column
    gets the default language's text (or the first there is).  Returns what was there
    before, for the audit."""
    before = texts(obj, field)
    default = default_language_of(obj)
    ordered = {code: cleaned[code] for code in languages_of(obj) if cleaned.get(code)}
    ordered.update({code: text for code, text in cleaned.items() if text and code not in ordered})
    setattr(obj, field, ordered.get(default) or next(iter(ordered.values()), ""))
    stored = dict(getattr(obj, COLUMN, None) or {})
    stored[field] = ordered
    setattr(obj, COLUMN, stored)  # a new dict: the JSON column sees the change
    return before


def rebase(obj, fields) -> None:
    """After the programme's default language changed: each column again holds the
    default language's text (every language was kept in ``translations``)."""
    stored = dict(getattr(obj, COLUMN, None) or {})
    for field in fields:
        if field not in stored:
            continue
        current = stored[field] or {}
        default = default_language_of(obj)
        text = current.get(default) or next(iter(current.values()), None)
        if text and getattr(obj, field) != text:
            setattr(obj, field, text)


def freeze(obj, fields, language: str) -> None:
    """Before the default language changes: texts that had no ``translations`` yet (old
    rows, plugins' plain strings) are recorded as ``language``'s, so the change does not
    re-label them."""
    stored = dict(getattr(obj, COLUMN, None) or {})
    changed = False
    for field in fields:
        base = getattr(obj, field, None)
        if not stored.get(field) and base:
            stored[field] = {language: base}
            changed = True
    if changed:
        setattr(obj, COLUMN, stored)


# -- forms ----------------------------------------------------------------------------------------


class MultilingualMapping(colander.Mapping):
    """The inputs of one text in several languages, read as ``{language: text}`` (blank
    languages dropped).  The inputs are named after the field — the default language's
    input keeps the field's own name (``title``), the others add their code
    (``title_ar``) — so that each name on the page says what it is."""

    def __init__(self, names: dict[str, str]):
        super().__init__(unknown="ignore")
        self.names = names  # language -> input name

    def serialize(self, node, appstruct):
        if isinstance(appstruct, Mapping):
            appstruct = {self.names[code]: text for code, text in appstruct.items() if code in self.names}
        return super().serialize(node, appstruct)

    def deserialize(self, node, cstruct):
        values = super().deserialize(node, cstruct)
        if values is colander.null:
            return values
        return {code: values[name] for code, name in self.names.items()
                if isinstance(values.get(name), str) and values[name].strip()}


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def input_name(field: str, code: str, default: str) -> str:
    return field if code == default else f"{field}_{code}"


def multilingual_node(name: str, title, languages, *, required=None, max_length: int, multiline: bool = False,
                      description=None, rows: int = 4) -> colander.SchemaNode:
    """The inputs of a text in ``languages`` (the default first): each carries its
    language's ``lang`` and ``dir``, so Arabic is typed right to left.  With one language,
    a single input as any other; with more, a fieldset with one input per language, named
    by its language.  The default language's text is required when ``required`` (a
    message) is given.  The value is ``{language: text}`` (a string with one language)."""
    languages = list(languages)
    default = languages[0]

    def widget_for(code, **extra):
        attributes = {"lang": language_tag(code), "dir": text_direction(code), **extra}
        if multiline:
            return deform.widget.TextAreaWidget(rows=rows, attributes=attributes)
        return deform.widget.TextInputWidget(attributes={**attributes, "autocomplete": "off"})

    # A single line is trimmed before it is checked (a trailing form feed is not a control
    # character someone meant to store), as every single-line input is.
    preparer = None if multiline else _strip
    if len(languages) == 1:
        node = colander.SchemaNode(colander.String(), name=name, title=title, description=description,
                                   widget=widget_for(default), preparer=preparer,
                                   missing="" if required is None else colander.required,
                                   **({"missing_msg": required} if required is not None else {}))
        node.max_length = max_length  # grants.forms.guard_inputs: the standard length rule
        return node
    names = {code: input_name(name, code, default) for code in languages}
    node = colander.SchemaNode(MultilingualMapping(names), name=name, title=title, hint=description,
                               widget=deform.widget.MappingWidget(template=FIELDSET, category="structural"),
                               missing={})
    node.multilingual = names
    for code in languages:
        child = colander.SchemaNode(colander.String(), name=names[code], title=language_name(code), missing="",
                                    widget=widget_for(code), preparer=preparer)
        child.max_length = max_length
        node.add(child)
    if required is not None:
        def validate(node, value):
            if not (value or {}).get(default):
                error = colander.Invalid(node)
                error[names[default]] = required
                raise error

        node.validator = validate
    return node


def stable_ids(form, *names: str) -> None:
    """The inputs of a multilingual fieldset get ids named after it and their language
    (``programme-title-ar``)."""
    for field in form.children:
        languages = getattr(field.schema, "multilingual", None)
        if field.name in names and languages:
            by_name = {input_name: code for code, input_name in languages.items()}
            for child in field.children:
                child.oid = f"{field.oid}-{by_name.get(child.name, child.name)}"


def problem_fields(form, languages=()) -> dict:
    """A service's problem names for one language of a text (``title.ar``) → where the
    form shows it: the input of that language, or the field itself when it has a single
    input (for each of ``languages``)."""
    out = {}
    for field in form.children:
        names = getattr(field.schema, "multilingual", None)
        if names:
            out.update({f"{field.name}.{code}": (field.name, child) for code, child in names.items()})
        else:
            out.update({f"{field.name}.{code}": field.name for code in languages})
    return out


def as_form_value(obj, field: str, languages) -> Any:
    """What a form built with :func:`multilingual_node` shows for ``obj``'s ``field``."""
    all_texts = texts(obj, field)
    languages = list(languages)
    if len(languages) == 1:
        return all_texts.get(languages[0], getattr(obj, field, "") or "")
    return all_texts


def includeme(config):
    from pyramid.events import BeforeRender

    config.add_subscriber(_template_globals, BeforeRender)
