"""pytest fixtures for grants and for plugins' own test suites.

pytest loads this module wherever grants is installed (the ``pytest11`` entry point), so it
imports nothing of grants until a fixture runs, its fixtures are all named ``grants_*``, and
none of them acts on a test that does not ask for one.  What they give (docs/plugins.md,
"Testing your plugin", has more):

``grants_database``
    a real database, built once per run by the migrations (grants' and those of the plugins
    in ``grants_database_plugins``): SQLite in a temporary folder, or the PostgreSQL database
    named by ``GRANTS_TEST_DATABASE_URL`` (its schema, ``public`` unless the URL's
    search_path names another, is dropped and made anew).
    Every table is emptied after each test that used it.
``grants_settings``, ``grants_config``, ``grants_registry``, ``grants_app``, ``grants_testapp``
    the app's settings with the plugins of ``grants_plugins`` enabled, its configuration, the
    WSGI app (``make_app``) and a WebTest app on it.
``grants_db``
    a session in one transaction, committed when the test ends.
``grants_site``
    a small site, built in well under a second without the demo (:func:`build_site`).
``grants_live_server``, ``grants_chromium``, ``grants_page``
    the app on waitress on a free port, Debian's Chromium (skipped where it is missing,
    unless ``GRANTS_REQUIRE_BROWSER`` is set) and a Playwright page in it.
``grants_empty_database_url``
    a database of its own with nothing in it, for tests of migrations.
:func:`migration_differences`
    ``[]`` when a plugin's models and the tables its migrations made agree.
:class:`Statements`
    the SQL statements an engine sends while a block runs, to check that a page or a
    step costs the same number at any size of data.

Override ``grants_plugins`` (session scope) in a conftest.py to enable plugins.
"""
from __future__ import annotations

import contextlib
import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-quic"]
#: Everyone in :func:`build_site` signs in with this.
PASSWORD = "correct horse battery staple"
SECRET = "test-secret"


# -- the database ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def grants_plugins() -> list[str]:
    """The plugins the settings enable (entry-point names).  Override it in your conftest.py::

        @pytest.fixture(scope="session")
        def grants_plugins():
            return ["my_plugin"]
    """
    return []


@pytest.fixture(scope="session")
def grants_database_plugins(grants_plugins) -> list[str]:
    """The plugins whose migrations build the database: by default those enabled."""
    return list(grants_plugins)


