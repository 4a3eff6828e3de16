"""Slowing down password guessing, per account and per client, across processes.

Every sign-in attempt first takes a place under two limits: the account's (the address
typed, whether or not it has an account, so the answer tells nothing) and the client's
(its network address).  A place is taken by one UPDATE (or, the first time, one INSERT
that ignores a conflict) in a short transaction of its own, committed at once: the
database counts, so guesses arriving together, through any number of processes, never
get more than the limit of passwords checked.  Windows are fixed: the first failure
starts one, and when the limit is reached the key waits until the window ends.

A right password gives its places back: the account's count is cleared and the client's
lowered by one, so only failures count.  Because a stranger can lock an account this way,
a password reset works while it is locked and clears its count (``clear``).

Behind a reverse proxy every request seems to come from the proxy.  List the proxies in
``grants.trusted_proxies`` (addresses, separated by spaces); for a request from one of
them the client is the right-most address in X-Forwarded-For that is not a listed proxy.
Nobody else's X-Forwarded-For is believed.
"""
from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass

from sqlalchemy import case, delete, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite

from grants.db import UTCDateTime

from .models import SignInThrottle


@dataclass(frozen=True)
class Limit:
    attempts: int
    window: dt.timedelta


ACCOUNT = Limit(5, dt.timedelta(minutes=15))
# Offices, libraries and phone networks put many honest people behind one address.
CLIENT = Limit(30, dt.timedelta(minutes=15))


def account_key(email: str) -> str:
    return "account:" + email.strip().lower()


def client_key(address: str | None) -> str:
    """An IPv4 client by its address; an IPv6 one by its /64, since one machine usually
    holds a whole /64 and could otherwise change address between guesses."""
    if not address:
        return "client:unknown"
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return "client:" + address.strip()[:100]
    if ip.version == 6:
        if ip.ipv4_mapped is not None:
            return f"client:{ip.ipv4_mapped}"
        return f"client:{ipaddress.ip_network(f'{ip}/64', strict=False)}"
    return f"client:{ip}"


def client_address(request) -> str:
    """The address the request came from, through the trusted proxies if any."""
    remote = request.remote_addr or "unknown"
    trusted = set(request.registry.settings.get("grants.trusted_proxies", "").split())
    if not trusted or remote not in trusted:
        return remote
    forwarded = [part.strip() for part in request.headers.get("X-Forwarded-For", "").split(",") if part.strip()]
    for address in reversed(forwarded):
        if address not in trusted:
            return address
    return remote


def _engine(dbsession):
    bind = dbsession.get_bind()
    return getattr(bind, "engine", bind)


def _insert(dialect_name: str):
    return postgresql.insert if dialect_name == "postgresql" else sqlite.insert


def take(dbsession, key: str, limit: Limit, *, now: dt.datetime) -> dt.datetime | None:
    """Count one attempt for ``key``, committed at once in its own transaction.  None if
    the attempt may go ahead; otherwise when the key may try again (nothing counted)."""
    expired = SignInThrottle.window_started_at <= now - limit.window
    engine = _engine(dbsession)
    with engine.begin() as conn:
        for _ in range(5):
            counted = conn.execute(
                update(SignInThrottle)
                .where(SignInThrottle.key == key, expired | (SignInThrottle.attempts < limit.attempts))
                .values(attempts=case((expired, 1), else_=SignInThrottle.attempts + 1),
                        window_started_at=case((expired, literal(now, UTCDateTime())),
                                               else_=SignInThrottle.window_started_at))
                .returning(SignInThrottle.key)
            ).first()
            if counted is not None:
                return None
            row = conn.execute(select(SignInThrottle.attempts, SignInThrottle.window_started_at)
                               .where(SignInThrottle.key == key)).first()
            if row is None:
                # RETURNING rather than rowcount: drivers report -1 for this INSERT.
                created = conn.execute(
                    _insert(engine.dialect.name)(SignInThrottle).values(key=key, attempts=1, window_started_at=now)
                    .on_conflict_do_nothing(index_elements=["key"]).returning(SignInThrottle.key)
                ).first()
                if created is not None:
                    return None
            elif row.attempts >= limit.attempts and row.window_started_at > now - limit.window:
                return row.window_started_at + limit.window
            # Another attempt created or restarted the row between our statements: count again.
    raise RuntimeError(f"could not count a sign-in attempt for {key}")


def give_back(dbsession, key: str) -> None:
    """Return an attempt's place (a right password), in the caller's transaction."""
    dbsession.execute(update(SignInThrottle).where(SignInThrottle.key == key, SignInThrottle.attempts > 0)
                      .values(attempts=SignInThrottle.attempts - 1))


def clear(dbsession, key: str) -> None:
    """Forget every failure of ``key``, in the caller's transaction."""
    dbsession.execute(delete(SignInThrottle).where(SignInThrottle.key == key))


def purge_expired(dbsession, *, now: dt.datetime) -> int:
    """Delete counts whose window has ended (``grants tick``); how many went."""
    longest = max(ACCOUNT.window, CLIENT.window)
    return dbsession.execute(
        delete(SignInThrottle).where(SignInThrottle.window_started_at <= now - longest)
    ).rowcount or 0
