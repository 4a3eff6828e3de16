"""Awards and their money: the Python API used by the pages, the demo and plugins.

Every function takes the SQLAlchemy session first (and the registry — Pyramid's or the
workflow registry — where a workflow is involved), flushes but never commits, and refuses
bad input with :class:`AwardRefused`, whose ``problems`` are (field, reason) pairs a page
puts beside its inputs.  A refusal changes nothing.  Money is always
:class:`grants.money.Money`, stored as integer minor units: sums and splits are exact
to the millime (TND), the penny (GBP) or the shilling (UGX).

Making an award from a selected (or cleared) application, with its agreement::

    award = make_award(db, registry, application, amount=Money(Decimal("45000.000"), "TND"),
                       starts_on=date(2019, 7, 1), ends_on=date(2020, 6, 30), cadence="quarterly",
                       source_amount=Money(Decimal("15000"), "USD"), fx_rate=Decimal("3.000"))
    pdf = store_agreement(db, registry, filename="agreement.pdf", data=body, user=officer)
    record_agreement(db, award, file=pdf, signed_on=date(2019, 6, 20), user=officer)

Changing the terms (each change kept with what it was before and why)::

    amend(db, registry, award, amount=Money(Decimal("50000.000"), "TND"), reason="Second school", user=officer)
    amend(db, registry, award, ends_on=date(2020, 9, 30), reason="Schools closed", user=officer)
    # no-cost extension and early end are the award workflow's extend_no_cost and end_early

The payment schedule: tranches in percentages (split exactly, the remainder on the last)
or in amounts, each released when its condition holds, then paid::

    set_schedule(db, registry, award, [
        {"percent": Decimal(40), "due_on": date(2019, 7, 15)},
        {"percent": Decimal(40), "condition": "report_accepted", "condition_report": report1},
        {"percent": Decimal(20), "condition": "report_accepted", "condition_report": report3},
    ], user=officer)
    tranche_condition_problem(award.tranches[1])   # "Report 1 (1 Jul – 30 Sep 2019) is not accepted yet: …"
    # release and disburse are the tranche workflow's transitions

Budget against actual::

    set_budget(db, award, [("Staff", Money(...)), ("Activities", Money(...))], user=officer)
    record_expenditure(db, award.budget_lines[0], amount=Money(...), spent_on=date(2019, 9, 1), user=member)
    budget_vs_actual(award).rows[0].percent_spent   # Decimal("12.50")
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal
from typing import Any, Callable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from grants.audit.services import record_change
from grants.i18n import _, format_date, format_date_range
from grants.lifecycle.meanings import means, state_means
from grants.lifecycle.services import WorkflowService, holds_permission, settings_of, workflows_of
from grants.money import Money, MoneyBag, sum_money
from grants.security import Permission, Role, local_roles
from grants.workflow import ProblemsRefused

from .models import (
    CADENCES,
    CONDITION_AGREEMENT,
    CONDITION_NONE,
    CONDITION_REPORT,
    Award,
    AwardAmendment,
    BudgetLine,
    Disbursement,
    Expenditure,
    Tranche,
)

# States are asked for by meaning (grants.lifecycle.meanings), so workflow variants keep working:
#: what an application means when an award can be made from it
AWARDABLE = "awardable"
#: what a tranche means when its money is committed (released for payment, or paid)
COMMITTED = ("released", "disbursed")
#: what a report means while it still waits for the grantee (dropped when a grant ends before its period)
WAITING_REPORT = ("due", "overdue")
#: How reasons name a report's state ("… is not accepted yet: it is submitted").
REPORT_STATE_WORDS = {  # by what the report's state means
    "due": _("not submitted yet"),
    "overdue": _("overdue"),
    "submitted": _("submitted and waiting for review"),
    "returned": _("returned for changes"),
}


def report_state_words(report):
    """How a sentence says where a report stands ("… is not accepted yet: it is overdue")."""
    for meaning, words in REPORT_STATE_WORDS.items():
        if means(report, meaning):
            return words
    return report.state
#: How often a grantee reports, as pages show it.
CADENCE_TITLES = {
    "monthly": _("Every month"),
    "quarterly": _("Every three months"),
    "half_yearly": _("Every six months"),
    "yearly": _("Every year"),
}
#: What each kind of amendment is called.
AMENDMENT_TITLES = {
    "amount": _("Amount changed"),
    "dates": _("Dates changed"),
    "no_cost_extension": _("No-cost extension"),
    "early_end": _("Ended early"),
}
HUNDRED = Decimal(100)


class AwardRefused(ProblemsRefused):
    """An award service refused: ``problems`` is a list of (field, reason)."""


def _now(now: dt.datetime | None) -> dt.datetime:
    return now or dt.datetime.now(dt.timezone.utc)


def _user_id(user) -> int | None:
    return getattr(user, "id", None)


def _holds(user, award, roles) -> bool:
    return bool(local_roles(award, user) & {str(r) for r in roles})


# -- making an award --------------------------------------------------------------------------------


def make_award(dbsession: Session, registry, application, *, amount: Money, starts_on: dt.date, ends_on: dt.date,
               cadence: str = "quarterly", title: str | None = None, agreement_file=None,
               source_amount: Money | None = None, fx_rate=None, fx_date: dt.date | None = None,
               user=None, actor=None, now: dt.datetime | None = None) -> Award:
    """Make the award for a selected (or cleared) application, start its workflow and
    create its reporting periods.  Refused, changing nothing, if the application is not
    selected, already has an award, or the money or dates are wrong."""
    from grants.mel.services import generate_reporting_periods

    problems = []
    if not means(application, AWARDABLE):
        problems.append(("application", _("Only a selected application can be awarded a grant.")))
    if dbsession.scalar(select(Award.id).where(Award.application_id == application.id)) is not None:
        problems.append(("application", _("This application already has an award.")))
    if not isinstance(amount, Money) or amount.minor_units <= 0:
        problems.append(("amount", _("The amount must be more than zero.")))
    if ends_on <= starts_on:
        problems.append(("ends_on", _("The end date must be after the start date.")))
    if cadence not in CADENCES:
        problems.append(("cadence", _("Choose how often the grantee reports.")))
    if source_amount is not None and fx_rate is None:
        problems.append(("fx_rate", _("Give the exchange rate used from the source budget.")))
    if source_amount is not None and isinstance(amount, Money) and source_amount.currency == amount.currency:
        problems.append(("source_currency", _("The source budget is in another currency than the award: leave it "
                                              "empty when the budget is in ${currency}.",
                                              mapping={"currency": amount.currency})))
    if fx_rate is not None and (not isinstance(fx_rate, Decimal) or not fx_rate.is_finite() or fx_rate <= 0):
        problems.append(("fx_rate", _("The exchange rate must be a number more than zero, like 2.9875.")))
    AwardRefused.refuse_if(problems)
    award = Award(application=application, round_id=application.round_id, round=application.round,
                  title=title or application.title, amount_minor=amount.minor_units, currency=amount.currency,
                  starts_on=starts_on, ends_on=ends_on, cadence=cadence, agreement_file=agreement_file,
                  source_amount_minor=None if source_amount is None else source_amount.minor_units,
                  source_currency=None if source_amount is None else source_amount.currency,
                  fx_rate=fx_rate, fx_date=fx_date, awarded_by_id=getattr(user, "id", None))
    if now is not None:
        award.awarded_at = now
    dbsession.add(award)
    WorkflowService(workflows_of(registry), dbsession).start(award, user, actor=actor, now=now)
    dbsession.flush()
    generate_reporting_periods(dbsession, registry, award, now=now)
    return award


def awaiting_query(rnd):
    """A select of the round's selected (or cleared) applications that have no award yet."""
    from grants.applications.models import Application

    return select(Application).where(Application.round_id == rnd.id, state_means(Application, AWARDABLE),
                                     Application.id.not_in(select(Award.application_id)))


