"""Uses every directive of the grants plugin API at least once, in ways the tests can
observe.  Everything it changes lives in workflows it owns (a variant of the shipped
application and round workflows), so programmes that do not use it are untouched."""
import colander

from grants.applications.formdefs import ApplicationForm, AttachmentSpec, Section
from grants.security import Permission

SUBMIT_EFFECT_CALLS = []

APPLICATION = "testplugin_application"
ROUND = "testplugin_round"


def refuse_placeholder_titles(ctx):
    if "PLACEHOLDER" in ctx.obj.title:
        return "Replace the placeholder title before submitting."
    return None


def remember_submission(ctx):
    SUBMIT_EFFECT_CALLS.append(ctx.obj.id)
    mailer = ctx.env.request.registry.mailer if ctx.env.request else None
    if mailer is not None:
        msg = mailer.message("officer@example.org", f"Submitted: {ctx.obj.title}", "A new application arrived.")
        mailer.send_after_commit(msg, transaction_manager=ctx.env.transaction_manager, dbsession=ctx.env.dbsession)


def round_has_a_real_title(rnd, registry):
    """A set-up task: a round still called PLACEHOLDER cannot open."""
    return "incomplete" if "PLACEHOLDER" in rnd.title else "completed"


class WithdrawalForm(colander.MappingSchema):
    why = colander.SchemaNode(colander.String(), title="Why are you withdrawing?",
                              validator=colander.Length(min=3))


class ProjectQuestions(colander.MappingSchema):
    summary = colander.SchemaNode(colander.String(), title="What will you do?",
                                  validator=colander.Length(max=2000))


REFERENCE_FORM = ApplicationForm(
    version="testplugin-2026", title="Test plugin application form", stage="application",
    sections=(Section("project", "Describe your project", ProjectQuestions,
                      attachments=(AttachmentSpec("reference_letter", "A letter of reference"),)),),
    title_field=None,
)


def load_demo(registry, out, now):
    """The plugin's demo (config.add_demo): one programme using it and running its
    variants (the reference check inserted before review), and a referee."""
    from grants.demo import tools
    from grants.programmes.services import choose_workflow, create_programme

    referee = tools.DemoPerson("referee@testplugin.example.org", "Rita Referee", "en", "referee (test plugin)")
    with registry.database.transaction() as (_tm, db):
        if tools.programme_exists(db, "Test plugin programme"):
            print("  already loaded", file=out)
            return [referee]
        tools.make_people(db, [referee])
        programme = create_programme(db, title="Test plugin programme", currency="EUR", plugins=["testplugin"],
                                     registry=registry)
        choose_workflow(db, registry, programme, "application", APPLICATION)
        choose_workflow(db, registry, programme, "round", ROUND)
    print("  one programme", file=out)
    return [referee]


def site_visit_done(tranche):
    """The test plugin's tranche condition: released once an officer visited the grantee."""
    if "site visited" not in (tranche.award.title or ""):
        return "Visit the grantee first, then note it in the award's title."
    return None


PANEL_CRITERIA = [{"id": "merit", "title": "Merit", "weight": "1",
                   "labels": {str(n): f"Merit {n}" for n in range(1, 6)}}]


def includeme(config):
    config.add_workflow("grants_testplugin:workflows/referral.toml")
    config.add_workflow_permission("testplugin:reference:check")
    config.add_role("referee", title="Referee")

    config.add_workflow_variant(APPLICATION, base="application", title="Application with a reference check")
    config.insert_workflow_step(
        APPLICATION, after="submitted", before="eligible", reroute=["confirm_eligible"],
        state={"id": "reference_check", "title": "Reference check", "public": "Being checked",
               "permissions": {
                   "applications:application:view": ["applicant", "programme_officer", "referee", "admin"],
                   "testplugin:reference:check": ["referee", "programme_officer"],
                   "applications:application:withdraw": ["applicant"],
               }},
        trigger="pass_reference_check", title="Pass the reference check",
        permission="testplugin:reference:check",
    )
    config.add_workflow_guard(APPLICATION, "submit", refuse_placeholder_titles)
    config.add_workflow_effect(APPLICATION, "submit", remember_submission)
    config.add_workflow_transition(APPLICATION, "withdraw", from_="reference_check", to="withdrawn",
                                   permission=Permission.ApplicationsApplicationWithdraw,
                                   title="Withdraw the application", form=None)
    config.add_workflow_form(APPLICATION, WithdrawalForm, transition="withdraw")

    config.add_workflow_variant(ROUND, base="round", title="Round that can be suspended")
    config.add_workflow_transition(ROUND, "reopen", from_="closed", to="open",
                                   permission=Permission.ProgrammesRoundManage, title="Reopen the round")
    config.add_workflow_state(ROUND, {
        "id": "suspended", "title": "Suspended", "public": "Temporarily suspended",
        "permissions": {"programmes:round:view": ["anyone"],
                        "programmes:round:manage": ["programme_officer", "admin"]}})
    config.add_workflow_transition(ROUND, "suspend", from_="open", to="suspended",
                                   permission=Permission.ProgrammesRoundManage, title="Suspend the round",
                                   comment_required=True)
    config.add_workflow_transition(ROUND, "resume", from_="suspended", to="open",
                                   permission=Permission.ProgrammesRoundManage, title="Resume the round")

    config.add_application_form(REFERENCE_FORM)
    # The site's home page, everywhere; the round page only in programmes using the plugin.
    config.override_template("grants.templates:home.pt", "grants_testplugin:templates/home.pt", everywhere=True)
    config.override_template("grants.templates:programmes/round.pt", "grants_testplugin:templates/round.pt")
    config.add_translations("grants_testplugin:locale")
    # Its own data (grants_testplugin.votes), with migrations on a branch of its own.
    from grants_testplugin import votes  # noqa: F401

    config.add_migrations("grants_testplugin:migrations")
    config.add_demo(load_demo, title="Test plugin demo")
    config.add_rubric("Test plugin panel", PANEL_CRITERIA)
    config.add_capacity_areas(["Bookkeeping", "Volunteering"])
    config.add_tranche_condition("site_visit", "A site visit is done", site_visit_done)
    config.add_setup_task("real_title", "Give the round its real title", round_has_a_real_title, "edit",
                          required=True)
