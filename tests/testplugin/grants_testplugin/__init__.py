"""Uses every directive of the grants plugin API once, in ways the tests can observe."""
import colander

from grants.security import Permission

SUBMIT_EFFECT_CALLS = []


def refuse_placeholder_titles(ctx):
    if "PLACEHOLDER" in ctx.obj.title:
        return "Replace the placeholder title before submitting."
    return None


def remember_submission(ctx):
    SUBMIT_EFFECT_CALLS.append(ctx.obj.id)
    mailer = ctx.env.request.registry.mailer if ctx.env.request else None
    if mailer is not None:
        msg = mailer.message("officer@example.org", f"Submitted: {ctx.obj.title}", "A new application arrived.")
        mailer.send_after_commit(msg, transaction_manager=ctx.env.transaction_manager)


class WithdrawalForm(colander.MappingSchema):
    why = colander.SchemaNode(colander.String(), title="Why are you withdrawing?",
                              validator=colander.Length(min=3))


def includeme(config):
    config.add_workflow("grants_testplugin:workflows/referral.toml")
    config.insert_workflow_step(
        "application", after="submitted", before="eligible",
        state={"id": "reference_check", "title": "Reference check", "public": "Being checked",
               "permissions": {
                   "applications:application:view": ["applicant", "programme_officer", "admin"],
                   "applications:application:screen": ["programme_officer"],
                   "applications:application:withdraw": ["applicant"],
               }},
        trigger="pass_reference_check", title="Pass the reference check",
        permission=Permission.ApplicationsApplicationScreen,
    )
    config.add_workflow_transition("round", "reopen", from_="closed", to="open",
                                   permission=Permission.ProgrammesRoundManage, title="Reopen the round")
    config.add_workflow_state("round", {
        "id": "suspended", "title": "Suspended", "public": "Temporarily suspended",
        "permissions": {"programmes:round:view": ["anyone"],
                        "programmes:round:manage": ["programme_officer", "admin"]}})
    config.add_workflow_transition("round", "suspend", from_="open", to="suspended",
                                   permission=Permission.ProgrammesRoundManage, title="Suspend the round",
                                   comment_required=True)
    config.add_workflow_transition("round", "resume", from_="suspended", to="open",
                                   permission=Permission.ProgrammesRoundManage, title="Resume the round")
    config.add_workflow_guard("application", "submit", refuse_placeholder_titles)
    config.add_workflow_effect("application", "submit", remember_submission)
    config.add_workflow_transition("application", "withdraw", from_="reference_check", to="withdrawn",
                                   permission=Permission.ApplicationsApplicationWithdraw,
                                   title="Withdraw the application", form=None)
    config.add_workflow_form("application", WithdrawalForm, transition="withdraw")
    config.override_template("grants.templates:home.pt", "grants_testplugin:templates/home.pt")
    config.add_translations("grants_testplugin:locale")
    # Its own data (grants_testplugin.votes), with migrations on a branch of its own.
    from grants_testplugin import votes  # noqa: F401

    config.add_migrations("grants_testplugin:migrations")
