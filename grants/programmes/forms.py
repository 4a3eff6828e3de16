"""Forms for programmes and rounds: exact money, dates as day, month and year fields in a
fieldset (entered in the round's time zone), and eligibility rules as plain choices.

Values are read leniently (Arabic-Indic digits, month names in English, French and the
Arabic variants, "9h30"), and every message says how to put the answer right.
"""
from __future__ import annotations

import datetime as dt
import functools
import re
import unicodedata
import zoneinfo

import colander
import deform

from grants.forms import FormSchema
from grants.i18n import _, deployment_languages
from grants.multilingual import multilingual_node
from grants.money import CURRENCIES, MoneyError, format_amount, parse_money
from grants.text import LONG_MAX

from .models import FUNDER_KINDS, FUNDER_ROLES, Funder

# As long as the columns that keep them.
FUNDER_NAME_MAX = Funder.__table__.c.name.type.length
FUNDER_IDENTIFIER_MAX = Funder.__table__.c.identifier.type.length

FIELDSET = "grants.templates:programmes/fieldset.pt"

COMMON_CURRENCIES = ("GBP", "USD", "EUR", "TND", "MAD", "DZD", "JOD", "IQD", "LBP", "EGP", "KES", "UGX", "AUD",
                     "CAD", "CHF", "MKD", "ALL", "RSD", "BAM", "ZAR", "NZD")
COMMON_ZONES = ("UTC", "Europe/London", "Africa/Tunis", "Africa/Casablanca", "Africa/Algiers", "Africa/Cairo",
                "Asia/Amman", "Asia/Baghdad", "Asia/Beirut", "Africa/Nairobi", "Africa/Kampala", "Europe/Paris",
                "Europe/Skopje", "Europe/Tirane", "Europe/Belgrade", "Australia/Sydney", "America/New_York")


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def normalise_digits(text: str) -> str:
    """Arabic-Indic (٠-٩), Persian (۰-۹) and other decimal digits to 0-9."""
    return "".join(str(unicodedata.decimal(c)) if unicodedata.category(c) == "Nd" else c for c in text)


# -- money ----------------------------------------------------------------------------------


class MoneyType(colander.SchemaType):
    """A text input holding an amount in one currency: ``Money`` in the appstruct, the
    figure as the page's locale writes it in the cstruct.  Empty is ``colander.null``."""

    def __init__(self, currency: str, locale: str | None = None):
        self.currency = currency
        self.locale = locale

    def serialize(self, node, appstruct):
        if appstruct in (colander.null, None):
            return colander.null
        return format_amount(appstruct, self.locale or "en")

    def deserialize(self, node, cstruct):
        if cstruct in (colander.null, None) or not str(cstruct).strip():
            return colander.null
        try:
            return parse_money(str(cstruct), self.currency, self.locale)
        except MoneyError as exc:
            raise colander.Invalid(node, exc.message, cstruct) from None


def money_widget(currency: str, locale: str | None = None) -> deform.widget.TextInputWidget:
    """An amount input with the currency beside it as the page's language names it
    (``locale``, else the request's)."""
    from grants.i18n import current_locale
    from grants.money import currency_label

    return deform.widget.TextInputWidget(
        input_append=currency_label(currency, locale or current_locale()) if currency else currency,
        css_class="ltr-value",
        attributes={"inputmode": "decimal", "autocomplete": "off", "spellcheck": "false", "dir": "ltr"})


def _bind_money(node: colander.SchemaNode, currency: str, locale: str) -> None:
    node.typ = MoneyType(currency, locale)
    node.widget = money_widget(currency, locale)


class WholeNumber(colander.SchemaType):
    """A whole number typed with any digits; empty is ``colander.null``."""

    def __init__(self, minimum: int = 0, maximum: int | None = None, message=None):
        self.minimum, self.maximum, self.message = minimum, maximum, message

    def serialize(self, node, appstruct):
        return colander.null if appstruct in (colander.null, None) else str(appstruct)

    def deserialize(self, node, cstruct):
        if cstruct in (colander.null, None) or not str(cstruct).strip():
            return colander.null
        text = normalise_digits(str(cstruct)).strip().rstrip("%٪").strip()
        if not text.isdigit() or int(text) < self.minimum or (self.maximum is not None and int(text) > self.maximum):
            raise colander.Invalid(node, self.message or _("Enter a whole number, like 3"), cstruct)
        return int(text)


