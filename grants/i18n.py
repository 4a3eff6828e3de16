"""Languages: which ones a deployment speaks, which one a request speaks, its direction,
and translating deform forms.

grants ships English (the language its messages are written in), French and Arabic.  A
deployment lists the languages it offers in ``grants.languages`` (default ``en fr ar``):
any locale Babel knows, so that a plugin can bring the catalog for a language grants does
not ship.  Where a message has no translation it stays in English.  The choice is
remembered in a cookie (and on the user's account, which decides the language of the
mail they get).
"""
from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Mapping
from types import MappingProxyType
from zoneinfo import ZoneInfo

import colander
import deform
from babel import Locale, UnknownLocaleError
from pyramid.exceptions import ConfigurationError
from pyramid.i18n import TranslationString, TranslationStringFactory, get_localizer
from pyramid.interfaces import ITranslationDirectories
from pyramid.threadlocal import get_current_request

from grants.workflow.labels import lookup as stored_label  # titles typed in the workflow editor

_ = TranslationStringFactory("grants")


class PluralString(TranslationString):
    """A message with a count, translated with the language's plural forms (Arabic has six,
    French two) rather than one sentence for every count.  It behaves as its singular
    TranslationString until ``localize`` translates it."""

    __slots__ = ("plural", "count")

    def __new__(cls, singular, plural=None, count=None, mapping=None, context=None):
        if plural is None and isinstance(singular, PluralString):  # a copy with a new mapping
            plural, count = singular.plural, singular.count
        self = super().__new__(cls, singular, domain="grants", mapping=mapping, context=context)
        self.plural = plural
        self.count = count
        return self

    def __reduce__(self):
        return (PluralString, (str(self), self.plural, self.count, self.mapping, self.context))

    def interpolate(self, translated=None):
        if translated is None:
            translated = str(self) if self.count == 1 else self.plural
        return TranslationString(translated, mapping=self.mapping).interpolate()

    def pluralize(self, localizer, mapping=None) -> str:
        return localizer.pluralize(str(self), self.plural, self.count, domain="grants",
                                   mapping=mapping if mapping is not None else self.mapping)


def ngettext(singular: str, plural: str, count: int, mapping=None) -> PluralString:
    """A message with a count: ``ngettext("Made ${count} assignment.", "Made ${count}
    assignments.", n)``.  The count is put in the mapping as ``count`` (a mapping may give
    it written otherwise, as a figure in the reader's digits).  Named as gettext names it,
    so that lingua extracts both forms."""
    mapping = {"count": count_figure(count), **(mapping or {})}
    return PluralString(singular, plural, count, mapping=mapping)


def count_figure(count):
    """A count as the language the message ends up in writes it ("2,000", "2 000"): put in
    a message's mapping, it is written again in the language the message is translated
    into (``localize``), as a date is."""
    if not isinstance(count, int) or isinstance(count, bool):
        return count
    return LocalizedText(lambda locale_name: format_number(count, _safe_locale(locale_name)))


class PluralLength(colander.Length):
    """``colander.Length`` whose ``min_err`` and ``max_err`` are ngettext plurals ("Enter
    ${count} characters or fewer"): colander's own wraps its message in a singular string,
    which would lose the plural forms."""

    def __call__(self, node, value):
        if self.min is not None and len(value) < self.min:
            raise colander.Invalid(node, self.min_err)
        if self.max is not None and len(value) > self.max:
            raise colander.Invalid(node, self.max_err)


#: The language grants' messages are written in: every page can fall back to it.
SOURCE_LANGUAGE = "en"
#: The languages grants ships catalogs for (grants/locale), and the default of the setting.
SHIPPED_LANGUAGES = ("en", "fr", "ar")
SETTING = "grants.languages"
COOKIE = "grants_lang"
_REGISTRY_KEY = "grants.languages"
# An account keeps its language in a column this wide (users.locale, invitations.locale):
# a longer code would be refused by PostgreSQL the first time someone chose it.
_STORED_CODE_LENGTH = 8


def parse_languages(value: str | None) -> tuple[str, ...]:
    """The codes of a ``grants.languages`` setting, in Babel's spelling ("pt-BR" and
    "pt_br" are "pt_BR"), each once.  ``ConfigurationError`` (one line naming the code)
    for a code Babel does not know."""
    codes: list[str] = []
    for raw in (value or "").replace(",", " ").split() or SHIPPED_LANGUAGES:
        try:
            code = str(Locale.parse(raw.replace("-", "_")))
        except (UnknownLocaleError, ValueError):
            raise ConfigurationError(f"{SETTING}: {raw!r} is not a language Babel knows "
                                     "(write codes such as en, fr, ar, sw or pt_BR)") from None
        if len(code) > _STORED_CODE_LENGTH:
            raise ConfigurationError(f"{SETTING}: {code!r} is longer than the {_STORED_CODE_LENGTH} characters "
                                     "an account's language is stored in; use a shorter code")
        if code not in codes:
            codes.append(code)
    return tuple(codes)


