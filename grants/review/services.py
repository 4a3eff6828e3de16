"""The reviewer side of review: rubrics, inviting reviewers to a round, assigning them
applications (by hand or automatically), conflict-of-interest declarations, and scoring.

Every function takes the SQLAlchemy session first, flushes but never commits, and refuses
with :class:`ReviewRefused` — nothing changed — whose ``reasons`` are sentences a person can
read (TranslationStrings, domain ``grants``) and whose ``problems`` say which field each is
about (``None`` for the request as a whole).  The arithmetic of scores lives in
:mod:`grants.review.scoring`; ranking, moderation and decisions in ``decisions``.

Rubrics::

    rubric = default_rubric(db)                   # the general rubric, made once
    rubric = create_rubric(db, "Call 4", [{"id": "need", "title": "Need", "weight": "2",
                                           "labels": {"1": "…", "2": "…", "3": "…", "4": "…", "5": "…"}}])
    rubric_for(db, rnd)                           # the round's (Round.rubric_id), else the general one
    registered_rubric(db, registry, "My Fund")    # one a plugin offers (config.add_rubric), stored once

Reviewers, invited to a round, accept or decline::

    invitation = invite_reviewer(db, registry, rnd, user, officer)   # mails them after commit
    invite_reviewer_by_email(db, registry, rnd, "sami@example.org", officer)
    respond(db, invitation, user, accept=True)

Assignment (only accepted reviewers; never a declared conflict, never a member of the
applying organisation)::

    assign(db, application, reviewer, officer, APPLICATION_STAGE)
    summary = auto_assign(db, rnd, per_application=3, stage=APPLICATION_STAGE, assigned_by=officer)
    summary.assigned, summary.short                # what was made; who still lacks reviewers, and why
    reviewer_load(db, rnd, APPLICATION_STAGE)      # {user id: applications to review}
    unassign(db, assignment, officer)

Declaring, then scoring (the reviewer gets the ``reviewer`` role on the application only
once they declare no conflict — ``Application.local_roles_for``)::

    declare(db, assignment, reviewer, conflict=False)
    declare(db, other, reviewer, conflict=True, reason="I chair their board")   # final
    save_review(db, registry, assignment, reviewer, scores={"relevance": 4}, rationales={...}, submit=False)
    save_review(db, registry, assignment, reviewer, scores=..., rationales=..., submit=True)
    my_assignments(db, reviewer); pending_invitations(db, reviewer)
"""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, joinedload
from translationstring import TranslationString

from grants.accounts.models import Membership, User
from grants.applications.models import Application
from grants.i18n import _
from grants.lifecycle.meanings import means, state_means
from grants.programmes.models import Round
from grants.security import Permission
from grants.workflow import ProblemsRefused
from grants.lifecycle.services import holds_permission

from . import scoring
from .models import (APPLICATION_STAGE, STAGE_MEANINGS, STAGES, Review, ReviewAssignment,
                     RoundReviewer, Rubric)

#: How many reviewers an application is expected to have when nothing says otherwise.
DEFAULT_PER_APPLICATION = 2
#: Criterion ids become form field names: keep them plain.
CRITERION_ID = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
RESERVED_IDS = {"csrf_token", "submit", "save"}

INVITED, ACCEPTED, DECLINED = "invited", "accepted", "declined"


class ReviewRefused(ProblemsRefused):
    """Nothing was changed.  ``problems`` is a list of (field name or None, reason)."""


def _refuse(reason, field_name: str | None = None):
    raise ReviewRefused([(field_name, reason)])


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _check_stage(stage: str) -> None:
    if stage not in STAGES:
        raise ValueError(f"stage is one of {STAGES}, not {stage!r}")


def stage_of(application: Application) -> str | None:
    """The review stage an application is in now, or None when it is not being reviewed."""
    return next((stage for stage, meaning in STAGE_MEANINGS.items() if means(application, meaning)), None)


# -- rubrics ----------------------------------------------------------------------------------


#: The default rubric: what a selection committee usually weighs, for programmes whose
#: plugins bring none (``config.add_rubric``).  Stored in English; pages show each title and
#: label through the catalogue, so it reads in the reviewer's language (the title too, which
#: is stored as the plain English string).
GENERAL_RUBRIC_TITLE = str(_("General review"))
GENERAL_CRITERIA = [
    {"id": "relevance", "title": _("Relevance to the programme's aims"), "weight": "3", "labels": {
        "1": _("Does not address the programme's aims"),
        "2": _("Touches the programme's aims only loosely"),
        "3": _("Addresses a real need the programme is for"),
        "4": _("Addresses a pressing, well-evidenced need the programme is for"),
        "5": _("Addresses a pressing need, evidenced and voiced by the people concerned")}},
    {"id": "feasibility", "title": _("Feasibility of the plan"), "weight": "2", "labels": {
        "1": _("The plan cannot be carried out as written"),
        "2": _("Major gaps in the plan, timetable or budget"),
        "3": _("A workable plan with some gaps"),
        "4": _("A clear, realistic plan, timetable and budget"),
        "5": _("A clear, realistic plan with its risks foreseen and managed")}},
    {"id": "value_for_money", "title": _("Value for money"), "weight": "2", "labels": {
        "1": _("Costs are unjustified or unclear"),
        "2": _("Costs are high for what is achieved"),
        "3": _("Reasonable costs"),
        "4": _("Good value: costs are justified and modest"),
        "5": _("Excellent value: much achieved for the cost")}},
    {"id": "capacity", "title": _("Organisational capacity"), "weight": "2", "labels": {
        "1": _("No sign the organisation can deliver it"),
        "2": _("Little experience or means for this work"),
        "3": _("Some relevant experience and means"),
        "4": _("Proven experience and the people to deliver it"),
        "5": _("A strong track record in this very kind of work")}},
    {"id": "sustainability", "title": _("Sustainability"), "weight": "1", "labels": {
        "1": _("Nothing will remain when the grant ends"),
        "2": _("Little will remain when the grant ends"),
        "3": _("Some results will last, with no plan to keep them"),
        "4": _("A credible plan to keep the results going"),
        "5": _("Results that will last, with the people and means already found")}},
]


