"""The officer's side of review, stored: ranking a round's applications from their
submitted reviews, moderating a score, the suggested selection and the officer's
overrides, decisions with reasons and the funder's reference, and due diligence.

The arithmetic is :mod:`grants.review.scoring` (pure functions); this module reads the
rows it needs, hands them over, and stores what the officer does.  Every function takes
the SQLAlchemy session first, flushes but never commits, and refuses bad input with
:class:`DecisionRefused` — ``problems`` are (field name or None, reason) pairs, the
reasons sentences a person can read — before anything has changed.

Review happens in stages (``grants.review.models.STAGES``): the first application, whose
candidates are the round's applications in state ``eligible``, and (for a programme with
incubation) the full proposal after it, whose candidates are in ``proposal_submitted``.
Officers see applicants' names here, whatever the round's blind review hides from reviewers.

Ranking and moderation::

    ranking = round_ranking(db, rnd, stage="application", normalise=True)
    for row in ranking.rows:      # best first
        row.position, row.label, row.reviews, row.mean_total, row.weighted, row.normalised, row.final
    ranking.unscored              # candidates with no submitted review yet (not ranked)
    moderate(db, application, officer, score_after=Decimal("4.2"), stage="application",
             reason="Reviewer 2 misread the budget; the plan is costed.")

Selection, within the round's budget or (for places in an incubation) capped at a number::

    pick = suggested_selection(db, rnd, stage="application")            # Round.budget
    pick = suggested_selection(db, rnd, stage="application", limit=20)  # the top 20
    override_selection(db, rnd, application, officer, action="add", stage="application",
                       reason="The only applicant from Tataouine", limit=20)
    pick.selection.selected, pick.selection.total, pick.selection.over_budget

Decisions fire the application workflow's transitions (through ``WorkflowService``): the
transition's effect stores a :class:`~grants.review.models.Decision` with the reason and
the funder's reference, and the applicant is told after the transaction commits::

    decide_round(db, registry, rnd, officer, stage="application", limit=20,
                 selected_trigger="incubate", declined_trigger="decline",
                 reason_selected="Strong community roots.", reason_declined="Other proposals ranked higher …",
                 funder_reference="Steering committee 2019-03")
    decide(db, registry, application, officer, trigger="start_due_diligence")
    decide(db, registry, application, officer, trigger="clear_for_award", funder_reference="GC-2019-11")
    decide(db, registry, application, officer, trigger="fail_due_diligence", reason="Unaudited accounts.")
    decisions_for(db, application)

``registry`` is the Pyramid registry or its ``workflows`` (the WorkflowRegistry).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from grants.applications.models import Application
from grants.i18n import _, ngettext
from grants.lifecycle.meanings import means
from grants.lifecycle.services import WorkflowService, workflows_of
from grants.money import Money
from grants.programmes.models import Round
from grants.security import Permission
from grants.workflow import Actor, ProblemsRefused, Refused

from . import scoring
from .services import stage_applications
from .models import (
    APPLICATION_STAGE,
    PROPOSAL_STAGE,
    STAGE_MEANINGS,
    STAGES,
    Decision,
    Review,
    ReviewAssignment,
    Rubric,
    ScoreModeration,
    SelectionOverride,
)

#: What the selected may get at each stage: an invitation to incubation, or selection for funding.
SELECT_TRIGGERS = {APPLICATION_STAGE: ("incubate", "select"), PROPOSAL_STAGE: ("select",)}
#: What the others get: declined, or (after incubation) not funded, with written feedback.
DECLINE_TRIGGERS = {APPLICATION_STAGE: ("decline",), PROPOSAL_STAGE: ("not_fund",)}

_MODERATION_QUANTUM = scoring.DISPLAY_QUANTUM  # scores are stored as typed, to 3 places at most
_REFERENCE_MAX = 100  # Decision.funder_reference


class DecisionRefused(ProblemsRefused):
    """Nothing was changed.  ``problems`` is a list of (field name or None, reason)."""


_refuse_if = DecisionRefused.refuse_if


def _check_stage(stage: str) -> None:
    if stage not in STAGES:
        raise DecisionRefused([("stage", _("Choose the stage of review: the application or the full proposal."))])


def applicant_label(application: Application) -> str:
    """How officers name an application: the organisation's name (officers always see
    names), else its reference."""
    org = application.organisation
    return org.legal_name if org is not None and org.legal_name else application.reference


def _currency(rnd: Round) -> str:
    return rnd.budget_currency or rnd.programme.currency


def _requested(application: Application, currency: str) -> Money:
    # An application that asked for nothing (or not yet) competes as asking for nothing.
    return application.amount or Money.zero(currency)


def _plain(value: Decimal) -> str:
    """A decimal as a plain string ("4.5", never "4.50E+0")."""
    return format(value.normalize(), "f")


# -- ranking ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RankingRow:
    """One ranked application: the scoring result and the rows behind it."""

    ranked: scoring.Ranked
    application: Application
    label: str
    #: The stored moderations, oldest first, each with how it was applied (its ``stale`` flag).
    moderation_history: tuple[tuple[ScoreModeration, scoring.AppliedModeration], ...]

    @property
    def position(self) -> int:
        return self.ranked.position

    @property
    def reviews(self) -> int:
        return self.ranked.aggregate.review_count

    @property
    def mean_total(self) -> Decimal:
        return self.ranked.aggregate.mean_total

    @property
    def weighted(self) -> Decimal:
        return self.ranked.aggregate.weighted

    @property
    def normalised(self) -> Decimal | None:
        return self.ranked.aggregate.normalised

    @property
    def computed(self) -> Decimal:
        """The score before moderation (normalised if asked for, else weighted)."""
        return self.ranked.computed

    @property
    def final(self) -> Decimal:
        return self.ranked.final

    @property
    def moderated(self) -> bool:
        return self.ranked.moderated

    @property
    def requested(self) -> Money:
        return self.ranked.application.requested


@dataclass(frozen=True)
class RoundRanking:
    """A round's candidates at one stage: ``rows`` ranked best first, ``unscored`` (no
    submitted review yet, not ranked) by id."""

    round: Round
    stage: str
    normalise: bool
    rubric: Rubric | None
    rows: tuple[RankingRow, ...]
    unscored: tuple[Application, ...]

    def row(self, application_id: int) -> RankingRow | None:
        return next((r for r in self.rows if r.application.id == application_id), None)

    @property
    def ranked(self) -> tuple[scoring.Ranked, ...]:
        return tuple(r.ranked for r in self.rows)


def _submitted_reviews(db: Session, application_ids: list[int], stage: str) -> list[Review]:
    if not application_ids:
        return []
    # A review counts once submitted, and only from a reviewer who declared no conflict.
    return list(db.scalars(
        select(Review).join(ReviewAssignment, Review.assignment_id == ReviewAssignment.id)
        .where(Review.application_id.in_(application_ids), Review.stage == stage,
               Review.submitted_at.is_not(None), ReviewAssignment.conflict.is_(False))
        .order_by(Review.id)))


def _rubric(db: Session, rnd: Round) -> Rubric:
    """The rubric the reviewers scored against: the round's, else the default one."""
    from .services import rubric_for

    return rubric_for(db, rnd)