def is_language(code) -> bool:
    """A language Babel knows, written as a bare language code ("fr", "sw", "fa"), the
    way data keyed by language (a survey item's translations) is written."""
    try:
        return isinstance(code, str) and str(Locale.parse(code)) == code and "_" not in code
    except (UnknownLocaleError, ValueError):
        return False


def language_name(code: str) -> str:
    """The language's name in itself, as the switcher shows it: "Français", "Kiswahili",
    "العربية".  CLDR writes many names in lower case, as in running text; a button label
    starts with a capital where the script has them."""
    name = Locale.parse(code).get_display_name(code) or code
    return name[:1].upper() + name[1:]


@functools.lru_cache(maxsize=32)
def _languages(value: str | None) -> Mapping[str, str]:
    return MappingProxyType({code: language_name(code) for code in parse_languages(value)})


def _settings(source) -> Mapping:
    registry = getattr(source, "registry", source)  # a request's, or the registry itself
    settings = getattr(registry, "settings", None)
    return settings if settings is not None else (source if isinstance(source, Mapping) else {})


def deployment_languages(source) -> Mapping[str, str]:
    """The languages this deployment offers, code → name in that language, in the order
    of the setting (read-only).  ``source`` is a request, the registry or the settings."""
    registry = getattr(source, "registry", source)
    found = registry.get(_REGISTRY_KEY) if hasattr(registry, "settings") else None
    return found if found is not None else _languages(_settings(source).get(SETTING))


def default_language(source) -> str:
    """What a visitor who has asked for nothing gets: ``pyramid.default_locale_name`` when
    the deployment offers it, else the first language of the setting."""
    languages = deployment_languages(source)
    wanted = _settings(source).get("pyramid.default_locale_name")
    return wanted if wanted in languages else next(iter(languages))


def language_tag(locale_name: str) -> str:
    """The code as HTML's ``lang`` and HTTP want it (BCP 47): "pt_BR" is "pt-BR"."""
    return locale_name.replace("_", "-")


def text_direction(locale_name: str) -> str:
    return Locale.parse(locale_name).text_direction  # "ltr" or "rtl"


def negotiate_locale(request) -> str:
    """Explicit choice (query or cookie), then the account's language, then the browser's.
    Only languages the deployment offers are chosen; anything else falls through."""
    languages = deployment_languages(request)
    for candidate in (request.params.get("_LOCALE_"), request.cookies.get(COOKIE)):
        if candidate in languages:
            return candidate
    user = getattr(request, "user", None)
    if user is not None and user.locale in languages:
        return user.locale
    # Accept-Language speaks BCP 47 ("pt-BR"); our codes are Babel's ("pt_BR").
    tags = {language_tag(code): code for code in languages}
    match = request.accept_language.lookup(list(tags), default="")
    return tags.get(match) or default_language(request)


@colander.deferred
def language_choice_widget(node, kw):
    """A select of the languages the deployment offers (for a schema bound to a request)."""
    return deform.widget.SelectWidget(values=list(deployment_languages(kw["request"]).items()))


@colander.deferred
def language_choice_validator(node, kw):
    return colander.OneOf(list(deployment_languages(kw["request"])),
                          msg_err=_("Choose one of the languages offered"))


def localize(localizer, message) -> str:
    """Translate ``message``, and first any TranslationStrings in its mapping (a refusal
    naming a step: "You are not allowed to do “${action}” here.").  A list or tuple in the
    mapping is translated item by item and written as the language writes a list ("the
    dates, the budget and the form"): a refusal can name everything that is missing."""
    if hasattr(message, "in_language"):
        # A text written in several languages (a built form's labels, grants.applications.builder).
        return message.in_language(localizer.locale_name)
    if not hasattr(message, "interpolate"):
        # A plain string here is a label read from data — a workflow's state and step
        # titles, a plugin's — whose msgid the ``grants`` catalog carries (see
        # grants.locale.extract); Pyramid would look it up in the "messages" domain.
        message = TranslationString(str(message), domain="grants")
    stored = stored_label(message, localizer.locale_name)  # a title typed in the workflow editor
    if stored is not None:
        return stored
    mapping = message.mapping or {}
    if any(hasattr(v, "interpolate") or hasattr(v, "in_language") or hasattr(v, "in_locale")
           or isinstance(v, (list, tuple)) for v in mapping.values()):
        mapping = {k: _localize_value(localizer, v) for k, v in mapping.items()}
        if not isinstance(message, PluralString):  # a plural passes its mapping to pluralize
            message = TranslationString(message, mapping=mapping)
    if isinstance(message, PluralString):
        return _one_full_stop(message.pluralize(localizer, mapping), mapping)
    return _one_full_stop(localizer.translate(message), mapping)


