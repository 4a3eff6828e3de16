"""The plugin API, through the test plugin in tests/testplugin (installed by the README's
test command): every directive takes effect, only in the programmes that use the plugin,
and plugins that misbehave are stopped with a message naming them."""
from __future__ import annotations

import pytest
import webtest

import factories as f
from grants import StartupError, make_app, make_config
from grants.lifecycle.services import WorkflowService
from grants.programmes import services as programmes
from grants.programmes.models import Programme
from grants.workflow import Actor, EffectFailed, Refused

grants_testplugin = pytest.importorskip(
    "grants_testplugin", reason="install it: pip install -e tests/testplugin (the README's test command does)"
)

OFFICER = Actor("staff:officer", frozenset({"programme_officer"}))
APPLICATION, ROUND = grants_testplugin.APPLICATION, grants_testplugin.ROUND


@pytest.fixture
def plugin_settings(settings):
    return {**settings, "grants.plugins": "testplugin"}


@pytest.fixture
def plugin_registry(plugin_settings):
    return make_config(plugin_settings).registry


def plugin_programme(db, registry, **choices) -> Programme:
    """A programme that uses the test plugin and runs its variants."""
    prog = programmes.create_programme(db, title="Municipal fund", currency="EUR", plugins=["testplugin"],
                                       registry=registry)
    for family, variant in (choices or {"application": APPLICATION, "round": ROUND}).items():
        programmes.choose_workflow(db, registry, prog, family, variant)
    return prog


def test_add_workflow_registers_the_plugins_definition(plugin_registry):
    referral = plugin_registry.workflows.get("referral")
    assert referral.definition.source.endswith("grants_testplugin/workflows/referral.toml")
    assert set(referral.definition.states) == {"received", "assessed", "closed"}
    assert referral.definition.origin == "testplugin"


def test_a_variant_changes_only_itself(plugin_registry):
    base = plugin_registry.workflows.get("application").definition
    variant = plugin_registry.workflows.get(APPLICATION).definition
    assert "reference_check" not in base.states and base.extensions == ()
    assert variant.family == "application" and variant.origin == "testplugin"
    assert variant.transition("confirm_eligible", "submitted").dest == "reference_check"
    assert variant.transition("pass_reference_check", "reference_check").dest == "eligible"
    assert any("testplugin: insert step 'reference_check'" in e for e in variant.extensions)
    assert [d.id for d in plugin_registry.workflows.variants("application")] == ["application", APPLICATION]


def test_the_programme_using_the_plugin_runs_its_step_and_the_other_does_not(plugin_registry):
    with plugin_registry.database.transaction() as (_tm, db):
        org = f.organisation(db, f.user(db))
        theirs = f.round_(db, plugin_registry, plugin_programme(db, plugin_registry))
        other = f.round_(db, plugin_registry, f.programme(db, title="Another programme"))
        assert (theirs.workflow_id, other.workflow_id) == (ROUND, "round")
        mine = f.application(db, plugin_registry, theirs, org, state="submitted")
        plain = f.application(db, plugin_registry, other, org, state="submitted")
        service = WorkflowService(plugin_registry.workflows, db)
        service.fire(mine, "confirm_eligible", actor=OFFICER)
        service.fire(plain, "confirm_eligible", actor=OFFICER)
        assert (mine.state, plain.state) == ("reference_check", "eligible")
        service.fire(mine, "pass_reference_check", actor=OFFICER)
        assert mine.state == "eligible"


def test_a_programme_can_only_choose_variants_of_plugins_it_uses(plugin_registry):
    with plugin_registry.database.transaction() as (_tm, db):
        prog = f.programme(db, title="Not using the plugin")
        with pytest.raises(programmes.ProgrammeRefused, match="Choose a workflow this programme's plugins offer"):
            programmes.choose_workflow(db, plugin_registry, prog, "application", APPLICATION)


def test_add_workflow_transition_lets_an_officer_reopen_a_closed_round(plugin_registry):
    with plugin_registry.database.transaction() as (_tm, db):
        rnd = f.round_(db, plugin_registry, plugin_programme(db, plugin_registry))
        service = WorkflowService(plugin_registry.workflows, db)
        service.fire(rnd, "close", actor=OFFICER)
        service.fire(rnd, "reopen", actor=OFFICER)
        assert rnd.state == "open"


