"""Exact money: an amount in one currency, with that currency's ISO 4217 decimals.

* ``Money(Decimal("800000"), "GBP")`` — a frozen value.  Amounts are ``Decimal`` or
  ``int``, never ``float`` (refused with ``TypeError``), and never carry more decimals
  than the currency has (1.2345 TND is refused: TND has 3 decimals, millimes).
* Stored as integer minor units plus the 3-letter code: ``Money.from_minor(80000000,
  "GBP")`` and ``money.minor_units``.
* ``+``, ``-`` and comparisons only between the same currency (``CurrencyMismatch``);
  ``sum_money`` adds a list in one currency, ``MoneyBag`` keeps several currencies apart
  (a GBP fund with a USD corporate match) without ever converting.
* ``parse_money(text, currency, locale=None)`` reads what people type (stray spaces,
  "250,000", "250 000", "250.000,50", Arabic-Indic and Persian digits, the Arabic decimal
  and thousands separators, a currency code or symbol around the figure) or raises
  ``MoneyError`` whose ``message`` is a TranslationString saying how to fix it.
* ``format_money(money, locale)`` shows it the way the locale writes money (babel), always
  with the currency's exact decimals; ``parse_money(format_money(m, loc), cur, loc) == m``.

No SQLAlchemy here: models keep two columns (``*_minor`` and ``*_currency``) and a property.
"""
from __future__ import annotations

import copy
import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Iterable, Iterator, Mapping

from grants.i18n import _, ngettext

# -- ISO 4217 -------------------------------------------------------------------------------

#: Currencies whose minor unit is not 2 decimals (ISO 4217, list one, 2024).
_EXPONENTS = {
    0: "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF",
    3: "BHD IQD JOD KWD LYD OMR TND",
    4: "CLF UYW",
}
#: Active codes with 2 decimals (plus a few recently withdrawn ones that old records may hold).
_TWO_DECIMALS = """
AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BOV BRL BSD BTN BWP BYN BZD
CAD CDF CHE CHF CHW CNY COP COU CRC CUC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL
GHS GIP GMD GTQ GYD HKD HNL HRK HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK LBP LKR
LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD PAB
PEN PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD SSP STN SVC SYP
SZL THB TJS TMT TOP TRY TTD TWD TZS UAH USD USN UYU UZS VED VES WST XCD XCG YER ZAR ZMW ZWG ZWL
"""

MINOR_UNITS: dict[str, int] = {code: 2 for code in _TWO_DECIMALS.split()}
for _exponent, _codes in _EXPONENTS.items():
    MINOR_UNITS.update({code: _exponent for code in _codes.split()})
CURRENCIES: tuple[str, ...] = tuple(sorted(MINOR_UNITS))
#: Minor units are stored in a signed 64-bit integer: 18 digits always fit.
MAX_DIGITS = 18


def minor_units(currency: str) -> int:
    """How many decimals ``currency`` has (TND 3, GBP 2, UGX 0)."""
    try:
        return MINOR_UNITS[currency]
    except KeyError:
        raise MoneyError(_("${currency} is not a currency we know: use a three-letter ISO 4217 code such "
                           "as GBP, USD, EUR or TND", mapping={"currency": currency})) from None


# -- errors -------------------------------------------------------------------------------


class MoneyError(ValueError):
    """An amount that cannot be accepted.  ``message`` is a TranslationString (domain
    grants) telling the person how to fix it; ``str()`` is the English sentence."""

    def __init__(self, message):
        self.message = message
        super().__init__(message.interpolate() if hasattr(message, "interpolate") else str(message))


class CurrencyMismatch(TypeError):
    """Arithmetic or comparison between two currencies: convert explicitly, never implicitly."""


# -- the value ------------------------------------------------------------------------------


def _as_decimal(amount) -> Decimal:
    if isinstance(amount, bool) or isinstance(amount, float):
        raise TypeError(f"money amounts are never floats: pass a Decimal or an int, not {amount!r}")
    if isinstance(amount, int):
        return Decimal(amount)
    if isinstance(amount, Decimal):
        if not amount.is_finite():
            raise MoneyError(_("Enter an amount in figures"))
        return amount
    raise TypeError(f"money amounts are Decimal or int, not {type(amount).__name__}")


