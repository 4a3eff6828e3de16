"""Numbers that are not money, as each language writes them (grants.i18n.format_number and
format_percent_figure, the templates' ``figure`` and ``percent_figure``)."""
from __future__ import annotations

from decimal import Decimal

import pytest

from grants.i18n import format_number, format_percent_figure


@pytest.mark.parametrize("value, en, fr", [
    (Decimal("40").normalize(), "40", "40"),  # Decimal('4E+1')
    (Decimal("1.5E+6"), "1,500,000", "1\u202f500\u202f000"),
    (Decimal("12.50"), "12.50", "12,50"),
    (Decimal("2.9394"), "2.9394", "2,9394"),
    (Decimal("-0.5"), "-0.5", "-0,5"),
    (7, "7", "7"),
])
def test_a_number_keeps_its_decimals_and_is_never_in_exponent_form(value, en, fr):
    assert format_number(value, "en") == en
    assert format_number(value, "fr") == fr
    assert "E" not in format_number(value, "ar")


def test_a_percentage_takes_the_language_s_sign_and_spacing():
    assert format_percent_figure(Decimal("40").normalize(), "en") == "40%"
    assert format_percent_figure(Decimal("40").normalize(), "fr") == "40\u00a0%"
    assert format_percent_figure(Decimal("33.3333"), "en") == "33.3333%"
    assert format_percent_figure(50, "fr") == "50\u00a0%"
