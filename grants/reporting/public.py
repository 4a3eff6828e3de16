"""A round's public report: what the round did with its money, in aggregates only.

``public_report(dbsession, registry, rnd)`` gathers plain objects, untranslated (the page
translates): the funnel (applied, eligible, incubated, funded) overall and by region; the
money by funder, with the match between funders; what was awarded and disbursed per
currency (over every grant); indicator results against their
baselines and targets (accepted reports only, never evidence); the round's surveys; and
the evaluation's findings, shortcomings and lessons.  The funded organisations and their
amounts are a list of their own, a page at a time (:func:`grants_page`): the report
holds only their totals.

What it never holds: a person's name or e-mail, contact details, a report that was not
accepted, a story or testimonial (``Evidence`` is triangulation, never an aggregate).

Small cells: every count above 0 and below ``rnd.small_cell_threshold`` is a
:class:`Cell` with ``suppressed=True`` and no value ("fewer than N" on the page, left out
of charts).  When exactly one cell of a breakdown is suppressed and its total is shown,
the next-smallest cell is suppressed too, so that the hidden one cannot be worked out by
subtraction.

A funder in ``rnd.hidden_funder_ids`` keeps its money on the page but loses its name:
its :class:`FunderLine` has ``name=None``.  Being seen to take a particular donor's money
can change how a community sees a prevention programme, so a round may leave a funder
unnamed in public.  :func:`withheld_funder_ids` says which names each public place leaves
out: a round's pages and the exports follow the round's choice, and the programme's page,
which covers every round, leaves out a funder that any of its rounds hides.

Services::

    set_report_options(db, rnd, small_cell_threshold=10, hidden_funder_ids=[google.id])
    publish_report(db, rnd, user=officer)      # anyone may read it from now on
    unpublish_report(db, rnd, user=officer)    # back to officers only
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Iterable, Sequence

from sqlalchemy import and_, case, distinct, func, or_, select
from sqlalchemy.orm import Session

from grants.audit.services import record_change
from grants.i18n import _
from grants.lifecycle.meanings import history_reached, state_means
from grants.money import Money, MoneyBag
from grants.workflow import ProblemsRefused

#: The funnel's stages, in order, and what the application state whose reaching each
#: counts means (grants.lifecycle.meanings; "funded" counts awards).
STAGES = ("applied", "eligible", "incubated", "funded")
STAGE_MEANINGS = {"applied": "submitted", "eligible": "eligible", "incubated": "incubation"}
#: The key of organisations that gave no region, in the funnel by region.
NO_REGION = ""
#: What a public report may set its threshold to: 1 would hide nothing.
MIN_THRESHOLD, MAX_THRESHOLD = 2, 100
#: Indicators measured in these are added up across grantees; the others are averaged
#: (a sum of percentages or of ordinal scores means nothing).
SUMMED_MEASURES = ("unit",)


class ReportRefused(ProblemsRefused):
    """Nothing was changed.  ``problems`` is a list of (field name or None, reason)."""


# -- cells and their suppression ------------------------------------------------------------------


SMALL, SECONDARY = "small", "secondary"


@dataclass(frozen=True)
class Cell:
    """One figure of the report: its value, or None when it is suppressed — because it
    is small (``why == SMALL``: "fewer than N") or because it would give a small one away
    (``why == SECONDARY``: "not shown")."""

    value: int | Decimal | None
    suppressed: bool = False
    why: str = ""

    @property
    def shown(self) -> bool:
        return not self.suppressed


def is_small(value, threshold: int) -> bool:
    return value is not None and 0 < value < threshold


def suppress(values: Sequence[int], threshold: int, *, total_shown: bool = True) -> list[Cell]:
    """The cells of one breakdown (regions of one stage, say), small ones suppressed.

    Primary: every value above 0 and below ``threshold``.  Secondary: when exactly one is
    suppressed and the breakdown's total is shown, the smallest other non-zero value too
    (a zero only when no other value is left), so the first cannot be found by subtracting
    the others from the total."""
    small = [is_small(v, threshold) for v in values]
    secondary = [False] * len(values)
    if total_shown and sum(small) == 1:
        others = [i for i, h in enumerate(small) if not h]
        candidates = [i for i in others if values[i] > 0] or others
        if candidates:
            secondary[min(candidates, key=lambda i: (values[i], i))] = True
    return [Cell(None, True, SMALL) if s else Cell(None, True, SECONDARY) if o else Cell(v)
            for v, s, o in zip(values, small, secondary)]


def single(value, threshold: int) -> Cell:
    """A figure on its own (no breakdown to subtract from)."""
    return Cell(None, True, SMALL) if is_small(value, threshold) else Cell(value)


# -- what the report holds ----------------------------------------------------------------------------


@dataclass
class RegionRow:
    region: str  # ISO 3166-2 code, or NO_REGION
    cells: dict[str, Cell]  # stage → cell


@dataclass
class FunderLine:
    """One contribution to the round (or to the whole programme)."""

    name: str | None  # None: hidden on public pages ("Another funder")
    role: str  # lead or co_funder
    amount: Money | None
    scope: str  # "round" or "programme"
    matches: str | None = None  # the name of the funder this money matches
    matches_hidden: bool = False  # it matches a funder whose name is hidden

    @property
    def hidden(self) -> bool:
        return self.name is None

    @property
    def is_match(self) -> bool:
        return self.matches is not None or self.matches_hidden


@dataclass
class GrantLine:
    """A funded organisation and its grant (organisations, never people)."""

    organisation: str
    title: str
    amount: Money
    disbursed: Money
    state: str  # the award's state id
    state_title: str  # its public title (a msgid: the page translates it)
    regions: list[str]
    # The award's workflow, so that the page colours the state as every state badge is
    # coloured (grants.lifecycle.meanings.state_tone).
    workflow_id: str = ""
    workflow_version: int = 0


@dataclass
class IndicatorLine:
    """A quantitative indicator across the round's grantees, grouped by its library code
    (or its own code): baselines, final targets and the latest accepted results."""

    key: str
    title: str
    level: str
    measure: str
    unit: str
    aggregate: str  # "sum" or "mean"
    grantees: int  # how many awards carry it
    baseline: Cell
    baseline_count: int  # how many baselines went into it
    baseline_missing: int  # how many have a recorded reason instead of a baseline
    target: Cell
    target_count: int
    result: Cell
    result_count: int  # how many grantees have an accepted value


@dataclass
class SurveyLine:
    """One item of one instrument version in one wave, across the round (never merged
    across versions)."""

    code: str
    version: int
    title: str
    item: str
    item_text: str
    wave: str
    respondents: Cell
    mean: Decimal | None  # None when respondents are suppressed
    agree_share: Decimal | None  # 0–1


@dataclass
class EvaluationText:
    findings: str
    shortcomings: str
    lessons: str


@dataclass
class PublicReport:
    round_id: int
    round_title: str
    programme_title: str
    published_at: dt.datetime | None
    threshold: int
    funnel: dict[str, Cell]  # stage → cell
    by_region: list[RegionRow]
    regions_known: bool  # organisations carry regions at all
    funders: list[FunderLine]
    committed: MoneyBag  # every contribution listed above
    matching: MoneyBag  # the part of it that matches another funder's money
    awarded: MoneyBag  # every grant of the round, whatever page of them is shown
    disbursed: MoneyBag
    indicators: list[IndicatorLine]
    surveys: list[SurveyLine]
    evaluation: EvaluationText | None
    stages: tuple[str, ...] = STAGES
    notes: list = field(default_factory=list)
    #: The sections the programme's plugins add (:func:`add_report_section`), with their tables.
    sections: list["SectionContent"] = field(default_factory=list)

    @property
    def any_suppressed(self) -> bool:
        cells = list(self.funnel.values()) + [c for row in self.by_region for c in row.cells.values()]
        cells += [c for line in self.indicators for c in (line.baseline, line.target, line.result)]
        cells += [s.respondents for s in self.surveys]
        return any(c.suppressed for c in cells)


# -- gathering --------------------------------------------------------------------------------------


def public_report(dbsession: Session, registry, rnd, *, locale: str | None = None) -> PublicReport:
    """The round's report; ``locale`` only picks which language survey items are read in
    (instruments carry their own translations)."""
    threshold = rnd.small_cell_threshold or 5
    funnel_counts = _funnel_counts(dbsession, registry, rnd)
    funnel = {stage: single(funnel_counts[stage], threshold) for stage in STAGES}
    by_region, regions_known = _funnel_by_region(dbsession, rnd, funnel, threshold)
    funders, committed, matching = _funders(rnd)
    awarded, disbursed = _grant_totals(dbsession, rnd)
    evaluation = _evaluation(dbsession, rnd)
    report = PublicReport(
        round_id=rnd.id, round_title=rnd.title, programme_title=rnd.programme.title,
        published_at=rnd.report_published_at, threshold=threshold,
        funnel=funnel, by_region=by_region, regions_known=regions_known,
        funders=funders, committed=committed, matching=matching,
        awarded=awarded, disbursed=disbursed,
        indicators=_indicators(dbsession, rnd, threshold),
        surveys=_surveys(dbsession, rnd, threshold, locale),
        evaluation=evaluation,
    )
    report.sections = [SectionContent(section, section.rows(dbsession, rnd, report) if section.rows else None)
                       for section in report_sections(registry, rnd.programme)]
    return report


# -- sections that plugins add --------------------------------------------------------------------------


@dataclass(frozen=True)
class SectionTable:
    """What a section's ``rows`` function returns: column headings, then rows whose first
    value labels the row.  Values are :class:`Cell` (suppressed where small: use
    :func:`suppress` or :func:`single` with ``report.threshold``), Money, numbers or text;
    headings and labels may be TranslationStrings."""

    columns: Sequence
    rows: Sequence[Sequence]
    caption: object = None


@dataclass(frozen=True)
class ReportSection:
    """A section a plugin adds to its programmes' public round reports: a title and
    ``rows(dbsession, rnd, report) -> SectionTable`` (drawn as a table), a page template
    (an asset spec, rendered with the report page's values and ``section``, the
    :class:`SectionContent`), or both (the template draws ``section.table`` itself)."""

    name: str
    title: object
    origin: str
    rows: object = None
    template: str | None = None


@dataclass(frozen=True)
class SectionContent:
    section: ReportSection
    table: SectionTable | None


SECTIONS_KEY = "grants.report_sections"


def add_report_section(config, name: str, title, rows=None, template: str | None = None) -> None:
    """The directive ``config.add_report_section``: a section of the public round report,
    shown after the surveys on the reports of programmes that use the plugin (every
    programme's, for grants' own): ``rows``, ``template`` or both (see
    :class:`ReportSection`).  Remember that the report is public: aggregates only, small
    counts suppressed."""
    from grants.plugins import PluginError, current_plugin, register_change

    if rows is None and template is None:
        raise PluginError(f"report section {name!r}: give rows=, template= or both")
    if not name or not name.replace("_", "").replace("-", "").isalnum():
        raise PluginError(f"report section {name!r}: name it with letters, digits, “_” or “-”")
    section = ReportSection(name, title, current_plugin(config), rows,
                            config.absolute_asset_spec(template) if template else None)
    register_change(config, ("grants:report-section", name), f"add report section {name!r}",
                    lambda: config.registry.setdefault(SECTIONS_KEY, []).append(section))


def report_sections(registry, programme) -> list[ReportSection]:
    """The sections added to the reports of ``programme``, in the order they were added."""
    from grants.plugins import in_scope

    registry = getattr(registry, "app_registry", None) or registry
    found = registry.get(SECTIONS_KEY) if registry is not None and hasattr(registry, "get") else None
    plugins = getattr(programme, "plugins", None) or ()
    return [s for s in found or () if in_scope(s.origin, plugins)]


def _award_query(rnd):
    from grants.awards.models import Award

    return select(Award).where(Award.round_id == rnd.id).order_by(Award.id)


def _funnel_counts(dbsession, registry, rnd) -> dict[str, int]:
    """Applications that ever reached each stage (from the history), and the awards made:
    one aggregate over the round's history rows for every stage at once, so the cost is
    that of an index range however many stages or applications there are."""
    from grants.awards.models import Award

    counts = dict(zip(STAGE_MEANINGS, dbsession.execute(
        select(*[func.count(distinct(case((_reached(stage), _history().object_id))))
                 for stage in STAGE_MEANINGS])
        .select_from(_round_history(rnd))).one()))
    counts["funded"] = dbsession.scalar(select(func.count(Award.id)).where(Award.round_id == rnd.id)) or 0
    return counts


def _history():
    from grants.lifecycle.models import HistoryEntry

    return HistoryEntry


def _reached(stage):
    return history_reached("application", STAGE_MEANINGS[stage])


def _round_history(rnd):
    """The round's applications joined to their history rows."""
    from grants.applications.models import Application

    history = _history()
    return history.__table__.join(Application.__table__, and_(
        history.object_type == Application.__tablename__, history.object_id == Application.id,
        Application.round_id == rnd.id))


