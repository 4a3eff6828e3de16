"""The computation core of review: rubric scores, aggregation, normalisation, moderation,
ranking and a suggested selection within a budget.

Plain dataclasses and functions: no database, no Pyramid, no SQLAlchemy.  Money is
:class:`grants.money.Money` (exact, never a float); sums are kept in integer minor units.
Scores are :class:`~decimal.Decimal`.  Sentences a person reads (validation problems,
refusals) are ``TranslationString``\\ s in the ``grants`` domain.

Rubric and scores
-----------------
A :class:`Rubric` is a tuple of weighted :class:`Criterion` objects (weight a Decimal
> 0).  A reviewer gives every criterion a whole-number score from 1 to 5 (each value has
a label) and a rationale.  :func:`validate_review` returns the problems with one
:class:`Review`: a score out of range, a missing rationale, an unknown criterion, a
criterion scored twice, a criterion not scored.

Per review, with scores ``s_c`` and weights ``w_c``::

    total(review)    = Σ s_c                       (a whole number)
    weighted(review) = Σ (w_c · s_c) / Σ w_c        (from 1 to 5)

Aggregation (:func:`aggregate`)
-------------------------------
Per application, over its ``n`` reviews (one per reviewer)::

    mean_total = Σ total / n
    weighted   = Σ weighted / n       (each reviewer's weighted score, then averaged)

Normalisation (:func:`normalise_scores`, optional: ``aggregate(..., normalise=True)``)
-----------------------------------------------------------------------------------
Corrects lenient and harsh reviewers.  Every review's weighted score ``x`` is one
observation.  ``μ, σ`` are the mean and population standard deviation of all
observations (the pool); ``m_r, s_r`` those of reviewer ``r``'s observations across the
applications they scored (``n_r`` of them).  Each observation becomes::

    n_r ≥ 2 and s_r > 0:  x' = μ + σ · (x − m_r) / s_r    (z-score, rescaled to the pool)
    n_r ≥ 2 and s_r = 0:  x' = x − m_r + μ = μ            (shifted by the mean difference only:
                                                           the reviewer expressed no preference)
    n_r = 1:              x' = x                          (unchanged: one score says nothing
                                                           about how lenient the reviewer is)

An application's normalised score is the mean of its reviews' ``x'``.  Normalised scores
are on the pool's scale and may fall a little outside 1–5; they are not clamped
(clamping would create ties that are not there).  With ``n_r = 2`` the z-scores are
always ±1: the formula is applied as it stands.

Arithmetic, rounding and comparison
-----------------------------------
All arithmetic runs in :data:`CONTEXT`: 34 significant digits (IEEE decimal128),
``ROUND_HALF_EVEN``; sums are taken in a fixed order (sorted ids) so results never
depend on input order.  Full precision is kept in every result.  :func:`display` rounds
a score for people: ``ROUND_HALF_EVEN`` to 3 decimal places.  Ranking compares scores
rounded to :data:`RANK_QUANTUM` (10⁻⁹), so that noise in the 34th digit never decides an
order and two mathematically equal scores always go to the tie-breaks.

Moderation
----------
A :class:`Moderation` (application, moderator, score before, score after, reason) cannot
be created without a reason, and its score after must be from 1 to 5.  Moderations are
applied on top of the computed score by :func:`rank`, in the order given; the last one
for an application decides its final score.  The ranked result keeps the computed score
(before) and the final score (after) and every moderation; a moderation whose recorded
score before differs, at display precision, from the score it is applied on top of is
flagged ``stale`` (the reviews changed after the moderator looked) but still applied.

Ranking (:func:`rank`)
----------------------
The final score is the moderated score if any, else the normalised score if
normalisation is enabled, else the weighted score.  Order: final score, highest first;
ties broken by more reviews first, then lower amount requested, then application id
(ascending).  The order is total, so a ranking is a deterministic permutation of the
applications, whatever order they and their reviews came in.  Application ids must be
mutually comparable (all ``str`` or all ``int``); so must reviewer ids.

Suggested selection (:func:`suggest_selection`, :func:`override`)
---------------------------------------------------------------
Greedy by rank, skip and continue: walk the ranking from the top with the remaining
budget; an application is selected if its requested amount fits in what remains
(``amount ≤ remaining``), else it is skipped for budget and the walk continues down the
list, so a smaller lower-ranked application may be selected after a larger higher-ranked
one was skipped.  This is what programme officers expect; it is not an optimal knapsack.
The one property that holds: an application is skipped exactly when its amount exceeded
the budget remaining at its turn.  All amounts must share the budget's currency.

An officer then adds or removes applications with :func:`override` (a reason is
required).  The suggestion (``suggested``, ``skipped_for_budget``, ``steps``) is kept as
computed; ``selected``, ``total``, ``remaining`` and ``over_budget`` are recomputed from
it and the overrides.  Going over the budget is allowed and flagged (``over_budget``,
negative ``remaining``).
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import (
    ROUND_HALF_EVEN,
    Context,
    Decimal,
    DivisionByZero,
    InvalidOperation,
    Overflow,
    localcontext,
)
from enum import StrEnum
from types import MappingProxyType
from typing import Any, TypeAlias

from translationstring import TranslationString, TranslationStringFactory

from grants.money import Money

_ = TranslationStringFactory("grants")

ApplicationId: TypeAlias = str | int
PersonId: TypeAlias = str | int

MIN_SCORE = 1
MAX_SCORE = 5
SCORE_VALUES = tuple(range(MIN_SCORE, MAX_SCORE + 1))

#: The arithmetic context of every computation here (IEEE decimal128 precision).
CONTEXT = Context(prec=34, rounding=ROUND_HALF_EVEN, traps=[InvalidOperation, DivisionByZero, Overflow])
#: Scores shown to people: 3 decimal places, ROUND_HALF_EVEN.
DISPLAY_QUANTUM = Decimal("0.001")
#: Scores compared when ranking: 9 decimal places, ROUND_HALF_EVEN.
RANK_QUANTUM = Decimal("1e-9")


def display(score: Decimal) -> Decimal:
    """``score`` rounded for display: ROUND_HALF_EVEN to 3 decimal places."""
    return score.quantize(DISPLAY_QUANTUM, rounding=ROUND_HALF_EVEN, context=CONTEXT)


def _rank_value(score: Decimal) -> Decimal:
    return score.quantize(RANK_QUANTUM, rounding=ROUND_HALF_EVEN, context=CONTEXT)


def _as_decimal(value: Any, what: str) -> Decimal:
    """Decimal or int (not bool) as a finite Decimal; floats are refused."""
    if type(value) is int:
        return Decimal(value)
    if not isinstance(value, Decimal):
        raise TypeError(f"{what} must be a Decimal (or int), not {type(value).__name__}")
    if not value.is_finite():
        raise ValueError(f"{what} must be finite, not {value}")
    return value


def _blank(text: Any) -> bool:
    return not isinstance(text, str) or not text.strip()


class Refused(ValueError):
    """Something a person asked for cannot be done; ``reasons`` are sentences they can read
    (TranslationStrings).  Raised for input people give: moderations, overrides, budgets."""

    def __init__(self, reasons: Sequence[TranslationString]):
        self.reasons = list(reasons)
        super().__init__("; ".join(r.interpolate() if isinstance(r, TranslationString) else str(r)
                                   for r in self.reasons))


# -- rubric and reviews -------------------------------------------------------------------


@dataclass(frozen=True)
class Criterion:
    """One weighted criterion.  ``labels`` maps every score value 1..5 to its label."""

    id: str
    title: str
    weight: Decimal
    labels: Mapping[int, str]

    def __post_init__(self):
        weight = _as_decimal(self.weight, f"weight of criterion {self.id!r}")
        if weight <= 0:
            raise ValueError(f"weight of criterion {self.id!r} must be > 0, not {weight}")
        object.__setattr__(self, "weight", weight)
        labels = dict(self.labels)
        if set(labels) != set(SCORE_VALUES) or any(_blank(v) for v in labels.values()):
            raise ValueError(f"criterion {self.id!r} needs a label for each score {SCORE_VALUES}, got {labels!r}")
        object.__setattr__(self, "labels", MappingProxyType({k: labels[k] for k in SCORE_VALUES}))

    def label(self, score: int) -> str:
        return self.labels[score]


@dataclass(frozen=True)
class Rubric:
    """Weighted criteria, in the order reviewers see them.  Ids are unique."""

    criteria: tuple[Criterion, ...]
    total_weight: Decimal = field(init=False, repr=False, compare=False)
    _by_id: Mapping[str, Criterion] = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        criteria = tuple(self.criteria)
        if not criteria:
            raise ValueError("a rubric needs at least one criterion")
        by_id = {c.id: c for c in criteria}
        if len(by_id) != len(criteria):
            raise ValueError("criterion ids must be unique")
        object.__setattr__(self, "criteria", criteria)
        object.__setattr__(self, "_by_id", MappingProxyType(by_id))
        with localcontext(CONTEXT):
            object.__setattr__(self, "total_weight", sum((c.weight for c in criteria), Decimal(0)))

    def criterion(self, criterion_id: str) -> Criterion | None:
        return self._by_id.get(criterion_id)


@dataclass(frozen=True)
class CriterionScore:
    criterion_id: str
    score: int
    rationale: str


@dataclass(frozen=True)
class Review:
    """One reviewer's scores for one application."""

    application_id: ApplicationId
    reviewer_id: PersonId
    scores: tuple[CriterionScore, ...]

    def __post_init__(self):
        object.__setattr__(self, "scores", tuple(self.scores))


