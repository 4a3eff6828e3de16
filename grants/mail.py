"""Outgoing mail, through an outbox table in the database.

Sending a notification writes a row of ``mail_outbox`` (the whole message, with its
Message-ID) in the same transaction as the change that causes it: a rolled-back action
sends nothing, and once the change is committed the mail is committed with it, so a
crash, a restart or a mail server that is down loses nothing.

Right after the commit the process tries to deliver the rows it has just written
(``mail.send_at_once``, on by default), so mail still arrives within the request.  Such a
row is written already claimed by the process that writes it (below), so sending it
after the commit costs no claim of its own: the message goes from memory, and the rows
sent are marked in one transaction.  What could not be delivered then waits for the
worker, ``grants mail send INI`` (also run by ``grants tick``), which sends every row
that is due, with retries and backoff:

- each row is first *claimed* for ``CLAIM_SECONDS`` by a conditional UPDATE committed at
  once (on PostgreSQL the candidate row is also locked ``SKIP LOCKED``), so two workers,
  or a worker and a web process, never send the same row at the same time;
- delivered: ``sent_at`` is set and the row is done;
- a temporary failure (the server is unreachable, or answers 4xx) puts the row off,
  ``mail.retry_delay`` seconds doubling with each attempt, at most ``MAX_RETRY_DELAY``;
  a server that cannot be reached ends the run, the rest waiting for the next one;
- a permanent refusal (5xx), or ``mail.max_attempts`` attempts, gives up: ``failed_at``
  and ``last_error`` say why, and the row is never sent.

Delivery is at least once: if a process dies after the server accepted a message but
before the row was marked, the claim runs out and the message goes again, with the same
Message-ID, by which mail programs recognise the duplicate.  Sent rows are deleted after
``mail.keep_sent_days`` days.

Transports (``mail.backend``): ``maildir`` (``mail.maildir`` = folder; development and
the test suite), ``console`` (printed to standard error) or ``smtp`` (``mail.smtp_host``,
``mail.smtp_port``, ``mail.smtp_user``, ``mail.smtp_password``, ``mail.smtp_starttls``,
``mail.smtp_timeout``).  ``mail.sender`` is the From address.
"""
from __future__ import annotations

import datetime as dt
import email
import email.policy
import email.utils
import logging
import mailbox
import smtplib
import sys
import weakref
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path

import transaction
from sqlalchemy import Integer, LargeBinary, String, delete, or_, select, text, update
from sqlalchemy.orm import Mapped, Session, mapped_column, object_session

from grants.db import Base, UTCDateTime

log = logging.getLogger(__name__)

#: How long a claimed row is left to the process that claimed it before another may send
#: it: far longer than an SMTP conversation (``mail.smtp_timeout``, 30 s by default).
CLAIM_SECONDS = 300
MAX_RETRY_DELAY = 3600

_TRUE = ("1", "true", "yes", "on")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class OutgoingMail(Base):
    """One message to send.  ``next_attempt_at`` is when it is due, and empty once it has
    been sent or given up: the worker's query reads that one indexed column."""

    __tablename__ = "mail_outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[str] = mapped_column(String(255), unique=True)
    recipient: Mapped[str] = mapped_column(String(320))
    # The bytes exactly as they will be sent: text columns would strip bidi marks from them.
    message: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, index=True)
    claimed_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    failed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(2000))  # cut to this length where written


class ServerUnavailable(Exception):
    """The mail server could not be reached or would not talk to us: no message can go now."""


@dataclass
class SendReport:
    """What one run of the worker did, by outbox row id."""

    sent: list[int] = field(default_factory=list)
    postponed: list[int] = field(default_factory=list)
    given_up: list[int] = field(default_factory=list)
    stopped: str | None = None  # why the run ended early (the server is unreachable)
    purged: int = 0


