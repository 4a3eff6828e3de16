"""Award services: making an award from a selected application.  Each function takes
the database session and the registry (Pyramid's or the workflow registry), and
``actor``/``user`` and ``now=`` where the history needs them."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from grants.i18n import _
from grants.lifecycle.services import WorkflowService, workflows_of
from grants.money import Money
from grants.workflow import ProblemsRefused

from .models import CADENCES, Award

#: Application states an award can be made from.
AWARDABLE_STATES = ("selected", "cleared")


class AwardRefused(ProblemsRefused):
    """An award service refused: ``problems`` is a list of (field, reason)."""


def make_award(dbsession: Session, registry, application, *, amount: Money, starts_on: dt.date, ends_on: dt.date,
               cadence: str = "quarterly", title: str | None = None, agreement_file=None,
               source_amount: Money | None = None, fx_rate=None, fx_date: dt.date | None = None,
               user=None, actor=None, now: dt.datetime | None = None) -> Award:
    """Make the award for a selected (or cleared) application, start its workflow and
    create its reporting periods.  Refused, changing nothing, if the application is not
    selected, already has an award, or the money or dates are wrong."""
    from grants.mel.services import generate_reporting_periods

    problems = []
    if application.state not in AWARDABLE_STATES:
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