_BIDI = "\u200e\u200f\u061c"


def _one_full_stop(text: str, mapping) -> str:
    """A sentence that ends in a value which itself ends in a full stop — an amount in
    dinars, "1,500.000 د.ت." — keeps one full stop, not two."""
    for value in (mapping or {}).values():
        value = str(value)
        if value.rstrip(_BIDI).endswith(".") and value + "." in text:
            text = text.replace(value + ".", value)
    return text


def _localize_value(localizer, value):
    if isinstance(value, (list, tuple)):
        from babel.lists import format_list

        items = [localize(localizer, item) for item in value]
        try:
            return format_list(items, locale=localizer.locale_name or SOURCE_LANGUAGE)
        except (ValueError, UnknownLocaleError):
            return ", ".join(items)
    if hasattr(value, "in_locale"):  # a date or an amount, written in the message's language
        return value.in_locale(localizer.locale_name or SOURCE_LANGUAGE)
    return localize(localizer, value) if hasattr(value, "interpolate") or hasattr(value, "in_language") else value


def translate(request, message) -> str:
    return localize(request.localizer, message)


def translate_for(registry, locale_name: str, message) -> str:
    """Translate outside a request (mail after commit, the CLI) into ``locale_name`` —
    an account's language — or, if the deployment no longer offers it, its default, as
    the pages that person sees are."""
    if locale_name not in deployment_languages(registry):
        locale_name = default_language(registry)
    return localize(localizer_for(registry, locale_name), message)


def localizer_for(registry, locale_name: str):
    """The localizer of ``locale_name``, built from the catalogs once per process and kept
    in the registry where Pyramid keeps the one it builds for requests (``ILocalizer``),
    so mail and pages share it.  Building one reads every catalog from disk (milliseconds
    a message); catalogs do not change while the process runs, so it is never rebuilt."""
    from pyramid.i18n import make_localizer
    from pyramid.interfaces import ILocalizer

    localizer = registry.queryUtility(ILocalizer, name=locale_name)
    if localizer is None:
        localizer = make_localizer(locale_name, registry.queryUtility(ITranslationDirectories, default=[]))
        registry.registerUtility(localizer, ILocalizer, name=locale_name)
    return localizer


def current_locale() -> str:
    """The language of the request being served, or grants' own outside one (the CLI)."""
    request = get_current_request()
    return getattr(request, "locale_name", None) or SOURCE_LANGUAGE


def time_zone_name(zone: str, locale_name: str | None = None) -> str:
    """A time zone as the reader's language names it.  A place's zone by its country
    ("Tunisia Time", "توقيت تونس"), which a reader recognises; UTC and the other zones
    of no place by their long name ("Coordinated Universal Time"), since their "country"
    would be "Unknown Region"."""
    from babel.dates import get_timezone_location, get_timezone_name

    locale_name = locale_name or current_locale()
    info = ZoneInfo(zone)
    try:
        if zone in ("UTC", "GMT", "Etc/UTC", "Etc/GMT", "Zulu") or zone.startswith("Etc/"):
            return get_timezone_name(dt.datetime(2000, 1, 1, tzinfo=info), width="long", locale=locale_name)
        return get_timezone_location(info, locale=locale_name)
    except (ValueError, LookupError, UnknownLocaleError):
        return zone


def zone_of(obj) -> str:
    """The time zone a page about ``obj`` shows moments in: the zone its round's dates were
    set in.  A round has one; an application, an award, a cohort has its round's; a report,
    a tranche, an assessment its award's round's; a programme, which has none of its own,
    its newest round's (and so a programme's rubric or instrument).  UTC for anything else (the site's own pages).  Read by attribute,
    so that this module needs no model."""
    for _depth in range(4):  # a report's award's round is as far as any object is from one
        if obj is None:
            break
        zone = getattr(obj, "timezone", None)
        if isinstance(zone, str) and zone:
            return zone
        rounds = getattr(obj, "rounds", None)
        if isinstance(rounds, (list, tuple)):  # a programme
            obj = rounds[-1] if rounds else None
            continue
        obj = next((found for found in (getattr(obj, name, None) for name in ("round", "award", "application", "programme"))
                    if found is not None), None)
    return "UTC"