def _funnel_by_region(dbsession, rnd, funnel: dict[str, Cell], threshold: int):
    """One row per region an applicant organisation works in (an organisation in two
    regions counts in both), and one for those that gave none; each stage's column is a
    breakdown whose total is the overall funnel's figure.  One aggregate: the round's
    applications, their regions (none: the row without a region), their history rows
    and their award, grouped by region, each stage a conditional distinct count."""
    from grants.accounts.models import Organisation, OrganisationRegion
    from grants.applications.models import Application
    from grants.awards.models import Award

    if not hasattr(Organisation, "regions"):
        return [], False
    history = _history()
    columns = [func.count(distinct(case((_reached(stage), Application.id)))) for stage in STAGE_MEANINGS]
    columns.append(func.count(distinct(case((Award.id.is_not(None), Application.id)))))
    found = dbsession.execute(
        select(OrganisationRegion.region_code, *columns)
        .select_from(Application)
        .outerjoin(OrganisationRegion, OrganisationRegion.organisation_id == Application.organisation_id)
        .outerjoin(history, and_(history.object_type == Application.__tablename__,
                                 history.object_id == Application.id))
        .outerjoin(Award, and_(Award.application_id == Application.id, Award.round_id == rnd.id))
        .where(Application.round_id == rnd.id)
        .group_by(OrganisationRegion.region_code)).all()
    raw: dict[str, dict[str, int]] = {}
    for code, *numbers in found:
        for stage, n in zip(list(STAGE_MEANINGS) + ["funded"], numbers):
            if n:
                raw.setdefault(code or NO_REGION, {})[stage] = n
    keys = sorted(k for k in raw if k != NO_REGION) + ([NO_REGION] if NO_REGION in raw else [])
    rows = [RegionRow(k, {}) for k in keys]
    for stage in STAGES:
        column = suppress([raw[k].get(stage, 0) for k in keys], threshold, total_shown=funnel[stage].shown)
        for row, cell in zip(rows, column):
            row.cells[stage] = cell
    return rows, True


