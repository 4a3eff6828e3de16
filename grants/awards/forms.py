"""Forms of the award pages and of the award and tranche transitions (a transition's
reason is its comment).

Dates are day, month and year fields in a fieldset (``DateNode``), read as leniently as
everywhere else (Arabic-Indic digits, month names in English, French and Arabic).  Amounts
are typed as people write them and read with :func:`grants.money.parse_money` in the
page's locale; when the currency is chosen in the same form, the amount is read against
the chosen currency (``award_money``)."""
from __future__ import annotations

import unicodedata
from decimal import Decimal

import colander
import deform

from grants.i18n import PluralLength, _, current_locale, ngettext
from grants.incubation.forms import RADIOS, DateNode, OptionalDateNode
from grants.money import CURRENCIES, MoneyError, currency_label, parse_money
from grants.programmes.forms import COMMON_CURRENCIES, FIELDSET, MoneyType, money_widget

from .models import BudgetLine

TEXT_MAX = 20000
CATEGORY_MAX = BudgetLine.__table__.c.category.type.length  # as long as the column that keeps it
#: The form template for forms that upload a file (deform's, with multipart encoding).
UPLOAD_FORM_TEMPLATE = "grants.templates:awards/upload_form.pt"
FILE_INPUT_TEMPLATE = "grants.templates:awards/file_input.pt"


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _long_text(title, description, *, required=True, name="", missing_msg=None):
    missing_msg = missing_msg or _("This cannot be empty.")
    validator = PluralLength(min=1 if required else 0, max=TEXT_MAX, min_err=missing_msg,
                             max_err=ngettext(
                                 "Keep this to ${count} character or fewer.",
                                 "Keep this to ${count} characters or fewer.", TEXT_MAX))
    return colander.SchemaNode(
        colander.String(), name=name, title=title, description=description, preparer=_strip, validator=validator,
        missing=colander.required if required else "", missing_msg=missing_msg,
        widget=deform.widget.TextAreaWidget(rows=6, attributes={"dir": "auto"}))


# -- dates ----------------------------------------------------------------------------------------------


def _date_messages(title) -> dict:
    field = {"field": title}
    return {
        "missing": _("${field}: enter a date with a day, month and year, like 1 7 2019", mapping=field),
        "day": _("${field}: enter the day as a number from 1 to 31", mapping=field),
        "month": _("${field}: enter the month as a number from 1 to 12 or its name, like 7 or July", mapping=field),
        "year": _("${field}: enter the year with 4 digits, like 2019", mapping=field),
        "real": _("${field}: enter a real date, like 30 9 2019", mapping=field),
    }


def date_node(title, hint=None, *, optional: bool = False, name: str | None = None) -> DateNode:
    node = (OptionalDateNode if optional else DateNode)(title=title, hint=hint or _("For example, 1 7 2019."),
                                                       **({"name": name} if name else {}))
    node.messages = _date_messages(title)
    if optional:
        node.missing = None
    return node


# -- numbers --------------------------------------------------------------------------------------------


def parse_decimal(text: str) -> Decimal:
    """A decimal that cannot be negative (a share, a rate), read as people type it
    (:func:`grants.mel.framework.read_decimal`); ValueError otherwise."""
    from grants.mel.framework import read_decimal

    value = read_decimal(unicodedata.normalize("NFKC", str(text or "")))
    if value < 0:
        raise ValueError(text)
    return value


# -- uploads --------------------------------------------------------------------------------------------


class UploadType(colander.SchemaType):
    """A file input: the uploaded field storage, or ``colander.null`` when none was chosen."""

    def serialize(self, node, appstruct):
        return colander.null

    def deserialize(self, node, cstruct):
        if cstruct in (colander.null, None, "") or not getattr(cstruct, "filename", None):
            return colander.null
        return cstruct


class FileInputWidget(deform.widget.Widget):
    """``<input type="file">`` (keyboard-usable, labelled); ``kept`` names a file already
    uploaded with an earlier try of the form, which is used unless another is chosen."""

    template = FILE_INPUT_TEMPLATE
    accept = "application/pdf,.pdf"
    kept = None

    def serialize(self, field, cstruct, **kw):
        values = self.get_template_values(field, cstruct, kw)
        return field.renderer(self.template, **values)

    def deserialize(self, field, pstruct):
        return colander.null if pstruct in (colander.null, None, "") else pstruct


