"""Server-side sessions in the database.

The cookie carries only a signed random id; the data (who is signed in, the CSRF token,
flash messages) lives in ``web_sessions``, keyed by the hash of that id.  So:

- ending a session is deleting its row: sign-out, a password change and a password
  reset delete every row of the account (``end_sessions``), and a copied cookie then
  opens nothing, on any device, in any process;
- a flash message of any length fits (a cookie holds about 4 kB);
- several processes and hosts on one database share sessions and CSRF tokens.

We looked for a maintained package first: the Pyramid ones keep sessions in Redis,
Memcached, DynamoDB, files or (pyramid_beaker) Beaker, which is legacy; the one
SQLAlchemy backend has seen no release since 2017.  This module is small on purpose.

Each request reads its session once, when something first asks for ``request.session``,
and writes it at most once, after the request's own transaction has committed, in a
short transaction of its own (``_save``): a request that failed still keeps its flash
messages, and the write never waits on the request's locks.  Two requests of one session
at once each write what they read plus their own change, so the last write wins; a
session ended meanwhile (signed out in another tab) is never written back to life.

Settings (seconds): ``grants.session_idle_timeout`` (default 8 hours without a request)
and ``grants.session_max_age`` (default 24 hours however active).  ``grants tick``
deletes rows past either (``purge_expired``).
"""
from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import logging
import secrets

from pyramid.interfaces import ISession
from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import SQLAlchemyError
from webob.cookies import SignedSerializer
from zope.interface import implementer

from .models import WebSession

log = logging.getLogger(__name__)

COOKIE = "session"
USER_KEY = "auth.userid"  # where pyramid's SessionAuthenticationHelper keeps who signed in
CSRF_KEY = "_csrft_"
FLASH_PREFIX = "_f_"

DEFAULT_IDLE_TIMEOUT = 8 * 3600
DEFAULT_MAX_AGE = 24 * 3600


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def hash_id(session_id: str) -> str:
    # A copy of the table (a backup, a leak) must not hand out working cookies.
    return hashlib.sha256(session_id.encode("utf-8")).hexdigest()


def end_sessions(dbsession, user_id: int) -> None:
    """End every session of this account, in the caller's transaction: they end exactly
    when the change that ends them (new password, sign-out) commits."""
    dbsession.execute(delete(WebSession).where(WebSession.user_id == user_id))


def purge_expired(dbsession, *, now: dt.datetime | None = None, idle_timeout: int = DEFAULT_IDLE_TIMEOUT) -> int:
    """Delete sessions past their end or idle too long; how many went."""
    now = now or utcnow()
    result = dbsession.execute(
        delete(WebSession).where(
            (WebSession.expires_at <= now) | (WebSession.last_seen_at <= now - dt.timedelta(seconds=idle_timeout))
        )
    )
    return result.rowcount or 0


class _Text:
    """The id as it is: SignedSerializer signs bytes."""

    @staticmethod
    def dumps(value: str) -> bytes:
        return value.encode("ascii")

    @staticmethod
    def loads(value: bytes) -> str:
        return value.decode("ascii")


