"""The fund's application workflow, a variant of grants' own that its programmes choose
(``grants.programmes.services.choose_workflow``): after the panel's decision with the
funder's reference, due diligence is not optional.

    eligible --select (decision, reference)--> due_diligence_checks --pass_due_diligence--> selected
                                                                   --fail_due_diligence--> declined

"Selected" is what an award is made from, so no grant is made before the checks are passed.
The decision is recorded, and the applicant told, when the panel decides.
"""
from __future__ import annotations

from translationstring import TranslationStringFactory

from grants.security import Permission

_ = TranslationStringFactory("grants")

APPLICATION = "shared_endeavour_application"
CHECKS = "due_diligence_checks"
DECISION_FORM = "grants.review.forms:DecisionSchema"
DECISION_EFFECTS = ("grants.review.effects:record_decision", "grants.applications.effects:notify_applicant")


def include_workflow(config) -> None:
    config.add_workflow_variant(APPLICATION, base="application",
                                title="Application with due diligence before every grant")
    config.insert_workflow_step(
        APPLICATION, after="eligible", before="selected", reroute=["select"], run_rerouted_effects="before_step",
        state={"id": CHECKS, "title": "Approved: due diligence", "public": "Approved — checks before the grant",
               "means": ["due_diligence"],
               "permissions": {
                   "applications:application:view": ["applicant", "programme_officer", "admin"],
                   "applications:application:decide": ["programme_officer"],
               }},
        trigger="pass_due_diligence", title="Pass due diligence",
        permission=Permission.ApplicationsApplicationDecide)
    config.add_workflow_transition(
        APPLICATION, "fail_due_diligence", from_=CHECKS, to="declined", title="Fail due diligence",
        permission=Permission.ApplicationsApplicationDecide, comment_required=True, form=DECISION_FORM,
        effects=DECISION_EFFECTS, destructive=True)  # a refusal: shown apart from the everyday steps


# The labels above are shown through the catalogs at run time; listed here so that the
# plugin's catalog carries them.
LABELS = (_("Application with due diligence before every grant"), _("Approved: due diligence"),
          _("Approved — checks before the grant"), _("Pass due diligence"), _("Fail due diligence"))
