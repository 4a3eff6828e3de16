"""The computation core of review (grants.review.scoring): hand-worked examples first,
then properties checked with hypothesis.  No database."""
from __future__ import annotations

from decimal import Context, localcontext
from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grants.money import Money
from grants.review.scoring import (
    CONTEXT,
    RANK_QUANTUM,
    Adjustment,
    Aggregate,
    Application,
    Basis,
    Criterion,
    CriterionScore,
    InvalidReview,
    Moderation,
    OverrideAction,
    Refused,
    Review,
    ReviewerScore,
    Rubric,
    aggregate,
    display,
    normalise_scores,
    override,
    rank,
    review_total,
    suggest_selection,
    validate_review,
    weighted_score,
)

LABELS = {1: "Poor", 2: "Weak", 3: "Adequate", 4: "Good", 5: "Excellent"}
# Weights 2, 1, 1: weighted = (2·impact + feasibility + value) / 4
RUBRIC = Rubric((
    Criterion("impact", "Impact", D(2), LABELS),
    Criterion("feasibility", "Feasibility", D(1), LABELS),
    Criterion("value", "Value for money", D(1), LABELS),
))


def review(app, reviewer, impact, feasibility, value, rationale="Because."):
    return Review(app, reviewer, (
        CriterionScore("impact", impact, rationale),
        CriterionScore("feasibility", feasibility, rationale),
        CriterionScore("value", value, rationale),
    ))


def gbp(pounds: int) -> Money:
    return Money(pounds, "GBP")


# The hand-worked panel: 3 reviewers (R1 middling, R2 harsh, R3 lenient), each scoring all
# 4 applications.  Scores are (impact, feasibility, value); weighted = (2i + f + v) / 4.
#
#        R1                      R2                      R3
#   A    4,3,5  t=12  w=16/4=4    3,2,3  t=8  w=11/4=2.75  5,4,5  t=14  w=19/4=4.75
#   B    3,4,4  t=11  w=14/4=3.5  2,3,3  t=8  w=10/4=2.5   5,5,5  t=15  w=20/4=5
#   C    5,3,3  t=11  w=16/4=4    4,2,1  t=7  w=11/4=2.75  5,4,4  t=13  w=18/4=4.5
#   D    2,3,3  t=8   w=10/4=2.5  1,2,2  t=5  w=6/4=1.5    4,4,4  t=12  w=16/4=4
#
#   mean total: A 34/3 = 11.333…  B 34/3 = 11.333…  C 31/3 = 10.333…  D 25/3 = 8.333…
#   weighted:   A (4+2.75+4.75)/3 = 11.5/3 = 3.8333…   B (3.5+2.5+5)/3 = 11/3 = 3.6666…
#               C (4+2.75+4.5)/3 = 11.25/3 = 3.75       D (2.5+1.5+4)/3 = 8/3 = 2.6666…
# By mean total B is level with A and above C; the weight on impact puts C above B.
PANEL = [
    review("A", "R1", 4, 3, 5), review("A", "R2", 3, 2, 3), review("A", "R3", 5, 4, 5),
    review("B", "R1", 3, 4, 4), review("B", "R2", 2, 3, 3), review("B", "R3", 5, 5, 5),
    review("C", "R1", 5, 3, 3), review("C", "R2", 4, 2, 1), review("C", "R3", 5, 4, 4),
    review("D", "R1", 2, 3, 3), review("D", "R2", 1, 2, 2), review("D", "R3", 4, 4, 4),
]
# Requested: A £30,000, B £20,000, C £50,000, D £10,000.
APPLICATIONS = [Application("A", gbp(30_000)), Application("B", gbp(20_000)),
                Application("C", gbp(50_000)), Application("D", gbp(10_000))]


# -- rubric and validation ----------------------------------------------------------------


def test_weighted_score_and_total_of_one_review():
    r = review("A", "R1", 4, 3, 5)
    assert review_total(RUBRIC, r) == 12
    assert weighted_score(RUBRIC, r) == D("4")  # (2·4 + 3 + 5) / 4
    assert weighted_score(RUBRIC, review("D", "R2", 1, 2, 2)) == D("1.5")  # (2 + 2 + 2) / 4
    assert RUBRIC.criterion("impact").label(5) == "Excellent"