def test_add_workflow_state_lets_an_officer_suspend_and_resume_a_round(plugin_registry):
    d = plugin_registry.workflows.get(ROUND).definition
    assert d.states["suspended"].public_title == "Temporarily suspended"
    with plugin_registry.database.transaction() as (_tm, db):
        rnd = f.round_(db, plugin_registry, plugin_programme(db, plugin_registry))
        service = WorkflowService(plugin_registry.workflows, db)
        service.fire(rnd, "suspend", actor=OFFICER, comment="fraud investigation")
        assert rnd.state == "suspended"
        service.fire(rnd, "resume", actor=OFFICER)
        assert rnd.state == "open"


def test_add_workflow_guard_and_effect_apply_to_submit(plugin_registry):
    grants_testplugin.SUBMIT_EFFECT_CALLS.clear()
    with plugin_registry.database.transaction() as (_tm, db):
        org = f.organisation(db, f.user(db))
        rnd = f.round_(db, plugin_registry, plugin_programme(db, plugin_registry))
        placeholder = f.application(db, plugin_registry, rnd, org, title="PLACEHOLDER title")
        service = WorkflowService(plugin_registry.workflows, db)
        with pytest.raises(Refused, match="Replace the placeholder title"):
            service.fire(placeholder, "submit", actor=f.SYSTEM)
        real = f.application(db, plugin_registry, rnd, org, title="Youth centre in Gabès")
        service.fire(real, "submit", actor=f.SYSTEM)
        assert grants_testplugin.SUBMIT_EFFECT_CALLS == [real.id]
        # Elsewhere the guard does not apply.
        elsewhere = f.application(db, plugin_registry, f.round_(db, plugin_registry), org, title="PLACEHOLDER")
        service.fire(elsewhere, "submit", actor=f.SYSTEM)
        assert grants_testplugin.SUBMIT_EFFECT_CALLS == [real.id]


def test_add_workflow_form_requires_the_form_to_withdraw(plugin_registry):
    wf = plugin_registry.workflows.get(APPLICATION)
    schema = wf.form_for_transition("withdraw")()
    assert [node.name for node in schema] == ["why"]
    with plugin_registry.database.transaction() as (_tm, db):
        applicant = f.user(db)
        rnd = f.round_(db, plugin_registry, plugin_programme(db, plugin_registry))
        app = f.application(db, plugin_registry, rnd, f.organisation(db, applicant))
        service = WorkflowService(plugin_registry.workflows, db)
        with pytest.raises(Refused, match="needs its form filled in"):
            service.fire(app, "withdraw", applicant)
        record = service.fire(app, "withdraw", applicant, data={"why": "we merged with another association"})
        assert app.state == "withdrawn" and record.data_digest is not None


def test_add_role_and_add_workflow_permission_are_known_to_the_workflows(plugin_registry):
    from grants.plugins import roles

    assert "referee" in plugin_registry.workflows.roles
    assert "testplugin:reference:check" in plugin_registry.workflows.permissions
    assert roles(plugin_registry)["referee"].origin == "testplugin"
    with plugin_registry.database.transaction() as (_tm, db):
        referee = f.user(db)
        prog = plugin_programme(db, plugin_registry)
        f.grant_role(db, referee, "referee", prog)
        rnd = f.round_(db, plugin_registry, prog)
        app = f.application(db, plugin_registry, rnd, f.organisation(db, f.user(db)), state="submitted")
        service = WorkflowService(plugin_registry.workflows, db)
        service.fire(app, "confirm_eligible", actor=OFFICER)
        service.fire(app, "pass_reference_check", referee)  # the referee acts themselves
        assert app.state == "eligible"


def test_add_application_form_is_offered_to_the_plugins_programmes(plugin_registry):
    from grants.applications.formdefs import forms_of

    assert "testplugin-2026" in forms_of(plugin_registry)
    assert forms_of(plugin_registry).get("testplugin-2026").origin == "testplugin"


def test_plugin_effect_mails_once_the_submit_commits(plugin_settings):
    app = make_app(plugin_settings)
    registry = app.registry
    with registry.database.transaction() as (_tm, db):
        applicant = f.user(db, email="amel@example.org")
        rnd = f.round_(db, registry, plugin_programme(db, registry))
        application = f.application(db, registry, rnd, f.organisation(db, applicant), title="Ateliers de théâtre")
        url_parts = (application.round.programme_id, application.round_id, application.id)
    testapp = webtest.TestApp(app, extra_environ={"HTTP_HOST": "localhost"})
    f.sign_in(testapp, "amel@example.org")
    page = testapp.get("/programmes/%d/rounds/%d/applications/%d/transition?trigger=submit" % url_parts)
    assert registry.mailer.sent() == []
    f.main_form(page).submit("fire").follow()
    # The plugin's mail to the officer, beside grants' own receipt to the applicant.
    assert sorted((m["To"], m["Subject"]) for m in registry.mailer.sent()) == [
        ("amel@example.org", f"We received your application “Ateliers de théâtre” (A-{url_parts[2]:05d})"),
        ("officer@example.org", "Submitted: Ateliers de théâtre")]


