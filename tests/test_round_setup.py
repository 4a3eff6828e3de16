"""A round's set-up checklist: each task with its status and a link to the page that sets
it; the call cannot open — from the page, the transition or ``grants tick`` — while a
required task is not completed, and the refusal names every one in the reader's language;
a plugin adds tasks to the rounds of its programmes only."""
from __future__ import annotations

import datetime as dt

import pytest
import webtest

import factories as f
from grants import make_app, make_config
from grants.lifecycle.services import WorkflowService, tick
from grants.programmes import services as programmes
from grants.programmes import setup
from grants.programmes.models import Round
from grants.workflow import Refused
from grants.workflow.engine import plain

LONDON = "Europe/London"


def _draft(registry, *, dates=True, budget=False, officer=True, title="Call 7"):
    """A draft round of a GBP programme: with dates (and a budget, an officer) as asked.
    Returns (programme id, round id)."""
    with registry.database.transaction() as (_tm, db):
        prog = programmes.create_programme(db, title="City Youth Fund", currency="GBP")
        if officer:
            f.grant_role(db, f.user(db, email="leila@example.org", name="Leila", locale="en"),
                         "programme_officer", prog)
        opens = f.now() + dt.timedelta(days=2) if dates else None
        rnd = programmes.create_round(db, registry, prog, title=title, timezone=LONDON, opens_at=opens,
                                      closes_at=opens + dt.timedelta(days=30) if dates else None,
                                      budget=f.money(250_000) if budget else None, actor=f.SYSTEM)
        return prog.id, rnd.id


def _statuses(page) -> dict[str, str]:
    return {li["id"].removeprefix("setup-"): li.find(class_="status").get_text(strip=True)
            for li in page.html.find(id="setup-tasks").find_all("li")}


def test_each_task_has_a_status_from_the_rounds_own_settings(registry):
    _prog_id, round_id = _draft(registry, officer=False)
    with registry.database.transaction() as (_tm, db):
        rnd = db.get(Round, round_id)
        statuses = {s.task.name: (s.status, s.label) for s in setup.checklist(registry, rnd)}
        assert statuses == {
            "dates": ("completed", "completed"), "budget": ("not_started", "not_started"),
            "tiers": ("not_started", "optional"), "funders": ("not_started", "optional"),
            "form": ("completed", "completed"), "rubric": ("not_started", "optional"),
            "eligibility": ("not_started", "optional"), "people": ("not_started", "optional"),
            "workflow": ("completed", "completed"), "public_report": ("not_started", "optional")}
        assert [t.name for t in setup.missing(registry, rnd)] == ["budget"]
        rnd.closes_at = rnd.opens_at  # a round that closes as it opens has not finished its dates
        rnd.application_form_version = "no-such-form"  # a form no longer installed
        assert setup.checklist(registry, rnd)[0].status == "incomplete"
        assert [t.name for t in setup.missing(registry, rnd)] == ["dates", "budget", "form"]


def test_opening_an_incomplete_round_is_refused_with_everything_missing(registry):
    _prog_id, round_id = _draft(registry, dates=False)
    with registry.database.transaction() as (_tm, db):
        rnd = db.get(Round, round_id)
        with pytest.raises(Refused) as refused:
            WorkflowService(registry.workflows, db).fire(rnd, "open", actor=f.SYSTEM)
        assert rnd.state == "draft"
        assert "Complete the round's set-up first: Dates and time zone, Budget." in [plain(r) for r in
                                                                                     refused.value.reasons]


def test_grants_tick_does_not_open_an_incomplete_round(registry):
    _prog_id, round_id = _draft(registry)
    outcomes = tick(registry.database, registry.workflows, now=f.now() + dt.timedelta(days=3))
    (outcome,) = [o for o in outcomes if o.object_id == round_id and o.trigger == "open"]
    assert outcome.result.startswith("refused") and "Budget" in outcome.result
    with registry.database.transaction() as (_tm, db):
        assert db.get(Round, round_id).state == "draft"