def _funders(rnd):
    """Lead and co-funders' contributions to this round, then to the whole programme."""
    from grants.programmes.models import CO_FUNDER, LEAD

    hidden = withheld_funder_ids(rnd)
    mine = [c for c in rnd.programme.contributions
            if c.role in (LEAD, CO_FUNDER) and c.round_id in (rnd.id, None)]
    order = {LEAD: 0, CO_FUNDER: 1}
    mine.sort(key=lambda c: (c.round_id is None, order[c.role], c.id))
    lines = []
    for c in mine:
        matched = c.matches
        lines.append(FunderLine(
            name=None if c.funder_id in hidden else c.funder.name, role=c.role, amount=c.contribution,
            scope="programme" if c.round_id is None else "round",
            matches=None if matched is None or matched.id in hidden else matched.name,
            matches_hidden=matched is not None and matched.id in hidden))
    with_money = [c.contribution for c in mine if c.contribution is not None]
    matching = [c.contribution for c in mine if c.contribution is not None and c.matches_funder_id is not None]
    return lines, MoneyBag(with_money), MoneyBag(matching)


def _grant_totals(dbsession, rnd) -> tuple[MoneyBag, MoneyBag]:
    """What the round's grants award and what has been paid, per currency: sums over every
    grant, whatever page of the list is shown (:func:`grants_page`)."""
    from grants.awards.services import award_totals, awards_query

    return award_totals(dbsession, awards_query(rnd))