def awaiting_award(dbsession: Session, rnd, limit: int | None = None) -> list:
    """The round's selected (or cleared) applications that have no award yet, the oldest
    first; only the first ``limit`` when given."""
    from grants.applications.models import Application

    if not _any_awardable(dbsession, rnd):
        return []
    return list(dbsession.scalars(awaiting_query(rnd).order_by(Application.id).limit(limit)))


def count_awaiting_award(dbsession: Session, rnd) -> int:
    """How many of the round's selected applications have no award yet."""
    if not _any_awardable(dbsession, rnd):
        return 0
    return dbsession.scalar(select(func.count()).select_from(awaiting_query(rnd).subquery()))


def _any_awardable(dbsession: Session, rnd) -> bool:
    """Is any of the round's applications selected or cleared now?  Asked of the state
    counters first: with none, SQLite's planner (which knows no skew) would walk every
    application of a large round in id order looking for the first ones."""
    from grants.applications.models import Application
    from grants.lifecycle.meanings import counted_meaning
    from grants.lifecycle.models import StateCount

    return bool(dbsession.scalar(select(func.sum(StateCount.n)).where(
        counted_meaning(Application, AWARDABLE), StateCount.group_id == rnd.id)))




def store_agreement(dbsession: Session, registry, *, filename: str, data: bytes, user=None):
    """Check and keep an uploaded grant agreement: a PDF only (decided from the bytes).
    Returns the :class:`grants.files.models.StoredFile`; refused on the field ``agreement``."""
    from grants.files.storage import CONTENT_TYPES, FileRefused, check_upload, store

    settings = settings_of(registry)
    try:
        content_type = check_upload(filename, data, settings)
    except FileRefused as refused:
        raise AwardRefused([("agreement", reason) for _field, reason in refused.problems]) from None
    if content_type != CONTENT_TYPES["pdf"]:
        raise AwardRefused([("agreement", _("The grant agreement must be a PDF: save “${name}” as a PDF and choose "
                                            "it again.", mapping={"name": filename}))])
    return store(dbsession, settings, filename=filename, data=data, uploaded_by=user)


def agreement_problems(file, signed_on: dt.date | None, *, now: dt.datetime | None = None) -> list:
    """What is wrong with an agreement's file or signing day (a page checks them before
    making the award, so that the award and its agreement are kept together or not at all)."""
    problems = []
    if file is not None and not (file.content_type or "").startswith("application/pdf"):
        problems.append(("agreement", _("The grant agreement must be a PDF.")))
    if signed_on is not None and signed_on > _now(now).date():
        problems.append(("agreement_signed_on", _("The agreement cannot be signed on a day still to come.")))
    return problems


