"""MEL services: reporting periods from an award's dates and cadence, and what a report
still lacks before it can be submitted.

Every function takes the database session (or reads it from the object) and, where time
matters, ``now=`` so tests and the demo can say when things happen.
"""
from __future__ import annotations

import calendar
import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from grants.i18n import _

from .models import Report

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
        elif report.state in ("due", "overdue"):
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


def report_problems(report: Report) -> list:
    """What must be put right before ``report`` can be submitted: a narrative, and a
    total for every indicator of the award (a value, or text for a qualitative one)."""
    from .models import Indicator

    problems = []
    if not (report.narrative or "").strip():
        problems.append(_("Write the narrative: what happened in this period."))
    session = Session.object_session(report)
    indicators = session.scalars(
        select(Indicator).where(Indicator.award_id == report.award_id).order_by(Indicator.code)).all()
    totals = {v.indicator_id: v for v in report.values if not v.dimensions}
    for indicator in indicators:
        value = totals.get(indicator.id)
        if indicator.measure == "qualitative":
            if value is None or not (value.text or "").strip():
                problems.append(_("Describe the result for ${code} (${title}).",
                                  mapping={"code": indicator.code, "title": indicator.title}))
        elif value is None or value.value is None:
            problems.append(_("Give the value for ${code} (${title}).",
                              mapping={"code": indicator.code, "title": indicator.title}))
    return problems