class Mailer:
    def __init__(self, settings: dict):
        self.backend = settings.get("mail.backend", "console")
        self.sender = settings.get("mail.sender", "grants@localhost")
        self.maildir = settings.get("mail.maildir", "var/mail")
        self.smtp = {
            "host": settings.get("mail.smtp_host", "localhost"),
            "port": int(settings.get("mail.smtp_port", 25)),
            "user": settings.get("mail.smtp_user"),
            "password": settings.get("mail.smtp_password"),
            "starttls": str(settings.get("mail.smtp_starttls", "false")).lower() in _TRUE,
            "timeout": float(settings.get("mail.smtp_timeout", 30)),
        }
        self.send_at_once = str(settings.get("mail.send_at_once", "true")).lower() in _TRUE
        self.retry_delay = int(settings.get("mail.retry_delay", 60))
        self.max_attempts = int(settings.get("mail.max_attempts", 12))
        self.keep_sent_days = int(settings.get("mail.keep_sent_days", 30))
        if self.backend not in ("maildir", "console", "smtp"):
            raise ValueError(f"mail.backend must be maildir, console or smtp, not {self.backend!r}")
        if self.max_attempts < 1 or self.retry_delay < 0:
            raise ValueError("mail.max_attempts must be at least 1 and mail.retry_delay at least 0")
        #: The messages each open transaction has written, to send once it commits.
        self._waiting: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def message(self, to: str, subject: str, body: str) -> EmailMessage:
        msg = EmailMessage()
        msg["From"] = self.sender
        msg["To"] = to
        msg["Subject"] = subject
        msg["Date"] = email.utils.formatdate(localtime=False)
        msg["Message-ID"] = email.utils.make_msgid(domain=self.sender.rpartition("@")[2] or None)
        msg.set_content(body)
        return msg

    # -- the transport ---------------------------------------------------------------------

    def send_now(self, msg: EmailMessage, raw: bytes | None = None) -> None:
        """Hand one message to the transport; raises if it was not accepted.  ``raw``: the
        message's bytes when the caller has them (the outbox row's), written as they are."""
        if self.backend == "maildir":
            _deliver_to_maildir(Path(self.maildir), msg.as_bytes() if raw is None else raw)
        elif self.backend == "console":
            print(f"--- mail ---\n{msg}", file=sys.stderr)
        else:
            try:
                smtp = smtplib.SMTP(self.smtp["host"], self.smtp["port"], timeout=self.smtp["timeout"])
            except (OSError, smtplib.SMTPException) as exc:  # refused, unreachable, or a 4xx/5xx greeting
                raise ServerUnavailable(f"cannot reach {self.smtp['host']}:{self.smtp['port']}: {exc}") from exc
            with smtp:
                try:
                    if self.smtp["starttls"]:
                        smtp.starttls()
                    if self.smtp["user"]:
                        smtp.login(self.smtp["user"], self.smtp["password"] or "")
                except (OSError, smtplib.SMTPException) as exc:  # no TLS, wrong password: the settings
                    raise ServerUnavailable(f"{self.smtp['host']}:{self.smtp['port']}: {exc}") from exc
                smtp.send_message(msg)

    # -- the outbox ------------------------------------------------------------------------

    def send_after_commit(self, msg: EmailMessage, transaction_manager=None, *, dbsession: Session) -> None:
        """Put ``msg`` in the outbox through ``dbsession``, in its transaction (managed by
        ``transaction_manager``); once that commits, try to deliver it at once."""
        now = utcnow()
        raw = msg.as_bytes()
        # Sent at once: the row is claimed as it is written, so no worker takes it between
        # the commit and the send, and the send needs no claim transaction of its own.  A
        # process that dies in between leaves the claim to run out (``CLAIM_SECONDS``), as
        # after any claim; then the worker sends it.
        claimed = now + dt.timedelta(seconds=CLAIM_SECONDS) if self.send_at_once else None
        dbsession.add(OutgoingMail(message_id=msg["Message-ID"], recipient=str(msg["To"]), message=raw,
                                   created_at=now, next_attempt_at=now, claimed_until=claimed, attempts=0))
        if not self.send_at_once:
            return
        tm = transaction_manager or transaction.manager
        current = tm.get()
        # One after-commit hook per transaction sends every message it wrote, in order.
        waiting = self._waiting.get(current)
        if waiting is None:
            waiting = self._waiting[current] = []
            engine = dbsession.get_bind()

            def hook(success: bool) -> None:
                self._waiting.pop(current, None)
                if success:
                    self._send_claimed(engine, waiting)

            current.addAfterCommitHook(hook)
        waiting.append((msg, raw))

    def _send_claimed(self, engine, messages: list[tuple[EmailMessage, bytes]]) -> None:
        """Send the messages just committed, claimed by this process when they were written
        (never tried before: their first attempt), and mark those sent in one transaction."""
        sent = []
        try:
            for msg, raw in messages:
                message_id = msg["Message-ID"]
                try:
                    self.send_now(msg, raw)  # the very message whose bytes the row holds
                except Exception as exc:  # noqa: BLE001 -- recorded on the row; the worker retries it
                    log.warning("mail %s not sent at once: %s", message_id, _one_line(exc))
                    self._failed(engine, OutgoingMail.message_id == message_id, 1, exc, utcnow())
                    continue
                sent.append(message_id)
        except Exception:  # the mail is committed in the outbox; the claim runs out and the worker sends it
            log.exception("could not send mail at once; it waits in the outbox")
        finally:
            if sent:
                try:
                    self._mark_sent(engine, OutgoingMail.message_id.in_(sent), 1, utcnow())
                except Exception:  # sent, but not marked: sent again once the claim runs out (at least once)
                    log.exception("mail %s sent but not marked as sent", ", ".join(sent))

    def send_pending(self, engine, *, now: dt.datetime | None = None, message_ids=None, limit: int | None = None,
                     purge: bool = True) -> SendReport:
        """Send every outbox row that is due (only those of ``message_ids`` when given),
        each claimed first and marked after; see the module's docstring."""
        now = now or utcnow()
        report = SendReport()
        tried: set[int] = set()
        while limit is None or len(tried) < limit:
            claimed = self._claim(engine, now, message_ids, tried)
            if claimed is None:
                break
            row_id, attempts, raw = claimed
            tried.add(row_id)
            try:
                self.send_now(email.message_from_bytes(raw, policy=email.policy.default), raw)
            except Exception as exc:  # noqa: BLE001 -- every failure is recorded on the row
                gave_up = self._failed(engine, OutgoingMail.id == row_id, attempts + 1, exc, now)
                (report.given_up if gave_up else report.postponed).append(row_id)
                log.warning("mail %s not sent (attempt %s): %s", row_id, attempts + 1, _one_line(exc))
                if isinstance(exc, ServerUnavailable):
                    report.stopped = _one_line(exc)
                    break
                continue
            self._mark_sent(engine, OutgoingMail.id == row_id, attempts + 1, now)
            report.sent.append(row_id)
        if purge and self.keep_sent_days:
            report.purged = self.purge_sent(engine, now=now)
        return report

    def _claim(self, engine, now, message_ids, tried):
        due = [OutgoingMail.next_attempt_at <= now,
               or_(OutgoingMail.claimed_until.is_(None), OutgoingMail.claimed_until <= now)]
        if message_ids is not None:
            due.append(OutgoingMail.message_id.in_(list(message_ids)))
        if tried:
            due.append(OutgoingMail.id.not_in(tried))  # tried once in this run is enough
        with Session(engine) as s, s.begin():
            while True:
                # SKIP LOCKED lets PostgreSQL workers pass over a row another is claiming;
                # SQLite ignores it and serialises writers, and the UPDATE below decides.
                row_id = s.scalar(select(OutgoingMail.id).where(*due).order_by(OutgoingMail.next_attempt_at,
                                                                              OutgoingMail.id)
                                  .limit(1).with_for_update(skip_locked=True))
                if row_id is None:
                    return None
                won = s.execute(update(OutgoingMail).where(OutgoingMail.id == row_id, *due)
                                .values(claimed_until=now + dt.timedelta(seconds=CLAIM_SECONDS))).rowcount
                if won:
                    attempts, raw = s.execute(select(OutgoingMail.attempts, OutgoingMail.message)
                                              .where(OutgoingMail.id == row_id)).one()
                    return row_id, attempts, bytes(raw)

    def _mark_sent(self, engine, which, attempts: int, now) -> None:
        """Mark the rows ``which`` selects (a condition) sent, at their ``attempts``-th attempt."""
        with engine.begin() as conn:  # one UPDATE: no ORM session needed around it
            if conn.dialect.name == "postgresql":
                # A mark lost to a crash of the database only sends the message again, with
                # the same Message-ID (at least once, as above): this commit need not wait
                # for the disk, which would make it cost as much as the change that caused it.
                conn.execute(text("SET LOCAL synchronous_commit TO OFF"))
            conn.execute(update(OutgoingMail).where(which).values(
                sent_at=now, next_attempt_at=None, claimed_until=None, attempts=attempts, last_error=None))

    def _failed(self, engine, which, attempts: int, exc: Exception, now) -> bool:
        """Record a failed attempt on the row ``which`` selects (a condition); True when
        the row is given up."""
        give_up = _permanent(exc) or attempts >= self.max_attempts
        delay = min(self.retry_delay * 2 ** (attempts - 1), MAX_RETRY_DELAY)
        with Session(engine) as s, s.begin():
            s.execute(update(OutgoingMail).where(which).values(
                attempts=attempts, claimed_until=None, last_error=_one_line(exc)[:2000],
                next_attempt_at=None if give_up else now + dt.timedelta(seconds=delay),
                failed_at=now if give_up else None))
        if give_up:
            log.error("mail given up after %s attempts: %s", attempts, _one_line(exc))
        return give_up

    def purge_sent(self, engine, *, now: dt.datetime | None = None) -> int:
        """Delete rows sent more than ``mail.keep_sent_days`` days ago; how many went."""
        horizon = (now or utcnow()) - dt.timedelta(days=self.keep_sent_days)
        with Session(engine) as s, s.begin():
            return s.execute(delete(OutgoingMail).where(OutgoingMail.sent_at < horizon)).rowcount or 0

    def sent(self) -> list[EmailMessage]:
        """What a maildir holds (development and tests)."""
        if self.backend != "maildir" or not Path(self.maildir).exists():
            return []
        box = mailbox.Maildir(self.maildir, factory=_read_message, create=False)
        return [box[key] for key in sorted(box.keys(), key=_delivery_order)]