def record_agreement(dbsession: Session, award: Award, *, file=None, signed_on: dt.date | None = None, user=None,
                     now: dt.datetime | None = None) -> Award:
    """Keep the grant agreement (a stored PDF, see :func:`store_agreement`) and/or the
    day it was signed.  Refused for a file that is not a PDF or a signing day to come."""
    problems = agreement_problems(file, signed_on, now=now)
    if file is None and signed_on is None:
        problems.append(("agreement", _("Choose the agreement's PDF or give the day it was signed.")))
    AwardRefused.refuse_if(problems)
    if file is not None:
        award.agreement_file = file
    if signed_on is not None:
        award.agreement_signed_on = signed_on
    dbsession.flush()
    return award


# -- what the award has paid ------------------------------------------------------------------------


def committed(award: Award) -> Money:
    """What the award's released and paid tranches add up to."""
    return sum_money((t.amount for t in award.tranches if means(t, *COMMITTED)), award.currency)


def disbursed(award: Award) -> Money:
    """What has actually been paid to the grantee."""
    return sum_money((d.amount for t in award.tranches for d in t.disbursements), award.currency)


def scheduled(award: Award) -> Money:
    """What the payment schedule adds up to (the award's amount once it is set)."""
    return sum_money((t.amount for t in award.tranches), award.currency)


@dataclass
class AwardRow:
    award: Award
    disbursed: Money


@dataclass
class RoundAwards:
    """A round's awards, with what was awarded and paid per currency (never converted)."""

    rows: list[AwardRow]
    awarded: MoneyBag
    disbursed: MoneyBag


def round_awards(dbsession: Session, rnd) -> RoundAwards:
    """Every award of the round (for the demo and the tests; the page shows a page of
    them: :func:`award_rows`, :func:`award_totals`)."""
    query = awards_query(rnd)
    awards = dbsession.scalars(query.order_by(Award.id)).all()
    awarded, paid = award_totals(dbsession, query)
    return RoundAwards(award_rows(dbsession, awards), awarded, paid)


def awards_query(rnd):
    """The round's awards, joined to their application and its organisation (to filter
    and sort by the grantee)."""
    from grants.accounts.models import Organisation
    from grants.applications.models import Application

    return (select(Award).join(Application, Application.id == Award.application_id)
            .join(Organisation, Organisation.id == Application.organisation_id)
            .where(Award.round_id == rnd.id))


def award_rows(dbsession: Session, awards) -> list[AwardRow]:
    """``awards`` (a page of them) each with what it has paid: one aggregate statement."""
    ids = [a.id for a in awards]
    paid: dict[int, int] = {}
    if ids:
        paid = dict(dbsession.execute(
            select(Disbursement.award_id, func.sum(Disbursement.amount_minor))
            .join(Award, Award.id == Disbursement.award_id)
            .where(Disbursement.award_id.in_(ids), Disbursement.currency == Award.currency)
            .group_by(Disbursement.award_id)).all())
    return [AwardRow(a, Money.from_minor(int(paid.get(a.id) or 0), a.currency)) for a in awards]


def award_totals(dbsession: Session, query) -> tuple[MoneyBag, MoneyBag]:
    """What the awards of ``query`` (a select of awards, filtered) grant and have paid,
    per currency, summed by the database however many they are.  Paid is zero in each
    currency awarded, so the two line up."""
    ids = query.with_only_columns(Award.id).order_by(None)
    awarded = {currency: int(total) for currency, total in dbsession.execute(
        select(Award.currency, func.sum(Award.amount_minor)).where(Award.id.in_(ids)).group_by(Award.currency))}
    paid = {currency: int(total) for currency, total in dbsession.execute(
        select(Disbursement.currency, func.sum(Disbursement.amount_minor))
        .where(Disbursement.award_id.in_(ids)).group_by(Disbursement.currency))}
    return (MoneyBag(Money.from_minor(total, currency) for currency, total in awarded.items()),
            MoneyBag(Money.from_minor(total, currency) for currency, total in paid.items()))


# -- amendments --------------------------------------------------------------------------------------


def _terms(award: Award, amount: bool, dates: bool) -> dict:
    terms = {}
    if amount:
        terms.update(amount_minor=award.amount_minor, currency=award.currency)
    if dates:
        terms.update(starts_on=award.starts_on.isoformat(), ends_on=award.ends_on.isoformat())
    return terms


