"""Guards on the application workflow.  Each returns None, or a reason a person can read
(several reasons may come back as a list, one per problem)."""
from translationstring import TranslationStringFactory

from grants.i18n import format_datetime
from grants.lifecycle.meanings import means

_ = TranslationStringFactory("grants")


def round_is_open(ctx):
    rnd = ctx.obj.round
    if not means(rnd, "open"):
        return _("The round is not open for applications.")
    if rnd.closes_at is not None and ctx.now >= rnd.closes_at:
        return _(
            "The round closed on ${when}; applications can no longer be submitted.",
            mapping={"when": format_datetime(rnd.closes_at, rnd.timezone)},
        )
    return None


def _first(problems):
    # The engine takes one reason per guard; the task list and the check-your-answers
    # page show every problem, so the first one is enough here.
    return problems[0] if problems else None


def _load_what_the_answers_need(ctx) -> None:
    """Bring in, in one statement, what checking the answers reads and the object does not
    hold yet: its documents, its organisation (the schemas are bound with its country)
    and its round's tiers (the amount's maximum).  Loaded one by one when first read,
    they would cost a statement each on every fire."""
    from sqlalchemy import inspect, select
    from sqlalchemy.orm import joinedload

    from grants.applications.models import Application
    from grants.programmes.models import Round

    application = ctx.obj
    unloaded = inspect(application).unloaded
    options = [joinedload(attribute) for name, attribute in (("attachments", Application.attachments),
                                                             ("organisation", Application.organisation))
               if name in unloaded]
    if "tiers" in inspect(application.round).unloaded:  # the round came with the application
        options.append(joinedload(Application.round).joinedload(Round.tiers))
    if options:
        # Rows already in the session keep their loaded values; only what is missing is filled in.
        ctx.env.dbsession.execute(select(Application).where(Application.id == application.id)
                                  .options(*options)).unique().all()


def answers_complete(ctx):
    """Every section answered and valid, every required attachment present, the amount
    within the round's maximum (``grants.applications.services.missing_answers``)."""
    from grants.applications.services import missing_answers

    _load_what_the_answers_need(ctx)
    return _first(missing_answers(ctx.env.app, ctx.obj, stage="application"))


def proposal_complete(ctx):
    from grants.applications.services import missing_answers

    _load_what_the_answers_need(ctx)
    return _first(missing_answers(ctx.env.app, ctx.obj, stage="proposal"))


def screened_eligible(ctx):
    """Eligible only when an officer has confirmed or overridden every rule's result and
    every rule then passes (``grants.applications.eligibility``)."""
    from grants.applications.eligibility import screening_outcome

    outcome = screening_outcome(ctx.obj)
    if outcome is None:
        return _("Confirm or override the result of every eligibility rule first.")
    if outcome is False:
        return _("At least one eligibility rule is not met; mark the application ineligible instead.")
    return None


def screened_ineligible(ctx):
    from grants.applications.eligibility import screening_outcome

    outcome = screening_outcome(ctx.obj)
    if outcome is None:
        return _("Confirm or override the result of every eligibility rule first.")
    if outcome is True:
        return _("Every eligibility rule is met; confirm the application as eligible instead.")
    return None
