"""Every page the demo's people can reach, in a real Chromium, in English and in Arabic (right
to left), on a phone (390 px) and on a laptop (1366 px): no page is wider than the window
(WCAG 1.4.10, reflow) and axe-core finds nothing against WCAG 2.1 A and AA.

The site is the one ``grants demo development.ini`` makes: the plugins development.ini
enables, grants' own demo, then each plugin's, with everyone their demos sign in as.

The crawl starts at the home page, signed out and then as each demo person, and follows
same-origin links breadth-first.  Pages of one kind differ only by their ids, so one address
is checked per kind (numbers in the path become ``#``, the query keeps its names, not its
values), and a kind is checked once for the whole crawl, by the first person who reaches it:
the crawl stays a few minutes long however much the demos hold and however many people they
have.  A programme that uses plugins shows their forms, steps and report sections on its
pages, so its pages are kinds of their own.

axe-core comes from the npm registry, installed once into pytest's cache folder."""
from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
from collections import deque
from pathlib import Path
from urllib.parse import urldefrag, urlsplit

import pytest

from grants.demo import DEMO_PASSWORD, load_demo
from grants.i18n import COOKIE

pytestmark = pytest.mark.browser

AXE_VERSION = "4"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21aa"]
WIDTHS = (1366, 390)
#: Links that end the session, and files that are downloads, not pages.
NOT_FOLLOWED = re.compile(r"(/logout$|^/static/|^/deform_static/|\.(csv|xlsx|pdf|zip|svg|png|ico)$)")
#: A person who reaches more kinds of page than this in one kind of programme (grants' own,
#: or those using a plugin) has a crawl that stopped telling kinds apart.
MOST_KINDS = 150
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def axe_source(request, tmp_path_factory) -> str:
    """axe.min.js, installed with npm into pytest's cache the first time (into this run's
    temporary folder when the cache is switched off: ``-p no:cacheprovider``)."""
    cache = getattr(request.config, "cache", None)
    folder = Path(cache.mkdir("axe-core") if cache is not None else tmp_path_factory.mktemp("axe-core"))
    script = folder / "node_modules" / "axe-core" / "axe.min.js"
    if not script.exists():
        problem = None
        npm = shutil.which("npm")
        if npm is None:
            problem = "npm is not installed (apt-get install npm)"
        else:
            done = subprocess.run([npm, "install", "--no-save", "--no-audit", "--no-fund", "--prefix", str(folder),
                                   f"axe-core@{AXE_VERSION}"], capture_output=True, text=True, timeout=300)
            if done.returncode != 0 or not script.exists():
                problem = f"npm could not install axe-core@{AXE_VERSION}: {done.stderr.strip()[-500:]}"
        if problem:
            if os.environ.get("GRANTS_REQUIRE_BROWSER"):
                pytest.fail(problem)
            pytest.skip(problem)
    return script.read_text()


def kind_of(path_and_query: str, plugins_of: dict[int, list[str]] | None = None) -> str:
    """One key per kind of page: /programmes/3/rounds/7?tab=x -> /programmes/#/rounds/#?tab.
    The pages of a programme using plugins (``plugins_of``: programme id -> its plugins) are
    kinds of their own: /programmes/#[bladi]/rounds/#?tab."""
    parts = urlsplit(path_and_query)
    segments = parts.path.split("/")
    kind = ["#" if segment.isdigit() else segment for segment in segments]
    if len(segments) > 2 and segments[1] == "programmes" and segments[2].isdigit():
        plugins = (plugins_of or {}).get(int(segments[2]))
        if plugins:
            kind[2] = "#[" + "+".join(sorted(plugins)) + "]"
    names = sorted({pair.split("=")[0] for pair in parts.query.split("&") if pair})
    return "/".join(kind) + ("?" + "&".join(names) if names else "")


def programme_of(kind: str) -> str:
    """Which kind of programme a kind of page belongs to: "#[bladi]", "#" (grants' own) or ""."""
    segments = kind.split("?")[0].split("/")
    return segments[2] if len(segments) > 2 and segments[1] == "programmes" else ""


def test_kinds_of_page_forget_ids_and_query_values():
    assert kind_of("/programmes/3/rounds/17/awards/4/@@reports") == "/programmes/#/rounds/#/awards/#/@@reports"
    assert kind_of("/tasks?page=2&sort=due") == kind_of("/tasks?sort=title&page=9") == "/tasks?page&sort"
    assert kind_of("/tasks") != kind_of("/tasks?page=2")


def test_the_pages_of_a_programme_using_plugins_are_kinds_of_their_own():
    plugins_of = {3: [], 4: ["bladi"], 5: ["shared_endeavour", "bladi"]}
    assert kind_of("/programmes/3/rounds/7", plugins_of) == kind_of("/programmes/9/rounds/8", plugins_of)
    assert kind_of("/programmes/4/rounds/7", plugins_of) == "/programmes/#[bladi]/rounds/#"
    assert kind_of("/programmes/5?tab=x", plugins_of) == "/programmes/#[bladi+shared_endeavour]?tab"
    assert kind_of("/programmes", plugins_of) == "/programmes"
    assert [programme_of(kind_of(p, plugins_of)) for p in ("/programmes/3", "/programmes/4/rounds/1", "/tasks")] \
        == ["#", "#[bladi]", ""]


def same_origin_links(page, live_server) -> list[str]:
    hrefs = page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)")
    out = []
    for href in hrefs:
        href, _fragment = urldefrag(href)
        if not href.startswith(live_server + "/"):
            continue
        parts = urlsplit(href)
        local = parts.path + (f"?{parts.query}" if parts.query else "")
        if not NOT_FOLLOWED.search(parts.path):
            out.append(local)
    return out


