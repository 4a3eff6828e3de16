"""MEL services: reporting periods from an award's dates and cadence; the grantee's
report on each period (its narrative and indicator values, totals and disaggregated
cells), what it still lacks before it can be submitted, and the officer's comments on it;
the mail that tells the grantee a report was accepted or returned, and the reminder
before a report is due; the officer's list of reports due and overdue in a round.

A report moves due → submitted → accepted, or returned with comments and submitted
again; a report still due at ``due_at`` becomes overdue (``grants tick``)::

    save_report(db, report, narrative="…", user=member, values=[
        (clubs, {}, Decimal(42), ""),                      # the total
        (clubs, {"sex": "female"}, Decimal(25), ""),       # a disaggregated cell
        (clubs, {"sex": "male"}, Decimal(17), ""),
        (stories, {}, None, "Two schools asked to keep the clubs."),   # qualitative: text
    ])
    report_problems(report)        # [] when it can be submitted
    WorkflowService(...).fire(report, "submit", member)

    send_reminders(registry, now=now)      # → ids of the reports whose members were mailed

Every function takes the database session (or reads it from the object) and, where time
matters, ``now=`` so tests and the demo can say when things happen.  A refusal raises
:class:`ReportRefused` and changes nothing.
"""
from __future__ import annotations

import calendar
import datetime as dt
import logging
from dataclasses import dataclass
from decimal import Decimal
from typing import Iterable
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from grants.i18n import _, format_date
from grants.lifecycle.meanings import means, state_means
from grants.text import LONG_MAX, control_problems, too_long
from grants.workflow import ProblemsRefused

from .models import DIMENSIONS, Indicator, IndicatorValue, Report

log = logging.getLogger(__name__)

