"""Dates, times, money and counts as each language writes them (issue 12): on real pages in
English, French and Arabic, and in the helpers every page and message goes through
(grants.i18n.format_datetime / format_date, grants.money.format_money, grants.i18n.ngettext).

The expected text is computed with Babel here, not copied from a page, so that what is
checked is "the page writes it the way CLDR says this language does"."""
from __future__ import annotations

import datetime as dt
import re
import tokenize
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from babel import Locale
from babel.dates import format_skeleton, format_time, get_timezone_location, get_timezone_name
from babel.messages.pofile import read_po
from babel.numbers import format_currency, get_currency_symbol
from pyramid.i18n import make_localizer

import factories as f
from grants.i18n import _, format_date, format_datetime, localize, ngettext
from grants.money import Money, format_money, parse_money
from grants.programmes.models import Programme, Round

ROOT = Path(__file__).resolve().parents[1]
LOCALE_DIR = ROOT / "grants" / "locale"
UTC = dt.timezone.utc
LANGUAGES = ("en", "fr", "ar")
# English dates are day-month-year (grants.i18n._DATE_LOCALES); the others are themselves.
DATE_LOCALE = {"en": "en_GB", "fr": "fr", "ar": "ar"}


def localizer(lang):
    return make_localizer(lang, [str(LOCALE_DIR)])


def expected_moment(moment: dt.datetime, zone: str, lang: str) -> tuple[str, str, str]:
    """The day, the time and the zone's name as Babel writes them in ``lang``."""
    loc = DATE_LOCALE[lang]
    local = moment.astimezone(ZoneInfo(zone))
    name = (get_timezone_name(local, width="long", locale=loc) if zone == "UTC"
            else get_timezone_location(ZoneInfo(zone), locale=loc))
    return format_skeleton("yMMMd", local.date(), locale=loc), format_time(local, "short", locale=loc), name


# -- the helpers -------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("zone", ["Africa/Tunis", "Europe/London", "UTC"])
def test_a_moment_is_written_in_the_language_with_the_zone_named_in_it(lang, zone):
    moment = dt.datetime(2027, 1, 25, 9, 22, tzinfo=UTC)
    text = format_datetime(moment, zone, lang)
    day, time, name = expected_moment(moment, zone, lang)
    assert day in text and time in text and text.endswith(f"({name})")
    assert f"({zone})" not in text and "(UTC)" not in text  # never the raw identifier
    assert "2027-01-25" not in text


def test_the_zone_name_is_the_reader_s_language():
    moment = dt.datetime(2027, 1, 25, 9, 22, tzinfo=UTC)
    names = {lang: format_datetime(moment, "Africa/Tunis", lang) for lang in LANGUAGES}
    assert "Tunisia" in names["en"] and "Tunisie" in names["fr"] and "تونس" in names["ar"]
    # Arabic months are written in Arabic, never as 2027-01-25 or 2019/10/01.
    assert format_skeleton("MMMM", moment, locale="ar") in names["ar"]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_day_is_written_as_the_language_writes_it(lang):
    day = dt.date(2019, 10, 1)
    assert format_date(day, lang) == format_skeleton("yMMMd", day, locale=DATE_LOCALE[lang])
    assert "2019/10/01" not in format_date(day, lang) and "2019-10-01" not in format_date(day, lang)


def test_a_date_in_a_message_follows_the_language_the_message_is_translated_into():
    """A date formatted while serving one person (in English) and put into a message sent to
    another (a French reminder) is written again in French."""
    moment = dt.datetime(2019, 10, 30, 22, 59, tzinfo=UTC)
    when = format_datetime(moment, "Africa/Tunis", "en")
    message = _("This application was submitted on ${when}.", mapping={"when": when})
    french = localize(localizer("fr"), message)
    day, time, name = expected_moment(moment, "Africa/Tunis", "fr")
    assert day in french and time in french and name in french and str(when) not in french


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("currency, amount", [("TND", "400000"), ("GBP", "873925"), ("JPY", "1500"),
                                              ("CHF", "12.5")])