def _permanent(exc: Exception) -> bool:
    """A 5xx answer about this message: sending it again would be refused again."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _msg in exc.recipients.values())
    return isinstance(exc, smtplib.SMTPResponseException) and exc.smtp_code >= 500


def _one_line(exc: Exception) -> str:
    detail = exc.recipients if isinstance(exc, smtplib.SMTPRecipientsRefused) else exc
    return " ".join(f"{type(exc).__name__}: {detail}".split())


def notify(registry, user, subject, body, transaction_manager=None, dbsession: Session | None = None) -> None:
    """Mail ``user`` in their own language (their account's, not the page's that caused
    it), through the outbox of the transaction that made the change.  ``subject`` and
    ``body`` are TranslationStrings; ``dbsession`` is the session of that transaction,
    by default the one ``user`` was loaded in."""
    from grants.i18n import translate_for

    def tr(message):
        return translate_for(registry, user.locale, message)

    dbsession = dbsession if dbsession is not None else _session_of(user)
    mailer = registry.mailer
    mailer.send_after_commit(mailer.message(user.email, tr(subject), tr(body)),
                             transaction_manager=transaction_manager, dbsession=dbsession)


def _session_of(user) -> Session:
    try:
        dbsession = object_session(user)
    except Exception:  # noqa: BLE001 -- not a mapped object (an invitation's address)
        dbsession = None
    if dbsession is None:
        raise TypeError("notify() needs dbsession= when the recipient is not a user loaded from the database")
    return dbsession


def send_mail(registry) -> SendReport:
    """The worker's step (``grants mail send``, ``grants tick``)."""
    return registry.mailer.send_pending(registry.database.engine)


def _deliver_to_maildir(folder: Path, raw: bytes) -> None:
    """Deliver ``raw`` as it is to the maildir ``folder``, made if missing (Maildir makes
    tmp/new/cur only when it creates the folder itself)."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    mailbox.Maildir(folder, create=True).add(raw)


def _delivery_order(key: str) -> tuple[int, int]:
    # Maildir keys begin "<seconds>.M<microseconds>P…"; the microseconds are not zero-padded.
    seconds, _, rest = key.partition(".M")
    micro = rest.split("P", 1)[0]
    return (int(seconds), int(micro)) if seconds.isdigit() and micro.isdigit() else (0, 0)


def _read_message(fp) -> EmailMessage:
    return email.message_from_binary_file(fp, policy=email.policy.default)


def includeme(config):
    mailer = Mailer(config.get_settings())
    config.registry.mailer = mailer
    config.add_request_method(lambda request: request.registry.mailer, "mailer", reify=True)
