"""Forms of the results-framework pages: a box of the theory of change, an indicator
(with its baseline or the reason there is none, and a target per reporting period), and
an indicator picked from the library.

Numbers are read as people type them (``grants.mel.framework.read_decimal``: Arabic-Indic
digits, a comma or ٫ as the decimal mark); dates are day, month and year in a fieldset,
read as leniently as every other date form.  Choices are given translated (``choices``),
so each form is built for its request.
"""
from __future__ import annotations


import colander
import deform

from grants.forms import FormSchema
from grants.multilingual import as_form_value, languages_of, multilingual_node
from grants.i18n import PluralLength, _, format_date, ngettext, translate
from grants.incubation.forms import OptionalDateNode
from grants.programmes.forms import FIELDSET

from .framework import (
    DIMENSION_TITLES,
    MEASURE_TITLES,
    METHOD_TITLES,
    TEXT_MAX,
    kind_title,
    levels_for,
    read_decimal,
    toc_kinds,
)
from .models import DIMENSIONS, MEASURES, METHODS

RADIOS = "grants.templates:incubation/radio_fieldset.pt"
CHECKBOXES = "grants.templates:incubation/checkbox_fieldset.pt"


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class DecimalNumber(colander.SchemaType):
    """A number typed in any digits → an exact ``Decimal``; empty is ``colander.null``."""

    def __init__(self, message=None):
        self.message = message or _("Enter a number, like 12 or 12.5")

    def serialize(self, node, appstruct):
        return colander.null if appstruct in (colander.null, None) else str(appstruct)

    def deserialize(self, node, cstruct):
        if cstruct in (colander.null, None) or not str(cstruct).strip():
            return colander.null
        try:
            return read_decimal(str(cstruct))
        except ValueError:
            raise colander.Invalid(node, self.message, cstruct) from None


def number_widget(size: int = 10) -> deform.widget.TextInputWidget:
    return deform.widget.TextInputWidget(
        css_class="w-auto", attributes={"inputmode": "decimal", "autocomplete": "off", "dir": "ltr",
                                        "size": str(size), "spellcheck": "false"})


BASELINE_DATE_MESSAGES = {
    "missing": _("Enter the date the baseline was measured, with a day, month and year"),
    "day": _("Enter the day the baseline was measured as a number from 1 to 31"),
    "month": _("Enter the month the baseline was measured as a number from 1 to 12 or its name, like 6 or June"),
    "year": _("Enter the year the baseline was measured with 4 digits, like 2019"),
    "real": _("Enter a real date for the baseline, like 15 6 2019"),
}


class BaselineDateNode(OptionalDateNode):
    """When the baseline was measured; blank when there is no baseline."""

    messages = BASELINE_DATE_MESSAGES


def _choices(request, pairs):
    return [(value, translate(request, title)) for value, title in pairs]


def _text(name, title, *, description=None, missing=colander.required, missing_msg=None, max_len=500, rows=None,
          direction="auto"):
    widget = (deform.widget.TextAreaWidget(rows=rows, attributes={"dir": direction}) if rows else
              deform.widget.TextInputWidget(attributes={"dir": direction, "autocomplete": "off"}))
    return colander.SchemaNode(
        colander.String(), name=name, title=title, description=description, preparer=_strip, missing=missing,
        missing_msg=missing_msg or _("Required"),
        validator=PluralLength(max=max_len, max_err=ngettext(
            "Keep this to ${count} character or fewer.",
            "Keep this to ${count} characters or fewer.", max_len)),
        widget=widget)


# -- the theory of change -----------------------------------------------------------------------


def toc_schema(request, programme) -> FormSchema:
    schema = FormSchema()
    kinds = toc_kinds(programme)
    message = _("Choose a level of results, an assumption or an external factor.")
    schema.add(colander.SchemaNode(
        colander.String(), name="kind", title=_("Part of the theory of change"), missing_msg=message,
        validator=colander.OneOf(list(kinds), msg_err=message),
        widget=deform.widget.SelectWidget(values=_choices(request, [(k, kind_title(k)) for k in kinds]))))
    schema.add(_text("text", _("What it says"), rows=3, max_len=TEXT_MAX,
                     description=_("A result, an assumption the change rests on, or a factor outside your control."),
                     missing_msg=_("Write what this part of the theory of change says.")))
    return schema