@dataclass(frozen=True)
class Problem:
    """What is wrong with one review; ``criterion_id`` is None for the review as a whole."""

    criterion_id: str | None
    reason: TranslationString


class InvalidReview(Refused):
    def __init__(self, review: Review, problems: Sequence[Problem]):
        self.review = review
        self.problems = tuple(problems)
        super().__init__([p.reason for p in self.problems])


def _is_score(value: Any) -> bool:
    return type(value) is int and MIN_SCORE <= value <= MAX_SCORE


def validate_review(rubric: Rubric, review: Review) -> tuple[Problem, ...]:
    """The problems with ``review`` against ``rubric``; empty when it can be counted.
    Problems follow the review's order, then criteria not scored in the rubric's order."""
    problems: list[Problem] = []
    seen: set[str] = set()
    for s in review.scores:
        criterion = rubric.criterion(s.criterion_id)
        if criterion is None:
            problems.append(Problem(s.criterion_id, _(
                "“${criterion}” is not a criterion of this rubric.", mapping={"criterion": str(s.criterion_id)})))
            continue
        if s.criterion_id in seen:
            problems.append(Problem(s.criterion_id, _(
                "“${criterion}” is scored more than once.", mapping={"criterion": criterion.title})))
            continue
        seen.add(s.criterion_id)
        if not _is_score(s.score):
            problems.append(Problem(s.criterion_id, _(
                "The score for “${criterion}” must be a whole number from ${min} to ${max}, not ${score}.",
                mapping={"criterion": criterion.title, "min": MIN_SCORE, "max": MAX_SCORE, "score": str(s.score)})))
        if _blank(s.rationale):
            problems.append(Problem(s.criterion_id, _(
                "Give a rationale for the score for “${criterion}”.", mapping={"criterion": criterion.title})))
    for criterion in rubric.criteria:
        if criterion.id not in seen:
            problems.append(Problem(criterion.id, _(
                "“${criterion}” has not been scored.", mapping={"criterion": criterion.title})))
    return tuple(problems)


