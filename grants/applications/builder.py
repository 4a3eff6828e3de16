"""The form builder: application and proposal forms as versioned data, compiled into the
same :class:`~grants.applications.formdefs.ApplicationForm` objects code defines, so the
application journey, the check-your-answers page, eligibility, scoring and exports read
them unchanged.

A version's content is JSON (also the file a version is exported to and imported from)::

    {"format": "grants-form/1", "key": "community-fund", "stage": "application",
     "languages": ["en", "ar"],          # the languages its texts are written in
     "fallback": false,                  # true: a text missing in a language shows the first language's
     "title": {"en": "Community fund", "ar": "…"},
     "amount_question": "budget.amount", # optional: the money question checked against the round's maximum
     "title_question": "project.title",  # optional: the short text that titles the application
     "sections": [
       {"name": "project", "title": {"en": "…", "ar": "…"},
        "documents": [{"kind": "budget_sheet", "title": {…}, "required": true,
                       "identifying": false}],   # true: hidden from reviewers of a blind round
        "questions": [
          {"name": "title", "kind": "short_text", "label": {…}, "help": {…}, "required": true,
           "max_length": 300},
          {"name": "partner", "kind": "single_choice", "label": {…},
           "choices": [{"code": "yes", "label": {…}}, …]},
          {"name": "partner_name", "kind": "short_text", "label": {…},
           "condition": {"question": "partner", "value": "yes"}},
          {"name": "lines", "kind": "table", "label": {…}, "rows": 8, "max_rows": 20, "total": "cost",
           "columns": [{"name": "item", "kind": "short_text", "label": {…}},
                       {"name": "cost", "kind": "money", "label": {…}}]}]}]}

Question kinds are :data:`KINDS`.  A condition names an earlier question (of this
section or an earlier one) and a value it is, or includes (multiple choice); a question
whose condition does not hold is not required and its answer is not kept.  Built forms'
version ids are ``key@number`` (the ``@`` is theirs alone), so the forms registry finds
them in the database (:func:`published_form`).
"""
from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal
from typing import Any

import colander
import deform
from sqlalchemy import select
from sqlalchemy.orm import Session

from grants.audit.services import record_change
from grants.i18n import _, ngettext
from grants.money import Money
from grants.multilingual import languages_of
from grants.programmes.forms import normalise_digits
from grants.workflow import ProblemsRefused

from .builder_models import DRAFT, PUBLISHED, BuiltForm, BuiltFormVersion
from .formdefs import (
    STAGES,
    ApplicationForm,
    AttachmentSpec,
    CheckboxesWidget,
    RadiosWidget,
    Section,
    SectionSchema,
    choice_question,
    money_question,
    number_question,
    regions_question,
    text_question,
)

FORMAT = "grants-form/1"
KINDS = ("short_text", "long_text", "number", "money", "date", "single_choice", "multiple_choice", "yes_no",
         "regions", "email", "url", "table")
#: What each kind is called in the builder.
KIND_LABELS = {
    "short_text": _("Short text"), "long_text": _("Long text"), "number": _("Whole number"),
    "money": _("Amount of money"), "date": _("Date"), "single_choice": _("One choice"),
    "multiple_choice": _("Several choices"), "yes_no": _("Yes or no"), "regions": _("Regions of the country"),
    "email": _("E-mail address"), "url": _("Web address"), "table": _("Table (such as budget lines)"),
}
COLUMN_KINDS = ("short_text", "number", "money")
CHOICE_KINDS = ("single_choice", "multiple_choice")
NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
KEY = re.compile(r"^[a-z][a-z0-9-]{1,31}$")
DEFAULT_ROWS, MAX_ROWS = 8, 50
TEXT_LIMIT = 20_000
YES_NO = (("yes", _("Yes")), ("no", _("No")))


class BuilderRefused(ProblemsRefused):
    """Nothing was stored.  ``problems`` are (where, reason) pairs: a field of the
    content ("sections[1].questions[0].kind"), a line of a file, or None."""


# -- texts in several languages ----------------------------------------------------------------------


class LocalText(str):
    """A text an officer wrote in several languages.  As a string it is the text in the
    first language that has one; :func:`grants.i18n.localize` (the ``t()`` of every page)
    asks it for the reader's language with :meth:`in_language`."""

    def __new__(cls, texts: dict, languages=()):
        order = list(languages) + [code for code in texts if code not in languages]
        first = next((texts[code] for code in order if texts.get(code)), "")
        self = super().__new__(cls, first)
        self.texts = {code: text for code, text in texts.items() if text}
        return self

    def __reduce__(self):  # copied or pickled with its languages, not as a plain string
        return (LocalText, (self.texts,))

    def in_language(self, code: str) -> str:
        return self.written_in(code)[0]

    def written_in(self, code: str) -> tuple[str, str | None]:
        """(the text for a reader of ``code``, the language it is written in): the
        reader's, else the first language's — the caller marks a text in another
        language (:func:`grants.multilingual.local_markup`)."""
        code = code or ""
        for wanted in (code, code.split("_")[0]):
            if self.texts.get(wanted):
                return self.texts[wanted], wanted
        first = str(self)
        return first, next((c for c, text in self.texts.items() if text == first), None)

    def marked(self, code: str):
        """The text for a reader of ``code`` as a deform title: plain when it is in their
        language, else markup with its own ``lang`` and ``dir`` and "(not translated)"."""
        from grants.multilingual import fallback_markup

        text, language = self.written_in(code)
        if language is None or language == code or language == (code or "").split("_")[0]:
            return text
        return fallback_markup(text, language, code)