def _agreement_nodes(schema) -> None:
    schema.add(colander.SchemaNode(
        UploadType(), name="agreement", title=_("Grant agreement (PDF)"), missing=None,
        description=_("The agreement signed by both parties, as a PDF of 10 MB or less."),
        widget=FileInputWidget()))
    schema.add(colander.SchemaNode(colander.String(), name="agreement_kept", missing="",
                                   widget=deform.widget.HiddenWidget()))
    schema.add(date_node(_("Agreement signed on"), _("Leave it empty until the agreement is signed."),
                         optional=True, name="agreement_signed_on"))


# -- making an award ------------------------------------------------------------------------------------


def currency_choices(*first: str) -> list[tuple[str, str]]:
    """The programme's (and the application's) currency first, then the ones our
    programmes use; any ISO 4217 code given in ``first`` is offered."""
    codes = list(dict.fromkeys([c for c in first if c in CURRENCIES] + list(COMMON_CURRENCIES)))
    return [(code, code) for code in codes]


def _cadence_choices():
    from .services import CADENCE_TITLES

    return list(CADENCE_TITLES.items())


def make_award_schema(currencies: list[tuple[str, str]]) -> colander.MappingSchema:
    """Amount and currency, dates, reporting cadence, the agreement, and optionally the
    source budget in another currency (a US-dollar budget granted in dinars, say)."""
    schema = colander.MappingSchema(validator=_award_money_validator)
    schema.add(colander.SchemaNode(
        colander.String(), name="amount", title=_("Amount awarded"), preparer=_strip,
        missing_msg=_("Enter the amount awarded, like 45,000"),
        description=_("In the currency below, with its decimals (TND has 3: 45,000.500)."),
        widget=deform.widget.TextInputWidget(css_class="ltr-value", attributes={
            "inputmode": "decimal", "autocomplete": "off", "spellcheck": "false", "dir": "ltr"})))
    schema.add(colander.SchemaNode(
        colander.String(), name="currency", title=_("Currency"),
        validator=colander.OneOf([c for c, _t in currencies], msg_err=_("Choose the award's currency")),
        widget=deform.widget.SelectWidget(values=currencies, css_class="w-auto")))
    schema.add(date_node(_("Starts on"), name="starts_on"))
    schema.add(date_node(_("Ends on"), _("The last day of the grant. For example, 30 6 2020."), name="ends_on"))
    cadences = _cadence_choices()
    schema.add(colander.SchemaNode(
        colander.String(), name="cadence", title=_("The grantee reports"), default="quarterly",
        validator=colander.OneOf([c for c, _t in cadences], msg_err=_("Choose how often the grantee reports")),
        missing_msg=_("Choose how often the grantee reports"),
        widget=deform.widget.RadioChoiceWidget(values=cadences, template=RADIOS, category="structural")))
    _agreement_nodes(schema)
    schema.add(colander.SchemaNode(
        colander.String(), name="source_amount", title=_("Source budget (optional)"), missing="", preparer=_strip,
        description=_("When the budget was granted in another currency: the amount in that currency."),
        widget=deform.widget.TextInputWidget(css_class="ltr-value", attributes={
            "inputmode": "decimal", "autocomplete": "off", "spellcheck": "false", "dir": "ltr"})))
    schema.add(colander.SchemaNode(
        colander.String(), name="source_currency", title=_("Source budget's currency"), missing="",
        widget=deform.widget.SelectWidget(values=[("", _("None"))] + list(currencies), css_class="w-auto")))
    schema.add(colander.SchemaNode(
        colander.String(), name="fx_rate", title=_("Exchange rate"), missing="", preparer=_strip,
        description=_("How many units of the award's currency one unit of the source currency was worth, "
                      "like 2.9875."),
        widget=deform.widget.TextInputWidget(css_class="w-auto", attributes={
            "inputmode": "decimal", "autocomplete": "off", "dir": "ltr", "size": "12"})))
    schema.add(date_node(_("Rate of"), _("The day of the exchange rate."), optional=True, name="fx_date"))
    return schema


def award_money(values: dict, locale: str | None):
    """(amount, source amount or None, rate or None, problems) read from the form's text."""
    problems = []
    amount = source = rate = None
    try:
        amount = parse_money(values.get("amount") or "", values.get("currency") or "", locale)
    except MoneyError as exc:
        problems.append(("amount", exc.message))
    if values.get("source_amount"):
        if not values.get("source_currency"):
            problems.append(("source_currency", _("Choose the source budget's currency")))
        else:
            try:
                source = parse_money(values["source_amount"], values["source_currency"], locale)
            except MoneyError as exc:
                problems.append(("source_amount", exc.message))
    elif values.get("fx_rate"):
        problems.append(("source_amount", _("Give the source budget's amount, or leave the exchange rate empty")))
    if values.get("fx_rate"):
        try:
            rate = parse_decimal(values["fx_rate"])
        except ValueError:
            problems.append(("fx_rate", _("Enter the exchange rate as a number, like 2.9875")))
        else:
            if rate <= 0:
                problems.append(("fx_rate", _("Enter the exchange rate as a number, like 2.9875")))
    return amount, source, rate, problems


