"""Monitoring, evaluation and learning: results frameworks, reporting periods and
reports, survey instruments and their waves, and triangulation evidence."""


def includeme(config):
    from .surveys import INSTRUMENTS_DIR, add_survey_instrument

    config.add_directive("add_survey_instrument", add_survey_instrument)
    for path in sorted(INSTRUMENTS_DIR.glob("*.toml")):  # grants' own, as a plugin adds its
        config.add_survey_instrument(str(path))
    config.include(".views")
    config.include(".survey_views")
    config.include(".instrument_editor")
