"""Regions where organisations work: a catalogue kept as code, not as a table.

A region is a first-level subdivision with its ISO 3166-2 code, the ISO 3166-1 code of
its country, and its name in English, French and Arabic:

* Tunisia's 24 governorates (ولايات), TN-11 … TN-83;
* Morocco's 12 regions (جهات), MA-01 … MA-12, as ISO 3166-2:MA lists them;
* Greater London's 32 boroughs and the City of London (GB-…), for London's funds.
  Borough names are proper names: French and Arabic fall back to English, except
  the City of London.

Rows refer to regions by code (``organisation_regions.region_code``), so adding a
country here needs no migration.  Countries come from CLDR through Babel.

    regions_for("TN", "ar")   # the governorates, sorted by their Arabic names
    region("TN-73").name("fr")  # "Kébili"
    label("TN-61", "ar")      # "صفاقس"
"""
from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass, field

from babel import Locale

from grants.i18n import _

# The languages the catalogue writes names in; a reader in any other language (a deployment
# may offer more, see grants.i18n) gets the English name.
NAME_LANGUAGES = ("en", "fr", "ar")


class UnknownRegion(KeyError):
    """A code that is not in the catalogue."""


@dataclass(frozen=True)
class Region:
    code: str  # ISO 3166-2, e.g. "TN-73"
    country: str  # ISO 3166-1 alpha-2, e.g. "TN"
    kind: str  # "governorate", "region", "london_borough", "city_corporation"
    names: dict[str, str] = field(hash=False, compare=False)

    def name(self, locale: str | None = "en") -> str:
        """The name in ``locale`` ("ar", "fr_TN", "en-GB" …), else in English."""
        return self.names.get(_language(locale)) or self.names["en"]


def _language(locale: str | None) -> str:
    return re.split(r"[-_]", locale or "en", maxsplit=1)[0].lower()


# code: (English, French, Arabic)
_TUNISIA = {
    "TN-11": ("Tunis", "Tunis", "تونس"),
    "TN-12": ("Ariana", "Ariana", "أريانة"),
    "TN-13": ("Ben Arous", "Ben Arous", "بن عروس"),
    "TN-14": ("La Manouba", "La Manouba", "منوبة"),
    "TN-21": ("Nabeul", "Nabeul", "نابل"),
    "TN-22": ("Zaghouan", "Zaghouan", "زغوان"),
    "TN-23": ("Bizerte", "Bizerte", "بنزرت"),
    "TN-31": ("Béja", "Béja", "باجة"),
    "TN-32": ("Jendouba", "Jendouba", "جندوبة"),
    "TN-33": ("Le Kef", "Le Kef", "الكاف"),
    "TN-34": ("Siliana", "Siliana", "سليانة"),
    "TN-41": ("Kairouan", "Kairouan", "القيروان"),
    "TN-42": ("Kasserine", "Kasserine", "القصرين"),
    "TN-43": ("Sidi Bouzid", "Sidi Bouzid", "سيدي بوزيد"),
    "TN-51": ("Sousse", "Sousse", "سوسة"),
    "TN-52": ("Monastir", "Monastir", "المنستير"),
    "TN-53": ("Mahdia", "Mahdia", "المهدية"),
    "TN-61": ("Sfax", "Sfax", "صفاقس"),
    "TN-71": ("Gafsa", "Gafsa", "قفصة"),
    "TN-72": ("Tozeur", "Tozeur", "توزر"),
    "TN-73": ("Kebili", "Kébili", "قبلي"),
    "TN-81": ("Gabès", "Gabès", "قابس"),
    "TN-82": ("Medenine", "Médenine", "مدنين"),
    "TN-83": ("Tataouine", "Tataouine", "تطاوين"),
}