# -- dates ----------------------------------------------------------------------------------


def _fold(text: str) -> str:
    """Month names compared without case, accents, Arabic hamza forms or dots."""
    text = unicodedata.normalize("NFKD", text.casefold())
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = text.replace("\u0640", "")  # tatweel
    for a, b in (("أ", "ا"), ("إ", "ا"), ("آ", "ا"), ("ٱ", "ا"), ("ى", "ي"), ("ة", "ه")):
        text = text.replace(a, b)
    return re.sub(r"[\s.\u00a0]+", "", text)


@functools.lru_cache(maxsize=1)
def month_names() -> dict[str, int]:
    """Folded month names → month number, in English, French and the Arabic variants
    (Egyptian/Gulf يناير, Levantine كانون الثاني, Maghreb جانفي / يناير…)."""
    from babel import Locale

    names: dict[str, set[int]] = {}
    for code in ("en", "fr", "ar", "ar_TN", "ar_DZ", "ar_MA", "ar_LB", "ar_SY", "ar_JO", "ar_IQ"):
        months = Locale.parse(code).months
        for context in ("format", "stand-alone"):
            for width in ("wide", "abbreviated"):
                for number, name in months.get(context, {}).get(width, {}).items():
                    names.setdefault(_fold(name), set()).add(number)
    for extra, number in (("sept", 9), ("june", 6), ("july", 7), ("fevrier", 2)):
        names.setdefault(extra, set()).add(number)
    return {name: numbers.pop() for name, numbers in names.items() if len(numbers) == 1}


_TIME = re.compile(r"^(\d{1,2})(?:\s*[:.hH٫]\s*(\d{2}))?\s*(am|pm|a\.m\.|p\.m\.|ص|م)?$", re.IGNORECASE)

_DATE_MESSAGES = {
    "opens": {
        "missing": _("Enter the date the round opens, with a day, month and year"),
        "day": _("Enter the day the round opens as a number from 1 to 31"),
        "month": _("Enter the month the round opens as a number from 1 to 12 or its name, like 12 or December"),
        "year": _("Enter the year the round opens with 4 digits, like 2026"),
        "real": _("Enter a real date for the opening, like 14 1 2026"),
        "time": _("Enter the time the round opens on a 24-hour clock, like 09:00"),
    },
    "closes": {
        "missing": _("Enter the date the round closes, with a day, month and year"),
        "day": _("Enter the day the round closes as a number from 1 to 31"),
        "month": _("Enter the month the round closes as a number from 1 to 12 or its name, like 12 or December"),
        "year": _("Enter the year the round closes with 4 digits, like 2026"),
        "real": _("Enter a real date for the closing, like 5 5 2026"),
        "time": _("Enter the time the round closes on a 24-hour clock, like 17:00"),
    },
}


def parse_local_datetime(parts: dict, event: str) -> dt.datetime | None:
    """Day, month, year and time as typed → a naive local datetime, None if all are
    blank; ValueError carrying the message otherwise."""
    messages = _DATE_MESSAGES[event]
    day, month, year, time = (normalise_digits((parts.get(k) or "")).strip() for k in ("day", "month", "year", "time"))
    if not (day or month or year):
        return None  # no date yet (a time alone is the form's default, not an answer)
    if not (day and month and year):
        raise ValueError(messages["missing"])
    if not day.isdigit() or not 1 <= int(day) <= 31:
        raise ValueError(messages["day"])
    if month.isdigit():
        month_number = int(month)
    else:
        month_number = month_names().get(_fold(month), 0)
    if not 1 <= month_number <= 12:
        raise ValueError(messages["month"])
    if not year.isdigit() or len(year) != 4:
        raise ValueError(messages["year"])
    match = _TIME.match(time.replace("\u00a0", " ")) if time else None
    if match is None:
        raise ValueError(messages["time"])
    hour, minute = int(match.group(1)), int(match.group(2) or 0)
    suffix = (match.group(3) or "").lower().replace(".", "")
    if suffix in ("pm", "م") and hour < 12:
        hour += 12
    elif suffix in ("am", "ص") and hour == 12:
        hour = 0
    if hour > 23 or minute > 59:
        raise ValueError(messages["time"])
    try:
        return dt.datetime(int(year), month_number, int(day), hour, minute)
    except ValueError:
        raise ValueError(messages["real"]) from None