def amend(dbsession: Session, registry, award: Award, *, amount: Money | None = None, starts_on: dt.date | None = None,
          ends_on: dt.date | None = None, reason: str, user=None, now: dt.datetime | None = None) -> AwardAmendment:
    """Change an active award's amount and/or dates, keeping an :class:`AwardAmendment`
    with the terms before and after and the reason (required).

    The amount may not fall below what is already released or paid; pending tranches
    share the new remainder in proportion to what they were (exactly, the remainder on
    the last), and one left with nothing is removed.  New dates re-plan the reports
    still due (``extend_reporting_periods``); reports still due for periods after a new,
    earlier end are removed, and an end before a period already reported on is refused."""
    from grants.mel.models import Report
    from grants.mel.services import extend_reporting_periods

    now = _now(now)
    reason = (reason or "").strip()
    amount = None if amount is None or (amount.currency == award.currency and
                                        amount.minor_units == award.amount_minor) else amount
    new_start = starts_on if starts_on is not None and starts_on != award.starts_on else None
    new_end = ends_on if ends_on is not None and ends_on != award.ends_on else None
    problems = []
    if user is not None and not holds_permission(registry, award, user, Permission.AwardsAwardManage):
        problems.append((None, _("Only the programme's officers can amend an award.")))
    if not means(award, "active"):
        problems.append((None, _("Only an active award can be amended.")))
    if not reason:
        problems.append(("reason", _("Give the reason for the change: it is kept with the award.")))
    if amount is None and new_start is None and new_end is None:
        problems.append((None, _("Change the amount or a date: nothing differs from the award's terms.")))
    pending = [t for t in award.tranches if not means(t, *COMMITTED)]
    if amount is not None:
        floor = max(committed(award), disbursed(award))
        if amount.currency != award.currency:
            problems.append(("amount", _("The amount stays in ${currency}, the award's currency.",
                                         mapping={"currency": award.currency})))
        elif amount.minor_units <= 0:
            problems.append(("amount", _("The amount must be more than zero.")))
        elif amount < floor:
            problems.append(("amount", _("The amount cannot be less than what is already released or paid "
                                         "(${floor}).", mapping={"floor": money_text(floor)})))
        elif award.tranches and not pending and amount != floor:
            problems.append(("amount", _("Every tranche is already released: the amount cannot change.")))
    start = new_start or award.starts_on
    end = new_end or award.ends_on
    if (new_start or new_end) and end <= start:
        problems.append(("ends_on", _("The end date must be after the start date.")))
    if new_start or new_end:
        reports = list(dbsession.scalars(select(Report).where(Report.award_id == award.id).order_by(Report.number)))
        reported = [r for r in reports if not means(r, *WAITING_REPORT)]
        if new_start and reported:
            problems.append(("starts_on", _("The start date cannot change once a report has been submitted.")))
        late = [r for r in reported if r.period_start > end]
        if late:
            problems.append(("ends_on", _("Report ${number} covers a period after this end date and is already "
                                          "${state}: choose a later end date.",
                                          mapping={"number": late[0].number,
                                                   "state": report_state_words(late[0])})))
    AwardRefused.refuse_if(problems)

    kind = "amount" if amount is not None else "dates"
    dates_change = bool(new_start or new_end)
    before = _terms(award, amount is not None, dates_change)
    if amount is not None:
        _share_pending(pending, amount - committed(award))
        for tranche in pending:
            if tranche.amount_minor == 0:  # nothing left for it to pay: it goes (its history stays)
                award.tranches.remove(tranche)
        award.amount_minor = amount.minor_units
    if dates_change:
        award.starts_on, award.ends_on = start, end
    after = _terms(award, amount is not None, dates_change)
    amendment = AwardAmendment(award=award, kind=kind, before=before, after=after, reason=reason,
                               made_by_id=_user_id(user), made_at=now)
    dbsession.add(amendment)
    if dates_change:
        drop_reports_after(dbsession, award, end)
        extend_reporting_periods(dbsession, award, registry, now=now)
    dbsession.flush()
    return amendment


def _share_pending(pending: list[Tranche], total: Money) -> None:
    """Spread ``total`` over the pending tranches in proportion to their amounts."""
    if not pending:
        return
    weights = [t.amount_minor for t in pending]
    for tranche, share in zip(pending, split_minor(total.minor_units, weights)):
        tranche.amount_minor = share
        tranche.percent = None  # a share of the new remainder, no longer a share of the award


def split_minor(total: int, weights: list[int | Decimal]) -> list[int]:
    """``total`` minor units shared in proportion to ``weights``: every share rounded
    down, the remainder on the last, so the shares always add up to ``total`` exactly."""
    whole = sum(Decimal(w) for w in weights)
    if not whole:
        raise ValueError("weights add up to nothing")
    shares = [int((Decimal(total) * Decimal(w) / whole).to_integral_value(rounding=ROUND_DOWN))
              for w in weights[:-1]]
    return [*shares, total - sum(shares)]


def drop_reports_after(dbsession: Session, award: Award, last_day: dt.date) -> list:
    """Remove the reports still waiting (due or overdue) whose period starts after
    ``last_day`` — their creation stays in the workflow history — and cut the waiting
    report that covers ``last_day`` at that day, as the final report.  Returns the removed."""
    from grants.mel.models import Report
    from grants.mel.services import due_moment

    reports = list(dbsession.scalars(select(Report).where(Report.award_id == award.id).order_by(Report.number)))
    removed = [r for r in reports if means(r, *WAITING_REPORT) and r.period_start > last_day]
    if not removed:
        return []
    ids = {r.id for r in removed}
    for tranche in award.tranches:
        if tranche.condition_report_id in ids:
            tranche.condition_report = None
    for report in removed:
        dbsession.delete(report)
    dbsession.flush()
    kept = [r for r in reports if r.id not in ids]
    if kept:
        last = kept[-1]
        last.kind = "final"
        if means(last, *WAITING_REPORT) and last.period_end > last_day >= last.period_start:
            zone = award.round.timezone if award.round is not None else "UTC"
            last.period_end, last.due_at = last_day, due_moment(last_day, zone)
    return removed


