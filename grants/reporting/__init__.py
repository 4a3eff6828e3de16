"""Public reporting: each round's public report (aggregates only, small cells
suppressed, in every language) and the open-data exports (360Giving, IATI)."""


def includeme(config):
    config.include(".views")