def test_a_valid_review_has_no_problems():
    assert validate_review(RUBRIC, review("A", "R1", 1, 5, 3)) == ()


def reasons(problems):
    return [(p.criterion_id, p.reason.interpolate()) for p in problems]


def test_score_out_of_range_or_not_whole():
    problems = validate_review(RUBRIC, review("A", "R1", 0, 6, D("2.5")))
    assert reasons(problems) == [
        ("impact", "The score for “Impact” must be a whole number from 1 to 5, not 0."),
        ("feasibility", "The score for “Feasibility” must be a whole number from 1 to 5, not 6."),
        ("value", "The score for “Value for money” must be a whole number from 1 to 5, not 2.5."),
    ]
    assert all(p.reason.domain == "grants" for p in problems)
    assert validate_review(RUBRIC, review("A", "R1", True, 3, 3))  # a bool is not a score


@pytest.mark.parametrize("rationale", ["", "   \n\t", None])
def test_missing_rationale(rationale):
    problems = validate_review(RUBRIC, review("A", "R1", 3, 3, 3, rationale=rationale))
    assert [p.criterion_id for p in problems] == ["impact", "feasibility", "value"]
    assert problems[0].reason.interpolate() == "Give a rationale for the score for “Impact”."


def test_unknown_missing_and_repeated_criteria():
    r = Review("A", "R1", (
        CriterionScore("impact", 3, "ok"),
        CriterionScore("impact", 4, "again"),
        CriterionScore("charisma", 5, "dazzling"),
    ))
    assert reasons(validate_review(RUBRIC, r)) == [
        ("impact", "“Impact” is scored more than once."),
        ("charisma", "“charisma” is not a criterion of this rubric."),
        ("feasibility", "“Feasibility” has not been scored."),
        ("value", "“Value for money” has not been scored."),
    ]
    with pytest.raises(InvalidReview) as info:
        weighted_score(RUBRIC, r)
    assert len(info.value.problems) == 4 and info.value.review is r


def test_aggregate_refuses_an_invalid_review_and_a_second_review_by_the_same_reviewer():
    with pytest.raises(InvalidReview):
        aggregate(RUBRIC, [review("A", "R1", 3, 3, 3), review("B", "R1", 3, 3, 3, rationale="")])
    with pytest.raises(ValueError, match="twice"):
        aggregate(RUBRIC, [review("A", "R1", 3, 3, 3), review("A", "R1", 4, 4, 4)])


@pytest.mark.parametrize("weight, error", [(0, ValueError), (D("-1"), ValueError), (1.5, TypeError),
                                           (D("NaN"), ValueError)])
def test_criterion_weight_is_a_positive_decimal(weight, error):
    with pytest.raises(error):
        Criterion("x", "X", weight, LABELS)


def test_criterion_needs_a_label_for_each_score_and_rubric_unique_ids():
    with pytest.raises(ValueError):
        Criterion("x", "X", D(1), {1: "a", 2: "b", 3: "c", 4: "d"})
    with pytest.raises(ValueError):
        Criterion("x", "X", D(1), {**LABELS, 3: " "})
    with pytest.raises(ValueError):
        Rubric((Criterion("x", "X", D(1), LABELS), Criterion("x", "Y", D(1), LABELS)))


# -- aggregation (the hand-worked panel) --------------------------------------------------


def test_hand_worked_aggregates():
    aggs = aggregate(RUBRIC, PANEL)
    assert list(aggs) == ["A", "B", "C", "D"]
    with_context = CONTEXT.divide
    assert aggs["A"].mean_total == with_context(D(34), D(3))
    assert aggs["C"].mean_total == with_context(D(31), D(3))
    assert aggs["A"].weighted == with_context(D("11.5"), D(3))
    assert aggs["B"].weighted == with_context(D(11), D(3))
    assert aggs["C"].weighted == D("3.75")
    assert aggs["D"].weighted == with_context(D(8), D(3))
    assert [display(aggs[a].weighted) for a in "ABCD"] == [D("3.833"), D("3.667"), D("3.750"), D("2.667")]
    assert [display(aggs[a].mean_total) for a in "ABCD"] == [D("11.333"), D("11.333"), D("10.333"), D("8.333")]
    assert [(r.reviewer_id, r.total, r.weighted) for r in aggs["C"].reviews] == [
        ("R1", 11, D(4)), ("R2", 7, D("2.75")), ("R3", 13, D("4.5"))]
    assert aggs["C"].normalised is None and aggs["C"].review_count == 3