def round_ranking(db: Session, rnd: Round, *, stage: str = APPLICATION_STAGE, normalise: bool = False
                  ) -> RoundRanking:
    """Rank the round's candidates at ``stage`` from their submitted reviews (mean and
    weighted per application, normalised per reviewer when ``normalise``), with the stored
    moderations on top.  Applications without a submitted review are ``unscored``.  The
    rubric is the one reviewers scored against (the round's, else the default rubric).
    Refused when a stored review does not fit the rubric, or when amounts are asked in
    different currencies."""
    _check_stage(stage)  # a refusal a page can show, before the services' own check
    candidates = stage_applications(db, rnd, stage)
    reviews = _submitted_reviews(db, [a.id for a in candidates], stage)
    rubric = _rubric(db, rnd) if reviews else None
    try:
        aggregates = (scoring.aggregate(rubric.scoring_rubric(), [r.scoring_review() for r in reviews],
                                        normalise=normalise) if reviews else {})
    except scoring.Refused as refused:
        raise DecisionRefused([(None, reason) for reason in refused.reasons]) from None

    scored = [a for a in candidates if a.id in aggregates]
    unscored = tuple(a for a in candidates if a.id not in aggregates)
    stored = list(db.scalars(
        select(ScoreModeration).where(ScoreModeration.application_id.in_([a.id for a in scored]),
                                      ScoreModeration.stage == stage)
        .order_by(ScoreModeration.at, ScoreModeration.id))) if scored else []
    currency = _currency(rnd)
    try:
        ranked = scoring.rank([scoring.Application(a.id, _requested(a, currency)) for a in scored], aggregates,
                              normalised=normalise, moderations=[m.scoring_moderation() for m in stored])
    except scoring.Refused as refused:
        raise DecisionRefused([(None, reason) for reason in refused.reasons]) from None

    by_id = {a.id: a for a in scored}
    rows = []
    for r in ranked:
        mine = [m for m in stored if m.application_id == r.application.id]  # same order rank applied them in
        rows.append(RankingRow(r, by_id[r.application.id], applicant_label(by_id[r.application.id]),
                               tuple(zip(mine, r.moderations))))
    return RoundRanking(rnd, stage, normalise, rubric, tuple(rows), unscored)


