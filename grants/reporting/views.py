"""Pages (filled in by the reporting work)."""


def includeme(config):
    config.scan(__name__)
