"""Standardised survey instruments, the waves a round runs them in, the aggregated
responses grantees upload, and the roll-ups of those responses.

An instrument is versioned and never changes once created: a change is a new version,
and results from two versions are never added up, averaged or compared as if they were
one: a reworded question measures something else.  Every function takes the database session first,
flushes but never commits, and refuses bad input with :class:`SurveyRefused`, whose
``problems`` are (field, reason) pairs a person can read in their own language; a
refusal changes nothing.

Instruments, from Python or from a TOML file (grants ships one in ``grants/mel/instruments/``;
plugins add theirs with ``config.add_survey_instrument``)::

    inst = create_instrument(db, code="resilience_belonging", title="Resilience and belonging",
                             items=[{"code": "belong", "text": "I feel I belong in my neighbourhood.",
                                     "scale": 5, "labels": ["Strongly disagree", …, "Strongly agree"]}])
    inst.version                                   # 1; the next create_instrument of this code makes 2
    load_instrument_file(db, path)                 # the same content again → the same version
    attach_instrument(db, rnd, inst, ["baseline", "post"])   # every grantee of the round uses it

Aggregated responses: one CSV per award, instrument version and wave, with a row per item
(the total) and optional rows per cell of sex, age band or region::

    item,sex,age_band,region,count_1,count_2,count_3,count_4,count_5
    belong,,,,3,5,10,20,12
    belong,female,,,1,2,6,11,7

    upload = upload_survey_results(db, registry, award, inst, "baseline", data, filename="baseline.csv")
    award_results(db, award)          # per version, per wave, per item: respondents, mean, share agreeing
    compare_waves(db, award, "resilience_belonging", 1, "baseline", "post")
    rollup_to_indicators(db, award, report)   # survey-linked indicators get their values
    round_survey_summary(db, rnd)     # every grantee's counts summed, one entry per version

Means are exact: the sum of points over respondents, rounded half up to 2 places.
"Agreeing" is the top two points of a scale of 4 points or more, the top point of a 2- or
3-point scale (where the second point from the top is the middle or the bottom).
"""
from __future__ import annotations

import csv
import datetime as dt
import functools
import io
import re
import tomllib
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any, Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from grants import spreadsheet
from grants.i18n import _, count_figure, is_language, ngettext
from grants.lifecycle.meanings import means
from grants.lifecycle.services import settings_of
from grants.programmes.forms import normalise_digits
from grants.workflow import ProblemsRefused

from .models import (
    DIMENSIONS,
    WAVES,
    Indicator,
    IndicatorValue,
    RoundInstrument,
    SurveyInstrument,
    SurveyResult,
    SurveyUpload,
)

#: Where the standard instruments are kept (TOML, one instrument per file).
INSTRUMENTS_DIR = Path(__file__).resolve().parent / "instruments"

#: The fewest and most points a rating scale may have.
MIN_SCALE, MAX_SCALE = 2, 11

WAVE_TITLES = {
    "baseline": _("Baseline, before the activity"),
    "post": _("Straight after the activity"),
    "plus_3_months": _("3 months after"),
    "plus_6_months": _("6 months after"),
}
assert tuple(WAVE_TITLES) == WAVES

DIMENSION_TITLES = {"sex": _("Sex"), "age_band": _("Age band"), "region": _("Region")}
assert tuple(DIMENSION_TITLES) == tuple(DIMENSIONS)

MEAN_QUANTUM = Decimal("0.01")
SHARE_QUANTUM = Decimal("0.0001")

#: The most problems one refused upload lists (the rest are counted).
MAX_PROBLEMS = 50
#: The most lines an upload may have (items × cells, far more than any instrument needs).
MAX_LINES = 20_000

_CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,59}$")
_COUNT_COLUMN = re.compile(r"^count_(\d+)$")


class SurveyRefused(ProblemsRefused):
    """Nothing was changed.  ``problems`` is a list of (field name or None, reason)."""


# -- numbers ------------------------------------------------------------------------------------


def scale_mean(counts: list[int]) -> Decimal:
    """The mean point (1..N) of ``counts`` (responses per point), rounded half up to 2 places."""
    respondents = sum(counts)
    total = sum(point * n for point, n in enumerate(counts, start=1))
    return (Decimal(total) / Decimal(respondents)).quantize(MEAN_QUANTUM, rounding=ROUND_HALF_UP)


def agree_points(scale: int) -> int:
    """How many of the top points count as agreeing."""
    return 2 if scale >= 4 else 1


def agree_count(counts: list[int]) -> int:
    return sum(counts[-agree_points(len(counts)):])


def agree_share(counts: list[int]) -> Decimal:
    """The share of respondents on the agreeing points, 0–1, rounded half up to 4 places."""
    return (Decimal(agree_count(counts)) / Decimal(sum(counts))).quantize(SHARE_QUANTUM, rounding=ROUND_HALF_UP)