@dataclass(frozen=True, slots=True)
class Money:
    amount: Decimal
    currency: str

    def __post_init__(self):
        decimals = minor_units(self.currency)
        amount = _as_decimal(self.amount)
        if amount and amount.adjusted() + decimals >= MAX_DIGITS:
            whole_digits = MAX_DIGITS - decimals
            raise MoneyError(ngettext(
                "Enter an amount of ${count} digit or fewer before the decimal separator",
                "Enter an amount of ${count} digits or fewer before the decimal separator", whole_digits))
        quantum = Decimal(1).scaleb(-decimals)
        exact = amount.quantize(quantum)
        if exact != amount:
            raise MoneyError(_too_many_decimals(self.currency))
        object.__setattr__(self, "amount", exact)

    # construction
    @classmethod
    def from_minor(cls, minor: int, currency: str) -> "Money":
        if isinstance(minor, bool) or not isinstance(minor, int):
            raise TypeError(f"minor units are an int, not {minor!r}")
        return cls(Decimal(minor).scaleb(-minor_units(currency)), currency)

    @classmethod
    def zero(cls, currency: str) -> "Money":
        return cls(Decimal(0), currency)

    @classmethod
    def parse(cls, text: str, currency: str, locale: str | None = None, *, allow_negative: bool = False) -> "Money":
        return parse_money(text, currency, locale, allow_negative=allow_negative)

    @property
    def minor_units(self) -> int:
        return int(self.amount.scaleb(minor_units(self.currency)))

    @property
    def decimals(self) -> int:
        return minor_units(self.currency)

    # arithmetic, same currency only
    def _check(self, other) -> "Money":
        if not isinstance(other, Money):
            return NotImplemented
        if other.currency != self.currency:
            raise CurrencyMismatch(f"cannot combine {self.currency} with {other.currency}")
        return other

    def __add__(self, other):
        other = self._check(other)
        return other if other is NotImplemented else Money(self.amount + other.amount, self.currency)

    def __radd__(self, other):
        if other == 0 and not isinstance(other, (bool, float)):  # lets sum() start from 0
            return self
        return NotImplemented

    def __sub__(self, other):
        other = self._check(other)
        return other if other is NotImplemented else Money(self.amount - other.amount, self.currency)

    def __neg__(self):
        return Money(-self.amount, self.currency)

    def __abs__(self):
        return Money(abs(self.amount), self.currency)

    def __mul__(self, factor):
        if isinstance(factor, bool) or not isinstance(factor, int):
            return NotImplemented  # only whole multiples are exact; shares need an explicit rounding
        return Money(self.amount * factor, self.currency)

    __rmul__ = __mul__

    def __lt__(self, other):
        other = self._check(other)
        return other if other is NotImplemented else self.amount < other.amount

    def __le__(self, other):
        other = self._check(other)
        return other if other is NotImplemented else self.amount <= other.amount

    def __gt__(self, other):
        other = self._check(other)
        return other if other is NotImplemented else self.amount > other.amount

    def __ge__(self, other):
        other = self._check(other)
        return other if other is NotImplemented else self.amount >= other.amount

    def __bool__(self):
        return bool(self.amount)

    def __str__(self):
        return f"{self.amount} {self.currency}"

    def format(self, locale: str = "en", **kw) -> str:
        return format_money(self, locale, **kw)


def money_or_none(minor: int | None, currency: str | None) -> Money | None:
    """Two stored columns back into a value (either being NULL means no amount)."""
    if minor is None or not currency:
        return None
    return Money.from_minor(int(minor), currency)


def sum_money(items: Iterable[Money], currency: str) -> Money:
    """The exact sum of ``items``, all in ``currency`` (zero for none)."""
    total = Money.zero(currency)
    for item in items:
        total = total + item
    return total


class MoneyBag(Mapping[str, Money]):
    """Amounts in several currencies kept apart (never converted): a GBP fund with a USD
    match is "£800,000.00 + US$50,000.00".  Immutable; ``+`` takes Money or a MoneyBag."""

    __slots__ = ("_amounts",)

    def __init__(self, items: Iterable[Money] = ()):
        amounts: dict[str, Money] = {}
        for item in items:
            if not isinstance(item, Money):
                raise TypeError(f"a MoneyBag holds Money, not {item!r}")
            amounts[item.currency] = amounts[item.currency] + item if item.currency in amounts else item
        self._amounts = dict(sorted(amounts.items()))

    def __getitem__(self, currency: str) -> Money:
        return self._amounts[currency]

    def __iter__(self) -> Iterator[str]:
        return iter(self._amounts)

    def __len__(self) -> int:
        return len(self._amounts)

    def amounts(self) -> list[Money]:
        return list(self._amounts.values())

    def get_or_zero(self, currency: str) -> Money:
        return self._amounts.get(currency) or Money.zero(currency)

    def __add__(self, other):
        if isinstance(other, Money):
            return MoneyBag([*self.amounts(), other])
        if isinstance(other, MoneyBag):
            return MoneyBag([*self.amounts(), *other.amounts()])
        return NotImplemented

    def __radd__(self, other):
        if isinstance(other, int) and not isinstance(other, bool) and other == 0:  # sum() starts from 0
            return self
        return self.__add__(other)

    def __eq__(self, other):
        if isinstance(other, MoneyBag):
            return {k: v for k, v in self._amounts.items() if v} == {k: v for k, v in other._amounts.items() if v}
        return NotImplemented

    def __hash__(self):
        return hash(tuple(sorted((k, v) for k, v in self._amounts.items() if v)))

    def __bool__(self):
        return any(self._amounts.values())

    def __repr__(self):
        return f"MoneyBag({self.amounts()!r})"

    def format(self, locale: str = "en", *, separator: str = " + ", empty: str = "—", **kw) -> str:
        shown = [m for m in self.amounts() if m] or self.amounts()
        return separator.join(format_money(m, locale, **kw) for m in shown) if shown else empty


