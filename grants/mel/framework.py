"""An award's results framework: its theory of change and its indicators, with their
baselines and their targets per reporting period; and the shared indicator library that
indicators can be picked from.

The theory of change is kept by level, in the programme's order (``levels_for``: the
programme's own ``results_levels``, or ``DEFAULT_LEVELS``), plus the assumptions it
rests on and the external factors outside the grantee's control::

    add_toc_element(db, award, kind="outputs", text="Four theatre clubs meet every week")
    add_toc_element(db, award, kind="assumption", text="Schools keep their halls open after class")

An indicator says how the grantee will show a result was reached.  It
needs a baseline — a value and the date it was measured — or the reason there is none::

    ind = add_indicator(db, award, code="OUT1", title="Young people taking part in the clubs",
                        level="outputs", measure="unit", unit="people", method="administrative_data",
                        baseline_value=Decimal(0), baseline_date=date(2019, 6, 1),
                        disaggregation=("sex", "age_band"))
    set_targets(db, ind, {report1: Decimal(40), report2: Decimal(80)})

Numbers are exact decimals; typed text is read with ``read_decimal`` ("12,5", "١٢٫٥").
The library is a CSV file (``load_library``; ``indicator_library.csv`` ships with a
dozen prevention and social-cohesion indicators) and ``pick_from_library`` copies one
into an award's framework.

Every function takes the SQLAlchemy session first, flushes but never commits, and
refuses bad input with :class:`FrameworkRefused` (``problems``: (field, reason) pairs),
changing nothing.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Iterable, Mapping

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from grants.audit.services import record_change
from grants.i18n import _, ngettext
from grants.lifecycle.meanings import state_means
from grants.multilingual import clean_texts, default_language_of, languages_of, set_texts, texts
from grants.workflow import ProblemsRefused

from .models import (
    ASSUMPTION,
    DEFAULT_LEVELS,
    DIMENSIONS,
    EXTERNAL_FACTOR,
    MEASURES,
    METHODS,
    Indicator,
    IndicatorTarget,
    IndicatorValue,
    LibraryIndicator,
    Report,
    TocElement,
)

#: The library shipped with grants, loaded the first time anyone picks from it.
SHIPPED_LIBRARY = Path(__file__).with_name("indicator_library.csv")
DEFAULT_LIBRARY = "pve-bank"
LIBRARY_COLUMNS = ("code", "title", "level", "measure", "unit", "method", "disaggregation", "description")

TEXT_MAX = 5000
CODE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]*$")

LEVEL_TITLES = {
    "inputs": _("Inputs"),
    "activities": _("Activities"),
    "outputs": _("Outputs"),
    "short_term_outcomes": _("Short-term outcomes"),
    "medium_term_outcomes": _("Medium-term outcomes"),
    "impact": _("Impact"),
}
KIND_TITLES = {**LEVEL_TITLES, ASSUMPTION: _("Assumptions"), EXTERNAL_FACTOR: _("External factors")}
MEASURE_TITLES = {
    "unit": _("A number (a count)"),
    "percentage": _("A percentage"),
    "nominal": _("A category"),
    "ordinal": _("A position on a scale"),
    "qualitative": _("A description in words"),
}
METHOD_TITLES = {
    "survey": _("Survey"),
    "interview": _("Interviews"),
    "focus_group": _("Focus group discussions"),
    "direct_measurement": _("Direct measurement"),
    "administrative_data": _("Administrative data (registers, attendance lists)"),
    "observation": _("Observation"),
}
DIMENSION_TITLES = {"sex": _("Sex"), "age_band": _("Age band"), "region": _("Region")}
BREAKDOWN_TITLES = {"sex": _("By sex"), "age_band": _("By age band"), "region": _("By region")}
VALUE_TITLES = {
    "sex": {"female": _("Female"), "male": _("Male"), "other": _("Other"), "not_stated": _("Not stated")},
    "age_band": {"under_15": _("Under 15"), "15_17": _("15 to 17"), "18_24": _("18 to 24"), "25_34": _("25 to 34"),
                 "35_plus": _("35 and over"), "not_stated": _("Not stated")},
}


class FrameworkRefused(ProblemsRefused):
    """A results-framework service refused: ``problems`` is a list of (field, reason)."""


# -- words for codes -------------------------------------------------------------------------


def levels_for(programme) -> tuple[str, ...]:
    """The levels of results a programme's frameworks use, in order: its own
    ``results_levels`` when it configured some, otherwise ``DEFAULT_LEVELS``."""
    levels = tuple(getattr(programme, "results_levels", None) or ())
    return levels or DEFAULT_LEVELS


def toc_kinds(programme) -> tuple[str, ...]:
    """What a box of the theory of change may be: a level, an assumption, an external factor."""
    return (*levels_for(programme), ASSUMPTION, EXTERNAL_FACTOR)


def kind_title(kind: str):
    """A level's (or assumption's, factor's) name for people.  A level a programme named
    itself (``intermediate_outcomes``) is shown as it is written, underscores as spaces."""
    return KIND_TITLES.get(kind) or kind.replace("_", " ").capitalize()


def value_title(dimension: str, value: str, locale: str | None = "en"):
    """A disaggregation value's name: "Female", "18 to 24", a region's name."""
    if dimension == "region":
        from grants.regions import label

        return label(value, locale)
    return VALUE_TITLES.get(dimension, {}).get(value, value)


# -- numbers ---------------------------------------------------------------------------------


DECIMAL_TEXT_MAX = 30  # digits and a point: well inside grants.db.DecimalText's 40 characters


def read_decimal(text) -> Decimal:
    """A number as people type it → an exact ``Decimal``: Arabic-Indic and other digits,
    a comma or the Arabic separator (٫) as the decimal mark, spaces or thin spaces or
    the Arabic thousands mark (٬) between thousands, "1,234.5" and "1.234,5", a trailing
    percent sign.  ``ValueError`` when it is not a number.  Decimals and ints pass through;
    floats are refused (they would round)."""
    from grants.programmes.forms import normalise_digits

    if isinstance(text, bool) or isinstance(text, float):
        raise ValueError("not an exact number")
    if isinstance(text, Decimal):
        if not text.is_finite():
            raise ValueError("not a finite number")
        return text
    if isinstance(text, int):
        return Decimal(text)
    cleaned = normalise_digits(str(text)).strip()
    cleaned = re.sub(r"[\s\u00a0\u202f\u066c'’]", "", cleaned).rstrip("%٪")
    cleaned = cleaned.replace("\u066b", ".").replace("\u2212", "-")
    group, point = None, "."
    if "," in cleaned and "." in cleaned:
        group, point = (".", ",") if cleaned.rfind(",") > cleaned.rfind(".") else (",", ".")  # 1.234,5 / 1,234.5
    elif cleaned.count(",") > 1:
        group = ","  # 1,234,567
    elif "," in cleaned:
        point = ","  # 12,5
    integer, has_point, fraction = cleaned.partition(point)
    if group is not None:
        if not re.fullmatch(r"[+-]?\d{1,3}(" + re.escape(group) + r"\d{3})+", integer):
            raise ValueError(f"not a number: {text!r}")
        integer = integer.replace(group, "")
    cleaned = integer + ("." + fraction if has_point else "")
    if not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)", cleaned) or len(cleaned) > DECIMAL_TEXT_MAX:
        raise ValueError(f"not a number: {text!r}")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError(f"not a number: {text!r}") from None
    return value


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _decimal_or_problem(value, field: str, problems: list, message) -> Decimal | None:
    if _blank(value):
        return None
    try:
        return read_decimal(value)
    except ValueError:
        problems.append((field, message))
        return None


# -- the theory of change ------------------------------------------------------------------


def _programme(award):
    return award.round.programme


def toc_elements(dbsession: Session, award) -> list[TocElement]:
    return list(dbsession.scalars(
        select(TocElement).where(TocElement.award_id == award.id).order_by(TocElement.position, TocElement.id)))


@dataclass
class TocSection:
    kind: str
    elements: list[TocElement] = field(default_factory=list)

    @property
    def title(self):
        return kind_title(self.kind)

    @property
    def is_level(self) -> bool:
        return self.kind not in (ASSUMPTION, EXTERNAL_FACTOR)


def theory_of_change(dbsession: Session, award) -> list[TocSection]:
    """Every level in the programme's order, then the assumptions and the external
    factors, each with its boxes.  Boxes of a level the programme no longer has come
    after the levels, so nothing written is hidden."""
    kinds = list(toc_kinds(_programme(award)))
    sections = {kind: TocSection(kind) for kind in kinds}
    for element in toc_elements(dbsession, award):
        if element.kind not in sections:
            sections[element.kind] = TocSection(element.kind)
            kinds.insert(len(kinds) - 2, element.kind)
        sections[element.kind].elements.append(element)
    return [sections[k] for k in kinds]


def _toc_problems(award, kind: str, text: str) -> list:
    problems = []
    if kind not in toc_kinds(_programme(award)):
        problems.append(("kind", _("Choose a level of results, an assumption or an external factor.")))
    if not text:
        problems.append(("text", _("Write what this part of the theory of change says.")))
    elif len(text) > TEXT_MAX:
        problems.append(("text", ngettext(
            "Keep this to ${count} character or fewer.",
            "Keep this to ${count} characters or fewer.", TEXT_MAX)))
    return problems


def add_toc_element(dbsession: Session, award, *, kind: str, text: str) -> TocElement:
    """Add a box to the award's theory of change: a result at one of the programme's
    levels, an ``assumption`` it rests on, or an ``external_factor`` outside the
    grantee's control.  It goes last within its kind."""
    text = (text or "").strip()
    FrameworkRefused.refuse_if(_toc_problems(award, kind, text))
    last = dbsession.scalar(select(func.max(TocElement.position)).where(
        TocElement.award_id == award.id, TocElement.kind == kind))
    element = TocElement(award_id=award.id, kind=kind, text=text, position=(last or 0) + 1)
    dbsession.add(element)
    dbsession.flush()
    return element


