"""Languages from the ``grants.languages`` setting: any language Babel knows, with the
catalogs a plugin brings for a language grants does not ship, English where a message has
no translation, and only the configured languages offered or chosen.

The plugins ``swahili`` and ``persian`` (tests/testplugin/grants_testplugin/languages.py)
translate a few of grants' messages, and two of colander's, into Swahili and Persian."""
from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from zoneinfo import ZoneInfo

import colander
import deform
import pytest
import webtest
from babel.dates import get_timezone_location
from pyramid.i18n import make_localizer
from pyramid.interfaces import ITranslationDirectories
from pyramid.scripting import prepare
from pyramid.request import Request
from sqlalchemy import select

import factories as f
from grants import main, make_app, make_config
from grants.accounts.models import User
from grants.accounts.services import TOKEN_LIFETIMES, VERIFY
from grants.i18n import _, language_name, parse_languages, translate_for
from grants.mail import Mailer
from grants.money import Money, format_money
from grants.static_files import unhashed_name

pytest.importorskip("grants_testplugin")

PLUGIN_LANGUAGES = {"grants.languages": "en fr ar sw fa", "grants.plugins": "swahili persian"}


def browser(settings, **extra) -> webtest.TestApp:
    return webtest.TestApp(make_app({**settings, **extra}), extra_environ={"HTTP_HOST": "localhost"})


@pytest.fixture
def plugin_app(settings):
    return browser(settings, **PLUGIN_LANGUAGES)


@pytest.fixture
def plugin_registry(settings):
    return make_config({**settings, **PLUGIN_LANGUAGES}).registry


def html_of(page) -> tuple[str, str]:
    html = page.html.find("html")
    return html["lang"], html["dir"]


def bootstrap_of(page) -> list[str]:
    sheets = [link["href"] for link in page.html.find_all("link", rel="stylesheet")]
    return [unhashed_name(s.rsplit("/", 1)[1]) for s in sheets if "/bootstrap" in s]


def switcher(page) -> list[tuple[str, str, str]]:
    """(value, lang attribute, label) of each button of the language switcher."""
    return [(b["value"], b["lang"], b.text.strip()) for b in page.html.select("#language-form button")]


def text_of(page, selector) -> str:
    return " ".join(page.html.select_one(selector).get_text().split())


# -- the setting -----------------------------------------------------------------------------


def test_without_the_setting_the_shipped_three_are_offered(testapp):
    assert switcher(testapp.get("/")) == [("en", "en", "English"), ("fr", "fr", "Français"),
                                          ("ar", "ar", "العربية")]


def test_codes_are_read_as_babel_spells_them_and_named_in_their_own_language():
    assert parse_languages("en pt-BR pt_br EN sw, fa") == ("en", "pt_BR", "sw", "fa")
    assert parse_languages(None) == parse_languages("") == ("en", "fr", "ar")
    assert [language_name(c) for c in ("fr", "sw", "fa", "pt_BR", "tr")] == [
        "Français", "Kiswahili", "فارسی", "Português (Brasil)", "Türkçe"]


def refusal(settings) -> str:
    with pytest.raises(SystemExit) as stop:
        main({}, **settings)
    message = str(stop.value)
    assert "\n" not in message and message.startswith("grants: cannot start: ")
    return message


def test_a_visitor_who_asks_for_nothing_gets_the_default_if_offered_else_the_first_listed(settings):
    # pyramid.default_locale_name is "en" in the suite's settings.
    assert html_of(browser(settings, **{"grants.languages": "ar en"}).get("/")) == ("en", "ltr")
    no_english = browser(settings, **{"grants.languages": "ar fr"})
    assert html_of(no_english.get("/")) == ("ar", "rtl")
    assert html_of(no_english.get("/", params={"_LOCALE_": "en"})) == ("ar", "rtl")


def test_a_code_babel_does_not_know_stops_start_up_naming_it(settings):
    message = refusal({**settings, "grants.languages": "en fr xx ar"})
    assert message == ("grants: cannot start: grants.languages: 'xx' is not a language Babel knows "
                       "(write codes such as en, fr, ar, sw or pt_BR)")


def test_a_code_longer_than_an_account_keeps_stops_start_up(settings):
    message = refusal({**settings, "grants.languages": "en zh_Hant_TW"})
    assert "'zh_Hant_TW' is longer than the 8 characters" in message