@pytest.fixture(scope="session")
def grants_database_url(tmp_path_factory) -> str:
    url = os.environ.get("GRANTS_TEST_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite'}"


@pytest.fixture(scope="session")
def grants_database(grants_database_url, grants_database_plugins):
    """The test database, upgraded to every head once for the whole run."""
    from grants import migrations
    from grants.db import Database

    db = Database({"sqlalchemy.url": grants_database_url})
    if db.engine.dialect.name == "postgresql":
        from sqlalchemy import text

        with db.engine.begin() as conn:
            # The schema the URL works in: public, or the one its search_path names.
            schema = conn.scalar(text("SELECT current_schema()")) or "public"
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    settings = {"sqlalchemy.url": grants_database_url, "grants.secret": SECRET, "grants.database": db,
                "grants.plugins": " ".join(grants_database_plugins)}
    migrations.upgrade(settings, migrations.enabled_migrations(settings))
    db.grants_tables = _tables_in(db)
    yield db
    db.engine.dispose()


def _tables_in(db) -> list:
    """Every table in the database (plugins' too, whether or not their models were
    imported), children before parents."""
    from sqlalchemy import MetaData

    found = MetaData()
    found.reflect(bind=db.engine)
    return [t for t in reversed(found.sorted_tables) if t.name != "alembic_version"]


def empty_tables(db) -> None:
    """Delete every row of every table (the migrations' bookkeeping excepted)."""
    with db.engine.begin() as conn:
        tables = getattr(db, "grants_tables", None) or _tables_in(db)
        for table in tables:
            conn.execute(table.delete())
        # The database's triggers count rows into these as they are deleted: empty them last.
        for table in tables:
            if table.name == "workflow_state_counts":
                conn.execute(table.delete())


@pytest.fixture(autouse=True)
def _grants_empty_tables_after_test(request):
    """Only for tests that used the database: the next test starts from empty tables."""
    yield
    if "grants_database" in request.fixturenames:
        import transaction

        transaction.manager.abort()
        empty_tables(request.getfixturevalue("grants_database"))


@pytest.fixture
def grants_empty_database_url(grants_database_url, tmp_path):
    """A database with no tables: a new SQLite file, or a schema of its own in the
    PostgreSQL test database (dropped after the test)."""
    from sqlalchemy import make_url

    url = make_url(grants_database_url)
    if url.get_backend_name() != "postgresql":
        yield f"sqlite:///{tmp_path / 'empty.sqlite'}"
        return
    with scratch_schema(url) as scratch_url:
        yield scratch_url


@contextlib.contextmanager
def scratch_schema(url, prefix: str = "grants_scratch"):
    """A URL for the PostgreSQL database at ``url`` working in a new, empty schema of its
    own, dropped afterwards: tests and benchmarks run beside whatever else the database
    holds."""
    from sqlalchemy import create_engine, make_url, text

    url = make_url(url)
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        # Not URL-encoded: the URL also goes into .ini files, where "%" would need escaping.
        text_url = url.render_as_string(hide_password=False)
        yield f"{text_url}{'&' if url.query else '?'}options=-csearch_path={schema}"
    finally:
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


def copy_awards(db, award_id: int, n: int, *, batch: int = 1000) -> int:
    """Add ``n`` copies of award ``award_id``, each on a copy of its application and with
    copies of its payments, by bulk inserts: thousands of awards in seconds, for measuring
    exports at scale.  The copies have no history or reports of their own (an export reads
    them when there are some).  Returns how many were added."""
    from sqlalchemy import insert, select
    from zope.sqlalchemy import mark_changed

    from grants.applications.models import Application
    from grants.awards.models import Award, Disbursement, Tranche

    def row(table, **where):
        found = db.execute(select(table).filter_by(**where)).mappings().all()
        return [{k: v for k, v in r.items() if k != "id"} for r in found]

    db.flush()
    award = row(Award.__table__, id=award_id)[0]
    application = row(Application.__table__, id=award["application_id"])[0]
    tranches = db.execute(select(Tranche.__table__).filter_by(award_id=award_id)).mappings().all()
    payments = row(Disbursement.__table__, award_id=award_id)
    done = 0
    while done < n:
        size = min(batch, n - done)
        application_ids = db.execute(insert(Application.__table__).returning(
            Application.__table__.c.id, sort_by_parameter_order=True), [application] * size).scalars().all()
        award_ids = db.execute(insert(Award.__table__).returning(Award.__table__.c.id, sort_by_parameter_order=True),
                               [{**award, "application_id": a} for a in application_ids]).scalars().all()
        for t in tranches:
            copied = {k: v for k, v in t.items() if k != "id"}
            tranche_ids = db.execute(insert(Tranche.__table__).returning(
                Tranche.__table__.c.id, sort_by_parameter_order=True),
                [{**copied, "award_id": a} for a in award_ids]).scalars().all()
            for p in (p for p in payments if p["tranche_id"] == t["id"]):
                db.execute(insert(Disbursement.__table__),
                           [{**p, "award_id": a, "tranche_id": tr} for a, tr in zip(award_ids, tranche_ids)])
        done += size
    # Core inserts do not tell zope.sqlalchemy the session wrote: without this, a
    # transaction with no ORM change would be rolled back instead of committed.
    mark_changed(db)
    return done


def migration_differences(registry, owner: str = "") -> list:
    """How the models of ``owner`` (a plugin's name; "" for grants) differ from the test
    database its migrations built, as Alembic's autogenerate sees it: ``[]`` when they agree.
    Only that owner's tables are compared."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from grants.db import Base
    from grants.migrations import owned_by, table_owners
    from grants.plugins import plugin_migrations

    owners = table_owners(Base.metadata, plugin_migrations(registry))
    with registry.database.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True,
                                                         "include_object": owned_by(owner, owners)})
        return compare_metadata(context, Base.metadata)


# -- the app --------------------------------------------------------------------------------


@pytest.fixture
def grants_settings(grants_database, grants_database_url, grants_plugins, tmp_path) -> dict:
    """Settings for one test; change them before asking for the app."""
    return {
        "sqlalchemy.url": grants_database_url,
        "grants.database": grants_database,  # one engine for the whole run
        "grants.secret": SECRET,
        "grants.plugins": " ".join(grants_plugins),
        "mail.backend": "maildir",
        "mail.maildir": str(tmp_path / "mail"),
        "mail.sender": "grants@test",
        "pyramid.default_locale_name": "en",
        "grants.files_dir": str(tmp_path / "files"),  # uploaded files, one folder per test
    }


@pytest.fixture
def grants_config(grants_settings):
    from grants import make_config

    return make_config(grants_settings)


@pytest.fixture
def grants_registry(grants_config):
    return grants_config.registry


@pytest.fixture
def grants_app(grants_settings):
    from grants import make_app

    return make_app(grants_settings)


@pytest.fixture
def grants_testapp(grants_app):
    import webtest

    return webtest.TestApp(grants_app, extra_environ={"HTTP_HOST": "localhost"})


@pytest.fixture
def grants_db(grants_registry):
    """A session in one transaction, committed when the test ends.  For several
    transactions: ``with grants_registry.database.transaction() as (tm, session):``."""
    scope = grants_registry.database.transaction()
    _tm, session = scope.__enter__()
    yield session
    scope.__exit__(None, None, None)


# -- a small site ---------------------------------------------------------------------------


@dataclass
class Site:
    """What :func:`build_site` made.  The rows are detached: read their columns, or
    ``session.get(Round, site.round.id)`` in a transaction of your own."""

    admin: Any
    officer: Any  # programme officer of ``programme``
    member: Any  # member of ``organisation``
    organisation: Any
    programme: Any
    round: Any
    password: str = PASSWORD

    def sign_in(self, testapp, user):
        return sign_in(testapp, user.email, self.password)


_password_hashes: dict[str, str] = {}


def _hash(password: str) -> str:
    """argon2 is slow on purpose: hash once per run."""
    if password not in _password_hashes:
        from grants.accounts.services import hash_password

        _password_hashes[password] = hash_password(password)
    return _password_hashes[password]


def build_site(registry, *, plugins=(), workflows=None, title="Test programme", currency="EUR") -> Site:
    """An admin; a programme using ``plugins`` with an officer; the workflows it chooses
    (``{"application": "my_variant"}``, before its round exists, so the round uses them);
    an open round; an organisation with one member.  Everyone's password is ``PASSWORD``."""
    import datetime as dt
    from decimal import Decimal

    from sqlalchemy import select

    from grants.accounts.models import LocalRole, Organisation, User
    from grants.money import Money
    from grants.accounts.organisations import add_member_without_invitation
    from grants.lifecycle.services import WorkflowService
    from grants.programmes import services as programmes
    from grants.workflow import Actor

    now = dt.datetime.now(dt.timezone.utc)
    system = Actor.system_actor("system:grants.testing")
    with registry.database.transaction() as (_tm, db):
        people = {}
        # A second site in one test gets people of its own (officer2@example.org, …).
        taken = set(db.scalars(select(User.email).where(User.email.like("%@example.org"))))
        suffix = next(str(n or "") for n in range(1000) if f"officer{n or ''}@example.org" not in taken)
        for key, name, admin in (("admin", "Site Admin", True), ("officer", "Programme Officer", False),
                                 ("member", "Organisation Member", False)):
            people[key] = User(email=f"{key}{suffix}@example.org", name=name, locale="en",
                               password_hash=_hash(PASSWORD), email_verified=True, is_admin=admin)
            db.add(people[key])
        organisation = Organisation(legal_name="Association for Testing", country="TN")
        db.add(organisation)
        db.flush()
        add_member_without_invitation(db, organisation, people["member"])
        programme = programmes.create_programme(db, title=title, currency=currency, plugins=list(plugins),
                                                registry=registry)
        db.add(LocalRole(user_id=people["officer"].id, role="programme_officer",
                         object_type=programme.__tablename__, object_id=programme.id))
        for family, workflow_id in (workflows or {}).items():
            programmes.choose_workflow(db, registry, programme, family, workflow_id)
        # Complete enough to open (grants.programmes.setup): dates, a budget, the default form.
        rnd = programmes.create_round(db, registry, programme, title="Round 1", timezone="Africa/Tunis",
                                      opens_at=now - dt.timedelta(days=1), closes_at=now + dt.timedelta(days=30),
                                      budget=Money(Decimal(1_000_000), currency), actor=system)
        WorkflowService(registry.workflows, db).fire(rnd, "open", actor=system)
        db.flush()
        return Site(admin=people["admin"], officer=people["officer"], member=people["member"],
                    organisation=organisation, programme=programme, round=rnd)


@pytest.fixture
def grants_site_workflows() -> dict:
    """The workflows ``grants_site``'s programme chooses, by family: override it to run
    your plugin's variants (``{"application": "my_variant"}``)."""
    return {}


@pytest.fixture
def grants_site(grants_registry, grants_plugins, grants_site_workflows) -> Site:
    return build_site(grants_registry, plugins=grants_plugins, workflows=grants_site_workflows)


def make_application(registry, site: Site, *, title: str = "A project for the neighbourhood",
                     state: str = "draft") -> int:
    """An application of ``site``'s organisation to its round, every section answered and
    every document attached through the services (``grants.demo.tools.fill_application``),
    then taken to ``state`` — "draft", "submitted" or "eligible" (the round has no
    eligibility rules) — through the real transitions.  Returns its id."""
    from grants.accounts.models import Organisation, User
    from grants.applications import services as applications
    from grants.demo.tools import fill_application
    from grants.lifecycle.services import WorkflowService
    from grants.programmes.models import Round
    from grants.workflow import Actor

    if state not in ("draft", "submitted", "eligible"):
        raise ValueError(f"make_application takes an application to draft, submitted or eligible, not {state!r}")
    with registry.database.transaction() as (tm, db):
        member = db.get(User, site.member.id)
        application = applications.create_application(db, registry, db.get(Round, site.round.id),
                                                      db.get(Organisation, site.organisation.id), member, title=title)
        fill_application(db, registry, application, member)
        if state != "draft":
            applications.submit(db, registry, application, member, transaction_manager=tm)
        if state == "eligible":
            WorkflowService(registry.workflows, db, transaction_manager=tm).fire(
                application, "confirm_eligible", actor=Actor.system_actor("system:grants.testing"))
        return application.id


def sign_in(testapp, email: str, password: str = PASSWORD):
    """Sign in through the sign-in page, as a person would; returns the page after it."""
    page = testapp.get("/login")
    form = next(f for key, f in page.forms.items() if isinstance(key, int) and "password" in f.fields)
    form["email"] = email
    form["password"] = password
    response = form.submit()
    assert 300 <= response.status_int < 400, f"signing in as {email} failed ({response.status})"
    return response.follow()


# -- a real HTTP server and a real browser --------------------------------------------------


@pytest.fixture
def grants_live_server(grants_app):
    """The app on waitress, on a free port on localhost, for the length of a test."""
    import threading

    from waitress.server import create_server

    server = create_server(grants_app, host="127.0.0.1", port=0, threads=4)
    stopping = threading.Event()

    def serve():
        try:
            server.run()
        except OSError:
            # Closing the sockets while the loop waits on them (EBADF) is how it stops.
            if not stopping.is_set():
                raise

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.effective_port}"
    stopping.set()
    server.close()
    thread.join(5)


@pytest.fixture(scope="session")
def grants_chromium():
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
def grants_page(grants_chromium):
    context = grants_chromium.new_context()
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


class Statements:
    """The SQL statements sent on ``engine`` while the block runs (``.sent``), counted by
    SQLAlchemy's ``before_cursor_execute`` event::

        with Statements(engine) as sent:
            testapp.get(url)
        assert len(sent.sent) == expected
    """

    def __init__(self, engine):
        self.engine, self.sent = engine, []

    def __enter__(self):
        from sqlalchemy import event

        event.listen(self.engine, "before_cursor_execute", self._count)
        return self

    def __exit__(self, *exc):
        from sqlalchemy import event

        event.remove(self.engine, "before_cursor_execute", self._count)

    def _count(self, _conn, _cursor, statement, *_args):
        self.sent.append(statement)
