"""Workflow variants edited in the browser: copy, change, check and diagram on each save,
release as an immutable version that other processes load, choose it for a round, and
move in-flight applications onto it with an explicit confirmation."""
from __future__ import annotations

import copy
import shlex

import webtest
from sqlalchemy import func, insert, select
from zope.sqlalchemy import mark_changed

from grants import make_app, make_config
from grants.audit.services import changes_of
from grants.applications.models import Application
from grants.lifecycle.models import HistoryEntry
from grants.programmes import services as programmes
from grants.programmes.models import Round
from grants.testing import build_site, make_application, sign_in
from grants.workflow_editor import services, views
from grants.workflow_editor.models import WorkflowVersion
from test_cli import grants, write_ini
from grants.testing import Statements


def _copy(testapp, new_id="application_panel", source="application:1", title="Application with a panel"):
    page = testapp.get("/workflow-editor")
    form = page.forms["copy-workflow"]
    form["source"] = source
    form["workflow_id"] = new_id
    form["title"] = title
    return form.submit()


def _add_panel_step(testapp, url):
    """A state "panel" between eligible and selected, reached by a new step."""
    page = testapp.get(url)
    form = page.forms["state-form"]
    form["id"] = "panel"
    form["title-en"] = "Before the panel"
    form["title-ar"] = "أمام اللجنة"
    form["title-fr"] = "Devant le comité"
    form["like"] = "eligible"
    page = form.submit("action", value="save_state").follow()
    form = page.forms["step-form"]
    form["trigger"] = "to_panel"
    form["title-en"] = "Send to the panel"
    form["title-ar"] = "إحالة إلى اللجنة"
    form["from"] = ["eligible"]  # webtest: tick by value
    form["to"] = "panel"
    form["permission"] = "applications:application:decide"
    return form.submit("action", value="save_step").follow()


def _tick(form, name, value):
    for field in form.fields[name]:
        if field._value == value:
            field.checked = True
            return
    raise AssertionError(f"no {name}={value}")


def test_an_admin_copies_edits_checks_and_releases_a_variant(testapp, app):
    registry = app.registry
    site = build_site(registry)
    sign_in(testapp, site.admin.email)
    page = _copy(testapp).follow()
    assert page.request.path == "/workflow-editor/application_panel/1"
    assert "draft" in page.html.select_one("h1").parent.get_text()
    assert page.html.select_one("#diagram svg") is not None
    assert "No problems" in page.html.select_one("#check").get_text()

    # A new state no step reaches: the check says so on the next page, with the diagram.
    form = page.forms["state-form"]
    form["id"] = "panel"
    form["title-en"] = "Before the panel"
    form["title-ar"] = "أمام اللجنة"
    form["like"] = "eligible"
    page = form.submit("action", value="save_state").follow()
    check = page.html.select_one("#check").get_text()
    assert "unreachable" in check and "panel" in check
    assert "panel" in page.html.select_one("#diagram svg").get_text()
    # …and it cannot be released like that.
    page = page.forms["release"].submit("action", value="release", status=400)
    assert "before releasing" in page.html.select_one(".error-summary").get_text()

    # A step into it and one out of it: now it checks, and is released.
    page = testapp.get("/workflow-editor/application_panel/1")
    form = page.forms["step-form"]
    form["trigger"] = "to_panel"
    form["title-en"] = "Send to the panel"
    form["title-ar"] = "إحالة إلى اللجنة"
    _tick(form, "from", "eligible")
    form["to"] = "panel"
    form["permission"] = "applications:application:decide"
    page = form.submit("action", value="save_step").follow()
    form = page.forms["step-form"]
    form["trigger"] = "panel_done"
    form["title-en"] = "Back from the panel"
    _tick(form, "from", "panel")
    form["to"] = "eligible"
    form["permission"] = "applications:application:decide"
    page = form.submit("action", value="save_step").follow()
    # The panel state lets officers screen (copied from "eligible"), so nobody is stuck.
    assert "No problems" in page.html.select_one("#check").get_text(), page.html.select_one("#check").get_text()
    page = page.forms["release"].submit("action", value="release").follow()
    assert "released" in page.html.select_one(".badge").get_text()
    assert page.html.select_one("#state-form") is None  # a released version is never edited

    # The running process knows it; the round can choose it and new applications run it.
    assert ("application_panel", 1) in registry.workflows
    with registry.database.transaction() as (_tm, db):
        rnd = db.get(Round, site.round.id)
        options = [d.id for d in programmes.workflow_options(registry, rnd, "application")]
        assert "application_panel" in options
        programmes.choose_workflow(db, registry, rnd, "application", "application_panel")
    app_id = make_application(registry, site)
    with registry.database.transaction() as (_tm, db):
        assert db.get(Application, app_id).workflow_id == "application_panel"
        row = db.scalar(select(WorkflowVersion).where(WorkflowVersion.workflow_id == "application_panel"))
        whats = [c.what for c in changes_of(db, row)]
        assert whats == ["created", "state panel", "step to_panel", "step panel_done", "status"]
        assert changes_of(db, row)[1].after["titles"]["ar"] == "أمام اللجنة"

    # Titles typed per language are what the pages show in that language.
    page = testapp.get("/workflow-editor/application_panel/1?_LOCALE_=ar")
    assert "أمام اللجنة" in page.html.select_one("#states").get_text()

    # Another process (started afterwards) loads it at start-up.
    other = make_app(app.registry.settings)
    assert other is not None
    # A process started before the release loads it when first asked for it.
    config = make_config(dict(app.registry.settings))
    assert ("application_panel", 1) in config.registry.workflows
    assert config.registry.workflows.get("application_panel", 1).definition.states["panel"].title == "Before the panel"


