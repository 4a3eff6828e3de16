"""Applications to a round: the multi-section form (``formdefs``), the services that
fill, check and submit it (``services``), and the applicant's pages (``views``)."""


def includeme(config):
    from .eligibility import add_eligibility_rule_kind, core_rule_kinds
    from .formdefs import SHIPPED, application_forms

    application_forms(config.registry)  # there from the start, for plugins and scripts
    for form in SHIPPED:
        config.add_application_form(form)
    config.add_directive("add_eligibility_rule_kind", add_eligibility_rule_kind)
    for kind in core_rule_kinds():  # grants' own kinds, through the directive plugins use
        config.add_eligibility_rule_kind(kind.kind, kind.check, kind.title, kind.normalise, kind.describe)
    config.scan(".builder_views")  # the form builder: a programme's forms, their drafts, previews, files
    config.scan(".views")  # the task list, sections, attachments, check your answers, withdraw
    config.include(".eligibility_views")  # screening pages
