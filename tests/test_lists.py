"""The lists of a round (``grants.listing``) stay the same size whatever the size of the
round: the screening list, the decisions recorded on the ranking page and the reviewer's
"Your reviews" show a page of rows, with the same number of SQL statements at 100 and at
5,000 applications; their filters, sorts and pages pick the right rows; the officer's CSV
has every filtered row and a reviewer cannot have it; a bad parameter is a 400."""
from __future__ import annotations

import csv
import datetime as dt
import io

from sqlalchemy import func, insert, select

import factories as f
from grants.accounts.models import Organisation, OrganisationRegion
from grants.applications.models import Application, EligibilityCheck
from grants.listing import PAGE_SIZE
from grants.review.models import Decision, Review, ReviewAssignment
from grants.testing import build_site, make_application
from grants.testing import Statements

REGION = "TN-11"  # every third organisation works there


def _grow(registry, site, template_id: int, reviewer_id: int, upto: int) -> None:
    """Bulk inserts, until the round has ``upto`` applications: copies of the submitted
    application ``template_id``, each from an organisation of its own, with one eligibility
    check, a decision and an assignment to ``reviewer_id`` (submitted reviews, and one in
    ten still to declare)."""
    with registry.database.transaction() as (_tm, db):
        have = db.scalar(select(func.count(Application.id)).where(Application.round_id == site.round.id))
        n = upto - have
        template = {c.key: getattr(db.get(Application, template_id), c.key)
                    for c in Application.__table__.columns if c.key != "id"}
        start = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
        org_ids = db.scalars(insert(Organisation).returning(Organisation.id, sort_by_parameter_order=True), [
            {"legal_name": f"Association {have + i:05d}", "country": "TN", "created_at": start}
            for i in range(n)]).all()
        db.execute(insert(OrganisationRegion), [{"organisation_id": o, "region_code": REGION}
                                                for i, o in enumerate(org_ids) if (have + i) % 3 == 0])
        app_ids = db.scalars(insert(Application).returning(Application.id, sort_by_parameter_order=True), [
            {**template, "organisation_id": o, "title": f"Project {have + i:05d}" + (" 100%_done" if i == 0 else ""),
             "submitted_at": start + dt.timedelta(minutes=have + i), "amount_minor": 100_000 + have + i}
            for i, o in enumerate(org_ids)]).all()
        db.execute(insert(EligibilityCheck), [{"application_id": a, "position": 0, "kind": "registered_organisation",
                                               "rule": {}, "passed": i % 2 == 0, "evaluated_at": start}
                                              for i, a in enumerate(app_ids)])
        db.execute(insert(Decision), [{"application_id": a, "stage": "application", "outcome": "decline",
                                       "to_state": "submitted", "reason": "", "funder_reference": f"REF-{have + i}",
                                       "decided_at": start + dt.timedelta(minutes=have + i)}
                                      for i, a in enumerate(app_ids)])
        assignment_ids = db.scalars(insert(ReviewAssignment).returning(ReviewAssignment.id,
                                                                        sort_by_parameter_order=True), [
            {"application_id": a, "reviewer_id": reviewer_id, "stage": "application", "assigned_at": start,
             "declared_at": None if (have + i) % 10 == 0 else start, "conflict": None if (have + i) % 10 == 0 else False,
             "conflict_reason": ""} for i, a in enumerate(app_ids)]).all()
        db.execute(insert(Review), [{"assignment_id": r, "application_id": a, "reviewer_id": reviewer_id,
                                     "stage": "application", "scores": {"c": 3}, "rationales": {},
                                     "updated_at": start, "submitted_at": start + dt.timedelta(minutes=have + i)}
                                    for i, (r, a) in enumerate(zip(assignment_ids, app_ids)) if (have + i) % 10])


def _rows(page, table_id):
    if table_id in ("assignments", "awards", "reports-due"):  # the page's table has its name
        return page.html.find(id=table_id).find("tbody").find_all("tr")
    if table_id == "reviews":  # a section per status: those to declare, then the submitted ones
        declare, submitted = page.html.find(id="to-declare"), page.html.find(id="submitted-reviews")
        return ((declare.find_all("li") if declare else []) +
                (submitted.find("tbody").find_all("tr") if submitted else []))
    return page.html.find(id=table_id).find("tbody").find_all("tr")


def _counted(registry, testapp, url):
    testapp.get(url)  # warm: templates compiled, caches filled
    with Statements(registry.database.engine) as sent:
        page = testapp.get(url)
    return page, sent.sent