def localise(naive: dt.datetime, zone: str) -> dt.datetime:
    """A wall-clock time in ``zone`` as an aware UTC datetime.  A time the clocks skip
    (spring forward) is refused with a message; a repeated one (autumn) is the first."""
    tz = zoneinfo.ZoneInfo(zone)
    aware = naive.replace(tzinfo=tz, fold=0)
    utc = aware.astimezone(dt.timezone.utc)
    if utc.astimezone(tz).replace(tzinfo=None) != naive:
        raise ValueError(_("${time} does not exist in ${zone}: the clocks go forward then. Choose a time an hour "
                           "later", mapping={"time": f"{naive:%H:%M}", "zone": zone}))
    return utc


def local_parts(moment: dt.datetime | None, zone: str) -> dict:
    """An aware moment as the day, month, year and time fields show it in ``zone``."""
    if moment is None:
        return {}
    local = moment.astimezone(zoneinfo.ZoneInfo(zone))
    return {"day": str(local.day), "month": str(local.month), "year": str(local.year), "time": f"{local:%H:%M}"}


def _part(title, size: int, *, description=None, name=None, default=colander.null, inputmode="numeric",
          direction="ltr"):
    attributes = {"size": str(size), "autocomplete": "off", "dir": direction, "inputmode": inputmode}
    return colander.SchemaNode(colander.String(), title=title, missing="", default=default, description=description,
                               widget=deform.widget.TextInputWidget(css_class="w-auto", attributes=attributes,
                                                                    item_css_class="me-3"),
                               **({"name": name} if name else {}))


class LocalDateTimeNode(colander.MappingSchema):
    """Day, month, year and time in one fieldset.  Deserialises to a naive local
    datetime (the view applies the round's zone) or None when left blank."""

    event = "opens"
    widget = deform.widget.MappingWidget(template=FIELDSET, category="structural", inline=True)

    day = _part(_("Day"), 2)
    month = _part(_("Month"), 9, inputmode="text", direction="auto")
    year = _part(_("Year"), 4)
    time = _part(_("Time"), 5, inputmode="text")  # numeric keypads lack ":"

    def deserialize(self, cstruct=colander.null):
        parts = super().deserialize(cstruct)
        try:
            return parse_local_datetime(parts if isinstance(parts, dict) else {}, self.event)
        except ValueError as exc:
            raise colander.Invalid(self, exc.args[0], cstruct) from None

    def serialize(self, appstruct=colander.null):
        if isinstance(appstruct, dt.datetime):
            appstruct = {"day": str(appstruct.day), "month": str(appstruct.month), "year": str(appstruct.year),
                         "time": f"{appstruct:%H:%M}"}
        return super().serialize(appstruct)


@functools.lru_cache(maxsize=1)
def zone_choices() -> list[tuple[str, str]]:
    common = [z for z in COMMON_ZONES]
    rest = sorted(z for z in zoneinfo.available_timezones() if z not in common and "/" in z
                  and not z.startswith(("Etc/", "SystemV/", "US/", "posix/", "right/")))
    return [(z, z) for z in common] + [(z, z) for z in rest]


@colander.deferred
def _zone_validator(node, kw):
    return colander.OneOf([z for z, _label in zone_choices()],
                          msg_err=_("Choose the round's time zone from the list, like Africa/Tunis or Europe/London"))


# -- eligibility rules -------------------------------------------------------------------------


def _split_codes(text: str) -> list[str]:
    return [c for c in re.split(r"[\s,;،؛]+", normalise_digits(text or "")) if c]


