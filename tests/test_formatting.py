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
from grants.i18n import _, format_date, format_datetime, format_number, format_percent_figure, localize, ngettext
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


# -- the pages people read: counts, times and states (issue 12's leftovers) ---------------------
#
# The factories' rounds are in Africa/Tunis, so every time on these pages is named "Tunisia
# Time" in the page's language; UTC under any name, "(s)" and an ISO date are what the fixed
# pages used to show.


def reads_well(page, lang: str = "en") -> str:
    """The page's main text, after checking it dodges no count with "(s)", shows no time in
    UTC (by its code or its name in ``lang``) and no raw ISO date."""
    text = page.html.find("main").get_text(" ", strip=True)
    utc_name = expected_moment(dt.datetime(2027, 1, 25, tzinfo=UTC), "UTC", lang)[2]
    assert "(s)" not in text, text
    assert "UTC" not in text and utc_name not in text, text
    assert not re.search(r"\b\d{4}-\d{2}-\d{2}\b", text), text
    return text


def arabic_form(msgid: str, plural: str, count: int) -> str:
    """The Arabic catalog's form of a message for ``count``, as CLDR names it."""
    forms = _catalog("ar")[(msgid, plural)].string
    return forms[ARABIC_CATEGORIES.index(Locale.parse("ar").plural_form(count))].replace("${count}", str(count))


def _world(registry, *, checks: int):
    """test_work's programme (work for every role) with ``checks`` eligibility checks left to
    confirm on the application to screen."""
    from grants.applications.eligibility import run_checks
    from test_work import world

    with registry.database.transaction() as (_tm, db):
        w = world(db, registry)
        w["round"].eligibility_rules = [{"kind": "required_attachments", "attachments": ["statutes"]}] * checks
        run_checks(db, w["to_screen"])
        app = w["to_screen"]
        return {"screen_state": registry.workflows.for_object(app).state_of(app).title}


@pytest.mark.parametrize("checks", [1, 2])
def test_my_tasks_counts_the_checks_to_confirm_and_shows_each_state_as_a_badge(testapp, registry, checks):
    screen_state = _world(registry, checks=checks)["screen_state"]
    f.sign_in(testapp, "officer@example.org")
    page = testapp.get("/tasks")
    text = reads_well(page)
    wanted = "1 eligibility check to confirm" if checks == 1 else f"{checks} eligibility checks to confirm"
    assert wanted in text and "Eligibility checks to confirm:" not in text
    screen = page.html.select_one("#tasks tr.task-screen")
    badge = screen.select_one("strong.state-badge")
    assert badge is not None and "state-progress" in badge["class"]  # submitted: in progress
    assert badge.get_text(strip=True) == screen_state
    # Every task shows its object's state the same way.
    assert len(page.html.select("#tasks tbody tr")) == len(page.html.select("#tasks tbody tr strong.state-badge"))

    arabic = testapp.get("/tasks", params={"_LOCALE_": "ar"})
    reads_well(arabic, "ar")
    assert arabic_form("${count} eligibility check to confirm", "${count} eligibility checks to confirm",
                       checks) in arabic.text


def test_the_home_lists_show_states_as_badges_and_count_an_evaluator_s_grants(testapp, registry):
    _world(registry, checks=0)
    f.sign_in(testapp, "officer@example.org")
    rounds = testapp.get("/").html.select_one("#home-officer tbody tr")
    assert rounds.select_one("strong.state-badge.state-progress").get_text(strip=True) == "Open"

    f.sign_in(testapp, "applicant@example.org")
    home = testapp.get("/")
    reads_well(home)
    draft = home.html.select_one("#home-applicant tbody tr strong.state-badge")
    assert draft is not None and "state-neutral" in draft["class"]
    full = testapp.get("/mine", params={"list": "applications"})  # the full list: the same rows
    assert full.html.select_one("tbody tr strong.state-badge.state-neutral") is not None

    f.sign_in(testapp, "evaluator@example.org")
    for lang in LANGUAGES:
        text = reads_well(testapp.get("/", params={"_LOCALE_": lang}), lang)
        message = ngettext("${count} grant, ${assessed} assessed by you", "${count} grants, ${assessed} assessed by you",
                           1, {"assessed": 0})
        assert localize(localizer(lang), message) in text, lang
        assert "grants:" not in text


