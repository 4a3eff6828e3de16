"""Pages (filled in by the awards work)."""


def includeme(config):
    config.scan(__name__)