# -- a plugin's language: Swahili (left to right) and Persian (right to left) ----------------


@pytest.mark.parametrize("how", ["query", "cookie"])
def test_a_plugin_serves_pages_in_a_language_grants_does_not_ship(plugin_app, how):
    if how == "query":
        page = plugin_app.get("/", params={"_LOCALE_": "sw"})
    else:
        page = plugin_app.get("/", headers={"Cookie": "grants_lang=sw"})
    assert html_of(page) == ("sw", "ltr")
    assert bootstrap_of(page) == ["bootstrap.min.css"]
    # The plugin's Swahili for the core messages it translates …
    assert text_of(page, "h1") == "Programu za ruzuku"  # Grant programmes
    assert text_of(page, "a.visually-hidden-focusable") == "Ruka hadi maudhui makuu"
    assert "Ingia" in text_of(page, "header") and "Jisajili" in text_of(page, "header")
    assert "Sign in" not in page.text
    # … and English for those it does not.
    assert text_of(page, "h2") == "Rounds open for applications"
    assert "Workflows" in text_of(page, "header")


def test_a_right_to_left_language_from_a_plugin(plugin_app):
    page = plugin_app.get("/", params={"_LOCALE_": "fa"})
    assert html_of(page) == ("fa", "rtl")
    assert bootstrap_of(page) == ["bootstrap.rtl.min.css"]  # exactly one, right to left
    assert text_of(page, "h1") == "برنامه‌های کمک‌هزینه"
    assert "ورود" in text_of(page, "header")
    assert text_of(page, "h2") == "Rounds open for applications"


def test_a_right_to_left_language_nobody_translates_reads_english_right_to_left(settings):
    page = browser(settings, **{"grants.languages": "en he"}).get("/", params={"_LOCALE_": "he"})
    assert html_of(page) == ("he", "rtl")
    assert bootstrap_of(page) == ["bootstrap.rtl.min.css"]
    assert text_of(page, "h1") == "Grant programmes"
    assert switcher(page) == [("en", "en", "English"), ("he", "he", "עברית")]


def test_a_regional_code_is_a_bcp47_tag_in_the_page(settings):
    app = browser(settings, **{"grants.languages": "en pt_BR"})
    page = app.get("/", headers={"Accept-Language": "pt-BR,pt;q=0.9"})
    assert html_of(page) == ("pt-BR", "ltr")
    assert ("pt_BR", "pt-BR", "Português (Brasil)") in switcher(page)
    assert app.get("/", params={"_LOCALE_": "pt_BR"}).html.find("html")["lang"] == "pt-BR"


def test_the_switcher_offers_the_configured_languages_and_remembers_the_choice(plugin_app):
    home = plugin_app.get("/")
    assert switcher(home) == [("en", "en", "English"), ("fr", "fr", "Français"), ("ar", "ar", "العربية"),
                              ("sw", "sw", "Kiswahili"), ("fa", "fa", "فارسی")]
    form = next(fm for fm in home.forms.values() if fm.action.endswith("/language"))
    response = form.submit("lang", value="sw", status=302)
    assert "grants_lang=sw" in response.headers["Set-Cookie"]
    page = plugin_app.get("/")
    assert html_of(page) == ("sw", "ltr") and text_of(page, "h1") == "Programu za ruzuku"
    current = page.html.select_one('#language-form button[aria-current="true"]')
    assert current["value"] == "sw"


def test_the_browser_language_picks_the_plugin_language(plugin_app):
    page = plugin_app.get("/", headers={"Accept-Language": "sw-KE,sw;q=0.9,en;q=0.5"})
    assert html_of(page) == ("sw", "ltr")


def test_the_account_language_is_used_after_sign_in(plugin_app, registry):
    with registry.database.transaction() as (_tm, db):
        f.user(db, email="amina@example.org", name="Amina Juma", locale="sw")
    page = f.sign_in(plugin_app, "amina@example.org")
    assert html_of(page) == ("sw", "ltr")
    assert text_of(page, "a.visually-hidden-focusable") == "Ruka hadi maudhui makuu"