# -- display ------------------------------------------------------------------------------

_ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


def format_money(money: Money, locale: str = "en", *, digits: str = "latn", symbol: bool = True) -> str:
    """``money`` as the locale writes it, with exactly the currency's decimals:
    en "£800,000.00", fr "800 000,00 £GB", ar "‏800,000.00 UK£"; TND always shows millimes.
    ``digits="arab"`` uses Arabic-Indic digits and separators (١٬٥٠٠٫٠٠٠)."""
    from babel import Locale

    loc = Locale.parse(locale)
    pattern = copy.copy(loc.currency_formats["standard"] if symbol else loc.decimal_formats[None])
    pattern.frac_prec = (money.decimals, money.decimals)
    numbering = "arab" if digits == "arab" else "latn"
    kwargs = {"currency": money.currency, "currency_digits": False} if symbol else {}
    text = pattern.apply(money.amount, loc, numbering_system=numbering, **kwargs)
    if symbol:
        text = _currency_spacing(text, currency_label(money.currency, locale))
    return text.translate(_ARABIC_INDIC) if digits == "arab" else text


def currency_label(currency: str, locale: str = "en") -> str:
    """The currency as the locale names it beside a figure: "£", "$US", "د.ت." — what a
    page puts next to an amount input, so that it reads in the page's language."""
    from babel.numbers import get_currency_symbol

    try:
        return get_currency_symbol(currency, locale)
    except Exception:  # an unknown locale: the ISO code says it in every language
        return currency


def _currency_spacing(text: str, symbol: str) -> str:
    """CLDR's currency spacing, which Babel does not apply: a symbol made of letters
    ("TND", "CHF") is kept apart from the digits by a no-break space ("TND 400,000.000"),
    a sign such as "£" or "$" is not.  Babel's patterns otherwise glue "TND400,000.000"."""
    at = text.find(symbol) if symbol else -1
    if at < 0:
        return text
    end = at + len(symbol)
    after = text[end] if end < len(text) else ""
    before = text[at - 1] if at > 0 else ""
    if after.isdigit() and not unicodedata.category(symbol[-1]).startswith("S"):
        return text[:end] + "\u00a0" + text[end:]
    if before.isdigit() and not unicodedata.category(symbol[0]).startswith("S"):
        return text[:at] + "\u00a0" + text[at:]
    return text


def format_amount(money: Money, locale: str = "en") -> str:
    """The figure alone (no currency), as the locale writes it: for form inputs."""
    return format_money(money, locale, symbol=False)


# -- reading what people type ----------------------------------------------------------------

_SPACES = {"\u0020", "\u00a0", "\u2007", "\u2009", "\u202f", "\u2002", "\u2003", "\u3000", "\t"}
_GROUP_ONLY = {"'", "’", "\u066c", "_"}  # apostrophes (Swiss), Arabic thousands separator ٬
_ARABIC_DECIMAL = "\u066b"  # ٫
_BIDI_MARKS = dict.fromkeys(map(ord, "\u200e\u200f\u061c\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"))
_MINUS = {"-", "\u2212", "\u2012", "\u2013", "\ufe63", "\uff0d"}


def _normalise_digits(text: str) -> str:
    """Every decimal digit (Arabic-Indic ٠-٩, Persian ۰-۹, fullwidth, …) to 0-9."""
    return "".join(str(unicodedata.decimal(c)) if unicodedata.category(c) == "Nd" else c for c in text)


def _symbols(currency: str, locale: str | None) -> set[str]:
    from babel.numbers import get_currency_symbol

    found = {currency}
    for loc in {"en", "fr", "ar", locale or "en"}:
        try:
            found.add(get_currency_symbol(currency, loc))
        except Exception:  # an unknown locale: the code alone is accepted
            continue
    return {unicodedata.normalize("NFKC", s.translate(_BIDI_MARKS)).replace(" ", "").casefold() for s in found if s}