def test_saving_makes_a_new_version_and_released_ones_stay_as_they_were(testapp, app):
    registry = app.registry
    site = build_site(registry)
    sign_in(testapp, site.admin.email)
    _copy(testapp)
    page = testapp.get("/workflow-editor/application_panel/1")
    page = page.forms["release"].submit("action", value="release").follow()
    page = page.forms["new-version"].submit("action", value="new_version").follow()
    assert page.request.path == "/workflow-editor/application_panel/2"
    form = page.forms["state-form"]
    form["id"] = "on_hold"
    form["title-en"] = "On hold"
    form["like"] = "eligible"
    form.submit("action", value="save_state").follow()
    with registry.database.transaction() as (_tm, db):
        v1, v2 = services.versions_of(db, "application_panel")
        assert "on_hold" not in v1.data["states"] and "on_hold" in v2.data["states"]
    # The released version refuses a change sent to it.
    page = testapp.get("/workflow-editor/application_panel/1")
    token = page.forms["new-version"]["csrf_token"].value
    page = testapp.post("/workflow-editor/application_panel/1",
                        {"csrf_token": token, "row_version": "2", "action": "remove_state", "state": "draft"},
                        status=400)
    assert "never changed" in page.html.select_one(".error-summary").get_text()


def test_bad_input_is_refused_beside_the_field_and_changes_nothing(testapp, app):
    site = build_site(app.registry)
    sign_in(testapp, site.admin.email)
    page = testapp.get("/workflow-editor")
    form = page.forms["copy-workflow"]
    form["workflow_id"] = "application"
    form["title"] = ""
    page = form.submit(status=400)
    text = page.html.select_one(".error-summary").get_text()
    assert "exists already" in text and "Give the workflow a title" in text
    _copy(testapp)
    page = testapp.get("/workflow-editor/application_panel/1")
    form = page.forms["step-form"]
    form["trigger"] = "submit"  # already leaves draft
    form["title-en"] = "Again"
    _tick(form, "from", "draft")
    form["to"] = "submitted"
    page = form.submit("action", value="save_step", status=400)
    assert "already leaves" in page.html.select_one(".error-summary").get_text()
    assert page.forms["step-form"]["title-en"].value == "Again"  # what was typed comes back
    # Tampered choices are refused, never a 500.
    token = page.forms["step-form"]["csrf_token"].value
    page = testapp.post("/workflow-editor/application_panel/1", {
        "csrf_token": token, "row_version": "1", "action": "save_step", "trigger": "x", "title-en": "X",
        "from": "nowhere", "to": "draft", "permission": "site:admin", "guards": "os:system"}, status=400)
    text = page.html.select_one(".error-summary").get_text()
    assert "Choose the states it leaves" in text and "Choose guards from the list" in text
    testapp.set_cookie("grants_lang", "fr")
    page = testapp.get("/workflow-editor/application_panel/1")
    form = page.forms["state-form"]
    form["id"] = "draft"
    form["title-en"] = "x"
    page = form.submit("action", value="save_state", status=400)
    assert "Il existe déjà un état" in page.html.select_one(".error-summary").get_text()
    with app.registry.database.transaction() as (_tm, db):
        row = services.versions_of(db, "application_panel")[0]
        assert [c.what for c in changes_of(db, row)] == ["created"]