def _grant_sorts():
    """The orders the public list of grants offers: key -> (columns, title), the award's
    id last so that a page never repeats or skips a grant whatever ties the sort key has."""
    from grants.accounts.models import Organisation
    from grants.awards.models import Award

    return {
        "organisation": ([func.lower(Organisation.legal_name), Award.title, Award.id], _("Organisation")),
        "-amount": ([Award.amount_minor.desc(), Award.id], _("Amount, largest first")),
        "-made": ([Award.id.desc()], _("Newest first")),
    }


def grants_page(request, rnd):
    """A page of the round's grants (:class:`GrantLine`), filtered by the grantee's region
    and by text in the grantee's names or the award's title, as ``request``'s query string
    asks (``grants.listing``: a 400 for anything the list does not offer).  Read from the
    database for each request, a page's worth of rows whatever the size of the round."""
    from sqlalchemy.orm import contains_eager

    from grants import listing
    from grants.accounts.models import Organisation
    from grants.applications.models import Application
    from grants.awards.models import Award
    from grants.awards.services import award_rows, awards_query
    from grants.lifecycle.services import workflows_of

    sorts = _grant_sorts()
    params = listing.read(request, sorts, regions_filter=True, default_sort="organisation")
    query = (listing.grant_filters(awards_query(rnd), params, Award.state)
             .options(contains_eager(Award.application).contains_eager(Application.organisation)
                      .selectinload(Organisation.region_links)))
    page = listing.page(request, query, params, sorts[params.sort][0], request.resource_url(rnd, "public-report"),
                        sorts={k: title for k, (_cols, title) in sorts.items()}, regions=True,
                        text_label=_("Search organisations and projects"))
    workflows = workflows_of(request.registry)
    lines = []
    for row in award_rows(request.dbsession, page.rows):
        award, org = row.award, row.award.application.organisation
        lines.append(GrantLine(
            organisation=org.legal_name, title=award.title, amount=award.amount, disbursed=row.disbursed,
            state=award.state, state_title=workflows.for_object(award).state_of(award).public_title,
            regions=sorted(org.regions or ()), workflow_id=award.workflow_id, workflow_version=award.workflow_version))
    page.rows = lines
    return page


