"""Languages: which one a request speaks, its direction, and translating deform forms.

English, French and Arabic ship.  The choice is remembered in a cookie (and on the
user's account, which decides the language of the mail they get).
"""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import deform
from babel import Locale
from pyramid.i18n import TranslationStringFactory, get_localizer
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


def translate(request, message) -> str:
    return request.localizer.translate(message) if hasattr(message, "interpolate") else str(message)


def translate_for(registry, locale_name: str, message) -> str:
    """Translate outside a request (mail after commit, the CLI) into ``locale_name``."""
    from pyramid.i18n import make_localizer

    dirs = registry.queryUtility(ITranslationDirectories, default=[])
    return make_localizer(locale_name, dirs).translate(message)


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
    # Later directories win: ours (with Arabic for deform and colander) over theirs.
    config.add_translation_dirs("colander:locale", "deform:locale")
    config.add_translation_dirs("grants:locale")
    renderer = deform.ZPTRendererFactory(
        deform.Form.default_renderer.loader.search_path, translator=_deform_translator
    )
    deform.Form.set_default_renderer(renderer)

    def text_dir(request):
        return text_direction(request.locale_name)

    config.add_request_method(text_dir, "text_direction", reify=True)