def agree_percent(counts: list[int]) -> Decimal:
    """The same share as a percentage, 0–100, rounded half up to 2 places (computed from
    the counts, not from the rounded share)."""
    return (Decimal(agree_count(counts) * 100) / Decimal(sum(counts))).quantize(MEAN_QUANTUM,
                                                                                 rounding=ROUND_HALF_UP)


def cell_key(dimensions: dict) -> str:
    """A cell's dimensions as one comparable string: ``"age_band=18_24;sex=female"``; "" is the total."""
    return ";".join(f"{k}={dimensions[k]}" for k in sorted(dimensions))


# -- instruments ----------------------------------------------------------------------------------


def item_text(item: dict, locale: str | None = None) -> str:
    """An item's wording in ``locale`` ("fr", "ar_TN"…) when the instrument has it."""
    language = (locale or "en").replace("-", "_").split("_")[0]
    return (item.get("translations") or {}).get(language, {}).get("text") or item["text"]


def item_labels(item: dict, locale: str | None = None) -> list[str]:
    """An item's point labels (1..N) in ``locale`` when the instrument has them."""
    language = (locale or "en").replace("-", "_").split("_")[0]
    return (item.get("translations") or {}).get(language, {}).get("labels") or list(item["labels"])


def _validate_items(items: Any) -> tuple[list[dict], list]:
    """Items checked and normalised: code, text, scale, labels and optional translations."""
    problems: list = []
    clean: list[dict] = []
    if not isinstance(items, (list, tuple)) or not items:
        return [], [("items", _("Give the instrument at least one item."))]
    seen: set[str] = set()
    for number, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            problems.append(("items", _("Item ${number} is not a set of code, text, scale and labels.",
                                        mapping={"number": number})))
            continue
        code = str(item.get("code") or "").strip()
        text = " ".join(str(item.get("text") or "").split())
        scale = item.get("scale")
        labels = item.get("labels")
        if not _CODE.match(code):
            problems.append(("items", _("Item ${number}: give a code of lower-case letters, digits, “_” or “-”, "
                                        "60 characters at most, like “belong”.", mapping={"number": number})))
        elif code in seen:
            problems.append(("items", _("Item ${number}: the code “${code}” is used twice; each item needs its own.",
                                        mapping={"number": number, "code": code})))
        seen.add(code)
        if not text:
            problems.append(("items", _("Item ${number}: write the statement or question respondents rate.",
                                        mapping={"number": number})))
        if isinstance(scale, bool) or not isinstance(scale, int) or not MIN_SCALE <= scale <= MAX_SCALE:
            problems.append(("items", ngettext(
                "Item ${number}: the scale must have from ${min} to ${count} point.",
                "Item ${number}: the scale must have from ${min} to ${count} points.", MAX_SCALE,
                {"number": number, "min": MIN_SCALE})))
            continue
        labels = [" ".join(str(label).split()) for label in labels] if isinstance(labels, (list, tuple)) else []
        if len(labels) != scale or not all(labels):
            problems.append(("items", ngettext(
                "Item ${number}: give one label for each of its ${count} point, from the lowest to the highest.",
                "Item ${number}: give one label for each of its ${count} points, from the lowest to the highest.",
                scale, {"number": number})))
        translations = {}
        for language, version in (item.get("translations") or {}).items():
            # Any language, not only the deployment's: an instrument is shared data, and a
            # reader whose language it lacks gets its own wording (item_text).
            if not is_language(language) or not isinstance(version, dict):
                problems.append(("items", _("Item ${number}: give each translation under a language code such as "
                                            "fr, ar or sw, with its text and labels.", mapping={"number": number})))
                continue
            t_text = " ".join(str(version.get("text") or "").split())
            t_labels = [" ".join(str(label).split()) for label in version.get("labels") or ()]
            if not t_text or (t_labels and (len(t_labels) != scale or not all(t_labels))):
                problems.append(("items", ngettext(
                    "Item ${number}: its ${language} translation needs the text and, if labels are given, "
                    "one for each of its ${count} point.",
                    "Item ${number}: its ${language} translation needs the text and, if labels are given, "
                    "one for each of its ${count} points.", scale, {"number": number, "language": language})))
                continue
            translations[language] = {"text": t_text, **({"labels": t_labels} if t_labels else {})}
        clean.append({"code": code, "text": text, "scale": scale, "labels": labels,
                      **({"translations": translations} if translations else {})})
    return clean, problems


