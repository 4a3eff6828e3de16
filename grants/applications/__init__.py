"""Applications to a round: the multi-section form (``formdefs``), the services that
fill, check and submit it (``services``), and the applicant's pages (``views``)."""


def includeme(config):
    from .formdefs import SHIPPED, application_forms

    application_forms(config.registry)  # there from the start, for plugins and scripts
    for form in SHIPPED:
        config.add_application_form(form)
    config.scan(".views")  # the task list, sections, attachments, check your answers, withdraw
    config.include(".eligibility_views")  # screening pages
