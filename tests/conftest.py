"""Test fixtures: a real database (SQLite by default, PostgreSQL when
GRANTS_TEST_DATABASE_URL says so), built by running the Alembic migrations, emptied
after every test; the real app through WebTest."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
import transaction
from sqlalchemy import text

from grants.db import Base, Database
from grants.models import import_all_models

ROOT = Path(__file__).resolve().parent.parent

import_all_models()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    url = os.environ.get("GRANTS_TEST_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite'}"


@pytest.fixture(scope="session")
def database(database_url) -> Database:
    from alembic import command

    from grants.migrations import alembic_config

    db = Database({"sqlalchemy.url": database_url})
    if db.engine.dialect.name == "postgresql":
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    command.upgrade(alembic_config({"sqlalchemy.url": database_url}), "heads")
    yield db
    db.engine.dispose()


def empty_tables(db: Database) -> None:
    with db.engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())


@pytest.fixture(autouse=True)
def _clean_database(request):
    yield
    if "database" in request.fixturenames:
        empty_tables(request.getfixturevalue("database"))
    transaction.manager.abort()


@pytest.fixture
def settings(database, database_url, tmp_path) -> dict:
    return {
        "sqlalchemy.url": database_url,
        "grants.database": database,  # one engine for the whole run
        "grants.secret": "test-secret",
        "grants.plugins": "",
        "mail.backend": "maildir",
        "mail.maildir": str(tmp_path / "mail"),
        "mail.sender": "grants@test",
        "pyramid.default_locale_name": "en",
        "grants.files_dir": str(tmp_path / "files"),  # uploaded files, one folder per test
    }


@pytest.fixture
def config(settings):
    from grants import make_config

    return make_config(settings)


@pytest.fixture
def registry(config):
    return config.registry


@pytest.fixture
def app(settings):
    from grants import make_app

    return make_app(settings)


@pytest.fixture
def testapp(app):
    import webtest

    return webtest.TestApp(app, extra_environ={"HTTP_HOST": "localhost"})


@pytest.fixture
def db(registry):
    """A session in one transaction, committed when the test ends.  Tests that need
    several transactions use ``with registry.database.transaction() as (tm, session):``."""
    scope = registry.database.transaction()
    tm, session = scope.__enter__()
    yield session
    scope.__exit__(None, None, None)


# -- a real HTTP server and a real browser -----------------------------------------------

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-quic"]


@pytest.fixture
def live_server(app):
    """The app on waitress, on a free port on localhost, for the length of a test."""
    import threading

    from waitress.server import create_server

    server = create_server(app, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.effective_port}"
    server.close()
    thread.join(5)


@pytest.fixture(scope="session")
def chromium():
    if not Path(CHROMIUM).exists():
        if os.environ.get("GRANTS_REQUIRE_BROWSER"):
            pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium")
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium):
    context = chromium.new_context()
    pg = context.new_page()
    pg.set_default_timeout(15000)
    yield pg
    context.close()
