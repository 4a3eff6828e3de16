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


def _members(ctx) -> list:
    """Every member of the organisation that applies."""
    from grants.accounts.models import Membership, User

    return list(ctx.env.dbsession.scalars(
        select(User).join(Membership, Membership.user_id == User.id)
        .where(Membership.organisation_id == ctx.obj.organisation_id).order_by(User.id)))


def _recipients(ctx):
    """Every member of the applying organisation, and whoever fired the step if they are
    not one (an administrator acting for them), each once."""
    from grants.accounts.models import User

    dbsession = ctx.env.dbsession
    users = _members(ctx)
    actor_id = (ctx.actor.id or "") if ctx.actor is not None else ""
    if actor_id.startswith("user:") and actor_id[5:].isdigit() and int(actor_id[5:]) not in {u.id for u in users}:
        actor = dbsession.get(User, int(actor_id[5:]))
        if actor is not None:
            users.insert(0, actor)
    return users


def _mailer_registry(ctx):
    app_registry = getattr(ctx.env, "app", None)
    return app_registry if getattr(app_registry, "mailer", None) is not None else None


def confirm_submission(ctx) -> None:
    """Effect of ``submit`` and ``resubmit``: a receipt for the submitter and every member
    of the organisation, in each one's language, with the application's reference and
    what happens next (by the round's dates) — once the submission is committed."""
    from grants.i18n import format_datetime
    from grants.mail import notify

    app_registry = _mailer_registry(ctx)
    if app_registry is None:
        return  # no mailer configured (a bare engine in a script)
    application, rnd = ctx.obj, ctx.obj.round
    values = {"title": application.title, "round": rnd.title, "reference": application.reference,
              "when": format_datetime(ctx.now, rnd.timezone)}
    if rnd.closes_at is not None and ctx.now < rnd.closes_at:
        values["next"] = _("The round closes on ${closes}. After that the programme team checks each application "
                           "against the round's eligibility rules, and writes to you with the outcome.",
                           mapping={"closes": format_datetime(rnd.closes_at, rnd.timezone)})
    else:
        values["next"] = _("The programme team now checks your application against the round's eligibility "
                           "rules, and writes to you with the outcome.")
    if ctx.transition.trigger == "resubmit":
        subject = _("We received your changes to “${title}” (${reference})", mapping=values)
        body = _("Thank you: your changed application “${title}” to ${round} was received on ${when}. "
                 "Its reference is ${reference}.\n\nWhat happens next: ${next}\n", mapping=values)
    else:
        subject = _("We received your application “${title}” (${reference})", mapping=values)
        body = _("Thank you: your application “${title}” to ${round} was received on ${when}. "
                 "Its reference is ${reference}.\n\nWhat happens next: ${next}\n\n"
                 "If the programme team needs changes, they will return the application to you with a message.\n",
                 mapping=values)
    for user in _recipients(ctx):
        notify(app_registry, user, subject, body, transaction_manager=ctx.env.transaction_manager)


def notify_returned(ctx) -> None:
    """Effect of ``return_for_changes``: every member of the organisation gets the
    officer's message, in their own language around it, once the return is committed."""
    from grants.mail import notify

    app_registry = _mailer_registry(ctx)
    if app_registry is None:
        return
    application = ctx.obj
    values = {"title": application.title, "round": application.round.title, "reference": application.reference,
              "message": ctx.comment}
    subject = _("Your application “${title}” is returned to you for changes", mapping=values)
    body = _("The programme team has returned your application “${title}” (${reference}) to ${round} so that you can "
             "change it. Their message:\n\n${message}\n\nSign in, make the changes and submit the application "
             "again.\n", mapping=values)
    for user in _members(ctx):
        notify(app_registry, user, subject, body, transaction_manager=ctx.env.transaction_manager)
