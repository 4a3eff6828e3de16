"""The main pages cost the same at any size: the SQL statements each sends are counted
(SQLAlchemy's ``before_cursor_execute`` on the application's engine) for a round of 1,000
applications and again once it holds 10,000 (seeded in bulk by ``grants bench seed``'s
code), and must be the same number.  A count that
grows means a page walks the round (a lazy load per row, a query per application) where
an aggregate or an eager load would do.

The lists that page through many rows (screening, ranking, reviews, assignments, awards,
reports due, the evaluation page's grants, those waiting for an award, the reviewer pool
and the role holders) are measured with their own tests at 100 and 5,000 applications
(test_lists.py, test_lists_more.py); here, besides those four last pages of the demo round: the home page of an officer, an applicant and a reviewer, "My
tasks", the round page, its assignments (a fifth of the seeded applications wait for
review: full pages at both sizes), one application page and the
published public report.
"""
from __future__ import annotations

import io
from collections import Counter

from sqlalchemy import func, select

import factories as f
from grants.applications.models import Application
from grants.demo import DEMO_PASSWORD, load_demo
from grants.demo.seed import open_demo_round, seed_applications
from grants.reporting import public
from grants.testing import Statements

SIZES = (1_000, 10_000)  # the sizes issue 13 names; 1,000 already fills every capped list
PEOPLE = ("officer@example.org", "applicant@example.org", "reviewer@example.org")


def _grow_to(registry, size: int) -> dict:
    with registry.database.transaction() as (_tm, db):
        rnd = open_demo_round(db)
        already = db.scalar(select(func.count(Application.id)).where(Application.round_id == rnd.id))
    if size > already:
        seed_applications(registry, size - already)
    with registry.database.transaction() as (_tm, db):
        rnd = open_demo_round(db)
        public.publish_report(db, rnd)
        assert db.scalar(select(func.count(Application.id)).where(Application.round_id == rnd.id)) == size
        submitted = db.scalar(select(func.min(Application.id)).where(
            Application.round_id == rnd.id, Application.state == "submitted"))
        base = f"/programmes/{rnd.programme_id}/rounds/{rnd.id}"
    return {"round": base, "application": f"{base}/applications/{submitted}", "assignments": f"{base}/@@assignments",
            "report": f"{base}/@@public-report", "evaluation": f"{base}/@@evaluation",
            "awaiting": f"{base}/@@awaiting-award", "reviewers": f"{base}/@@reviewers", "people": f"{base}/@@people"}


def _measure(registry, testapp, urls: dict) -> dict:
    engine = registry.database.engine
    counts = {}
    for person in PEOPLE:
        testapp.reset()
        f.sign_in(testapp, person, DEMO_PASSWORD)
        pages = {"home": "/", "tasks": "/tasks"}
        if person == "officer@example.org":
            pages.update(round=urls["round"], application=urls["application"], assignments=urls["assignments"],
                         evaluation=urls["evaluation"], awaiting=urls["awaiting"], reviewers=urls["reviewers"],
                         people=urls["people"])
        for name, url in pages.items():
            testapp.get(url, status=200)  # once to warm what a process keeps (translations, roles cache)
            with Statements(engine) as sent:
                testapp.get(url, status=200)
            counts[(person, name)] = sent.sent
    testapp.reset()
    testapp.get(urls["report"], status=200)
    with Statements(engine) as sent:
        testapp.get(urls["report"], status=200)
    counts[("anonymous", "report")] = sent.sent
    return counts


def test_the_main_pages_send_as_many_statements_for_10000_applications_as_for_1000(registry, testapp):
    load_demo(registry, out=io.StringIO())
    measured = {}
    for size in SIZES:
        urls = _grow_to(registry, size)
        measured[size] = _measure(registry, testapp, urls)
    small, large = measured[SIZES[0]], measured[SIZES[1]]
    grown = {page: (len(small[page]), len(large[page])) for page in small if len(small[page]) != len(large[page])}
    assert not grown, (grown, {page: _difference(small[page], large[page]) for page in grown})
    # The same number of statements could each read more rows: the round page's counts of
    # applications per region and ever in each state are read from their counters, not
    # counted over the round's applications and history.
    round_page = large[("officer@example.org", "round")]
    assert any("FROM workflow_reached_counts" in s for s in round_page), round_page
    assert any("FROM round_region_counts" in s for s in round_page), round_page
    assert not [s for s in round_page if "count(DISTINCT" in s], round_page


def _difference(small: list[str], large: list[str]) -> list[str]:
    """The statements sent a different number of times: what walks the round."""
    a, b = Counter(small), Counter(large)
    return [f"{a[s]} -> {b[s]}: {s[:300]}" for s in set(a) | set(b) if a[s] != b[s]]
