"""Two people changing one thing at once: one wins, every other one gets the readable
"Someone else changed this first" page (409) with a link back, and nothing is undone
silently — a transition fired by many at once, and every edit form drawn from an older
version of its row.  Runs on SQLite and on PostgreSQL (GRANTS_TEST_DATABASE_URL)."""
from __future__ import annotations

import http.cookiejar
import re
import threading
import urllib.error
import urllib.parse
import urllib.request

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
import webtest
from sqlalchemy import select

import factories as f
from grants.awards.models import Award
from grants.evaluation.models import Assessment, RoundEvaluation
from grants.lifecycle.models import HistoryEntry
from grants.lifecycle.services import WorkflowService
from grants.mel import framework
from grants.mel.models import Indicator, Report, TocElement
from grants.programmes import services as programmes
from grants.programmes.models import Programme, Round

CONFLICT = "Someone else changed this first"


class Browser:
    """One person's HTTP client with its own cookies, against a real server."""

    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()),
                                                  NoRedirect())

    def request(self, path, data=None):
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        try:
            with self.opener.open(self.base + path, body, timeout=120) as response:
                return response.status, response.read().decode(), dict(response.headers)
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(), dict(error.headers)

    def csrf(self, path) -> str:
        status, html, _ = self.request(path)
        assert status == 200, (path, status)
        return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)

    def form_fields(self, path, formid) -> dict:
        """Every named input of one form on the page, as a browser would send it."""
        from bs4 import BeautifulSoup

        status, html, _ = self.request(path)
        assert status == 200, (path, status)
        form = BeautifulSoup(html, "html.parser").find("form", id=formid)
        fields = {}
        for tag in form.find_all(["input", "textarea", "select"]):
            name = tag.get("name")
            if not name or tag.get("type") == "submit":
                continue
            if tag.name == "textarea":
                fields[name] = tag.text
            elif tag.name == "select":
                chosen = tag.find("option", selected=True) or tag.find("option")
                fields[name] = chosen.get("value", "") if chosen else ""
            elif tag.get("type") in ("checkbox", "radio"):
                if tag.has_attr("checked"):
                    fields[name] = tag.get("value", "on")
            else:
                fields[name] = tag.get("value", "")
        return fields

    def sign_in(self, email):
        token = self.csrf("/login")
        status, _, _ = self.request("/login", {"csrf_token": token, "email": email, "password": f.PASSWORD,
                                               "submit": "submit"})
        assert status == 302


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def officers_and_round(registry, n):
    with registry.database.transaction() as (_tm, db):
        prog = f.programme(db)
        officers = []
        for i in range(n):
            officer = f.user(db, email=f"officer{i}@example.org", name=f"Officer {i}")
            f.grant_role(db, officer, "programme_officer", prog)
            officers.append(officer.email)
        rnd = f.round_(db, registry, prog)
        return officers, rnd.id, f"/programmes/{prog.id}/rounds/{rnd.id}/"