def create_instrument(dbsession: Session, *, code: str, title: str, items: list[dict],
                      now: dt.datetime | None = None) -> SurveyInstrument:
    """A new version of the instrument ``code``: version 1 if none exists, else one more
    than the latest.  ``items``: ``[{"code", "text", "scale", "labels", "translations"?}]``
    with unique codes, a scale of 2–11 points and one label per point (lowest first);
    ``translations`` optionally gives ``{"fr": {"text": …, "labels": […]}, "ar": …}``."""
    code = str(code or "").strip()
    title = " ".join(str(title or "").split())
    problems: list = []
    if not _CODE.match(code):
        problems.append(("code", _("Give the instrument a code of lower-case letters, digits, “_” or “-”, "
                                   "60 characters at most, like “resilience_belonging”.")))
    if not title:
        problems.append(("title", _("Give the instrument a title.")))
    elif len(title) > 300:
        problems.append(("title", _("Give the instrument a title of 300 characters or fewer.")))
    clean, item_problems = _validate_items(items)
    if dbsession.scalar(select(SurveyInstrument.id).where(SurveyInstrument.code == code,
                                                          SurveyInstrument.programme_id.is_not(None)).limit(1)):
        # A programme made an instrument with this code in the browser: its versions are its own.
        problems.append(("code", _("An instrument already has the code “${code}”: choose another, or copy that "
                                   "instrument to make its next version.", mapping={"code": code})))
    SurveyRefused.refuse_if(problems + item_problems)
    latest = dbsession.scalar(select(SurveyInstrument.version).where(SurveyInstrument.code == code)
                              .order_by(SurveyInstrument.version.desc()).limit(1))
    instrument = SurveyInstrument(code=code, version=(latest or 0) + 1, title=title, items=clean)
    if now is not None:
        instrument.created_at = now
    dbsession.add(instrument)
    dbsession.flush()
    return instrument


def instrument_versions(dbsession: Session, code: str | None = None) -> list[SurveyInstrument]:
    """Every instrument version (of ``code``, or of all codes), by code then version."""
    query = select(SurveyInstrument).order_by(SurveyInstrument.code, SurveyInstrument.version)
    if code is not None:
        query = query.where(SurveyInstrument.code == code)
    return list(dbsession.scalars(query))


def read_instrument_file(path: str | Path) -> dict:
    """An instrument file (TOML) as ``create_instrument``'s arguments.  A file may give
    ``scale``, ``labels`` and ``[translations.<lang>] labels`` once at the top for every
    item; each ``[[items]]`` has ``code``, ``text`` and optionally ``translations =
    {fr = "…", ar = "…"}`` (or its own scale and labels)."""
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise SurveyRefused([(None, _("The instrument file ${name} cannot be read: ${error}",
                                      mapping={"name": Path(path).name, "error": str(exc)}))]) from None
    shared_labels = {lang: (t or {}).get("labels") for lang, t in (data.get("translations") or {}).items()}
    items = []
    for raw in data.get("items") or ():
        item = {"code": raw.get("code"), "text": raw.get("text"), "scale": raw.get("scale", data.get("scale")),
                "labels": raw.get("labels", data.get("labels"))}
        translations = {}
        for lang, value in (raw.get("translations") or {}).items():
            version = {"text": value} if isinstance(value, str) else dict(value)
            if "labels" not in version and shared_labels.get(lang):
                version["labels"] = shared_labels[lang]
            translations[lang] = version
        if translations:
            item["translations"] = translations
        items.append(item)
    return {"code": data.get("code"), "title": data.get("title"), "items": items}


def load_instrument_file(dbsession: Session, path: str | Path, *, now: dt.datetime | None = None
                         ) -> SurveyInstrument:
    """The instrument in ``path``: its latest version when that has exactly this title
    and these items (loading twice changes nothing), else a new version."""
    spec = read_instrument_file(path)
    clean, problems = _validate_items(spec["items"])
    if not problems and spec.get("code"):
        versions = instrument_versions(dbsession, str(spec["code"]).strip())
        title = " ".join(str(spec.get("title") or "").split())
        if versions and versions[-1].items == clean and versions[-1].title == title:
            return versions[-1]
    return create_instrument(dbsession, code=spec["code"], title=spec["title"], items=spec["items"], now=now)


INSTRUMENTS_KEY = "grants.survey_instruments"


def add_survey_instrument(config, spec: str) -> None:
    """The directive ``config.add_survey_instrument``: an instrument file (TOML, see
    :func:`read_instrument_file`; an asset spec such as ``"my_plugin:instruments/x.toml"``)
    offered as a standard instrument — by a plugin, to the rounds of programmes that use it.
    The file is read now, so a broken one stops start-up rather than a page later."""
    from pyramid.path import AssetResolver

    from grants.plugins import current_plugin, register_change

    path = Path(AssetResolver().resolve(config.absolute_asset_spec(spec)).abspath())
    code = read_instrument_file(path).get("code")
    if not code:
        raise ValueError(f"survey instrument {spec}: the file gives no code")
    origin = current_plugin(config)
    register_change(config, ("grants:survey-instrument", str(code)), f"add survey instrument {code!r}",
                    lambda: config.registry.setdefault(INSTRUMENTS_KEY, []).append((origin, path)))


def standard_instrument_files(registry=None, plugins=None) -> list[Path]:
    """The standard instruments where ``plugins`` are in use (a programme's): grants'
    own and those of these plugins (every plugin's when ``plugins`` is None).  Without a
    registry that has them, the files grants ships."""
    from grants.plugins import in_scope

    found = registry.get(INSTRUMENTS_KEY) if registry is not None and hasattr(registry, "get") else None
    if not found:
        return sorted(INSTRUMENTS_DIR.glob("*.toml"))
    return sorted((path for origin, path in found if plugins is None or in_scope(origin, plugins)),
                  key=lambda p: p.name)