def test_registering_in_swahili_sends_the_mail_in_swahili(plugin_app, settings):
    page = plugin_app.get("/register", params={"_LOCALE_": "sw"})
    assert text_of(page, "h1") == "Create an account"  # not in the plugin's catalog
    form = f.main_form(page)
    assert page.html.select_one(f"#{form.id} button[name=submit]").get_text(strip=True) == "Fungua akaunti"
    assert [value for value, _selected, _label in form["locale"].options] == ["en", "fr", "ar", "sw", "fa"]
    assert form["locale"].value == "sw"  # the page's language is the default
    form["name"] = "Amina Juma"
    form["email"] = "amina@example.org"
    form["password"] = "a long enough passphrase"
    form.submit(status=200)
    (message,) = Mailer(settings).sent()
    assert message["Subject"] == "Thibitisha anwani yako ya barua pepe"
    body = message.get_content()
    hours = int(TOKEN_LIFETIMES[VERIFY].total_seconds() // 3600)
    assert body.startswith("Habari Amina Juma,\n")  # the plugin's wording, our values
    assert f"Kiungo kinafanya kazi mara moja, kwa saa {hours}." in body
    assert re.search(r"http://localhost/verify/\S+", body)


def test_deform_and_colander_messages_come_from_the_plugin_catalog(plugin_app, plugin_registry):
    class Name(colander.MappingSchema):
        name = colander.SchemaNode(colander.String(), validator=colander.Length(min=3))
        town = colander.SchemaNode(colander.String())

    request = Request.blank("/", {"QUERY_STRING": "_LOCALE_=sw"})
    env = prepare(request=request, registry=plugin_registry)
    try:
        form = deform.Form(Name())
        with pytest.raises(deform.ValidationFailure) as failure:
            form.validate([("name", "ab"), ("town", "")])
        html = failure.value.render()
    finally:
        env["closer"]()
    assert "Fupi kuliko urefu wa chini 3" in html  # Shorter than minimum length 3
    assert "Inahitajika" in html  # Required


def test_money_and_dates_are_written_as_the_language_writes_them(plugin_app, registry):
    with registry.database.transaction() as (_tm, db):
        rnd = f.round_(db, registry)
        rnd.budget = Money(Decimal("800000"), "USD")
        path = f"/programmes/{rnd.programme_id}/rounds/{rnd.id}"
    budget = Money(Decimal("800000"), "USD")
    for lang in ("fa", "sw"):
        page = plugin_app.get(path, params={"_LOCALE_": lang})
        details = page.html.select_one("#round-details").get_text()
        assert format_money(budget, lang) in details
        assert format_money(budget, "en") not in details
        # Dates too, with the round's zone named in the language (issue 12), not "(Africa/Tunis)".
        assert f"({get_timezone_location(ZoneInfo('Africa/Tunis'), locale=lang)})" in details
        assert "(Africa/Tunis)" not in details and not re.search(r"\d{4}-\d{2}-\d{2}", details)


# -- English where a language has no translation ---------------------------------------------


def test_untranslated_core_messages_fall_back_to_english_with_their_values(plugin_registry):
    message = _("Period ${number}: ${start} to ${end}", mapping={"number": 2, "start": "1 May", "end": "31 July"})
    assert translate_for(plugin_registry, "sw", message) == "Period 2: 1 May to 31 July"
    assert translate_for(plugin_registry, "fr", message) == "Période 2\u00a0: du 1 May au 31 July"
    # A translated message whose values are themselves messages, one translated, one not.
    nested = _("${first} / ${second}", mapping={"first": _("Sign in"), "second": _("Workflows")})
    assert translate_for(plugin_registry, "sw", nested) == "Ingia / Workflows"


def test_plural_forms_without_a_translation_follow_english(plugin_registry):
    dirs = plugin_registry.queryUtility(ITranslationDirectories)
    for lang in ("fa", "sw", "he"):  # a plugin catalog with its own plural rule, and none at all
        localizer = make_localizer(lang, dirs)
        said = [localizer.pluralize("${n} day left", "${n} days left", n, domain="grants", mapping={"n": n})
                for n in (0, 1, 2)]
        assert said == ["0 days left", "1 day left", "2 days left"], lang


# -- a language the deployment does not list -------------------------------------------------


def test_a_language_not_in_the_setting_is_neither_offered_nor_chosen(settings, registry):
    # The plugin brings Swahili, but this deployment does not list it.
    app = browser(settings, **{"grants.plugins": "swahili", "grants.languages": "en fr ar"})
    home = app.get("/", params={"_LOCALE_": "sw"})
    assert html_of(home) == ("en", "ltr")
    assert "sw" not in [value for value, _lang, _label in switcher(home)]
    assert html_of(app.get("/", params={"_LOCALE_": "xx"})) == ("en", "ltr")
    assert html_of(app.get("/", headers={"Cookie": "grants_lang=sw"})) == ("en", "ltr")
    assert html_of(app.get("/", headers={"Accept-Language": "sw"})) == ("en", "ltr")

    app.set_cookie("grants_lang", "fr")
    french = app.get("/")
    form = next(fm for fm in french.forms.values() if fm.action.endswith("/language"))
    refused = app.post("/language", {"lang": "sw", "csrf_token": form["csrf_token"].value, "came_from": "/"},
                       status=400)
    assert html_of(refused) == ("fr", "ltr")
    assert "Choisissez l'une des langues proposées." in refused.text
    assert "grants_lang" not in refused.headers.get("Set-Cookie", "")
    assert html_of(app.get("/")) == ("fr", "ltr")  # the choice made before stands
    app.reset()

    with registry.database.transaction() as (_tm, db):
        f.user(db, email="amina@example.org", locale="sw")
    assert html_of(f.sign_in(app, "amina@example.org")) == ("en", "ltr")


def test_registering_with_a_language_not_offered_is_refused(settings, registry):
    app = browser(settings, **{"grants.plugins": "swahili", "grants.languages": "en fr ar"})
    form = f.main_form(app.get("/register"))
    assert [o[0] for o in form["locale"].options] == ["en", "fr", "ar"]
    form["name"] = "Amina Juma"
    form["email"] = "amina@example.org"
    form["password"] = "a long enough passphrase"
    form["locale"].force_value("sw")
    page = form.submit(status=400)
    assert "Choose one of the languages offered" in page.text
    with registry.database.transaction() as (_tm, db):
        assert db.scalars(select(User).where(User.email == "amina@example.org")).first() is None


# -- data written in several languages -------------------------------------------------------


def test_a_survey_item_may_be_translated_into_any_language(db):
    from grants.mel import surveys

    labels = ["No", "Yes"]
    item = {"code": "belong", "text": "I belong here.", "scale": 2, "labels": labels,
            "translations": {"sw": {"text": "Ninahisi ni sehemu ya hapa.", "labels": ["Hapana", "Ndiyo"]},
                             "fr": {"text": "Je me sens à ma place ici."}}}
    made = surveys.create_instrument(db, code="belonging", title="Belonging", items=[item])
    (stored,) = made.items
    assert surveys.item_text(stored, "sw") == "Ninahisi ni sehemu ya hapa."
    assert surveys.item_labels(stored, "sw_KE") == ["Hapana", "Ndiyo"]
    assert surveys.item_text(stored, "fa") == "I belong here."  # none in Persian: the instrument's own

    for language in ("xx", "pt_BR", ""):
        wrong = {**item, "translations": {language: {"text": "…"}}}
        with pytest.raises(surveys.SurveyRefused) as refused:
            surveys.create_instrument(db, code="other", title="Other", items=[wrong])
        assert [reason.interpolate() for _field, reason in refused.value.problems] == [
            "Item 1: give each translation under a language code such as fr, ar or sw, with its text and labels."]


@pytest.mark.parametrize("listed, subject", [("en fr ar sw", "Thibitisha anwani yako ya barua pepe"),
                                             ("en fr ar", "Confirm your e-mail address")])
def test_mail_goes_in_the_account_language_while_the_deployment_offers_it(settings, listed, subject):
    from grants.mail import notify

    registry = make_config({**settings, "grants.plugins": "swahili", "grants.languages": listed}).registry
    with registry.database.transaction() as (tm, db):
        amina = f.user(db, email="amina@example.org", name="Amina Juma", locale="sw")
        notify(registry, amina, _("Confirm your e-mail address"),
               _("Enter a password of at least ${min} characters", mapping={"min": 12}), transaction_manager=tm)
    (message,) = Mailer(settings).sent()
    assert message["Subject"] == subject
    assert message.get_content().strip() == "Enter a password of at least 12 characters"