class EligibilityNode(colander.MappingSchema):
    """The rules a round declares, as choices.  The view turns them into the stored list
    (``services.normalise_eligibility_rules``), which someone else's code evaluates."""

    widget = deform.widget.MappingWidget(template=FIELDSET, category="structural")

    registered_organisation = colander.SchemaNode(
        colander.Boolean(), title=_("Only officially registered organisations may apply"), missing=False,
        widget=deform.widget.CheckboxWidget())
    regions = colander.SchemaNode(
        colander.String(), title=_("Regions applicants must work in"), missing="", preparer=_strip,
        description=_("ISO 3166-2 codes separated by spaces or commas, like TN-73 TN-81. Leave blank to accept every "
                      "region."),
        widget=deform.widget.TextInputWidget(css_class="ltr-value", attributes={"dir": "ltr", "autocomplete": "off",
                                                                              "spellcheck": "false"}))
    amount_within_max = colander.SchemaNode(
        colander.Boolean(), title=_("The amount asked must not exceed the largest grant-size tier"), missing=False,
        widget=deform.widget.CheckboxWidget())
    attachments = colander.SchemaNode(
        colander.String(), title=_("Attachments every application must include"), missing="", preparer=_strip,
        description=_("Kinds of attachment separated by commas, like registration_certificate, budget. Leave blank "
                      "if none is required."),
        widget=deform.widget.TextInputWidget(css_class="ltr-value", attributes={"dir": "ltr", "autocomplete": "off",
                                                                              "spellcheck": "false"}))


#: The kinds of rule the round form shows (a plugin's kinds are declared otherwise).
FORM_RULE_KINDS = ("registered_organisation", "region_in", "amount_within_max", "required_attachments")


def rules_from_form(values: dict) -> list[dict]:
    rules: list[dict] = []
    if values.get("registered_organisation"):
        rules.append({"kind": "registered_organisation"})
    regions = _split_codes(values.get("regions", ""))
    if regions:
        rules.append({"kind": "region_in", "regions": [c.upper() for c in regions]})
    if values.get("amount_within_max"):
        rules.append({"kind": "amount_within_max"})
    attachments = _split_codes(values.get("attachments", ""))
    if attachments:
        rules.append({"kind": "required_attachments", "attachments": attachments})
    return rules


def rules_to_form(rules: list[dict]) -> dict:
    values = {"registered_organisation": False, "regions": "", "amount_within_max": False, "attachments": ""}
    for rule in rules or ():
        kind = rule.get("kind")
        if kind == "registered_organisation":
            values["registered_organisation"] = True
        elif kind == "region_in":
            values["regions"] = " ".join(rule.get("regions", ()))
        elif kind == "amount_within_max":
            values["amount_within_max"] = True
        elif kind == "required_attachments":
            values["attachments"] = ", ".join(rule.get("attachments", ()))
    return values


# -- the round form -----------------------------------------------------------------------------


def _opens_node():
    # ``hint``, not ``description``: the fieldset shows it under its legend (a description
    # would be shown a second time after the fieldset).
    node = LocalDateTimeNode(title=_("Opens"), hint=_("In the round's time zone, on a 24-hour clock. For example, "
                                                      "14 1 2026 and 09:00."))
    node.event = "opens"
    return node


def _closes_node():
    node = LocalDateTimeNode(title=_("Closes"), hint=_("In the round's time zone, on a 24-hour clock. For example, "
                                                       "5 5 2026 and 17:00."))
    node.event = "closes"
    return node


