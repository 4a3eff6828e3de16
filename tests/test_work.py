"""Every role finds its work: the home page leads with each person's next piece of work,
one click from the page where it is done; "My tasks" lists work that waits on the person
(a conflict declaration, scores, a report, a screening), not only steps that may fire now,
drops each once done, never lists a step on something that has moved on, ordered by due
date, with destructive steps apart; long lists are cut with a link to a paginated list."""
from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qs, urlparse

import pytest
from sqlalchemy import select

import factories as f
from grants import work
from grants.demo import tools
from grants.lifecycle.services import WorkflowService
from grants.mel.models import Report
from grants.mel.services import save_report
from grants.review import services as review


def world(db, registry) -> dict:
    """A programme whose round has work for everyone: a draft to finish, an application to
    screen, one to review (declaration then scores), a grant with reports to write and an
    evaluator to assess it."""
    people = {role: f.user(db, email=f"{role}@example.org", name=role.title())
              for role in ("officer", "reviewer", "applicant", "grantee", "evaluator")}
    people["admin"] = f.user(db, email="admin@example.org", name="Admin", admin=True)
    prog = f.programme(db, title="Community Grants")
    f.grant_role(db, people["officer"], "programme_officer", prog)
    rnd = f.round_(db, registry, prog, title="Round 2024")
    draft = f.application(db, registry, rnd, f.organisation(db, people["applicant"]), title="Garden days",
                          complete=False)
    to_screen = f.application(db, registry, rnd, f.organisation(db, f.user(db)), title="Youth choir",
                              state="submitted")
    to_review = f.application(db, registry, rnd, f.organisation(db, f.user(db)), title="River clean-up",
                              state="eligible")
    invitation = review.invite_reviewer(db, registry, rnd, people["reviewer"], people["officer"])
    review.respond(db, invitation, people["reviewer"], accept=True)
    assignment = review.assign(db, to_review, people["reviewer"], people["officer"])
    award = f.award(db, registry, rnd=rnd, org=f.organisation(db, people["grantee"]), title="Theatre clubs",
                    amount=f.money("20000", "USD"), starts_on=dt.date(2024, 1, 1))
    f.grant_role(db, people["evaluator"], "evaluator", rnd)
    db.flush()
    return {"people": people, "programme": prog, "round": rnd, "draft": draft, "to_screen": to_screen,
            "to_review": to_review, "assignment": assignment, "award": award}


def rows(page, kind=None) -> list[str]:
    selector = f"#tasks tbody tr.task-{kind}" if kind else "#tasks tbody tr"
    return [r.get_text(" ", strip=True) for r in page.html.select(selector)]


def section_links(page, section: str) -> dict[str, str]:
    """The links of one section of the home page: text -> address."""
    found = page.html.select_one(f"#home-{section}")
    assert found is not None, f"no {section} section on the home page"
    return {a.get_text(" ", strip=True): a["href"] for a in found.select("a")}


# -- "My tasks" ------------------------------------------------------------------------------