# -- indicators ------------------------------------------------------------------------------------


def _period_label(report) -> object:
    return _("Period ${number}: ${start} to ${end}", mapping={
        "number": report.number, "start": format_date(report.period_start), "end": format_date(report.period_end)})


def _targets_node(reports) -> colander.MappingSchema:
    node = colander.MappingSchema(
        name="targets", title=_("Targets"), widget=deform.widget.MappingWidget(template=FIELDSET,
                                                                              category="structural"))
    node.hint = _("The value to reach by the end of each reporting period. Leave blank for no target.")
    for report in reports:
        node.add(colander.SchemaNode(
            DecimalNumber(_("Give the target for period ${number} as a number, like 40 or 12.5.",
                            mapping={"number": report.number})),
            name=f"r{report.id}", title=_period_label(report), missing=None, widget=number_widget()))
    return node


def _baseline_nodes(schema) -> None:
    schema.add(colander.SchemaNode(
        DecimalNumber(_("Give the baseline as a number, like 12 or 12.5.")), name="baseline_value",
        title=_("Baseline"), missing=None, widget=number_widget(),
        description=_("The indicator's value before the project began.")))
    date = BaselineDateNode(name="baseline_date", title=_("Date the baseline was measured"))
    date.hint = _("For example, 15 6 2019.")
    date.missing = None
    schema.add(date)
    schema.add(_text("baseline_missing_reason", _("If there is no baseline, why not"), rows=2, max_len=TEXT_MAX,
                     missing="",
                     description=_("Required when no baseline is given: for example, no records were kept "
                                   "before the project.")))


def _toc_element_node(request, elements) -> colander.SchemaNode:
    values = [("", translate(request, _("Not linked")))] + [
        (str(e.id), f"{translate(request, kind_title(e.kind))}: {e.text[:80]}") for e in elements]
    return colander.SchemaNode(
        colander.String(), name="toc_element", title=_("Result it measures"), missing="",
        validator=colander.OneOf([v for v, _label in values],
                                 msg_err=_("Choose a part of this award's theory of change.")),
        widget=deform.widget.SelectWidget(values=values))


def indicator_schema(request, award, reports, elements) -> FormSchema:
    """An indicator: what it measures, how, its baseline (or why there is none), the
    disaggregation, the result it measures and its targets per period."""
    schema = FormSchema()
    programme = award.round.programme
    levels = levels_for(programme)
    schema.add(_text("code", _("Code"), max_len=40, direction="ltr", description=_("Short and unique, like OUT1."),
                     missing_msg=_("Give the indicator a short code, like OUT1.")))
    languages = languages_of(award)
    if len(languages) > 1:
        # The funder's words in each of the programme's languages (grants.multilingual).
        schema.add(multilingual_node("title", _("What it measures"), languages, max_length=500,
                                     required=_("Say what the indicator measures.")))
    else:
        schema.add(_text("title", _("What it measures"), missing_msg=_("Say what the indicator measures.")))
    level_message = _("Choose the level of results the indicator measures.")
    schema.add(colander.SchemaNode(
        colander.String(), name="level", title=_("Level"), missing_msg=level_message,
        validator=colander.OneOf(list(levels), msg_err=level_message),
        widget=deform.widget.SelectWidget(values=_choices(request, [(k, kind_title(k)) for k in levels]))))
    measure_message = _("Choose how the indicator is measured.")
    schema.add(colander.SchemaNode(
        colander.String(), name="measure", title=_("Measure"), missing_msg=measure_message,
        validator=colander.OneOf(list(MEASURES), msg_err=measure_message),
        widget=deform.widget.RadioChoiceWidget(values=list(MEASURE_TITLES.items()), template=RADIOS,
                                               category="structural")))
    if len(languages) > 1:
        schema.add(multilingual_node("unit", _("Unit"), languages, max_length=60,
                                     description=_("For counts: people, sessions, schools.")))
    else:
        schema.add(_text("unit", _("Unit"), max_len=60, missing="",
                         description=_("For counts: people, sessions, schools.")))
    schema.add(colander.SchemaNode(
        colander.String(), name="direction", title=_("Which way is better"), missing="up",
        validator=colander.OneOf(["up", "down"]),
        widget=deform.widget.RadioChoiceWidget(values=[("up", _("More is better")), ("down", _("Less is better"))],
                                               template=RADIOS, inline=True, category="structural")))
    method_message = _("Choose how the data are collected.")
    schema.add(colander.SchemaNode(
        colander.String(), name="method", title=_("How the data are collected"), missing_msg=method_message,
        validator=colander.OneOf(list(METHODS), msg_err=method_message),
        widget=deform.widget.SelectWidget(values=_choices(request, METHOD_TITLES.items()))))
    _disaggregation_node(request, schema)
    _baseline_nodes(schema)
    schema.add(_toc_element_node(request, elements))
    schema.add(_targets_node(reports))
    return schema