# -- moderation -----------------------------------------------------------------------------


def _as_score(value: Any) -> Decimal | None:
    if isinstance(value, bool) or isinstance(value, float):
        return None  # never floats: 4.2 is not exactly 4.2
    try:
        score = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return score if score.is_finite() else None


def moderate(db: Session, application: Application, user, *, score_after: Decimal, reason: str,
             stage: str = APPLICATION_STAGE, normalise: bool = False) -> ScoreModeration:
    """Change ``application``'s score to ``score_after`` (1–5, at most 3 decimal places)
    for ``reason``.  The score before is its current final score (with ``normalise`` as
    the officer sees it, moderations so far included); both are kept, with the reason and
    who moderated.  Refused without a reason, out of 1–5, or for an application that is
    not ranked at this stage (no submitted review, or not a candidate)."""
    _check_stage(stage)
    problems = []
    score = _as_score(score_after)
    if score is None:
        problems.append(("score_after", _("Enter the moderated score as a number from 1 to 5, like 3.5.")))
    elif score != score.quantize(_MODERATION_QUANTUM):
        problems.append(("score_after", _("Enter the moderated score with at most 3 decimal places, like 3.25.")))
    row = None
    if not means(application, STAGE_MEANINGS[stage]):
        problems.append((None, _("“${application}” is not being reviewed at this stage, so its score cannot be "
                                 "moderated.", mapping={"application": applicant_label(application)})))
    else:
        row = round_ranking(db, application.round, stage=stage, normalise=normalise).row(application.id)
        if row is None:
            problems.append((None, _("“${application}” has no submitted review yet: there is no score to moderate.",
                                     mapping={"application": applicant_label(application)})))
    before = scoring.display(row.final) if row is not None else Decimal(0)
    try:
        # The pure model has the last word on what a moderation may be.
        scoring.Moderation(application.id, getattr(user, "id", None), before,
                           score if score is not None else Decimal(3), reason or "")
    except scoring.Refused as refused:
        for r in refused.reasons:
            problems.append(("reason" if str(r) == "Give a reason for the moderation." else "score_after", r))
    _refuse_if(problems)
    record = ScoreModeration(application_id=application.id, stage=stage, score_before=_plain(before),
                             score_after=_plain(score), reason=reason.strip(), moderator_id=getattr(user, "id", None))
    db.add(record)
    db.flush()
    return record


# -- suggested selection and overrides -----------------------------------------------------


