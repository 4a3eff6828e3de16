"""Database: the declarative base, engines, and sessions joined to zope transactions.

Code never calls ``commit()``: web requests commit through pyramid_tm, the CLI and
services through a ``transaction`` manager (``with tm:``).  That is also what lets mail
and other effects wait until after commit (see ``grants.mail``).
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import transaction
import zope.sqlalchemy
from sqlalchemy import BigInteger, DateTime, Integer, MetaData, SmallInteger, String, engine_from_config, event, inspect
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapper, Session, sessionmaker
from sqlalchemy.orm import Mapped, declared_attr, mapped_column
from sqlalchemy.types import TypeDecorator

from grants.i18n import ngettext
from grants.text import CONTROL_CHARACTERS, has_control_characters, strip_bidi_controls

# Stable constraint names, so Alembic migrations name the same thing on every database.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class RowVersioned:
    """A row people edit through forms: ``row_version`` is SQLAlchemy's optimistic lock
    (``version_id_col``, as on every workflow object), and each edit form carries it so a
    form drawn from an older version is refused (grants.concurrency)."""

    row_version: Mapped[int] = mapped_column(nullable=False, server_default="1")

    @declared_attr.directive
    def __mapper_args__(cls):
        return {"version_id_col": cls.__table__.c.row_version}


class UTCDateTime(TypeDecorator):
    """Aware datetimes in, aware UTC datetimes out — also on SQLite, which keeps no zone."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("refusing a datetime without a time zone")
        return value.astimezone(dt.timezone.utc)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.timezone.utc)
        return value.astimezone(dt.timezone.utc)


class DecimalText(TypeDecorator):
    """An exact decimal kept as its text ("12.50", "0.333"): SQLite has no decimal type
    and floats would round indicator values and means.  ``Decimal`` in, ``Decimal`` out."""

    impl = String(40)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if isinstance(value, float):
            raise TypeError("refusing a float: pass a Decimal or a string")
        return str(Decimal(value))

    def process_result_value(self, value, dialect):
        return None if value is None else Decimal(value)


# -- ids and text from outside ---------------------------------------------------------------

_INTEGER_RANGES = ((BigInteger, 63), (SmallInteger, 15), (Integer, 31))  # subclasses first


def _fits(column_type, value: int) -> bool:
    bits = next((b for kind, b in _INTEGER_RANGES if isinstance(column_type, kind)), None)
    return bits is None or -(2 ** bits) <= value < 2 ** bits


def parse_id(value) -> int | None:
    """A row id as it comes in a path or a parameter ("12"), or None: ASCII digits only,
    as the page wrote it (``int`` would also take " 12", "+12", "012", "1_2" and "١٢"),
    from 1 to the largest integer the database keeps."""
    text = value if isinstance(value, str) else ""
    if not (text.isascii() and text.isdigit()) or len(text) > 10 or text.startswith("0"):
        return None
    number = int(text)
    return number if 1 <= number < 2 ** 31 else None


class GrantsSession(Session):
    """``get`` answers None for a key its column could never hold (PostgreSQL would refuse
    the query: "integer out of range"), so an id from a URL or a form is simply not found."""

    def get(self, entity, ident, **kw):
        keys = ident if isinstance(ident, (tuple, list)) else (ident,)
        columns = inspect(entity).mapper.primary_key
        if isinstance(ident, dict):
            keys = tuple(ident.get(c.key) for c in columns)
        for column, key in zip(columns, keys):
            if isinstance(key, int) and not isinstance(key, bool) and not _fits(column.type, key):
                return None
        return super().get(entity, ident, **kw)


class UnstorableText(ValueError):
    """A text value a column cannot keep (a control character, or longer than the column).
    Forms refuse these with a message beside the input; this is the last line, for text
    that reached a model some other way.  ``reason`` is a TranslationString."""

    def __init__(self, column: str, reason):
        super().__init__(f"{column}: {reason.interpolate() if hasattr(reason, 'interpolate') else reason}")
        self.column, self.reason = column, reason


def _text_guard(column):
    length = getattr(column.type, "length", None)
    name = f"{column.table.name}.{column.name}"

    def guard(_target, value, _oldvalue, _initiator):
        if not isinstance(value, str):
            return value
        value = strip_bidi_controls(value)
        if has_control_characters(value):
            raise UnstorableText(name, CONTROL_CHARACTERS)
        if length is not None and len(value) > length:
            raise UnstorableText(name, ngettext(
                "A text you sent is too long: it can have ${count} character at most.",
                "A text you sent is too long: it can have ${count} characters at most.", length))
        return value

    return guard