def other_plugins_codes(registry, plugins) -> set[str]:
    """The codes of the standard instruments that plugins other than ``plugins`` add: a
    plugin's instrument belongs to the programmes that use the plugin.  (Instruments made
    in code for the whole site, grants' own among them, are everyone's.)"""
    from grants.plugins import in_scope

    found = registry.get(INSTRUMENTS_KEY) if registry is not None and hasattr(registry, "get") else None
    return {_instrument_code(str(path)) for origin, path in found or () if not in_scope(origin, plugins)}


@functools.lru_cache(maxsize=None)
def _instrument_code(path: str) -> str:
    # The files are read once at start-up and do not change while the app runs.
    return str(read_instrument_file(path).get("code"))


def load_standard_instruments(dbsession: Session, *, registry=None, plugins=None,
                              now: dt.datetime | None = None) -> list[SurveyInstrument]:
    """Load (or find again) every standard instrument for ``plugins``
    (:func:`standard_instrument_files`)."""
    return [load_instrument_file(dbsession, path, now=now) for path in standard_instrument_files(registry, plugins)]


# -- a round's instruments and waves -------------------------------------------------------------


def round_instruments(dbsession: Session, rnd) -> list[RoundInstrument]:
    """What the round's grantees use, by instrument code."""
    return list(dbsession.scalars(
        select(RoundInstrument).join(SurveyInstrument, RoundInstrument.instrument_id == SurveyInstrument.id)
        .where(RoundInstrument.round_id == rnd.id).order_by(SurveyInstrument.code, SurveyInstrument.version)))


def attachment(dbsession: Session, rnd, instrument) -> RoundInstrument | None:
    return dbsession.scalar(select(RoundInstrument).where(RoundInstrument.round_id == rnd.id,
                                                          RoundInstrument.instrument_id == instrument.id))


def attach_instrument(dbsession: Session, rnd, instrument: SurveyInstrument, waves: Iterable[str],
                      registry=None) -> RoundInstrument:
    """Every grantee of ``rnd`` uses this instrument version in ``waves`` (some of
    :data:`WAVES`).  Attaching it again changes its waves.  One version of a code per
    round: to move to a new version, detach the old one first (its data are kept)."""
    chosen = list(dict.fromkeys(waves or ()))
    problems: list = []
    if not chosen:
        problems.append(("waves", _("Choose at least one wave in which grantees run the survey.")))
    elif any(w not in WAVES for w in chosen):
        problems.append(("waves", _("Choose the waves from the list.")))
    from .instrument_editor import instrument_refusal

    refusal = instrument_refusal(rnd, instrument, registry)  # a draft, another programme's, another plugin's
    if refusal is not None:
        problems.insert(0, ("instrument", refusal))
    existing = attachment(dbsession, rnd, instrument)
    if existing is None:
        other = next((ri for ri in round_instruments(dbsession, rnd)
                      if ri.instrument.code == instrument.code), None)
        if other is not None:
            problems.append(("instrument", _(
                "The round already uses version ${other} of “${title}”. Versions are never compared: detach "
                "version ${other} first if the round's grantees are to use version ${version} from now on.",
                mapping={"other": other.instrument.version, "version": instrument.version,
                         "title": instrument.title})))
    SurveyRefused.refuse_if(problems)
    ordered = [w for w in WAVES if w in chosen]
    if existing is not None:
        existing.waves = ordered
        dbsession.flush()
        return existing
    row = RoundInstrument(round_id=rnd.id, instrument_id=instrument.id, instrument=instrument, waves=ordered)
    dbsession.add(row)
    dbsession.flush()
    return row


def detach_instrument(dbsession: Session, rnd, instrument: SurveyInstrument) -> None:
    """The round no longer uses this version.  Results already uploaded are kept."""
    row = attachment(dbsession, rnd, instrument)
    SurveyRefused.refuse_if([] if row is not None else [
        ("instrument", _("The round does not use this instrument."))])
    dbsession.delete(row)
    dbsession.flush()


# -- uploading aggregated responses ----------------------------------------------------------------


@dataclass
class ParsedRow:
    line: int
    item: str
    dimensions: dict
    counts: list[int]


def csv_template(instrument: SurveyInstrument) -> str:
    """An empty upload for ``instrument``: the header and one total row per item."""
    width = max(item["scale"] for item in instrument.items)
    out = io.StringIO()
    writer = spreadsheet.writer(out)
    writer.writerow(["item", *DIMENSIONS, *(f"count_{n}" for n in range(1, width + 1))])
    for item in instrument.items:
        writer.writerow([item["code"], *("" for _d in DIMENSIONS),
                         *("0" if n <= item["scale"] else "" for n in range(1, width + 1))])
    return out.getvalue()


