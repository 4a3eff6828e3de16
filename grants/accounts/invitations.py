"""Invitations mailed to an address: what an invitation to join an organisation
(``organisations.invite_member``) and an invitation to a role on a programme or a round
(``grants.programmes.people.invite``) have in common.

An invitation is a row holding the invited address, the hash of a random token (the
mailed link carries the token; a database leak hands out no working link), who invited,
when it stops working, and how it ended — accepted, declined or withdrawn, at most one of
them.  Nobody gains anything until the person at the address answers, so whoever invites
can neither add someone against their will nor learn whether the address has an account.

    token, token_hash = new_token()
    invitation = find(dbsession, RoleInvitation, token)     # InvalidInvitation if unusable
    close(dbsession, invitation, "accepted_at", now)         # once: a second answer loses
"""
from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy import select, update

from .models import INVITATION_ANSWERS as ANSWERS
from .models import InvitationMixin  # noqa: F401 - the columns, defined beside the models
from .services import hash_token

#: How long a mailed link works.
INVITATION_LIFETIME = dt.timedelta(days=14)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class InvalidInvitation(Exception):
    """A mailed invitation that cannot be used: ``reason`` is "unknown", "expired" or
    "answered" (accepted, declined or withdrawn)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason
        self.message = reason
        self.field = None


def new_token() -> tuple[str, str]:
    """(the raw token to mail, the hash to store)."""
    token = secrets.token_urlsafe(32)
    return token, hash_token(token)


def waiting(cls) -> tuple:
    """Conditions: invitations of ``cls`` nobody has answered or withdrawn."""
    return tuple(getattr(cls, column).is_(None) for column in ANSWERS)


def find(dbsession, cls, token: str, *, now: dt.datetime | None = None):
    """The invitation of ``cls`` behind a mailed link, if it can still be answered;
    raises ``InvalidInvitation`` otherwise."""
    now = now or _now()
    invitation = dbsession.scalars(select(cls).where(cls.token_hash == hash_token(token or ""))).one_or_none()
    if invitation is None:
        raise InvalidInvitation("unknown")
    if invitation.answered:
        raise InvalidInvitation("answered")
    if invitation.expires_at <= now:
        raise InvalidInvitation("expired")
    return invitation


def close(dbsession, invitation, column: str, now: dt.datetime) -> None:
    """End the invitation, once: of two answers at the same moment only one counts (the
    other gets ``InvalidInvitation("answered")``)."""
    cls = type(invitation)
    closed = dbsession.execute(
        update(cls).where(cls.id == invitation.id, *waiting(cls)).values({column: now})
        .execution_options(synchronize_session=False)
    ).rowcount
    if not closed:
        raise InvalidInvitation("answered")
    dbsession.refresh(invitation)