def _local(texts, languages) -> LocalText | None:
    return LocalText(texts, languages) if isinstance(texts, dict) and any(texts.values()) else None


# -- content: a new one, and its checks ---------------------------------------------------------------


def new_content(key: str, stage: str, languages, title: dict) -> dict:
    return {"format": FORMAT, "key": key, "stage": stage, "languages": list(languages), "fallback": False,
            "title": dict(title), "amount_question": "", "title_question": "", "sections": []}


def new_section(name: str) -> dict:
    return {"name": name, "title": {}, "questions": [], "documents": []}


def new_question(name: str, kind: str = "short_text") -> dict:
    return {"name": name, "kind": kind, "label": {}, "help": {}, "required": True}


def new_document(kind: str) -> dict:
    return {"kind": kind, "title": {}, "required": True}


def questions_in_order(content) -> list[tuple[int, dict, dict]]:
    """(section index, section, question) for every question, in the applicant's order."""
    return [(i, s, q) for i, s in enumerate(content.get("sections") or []) for q in s.get("questions") or []]


def check_content(content, languages=None) -> list[tuple[str, Any]]:
    """What stops ``content`` being published (or imported), as (where, reason) pairs:
    its shape, unique names, conditions on earlier questions, choices present, and every
    text in every language unless the version falls back explicitly."""
    problems: list[tuple[str, Any]] = []
    if not isinstance(content, dict):
        return [("", _("A form is a JSON object."))]
    if content.get("format") != FORMAT:
        problems.append(("format", _("Give the format “${format}”.", mapping={"format": FORMAT})))
    if not KEY.match(str(content.get("key") or "")):
        problems.append(("key", _("Give the form a key of 2 to 32 lower-case letters, digits and hyphens.")))
    if content.get("stage") not in STAGES:
        problems.append(("stage", _("Give the stage: application or proposal.")))
    languages = list(languages or content.get("languages") or [])
    if not languages or not all(isinstance(code, str) for code in languages):
        problems.append(("languages", _("List the languages the form is written in.")))
        languages = []
    fallback = bool(content.get("fallback"))

    def text(where, value, required=True):
        if value is not None and not isinstance(value, dict):
            problems.append((where, _("Write this text per language, like {\"en\": \"…\"}.")))
            return
        value = value or {}
        if any(not isinstance(v, str) or len(v) > TEXT_LIMIT for v in value.values()):
            problems.append((where, _("Write this text as words of 20,000 characters or fewer.")))
            return
        filled = [code for code in languages if (value.get(code) or "").strip()]
        if required and not filled:
            problems.append((where, _("Write this text.")))
        elif filled and not fallback:
            for code in languages:
                if code not in filled:
                    problems.append((f"{where}.{code}", _(
                        "Write this text in “${language}”, or let the form fall back to its first language.",
                        mapping={"language": code})))

    text("title", content.get("title"))
    sections = content.get("sections")
    if not isinstance(sections, list) or not sections:
        problems.append(("sections", _("Add at least one section.")))
        sections = []
    seen_sections, seen_questions, seen_documents = set(), {}, set()
    for i, sec in enumerate(sections):
        where = f"sections[{i}]"
        if not isinstance(sec, dict):
            problems.append((where, _("A section is a JSON object.")))
            continue
        name = str(sec.get("name") or "")
        if not NAME.match(name):
            problems.append((f"{where}.name", _("Name it with lower-case letters, digits and underscores, "
                                                "starting with a letter.")))
        elif name in seen_sections:
            problems.append((f"{where}.name", _("Another section is named “${name}”.", mapping={"name": name})))
        seen_sections.add(name)
        text(f"{where}.title", sec.get("title"))
        questions = sec.get("questions") or []
        documents = sec.get("documents") or []
        if not isinstance(questions, list) or not isinstance(documents, list):
            problems.append((where, _("Questions and documents are lists.")))
            continue
        if not questions and not documents:
            problems.append((where, _("Give the section a question or a document to ask for.")))
        for j, doc in enumerate(documents):
            dwhere = f"{where}.documents[{j}]"
            kind = str((doc or {}).get("kind") or "") if isinstance(doc, dict) else ""
            if not NAME.match(kind):
                problems.append((f"{dwhere}.kind", _("Name it with lower-case letters, digits and underscores, "
                                                     "starting with a letter.")))
            elif kind in seen_documents:
                problems.append((f"{dwhere}.kind", _("Another document is named “${name}”.", mapping={"name": kind})))
            seen_documents.add(kind)
            if isinstance(doc, dict):
                text(f"{dwhere}.title", doc.get("title"))
                text(f"{dwhere}.help", doc.get("help"), required=False)
        for k, q in enumerate(questions):
            qwhere = f"{where}.questions[{k}]"
            if not isinstance(q, dict):
                problems.append((qwhere, _("A question is a JSON object.")))
                continue
            problems += _question_problems(q, qwhere, text, seen_questions, name)
            seen_questions[str(q.get("name") or "")] = q
    for field in ("amount_question", "title_question"):
        ref = str(content.get(field) or "")
        if ref:
            sec_name, _dot, q_name = ref.partition(".")
            wanted = "money" if field == "amount_question" else "short_text"
            found = [q for s in sections if isinstance(s, dict) and s.get("name") == sec_name
                     for q in s.get("questions") or [] if isinstance(q, dict) and q.get("name") == q_name]
            if not found or found[0].get("kind") != wanted:
                problems.append((field, _("Name a question of the kind “${kind}” as section.question.",
                                          mapping={"kind": wanted})))
    return problems