def _checked(rubric: Rubric, review: Review) -> None:
    problems = validate_review(rubric, review)
    if problems:
        raise InvalidReview(review, problems)


def review_total(rubric: Rubric, review: Review) -> int:
    """Σ scores of a valid review (raises :class:`InvalidReview` otherwise)."""
    _checked(rubric, review)
    return sum(s.score for s in review.scores)


def _weighted(rubric: Rubric, review: Review) -> Decimal:
    with localcontext(CONTEXT):
        weighted_sum = sum((rubric.criterion(s.criterion_id).weight * s.score for s in review.scores), Decimal(0))
        return weighted_sum / rubric.total_weight


def weighted_score(rubric: Rubric, review: Review) -> Decimal:
    """Σ(weight · score) / Σ weight of a valid review (raises :class:`InvalidReview`)."""
    _checked(rubric, review)
    return _weighted(rubric, review)


# -- aggregation and normalisation ------------------------------------------------------


class Adjustment(StrEnum):
    RESCALED = "rescaled"    # z-score, rescaled to the pool's mean and standard deviation
    SHIFTED = "shifted"      # zero variance: shifted by the difference of means only
    UNCHANGED = "unchanged"  # a single score: kept as given


@dataclass(frozen=True)
class ReviewerProfile:
    reviewer_id: PersonId
    count: int
    mean: Decimal
    std: Decimal
    adjustment: Adjustment