@dataclass(frozen=True)
class RubricSpec:
    """A rubric a plugin offers its programmes (``config.add_rubric``); stored as a
    :class:`Rubric` row the first time it is used (:func:`registered_rubric`)."""

    title: str
    criteria: tuple
    origin: str = ""
    default: bool = False


def rubric_specs(registry) -> dict[str, RubricSpec]:
    """The rubrics plugins registered, by title."""
    return registry.setdefault("grants.rubrics", {})


def add_rubric(config, title: str, criteria, default: bool = False) -> None:
    """Offer a review rubric to the programmes that use the plugin.

    ``criteria`` is a list like :data:`GENERAL_CRITERIA`: ``{"id", "title", "weight",
    "labels": {"1": …, "5": …}}``, titles and labels in English, as messages of the
    ``grants`` domain that the plugin's catalogs translate (``config.add_translations``).
    The criteria are checked when the plugin is included.  ``title`` names the rubric (it
    must be unique: two plugins registering one title conflict).  The rubric is stored the
    first time it is used; rounds of the plugin's programmes may name it
    (``Round.rubric_id``), rounds of other programmes may not.  ``default=True`` gives it to
    every new round of those programmes that names no rubric (instead of the general
    rubric); a programme cannot use two plugins that each bring a default rubric."""
    from pyramid.exceptions import ConfigurationError

    from grants.plugins import current_plugin, register_change, scoped_claim

    title = str(title).strip()
    stored, problems = _clean_criteria(criteria)
    if not title or problems:
        reasons = "; ".join(str(reason) for _field, reason in problems) or "it needs a title"
        raise ConfigurationError(f"rubric {title!r}: {reasons}")
    spec = RubricSpec(title=title, criteria=tuple(stored), origin=current_plugin(config), default=bool(default))
    register_change(config, ("grants:rubric", title), f"add the rubric {title!r}",
                    lambda: rubric_specs(config.registry).__setitem__(title, spec))
    if default:
        scoped_claim(config, ("grants:rubric-default",), "make their rubric the default rubric")
        register_change(config, ("grants:rubric-default", spec.origin), f"make {title!r} the default rubric", None)


def _clean_criteria(criteria: Sequence[Mapping[str, Any]]) -> tuple[list[dict], list]:
    """Criteria as stored (plain strings, weights as decimal strings) and the problems."""
    problems: list = []
    stored: list[dict] = []
    for position, raw in enumerate(criteria or (), start=1):
        cid = str(raw.get("id") or "").strip()
        title = str(raw.get("title") or "").strip()
        labels = {str(k): str(v or "").strip() for k, v in dict(raw.get("labels") or {}).items()}
        if not CRITERION_ID.match(cid) or cid in RESERVED_IDS:
            problems.append(("criteria", _(
                "Criterion ${position}: give it an id of lower-case letters, digits and _ (like “relevance”).",
                mapping={"position": position})))
        if not title:
            problems.append(("criteria", _("Criterion ${position}: give it a title.", mapping={"position": position})))
        try:
            weight = Decimal(str(raw.get("weight", "")).strip())
            if not weight.is_finite() or weight <= 0:
                raise InvalidOperation
        except InvalidOperation:
            problems.append(("criteria", _("Criterion ${position}: its weight must be a number greater than 0.",
                                           mapping={"position": position})))
            weight = Decimal(1)
        if set(labels) != {str(v) for v in scoring.SCORE_VALUES} or not all(labels.values()):
            problems.append(("criteria", _(
                "Criterion ${position}: give a label for each score from ${min} to ${max}.",
                mapping={"position": position, "min": scoring.MIN_SCORE, "max": scoring.MAX_SCORE})))
        stored.append({"id": cid, "title": title, "weight": str(weight),
                       "labels": {str(v): labels.get(str(v), "") for v in scoring.SCORE_VALUES}})
    if not stored:
        problems.append(("criteria", _("A rubric needs at least one criterion.")))
    ids = [c["id"] for c in stored]
    if len(set(ids)) != len(ids):
        problems.append(("criteria", _("Each criterion needs its own id: ${ids} is used twice.",
                                       mapping={"ids": ", ".join(sorted({i for i in ids if ids.count(i) > 1}))})))
    return stored, problems


def create_rubric(dbsession: Session, title: str, criteria: Sequence[Mapping[str, Any]]) -> Rubric:
    """A new rubric.  ``criteria`` is ``[{"id", "title", "weight", "labels": {"1": …, "5": …}}]``;
    weights are decimal strings (or Decimals, ints) greater than 0.  Checked here, then by
    :class:`scoring.Rubric` (the same checks reviews are counted with)."""
    title = (title or "").strip()
    stored, problems = _clean_criteria(criteria)
    if not title:
        problems.insert(0, ("title", _("Give the rubric a title.")))
    if problems:
        raise ReviewRefused(problems)
    rubric = Rubric(title=title, criteria=stored)
    try:
        rubric.scoring_rubric()
    except (ValueError, TypeError) as exc:  # a check above has a hole: refuse rather than store it
        raise ReviewRefused([("criteria", _("The rubric is not valid: ${detail}", mapping={"detail": str(exc)}))]) \
            from None
    dbsession.add(rubric)
    dbsession.flush()
    return rubric


