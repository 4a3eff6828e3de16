"""Effects on the award and tranche workflows, inside the fire's transaction."""
from __future__ import annotations

from grants.lifecycle.services import _user_id

from .models import AwardAmendment, Disbursement


def apply_no_cost_extension(ctx) -> None:
    """Move the end date, keep the change beside the history, and add the reporting
    periods the longer grant now needs."""
    from grants.mel.services import extend_reporting_periods

    award = ctx.obj
    new_end = ctx.data["new_end_date"]
    ctx.env.dbsession.add(AwardAmendment(
        award=award, kind="no_cost_extension", before={"ends_on": award.ends_on.isoformat()},
        after={"ends_on": new_end.isoformat()}, reason=ctx.comment, made_by_id=_user_id(ctx.actor.id),
        made_at=ctx.now))
    award.ends_on = new_end
    extend_reporting_periods(ctx.env.dbsession, award, ctx.env.app, now=ctx.now)


def record_early_end(ctx) -> None:
    """Keep the exit plan, the rationale and the last day beside the history, and remove
    the reports still due for periods after the last day (their creation stays in the
    history); the report covering the last day becomes the final one."""
    from .services import drop_reports_after

    award = ctx.obj
    data = ctx.data
    ctx.env.dbsession.add(AwardAmendment(
        award=award, kind="early_end", before={"ends_on": award.ends_on.isoformat()},
        after={"ends_on": data["ended_on"].isoformat()}, reason=data["rationale"],
        made_by_id=_user_id(ctx.actor.id), made_at=ctx.now))
    award.exit_plan = data["exit_plan"]
    award.end_rationale = data["rationale"]
    award.ended_on = data["ended_on"]
    drop_reports_after(ctx.env.dbsession, award, data["ended_on"])


def stamp_release(ctx) -> None:
    ctx.obj.released_at = ctx.now
    ctx.obj.released_by_id = _user_id(ctx.actor.id)


def record_disbursement(ctx) -> None:
    data = ctx.data
    tranche = ctx.obj
    ctx.env.dbsession.add(Disbursement(
        tranche=tranche, award_id=tranche.award_id, amount_minor=data["amount"].minor_units,
        currency=data["amount"].currency, paid_on=data["paid_on"], reference=data.get("reference") or "",
        recorded_by_id=_user_id(ctx.actor.id), recorded_at=ctx.now))
