from alembic import context

from grants.db import Base, get_engine
from grants.models import import_all_models

import_all_models()
config = context.config
settings = config.attributes.get("settings") or {"sqlalchemy.url": config.get_main_option("sqlalchemy.url")}


def run_migrations_offline():
    context.configure(url=settings["sqlalchemy.url"], target_metadata=Base.metadata, literal_binds=True,
                      render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = get_engine(settings)
    with engine.connect() as connection:
        _run(connection)
    engine.dispose()


def _run(connection):
    # render_as_batch: SQLite cannot ALTER most things; batch mode rebuilds tables there.
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True,
                      compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
