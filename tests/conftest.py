"""The core suite's fixtures: the public ones of grants.testing (loaded by pytest through
grants' ``pytest11`` entry point) under the short names these tests use.  The database
also has the tables of the test plugin (tests/testplugin), which tests enable one by one."""
from __future__ import annotations

import pytest
import transaction

from grants.models import import_all_models
from grants.testing import CHROMIUM, CHROMIUM_ARGS, empty_tables  # noqa: F401 - for tests that import them

import_all_models()


@pytest.fixture(scope="session")
def grants_database_plugins() -> list[str]:
    from importlib.metadata import entry_points

    return ["testplugin"] if any(ep.name == "testplugin" for ep in entry_points(group="grants.plugins")) else []


@pytest.fixture(autouse=True)
def _abort_thread_transaction():
    yield
    transaction.manager.abort()


@pytest.fixture(scope="session")
def database_url(grants_database_url) -> str:
    return grants_database_url


@pytest.fixture(scope="session")
def database(grants_database):
    return grants_database


@pytest.fixture
def settings(grants_settings) -> dict:
    return grants_settings


@pytest.fixture
def config(grants_config):
    return grants_config


@pytest.fixture
def registry(grants_registry):
    return grants_registry


@pytest.fixture
def app(grants_app):
    return grants_app


@pytest.fixture
def testapp(grants_testapp):
    return grants_testapp


@pytest.fixture
def db(grants_db):
    return grants_db


@pytest.fixture
def live_server(grants_live_server):
    return grants_live_server


@pytest.fixture(scope="session")
def chromium(grants_chromium):
    return grants_chromium


@pytest.fixture
def page(grants_page):
    """The browser page of every journey, which also checks that no page breaks its
    Content-Security-Policy (Chromium reports each refusal on the console)."""
    refused = []
    grants_page.on("console", lambda message: refused.append(message.text)
                   if "Content Security Policy" in message.text else None)
    yield grants_page
    assert refused == [], refused