@dataclass(frozen=True)
class Normalisation:
    """Pool statistics, each reviewer's statistics and what was done to them, and the
    normalised score of each (reviewer id, application id) observation."""

    pool_mean: Decimal
    pool_std: Decimal
    reviewers: Mapping[PersonId, ReviewerProfile]
    scores: Mapping[tuple[PersonId, ApplicationId], Decimal]


def _mean_std(values: Sequence[Decimal]) -> tuple[Decimal, Decimal]:
    """Mean and population standard deviation, in the current (CONTEXT) context."""
    n = len(values)
    mean = sum(values, Decimal(0)) / n
    variance = sum(((v - mean) ** 2 for v in values), Decimal(0)) / n
    return mean, variance.sqrt()


def normalise_scores(weighted: Mapping[tuple[PersonId, ApplicationId], Decimal]) -> Normalisation:
    """Normalise per reviewer (see the module docstring for the formulas).  ``weighted``
    maps (reviewer id, application id) to that review's weighted score."""
    if not weighted:
        raise ValueError("nothing to normalise")
    with localcontext(CONTEXT):
        keys = sorted(weighted)
        pool_mean, pool_std = _mean_std([weighted[k] for k in keys])
        by_reviewer: dict[PersonId, list[tuple[ApplicationId, Decimal]]] = {}
        for reviewer_id, application_id in keys:
            by_reviewer.setdefault(reviewer_id, []).append((application_id, weighted[reviewer_id, application_id]))
        profiles: dict[PersonId, ReviewerProfile] = {}
        scores: dict[tuple[PersonId, ApplicationId], Decimal] = {}
        for reviewer_id, observations in by_reviewer.items():
            mean, std = _mean_std([x for _a, x in observations])
            if len(observations) == 1:
                adjustment = Adjustment.UNCHANGED
            elif std == 0:
                adjustment = Adjustment.SHIFTED
            else:
                adjustment = Adjustment.RESCALED
            profiles[reviewer_id] = ReviewerProfile(reviewer_id, len(observations), mean, std, adjustment)
            for application_id, x in observations:
                if adjustment is Adjustment.RESCALED:
                    scores[reviewer_id, application_id] = pool_mean + pool_std * (x - mean) / std
                elif adjustment is Adjustment.SHIFTED:
                    scores[reviewer_id, application_id] = x - mean + pool_mean
                else:
                    scores[reviewer_id, application_id] = x
    return Normalisation(pool_mean, pool_std, MappingProxyType(profiles), MappingProxyType(scores))


@dataclass(frozen=True)
class ReviewerScore:
    """One reviewer's scores for one application."""

    reviewer_id: PersonId
    total: int
    weighted: Decimal
    normalised: Decimal | None = None