def edit_toc_element(dbsession: Session, element: TocElement, *, text: str, kind: str | None = None) -> TocElement:
    """Change a box's words (and, if given, its kind)."""
    from grants.awards.models import Award

    award = dbsession.get(Award, element.award_id)
    text = (text or "").strip()
    kind = kind or element.kind
    FrameworkRefused.refuse_if(_toc_problems(award, kind, text))
    element.text, element.kind = text, kind
    dbsession.flush()
    return element


def remove_toc_element(dbsession: Session, element: TocElement) -> None:
    """Remove a box; indicators that measured it stay, linked to nothing."""
    for indicator in dbsession.scalars(select(Indicator).where(Indicator.toc_element_id == element.id)):
        indicator.toc_element_id = None
    dbsession.delete(element)
    dbsession.flush()


# -- indicators --------------------------------------------------------------------------------


def indicators_of(dbsession: Session, award) -> list[Indicator]:
    return list(dbsession.scalars(select(Indicator).where(Indicator.award_id == award.id).order_by(Indicator.code)))


def _check_value(measure: str, value: Decimal | None, field: str, problems: list, what) -> None:
    """A percentage within 0–100; a count not negative."""
    if value is None:
        return
    if measure == "percentage" and not Decimal(0) <= value <= Decimal(100):
        problems.append((field, _("${what} is a percentage: give a number from 0 to 100.", mapping={"what": what})))
    elif measure == "unit" and value < 0:
        problems.append((field, _("${what} is a count: it cannot be below zero.", mapping={"what": what})))