@event.listens_for(Mapper, "mapper_configured")
def _guard_text_columns(mapper, class_):
    """Every text column of our models strips bidi controls and refuses what it cannot keep
    (see grants.text), whoever sets it: a form, a raw form read, a service, the CLI."""
    if not issubclass(class_, Base):
        return
    for prop in mapper.column_attrs:
        column = prop.columns[0]
        if len(prop.columns) == 1 and isinstance(getattr(column.type, "impl", column.type), String):
            event.listen(getattr(class_, prop.key), "set", _text_guard(column), retval=True)


def add_to_counts(dbsession: Session, model, rows: list[dict] | None = None, *, names: list[str] | None = None,
                  select=None) -> None:
    """Add to counters: ``model`` is a table keyed by its primary key with a count ``n``;
    each row given (``rows``, or what ``select`` returns for the columns ``names``) adds
    its ``n`` to the row of the same key, which is made if there is none (``INSERT … ON
    CONFLICT DO UPDATE SET n = n + excluded.n``).  The database adds under its own row
    lock, so two transactions counting at once both count: no read-modify-write in
    Python, and no row to make in advance.  Sent on the session's connection, so it never
    flushes the session (flush listeners use it)."""
    dbsession.connection().execute(counts_statement(dbsession.get_bind().dialect.name, model, rows,
                                                    names=names, select=select))


def counts_statement(dialect_name: str, model, rows: list[dict] | None = None, *, names: list[str] | None = None,
                     select=None):
    """The statement :func:`add_to_counts` sends, for a caller that builds it once (with
    bound parameters) and sends it many times."""
    table = model.__table__
    insert = postgresql.insert if dialect_name == "postgresql" else sqlite.insert
    statement = insert(table).values(rows) if select is None else insert(table).from_select(names, select)
    return statement.on_conflict_do_update(index_elements=[c.name for c in table.primary_key.columns],
                                           set_={"n": table.c.n + statement.excluded.n})


def get_engine(settings: dict, prefix: str = "sqlalchemy.") -> Engine:
    engine = engine_from_config(settings, prefix)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            # Writers wait for each other instead of failing at once (cron tick vs. web).
            cursor.execute("PRAGMA busy_timeout=10000")
            # Write-ahead log: a commit appends to one file instead of rewriting a rollback
            # journal, and readers no longer block the writer (pages read while a fire
            # writes).  With WAL, synchronous=NORMAL syncs at checkpoints rather than at each
            # commit: a power cut may lose the last commits but never corrupts the file.
            # An in-memory database answers "memory" and keeps its own journal, which is fine.
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

    return engine


def refresh_statistics(engine: Engine) -> None:
    """Give SQLite's query planner statistics of the tables (``grants tick`` does, each run).
    SQLite keeps none of its own, and without them it guesses: at 100,000 applications it
    read every application for a "My tasks" list that an index answers at once.
    PostgreSQL's autovacuum keeps its own; nothing is done there.  ``analysis_limit``
    samples each index rather than reading all of it, so this takes milliseconds."""
    if engine.dialect.name != "sqlite":
        return
    with engine.begin() as conn:
        conn.exec_driver_sql("PRAGMA analysis_limit=1000")
        conn.exec_driver_sql("ANALYZE")


def get_session_factory(engine: Engine) -> sessionmaker:
    return sessionmaker(bind=engine, expire_on_commit=False, class_=GrantsSession)


def get_tm_session(session_factory: sessionmaker, transaction_manager, request=None) -> Session:
    """A session whose commit and rollback follow ``transaction_manager``."""
    dbsession = session_factory(info={"request": request})
    zope.sqlalchemy.register(dbsession, transaction_manager=transaction_manager)
    return dbsession


class Database:
    """An engine, its session factory, and a way to run work in one transaction."""

    def __init__(self, settings: dict):
        self.engine = get_engine(settings)
        self.session_factory = get_session_factory(self.engine)

    def transaction(self) -> "TransactionScope":
        return TransactionScope(self.session_factory)


class TransactionScope:
    """``with db.transaction() as (tm, dbsession):`` commits at the end, aborts on error."""

    def __init__(self, session_factory):
        self.tm = transaction.TransactionManager(explicit=True)
        self.session_factory = session_factory

    def __enter__(self):
        self.tm.begin()
        self.dbsession = get_tm_session(self.session_factory, self.tm)
        return self.tm, self.dbsession

    def __exit__(self, exc_type, exc, tb):
        try:
            if exc_type is None:
                self.tm.commit()
            else:
                self.tm.abort()
        finally:
            self.dbsession.close()
        return False


def includeme(config):
    from grants.models import import_all_models

    import_all_models()  # every mapper known before the first query configures relationships
    settings = config.get_settings()
    settings["tm.manager_hook"] = "pyramid_tm.explicit_manager"
    config.include("pyramid_tm")
    database = config.registry.settings.get("grants.database") or Database(settings)
    config.registry.database = database

    def dbsession(request):
        session = get_tm_session(database.session_factory, request.tm, request=request)
        return session

    config.add_request_method(dbsession, reify=True)