def _dimension_problem(name: str, value: str, line: int):
    from grants.regions import is_region

    if name == "region":
        if is_region(value.upper()):
            return value.upper(), None
        return None, _("Line ${line}: “${value}” is not a region code; use the ISO 3166-2 code, like TN-73.",
                       mapping={"line": line, "value": value})
    allowed = DIMENSIONS[name]
    if value.lower() in allowed:
        return value.lower(), None
    return None, _("Line ${line}: “${value}” is not a value of ${column}; use one of ${values}.",
                   mapping={"line": line, "value": value, "column": name, "values": ", ".join(allowed)})


def parse_survey_csv(instrument: SurveyInstrument, data: bytes) -> tuple[list[ParsedRow], list]:
    """The rows of an upload, and every problem found (each naming its line)."""
    problems: list = []
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return [], [("file", _("The file is not text in UTF-8: save it from your spreadsheet as “CSV UTF-8”."))]
    lines = text.splitlines()
    first = next((line for line in lines if line.strip()), "")
    if not first:
        return [], [("file", _("The file is empty: it needs a header line and a row for each item."))]
    delimiter = max((",", ";", "\t"), key=first.count)
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    header: list[str] | None = None
    header_line = 0
    for raw in reader:
        if any(cell.strip() for cell in raw):
            header = [cell.strip().lower() for cell in raw]
            header_line = reader.line_num
            break
    assert header is not None
    items = {item["code"]: item for item in instrument.items}
    width = max(item["scale"] for item in instrument.items)
    columns: dict[str, int] = {}
    counts_at: dict[int, int] = {}
    for index, name in enumerate(header):
        match = _COUNT_COLUMN.match(name)
        if name in columns or (match and int(match.group(1)) in counts_at):
            problems.append(("file", _("Line ${line}: the column “${column}” appears twice.",
                                       mapping={"line": header_line, "column": name})))
        elif match:
            counts_at[int(match.group(1))] = index
        elif name == "item" or name in DIMENSIONS:
            columns[name] = index
        else:
            problems.append(("file", _("Line ${line}: “${column}” is not a column of this upload; the columns are "
                                       "item, sex, age_band, region and count_1 to count_${width}.",
                                       mapping={"line": header_line, "column": name, "width": width})))
    if "item" not in columns:
        problems.append(("file", _("Line ${line}: add the column “item”, with each row's item code.",
                                   mapping={"line": header_line})))
    for n in range(1, width + 1):
        if n not in counts_at:
            problems.append(("file", ngettext(
                "Line ${line}: add the column count_${n}: this instrument's items are rated on ${count} point, "
                "so the upload has count_1 to count_${width}.",
                "Line ${line}: add the column count_${n}: this instrument's items are rated on ${count} points, "
                "so the upload has count_1 to count_${width}.", width, {"line": header_line, "n": n, "width": width})))
    for n in sorted(counts_at):
        if not 1 <= n <= width:
            problems.append(("file", ngettext(
                "Line ${line}: remove the column count_${n}: this instrument's items are rated on ${count} point.",
                "Line ${line}: remove the column count_${n}: this instrument's items are rated on ${count} points.",
                width, {"line": header_line, "n": n})))
    if problems:
        return [], problems

    rows: list[ParsedRow] = []
    seen: dict[tuple[str, str], int] = {}
    total_lines: set[str] = set()
    for raw in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in raw):
            continue
        if line > MAX_LINES:
            problems.append(("file", ngettext(
                "The file has more than ${count} line: upload one instrument and one wave per file.",
                "The file has more than ${count} lines: upload one instrument and one wave per file.", MAX_LINES)))
            break
        if len(raw) != len(header):
            header_size = ngettext("${count} column", "${count} columns", len(header))  # a count of its own
            problems.append(("file", ngettext(
                "Line ${line} has ${count} value where the header has ${columns}.",
                "Line ${line} has ${count} values where the header has ${columns}.", len(raw),
                {"line": line, "columns": header_size})))
            continue
        cells = [normalise_digits(cell).strip() for cell in raw]
        code = cells[columns["item"]]
        item = items.get(code)
        if not any(cells[columns[name]] for name in DIMENSIONS if name in columns):
            total_lines.add(code)  # a total row, even if it has a problem of its own
        row_problems: list = []
        if item is None:
            row_problems.append(_("Line ${line}: “${item}” is not an item of this instrument; its items are "
                                  "${items}.", mapping={"line": line, "item": code, "items": ", ".join(items)}))
        dimensions = {}
        for name in DIMENSIONS:
            if name in columns and cells[columns[name]]:
                value, problem = _dimension_problem(name, cells[columns[name]], line)
                if problem is not None:
                    row_problems.append(problem)
                else:
                    dimensions[name] = value
        counts: list[int] = []
        scale = item["scale"] if item is not None else width
        for n in range(1, width + 1):
            cell = cells[counts_at[n]]
            if n > scale:
                if cell not in ("", "0"):
                    row_problems.append(ngettext(
                        "Line ${line}: item “${item}” has ${count} point, so leave count_${n} empty.",
                        "Line ${line}: item “${item}” has ${count} points, so leave count_${n} empty.", scale,
                        {"line": line, "item": code, "n": n}))
                continue
            if not cell:
                row_problems.append(_("Line ${line}: count_${n} is empty; enter 0 when nobody chose that point.",
                                      mapping={"line": line, "n": n}))
                continue
            if not cell.isdigit():
                row_problems.append(_("Line ${line}: count_${n} must be a whole number of responses, 0 or more; "
                                      "found “${value}”.", mapping={"line": line, "n": n, "value": cell}))
                continue
            counts.append(int(cell))
        if not row_problems and sum(counts) == 0:
            row_problems.append(_("Line ${line}: every count is 0; leave out rows nobody answered.",
                                  mapping={"line": line}))
        key = (code, cell_key(dimensions))
        if not row_problems and key in seen:
            row_problems.append(_("Line ${line} repeats line ${first}: one row per item and cell.",
                                  mapping={"line": line, "first": seen[key]}))
        if row_problems:
            problems.extend(("file", p) for p in row_problems)
            continue
        seen[key] = line
        rows.append(ParsedRow(line=line, item=code, dimensions=dimensions, counts=counts))

    if not rows and not problems:
        problems.append(("file", _("The file has a header but no rows: add a row for each item.")))
    totals = {row.item: sum(row.counts) for row in rows if not row.dimensions}
    if rows or not problems:
        for code in items:
            if code not in total_lines:
                problems.append(("file", _("Item “${item}” has no total row: add a row with the item code, no sex, "
                                           "age band or region, and its counts.", mapping={"item": code})))
    # A breakdown by one dimension cannot count more respondents than the total.
    for code, total in totals.items():
        for name in DIMENSIONS:
            part = sum(sum(r.counts) for r in rows if r.item == code and list(r.dimensions) == [name])
            if part > total:
                problems.append(("file", ngettext(
                    "Item “${item}”: the rows by ${column} count ${count} response, more than the ${total} of its "
                    "total row.",
                    "Item “${item}”: the rows by ${column} count ${count} responses, more than the ${total} of its "
                    "total row.", part, {"item": code, "column": name, "total": count_figure(total)})))
    return rows, problems


