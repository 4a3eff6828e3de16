"""Every model module, imported so that metadata (and Alembic) sees every table."""


def import_all_models() -> None:
    import grants.accounts.models  # noqa: F401
    import grants.audit.models  # noqa: F401
    import grants.applications.models  # noqa: F401
    import grants.awards.models  # noqa: F401
    import grants.evaluation.models  # noqa: F401
    import grants.files.models  # noqa: F401
    import grants.incubation.models  # noqa: F401
    import grants.lifecycle.models  # noqa: F401
    import grants.mail  # noqa: F401 -- the outbox
    import grants.mel.models  # noqa: F401
    import grants.programmes.models  # noqa: F401
    import grants.review.models  # noqa: F401
    import grants.workflow_editor.models  # noqa: F401