#: An indicator's texts written in each of the programme's languages.
INDICATOR_TEXTS = ("title", "unit")
UNLIMITED = 10 ** 9


def _indicator_problems(dbsession, award, indicator, values: dict) -> tuple[list, dict]:
    """Check an indicator's fields; return the problems and the cleaned values."""
    problems: list = []
    code = (values.get("code") or "").strip()
    # The title and unit are the funder's words in each of the programme's languages
    # (grants.multilingual): a string is the default language's, a dict every language.
    languages = languages_of(award)
    # Lengths are checked below, with this form's own messages.
    titles, found = clean_texts(values.get("title") or "", languages=languages, field="title", limit=UNLIMITED)
    units, found_units = clean_texts(values.get("unit") or "", languages=languages, field="unit", limit=UNLIMITED)
    problems += [(name.partition(".")[0], reason) for name, reason in found + found_units]
    title, unit = titles.get(languages[0], ""), units.get(languages[0], "")
    too_long_title = any(len(text) > 500 for text in titles.values())
    too_long_unit = any(len(text) > 60 for text in units.values())
    reason = (values.get("baseline_missing_reason") or "").strip()
    level, measure, method = values.get("level"), values.get("measure"), values.get("method")
    if not code:
        problems.append(("code", _("Give the indicator a short code, like OUT1.")))
    elif len(code) > 40 or not CODE_PATTERN.match(code):
        problems.append(("code", _("Write the code with letters, digits, dots or dashes, 40 at most, like OUT1.")))
    else:
        clash = dbsession.scalar(select(Indicator.id).where(
            Indicator.award_id == award.id, func.lower(Indicator.code) == code.lower()))
        if clash is not None and (indicator is None or clash != indicator.id):
            problems.append(("code", _("This framework already has an indicator ${code}: choose another code.",
                                     mapping={"code": code})))
    if not title:
        problems.append(("title", _("Say what the indicator measures.")))
    elif too_long_title:
        problems.append(("title", _("Keep the title to 500 characters or fewer.")))
    if level not in levels_for(_programme(award)):
        problems.append(("level", _("Choose the level of results the indicator measures.")))
    if measure not in MEASURES:
        problems.append(("measure", _("Choose how the indicator is measured.")))
    if too_long_unit:
        problems.append(("unit", _("Keep the unit to 60 characters or fewer.")))
    if method not in METHODS:
        problems.append(("method", _("Choose how the data are collected.")))
    disaggregation = list(dict.fromkeys(values.get("disaggregation") or ()))
    unknown = [d for d in disaggregation if d not in DIMENSIONS]
    if unknown:
        problems.append(("disaggregation", _("Break values down only by sex, age band or region.")))
    elif disaggregation and measure == "qualitative":
        problems.append(("disaggregation", _("An indicator described in words is not broken down: "
                                             "choose no disaggregation, or another measure.")))
    # Sorted in the order DIMENSIONS lists them, so forms and cells read the same everywhere.
    disaggregation = [d for d in DIMENSIONS if d in disaggregation]
    baseline = _decimal_or_problem(values.get("baseline_value"), "baseline_value", problems,
                                   _("Give the baseline as a number, like 12 or 12.5."))
    baseline_date = values.get("baseline_date")
    if baseline is not None:
        _check_value(measure, baseline, "baseline_value", problems, _("The baseline"))
        if not isinstance(baseline_date, dt.date):
            problems.append(("baseline_date", _("Give the date the baseline was measured.")))
        reason = ""
    elif _blank(values.get("baseline_value")):
        baseline_date = None
        if not reason:
            problems.append(("baseline_value", _(
                "Give the baseline and the date it was measured, or explain why there is no baseline.")))
        elif len(reason) > TEXT_MAX:
            problems.append(("baseline_missing_reason",
                             ngettext(
                                 "Keep this to ${count} character or fewer.",
                                 "Keep this to ${count} characters or fewer.", TEXT_MAX)))
    toc_element = values.get("toc_element")
    if toc_element is not None and toc_element.award_id != award.id:
        problems.append(("toc_element", _("Link the indicator to a part of this award's theory of change.")))
    cleaned = dict(code=code, title=titles, level=level, measure=measure, unit=units,
                   ascending=bool(values.get("ascending", True)), baseline_value=baseline,
                   baseline_date=baseline_date, baseline_missing_reason=reason, method=method,
                   disaggregation=disaggregation,
                   toc_element_id=None if toc_element is None else toc_element.id)
    return problems, cleaned


