"""Pages for survey instruments, uploads and triangulation evidence."""


def includeme(config):
    config.scan(__name__)
