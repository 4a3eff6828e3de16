"""Review scoring at BLADI scale (250 applications, 3 reviewers each) and at 10,000
applications: per-reviewer normalisation + ranking + suggested selection with
grants.review.scoring, against a naive baseline measured in the same run on the same data.
Prints both times and the ratio.

The naive baseline is what a straightforward first version does:
  * normalisation recomputes a reviewer's mean and standard deviation from scratch for
    every one of their reviews (quadratic in a reviewer's workload);
  * the sort recomputes both applications' aggregates (weighted scores from the raw
    criterion scores, then the mean of normalised scores) inside every comparison;
  * selection re-adds the amounts selected so far at every step.
It skips validation, which grants.review.scoring does for every review.  Both produce the
same ranking and the same selection (checked).

    python bench/scoring.py [SEED]
"""
from __future__ import annotations

import functools
import random
import sys
import time
from decimal import Decimal, localcontext

from grants.money import Money
from grants.review.scoring import (
    CONTEXT,
    RANK_QUANTUM,
    Application,
    Criterion,
    CriterionScore,
    Review,
    Rubric,
    aggregate,
    rank,
    suggest_selection,
)

LABELS = {1: "Poor", 2: "Weak", 3: "Adequate", 4: "Good", 5: "Excellent"}
RUBRIC = Rubric((
    Criterion("relevance", "Relevance to P/CVE", Decimal(2), LABELS),
    Criterion("capacity", "Organisational capacity", Decimal(1), LABELS),
    Criterion("feasibility", "Feasibility and budget", Decimal(1), LABELS),
))


def make_round(n_apps: int, panel_size: int, currency: str, seed: int):
    """``n_apps`` applications, each reviewed by 3 of ``panel_size`` reviewers; each
    reviewer has a leniency bias (harsh −1 … lenient +1)."""
    rnd = random.Random(seed)
    panel = [f"rev-{i:03d}" for i in range(panel_size)]
    bias = {r: rnd.choice((-1, 0, 0, 1)) for r in panel}
    apps, reviews = [], []
    for a in range(n_apps):
        app_id = f"app-{a:05d}"
        # 10,000 to 100,000, in whole hundreds.
        apps.append(Application(app_id, Money.from_minor(rnd.randrange(100, 1001) * 10_000, currency)))
        quality = rnd.randint(1, 5)
        for reviewer in rnd.sample(panel, 3):
            scores = tuple(
                CriterionScore(c.id, min(5, max(1, quality + bias[reviewer] + rnd.choice((-1, 0, 0, 1)))),
                               "See the notes on the application form.")
                for c in RUBRIC.criteria)
            reviews.append(Review(app_id, reviewer, scores))
    total = sum(a.requested.minor_units for a in apps)
    budget = Money.from_minor(total // 12 // 100 * 100, currency)  # roughly 1 in 12 can be funded
    return apps, reviews, budget


def ours(apps, reviews, budget):
    aggs = aggregate(RUBRIC, reviews, normalise=True)
    ranking = rank(apps, aggs, normalised=True)
    return ranking, suggest_selection(ranking, budget)


def naive(apps, reviews, budget):
    with localcontext(CONTEXT):
        def weighted(review):
            w = {c.id: c.weight for c in RUBRIC.criteria}
            return sum((w[s.criterion_id] * s.score for s in review.scores), Decimal(0)) / sum(w.values(), Decimal(0))

        by_reviewer: dict = {}
        for r in reviews:
            by_reviewer.setdefault(r.reviewer_id, []).append(r)
        pool = [weighted(r) for r in reviews]
        mu = sum(pool, Decimal(0)) / len(pool)
        sigma = (sum(((x - mu) ** 2 for x in pool), Decimal(0)) / len(pool)).sqrt()
        normalised = {}
        for r in reviews:
            mine = [weighted(o) for o in by_reviewer[r.reviewer_id]]  # from scratch, every time
            m = sum(mine, Decimal(0)) / len(mine)
            s = (sum(((x - m) ** 2 for x in mine), Decimal(0)) / len(mine)).sqrt()
            x = weighted(r)
            if len(mine) == 1:
                normalised[r.reviewer_id, r.application_id] = x
            elif s == 0:
                normalised[r.reviewer_id, r.application_id] = x - m + mu
            else:
                normalised[r.reviewer_id, r.application_id] = mu + sigma * (x - m) / s

        by_app: dict = {}
        for r in reviews:
            by_app.setdefault(r.application_id, []).append(r)

        def score(app):  # the aggregate, recomputed from scratch
            mine = sorted(by_app[app.id], key=lambda r: r.reviewer_id)
            for r in mine:
                weighted(r)  # the weighted scores are recomputed too, as a first version would
            return (sum((normalised[r.reviewer_id, app.id] for r in mine), Decimal(0)) / len(mine)).quantize(
                RANK_QUANTUM), len(mine)

        def compare(a, b):
            (sa, na), (sb, nb) = score(a), score(b)
            ka = (-sa, -na, a.requested.amount, a.id)
            kb = (-sb, -nb, b.requested.amount, b.id)
            return (ka > kb) - (ka < kb)

        order = sorted(apps, key=functools.cmp_to_key(compare))
        selected = []
        for app in order:
            spent = sum(a.requested.amount for a in selected)  # re-added at every step
            if app.requested.amount <= budget.amount - spent:
                selected.append(app)
    return [a.id for a in order], [a.id for a in selected]


def timed(fn, *args, repeat: int):
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn(*args)
        best = min(best, time.perf_counter() - start)
    return best, result


def run(label: str, n_apps: int, panel_size: int, currency: str, seed: int, repeat: int) -> None:
    apps, reviews, budget = make_round(n_apps, panel_size, currency, seed)
    t_ours, (ranking, selection) = timed(ours, apps, reviews, budget, repeat=repeat)
    t_naive, (naive_order, naive_selected) = timed(naive, apps, reviews, budget, repeat=repeat)
    assert naive_order == [r.application.id for r in ranking], "the baseline ranks differently"
    assert naive_selected == list(selection.selected), "the baseline selects differently"
    print(f"{label}: {n_apps} applications × 3 reviews, panel of {panel_size}, budget {budget.amount} "
          f"{currency} → {len(selection.selected)} selected, "
          f"{len(selection.skipped_for_budget)} skipped (best of {repeat})")
    print(f"  grants.review.scoring (validate, aggregate, normalise, rank, select): {t_ours * 1000:9.1f} ms")
    print(f"  naive baseline (recomputes inside the sort and the loops):          {t_naive * 1000:9.1f} ms")
    print(f"  ratio naive / scoring: {t_naive / t_ours:.1f}x")


def main(seed: int = 2018) -> None:
    run("BLADI scale", 250, 12, "TND", seed, repeat=5)
    run("10,000 applications", 10_000, 200, "GBP", seed, repeat=1)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2018)