def _target_problems(dbsession, award_id: int, measure: str, targets: Mapping) -> tuple[list, dict]:
    problems, cleaned = [], {}
    for report, value in (targets or {}).items():
        field = f"target-{report.id}"
        if report.award_id != award_id:
            problems.append((field, _("Set targets only for this award's reporting periods.")))
            continue
        number = _decimal_or_problem(value, field, problems, _(
            "Give the target for period ${number} as a number, like 40 or 12.5.", mapping={"number": report.number}))
        if not _blank(value) and number is None:
            continue
        _check_value(measure, number, field, problems,
                     _("The target for period ${number}", mapping={"number": report.number}))
        cleaned[report] = number
    return problems, cleaned


def _apply_targets(dbsession, indicator: Indicator, targets: dict) -> None:
    existing = {t.report_id: t for t in indicator.targets}
    for report, value in targets.items():
        row = existing.get(report.id)
        if value is None:
            if row is not None:
                indicator.targets.remove(row)
        elif row is None:
            indicator.targets.append(IndicatorTarget(report_id=report.id, value=value))
        else:
            row.value = value


def add_indicator(dbsession: Session, award, *, code: str, title: str, level: str, measure: str, unit: str = "",
                  ascending: bool = True, baseline_value=None, baseline_date: dt.date | None = None,
                  baseline_missing_reason: str = "", method: str, disaggregation: Iterable[str] = (),
                  toc_element: TocElement | None = None, targets: Mapping | None = None,
                  library_code: str | None = None) -> Indicator:
    """Add an indicator to the award's results framework.  Refused, changing nothing,
    unless it has a baseline value with its date or a recorded reason why there is none;
    ``measure`` is one of ``MEASURES``, ``method`` of ``METHODS``, ``disaggregation`` a
    subset of the ``DIMENSIONS`` (sex, age band, region).  ``targets`` maps reports (the
    award's reporting periods) to the value aimed at by the end of each."""
    values = dict(code=code, title=title, level=level, measure=measure, unit=unit, ascending=ascending,
                  baseline_value=baseline_value, baseline_date=baseline_date,
                  baseline_missing_reason=baseline_missing_reason, method=method, disaggregation=disaggregation,
                  toc_element=toc_element)
    problems, cleaned = _indicator_problems(dbsession, award, None, values)
    target_problems, cleaned_targets = _target_problems(dbsession, award.id, measure, targets or {})
    FrameworkRefused.refuse_if(problems + target_problems)
    texts_of = {name: cleaned.pop(name) for name in INDICATOR_TEXTS}
    indicator = Indicator(award_id=award.id, library_code=library_code, **cleaned)
    indicator.award = award  # its programme's languages, for the texts
    for name, value in texts_of.items():
        set_texts(indicator, name, value)
    dbsession.add(indicator)
    dbsession.flush()
    _apply_targets(dbsession, indicator, cleaned_targets)
    dbsession.flush()
    return indicator