@dataclass(frozen=True)
class SuggestedSelection:
    """The suggestion for a round and stage and the officers' overrides applied to it.

    ``selection`` is :class:`scoring.Selection` (``suggested``, ``selected``, ``total``,
    ``remaining``, ``over_budget``).  ``budget`` is the budget it was fitted into, or
    None when capped by number (``limit``) in a round without a budget; ``overrides`` are
    the stored overrides that applied, in order, and ``ignored`` those that no longer do
    (the ranking changed since: the application left, or is now in or out anyway)."""

    ranking: RoundRanking
    selection: scoring.Selection
    budget: Money | None
    limit: int | None
    overrides: tuple[SelectionOverride, ...]
    ignored: tuple[SelectionOverride, ...]

    def is_selected(self, application_id: int) -> bool:
        return application_id in self.selection.selected

    def is_suggested(self, application_id: int) -> bool:
        return application_id in self.selection.suggested

    def overrides_for(self, application_id: int) -> list[SelectionOverride]:
        return [o for o in self.overrides if o.application_id == application_id]

    @property
    def selected_rows(self) -> list[RankingRow]:
        return [r for r in self.ranking.rows if self.is_selected(r.application.id)]

    @property
    def declined_rows(self) -> list[RankingRow]:
        return [r for r in self.ranking.rows if not self.is_selected(r.application.id)]


def _top(ranked: Sequence[scoring.Ranked], limit: int, budget: Money) -> scoring.Selection:
    """The top ``limit`` by rank, whatever they ask for (twenty places in an incubation, say):
    the same record as ``scoring.suggest_selection``, with "skipped" meaning below the cut."""
    remaining = budget.minor_units
    steps = []
    for i, r in enumerate(ranked):
        take = i < limit
        steps.append(scoring.SelectionStep(r.application.id, r.application.requested,
                                           Money.from_minor(remaining, budget.currency), take))
        if take:
            remaining -= r.application.requested.minor_units
    return scoring.Selection(budget, tuple(r.application for r in ranked), tuple(steps))


def _check_limit(limit) -> list:
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        return [("limit", _("Enter how many applications to select as a whole number, 1 or more, like 20."))]
    return []


def suggested_selection(db: Session, rnd: Round, *, stage: str = APPLICATION_STAGE, normalise: bool = False,
                        budget: Money | None = None, limit: int | None = None,
                        ranking: RoundRanking | None = None) -> SuggestedSelection:
    """The highest-ranked applications that fit ``budget`` (the round's budget unless
    given; greedy, skip and continue — see :mod:`grants.review.scoring`), or with
    ``limit`` the top ``limit`` whatever they ask, then the stored overrides on top.
    Refused when there is neither a budget nor a limit, or amounts are in another
    currency than the budget's.  ``ranking`` saves recomputing one already at hand."""
    _check_stage(stage)
    problems = _check_limit(limit)
    budget = budget if budget is not None else rnd.budget
    if limit is None and budget is None:
        problems.append(("budget", _("This round has no budget to fit a selection in: set the round's budget, "
                                     "or choose how many applications to select.")))
    _refuse_if(problems)
    ranking = ranking or round_ranking(db, rnd, stage=stage, normalise=normalise)
    ranked = ranking.ranked
    try:
        if limit is None:
            selection = scoring.suggest_selection(ranked, budget)
        else:
            # Capped by number: a budget, if there is one, still shows what the choice costs.
            currency = budget.currency if budget is not None else _currency(rnd)
            ceiling = budget if budget is not None else Money.from_minor(
                sum(r.application.requested.minor_units for r in ranked), currency)
            if any(r.application.requested.currency != currency for r in ranked):
                scoring.suggest_selection(ranked, ceiling)  # refuses, naming the application
            selection = _top(ranked, limit, ceiling)
    except scoring.Refused as refused:
        raise DecisionRefused([(None, reason) for reason in refused.reasons]) from None

    applied, ignored = [], []
    for o in db.scalars(select(SelectionOverride).where(SelectionOverride.round_id == rnd.id,
                                                         SelectionOverride.stage == stage)
                        .order_by(SelectionOverride.at, SelectionOverride.id)):
        try:
            selection = scoring.override(selection, o.application_id, o.action, officer_id=o.officer_id,
                                         reason=o.reason)
        except scoring.Refused:
            ignored.append(o)
        else:
            applied.append(o)
    return SuggestedSelection(ranking, selection, budget, limit, tuple(applied), tuple(ignored))