class SessionStore:
    """Where sessions live: the engine (never the request's own database session), the
    cookie's signature, and the time limits."""

    def __init__(self, engine, secret: str, *, idle_timeout: int = DEFAULT_IDLE_TIMEOUT,
                 max_age: int = DEFAULT_MAX_AGE, secure: bool = False):
        self.engine = engine
        self.signer = SignedSerializer(secret, "grants.session", hashalg="sha512", serializer=_Text())
        self.idle_timeout = dt.timedelta(seconds=idle_timeout)
        self.max_age = dt.timedelta(seconds=max_age)
        # Writing on every request only to say "still here" would double the writes;
        # a tenth of the idle timeout (at most five minutes) is precise enough.
        self.touch_interval = min(dt.timedelta(minutes=5), self.idle_timeout / 10)
        self.secure = secure

    # -- the cookie --

    def id_from_cookie(self, value: str | None) -> str | None:
        if not value:
            return None
        try:
            return self.signer.loads(value)
        except (ValueError, UnicodeError):
            return None  # forged, truncated or signed with another secret

    def set_cookie(self, response, session_id: str) -> None:
        # No max_age: the browser forgets it when it closes; the row decides how long it lives.
        response.set_cookie(COOKIE, self.signer.dumps(session_id).decode("ascii"), path="/", httponly=True,
                            samesite="Lax", secure=self.secure)

    def delete_cookie(self, response) -> None:
        response.delete_cookie(COOKIE, path="/")

    # -- the rows --

    def load(self, session_id: str, now: dt.datetime):
        """The live row for this id, or None (unknown, ended, idle too long, too old)."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(WebSession.data, WebSession.created_at, WebSession.last_seen_at, WebSession.expires_at)
                .where(WebSession.id_hash == hash_id(session_id))
            ).first()
        if row is None or row.expires_at <= now or row.last_seen_at + self.idle_timeout <= now:
            return None
        return row

    def save(self, session: "DatabaseSession", response) -> None:
        now = utcnow()
        with self.engine.begin() as conn:
            if session.ended_ids:
                conn.execute(delete(WebSession).where(WebSession.id_hash.in_([hash_id(i) for i in session.ended_ids])))
            if session.session_id is not None:
                if session.dirty:
                    written = conn.execute(
                        update(WebSession).where(WebSession.id_hash == hash_id(session.session_id))
                        .values(data=session.serialized(), user_id=session.user_id, last_seen_at=now)
                    ).rowcount
                    if written or session.user_id is not None:
                        # Not written: ended meanwhile.  Someone's signed-in session is
                        # never brought back; an anonymous one goes on under a new id.
                        return
                    session.session_id = None
                elif now - session.last_seen_at >= self.touch_interval:
                    conn.execute(update(WebSession).where(WebSession.id_hash == hash_id(session.session_id))
                                 .values(last_seen_at=now))
                    return
                else:
                    return
            if not session:
                if session.ended_ids:
                    self.delete_cookie(response)
                return
            session_id = secrets.token_urlsafe(32)
            conn.execute(insert(WebSession).values(
                id_hash=hash_id(session_id), user_id=session.user_id, data=session.serialized(),
                created_at=now, last_seen_at=now, expires_at=now + self.max_age))
        self.set_cookie(response, session_id)


def _changes(method):
    @functools.wraps(method)
    def changing(self, *args, **kw):
        self.dirty = True
        return method(self, *args, **kw)

    return changing


@implementer(ISession)
class DatabaseSession(dict):
    """Pyramid's ISession over one ``web_sessions`` row.  Behaves as a dict of JSON
    values; ``changed()`` after mutating a value in place, as with any Pyramid session."""

    def __init__(self, store: SessionStore, session_id: str | None, row=None):
        super().__init__(json.loads(row.data) if row is not None else {})
        self.store = store
        self.session_id = session_id if row is not None else None
        now = utcnow()
        self.created = (row.created_at if row is not None else now).timestamp()
        self.last_seen_at = row.last_seen_at if row is not None else now
        self.new = row is None
        self.dirty = False
        # Ids to delete when the request ends: this request's earlier session after
        # invalidate(), or a dead id the browser still sent.
        self.ended_ids: list[str] = [session_id] if session_id is not None and row is None else []

    @property
    def user_id(self) -> int | None:
        try:
            return int(self[USER_KEY])
        except (KeyError, TypeError, ValueError):
            return None

    def serialized(self) -> str:
        return json.dumps(dict(self), ensure_ascii=False, separators=(",", ":"))

    # -- ISession --

    def invalidate(self) -> None:
        if self.session_id is not None:
            self.ended_ids.append(self.session_id)
        self.session_id = None
        dict.clear(self)
        self.new = True
        self.created = utcnow().timestamp()
        self.dirty = False

    def changed(self) -> None:
        self.dirty = True

    def flash(self, msg, queue: str = "", allow_duplicate: bool = True) -> None:
        messages = self.setdefault(FLASH_PREFIX + queue, [])
        if allow_duplicate or msg not in messages:
            messages.append(msg)
            self.changed()

    def pop_flash(self, queue: str = "") -> list:
        return self.pop(FLASH_PREFIX + queue, [])

    def peek_flash(self, queue: str = "") -> list:
        return self.get(FLASH_PREFIX + queue, [])

    def new_csrf_token(self) -> str:
        token = secrets.token_hex(20)
        self[CSRF_KEY] = token
        return token

    def get_csrf_token(self) -> str:
        token = self.get(CSRF_KEY)
        return token if token is not None else self.new_csrf_token()

    # -- dict, noting every change (reads alone write nothing) --

    __setitem__ = _changes(dict.__setitem__)
    __delitem__ = _changes(dict.__delitem__)
    clear = _changes(dict.clear)
    update = _changes(dict.update)
    popitem = _changes(dict.popitem)

    def pop(self, key, *default):
        if key in self:
            self.dirty = True
        return dict.pop(self, key, *default)

    def setdefault(self, key, default=None):
        if key not in self:
            self.dirty = True
        return dict.setdefault(self, key, default)


def session_factory(store: SessionStore):
    """Pyramid's session factory: ``request.session``, read when first asked for."""

    def factory(request) -> DatabaseSession:
        session_id = store.id_from_cookie(request.cookies.get(COOKIE))
        row = store.load(session_id, utcnow()) if session_id is not None else None
        session = DatabaseSession(store, session_id, row)

        def save(request, response) -> None:
            try:
                store.save(session, response)
            except SQLAlchemyError:
                # The page is already decided and its own changes committed; losing a
                # flash or a fresh CSRF token is better than replacing the page by an error.
                log.exception("could not save the session")

        request.add_response_callback(save)
        return session

    return factory


def includeme(config) -> None:
    settings = config.get_settings()
    secret = settings.get("grants.secret")
    if not secret:
        raise ValueError("grants.secret is not set: put a long random string in the .ini")
    store = SessionStore(
        config.registry.database.engine, secret,
        idle_timeout=int(settings.get("grants.session_idle_timeout", DEFAULT_IDLE_TIMEOUT)),
        max_age=int(settings.get("grants.session_max_age", DEFAULT_MAX_AGE)),
        secure=settings.get("grants.secure_cookies", "false").lower() in ("1", "true", "yes"),
    )
    config.registry.session_store = store
    config.set_session_factory(session_factory(store))