def edit_indicator(dbsession: Session, indicator: Indicator, *, targets: Mapping | None = None, user=None,
                   **changes) -> Indicator:
    """Change an indicator's fields (any of ``add_indicator``'s) and, if given, its
    targets.  The same checks apply; a measure or disaggregation that would make values
    already reported unreadable is refused."""
    from grants.awards.models import Award

    award = dbsession.get(Award, indicator.award_id)
    known = ("code", "title", "level", "measure", "unit", "ascending", "baseline_value", "baseline_date",
             "baseline_missing_reason", "method", "disaggregation", "toc_element")
    unknown = set(changes) - set(known)
    if unknown:
        raise TypeError(f"edit_indicator got unexpected fields: {', '.join(sorted(unknown))}")
    current = dict(code=indicator.code, title=indicator.title, level=indicator.level, measure=indicator.measure,
                   unit=indicator.unit, ascending=indicator.ascending, baseline_value=indicator.baseline_value,
                   baseline_date=indicator.baseline_date, baseline_missing_reason=indicator.baseline_missing_reason,
                   method=indicator.method, disaggregation=indicator.disaggregation,
                   toc_element=None if indicator.toc_element_id is None else dbsession.get(TocElement,
                                                                                         indicator.toc_element_id))
    for name in INDICATOR_TEXTS:
        # A plain string changes the default language's text and keeps the others.
        current[name] = texts(indicator, name)
        if isinstance(changes.get(name), str):
            changes[name] = {**current[name], default_language_of(award): changes[name]}
    values = {**current, **changes}
    problems, cleaned = _indicator_problems(dbsession, award, indicator, values)
    reported = dbsession.scalars(select(IndicatorValue).where(IndicatorValue.indicator_id == indicator.id)).all()
    if reported and cleaned["measure"] != indicator.measure:
        problems.append(("measure", _("Values were already reported for ${code}: its measure cannot change.",
                                      mapping={"code": indicator.code})))
    dropped = {key for v in reported for key in (v.dimensions or {})} - set(cleaned["disaggregation"])
    if dropped:
        problems.append(("disaggregation", _("Values were already reported by ${dimensions}: keep that breakdown.",
                                             mapping={"dimensions": ", ".join(sorted(dropped))})))
    target_problems, cleaned_targets = _target_problems(dbsession, award.id, cleaned["measure"] or "", targets or {})
    FrameworkRefused.refuse_if(problems + target_problems)
    for name in INDICATOR_TEXTS:
        before = set_texts(indicator, name, cleaned.pop(name))
        if before != texts(indicator, name):
            record_change(dbsession, indicator, name, before, texts(indicator, name), user=user)
    for name, value in cleaned.items():
        setattr(indicator, name, value)
    _apply_targets(dbsession, indicator, cleaned_targets)
    dbsession.flush()
    return indicator


