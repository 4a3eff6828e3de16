"""Effects on the application workflow.  Each receives the fire's context (``ctx``)
after the state has changed, inside the same database transaction."""
from __future__ import annotations

from sqlalchemy import select

from grants.i18n import _


def stamp_submitted(ctx) -> None:
    ctx.obj.submitted_at = ctx.now


def stamp_proposal_submitted(ctx) -> None:
    ctx.obj.proposal_submitted_at = ctx.now


def notify_applicant(ctx) -> None:
    """Tell every member of the applying organisation where the application now stands,
    with the reason given, each in their own language — once the decision is committed
    (nothing is sent if the transaction rolls back)."""
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
    subject = _("Your application “${title}”: ${status}",
                mapping={"title": application.title, "status": _(state.public or state.title)})
    if ctx.comment:
        body = _("Your application “${title}” to ${round} is now: ${status}.\n\nThe reason given:\n${reason}\n",
                 mapping={"title": application.title, "round": application.round.title,
                          "status": _(state.public or state.title), "reason": ctx.comment})
    else:
        body = _("Your application “${title}” to ${round} is now: ${status}.\n",
                 mapping={"title": application.title, "round": application.round.title,
                          "status": _(state.public or state.title)})
    for user in members:
        notify(app_registry, user, subject, body, transaction_manager=ctx.env.transaction_manager)