def test_two_admins_saving_the_same_draft_one_gets_a_409(testapp, app):
    site = build_site(app.registry)
    sign_in(testapp, site.admin.email)
    _copy(testapp)
    other = webtest.TestApp(app, extra_environ={"HTTP_HOST": "localhost"})
    sign_in(other, site.admin.email)
    mine = testapp.get("/workflow-editor/application_panel/1").forms["state-form"]
    theirs = other.get("/workflow-editor/application_panel/1").forms["state-form"]
    theirs["id"] = "theirs"
    theirs["title-en"] = "Theirs"
    theirs["like"] = "eligible"
    theirs.submit("action", value="save_state").follow()
    mine["id"] = "mine"
    mine["title-en"] = "Mine"
    page = mine.submit("action", value="save_state", status=409)
    assert "Someone else changed this first" in page.text
    with app.registry.database.transaction() as (_tm, db):
        row = services.versions_of(db, "application_panel")[0]
        assert "theirs" in row.data["states"] and "mine" not in row.data["states"]


def test_a_programme_officer_may_look_but_not_edit(testapp, app):
    site = build_site(app.registry)
    sign_in(testapp, site.admin.email)
    _copy(testapp)
    officer = webtest.TestApp(app, extra_environ={"HTTP_HOST": "localhost"})
    sign_in(officer, site.officer.email)
    page = officer.get("/workflow-editor/application_panel/1")
    assert "step-form" not in page.forms and page.html.select_one("#diagram svg") is not None
    assert "copy-workflow" not in officer.get("/workflow-editor").forms
    member = webtest.TestApp(app, extra_environ={"HTTP_HOST": "localhost"})
    sign_in(member, site.member.email)
    member.get("/workflow-editor", status=403)


def test_moving_a_rounds_applications_shows_the_map_and_needs_a_confirmation(testapp, app):
    registry = app.registry
    site = build_site(registry)
    draft_id = make_application(registry, site, title="Still a draft")
    submitted_id = make_application(registry, site, title="Sent in", state="submitted")
    sign_in(testapp, site.admin.email)
    _copy(testapp)
    page = testapp.get("/workflow-editor/application_panel/1")
    # "submitted" is renamed: the new state "sent" means what it meant.
    form = page.forms["state-form"]
    form["id"] = "sent"
    form["title-en"] = "Sent"
    _tick(form, "means", "submitted")
    form["like"] = "submitted"
    page = form.submit("action", value="save_state").follow()
    with registry.database.transaction() as (_tm, db):
        row = services.versions_of(db, "application_panel")[0]
        data = copy.deepcopy(row.data)  # re-routed as the step form would, every step at once
        for t in data["transitions"]:
            t["from"] = ["sent" if s == "submitted" else s for s in t["from"]]
            if t["to"] == "submitted":
                t["to"] = "sent"
        del data["states"]["submitted"]
        row.data = data
    page = testapp.get("/workflow-editor/application_panel/1")
    assert "No problems" in page.html.select_one("#check").get_text(), page.html.select_one("#check").get_text()
    page.forms["release"].submit("action", value="release").follow()

    page = testapp.get(f"/workflow-editor/application_panel/1/move?from=application:1&round={site.round.id}")
    rows = {tr.select_one("code").get_text(): tr for tr in page.html.select("#state-map tbody tr")}
    assert set(rows) == {"draft", "submitted"}
    assert rows["submitted"].select_one("option[selected]")["value"] == "sent"  # by meaning
    assert rows["draft"].select_one("option[selected]")["value"] == "draft"  # by id
    assert "Sent in" in rows["submitted"].get_text() and rows["submitted"].select_one(".count").get_text() == "1"

    # Without the confirmation nothing moves.
    page = page.forms["move-form"].submit("action", value="move", status=400)
    assert "nothing was moved" in page.html.select_one(".error-summary").get_text()
    with registry.database.transaction() as (_tm, db):
        assert db.get(Application, submitted_id).workflow_id == "application"

    form = page.forms["move-form"]
    form["confirm"].checked = True
    page = form.submit("action", value="move").follow()
    assert "Moved 2 objects to version 1." in page.text
    with registry.database.transaction() as (_tm, db):
        moved = db.get(Application, submitted_id)
        assert (moved.workflow_id, moved.workflow_version, moved.state) == ("application_panel", 1, "sent")
        assert db.get(Application, draft_id).state == "draft"
        entry = db.scalars(select(HistoryEntry).where(HistoryEntry.object_id == submitted_id,
                                                      HistoryEntry.trigger == "migrate")).one()
        assert (entry.from_state, entry.to_state, entry.workflow_id, entry.workflow_version, entry.user_id) == (
            "submitted", "sent", "application_panel", 1, site.admin.id)
        row = services.versions_of(db, "application_panel")[0]
        change = changes_of(db, row)[-1]
        assert change.what == "moved objects" and change.after["counts"] == {"draft": 1, "submitted": 1}
    # The application's own page still works on its new workflow, and its history shows the move.
    page = testapp.get(f"/programmes/{site.programme.id}/rounds/{site.round.id}/applications/{submitted_id}")
    assert page.status_code == 200