def default_rubric(dbsession: Session) -> Rubric:
    """The general rubric (:data:`GENERAL_CRITERIA`), created the first time it is asked for."""
    return _stored(dbsession, GENERAL_RUBRIC_TITLE, GENERAL_CRITERIA)


def _stored(dbsession: Session, title: str, criteria) -> Rubric:
    rubric = dbsession.scalars(select(Rubric).where(Rubric.title == title).order_by(Rubric.id)).first()
    if rubric is None:
        rubric = create_rubric(dbsession, title, criteria)
    return rubric


def registered_rubric(dbsession: Session, registry, title: str) -> Rubric:
    """The stored rubric a plugin registered under ``title``, created the first time
    (KeyError when no enabled plugin registered it)."""
    spec = rubric_specs(_app_registry(registry))[title]
    return _stored(dbsession, spec.title, spec.criteria)


def _app_registry(registry):
    """The Pyramid registry, given it or the WorkflowRegistry (the current one for None)."""
    if registry is None:
        from pyramid.threadlocal import get_current_registry

        registry = get_current_registry()
    registry = getattr(registry, "app_registry", None) or registry
    return registry if hasattr(registry, "setdefault") else None


def plugin_default_rubric(dbsession: Session, registry, programme) -> Rubric | None:
    """The default rubric of a plugin ``programme`` uses (``config.add_rubric(...,
    default=True)``), stored the first time; None when its plugins bring none."""
    app = _app_registry(registry)
    specs = rubric_specs(app) if app is not None else {}
    for plugin in programme.plugins or ():
        for spec in specs.values():
            if spec.default and spec.origin == plugin:
                return _stored(dbsession, spec.title, spec.criteria)
    return None


def default_rubric_for(dbsession: Session, registry, programme) -> Rubric:
    """The rubric a new round of ``programme`` gets when it names none: the default rubric
    of a plugin the programme uses, else the general one."""
    return plugin_default_rubric(dbsession, registry, programme) or default_rubric(dbsession)


def rubric_refusal(dbsession: Session, registry, programme, rubric_id: int | None):
    """Why rounds of ``programme`` may not use the rubric ``rubric_id`` (a sentence), or None:
    a plugin the programme does not use brought it."""
    from grants.plugins import in_scope

    rubric = dbsession.get(Rubric, rubric_id) if rubric_id is not None else None
    if rubric is None:
        return None
    app = _app_registry(registry)
    spec = rubric_specs(app).get(rubric.title) if app is not None else None
    if spec is not None and not in_scope(spec.origin, programme.plugins):
        return _("The rubric “${rubric}” belongs to a plugin this programme does not use.",
                 mapping={"rubric": rubric.title})
    return None


def rubric_for(dbsession: Session, rnd: Round) -> Rubric:
    """The round's rubric (``Round.rubric_id``), else the general one."""
    if rnd.rubric_id is not None:
        rubric = dbsession.get(Rubric, rnd.rubric_id)
        if rubric is not None:
            return rubric
    return default_rubric(dbsession)


def rubric_of(dbsession: Session, assignment: ReviewAssignment) -> Rubric:
    """The rubric an assignment is scored with: the one its review was begun with (a review
    keeps its rubric), else the round's."""
    review = assignment.review
    if review is not None and review.rubric_id is not None:
        rubric = dbsession.get(Rubric, review.rubric_id)
        if rubric is not None:
            return rubric
    return rubric_for(dbsession, assignment.application.round)


# -- inviting reviewers -------------------------------------------------------------------------


def invitation_status(invitation: RoundReviewer) -> str:
    """``invited`` (no answer yet), ``accepted`` or ``declined``."""
    if invitation.declined_at is not None:
        return DECLINED
    if invitation.accepted_at is not None:
        return ACCEPTED
    return INVITED


def invitation_for(dbsession: Session, rnd: Round, user: User) -> RoundReviewer | None:
    return dbsession.scalars(select(RoundReviewer).where(
        RoundReviewer.round_id == rnd.id, RoundReviewer.user_id == user.id)).one_or_none()


def reviewer_pool(dbsession: Session, rnd: Round) -> list[RoundReviewer]:
    """Everyone invited to review in ``rnd``, in the order they were invited."""
    return list(dbsession.scalars(select(RoundReviewer).where(RoundReviewer.round_id == rnd.id)
                                  .order_by(RoundReviewer.invited_at, RoundReviewer.id)))


def accepted_reviewers(dbsession: Session, rnd: Round) -> list[User]:
    """The reviewers who accepted, by user id (the order automatic assignment breaks ties in)."""
    return list(dbsession.scalars(
        select(User).join(RoundReviewer, RoundReviewer.user_id == User.id)
        .where(RoundReviewer.round_id == rnd.id, RoundReviewer.accepted_at.is_not(None),
               RoundReviewer.declined_at.is_(None))
        .order_by(User.id)))


def _site_url(registry) -> str:
    settings = getattr(registry, "settings", None) or {}
    return (settings.get("grants.site_url") or "http://localhost:6543").rstrip("/")


