"""Public reporting: each round's public report (aggregates only, small cells
suppressed, in every language) and the open-data exports (360Giving, IATI)."""


def includeme(config):
    from .public import add_report_section

    config.add_directive("add_report_section", add_report_section)
    config.include(".views")