@dataclass(frozen=True)
class Aggregate:
    """One application's reviews, summed up (full precision; see :func:`display`)."""

    application_id: ApplicationId
    reviews: tuple[ReviewerScore, ...]  # by reviewer id
    mean_total: Decimal
    weighted: Decimal
    normalised: Decimal | None = None  # None unless normalisation was asked for

    @property
    def review_count(self) -> int:
        return len(self.reviews)


def aggregate(rubric: Rubric, reviews: Iterable[Review], *, normalise: bool = False) -> dict[ApplicationId, Aggregate]:
    """An :class:`Aggregate` for each application with at least one review, keyed and
    ordered by application id.  Raises :class:`InvalidReview` for the first review (in
    the order given) that :func:`validate_review` finds problems with, and ``ValueError``
    when a reviewer reviewed the same application twice."""
    by_application: dict[ApplicationId, dict[PersonId, tuple[int, Decimal]]] = {}
    for review in reviews:
        _checked(rubric, review)
        slot = by_application.setdefault(review.application_id, {})
        if review.reviewer_id in slot:
            raise ValueError(f"reviewer {review.reviewer_id!r} reviewed {review.application_id!r} twice")
        slot[review.reviewer_id] = (sum(s.score for s in review.scores), _weighted(rubric, review))

    normalised = None
    if normalise and by_application:
        normalised = normalise_scores({(r, a): w for a, slot in by_application.items() for r, (_t, w) in slot.items()})

    result: dict[ApplicationId, Aggregate] = {}
    with localcontext(CONTEXT):
        for application_id in sorted(by_application):
            slot = by_application[application_id]
            rows = tuple(
                ReviewerScore(r, slot[r][0], slot[r][1],
                              normalised.scores[r, application_id] if normalised is not None else None)
                for r in sorted(slot))
            n = len(rows)
            result[application_id] = Aggregate(
                application_id=application_id,
                reviews=rows,
                mean_total=Decimal(sum(row.total for row in rows)) / n,
                weighted=sum((row.weighted for row in rows), Decimal(0)) / n,
                normalised=(sum((row.normalised for row in rows), Decimal(0)) / n) if normalised is not None else None,
            )
    return result


# -- moderation ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Moderation:
    """A moderator's change to an application's score.  Refused (:class:`Refused`)
    without a reason, or with a score after outside 1–5."""

    application_id: ApplicationId
    moderator_id: PersonId
    score_before: Decimal
    score_after: Decimal
    reason: str

    def __post_init__(self):
        object.__setattr__(self, "score_before", _as_decimal(self.score_before, "score before"))
        object.__setattr__(self, "score_after", _as_decimal(self.score_after, "score after"))
        reasons = []
        if _blank(self.reason):
            reasons.append(_("Give a reason for the moderation."))
        if not MIN_SCORE <= self.score_after <= MAX_SCORE:
            reasons.append(_("A moderated score must be from ${min} to ${max}, not ${score}.",
                             mapping={"min": MIN_SCORE, "max": MAX_SCORE, "score": str(self.score_after)}))
        if reasons:
            raise Refused(reasons)


@dataclass(frozen=True)
class AppliedModeration:
    moderation: Moderation
    applied_to: Decimal  # the score it was applied on top of
    stale: bool          # display(score_before) != display(applied_to)


# -- ranking --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Application:
    """What ranking and selection need to know about an application."""

    id: ApplicationId
    requested: Money

    def __post_init__(self):
        if not isinstance(self.requested, Money):
            raise TypeError("Application.requested is Money")
        if self.requested.amount < 0:
            raise ValueError(f"application {self.id!r} requests a negative amount")


class Basis(StrEnum):
    MODERATED = "moderated"
    NORMALISED = "normalised"
    WEIGHTED = "weighted"


@dataclass(frozen=True)
class Ranked:
    """One application's place in a ranking.  ``computed`` is the score before moderation
    (normalised if enabled, else weighted); ``final`` the score after."""

    position: int  # 1 is the top
    application: Application
    aggregate: Aggregate
    computed: Decimal
    moderations: tuple[AppliedModeration, ...]
    final: Decimal
    basis: Basis

    @property
    def moderated(self) -> bool:
        return bool(self.moderations)