def test_a_listed_moment_is_the_day_it_is_in_the_round_s_zone(testapp, registry):
    """An application submitted at 23:30 UTC on 31 January was submitted on 1 February in
    Tunis: the applicant's list says so."""
    with registry.database.transaction() as (_tm, db):
        member = f.user(db, email="amel@example.org")
        app = f.application(db, registry, f.round_(db, registry), f.organisation(db, member), state="submitted")
        app.submitted_at = dt.datetime(2027, 1, 31, 23, 30, tzinfo=UTC)
    f.sign_in(testapp, "amel@example.org")
    row = testapp.get("/").html.select_one("#home-applicant tbody tr").get_text(" ", strip=True)
    assert format_skeleton("yMMMd", dt.date(2027, 2, 1), locale="en_GB") in row
    assert format_skeleton("yMMMd", dt.date(2027, 1, 31), locale="en_GB") not in row


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_survey_and_evidence_pages_show_times_in_the_round_s_zone(testapp, registry, lang):
    from grants.mel import evidence, surveys
    from test_surveys import GOOD, instrument

    with registry.database.transaction() as (_tm, db):
        officer = f.user(db, email="leila@example.org", name="Leila")
        award = f.award(db, registry)
        f.grant_role(db, officer, "programme_officer", award.round.programme)
        inst = instrument(db)
        surveys.attach_instrument(db, award.round, inst, ["baseline", "post"])
        upload = surveys.upload_survey_results(db, registry, award, inst, "baseline", GOOD, filename="b.csv")
        upload.uploaded_at = dt.datetime(2027, 1, 25, 9, 22, tzinfo=UTC)
        evidence.add_evidence(db, award, kind="success_story", title="A story", text="What changed for us.",
                              consent_given=True, consent_method="written", consent_date=dt.date(2020, 1, 20),
                              user=officer)
        url = f"/programmes/{award.round.programme_id}/rounds/{award.round_id}/awards/{award.id}"
    f.sign_in(testapp, "leila@example.org")
    page = testapp.get(url + "/@@surveys", params={"_LOCALE_": lang})
    text = reads_well(page, lang)
    day, time, zone = expected_moment(dt.datetime(2027, 1, 25, 9, 22, tzinfo=UTC), "Africa/Tunis", lang)
    assert day in text and time in text and zone in text
    # The share agreeing is a percentage as the language writes it ("64.0%", "64,0 %").
    assert format_percent_figure(Decimal("64.0"), lang) in text

    page = testapp.get(url + "/@@evidence", params={"_LOCALE_": lang})
    assert expected_moment(dt.datetime(2027, 1, 25, tzinfo=UTC), "Africa/Tunis", lang)[2] in reads_well(page, lang)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_an_evaluator_s_assessment_history_is_in_the_round_s_zone(testapp, registry, lang):
    from grants.evaluation import services as evaluation
    from test_evaluation import SCORES, _people_and_round, assign

    urls, ids = _people_and_round(registry)
    assign(registry, ids)
    with registry.database.transaction() as (_tm, db):
        from grants.accounts.models import User
        from grants.awards.models import Award

        evaluation.save_assessment(db, db.get(Award, ids["award"]), db.get(User, ids["eva"]), scores=SCORES,
                                   summary="Strong delivery.", submit=True)
    f.sign_in(testapp, "eva@example.org")
    for page in (testapp.get(urls["award"] + "/@@assessment", params={"_LOCALE_": lang}),
                 testapp.get(urls["award"] + "/@@assessments", params={"_LOCALE_": lang}),
                 testapp.get(urls["round"] + "/@@evaluation", params={"_LOCALE_": lang})):
        text = reads_well(page, lang)
        assert get_timezone_location(ZoneInfo("Africa/Tunis"), locale=DATE_LOCALE[lang]) in text


