"""Pages (filled in by the mel work)."""


def includeme(config):
    config.scan(__name__)