def _setup(registry, testapp):
    site = build_site(registry)
    template = make_application(registry, site, title="Template", state="submitted")
    with registry.database.transaction() as (_tm, db):
        reviewer = f.user(db, email="reviewer@example.org", name="Reviewer")
        reviewer_id = reviewer.id
    return site, template, reviewer_id


def test_the_lists_render_a_page_in_the_same_statements_at_100_and_5000_applications(registry, testapp):
    site, template, reviewer_id = _setup(registry, testapp)
    base = f"/programmes/{site.programme.id}/rounds/{site.round.id}"
    pages = {"screening": (base + "/@@screening", "screening"),
             "ranking": (base + "/@@ranking", "decided"),
             "reviews": ("/reviews", "reviews")}
    reviewer_app = __import__("webtest").TestApp(testapp.app, extra_environ={"HTTP_HOST": "localhost"})
    seen = {}
    for size in (100, 5000):
        _grow(registry, site, template, reviewer_id, size)
        site.sign_in(testapp, site.officer)
        f.sign_in(reviewer_app, "reviewer@example.org")
        for name, (url, table) in pages.items():
            page, sent = _counted(registry, reviewer_app if name == "reviews" else testapp, url)
            rows = _rows(page, table)
            assert 0 < len(rows) <= PAGE_SIZE, (name, len(rows))
            assert len(page.body) < 200_000, (name, len(page.body))
            seen.setdefault(name, []).append(len(sent))
    for name, (small, large) in seen.items():
        assert small == large, (name, small, large)

    # every filtered row is in the officer's CSV; the reviewer may not have it
    csv_page = testapp.get(base + "/@@screening", params={"region": REGION, "format": "csv"})
    assert csv_page.content_type == "text/csv"
    lines = list(csv.reader(io.StringIO(csv_page.text)))
    assert lines[0][:3] == ["Reference", "Application", "Organisation"]
    with registry.database.transaction() as (_tm, db):
        in_region = db.scalar(select(func.count(Application.id)).where(
            Application.round_id == site.round.id, Application.organisation_id.in_(
                select(OrganisationRegion.organisation_id).where(OrganisationRegion.region_code == REGION))))
    assert len(lines) - 1 == in_region > PAGE_SIZE
    decided = list(csv.reader(io.StringIO(testapp.get(base + "/@@ranking", params={"format": "csv"}).text)))
    assert len(decided) - 1 == 4999
    reviewer_app.get(base + "/@@screening", params={"format": "csv"}, status=403)
    reviewer_app.get(base + "/@@ranking", params={"format": "csv"}, status=403)


def test_filters_sorts_and_pages_pick_the_right_rows(registry, testapp):
    site, template, reviewer_id = _setup(registry, testapp)
    _grow(registry, site, template, reviewer_id, 120)
    site.sign_in(testapp, site.officer)
    url = f"/programmes/{site.programme.id}/rounds/{site.round.id}/@@screening"

    def titles(**params):
        return [r.find("a").get_text(strip=True) for r in _rows(testapp.get(url, params=params), "screening")]

    first = titles()
    # oldest first; the template was submitted today, after every copy
    assert first[0] == "Project 00001 100%_done" and first[1] == "Project 00002" and len(first) == PAGE_SIZE
    second = titles(page=2)
    assert second[0] == "Project 00051" and not set(first) & set(second)
    assert titles(page=3)[-1] == "Template" and len(titles(page=3)) == 120 - 2 * PAGE_SIZE
    assert titles(sort="-submitted", size=25)[:2] == ["Template", "Project 00119"]
    assert titles(sort="-amount", size=25)[0] == "Project 00119"
    # a LIKE pattern's own characters are taken literally
    assert titles(q="100%_") == ["Project 00001 100%_done"]
    assert titles(q="%") == ["Project 00001 100%_done"]
    assert titles(q="association 00007") == ["Project 00007"]  # the organisation's name, any case
    in_region = titles(region=REGION, size=100)
    assert in_region and all(int(t.split()[1]) % 3 == 0 for t in in_region)
    assert len(in_region) == 39  # 3, 6, … 117
    # How many in all: from the state counters when nothing narrows the list, counted when
    # a filter does; the same figure as the rows either way.
    assert "Rows 1 – 50 of 120" in " ".join(testapp.get(url).html.get_text(" ").split())
    assert "Rows 1 – 25 of 39" in " ".join(testapp.get(url, params={"region": REGION, "size": 25})
                                         .html.get_text(" ").split())
    # the next page's link keeps the filters
    page = testapp.get(url, params={"region": REGION, "size": 25})
    following = page.html.find("a", rel="next")["href"]
    assert "region=TN-11" in following and "size=25" in following and "page=2" in following
    # reviews: those to declare come first
    f.sign_in(testapp, "reviewer@example.org")
    reviews = testapp.get("/reviews")
    assert reviews.html.find(id="to-declare") is not None
    assert reviews.html.find(id="to-declare").find_previous(id="submitted") is None


