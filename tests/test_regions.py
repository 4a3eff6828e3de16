"""The catalogue of regions: Tunisia's 24 governorates, Morocco's regions, London's
boroughs, with their ISO 3166-2 codes and their names in English, French and Arabic."""
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


def test_london_has_32_boroughs_and_the_city():
    london = regions_for("GB")
    assert len(london) == 33
    names = {r.code: r.name("en") for r in london}
    assert names["GB-LND"] == "City of London"
    assert names["GB-TWH"] == "Tower Hamlets"
    assert names["GB-KTT"] == "Kingston upon Thames"
    assert sum(r.kind == "london_borough" for r in london) == 32
    # borough names are proper names: other languages fall back to English
    assert label("GB-HCK", "ar") == label("GB-HCK", "fr") == "Hackney"
    assert label("GB-LND", "fr") == "Cité de Londres"


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
