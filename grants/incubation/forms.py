"""Forms of the incubation pages: the cohort, a session, a session's register, and the
needs assessment (a score from 1 to 5 per capacity area, with a note).

Dates are day, month and year fields in a fieldset, read as leniently as the round form
reads them (Arabic-Indic digits, month names in English, French and Arabic).
"""
from __future__ import annotations

import datetime as dt

import colander
import deform

from grants.forms import FormSchema
from grants.i18n import _
from grants.programmes.forms import FIELDSET, WholeNumber, _fold, month_names, normalise_digits

from .services import KIND_TITLES, MAX_MONTHS, SCORE_TITLES, area_title

RADIOS = "grants.templates:incubation/radio_fieldset.pt"
CHECKBOXES = "grants.templates:incubation/checkbox_fieldset.pt"


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _part(title, size: int, *, inputmode="numeric", direction="ltr"):
    attributes = {"size": str(size), "autocomplete": "off", "dir": direction, "inputmode": inputmode}
    return colander.SchemaNode(colander.String(), title=title, missing="",
                               widget=deform.widget.TextInputWidget(css_class="w-auto", attributes=attributes,
                                                                    item_css_class="me-3"))


def parse_date(parts: dict, messages: dict) -> dt.date | None:
    """Day, month and year as typed → a date, None when all three are blank; ValueError
    carrying the message that says how to put it right otherwise."""
    day, month, year = (normalise_digits(parts.get(k) or "").strip() for k in ("day", "month", "year"))
    if not (day or month or year):
        return None
    if not (day and month and year):
        raise ValueError(messages["missing"])
    if not day.isdigit() or not 1 <= int(day) <= 31:
        raise ValueError(messages["day"])
    month_number = int(month) if month.isdigit() else month_names().get(_fold(month), 0)
    if not 1 <= month_number <= 12:
        raise ValueError(messages["month"])
    if not year.isdigit() or len(year) != 4:
        raise ValueError(messages["year"])
    try:
        return dt.date(int(year), month_number, int(day))
    except ValueError:
        raise ValueError(messages["real"]) from None


class DateNode(colander.MappingSchema):
    """Day, month and year in one fieldset; deserialises to a ``datetime.date``.
    ``messages`` say what to do about each mistake (keys: missing, day, month, year, real).
    An ``optional`` node (:class:`OptionalDateNode`) gives None when all three are blank."""

    widget = deform.widget.MappingWidget(template=FIELDSET, category="structural", inline=True)
    messages: dict = {}
    optional = False

    day = _part(_("Day"), 2)
    month = _part(_("Month"), 9, inputmode="text", direction="auto")
    year = _part(_("Year"), 4)

    def deserialize(self, cstruct=colander.null):
        parts = super().deserialize(cstruct)
        try:
            value = parse_date(parts if isinstance(parts, dict) else {}, self.messages)
        except ValueError as exc:
            raise colander.Invalid(self, exc.args[0], cstruct) from None
        if value is None and not self.optional:
            raise colander.Invalid(self, self.messages["missing"], cstruct)
        return value

    def serialize(self, appstruct=colander.null):
        if isinstance(appstruct, dt.date):
            appstruct = {"day": str(appstruct.day), "month": str(appstruct.month), "year": str(appstruct.year)}
        elif appstruct is None:
            appstruct = colander.null
        return super().serialize(appstruct)


class OptionalDateNode(DateNode):
    """A date that may be left blank (all three parts empty): None."""

    optional = True


def _date_node(title, hint, messages) -> DateNode:
    node = DateNode(title=title, hint=hint)
    node.messages = messages
    return node


def stable_ids(node) -> None:
    """Inputs inside a group get ids named after it (``cohort-starts_on-day``,
    ``schedule-tranche_1-due_on-day``), at any depth, so that an error summary can link
    to the very input."""
    for child in node.children:
        if child.name:
            for grandchild in child.children:
                if grandchild.name:
                    grandchild.oid = f"{child.oid}-{grandchild.name}"
            stable_ids(child)


# -- the cohort -------------------------------------------------------------------------------


class CohortSchema(FormSchema):
    title = colander.SchemaNode(
        colander.String(), title=_("Name of the cohort"), preparer=_strip,
        description=_("Like “Cohort 2019”."),
        validator=colander.Length(min=1, max=300, min_err=_("Enter the cohort's name, like “Cohort 2019”"),
                                  max_err=_("Enter a name of 300 characters or fewer")),
        missing_msg=_("Enter the cohort's name, like “Cohort 2019”"),
        widget=deform.widget.TextInputWidget(attributes={"dir": "auto", "autocomplete": "off"}))
    starts_on = _date_node(_("The incubation starts on"), _("For example, 1 2 2019."), {
        "missing": _("Enter the date the incubation starts, with a day, month and year"),
        "day": _("Enter the day the incubation starts as a number from 1 to 31"),
        "month": _("Enter the month the incubation starts as a number from 1 to 12 or its name, like 2 or February"),
        "year": _("Enter the year the incubation starts with 4 digits, like 2019"),
        "real": _("Enter a real date for the start of the incubation, like 1 2 2019"),
    })
    months = colander.SchemaNode(
        WholeNumber(minimum=1, maximum=MAX_MONTHS,
                    message=_("Enter how many months the incubation lasts, a whole number from 1 to ${max}, like 4",
                              mapping={"max": MAX_MONTHS})),
        title=_("Length in months"), default=4,
        description=_("Four months is usual."),
        missing_msg=_("Enter how many months the incubation lasts, a whole number from 1 to ${max}, like 4",
                      mapping={"max": MAX_MONTHS}),
        widget=deform.widget.TextInputWidget(css_class="w-auto", attributes={"inputmode": "numeric", "size": "3",
                                                                           "dir": "ltr", "autocomplete": "off"}))


    capacity_areas = colander.SchemaNode(
        colander.String(), title=_("Capacity areas to assess"), missing="",
        description=_("One per line, like “Financial management”: each member is scored from 1 to 5 in each, "
                      "on entry and on exit."),
        widget=deform.widget.TextAreaWidget(rows=5, attributes={"dir": "auto"}))