def test_counts_on_the_round_s_set_up_and_attendance_pages_are_plurals(testapp, registry):
    url, *_rest = _officer_round(registry)
    f.sign_in(testapp, "leila@example.org")
    for lang in LANGUAGES:
        for page in (testapp.get(url, params={"_LOCALE_": lang}), testapp.get(url + "/@@setup", params={"_LOCALE_": lang})):
            text = reads_well(page, lang)
            progress = (page.html.find(id="setup-summary") or page.html.find(id="setup-progress")).get_text(" ", strip=True)
            assert "${" not in progress and progress in text
    progress = testapp.get(url + "/@@setup").html.find(id="setup-progress").get_text(" ", strip=True)
    done, total = map(int, re.fullmatch(r"You have completed (\d+) of (\d+) tasks?\.", progress).groups())
    assert progress.endswith("task." if total == 1 else "tasks.") and done <= total


def test_the_public_workflows_page_shows_translated_titles_and_no_ids(testapp, registry):
    """Signed out, in each language: every state's and step's title as the reader's language
    writes it, never the ids the code uses."""
    for lang in LANGUAGES:
        page = testapp.get("/workflows", params={"_LOCALE_": lang})
        reads_well(page, lang)
        for svg, wf in zip(page.html.find_all("svg"), registry.workflows):
            shown = {t.get_text(strip=True).removeprefix("↻ ") for t in svg.find_all("text")}
            d = wf.definition
            for state_id, state in d.states.items():
                title = localize(localizer(lang), _(state.title))
                assert title in shown, (lang, d.id, state_id)
                if state_id not in (state.title, title):  # an id is never shown for itself
                    assert state_id not in shown, (lang, d.id, state_id)
            ids = {t.trigger for t in d.transitions} - {localize(localizer(lang), _(t.title)) for t in d.transitions}
            assert not ids & shown, (lang, d.id, ids & shown)
            assert not svg.find_all("text", attrs={"font-family": "monospace"})
    arabic = testapp.get("/workflows", params={"_LOCALE_": "ar"}).text
    assert "مفتوحة" in arabic and "Plugin extensions" not in arabic and "(timed)" not in arabic


# -- counts inside messages, states everywhere, the site's zone (issue 12, the rest) ------------

#: A count written before one of these nouns needs the language's plural form for it.
COUNTED = r"(characters?|digits?|decimals|hours?|days?|points?|lines?|rows?|items?|criteria|labels?|values?|" \
          r"columns?|responses?|capacity areas?)\b"


def test_no_message_writes_a_count_before_a_noun_without_a_plural():
    """"${max} characters or fewer" would read "1 characters" and cannot take Arabic's six
    forms: every message with a counted noun is an ngettext plural."""
    with (LOCALE_DIR / "grants.pot").open("rb") as fp:
        pot = read_po(fp)
    singular_only = [m.id for m in pot if m.id and not m.pluralizable
                     and any(name != "count" for name, _noun in re.findall(r"\$\{(\w+)\} " + COUNTED, m.id))]
    assert singular_only == []


LIMITS = [("Enter ${count} character or fewer.", "Enter ${count} characters or fewer."),
          ("The link works for ${count} hour.", "The link works for ${count} hours."),
          ("An invitation works for ${count} day.", "An invitation works for ${count} days."),
          ("Line ${line}: remove the column count_${n}: this instrument's items are rated on ${count} point.",
           "Line ${line}: remove the column count_${n}: this instrument's items are rated on ${count} points.")]


def _filled(form: str, count: int, lang: str) -> str:
    return form.replace("${count}", format_number(count, lang)).replace("${line}", "4").replace("${n}", "6")


