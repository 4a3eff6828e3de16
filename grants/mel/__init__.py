"""Monitoring, evaluation and learning: results frameworks, reporting periods and
reports, survey instruments and their waves, and triangulation evidence."""


def includeme(config):
    config.include(".views")
    config.include(".survey_views")