def cohort_schema(default_areas=()) -> FormSchema:
    """The cohort form; where a plugin of the programme supplies capacity areas, the officer
    may leave them out and the cohort gets those."""
    schema = CohortSchema()
    if default_areas:
        schema["capacity_areas"].description = _(
            "One per line. Leave empty to assess the programme's usual areas: ${areas}.",
            mapping={"areas": ", ".join(default_areas)})
    return schema


def area_lines(text: str) -> list[str] | None:
    """The areas typed, one per line (None for none: the programme's usual ones)."""
    lines = [line.strip() for line in (text or "").splitlines()]
    lines = [line for line in lines if line]
    return lines or None


COHORT_FIELDS = {"title": "title", "starts_on": "starts_on", "months": "months", "capacity_areas": "capacity_areas"}


# -- sessions and their registers ------------------------------------------------------------------


class SessionSchema(FormSchema):
    title = colander.SchemaNode(
        colander.String(), title=_("What the session is about"), preparer=_strip,
        validator=colander.Length(min=1, max=300,
                                  min_err=_("Enter what the session is about, like “Budgeting a project”"),
                                  max_err=_("Enter a title of 300 characters or fewer")),
        missing_msg=_("Enter what the session is about, like “Budgeting a project”"),
        widget=deform.widget.TextInputWidget(attributes={"dir": "auto", "autocomplete": "off"}))
    kind = colander.SchemaNode(
        colander.String(), title=_("Kind of session"),
        validator=colander.OneOf(list(KIND_TITLES), msg_err=_("Choose whether the session is coaching or training")),
        missing_msg=_("Choose whether the session is coaching or training"),
        widget=deform.widget.RadioChoiceWidget(values=list(KIND_TITLES.items()), template=RADIOS, inline=True,
                                               category="structural"))
    held_on = _date_node(_("Held on"), _("A day within the incubation. For example, 12 2 2019."), {
        "missing": _("Enter the date of the session, with a day, month and year"),
        "day": _("Enter the day of the session as a number from 1 to 31"),
        "month": _("Enter the month of the session as a number from 1 to 12 or its name, like 2 or February"),
        "year": _("Enter the year of the session with 4 digits, like 2019"),
        "real": _("Enter a real date for the session, like 12 2 2019"),
    })
    facilitator = colander.SchemaNode(
        colander.String(), title=_("Facilitator"), missing="", preparer=_strip,
        description=_("Optional: the coach or trainer."),
        validator=colander.Length(max=200, max_err=_("Enter a facilitator's name of 200 characters or fewer")),
        widget=deform.widget.TextInputWidget(attributes={"dir": "auto", "autocomplete": "off"}))
    notes = colander.SchemaNode(
        colander.String(), title=_("Notes"), missing="",
        widget=deform.widget.TextAreaWidget(rows=2, attributes={"dir": "auto"}))


SESSION_FIELDS = {"title": "title", "kind": "kind", "held_on": "held_on", "facilitator": "facilitator"}


@colander.deferred
def _member_choices(node, kw):
    return deform.widget.CheckboxChoiceWidget(values=kw["members"], template=CHECKBOXES, category="structural")


@colander.deferred
def _member_validator(node, kw):
    allowed = {value for value, _label in kw["members"]}

    def validate(node, value):
        if set(value) - allowed:
            raise colander.Invalid(node, _("Mark attendance only for members of the cohort"))

    return validate


class AttendanceSchema(FormSchema):
    present = colander.SchemaNode(colander.Set(), title=_("Who came"), missing=(), widget=_member_choices,
                                  validator=_member_validator)


# -- the needs assessment ----------------------------------------------------------------------------


def area_fields(areas) -> dict[str, str]:
    """Each area's field name on the form: areas are named in words (any script, any
    spaces), fields by their place in the cohort's list."""
    return {area: f"area_{n}" for n, area in enumerate(areas, start=1)}


def capacity_schema(areas) -> FormSchema:
    """A score (radios, 1 to 5) and a note for every area, in the cohort's order."""
    schema = FormSchema()
    choices = [(str(score), title) for score, title in SCORE_TITLES.items()]
    for area, name in area_fields(areas).items():
        title = area_title(area)
        message = _("Choose a score from 1 to 5 for ${area}", mapping={"area": title})
        schema.add(colander.SchemaNode(
            colander.String(), name=name, title=title, missing_msg=message,
            validator=colander.OneOf([value for value, _label in choices], msg_err=message),
            widget=deform.widget.RadioChoiceWidget(values=choices, template=RADIOS, inline=True,
                                                   category="structural")))
        schema.add(colander.SchemaNode(
            colander.String(), name=f"{name}_note", title=_("Note on ${area}", mapping={"area": title}),
            missing="", description=_("Optional: what the score rests on, and what to work on."),
            widget=deform.widget.TextAreaWidget(rows=2, attributes={"dir": "auto"})))
    return schema