def _question_problems(q, where, text, earlier: dict, section_name) -> list:
    problems = []
    name = str(q.get("name") or "")
    if not NAME.match(name):
        problems.append((f"{where}.name", _("Name it with lower-case letters, digits and underscores, "
                                            "starting with a letter.")))
    elif name in earlier:
        problems.append((f"{where}.name", _("Another question is named “${name}”.", mapping={"name": name})))
    kind = q.get("kind")
    if kind not in KINDS:
        problems.append((f"{where}.kind", _("Choose a kind of question from the list.")))
    text(f"{where}.label", q.get("label"))
    text(f"{where}.help", q.get("help"), required=False)
    for limit in ("max_length", "min", "max", "rows", "max_rows"):
        value = q.get(limit)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
            problems.append((f"{where}.{limit}", _("Enter a whole number, like 3")))
    if isinstance(q.get("min"), int) and isinstance(q.get("max"), int) and q["min"] > q["max"]:
        problems.append((f"{where}.max", _("Enter a maximum no smaller than the minimum.")))
    if kind in CHOICE_KINDS:
        choices = q.get("choices") or []
        codes = [c.get("code") for c in choices if isinstance(c, dict)]
        if len(choices) < 2 or len(codes) != len(choices):
            problems.append((f"{where}.choices", _("Give at least two choices.")))
        for n, choice in enumerate(choices):
            if not isinstance(choice, dict):
                continue
            if not NAME.match(str(choice.get("code") or "")) or codes.count(choice.get("code")) > 1:
                problems.append((f"{where}.choices[{n}].code", _("Give each choice its own code of lower-case "
                                                                "letters, digits and underscores.")))
            text(f"{where}.choices[{n}].label", choice.get("label"))
    if kind == "table":
        columns = q.get("columns") or []
        names = [c.get("name") for c in columns if isinstance(c, dict)]
        if not columns or len(names) != len(columns):
            problems.append((f"{where}.columns", _("Give the table at least one column.")))
        for n, column in enumerate(columns):
            if not isinstance(column, dict):
                continue
            if not NAME.match(str(column.get("name") or "")) or names.count(column.get("name")) > 1:
                problems.append((f"{where}.columns[{n}].name", _("Give each column its own name of lower-case "
                                                                "letters, digits and underscores.")))
            if column.get("kind") not in COLUMN_KINDS:
                problems.append((f"{where}.columns[{n}].kind", _("A column holds short text, a whole number "
                                                                "or an amount of money.")))
            text(f"{where}.columns[{n}].label", column.get("label"))
        total = q.get("total")
        if total and not any(c.get("name") == total and c.get("kind") in ("number", "money")
                             for c in columns if isinstance(c, dict)):
            problems.append((f"{where}.total", _("Total a column of numbers or money of this table.")))
        if isinstance(q.get("rows"), int) and not 1 <= q["rows"] <= MAX_ROWS:
            problems.append((f"{where}.rows", ngettext(
                "Offer from 1 to ${count} row.",
                "Offer from 1 to ${count} rows.", MAX_ROWS)))
        if isinstance(q.get("max_rows"), int) and not (q.get("rows") or 1) <= q["max_rows"] <= MAX_ROWS:
            problems.append((f"{where}.max_rows", ngettext(
                "Allow at most ${count} row, and no fewer than the rows offered.",
                "Allow at most ${count} rows, and no fewer than the rows offered.", MAX_ROWS)))
    condition = q.get("condition")
    if condition:
        target = earlier.get(str(condition.get("question") or "")) if isinstance(condition, dict) else None
        if target is None:
            problems.append((f"{where}.condition", _("A condition names an earlier question.")))
        elif target.get("kind") not in CHOICE_KINDS + ("yes_no",):
            problems.append((f"{where}.condition", _("A condition names an earlier question of choices or yes or "
                                                     "no.")))
        else:
            codes = ([c.get("code") for c in target.get("choices") or [] if isinstance(c, dict)]
                     if target.get("kind") in CHOICE_KINDS else ["yes", "no"])
            if condition.get("value") not in codes:
                problems.append((f"{where}.condition", _("A condition's value is one of that question's choices: "
                                                         "${codes}.", mapping={"codes": ", ".join(map(str, codes))})))
    return problems