def _example(currency: str) -> str:
    decimals = minor_units(currency)
    return "1,500" + ("." + "25"[:decimals].ljust(decimals, "0") if decimals else "")


def _too_many_decimals(currency: str):
    decimals = minor_units(currency)
    if decimals == 0:
        return _("${currency} has no decimals: enter a whole number, like ${example}",
                 mapping={"currency": currency, "example": "1,500"})
    return ngettext("${currency} has ${count} decimal: enter no more than ${count} digit after the decimal "
                    "separator, like ${example}",
                    "${currency} has ${count} decimals: enter no more than ${count} digits after the decimal "
                    "separator, like ${example}", decimals, {"currency": currency, "example": _example(currency)})


def _not_a_number(currency: str):
    return _("Enter the amount in figures, like ${example}", mapping={"example": _example(currency)})


def parse_money(text: str, currency: str, locale: str | None = None, *, allow_negative: bool = False) -> Money:
    """Read an amount typed in ``currency``.

    Spaces, apostrophes and the Arabic ٬ only ever group thousands; ٫ is only ever the
    decimal separator.  Of "." and ",": with both present the last one is the decimal
    separator ("1,234.56", "250.000,50"); one repeated is a thousands separator
    ("1.000.000"); one alone is a thousands separator when exactly three digits follow it
    and the currency cannot have three decimals ("250,000" GBP), and a decimal separator
    otherwise ("12,5").  In a three-decimal currency "1,500" could be either: ``locale``
    decides (its decimal symbol), and without one it is refused with both readings."""
    if isinstance(text, float):
        raise TypeError("money amounts are never floats")
    if isinstance(text, (int, Decimal)) and not isinstance(text, bool):
        return Money(_as_decimal(text), currency)
    decimals = minor_units(currency)
    raw = "" if text is None else str(text)
    cleaned = unicodedata.normalize("NFKC", raw.translate(_BIDI_MARKS)) if raw else ""
    cleaned = _normalise_digits(cleaned).strip()
    if not cleaned:
        raise MoneyError(_("Enter an amount in ${currency}", mapping={"currency": currency}))

    # The figure is the run from the first digit (or separator before it) to the last digit;
    # what surrounds it may be a sign and this currency's code or symbol.
    first = next((i for i, c in enumerate(cleaned) if c.isdigit()), None)
    if first is None:
        raise MoneyError(_not_a_number(currency))
    last = max(i for i, c in enumerate(cleaned) if c.isdigit())
    start = first
    if start > 0 and cleaned[start - 1] in ".," + _ARABIC_DECIMAL and (
            start == 1 or not cleaned[start - 2].isalpha()):
        start -= 1  # ".5" (but not the last dot of a symbol such as "د.ت.")
    end = last + 1
    if end < len(cleaned) and cleaned[end] in ".," + _ARABIC_DECIMAL:
        end += 1  # "5." — a trailing separator with nothing after it
    prefix, figure, suffix = cleaned[:start], cleaned[start:end], cleaned[end:]
    negative = False
    affixes = []
    for affix in (prefix, suffix):
        bare = "".join(c for c in affix if c not in _SPACES)
        if bare and bare[0] in _MINUS:
            negative, bare = True, bare[1:]
        elif bare and bare[-1] in _MINUS:
            negative, bare = True, bare[:-1]
        affixes.append(bare.casefold())
    for bare in affixes:
        if not bare:
            continue
        if bare.upper() in MINOR_UNITS and bare.upper() != currency:
            raise MoneyError(_("Enter the amount in ${currency}, not ${other}",
                               mapping={"currency": currency, "other": bare.upper()}))
        if bare not in _symbols(currency, locale):
            raise MoneyError(_not_a_number(currency))
    if negative and not allow_negative:
        raise MoneyError(_("Enter an amount of 0 or more"))

    number = _read_figure(raw.strip(), figure, currency, decimals, locale)
    return Money(-number if negative else number, currency)


_TOKEN = re.compile(r"\d+|[^\d]")