def problems_on(page, axe_source: str, where: str) -> list[str]:
    """What is wrong with the page as shown now: its width, then axe-core's violations."""
    found = []
    widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    if widths[0] > widths[1]:
        wide = page.evaluate("""() => {
            const w = window.innerWidth;
            return [...document.querySelectorAll('body *')]
              .filter(e => e.getBoundingClientRect().right > w + 1 || e.getBoundingClientRect().left < -1)
              .slice(-3).map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
                                  + (e.className && typeof e.className === 'string' ? '.' + e.className.split(' ').join('.') : ''));
        }""")
        found.append(f"{where}: {widths[0]} px wide in a {widths[1]} px window ({', '.join(wide)})")
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(content=axe_source)
    violations = page.evaluate("""tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})
        .then(r => r.violations.map(v => ({id: v.id, nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))})))""",
                               AXE_TAGS)
    found += [f"{where}: {v['id']} at {json.dumps(v['nodes'])}" for v in violations]
    return found


def check_at_every_width(page, axe_source, where) -> list[str]:
    found = []
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        found += problems_on(page, axe_source, f"{where} @{width}px")
    return found


def open_page(page, url) -> bool:
    """Go to a page; False when the address is not an HTML page (a download, a file)."""
    from playwright.sync_api import Error

    try:
        response = page.goto(url)
    except Error as error:
        if "Download is starting" in str(error):
            return False
        raise
    return response is not None and response.headers.get("content-type", "").startswith("text/html")


def crawled_plugins() -> list[str]:
    """The plugins development.ini enables: the crawl goes through the site the README's
    quick start serves."""
    from pyramid.paster import get_appsettings

    return get_appsettings(str(ROOT / "development.ini")).get("grants.plugins", "").split()


@pytest.fixture(scope="session")
def grants_plugins() -> list[str]:
    return crawled_plugins()


def programme_plugins(registry) -> dict[int, list[str]]:
    from sqlalchemy import select

    from grants.programmes.models import Programme

    with registry.database.transaction() as (_tm, db):
        return {programme.id: list(programme.plugins or []) for programme in db.scalars(select(Programme))}


def crawl_as(chromium, live_server, axe_source, email, plugins_of, checked) -> tuple[list[str], dict[str, str]]:
    """Go through every kind of page ``email`` (None: signed out) reaches, checking in
    English and then in Arabic the kinds nobody checked before (``checked``: kind -> who,
    updated).  Returns the problems found and the kinds of page reached."""
    who = email or "signed out"
    # The Content-Security-Policy would refuse the injected axe-core; the other browser
    # tests check that pages themselves keep to it.
    context = chromium.new_context(bypass_csp=True, viewport={"width": WIDTHS[0], "height": 900})
    # English whatever language the person's account keeps (the demos have French and Arabic ones).
    context.add_cookies([{"name": COOKIE, "value": "en", "url": live_server}])
    page = context.new_page()
    page.set_default_timeout(15000)
    problems, reached, mine = [], {}, []
    try:
        if email:
            page.goto(live_server + "/login")
            page.locator("main").get_by_label("E-mail address").fill(email)
            page.locator("main").get_by_label("Password").fill(DEMO_PASSWORD)
            page.locator("main").get_by_role("button", name="Sign in").click()
            page.wait_for_load_state()
            assert "/login" not in page.url, f"{email} could not sign in"

        # English: find the pages breadth-first, checking each new kind's first one.
        queue = deque(["/"])
        while queue:
            local = queue.popleft()
            kind = kind_of(local, plugins_of)
            if kind in reached:
                continue
            reached[kind] = local
            if not open_page(page, live_server + local):
                continue
            page.set_viewport_size({"width": WIDTHS[0], "height": 900})
            links = same_origin_links(page, live_server)
            if kind not in checked:
                checked[kind] = who
                mine.append(local)
                problems += check_at_every_width(page, axe_source, f"{who}: en {local}")
            queue.extend(link for link in links if kind_of(link, plugins_of) not in reached)
            in_programmes_like_it = [k for k in reached if programme_of(k) == programme_of(kind)]
            assert len(in_programmes_like_it) <= MOST_KINDS, sorted(in_programmes_like_it)

        # Arabic, right to left: the same pages.
        context.add_cookies([{"name": COOKIE, "value": "ar", "url": live_server}])
        for local in mine:
            if open_page(page, live_server + local):
                assert page.evaluate("document.documentElement.dir") == "rtl", local
                problems += check_at_every_width(page, axe_source, f"{who}: ar {local}")
    finally:
        context.close()
    return problems, reached


def test_every_page_the_demo_people_reach_reflows_and_passes_axe(registry, live_server, chromium, axe_source):
    people = load_demo(registry, out=io.StringIO())
    plugins_of = programme_plugins(registry)
    assert set(crawled_plugins()) <= {plugin for plugins in plugins_of.values() for plugin in plugins}

    problems, checked = [], {}
    for email in [None] + [person.email for person in people]:
        found, reached = crawl_as(chromium, live_server, axe_source, email, plugins_of, checked)
        problems += found
        # the crawl really went through the site as this person
        assert len(reached) >= (10 if email else 3), (email, sorted(reached))
    assert problems == [], "\n".join(problems)
    # every kind of programme the demos made (grants' own, each plugin's) had its pages checked
    kinds_of_programme = {"#"} | {"#[" + "+".join(sorted(p)) + "]" for p in plugins_of.values() if p}
    assert {programme_of(kind) for kind in checked} >= kinds_of_programme, sorted(checked)