def _capped(problems: list) -> list:
    if len(problems) <= MAX_PROBLEMS:
        return problems
    rest = len(problems) - MAX_PROBLEMS
    return problems[:MAX_PROBLEMS] + [("file", ngettext("…and ${count} more problem.", "…and ${count} more problems.", rest))]




def upload_of(dbsession: Session, award, instrument, wave: str) -> SurveyUpload | None:
    return dbsession.scalar(select(SurveyUpload).where(
        SurveyUpload.award_id == award.id, SurveyUpload.instrument_id == instrument.id, SurveyUpload.wave == wave))


def uploads_of(dbsession: Session, award) -> list[SurveyUpload]:
    return list(dbsession.scalars(select(SurveyUpload).where(SurveyUpload.award_id == award.id)
                                  .order_by(SurveyUpload.id)))


def upload_survey_results(dbsession: Session, registry, award, instrument: SurveyInstrument, wave: str,
                          csv_bytes: bytes, *, filename: str, user=None, now: dt.datetime | None = None
                          ) -> SurveyUpload:
    """Store one grantee's aggregated responses to ``instrument`` in ``wave`` (a CSV, see
    the module's docstring), replacing any earlier upload of the same award, instrument
    and wave.  Everything is checked first against the instrument version and the round
    (attached, wave among its waves); on any problem nothing is stored and every problem
    is listed, each naming its line.  The file is kept (``grants.files``)."""
    from grants.files import FileRefused, store
    from grants.files.storage import check_upload, clean_filename

    attached = attachment(dbsession, award.round, instrument)
    if attached is None:
        raise SurveyRefused([("instrument", _(
            "The round does not use “${title}” version ${version}: upload results only for the instruments listed.",
            mapping={"title": instrument.title, "version": instrument.version}))])
    if wave not in attached.waves:
        raise SurveyRefused([("wave", _("The round does not run “${title}” in this wave.",
                                        mapping={"title": instrument.title}))])
    settings = settings_of(registry)
    filename = clean_filename(filename or "survey.csv")
    try:  # size, emptiness and kind first: a 10 MB program is not parsed line by line
        check_upload(filename, csv_bytes or b"", settings)
    except FileRefused as refused:
        raise SurveyRefused([("file", reason) for _f, reason in refused.problems]) from None
    rows, problems = parse_survey_csv(instrument, csv_bytes)
    SurveyRefused.refuse_if(_capped(problems))
    stored = store(dbsession, settings, filename=filename, data=csv_bytes, uploaded_by=user)
    previous = upload_of(dbsession, award, instrument, wave)
    if previous is not None:
        dbsession.delete(previous)
        dbsession.flush()
    upload = SurveyUpload(award_id=award.id, instrument_id=instrument.id, instrument=instrument, wave=wave,
                          file_id=stored.id, uploaded_by_id=getattr(user, "id", None),
                          respondents=max(sum(r.counts) for r in rows if not r.dimensions))
    if now is not None:
        upload.uploaded_at = now
    for row in rows:
        upload.results.append(SurveyResult(item=row.item, dimensions=row.dimensions, cell=cell_key(row.dimensions),
                                           counts=row.counts, respondents=sum(row.counts),
                                           mean=scale_mean(row.counts)))
    dbsession.add(upload)
    dbsession.flush()
    return upload