def _award_money_validator(node, value):
    *_values, problems = award_money(value, _locale())
    if problems:
        error = colander.Invalid(node)
        for name, message in problems:
            error[name] = message
        raise error


def _locale():
    from pyramid.threadlocal import get_current_request

    request = get_current_request()
    return getattr(request, "locale_name", None)


class AgreementSchema(colander.MappingSchema):
    """The signed agreement, later: its PDF and/or the day it was signed."""

    def after_bind(self, node, kw):
        _agreement_nodes(node)


# -- amending -------------------------------------------------------------------------------------------


def amend_schema(award, locale: str | None) -> colander.MappingSchema:
    schema = colander.MappingSchema()
    schema.add(colander.SchemaNode(
        MoneyType(award.currency, locale), name="amount", title=_("Amount"),
        description=_("Not less than what is already released or paid."),
        missing_msg=_("Enter the award's amount, like 45,000"), widget=money_widget(award.currency)))
    schema.add(date_node(_("Starts on"), name="starts_on"))
    schema.add(date_node(_("Ends on"), _("The last day of the grant. For example, 30 6 2020."), name="ends_on"))
    schema.add(_long_text(_("Reason"), _("Why the terms change: it is kept with the award."), name="reason",
                          missing_msg=_("Give the reason for the change: it is kept with the award.")))
    return schema


# -- the payment schedule -------------------------------------------------------------------------------


def condition_choices(registry, award):
    """What the award's tranches may wait for: grants' conditions and its programme's plugins'."""
    from .services import conditions_for

    return [(name, c.title) for name, c in conditions_for(registry, award).items()]


def schedule_schema(award, report_choices: list[tuple[str, str]], rows: int, registry=None) -> colander.MappingSchema:
    """How the shares are given (percentages or amounts) and ``rows`` tranche rows, each a
    fieldset: share, due date, condition and the report it waits for.  Blank rows are
    ignored."""
    schema = colander.MappingSchema()
    modes = [("percent", _("As percentages of the award")),
             ("amount", _("As amounts in ${currency}", mapping={"currency": award.currency}))]
    schema.add(colander.SchemaNode(
        colander.String(), name="mode", title=_("Give the tranches"), default="percent",
        validator=colander.OneOf([m for m, _t in modes], msg_err=_("Choose percentages or amounts")),
        missing_msg=_("Choose percentages or amounts"),
        widget=deform.widget.RadioChoiceWidget(values=modes, template=RADIOS, inline=True, category="structural")))
    conditions = condition_choices(registry, award)
    reports = [("", _("No report"))] + report_choices
    for number in range(1, rows + 1):
        row = colander.MappingSchema(name=f"tranche_{number}", title=_("Tranche ${number}", mapping={"number": number}),
                                     widget=deform.widget.MappingWidget(template=FIELDSET, category="structural"))
        row.add(colander.SchemaNode(
            colander.String(), name="share", title=_("Percentage or amount"), missing="", preparer=_strip,
            widget=deform.widget.TextInputWidget(css_class="w-auto", attributes={
                "inputmode": "decimal", "autocomplete": "off", "dir": "ltr", "size": "14"})))
        row.add(date_node(_("Due on"), _("Optional. For example, 15 7 2019."), optional=True, name="due_on"))
        row.add(colander.SchemaNode(
            colander.String(), name="condition", title=_("Released when"), missing="none",
            validator=colander.OneOf([c for c, _t in conditions], msg_err=_("Choose what the tranche waits for")),
            widget=deform.widget.SelectWidget(values=conditions, css_class="w-auto")))
        row.add(colander.SchemaNode(
            colander.String(), name="condition_report", title=_("Report to be accepted"), missing="",
            validator=colander.OneOf([r for r, _t in reports], msg_err=_("Choose a report of this award")),
            widget=deform.widget.SelectWidget(values=reports, css_class="w-auto")))
        schema.add(row)
    return schema


# -- the budget -----------------------------------------------------------------------------------------