def override_selection(db: Session, rnd: Round, application: Application, user, *, action: str, reason: str,
                       stage: str = APPLICATION_STAGE, normalise: bool = False, budget: Money | None = None,
                       limit: int | None = None) -> SelectionOverride:
    """Add ``application`` to the suggested selection (``action="add"``) or remove it
    (``"remove"``), for ``reason``; kept with who did it.  The selection is the one the
    officer sees (same ``normalise``, ``budget`` and ``limit``).  Refused without a
    reason, for an application not in the ranking, adding one already selected and
    removing one not selected."""
    _check_stage(stage)
    problems = []
    try:
        action = scoring.OverrideAction(action)
    except ValueError:
        problems.append(("action", _("Choose whether to add the application to the selection or remove it.")))
        action = None
    reason = (reason or "").strip()
    if not reason:
        problems.append(("reason", _("Give a reason for the override: it is kept with the selection.")))
    label = applicant_label(application)
    pick = suggested_selection(db, rnd, stage=stage, normalise=normalise, budget=budget, limit=limit)
    if application.round_id != rnd.id or pick.ranking.row(application.id) is None:
        problems.append(("application", _("“${application}” is not in the ranking: it is not a candidate at this "
                                          "stage, or has no submitted review yet.", mapping={"application": label})))
    elif action is scoring.OverrideAction.ADD and pick.is_selected(application.id):
        problems.append(("application", _("“${application}” is already in the selection.",
                                          mapping={"application": label})))
    elif action is scoring.OverrideAction.REMOVE and not pick.is_selected(application.id):
        problems.append(("application", _("“${application}” is not in the selection.",
                                          mapping={"application": label})))
    _refuse_if(problems)
    try:
        scoring.override(pick.selection, application.id, action, officer_id=getattr(user, "id", None), reason=reason)
    except scoring.Refused as refused:  # the checks above say the same, in the officer's words
        raise DecisionRefused([(None, r) for r in refused.reasons]) from None
    record = SelectionOverride(round_id=rnd.id, stage=stage, application_id=application.id, action=str(action),
                               reason=reason, officer_id=getattr(user, "id", None))
    db.add(record)
    db.flush()
    return record


# -- decisions --------------------------------------------------------------------------------


def _decision_transition(wf, application: Application, trigger: str, reason: str, funder_reference: str):
    """The transition and the problems with firing it as a decision (before the engine's
    own permission and guard checks)."""
    problems = []
    transition = wf.definition.transition(trigger, application.state)
    known = transition or wf.definition.transition(trigger)
    if known is None:
        problems.append(("trigger", _("There is no step called “${trigger}”.", mapping={"trigger": trigger})))
    elif known.permission != Permission.ApplicationsApplicationDecide:
        problems.append(("trigger", _("“${action}” is not a decision.", mapping={"action": _(known.title)})))
    elif transition is None:  # the engine's words for it
        problems.append(("trigger", _("“${action}” is not possible while this is “${state}”.", mapping={
            "action": _(known.title), "state": _(wf.state_of(application).title)})))
    else:
        if transition.comment_required and not reason.strip():
            problems.append(("reason", _("Give a reason for “${action}”: the applicant receives it as written "
                                         "feedback.", mapping={"action": _(transition.title)})))
        if funder_reference.strip() and not transition.form:
            problems.append(("funder_reference", _("“${action}” takes no funder's reference.",
                                                   mapping={"action": _(transition.title)})))
    if len(funder_reference.strip()) > _REFERENCE_MAX:
        problems.append(("funder_reference", ngettext(
            "Enter a funder's reference of ${count} character or fewer.",
            "Enter a funder's reference of ${count} characters or fewer.", _REFERENCE_MAX)))
    return transition, problems