def _mean(values: list[Decimal]) -> Decimal:
    return (sum(values, Decimal(0)) / len(values)).quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN).normalize()


def _tidy(value: Decimal) -> Decimal:
    """A sum without trailing zeros ("12.50" + "7.50" = 20, not 20.00)."""
    return value.normalize() if value == value.to_integral_value() else value


def _figure(values: list[Decimal], aggregate: str, threshold: int) -> Cell:
    if not values:
        return Cell(None)
    if aggregate == "sum":
        total = _tidy(sum(values, Decimal(0)))
        return single(total, threshold)  # a sum of units is a count: small ones are suppressed
    return Cell(_mean(values))


def _indicators(dbsession, rnd, threshold: int) -> list[IndicatorLine]:
    from grants.awards.models import Award
    from grants.mel.models import Indicator, IndicatorTarget, IndicatorValue, LibraryIndicator, Report

    indicators = list(dbsession.scalars(
        select(Indicator).join(Award, Award.id == Indicator.award_id)
        .where(Award.round_id == rnd.id, Indicator.measure != "qualitative")
        .order_by(Indicator.award_id, Indicator.code)))
    if not indicators:
        return []
    ids = [i.id for i in indicators]
    # The final target: the one set for the latest reporting period.
    targets: dict[int, Decimal] = {}
    for target, _end, _number in dbsession.execute(
            select(IndicatorTarget, Report.period_end, Report.number)
            .join(Report, Report.id == IndicatorTarget.report_id)
            .where(IndicatorTarget.indicator_id.in_(ids))
            .order_by(Report.period_end, Report.number)):
        targets[target.indicator_id] = target.value
    # The result: the total of the latest ACCEPTED report (never a report still open).
    results: dict[int, Decimal] = {}
    for value, _end, _number in dbsession.execute(
            select(IndicatorValue, Report.period_end, Report.number)
            .join(Report, Report.id == IndicatorValue.report_id)
            .where(IndicatorValue.indicator_id.in_(ids), IndicatorValue.cell == "",
                   IndicatorValue.value.is_not(None), state_means(Report, "accepted"))
            .order_by(Report.period_end, Report.number)):
        results[value.indicator_id] = value.value
    groups: dict[str, list] = {}
    for indicator in indicators:
        groups.setdefault(indicator.library_code or indicator.code, []).append(indicator)
    library_titles = dict(dbsession.execute(
        select(LibraryIndicator.code, LibraryIndicator.title)
        .where(LibraryIndicator.code.in_([k for k in groups]))).all())
    lines = []
    for key, members in groups.items():
        first = members[0]
        aggregate = "sum" if first.measure in SUMMED_MEASURES else "mean"
        baselines = [i.baseline_value for i in members if i.baseline_value is not None]
        final_targets = [targets[i.id] for i in members if i.id in targets]
        latest = [results[i.id] for i in members if i.id in results]
        lines.append(IndicatorLine(
            key=key, title=library_titles.get(first.library_code) or first.title, level=first.level,
            measure=first.measure, unit=first.unit or "", aggregate=aggregate,
            grantees=len({i.award_id for i in members}),
            baseline=_figure(baselines, aggregate, threshold), baseline_count=len(baselines),
            baseline_missing=sum(1 for i in members if i.baseline_value is None and i.baseline_missing_reason),
            target=_figure(final_targets, aggregate, threshold), target_count=len(final_targets),
            result=_figure(latest, aggregate, threshold), result_count=len(latest)))
    return lines


