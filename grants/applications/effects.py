"""Effects on the application workflow.  Each receives the fire's context (``ctx``)
after the state has changed, inside the same database transaction."""
from __future__ import annotations

from sqlalchemy import select

from grants.i18n import _
from grants.lifecycle.meanings import means


def stamp_submitted(ctx) -> None:
    ctx.obj.submitted_at = ctx.now


def stamp_proposal_submitted(ctx) -> None:
    ctx.obj.proposal_submitted_at = ctx.now


def notify_applicant(ctx) -> None:
    """Tell every member of the applying organisation where the application now stands,
    and why — the eligibility rules it does not meet, or the reason given — each in their
    own language, once the decision is committed (nothing is sent if it rolls back)."""
    from grants.accounts.models import Membership, User
    from grants.mail import notify

    app_registry = getattr(ctx.env, "app", None)
    if app_registry is None or getattr(app_registry, "mailer", None) is None:
        return  # no mailer configured (a bare engine in a script): nothing to send with
    application = ctx.obj
    state = ctx.workflow.definition.states[application.state]
    dbsession = ctx.env.dbsession
    members = dbsession.scalars(
        select(User).join(Membership, Membership.user_id == User.id)
        .where(Membership.organisation_id == application.organisation_id).order_by(User.id))
    status = _(state.public_title or state.title)  # the applicant's word for it
    subject = _("Your application “${title}”: ${status}", mapping={"title": application.title, "status": status})
    for user in members:
        body = _applicant_message(ctx, app_registry, user, status)
        notify(app_registry, user, subject, body, transaction_manager=ctx.env.transaction_manager)


def _applicant_message(ctx, app_registry, user, status):
    """The body for one member.  Not eligible: the reasons from the screening, each in the
    member's language (the comment is the same list in the officer's language, kept in
    the history).  Otherwise the officer's reason, as they wrote it."""
    from grants.applications.eligibility import ineligible_reasons
    from grants.i18n import translate_for

    application = ctx.obj
    values = {"title": application.title, "round": application.round.title, "status": status}
    if means(application, "ineligible"):
        reasons = ineligible_reasons(application, locale=user.locale)
        if reasons:
            lines = [f"- {translate_for(app_registry, user.locale, reason)}" for reason in reasons]
            return _("Your application “${title}” to ${round} is now: ${status}.\n\n"
                     "It does not meet these eligibility rules:\n${reasons}\n",
                     mapping={**values, "reasons": "\n".join(lines)})
    if ctx.comment:
        return _("Your application “${title}” to ${round} is now: ${status}.\n\nThe reason given:\n${reason}\n",
                 mapping={**values, "reason": ctx.comment})
    return _("Your application “${title}” to ${round} is now: ${status}.\n", mapping=values)
