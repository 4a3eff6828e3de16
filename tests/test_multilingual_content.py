"""Content in every language: a programme's languages, its texts (programme, round,
tier, budget line, indicator) entered per language, shown in the reader's language with a
visible fallback, recorded in the audit, and exported in the default language (IATI
narratives in every language)."""
from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest

import factories as f
from grants.audit.services import changes_of
from grants.awards.services import set_budget
from grants.mel import framework
from grants.multilingual import shown, texts
from grants.programmes import services
from grants.programmes.models import Programme, Round
from grants.programmes.services import ProgrammeRefused, TierSpec
from grants.reporting import exports

UTC = dt.timezone.utc
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


def reasons(refused) -> list[str]:
    return [str(r.interpolate()) if hasattr(r, "interpolate") else str(r) for r in refused.value.reasons]


# -- services -----------------------------------------------------------------------------------


def test_texts_are_kept_per_language_and_a_plain_string_is_the_default_languages(db, registry):
    prog = services.create_programme(db, title={"en": "Youth Fund", "ar": "صندوق الشباب"}, currency="TND",
                                     languages=["en", "ar"], default_language="en")
    assert prog.title == "Youth Fund"  # the column: the default language, for exports and plugins
    assert texts(prog, "title") == {"en": "Youth Fund", "ar": "صندوق الشباب"}
    # A plugin's plain string names the default language and keeps the others.
    services.update_programme(db, prog, title="Youth Fund 2026")
    assert texts(prog, "title") == {"en": "Youth Fund 2026", "ar": "صندوق الشباب"}
    rnd = services.create_round(db, registry, prog, title={"en": "Call 1", "ar": "الدعوة ١"},
                                tiers=[TierSpec({"en": "Small", "ar": "صغيرة"}, Money(1000), Money(5000)),
                                       TierSpec("Large", Money(5001), Money(9000))])
    assert rnd.title == "Call 1" and texts(rnd, "title")["ar"] == "الدعوة ١"
    small, large = rnd.tiers
    assert texts(small, "name") == {"en": "Small", "ar": "صغيرة"} and texts(large, "name") == {"en": "Large"}
    assert shown(large, "name", "ar").language == "en" and not shown(large, "name", "ar").translated


def Money(amount):
    return f.money(amount, "TND")


def test_the_default_language_is_required_and_only_the_programmes_languages_are_taken(db, registry):
    with pytest.raises(ProgrammeRefused) as refused:
        services.create_programme(db, title={"ar": "صندوق"}, currency="TND", languages=["en", "ar"],
                                  default_language="en")
    assert reasons(refused) == ["Enter the programme's name"]
    assert refused.value.problems[0][0] == "title.en"
    prog = services.create_programme(db, title="Fund", currency="TND", languages=["en"], default_language="en")
    with pytest.raises(ProgrammeRefused) as refused:
        services.create_round(db, registry, prog, title={"en": "Call", "fr": "Appel"})
    assert "is not one of the programme's languages" in reasons(refused)[0]
    with pytest.raises(ProgrammeRefused) as refused:
        services.create_round(db, registry, prog, title={"en": "Call\x00"})
    assert "control characters" in reasons(refused)[0]
    with pytest.raises(ProgrammeRefused):
        services.create_programme(db, title="Fund", currency="TND", languages=["en", "xx"])
    assert db.query(Round).count() == 0


def test_changes_are_recorded_with_every_language_before_and_after(db, registry):
    officer = f.user(db, email="officer@example.org")
    prog = services.create_programme(db, title="Fund", currency="TND", languages=["en", "ar"])
    rnd = services.create_round(db, registry, prog, title="Call 1")
    services.update_programme(db, prog, title={"en": "Fund", "ar": "صندوق"}, user=officer)
    services.update_round(db, rnd, title={"en": "Call 1", "ar": "الدعوة الأولى"}, user=officer)
    db.flush()
    (change,) = [c for c in changes_of(db, prog) if c.what == "title"]
    assert (change.before, change.after, change.user_id) == ({"en": "Fund"}, {"en": "Fund", "ar": "صندوق"}, officer.id)
    (change,) = [c for c in changes_of(db, rnd) if c.what == "title"]
    assert change.before == {"en": "Call 1"} and change.after == {"en": "Call 1", "ar": "الدعوة الأولى"}


def test_changing_the_default_language_keeps_every_text_and_the_columns_follow(db, registry):
    prog = services.create_programme(db, title="Fund", currency="TND", languages=["en", "ar"])
    rnd = services.create_round(db, registry, prog, title={"en": "Call", "ar": "دعوة"})
    services.update_programme(db, prog, default_language="ar", languages=["ar", "en"],
                              title={"en": "Fund", "ar": "صندوق"})
    assert prog.default_language == "ar" and prog.title == "صندوق"
    assert rnd.title == "دعوة" and texts(rnd, "title") == {"ar": "دعوة", "en": "Call"}
    assert [c.what for c in changes_of(db, prog)] == ["created", "languages", "title"]