def _surveys(dbsession, rnd, threshold: int, locale: str | None = None) -> list[SurveyLine]:
    try:
        from grants.mel.surveys import round_survey_summary
    except ImportError:  # the survey work is not there yet
        return []
    lines = []
    for row in round_survey_summary(dbsession, rnd, locale=locale) or ():
        respondents = int(row.get("respondents") or 0)
        cell = single(respondents, threshold)
        lines.append(SurveyLine(
            code=row.get("code", ""), version=row.get("version"), title=row.get("title", ""),
            item=row.get("item", ""), item_text=row.get("item_text", ""), wave=row.get("wave", ""),
            respondents=cell,
            mean=None if cell.suppressed else row.get("mean"),
            agree_share=None if cell.suppressed else row.get("agree_share")))
    return lines


def _evaluation(dbsession, rnd) -> EvaluationText | None:
    from grants.evaluation.models import RoundEvaluation

    found = dbsession.scalar(select(RoundEvaluation).where(RoundEvaluation.round_id == rnd.id))
    if found is None or not any((text or "").strip() for text in (found.findings, found.shortcomings, found.lessons)):
        return None
    return EvaluationText(findings=found.findings or "", shortcomings=found.shortcomings or "",
                          lessons=found.lessons or "")


# -- services ---------------------------------------------------------------------------------------


def _now(now: dt.datetime | None) -> dt.datetime:
    return now or dt.datetime.now(dt.timezone.utc)


def publish_report(dbsession: Session, rnd, *, user=None, now: dt.datetime | None = None):
    """Anyone may read the round's public report from ``now`` on.  Publishing a report
    already published keeps its first date.  In the round's audit ("public_report")."""
    if rnd.report_published_at is None:
        rnd.report_published_at = _now(now)
        record_change(dbsession, rnd, "public_report", False, True, user=user, now=now)
        dbsession.flush()
    return rnd


def unpublish_report(dbsession: Session, rnd, *, user=None, now: dt.datetime | None = None):
    """Back to a preview only the round's officers see.  In the round's audit."""
    if rnd.report_published_at is not None:
        record_change(dbsession, rnd, "public_report", True, False, user=user, now=now)
    rnd.report_published_at = None
    dbsession.flush()
    return rnd


def programme_funders(rnd) -> list:
    """The funders who may be hidden on this round's public pages: every funder with a
    part in the round or in the whole programme, in order of their first contribution."""
    seen = {}
    for c in rnd.programme.contributions:
        if c.round_id in (rnd.id, None):
            seen.setdefault(c.funder_id, c.funder)
    return list(seen.values())


