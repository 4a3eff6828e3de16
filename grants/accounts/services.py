"""Account services: passwords, registration, verification, sign-in, password reset.

Plain functions over a SQLAlchemy session, so the web views, the CLI and tests share
them.  They never commit: the caller's transaction does, and mail written here is only
handed to the mailer after that commit (``grants.mail``).
"""
from __future__ import annotations

import datetime as dt
import functools
import hashlib
import math
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select, update

from grants.i18n import _, ngettext
from grants.mail import notify

from . import throttling
from .models import EmailToken, User
from .sessions import end_sessions

_hasher = PasswordHasher()

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1000  # long enough for any passphrase, short enough not to be a weapon

VERIFY = "verify"
RESET = "reset"
TOKEN_LIFETIMES = {VERIFY: dt.timedelta(hours=48), RESET: dt.timedelta(hours=2)}

MAX_FAILED_LOGINS = throttling.ACCOUNT.attempts
FAILED_LOGIN_WINDOW = throttling.ACCOUNT.window


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@functools.cache
def _dummy_hash() -> str:
    """Checked against when no account has the address, so that a missing account takes
    as long to refuse as a wrong password and the timing does not tell which it was."""
    return _hasher.hash(secrets.token_urlsafe(16))


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def normalise_email(email: str) -> str:
    return email.strip().lower()


def find_user_by_email(dbsession, email: str) -> User | None:
    return dbsession.scalars(select(User).where(User.email == normalise_email(email))).one_or_none()


# --- e-mail tokens -------------------------------------------------------------------


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_token(dbsession, user: User, purpose: str, *, now: dt.datetime | None = None) -> str:
    """A new single-use token for ``user``.  The raw token is returned to be mailed; only
    its hash is stored."""
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    dbsession.add(
        EmailToken(user=user, purpose=purpose, token_hash=hash_token(token), expires_at=now + TOKEN_LIFETIMES[purpose])
    )
    dbsession.flush()
    return token