def test_renaming_a_state_of_a_draft_re_points_its_steps_and_the_first_state(testapp, app):
    registry = app.registry
    site = build_site(registry)
    sign_in(testapp, site.admin.email)
    _copy(testapp)
    url = "/workflow-editor/application_panel/1"
    with registry.database.transaction() as (_tm, db):
        before = copy.deepcopy(services.versions_of(db, "application_panel")[0].data)
    touching = [t["trigger"] for t in before["transitions"] if "submitted" in t["from"] or t["to"] == "submitted"]
    assert {"submit", "return_for_changes", "confirm_eligible", "resubmit"} <= set(touching)

    # The state's page offers its id to change; "submitted" becomes "sent".
    page = testapp.get(f"{url}?state=submitted")
    form = page.forms["state-form"]
    assert form["id"].value == "submitted"
    form["id"] = "sent"
    page = form.submit("action", value="save_state").follow()
    assert "Saved the state “sent”." in page.text
    assert "No problems" in page.html.select_one("#check").get_text(), page.html.select_one("#check").get_text()
    with registry.database.transaction() as (_tm, db):
        row = services.versions_of(db, "application_panel")[0]
        data = row.data
        assert "submitted" not in data["states"] and data["states"]["sent"]["means"] == ["submitted"]
        assert list(data["states"]).index("sent") == list(before["states"]).index("submitted")  # keeps its place
        for old, new in zip(before["transitions"], data["transitions"]):
            assert new["from"] == ["sent" if s == "submitted" else s for s in old["from"]]
            assert new["to"] == ("sent" if old["to"] == "submitted" else old["to"])
            assert (new["guards"], new["effects"]) == (old["guards"], old["effects"])
        change = changes_of(db, row)[-1]
        assert change.what == "state submitted renamed sent"
        assert (change.before["id"], change.after["id"]) == ("submitted", "sent")

    # The first state too; the diagram and the check follow.
    page = testapp.get(f"{url}?state=draft")
    form = page.forms["state-form"]
    form["id"] = "started"
    page = form.submit("action", value="save_state").follow()
    assert "started" in page.html.select_one("#diagram svg").get_text()
    with registry.database.transaction() as (_tm, db):
        row = services.versions_of(db, "application_panel")[0]
        assert row.data["initial"] == "started"
        assert services.to_definition(row).initial == "started"

    # An id another state has, or one that is not an id, is refused beside the field.
    for typed, message in (("eligible", "There is already a state “eligible”."),
                           ("Not An Id", "Write the id in lower-case letters")):
        page = testapp.get(f"{url}?state=sent")
        form = page.forms["state-form"]
        form["id"] = typed
        refused = form.submit("action", value="save_state", status=400)
        assert message in refused.html.select_one(".error-summary").get_text()
        assert refused.forms["state-form"]["id"].value == typed  # as typed
    with registry.database.transaction() as (_tm, db):
        row = services.versions_of(db, "application_panel")[0]
        assert "sent" in row.data["states"] and "eligible" in row.data["states"]
        # The same through the service, with a released version refused outright.
        try:
            services.save_state(db, registry, row, {"id": "eligible", "titles": {"en": "Sent"}}, state_id="sent")
        except services.WorkflowEditRefused as refused:
            assert refused.problems[0][0] == "state-id"
        else:
            raise AssertionError("a clash was accepted")


def _workflow_choices(page) -> dict[str, str]:
    return {o["value"]: o.get_text() for o in page.html.select("select[name=application_workflow] option")}


