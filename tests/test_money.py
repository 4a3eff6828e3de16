"""Exact money: ISO 4217 decimals, lenient reading of what people type, display per
locale, and never a float or a silent currency conversion."""
from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings, strategies as st

from grants.money import (
    CurrencyMismatch,
    Money,
    MoneyBag,
    MoneyError,
    format_amount,
    format_money,
    minor_units,
    parse_money,
    sum_money,
)


def m(amount: str, currency: str) -> Money:
    return Money(Decimal(amount), currency)


# -- exactness ------------------------------------------------------------------------------


@pytest.mark.parametrize("currency, decimals", [("TND", 3), ("JOD", 3), ("IQD", 3), ("KWD", 3), ("BHD", 3),
                                                ("OMR", 3), ("LYD", 3), ("GBP", 2), ("USD", 2), ("EUR", 2),
                                                ("UGX", 0), ("JPY", 0), ("KRW", 0), ("CLP", 0), ("XOF", 0),
                                                ("XAF", 0), ("ISK", 0), ("VND", 0), ("RWF", 0), ("PYG", 0)])
def test_minor_units_follow_iso_4217(currency, decimals):
    assert minor_units(currency) == decimals
    assert Money.from_minor(1, currency).amount == Decimal(1).scaleb(-decimals)


def test_exact_in_tnd_gbp_and_ugx():
    # 0.1 + 0.2 is 0.3 exactly, in millimes as in pence
    assert m("0.1", "TND") + m("0.2", "TND") == m("0.3", "TND")
    assert (m("0.1", "TND") + m("0.2", "TND")).minor_units == 300
    assert sum([m("0.01", "GBP")] * 100) == m("1", "GBP")
    assert Money.from_minor(80_000_000, "GBP") == m("800000", "GBP")
    assert m("800000", "GBP").minor_units == 80_000_000
    assert m("2565515", "UGX").minor_units == 2_565_515
    assert Money.from_minor(1_234_567, "TND").amount == Decimal("1234.567")
    assert str(m("1.5", "TND")) == "1.500 TND"


def test_more_decimals_than_the_currency_has_are_refused():
    with pytest.raises(MoneyError) as tnd:
        m("1.2345", "TND")
    assert "TND has 3 decimals" in str(tnd.value)
    with pytest.raises(MoneyError, match="UGX has no decimals"):
        m("10.5", "UGX")
    with pytest.raises(MoneyError, match="GBP has 2 decimals"):
        m("0.001", "GBP")
    assert m("1.50", "GBP") == m("1.5", "GBP")  # trailing zeros are not extra decimals


def test_floats_are_refused_everywhere():
    with pytest.raises(TypeError):
        Money(0.1, "GBP")
    with pytest.raises(TypeError):
        parse_money(0.1, "GBP")
    with pytest.raises(TypeError):
        Money.from_minor(10.0, "GBP")
    with pytest.raises(TypeError):
        m("1", "GBP") * 1.5
    assert m("1.25", "GBP") * 3 == m("3.75", "GBP")


def test_unknown_currency_is_refused():
    with pytest.raises(MoneyError, match="not a currency we know"):
        Money(Decimal(1), "XXX")


def test_currencies_never_mix():
    with pytest.raises(CurrencyMismatch):
        m("1", "GBP") + m("1", "USD")
    with pytest.raises(CurrencyMismatch):
        m("1", "GBP") - m("1", "EUR")
    with pytest.raises(CurrencyMismatch):
        m("1", "GBP") < m("2", "USD")
    with pytest.raises(CurrencyMismatch):
        sum_money([m("1", "GBP"), m("1", "USD")], "GBP")
    assert m("1", "GBP") != m("1", "USD")  # equality says no, it does not raise
    assert m("1", "GBP") < m("2", "GBP") and m("2", "GBP") >= m("2", "GBP")


def test_sum_helpers_and_money_bags():
    assert sum_money([], "TND") == Money.zero("TND")
    assert sum_money([m("400000", "GBP"), m("400000", "GBP")], "GBP") == m("800000", "GBP")
    bag = MoneyBag([m("400000", "GBP"), m("50000", "USD"), m("400000", "GBP")])
    assert bag["GBP"] == m("800000", "GBP") and bag["USD"] == m("50000", "USD")
    assert bag + m("1", "EUR") == MoneyBag([m("800000", "GBP"), m("50000", "USD"), m("1", "EUR")])
    assert sum([MoneyBag([m("1", "GBP")]), MoneyBag([m("2", "GBP")])]) == MoneyBag([m("3", "GBP")])
    assert bag.format("en") == "£800,000.00 + $50,000.00"
    assert MoneyBag().format("en") == "—"


# -- reading what people type -------------------------------------------------------------------