@pytest.mark.parametrize("msgid, plural", LIMITS)
def test_a_limit_takes_the_plural_form_of_its_count_and_the_language_s_digits(msgid, plural):
    forms = _catalog("ar")[(msgid, plural)].string
    for count in (1, 2, 3, 11, 100, 2000):
        message = ngettext(msgid, plural, count, {"line": 4, "n": 6})
        assert localize(localizer("en"), message) == _filled(msgid if count == 1 else plural, count, "en")
        french = localize(localizer("fr"), message)
        assert "${" not in french and format_number(count, "fr") in french
        form = forms[ARABIC_CATEGORIES.index(Locale.parse("ar").plural_form(count))]
        assert localize(localizer("ar"), message) == _filled(form, count, "ar")
    # Thousands are grouped as each language groups them: "2,000", "2 000".
    assert format_number(2000, "fr") != "2000"
    assert format_number(2000, "fr") in localize(localizer("fr"), ngettext(*LIMITS[0], 2000))


def test_a_form_limit_is_a_plural_in_arabic(testapp):
    """The registration form's password rule (colander's Length would make it singular)."""
    from grants.accounts.services import MIN_PASSWORD_LENGTH

    testapp.set_cookie("grants_lang", "ar")
    form = testapp.get("/register").forms["register"]
    form["name"] = "Amel"
    form["email"] = "amel@example.org"
    form["password"] = "short"
    page = form.submit("submit", status=400)
    text = reads_well(page, "ar")
    wanted = arabic_form("Enter a password of at least ${count} character",
                         "Enter a password of at least ${count} characters", MIN_PASSWORD_LENGTH)
    assert wanted in text
    assert arabic_form("At least ${count} character. A few unrelated words make a strong password that is easy to "
                       "remember.", "At least ${count} characters. A few unrelated words make a strong password "
                       "that is easy to remember.", MIN_PASSWORD_LENGTH) in text


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_link_s_lifetime_is_a_plural_on_the_pages_that_give_it(testapp, lang):
    from grants.accounts.services import RESET, TOKEN_LIFETIMES

    hours = int(TOKEN_LIFETIMES[RESET].total_seconds() // 3600)
    testapp.set_cookie("grants_lang", lang)
    form = testapp.get("/reset-password").forms["reset_request"]
    form["email"] = "nobody@example.org"
    text = reads_well(form.submit("submit"), lang)
    message = ngettext("The link works for ${count} hour.", "The link works for ${count} hours.", hours)
    assert localize(localizer(lang), message) in text
    text = reads_well(testapp.get("/reset-password/not-a-token", status=400), lang)
    assert localize(localizer(lang), ngettext(
        "A link to choose a new password works once, for ${count} hour, and only the most recent one you asked for.",
        "A link to choose a new password works once, for ${count} hours, and only the most recent one you asked for.",
        hours)) in text


def _badges(page, selector: str) -> list:
    found = page.html.select(selector)
    assert found, (selector, page.request.path)
    return found


def test_the_remaining_pages_show_each_state_as_a_badge(testapp, registry):
    """The round's evaluation, reports due, a report, an application's
    decisions, an applicant's draft and the home page's short lists: a state is a badge in
    the colour of what it means, as on every other page."""
    from grants.mel.models import Report
    from test_work import world

    with registry.database.transaction() as (_tm, db):
        w = world(db, registry)
        award, rnd = w["award"], w["round"]
        report = db.query(Report).filter_by(award_id=award.id).order_by(Report.number).first()
        round_url = f"/programmes/{rnd.programme_id}/rounds/{rnd.id}"
        award_url = f"{round_url}/awards/{award.id}"
        urls = {"evaluation": (round_url + "/@@evaluation", "tbody tr strong.state-badge"),
                "reports-due": (round_url + "/@@reports-due", "td.state strong.state-badge"),
                "report": (f"{award_url}/reports/{report.id}", "main strong.state-badge"),
                "decide": (f"{round_url}/applications/{w['to_review'].id}/@@decide", "#state strong.state-badge")}
        draft_url = f"{round_url}/applications/{w['draft'].id}"
    f.sign_in(testapp, "officer@example.org")
    for name, (url, selector) in urls.items():
        for lang in LANGUAGES:
            page = testapp.get(url, params={"_LOCALE_": lang})
            reads_well(page, lang)
            for badge in _badges(page, selector):
                assert badge.get_text(strip=True), (name, badge)
                assert any(c.startswith("state-") and c != "state-badge" for c in badge["class"]), (name, badge)
    # Reports due: every row has its badge.
    due = testapp.get(urls["reports-due"][0])
    assert len(due.html.select("tbody tr")) == len(due.html.select("tbody tr td.state strong.state-badge"))

    f.sign_in(testapp, "applicant@example.org")
    draft = testapp.get(draft_url)
    assert draft.html.select_one("main strong.state-badge.state-neutral") is not None

    f.sign_in(testapp, "reviewer@example.org")
    home = testapp.get("/")
    reads_well(home)
    for item in _badges(home, "#home-reviewer li"):
        assert item.select_one("strong.state-badge") is not None, item


def _tunis_site(settings):
    """An app whose own pages (sign-in, the workflow editor) are in Tunis time."""
    import webtest

    from grants import make_app

    settings["grants.timezone"] = "Africa/Tunis"
    return webtest.TestApp(make_app(settings), extra_environ={"HTTP_HOST": "localhost", "REMOTE_ADDR": "203.0.113.7"})


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_sign_in_lockout_ends_at_a_time_in_the_site_s_zone(settings, registry, lang):
    from grants.accounts import services

    with registry.database.transaction() as (_tm, db):
        f.user(db, email="amel@example.org")
    site = _tunis_site(settings)
    site.set_cookie("grants_lang", lang)
    for _n in range(services.MAX_FAILED_LOGINS + 1):
        form = site.get("/login").forms["login"]
        form["email"], form["password"] = "amel@example.org", "a guess"
        page = form.submit("submit", status=(400, 429))
    assert page.status_int == 429
    text = reads_well(page, lang)
    assert get_timezone_location(ZoneInfo("Africa/Tunis"), locale=DATE_LOCALE[lang]) in text
    minutes = int(page.headers["Retry-After"]) // 60
    if lang == "ar":
        assert arabic_form("There have been too many attempts to sign in with this e-mail address. "
                           "Try again in ${count} minute, after ${time}, or choose a new password: "
                           "the link we e-mail you works even now.",
                           "There have been too many attempts to sign in with this e-mail address. "
                           "Try again in ${count} minutes, after ${time}, or choose a new password: "
                           "the link we e-mail you works even now.", minutes).split("${time}")[0] in text


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_workflow_editor_s_changes_are_in_the_site_s_zone_named_in_the_reader_s_language(settings, lang):
    from grants.testing import build_site, sign_in

    site = _tunis_site(settings)
    people = build_site(site.app.registry)
    sign_in(site, people.admin.email)
    form = site.get("/workflow-editor").forms["copy-workflow"]
    form["source"], form["workflow_id"], form["title"] = "application:1", "application_panel", "With a panel"
    form.submit()
    page = site.get("/workflow-editor/application_panel/1", params={"_LOCALE_": lang})
    changes = page.html.find(id="changes").get_text(" ", strip=True)
    assert get_timezone_location(ZoneInfo("Africa/Tunis"), locale=DATE_LOCALE[lang]) in changes
    reads_well(page, lang)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_public_report_s_grant_list_shows_each_state_as_a_badge(testapp, registry, lang):
    from test_public_report import build

    with registry.database.transaction() as (_tm, db):
        url = build(db, registry)["url"]
    page = testapp.get(url + "/@@public-report", params={"_LOCALE_": lang})
    rows = page.html.select("#grants-table tbody tr")
    assert rows and all(row.select_one("strong.state-badge") for row in rows)
    assert {c for row in rows for c in row.select_one("strong.state-badge")["class"]} & {
        "state-success", "state-progress", "state-attention", "state-stopped", "state-neutral"}


def test_a_site_zone_the_zone_database_does_not_know_stops_start_up(settings):
    from grants import StartupError, make_app

    settings["grants.timezone"] = "Africa/Atlantis"
    with pytest.raises(StartupError, match="grants.timezone: 'Africa/Atlantis' is not a time zone"):
        make_app(settings)