# -- compiling content into an ApplicationForm --------------------------------------------------------


def compile_form(content: dict, version: str, *, origin: str = "") -> ApplicationForm:
    """The :class:`ApplicationForm` a version's content describes (``content`` is assumed
    checked: :func:`check_content`)."""
    languages = content.get("languages") or []
    questions = {q["name"]: (s["name"], q) for _i, s, q in questions_in_order(content)}
    sections = []
    for sec in content["sections"]:
        attachments = tuple(
            AttachmentSpec(doc["kind"], _local(doc.get("title"), languages) or doc["kind"],
                           required=bool(doc.get("required", True)), description=_local(doc.get("help"), languages),
                           identifying=bool(doc.get("identifying", False)))
            for doc in sec.get("documents") or [])
        factory = _schema_factory(sec, questions, languages) if sec.get("questions") else None
        sections.append(Section(sec["name"], _local(sec.get("title"), languages) or sec["name"], factory,
                                attachments=attachments))

    def ref(name):
        value = content.get(name) or ""
        return tuple(value.split(".", 1)) if "." in value else None

    return ApplicationForm(version=version, title=_local(content.get("title"), languages) or version,
                           stage=content["stage"], sections=tuple(sections), amount_field=ref("amount_question"),
                           title_field=ref("title_question"), origin=origin)


def _schema_factory(sec: dict, questions: dict, languages):
    specs = list(sec["questions"])

    def factory():
        schema = BuiltSectionSchema()
        schema.languages = languages
        schema.questions = questions
        for q in specs:
            schema.add(_node(q, languages))
        return schema

    return factory


def _node(q: dict, languages) -> colander.SchemaNode:
    kind, required = q["kind"], bool(q.get("required", True))
    label = _local(q.get("label"), languages) or q["name"]
    helptext = _local(q.get("help"), languages)
    missing_msg = _("Answer “${question}”", mapping={"question": label})
    if q.get("condition"):
        required_now, required = required, False  # checked by the section, once it knows the answer it depends on
    if kind in ("short_text", "long_text", "email", "url"):
        default_max = 300 if kind != "long_text" else 2000
        node = text_question(label, long=kind == "long_text", max_length=q.get("max_length") or default_max,
                             required=required, missing_msg=missing_msg, description=helptext)
        if kind == "email":
            node.validator = colander.All(node.validator, colander.Email(msg=_("Enter an e-mail address, like "
                                                                            "name@example.org")))
            node.widget = deform.widget.TextInputWidget(attributes={"type": "email", "dir": "ltr"})
        elif kind == "url":
            node.validator = colander.All(node.validator, _web_address)
            node.widget = deform.widget.TextInputWidget(attributes={"type": "url", "dir": "ltr"})
    elif kind == "number":
        minimum, maximum = q.get("min") or 0, q.get("max")
        message = (_("Enter a whole number from ${min} to ${max}", mapping={"min": minimum, "max": maximum})
                   if maximum is not None else _("Enter a whole number of ${min} or more", mapping={"min": minimum}))
        node = number_question(label, minimum=minimum, maximum=maximum, message=message, required=required,
                               missing_msg=missing_msg, description=helptext)
    elif kind == "money":
        node = money_question(label, required=required, missing_msg=missing_msg, description=helptext)
    elif kind == "date":
        node = colander.SchemaNode(colander.String(), title=label, description=helptext, validator=_iso_date,
                                   missing=colander.required if required else colander.null,
                                   missing_msg=missing_msg, preparer=_digits,
                                   widget=deform.widget.TextInputWidget(attributes={"type": "date", "dir": "ltr"}))
    elif kind in CHOICE_KINDS or kind == "yes_no":
        choices = ([(c["code"], _local(c.get("label"), languages) or c["code"]) for c in q.get("choices") or []]
                   if kind != "yes_no" else list(YES_NO))
        node = choice_question(label, choices, missing_msg=missing_msg, multiple=kind == "multiple_choice",
                               required=required, description=helptext)
    elif kind == "regions":
        node = regions_question(label, missing_msg, description=helptext)
        if not required:
            node.missing = set()
    else:  # a table
        node = TableNode(title=label, description=helptext, missing=colander.required if required else [],
                         missing_msg=missing_msg,
                         widget=deform.widget.MappingWidget(template=TABLE_TEMPLATE, category="structural"))
        node.spec = q

        def row(number):
            cells = colander.SchemaNode(colander.Mapping(), name=f"row{number}",
                                        title=_("Row ${number}", mapping={"number": number}),
                                        widget=deform.widget.MappingWidget(template="mapping"))
            for column in q["columns"]:
                cells.add(_cell(column, languages))
            return cells

        node.make_row = row
        node.set_rows(node.offered)
    node.name = q["name"]
    node.builder = q
    if q.get("condition"):
        node.required_when_shown = required_now
    return node


def _cell(column, languages) -> colander.SchemaNode:
    label = _local(column.get("label"), languages) or column["name"]
    if column["kind"] == "number":
        node = number_question(label, message=_("Enter a whole number, like 3"), required=False)
    elif column["kind"] == "money":
        node = money_question(label, required=False)
        node.validator = None
    else:
        node = text_question(label, required=False)
    node.name = column["name"]
    return node