def withheld_funder_ids(obj) -> set[int]:
    """The funders whose names public pages about ``obj`` (a round or a programme) leave
    out, as "Another funder": the round's choice; for a programme, every funder any of its
    rounds hides, since the programme's page speaks for all of them."""
    rounds = getattr(obj, "rounds", None)
    if rounds is None:
        return set(obj.hidden_funder_ids or ())
    return {funder_id for rnd in rounds for funder_id in rnd.hidden_funder_ids or ()}


def set_report_options(dbsession: Session, rnd, *, small_cell_threshold: int,
                       hidden_funder_ids: Iterable[int] = (), user=None):
    """How small a count may be shown, and which funders' names public pages leave out.
    Refused, changing nothing, for a threshold outside 2–100 or a funder that has no part
    in the round.  Each change is in the round's audit, by ``user`` (hidden funders as
    ``[{"id", "name"}]``)."""
    problems = []
    if (isinstance(small_cell_threshold, bool) or not isinstance(small_cell_threshold, int)
            or not MIN_THRESHOLD <= small_cell_threshold <= MAX_THRESHOLD):
        problems.append(("small_cell_threshold", _(
            "Enter the smallest count to show, a whole number from ${min} to ${max}, like 5",
            mapping={"min": MIN_THRESHOLD, "max": MAX_THRESHOLD})))
    try:
        wanted = list(dict.fromkeys(int(i) for i in hidden_funder_ids or ()))
    except (TypeError, ValueError):
        wanted = [None]
    known = {f.id for f in programme_funders(rnd)}
    if set(wanted) - known:
        problems.append(("hidden_funder_ids", _("Choose funders of this round or of its programme")))
    ReportRefused.refuse_if(problems)
    names = {f.id: f.name for f in programme_funders(rnd)}

    def named(ids):
        return [{"id": i, "name": names.get(i, str(i))} for i in sorted(ids)]

    if rnd.small_cell_threshold != small_cell_threshold:
        record_change(dbsession, rnd, "small_cell_threshold", rnd.small_cell_threshold, small_cell_threshold,
                      user=user)
    if sorted(rnd.hidden_funder_ids or ()) != sorted(wanted):
        record_change(dbsession, rnd, "hidden_funders", named(rnd.hidden_funder_ids or ()), named(wanted),
                      user=user)
    rnd.small_cell_threshold = small_cell_threshold
    rnd.hidden_funder_ids = sorted(wanted)
    dbsession.flush()
    return rnd


# -- the published report, cached -------------------------------------------------------------------
#
# Why markers read from the database rather than an invalidation on write: a report may be
# read in one process and its data written in another (several waitress processes, the
# command line, a timer), and every write path (services, plugins, bulk loads) would have
# to remember to invalidate.  A handful of aggregates answered from indexes change
# whenever a row the report shows is added, removed or moves on: the round's applications
# and awards (how many, the sum of their row versions: every workflow step bumps one), the
# programme's funder contributions, the latest audited change to the round or programme,
# and for the smaller tables the report reads, their row count and highest id.  They cost
# a few milliseconds at 100,000 applications where gathering the report costs a second.
# An edit in place of a row without a row version that is not audited is caught by a
# safety net: a cached report is gathered again after MAX_AGE seconds.  Plugin sections
# are always gathered afresh: grants cannot know what they read.
#
# Only the figures are cached, not the list of grants: each request reads its page of
# grants from the database (:func:`grants_page`).  Caching pages would key the cache by
# every page, size, sort, region and search text anyone asks for — an unbounded number of
# entries a visitor could fill the process's memory with — while a page of grants costs a
# count and a LIMIT query over one round's awards, milliseconds, not the second the
# figures cost.  The totals over all grants stay in the cached figures.

MAX_AGE = 300  # seconds
CACHE_KEY = "grants.public_report_cache"
#: Tables the report reads whose rows are few (one per award, report or funder), marked
#: as a whole: a change to another round's may gather this one again, never miss one.
_MARKED_TABLES = ("disbursements", "indicators", "indicator_targets", "indicator_values", "reports",
                  "library_indicators", "survey_instruments", "round_instruments", "survey_uploads",
                  "survey_results", "round_evaluations", "funders")


@dataclass
class ReportCache:
    """Per process: the gathered report of each round and language, with its markers."""

    entries: dict = field(default_factory=dict)
    gathered: int = 0  # how many times a report was gathered (what the tests watch)