#: Days after a period's end by which its report is due.
REPORT_DUE_DAYS = 30


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` moved by whole months, clamped to the month's last day (31 Jan + 1 = 28/29 Feb)."""
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def period_bounds(starts_on: dt.date, ends_on: dt.date, cadence_months: int) -> list[tuple[dt.date, dt.date]]:
    """The reporting periods covering ``starts_on``..``ends_on`` (both included), each
    ``cadence_months`` long, the last one cut at the end date."""
    if ends_on < starts_on:
        raise ValueError("the end date is before the start date")
    bounds = []
    n = 0
    while True:
        start = add_months(starts_on, n * cadence_months)
        if start > ends_on:
            break
        end = min(add_months(starts_on, (n + 1) * cadence_months) - dt.timedelta(days=1), ends_on)
        bounds.append((start, end))
        n += 1
    return bounds


def due_moment(period_end: dt.date, zone: str, due_days: int = REPORT_DUE_DAYS) -> dt.datetime:
    """The end of the due day (23:59:59 in the round's time zone), as an aware UTC moment."""
    day = period_end + dt.timedelta(days=due_days)
    local = dt.datetime.combine(day, dt.time(23, 59, 59), tzinfo=ZoneInfo(zone or "UTC"))
    return local.astimezone(dt.timezone.utc)


def _schedule(award) -> list[tuple[dt.date, dt.date, dt.datetime, str]]:
    from grants.awards.models import CADENCES

    bounds = period_bounds(award.starts_on, award.ends_on, CADENCES[award.cadence])
    zone = award.round.timezone if award.round is not None else "UTC"
    return [(start, end, due_moment(end, zone), "final" if i == len(bounds) - 1 else "progress")
            for i, (start, end) in enumerate(bounds)]


def generate_reporting_periods(dbsession: Session, registry, award, *, now: dt.datetime | None = None
                               ) -> list[Report]:
    """Create one report (in state ``due``) per period of the award.  Called when the
    award is made; ``extend_reporting_periods`` adjusts them when the dates change."""
    from grants.lifecycle.services import WorkflowService

    service = WorkflowService(_workflows(registry), dbsession)
    reports = []
    for number, (start, end, due_at, kind) in enumerate(_schedule(award), start=1):
        report = Report(award=award, number=number, kind=kind, period_start=start, period_end=end, due_at=due_at)
        dbsession.add(report)
        service.start(report, now=now)
        reports.append(report)
    dbsession.flush()
    return reports


def extend_reporting_periods(dbsession: Session, award, registry=None, *, now: dt.datetime | None = None
                             ) -> list[Report]:
    """After the award's dates changed: reports not yet submitted take the new periods'
    dates, and periods the longer grant now has get new reports.  Submitted or accepted
    reports keep the dates they were written for."""
    from grants.lifecycle.services import WorkflowService

    existing = {r.number: r for r in dbsession.scalars(select(Report).where(Report.award_id == award.id))}
    added = []
    service = None
    for number, (start, end, due_at, kind) in enumerate(_schedule(award), start=1):
        report = existing.get(number)
        if report is None:
            if service is None:
                service = WorkflowService(_workflows(registry), dbsession)
            report = Report(award=award, number=number, kind=kind, period_start=start, period_end=end,
                            due_at=due_at)
            dbsession.add(report)
            service.start(report, now=now)
            added.append(report)
        elif means(report, "due", "overdue"):
            report.period_start, report.period_end, report.due_at, report.kind = start, end, due_at, kind
        elif report.kind == "final" and kind != "final":
            report.kind = "progress"
    dbsession.flush()
    return added


def _workflows(registry):
    if registry is None:
        from pyramid.threadlocal import get_current_registry

        registry = get_current_registry()
    from grants.lifecycle.services import workflows_of

    return workflows_of(registry)


class ReportRefused(ProblemsRefused):
    """A report service refused: ``problems`` is a list of (field, reason).  Fields are
    ``narrative``, ``value-<indicator id>`` (a total) and
    ``cell-<indicator id>-<dimension>-<value>`` (a disaggregated cell)."""


#: What a report means while the grantee may write it (due, overdue or returned).
EDITABLE = "to_write"


def cell_key(dimensions: dict) -> str:
    """A cell's dimensions as one sortable key: ``{"sex": "female", "age_band": "18_24"}``
    → ``"age_band=18_24;sex=female"``; the total is ``""``."""
    return ";".join(f"{key}={value}" for key, value in sorted((dimensions or {}).items()))


def field_for(indicator, dimensions: dict | None = None) -> str:
    """The name of the input that holds a total or a cell (and the field of a problem)."""
    if not dimensions:
        return f"value-{indicator.id}"
    return "cell-{}-{}".format(indicator.id, "-".join(f"{k}-{v}" for k, v in sorted(dimensions.items())))


def _check_dimensions(indicator, dimensions: dict, field: str, problems: list) -> bool:
    from grants.regions import is_region

    ok = True
    for key, value in dimensions.items():
        if key not in (indicator.disaggregation or ()):
            problems.append((field, _("${code} is not broken down by ${dimension}.",
                                      mapping={"code": indicator.code, "dimension": key})))
            ok = False
        elif key == "region":
            if not isinstance(value, str) or not is_region(value):
                problems.append((field, _("${code}: “${value}” is not a region code we know.",
                                          mapping={"code": indicator.code, "value": value})))
                ok = False
        elif value not in DIMENSIONS[key]:
            problems.append((field, _("${code}: “${value}” is not a value of ${dimension}.",
                                      mapping={"code": indicator.code, "value": value, "dimension": key})))
            ok = False
    return ok


NARRATIVE_MAX = 50_000  # Report.narrative
VALUE_TEXT_MAX = LONG_MAX  # IndicatorValue.text: a qualitative indicator's words


def _value_problems(report: Report, values) -> tuple[list, list]:
    """Check every (indicator, dimensions, value, text); return the problems and the
    cleaned rows (indicator, dimensions, cell, value, text)."""
    from .framework import _check_value

    problems, rows, seen = [], [], set()
    for indicator, dimensions, value, text in values:
        dimensions = dict(dimensions or {})
        field = field_for(indicator, dimensions)
        text = (text or "").strip()
        if len(text) > VALUE_TEXT_MAX:
            problems.append((field, too_long(VALUE_TEXT_MAX)))
            continue
        if control_problems(**{field: text}):
            problems.extend(control_problems(**{field: text}))
            continue
        if indicator.award_id != report.award_id:
            problems.append((field, _("${code} is not an indicator of this award.", mapping={"code": indicator.code})))
            continue
        if not _check_dimensions(indicator, dimensions, field, problems):
            continue
        cell = cell_key(dimensions)
        if (indicator.id, cell) in seen:
            problems.append((field, _("${code} has two values for the same cell.", mapping={"code": indicator.code})))
            continue
        seen.add((indicator.id, cell))
        if value is not None:
            if isinstance(value, (float, bool)) or not isinstance(value, (Decimal, int)) or (
                    isinstance(value, Decimal) and not value.is_finite()):
                problems.append((field, _("${code}: give the value as an exact number.",
                                          mapping={"code": indicator.code})))
                continue
            value = Decimal(value)
            if indicator.measure == "qualitative":
                problems.append((field, _("${code} is described in words, not with a number.",
                                          mapping={"code": indicator.code})))
                continue
            _check_value(indicator.measure, value, field, problems, indicator.code)
        rows.append((indicator, dimensions, cell, value, text))
    # For a count, the cells of one breakdown (every cell by sex; every cell by sex and
    # age band) cannot add up to more than the total.
    totals = {ind.id: v for ind, dims, _cell, v, _t in rows if not dims}
    sums: dict[tuple, tuple] = {}
    for indicator, dimensions, _cell, value, _text in rows:
        if dimensions and value is not None and indicator.measure == "unit":
            key = (indicator.id, tuple(sorted(dimensions)))
            total_so_far, ind = sums.get(key, (Decimal(0), indicator))
            sums[key] = (total_so_far + value, ind)
    for (indicator_id, keys), (total_cells, indicator) in sums.items():
        total = totals.get(indicator_id)
        if total is not None and total_cells > total:
            problems.append((field_for(indicator), _(
                "${code}: the values by ${dimensions} add up to ${sum}, more than the total (${total}).",
                mapping={"code": indicator.code, "dimensions": " × ".join(keys), "sum": str(total_cells),
                         "total": str(total)})))
    return problems, rows


def save_report(dbsession: Session, report: Report, *, narrative: str,
                values: Iterable[tuple], user=None, now: dt.datetime | None = None) -> Report:
    """Save the grantee's report as it stands (a draft until it is submitted).

    ``values`` are ``(indicator, dimensions, value, text)``: ``dimensions`` ``{}`` for the
    total or ``{"sex": "female"}`` for a cell, ``value`` a ``Decimal`` or None, ``text``
    the words of a qualitative indicator (or a note).  A cell given with neither a value
    nor text is cleared; cells not given are kept.  One row is kept per (report,
    indicator, cell).  Refused, changing nothing, unless the report is due, overdue or
    returned, each cell's dimensions are ones the indicator is broken down by (and known
    values: sexes, age bands, region codes), percentages are within 0–100, counts are
    not negative, and a count's cells of one breakdown add up to no more than its total.
    A draft is not a step of the workflow: who submitted, returned or accepted the report,
    and when, is in its history; ``user`` and ``now`` are accepted so every service reads
    alike, and pages check ``mel:report:submit`` before calling this."""
    if not means(report, EDITABLE):
        raise ReportRefused([(None, _("This report was submitted: it can no longer be changed."))])
    values = list(values)
    problems, rows = _value_problems(report, values)
    narrative = (narrative or "").strip()
    if len(narrative) > NARRATIVE_MAX:
        problems.append(("narrative", _("Keep the narrative to 50,000 characters or fewer.")))
    problems.extend(control_problems(narrative=narrative))
    ReportRefused.refuse_if(problems)
    report.narrative = narrative
    existing = {(v.indicator_id, v.cell): v for v in report.values}
    for indicator, dimensions, cell, value, text in rows:
        row = existing.get((indicator.id, cell))
        if value is None and not text:
            if row is not None and row.source == "reported":
                report.values.remove(row)
            continue
        if row is None:
            report.values.append(IndicatorValue(indicator_id=indicator.id, dimensions=dimensions, cell=cell,
                                                value=value, text=text, source="reported"))
        else:
            row.dimensions, row.value, row.text, row.source = dimensions, value, text, "reported"
            row.instrument_id = None
    dbsession.flush()
    return report


def report_problem_fields(report: Report) -> list[tuple[str, object]]:
    """:func:`report_problems` with the field each is about (``narrative``,
    ``value-<indicator id>``), for a page to link each reason to its input."""
    problems = []
    if not (report.narrative or "").strip():
        problems.append(("narrative", _("Write the narrative: what happened in this period.")))
    session = Session.object_session(report)
    indicators = session.scalars(
        select(Indicator).where(Indicator.award_id == report.award_id).order_by(Indicator.code)).all()
    totals = {v.indicator_id: v for v in report.values if not v.dimensions}
    for indicator in indicators:
        if not indicator_due_in(indicator, report):
            continue
        value = totals.get(indicator.id)
        field = field_for(indicator)
        if indicator.measure == "qualitative":
            if value is None or not (value.text or "").strip():
                problems.append((field, _("Describe the result for ${code} (${title}).",
                                          mapping={"code": indicator.code, "title": indicator.title})))
        elif value is None or value.value is None:
            problems.append((field, _("Give the value for ${code} (${title}).",
                                      mapping={"code": indicator.code, "title": indicator.title})))
    return problems


def indicator_due_in(indicator: Indicator, report: Report) -> bool:
    """Must ``report`` carry a value for ``indicator``?  Yes when the indicator has a
    target for this period, or has no targets at all (then it is measured every period).
    An outcome measured by a survey at the end only has its one target there."""
    periods = {t.report_id for t in indicator.targets}
    return not periods or report.id in periods


def report_problems(report: Report) -> list:
    """What must be put right before ``report`` can be submitted: a narrative, and a
    total for every indicator due in this period (a value, or text for a qualitative
    one; see :func:`indicator_due_in`)."""
    return [reason for _field, reason in report_problem_fields(report)]


def values_by_cell(report: Report) -> dict[tuple[int, str], IndicatorValue]:
    """The report's values by (indicator id, cell key)."""
    return {(v.indicator_id, v.cell): v for v in report.values}


@dataclass
class Comment:
    """What an officer said when returning a report."""

    at: dt.datetime
    text: str
    user_id: int | None


def officer_comments(dbsession: Session, report: Report) -> list[Comment]:
    """The comments given each time the report was returned for changes, oldest first
    (they are the workflow history's comments of ``return_for_changes``)."""
    from grants.lifecycle.models import HistoryEntry

    entries = dbsession.scalars(select(HistoryEntry).where(
        HistoryEntry.object_type == report.object_type, HistoryEntry.object_id == report.id,
        HistoryEntry.trigger == "return_for_changes").order_by(HistoryEntry.id))
    return [Comment(e.at, e.comment, e.user_id) for e in entries]


def reports_of(dbsession: Session, award) -> list[Report]:
    return list(dbsession.scalars(select(Report).where(Report.award_id == award.id).order_by(Report.number)))


@dataclass
class DueReport:
    report: Report
    days_overdue: int  # 0 when not yet due


def reports_due(dbsession: Session, rnd, *, now: dt.datetime | None = None, days: int = 30) -> list[DueReport]:
    """The round's reports that are overdue (or past their due moment and not yet
    ticked), and those due within ``days`` days — in due-date order."""
    now = now or dt.datetime.now(dt.timezone.utc)
    reports = dbsession.scalars(reports_due_query(rnd, now=now, days=days).order_by(Report.due_at, Report.id))
    zone = rnd.timezone or "UTC"
    return [DueReport(r, days_overdue(r, now, zone)) for r in reports]


def reports_due_query(rnd, *, now: dt.datetime, days: int = 30):
    """:func:`reports_due` as a select, joined to the award, its application and the
    grantee (to filter and cut a page from)."""
    from grants.accounts.models import Organisation
    from grants.applications.models import Application
    from grants.awards.models import Award

    horizon = now + dt.timedelta(days=days)
    return (select(Report).join(Award, Award.id == Report.award_id)
            .join(Application, Application.id == Award.application_id)
            .join(Organisation, Organisation.id == Application.organisation_id)
            .where(Award.round_id == rnd.id,
                   state_means(Report, "overdue") | (state_means(Report, "due") & (Report.due_at <= horizon))))


def days_overdue(report: Report, now: dt.datetime, zone: str = "UTC") -> int:
    """Calendar days since the due day, in the round's time zone (a report due by the
    end of 30 October is 1 day overdue on 31 October); 0 before its due moment."""
    if report.due_at >= now:
        return 0
    tz = ZoneInfo(zone or "UTC")
    return max(1, (now.astimezone(tz).date() - report.due_at.astimezone(tz).date()).days)


# -- mail ------------------------------------------------------------------------------------


def _members(dbsession: Session, award):
    from grants.accounts.models import Membership, User

    return dbsession.scalars(
        select(User).join(Membership, Membership.user_id == User.id)
        .where(Membership.organisation_id == award.application.organisation_id).order_by(User.id)).all()


def _report_link(report: Report, request=None, registry=None) -> str:
    """The report page's address: the request's site, or the ``grants.base_url``
    setting outside a request (``grants tick``), or the path alone."""
    from pyramid.traversal import resource_path

    path = resource_path(report) + "/"
    if request is not None:
        return request.application_url + path
    settings = getattr(registry, "settings", None) or {}
    return (settings.get("grants.base_url") or "").rstrip("/") + path


def notify_report_state(ctx) -> None:
    """Tell every member of the grantee organisation that its report was accepted, or
    returned with the officer's comments — each in their own language, once the decision
    is committed (nothing is sent if it rolls back).  Called by the ``accept`` and
    ``return_for_changes`` effects."""
    from grants.mail import notify

    app_registry = getattr(ctx.env, "app", None)
    if app_registry is None or getattr(app_registry, "mailer", None) is None:
        return  # no mailer configured (a bare engine in a script): nothing to send with
    report = ctx.obj
    award = report.award
    state = ctx.workflow.definition.states[report.state]
    status = _(state.public_title or state.title)
    values = {"number": report.number, "title": award.title, "status": status,
              "start": format_date(report.period_start), "end": format_date(report.period_end),
              "link": _report_link(report, getattr(ctx.env, "request", None), app_registry)}
    subject = _("Report ${number} on “${title}”: ${status}", mapping=values)
    if means(report, "returned"):
        body = _("Your report ${number} on “${title}” (${start} to ${end}) was returned for changes.\n\n"
                 "The programme officer's comments:\n${comments}\n\n"
                 "Correct the report and submit it again:\n${link}\n",
                 mapping={**values, "comments": ctx.comment})
    elif ctx.comment:
        body = _("Your report ${number} on “${title}” (${start} to ${end}) is now: ${status}.\n\n"
                 "The programme officer's comments:\n${comments}\n\n${link}\n",
                 mapping={**values, "comments": ctx.comment})
    else:
        body = _("Your report ${number} on “${title}” (${start} to ${end}) is now: ${status}.\n\n${link}\n",
                 mapping=values)
    for user in _members(ctx.env.dbsession, award):
        notify(app_registry, user, subject, body, transaction_manager=ctx.env.transaction_manager)


#: How many days before its due date a report's reminder goes out.
REMINDER_DAYS = 14


def send_reminders(registry, *, now: dt.datetime | None = None, days_before: int = REMINDER_DAYS) -> list[int]:
    """Remind the grantee's members of every report still ``due`` whose due date falls
    within ``days_before`` days, each in their language, once per report
    (``reminded_at``).  Each report is handled in its own transaction, and mail goes out
    only when it commits; running it again sends nothing more.  ``registry`` is the
    Pyramid registry (its database, mailer and translations).  Returns the ids of the
    reports reminded.  Run by ``grants tick``."""
    from grants.i18n import format_datetime
    from grants.mail import notify

    now = now or dt.datetime.now(dt.timezone.utc)
    horizon = now + dt.timedelta(days=days_before)
    database = registry.database

    def waiting(query):
        return query.where(state_means(Report, "due"), Report.reminded_at.is_(None), Report.due_at > now,
                           Report.due_at <= horizon)

    with database.transaction() as (_tm, dbsession):
        ids = list(dbsession.scalars(waiting(select(Report.id)).order_by(Report.due_at, Report.id)))
    reminded = []
    for report_id in ids:
        try:
            with database.transaction() as (tm, dbsession):
                report = dbsession.scalar(waiting(select(Report)).where(Report.id == report_id))
                if report is None:
                    continue  # submitted, or reminded by another run, since we looked
                award = report.award
                zone = award.round.timezone if award.round is not None else "UTC"
                values = {"number": report.number, "title": award.title,
                          "start": format_date(report.period_start), "end": format_date(report.period_end),
                          "due": format_datetime(report.due_at, zone), "link": _report_link(report, registry=registry)}
                subject = _("Reminder: report ${number} on “${title}” is due on ${due}", mapping=values)
                body = _("Your report ${number} on “${title}”, for ${start} to ${end}, is due by ${due}.\n\n"
                         "Sign in to write it and submit it:\n${link}\n", mapping=values)
                for user in _members(dbsession, award):
                    notify(registry, user, subject, body, transaction_manager=tm)
                report.reminded_at = now
                dbsession.flush()
        except StaleDataError:
            log.info("report %s changed while being reminded; left for the next run", report_id)
            continue
        reminded.append(report_id)
    return reminded