def _digits(value):
    return normalise_digits(value).strip() if isinstance(value, str) else value


def _iso_date(node, value):
    try:
        dt.date.fromisoformat(value)
    except (TypeError, ValueError):
        raise colander.Invalid(node, _("Enter a date as year-month-day, like 2025-03-31")) from None


def _web_address(node, value):
    if not re.match(r"^https?://[^\s/]+\.[^\s]+$", value or ""):
        raise colander.Invalid(node, _("Enter a web address starting with https://, like https://example.org"))


TABLE_TEMPLATE = "grants.templates:applications/table.pt"
#: The buttons of a table's page (their value names the table): one more row; fewer empty ones.
ADD_ROW, REMOVE_EMPTY_ROWS = "table_add_row", "table_remove_empty_rows"


class TableNode(colander.SchemaNode):
    """A repeating table (budget lines): rows of columns.  The page offers ``rows`` of
    them at first, and buttons (no script needed) to add one, up to ``max_rows``, and to
    take away the empty ones; empty rows are dropped when saved.  Each schema is made for
    one use (``schema_factory``), so its number of rows is set for the page it draws or
    the answers it reads.  Stored as a list of rows, money as ``{"amount", "currency"}``
    — the same shape as an answer is stored in."""

    schema_type = colander.Mapping

    @property
    def offered(self) -> int:
        """The rows a page shows at first."""
        return max(1, min(int(self.spec.get("rows") or DEFAULT_ROWS), self.cap))

    @property
    def cap(self) -> int:
        """The most rows an applicant may fill: the builder's ``max_rows``, else MAX_ROWS."""
        return max(1, min(int(self.spec.get("max_rows") or MAX_ROWS), MAX_ROWS))

    def set_rows(self, count: int) -> None:
        """Have ``count`` rows (1 to ``cap``): rows are added at the end or taken from it."""
        count = max(1, min(count, self.cap))
        while len(self.children) < count:
            row = self.make_row(len(self.children) + 1)
            if hasattr(self, "locale"):  # bound already: the new row is bound like the others
                self.prepare_row(row)
            self.add(row)
        del self.children[count:]

    def prepare_row(self, row) -> None:
        """Texts in the page's language, and money in the programme's currency."""
        for cell in row.children:
            _resolve_texts(cell, self.locale)
            if getattr(cell, "money", False):
                from grants.programmes.forms import MoneyType, money_widget

                cell.typ = MoneyType(self.currency, self.locale)
                cell.widget = money_widget(self.currency)

    def _columns(self):
        return self.spec["columns"]

    def serialize(self, appstruct=colander.null):
        rows = appstruct if isinstance(appstruct, list) else []
        if len(rows) > len(self.children):  # stored answers read back: a row each
            self.set_rows(len(rows))
        cstruct = {}
        for row_node, row in zip(self.children, rows + [{}] * (len(self.children) - len(rows))):
            cells = {}
            for cell in row_node.children:
                value = (row or {}).get(cell.name, colander.null)
                if isinstance(value, dict) and "amount" in value:
                    value = Money(Decimal(value["amount"]), value["currency"])
                cells[cell.name] = cell.serialize(value)
            cstruct[row_node.name] = cells
        return cstruct

    def deserialize(self, cstruct=colander.null):
        if isinstance(cstruct, list):  # stored rows handed back as they were (as_cstruct of the answers)
            cstruct = self.serialize(cstruct)
        if cstruct in (colander.null, None, ""):
            cstruct = {}
        numbers = [int(k[3:]) for k in cstruct if k.startswith("row") and k[3:].isdigit() and len(k) < 9] \
            if isinstance(cstruct, dict) else []
        if numbers and max(numbers) > self.cap:
            raise colander.Invalid(self, ngettext(
                "This table takes at most ${count} row.",
                "This table takes at most ${count} rows.", self.cap))
        if numbers and max(numbers) > len(self.children):  # rows added on the page: read them all
            self.set_rows(max(numbers))
        rows, error = [], colander.Invalid(self)
        for row_node in self.children:
            raw = cstruct.get(row_node.name) if isinstance(cstruct, dict) else None
            raw = raw if isinstance(raw, dict) else {}
            if not any(str(v or "").strip() for v in raw.values()):
                continue
            try:
                value = row_node.deserialize(raw)
            except colander.Invalid as invalid:
                error.add(invalid, self.children.index(row_node))
                continue
            row = {}
            for name, cell in value.items():
                if isinstance(cell, Money):
                    row[name] = {"amount": str(cell.amount), "currency": cell.currency}
                elif cell not in (colander.null, None, ""):
                    row[name] = cell
            if row:
                rows.append(row)
        if error.children:
            raise error
        if not rows:
            if self.missing is colander.required:
                raise colander.Invalid(self, self.missing_msg)
            return colander.null
        return rows

    def total(self, rows):
        """The sum of the total column, as Money or a whole number; None without one."""
        name = self.spec.get("total")
        column = next((c for c in self.spec["columns"] if c["name"] == name), None)
        if column is None:
            return None
        values = [row.get(name) for row in rows or [] if row.get(name) not in (None, "")]
        if column["kind"] == "money":
            currency = getattr(self, "currency", None) or next((v["currency"] for v in values), None)
            return Money(sum((Decimal(v["amount"]) for v in values), Decimal(0)), currency) if currency else None
        return sum(int(v) for v in values)

    def display(self, rows, locale: str, translate) -> str:
        """The table as the check-your-answers page reads it: a line per row, then the total."""
        from grants.money import format_money

        def show(value):
            if isinstance(value, dict) and "amount" in value:
                return format_money(Money(Decimal(value["amount"]), value["currency"]), locale)
            return str(value)

        columns = self.spec["columns"]
        lines = []
        for row in rows or []:
            lines.append("; ".join(f"{translate(_local(c.get('label'), []) or c['name'])}: {show(row[c['name']])}"
                                   for c in columns if c["name"] in row))
        total = self.total(rows)
        if total is not None:
            shown = format_money(total, locale) if isinstance(total, Money) else str(total)
            lines.append(translate(_("Total: ${total}", mapping={"total": shown})))
        return "\n".join(lines)