def test_my_tasks_lists_work_waiting_on_each_person_and_drops_it_once_done(testapp, registry):
    with registry.database.transaction() as (_tm, db):
        w = world(db, registry)
    testapp.reset()
    f.sign_in(testapp, "reviewer@example.org")
    tasks = testapp.get("/tasks")
    assert any("River clean-up" in r and "Declare whether you have a conflict of interest" in r
               for r in rows(tasks, "declare")), rows(tasks)
    assert not rows(tasks, "score")  # scores come after the declaration
    assert "Nothing is waiting for you." not in tasks.text

    with registry.database.transaction() as (_tm, db):
        assignment = db.get(type(w["assignment"]), w["assignment"].id)
        reviewer = db.get(type(w["people"]["reviewer"]), w["people"]["reviewer"].id)
        review.declare(db, assignment, reviewer, conflict=False)
    tasks = testapp.get("/tasks")
    assert not rows(tasks, "declare")
    (to_score,) = rows(tasks, "score")
    assert "River clean-up" in to_score and "Score the application" in to_score and "Your scores" in to_score

    with registry.database.transaction() as (_tm, db):
        assignment = db.get(type(w["assignment"]), w["assignment"].id)
        reviewer = db.get(type(w["people"]["reviewer"]), w["people"]["reviewer"].id)
        criteria = review.rubric_for(db, assignment.application.round).scoring_rubric().criteria
        review.save_review(db, registry, assignment, reviewer, scores={c.id: 4 for c in criteria},
                           rationales={c.id: "Clear." for c in criteria}, submit=True)
    tasks = testapp.get("/tasks")
    assert not rows(tasks, "score") and not rows(tasks, "declare")

    # The grantee: every report due, soonest first, with what is missing.
    testapp.reset()
    f.sign_in(testapp, "grantee@example.org")
    reports = rows(testapp.get("/tasks"), "report")
    assert len(reports) == 4 and all("Write the narrative" in r for r in reports), reports
    dues = [r.split("Write the narrative: what happened in this period.")[1].split()[0] for r in reports]
    assert dues == sorted(dues)
    with registry.database.transaction() as (_tm, db):
        first = db.scalars(select(Report).where(Report.award_id == w["award"].id).order_by(Report.due_at)).first()
        save_report(db, first, narrative="Clubs started in two schools.", values=[])
        WorkflowService(registry.workflows, db).fire(first, "submit", actor=f.SYSTEM)
        first_title = first.title
    reports = rows(testapp.get("/tasks"), "report")
    assert len(reports) == 3 and not any(first_title in r for r in reports)

    # The officer: the submitted application to screen, then nothing once screened.
    testapp.reset()
    f.sign_in(testapp, "officer@example.org")
    tasks = testapp.get("/tasks")
    (screen,) = rows(tasks, "screen")
    assert "Youth choir" in screen and "Screen the application" in screen and "Confirm eligibility" in screen
    # The report the grantee submitted is the officer's to review now.
    assert any(first_title in r and "Accept the report" in r for r in rows(tasks)), rows(tasks)
    with registry.database.transaction() as (_tm, db):
        app = db.get(type(w["to_screen"]), w["to_screen"].id)
        WorkflowService(registry.workflows, db).fire(app, "confirm_eligible", actor=f.SYSTEM)
    assert not rows(testapp.get("/tasks"), "screen")


def test_no_stale_step_and_destructive_steps_are_marked_apart(testapp, registry):
    """An application whose award is made offers no due diligence any more; ending a grant
    early or declining is never shown like an everyday step."""
    with registry.database.transaction() as (_tm, db):
        w = world(db, registry)
        awarded_title = w["award"].application.title
        assert w["award"].application.state == "selected"  # the state that offered due diligence
    f.sign_in(testapp, "officer@example.org")
    tasks = testapp.get("/tasks")
    assert not any("Start due diligence" in r for r in rows(tasks)), rows(tasks)
    assert not any(awarded_title == r.split(" Application")[0] for r in rows(tasks))
    # The eligible application: select is an everyday step, decline is marked and apart.
    (eligible,) = [tr for tr in tasks.html.select("#tasks tbody tr") if "River clean-up" in tr.get_text()]
    everyday = [a.get_text(strip=True) for a in eligible.select("a.btn-outline-primary")]
    marked = [a.get_text(strip=True) for a in eligible.select(".destructive a.destructive-step")]
    assert "Select for funding" in everyday and "Decline" not in everyday
    assert marked == ["Decline"]
    assert "Cannot be undone" in eligible.select_one(".destructive").get_text()


def test_the_tasks_page_is_cut_and_the_full_list_is_paginated(testapp, registry):
    with registry.database.transaction() as (_tm, db):
        w = world(db, registry)
        for n in range(work.CAP + work.PAGE_SIZE):  # more than a page of applications to screen
            f.application(db, registry, w["round"], f.organisation(db, f.user(db)), title=f"Choir {n:02d}",
                          state="submitted")
    total = work.CAP + work.PAGE_SIZE + 1
    f.sign_in(testapp, "officer@example.org")
    tasks = testapp.get("/tasks")
    assert len(rows(tasks, "screen")) == work.CAP
    link = tasks.html.select_one("#more-tasks a[href*='kind=screen']")
    assert f"See all {total}" in link.get_text(" ", strip=True)
    first = testapp.get(link["href"])
    assert len(rows(first, "screen")) == work.PAGE_SIZE
    second = testapp.get(first.html.select_one("a[rel=next]")["href"])
    assert parse_qs(urlparse(second.request.url).query)["page"] == ["2"]
    seen = rows(first, "screen") + rows(second, "screen")
    assert len(seen) == total and len(set(seen)) == total  # every one once: a stable order
    assert second.html.select_one("a[rel=next]") is None
    # Bad input is a clear 400, never a 500.
    assert "no list of tasks of that kind" in testapp.get("/tasks?kind=nonsense", status=400).text
    assert "whole number" in testapp.get("/tasks?kind=screen&page=x", status=400).text
    assert "whole number" in testapp.get("/tasks?kind=screen&page=0", status=400).text