class RoundSchema(FormSchema):
    title = colander.SchemaNode(
        colander.String(), title=_("Name of the round"), preparer=_strip,
        description=_("What applicants will see, like “Call 4 — 2023”."),
        validator=colander.Length(min=1, max=300, min_err=_("Enter the round's name, like “Call 4”"),
                                  max_err=_("Enter a name of 300 characters or fewer")),
        missing_msg=_("Enter the round's name, like “Call 4”"),
        widget=deform.widget.TextInputWidget(attributes={"dir": "auto", "autocomplete": "off"}))
    timezone = colander.SchemaNode(
        colander.String(), title=_("Time zone"),
        description=_("Opening and closing times are entered and shown in this zone."),
        validator=_zone_validator,
        missing_msg=_("Choose the round's time zone from the list, like Africa/Tunis or Europe/London"),
        widget=deform.widget.SelectWidget(values=zone_choices()))
    opens = _opens_node()
    closes = _closes_node()
    budget = colander.SchemaNode(
        colander.String(), title=_("Budget"), missing=None,
        description=_("The money available for grants in this round, in the programme's currency."))
    application_form_version = colander.SchemaNode(
        colander.String(), title=_("Application form version"), missing=None, preparer=_strip,
        description=_("The version of the application form new applications use. It may change while the round is "
                      "open; applications already made keep the version they were made with."),
        validator=colander.Length(max=40, max_err=_("Enter a form version of 40 characters or fewer")),
        widget=deform.widget.TextInputWidget(css_class="ltr-value", attributes={"dir": "ltr", "autocomplete": "off"}))
    # Chosen from a list like the application form (the view fills it in: _choices).
    proposal_form_version = colander.SchemaNode(
        colander.String(), title=_("Second-stage proposal form"), missing=None, preparer=_strip,
        description=_("The form of the full proposal shortlisted applicants are invited to write. It may change at "
                      "any time; proposals already begun keep the version they began with."),
        validator=colander.Length(max=40, max_err=_("Enter a form version of 40 characters or fewer")),
        widget=deform.widget.TextInputWidget(css_class="ltr-value", attributes={"dir": "ltr", "autocomplete": "off"}))
    # Chosen from a list of the rubrics the programme may use (the view fills it in:
    # grants.review.rubrics.rubric_choices); "" leaves it to the programme's default.
    rubric_id = colander.SchemaNode(
        WholeNumber(minimum=1, message=_("Choose a rubric from the list.")),
        title=_("Review rubric"), missing=None,
        description=_("The rubric reviewers score applications with. Once applications are scored it can no longer "
                      "change."),
        widget=deform.widget.SelectWidget(values=[("", "—")]))
    blind_review = colander.SchemaNode(
        colander.Boolean(), title=_("Blind review: reviewers do not see who applied"), missing=False,
        widget=deform.widget.CheckboxWidget())
    eligibility = EligibilityNode(title=_("Eligibility rules"),
                                  hint=_("Applications that do not meet these rules are told why, on their own page."))

    def after_bind(self, node, kw):
        super().after_bind(node, kw)
        if "budget" in node:
            _bind_money(node["budget"], kw["currency"], kw["request"].locale_name)
        if "title" in node and kw.get("languages"):
            # One input per language of the programme, the default first and required.
            node["title"] = multilingual_node(
                "title", node["title"].title, kw["languages"], max_length=300, description=node["title"].description,
                required=_("Enter the round's name, like “Call 4”"))


#: Round form fields that stay editable once a round has left draft.
EDITABLE_AFTER_DRAFT = ("title", "rubric_id", "blind_review", "proposal_form_version")
#: ... and those editable while it is open (a new form version is for new applications only).
EDITABLE_WHILE_OPEN = EDITABLE_AFTER_DRAFT + ("application_form_version", "eligibility")


def round_schema(editable_only: bool = False, editable: tuple[str, ...] = EDITABLE_AFTER_DRAFT) -> RoundSchema:
    schema = RoundSchema()
    if editable_only:
        for node in list(schema.children):
            if node.name not in editable:
                del schema[node.name]
    return schema


#: service problem field -> round form field
ROUND_FIELDS = {
    "title": "title", "timezone": "timezone", "opens_at": "opens", "closes_at": "closes", "budget": "budget",
    "application_form_version": "application_form_version", "proposal_form_version": "proposal_form_version",
    "rubric_id": "rubric_id",
    "blind_review": "blind_review", "rule_regions": "eligibility", "rule_attachments": "eligibility",
    "eligibility_rules": "eligibility", "workflow": "application_workflow",
}


