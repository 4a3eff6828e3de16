"""Pages (filled in by the evaluation work)."""


def includeme(config):
    config.scan(__name__)