def _currency_refusal(expected: str, application: Application) -> TranslationString:
    return _("Application ${application} asks for an amount in ${currency}, not ${expected}; "
             "amounts in different currencies cannot be compared or added.",
             mapping={"application": str(application.id), "currency": application.requested.currency,
                      "expected": expected})


def rank_key(ranked: Ranked) -> tuple:
    """The sort key of a ranking: final score (highest first), more reviews first, lower
    amount requested first, then application id."""
    return (CONTEXT.minus(_rank_value(ranked.final)), -ranked.aggregate.review_count,
            ranked.application.requested.minor_units, ranked.application.id)


def rank(applications: Iterable[Application], aggregates: Mapping[ApplicationId, Aggregate], *,
         normalised: bool = False, moderations: Iterable[Moderation] = ()) -> tuple[Ranked, ...]:
    """Rank ``applications`` (see the module docstring for the order).  Every application
    needs an aggregate (``ValueError`` otherwise), computed with ``normalise=True`` when
    ``normalised`` is true; extra aggregates are ignored.  Amounts requested in different
    currencies are refused (:class:`Refused`)."""
    applications = tuple(applications)
    by_id = {a.id: a for a in applications}
    if len(by_id) != len(applications):
        raise ValueError("application ids must be unique")
    missing = [a.id for a in applications if a.id not in aggregates]
    if missing:
        raise ValueError(f"no reviews for applications {sorted(missing)!r}")
    if applications:
        currency = applications[0].requested.currency
        mixed = [a for a in applications if a.requested.currency != currency]
        if mixed:
            raise Refused([_currency_refusal(currency, mixed[0])])

    by_application: dict[ApplicationId, list[Moderation]] = {}
    for m in moderations:
        if m.application_id not in by_id:
            raise ValueError(f"moderation of {m.application_id!r}, which is not being ranked")
        by_application.setdefault(m.application_id, []).append(m)

    unranked = []
    for application in applications:
        agg = aggregates[application.id]
        if normalised:
            if agg.normalised is None:
                raise ValueError(f"aggregate of {application.id!r} was computed without normalisation")
            computed, basis = agg.normalised, Basis.NORMALISED
        else:
            computed, basis = agg.weighted, Basis.WEIGHTED
        applied = []
        score = computed
        for m in by_application.get(application.id, ()):
            applied.append(AppliedModeration(m, score, display(m.score_before) != display(score)))
            score = m.score_after
        if applied:
            basis = Basis.MODERATED
        unranked.append(Ranked(0, application, agg, computed, tuple(applied), score, basis))
    unranked.sort(key=rank_key)
    return tuple(Ranked(i, r.application, r.aggregate, r.computed, r.moderations, r.final, r.basis)
                 for i, r in enumerate(unranked, start=1))


# -- suggested selection ----------------------------------------------------------------


@dataclass(frozen=True)
class SelectionStep:
    """One turn of the greedy walk: the application, and the budget left when it came."""

    application_id: ApplicationId
    requested: Money
    remaining_before: Money
    selected: bool


class OverrideAction(StrEnum):
    ADD = "add"
    REMOVE = "remove"


@dataclass(frozen=True)
class Override:
    application_id: ApplicationId
    action: OverrideAction
    officer_id: PersonId
    reason: str
    requested: Money