#: The zone of the site's own pages — what no round owns: sign-in, the workflow editor.
ZONE_SETTING = "grants.timezone"


def parse_zone(value: str | None) -> str:
    """The ``grants.timezone`` setting: a zone's name (``Africa/Tunis``), UTC without one.
    ``ConfigurationError`` for a name the zone database does not know."""
    zone = (value or "").strip() or "UTC"
    try:
        ZoneInfo(zone)
    except (ValueError, LookupError):
        raise ConfigurationError(f"{ZONE_SETTING}: {zone!r} is not a time zone "
                                 "(write a name such as Africa/Tunis or Europe/London)") from None
    return zone


def site_zone(source) -> str:
    """The zone a moment of no round is shown in (a sign-in lockout's end, a workflow's
    changes): the deployment's ``grants.timezone``.  ``source`` is a request, the registry
    or the settings."""
    return parse_zone(_settings(source).get(ZONE_SETTING))


class LocalizedText(str):
    """Text written in the current request's language that can be written again in another:
    a date put into a message that is then translated for someone else (a reminder mailed
    in the grantee's language).  ``localize`` asks it for the message's language."""

    def __new__(cls, render, locale_name: str | None = None):
        text = super().__new__(cls, render(locale_name or current_locale()))
        text._render = render
        return text

    def in_locale(self, locale_name: str) -> str:
        return self._render(locale_name)

    def __reduce__(self):
        # Copied, pickled or stored, it is the text it reads as now.
        return (str, (str(self),))


#: Dates in English are written day, month, year ("1 Jul 2019", 24-hour times), as the
#: programmes grants serves write them, not in the American order plain "en" has.
_DATE_LOCALES = {"en": "en_GB"}


def _safe_locale(locale_name: str) -> str:
    """The locale dates are written in for a page's language (a Babel code)."""
    locale_name = (locale_name or SOURCE_LANGUAGE).replace("-", "_")
    try:
        Locale.parse(locale_name)
    except (ValueError, UnknownLocaleError):
        locale_name = SOURCE_LANGUAGE
    return _DATE_LOCALES.get(locale_name, locale_name)


def format_datetime(moment: dt.datetime, zone: str = "UTC", locale_name: str | None = None) -> str:
    """A moment as the reader's language writes it, in the zone it was set in and naming
    that zone in the same language: "25 Jan 2027, 10:22 (Tunisia Time)",
    "25 janv. 2027, 10:22 (heure : Tunisie)".  Without ``locale_name``, the request's."""
    from babel import dates

    zone = zone or "UTC"
    if moment.tzinfo is None:  # stored naive means UTC (see grants.models)
        moment = moment.replace(tzinfo=dt.timezone.utc)
    local = moment.astimezone(ZoneInfo(zone))

    def render(locale_name):
        locale_name = _safe_locale(locale_name)
        glue = Locale.parse(locale_name).datetime_formats["medium"]
        glue = str(getattr(glue, "pattern", glue)).replace("'", "")  # CLDR quotes literal words
        text = glue.replace("{1}", _day(local.date(), locale_name)) \
            .replace("{0}", dates.format_time(local, "short", locale=locale_name))
        return f"{text} ({time_zone_name(zone, locale_name)})"

    return LocalizedText(render, locale_name)


def _day(day: dt.date, locale_name: str) -> str:
    # Day, month's name and year in the language's order: never all figures, whose order
    # (25/01 or 01/25) a reader would have to guess.
    from babel import dates

    return dates.format_skeleton("yMMMd", day, locale=locale_name)


def format_date(day, locale_name: str | None = None, zone: str | None = None) -> str:
    """A calendar day (a report period's end, an invitation's day) as the reader's language
    writes it: "1 Oct 2019", "1 oct. 2019", "1 أكتوبر 2019".  A moment is first taken to
    its day in ``zone`` (UTC without one): a round closing at 00:30 in Tunis closes on
    that day there, not on the day before as in UTC."""
    if isinstance(day, dt.datetime):
        moment = day if day.tzinfo is not None else day.replace(tzinfo=dt.timezone.utc)  # naive means UTC
        day = moment.astimezone(ZoneInfo(zone or "UTC")).date()
    return LocalizedText(lambda name: _day(day, _safe_locale(name)), locale_name)


def format_date_range(start, end, locale_name: str | None = None) -> str:
    """Two days as one interval, the way the language writes it ("1 Jul – 30 Sept 2019")."""
    from babel import dates

    def render(name):
        name = _safe_locale(name)
        # CLDR puts thin spaces around the dash; plain ones read and search the same.
        return dates.format_interval(start, end, "yMMMd", locale=name).replace("\u2009", " ")

    return LocalizedText(render, locale_name)