def test_many_officers_close_one_round_at_once_one_wins_the_rest_see_409(registry, live_server):
    n = 8
    emails, round_id, path = officers_and_round(registry, n)
    browsers = [Browser(live_server) for _ in emails]
    forms = []
    for browser, email in zip(browsers, emails):
        browser.sign_in(email)
        forms.append(browser.form_fields(path + "transition?trigger=close", "transition"))
    barrier = threading.Barrier(n, timeout=60)
    results: list = [None] * n

    def close(i):
        barrier.wait()
        results[i] = browsers[i].request(path + "transition?trigger=close", {**forms[i], "fire": "fire"})

    threads = [threading.Thread(target=close, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(180)
    statuses = sorted(r[0] for r in results)
    assert statuses == [302] + [409] * (n - 1), [(r[0], r[1][-3000:]) for r in results if r[0] not in (302, 409)]
    for status, html, _ in results:
        if status == 409:
            assert CONFLICT in html
            assert f'href="http://127.0.0.1' in html and path in html  # a link back to the round
    with registry.database.transaction() as (_tm, db):
        assert db.get(Round, round_id).state == "closed"
        closes = db.scalars(select(HistoryEntry).where(HistoryEntry.object_type == "rounds",
                                                       HistoryEntry.object_id == round_id,
                                                       HistoryEntry.trigger == "close")).all()
        assert len(closes) == 1


# -- edit forms drawn from an older version -------------------------------------------------------------


def browser(app, email=None) -> webtest.TestApp:
    client = webtest.TestApp(app, extra_environ={"HTTP_HOST": "localhost"})
    if email:
        f.sign_in(client, email)
    return client


def by_id(form, input_id):
    (field,) = [field for _name, field in form.field_order if field.id == input_id]
    return field


def differences(page) -> dict[str, tuple[str, str]]:
    """The conflict page's table: field -> (what was typed, what is saved now)."""
    table = page.html.find(id="differences")
    assert table is not None, "no table of differences"
    rows = {}
    for tr in table.tbody.find_all("tr"):
        cells = [" ".join(c.get_text().split()) for c in tr.find_all(["th", "td"])]
        rows[cells[0]] = (cells[1], cells[2])
    return rows


def assert_conflict_page(page, back):
    assert page.status_int == 409
    text = " ".join(page.html.find("main").get_text().split())
    assert CONFLICT in text and "was not saved" in text
    assert any(a["href"].endswith(back) for a in page.html.find("main").find_all("a", href=True)), back


def draft_round(registry, *officers):
    with registry.database.transaction() as (_tm, db):
        prog = f.programme(db)
        for email in officers:
            f.grant_role(db, f.user(db, email=email, name=email.split("@")[0].title()), "programme_officer", prog)
        rnd = programmes.create_round(db, registry, db.get(Programme, prog.id), title="Call 5", timezone="UTC",
                                      budget=f.money(875_000, "USD"), actor=f.SYSTEM)
        return f"/programmes/{prog.id}/rounds/{rnd.id}", rnd.id


def test_two_officers_edit_one_round_the_second_sees_both_values_and_the_first_edit_stays(app, registry):
    url, round_id = draft_round(registry, "leila@example.org", "omar@example.org")
    leila, omar = browser(app, "leila@example.org"), browser(app, "omar@example.org")
    leilas, omars = f.main_form(leila.get(url + "/edit")), f.main_form(omar.get(url + "/edit"))
    leilas["budget"] = "900 000"
    leilas.submit("submit", status=302)
    omars["budget"] = "950,000"
    omars["title"] = "Call 5 (Kebili)"
    refused = omars.submit("submit", status=409)
    assert_conflict_page(refused, url + "/")
    assert differences(refused) == {"Budget": ("950,000.00", "900,000.00"),
                                    "Name of the round": ("Call 5 (Kebili)", "Call 5")}
    with registry.database.transaction() as (_tm, db):
        rnd = db.get(Round, round_id)
        assert (rnd.budget, rnd.title) == (f.money(900_000, "USD"), "Call 5")  # the first edit is kept
    # What Omar typed comes back, drawn from the current version: sending it keeps his on purpose.
    again = refused.forms["round"]
    assert (again["budget"].value, again["title"].value) == ("950,000", "Call 5 (Kebili)")
    again.submit("submit", status=302)
    with registry.database.transaction() as (_tm, db):
        assert db.get(Round, round_id).budget == f.money(950_000, "USD")


def test_a_stale_or_missing_version_is_refused_and_changes_nothing(app, registry):
    url, round_id = draft_round(registry, "leila@example.org")
    leila = browser(app, "leila@example.org")
    form = f.main_form(leila.get(url + "/edit"))
    form["title"] = "Renamed"
    for tampered in ("", "abc", "999999999999999", "٢"):
        by_id(form, "round-row_version").value = tampered
        assert_conflict_page(form.submit("submit", status=409), url + "/")
    with registry.database.transaction() as (_tm, db):
        assert db.get(Round, round_id).title == "Call 5"


def test_two_officers_add_tiers_from_pages_drawn_before_either(app, registry):
    url, round_id = draft_round(registry, "leila@example.org")
    leila = browser(app, "leila@example.org")
    first, second = leila.get(url + "/tiers").forms["tier"], leila.get(url + "/tiers").forms["tier"]
    first["name"], first["minimum"], first["maximum"] = "Small", "10,000", "25,000"
    first.submit("submit", status=302)
    second["name"], second["minimum"], second["maximum"] = "Large", "25,001", "90,000"
    refused = second.submit("submit", status=409)
    assert_conflict_page(refused, url + "/")
    assert differences(refused) == {"Grant-size tiers": (
        "Small ($10,000.00 – $25,000.00); Large ($25,001.00 – $90,000.00)", "Small ($10,000.00 – $25,000.00)")}
    refused.forms["tier"].submit("submit", status=302)
    with registry.database.transaction() as (_tm, db):
        assert [t.name for t in db.get(Round, round_id).tiers] == ["Small", "Large"]
    # Removing a tier from a page drawn before the last change is refused too.
    page = leila.get(url + "/tiers")
    removes = [form for form in page.forms.values() if "tier" in form.fields and "name" not in form.fields]
    leila.post(url + "/remove-tier", {"csrf_token": removes[0]["csrf_token"].value, "tier": removes[0]["tier"].value,
                                      "row_version": removes[0]["row_version"].value}, status=302)
    assert_conflict_page(removes[1].submit(status=409), url + "/")
    with registry.database.transaction() as (_tm, db):
        assert [t.name for t in db.get(Round, round_id).tiers] == ["Large"]


def test_public_report_settings_drawn_before_another_save_are_refused(app, registry):
    url, round_id = draft_round(registry, "leila@example.org")
    leila = browser(app, "leila@example.org")
    first = leila.get(url + "/@@public-report-settings").forms["report-options"]
    second = leila.get(url + "/@@public-report-settings").forms["report-options"]
    first["small_cell_threshold"] = "7"
    first.submit("submit", status=302)
    second["small_cell_threshold"] = "9"
    refused = second.submit("submit", status=409)
    assert differences(refused) == {"Smallest count shown": ("9", "7")}
    with registry.database.transaction() as (_tm, db):
        assert db.get(Round, round_id).small_cell_threshold == 7


def an_award(registry):
    """An award with a grantee member (Amel), an officer (Leila) and an evaluator (Eva) of
    its round, and one indicator with a theory-of-change box.  Committed."""
    with registry.database.transaction() as (_tm, db):
        amel = f.user(db, email="amel@example.org", name="Amel")
        leila = f.user(db, email="leila@example.org", name="Leila")
        eva = f.user(db, email="eva@example.org", name="Eva")
        award = f.award(db, registry, org=f.organisation(db, amel, name="AFEK"), amount=f.money("45000.000", "TND"))
        f.grant_role(db, leila, "programme_officer", award.round.programme)
        rnd = award.round
        WorkflowService(registry.workflows, db).fire(rnd, "close", actor=f.SYSTEM)
        WorkflowService(registry.workflows, db).fire(rnd, "start_review", actor=f.SYSTEM)
        from grants.evaluation.services import assign_evaluator

        assign_evaluator(db, rnd, eva)
        element = framework.add_toc_element(db, award, kind="outputs", text="Clubs meet every week")
        indicator = framework.add_indicator(
            db, award, code="OUT1", title="Young people taking part", level="outputs", measure="unit",
            unit="people", method="administrative_data", baseline_value=Decimal(0), baseline_date=award.starts_on,
            toc_element=element)
        report = db.scalars(select(Report).where(Report.award_id == award.id, Report.number == 1)).one()
        url = f"/programmes/{rnd.programme_id}/rounds/{rnd.id}/awards/{award.id}"
        return url, {"award": award.id, "round": rnd.id, "element": element.id, "indicator": indicator.id,
                     "report": report.id, "round_url": f"/programmes/{rnd.programme_id}/rounds/{rnd.id}"}


def stale_pair(client, url, formid):
    """The same form drawn twice before either is sent."""
    return client.get(url).forms[formid], client.get(url).forms[formid]


def test_award_forms_refuse_an_edit_drawn_before_another(app, registry):
    url, ids = an_award(registry)
    leila = browser(app, "leila@example.org")

    first, second = stale_pair(leila, url + "/@@amend", "amend")
    first["amount"], first["reason"] = "50,000", "A fifth school."
    first.submit("submit", status=302)
    second["amount"], second["reason"] = "60,000", "A sixth school."
    refused = second.submit("submit", status=409)
    assert_conflict_page(refused, url + "/")
    assert differences(refused) == {"Amount": ("60,000.000", "50,000.000")}
    assert refused.forms["amend"]["reason"].value == "A sixth school."

    first, second = stale_pair(leila, url + "/@@budget", "budget")
    for form, planned in ((first, "50,000"), (second, "50,000.000")):
        by_id(form, "budget-line_1-category").value = "Staff" if form is first else "Activities"
        by_id(form, "budget-line_1-planned").value = planned
    first.submit("submit", status=302)
    refused = second.submit("submit", status=409)
    assert differences(refused) == {"Line 1": ("Category: Activities; Planned: 50,000.000",
                                               "Category: Staff; Planned: 50,000.000")}

    first, second = stale_pair(leila, url + "/@@schedule", "schedule")
    by_id(first, "schedule-tranche_1-share").value = "100"
    first.submit("submit", status=302)
    by_id(second, "schedule-tranche_1-share").value = "60"
    by_id(second, "schedule-tranche_2-share").value = "40"
    refused = second.submit("submit", status=409)
    assert set(differences(refused)) == {"Tranche 1", "Tranche 2"}

    first, second = stale_pair(leila, url + "/@@agreement", "agreement")
    for form, day in ((first, "3"), (second, "4")):
        by_id(form, "agreement-agreement_signed_on-day").value = day
        by_id(form, "agreement-agreement_signed_on-month").value = "7"
        by_id(form, "agreement-agreement_signed_on-year").value = "2019"
    first.submit("submit", status=302)
    refused = second.submit("submit", status=409)
    assert list(differences(refused)) == ["Agreement signed on"]
    with registry.database.transaction() as (_tm, db):
        award = db.get(Award, ids["award"])
        assert award.amount == f.money("50000.000", "TND")
        assert [line.category for line in award.budget_lines] == ["Staff"]
        assert [t.percent for t in award.tranches] == [Decimal(100)]
        assert award.agreement_signed_on == dt.date(2019, 7, 3)


def test_framework_and_report_forms_refuse_an_edit_drawn_before_another(app, registry):
    url, ids = an_award(registry)
    amel = browser(app, "amel@example.org")

    page_url = url + f"/@@framework-element?element={ids['element']}"
    second_page = amel.get(page_url)
    first, second = amel.get(page_url).forms["toc"], second_page.forms["toc"]
    first["text"] = "Clubs meet twice a week"
    first.submit("submit", status=302)
    second["text"] = "Clubs meet every day"
    refused = second.submit("submit", status=409)
    assert differences(refused)["What it says"] == ("Clubs meet every day", "Clubs meet twice a week")
    # Removing it from a page drawn before the change is refused as well; from a fresh one it goes.
    stale_removal = second_page.forms["remove-element"]
    assert_conflict_page(stale_removal.submit("remove", status=409), url + "/")
    amel.get(page_url).forms["remove-element"].submit("remove", status=302)

    first, second = stale_pair(amel, url + f"/@@framework-indicator?indicator={ids['indicator']}", "indicator")
    first["title"] = "Young people in the clubs"
    first.submit("submit", status=302)
    second["title"] = "Young people at the sessions"
    refused = second.submit("submit", status=409)
    assert differences(refused)["What it measures"] == ("Young people at the sessions", "Young people in the clubs")

    report_url = url + f"/reports/{ids['report']}/"
    first, second = stale_pair(amel, report_url, "report-form")
    first["narrative"], first[f"value-{ids['indicator']}"] = "Two clubs started.", "12"
    first.submit("save", status=302)
    second["narrative"], second[f"value-{ids['indicator']}"] = "Three clubs started.", "12"
    refused = second.submit("save", status=409)
    assert differences(refused) == {"Narrative": ("Three clubs started.", "Two clubs started.")}
    assert refused.forms["report-form"]["narrative"].value == "Three clubs started."  # kept, to save again
    refused.forms["report-form"].submit("save", status=302)
    with registry.database.transaction() as (_tm, db):
        assert db.get(TocElement, ids["element"]) is None  # removed by the fresh page
        assert db.get(Indicator, ids["indicator"]).title == "Young people in the clubs"
        assert db.get(Report, ids["report"]).narrative == "Three clubs started."


def test_evaluation_forms_refuse_an_edit_drawn_before_another(app, registry):
    url, ids = an_award(registry)
    eva = browser(app, "eva@example.org")
    round_url = ids["round_url"]

    first, second = stale_pair(eva, round_url + "/@@evaluation", "findings")  # before any evaluation exists
    first["findings"] = "Attitudes improved."
    first.submit("submit", status=302)
    second["findings"] = "Attitudes did not change."
    refused = second.submit("submit", status=409)
    assert differences(refused)["Findings"] == ("Attitudes did not change.", "Attitudes improved.")

    first, second = stale_pair(eva, url + "/@@assessment", "assessment")
    for form, summary in ((first, "Good work."), (second, "Weak work.")):
        for criterion in ("relevance", "effectiveness", "efficiency", "sustainability", "fidelity", "mel_quality"):
            form[f"score-{criterion}"] = "4"
        form["summary"] = summary
    first.submit("draft", status=302)  # a draft: still the evaluator's to change (a submitted one is reopened first)
    second["score-relevance"] = "2"
    refused = second.submit(status=409)
    assert differences(refused) == {"Relevance": ("2", "4"), "Summary": ("Weak work.", "Good work.")}
    assert refused.forms["assessment"]["summary"].value == "Weak work."
    with registry.database.transaction() as (_tm, db):
        assert db.scalars(select(RoundEvaluation)).one().findings == "Attitudes improved."
        assert db.scalars(select(Assessment)).one().summary == "Good work."


# -- the transition page ------------------------------------------------------------------------------------


def test_the_transition_page_tells_strangers_nothing(app, registry):
    url, _round_id = draft_round(registry, "leila@example.org")
    with registry.database.transaction() as (_tm, db):
        f.user(db, email="stranger@example.org", name="Stranger")
    anonymous, stranger = browser(app), browser(app, "stranger@example.org")
    for trigger in ("open", "decide", "no_such_step"):
        page = anonymous.get(url + "/transition", params={"trigger": trigger}, status=302)
        assert page.location.startswith("http://localhost/login")
    pages = [stranger.get(url + "/transition", params={"trigger": t}, status=403)
             for t in ("open", "decide", "no_such_step")]
    assert len({p.html.find("main").get_text() for p in pages}) == 1  # the same page, whatever was asked
    assert "Call 5" not in pages[0].text
    token = pages[0].html.find("input", attrs={"name": "csrf_token"})["value"]
    stranger.post(url + "/transition?trigger=open", {"csrf_token": token, "fire": "fire"}, status=403)
    anonymous.post(url + "/transition?trigger=open", {"csrf_token": "x", "fire": "fire"}, status=400)  # no session
    with registry.database.transaction() as (_tm, db):
        assert db.get(Round, _round_id).state == "draft"


def test_a_step_someone_just_took_is_a_conflict_and_an_unknown_step_is_not_found(app, registry):
    url, round_id = draft_round(registry, "leila@example.org", "omar@example.org")
    with registry.database.transaction() as (_tm, db):
        rnd = db.get(Round, round_id)
        rnd.opens_at, rnd.closes_at = f.now() - dt.timedelta(days=1), f.now() + dt.timedelta(days=9)
    leila, omar = browser(app, "leila@example.org"), browser(app, "omar@example.org")
    leilas = leila.get(url + "/transition", params={"trigger": "open"}).forms["transition"]
    omars = omar.get(url + "/transition", params={"trigger": "open"}).forms["transition"]
    leilas.submit("fire", status=302)
    refused = omars.submit("fire", status=409)
    assert_conflict_page(refused, url + "/")
    assert "It was already done: “Open the round”" in refused.text
    assert "It was already done" in omar.get(url + "/transition", params={"trigger": "open"}, status=409).text
    omar.get(url + "/transition", params={"trigger": "decide"}, status=404)  # not possible now, nobody just did it
    omar.get(url + "/transition", params={"trigger": "no_such_step"}, status=404)
    # A page drawn before another change of the round (its title) is overtaken too.
    closing = omar.get(url + "/transition", params={"trigger": "close"}).forms["transition"]
    form = f.main_form(leila.get(url + "/edit"))
    form["title"] = "Call 5 (Kebili)"
    form.submit("submit", status=302)
    assert_conflict_page(closing.submit("fire", status=409), url + "/")
    with registry.database.transaction() as (_tm, db):
        assert db.get(Round, round_id).state == "open"
        opens = db.scalars(select(HistoryEntry).where(HistoryEntry.object_id == round_id,
                                                      HistoryEntry.object_type == "rounds",
                                                      HistoryEntry.trigger == "open")).all()
        assert len(opens) == 1


def test_a_row_changed_before_the_commit_is_the_conflict_page_with_a_working_layout(settings, registry):
    """A view that changes a row without flushing, while someone else changes it: the
    stale UPDATE is found only when the request ends — still the 409 page, which reads the
    signed-in person's name from a session rolled back, not a 500."""
    from pyramid.response import Response

    from grants import make_config

    url, round_id = draft_round(registry, "leila@example.org")
    config = make_config(settings)

    def rename_meanwhile(context, request):
        context.title = "Mine"  # not flushed
        with registry.database.transaction() as (_tm, db):  # another officer, committed first
            db.get(Round, round_id).title = "Theirs"
        return Response("renamed")  # nothing reads the database after the change: pyramid_tm would flush it

    config.add_view(rename_meanwhile, context=Round, name="rename-meanwhile", permission="programmes:round:manage")
    app = config.make_wsgi_app()
    leila = browser(app, "leila@example.org")
    page = leila.get(url + "/rename-meanwhile", status=409)
    assert_conflict_page(page, url + "/")
    assert page.html.find(id="logout-form") is not None and "Leila" in page.html.find(id="logout-form").get_text()
    with registry.database.transaction() as (_tm, db):
        assert db.get(Round, round_id).title == "Theirs"


# -- headers --------------------------------------------------------------------------------------------------


def test_pages_carry_a_strict_content_security_policy_and_signed_in_pages_are_not_stored(app, registry):
    url, _round_id = draft_round(registry, "leila@example.org")
    anonymous, leila = browser(app), browser(app, "leila@example.org")
    policy = dict(part.strip().split(" ", 1) for part in
                  anonymous.get("/").headers["Content-Security-Policy"].split(";"))
    assert policy == {"default-src": "'self'", "script-src": "'self'", "style-src": "'self'",
                      "img-src": "'self' data:", "object-src": "'none'", "frame-ancestors": "'none'",
                      "form-action": "'self'", "base-uri": "'none'"}
    assert "no-store" not in anonymous.get("/").headers.get("Cache-Control", "")
    for path, status in (("/", 200), (url + "/", 200), (url + "/edit", 200), ("/nowhere", 404)):
        response = leila.get(path, status=status)
        assert response.headers["Cache-Control"] == "no-store", path
        assert "Content-Security-Policy" in response.headers
    static = leila.get("/static/grants.css")
    assert "no-store" not in static.headers.get("Cache-Control", "") and "max-age" in static.headers["Cache-Control"]
    for template in ("layout.pt", "reporting/public_report.pt", "mel/report.pt"):
        text = (Path(__file__).resolve().parent.parent / "templates" / template).read_text()
        assert "<style" not in text and " style=" not in text and "<script" not in text, template


@pytest.mark.browser
def test_the_main_pages_break_no_rule_of_their_content_security_policy(live_server, page, registry):
    """The ``page`` fixture fails on any refusal Chromium reports; this walks the pages
    the journeys may not reach: forms of every kind, diagrams, charts, the 409 page."""
    url, ids = an_award(registry)
    with registry.database.transaction() as (_tm, db):
        from grants.reporting.public import publish_report

        publish_report(db, db.get(Round, ids["round"]), user=None)
    page.goto(live_server + "/login")
    page.get_by_label("E-mail address").fill("leila@example.org")
    page.get_by_label("Password").fill(f.PASSWORD)
    page.get_by_role("button", name="Sign in").last.click()
    page.wait_for_load_state()
    round_url = live_server + ids["round_url"]
    for path in ("/", "/workflows", "/tasks", round_url + "/", round_url + "/edit", round_url + "/tiers",
                 round_url + "/@@public-report", round_url + "/@@public-report-settings", live_server + url + "/",
                 live_server + url + "/@@amend", live_server + url + "/@@schedule", live_server + url + "/@@budget",
                 live_server + url + "/@@framework", live_server + url + f"/reports/{ids['report']}/",
                 round_url + "/transition?trigger=decide"):
        response = page.goto(path if path.startswith("http") else live_server + path)
        assert response.status == 200, path
    # The 409 page, with its table and the form again.
    page.goto(live_server + url + "/@@amend")
    page.locator("#amend input[name=row_version]").evaluate("input => input.value = '0'")
    page.get_by_label("Reason").fill("A fifth school.")
    with page.expect_navigation():
        page.locator("#amend button[type=submit]").click()
    assert page.locator("h1").inner_text() == CONFLICT


def test_two_members_editing_one_section_of_an_application_and_another_editing_another(app, registry):
    with registry.database.transaction() as (_tm, db):
        amel = f.user(db, email="amel@example.org", name="Amel")
        sami = f.user(db, email="sami@example.org", name="Sami")
        org = f.organisation(db, amel, sami, name="AFEK")
        rnd = f.round_(db, registry)
        application = f.application(db, registry, rnd, org)
        url = f"/programmes/{rnd.programme_id}/rounds/{rnd.id}/applications/{application.id}"
    amel_app, sami_app = browser(app, "amel@example.org"), browser(app, "sami@example.org")
    amels = amel_app.get(url + "/section/organisation").forms["section"]
    samis = sami_app.get(url + "/section/organisation").forms["section"]
    samis_project = sami_app.get(url + "/section/project").forms["section"]
    amels["staff"] = "5"
    amels.submit("continue", status=302)
    samis_project.submit("continue", status=302)  # another section: no conflict with Amel's save
    samis["staff"] = "7"
    refused = samis.submit("continue", status=409)
    assert_conflict_page(refused, url + "/")
    assert differences(refused) == {"How many paid staff does it have?": ("7", "5")}
    assert refused.forms["section"]["staff"].value == "7"
    with registry.database.transaction() as (_tm, db):
        from grants.applications.models import Application

        assert db.get(Application, application.id).answers["organisation"]["staff"] == 5