def test_indicators_and_budget_lines_are_written_in_each_language(db, registry):
    prog = services.create_programme(db, title="Fund", currency="TND", languages=["en", "ar"])
    rnd = f.round_(db, registry, prog)
    award = f.award(db, registry, rnd=rnd)
    ind = framework.add_indicator(db, award, code="OUT1", title={"en": "Young people in clubs", "ar": "شباب في النوادي"},
                                  unit={"en": "people", "ar": "أشخاص"}, level="outputs", measure="unit",
                                  method="administrative_data", baseline_value="0", baseline_date=dt.date(2019, 7, 1))
    assert ind.title == "Young people in clubs" and texts(ind, "unit") == {"en": "people", "ar": "أشخاص"}
    framework.edit_indicator(db, ind, title="Young people taking part")  # the default's, the Arabic kept
    assert texts(ind, "title") == {"en": "Young people taking part", "ar": "شباب في النوادي"}
    assert [c.what for c in changes_of(db, ind)] == ["title"]
    lines = set_budget(db, award, [({"en": "Staff", "ar": "الموظفون"}, f.money("45000.000", "TND"))])
    assert texts(lines[0], "category") == {"en": "Staff", "ar": "الموظفون"}
    set_budget(db, award, [("Staff", f.money("45000.000", "TND"))])  # a name alone keeps the Arabic
    assert texts(award.budget_lines[0], "category")["ar"] == "الموظفون"

    root = ET.fromstring(exports.iati_activities(db, registry, now=dt.datetime(2020, 1, 1, tzinfo=UTC)))
    titles = root.findall(".//indicator/title")
    narratives = [(n.get(XML_LANG), n.text) for n in titles[0].findall("narrative")]
    assert narratives == [(None, "Young people taking part"), ("ar", "شباب في النوادي")]


def test_360giving_takes_the_default_language(db, registry):
    prog = services.create_programme(db, title={"fr": "Fonds jeunesse", "en": "Youth Fund"}, currency="TND",
                                     languages=["fr", "en"], default_language="fr")
    rnd = f.round_(db, registry, prog, title="Appel 1")
    f.award(db, registry, rnd=rnd)
    package = exports.threesixty_giving_package(db, registry, now=dt.datetime(2020, 1, 1, tzinfo=UTC))
    (grant,) = package["grants"]
    assert grant["grantProgramme"][0]["title"] == "Fonds jeunesse: Appel 1"


# -- pages --------------------------------------------------------------------------------------


def _bilingual(registry, *, arabic_round_title=None):
    with registry.database.transaction() as (_tm, db):
        officer = f.user(db, email="leila@example.org", name="Leila")
        prog = services.create_programme(db, title={"en": "Youth Fund", "ar": "صندوق الشباب"}, currency="TND",
                                         languages=["en", "ar"])
        f.grant_role(db, officer, "programme_officer", prog)
        title = {"en": "Call 1", **({"ar": arabic_round_title} if arabic_round_title else {})}
        rnd = services.create_round(db, registry, prog, title=title,
                                    tiers=[TierSpec({"en": "Small grants"}, Money(1000), Money(5000))])
        return prog.id, rnd.id


def test_an_arabic_page_shows_a_missing_arabic_title_in_english_marked_as_such(testapp, registry):
    prog_id, round_id = _bilingual(registry)
    f.sign_in(testapp, "leila@example.org")  # the round is a draft: its officers see it
    page = testapp.get(f"/programmes/{prog_id}/rounds/{round_id}?_LOCALE_=ar")
    assert page.html.find("html")["lang"] == "ar"
    heading = page.html.find("h1")
    marked = heading.find("span", lang="en")
    assert marked is not None and marked["dir"] == "ltr" and marked.get_text() == "Call 1"
    assert "(غير مترجم)" in heading.get_text()
    tier = page.html.find(string="Small grants").parent
    assert tier.name == "span" and tier["lang"] == "en"
    # The programme's name has its Arabic: shown as the page's own text, unmarked.
    assert "صندوق الشباب" in page.html.find("main").get_text()
    assert page.html.find("span", lang="en", string="Youth Fund") is None
    # The page title is plain text.
    assert page.html.find("title").get_text(strip=True) == "\u2068Call 1\u2069"  # isolated, as before
    english = testapp.get(f"/programmes/{prog_id}/rounds/{round_id}?_LOCALE_=en")
    assert english.html.find("h1").find("span", lang=True) is None and "Youth Fund" in english.text


def test_an_arabic_reader_sees_the_arabic_title_once_it_is_written(testapp, registry):
    prog_id, round_id = _bilingual(registry, arabic_round_title="الدعوة الأولى")
    f.sign_in(testapp, "leila@example.org")
    page = testapp.get(f"/programmes/{prog_id}/rounds/{round_id}?_LOCALE_=ar")
    heading = page.html.find("h1")
    assert heading.get_text(strip=True) == "الدعوة الأولى" and heading.find("span", lang=True) is None
    listing = testapp.get("/programmes?_LOCALE_=ar")
    assert "الدعوة الأولى" in listing.text and "صندوق الشباب" in listing.text