def report_markers(dbsession: Session, rnd) -> tuple:
    """What changes when any figure of ``rnd``'s report may change (two statements)."""
    from sqlalchemy import String, cast, literal, union_all

    from grants.applications.models import Application, RegionCount
    from grants.lifecycle.models import ReachedCount, StateCount
    from grants.awards.models import Award
    from grants.db import Base

    # The round's applications are marked by the counters kept as they are made and move
    # (how many ever reached and are now in each state, per region of their
    # organisations): a few rows, however many applications there are, where a count and
    # a sum over the round's applications cost more the bigger the round.
    counters = union_all(
        select(literal("reached"), ReachedCount.state, ReachedCount.n).where(
            ReachedCount.object_type == Application.__tablename__, ReachedCount.group_id == rnd.id),
        select(literal("now"), StateCount.workflow_id + ":" + cast(StateCount.workflow_version, String) + ":"
               + StateCount.state, StateCount.n).where(
            StateCount.object_type == Application.__tablename__, StateCount.group_id == rnd.id),
        select(literal("region"), RegionCount.region_code, RegionCount.n).where(RegionCount.round_id == rnd.id))
    counted = tuple(sorted(tuple(row) for row in dbsession.execute(counters)))
    parts = []
    scope = Award.__table__.c.round_id == rnd.id
    parts += [select(func.count()).select_from(Award.__table__).where(scope).scalar_subquery(),
              select(func.coalesce(func.sum(Award.__table__.c.row_version), 0)).where(scope).scalar_subquery()]
    tables = Base.metadata.tables
    # The programme's funders and the audited changes to the round and its programme.
    contributions, changes = tables["programme_funders"], tables["configuration_changes"]
    mine = contributions.c.programme_id == rnd.programme_id
    parts += [select(func.count()).select_from(contributions).where(mine).scalar_subquery(),
              select(func.coalesce(func.max(contributions.c.id), 0)).where(mine).scalar_subquery(),
              select(func.coalesce(func.max(changes.c.id), 0)).where(or_(
                  and_(changes.c.object_type == "rounds", changes.c.object_id == rnd.id),
                  and_(changes.c.object_type == "programmes", changes.c.object_id == rnd.programme_id)))
              .scalar_subquery()]
    for name in _MARKED_TABLES:
        table = tables.get(name)
        if table is None:
            continue
        parts.append(select(func.count()).select_from(table).scalar_subquery())
        if "id" in table.c:  # a link table (no id of its own) is marked by its count
            parts.append(select(func.coalesce(func.max(table.c.id), 0)).scalar_subquery())
        if "row_version" in table.c:
            parts.append(select(func.coalesce(func.sum(table.c.row_version), 0)).scalar_subquery())
    programme = rnd.programme
    own = (rnd.row_version, programme.title, getattr(programme, "translations", None) and repr(programme.translations),
           rnd.report_published_at, rnd.small_cell_threshold, tuple(sorted(withheld_funder_ids(rnd))))
    return own + counted + tuple(dbsession.execute(select(*parts)).one())


def cached_public_report(dbsession: Session, registry, rnd, *, locale: str | None = None,
                         now: float | None = None) -> PublicReport:
    """The round's report as :func:`public_report` gathers it, reused while its markers
    (:func:`report_markers`) stay the same and it is younger than :data:`MAX_AGE`."""
    import dataclasses
    import time

    cache = registry.get(CACHE_KEY) if hasattr(registry, "get") else None
    if cache is None:
        cache = registry[CACHE_KEY] = ReportCache()
    now = time.monotonic() if now is None else now
    markers = report_markers(dbsession, rnd)
    key = (rnd.id, locale)
    found = cache.entries.get(key)
    if found is not None and found[0] == markers and now - found[1] < MAX_AGE:
        report = dataclasses.replace(found[2])
        report.sections = [SectionContent(section, section.rows(dbsession, rnd, report) if section.rows else None)
                           for section in report_sections(registry, rnd.programme)]
        return report
    report = public_report(dbsession, registry, rnd, locale=locale)
    cache.gathered += 1
    cache.entries[key] = (markers, now, report)
    return dataclasses.replace(report)