def _read_figure(original: str, figure: str, currency: str, decimals: int, locale: str | None) -> Decimal:
    # Tokens: digit runs and single separators; spaces next to "." or "," are stray.
    tokens = []
    for tok in _TOKEN.findall(figure):
        if tok in _SPACES:
            tok = " "
        if not tok.isdigit() and tok not in {" ", ".", ",", _ARABIC_DECIMAL} | _GROUP_ONLY:
            raise MoneyError(_not_a_number(currency))
        tokens.append(tok)
    collapsed: list[str] = []
    for tok in tokens:
        if collapsed and not tok.isdigit() and not collapsed[-1].isdigit():
            if tok == " " or tok in _GROUP_ONLY:
                continue
            if collapsed[-1] == " " or collapsed[-1] in _GROUP_ONLY:
                collapsed[-1] = tok
                continue
            raise MoneyError(_("Check the separators in “${text}”", mapping={"text": original}))
        collapsed.append(tok)
    tokens = collapsed
    separators = [(i, t) for i, t in enumerate(tokens) if not t.isdigit()]

    decimal_at = None
    if any(t == _ARABIC_DECIMAL for _i, t in separators):
        decimal_ats = [i for i, t in separators if t == _ARABIC_DECIMAL]
        if len(decimal_ats) > 1:
            raise MoneyError(_("Check the separators in “${text}”", mapping={"text": original}))
        decimal_at = decimal_ats[0]
    elif separators:
        last_i, last = separators[-1]
        if last in (".", ","):
            same_before = [t for _i, t in separators[:-1] if t == last]
            others_before = [t for _i, t in separators[:-1] if t != last]
            after = tokens[last_i + 1] if last_i + 1 < len(tokens) else ""
            before = "".join(t for t in tokens[:last_i] if t.isdigit())
            if same_before:
                decimal_at = None  # "1.000.000"
            elif others_before:
                decimal_at = last_i  # "1,234.56", "1 500,000"
            elif len(after) != 3 or before.strip("0") == "" or len(before) > 3:
                decimal_at = last_i  # "12,5", "0.500", ".250", "1500,000"
            elif decimals < 3:
                decimal_at = None  # "250,000" GBP: three decimals are impossible, so thousands
            else:
                decimal_at = _ambiguous(original, tokens, last_i, currency, locale)

    integer_tokens = tokens[:decimal_at] if decimal_at is not None else tokens
    fraction = "".join(tokens[decimal_at + 1:]) if decimal_at is not None else ""
    if decimal_at is not None and not fraction.isdigit() and fraction:
        raise MoneyError(_("Check the separators in “${text}”", mapping={"text": original}))
    _check_groups(original, integer_tokens)
    integer = "".join(t for t in integer_tokens if t.isdigit()) or "0"
    if len(fraction) > decimals:
        raise MoneyError(_too_many_decimals(currency))
    try:
        return Decimal(f"{integer}.{fraction or '0'}")
    except InvalidOperation:  # pragma: no cover - the tokens are digits by now
        raise MoneyError(_not_a_number(currency)) from None


def _ambiguous(original, tokens, last_i, currency, locale) -> int | None:
    """"1,500" in a three-decimal currency: 1500 or 1.5?  The locale's decimal symbol
    decides; without a locale, ask."""
    separator = tokens[last_i]
    if locale:
        from babel.numbers import get_decimal_symbol

        try:
            symbol = get_decimal_symbol(locale)
        except Exception:
            symbol = "."
        return last_i if separator == symbol else None
    whole = "".join(t for t in tokens if t.isdigit())
    as_decimal = f"{''.join(tokens[:last_i])}.{tokens[last_i + 1]}"
    raise MoneyError(_("“${text}” could mean ${thousands} or ${decimal} ${currency}. Type the whole amount "
                       "without a thousands separator (${thousands}), or use a space between thousands "
                       "(${spaced}).",
                       mapping={"text": original, "thousands": whole, "decimal": as_decimal, "currency": currency,
                                "spaced": f"{''.join(tokens[:last_i])} {tokens[last_i + 1]}"}))


def _check_groups(original: str, tokens: list[str]) -> None:
    """Thousands separators must separate thousands: "1,234,567" and the Indian
    "1,00,000" are fine, "1,2,3" is a slip worth asking about.  Spaces are not checked."""
    if len(tokens) <= 1:
        return
    digit_runs = []
    current = ""
    checked = False
    for tok in tokens:
        if tok.isdigit():
            current += tok
        elif tok in (".", ","):
            digit_runs.append(current)
            current = ""
            checked = True
        else:  # spaces and apostrophes glue groups without checking them
            continue
    digit_runs.append(current)
    if not checked:
        return
    first, *middle, last = digit_runs
    ok = 1 <= len(first) <= 3 and len(last) == 3 and all(len(g) in (2, 3) for g in middle)
    if not ok:
        raise MoneyError(_("Check the thousands separators in “${text}”: groups after the first have three "
                           "digits, like 1,500,000", mapping={"text": original}))