def test_full_precision_is_kept_and_display_rounds_half_even():
    aggs = aggregate(RUBRIC, PANEL)
    assert aggs["B"].weighted == D("3.666666666666666666666666666666667")  # 34 digits
    assert display(D("2.0625")) == D("2.062")  # half to even: down
    assert display(D("2.0635")) == D("2.064")  # half to even: up
    assert display(D("3.75")) == D("3.750")


def test_hand_worked_ranking_by_weighted_score():
    ranking = rank(APPLICATIONS, aggregate(RUBRIC, PANEL))
    assert [(r.position, r.application.id) for r in ranking] == [(1, "A"), (2, "C"), (3, "B"), (4, "D")]
    assert {r.basis for r in ranking} == {Basis.WEIGHTED}
    assert all(r.final == r.computed == r.aggregate.weighted for r in ranking)


# -- normalisation ------------------------------------------------------------------------


def test_normalisation_makes_a_harsh_and_a_lenient_reviewer_agree():
    # Harsh H and lenient L both prefer X to Y by the same margin, on different parts of
    # the scale.  Pool: 2, 1, 5, 4 → μ = 3, σ = √((1 + 4 + 4 + 1) / 4) = √2.5.
    # H: m = 1.5, s = 0.5; L: m = 4.5, s = 0.5 → z(X) = +1, z(Y) = −1 for both, so both
    # give X μ + σ and Y μ − σ.
    n = normalise_scores({("H", "X"): D(2), ("H", "Y"): D(1), ("L", "X"): D(5), ("L", "Y"): D(4)})
    assert n.pool_mean == D(3)
    assert n.pool_std == D("2.5").sqrt(CONTEXT)
    assert n.scores["H", "X"] == n.scores["L", "X"] == CONTEXT.add(3, n.pool_std)
    assert n.scores["H", "Y"] == n.scores["L", "Y"] == CONTEXT.subtract(3, n.pool_std)
    assert {r: p.adjustment for r, p in n.reviewers.items()} == {"H": Adjustment.RESCALED, "L": Adjustment.RESCALED}


def test_normalisation_ranks_the_harsh_reviewers_favourite_above_the_lenient_reviewers_least_favourite():
    # H (harsh) reviews X, P, Q; L (lenient) reviews Y, R, S.  X is H's best, Y is L's worst.
    #   H: X 3 = (2·3+3+3)/4, P 2 = (2·2+2+2)/4, Q 1          → m 2,   s √(2/3)
    #   L: Y 4,   R 5,   S 4.5 = (2·5+4+4)/4                  → m 4.5, s √(1/6)
    # Raw: Y (4) above X (3).  z(X) = +1/√(2/3) = +1.2247…, z(Y) = −0.5/√(1/6) = −1.2247…
    reviews = [
        review("X", "H", 3, 3, 3), review("P", "H", 2, 2, 2), review("Q", "H", 1, 1, 1),
        review("Y", "L", 4, 4, 4), review("R", "L", 5, 5, 5), review("S", "L", 5, 4, 4),
    ]
    apps = [Application(a, gbp(1_000)) for a in "XPQYRS"]
    raw = [r.application.id for r in rank(apps, aggregate(RUBRIC, reviews))]
    assert raw.index("Y") < raw.index("X")
    aggs = aggregate(RUBRIC, reviews, normalise=True)
    normalised = rank(apps, aggs, normalised=True)
    ids = [r.application.id for r in normalised]
    assert ids.index("X") < ids.index("Y")
    # X and R are each their reviewer's top (z = +√1.5), P and S the middle (z = 0), Q and
    # Y the bottom (z = −√1.5): mathematically equal pairs, so ids break the ties.
    assert ids == ["R", "X", "P", "S", "Q", "Y"]
    assert {r.basis for r in normalised} == {Basis.NORMALISED}
    # Each reviewer's normalised scores now have the pool's mean.
    pool = sum((a.weighted for a in aggs.values()), D(0)) / 6
    for group in ("XPQ", "YRS"):
        assert abs(sum(aggs[a].normalised for a in group) / 3 - pool) < D("1e-30")