class BuiltSectionSchema(SectionSchema):
    """A built section's questions.  Bound to an application, a question whose condition
    names an answer of an earlier section is left out when that answer says so; one that
    depends on a question of this section is shown with a note, required only when the
    condition holds, and its answer dropped when it does not."""

    partial_save = False

    def after_bind(self, node, kw):
        super().after_bind(node, kw)
        locale = kw.get("locale") or "en"
        application = kw.get("application")
        answers = getattr(application, "answers", None) or {}
        if kw.get("stage") == "proposal":
            answers = getattr(application, "proposal", None) or {}
        mine = {child.name for child in node.children}
        for child in list(node.children):
            condition = (getattr(child, "builder", None) or {}).get("condition")
            if condition and condition["question"] not in mine and application is not None:
                section_name = self.questions.get(condition["question"], ("", None))[0]
                if not _holds(condition, (answers.get(section_name) or {}).get(condition["question"])):
                    del node[child.name]
                    continue
            _resolve_texts(child, locale)
            if isinstance(child, TableNode):
                child.currency, child.locale = kw.get("currency"), locale
                for row in child.children:
                    child.prepare_row(row)
                section_name = self.questions.get(child.name, ("", None))[0]
                stored = (answers.get(section_name) or {}).get(child.name)
                stored = len(stored) if isinstance(stored, list) else 0
                # As many rows as the page asks for (kw "table_rows": a button pressed, rows
                # posted), never fewer than the answers kept; else the rows offered at first.
                asked = (kw.get("table_rows") or {}).get(child.name)
                child.set_rows(max(asked, stored) if asked else max(child.offered, stored))
                if child.cap > child.offered:
                    child.description = _join(child.description, _(
                        "Add rows with “Add a row”, up to ${max}.", mapping={"max": child.cap}))
                total = child.spec.get("total")
                if total:
                    note = _("The total of “${column}” is added up for you when you save.",
                             mapping={"column": next(_text_in(c.get("label"), locale) or c["name"]
                                                     for c in child.spec["columns"] if c["name"] == total)})
                    child.description = _join(child.description, note)
            if condition and condition["question"] in mine:
                controller = node[condition["question"]] if condition["question"] in node else None
                value = dict(getattr(controller.widget, "plain_values", None) or controller.widget.values).get(
                    condition["value"], condition["value"]) \
                    if controller is not None and hasattr(controller.widget, "values") else condition["value"]
                note = _("Answer this only if your answer to “${question}” is “${value}”.",
                         mapping={"question": getattr(controller, "plain_title", controller.title)
                                      if controller is not None else condition["question"],
                                  "value": value.in_language(locale) if hasattr(value, "in_language") else value})
                child.description = _join(child.description, note)

    def deserialize(self, cstruct=colander.null):
        # Every problem at once: those of the questions themselves, and a conditional
        # question left blank although the answer it depends on says to answer it.
        try:
            appstruct, error = super().deserialize(cstruct), colander.Invalid(self)
        except colander.Invalid as invalid:
            appstruct, error = None, invalid
        if appstruct is colander.null:
            return appstruct
        typed = cstruct if isinstance(cstruct, dict) else {}
        answers = appstruct if appstruct is not None else typed
        failed = {child.node.name for child in error.children}
        for child in self.children:
            condition = (getattr(child, "builder", None) or {}).get("condition")
            if not condition or condition["question"] not in self:
                continue
            if not _holds(condition, answers.get(condition["question"])):
                if appstruct is not None:
                    appstruct.pop(child.name, None)  # a hidden question's answer is not kept
            elif (getattr(child, "required_when_shown", False) and not self.partial_save
                  and child.name not in failed
                  and answers.get(child.name) in (None, colander.null, "", [], set())):
                error.add(colander.Invalid(child, child.missing_msg), self.children.index(child))
        if error.children or appstruct is None:
            raise error
        return appstruct