def test_override_template_everywhere_and_add_translations(plugin_settings):
    testapp = webtest.TestApp(make_app(plugin_settings), extra_environ={"HTTP_HOST": "localhost"})
    page = testapp.get("/")
    assert "This home page comes from grants_testplugin." in page
    french = testapp.get("/", headers={"Cookie": "grants_lang=fr"})
    assert "Programmes de subventions (traduction du plugin)" in french


def test_override_template_applies_only_to_the_programmes_using_the_plugin(plugin_settings):
    app = make_app(plugin_settings)
    registry = app.registry
    with registry.database.transaction() as (_tm, db):
        theirs = f.round_(db, registry, plugin_programme(db, registry))
        other = f.round_(db, registry, f.programme(db, title="Another programme"))
        urls = [f"/programmes/{r.programme_id}/rounds/{r.id}/" for r in (theirs, other)]
    testapp = webtest.TestApp(app, extra_environ={"HTTP_HOST": "localhost"})
    assert "This round page comes from grants_testplugin." in testapp.get(urls[0])
    assert "This round page comes from grants_testplugin." not in testapp.get(urls[1])


def test_without_the_plugin_nothing_changes(registry):
    d = registry.workflows.get("application").definition
    assert "reference_check" not in d.states and d.extensions == ()
    assert registry.workflows.versions("referral") == []
    assert registry.workflows.versions(APPLICATION) == []


# -- plugins that misbehave ---------------------------------------------------------------------


def test_two_plugins_changing_the_same_thing_everywhere_stop_start_up_naming_both(settings):
    with pytest.raises(StartupError) as err:
        make_config({**settings, "grants.plugins": "conflict_a conflict_b"})
    message = str(err.value)
    assert message.startswith("plugins conflict_a and conflict_b both override template grants.templates:home.pt")
    assert "\n" not in message


def test_two_plugins_changing_the_same_thing_in_one_programme_stop_start_up_naming_both(settings):
    both = {**settings, "grants.plugins": "scoped_a scoped_b"}
    registry = make_config(both).registry  # enabled side by side: fine
    with registry.database.transaction() as (_tm, db):
        with pytest.raises(programmes.ProgrammeRefused, match="plugins scoped_a and scoped_b both override"):
            programmes.create_programme(db, title="Both", currency="EUR", plugins=["scoped_a", "scoped_b"],
                                        registry=registry)
        programmes.create_programme(db, title="One", currency="EUR", plugins=["scoped_a"], registry=registry)
        sneaked = programmes.create_programme(db, title="Other", currency="EUR", plugins=["scoped_b"],
                                              registry=registry)
        sneaked.plugins = ["scoped_a", "scoped_b"]  # as a hand-edited database would have it
    with pytest.raises(StartupError) as err:
        make_app(both)
    message = str(err.value)
    assert "(Other)" in message and "plugins scoped_a and scoped_b both override template" in message


def test_a_plugin_changing_a_shipped_workflow_is_told_to_derive_a_variant(settings):
    with pytest.raises(StartupError) as err:
        make_config({**settings, "grants.plugins": "meddler"})
    message = str(err.value)
    assert "plugin meddler: cannot insert step 'vetting'" in message
    assert "that would change it for every programme" in message
    assert "config.add_workflow_variant('meddler_application', base='application')" in message


def test_an_effect_that_raises_rolls_the_whole_transition_back(settings):
    from sqlalchemy import func, select

    from grants.lifecycle.models import HistoryEntry

    registry = make_config({**settings, "grants.plugins": "failing_effect"}).registry
    with registry.database.transaction() as (_tm, db):
        prog = programmes.create_programme(db, title="Fragile", currency="EUR", plugins=["failing_effect"],
                                           registry=registry)
        programmes.choose_workflow(db, registry, prog, "application", "failing_effect_application")
        app = f.application(db, registry, f.round_(db, registry, prog), f.organisation(db, f.user(db)))
        app_id = app.id
        before = db.scalar(select(func.count()).select_from(HistoryEntry))
    with pytest.raises(EffectFailed) as err:
        with registry.database.transaction() as (_tm, db):
            WorkflowService(registry.workflows, db).fire(db.get(type(app), app_id), "submit", actor=f.SYSTEM)
    assert err.value.origin == "failing_effect"
    with registry.database.transaction() as (_tm, db):
        stored = db.get(type(app), app_id)
        assert (stored.state, stored.submitted_at) == ("draft", None)
        assert db.scalar(select(func.count()).select_from(HistoryEntry)) == before


