"""More lists of a round a page at a time (``grants.listing``): the grants on the
evaluation page, the selected applications waiting for an award, the reviewer pool, the
People page's role holders, waiting invitations and changes of roles, and the funded
organisations of the public report.  Each renders a page of rows in the same number of
SQL statements for a small and a large round, filters and pages pick the right rows, the
officer's CSV has every filtered row, and a bad parameter is a 400."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import func, insert, select, update

import factories as f
from grants.accounts.models import LocalRole, RoleInvitation, User
from grants.applications.models import Application
from grants.audit.models import ConfigurationChange
from grants.listing import PAGE_SIZE
from grants.testing import build_site
from test_lists import REGION, _counted, _csv_lines, _grow, _grow_awards, _post_award_setup, _setup

BAD = ({"page": "0"}, {"page": "x"}, {"size": "7"}, {"sort": "id;--"}, {"state": "nowhere"}, {"q": "x" * 201})


def _table_rows(page, table_id):
    return page.html.find(id=table_id).find("tbody").find_all("tr")


def _grow_people(registry, site, upto: int) -> None:
    """Bulk inserts, until the round has ``upto`` reviewers invited (one in three declined,
    one in three accepted) and as many role holders on the round (an evaluator in four, the
    others reviewers), from new accounts named "Person 00000" and so on."""
    from grants.review.models import RoundReviewer

    now = dt.datetime.now(dt.timezone.utc)
    with registry.database.transaction() as (_tm, db):
        have = db.scalar(select(func.count(RoundReviewer.id)).where(RoundReviewer.round_id == site.round.id))
        user_ids = db.scalars(insert(User).returning(User.id, sort_by_parameter_order=True), [
            {"email": f"person{have + i:05d}@example.org", "name": f"Person {have + i:05d}", "password_hash": "x",
             "locale": "en", "email_verified": True, "is_admin": False, "created_at": now}
            for i in range(upto - have)]).all()
        db.execute(insert(RoundReviewer), [
            {"round_id": site.round.id, "user_id": u, "invited_at": now + dt.timedelta(seconds=have + i),
             "accepted_at": now if (have + i) % 3 == 1 else None, "declined_at": now if (have + i) % 3 == 2 else None}
            for i, u in enumerate(user_ids)])
        db.execute(insert(LocalRole), [
            {"user_id": u, "role": "evaluator" if (have + i) % 4 == 0 else "reviewer",
             "object_type": "rounds", "object_id": site.round.id} for i, u in enumerate(user_ids)])


def _select_unawarded(registry, site) -> None:
    """Every application of the round without an award becomes selected: waiting for one."""
    from grants.awards.models import Award

    with registry.database.transaction() as (_tm, db):
        db.execute(update(Application).where(Application.round_id == site.round.id,
                                             Application.id.not_in(select(Award.application_id)))
                   .values(state="selected"))


def test_evaluation_and_waiting_lists_render_a_page_in_the_same_statements_at_100_and_3000(registry, testapp):
    from grants.awards.models import Award

    site, template, reviewer_id, second_id, award_id = _post_award_setup(registry)
    base = f"/programmes/{site.programme.id}/rounds/{site.round.id}"
    pages = {"assessed-awards": base + "/@@evaluation", "waiting": base + "/@@awaiting-award"}
    seen = {}
    for size, awarded in ((100, 50), (3000, 1500)):
        _grow(registry, site, template, reviewer_id, awarded)
        _grow_awards(registry, site, award_id, second_id)
        _grow(registry, site, template, reviewer_id, size)
        _select_unawarded(registry, site)
        site.sign_in(testapp, site.officer)
        for name, url in pages.items():
            page, sent = _counted(registry, testapp, url)
            rows = _table_rows(page, name)
            assert 0 < len(rows) <= PAGE_SIZE, (name, len(rows))
            assert len(page.body) < 300_000, (name, len(page.body))
            seen.setdefault(name, []).append(len(sent))
    for name, (small, large) in seen.items():
        assert small == large, (name, small, large)

    with registry.database.transaction() as (_tm, db):
        awards = db.scalar(select(func.count(Award.id)).where(Award.round_id == site.round.id))
        closed = db.scalar(select(func.count(Award.id)).where(Award.round_id == site.round.id,
                                                              Award.state == "closed"))
        waiting = db.scalar(select(func.count(Application.id)).where(
            Application.round_id == site.round.id, Application.state == "selected",
            Application.id.not_in(select(Award.application_id))))
    # the evaluation page: the officer's CSV has every filtered grant; pages keep the filters
    lines = _csv_lines(testapp.get(pages["assessed-awards"], params={"format": "csv"}))
    assert len(lines) - 1 == awards > PAGE_SIZE
    assert lines[0][:3] == ["Reference", "Grantee", "Grant"]
    ended = _csv_lines(testapp.get(pages["assessed-awards"], params={"state": "closed", "format": "csv"}))
    assert len(ended) - 1 == closed > PAGE_SIZE
    some = testapp.get(pages["assessed-awards"], params={"state": "closed", "size": 25})
    assert len(_table_rows(some, "assessed-awards")) == 25
    following = some.html.find("a", rel="next")["href"]
    assert "state=closed" in following and "size=25" in following and "page=2" in following
    assert "format=csv" in some.html.find(id="assessments-csv")["href"]
    named = testapp.get(pages["assessed-awards"], params={"q": "award 00042"})
    assert [r.find("td").find("bdi").get_text(strip=True) for r in _table_rows(named, "assessed-awards")] == [
        "Award 00042"]
    in_region = _csv_lines(testapp.get(pages["assessed-awards"], params={"region": REGION, "format": "csv"}))
    assert 0 < len(in_region) - 1 < awards

    # waiting for an award: the awards page shows the oldest and links to them all
    awards_page = testapp.get(base + "/@@awards")
    assert len(awards_page.html.find(id="waiting").find_all("li")) < waiting
    everyone = testapp.get(awards_page.html.find(id="waiting-all")["href"])
    assert everyone.html.find(id="waiting") is not None
    lines = _csv_lines(testapp.get(pages["waiting"], params={"format": "csv"}))
    assert len(lines) - 1 == waiting > PAGE_SIZE
    second = testapp.get(pages["waiting"], params={"page": 2, "size": 25})
    first = testapp.get(pages["waiting"], params={"size": 25})
    ids = [[r["id"] for r in _table_rows(p, "waiting")] for p in (first, second)]
    assert len(ids[0]) == len(ids[1]) == 25 and not set(ids[0]) & set(ids[1])
    assert all(r.find(id=lambda i: i and i.startswith("make-award-")) for r in _table_rows(first, "waiting"))
    found = testapp.get(pages["waiting"], params={"q": "association 02999"})
    assert [r.find("td").find("bdi").get_text(strip=True) for r in _table_rows(found, "waiting")] == [
        "Project 02999"]

    # a reviewer may have neither CSV
    reviewer_app = __import__("webtest").TestApp(testapp.app, extra_environ={"HTTP_HOST": "localhost"})
    f.sign_in(reviewer_app, "reviewer@example.org")
    for url in pages.values():
        reviewer_app.get(url, params={"format": "csv"}, status=403)


def test_the_reviewer_pool_and_role_holders_render_a_page_in_the_same_statements_at_60_and_1200(registry,
                                                                                                testapp):
    site, _template, _reviewer_id = _setup(registry, testapp)
    base = f"/programmes/{site.programme.id}/rounds/{site.round.id}"
    pages = {"pool": base + "/@@reviewers", "holders": base + "/@@people"}
    seen = {}
    for size in (60, 1200):
        _grow_people(registry, site, size)
        site.sign_in(testapp, site.officer)
        for name, url in pages.items():
            page, sent = _counted(registry, testapp, url)
            assert 0 < len(_table_rows(page, name)) <= PAGE_SIZE, name
            seen.setdefault(name, []).append(len(sent))
    for name, (small, large) in seen.items():
        assert small == large, (name, small, large)

    def names(name, **params):
        return [r.find("bdi").get_text(strip=True) for r in _table_rows(testapp.get(pages[name], params=params), name)]

    # the pool: by answer and by name or e-mail address, in the order invited
    declined = names("pool", state="declined", size=200)
    assert len(declined) == 200 and all(int(n.split()[1]) % 3 == 2 for n in declined)
    assert names("pool", q="PERSON00007@example") == ["Person 00007"]
    assert names("pool", q="person 0000")[:2] == ["Person 00000", "Person 00001"]
    assert names("pool", sort="name", page=2, size=25)[0] == "Person 00025"
    page = testapp.get(pages["pool"], params={"state": "accepted", "size": 25})
    following = page.html.find("a", rel="next")["href"]
    assert "state=accepted" in following and "size=25" in following and "page=2" in following
    accepted = page.html.find(id="pool").find("tbody").find_all("tr")
    assert all("Accepted" in r.find(class_="status").get_text() for r in accepted)

    # the role holders: by role and by name or e-mail address
    evaluators = names("holders", state="evaluator", size=200)
    assert len(evaluators) == 200 and all(int(n.split()[1]) % 4 == 0 for n in evaluators)
    assert len(names("holders", state="evaluator", size=200, page=2)) == 1200 // 4 - 200
    assert names("holders", q="person 01199") == ["Person 01199"]
    page = testapp.get(pages["holders"], params={"state": "reviewer", "size": 25, "sort": "name"})
    assert page.html.find("label", attrs={"for": "list-state"}).get_text(strip=True) == "Role"
    following = page.html.find("a", rel="next")["href"]
    assert "state=reviewer" in following and "page=2" in following


def test_bad_parameters_of_the_new_lists_are_400s_in_the_readers_language(registry, testapp):
    site = build_site(registry)
    site.sign_in(testapp, site.officer)
    base = f"/programmes/{site.programme.id}/rounds/{site.round.id}"
    for name in ("evaluation", "awaiting-award", "reviewers", "people"):
        for params in BAD:
            testapp.get(f"{base}/@@{name}", params=params, status=400)
        french = testapp.get(f"{base}/@@{name}", params={"sort": "password", "_LOCALE_": "fr"}, status=400)
        assert "This list cannot be sorted that way." not in french.text
    for name in ("evaluation", "awaiting-award"):
        testapp.get(f"{base}/@@{name}", params={"region": "XX-99"}, status=400)
    for name in ("reviewers", "people"):  # these lists have no region to filter by
        testapp.get(f"{base}/@@{name}", params={"region": "TN-11"}, status=400)
    testapp.get(f"/programmes/{site.programme.id}/@@people", params={"state": "evaluator"}, status=400)


def test_bad_parameters_of_invitations_changes_and_the_public_grants_are_400s_in_the_readers_language(registry,
                                                                                                      testapp):
    from grants.programmes.models import Round
    from grants.reporting import public

    site = build_site(registry)
    with registry.database.transaction() as (_tm, db):
        public.publish_report(db, db.get(Round, site.round.id))
    base = f"/programmes/{site.programme.id}/rounds/{site.round.id}"
    report = base + "/@@public-report"
    for params in BAD:  # anyone reads the published report
        testapp.get(report, params=params, status=400)
    french = testapp.get(report, params={"sort": "password", "_LOCALE_": "fr"}, status=400)
    assert "This list cannot be sorted that way." not in french.text
    testapp.get(report, params={"region": "XX-99"}, status=400)
    site.sign_in(testapp, site.officer)
    for url in (f"{base}/@@invitations", f"{base}/@@role-changes", f"/programmes/{site.programme.id}/@@invitations",
                f"/programmes/{site.programme.id}/@@role-changes"):
        for params in BAD:
            testapp.get(url, params=params, status=400)
        testapp.get(url, params={"region": "TN-11"}, status=400)  # no region to filter by
        french = testapp.get(url, params={"sort": "password", "_LOCALE_": "fr"}, status=400)
        assert "This list cannot be sorted that way." not in french.text
    # a programme has no evaluators: not a role to filter its invitations by
    testapp.get(f"/programmes/{site.programme.id}/@@invitations", params={"state": "evaluator"}, status=400)


def _grow_invitations(registry, site, upto: int) -> None:
    """Bulk inserts, until the round has ``upto`` invitations waiting (to evaluate one in
    three, else to review, at "guest00000@example.org" and so on) and as many changes of
    roles (an invitation sent, one in two; else a role given), each sent or made by an
    account of its own ("Inviter 00000"…), so that a page loading its authors one by one
    would send more statements for more rows."""
    now = dt.datetime.now(dt.timezone.utc)
    with registry.database.transaction() as (_tm, db):
        have = db.scalar(select(func.count(RoleInvitation.id)).where(RoleInvitation.object_type == "rounds",
                                                                     RoleInvitation.object_id == site.round.id))
        numbers = range(have, upto)
        user_ids = db.scalars(insert(User).returning(User.id, sort_by_parameter_order=True), [
            {"email": f"inviter{n:05d}@example.org", "name": f"Inviter {n:05d}", "password_hash": "x",
             "locale": "en", "email_verified": True, "is_admin": False, "created_at": now} for n in numbers]).all()
        roles = {n: "evaluator" if n % 3 == 0 else "reviewer" for n in numbers}
        db.execute(insert(RoleInvitation), [
            {"object_type": "rounds", "object_id": site.round.id, "role": roles[n], "email": f"guest{n:05d}@example.org",
             "locale": "en", "token_hash": f"{site.round.id}-{n:060d}"[:64], "invited_by_id": u,
             "created_at": now + dt.timedelta(seconds=n), "expires_at": now + dt.timedelta(days=14)}
            for n, u in zip(numbers, user_ids)])
        db.execute(insert(ConfigurationChange), [
            {"object_type": "rounds", "object_id": site.round.id, "user_id": u, "at": now + dt.timedelta(seconds=n),
             "what": "role_invitation" if n % 2 == 0 else "role", "before": None,
             "after": {"role": roles[n], "email": f"guest{n:05d}@example.org", "status": "waiting"} if n % 2 == 0
             else {"role": roles[n], "user_id": u, "email": f"guest{n:05d}@example.org"}}
            for n, u in zip(numbers, user_ids)])


def test_invitations_and_role_changes_render_a_page_in_the_same_statements_at_20_and_1200(registry, testapp):
    """20 fills less than a page: a statement per row shown would count more at 1,200."""
    site = build_site(registry)
    base = f"/programmes/{site.programme.id}/rounds/{site.round.id}"
    pages = {"people": base + "/@@people", "invitations": base + "/@@invitations",
             "role-changes": base + "/@@role-changes"}
    seen = {}
    for size in (20, 1200):
        _grow_invitations(registry, site, size)
        site.sign_in(testapp, site.officer)
        for name, url in pages.items():
            page, sent = _counted(registry, testapp, url)
            assert len(page.body) < 300_000, (name, len(page.body))
            seen.setdefault(name, []).append(len(sent))
    for name, (small, large) in seen.items():
        assert small == large, (name, small, large)

    # the People page: the oldest invitations and the newest changes, each linking to all of them
    people_page = testapp.get(pages["people"])
    assert len(_table_rows(people_page, "waiting")) == 10
    assert "1,200 invitations are waiting" in people_page.html.find(id="waiting-more").get_text(" ", strip=True)
    assert testapp.get(people_page.html.find(id="waiting-all")["href"]).html.find(id="waiting") is not None
    newest = people_page.html.find(id="role-changes").find_all("li")
    assert len(newest) == 10 and "Inviter 01199" in newest[0].get_text()
    assert people_page.html.find(id="role-changes-all")["href"].endswith("/role-changes")

    # the invitations: a page at a time, by role and by address, oldest first
    def emails(**params):
        found = testapp.get(pages["invitations"], params=params)
        return [r.find("td").get_text(strip=True) for r in _table_rows(found, "waiting")]

    assert emails()[:2] == ["guest00000@example.org", "guest00001@example.org"] and len(emails()) == PAGE_SIZE
    assert emails(page=2, size=25)[0] == "guest00025@example.org"
    assert emails(sort="-sent")[0] == "guest01199@example.org"
    evaluators = emails(state="evaluator", size=200, page=2)
    assert len(evaluators) == 200 and all(int(e[5:10]) % 3 == 0 for e in evaluators)
    assert emails(q="GUEST00042@") == ["guest00042@example.org"]
    page = testapp.get(pages["invitations"], params={"state": "reviewer", "size": 25})
    following = page.html.find("a", rel="next")["href"]
    assert "state=reviewer" in following and "size=25" in following and "page=2" in following

    # withdrawn from the second page of the filtered list: back on that page, filters kept
    second = testapp.get(following)
    button = second.html.select_one("#waiting button[name=withdraw]")
    gone = button.find_parent("tr").find("td").get_text(strip=True)
    csrf = second.html.select_one("#waiting input[name=csrf_token]")["value"]
    done = testapp.post(second.html.select_one("#waiting form")["action"],
                        {"withdraw": button["value"], "csrf_token": csrf})
    assert "state=reviewer" in done.location and "page=2" in done.location
    back = done.follow()
    assert f"The invitation to {gone} is withdrawn" in back.text
    assert gone not in [r.find("td").get_text(strip=True) for r in _table_rows(back, "waiting")]
    refused = testapp.post(second.html.select_one("#waiting form")["action"],
                           {"withdraw": button["value"], "csrf_token": csrf}, status=409)
    assert "already been answered or withdrawn" in refused.html.select_one(".error-summary").get_text()

    # the changes: newest first, by kind and by address or author's name
    def changes(**params):
        found = testapp.get(pages["role-changes"], params=params)
        return [" ".join(li.get_text().split()) for li in found.html.find(id="role-changes").find_all("li")]

    newest = changes()
    assert len(newest) == PAGE_SIZE and "withdrew the invitation of " + gone in newest[0]
    assert "Inviter 01199" in newest[1] and "Inviter 00000" in changes(sort="when")[0]
    invited = changes(state="role_invitation", size=200)
    assert len(invited) == 200 and all("invited guest" in c or "withdrew" in c for c in invited)
    by_address = changes(q="GUEST00043@example.org")
    assert len(by_address) == 1 and "gave guest00043@example.org the role" in by_address[0]
    assert changes(q="inviter 00043") == by_address  # by the name of who made it


def test_the_public_report_lists_a_page_of_grants_in_the_same_statements_for_30_and_1200_grants(registry,
                                                                                                 testapp):
    """30 grants fill less than a page: a statement per grant shown would count more at 1,200."""
    from grants.awards.models import Award
    from grants.money import MoneyBag, format_money
    from grants.programmes.models import Round
    from grants.reporting import public

    site, template, reviewer_id, second_id, award_id = _post_award_setup(registry)
    url = f"/programmes/{site.programme.id}/rounds/{site.round.id}/@@public-report"
    seen = {}
    for size in (30, 1200):
        _grow(registry, site, template, reviewer_id, size)
        _grow_awards(registry, site, award_id, second_id)
        with registry.database.transaction() as (_tm, db):  # the officer's preview: gathered every time
            public.unpublish_report(db, db.get(Round, site.round.id))
        site.sign_in(testapp, site.officer)
        page, sent = _counted(registry, testapp, url)
        assert page.html.find(id="preview-notice") is not None
        seen.setdefault("preview", []).append(len(sent))
        with registry.database.transaction() as (_tm, db):
            public.publish_report(db, db.get(Round, site.round.id))
        testapp.reset()
        page, sent = _counted(registry, testapp, url)  # the published report, its figures cached
        assert len(_table_rows(page, "grants-table")) == min(size, PAGE_SIZE) and len(page.body) < 300_000
        seen.setdefault("published", []).append(len(sent))
    for name, (small, large) in seen.items():
        assert small == large, (name, small, large)

    # the totals are over every grant, whatever page is shown
    with registry.database.transaction() as (_tm, db):
        awards = db.scalars(select(Award).where(Award.round_id == site.round.id)).all()
        awarded = MoneyBag(a.amount for a in awards)
        largest = max(awards, key=lambda a: (a.amount_minor, -a.id))
    assert len(awards) >= 1200
    second = testapp.get(url, params={"page": 3, "size": 100})
    assert format_money(awarded[largest.currency], "en") in second.html.find(id="awarded").get_text(" ", strip=True)

    def grants(**params):
        found = testapp.get(url, params=params)
        return [(r.find("th").get_text(strip=True), r.find("td").get_text(strip=True))
                for r in _table_rows(found, "grants-table")]

    first = grants(size=25)
    assert [org for org, _title in first] == sorted((org for org, _title in first), key=str.casefold)
    assert not set(first) & set(grants(size=25, page=2))
    assert grants(q="award 00042") == [("Association 00042", "Award 00042")]
    assert grants(sort="-amount")[0][1] == largest.title
    in_region = grants(region=REGION, size=200)
    assert in_region and all(int(org.split()[1]) % 3 == 0 for org, _title in in_region)
    page = testapp.get(url, params={"region": REGION, "size": 25})
    following = page.html.find("a", rel="next")["href"]
    assert f"region={REGION}" in following and "size=25" in following and "page=2" in following
    assert "nothing on this page" in testapp.get(url, params={"q": "no such grant"}).text