def amendment_changes(amendment: AwardAmendment) -> list[tuple[str, object, object]]:
    """(what, before, after) for each term an amendment changed: ``"amount"`` with Money,
    ``"starts_on"``/``"ends_on"`` with dates."""
    changes = []
    before, after = amendment.before or {}, amendment.after or {}
    if "amount_minor" in before or "amount_minor" in after:
        currency = after.get("currency") or before.get("currency")
        old = before.get("amount_minor")
        new = after.get("amount_minor")
        changes.append(("amount", None if old is None else Money.from_minor(int(old), currency),
                        None if new is None else Money.from_minor(int(new), currency)))
    for key in ("starts_on", "ends_on"):
        if key in before or key in after:
            old, new = before.get(key), after.get(key)
            if old != new:
                changes.append((key, old and dt.date.fromisoformat(old), new and dt.date.fromisoformat(new)))
    return changes


# -- the payment schedule ----------------------------------------------------------------------------


def split_by_percent(total: Money, percents: list[Decimal]) -> list[Money]:
    """``total`` split by percentages that add up to 100, exactly in minor units: each
    share but the last is rounded down, the last takes the remainder
    (100,000 UGX in 33.33/33.33/33.34 % is 33,330 + 33,330 + 33,340)."""
    shares = [int((Decimal(total.minor_units) * p / HUNDRED).to_integral_value(rounding=ROUND_DOWN))
              for p in percents[:-1]]
    shares.append(total.minor_units - sum(shares))
    return [Money.from_minor(s, total.currency) for s in shares]


def set_schedule(dbsession: Session, registry, award: Award, tranches: list[dict], *, user=None,
                 now: dt.datetime | None = None) -> list[Tranche]:
    """Set the award's payment schedule.  Each tranche is a dict with either ``amount``
    (Money, in the award's currency) or ``percent`` (Decimal) — all tranches the same way —
    and ``due_on`` (a date or None), ``condition`` (the name of a tranche condition offered
    to the award's programme, :func:`conditions_for`; default ``none``) and
    ``condition_report`` (a Report of this award, for ``report_accepted``).  Percentages
    must add up to exactly 100 and amounts to exactly the award's amount.  Refused once any
    tranche has been released.  Tranches already scheduled are replaced (kept rows keep
    their ids); new ones start in the ``tranche`` workflow."""
    problems = []
    if user is not None and not holds_permission(registry, award, user, Permission.AwardsAwardManage):
        problems.append((None, _("Only the programme's officers can set the payment schedule.")))
    if not means(award, "active"):
        problems.append((None, _("Only an active award's payment schedule can change.")))
    if any(not means(t, "pending") for t in award.tranches):
        problems.append((None, _("A tranche has already been released: the payment schedule can no longer "
                                 "change. Amend the award to change its amount.")))
    if not tranches:
        problems.append(("tranches", _("Give at least one tranche.")))
    by_percent = [t for t in tranches if t.get("percent") is not None]
    by_amount = [t for t in tranches if t.get("amount") is not None]
    if by_percent and by_amount:
        problems.append(("tranches", _("Give every tranche as a percentage, or every tranche as an amount.")))
    amounts: list[Money | None] = [None] * len(tranches)
    offered = conditions_for(registry, award)
    for i, spec in enumerate(tranches):
        where = f"tranche_{i + 1}"
        number = {"number": i + 1}
        percent, amount = spec.get("percent"), spec.get("amount")
        if percent is None and amount is None:
            problems.append((f"{where}.share", _("Give tranche ${number}'s percentage or amount.", mapping=number)))
        elif percent is not None and (not isinstance(percent, Decimal) or not percent.is_finite()
                                      or percent <= 0 or percent > HUNDRED):
            problems.append((f"{where}.share", _("Give tranche ${number} a percentage more than 0 and at most 100.",
                                                 mapping=number)))
        elif percent is not None and percent.as_tuple().exponent < -4:
            problems.append((f"{where}.share", _("Give tranche ${number}'s percentage with at most 4 decimals.",
                                                 mapping=number)))
        elif amount is not None:
            if amount.currency != award.currency:
                problems.append((f"{where}.share", _("Give tranche ${number} in ${currency}, the award's currency.",
                                                     mapping={**number, "currency": award.currency})))
            elif amount.minor_units <= 0:
                problems.append((f"{where}.share", _("Tranche ${number} must be more than zero.", mapping=number)))
            else:
                amounts[i] = amount
        condition = spec.get("condition") or CONDITION_NONE
        report = spec.get("condition_report")
        if condition not in offered:
            problems.append((f"{where}.condition", _("Choose what tranche ${number} waits for.", mapping=number)))
        elif offered[condition].needs_report and report is None:
            problems.append((f"{where}.condition_report", _("Choose the report tranche ${number} waits for.",
                                                            mapping=number)))
        elif offered[condition].needs_report and report.award_id != award.id:
            problems.append((f"{where}.condition_report", _("Tranche ${number} can only wait for a report of this "
                                                            "award.", mapping=number)))
    if by_percent and not by_amount and not problems:
        total = sum(t["percent"] for t in tranches)
        if total != HUNDRED:
            problems.append(("tranches", _("The percentages add up to ${total} %; they must add up to exactly 100 %.",
                                           mapping={"total": _plain_number(total)})))
        else:
            amounts = split_by_percent(award.amount, [t["percent"] for t in tranches])
            for i, share in enumerate(amounts):
                if share.minor_units <= 0:
                    problems.append((f"tranche_{i + 1}.share", _("Tranche ${number} would be nothing at all: give "
                                                                 "it a larger share.", mapping={"number": i + 1})))
    elif by_amount and not by_percent and not problems:
        total = sum_money(amounts, award.currency)
        if total != award.amount:
            difference = award.amount - total
            problems.append(("tranches", _(
                "The tranches add up to ${total}; the award is ${amount}: they must be equal (${difference} "
                "${direction}).",
                mapping={"total": money_text(total), "amount": money_text(award.amount),
                         "difference": money_text(abs(difference)),
                         "direction": _("to add") if difference.minor_units > 0 else _("too much")})))
    AwardRefused.refuse_if(problems)

    service = WorkflowService(workflows_of(registry), dbsession)
    existing = list(award.tranches)
    for surplus in existing[len(tranches):]:
        award.tranches.remove(surplus)
    dbsession.flush()
    result = []
    for i, (spec, share) in enumerate(zip(tranches, amounts)):
        condition = spec.get("condition") or CONDITION_NONE
        values = dict(position=i + 1, amount_minor=share.minor_units, currency=award.currency,
                      percent=spec.get("percent"), due_on=spec.get("due_on"), condition=condition,
                      condition_report_id=spec["condition_report"].id if _needs_report(condition, registry) else None)
        if i < len(existing):
            tranche = existing[i]
            for key, value in values.items():
                setattr(tranche, key, value)
            tranche.condition_report = spec["condition_report"] if _needs_report(condition, registry) else None
        else:
            tranche = Tranche(award=award, **values)
            service.start(tranche, user, now=now)
        result.append(tranche)
    dbsession.flush()
    return result


