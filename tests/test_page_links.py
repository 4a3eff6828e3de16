"""Every page of the demo as its people use it: each link on the main pages leads somewhere
(no 404, no error), and every page's <title> is plain text in every language — a browser
shows markup inside <title> as written ("Report <span>1</span>")."""
from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import select

import factories as f
from grants.awards.models import Award
from grants.demo import DEMO_PASSWORD, load_demo
from grants.mel.models import Report
from grants.programmes.models import Programme

TITLE = re.compile(r"<title>(.*?)</title>", re.S)
#: Links that change something or end the session are forms, never links; these few are
#: links that do (or would, followed in a loop) and are left out on purpose.
NOT_FOLLOWED = ("/logout",)


@pytest.fixture
def demo(registry):
    load_demo(registry, out=io.StringIO())
    with registry.database.transaction() as (_tm, db):
        programme = db.scalars(select(Programme)).first()
        awards = db.scalars(select(Award).order_by(Award.id)).all()
        pages = ["/", "/programmes", f"/programmes/{programme.id}"]
        pages += [f"/programmes/{programme.id}/rounds/{r.id}" for r in programme.rounds]
        for award in awards:
            url = f"/programmes/{programme.id}/rounds/{award.round_id}/awards/{award.id}"
            pages += [url, url + "/@@framework", url + "/@@reports", url + "/@@budget", url + "/@@surveys",
                      url + "/@@evidence"]
            pages += [f"{url}/reports/{r.id}" for r in db.scalars(select(Report).where(Report.award_id == award.id))]
        return pages


def signed_in(app, email):
    import webtest

    client = webtest.TestApp(app, extra_environ={"HTTP_HOST": "localhost"})
    if email:
        f.sign_in(client, email, DEMO_PASSWORD)
    return client


def title_of(response) -> str:
    found = TITLE.search(response.text)
    assert found is not None, response.request.url
    return found.group(1)


def links_of(response) -> set[str]:
    return f.links_of(response, skip=NOT_FOLLOWED)


@pytest.mark.parametrize("email, at_least", [("officer@example.org", 60), ("applicant@example.org", 20), (None, 8)])
def test_every_link_on_the_main_pages_leads_somewhere(app, demo, email, at_least):
    client = signed_in(app, email)
    broken, seen = [], set()
    for page in demo:
        start = client.get(page, expect_errors=True)
        if start.status_int in (403, 404) or start.status_int >= 300:
            continue  # not this person's page: what matters is what their pages link to
        for link in sorted(links_of(start) - seen):
            seen.add(link)
            response = client.get(link, expect_errors=True)
            if response.status_int == 404 or response.status_int >= 500:
                broken.append(f"{page} → {link}: {response.status}")
    assert broken == []
    assert len(seen) >= at_least  # the pages were read, with their links


@pytest.mark.parametrize("lang", ["en", "fr", "ar"])
def test_every_main_page_s_title_is_plain_text(app, demo, lang):
    client = signed_in(app, "officer@example.org")
    client.set_cookie("grants_lang", lang)
    titles = {}
    for page in demo:
        response = client.get(page)
        if response.content_type == "text/html":
            titles[page] = title_of(response)
    assert len(titles) == len(demo)
    marked_up = {page: title for page, title in titles.items() if "<" in title or "&lt;" in title or "&gt;" in title}
    assert marked_up == {}
    assert all(title.strip() for title in titles.values())


def test_every_template_fills_the_title_slot_with_text_only():
    """The layout puts the slot inside <title>, where HTML elements are shown as written:
    only TAL, METAL and i18n elements (which leave no tag) may be used there."""
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    slot = re.compile(r'<(\w+:\w+|\w+)[^>]*fill-slot="title"[^>]*>(.*?)</\1>', re.S)
    element = re.compile(r"<(?!/?(?:tal|metal|i18n):)/?[a-zA-Z]")
    templates = sorted(root.glob("templates/**/*.pt")) + sorted(root.glob("tests/testplugin/**/*.pt")) \
        + sorted(root.glob("plugins/**/*.pt"))
    filled = {path: match.group(2) for path in templates for match in slot.finditer(path.read_text())}
    assert len(filled) > 40
    assert {str(path.relative_to(root)): inner for path, inner in filled.items() if element.search(inner)} == {}