class TierSchema(FormSchema):
    name = colander.SchemaNode(
        colander.String(), title=_("Name of the tier"), preparer=_strip,
        description=_("Like “Small grants” or “Large grants, with match funding”."),
        validator=colander.Length(min=1, max=200, min_err=_("Give the tier a name, like “Small grants”"),
                                  max_err=_("Enter a name of 200 characters or fewer")),
        missing_msg=_("Give the tier a name, like “Small grants”"),
        widget=deform.widget.TextInputWidget(attributes={"dir": "auto", "autocomplete": "off"}))
    minimum = colander.SchemaNode(colander.String(), title=_("Smallest grant"),
                                  missing_msg=_("Enter the smallest grant in this tier, like 10,000"))
    maximum = colander.SchemaNode(colander.String(), title=_("Largest grant"),
                                  missing_msg=_("Enter the largest grant in this tier, like 25,000"))
    match_funding_percent = colander.SchemaNode(
        WholeNumber(minimum=0, maximum=100, message=_("Enter the match funding as a percentage from 0 to 100, "
                                                      "like 50")),
        title=_("Match funding required (%)"), missing=None,
        description=_("The share of the project's cost the applicant must find elsewhere. Leave blank if none."),
        widget=deform.widget.TextInputWidget(css_class="w-auto", attributes={"inputmode": "numeric", "size": "3",
                                                                           "dir": "ltr", "autocomplete": "off"}))
    conditions = colander.SchemaNode(
        colander.String(), title=_("Conditions"), missing="",
        description=_("Anything else applicants in this tier must know."),
        widget=deform.widget.TextAreaWidget(rows=3, attributes={"dir": "auto"}))

    def after_bind(self, node, kw):
        super().after_bind(node, kw)
        for name in ("minimum", "maximum"):
            _bind_money(node[name], kw["currency"], kw["request"].locale_name)
        if kw.get("languages"):
            node["name"] = multilingual_node(
                "name", node["name"].title, kw["languages"], max_length=200, description=node["name"].description,
                required=_("Give the tier a name, like “Small grants”"))


TIER_FIELDS = {"tiers": None}


# -- programmes and funders ---------------------------------------------------------------------


def currency_choices() -> list[tuple[str, str]]:
    rest = [c for c in CURRENCIES if c not in COMMON_CURRENCIES]
    return [(c, c) for c in COMMON_CURRENCIES] + [(c, c) for c in rest]


@colander.deferred
def _plugin_widget(node, kw):
    return deform.widget.CheckboxChoiceWidget(values=[(name, name) for name in kw.get("plugins_available", ())])


@colander.deferred
def _plugin_validator(node, kw):
    available = set(kw.get("plugins_available", ()))

    def validate(node, value):
        if set(value) - available:
            raise colander.Invalid(node, _("Choose plugins from the list of those installed"))

    return validate


def _kind_labels():
    return [("government", _("Government")), ("multilateral", _("Multilateral organisation")),
            ("foundation", _("Foundation")), ("corporate", _("Company")), ("philanthropist", _("Philanthropist")),
            ("ngo", _("Non-governmental organisation")), ("other", _("Other"))]


assert [k for k, _label in _kind_labels()] == list(FUNDER_KINDS)


def _role_labels():
    return [("lead", _("Lead funder")), ("co_funder", _("Co-funder")), ("implementer", _("Implementer"))]


assert [k for k, _label in _role_labels()] == list(FUNDER_ROLES)


@colander.deferred
def _languages_widget(node, kw):
    return deform.widget.CheckboxChoiceWidget(values=list(deployment_languages(kw["request"]).items()))


@colander.deferred
def _default_language_widget(node, kw):
    return deform.widget.SelectWidget(values=list(deployment_languages(kw["request"]).items()))


@colander.deferred
def _languages_validator(node, kw):
    offered = set(deployment_languages(kw["request"]))

    def validate(node, value):
        if not set(value) <= offered:
            raise colander.Invalid(node, _("Choose the programme's languages from the list"))

    return validate


@colander.deferred
def _default_language_validator(node, kw):
    return colander.OneOf(list(deployment_languages(kw["request"])),
                          msg_err=_("Choose the programme's default language from the list"))


def content_languages_for_form(request, programme=None) -> list[str]:
    """The languages a programme form offers inputs in: every language the site offers,
    the programme's default first (a funder adds a language and writes in it at once)."""
    offered = list(deployment_languages(request))
    default = programme.default_language if programme is not None else request.locale_name
    if default not in offered:
        default = offered[0]
    return [default] + [code for code in offered if code != default]