def _plain_number(value: Decimal) -> str:
    return format(value.normalize(), "f")


def report_period(report, locale: str | None = None) -> str:
    """A report's period as the locale writes a range of days ("1 Jul – 30 Sep 2019")."""
    return format_date_range(report.period_start, report.period_end, locale or _request_locale())


def money_text(money: Money, locale: str | None = None) -> str:
    """Money as the page's locale writes it, for the mapping of a reason."""
    from grants.money import format_money

    return format_money(money, (locale or _request_locale()).replace("-", "_"))


def _request_locale() -> str:
    from pyramid.threadlocal import get_current_request

    request = get_current_request()
    return getattr(request, "locale_name", None) or "en"


# -- tranche conditions --------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrancheCondition:
    """What a tranche's release may wait for: ``name`` (stored on the tranche, 30
    characters at most), how it reads (``title``), and ``check(tranche)``, which returns
    None when it holds and otherwise the reason, a sentence the officer reads.
    ``needs_report``: the officer names the report it is about (``Tranche.condition_report``).
    ``origin``: the plugin that brought it ("" for grants)."""

    name: str
    title: Any
    check: Callable[[Tranche], Any]
    needs_report: bool = False
    origin: str = ""


def _no_condition(tranche: Tranche):
    return None


def _agreement_signed(tranche: Tranche):
    award = tranche.award
    if award.agreement_file_id is None and award.agreement_file is None:
        return _("The signed grant agreement is not on file yet: upload it on the award's agreement page.")
    if award.agreement_signed_on is None:
        return _("The day the grant agreement was signed is not recorded yet.")
    return None


def _report_accepted(tranche: Tranche):
    report = tranche.condition_report
    if report is None:
        return _("This tranche waits for a report, but none is named: set the payment schedule again.")
    if not means(report, "accepted"):
        return _("Report ${number} (${period}) is not accepted yet: it is ${state}.",
                 mapping={"number": report.number, "period": report_period(report),
                          "state": report_state_words(report)})
    return None


#: grants' own conditions, registered by ``grants.awards.includeme`` like a plugin's.
CORE_CONDITIONS = (
    TrancheCondition(CONDITION_NONE, _("No condition"), _no_condition),
    TrancheCondition(CONDITION_AGREEMENT, _("The signed grant agreement is on file"), _agreement_signed),
    TrancheCondition(CONDITION_REPORT, _("A report is accepted"), _report_accepted, needs_report=True),
)