def invite_reviewer(dbsession: Session, registry, rnd: Round, user: User, invited_by: User | None, *,
                    transaction_manager=None, reviews_url: str | None = None) -> RoundReviewer:
    """Invite ``user`` to review in ``rnd``.  They are mailed, in their own language and only
    once the transaction commits, a link to their reviews page (``reviews_url``; by default
    the ``grants.site_url`` setting + ``/reviews``).  Inviting someone already invited is
    refused, whatever they answered."""
    existing = invitation_for(dbsession, rnd, user)
    if existing is not None:
        status = invitation_status(existing)
        if status == ACCEPTED:
            reason = _("${name} is already a reviewer in this round.", mapping={"name": user.name})
        elif status == DECLINED:
            reason = _("${name} was already invited to this round and declined.", mapping={"name": user.name})
        else:
            reason = _("${name} is already invited to this round and has not answered yet.",
                       mapping={"name": user.name})
        _refuse(reason, "email")
    invitation = RoundReviewer(round_id=rnd.id, user_id=user.id, invited_by_id=invited_by.id if invited_by else None,
                               invited_at=_now())
    dbsession.add(invitation)
    dbsession.flush()
    _mail_invitation(registry, user, rnd, invited_by, reviews_url or f"{_site_url(registry)}/reviews",
                     transaction_manager)
    return invitation


def invite_reviewer_by_email(dbsession: Session, registry, rnd: Round, email: str, invited_by: User | None, *,
                             transaction_manager=None, reviews_url: str | None = None) -> RoundReviewer:
    """:func:`invite_reviewer`, for the account with this address (refused when there is none)."""
    from grants.accounts.services import find_user_by_email

    email = (email or "").strip()
    if not email:
        _refuse(_("Enter the e-mail address of the person to invite."), "email")
    user = find_user_by_email(dbsession, email)
    if user is None:
        _refuse(_("There is no account for ${email}; ask them to register first.", mapping={"email": email}), "email")
    return invite_reviewer(dbsession, registry, rnd, user, invited_by, transaction_manager=transaction_manager,
                           reviews_url=reviews_url)


def _mail_invitation(registry, user: User, rnd: Round, invited_by: User | None, link: str, tm) -> None:
    if getattr(registry, "mailer", None) is None:
        return  # a bare registry (a script without mail settings): nothing to send with
    from grants.mail import notify

    subject = _("Invitation to review applications to ${round}", mapping={"round": rnd.title})
    body = _("Hello ${name},\n\n"
             "${inviter} invites you to review applications to ${round} (${programme}).\n\n"
             "To accept or decline, sign in and open your reviews:\n${link}\n\n"
             "Before you read an application you will be asked whether you have a conflict of interest with "
             "the organisation that made it.",
             mapping={"name": user.name, "inviter": invited_by.name if invited_by else _("The programme team"),
                      "round": rnd.title, "programme": rnd.programme.title, "link": link})
    notify(registry, user, subject, body, transaction_manager=tm)


def respond(dbsession: Session, invitation: RoundReviewer, user: User, accept: bool) -> RoundReviewer:
    """The invited person accepts or declines.  Only they may answer, and only once."""
    if user is None or invitation.user_id != user.id:
        _refuse(_("This invitation is addressed to someone else."))
    status = invitation_status(invitation)
    if status == ACCEPTED:
        _refuse(_("You have already accepted this invitation."))
    if status == DECLINED:
        _refuse(_("You have already declined this invitation."))
    if accept:
        invitation.accepted_at = _now()
    else:
        invitation.declined_at = _now()
    dbsession.flush()
    return invitation


def pending_invitations(dbsession: Session, user: User) -> list[RoundReviewer]:
    """Invitations ``user`` has not answered yet, oldest first."""
    return list(dbsession.scalars(select(RoundReviewer).where(
        RoundReviewer.user_id == user.id, RoundReviewer.accepted_at.is_(None), RoundReviewer.declined_at.is_(None))
        .order_by(RoundReviewer.invited_at, RoundReviewer.id)))


# -- assignment -----------------------------------------------------------------------------------


def _member_ids(dbsession: Session, organisation_id: int) -> set[int]:
    return set(dbsession.scalars(select(Membership.user_id).where(Membership.organisation_id == organisation_id)))


def _conflicted_ids(dbsession: Session, application_id: int) -> set[int]:
    """Reviewers who declared a conflict with this application (at any stage: a conflict is
    with the organisation, and outlasts the stage it was declared in)."""
    return set(dbsession.scalars(select(ReviewAssignment.reviewer_id).where(
        ReviewAssignment.application_id == application_id, ReviewAssignment.conflict.is_(True))))


def unassignable_ids(dbsession: Session, application: Application, stage: str) -> set[int]:
    """Users who may not be given ``application`` at ``stage``: members of the organisation
    that applied, anyone who declared a conflict with it, and those already on it."""
    taken = set(dbsession.scalars(select(ReviewAssignment.reviewer_id).where(
        ReviewAssignment.application_id == application.id, ReviewAssignment.stage == stage)))
    return taken | _member_ids(dbsession, application.organisation_id) | _conflicted_ids(dbsession, application.id)


def assignment_for(dbsession: Session, application: Application, user: User, stage: str) -> ReviewAssignment | None:
    return dbsession.scalars(select(ReviewAssignment).where(
        ReviewAssignment.application_id == application.id, ReviewAssignment.reviewer_id == user.id,
        ReviewAssignment.stage == stage)).one_or_none()


def _assignable_problems(dbsession: Session, application: Application, reviewer: User, stage: str,
                         accepted_ids: set[int]) -> list:
    name = {"name": reviewer.name}
    if reviewer.id not in accepted_ids:
        return [("reviewer", _("${name} is not a reviewer in this round: invite them, and they must accept first.",
                               mapping=name))]
    if reviewer.id in _conflicted_ids(dbsession, application.id):
        return [("reviewer", _("${name} declared a conflict of interest with this application.", mapping=name))]
    if reviewer.id in _member_ids(dbsession, application.organisation_id):
        return [("reviewer", _("${name} is a member of the organisation that applied.", mapping=name))]
    if assignment_for(dbsession, application, reviewer, stage) is not None:
        return [("reviewer", _("${name} is already assigned to this application.", mapping=name))]
    return []


