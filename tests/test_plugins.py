"""The plugin API, through the test plugin in tests/testplugin (installed by the README's
test command): every directive takes effect, and conflicts stop start-up by name."""
from __future__ import annotations


import pytest

import factories as f
from grants import StartupError, make_config
from grants.lifecycle.services import WorkflowService
from grants.workflow import Actor, Refused

grants_testplugin = pytest.importorskip(
    "grants_testplugin", reason="install it: pip install -e tests/testplugin (the README's test command does)"
)

OFFICER = Actor("staff:officer", frozenset({"programme_officer"}))


@pytest.fixture
def plugin_settings(settings):
    return {**settings, "grants.plugins": "testplugin"}


@pytest.fixture
def plugin_registry(plugin_settings):
    return make_config(plugin_settings).registry


def test_add_workflow_registers_the_plugins_definition(plugin_registry):
    referral = plugin_registry.workflows.get("referral")
    assert referral.definition.source.endswith("grants_testplugin/workflows/referral.toml")
    assert set(referral.definition.states) == {"received", "assessed", "closed"}


def test_insert_workflow_step_puts_reference_check_between_submitted_and_eligible(plugin_registry):
    d = plugin_registry.workflows.get("application").definition
    assert d.transition("confirm_eligible", "submitted").dest == "reference_check"
    assert d.transition("pass_reference_check", "reference_check").dest == "eligible"
    assert any("testplugin: insert step 'reference_check'" in e for e in d.extensions)
    with plugin_registry.database.transaction() as (_tm, db):
        app = f.application(db, plugin_registry, f.round_(db, plugin_registry), f.organisation(db, f.user(db)),
                            state="submitted")
        service = WorkflowService(plugin_registry.workflows, db)
        service.fire(app, "confirm_eligible", actor=OFFICER)
        assert app.state == "reference_check"
        service.fire(app, "pass_reference_check", actor=OFFICER)
        assert app.state == "eligible"


def test_add_workflow_transition_lets_an_officer_reopen_a_closed_round(plugin_registry):
    with plugin_registry.database.transaction() as (_tm, db):
        rnd = f.round_(db, plugin_registry)
        service = WorkflowService(plugin_registry.workflows, db)
        service.fire(rnd, "close", actor=OFFICER)
        service.fire(rnd, "reopen", actor=OFFICER)
        assert rnd.state == "open"


def test_add_workflow_state_lets_an_officer_suspend_and_resume_a_round(plugin_registry):
    d = plugin_registry.workflows.get("round").definition
    assert d.states["suspended"].public_title == "Temporarily suspended"
    with plugin_registry.database.transaction() as (_tm, db):
        rnd = f.round_(db, plugin_registry)
        service = WorkflowService(plugin_registry.workflows, db)
        service.fire(rnd, "suspend", actor=OFFICER, comment="fraud investigation")
        assert rnd.state == "suspended"
        service.fire(rnd, "resume", actor=OFFICER)
        assert rnd.state == "open"


def test_add_workflow_guard_and_effect_apply_to_submit(plugin_registry):
    grants_testplugin.SUBMIT_EFFECT_CALLS.clear()
    with plugin_registry.database.transaction() as (_tm, db):
        org = f.organisation(db, f.user(db))
        rnd = f.round_(db, plugin_registry)
        placeholder = f.application(db, plugin_registry, rnd, org, title="PLACEHOLDER title")
        service = WorkflowService(plugin_registry.workflows, db)
        with pytest.raises(Refused, match="Replace the placeholder title"):
            service.fire(placeholder, "submit", actor=f.SYSTEM)
        real = f.application(db, plugin_registry, rnd, org, title="Youth centre in Gabès")
        service.fire(real, "submit", actor=f.SYSTEM)
        assert grants_testplugin.SUBMIT_EFFECT_CALLS == [real.id]


def test_add_workflow_form_requires_the_form_to_withdraw(plugin_registry):
    wf = plugin_registry.workflows.get("application")
    schema = wf.form_for_transition("withdraw")()
    assert [node.name for node in schema] == ["why"]
    with plugin_registry.database.transaction() as (_tm, db):
        applicant = f.user(db)
        app = f.application(db, plugin_registry, f.round_(db, plugin_registry), f.organisation(db, applicant))
        service = WorkflowService(plugin_registry.workflows, db)
        with pytest.raises(Refused, match="needs its form filled in"):
            service.fire(app, "withdraw", applicant)
        record = service.fire(app, "withdraw", applicant, data={"why": "we merged with another association"})
        assert app.state == "withdrawn" and record.data_digest is not None


def test_plugin_effect_mails_once_the_submit_commits(plugin_settings):
    import webtest

    from grants import make_app

    app = make_app(plugin_settings)
    registry = app.registry
    with registry.database.transaction() as (_tm, db):
        applicant = f.user(db, email="amel@example.org")
        application = f.application(db, registry, f.round_(db, registry), f.organisation(db, applicant),
                                    title="Ateliers de théâtre")
        url_parts = (application.round.programme_id, application.round_id, application.id)
    testapp = webtest.TestApp(app, extra_environ={"HTTP_HOST": "localhost"})
    f.sign_in(testapp, "amel@example.org")
    page = testapp.get("/programmes/%d/rounds/%d/applications/%d/transition?trigger=submit" % url_parts)
    assert registry.mailer.sent() == []
    f.main_form(page).submit("fire").follow()
    assert [m["Subject"] for m in registry.mailer.sent()] == ["Submitted: Ateliers de théâtre"]


def test_override_template_and_add_translations(plugin_settings):
    import webtest

    from grants import make_app

    testapp = webtest.TestApp(make_app(plugin_settings), extra_environ={"HTTP_HOST": "localhost"})
    page = testapp.get("/")
    assert "This home page comes from grants_testplugin." in page
    french = testapp.get("/", headers={"Cookie": "grants_lang=fr"})
    assert "Programmes de subventions (traduction du plugin)" in french


def test_without_the_plugin_nothing_changes(registry):
    d = registry.workflows.get("application").definition
    assert "reference_check" not in d.states and d.extensions == ()
    assert registry.workflows.versions("referral") == []


def test_two_plugins_changing_the_same_thing_stop_start_up_naming_both(settings):
    with pytest.raises(StartupError) as err:
        make_config({**settings, "grants.plugins": "conflict_a conflict_b"})
    message = str(err.value)
    assert message.startswith("plugins conflict_a and conflict_b both insert step")
    assert "both insert step" in message and "'submitted' and 'eligible'" in message
    assert "\n" not in message


def test_a_plugin_naming_a_missing_workflow_stops_start_up(settings):
    with pytest.raises(StartupError, match="there is no workflow 'no_such_workflow'"):
        make_config({**settings, "grants.plugins": "broken"})


def test_an_enabled_plugin_that_is_not_installed_stops_start_up(settings):
    with pytest.raises(StartupError, match="plugin 'nope' is enabled in the settings but not installed"):
        make_config({**settings, "grants.plugins": "nope"})