def test_single_score_and_zero_variance_reviewers():
    # S scored one application: unchanged.  Z gave everything 3: shifted to the pool mean.
    # Pool: 4, 3, 3, 2, 4 → μ = 16/5 = 3.2.
    n = normalise_scores({("S", "a"): D(4), ("Z", "a"): D(3), ("Z", "b"): D(3),
                          ("V", "a"): D(2), ("V", "b"): D(4)})
    assert n.pool_mean == D("3.2")
    assert n.reviewers["S"].adjustment is Adjustment.UNCHANGED and n.scores["S", "a"] == D(4)
    assert n.reviewers["Z"].adjustment is Adjustment.SHIFTED
    assert n.scores["Z", "a"] == n.scores["Z", "b"] == D("3.2")
    assert n.reviewers["V"].adjustment is Adjustment.RESCALED


def test_normalisation_is_deterministic_whatever_the_input_order():
    forward = aggregate(RUBRIC, PANEL, normalise=True)
    backward = aggregate(RUBRIC, list(reversed(PANEL)), normalise=True)
    assert forward == backward
    assert list(forward) == list(backward) == ["A", "B", "C", "D"]  # ordered by application id


def test_ranking_with_normalisation_needs_normalised_aggregates():
    with pytest.raises(ValueError, match="without normalisation"):
        rank(APPLICATIONS, aggregate(RUBRIC, PANEL), normalised=True)


# -- moderation ---------------------------------------------------------------------------


def test_moderation_keeps_before_and_after_and_decides_the_final_score():
    aggs = aggregate(RUBRIC, PANEL)
    m = Moderation("D", "mod-1", D("2.667"), D("4.5"), "Reviewers missed the partnership with the council.")
    ranking = rank(APPLICATIONS, aggs, moderations=[m])
    d = next(r for r in ranking if r.application.id == "D")
    assert d.position == 1 and d.basis is Basis.MODERATED and d.moderated
    assert d.computed == aggs["D"].weighted  # before: 8/3, full precision
    assert d.final == D("4.5")  # after
    (applied,) = d.moderations
    assert applied.moderation is m and applied.applied_to == aggs["D"].weighted and not applied.stale
    assert [r.application.id for r in ranking] == ["D", "A", "C", "B"]


def test_later_moderations_win_and_a_stale_one_is_flagged():
    aggs = aggregate(RUBRIC, PANEL)
    first = Moderation("C", "mod-1", D("3.75"), D(2), "Budget does not add up.")
    second = Moderation("C", "mod-2", D("2.5"), D(3), "Second look: it does, mostly.")  # saw 2.5, not 2
    (c,) = [r for r in rank(APPLICATIONS, aggs, moderations=[first, second]) if r.application.id == "C"]
    assert c.final == D(3) and c.computed == D("3.75")
    assert [(a.applied_to, a.stale) for a in c.moderations] == [(D("3.75"), False), (D(2), True)]


@pytest.mark.parametrize("reason", ["", "  ", None])
def test_moderation_without_a_reason_is_refused(reason):
    with pytest.raises(Refused) as info:
        Moderation("A", "mod-1", D("3.833"), D(4), reason)
    assert [r.interpolate() for r in info.value.reasons] == ["Give a reason for the moderation."]


def test_moderated_score_must_be_on_the_rubric_scale_and_not_a_float():
    with pytest.raises(Refused, match="from 1 to 5, not 5.5"):
        Moderation("A", "mod-1", D(4), D("5.5"), "Outstanding.")
    with pytest.raises(TypeError):
        Moderation("A", "mod-1", D(4), 4.5, "Outstanding.")


