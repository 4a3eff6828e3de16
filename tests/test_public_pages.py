"""What the public reads: every page an anonymous visitor reaches from the home page (a
round, a programme, a round's public report …) shows no step refused to them, no
history, no form version keys and no field names or region codes in the eligibility
rules — those are the funder's working material.  Officers still see their steps and the
round's history; applicants see what the public sees."""
from __future__ import annotations

import re

import pytest
import webtest

import factories

from grants.programmes.models import Round
from grants.testing import sign_in
from test_form_builder import build_site, community_form, published
from test_public_report import build as build_report_world

#: A form version key (``community-fund@1``); an e-mail address has letters after its @.
VERSION_KEY = re.compile(r"[\w-]+@\d+\b")
REFUSALS = {
    "en": "You are not allowed",
    "fr": "Vous n'avez pas l'autorisation",
    "ar": "ليست لديك صلاحية",
}
#: The keys of the rules and the form below, which a reader should meet only by their names.
RAW_KEYS = ("budget_plan", "registration_certificate", "required_attachments", "region_in", "TN-61", "TN-73",
            "community-fund")


@pytest.fixture
def public_site(registry):
    """A programme whose open round uses a form built in the browser and three rules (a
    document of that form, a region, registration), and a second programme whose round
    has its public report published."""
    site = build_site(registry)
    version = published(registry, site, community_form())
    with registry.database.transaction() as (_tm, db):
        rnd = db.get(Round, site.round.id)
        rnd.application_form_version = version
        rnd.eligibility_rules = [{"kind": "registered_organisation"}, {"kind": "region_in", "regions": ["TN-61"]},
                                 {"kind": "required_attachments", "attachments": ["budget_plan"]}]
        world = build_report_world(db, registry)
    return {"site": site, "round_url": f"/programmes/{site.programme.id}/rounds/{site.round.id}",
            "report_url": world["url"] + "/public-report"}


def links_of(response) -> set[str]:
    return factories.links_of(response, skip=("/static", "/logout"))


def crawl(client, start) -> dict[str, str]:
    """Every HTML page reachable from ``start`` by links, by URL: its main content's text."""
    pages, queue = {}, list(start)
    while queue:
        url = queue.pop(0)
        if url in pages:
            continue
        response = client.get(url, expect_errors=True)
        pages[url] = ""
        if response.status_int != 200 or "html" not in response.content_type:
            continue
        main = response.html.find("main") or response.html
        pages[url] = main
        queue += sorted(links_of(response) - set(pages))
    return {url: main for url, main in pages.items() if main != ""}


def problems_of(main, lang) -> list[str]:
    text = main.get_text(" ")
    found = []
    if REFUSALS[lang] in text:
        found.append("a step refused to the reader")
    if main.find(id="history") is not None:
        found.append("the history")
    found += [f"the key {key}" for key in VERSION_KEY.findall(text)]
    found += [f"the key {key}" for key in RAW_KEYS if key in text]
    return found


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_no_page_the_public_reaches_shows_refusals_history_or_keys(app, public_site, lang):
    client = webtest.TestApp(app, extra_environ={"HTTP_HOST": "localhost"})
    client.set_cookie("grants_lang", lang)
    pages = crawl(client, ["/", public_site["report_url"]])
    # The crawl reached the round, its programme and the published report.
    assert {public_site["round_url"] + "/", public_site["report_url"]} <= set(pages)
    assert len(pages) >= 8
    found = {url: problems for url, main in pages.items() if (problems := problems_of(main, lang))}
    assert found == {}


def test_the_rules_are_written_with_the_forms_and_the_catalogues_names(app, public_site):
    client = webtest.TestApp(app, extra_environ={"HTTP_HOST": "localhost"})
    rules = client.get(public_site["round_url"]).html.find(id="rules").get_text(" ")
    assert "Budget plan" in rules and "Sfax" in rules
    client.set_cookie("grants_lang", "ar")
    rules = client.get(public_site["round_url"]).html.find(id="rules").get_text(" ")
    assert "خطة الميزانية" in rules and "صفاقس" in rules


def test_an_applicant_sees_the_round_as_the_public_does(app, public_site):
    client = webtest.TestApp(app, extra_environ={"HTTP_HOST": "localhost"})
    sign_in(client, public_site["site"].member.email)
    page = client.get(public_site["round_url"])
    assert page.html.find(id="apply") is not None
    assert problems_of(page.html.find("main"), "en") == []
    assert page.html.find(id="actions") is None  # no step of the round is theirs


def test_officers_still_see_their_steps_and_the_history(app, public_site):
    client = webtest.TestApp(app, extra_environ={"HTTP_HOST": "localhost"})
    sign_in(client, public_site["site"].officer.email)
    page = client.get(public_site["round_url"])
    actions = page.html.find(id="actions")
    assert actions is not None and "Close the round" in actions.get_text(" ")
    history = page.html.find(id="history").get_text(" ")
    # Steps and states by their titles, not their ids.
    assert "Open the round" in history and "Open" in history
    assert "community-fund@1" in page.html.find(id="round-details").get_text(" ")
