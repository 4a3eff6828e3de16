"""The catalogue of regions: the first-level divisions of every country the programmes
serve (Tunisia, Morocco, Jordan, Lebanon, North Macedonia, Kenya, the United Kingdom), with
their ISO 3166-2 codes where there are any and their names in English, French and Arabic."""
from __future__ import annotations

import re

import pytest

from grants import regions
from grants.regions import UnknownRegion, label, region, regions_for

ARABIC_LETTERS = re.compile(r"^[\u0600-\u06FF ]+$")

GOVERNORATES = {
    "TN-11": "Tunis", "TN-12": "Ariana", "TN-13": "Ben Arous", "TN-14": "La Manouba", "TN-21": "Nabeul",
    "TN-22": "Zaghouan", "TN-23": "Bizerte", "TN-31": "Béja", "TN-32": "Jendouba", "TN-33": "Le Kef",
    "TN-34": "Siliana", "TN-41": "Kairouan", "TN-42": "Kasserine", "TN-43": "Sidi Bouzid", "TN-51": "Sousse",
    "TN-52": "Monastir", "TN-53": "Mahdia", "TN-61": "Sfax", "TN-71": "Gafsa", "TN-72": "Tozeur",
    "TN-73": "Kebili", "TN-81": "Gabès", "TN-82": "Medenine", "TN-83": "Tataouine",
}


def test_tunisia_has_its_24_governorates_with_their_iso_codes():
    tunisia = regions_for("TN")
    assert len(tunisia) == 24
    assert {r.code: r.name("en") for r in tunisia} == GOVERNORATES
    assert all(r.country == "TN" and r.kind == "governorate" for r in tunisia)


@pytest.mark.parametrize("code, arabic, french", [
    ("TN-61", "صفاقس", "Sfax"),
    ("TN-73", "قبلي", "Kébili"),
    ("TN-81", "قابس", "Gabès"),
    ("TN-11", "تونس", "Tunis"),
    ("TN-33", "الكاف", "Le Kef"),
    ("TN-82", "مدنين", "Médenine"),
    ("TN-31", "باجة", "Béja"),
    ("TN-71", "قفصة", "Gafsa"),
])
def test_governorates_have_arabic_and_french_names(code, arabic, french):
    assert label(code, "ar") == arabic
    assert label(code, "fr") == french
    assert region(code).name("ar_TN") == arabic  # a regional locale falls back to its language


def test_every_governorate_has_an_arabic_name_in_arabic_letters():
    for r in regions_for("TN"):
        assert ARABIC_LETTERS.match(r.names["ar"]), r
        assert r.names["fr"] and r.names["en"]


def test_codes_are_unique_iso_3166_2_codes_of_their_country():
    codes = [r.code for r in regions.REGIONS.values()]
    assert len(codes) == len(set(codes))
    for r in regions.REGIONS.values():
        assert re.fullmatch(r"[A-Z]{2}-[A-Z0-9]{2,3}", r.code), r.code
        assert r.code.split("-")[0] == r.country
        assert regions.is_country(r.country)


def test_london_keeps_its_32_boroughs_and_the_city():
    london = [r for r in regions_for("GB") if r.kind in ("london_borough", "city_corporation")]
    assert len(london) == 33
    names = {r.code: r.name("en") for r in london}
    assert names["GB-LND"] == "City of London"
    assert names["GB-TWH"] == "Tower Hamlets"
    assert names["GB-KTT"] == "Kingston upon Thames"
    assert sum(r.kind == "london_borough" for r in london) == 32
    # borough names are proper names: French writes them as English does, Arabic in its letters
    assert label("GB-HCK", "fr") == "Hackney" and label("GB-HCK", "ar") == "هاكني"
    assert label("GB-LND", "fr") == "Cité de Londres"


#: Each country served, with the number of its first-level divisions in the catalogue.
COUNTRIES = {"TN": 24, "MA": 12, "JO": 12, "LB": 9, "MK": 8, "KE": 47,
             # 3 nations, England's 8 regions outside London, London's 32 boroughs and the City
             "GB": 3 + 8 + 33}


@pytest.mark.parametrize("country, count", COUNTRIES.items())
def test_every_country_served_has_its_divisions_named_in_english_french_and_arabic(country, count):
    found = regions_for(country)
    assert len(found) == count
    for r in found:
        assert set(r.names) == {"en", "fr", "ar"}, r
        assert ARABIC_LETTERS.match(r.names["ar"].replace("ّ", "")), r  # a shadda is an Arabic mark too
        assert r.names["en"].isascii() or country in ("TN", "MA"), r  # Tunisia and Morocco write accents
    # a reader sees each name once: two regions of a country never share a name
    for lang in regions.NAME_LANGUAGES:
        assert len({r.name(lang) for r in found}) == count, lang
    assert set(regions.COUNTRIES_WITH_REGIONS) == set(COUNTRIES)