def test_a_round_pins_a_released_version_and_keeps_running_it_after_a_newer_release(testapp, app):
    registry = app.registry
    site = build_site(registry)
    sign_in(testapp, site.admin.email)
    _copy(testapp)
    page = testapp.get("/workflow-editor/application_panel/1")
    page = page.forms["release"].submit("action", value="release").follow()
    page.forms["new-version"].submit("action", value="new_version").follow()  # v2, a draft
    page = testapp.get("/workflow-editor/application_panel/2?state=submitted")
    form = page.forms["state-form"]
    form["id"] = "sent"
    form.submit("action", value="save_state").follow()

    # The round's list offers the released version by number, never the draft.
    edit_url = f"/programmes/{site.programme.id}/rounds/{site.round.id}/edit"
    page = testapp.get(edit_url)
    choices = _workflow_choices(page)
    assert choices["application_panel:1"] == "Application with a panel, version 1 (application_panel)"
    assert "application_panel:2" not in choices and "application_panel" not in choices
    form = page.forms["round"]
    form["application_workflow"] = "application_panel:1"
    form.submit("save").follow()
    with registry.database.transaction() as (_tm, db):
        rnd = db.get(Round, site.round.id)
        assert (rnd.workflow_choices, rnd.workflow_pins) == ({"application": "application_panel"}, {"application": 1})
        change = [c for c in changes_of(db, rnd) if c.what == "workflow"][-1]
        assert change.after == {"family": "application", "workflow": "application_panel", "version": 1}

    # Version 2 is released; the round's new applications still run version 1.
    page = testapp.get("/workflow-editor/application_panel/2")
    assert "No problems" in page.html.select_one("#check").get_text()
    page.forms["release"].submit("action", value="release").follow()
    app_id = make_application(registry, site)
    with registry.database.transaction() as (_tm, db):
        made = db.get(Application, app_id)
        assert (made.workflow_id, made.workflow_version) == ("application_panel", 1)
    page = testapp.get(edit_url)
    choices = _workflow_choices(page)
    assert {"application_panel:1", "application_panel:2"} <= set(choices)
    assert page.html.select_one("select[name=application_workflow] option[selected]")["value"] == "application_panel:1"
    setup = testapp.get(f"/programmes/{site.programme.id}/rounds/{site.round.id}/setup")
    assert setup.status_code == 200

    # A version that does not exist is refused with a sentence, through the form and the service.
    form = page.forms["round"]
    form["application_workflow"].force_value("application_panel:7")
    refused = form.submit("save", status=400)
    assert "a version not released yet cannot be chosen" in refused.html.select_one(".error-summary").get_text()
    with registry.database.transaction() as (_tm, db):
        rnd = db.get(Round, site.round.id)
        try:
            programmes.choose_workflow(db, registry, rnd, "application", "application_panel", version=7)
        except programmes.ProgrammeRefused as refused:
            assert "has no released version 7" in str(refused.problems[0][1].interpolate())
        else:
            raise AssertionError("a pin to a missing version was accepted")
        assert rnd.workflow_pins == {"application": 1}
        # Back to the newest version: the pin goes.
        programmes.choose_workflow(db, registry, rnd, "application", "application")
        assert (rnd.workflow_choices, rnd.workflow_pins) == ({"application": "application"}, {})


def _copies(registry, application_id: int, n: int) -> None:
    """``n`` copies of an application's row in its round, made in one statement: many
    objects to move without making each one as a member would."""
    with registry.database.transaction() as (_tm, db):
        table = Application.__table__
        row = {k: v for k, v in db.execute(select(table).where(table.c.id == application_id)).mappings().one().items()
               if k != "id"}
        db.execute(insert(table), [row] * n)
        mark_changed(db)


def _release_a_copy(testapp):
    _copy(testapp)
    page = testapp.get("/workflow-editor/application_panel/1")
    page.forms["release"].submit("action", value="release").follow()


