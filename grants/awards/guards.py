"""Guards on the award and tranche workflows: each returns None or a reason to show.

Guards on a transition with a form are also asked, without data, which steps a person
may take (``Workflow.options``); they then hold, so that the form is offered, and decide
once it is filled in (the engine refuses to fire such a step without its data)."""
from __future__ import annotations

from grants.i18n import _, ngettext


def _not_filled_in(ctx) -> bool:
    return ctx.data is None


def extension_is_later(ctx):
    if _not_filled_in(ctx):
        return None
    new_end = (ctx.data or {}).get("new_end_date")
    if new_end is None:
        return _("Give the new end date.")
    if new_end <= ctx.obj.ends_on:
        return _("A no-cost extension must end after the current end date (${date}).",
                 mapping={"date": ctx.obj.ends_on.isoformat()})
    return None


def exit_plan_given(ctx):
    if _not_filled_in(ctx):
        return None
    data = ctx.data
    if not (data.get("exit_plan") or "").strip():
        return _("Ending a grant early needs an exit plan.")
    if not (data.get("rationale") or "").strip():
        return _("Ending a grant early needs a rationale.")
    ended_on = data.get("ended_on")
    if ended_on is None:
        return _("Give the grant's last day.")
    if ended_on < ctx.obj.starts_on or ended_on >= ctx.obj.ends_on:
        return _("An early end must fall between the start date and the current end date.")
    return None


def reports_all_accepted(ctx):
    from grants.awards.services import open_reports

    waiting = open_reports(ctx.env.dbsession, ctx.obj)
    if waiting:
        return ngettext("${count} report is not accepted yet.", "${count} reports are not accepted yet.", len(waiting))
    return None


def tranche_condition_holds(ctx):
    from grants.awards.services import tranche_condition_problem

    return tranche_condition_problem(ctx.obj, getattr(ctx.env, "app", None))


def disbursement_matches(ctx):
    if _not_filled_in(ctx):
        return None
    amount = (ctx.data or {}).get("amount")
    tranche = ctx.obj
    if amount is None:
        return _("Give the amount paid.")
    if amount.currency != tranche.currency:
        return _("Record the payment in ${currency}, the award's currency.", mapping={"currency": tranche.currency})
    if amount.minor_units <= 0:
        return _("The amount paid must be more than zero.")
    if amount.minor_units > tranche.amount_minor:
        from grants.awards.services import money_text

        return _("The amount paid is more than the tranche (${amount}).",
                 mapping={"amount": money_text(tranche.amount)})
    return None