def test_moderating_an_application_not_ranked_is_an_error():
    with pytest.raises(ValueError):
        rank(APPLICATIONS, aggregate(RUBRIC, PANEL), moderations=[Moderation("Z", "m", D(1), D(2), "why")])


# -- ranking tie-breaks -------------------------------------------------------------------


def test_ties_broken_by_more_reviews_then_lower_amount_then_id():
    same = (4, 4, 4)  # weighted 4 from every reviewer
    reviews = [review("few", "R1", *same),
               review("many", "R1", *same), review("many", "R2", *same),
               review("cheap-b", "R1", *same), review("cheap-b", "R2", *same),
               review("cheap-a", "R1", *same), review("cheap-a", "R2", *same)]
    apps = [Application("few", gbp(1)), Application("many", gbp(900)),
            Application("cheap-b", gbp(100)), Application("cheap-a", gbp(100))]
    ranking = rank(apps, aggregate(RUBRIC, reviews))
    assert [r.application.id for r in ranking] == ["cheap-a", "cheap-b", "many", "few"]


def test_scores_equal_but_for_arithmetic_noise_tie():
    # 10/3 to 34 digits, and the same off by one unit in the last digit (what summing in
    # another order can do): ranking compares at 1e-9, so the tie-break (id) decides.
    third = CONTEXT.divide(D(10), D(3))
    apps = [Application("b", gbp(1)), Application("a", gbp(1))]
    for noise in (D("1e-33"), D("-1e-33")):
        a_score = CONTEXT.add(third, noise)
        assert a_score != third
        aggs = {"a": Aggregate("a", (ReviewerScore("R", 10, a_score),), D(10), a_score),
                "b": Aggregate("b", (ReviewerScore("R", 10, third),), D(10), third)}
        assert [r.application.id for r in rank(apps, aggs)] == ["a", "b"]
        with localcontext(Context(prec=60)):  # whatever the caller's decimal context
            assert [r.application.id for r in rank(apps, aggs)] == ["a", "b"]


def test_ranking_refuses_mixed_currencies_and_unreviewed_applications():
    aggs = aggregate(RUBRIC, PANEL)
    with pytest.raises(Refused, match="different currencies"):
        rank([Application("A", gbp(1)), Application("B", Money(100, "EUR"))], aggs)
    with pytest.raises(ValueError, match="no reviews"):
        rank([Application("A", gbp(1)), Application("E", gbp(1))], aggs)


def test_scoring_uses_the_shared_exact_money():
    import grants.money

    assert Money is grants.money.Money
    selection = suggest_selection([], Money.from_minor(1_000_500, "TND"))
    assert selection.remaining == Money(D("1000.500"), "TND")  # millimes survive


# -- suggested selection ------------------------------------------------------------------


def test_selection_skips_what_does_not_fit_and_continues_down_the_list():
    # Ranking A £30k, C £50k, B £20k, D £10k; budget £60k.
    # A fits (60k → 30k left); C £50k does not fit 30k: skipped; B fits (→ 10k); D fits (→ 0).
    ranking = rank(APPLICATIONS, aggregate(RUBRIC, PANEL))
    selection = suggest_selection(ranking, gbp(60_000))
    assert selection.selected == selection.suggested == ("A", "B", "D")
    assert selection.skipped_for_budget == ("C",)
    assert selection.total == gbp(60_000) and selection.remaining == gbp(0) and not selection.over_budget
    assert [(s.application_id, s.remaining_before, s.selected) for s in selection.steps] == [
        ("A", gbp(60_000), True), ("C", gbp(30_000), False), ("B", gbp(30_000), True), ("D", gbp(10_000), True)]


def test_selection_with_room_to_spare_and_with_nothing_fitting():
    ranking = rank(APPLICATIONS, aggregate(RUBRIC, PANEL))
    roomy = suggest_selection(ranking, gbp(200_000))
    assert roomy.selected == ("A", "C", "B", "D") and roomy.remaining == gbp(90_000)
    tight = suggest_selection(ranking, gbp(9_999))
    assert tight.selected == () and tight.skipped_for_budget == ("A", "C", "B", "D")
    assert tight.remaining == gbp(9_999)