def test_the_move_page_counts_the_objects_and_names_the_first_at_any_size(testapp, app):
    registry = app.registry
    site = build_site(registry)
    sent_in = make_application(registry, site, title="Sent in", state="submitted")
    _copies(registry, sent_in, 29)
    sign_in(testapp, site.admin.email)
    _release_a_copy(testapp)
    urls = [f"/workflow-editor/application_panel/1/move?from=application:1&round={site.round.id}",
            "/workflow-editor/application_panel/1/move?from=application:1"]  # every round

    def measure():
        pages, sent = [], []
        for url in urls:
            testapp.get(url)  # once to warm what a process keeps
            with Statements(registry.database.engine) as statements:
                pages.append(testapp.get(url))
            sent.append(statements.sent)
        return pages, sent

    def shown(page):
        row = page.html.select_one("#state-map tbody tr")
        assert row.select_one("code").get_text() == "submitted"
        return row.select_one(".count").get_text(), len(row.select("li a")), row.select_one(".more").get_text().strip()

    few_pages, few = measure()
    assert [shown(p) for p in few_pages] == [("30", 20, "and 10 more")] * 2
    _copies(registry, sent_in, 570)
    many_pages, many = measure()
    assert [shown(p) for p in many_pages] == [("600", 20, "and 580 more")] * 2
    assert [len(s) for s in few] == [len(s) for s in many], (few, many)
    # The counts and the versions in use come from the triggers' counters, not the rows.
    assert any("FROM workflow_state_counts" in s for s in many[0]), many[0]
    assert not [s for s in many[0] if "count(" in s.lower() and "FROM applications" in s], many[0]


def test_above_the_limit_the_page_moves_nothing_and_gives_the_command_that_does(testapp, app, monkeypatch,
                                                                                tmp_path, database_url):
    import factories as f

    monkeypatch.setattr(views, "MOVE_IN_REQUEST", 25)
    registry = app.registry
    site = build_site(registry)
    draft_id = make_application(registry, site, title="Still a draft")
    sent_in = make_application(registry, site, title="Sent in", state="submitted")
    _copies(registry, sent_in, 29)
    with registry.database.transaction() as (_tm, db):  # another round's, which stays where it is
        elsewhere = f.application(db, registry, f.round_(db, registry, title="Round 2"), f.organisation(db),
                                  state="submitted").id
    sign_in(testapp, site.admin.email)
    _release_a_copy(testapp)

    page = testapp.get(f"/workflow-editor/application_panel/1/move?from=application:1&round={site.round.id}")
    notice = page.html.select_one("#move-in-batches")
    assert "31 objects are to move: more than this page moves at once (25)" in notice.get_text()
    command = notice.select_one("#move-command").get_text()
    assert command == ("grants workflow migrate INI application --from 1 --to application_panel:1 "
                       f"--map draft=draft --map submitted=submitted --round {site.round.id} --batch 500")
    assert "confirm" not in page.forms["move-form"].fields  # nothing to tick: the page will not move them

    # Posted all the same (an old form, a script), it moves nothing and says why.
    page = testapp.post(f"/workflow-editor/application_panel/1/move?round={site.round.id}",
                        {"csrf_token": page.forms["move-form"]["csrf_token"].value, "from": "application:1",
                         "round": str(site.round.id), "action": "move", "confirm": "yes"}, status=400)
    assert "31 objects are to move" in page.html.select_one(".error-summary").get_text()
    assert page.html.select_one("#move-command").get_text() == command
    with registry.database.transaction() as (_tm, db):
        assert db.scalar(select(func.count()).select_from(Application).where(
            Application.workflow_id == "application_panel")) == 0

    # The command, as the page gives it, moves the round's applications batch by batch.
    ini = write_ini(tmp_path / "t.ini", database_url)
    args = shlex.split(command)
    assert args[:3] == ["grants", "workflow", "migrate"] and args[3] == "INI"
    proc = grants(*args[1:3], str(ini), *args[4:])
    assert "moved 31 objects from application v1 to application_panel v1" in proc.stdout, proc.stdout
    with registry.database.transaction() as (_tm, db):
        rows = db.execute(select(Application.id, Application.workflow_id, Application.state)
                          .where(Application.round_id == site.round.id)).all()
        assert len(rows) == 31 and {(wf, state) for _id, wf, state in rows} == {
            ("application_panel", "draft"), ("application_panel", "submitted")}
        assert db.get(Application, draft_id).state == "draft"
        assert db.get(Application, elsewhere).workflow_id == "application"  # --round: only that round
        moved = db.execute(select(HistoryEntry.object_id, func.count()).where(HistoryEntry.trigger == "migrate")
                           .group_by(HistoryEntry.object_id)).all()
        assert sorted(object_id for object_id, _n in moved) == sorted(i for i, _wf, _s in rows)
        assert {n for _id, n in moved} == {1}
    # Nothing is left on the old version in that round: the page says there is nothing to move.
    page = testapp.get(f"/workflow-editor/application_panel/1/move?from=application:1&round={site.round.id}")
    assert "No object is there to move." in page.text