def budget_schema(award, locale: str | None, rows: int, languages=None) -> colander.MappingSchema:
    """``rows`` budget lines: a category and the amount planned; blank rows are ignored.
    The category has one input per language of the programme (``languages``, the default
    first), each with its ``lang`` and ``dir``; with one language, a single input."""
    from grants.multilingual import languages_of, multilingual_node

    languages = list(languages or languages_of(award))
    schema = colander.MappingSchema()
    for number in range(1, rows + 1):
        row = colander.MappingSchema(name=f"line_{number}", title=_("Line ${number}", mapping={"number": number}),
                                     widget=deform.widget.MappingWidget(template=FIELDSET, category="structural",
                                                                        inline=True))
        if len(languages) > 1:
            row.add(multilingual_node("category", _("Category"), languages, max_length=CATEGORY_MAX))
        else:
            row.add(colander.SchemaNode(
                colander.String(), name="category", title=_("Category"), missing="", preparer=_strip,
                max_length=CATEGORY_MAX,
                widget=deform.widget.TextInputWidget(item_css_class="me-3", attributes={
                    "dir": "auto", "lang": languages[0], "autocomplete": "off"})))
        row.add(colander.SchemaNode(
            MoneyType(award.currency, locale), name="planned", title=_("Planned"), missing=None,
            widget=deform.widget.TextInputWidget(input_append=currency_label(award.currency, locale or current_locale()),
                                                 css_class="ltr-value",
                                                 item_css_class="me-3", attributes={
                                                     "inputmode": "decimal", "autocomplete": "off", "dir": "ltr"})))
        schema.add(row)
    return schema


def expenditure_schema(award, locale: str | None, line_choices, report_choices) -> colander.MappingSchema:
    schema = colander.MappingSchema()
    schema.add(colander.SchemaNode(
        colander.String(), name="line", title=_("Budget line"),
        validator=colander.OneOf([v for v, _t in line_choices], msg_err=_("Choose the budget line")),
        missing_msg=_("Choose the budget line"),
        widget=deform.widget.SelectWidget(values=[("", _("Choose…"))] + line_choices, css_class="w-auto")))
    schema.add(colander.SchemaNode(
        MoneyType(award.currency, locale), name="amount", title=_("Amount spent"),
        missing_msg=_("Enter the amount spent, like 1,250"), widget=money_widget(award.currency)))
    schema.add(date_node(_("Spent on"), name="spent_on"))
    reports = [("", _("Not with a report"))] + report_choices
    schema.add(colander.SchemaNode(
        colander.String(), name="report", title=_("Reported in"), missing="",
        validator=colander.OneOf([v for v, _t in reports], msg_err=_("Choose a report of this award")),
        widget=deform.widget.SelectWidget(values=reports, css_class="w-auto")))
    schema.add(colander.SchemaNode(
        colander.String(), name="note", title=_("Note"), missing="", preparer=_strip,
        description=_("Optional: what it paid for, the invoice's number."),
        max_length=2000, widget=deform.widget.TextAreaWidget(rows=2, attributes={"dir": "auto"})))
    return schema


# -- the workflows' forms -------------------------------------------------------------------------------


class NoCostExtensionSchema(colander.MappingSchema):
    """A later end date with the same money (the reason is the comment)."""

    new_end_date = date_node(_("New end date"), _("Later than the current end date. The amount does not change. "
                                                  "For example, 30 9 2020."))


class EarlyEndSchema(colander.MappingSchema):
    """Ending a grant early needs an exit plan and a rationale (ending abruptly can harm
    the people a project serves and the trust it built with them)."""

    ended_on = date_node(_("Last day of the grant"))
    rationale = _long_text(_("Rationale"), _("Why the grant ends before its end date."),
                           missing_msg=_("Give the rationale: why the grant ends before its end date"))
    exit_plan = _long_text(_("Exit plan"), _("How the work and the people it serves are handed over or wound "
                                             "down responsibly."),
                           missing_msg=_("Give the exit plan: how the work and the people it serves are handed "
                                         "over or wound down"))


class DisbursementSchema(colander.MappingSchema):
    """A payment made against a released tranche, in the award's currency."""

    amount = colander.SchemaNode(MoneyType("USD"), title=_("Amount paid"),
                                 missing_msg=_("Enter the amount paid, like 18,000"))
    paid_on = date_node(_("Paid on"))
    reference = colander.SchemaNode(
        colander.String(), title=_("Payment reference"), missing="", preparer=_strip,
        description=_("Optional: the bank's or the ledger's reference."),
        validator=colander.Length(max=100, max_err=_("Keep the reference to 100 characters or fewer")),
        widget=deform.widget.TextInputWidget(attributes={"dir": "ltr", "autocomplete": "off"}))

    def after_bind(self, node, kw):
        # The tranche (the context) decides the currency; the page's locale how figures are read.
        tranche = kw.get("context")
        request = kw.get("request")
        currency = getattr(tranche, "currency", None) or "USD"
        locale = getattr(request, "locale_name", None) if request is not None else None
        node["amount"].typ = MoneyType(currency, locale)
        node["amount"].widget = money_widget(currency)