def remove_indicator(dbsession: Session, indicator: Indicator) -> None:
    """Remove an indicator, unless a submitted or accepted report carries values for it."""
    submitted = dbsession.scalar(
        select(func.count(IndicatorValue.id)).join(Report, Report.id == IndicatorValue.report_id).where(
            IndicatorValue.indicator_id == indicator.id, state_means(Report, "submitted", "accepted")))
    FrameworkRefused.refuse_if([(None, _(
        "${code} has values in a submitted report: it stays in the framework.", mapping={"code": indicator.code}))]
        if submitted else [])
    dbsession.delete(indicator)
    dbsession.flush()


def set_targets(dbsession: Session, indicator: Indicator, targets: Mapping) -> Indicator:
    """Set the value an indicator aims at by the end of each reporting period:
    ``{report: Decimal}`` (None removes that period's target).  Percentages must be
    within 0–100 and counts not negative."""
    problems, cleaned = _target_problems(dbsession, indicator.award_id, indicator.measure, targets)
    FrameworkRefused.refuse_if(problems)
    _apply_targets(dbsession, indicator, cleaned)
    dbsession.flush()
    return indicator


def targets_by_report(indicator: Indicator) -> dict[int, Decimal]:
    return {t.report_id: t.value for t in indicator.targets}


def baseline_text(indicator: Indicator) -> str:
    """The baseline as the table shows it: "12 (2019-06-01)", or empty if there is none."""
    if indicator.baseline_value is None:
        return ""
    when = indicator.baseline_date.isoformat() if indicator.baseline_date else ""
    return f"{indicator.baseline_value} ({when})" if when else str(indicator.baseline_value)


# -- the indicator library --------------------------------------------------------------------