def test_the_round_form_has_an_input_per_language_with_its_direction(testapp, registry):
    prog_id, round_id = _bilingual(registry)
    f.sign_in(testapp, "leila@example.org")
    page = testapp.get(f"/programmes/{prog_id}/rounds/{round_id}/edit")
    english, arabic = page.html.find(id="round-title-en"), page.html.find(id="round-title-ar")
    assert (english["lang"], english["dir"], english["name"]) == ("en", "ltr", "title")
    assert (arabic["lang"], arabic["dir"], arabic["name"]) == ("ar", "rtl", "title_ar")
    form = f.main_form(page)
    form["title_ar"] = "الدعوة الأولى"
    form.submit("submit").follow()
    with registry.database.transaction() as (_tm, db):
        rnd = db.get(Round, round_id)
        assert texts(rnd, "title") == {"en": "Call 1", "ar": "الدعوة الأولى"}
        assert [(c.what, c.after) for c in changes_of(db, rnd) if c.what == "title"] == [
            ("title", {"en": "Call 1", "ar": "الدعوة الأولى"})]


def test_a_title_without_its_default_language_is_refused_beside_the_input(testapp, registry):
    prog_id, round_id = _bilingual(registry)
    f.sign_in(testapp, "leila@example.org")
    form = f.main_form(testapp.get(f"/programmes/{prog_id}/rounds/{round_id}/edit?_LOCALE_=fr"))
    form["title"], form["title_ar"] = "", "الدعوة"
    page = form.submit("submit", status=400)
    error = page.html.find(id="round-title-en")["aria-describedby"]
    assert "error-round-title-en" in error and page.html.find(id="error-round-title-en").get_text(strip=True)
    assert page.html.find("a", href="#round-title-en") is not None  # the error summary links to the input
    form = f.main_form(page)
    form["title"], form["title_ar"] = "Call 1", "الدعوة\x07"
    form.submit("submit", status=400)
    with registry.database.transaction() as (_tm, db):
        assert texts(db.get(Round, round_id), "title") == {"en": "Call 1"}


def test_an_officer_writes_the_programme_in_a_new_language_on_its_edit_page(testapp, registry):
    with registry.database.transaction() as (_tm, db):
        officer = f.user(db, email="leila@example.org", name="Leila")
        prog = services.create_programme(db, title="Youth Fund", currency="TND", description="For clubs.")
        f.grant_role(db, officer, "programme_officer", prog)
        prog_id = prog.id
    f.sign_in(testapp, "leila@example.org")
    page = testapp.get(f"/programmes/{prog_id}").click(description="Edit the programme")
    assert page.html.find(id="programme-title-ar")["dir"] == "rtl"
    form = f.main_form(page)
    for box in form.fields["checkbox"]:  # the languages, one tick box each
        box.checked = box._value in ("en", "ar")
    form["title_ar"], form["description_ar"] = "صندوق الشباب", "للنوادي."
    page = form.submit("submit").follow()
    assert "صندوق الشباب" not in page.html.find("h1").get_text()  # an English reader reads English
    arabic = testapp.get(f"/programmes/{prog_id}?_LOCALE_=ar")
    assert arabic.html.find("h1").get_text(strip=True) == "صندوق الشباب"
    assert "للنوادي." in arabic.text
    with registry.database.transaction() as (_tm, db):
        prog = db.get(Programme, prog_id)
        assert prog.languages == ["en", "ar"] and prog.title == "Youth Fund"
        whats = {c.what: (c.before, c.after) for c in changes_of(db, prog)}
        assert whats["title"] == ({"en": "Youth Fund"}, {"en": "Youth Fund", "ar": "صندوق الشباب"})
        assert whats["languages"][1] == {"languages": ["en", "ar"], "default_language": "en"}


def test_a_text_in_a_language_the_programme_does_not_use_is_refused_with_nothing_changed(testapp, registry):
    with registry.database.transaction() as (_tm, db):
        officer = f.user(db, email="leila@example.org", name="Leila")
        prog = services.create_programme(db, title="Youth Fund", currency="TND")
        f.grant_role(db, officer, "programme_officer", prog)
        prog_id = prog.id
    f.sign_in(testapp, "leila@example.org")
    form = f.main_form(testapp.get(f"/programmes/{prog_id}/edit"))
    form["title_fr"] = "Fonds jeunesse"
    page = form.submit("submit", status=400)
    assert "is not one of the programme's languages" in page.text
    with registry.database.transaction() as (_tm, db):
        assert texts(db.get(Programme, prog_id), "title") == {"en": "Youth Fund"}