# -- roll-ups -----------------------------------------------------------------------------------------


@dataclass
class ItemResult:
    """One item's total in one wave."""

    item: str
    text: str
    scale: int
    counts: list[int]
    respondents: int
    mean: Decimal
    agree_share: Decimal
    cells: list[SurveyResult] = field(default_factory=list)  # the disaggregated rows


@dataclass
class WaveResult:
    wave: str
    upload: SurveyUpload
    items: list[ItemResult]

    def item(self, code: str) -> ItemResult | None:
        return next((i for i in self.items if i.item == code), None)


@dataclass
class VersionResults:
    """Everything one award uploaded for one instrument version.  Never merged with
    another version's."""

    instrument: SurveyInstrument
    waves: list[WaveResult]

    @property
    def code(self) -> str:
        return self.instrument.code

    @property
    def version(self) -> int:
        return self.instrument.version

    def wave(self, wave: str) -> WaveResult | None:
        return next((w for w in self.waves if w.wave == wave), None)


def _item_results(instrument: SurveyInstrument, results: list[SurveyResult], locale=None) -> list[ItemResult]:
    out = []
    for item in instrument.items:
        rows = [r for r in results if r.item == item["code"]]
        total = next((r for r in rows if not r.cell), None)
        if total is None:
            continue
        out.append(ItemResult(item=item["code"], text=item_text(item, locale), scale=item["scale"],
                              counts=list(total.counts), respondents=total.respondents, mean=total.mean,
                              agree_share=agree_share(total.counts), cells=[r for r in rows if r.cell]))
    return out


def award_results(dbsession: Session, award, *, locale: str | None = None) -> list[VersionResults]:
    """The award's uploaded results, one entry per instrument version (by code, then
    version), each with its waves in order and, per item, the respondents, the mean and
    the share agreeing.  Evidence and other qualitative material never enter these."""
    by_instrument: dict[int, list[SurveyUpload]] = {}
    for upload in uploads_of(dbsession, award):
        by_instrument.setdefault(upload.instrument_id, []).append(upload)
    out = []
    for uploads in by_instrument.values():
        instrument = uploads[0].instrument
        waves = sorted(uploads, key=lambda u: WAVES.index(u.wave))
        out.append(VersionResults(instrument=instrument, waves=[
            WaveResult(wave=u.wave, upload=u, items=_item_results(instrument, u.results, locale)) for u in waves]))
    return sorted(out, key=lambda v: (v.code, v.version))


@dataclass
class ItemComparison:
    item: str
    text: str
    a: ItemResult
    b: ItemResult

    @property
    def mean_change(self) -> Decimal:
        return self.b.mean - self.a.mean

    @property
    def agree_change(self) -> Decimal:
        return self.b.agree_share - self.a.agree_share


@dataclass
class WaveComparison:
    instrument: SurveyInstrument
    wave_a: str
    wave_b: str
    items: list[ItemComparison]


def compare_waves(dbsession: Session, award, code: str, version: int, wave_a: str, wave_b: str, *,
                  locale: str | None = None) -> WaveComparison:
    """Item by item, how the award's results for instrument ``code`` version ``version``
    changed from ``wave_a`` to ``wave_b``.  Refused when the two waves' data come from
    different versions, or when either wave has no data of this version."""
    problems: list = []
    for name, wave in (("wave_a", wave_a), ("wave_b", wave_b)):
        if wave not in WAVES:
            problems.append((name, _("Choose the waves from the list.")))
    SurveyRefused.refuse_if(problems)
    uploads = [u for u in uploads_of(dbsession, award) if u.instrument.code == code]
    found = {}
    for name, wave in (("wave_a", wave_a), ("wave_b", wave_b)):
        same = next((u for u in uploads if u.wave == wave and u.instrument.version == version), None)
        if same is not None:
            found[wave] = same
            continue
        others = sorted({u.instrument.version for u in uploads if u.wave == wave})
        if others:
            problems.append((name, _(
                "The ${wave} data come from version ${found}, not version ${version}: results of different versions "
                "of an instrument are never compared.",
                mapping={"wave": WAVE_TITLES[wave], "found": ", ".join(map(str, others)), "version": version})))
        else:
            problems.append((name, _("There are no ${wave} data for this instrument yet.",
                                     mapping={"wave": WAVE_TITLES[wave]})))
    SurveyRefused.refuse_if(problems)
    instrument = found[wave_a].instrument
    a = {i.item: i for i in _item_results(instrument, found[wave_a].results, locale)}
    b = {i.item: i for i in _item_results(instrument, found[wave_b].results, locale)}
    return WaveComparison(instrument=instrument, wave_a=wave_a, wave_b=wave_b, items=[
        ItemComparison(item=code_, text=a[code_].text, a=a[code_], b=b[code_]) for code_ in a if code_ in b])