def test_money_has_the_language_s_symbol_spacing_and_the_currency_s_digits(lang, currency, amount):
    money = Money(Decimal(amount), currency)
    text = format_money(money, lang)
    babel = format_currency(money.amount, currency, locale=lang, currency_digits=True)
    symbol = get_currency_symbol(currency, lang)
    figure = babel.replace(symbol, "").strip("\u00a0\u200f\u200e ")
    assert figure in text and symbol in text
    # Letters next to digits are kept apart (CLDR's currency spacing): "TND 400,000.000".
    if text.index(symbol) < text.index(figure[0]) and symbol[-1].isalpha():
        assert symbol + "\u00a0" in text
    assert not re.search(r"[A-Z]{3}\d", text) and not re.search(r"\d[A-Z]{3}", text)
    assert parse_money(text, currency, lang) == money  # what a page shows can be typed back


def test_a_sentence_ending_in_an_amount_ending_in_a_full_stop_has_one_full_stop():
    """د.ت. (the dinar in Arabic) ends in a full stop: the sentence does not add another."""
    amount, maximum = Money(Decimal("60000"), "TND"), Money(Decimal("45000"), "TND")
    for lang in LANGUAGES:
        message = _("The amount requested, ${amount}, is more than the maximum of ${maximum}.",
                    mapping={"amount": format_money(amount, lang), "maximum": format_money(maximum, lang)})
        text = localize(localizer(lang), message)
        assert format_money(maximum, lang).rstrip("\u200f") in text
        assert not re.search(r"\.[\u200e\u200f]*\.", text), text
        assert text.rstrip("\u200f").endswith(".")


def _catalog(lang):
    with (LOCALE_DIR / lang / "LC_MESSAGES" / "grants.po").open("rb") as fp:
        return read_po(fp, locale=lang)


ARABIC_CATEGORIES = ("zero", "one", "two", "few", "many", "other")  # CLDR's order, and the .po's


@pytest.mark.parametrize("count", [0, 1, 2, 3, 11, 100])
def test_a_count_takes_the_language_s_plural_form(count):
    message = ngettext("Made ${count} assignment.", "Made ${count} assignments.", count)
    assert localize(localizer("en"), message) == (
        f"Made {count} assignment." if count == 1 else f"Made {count} assignments.")
    french = localize(localizer("fr"), message)
    assert french.startswith(str(count)) and ("affectations" in french) == (count > 1)
    # Arabic: the form CLDR names for this count (zero, one, two, few, many, other), read from
    # the catalog by that name, so a wrong Plural-Forms header would show here.
    forms = _catalog("ar")[("Made ${count} assignment.", "Made ${count} assignments.")].string
    form = forms[ARABIC_CATEGORIES.index(Locale.parse("ar").plural_form(count))]
    assert localize(localizer("ar"), message) == form.replace("${count}", str(count))
    assert len(set(forms)) == 6


def test_every_arabic_plural_follows_cldr_for_the_counts_that_differ():
    catalog = _catalog("ar")
    assert catalog.num_plurals == 6
    translations = localizer("ar").translations
    for message in (m for m in catalog if m.id and m.pluralizable):
        for count in (0, 1, 2, 3, 11, 100):
            expected = message.string[ARABIC_CATEGORIES.index(Locale.parse("ar").plural_form(count))]
            assert translations.dungettext("grants", message.id[0], message.id[1], count) == expected


def test_no_message_dodges_a_plural_with_s_in_brackets():
    """"report(s)" reads badly in English and cannot be translated: a message with a count
    uses ngettext.  Checked on every message grants extracts (Python and templates)."""
    with (LOCALE_DIR / "grants.pot").open("rb") as fp:
        pot = read_po(fp)
    dodges = [m.id for m in pot if m.id and any("(s)" in part for part in
                                                 (m.id if isinstance(m.id, tuple) else (m.id,)))]
    assert dodges == []
    # And text no one extracts: strings in Python (the command line's output too), and
    # template text outside expressions ("resource_url(s)" is code, not prose).
    found = []
    for path in ROOT.joinpath("grants").rglob("*.py"):
        with path.open("rb") as fp:
            strings = [t.string for t in tokenize.tokenize(fp.readline) if t.type == tokenize.STRING]
        found += [(str(path.relative_to(ROOT)), s) for s in strings
                  if re.search(r"[A-Za-z]\(s\)", re.sub(r"\{[^{}]*\}", "", s))]  # not an f-string's code
    for path in ROOT.joinpath("templates").rglob("*.pt"):
        text = re.sub(r"\$\{[^}]*\}", "", path.read_text(encoding="utf-8"))
        text = re.sub(r'\b(?:tal|metal|i18n):[\w-]+="[^"]*"', "", text)
        found += [(str(path.relative_to(ROOT)), m) for m in re.findall(r"\w+\(s\)", text)]
    assert found == []