def format_number(value, locale_name: str) -> str:
    """A number as the reader's language writes it ("1,234.5", "1 234,5"), with every
    decimal it has ("12.50" stays two places) and never in exponent form: a normalised
    Decimal prints itself as "4E+1"."""
    return _with_decimals(value, locale_name, "decimal_formats")


def format_percent_figure(value, locale_name: str) -> str:
    """A figure that is already a percentage (a tranche's 40, 12.50 of a budget spent)
    with the language's percent sign and spacing: "40%", "40 %"."""
    from decimal import Decimal

    return _with_decimals(Decimal(value), locale_name, "percent_formats", scale=Decimal(100))


def _with_decimals(value, locale_name: str, formats: str, scale=None) -> str:
    import copy
    from decimal import Decimal

    locale = Locale.parse(locale_name)
    pattern = copy.copy(getattr(locale, formats)[None])
    if isinstance(value, Decimal):
        exponent = value.as_tuple().exponent
        decimals = max(0, -exponent) if isinstance(exponent, int) else 0
        pattern.frac_prec = (decimals, decimals)
    if scale is not None:  # the percent pattern multiplies by 100
        value = value / scale
    return pattern.apply(value, locale, numbering_system="latn")


def _number_globals(event) -> None:
    """``figure`` and ``percent_figure`` for every page template: the one way a page shows
    a number that is not money (money has grants.money.format_money); ``when`` and ``day``
    the one way it shows a moment or a date."""
    request = event.get("request")
    if request is None:
        return
    locale_name = request.locale_name
    event["figure"] = lambda value: format_number(value, locale_name)
    event["percent_figure"] = lambda value: format_percent_figure(value, locale_name)
    # Dates too: a template writes ${when(moment, zone)} or ${day(date)}, never strftime.
    # Without a zone, a moment is shown in the zone of what the page is about (a round's,
    # or the round of an application or award), the zone its dates were set in.
    # ``zone`` may be a zone's name or what the moment belongs to (an application of
    # another round, on a list): its round's zone, by zone_of.
    context = event.get("context")
    page_zone = zone_of(context)

    def zone_for(where):
        return page_zone if where is None else where if isinstance(where, str) else zone_of(where)

    event["when"] = lambda moment, zone=None: ("" if moment is None
                                               else format_datetime(moment, zone_for(zone), locale_name))
    event["day"] = lambda value, zone=None: "" if value is None else format_date(value, locale_name, zone_for(zone))
    event["day_range"] = lambda start, end: format_date_range(start, end, locale_name)
    # A sentence with a count, in the language's plural form for it: templates cannot say
    # this with i18n:translate.  Named values beside the count go as keywords.
    # The count may also be given by name, written otherwise (a figure in the reader's digits).
    def plural(singular, plural, number, /, **mapping):
        return localize(request.localizer, PluralString(singular, plural, number, mapping={"count": number, **mapping}))

    event["ngettext"] = plural


def _deform_translator(term):
    request = get_current_request()
    if request is None:
        return term.interpolate() if hasattr(term, "interpolate") else term
    if getattr(term, "mapping", None) and hasattr(term, "interpolate"):
        # A note naming another translatable text (a built form's "Answer this only if your
        # answer to “…” is “Yes”"): its mapping is translated too, or "Yes" stays English.
        return localize(get_localizer(request), term)
    return get_localizer(request).translate(term)


def includeme(config):
    # Checked now, so that a code Babel does not know stops start-up (one line naming it).
    config.registry[_REGISTRY_KEY] = _languages(config.get_settings().get(SETTING))
    parse_zone(config.get_settings().get(ZONE_SETTING))
    config.set_locale_negotiator(negotiate_locale)
    # Within one call later directories win: ours (with Arabic for deform and colander) over
    # theirs.  Plugins' catalogs are added with override=True and win over all of these.
    config.add_translation_dirs("colander:locale", "deform:locale", "grants:locale")
    renderer = deform.ZPTRendererFactory(
        deform.Form.default_renderer.loader.search_path, translator=_deform_translator
    )
    deform.Form.set_default_renderer(renderer)

    def text_dir(request):
        return text_direction(request.locale_name)

    config.add_request_method(text_dir, "text_direction", reify=True)
    from pyramid.events import BeforeRender

    config.add_subscriber(_number_globals, BeforeRender)
    config.add_request_method(lambda request: language_tag(request.locale_name), "language_tag", reify=True)