#: The effect that stores a Decision (grants/review/effects.py), as workflows name it.
RECORD_DECISION = "grants.review.effects:record_decision"


def _fire(service: WorkflowService, application: Application, transition, user, actor, reason: str,
          funder_reference: str, now=None) -> Decision | None:
    data = {"funder_reference": funder_reference.strip()} if transition.form else None
    service.fire(application, transition.trigger, user, actor=actor, data=data, comment=reason.strip(), now=now)
    if RECORD_DECISION not in transition.effects:
        return None  # a step such as starting due diligence records no decision
    return service.dbsession.scalar(select(Decision).where(Decision.application_id == application.id)
                                    .order_by(Decision.id.desc()).limit(1))


def decide(db: Session, registry, application: Application, user, *, trigger: str, reason: str = "",
           funder_reference: str = "", transaction_manager=None, actor: Actor | None = None,
           now: dt.datetime | None = None) -> Decision | None:
    """Fire the decision ``trigger`` on ``application`` (incubate, select, decline,
    not_fund, start_due_diligence, clear_for_award, fail_due_diligence) with ``reason``
    (its comment) and the funder's reference.  Returns the :class:`Decision` the transition
    recorded (None for a step that records none, like starting due diligence).  Refused
    (nothing changed) when the step is not a decision, not possible now or not allowed to
    ``user`` (or ``actor``), and without a reason where the applicant must be given one."""
    service = WorkflowService(workflows_of(registry), db, transaction_manager=transaction_manager)
    reason, funder_reference = reason or "", funder_reference or ""
    transition, problems = _decision_transition(service.workflow(application), application, trigger, reason,
                                                funder_reference)
    _refuse_if(problems)
    try:
        return _fire(service, application, transition, user, actor, reason, funder_reference, now)
    except Refused as refused:
        raise DecisionRefused([(None, r) for r in refused.reasons]) from None


@dataclass(frozen=True)
class RoundDecisions:
    """What :func:`decide_round` did: the decisions, in rank order, and the candidates
    left undecided because no review of them had been submitted."""

    selected: tuple[Decision, ...]
    declined: tuple[Decision, ...]
    left_unscored: tuple[Application, ...]
    selection: SuggestedSelection