def test_a_cohort_and_a_payment_tranche_are_different_words_in_arabic():
    """دفعة is a payment instalment; an incubation cohort is a فوج."""
    catalog = _catalog("ar")
    cohort = [m for m in catalog if m.id and not m.pluralizable and "cohort" in m.id.lower()]
    tranche = [m for m in catalog if m.id and not m.pluralizable and re.search(r"\btranche\b", m.id.lower())]
    assert cohort and tranche
    assert [m.id for m in cohort if "دفعة" in m.string] == []
    assert [m.id for m in tranche if "فوج" in m.string] == []
    assert catalog["Tranche ${number}"].string.count("دفعة") == 1
    assert "فوج" in catalog["Name of the cohort"].string


# -- real pages --------------------------------------------------------------------------------


def _officer_round(registry, *, currency="TND"):
    opens = dt.datetime(2027, 1, 25, 9, 22, tzinfo=UTC)
    with registry.database.transaction() as (_tm, db):
        officer = f.user(db, email="leila@example.org", name="Leila")
        prog = Programme(title="BLADI", currency=currency)
        db.add(prog)
        db.flush()
        rnd = f.round_(db, registry, prog, state="draft", opens_at=opens,
                       closes_at=dt.datetime(2027, 3, 1, 16, 0, tzinfo=UTC))
        rnd.budget = Money(Decimal("400000"), currency)
        f.grant_role(db, officer, "programme_officer", prog)
        db.flush()
        return f"/programmes/{prog.id}/rounds/{rnd.id}", rnd.opens_at, rnd.closes_at, rnd.timezone


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_round_page_writes_dates_and_money_in_the_page_s_language(testapp, registry, lang):
    url, opens, closes, zone = _officer_round(registry)
    f.sign_in(testapp, "leila@example.org")
    page = testapp.get(url, params={"_LOCALE_": lang})
    details = page.html.find(id="round-details").get_text(" ", strip=True)
    for moment in (opens, closes):
        for part in expected_moment(moment, zone, lang):
            assert part in details, (lang, part, details)
    assert "(Africa/Tunis)" not in page.text and "(UTC)" not in page.text
    assert format_money(Money(Decimal("400000"), "TND"), lang) in page.text
    assert ".." not in details and "TND400" not in page.text


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_budget_input_names_the_currency_in_the_page_s_language(testapp, registry, lang):
    url, *_rest = _officer_round(registry)
    f.sign_in(testapp, "leila@example.org")
    page = testapp.get(url + "/@@edit", params={"_LOCALE_": lang})
    budget = page.html.find("input", attrs={"name": "budget"})
    label = budget.find_parent(class_="input-group").get_text(" ", strip=True)
    assert get_currency_symbol("TND", lang) in label


def _assignments(registry, testapp, lang, applications):
    from test_review import _officer_round as review_round
    from test_review import eligible_application, reviewer

    _rnd_id, url = review_round(registry)
    with registry.database.transaction() as (_tm, db):
        rnd = db.get(Round, _rnd_id)
        for n in range(applications + 1):
            reviewer(db, registry, rnd, name=f"Reviewer {n}")
        for n in range(applications):
            eligible_application(db, registry, rnd, f.organisation(db), title=f"Application {n}")
    f.sign_in(testapp, "leila@example.org")
    page = testapp.get(url + "/@@assignments", params={"_LOCALE_": lang})
    form = page.forms["auto"]
    form["per_application"] = "1"
    return form.submit("submit").follow()


@pytest.mark.parametrize("count", [1, 2, 3])
def test_the_assignments_flash_counts_in_english(testapp, registry, count):
    done = _assignments(registry, testapp, "en", count)
    assert (f"Made {count} assignment." if count == 1 else f"Made {count} assignments.") in done.text
    assert "(s)" not in done.text


@pytest.mark.parametrize("count", [1, 2, 3])
def test_the_assignments_flash_counts_in_arabic(testapp, registry, count):
    testapp.set_cookie("grants_lang", "ar")
    done = _assignments(registry, testapp, "ar", count)
    forms = _catalog("ar")[("Made ${count} assignment.", "Made ${count} assignments.")].string
    form = forms[ARABIC_CATEGORIES.index(Locale.parse("ar").plural_form(count))]
    assert form.replace("${count}", str(count)) in done.text