def test_new_countries_use_the_iso_codes_and_mark_the_codes_iso_lacks():
    assert label("JO-IR", "ar") == "إربد" and label("JO-AQ", "fr") == "Aqaba"
    assert label("LB-AK", "en") == "Akkar" and label("LB-BH", "ar") == "بعلبك الهرمل"
    assert label("LB-BA", "fr") == "Beyrouth"
    assert label("KE-30", "en") == "Nairobi City" and label("KE-47", "en") == "West Pokot"
    assert label("MK-008", "en") == "Skopje"
    assert label("GB-SCT", "fr") == "Écosse" and label("GB-NIR", "ar") == "أيرلندا الشمالية"
    # Keserwan-Jbeil (2017), North Macedonia's statistical regions and England's regions
    # have no ISO 3166-2 code: the catalogue's stand-ins say so.
    stand_ins = sorted(r.code for r in regions.REGIONS.values() if not r.iso)
    assert stand_ins == ["GB-TLC", "GB-TLD", "GB-TLE", "GB-TLF", "GB-TLG", "GB-TLH", "GB-TLJ", "GB-TLK",
                         "LB-KJ"] + [f"MK-00{n}" for n in range(1, 9)]
    # Morocco's list is ISO 3166-2:MA's twelve regions (docs/regions.md: Western Sahara)
    assert [r.code for r in sorted(regions_for("MA"), key=lambda r: r.code)] == [f"MA-{n:02d}" for n in range(1, 13)]
    assert regions_for("EH") == ()


def test_every_code_in_use_in_the_demos_is_still_in_the_catalogue():
    import pathlib

    root = pathlib.Path(__file__).resolve().parent.parent
    used = set()
    for path in [*root.glob("grants/demo/*.py"), *root.glob("plugins/*/grants_*/*.py"), *root.glob("tests/*.py"),
                 *root.glob("plugins/*/tests/*.py")]:
        used |= set(re.findall(r"[\"'](?:TN|MA|GB)-[A-Z0-9]{2,3}[\"']", path.read_text(encoding="utf-8")))
    used = {code.strip("\"'") for code in used} - {"TN-99", "TN-00", "MA-99", "GB-XXX"}
    assert len(used) > 20
    assert sorted(code for code in used if not regions.is_region(code)) == []


def test_regions_are_sorted_by_their_name_in_the_language_asked():
    english = [r.name("en") for r in regions_for("TN", "en")]
    assert english == sorted(english, key=regions.sort_key)
    assert english[:3] == ["Ariana", "Béja", "Ben Arous"]  # accents do not push Béja to the end
    arabic = [r.name("ar") for r in regions_for("TN", "ar")]
    assert arabic[0] == "أريانة"  # alef with hamza files under alef
    assert arabic.index("تونس") < arabic.index("صفاقس") < arabic.index("قبلي")
    french = [r.name("fr") for r in regions_for("TN", "fr")]
    assert french.index("Kébili") < french.index("La Manouba") < french.index("Médenine") < french.index("Monastir")


def test_lookups_by_code():
    assert region("TN-73").country == "TN"
    with pytest.raises(UnknownRegion):
        region("TN-99")
    with pytest.raises(KeyError):  # UnknownRegion is a KeyError
        region("tn-73")
    assert label("XX-1", "ar") == "XX-1"  # unknown codes are shown as they are
    assert regions_for("FR") == ()
    assert regions.has_regions("TN") and not regions.has_regions("FR")


def test_countries_are_iso_3166_codes_named_in_each_language():
    assert regions.is_country("TN") and regions.is_country("MA") and regions.is_country("GB")
    assert regions.is_country("FR") and regions.is_country("KE")
    for not_a_country in ("EU", "UN", "ZZ", "001", "tn", ""):
        assert not regions.is_country(not_a_country)
    assert regions.country_name("TN", "ar") == "تونس"
    assert regions.country_name("MA", "fr") == "Maroc"
    assert regions.country_name("GB", "en") == "United Kingdom"
    codes = [code for code, _name in regions.countries("fr")]
    assert len(codes) == len(set(codes)) >= 249


@pytest.mark.parametrize("country, regions_worked_in, shown", [
    ("JO", ["JO-IR"], ["Irbid", "Amman", "Ma'an"]),
    ("LB", ["LB-AK"], ["Akkar", "Baalbek-Hermel", "Keserwan-Jbeil"]),
])
def test_applicants_in_jordan_and_lebanon_are_asked_where_the_project_takes_place(
        testapp, registry, grants_site, country, regions_worked_in, shown):
    from grants.accounts.models import Organisation
    from grants.testing import make_application, sign_in

    site = grants_site
    with registry.database.transaction() as (_tm, db):
        organisation = db.get(Organisation, site.organisation.id)
        organisation.country = country
        organisation.regions = regions_worked_in
    application_id = make_application(registry, site)
    sign_in(testapp, site.member.email)
    url = f"/programmes/{site.programme.id}/rounds/{site.round.id}/applications/{application_id}/@@section/project"
    page = testapp.get(url)
    assert "Where will the project take place?" in page.text
    boxes = {box["value"] for box in page.html.select("input[type=checkbox][name=checkbox]")}
    assert boxes == {r.code for r in regions_for(country)}
    labels = page.html.find("main").get_text(" ")
    assert all(name in labels for name in shown)
    assert regions_worked_in[0] in boxes