def _holds(condition, answer) -> bool:
    if isinstance(answer, (list, set, tuple, frozenset)):
        return condition["value"] in answer
    return answer == condition["value"]


def _text_in(texts, locale):
    if not isinstance(texts, dict):
        return None
    return texts.get(locale) or texts.get(locale.split("_")[0])


def _resolve_texts(node, locale) -> None:
    """Give deform the text in the page's language.  A label not written in it is shown
    in the form's first language, marked (its ``lang`` and ``dir``, "(not translated)");
    a help text, which deform also puts in an attribute, says so in words."""
    label = getattr(node, "title", None)
    if hasattr(label, "in_language"):
        node.plain_title = label.in_language(locale)  # for messages naming the question
        node.title = label.marked(locale)
    help_text = getattr(node, "description", None)
    if hasattr(help_text, "in_language"):
        marked = help_text.marked(locale)
        node.description = (marked if isinstance(marked, str) and not hasattr(marked, "__html__") else
                            _("${help} (not translated)", mapping={"help": help_text.in_language(locale)}))
    widget = getattr(node, "widget", None)
    if isinstance(widget, (CheckboxesWidget, RadiosWidget)):
        widget.plain_values = [(code, label.in_language(locale) if hasattr(label, "in_language") else label)
                               for code, label in widget.values]
        widget.values = [(code, label.marked(locale) if hasattr(label, "marked") else label)
                         for code, label in widget.values]


def _join(description, note):
    """A question's own help and a note the builder adds, read as one hint."""
    if not description:
        return note
    return _("${help} ${note}", mapping={"help": description, "note": note})


# -- finding built forms ------------------------------------------------------------------------------


def is_built_version(version) -> bool:
    return isinstance(version, str) and "@" in version


def _split(version_id: str) -> tuple[str, int] | None:
    key, _at, number = version_id.rpartition("@")
    return (key, int(number)) if key and number.isdigit() and len(number) < 9 else None


def find_version(dbsession: Session, version_id: str) -> BuiltFormVersion | None:
    parts = _split(version_id or "")
    if parts is None or dbsession is None:
        return None
    return dbsession.scalar(select(BuiltFormVersion).join(BuiltForm).where(
        BuiltForm.key == parts[0], BuiltFormVersion.number == parts[1]))


def published_form(dbsession: Session, version_id: str) -> ApplicationForm | None:
    """The published built form ``version_id`` names, compiled (once per session: a
    published version never changes), or None."""
    if dbsession is None or not is_built_version(version_id):
        return None
    cache = dbsession.info.setdefault("grants.built_forms", {})
    if version_id not in cache:
        row = find_version(dbsession, version_id)
        cache[version_id] = (compile_form(row.content, version_id) if row is not None and row.status == PUBLISHED
                             else None)
    return cache[version_id]


def published_forms(dbsession: Session, programme, stage: str = "application") -> list[ApplicationForm]:
    """The published versions of ``programme``'s built forms at ``stage``, newest last."""
    if dbsession is None or getattr(programme, "id", None) is None:
        return []
    rows = dbsession.scalars(select(BuiltFormVersion).join(BuiltForm).where(
        BuiltForm.programme_id == programme.id, BuiltForm.stage == stage, BuiltFormVersion.status == PUBLISHED)
        .order_by(BuiltForm.key, BuiltFormVersion.number))
    return [published_form(dbsession, row.version_id) for row in rows]


def forms_of_programme(dbsession: Session, programme) -> list[BuiltForm]:
    return list(dbsession.scalars(select(BuiltForm).where(BuiltForm.programme_id == programme.id)
                                  .order_by(BuiltForm.key)))


# -- changing forms (every change is in the audit) -----------------------------------------------------


def _audit(dbsession, row: BuiltFormVersion, what, before, after, user):
    dbsession.flush()  # the version's id, which the audit names
    record_change(dbsession, row, what, before, after, user=user)


def create_form(dbsession: Session, programme, *, key: str, stage: str, title: dict, languages,
                user=None) -> BuiltFormVersion:
    """A new form of ``programme`` with its first draft."""
    key = (key or "").strip().lower()
    problems = []
    if not KEY.match(key):
        problems.append(("key", _("Give the form a key of 2 to 32 lower-case letters, digits and hyphens.")))
    elif dbsession.scalar(select(BuiltForm.id).where(BuiltForm.key == key)) is not None:
        problems.append(("key", _("Another form already has the key “${key}”.", mapping={"key": key})))
    if stage not in STAGES:
        problems.append(("stage", _("Choose the application form or the full proposal form.")))
    if not any((v or "").strip() for v in (title or {}).values()):
        problems.append(("title", _("Give the form a title.")))
    BuilderRefused.refuse_if(problems)
    form = BuiltForm(programme_id=programme.id, key=key, stage=stage)
    content = new_content(key, stage, languages, {k: v.strip() for k, v in title.items() if (v or "").strip()})
    content["sections"].append(new_section("section_1"))
    version = BuiltFormVersion(form=form, number=1, status=DRAFT, content=content)
    dbsession.add_all([form, version])
    _audit(dbsession, version, "form", None, {"version": version.version_id, "content": content}, user)
    return version


