"""Languages: which one a request speaks, its direction, and translating deform forms.

English, French and Arabic ship.  The choice is remembered in a cookie (and on the
user's account, which decides the language of the mail they get).
"""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import deform
from babel import Locale
from pyramid.i18n import TranslationString, TranslationStringFactory, get_localizer
from pyramid.interfaces import ITranslationDirectories
from pyramid.threadlocal import get_current_request

_ = TranslationStringFactory("grants")

LANGUAGES = {"en": "English", "fr": "Français", "ar": "العربية"}
DEFAULT_LANGUAGE = "en"
COOKIE = "grants_lang"


def text_direction(locale_name: str) -> str:
    return Locale.parse(locale_name).text_direction  # "ltr" or "rtl"


def negotiate_locale(request) -> str:
    """Explicit choice (query or cookie), then the account's language, then the browser's."""
    for candidate in (request.params.get("_LOCALE_"), request.cookies.get(COOKIE)):
        if candidate in LANGUAGES:
            return candidate
    user = getattr(request, "user", None)
    if user is not None and user.locale in LANGUAGES:
        return user.locale
    match = request.accept_language.lookup(list(LANGUAGES), default=DEFAULT_LANGUAGE)
    return match if match in LANGUAGES else DEFAULT_LANGUAGE


def localize(localizer, message) -> str:
    """Translate ``message``, and first any TranslationStrings in its mapping (a refusal
    naming a step: "You are not allowed to do “${action}” here.")."""
    if not hasattr(message, "interpolate"):
        # A plain string here is a label read from data — a workflow's state and step
        # titles, a plugin's — whose msgid the ``grants`` catalog carries (see
        # grants.locale.extract); Pyramid would look it up in the "messages" domain.
        message = TranslationString(str(message), domain="grants")
    if message.mapping and any(hasattr(v, "interpolate") for v in message.mapping.values()):
        mapping = {k: localize(localizer, v) for k, v in message.mapping.items()}
        message = TranslationString(message, mapping=mapping)
    return localizer.translate(message)


def translate(request, message) -> str:
    return localize(request.localizer, message)


def translate_for(registry, locale_name: str, message) -> str:
    """Translate outside a request (mail after commit, the CLI) into ``locale_name``."""
    from pyramid.i18n import make_localizer

    dirs = registry.queryUtility(ITranslationDirectories, default=[])
    return localize(make_localizer(locale_name, dirs), message)


def format_datetime(moment: dt.datetime, zone: str = "UTC") -> str:
    """A moment in the zone it was set in, unambiguous in any language."""
    local = moment.astimezone(ZoneInfo(zone))
    return f"{local:%Y-%m-%d %H:%M} ({zone})"


def _deform_translator(term):
    request = get_current_request()
    if request is None:
        return term.interpolate() if hasattr(term, "interpolate") else term
    return get_localizer(request).translate(term)


def includeme(config):
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