def assign(dbsession: Session, application: Application, reviewer: User, assigned_by: User | None,
           stage: str = APPLICATION_STAGE) -> ReviewAssignment:
    """Give ``application`` to ``reviewer`` for ``stage``.  Refused unless they accepted an
    invitation to its round, the application is in the stage's state (eligible, or
    proposal_submitted), they are not already on it, have not declared a conflict with it
    and are not a member of the organisation that applied."""
    _check_stage(stage)
    if not means(application, STAGE_MEANINGS[stage]):
        _refuse(_("This application is not waiting for review at this stage."), "application")
    accepted = {u.id for u in accepted_reviewers(dbsession, application.round)}
    problems = _assignable_problems(dbsession, application, reviewer, stage, accepted)
    if problems:
        raise ReviewRefused(problems)
    assignment = ReviewAssignment(application_id=application.id, reviewer_id=reviewer.id, stage=stage,
                                  assigned_by_id=assigned_by.id if assigned_by else None, assigned_at=_now())
    dbsession.add(assignment)
    dbsession.flush()
    return assignment


def unassign(dbsession: Session, assignment: ReviewAssignment, by: User | None = None) -> None:
    """Take an application back from a reviewer (a draft review goes with it).  Refused once
    the scores are submitted, and for a declared conflict: that record is what keeps the
    application from being given to them again."""
    if assignment.conflict:
        _refuse(_("${name} declared a conflict of interest: the declaration is kept so that the application is "
                  "never given to them again.", mapping={"name": assignment.reviewer.name}))
    if assignment.review is not None and assignment.review.submitted_at is not None:
        _refuse(_("${name} has already submitted scores for this application.",
                  mapping={"name": assignment.reviewer.name}))
    dbsession.delete(assignment)
    dbsession.flush()


def _active(assignment: ReviewAssignment) -> bool:
    """Counts towards an application's reviewers and a reviewer's load: not a conflict."""
    return assignment.conflict is not True


def _active_clause():
    """:func:`_active` in SQL (a conflict not yet declared is NULL)."""
    return or_(ReviewAssignment.conflict.is_(None), ReviewAssignment.conflict.is_(False))


def stage_applications_query(rnd: Round, stage: str):
    """The round's applications waiting for review at ``stage``, as a select to filter,
    sort and cut a page from."""
    _check_stage(stage)
    return select(Application).where(Application.round_id == rnd.id, state_means(Application, STAGE_MEANINGS[stage]))


def stage_applications(dbsession: Session, rnd: Round, stage: str) -> list[Application]:
    """The round's applications waiting for review at ``stage``, by id."""
    return list(dbsession.scalars(stage_applications_query(rnd, stage).order_by(Application.id)))


def active_reviewers(stage: str):
    """How many reviewers without a conflict of interest an application has at ``stage``:
    a correlated subquery of a select of applications, to sort or filter it by."""
    return (select(func.count(ReviewAssignment.id))
            .where(ReviewAssignment.application_id == Application.id, ReviewAssignment.stage == stage,
                   _active_clause())
            .correlate(Application).scalar_subquery())


def wanted_reviewers(dbsession: Session, rnd: Round, stage: str = APPLICATION_STAGE,
                     per_application: int | None = None) -> int:
    """How many reviewers each application at ``stage`` should have: ``per_application``
    when given, else the most any of them has (one aggregate query), else the default."""
    if per_application:
        return per_application
    counts = (select(func.count(ReviewAssignment.id).label("active"))
              .join(Application, Application.id == ReviewAssignment.application_id)
              .where(Application.round_id == rnd.id, state_means(Application, STAGE_MEANINGS[stage]),
                     ReviewAssignment.stage == stage, _active_clause())
              .group_by(ReviewAssignment.application_id).subquery())
    return dbsession.scalar(select(func.max(counts.c.active))) or DEFAULT_PER_APPLICATION


def _round_assignments(dbsession: Session, rnd: Round, stage: str) -> list[ReviewAssignment]:
    return list(dbsession.scalars(
        select(ReviewAssignment).join(Application, Application.id == ReviewAssignment.application_id)
        .where(Application.round_id == rnd.id, ReviewAssignment.stage == stage)
        .order_by(ReviewAssignment.application_id, ReviewAssignment.id)))


def reviewer_load(dbsession: Session, rnd: Round, stage: str = APPLICATION_STAGE,
                  among: Sequence[int] | None = None) -> dict[int, int]:
    """{user id: how many applications they review in ``rnd`` at ``stage``} for everyone in the
    pool (0 included), or only for the users ``among`` (a page of the pool).  A declared
    conflict is not work, so it does not count."""
    _check_stage(stage)
    if among is None:
        load = {invitation.user_id: 0 for invitation in reviewer_pool(dbsession, rnd)}
    else:
        load = dict.fromkeys(among, 0)
        if not load:
            return load
    query = (select(ReviewAssignment.reviewer_id, func.count(ReviewAssignment.id))
             .join(Application, Application.id == ReviewAssignment.application_id)
             .where(Application.round_id == rnd.id, ReviewAssignment.stage == stage, _active_clause())
             .group_by(ReviewAssignment.reviewer_id))
    if among is not None:
        query = query.where(ReviewAssignment.reviewer_id.in_(load))
    # Counted by the database: a round's assignments are as many as its applications.
    for reviewer_id, count in dbsession.execute(query):
        load[reviewer_id] = count
    return load


@dataclass
class Shortfall:
    """An application left with fewer reviewers than asked, and why."""

    application: Application
    reviewers: int  # how many it has
    wanted: int
    reason: Any  # a TranslationString