def _disaggregation_node(request, schema) -> None:
    schema.add(colander.SchemaNode(
        colander.Set(), name="disaggregation", title=_("Break values down by"), missing=(),
        description=_("Each report then gives the total and a value for each group."),
        validator=colander.ContainsOnly(list(DIMENSIONS)),
        widget=deform.widget.CheckboxChoiceWidget(values=_choices(request, DIMENSION_TITLES.items()),
                                                  template=CHECKBOXES, category="structural")))


def library_schema(request, award, reports, elements, entries) -> FormSchema:
    """Pick an indicator from the library: which one, its code here (the library's by
    default), the level when the programme has its own, the baseline or why there is
    none, the result it measures and its targets."""
    schema = FormSchema()
    values = [("", translate(request, _("Choose an indicator")))] + [
        (str(e.id), f"{e.code} — {e.title}") for e in entries]
    message = _("Choose an indicator from the library.")
    schema.add(colander.SchemaNode(
        colander.String(), name="entry", title=_("Indicator from the library"), missing_msg=message,
        validator=colander.OneOf([str(e.id) for e in entries], msg_err=message),
        widget=deform.widget.SelectWidget(values=values)))
    schema.add(_text("code", _("Code in this framework"), max_len=40, direction="ltr", missing="",
                     description=_("Leave blank to keep the library's code.")))
    levels = levels_for(award.round.programme)
    schema.add(colander.SchemaNode(
        colander.String(), name="level", title=_("Level"), missing="",
        description=_("Leave blank to keep the library's level."),
        validator=colander.OneOf([""] + list(levels), msg_err=_("Choose the level of results the indicator "
                                                                 "measures.")),
        widget=deform.widget.SelectWidget(values=[("", translate(request, _("The library's level")))]
                                          + _choices(request, [(k, kind_title(k)) for k in levels]))))
    _baseline_nodes(schema)
    schema.add(_toc_element_node(request, elements))
    schema.add(_targets_node(reports))
    return schema


#: Service fields → form fields (targets are ``target-<report id>`` in the service).
INDICATOR_FIELDS = {name: name for name in (
    "code", "title", "level", "measure", "unit", "method", "disaggregation", "baseline_value", "baseline_date",
    "baseline_missing_reason", "toc_element")}


def indicator_field_map(reports) -> dict:
    return {**INDICATOR_FIELDS, **{f"target-{r.id}": f"targets.r{r.id}" for r in reports}}


def indicator_values(indicator) -> dict:
    """An indicator as its form shows it."""
    return {
        "code": indicator.code, "title": as_form_value(indicator, "title", languages_of(indicator)),
        "level": indicator.level, "measure": indicator.measure,
        "unit": as_form_value(indicator, "unit", languages_of(indicator)), "direction": "up" if indicator.ascending else "down", "method": indicator.method,
        "disaggregation": set(indicator.disaggregation or ()), "baseline_value": indicator.baseline_value,
        "baseline_date": indicator.baseline_date, "baseline_missing_reason": indicator.baseline_missing_reason,
        "toc_element": "" if indicator.toc_element_id is None else str(indicator.toc_element_id),
        "targets": {f"r{t.report_id}": t.value for t in indicator.targets},
    }