class InvalidToken(Exception):
    """A mailed link that cannot be used.  ``reason`` is "unknown", "used" or "expired"."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def check_token(dbsession, token: str, purpose: str, *, now: dt.datetime | None = None) -> EmailToken:
    """The stored token for ``token`` if it can still be used for ``purpose``; raises
    ``InvalidToken`` otherwise.  Does not use it up."""
    now = now or utcnow()
    row = dbsession.scalars(
        select(EmailToken).where(EmailToken.token_hash == hash_token(token), EmailToken.purpose == purpose)
    ).one_or_none()
    if row is None:
        raise InvalidToken("unknown")
    if row.used_at is not None:
        raise InvalidToken("used")
    if row.expires_at <= now:
        raise InvalidToken("expired")
    return row


def _invalidate_tokens(dbsession, user: User, purpose: str, now: dt.datetime) -> None:
    dbsession.execute(
        update(EmailToken)
        .where(EmailToken.user_id == user.id, EmailToken.purpose == purpose, EmailToken.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session="fetch")
    )


# --- registration and verification ----------------------------------------------------


@dataclass
class Registration:
    """What ``register`` did.  ``token`` is None when the address already had an account:
    then nothing was created and the owner should be told instead."""

    user: User
    token: str | None

    @property
    def already_registered(self) -> bool:
        return self.token is None


def register(dbsession, *, name: str, email: str, password: str, locale: str,
             now: dt.datetime | None = None) -> Registration:
    email = normalise_email(email)
    password_hash = hash_password(password)  # also for a known address: the time taken must not tell
    existing = find_user_by_email(dbsession, email)
    if existing is not None:
        return Registration(existing, None)
    user = User(name=name.strip(), email=email, password_hash=password_hash, locale=locale,
                email_verified=False, is_admin=False, created_at=now or utcnow())
    dbsession.add(user)
    dbsession.flush()
    return Registration(user, issue_token(dbsession, user, VERIFY, now=now))


def register_confirmed(dbsession, *, name: str, email: str, password: str, locale: str,
                       now: dt.datetime | None = None) -> User | None:
    """An account whose address needs no confirmation link, because the person has just
    opened a link mailed to it (an invitation).  None if the address already has one."""
    password_hash = hash_password(password)
    if find_user_by_email(dbsession, email) is not None:
        return None
    user = User(name=name.strip(), email=normalise_email(email), password_hash=password_hash, locale=locale,
                email_verified=True, is_admin=False, created_at=now or utcnow())
    dbsession.add(user)
    dbsession.flush()
    return user


def verify_email(dbsession, token: str, *, now: dt.datetime | None = None) -> User:
    """Mark the address behind a verification link as confirmed; raises ``InvalidToken``."""
    now = now or utcnow()
    row = check_token(dbsession, token, VERIFY, now=now)
    row.used_at = now
    row.user.email_verified = True
    return row.user


def resend_verification(dbsession, email: str, *, now: dt.datetime | None = None) -> tuple[User, str] | None:
    """A new verification token for an unconfirmed account with this address, else None
    (the caller says the same thing either way)."""
    user = find_user_by_email(dbsession, email)
    if user is None or user.email_verified:
        return None
    return user, issue_token(dbsession, user, VERIFY, now=now)


# --- signing in -----------------------------------------------------------------------


class LoginRefused(Exception):
    """``reason``: "credentials" (wrong address or password: never say which),
    "unverified" (right password, address not confirmed yet) or "throttled" (too many
    failures lately; ``retry_at`` says when the next attempt will be heard, ``scope``
    whether the account or the client is waiting)."""

    def __init__(self, reason: str, retry_at: dt.datetime | None = None, scope: str | None = None):
        super().__init__(reason)
        self.reason = reason
        self.retry_at = retry_at
        self.scope = scope

    def minutes_to_wait(self, now: dt.datetime | None = None) -> int:
        seconds = (self.retry_at - (now or utcnow())).total_seconds()
        return max(1, math.ceil(seconds / 60))


def authenticate(dbsession, email: str, password: str, *, client: str | None = None,
                 now: dt.datetime | None = None) -> User:
    """The account for these credentials, or ``LoginRefused``.

    Every attempt is counted before the password is looked at, against the address and,
    when ``client`` (a network address) is given, against the client
    (``grants.accounts.throttling``): beyond the limit it is refused without checking the
    password.  A right password clears the address's count and gives the client's place
    back, so only failures count."""
    now = now or utcnow()
    email = normalise_email(email)
    keys = [(throttling.client_key(client), throttling.CLIENT)] if client is not None else []
    keys.append((throttling.account_key(email), throttling.ACCOUNT))
    taken = []
    for key, limit in keys:
        retry_at = throttling.take(dbsession, key, limit, now=now)
        if retry_at is not None:
            for earlier in taken:  # a refusal unheard is no guess: it costs no place elsewhere
                throttling.give_back(dbsession, earlier)
            raise LoginRefused("throttled", retry_at, "account" if key.startswith("account:") else "client")
        taken.append(key)
    user = find_user_by_email(dbsession, email)
    password_ok = verify_password(user.password_hash if user is not None else _dummy_hash(), password)
    if user is None or not password_ok:
        raise LoginRefused("credentials")
    for key in taken:  # the right password: no guess
        if key.startswith("client:"):
            throttling.give_back(dbsession, key)
    clear_failed_logins(dbsession, email)
    if not user.email_verified:
        raise LoginRefused("unverified")
    if _hasher.check_needs_rehash(user.password_hash):  # argon2 parameters were raised since
        user.password_hash = hash_password(password)
    return user


def clear_failed_logins(dbsession, email: str) -> None:
    throttling.clear(dbsession, throttling.account_key(email))


# --- password reset -------------------------------------------------------------------


def request_password_reset(dbsession, email: str, *, now: dt.datetime | None = None) -> tuple[User, str] | None:
    """A reset token for the account with this address, or None if there is none (the
    caller says the same thing either way)."""
    user = find_user_by_email(dbsession, email)
    if user is None:
        return None
    return user, issue_token(dbsession, user, RESET, now=now)


def reset_password(dbsession, token: str, new_password: str, *, now: dt.datetime | None = None) -> User:
    """Set a new password through a reset link; raises ``InvalidToken``.  Every other
    outstanding reset link of the account stops working, and since the link reached the
    mailbox the address counts as confirmed."""
    now = now or utcnow()
    row = check_token(dbsession, token, RESET, now=now)
    user = row.user
    row.used_at = now
    _invalidate_tokens(dbsession, user, RESET, now)
    set_password(dbsession, user, new_password)
    user.email_verified = True
    clear_failed_logins(dbsession, user.email)  # a stranger's guesses no longer keep the owner out
    return user


def set_password(dbsession, user: User, new_password: str) -> None:
    """The one way to give an account a new password: every session of the account ends
    with the old password, wherever it was opened (the caller starts a new one for the
    person in front of it, if they stay signed in)."""
    user.password_hash = hash_password(new_password)
    dbsession.flush()
    end_sessions(dbsession, user.id)


class WrongPassword(Exception):
    """The current password given to change it is not right."""


def change_password(dbsession, user: User, current_password: str, new_password: str, *,
                    now: dt.datetime | None = None) -> None:
    """A signed-in person's new password, given the current one.  Wrong current passwords
    count as failed sign-ins of the account, so a stolen session cannot guess it
    faster than the sign-in page could (``LoginRefused("throttled")``)."""
    now = now or utcnow()
    key = throttling.account_key(user.email)
    retry_at = throttling.take(dbsession, key, throttling.ACCOUNT, now=now)
    if retry_at is not None:
        raise LoginRefused("throttled", retry_at, "account")
    if not verify_password(user.password_hash, current_password):
        raise WrongPassword()
    throttling.clear(dbsession, key)
    set_password(dbsession, user, new_password)


# --- mail -----------------------------------------------------------------------------
# Written in the recipient's own language (their account's), not the language of the
# page that caused them, and handed over only when the transaction ``tm`` commits.


def _send(registry, tm, user: User, subject, body) -> None:
    notify(registry, user, subject, body, transaction_manager=tm)


def _hours(hours: int):
    # A link's lifetime goes into a mail as its own plural: the language's form for the count.
    return ngettext("${count} hour", "${count} hours", hours)


def mail_verification_link(registry, tm, user: User, link: str) -> None:
    hours = int(TOKEN_LIFETIMES[VERIFY].total_seconds() // 3600)
    body = _(
        "Hello ${name},\n\n"
        "To confirm your e-mail address and finish creating your account, open this link:\n\n"
        "${link}\n\n"
        "The link works once, for ${lifetime}.\n\n"
        "If you did not create an account, ignore this message: nothing will happen.",
        mapping={"name": user.name, "link": link, "lifetime": _hours(hours)},
    )
    _send(registry, tm, user, _("Confirm your e-mail address"), body)


def mail_already_registered(registry, tm, user: User, login_link: str, reset_link: str) -> None:
    body = _(
        "Hello ${name},\n\n"
        "Someone tried to create an account with this e-mail address, "
        "but you already have one.\n\n"
        "If it was you, sign in here:\n${login}\n\n"
        "If you have forgotten your password, choose a new one here:\n${reset}\n\n"
        "If it was not you, ignore this message: your account has not changed.",
        mapping={"name": user.name, "login": login_link, "reset": reset_link},
    )
    _send(registry, tm, user, _("You already have an account"), body)


def mail_reset_link(registry, tm, user: User, link: str) -> None:
    hours = int(TOKEN_LIFETIMES[RESET].total_seconds() // 3600)
    body = _(
        "Hello ${name},\n\n"
        "To choose a new password, open this link:\n\n"
        "${link}\n\n"
        "The link works once, for ${lifetime}.\n\n"
        "If you did not ask for this, ignore this message: your password has not changed.",
        mapping={"name": user.name, "link": link, "lifetime": _hours(hours)},
    )
    _send(registry, tm, user, _("Choose a new password"), body)