def test_the_officer_completes_the_checklist_and_opens_the_call_from_it(testapp, registry):
    prog_id, round_id = _draft(registry)
    f.sign_in(testapp, "leila@example.org")
    url = f"/programmes/{prog_id}/rounds/{round_id}"
    round_page = testapp.get(url)
    # While the round is a draft its page sends officers to the checklist, first in its menu too.
    assert "4 of 10 tasks" in " ".join(round_page.html.find(id="setup-summary").get_text().split())
    assert round_page.html.find(id="round-work").find("a")["href"].endswith("/setup")
    page = round_page.click(linkid="setup-link")
    assert page.html.title.get_text(strip=True) == "Set up the round — \u2068Call 7\u2069"
    statuses = _statuses(page)
    assert statuses["dates"] == "Completed" and statuses["budget"] == "Not started"
    assert statuses["people"] == "Completed" and statuses["rubric"] == "Optional"
    links = {li["id"]: li.find("a")["href"] for li in page.html.find(id="setup-tasks").find_all("li")}
    assert links["setup-budget"].endswith(f"{url}/edit") and links["setup-tiers"].endswith(f"{url}/tiers")
    assert links["setup-funders"].endswith(f"/programmes/{prog_id}/add-funder")
    assert links["setup-people"].endswith(f"{url}/people")
    assert page.html.find(id="open-call") is None
    assert [li.get_text(strip=True) for li in page.html.find(id="setup-missing").find_all("li")] == ["Budget"]

    # The transition page says the same, and firing anyway changes nothing.
    transition = testapp.get(f"{url}/transition", params={"trigger": "open"})
    assert "Complete the round's set-up first: Budget." in transition.text

    # Set the budget where the checklist points; the call can then open from the checklist.
    form = f.main_form(testapp.get(links["setup-budget"]))
    form["budget"] = "250,000"
    form.submit("submit").follow()
    page = testapp.get(f"{url}/setup")
    assert _statuses(page)["budget"] == "Completed" and page.html.find(id="setup-missing") is None
    fire = f.main_form(page.click(linkid="open-call"))
    done = fire.submit("fire").follow()
    assert "Done: Open the round." in done.text
    with registry.database.transaction() as (_tm, db):
        assert db.get(Round, round_id).state == "open"
    after = testapp.get(f"{url}/setup")
    assert after.html.find(id="setup-done") is not None and after.html.find(id="open-call") is None
    assert testapp.get(url).html.find(id="setup-summary") is None


@pytest.mark.parametrize("lang, expected", [
    ("fr", "Terminez d'abord la configuration de l'appel : Dates et fuseau horaire et Budget."),
    ("ar", "أكمل إعداد الجولة أولاً: التواريخ والمنطقة الزمنية والميزانية."),
])
def test_the_refusal_lists_what_is_missing_in_the_readers_language(testapp, registry, lang, expected):
    prog_id, round_id = _draft(registry, dates=False)
    f.sign_in(testapp, "leila@example.org")
    testapp.set_cookie("grants_lang", lang)
    url = f"/programmes/{prog_id}/rounds/{round_id}"
    page = testapp.get(f"{url}/transition", params={"trigger": "open"})
    assert expected in " ".join(page.html.get_text(" ").split())
    assert page.html.find("form", id="transition") is None  # nothing to fire
    with registry.database.transaction() as (_tm, db):
        assert db.get(Round, round_id).state == "draft"


def test_the_checklist_is_for_the_rounds_managers_only(testapp, registry):
    prog_id, round_id = _draft(registry, budget=True)
    with registry.database.transaction() as (_tm, db):
        f.user(db, email="someone@example.org")
    assert "/login" in testapp.get(f"/programmes/{prog_id}/rounds/{round_id}/setup", status=302).location
    f.sign_in(testapp, "someone@example.org")
    testapp.get(f"/programmes/{prog_id}/rounds/{round_id}/setup", status=403)


def test_a_plugin_adds_a_task_to_its_programmes_rounds_only(settings):
    pytest.importorskip("grants_testplugin")
    app = make_app({**settings, "grants.plugins": "testplugin"})
    registry = app.registry
    with registry.database.transaction() as (_tm, db):
        officer = f.user(db, email="officer@example.org")
        plugin_prog = programmes.create_programme(db, title="Municipal fund", currency="EUR", plugins=["testplugin"],
                                                  registry=registry)
        plain_prog = programmes.create_programme(db, title="Plain fund", currency="EUR", registry=registry)
        ids = {}
        for prog in (plugin_prog, plain_prog):
            f.grant_role(db, officer, "programme_officer", prog)
            opens = f.now() + dt.timedelta(days=1)
            rnd = programmes.create_round(db, registry, prog, title="PLACEHOLDER call", timezone=LONDON,
                                          opens_at=opens, closes_at=opens + dt.timedelta(days=9),
                                          budget=f.money(1000, "EUR"), actor=f.SYSTEM)
            ids[prog.title] = (prog.id, rnd.id)
        assert "real_title" in [t.name for t in setup.setup_tasks(registry, plugin_prog)]
        assert "real_title" not in [t.name for t in setup.setup_tasks(registry, plain_prog)]
    testapp = webtest.TestApp(app, extra_environ={"HTTP_HOST": "localhost"})
    f.sign_in(testapp, "officer@example.org")
    prog_id, round_id = ids["Municipal fund"]
    page = testapp.get(f"/programmes/{prog_id}/rounds/{round_id}/setup")
    assert _statuses(page)["real_title"] == "Incomplete"
    assert [li.get_text(strip=True) for li in page.html.find(id="setup-missing").find_all("li")] == [
        "Give the round its real title"]
    prog_id, round_id = ids["Plain fund"]
    page = testapp.get(f"/programmes/{prog_id}/rounds/{round_id}/setup")
    assert "real_title" not in _statuses(page) and page.html.find(id="open-call") is not None


def test_a_plugin_task_needs_a_name_of_its_own(settings):
    from grants.plugins import PluginError

    config = make_config(settings)
    with pytest.raises(PluginError, match="grants has a task of that name"):
        setup.add_setup_task(config, "budget", "Budget again", lambda rnd, registry: "completed", "edit")