class ProgrammeSchema(FormSchema):
    languages = colander.SchemaNode(
        colander.Set(), title=_("Languages of the programme's content"),
        description=_("Titles, descriptions, tiers, budget lines and indicators are written in each of these. "
                      "Readers see their own language, or the default one marked as not translated."),
        missing=(), validator=_languages_validator, widget=_languages_widget)
    default_language = colander.SchemaNode(
        colander.String(), title=_("Default language"),
        description=_("Every text must be written in it; exports use it."),
        validator=_default_language_validator,
        missing_msg=_("Choose the programme's default language from the list"),
        widget=_default_language_widget)
    title = colander.SchemaNode(
        colander.String(), title=_("Name of the programme"), preparer=_strip,
        validator=colander.Length(min=1, max=300, min_err=_("Enter the programme's name"),
                                  max_err=_("Enter a name of 300 characters or fewer")),
        missing_msg=_("Enter the programme's name"),
        widget=deform.widget.TextInputWidget(attributes={"dir": "auto", "autocomplete": "off"}))
    description = colander.SchemaNode(
        colander.String(), title=_("Description"), missing="", max_length=LONG_MAX,
        description=_("Who funds it, what it is for, and who may apply."),
        widget=deform.widget.TextAreaWidget(rows=4, attributes={"dir": "auto"}))
    currency = colander.SchemaNode(
        colander.String(), title=_("Currency"),
        description=_("Round budgets and grant sizes are in this currency. It cannot change once there are rounds."),
        validator=colander.OneOf(list(CURRENCIES), msg_err=_("Choose the programme's currency from the list")),
        missing_msg=_("Choose the programme's currency from the list"),
        widget=deform.widget.SelectWidget(values=currency_choices()))
    plugins = colander.SchemaNode(
        colander.Set(), title=_("Plugins this programme uses"), missing=(),
        description=_("Extra steps and forms installed on this site."),
        validator=_plugin_validator, widget=_plugin_widget)
    lead_funder = colander.SchemaNode(
        colander.String(), title=_("Lead funder"), missing="", preparer=_strip, max_length=FUNDER_NAME_MAX,
        description=_("Optional: the body that leads the funding, like a government department or a foundation."),
        widget=deform.widget.TextInputWidget(attributes={"dir": "auto", "autocomplete": "organization"}))
    lead_funder_identifier = colander.SchemaNode(
        colander.String(), title=_("Lead funder's org-id"), missing="", preparer=_strip,
        max_length=FUNDER_IDENTIFIER_MAX,
        description=_("Optional, like GB-GOV-23 or US-EIN-123456789."),
        widget=deform.widget.TextInputWidget(css_class="ltr-value", attributes={"dir": "ltr", "autocomplete": "off"}))
    lead_funder_kind = colander.SchemaNode(
        colander.String(), title=_("What kind of body the lead funder is"), missing="government",
        validator=colander.OneOf(list(FUNDER_KINDS), msg_err=_("Choose what kind of body the funder is")),
        widget=deform.widget.SelectWidget(values=_kind_labels()))

    def after_bind(self, node, kw):
        super().after_bind(node, kw)
        # The name and description in every language the site offers: the service refuses
        # a text in a language the programme does not use, and requires the default's.
        languages = kw["content_languages"]
        node["title"] = multilingual_node("title", node["title"].title, languages, max_length=300)
        node["description"] = multilingual_node("description", node["description"].title, languages,
                                                max_length=LONG_MAX, multiline=True,
                                                description=node["description"].description)


#: What the programme edit page changes (the funder and plugins are set on their own).
PROGRAMME_EDITABLE = ("languages", "default_language", "title", "description", "currency", "plugins")


def programme_edit_schema() -> ProgrammeSchema:
    """The programme form without its lead funder (funders have their own page), and with
    the levels of results grantees' theories of change use."""
    schema = ProgrammeSchema()
    for child in list(schema.children):
        if child.name not in PROGRAMME_EDITABLE:
            del schema[child.name]
    schema.add(colander.SchemaNode(
        colander.String(), name="results_levels", title=_("Levels of results"), missing="", max_length=2000,
        description=_("The levels of grantees' theories of change, one per line, from the first to the last. "
                      "Leave empty for the usual ones: inputs, activities, outputs, short-term outcomes, "
                      "medium-term outcomes and impact."),
        widget=deform.widget.TextAreaWidget(rows=6, attributes={"dir": "auto"})))
    return schema