@dataclass
class AutoAssignment:
    """What :func:`auto_assign` did."""

    stage: str
    per_application: int
    assigned: list[ReviewAssignment] = field(default_factory=list)
    short: list[Shortfall] = field(default_factory=list)
    load: dict[int, int] = field(default_factory=dict)  # after assignment

    @property
    def assigned_count(self) -> int:
        return len(self.assigned)


def auto_assign(dbsession: Session, rnd: Round, *, per_application: int = DEFAULT_PER_APPLICATION,
                stage: str = APPLICATION_STAGE, assigned_by: User | None = None) -> AutoAssignment:
    """Give every application of ``rnd`` waiting for review at ``stage`` up to
    ``per_application`` reviewers, counting those it already has (a declared conflict does
    not count).

    Never a reviewer who declared a conflict with the application, is a member of the
    organisation that applied, or is already on it.  Balanced: each place goes to the
    eligible reviewer with the fewest applications in this round and stage, ties to the
    lowest user id; applications with the fewest eligible reviewers are served first, so
    that loads differ by at most one whenever the conflicts allow it.  Deterministic: the
    same data gives the same assignments."""
    _check_stage(stage)
    if not isinstance(per_application, int) or isinstance(per_application, bool) or per_application < 1:
        _refuse(_("Give each application at least 1 reviewer."), "per_application")
    reviewers = accepted_reviewers(dbsession, rnd)
    applications = stage_applications(dbsession, rnd, stage)
    existing = _round_assignments(dbsession, rnd, stage)
    load = {u.id: 0 for u in reviewers}
    on_application: dict[int, set[int]] = {a.id: set() for a in applications}
    active_count: dict[int, int] = {a.id: 0 for a in applications}
    for assignment in existing:
        on_application.setdefault(assignment.application_id, set()).add(assignment.reviewer_id)
        if _active(assignment):
            if assignment.reviewer_id in load:
                load[assignment.reviewer_id] += 1
            if assignment.application_id in active_count:
                active_count[assignment.application_id] += 1

    blocked: dict[int, dict[int, str]] = {}  # application id -> reviewer id -> why not
    for application in applications:
        why: dict[int, str] = {}
        for reviewer_id in _member_ids(dbsession, application.organisation_id):
            why[reviewer_id] = "member"
        for reviewer_id in _conflicted_ids(dbsession, application.id):
            why[reviewer_id] = "conflict"
        for reviewer_id in on_application[application.id]:
            why.setdefault(reviewer_id, "assigned")
        blocked[application.id] = why

    def eligible(application):
        return [u.id for u in reviewers if u.id not in blocked[application.id]]

    summary = AutoAssignment(stage, per_application)
    by_id = {u.id: u for u in reviewers}
    # The most constrained applications first: they have the fewest reviewers to choose from.
    order = sorted(applications, key=lambda a: (len(eligible(a)), a.id))
    for application in order:
        need = per_application - active_count[application.id]
        candidates = eligible(application)
        chosen = sorted(candidates, key=lambda rid: (load[rid], rid))[:max(need, 0)]
        for reviewer_id in chosen:
            assignment = ReviewAssignment(application_id=application.id, reviewer_id=reviewer_id, stage=stage,
                                          assigned_by_id=assigned_by.id if assigned_by else None,
                                          assigned_at=_now())
            assignment.reviewer = by_id[reviewer_id]
            dbsession.add(assignment)
            summary.assigned.append(assignment)
            load[reviewer_id] += 1
        have = active_count[application.id] + len(chosen)
        if have < per_application:
            summary.short.append(Shortfall(application, have, per_application,
                                           _short_reason(blocked[application.id], len(reviewers))))
    dbsession.flush()
    summary.assigned.sort(key=lambda a: (a.application_id, a.reviewer_id))
    summary.short.sort(key=lambda s: s.application.id)
    summary.load = load
    return summary


def _short_reason(why_not: Mapping[int, str], pool_size: int):
    if pool_size == 0:
        return _("No reviewer has accepted an invitation to this round yet.")
    conflicts = sum(1 for v in why_not.values() if v == "conflict")
    members = sum(1 for v in why_not.values() if v == "member")
    return _("Not enough reviewers can take it: ${pool} accepted the invitation; ${conflicts} declared a conflict "
             "of interest with it and ${members} belong to the organisation that applied.",
             mapping={"pool": pool_size, "conflicts": conflicts, "members": members})


@dataclass
class ApplicationReviewers:
    """One application and its reviewers at one stage, for the officer's page."""

    application: Application
    assignments: list[ReviewAssignment]
    wanted: int

    @property
    def active(self) -> int:
        return sum(1 for a in self.assignments if _active(a))

    @property
    def short(self) -> bool:
        return self.active < self.wanted

    @property
    def conflicts(self) -> int:
        return sum(1 for a in self.assignments if a.conflict)


def assignment_overview(dbsession: Session, rnd: Round, stage: str = APPLICATION_STAGE,
                        per_application: int | None = None) -> list[ApplicationReviewers]:
    """Each application waiting for review at ``stage`` with its assignments.  An application
    is ``short`` with fewer active reviewers than ``per_application`` — by default the most
    any application has, so one that lost a reviewer to a conflict shows as needing another."""
    applications = stage_applications(dbsession, rnd, stage)
    return reviewers_of(dbsession, applications, stage, wanted_reviewers(dbsession, rnd, stage, per_application))