def save_draft(dbsession: Session, version: BuiltFormVersion, content: dict, *, user=None) -> BuiltFormVersion:
    """Keep ``content`` as the draft's (drafts may be unfinished: :func:`publish` checks)."""
    if version.status != DRAFT:
        raise BuilderRefused([(None, _("This version is published and never changes: copy it to a new draft."))])
    before = version.content
    content = {**content, "key": version.form.key, "stage": version.form.stage, "format": FORMAT}
    if content != before:
        version.content = content
        _audit(dbsession, version, "draft", before, content, user)
    return version


def publish(dbsession: Session, version: BuiltFormVersion, *, user=None, now=None) -> BuiltFormVersion:
    """Make the draft a published version, never to change again, once it passes every
    check (:func:`check_content`)."""
    if version.status != DRAFT:
        raise BuilderRefused([(None, _("This version is already published."))])
    # Published in the programme's languages as they are now: a language added to the
    # programme since the draft began must be written too (unless the form falls back).
    languages = languages_of(version.form.programme)
    if version.content.get("languages") != languages:
        version.content = {**version.content, "languages": languages}
    BuilderRefused.refuse_if(check_content(version.content))
    version.status = PUBLISHED
    version.published_at = now or dt.datetime.now(dt.timezone.utc)
    _audit(dbsession, version, "status", DRAFT, PUBLISHED, user)
    return version


def copy_to_draft(dbsession: Session, version: BuiltFormVersion, *, user=None) -> BuiltFormVersion:
    """The next draft of the form, a copy of the published ``version``."""
    form = version.form
    if version.status != PUBLISHED:
        raise BuilderRefused([(None, _("Copy a published version; this one is still a draft."))])
    if form.draft is not None:
        raise BuilderRefused([(None, _("This form already has a draft (version ${number}): edit it.",
                                       mapping={"number": form.draft.number}))])
    number = max(v.number for v in form.versions) + 1
    copy = BuiltFormVersion(form=form, number=number, status=DRAFT, content=json.loads(json.dumps(version.content)))
    dbsession.add(copy)
    _audit(dbsession, copy, "form", None, {"version": copy.version_id, "copied_from": version.version_id,
                                          "content": copy.content}, user)
    return copy


def export_version(version: BuiltFormVersion) -> str:
    """The version as the JSON file :func:`import_file` reads."""
    return json.dumps(version.content, ensure_ascii=False, indent=2, sort_keys=False) + "\n"


def read_file(text) -> dict:
    """The content of an exported file, or :class:`BuilderRefused` naming the line of a
    syntax error or the field of a wrong value."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise BuilderRefused([("file", _("Choose a file written in UTF-8."))]) from None
    try:
        content = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BuilderRefused([(f"line {exc.lineno}", _("Line ${line}, column ${column}: this is not JSON (${error}).",
                                                       mapping={"line": exc.lineno, "column": exc.colno,
                                                                "error": exc.msg}))]) from None
    BuilderRefused.refuse_if(check_content(content))
    return content


def import_file(dbsession: Session, programme, text, *, languages=None, user=None) -> BuiltFormVersion:
    """A draft made from an exported file: a new form, or the next draft of the
    programme's form with that key.  Nothing is stored when the file is refused."""
    content = read_file(text)
    form = dbsession.scalar(select(BuiltForm).where(BuiltForm.key == content["key"]))
    if form is not None and form.programme_id != programme.id:
        raise BuilderRefused([("key", _("Another programme has a form with the key “${key}”.",
                                        mapping={"key": content["key"]}))])
    if form is not None and form.stage != content["stage"]:
        raise BuilderRefused([("stage", _("The form “${key}” here is for another stage.",
                                          mapping={"key": content["key"]}))])
    if form is not None and form.draft is not None:
        raise BuilderRefused([("key", _("This form already has a draft (version ${number}): edit it.",
                                        mapping={"number": form.draft.number}))])
    if form is None:
        form = BuiltForm(programme_id=programme.id, key=content["key"], stage=content["stage"])
        dbsession.add(form)
        number = 1
    else:
        number = max(v.number for v in form.versions) + 1
    version = BuiltFormVersion(form=form, number=number, status=DRAFT, content=content)
    dbsession.add(version)
    _audit(dbsession, version, "form", None, {"version": version.version_id, "imported": True,
                                             "content": content}, user)
    return version


def load_form_file(path, *, version: str | None = None, origin: str = "") -> ApplicationForm:
    """A form a plugin ships as an exported JSON file, compiled (for
    ``config.add_application_form_file``).  Its version id is ``version``, else the
    file's key: a plugin's form is not a database row, so it has no ``@``."""
    with open(path, encoding="utf-8-sig") as f:
        text = f.read()
    try:
        content = read_file(text)
    except BuilderRefused as refused:
        from grants.workflow.engine import plain

        raise ValueError(f"{path}: " + "; ".join(f"{where}: {plain(reason)}"
                                                  for where, reason in refused.problems)) from None
    return compile_form(content, version or content["key"], origin=origin)