def decide_round(db: Session, registry, rnd: Round, user, *, stage: str, selected_trigger: str,
                 declined_trigger: str, reason_selected: str = "", reason_declined: str = "",
                 funder_reference: str = "", normalise: bool = False, budget: Money | None = None,
                 limit: int | None = None, allow_unscored: bool = False, transaction_manager=None,
                 actor: Actor | None = None, now: dt.datetime | None = None) -> RoundDecisions:
    """Apply the round's current selection at ``stage`` (:func:`suggested_selection` with
    the same ``normalise``, ``budget`` and ``limit``, overrides included): the selected
    get ``selected_trigger`` (``incubate`` or ``select`` at the application stage,
    ``select`` at the proposal stage) with ``reason_selected``, every other ranked
    candidate ``declined_trigger`` (``decline``, or ``not_fund`` at the proposal stage)
    with ``reason_declined`` — the written feedback they receive — all with
    ``funder_reference``, in the caller's transaction.

    Refused, with nothing changed, if any candidate has no submitted review yet (they are
    named) unless ``allow_unscored`` (they are then left as they are), without a reason
    for those declined, or if ``user`` may not decide one of them.  Should a transition
    still refuse half-way (an effect failing), the caller must abort the transaction."""
    _check_stage(stage)
    reason_selected, reason_declined = (reason_selected or "").strip(), (reason_declined or "").strip()
    funder_reference = (funder_reference or "").strip()
    problems = []
    if selected_trigger not in SELECT_TRIGGERS[stage]:
        problems.append(("selected_trigger", _("Choose what the selected applications get: ${choices}.",
                                               mapping={"choices": ", ".join(SELECT_TRIGGERS[stage])})))
    if declined_trigger not in DECLINE_TRIGGERS[stage]:
        problems.append(("declined_trigger", _("Choose what the other applications get: ${choices}.",
                                               mapping={"choices": ", ".join(DECLINE_TRIGGERS[stage])})))
    if len(funder_reference) > _REFERENCE_MAX:
        problems.append(("funder_reference", ngettext(
            "Enter a funder's reference of ${count} character or fewer.",
            "Enter a funder's reference of ${count} characters or fewer.", _REFERENCE_MAX)))
    problems += _check_limit(limit)
    _refuse_if(problems)

    pick = suggested_selection(db, rnd, stage=stage, normalise=normalise, budget=budget, limit=limit)
    chosen, others = pick.selected_rows, pick.declined_rows
    unscored = pick.ranking.unscored
    if not chosen and not others:
        problems.append((None, _("There is no scored application to decide at this stage.")))
    if others and not reason_declined:
        problems.append(("reason_declined", _("Give the reason the other applications are not selected: each of "
                                              "them receives it as written feedback.")))
    if unscored and not allow_unscored:
        problems.append(("allow_unscored", ngettext(
            "${count} candidate has no submitted review yet: ${names}. Wait for its reviews, or decide "
            "without it (it stays as it is).",
            "${count} candidates have no submitted review yet: ${names}. Wait for their reviews, or decide "
            "without them (they stay as they are).",
            len(unscored), mapping={"names": "; ".join(applicant_label(a) for a in unscored)})))
    _refuse_if(problems)

    service = WorkflowService(workflows_of(registry), db, transaction_manager=transaction_manager)
    plan = [(row.application, selected_trigger, reason_selected) for row in chosen]
    plan += [(row.application, declined_trigger, reason_declined) for row in others]
    # Check every one before moving any, so a refusal changes nothing.
    for application, trigger, reason in plan:
        wf = service.workflow(application)
        option = next((o for o in wf.options(application, actor or service.actor(application, user), env=service.env)
                       if o.transition.trigger == trigger), None)
        if option is None or not option.allowed:
            reasons = option.reasons if option is not None else (
                _("“${action}” is not possible now.", mapping={"action": trigger}),)
            for r in reasons:
                problems.append((None, _("${application}: ${reason}",
                                         mapping={"application": applicant_label(application), "reason": r})))
    _refuse_if(problems)

    decided = []
    for application, trigger, reason in plan:
        transition = service.workflow(application).definition.transition(trigger, application.state)
        try:
            decided.append(_fire(service, application, transition, user, actor, reason, funder_reference, now))
        except Refused as refused:
            raise DecisionRefused([(None, _("${application}: ${reason}", mapping={
                "application": applicant_label(application), "reason": r})) for r in refused.reasons]) from None
    return RoundDecisions(tuple(decided[:len(chosen)]), tuple(decided[len(chosen):]),
                          unscored, pick)


def decisions_for(db: Session, application: Application) -> list[Decision]:
    """Every decision on ``application``, oldest first."""
    return list(db.scalars(select(Decision).where(Decision.application_id == application.id)
                           .order_by(Decision.decided_at, Decision.id)))


def round_decisions(db: Session, rnd: Round, *, stage: str | None = None) -> list[tuple[Decision, Application]]:
    """Every decision on the round's applications (at ``stage`` if given), newest first."""
    query = (select(Decision, Application).join(Application, Decision.application_id == Application.id)
             .where(Application.round_id == rnd.id).order_by(Decision.decided_at.desc(), Decision.id.desc()))
    if stage is not None:
        query = query.where(Decision.stage == stage)
    return [(d, a) for d, a in db.execute(query)]


__all__ = [
    "STAGE_MEANINGS", "DECLINE_TRIGGERS", "SELECT_TRIGGERS", "DecisionRefused", "RankingRow", "RoundDecisions",
    "RoundRanking", "SuggestedSelection", "applicant_label", "decide", "decide_round", "decisions_for", "moderate",
    "override_selection", "round_decisions", "round_ranking", "suggested_selection",
]