def test_an_effect_that_raises_shows_a_clear_page_and_changes_nothing(settings):
    app = make_app({**settings, "grants.plugins": "failing_effect"})
    registry = app.registry
    with registry.database.transaction() as (_tm, db):
        applicant = f.user(db, email="nour@example.org")
        prog = programmes.create_programme(db, title="Fragile", currency="EUR", plugins=["failing_effect"],
                                           registry=registry)
        programmes.choose_workflow(db, registry, prog, "application", "failing_effect_application")
        application = f.application(db, registry, f.round_(db, registry, prog), f.organisation(db, applicant))
        url = "/programmes/%d/rounds/%d/applications/%d/" % (prog.id, application.round_id, application.id)
    testapp = webtest.TestApp(app, extra_environ={"HTTP_HOST": "localhost"})
    f.sign_in(testapp, "nour@example.org")
    page = testapp.get(url + "transition?trigger=submit")
    failed = f.main_form(page).submit("fire", status=500)
    assert "This step could not be completed" in failed
    assert "Nothing was changed" in failed
    assert "failing_effect" in failed  # who to tell
    assert registry.mailer.sent() == []
    with registry.database.transaction() as (_tm, db):
        assert db.get(type(application), application.id).state == "draft"


def test_disabling_a_plugin_whose_workflow_objects_still_run_names_them_and_the_way_out(plugin_settings, settings):
    app = make_app(plugin_settings)  # records which plugin provides which workflow
    registry = app.registry
    with registry.database.transaction() as (_tm, db):
        rnd = f.round_(db, registry, plugin_programme(db, registry))
        f.application(db, registry, rnd, f.organisation(db, f.user(db)))
    with pytest.raises(StartupError) as err:
        make_app(settings)  # the plugin is no longer enabled
    message = str(err.value)
    assert "workflow testplugin_application v1, which came from plugin 'testplugin', now not enabled" in message
    assert "enable 'testplugin' again in grants.plugins" in message
    assert "grants workflow migrate INI testplugin_application --from 1 --to application:N --map draft=STATE" \
        in message or "grants workflow migrate INI testplugin_round" in message


def test_a_plugin_naming_a_missing_workflow_stops_start_up(settings):
    with pytest.raises(StartupError, match="there is no workflow 'no_such_workflow'"):
        make_config({**settings, "grants.plugins": "broken"})


def test_an_enabled_plugin_that_is_not_installed_stops_start_up(settings):
    with pytest.raises(StartupError, match="plugin 'nope' is enabled in the settings but not installed"):
        make_config({**settings, "grants.plugins": "nope"})


def test_a_round_chooses_forms_and_workflows_only_from_its_programmes_plugins(plugin_settings):
    app = make_app(plugin_settings)
    registry = app.registry
    with registry.database.transaction() as (_tm, db):
        plain = f.programme(db, title="Plain")
        with pytest.raises(programmes.ProgrammeRefused, match="comes with a plugin this programme does not use"):
            programmes.create_round(db, registry, plain, title="R", application_form_version="testplugin-2026",
                                    actor=f.SYSTEM)
        officer = f.user(db, email="officer@example.org")
        theirs = programmes.create_programme(db, title="Municipal", currency="EUR", plugins=["testplugin"],
                                             registry=registry)
        f.grant_role(db, officer, "programme_officer", theirs)
        rnd = f.round_(db, registry, theirs)
        f.grant_role(db, officer, "programme_officer", plain)
        plain_round = f.round_(db, registry, plain)
        urls = [f"/programmes/{r.programme_id}/rounds/{r.id}/edit" for r in (rnd, plain_round)]
        ids = (theirs.id, rnd.id)
    testapp = webtest.TestApp(app, extra_environ={"HTTP_HOST": "localhost"})
    f.sign_in(testapp, "officer@example.org")
    plain_form = f.main_form(testapp.get(urls[1]))
    assert "application_workflow" not in plain_form.fields  # nothing to choose from
    assert [v for v, _s, _t in plain_form["application_form_version"].options] == ["", "general"]
    form = f.main_form(testapp.get(urls[0]))
    assert [v for v, _s, _t in form["application_workflow"].options] == ["application", APPLICATION]
    form["application_workflow"] = APPLICATION
    form.submit("submit").follow()
    with registry.database.transaction() as (_tm, db):
        from grants.programmes.models import Round

        rnd = db.get(Round, ids[1])
        assert rnd.workflow_choices == {"application": APPLICATION}
        assert f.application(db, registry, rnd, f.organisation(db, f.user(db))).workflow_id == APPLICATION