@colander.deferred
def _funder_choices(node, kw):
    return deform.widget.SelectWidget(values=[("", _("A new funder (fill in below)"))]
                                      + [(str(f.id), f.name) for f in kw.get("funders", ())])


@colander.deferred
def _matches_choices(node, kw):
    return deform.widget.SelectWidget(values=[("", _("It does not match another funder's money"))]
                                      + [(str(f.id), f.name) for f in kw.get("funders", ())])


@colander.deferred
def _round_choices(node, kw):
    return deform.widget.SelectWidget(values=[("", _("The whole programme"))]
                                      + [(str(r.id), r.title) for r in kw.get("rounds", ())])


@colander.deferred
def _choice_validator(node, kw):
    key = {"funder_id": "funders", "matches_funder_id": "funders", "round_id": "rounds"}[node.name]
    allowed = [""] + [str(o.id) for o in kw.get(key, ())]
    return colander.OneOf(allowed, msg_err=_("Choose one of the options in the list"))


class ContributionSchema(FormSchema):
    funder_id = colander.SchemaNode(colander.String(), title=_("Funder"), missing="", widget=_funder_choices,
                                    validator=_choice_validator)
    funder_name = colander.SchemaNode(
        colander.String(), title=_("New funder's name"), missing="", preparer=_strip, max_length=FUNDER_NAME_MAX,
        widget=deform.widget.TextInputWidget(attributes={"dir": "auto", "autocomplete": "organization"}))
    funder_identifier = colander.SchemaNode(
        colander.String(), title=_("New funder's org-id"), missing="", preparer=_strip,
        max_length=FUNDER_IDENTIFIER_MAX,
        description=_("Optional, like GB-GOV-23, or a 360Giving identifier like 360G-example."),
        widget=deform.widget.TextInputWidget(css_class="ltr-value", attributes={"dir": "ltr", "autocomplete": "off"}))
    funder_kind = colander.SchemaNode(
        colander.String(), title=_("What kind of body it is"), missing="other",
        validator=colander.OneOf(list(FUNDER_KINDS), msg_err=_("Choose what kind of body the funder is")),
        widget=deform.widget.SelectWidget(values=_kind_labels()))
    role = colander.SchemaNode(
        colander.String(), title=_("Role in the programme"),
        validator=colander.OneOf(list(FUNDER_ROLES), msg_err=_("Choose the funder's role: lead funder, co-funder "
                                                              "or implementer")),
        missing_msg=_("Choose the funder's role: lead funder, co-funder or implementer"),
        widget=deform.widget.SelectWidget(values=_role_labels()))
    amount = colander.SchemaNode(
        colander.String(), title=_("Contribution"), missing="", preparer=_strip,
        description=_("Leave blank for an implementer that puts in no money."),
        widget=deform.widget.TextInputWidget(css_class="ltr-value", attributes={"inputmode": "decimal", "dir": "ltr",
                                                                              "autocomplete": "off"}))
    currency = colander.SchemaNode(
        colander.String(), title=_("Currency of the contribution"),
        validator=colander.OneOf(list(CURRENCIES), msg_err=_("Choose the contribution's currency from the list")),
        widget=deform.widget.SelectWidget(values=currency_choices()))
    round_id = colander.SchemaNode(colander.String(), title=_("For"), missing="", widget=_round_choices,
                                   validator=_choice_validator)
    matches_funder_id = colander.SchemaNode(
        colander.String(), title=_("Match funding"), missing="", widget=_matches_choices,
        description=_("Choose the funder whose money this contribution matches, as a company may match a "
                      "city's grants pound for pound."),
        validator=_choice_validator)


CONTRIBUTION_FIELDS = {"funder_name": "funder_name", "funder_identifier": "funder_identifier",
                       "funder_kind": "funder_kind", "role": "role", "amount": "amount", "matches": "matches_funder_id",
                       "round": "round_id"}