# The twelve regions of the 2015 reform, with the codes and names ISO 3166-2:MA uses.
_MOROCCO = {
    "MA-01": ("Tanger-Tetouan-Al Hoceima", "Tanger-Tétouan-Al Hoceïma", "طنجة تطوان الحسيمة"),
    "MA-02": ("Oriental", "L'Oriental", "الشرق"),
    "MA-03": ("Fès-Meknès", "Fès-Meknès", "فاس مكناس"),
    "MA-04": ("Rabat-Salé-Kénitra", "Rabat-Salé-Kénitra", "الرباط سلا القنيطرة"),
    "MA-05": ("Béni Mellal-Khénifra", "Béni Mellal-Khénifra", "بني ملال خنيفرة"),
    "MA-06": ("Casablanca-Settat", "Casablanca-Settat", "الدار البيضاء سطات"),
    "MA-07": ("Marrakech-Safi", "Marrakech-Safi", "مراكش آسفي"),
    "MA-08": ("Drâa-Tafilalet", "Drâa-Tafilalet", "درعة تافيلالت"),
    "MA-09": ("Souss-Massa", "Souss-Massa", "سوس ماسة"),
    "MA-10": ("Guelmim-Oued Noun", "Guelmim-Oued Noun", "كلميم واد نون"),
    "MA-11": ("Laâyoune-Sakia El Hamra", "Laâyoune-Sakia El Hamra", "العيون الساقية الحمراء"),
    "MA-12": ("Dakhla-Oued Ed-Dahab", "Dakhla-Oued Ed-Dahab", "الداخلة وادي الذهب"),
}

_LONDON_BOROUGHS = {
    "GB-BDG": "Barking and Dagenham",
    "GB-BNE": "Barnet",
    "GB-BEX": "Bexley",
    "GB-BEN": "Brent",
    "GB-BRY": "Bromley",
    "GB-CMD": "Camden",
    "GB-CRY": "Croydon",
    "GB-EAL": "Ealing",
    "GB-ENF": "Enfield",
    "GB-GRE": "Greenwich",
    "GB-HCK": "Hackney",
    "GB-HMF": "Hammersmith and Fulham",
    "GB-HRY": "Haringey",
    "GB-HRW": "Harrow",
    "GB-HAV": "Havering",
    "GB-HIL": "Hillingdon",
    "GB-HNS": "Hounslow",
    "GB-ISL": "Islington",
    "GB-KEC": "Kensington and Chelsea",
    "GB-KTT": "Kingston upon Thames",
    "GB-LBH": "Lambeth",
    "GB-LEW": "Lewisham",
    "GB-MRT": "Merton",
    "GB-NWM": "Newham",
    "GB-RDB": "Redbridge",
    "GB-RIC": "Richmond upon Thames",
    "GB-SWK": "Southwark",
    "GB-STN": "Sutton",
    "GB-TWH": "Tower Hamlets",
    "GB-WFT": "Waltham Forest",
    "GB-WND": "Wandsworth",
    "GB-WSM": "Westminster",
}


def _build() -> dict[str, Region]:
    catalogue: dict[str, Region] = {}

    def add(region: Region) -> None:
        assert region.code not in catalogue, region.code
        assert region.code.startswith(region.country + "-"), region.code
        catalogue[region.code] = region

    for table, country, kind in ((_TUNISIA, "TN", "governorate"), (_MOROCCO, "MA", "region")):
        for code, names in table.items():
            add(Region(code, country, kind, dict(zip(NAME_LANGUAGES, names, strict=True))))
    for code, name in _LONDON_BOROUGHS.items():
        add(Region(code, "GB", "london_borough", {"en": name}))
    add(Region("GB-LND", "GB", "city_corporation",
               {"en": "City of London", "fr": "Cité de Londres", "ar": "مدينة لندن"}))
    return catalogue


REGIONS: dict[str, Region] = _build()