def add_tranche_condition(config, name: str, title, check, needs_report: bool = False) -> None:
    """Add a condition a tranche's release can wait for, offered on the payment schedules
    of the awards in the plugin's programmes.

    ``name`` is stored on each tranche that waits for it (letters, digits and _, 30
    characters at most; two registrations of one name conflict); ``title`` is how it reads
    in the schedule's list (a message of the ``grants`` domain); ``check(tranche)`` returns
    None when the condition holds, else a sentence saying what is missing, which the
    officer reads when releasing is refused (the tranche workflow's release guard calls
    it).  ``needs_report=True`` makes the officer choose one of the award's reports for the
    tranche (``tranche.condition_report``), as for grants' own ``report_accepted``.  grants'
    conditions ``none``, ``agreement_signed`` and ``report_accepted`` are registered the
    same way."""
    import re

    from pyramid.exceptions import ConfigurationError

    from grants.plugins import current_plugin, register_change

    if not re.fullmatch(r"[a-z][a-z0-9_]{0,29}", name or ""):
        raise ConfigurationError(f"tranche condition {name!r}: a name of letters, digits and _, 30 at most")
    condition = TrancheCondition(name, title, check, bool(needs_report), current_plugin(config))
    register_change(config, ("grants:tranche-condition", name), f"add the tranche condition {name!r}",
                    lambda: config.registry.setdefault("grants.tranche_conditions", {}).__setitem__(name, condition))


def tranche_conditions(registry=None) -> dict[str, TrancheCondition]:
    """Every registered tranche condition by name (grants' own where there is no
    configured registry: scripts)."""
    if registry is None:
        from pyramid.threadlocal import get_current_registry

        registry = get_current_registry()
    registry = getattr(registry, "app_registry", None) or registry
    found = registry.get("grants.tranche_conditions") if isinstance(registry, dict) else None
    return found or {c.name: c for c in CORE_CONDITIONS}


def conditions_for(registry, award) -> dict[str, TrancheCondition]:
    """The conditions the award's programme may use: grants' and its plugins'."""
    from grants.plugins import in_scope

    plugins = award.round.programme.plugins if award.round is not None else ()
    return {name: c for name, c in tranche_conditions(registry).items() if in_scope(c.origin, plugins)}


def condition_title(registry, name: str):
    """How a tranche condition reads (its name, when no plugin enabled here knows it)."""
    condition = tranche_conditions(registry).get(name)
    return condition.title if condition is not None else name


def _needs_report(name: str, registry=None) -> bool:
    condition = tranche_conditions(registry).get(name)
    return bool(condition and condition.needs_report)


def tranche_condition_problem(tranche: Tranche, registry=None):
    """None when the tranche's condition holds, else a reason naming what is missing
    ("Report 1 (1 Jul – 30 Sep 2019) is not accepted yet: it is submitted and waiting
    for review.").  The release guard (``grants.awards.guards.tranche_condition_holds``)."""
    condition = tranche_conditions(registry).get(tranche.condition)
    if condition is None:
        return _("This tranche waits for “${condition}”, which this version does not know.",
                 mapping={"condition": tranche.condition})
    return condition.check(tranche)


def open_reports(dbsession: Session, award: Award) -> list:
    """The award's reports not accepted yet, in order (the close guard waits for none)."""
    from grants.mel.models import Report

    return list(dbsession.scalars(
        select(Report).where(Report.award_id == award.id, ~state_means(Report, "accepted")).order_by(Report.number)))


# -- budget against actual -----------------------------------------------------------------------------


def set_budget(dbsession: Session, award: Award, lines: list[tuple[str | dict, Money]], *, user=None
               ) -> list[BudgetLine]:
    """Set the award's budget: (category, planned Money) lines, in the award's currency,
    adding up to exactly the award's amount.  A line keeps its spending when its category
    stays (matched without regard to case, in the programme's default language); a line
    with spending cannot be removed.  A category is a plain string (the default
    language's) or ``{language: text}`` (grants.multilingual); a line keeps the other
    languages of its category when a string names it."""
    from grants.multilingual import clean_texts, default_language_of, languages_of, set_texts, texts
    problems = []
    if user is not None and not _holds(user, award, (Role.ProgrammeOfficer, Role.Admin)):
        problems.append((None, _("Only the programme's officers can set the award's budget.")))
    if not means(award, "active"):
        problems.append((None, _("Only an active award's budget can change.")))
    if not lines:
        problems.append(("lines", _("Give at least one budget line.")))
    seen = set()
    cleaned = []
    names = {}  # default-language category (folded) -> every language
    languages = languages_of(award)
    by_category = {line.category.casefold(): line for line in award.budget_lines}
    for i, (category, planned) in enumerate(lines):
        where = f"line_{i + 1}"
        every = {code: " ".join((text or "").split()) for code, text in (
            category.items() if isinstance(category, dict) else [(languages[0], category)])}
        category = every.get(languages[0], "")
        every, found = clean_texts(every, languages=languages, field=f"{where}.category", limit=200,
                                   current=None)
        problems += [(f"{where}.category", reason) for _name, reason in found if not category or len(category) <= 200]
        if not isinstance(lines[i][0], dict) and category.casefold() in by_category:
            # A name alone keeps the line's other languages.
            every = {**texts(by_category[category.casefold()], "category"), **every}
        names[category.casefold()] = every
        if not category:
            problems.append((f"{where}.category", _("Name budget line ${number}, like “Staff”.",
                                                    mapping={"number": i + 1})))
        elif len(category) > 200:
            problems.append((f"{where}.category", _("Name budget line ${number} in 200 characters or fewer.",
                                                    mapping={"number": i + 1})))
        elif category.casefold() in seen:
            problems.append((f"{where}.category", _("“${category}” is already a line: give each line once.",
                                                    mapping={"category": category})))
        seen.add(category.casefold())
        if not isinstance(planned, Money) or planned.currency != award.currency:
            problems.append((f"{where}.planned", _("Give the planned amount in ${currency}, the award's currency.",
                                                   mapping={"currency": award.currency})))
        elif planned.minor_units < 0:
            problems.append((f"{where}.planned", _("A planned amount cannot be negative.")))
        cleaned.append((category, planned))
    if not problems:
        total = sum_money((p for _c, p in cleaned), award.currency)
        if total != award.amount:
            problems.append(("lines", _("The budget lines add up to ${total}; the award is ${amount}: they must be "
                                        "equal.", mapping={"total": money_text(total),
                                                           "amount": money_text(award.amount)})))
    wanted = {c.casefold() for c, _p in cleaned}
    for line in award.budget_lines:
        if line.category.casefold() not in wanted and line.expenditures:
            problems.append(("lines", _("“${category}” has spending recorded against it: keep the line (its planned "
                                        "amount may change).", mapping={"category": line.category})))
    AwardRefused.refuse_if(problems)

    existing = {line.category.casefold(): line for line in award.budget_lines}
    for line in list(award.budget_lines):
        if line.category.casefold() not in wanted:
            award.budget_lines.remove(line)
    # Positions are not unique in the table, so lines can be renumbered in place.
    result = []
    for position, (category, planned) in enumerate(cleaned, start=1):
        line = existing.get(category.casefold())
        if line is None:
            line = BudgetLine(award=award, category=category, position=position, planned_minor=planned.minor_units,
                              currency=award.currency)
        else:
            line.category, line.position, line.planned_minor = category, position, planned.minor_units
        before = texts(line, "category") if line.id is not None else None
        set_texts(line, "category", names.get(category.casefold()) or {default_language_of(award): category})
        if before is not None and before != texts(line, "category"):
            record_change(dbsession, line, "category", before, texts(line, "category"), user=user)
        result.append(line)
    award.budget_lines = result
    dbsession.flush()
    return result