def rollup_to_indicators(dbsession: Session, award, report, *, wave: str | None = None) -> list[IndicatorValue]:
    """Give ``report`` the values of the award's survey-linked indicators (those with
    ``instrument_code`` and ``instrument_item``), from the version of that instrument
    the round uses now — never from another version.  A percentage indicator gets the
    share agreeing × 100, any other the mean; the total, and each uploaded cell whose
    dimensions the indicator is disaggregated by.  The data are those of ``wave``, or by
    default of the latest wave with data.  Earlier survey values of these indicators in
    this report are replaced, and so is a value typed for a cell the survey data cover;
    indicators without data get none (and keep any value typed)."""
    problems = []
    if report.award_id != award.id:
        problems.append(("report", _("The report belongs to another award.")))
    if means(report, "accepted"):
        problems.append(("report", _("The report is accepted: its values can no longer change.")))
    if wave is not None and wave not in WAVES:
        problems.append(("wave", _("Choose the waves from the list.")))
    SurveyRefused.refuse_if(problems)
    indicators = list(dbsession.scalars(select(Indicator).where(
        Indicator.award_id == award.id, Indicator.instrument_code.is_not(None),
        Indicator.instrument_item.is_not(None)).order_by(Indicator.id)))
    attached = {ri.instrument.code: ri.instrument for ri in round_instruments(dbsession, award.round)}
    uploads = uploads_of(dbsession, award)
    written: list[IndicatorValue] = []
    for indicator in indicators:
        for old in [v for v in report.values if v.indicator_id == indicator.id
                    and (v.source == "survey" or v.instrument_id is not None)]:
            report.values.remove(old)
        dbsession.flush()
        instrument = attached.get(indicator.instrument_code)
        if instrument is None:
            continue
        candidates = [u for u in uploads if u.instrument_id == instrument.id and (wave is None or u.wave == wave)]
        if not candidates:
            continue
        upload = max(candidates, key=lambda u: WAVES.index(u.wave))
        allowed = set(indicator.disaggregation or ())
        results = [r for r in upload.results
                   if r.item == indicator.instrument_item and set(r.dimensions) <= allowed]
        cells = {r.cell for r in results}
        for old in [v for v in report.values if v.indicator_id == indicator.id and v.cell in cells]:
            report.values.remove(old)  # the survey's figure replaces one typed for the same cell
        dbsession.flush()
        for result in results:
            value = agree_percent(result.counts) if indicator.measure == "percentage" else result.mean
            row = IndicatorValue(indicator_id=indicator.id, dimensions=dict(result.dimensions), cell=result.cell,
                                 value=value, source="survey", instrument_id=instrument.id)
            report.values.append(row)
            written.append(row)
    dbsession.flush()
    return written


def round_survey_summary(dbsession: Session, rnd, *, locale: str | None = None) -> list[dict]:
    """The round's survey results, every grantee's counts summed (so each respondent
    weighs the same): one entry per instrument version, wave and item, never merging
    versions.  Keys: code, version, title, item, item_text, wave, respondents (int),
    mean (Decimal, 2 places), agree_share (Decimal 0–1, 4 places), grantees (how many
    awards contributed).  Only the totals of each upload are summed."""
    from grants.awards.models import Award

    rows = dbsession.execute(
        select(SurveyUpload, SurveyResult).join(SurveyResult, SurveyResult.upload_id == SurveyUpload.id)
        .join(Award, Award.id == SurveyUpload.award_id)
        .where(Award.round_id == rnd.id, SurveyResult.cell == "")).all()
    sums: dict[tuple[int, str, str], list[int]] = {}
    grantees: dict[tuple[int, str, str], set[int]] = {}
    instruments: dict[int, SurveyInstrument] = {}
    for upload, result in rows:
        key = (upload.instrument_id, upload.wave, result.item)
        instruments[upload.instrument_id] = upload.instrument
        total = sums.setdefault(key, [0] * len(result.counts))
        for index, n in enumerate(result.counts):
            total[index] += n
        grantees.setdefault(key, set()).add(upload.award_id)
    out = []
    for instrument in sorted(instruments.values(), key=lambda i: (i.code, i.version)):
        for wave in WAVES:
            for item in instrument.items:
                counts = sums.get((instrument.id, wave, item["code"]))
                if not counts or not sum(counts):
                    continue
                out.append({"code": instrument.code, "version": instrument.version, "title": instrument.title,
                            "item": item["code"], "item_text": item_text(item, locale), "wave": wave,
                            "respondents": sum(counts), "mean": scale_mean(counts),
                            "agree_share": agree_share(counts),
                            "grantees": len(grantees[(instrument.id, wave, item["code"])])})
    return out