@dataclass(frozen=True)
class Selection:
    """A suggested selection and the officers' overrides on top of it.

    ``steps``, ``suggested`` and ``skipped_for_budget`` are the greedy suggestion, kept as
    computed.  ``selected`` (in rank order), ``total``, ``remaining`` (negative when over)
    and ``over_budget`` follow from the suggestion and ``overrides``."""

    budget: Money
    order: tuple[Application, ...]  # the ranking, top first
    steps: tuple[SelectionStep, ...]
    overrides: tuple[Override, ...] = ()
    suggested: tuple[ApplicationId, ...] = field(init=False)
    skipped_for_budget: tuple[ApplicationId, ...] = field(init=False)
    selected: tuple[ApplicationId, ...] = field(init=False)
    total: Money = field(init=False)
    remaining: Money = field(init=False)
    over_budget: bool = field(init=False)

    def __post_init__(self):
        chosen = {s.application_id for s in self.steps if s.selected}
        for o in self.overrides:
            if o.action is OverrideAction.ADD:
                chosen.add(o.application_id)
            else:
                chosen.discard(o.application_id)
        selected = tuple(a for a in self.order if a.id in chosen)
        total = sum((a.requested.minor_units for a in selected), 0)
        put = object.__setattr__
        put(self, "suggested", tuple(s.application_id for s in self.steps if s.selected))
        put(self, "skipped_for_budget", tuple(s.application_id for s in self.steps if not s.selected))
        put(self, "selected", tuple(a.id for a in selected))
        put(self, "total", Money.from_minor(total, self.budget.currency))
        put(self, "remaining", Money.from_minor(self.budget.minor_units - total, self.budget.currency))
        put(self, "over_budget", total > self.budget.minor_units)


def suggest_selection(ranking: Sequence[Ranked], budget: Money) -> Selection:
    """Greedy by rank, skip and continue (see the module docstring).  Refuses
    (:class:`Refused`) an amount in another currency than the budget's."""
    if not isinstance(budget, Money):
        raise TypeError("budget is Money")
    if budget.amount < 0:
        raise ValueError("the budget is negative")
    order = tuple(r.application for r in ranking)
    mixed = [a for a in order if a.requested.currency != budget.currency]
    if mixed:
        raise Refused([_currency_refusal(budget.currency, mixed[0])])
    remaining = budget.minor_units
    steps = []
    for application in order:
        amount = application.requested.minor_units
        fits = amount <= remaining
        steps.append(SelectionStep(application.id, application.requested, Money.from_minor(remaining, budget.currency), fits))
        if fits:
            remaining -= amount
    return Selection(budget, order, tuple(steps))


def override(selection: Selection, application_id: ApplicationId, action: OverrideAction | str, *,
             officer_id: PersonId, reason: str) -> Selection:
    """``selection`` with ``application_id`` added to or removed from it by an officer,
    for ``reason``.  Refuses (:class:`Refused`) without a reason, an application not in
    the ranking, adding one already selected and removing one not selected."""
    action = OverrideAction(action)
    reasons = []
    if _blank(reason):
        reasons.append(_("Give a reason for the override."))
    application = next((a for a in selection.order if a.id == application_id), None)
    if application is None:
        reasons.append(_("Application ${application} is not in the ranking.",
                         mapping={"application": str(application_id)}))
    elif action is OverrideAction.ADD and application_id in selection.selected:
        reasons.append(_("Application ${application} is already selected.",
                         mapping={"application": str(application_id)}))
    elif action is OverrideAction.REMOVE and application_id not in selection.selected:
        reasons.append(_("Application ${application} is not selected.",
                         mapping={"application": str(application_id)}))
    if reasons:
        raise Refused(reasons)
    record = Override(application_id, action, officer_id, reason, application.requested)
    return Selection(selection.budget, selection.order, selection.steps, selection.overrides + (record,))


__all__ = [
    "CONTEXT", "DISPLAY_QUANTUM", "MAX_SCORE", "MIN_SCORE", "RANK_QUANTUM", "SCORE_VALUES",
    "Adjustment", "Aggregate", "Application", "AppliedModeration", "Basis", "Criterion", "CriterionScore",
    "InvalidReview", "Moderation", "Normalisation", "Override", "OverrideAction", "Problem", "Ranked",
    "Refused", "Review", "ReviewerProfile", "ReviewerScore", "Rubric", "Selection", "SelectionStep",
    "aggregate", "display", "normalise_scores", "override", "rank", "rank_key", "review_total",
    "suggest_selection", "validate_review", "weighted_score",
]