def reviewers_of(dbsession: Session, applications: Sequence[Application], stage: str,
                 wanted: int) -> list[ApplicationReviewers]:
    """``applications`` (a page of them) each with its assignments at ``stage`` — their
    reviewers and reviews read in the same statement."""
    by_application: dict[int, list[ReviewAssignment]] = {a.id: [] for a in applications}
    if by_application:
        for assignment in dbsession.scalars(
                select(ReviewAssignment).where(ReviewAssignment.application_id.in_(list(by_application)),
                                               ReviewAssignment.stage == stage)
                .options(joinedload(ReviewAssignment.reviewer), joinedload(ReviewAssignment.review))
                .order_by(ReviewAssignment.application_id, ReviewAssignment.id)):
            by_application[assignment.application_id].append(assignment)
    return [ApplicationReviewers(a, by_application[a.id], wanted) for a in applications]


def unassignable_by_application(dbsession: Session, applications: Sequence[Application],
                                stage: str) -> dict[int, set[int]]:
    """:func:`unassignable_ids` of each of ``applications`` (a page of them), in three
    statements whatever their number."""
    ids = [a.id for a in applications]
    blocked: dict[int, set[int]] = {i: set() for i in ids}
    if not ids:
        return blocked
    for application_id, reviewer_id in dbsession.execute(
            select(ReviewAssignment.application_id, ReviewAssignment.reviewer_id)
            .where(ReviewAssignment.application_id.in_(ids),
                   (ReviewAssignment.stage == stage) | ReviewAssignment.conflict.is_(True))):
        blocked[application_id].add(reviewer_id)
    organisations = {a.organisation_id for a in applications}
    members: dict[int, set[int]] = {o: set() for o in organisations}
    for organisation_id, user_id in dbsession.execute(
            select(Membership.organisation_id, Membership.user_id)
            .where(Membership.organisation_id.in_(organisations))):
        members[organisation_id].add(user_id)
    for application in applications:
        blocked[application.id] |= members[application.organisation_id]
    return blocked


# -- conflicts of interest ----------------------------------------------------------------------


def declare(dbsession: Session, assignment: ReviewAssignment, user: User, *, conflict: bool,
            reason: str = "") -> ReviewAssignment:
    """The assigned reviewer declares whether they have a conflict of interest with the
    application.  A conflict needs a reason; a declaration is final.  With a conflict they
    can neither see nor score it, and it needs another reviewer."""
    if user is None or assignment.reviewer_id != user.id:
        _refuse(_("This application is not assigned to you."))
    if assignment.declared_at is not None:
        if assignment.conflict:
            _refuse(_("You have already declared a conflict of interest with this application; a declaration is "
                      "final."))
        _refuse(_("You have already declared that you have no conflict of interest with this application."))
    reason = (reason or "").strip()
    if conflict and not reason:
        _refuse(_("Say what your conflict of interest is: the programme team keeps it on record."), "reason")
    assignment.conflict = bool(conflict)
    assignment.conflict_reason = reason if conflict else ""
    assignment.declared_at = _now()
    dbsession.flush()
    return assignment


def undeclared_assignment(dbsession: Session, application: Application, user: User) -> ReviewAssignment | None:
    """``user``'s assignment on ``application`` still waiting for a declaration (the
    current stage's first), or None."""
    if user is None:
        return None
    rows = list(dbsession.scalars(select(ReviewAssignment).where(
        ReviewAssignment.application_id == application.id, ReviewAssignment.reviewer_id == user.id,
        ReviewAssignment.declared_at.is_(None)).order_by(ReviewAssignment.id)))
    current = stage_of(application)
    return next((a for a in rows if a.stage == current), rows[0] if rows else None)


def has_declared_conflict(dbsession: Session, application: Application, user: User | None) -> bool:
    return user is not None and user.id in _conflicted_ids(dbsession, application.id)


# -- scoring --------------------------------------------------------------------------------------


CONFLICT_REFUSAL = _("You declared a conflict of interest with this application; you cannot see or score it.")
#: scoring.validate_review's message for a missing rationale (the one problem about the text).
_RATIONALE_MSGID = "Give a rationale for the score for “${criterion}”."


def score_refusal(dbsession: Session, registry, assignment: ReviewAssignment, user: User | None):
    """Why ``user`` may not score through ``assignment`` now (a TranslationString), or None."""
    if user is None or assignment.reviewer_id != user.id:
        return _("This application is not assigned to you.")
    if assignment.conflict:
        return CONFLICT_REFUSAL
    if assignment.declared_at is None:
        return _("Declare whether you have a conflict of interest with this application before you score it.")
    application = assignment.application
    if not means(application, STAGE_MEANINGS[assignment.stage]):
        return _("Scoring for this application has closed.")
    if not holds_permission(registry, application, user, Permission.ReviewApplicationScore):
        return _("You are not allowed to score this application.")
    if assignment.review is not None and assignment.review.submitted_at is not None:
        return _("You have already submitted your scores; they can no longer be changed.")
    return None


def _translatable_title(reason, rubric):
    """``reason`` with the criterion's title as a message of its own, so that the default
    rubric's titles are shown in the reader's language like on the page."""
    mapping = dict(reason.mapping or {})
    criterion = next((c for c in rubric.criteria if c.title == mapping.get("criterion")), None)
    if criterion is None:
        return reason
    return TranslationString(reason, mapping={**mapping, "criterion": _(criterion.title)})


def _present(value) -> bool:
    return value is not None and not (isinstance(value, str) and not value.strip())


