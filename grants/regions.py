"""Regions where organisations work: a catalogue kept as data files, not as a table.

A region is a first-level subdivision of a country the programmes serve, with its code,
the ISO 3166-1 code of its country, and its name in English, French and Arabic.  Each
country is one CSV file in grants/data/regions/ (``code,kind,iso,en,fr,ar``); docs/regions.md
says which divisions each country has, where the codes come from, and the choices made
(the United Kingdom's level, Western Sahara):

* Tunisia's 24 governorates, Morocco's 12 regions, Jordan's 12 governorates, Lebanon's
  9 governorates, Kenya's 47 counties — ISO 3166-2 codes (Keserwan-Jbeil, created in
  2017, has none yet: ``LB-KJ``, marked ``iso=no``);
* North Macedonia's 8 statistical regions (``MK-001`` … ``MK-008``, after their NUTS codes);
* the United Kingdom: Scotland, Wales, Northern Ireland, England's regions outside London
  (``GB-TLC`` …, after their ITL codes) and London's 32 boroughs and the City of London.

Rows refer to regions by code (``organisation_regions.region_code``), so adding a
country here needs no migration.  Countries come from CLDR through Babel.

    regions_for("TN", "ar")   # the governorates, sorted by their Arabic names
    region("TN-73").name("fr")  # "Kébili"
    label("TN-61", "ar")      # "صفاقس"
"""
from __future__ import annotations

import csv
import functools
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from babel import Locale

from grants.i18n import _

# The languages the catalogue writes names in; a reader in any other language (a deployment
# may offer more, see grants.i18n) gets the English name.
NAME_LANGUAGES = ("en", "fr", "ar")
DATA = Path(__file__).resolve().parent / "data" / "regions"


class UnknownRegion(KeyError):
    """A code that is not in the catalogue."""


@dataclass(frozen=True)
class Region:
    code: str  # ISO 3166-2, e.g. "TN-73"
    country: str  # ISO 3166-1 alpha-2, e.g. "TN"
    # "governorate", "region", "county", "statistical_region", "nation", "england_region",
    # "london_borough", "city_corporation"
    kind: str
    names: dict[str, str] = field(hash=False, compare=False)
    iso: bool = field(default=True, compare=False)  # False: no ISO 3166-2 code exists, ours stands in

    def name(self, locale: str | None = "en") -> str:
        """The name in ``locale`` ("ar", "fr_TN", "en-GB" …), else in English."""
        return self.names.get(_language(locale)) or self.names["en"]


def _language(locale: str | None) -> str:
    return re.split(r"[-_]", locale or "en", maxsplit=1)[0].lower()


# What a country's list is called on forms ("Governorates of Tunisia"), in catalogue order.
GROUP_TITLES = {
    "TN": _("Governorates of Tunisia"),
    "MA": _("Regions of Morocco"),
    "JO": _("Governorates of Jordan"),
    "LB": _("Governorates of Lebanon"),
    "MK": _("Statistical regions of North Macedonia"),
    "KE": _("Counties of Kenya"),
    "GB": _("United Kingdom: nations, regions of England, London boroughs"),
}

def _build() -> dict[str, Region]:
    catalogue: dict[str, Region] = {}
    for country in GROUP_TITLES:  # a country's list needs a title on forms: no title, no file read
        path = DATA / f"{country}.csv"
        with path.open(encoding="utf-8", newline="") as rows:
            for row in csv.DictReader(rows):
                code = row["code"]
                # A mistake in a data file stops the app at start, not a form in use.
                if code in catalogue or not code.startswith(country + "-"):
                    raise ValueError(f"{path.name}: {code} is repeated or not a region of {country}")
                names = {lang: row[lang].strip() for lang in NAME_LANGUAGES if (row.get(lang) or "").strip()}
                if "en" not in names:
                    raise ValueError(f"{path.name}: {code} has no English name")
                catalogue[code] = Region(code, country, row["kind"], names, iso=row["iso"] == "yes")
    return catalogue


REGIONS: dict[str, Region] = _build()

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