@pytest.mark.parametrize("text, currency, expected", [
    ("250,000", "GBP", "250000"),
    ("250 000", "GBP", "250000"),
    (" 250000 ", "GBP", "250000"),
    ("250.000,50", "EUR", "250000.50"),
    ("250 000,50", "EUR", "250000.50"),
    ("1,234.56", "USD", "1234.56"),
    ("1.000.000", "EUR", "1000000"),
    ("12,5", "EUR", "12.5"),
    ("£800,000", "GBP", "800000"),
    ("800 000 GBP", "GBP", "800000"),
    ("800 000,00 £GB", "GBP", "800000"),
    ("1'250'000", "CHF", "1250000"),
    ("1,00,000", "INR", "100000"),
    ("12,500", "UGX", "12500"),
    ("1 500,250 TND", "TND", "1500.250"),
    ("1,500.250", "TND", "1500.250"),
    ("0,500", "TND", "0.5"),
    ("1.5", "TND", "1.5"),
])
def test_lenient_parsing(text, currency, expected):
    assert parse_money(text, currency) == m(expected, currency)


@pytest.mark.parametrize("text, expected", [
    ("٢٥٠٬٠٠٠", "250000"),  # Arabic-Indic digits, Arabic thousands separator
    ("٢٥٠٬٠٠٠٫٥٠٠", "250000.5"),  # ... and the Arabic decimal separator
    ("١٥٠٠", "1500"),
    ("۱۵۰۰٫۲۵", "1500.25"),  # Persian digits
    ("\u200f١٬٥٠٠٫٠٠٠ د.ت.\u200f", "1500"),  # as an Arabic page shows it, marks and symbol included
])
def test_arabic_indic_and_persian_digits(text, expected):
    assert parse_money(text, "TND") == m(expected, "TND")


def test_french_separators():
    assert parse_money("250.000,50", "EUR") == m("250000.50", "EUR")
    assert parse_money("250\u202f000,50\u00a0€", "EUR") == m("250000.50", "EUR")
    assert parse_money("1,5", "TND", "fr") == m("1.5", "TND")
    assert parse_money("1,500", "TND", "fr") == m("1.5", "TND")  # millimes, as Tunisians write them
    assert parse_money("1,500", "TND", "en") == m("1500", "TND")


def test_an_ambiguous_three_decimal_amount_is_asked_about_not_guessed():
    with pytest.raises(MoneyError) as asked:
        parse_money("1,500", "TND")
    message = str(asked.value)
    assert "1500" in message and "1.500" in message and "TND" in message


@pytest.mark.parametrize("text, currency, fragment", [
    ("", "GBP", "Enter an amount in GBP"),
    ("   ", "GBP", "Enter an amount in GBP"),
    ("lots", "GBP", "Enter the amount in figures, like 1,500.25"),
    ("1.2345", "TND", "TND has 3 decimals"),
    ("12.5", "UGX", "UGX has no decimals"),
    ("0.001", "GBP", "GBP has 2 decimals"),
    ("12.3", "JPY", "JPY has no decimals"),
    ("€50", "GBP", "Enter the amount in figures"),
    ("50 EUR", "GBP", "Enter the amount in GBP, not EUR"),
    ("-50", "GBP", "Enter an amount of 0 or more"),
    ("1,2,3", "GBP", "Check the thousands separators"),
    ("1e6", "GBP", "Enter the amount in figures"),
    ("99999999999999999", "GBP", "16 digits or fewer"),
])
def test_parsing_refusals_say_how_to_fix(text, currency, fragment):
    with pytest.raises(MoneyError) as refused:
        parse_money(text, currency)
    assert fragment in str(refused.value)
    assert refused.value.message.domain == "grants"  # a TranslationString the page translates


def test_negative_amounts_only_when_asked_for():
    assert parse_money("-12.50", "GBP", allow_negative=True) == m("-12.5", "GBP")
    assert parse_money("−£12.50", "GBP", allow_negative=True) == m("-12.5", "GBP")


# -- display ------------------------------------------------------------------------------------


def test_display_per_locale_with_exact_decimals():
    assert format_money(m("800000", "GBP"), "en") == "£800,000.00"
    assert format_money(m("800000", "GBP"), "fr") == "800\u202f000,00\u00a0£GB"
    assert format_money(m("800000", "GBP"), "ar") == "\u200f800,000.00\u00a0UK£"
    assert format_money(m("1500.5", "TND"), "fr") == "1\u202f500,500\u00a0TND"  # millimes always shown
    assert format_money(m("2565515", "UGX"), "en") == "UGX\u00a02,565,515"  # no decimals
    assert format_money(m("1500", "TND"), "ar", digits="arab") == "\u200f١٬٥٠٠٫٠٠٠\u00a0د.ت.\u200f"
    assert format_amount(m("1500", "TND"), "fr") == "1\u202f500,000"


CURRENCIES = ["TND", "GBP", "UGX", "JOD", "EUR", "KWD", "JPY", "USD", "CLF"]


@settings(max_examples=300, deadline=None)
@given(minor=st.integers(min_value=-(10 ** 15), max_value=10 ** 15), currency=st.sampled_from(CURRENCIES),
       locale=st.sampled_from(["en", "fr", "ar"]), digits=st.sampled_from(["latn", "arab"]))
def test_parse_of_format_is_the_identity(minor, currency, locale, digits):
    money = Money.from_minor(minor, currency)
    shown = format_money(money, locale, digits=digits)
    assert parse_money(shown, currency, locale, allow_negative=True) == money
    assert parse_money(format_amount(money, locale), currency, locale, allow_negative=True) == money