def save_review(dbsession: Session, registry, assignment: ReviewAssignment, user: User, *,
                scores: Mapping[str, int | None], rationales: Mapping[str, str], submit: bool) -> Review:
    """Save ``user``'s scores ({criterion id: 1–5}) and rationales ({criterion id: text}).

    A draft (``submit=False``) may leave criteria out; ``submit=True`` needs every criterion
    scored with a rationale (:func:`scoring.validate_review`) and makes the review final.
    Refused unless the user is the assignee, declared no conflict, the application is in
    the stage's state and they hold ``review:application:score`` on it; refused once
    submitted.  Problems name their field: ``"<criterion id>.score"`` or
    ``"<criterion id>.rationale"``."""
    refusal = score_refusal(dbsession, registry, assignment, user)
    if refusal is not None:
        _refuse(refusal)
    stored_rubric = rubric_of(dbsession, assignment)
    rubric = stored_rubric.scoring_rubric()
    given = {cid: value for cid, value in (scores or {}).items() if _present(value)}
    texts = {cid: (text or "").strip() for cid, text in (rationales or {}).items()}

    problems: list = []
    for cid in sorted(set(given) | set(texts)):
        if rubric.criterion(cid) is None:
            problems.append((None, _("“${criterion}” is not a criterion of this rubric.", mapping={"criterion": cid})))
    if problems:
        raise ReviewRefused(problems)
    if submit:
        review = scoring.Review(assignment.application_id, user.id, tuple(
            scoring.CriterionScore(c.id, given[c.id], texts.get(c.id, "")) for c in rubric.criteria if c.id in given))
        for problem in scoring.validate_review(rubric, review):
            part = "rationale" if str(problem.reason) == _RATIONALE_MSGID else "score"
            problems.append((f"{problem.criterion_id}.{part}", _translatable_title(problem.reason, rubric)))
    else:
        for cid, value in given.items():
            if not (type(value) is int and scoring.MIN_SCORE <= value <= scoring.MAX_SCORE):
                problems.append((f"{cid}.score", _(
                    "The score for “${criterion}” must be a whole number from ${min} to ${max}, not ${score}.",
                    mapping={"criterion": _(rubric.criterion(cid).title), "min": scoring.MIN_SCORE,
                             "max": scoring.MAX_SCORE, "score": str(value)})))
    if problems:
        raise ReviewRefused(problems)

    review = assignment.review
    if review is None:
        review = Review(application_id=assignment.application_id, reviewer_id=user.id, stage=assignment.stage)
        assignment.review = review
        dbsession.add(review)
    review.rubric_id = stored_rubric.id
    # New dicts, not changes in place: the JSON columns notice only reassignment.
    review.scores = {c.id: given[c.id] for c in rubric.criteria if c.id in given}
    review.rationales = {c.id: texts[c.id] for c in rubric.criteria if texts.get(c.id)}
    review.updated_at = _now()
    if submit:
        review.submitted_at = review.updated_at
    dbsession.flush()
    return review


def submitted_reviews(dbsession: Session, rnd: Round, stage: str = APPLICATION_STAGE) -> list[Review]:
    """Every submitted review in ``rnd`` at ``stage`` (what ranking counts), by application
    then reviewer."""
    _check_stage(stage)
    return list(dbsession.scalars(
        select(Review).join(Application, Application.id == Review.application_id)
        .where(Application.round_id == rnd.id, Review.stage == stage, Review.submitted_at.is_not(None))
        .order_by(Review.application_id, Review.reviewer_id)))


# -- the reviewer's own list ----------------------------------------------------------------------


def my_assignments(dbsession: Session, user: User) -> list[ReviewAssignment]:
    """Every assignment of ``user``, by round, application and stage."""
    return list(dbsession.scalars(
        select(ReviewAssignment).join(Application, Application.id == ReviewAssignment.application_id)
        .where(ReviewAssignment.reviewer_id == user.id)
        .order_by(Application.round_id, Application.id, ReviewAssignment.id)))


TO_DECLARE, TO_SCORE, SUBMITTED, CONFLICT, CLOSED = "to_declare", "to_score", "submitted", "conflict", "closed"


def assignment_status(assignment: ReviewAssignment) -> str:
    """Where an assignment stands for its reviewer: ``to_declare`` (do this first),
    ``conflict``, ``submitted``, ``to_score``, or ``closed`` (review ended before they
    submitted)."""
    if assignment.declared_at is None:
        return TO_DECLARE
    if assignment.conflict:
        return CONFLICT
    if assignment.review is not None and assignment.review.submitted_at is not None:
        return SUBMITTED
    if not means(assignment.application, STAGE_MEANINGS[assignment.stage]):
        return CLOSED
    return TO_SCORE


__all__ = [
    "ACCEPTED", "CLOSED", "CONFLICT", "CONFLICT_REFUSAL", "DECLINED",
    "DEFAULT_PER_APPLICATION", "INVITED", "STAGE_MEANINGS", "SUBMITTED", "TO_DECLARE", "TO_SCORE",
    "ApplicationReviewers", "AutoAssignment", "ReviewRefused", "Shortfall",
    "accepted_reviewers", "active_reviewers", "assign", "assignment_for", "assignment_overview", "assignment_status",
    "auto_assign",
    "GENERAL_CRITERIA", "GENERAL_RUBRIC_TITLE", "RubricSpec", "add_rubric", "default_rubric", "default_rubric_for",
    "plugin_default_rubric", "registered_rubric", "rubric_refusal", "rubric_specs", "create_rubric", "declare",
    "has_declared_conflict",
    "invitation_for", "invitation_status",
    "invite_reviewer", "invite_reviewer_by_email", "my_assignments", "pending_invitations", "respond",
    "reviewer_load", "reviewer_pool", "rubric_for", "rubric_of", "save_review", "score_refusal", "stage_applications",
    "stage_applications_query", "stage_of", "submitted_reviews", "unassignable_by_application", "unassignable_ids",
    "undeclared_assignment", "unassign", "reviewers_of", "wanted_reviewers",
]