def record_expenditure(dbsession: Session, line: BudgetLine, *, amount: Money, spent_on: dt.date, report=None,
                       note: str = "", user=None) -> Expenditure:
    """Record spending against a budget line, in the award's currency, on a day within the
    grant (by the grantee's members or the programme's officers), optionally with the
    report it was reported in."""
    award = line.award
    problems = []
    if user is not None and not _holds(user, award, (Role.Applicant, Role.ProgrammeOfficer, Role.Admin)):
        problems.append((None, _("Only the grantee's members and the programme's officers can record spending.")))
    if means(award, "closed"):
        problems.append((None, _("The grant is closed: its spending can no longer change.")))
    if not isinstance(amount, Money) or amount.currency != line.currency:
        problems.append(("amount", _("Give the amount in ${currency}, the award's currency.",
                                     mapping={"currency": line.currency})))
    elif amount.minor_units <= 0:
        problems.append(("amount", _("The amount spent must be more than zero.")))
    last_day = award.ended_on or award.ends_on
    if spent_on < award.starts_on or spent_on > last_day:
        problems.append(("spent_on", _("Give a day within the grant, from ${start} to ${end}.",
                                       mapping={"start": format_date(award.starts_on), "end": format_date(last_day)})))
    if report is not None and report.award_id != award.id:
        problems.append(("report", _("Choose a report of this award.")))
    AwardRefused.refuse_if(problems)
    expenditure = Expenditure(line=line, amount_minor=amount.minor_units, currency=amount.currency, spent_on=spent_on,
                              report_id=None if report is None else report.id, note=(note or "").strip(),
                              recorded_by_id=_user_id(user))
    dbsession.add(expenditure)
    dbsession.flush()
    return expenditure


@dataclass
class BudgetRow:
    category: str
    planned: Money
    actual: Money
    remaining: Money
    percent_spent: Decimal | None  # None when nothing was planned
    line: BudgetLine | None = None


@dataclass
class BudgetSummary:
    rows: list[BudgetRow] = field(default_factory=list)
    total: BudgetRow | None = None


def _percent(part: Money, whole: Money) -> Decimal | None:
    if not whole.minor_units:
        return None
    return (Decimal(part.minor_units) * HUNDRED / Decimal(whole.minor_units)).quantize(
        Decimal("0.01"), rounding=ROUND_HALF_EVEN)


def budget_vs_actual(award: Award) -> BudgetSummary:
    """Each budget line with what was planned, spent, what remains (negative when
    overspent) and the percentage spent (2 decimals), and the same for the whole budget.
    Every figure is exact: minor units added, never floats."""
    rows = []
    for line in award.budget_lines:
        actual = sum_money((e.amount for e in line.expenditures), line.currency)
        rows.append(BudgetRow(line.category, line.planned, actual, line.planned - actual,
                              _percent(actual, line.planned), line))
    planned = sum_money((r.planned for r in rows), award.currency)
    actual = sum_money((r.actual for r in rows), award.currency)
    return BudgetSummary(rows, BudgetRow("", planned, actual, planned - actual, _percent(actual, planned)))