@dataclass
class LibraryLoad:
    """What ``load_library`` did: codes added, changed, and left as they were."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


def _read_source(source) -> str:
    if isinstance(source, (str, Path)) and not (isinstance(source, str) and "\n" in source):
        return Path(source).read_text(encoding="utf-8-sig")
    if hasattr(source, "read"):
        text = source.read()
        return text.decode("utf-8-sig") if isinstance(text, bytes) else text
    if isinstance(source, bytes):
        return source.decode("utf-8-sig")
    return str(source)


def _library_row_problems(row: dict) -> list:
    problems = []
    if not row["code"]:
        problems.append(_("the code is empty"))
    elif len(row["code"]) > 60 or not CODE_PATTERN.match(row["code"]):
        problems.append(_("the code “${code}” must be letters, digits, dots or dashes (60 at most)",
                          mapping={"code": row["code"]}))
    if not row["title"]:
        problems.append(_("the title is empty"))
    elif len(row["title"]) > 500:
        problems.append(_("the title is longer than 500 characters"))
    if row["level"] not in DEFAULT_LEVELS:
        problems.append(_("the level “${level}” is not one of ${levels}",
                          mapping={"level": row["level"], "levels": ", ".join(DEFAULT_LEVELS)}))
    if row["measure"] not in MEASURES:
        problems.append(_("the measure “${measure}” is not one of ${measures}",
                          mapping={"measure": row["measure"], "measures": ", ".join(MEASURES)}))
    if len(row["unit"]) > 60:
        problems.append(_("the unit is longer than 60 characters"))
    if row["method"] not in METHODS:
        problems.append(_("the method “${method}” is not one of ${methods}",
                          mapping={"method": row["method"], "methods": ", ".join(METHODS)}))
    for dimension in row["disaggregation"]:
        if dimension not in DIMENSIONS:
            problems.append(_("the disaggregation “${dimension}” is not one of ${dimensions}",
                              mapping={"dimension": dimension, "dimensions": ", ".join(DIMENSIONS)}))
    if row["disaggregation"] and row["measure"] == "qualitative":
        problems.append(_("an indicator described in words cannot be disaggregated"))
    return problems


def read_library(source) -> list[dict]:
    """The rows of a library CSV, checked.  Refused with every mistake, line by line."""
    text = _read_source(source)
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in LIBRARY_COLUMNS if c not in header]
    if missing:
        raise FrameworkRefused([(None, _("Line 1: the columns ${missing} are missing (expected: ${columns}).",
                                         mapping={"missing": ", ".join(missing),
                                                  "columns": ",".join(LIBRARY_COLUMNS)}))])
    problems, rows, seen = [], [], {}
    for raw in reader:
        line = reader.line_num
        raw = {(k or "").strip(): (v or "").strip() if isinstance(v, str) else "" for k, v in raw.items()}
        if not any(raw.values()):
            continue
        row = {name: raw.get(name, "") for name in LIBRARY_COLUMNS}
        row["disaggregation"] = [d.strip() for d in row["disaggregation"].split(";") if d.strip()]
        reasons = _library_row_problems(row)
        if row["code"] and row["code"] in seen:
            reasons.append(_("the code ${code} is already on line ${other}",
                             mapping={"code": row["code"], "other": seen[row["code"]]}))
        seen.setdefault(row["code"], line)
        for reason in reasons:
            problems.append((None, _("Line ${line}: ${reason}.", mapping={"line": line, "reason": reason})))
        rows.append(row)
    if not rows and not problems:
        problems.append((None, _("The file has no indicators.")))
    FrameworkRefused.refuse_if(problems)
    return rows


def load_library(dbsession: Session, source, *, library: str = DEFAULT_LIBRARY) -> LibraryLoad:
    """Read an indicator library from a CSV file (a path, an open file or the text) with
    the columns ``code,title,level,measure,unit,method,disaggregation,description``
    (disaggregation separated by ``;``) and store it under ``library``.  Every row is
    checked first: a refusal lists each wrong line and stores nothing.  Rows are matched
    by (library, code), so loading the same file twice changes nothing."""
    rows = read_library(source)
    stored = {row.code: row for row in dbsession.scalars(
        select(LibraryIndicator).where(LibraryIndicator.library == library))}
    outcome = LibraryLoad()
    for row in rows:
        existing = stored.get(row["code"])
        if existing is None:
            dbsession.add(LibraryIndicator(library=library, **row))
            outcome.created.append(row["code"])
            continue
        changed = False
        for name, value in row.items():
            if getattr(existing, name) != value:
                setattr(existing, name, value)
                changed = True
        (outcome.updated if changed else outcome.unchanged).append(row["code"])
    dbsession.flush()
    return outcome


def library_indicators(dbsession: Session, library: str = DEFAULT_LIBRARY) -> list[LibraryIndicator]:
    """The library's indicators by code.  The shipped library is loaded the first time it
    is asked for, so a new deployment has something to pick from."""
    query = select(LibraryIndicator).where(LibraryIndicator.library == library).order_by(LibraryIndicator.code)
    found = list(dbsession.scalars(query))
    if not found and library == DEFAULT_LIBRARY:
        load_library(dbsession, SHIPPED_LIBRARY, library=library)
        found = list(dbsession.scalars(query))
    return found


def pick_from_library(dbsession: Session, award, entry: LibraryIndicator, *, code: str | None = None,
                      level: str | None = None, baseline_value=None, baseline_date: dt.date | None = None,
                      baseline_missing_reason: str = "", toc_element: TocElement | None = None,
                      targets: Mapping | None = None, ascending: bool = True) -> Indicator:
    """Add the library's indicator to the award's framework: its title, level, measure,
    unit, method and disaggregation are copied and ``library_code`` remembers where it
    came from.  The baseline (or the reason there is none) is still the grantee's to give.
    ``level`` replaces the library's when the programme has levels of its own."""
    return add_indicator(dbsession, award, code=code or entry.code, title=entry.title, level=level or entry.level,
                         measure=entry.measure, unit=entry.unit, ascending=ascending,
                         baseline_value=baseline_value, baseline_date=baseline_date,
                         baseline_missing_reason=baseline_missing_reason, method=entry.method,
                         disaggregation=entry.disaggregation, toc_element=toc_element, targets=targets,
                         library_code=entry.code)