# What a country's list is called on forms ("Governorates of Tunisia"), in catalogue order.
GROUP_TITLES = {
    "TN": _("Governorates of Tunisia"),
    "MA": _("Regions of Morocco"),
    "GB": _("London boroughs and the City of London"),
}
# Countries the catalogue has regions for, in catalogue order.
COUNTRIES_WITH_REGIONS: tuple[str, ...] = tuple(dict.fromkeys(r.country for r in REGIONS.values()))


# --- regions --------------------------------------------------------------------------


def region(code: str) -> Region:
    """The region with this ISO 3166-2 code; ``UnknownRegion`` if there is none."""
    try:
        return REGIONS[code]
    except KeyError:
        raise UnknownRegion(code) from None


def is_region(code: str) -> bool:
    return code in REGIONS


def label(code: str, locale: str | None = "en") -> str:
    """The region's name in ``locale``; an unknown code is shown as it is."""
    found = REGIONS.get(code)
    return found.name(locale) if found is not None else code


def sort_key(text: str) -> str:
    """Sort names as a reader expects: accents, case and the forms of alef aside
    ("Béja" before "Ben Arous", "أريانة" among the alefs)."""
    decomposed = unicodedata.normalize("NFKD", text)
    # Arabic hamza and madda are combining marks after NFKD (أ = ا + ٔ): dropping every
    # combining mark files each letter under its base, as dictionaries do.
    base = "".join(c for c in decomposed if not unicodedata.combining(c))
    return base.casefold()


@functools.cache
def regions_for(country: str, locale: str | None = "en") -> tuple[Region, ...]:
    """The country's regions, sorted by their names in ``locale`` (empty when the
    catalogue has none for that country)."""
    lang = _language(locale)
    found = [r for r in REGIONS.values() if r.country == country]
    return tuple(sorted(found, key=lambda r: (sort_key(r.name(lang)), r.code)))


def has_regions(country: str) -> bool:
    return country in COUNTRIES_WITH_REGIONS


# --- countries ------------------------------------------------------------------------

# CLDR's territory codes that are not countries in ISO 3166-1 (continents, the EU, the UN,
# Ascension and other islands with codes of their own, pseudo-locales).  Kosovo's XK is
# user-assigned in ISO 3166 but used by the EU, the World Bank and CLDR: kept.
_NOT_COUNTRIES = {"AC", "CP", "CQ", "DG", "EA", "EU", "EZ", "IC", "QO", "TA", "UN", "XA", "XB", "ZZ"}

# Offered first on forms: the countries of the programmes grants was built for.
MAIN_COUNTRIES = ("TN", "MA", "GB")


@functools.cache
def country_codes() -> frozenset[str]:
    territories = Locale.parse("en").territories
    return frozenset(code for code in territories
                     if len(code) == 2 and code.isalpha() and code.isupper() and code not in _NOT_COUNTRIES)


def is_country(code: str) -> bool:
    return code in country_codes()


def country_name(code: str, locale: str | None = "en") -> str:
    """The country's name in ``locale`` (CLDR), or the code if it is not a country."""
    lang = _language(locale)
    try:
        names = Locale.parse(lang).territories
    except (ValueError, LookupError):
        names = Locale.parse("en").territories
    return names.get(code, code) if is_country(code) else code


@functools.cache
def countries(locale: str | None = "en") -> tuple[tuple[str, str], ...]:
    """(code, name) of every country, sorted by the name in ``locale``."""
    lang = _language(locale)
    pairs = [(code, country_name(code, lang)) for code in country_codes()]
    return tuple(sorted(pairs, key=lambda pair: (sort_key(pair[1]), pair[0])))


__all__ = [
    "COUNTRIES_WITH_REGIONS",
    "GROUP_TITLES",
    "MAIN_COUNTRIES",
    "REGIONS",
    "Region",
    "UnknownRegion",
    "countries",
    "country_codes",
    "country_name",
    "has_regions",
    "is_country",
    "is_region",
    "label",
    "region",
    "regions_for",
]