def test_bad_list_parameters_are_400s_in_the_readers_language(registry, testapp):
    site, template, reviewer_id = _setup(registry, testapp)
    site.sign_in(testapp, site.officer)
    url = f"/programmes/{site.programme.id}/rounds/{site.round.id}/@@screening"
    for params in ({"page": "0"}, {"page": "x"}, {"size": "100000"}, {"sort": "password"},
                   {"state": "nowhere"}, {"region": "XX-99"}, {"q": "x" * 201}):
        testapp.get(url, params=params, status=400)
    testapp.get(f"/programmes/{site.programme.id}/rounds/{site.round.id}/@@ranking", params={"sort": "id;--"},
                status=400)
    french = testapp.get(url, params={"sort": "password", "_LOCALE_": "fr"}, status=400)
    assert "This list cannot be sorted that way." not in french.text


def test_the_ranking_shows_a_page_of_its_rows_and_overrides_from_that_page(registry, testapp):
    from test_decisions import candidate, review, review_round, start_review

    with registry.database.transaction() as (_tm, db):
        rnd = review_round(db, registry, budget=1_000_000)
        officer = f.user(db, email="leila@example.org", name="Leila")
        f.grant_role(db, officer, "programme_officer", rnd.programme)
        reviewer = f.user(db, name="Reviewer")
        for i in range(30):  # scores 1…5 over two criteria: ties broken by the smaller request
            review(db, candidate(db, registry, rnd, f"Org {i:02d}", 1_000 + i), reviewer, 1 + i % 5, 1 + i // 10)
        start_review(db, registry, rnd)
        url = f"/programmes/{rnd.programme_id}/rounds/{rnd.id}/@@ranking"
    f.sign_in(testapp, "leila@example.org")
    first = testapp.get(url, params={"size": 25})
    second = testapp.get(url, params={"size": 25, "page": 2})
    positions = [[int(r.find("td").get_text(strip=True).rstrip(".")) if r.find("td") else None
                  for r in p.html.find(id="ranking").find("tbody").find_all("tr")] for p in (first, second)]
    options = [[o["value"] for o in p.html.find("select", attrs={"name": "application"}).find_all("option")
                if o["value"]] for p in (first, second)]
    assert len(options[0]) == 25 and len(options[1]) == 5 and not set(options[0]) & set(options[1])
    assert positions[0][:2] == [1, 2] and positions[1] == [26, 27, 28, 29, 30]
    # an override link of the second page opens the form on that page, its application chosen
    link = second.html.find("a", href=lambda h: h and "change=add" in h or h and "change=remove" in h)["href"]
    assert "page=2" in link and "size=25" in link
    chosen = testapp.get(link).html.find("select", attrs={"name": "application"}).find("option", selected=True)
    assert chosen["value"] in options[1]


# -- assignments, the round's awards, the reports due ----------------------------------------------------------


def _grow_awards(registry, site, award_id: int, second_id: int) -> None:
    """Bulk inserts, for each application of the round that has no award yet: a second
    reviewer on every other one (so that the others are short of reviewers), an award
    copied from ``award_id`` (one in five closed) and its first report, due from 30 days
    ago to 29 days ahead (overdue once past)."""
    from grants.awards.models import Award
    from grants.mel.models import Report

    now = dt.datetime.now(dt.timezone.utc)
    with registry.database.transaction() as (_tm, db):
        award = db.get(Award, award_id)
        template = {c.key: getattr(award, c.key) for c in Award.__table__.columns if c.key != "id"}
        report = db.scalars(select(Report).where(Report.award_id == award_id).order_by(Report.number)).first()
        report_template = {c.key: getattr(report, c.key) for c in Report.__table__.columns if c.key != "id"}
        app_ids = db.scalars(select(Application.id).where(
            Application.round_id == site.round.id, Application.id.not_in(select(Award.application_id)))
            .order_by(Application.id)).all()
        have = db.scalar(select(func.count(Award.id)).where(Award.round_id == site.round.id))
        db.execute(insert(ReviewAssignment), [
            {"application_id": a, "reviewer_id": second_id, "stage": "application", "assigned_at": now,
             "declared_at": now, "conflict": False, "conflict_reason": ""}
            for i, a in enumerate(app_ids) if (have + i) % 2 == 0])
        award_ids = db.scalars(insert(Award).returning(Award.id, sort_by_parameter_order=True), [
            {**template, "application_id": a, "title": f"Award {have + i:05d}",
             "amount_minor": 1_000_000 + have + i, "state": "closed" if (have + i) % 5 == 0 else "active"}
            for i, a in enumerate(app_ids)]).all()
        due = [now + dt.timedelta(days=(have + i) % 60 - 30, hours=1) for i in range(len(award_ids))]
        db.execute(insert(Report), [
            {**report_template, "award_id": a, "number": 1, "due_at": due[i],
             "state": "overdue" if due[i] < now else "due"}
            for i, a in enumerate(award_ids)])


def _post_award_setup(registry):
    from grants.programmes.models import Round
    from grants.review import services as review

    site = build_site(registry)
    template = make_application(registry, site, title="Template", state="eligible")
    with registry.database.transaction() as (_tm, db):
        rnd = db.get(Round, site.round.id)
        ids = []
        for email, name in (("reviewer@example.org", "Reviewer"), ("second@example.org", "Second")):
            user = f.user(db, email=email, name=name)
            review.respond(db, review.invite_reviewer(db, registry, rnd, user, None), user, accept=True)
            ids.append(user.id)
        award_id = f.award(db, registry, rnd=rnd, title="Template award").id
    return site, template, ids[0], ids[1], award_id


def _csv_lines(response) -> list:
    assert response.content_type == "text/csv"
    return list(csv.reader(io.StringIO(response.text)))


def test_assignments_awards_and_reports_due_render_a_page_in_the_same_statements_at_100_and_5000(registry,
                                                                                                 testapp):
    from grants.awards.models import Award
    from grants.mel.models import Report
    from grants.money import Money, MoneyBag, format_money

    site, template, reviewer_id, second_id, award_id = _post_award_setup(registry)
    base = f"/programmes/{site.programme.id}/rounds/{site.round.id}"
    pages = {"assignments": base + "/@@assignments", "awards": base + "/@@awards",
             "reports-due": base + "/@@reports-due"}
    seen = {}
    for size in (100, 5000):
        _grow(registry, site, template, reviewer_id, size)
        _grow_awards(registry, site, award_id, second_id)
        site.sign_in(testapp, site.officer)
        for name, url in pages.items():
            page, sent = _counted(registry, testapp, url)
            rows = _rows(page, name)
            assert 0 < len(rows) <= PAGE_SIZE, (name, len(rows))
            assert len(page.body) < 300_000, (name, len(page.body))
            seen.setdefault(name, []).append(len(sent))
    for name, (small, large) in seen.items():
        assert small == large, (name, small, large)

    with registry.database.transaction() as (_tm, db):
        in_review = db.scalar(select(func.count(Application.id)).where(
            Application.round_id == site.round.id, Application.state == "eligible"))
        with_second = db.scalar(select(func.count(ReviewAssignment.id)).where(
            ReviewAssignment.reviewer_id == second_id))
        awards = db.scalars(select(Award).where(Award.round_id == site.round.id)).all()
        closed = sum(1 for a in awards if a.state == "closed")
        awarded = MoneyBag(a.amount for a in awards)
        now = dt.datetime.now(dt.timezone.utc)
        reports = db.scalars(select(Report).join(Award).where(Award.round_id == site.round.id)).all()

        def due_within(days):
            return sum(1 for r in reports if r.state == "overdue" or
                       (r.state == "due" and r.due_at <= now + dt.timedelta(days=days)))
        due_30, due_10 = due_within(30), due_within(10)

    # assignments: every application waiting for review in the CSV; those short of
    # reviewers (no second reviewer: wanted is the most any has, two) on their own
    every = _csv_lines(testapp.get(pages["assignments"], params={"format": "csv"}))
    assert len(every) - 1 == in_review > PAGE_SIZE
    short = _csv_lines(testapp.get(pages["assignments"], params={"short": "1", "format": "csv"}))
    assert len(short) - 1 == in_review - with_second > PAGE_SIZE
    assert all(int(line[4]) < int(line[5]) == 2 for line in short[1:])
    shown = testapp.get(pages["assignments"], params={"short": "1", "size": 25})
    assert len(_rows(shown, "assignments")) == 25
    assert all(r.find(class_="short") is not None for r in _rows(shown, "assignments"))
    following = shown.html.find("a", rel="next")["href"]
    assert "short=1" in following and "size=25" in following and "page=2" in following
    fewest = testapp.get(pages["assignments"], params={"sort": "reviewers", "size": 25})
    assert _rows(fewest, "assignments")[0]["id"] == f"row-{template}"  # the template has no reviewer at all
    found = testapp.get(pages["assignments"], params={"q": "association 00007"})
    assert [r.find("bdi").get_text(strip=True) for r in _rows(found, "assignments")] == ["Project 00007"]

    # awards: the totals are every award's, however many pages; the CSV has every row
    page = testapp.get(pages["awards"])
    totals = [b.get_text(strip=True) for b in page.html.find(id="totals").find(class_="awarded").find_all("bdi")]
    assert totals == [format_money(m, "en") for m in awarded.amounts()]
    lines = _csv_lines(testapp.get(pages["awards"], params={"format": "csv"}))
    assert len(lines) - 1 == len(awards) > PAGE_SIZE
    assert MoneyBag(Money(dt_decimal(line[3]), line[4]) for line in lines[1:]) == awarded
    ended = _csv_lines(testapp.get(pages["awards"], params={"state": "closed", "format": "csv"}))
    assert len(ended) - 1 == closed > PAGE_SIZE
    some = testapp.get(pages["awards"], params={"state": "closed", "size": 25})
    assert len(_rows(some, "awards")) == 25
    assert all("Closed" in r.get_text() for r in _rows(some, "awards"))
    named = testapp.get(pages["awards"], params={"q": "award 00042"})
    assert [r.find("a").get_text(strip=True) for r in _rows(named, "awards")] == ["Award 00042"]

    # reports due: the `days` asked for is kept in the pages' links and the CSV
    lines = _csv_lines(testapp.get(pages["reports-due"], params={"format": "csv"}))
    assert len(lines) - 1 == due_30 > PAGE_SIZE
    nearer = testapp.get(pages["reports-due"], params={"days": "10"})
    assert "days=10" in nearer.html.find("a", rel="next")["href"]
    assert "days=10" in nearer.html.find(id="reports-due-csv")["href"]
    lines = _csv_lines(testapp.get(nearer.html.find(id="reports-due-csv")["href"]))
    assert len(lines) - 1 == due_10 < due_30
    overdue = _csv_lines(testapp.get(pages["reports-due"], params={"state": "overdue", "format": "csv"}))
    assert overdue[1:] and all(int(line[-1]) > 0 for line in overdue[1:])

    # a reviewer may have none of them
    reviewer_app = __import__("webtest").TestApp(testapp.app, extra_environ={"HTTP_HOST": "localhost"})
    f.sign_in(reviewer_app, "reviewer@example.org")
    for url in pages.values():
        reviewer_app.get(url, params={"format": "csv"}, status=403)


def dt_decimal(text: str):
    from decimal import Decimal

    return Decimal(text)


def test_bad_parameters_of_assignments_awards_and_reports_due_are_400s_in_the_readers_language(registry, testapp):
    site = build_site(registry)
    site.sign_in(testapp, site.officer)
    base = f"/programmes/{site.programme.id}/rounds/{site.round.id}"
    for name in ("assignments", "awards", "reports-due"):
        for params in ({"page": "0"}, {"page": "x"}, {"size": "7"}, {"sort": "id;--"}, {"state": "nowhere"},
                       {"region": "XX-99"}, {"q": "x" * 201}):
            testapp.get(f"{base}/@@{name}", params=params, status=400)
        french = testapp.get(f"{base}/@@{name}", params={"sort": "password", "_LOCALE_": "fr"}, status=400)
        assert "This list cannot be sorted that way." not in french.text
    testapp.get(f"{base}/@@assignments", params={"short": "yes"}, status=400)
    french = testapp.get(f"{base}/@@assignments", params={"short": "yes", "_LOCALE_": "fr"}, status=400)
    assert "short of reviewers" not in french.text