def test_selection_refuses_another_currency():
    ranking = rank(APPLICATIONS, aggregate(RUBRIC, PANEL))
    with pytest.raises(Refused, match="different currencies"):
        suggest_selection(ranking, Money(60_000_00, "TND"))


def test_overrides_are_recorded_and_the_total_recomputed_and_flagged_over_budget():
    ranking = rank(APPLICATIONS, aggregate(RUBRIC, PANEL))
    suggestion = suggest_selection(ranking, gbp(60_000))
    added = override(suggestion, "C", OverrideAction.ADD, officer_id="po-1", reason="Strategic priority for the round.")
    assert added.selected == ("A", "C", "B", "D")
    assert added.total == gbp(110_000) and added.remaining == gbp(-50_000) and added.over_budget
    assert added.suggested == ("A", "B", "D") and added.skipped_for_budget == ("C",)  # the suggestion is kept
    removed = override(added, "B", "remove", officer_id="po-2", reason="Duplicates another funder's grant.")
    removed = override(removed, "A", "remove", officer_id="po-2", reason="Withdrawn by the applicant.")
    assert removed.selected == ("C", "D") and removed.total == gbp(60_000) and not removed.over_budget
    assert [(o.application_id, o.action, o.officer_id, o.requested) for o in removed.overrides] == [
        ("C", OverrideAction.ADD, "po-1", gbp(50_000)), ("B", OverrideAction.REMOVE, "po-2", gbp(20_000)),
        ("A", OverrideAction.REMOVE, "po-2", gbp(30_000))]
    assert suggestion.overrides == ()  # unchanged: selections are values


def test_override_refusals():
    suggestion = suggest_selection(rank(APPLICATIONS, aggregate(RUBRIC, PANEL)), gbp(60_000))
    with pytest.raises(Refused) as info:
        override(suggestion, "C", "add", officer_id="po-1", reason="  ")
    assert [r.interpolate() for r in info.value.reasons] == ["Give a reason for the override."]
    with pytest.raises(Refused, match="already selected"):
        override(suggestion, "A", "add", officer_id="po-1", reason="r")
    with pytest.raises(Refused, match="is not selected"):
        override(suggestion, "C", "remove", officer_id="po-1", reason="r")
    with pytest.raises(Refused, match="not in the ranking"):
        override(suggestion, "Z", "add", officer_id="po-1", reason="r")


# -- properties -----------------------------------------------------------------------------


@st.composite
def rounds(draw):
    """Reviews of up to 12 applications by a panel of up to 4 reviewers (every application
    reviewed at least once), amounts requested in pence, a budget, normalisation on or off."""
    n_apps = draw(st.integers(1, 12))
    panel = [f"R{i}" for i in range(draw(st.integers(1, 4)))]
    reviews = []
    for a in range(n_apps):
        for reviewer in draw(st.lists(st.sampled_from(panel), min_size=1, unique=True)):
            reviews.append(review(f"app-{a:02}", reviewer, *draw(st.tuples(*[st.integers(1, 5)] * 3))))
    # Few distinct amounts and scores make ties (and their tie-breaks) common.
    amounts = draw(st.lists(st.sampled_from([0, 1, 500, 1_000, 2_500, 10_000, 99_999]),
                            min_size=n_apps, max_size=n_apps))
    apps = [Application(f"app-{a:02}", Money(amount, "GBP")) for a, amount in enumerate(amounts)]
    budget = Money(draw(st.integers(0, 150_000)), "GBP")
    return reviews, apps, budget, draw(st.booleans())


def _ranking(reviews, apps, normalised):
    return rank(apps, aggregate(RUBRIC, reviews, normalise=normalised), normalised=normalised)


