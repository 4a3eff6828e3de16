"""Forms of the award and tranche transitions (the reason is the transition's comment)."""
from __future__ import annotations

import colander
import deform

from grants.i18n import _
from grants.programmes.forms import MoneyType, money_widget

TEXT_MAX = 20000


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _long_text(title, description):
    return colander.SchemaNode(
        colander.String(), title=title, description=description, preparer=_strip,
        validator=colander.Length(min=1, max=TEXT_MAX, min_err=_("This cannot be empty."),
                                  max_err=_("Keep this to ${max} characters or fewer.", mapping={"max": TEXT_MAX})),
        widget=deform.widget.TextAreaWidget(rows=6, attributes={"dir": "auto"}))


class NoCostExtensionSchema(colander.MappingSchema):
    """A later end date with the same money (the reason is the comment)."""

    new_end_date = colander.SchemaNode(
        colander.Date(), title=_("New end date"),
        description=_("Later than the current end date. The amount does not change."),
        widget=deform.widget.DateInputWidget())


class EarlyEndSchema(colander.MappingSchema):
    """Ending a grant early needs an exit plan and a rationale (ending abruptly can harm
    the people a project serves: DOMAIN.md §3.2)."""

    ended_on = colander.SchemaNode(colander.Date(), title=_("Last day of the grant"),
                                   widget=deform.widget.DateInputWidget())
    rationale = _long_text(_("Rationale"), _("Why the grant ends before its end date."))
    exit_plan = _long_text(_("Exit plan"), _("How the work and the people it serves are handed over or wound "
                                             "down responsibly."))


class DisbursementSchema(colander.MappingSchema):
    """A payment made against a released tranche, in the award's currency."""

    amount = colander.SchemaNode(MoneyType("USD"), title=_("Amount paid"))
    paid_on = colander.SchemaNode(colander.Date(), title=_("Paid on"), widget=deform.widget.DateInputWidget())
    reference = colander.SchemaNode(
        colander.String(), title=_("Payment reference"), missing="", preparer=_strip,
        validator=colander.Length(max=100),
        widget=deform.widget.TextInputWidget(attributes={"dir": "ltr", "autocomplete": "off"}))

    def after_bind(self, node, kw):
        # The tranche (the context) decides the currency; the page's locale how figures are read.
        tranche = kw.get("context")
        request = kw.get("request")
        currency = getattr(tranche, "currency", None) or "USD"
        locale = getattr(request, "locale_name", None) if request is not None else None
        node["amount"].typ = MoneyType(currency, locale)
        node["amount"].widget = money_widget(currency)
