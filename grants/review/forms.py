"""Forms of the review and decision steps."""
from __future__ import annotations

from decimal import Decimal, InvalidOperation

import colander
import deform

from grants.i18n import PluralLength, _, ngettext

REFERENCE_MAX = 100  # grants.review.models.Decision.funder_reference


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _reference_node(**kw) -> colander.SchemaNode:
    return colander.SchemaNode(
        colander.String(),
        title=_("Funder's decision reference"),
        description=_("The funder's own reference for this decision, such as a grant committee minute number."),
        missing="",
        preparer=_strip,
        validator=PluralLength(max=REFERENCE_MAX, max_err=ngettext(
            "Enter a funder's reference of ${count} character or fewer.",
            "Enter a funder's reference of ${count} characters or fewer.", REFERENCE_MAX)),
        widget=deform.widget.TextInputWidget(attributes={"dir": "auto", "autocomplete": "off"}),
        **kw)


class DecisionSchema(colander.MappingSchema):
    """The extra fields of every decision transition (the reason is the transition's
    comment): the funder's own reference for the decision."""

    funder_reference = _reference_node()


# -- moderation -----------------------------------------------------------------------------------


def _normalise_digits(text: str) -> str:
    from grants.programmes.forms import normalise_digits

    return normalise_digits(text)


class Score(colander.SchemaType):
    """A score typed by a person: any digits, a dot or a comma (or ٫) before the decimals.
    Empty is ``colander.null``; the range is the service's to check (1–5)."""

    message = _("Enter the moderated score as a number from 1 to 5, like 3.5.")

    def serialize(self, node, appstruct):
        return colander.null if appstruct in (colander.null, None) else str(appstruct)

    def deserialize(self, node, cstruct):
        if cstruct in (colander.null, None) or not str(cstruct).strip():
            return colander.null
        text = _normalise_digits(str(cstruct)).strip().replace("\u066b", ".").replace(",", ".")
        try:
            value = Decimal(text)
        except InvalidOperation:
            raise colander.Invalid(node, self.message, cstruct) from None
        if not value.is_finite():
            raise colander.Invalid(node, self.message, cstruct)
        return value


class ModerationSchema(colander.MappingSchema):
    score_after = colander.SchemaNode(
        Score(),
        title=_("Moderated score"),
        description=_("From 1 to 5, up to 3 decimal places, like 3.5. It replaces the computed score in the ranking."),
        missing_msg=_("Enter the moderated score as a number from 1 to 5, like 3.5."),
        widget=deform.widget.TextInputWidget(css_class="w-auto", attributes={
            "inputmode": "decimal", "size": "6", "dir": "ltr", "autocomplete": "off"}))
    reason = colander.SchemaNode(
        colander.String(),
        title=_("Reason for the moderation"),
        description=_("Kept with the scores before and after."),
        preparer=_strip,
        missing_msg=_("Give a reason for the moderation."),
        widget=deform.widget.TextAreaWidget(rows=3, attributes={"dir": "auto"}))


# -- overriding the suggested selection --------------------------------------------------------


@colander.deferred
def _application_widget(node, kw):
    return deform.widget.SelectWidget(values=[("", _("Choose an application"))] + list(kw.get("applications", ())))


@colander.deferred
def _application_validator(node, kw):
    return colander.OneOf([value for value, _label in kw.get("applications", ())],
                          msg_err=_("Choose an application from the ranking."))


def override_actions():
    return [("add", _("Add it to the selection")), ("remove", _("Remove it from the selection"))]


class OverrideSchema(colander.MappingSchema):
    """``applications`` (bound): (id, label) of the ranked applications."""

    application = colander.SchemaNode(
        colander.String(), title=_("Application"), widget=_application_widget, validator=_application_validator,
        missing_msg=_("Choose an application from the ranking."))
    # Not "action": an input of that name would hide the form's own action in browsers.
    change = colander.SchemaNode(
        colander.String(), title=_("Change"),
        validator=colander.OneOf([a for a, _label in override_actions()],
                                 msg_err=_("Choose whether to add the application to the selection or remove it.")),
        missing_msg=_("Choose whether to add the application to the selection or remove it."),
        # A list, not radio buttons: the error summary links to one input by its id.
        widget=deform.widget.SelectWidget(values=[("", _("Choose add or remove"))] + override_actions()))
    reason = colander.SchemaNode(
        colander.String(), title=_("Reason for the override"),
        description=_("Kept with the selection, with your name."),
        preparer=_strip,
        missing_msg=_("Give a reason for the override: it is kept with the selection."),
        widget=deform.widget.TextAreaWidget(rows=3, attributes={"dir": "auto"}))


# -- recording a round's decisions -------------------------------------------------------------


@colander.deferred
def _selected_widget(node, kw):
    return deform.widget.SelectWidget(values=list(kw["selected_choices"]))


@colander.deferred
def _selected_validator(node, kw):
    return colander.OneOf([v for v, _label in kw["selected_choices"]],
                          msg_err=_("Choose what the selected applications get."))


@colander.deferred
def _declined_widget(node, kw):
    return deform.widget.SelectWidget(values=list(kw["declined_choices"]))


@colander.deferred
def _declined_validator(node, kw):
    return colander.OneOf([v for v, _label in kw["declined_choices"]],
                          msg_err=_("Choose what the other applications get."))


class RoundDecisionSchema(colander.MappingSchema):
    """Bound with ``selected_choices`` and ``declined_choices`` ((trigger, title) pairs of
    the stage) and ``unscored`` (whether some candidates have no review yet)."""

    selected_trigger = colander.SchemaNode(
        colander.String(), title=_("The selected applications"), widget=_selected_widget,
        validator=_selected_validator, missing_msg=_("Choose what the selected applications get."))
    reason_selected = colander.SchemaNode(
        colander.String(), title=_("Message to the selected applicants"), missing="", preparer=_strip,
        description=_("Optional. Each selected applicant receives it with the decision."),
        widget=deform.widget.TextAreaWidget(rows=3, attributes={"dir": "auto"}))
    declined_trigger = colander.SchemaNode(
        colander.String(), title=_("The other ranked applications"), widget=_declined_widget,
        validator=_declined_validator, missing_msg=_("Choose what the other applications get."))
    reason_declined = colander.SchemaNode(
        colander.String(), title=_("Written feedback to the others"), missing="", preparer=_strip,
        description=_("Required when any application is not selected: each of them receives it as the reason."),
        widget=deform.widget.TextAreaWidget(rows=4, attributes={"dir": "auto"}))
    funder_reference = _reference_node()
    allow_unscored = colander.SchemaNode(
        colander.Boolean(), title=_("Decide without the applications that have no review yet"), missing=False,
        description=_("They stay as they are, to be decided later."),
        widget=deform.widget.CheckboxWidget())

    def after_bind(self, node, kw):
        if not kw.get("unscored"):
            del node["allow_unscored"]