@settings(max_examples=300, deadline=None)
@given(rounds())
def test_selection_never_exceeds_the_budget_and_skips_only_what_did_not_fit(case):
    reviews, apps, budget, normalised = case
    ranking = _ranking(reviews, apps, normalised)
    selection = suggest_selection(ranking, budget)
    by_id = {a.id: a.requested.amount for a in apps}
    assert sum(by_id[i] for i in selection.selected) == selection.total.amount <= budget.amount
    assert selection.remaining.amount == budget.amount - selection.total.amount >= 0
    assert not selection.over_budget
    # Selected and skipped partition the ranking, and each keeps rank order.
    order = [r.application.id for r in ranking]
    assert sorted(selection.selected + selection.skipped_for_budget) == sorted(order)
    for part in (selection.selected, selection.skipped_for_budget):
        assert list(part) == [i for i in order if i in part]
    # The true greedy property, recomputed from the outcome alone: walking down the
    # ranking, an application is skipped exactly when its amount exceeded what the
    # applications selected above it had left of the budget.
    spent = 0
    for i in order:
        fits = by_id[i] <= budget.amount - spent
        assert (i in selection.selected) == fits, (i, by_id[i], budget.amount - spent)
        if fits:
            spent += by_id[i]


@settings(max_examples=200, deadline=None)
@given(rounds(), st.randoms(use_true_random=False))
def test_ranking_is_a_deterministic_ordered_permutation(case, rnd):
    reviews, apps, _budget, normalised = case
    ranking = _ranking(reviews, apps, normalised)
    assert sorted(r.application.id for r in ranking) == sorted(a.id for a in apps)
    assert [r.position for r in ranking] == list(range(1, len(apps) + 1))
    # Highest final score first; among equal scores, more reviews, then less money, then id.
    keys = [(-r.final.quantize(RANK_QUANTUM, context=CONTEXT), -r.aggregate.review_count, r.application.requested.amount, r.application.id)
            for r in ranking]
    assert keys == sorted(keys)
    # Same reviews and applications in another order: the same ranking, to the last digit.
    shuffled_reviews, shuffled_apps = list(reviews), list(apps)
    rnd.shuffle(shuffled_reviews)
    rnd.shuffle(shuffled_apps)
    assert _ranking(shuffled_reviews, shuffled_apps, normalised) == ranking


@settings(max_examples=200, deadline=None)
@given(rounds())
def test_normalised_reviewers_share_the_pool_mean_and_spread(case):
    reviews, _apps, _budget, _normalised = case
    weighted = {(r.reviewer_id, r.application_id): weighted_score(RUBRIC, r) for r in reviews}
    n = normalise_scores(weighted)
    tolerance = D("1e-25")
    for reviewer_id, profile in n.reviewers.items():
        mine = [v for (r, _a), v in n.scores.items() if r == reviewer_id]
        mean = sum(mine, D(0)) / len(mine)
        if profile.adjustment is Adjustment.UNCHANGED:
            assert profile.count == 1 and mine == [weighted[k] for k in weighted if k[0] == reviewer_id]
            continue
        assert abs(mean - n.pool_mean) < tolerance
        spread = (sum(((v - mean) ** 2 for v in mine), D(0)) / len(mine)).sqrt()
        expected = n.pool_std if profile.adjustment is Adjustment.RESCALED else D(0)
        assert abs(spread - expected) < tolerance


@settings(max_examples=200, deadline=None)
@given(rounds(), st.data())
def test_overrides_recompute_total_and_flag_going_over(case, data):
    reviews, apps, budget, normalised = case
    selection = suggest_selection(_ranking(reviews, apps, normalised), budget)
    by_id = {a.id: a.requested.amount for a in apps}
    for _ in range(data.draw(st.integers(1, 5))):
        app_id = data.draw(st.sampled_from(sorted(by_id)))
        action = OverrideAction.REMOVE if app_id in selection.selected else OverrideAction.ADD
        selection = override(selection, app_id, action, officer_id="po", reason="because")
        assert selection.total.amount == sum(by_id[i] for i in selection.selected)
        assert selection.over_budget == (selection.total.amount > budget.amount)
        assert selection.remaining.amount == budget.amount - selection.total.amount


def test_ranking_and_selection_of_nothing():
    assert rank([], {}) == ()
    empty = suggest_selection((), gbp(10))
    assert empty.selected == () and empty.remaining == gbp(10)