# -- homes: each role's next piece of work, one click away ------------------------------------


@pytest.mark.parametrize("role, section, link, lands_on", [
    ("applicant", "applicant", "Complete and submit it", "Garden days"),
    ("grantee", "grantee", "Theatre clubs", "Theatre clubs"),
    ("reviewer", "reviewer", "River clean-up", "conflict"),
    ("officer", "officer", "css:a[href$='/screening']", "Youth choir"),  # the count of applications to screen
    ("evaluator", "evaluator", "Theatre clubs", "assessment"),
    ("officer", "fund-manager", "Community Grants", "Community Grants"),
    ("admin", "admin", "people", "Community Grants"),
])
def test_each_role_reaches_its_next_work_from_the_home_page_in_one_click(testapp, registry, role, section, link,
                                                                         lands_on):
    with registry.database.transaction() as (_tm, db):
        world(db, registry)
    f.sign_in(testapp, f"{role}@example.org")
    home = testapp.get("/")
    links = section_links(home, section)
    if link.startswith("css:"):
        found = home.html.select_one(f"#home-{section}").select(link[4:])
        assert len(found) == 1 and found[0].get_text(strip=True) == "1"
        href = found[0]["href"]
    else:
        assert link in links, links
        href = links[link]
    page = testapp.get(href)
    assert page.status_int == 200 and lands_on in page.text


def test_the_grantee_finds_reports_and_payments_and_the_header_links_programmes(testapp, registry):
    with registry.database.transaction() as (_tm, db):
        w = world(db, registry)
        reports = db.scalars(select(Report).where(Report.award_id == w["award"].id).order_by(Report.due_at)).all()
        report_title = reports[0].title
        tools.payment_schedule(db, registry, w["award"], reports, w["people"]["officer"], f.now())
        first_tranche = w["award"].tranches[0].title
    f.sign_in(testapp, "grantee@example.org")
    home = testapp.get("/")
    links = section_links(home, "grantee")
    assert report_title in links  # the soonest report, one click away
    report_page = testapp.get(links[report_title])
    assert "Submit report" in report_page.text
    # Her payments, each leading to the grant's page where the schedule is shown.
    assert links[first_tranche].endswith("#tranche-1")
    assert testapp.get(links[first_tranche]).html.select_one("#tranches #tranche-1") is not None
    assert "Reports" in links and testapp.get(links["Reports"]).status_int == 200
    # Her organisation's page links the grant too.
    organisations = testapp.get("/organisations")
    org_page = testapp.get(organisations.html.select_one("main a[href*='/organisations/']")["href"])
    assert org_page.html.select_one("#organisation-grants a").get_text(strip=True) == "Theatre clubs"
    # Everyone, signed in or not, has the programmes in the header.
    testapp.reset()
    header = testapp.get("/").html.select_one("header nav")
    programmes = [a for a in header.select("a.nav-link") if a.get_text(strip=True) == "Programmes"]
    assert len(programmes) == 1
    assert "Community Grants" in testapp.get(programmes[0]["href"]).text


def test_home_lists_are_cut_with_a_link_to_the_paginated_list(testapp, registry):
    with registry.database.transaction() as (_tm, db):
        w = world(db, registry)
        applicant = w["people"]["applicant"]
        org = w["draft"].organisation
        for n in range(work.CAP + 2):
            f.application(db, registry, w["round"], org, title=f"Idea {n:02d}", complete=False)
        del applicant
    f.sign_in(testapp, "applicant@example.org")
    home = testapp.get("/")
    table = home.html.select_one("#home-applicant table")
    assert len(table.select("tbody tr")) == work.CAP
    see_all = home.html.select_one("#home-applicant a[href*='list=applications']")
    assert "See all 13" in see_all.get_text(" ", strip=True)
    full = testapp.get(see_all["href"])
    assert len(full.html.select("main table tbody tr")) == 13
    assert "no list of that name" in testapp.get("/mine?list=other", status=400).text
