"""The mail outbox against a real SMTP server (aiosmtpd) on loopback: a message is
written in the transaction that causes it, survives a server that refuses or is not
there, is retried with backoff, given up on a permanent refusal, and each message
reaches the server once it accepts — never twice, except after a crash, and then with
the same Message-ID."""
from __future__ import annotations

import datetime as dt
import email
import email.policy
import socket
import threading

import pytest
from sqlalchemy import event, func, select

import factories as f
from grants import make_config
from grants.i18n import _
from grants.mail import CLAIM_SECONDS, OutgoingMail, notify
from test_cli import grants, write_ini

Controller = pytest.importorskip("aiosmtpd.controller", reason="aiosmtpd (a test extra) is not installed").Controller


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Relay:
    """A real SMTP server on loopback.  While ``refusing`` it answers every message with
    451 (try again later); addresses in ``unknown`` get 550 (no such mailbox)."""

    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.refusing = False
        self.unknown: set[str] = set()
        self.received: list[email.message.EmailMessage] = []
        self.lock = threading.Lock()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.unknown:
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.refusing:
            return "451 4.3.0 Busy, try again later"
        with self.lock:
            self.received.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 2.0.0 Accepted"

    def start(self):
        self.controller.start()
        return self

    def stop(self):
        self.controller.stop()

    def message_ids(self) -> list[str]:
        return [m["Message-ID"] for m in self.received]


@pytest.fixture
def relay():
    server = Relay().start()
    yield server
    server.stop()


def smtp_registry(settings, port: int, **extra):
    return make_config({**settings, "mail.backend": "smtp", "mail.smtp_host": "127.0.0.1",
                        "mail.smtp_port": str(port), "mail.smtp_timeout": "5", **extra}).registry


def outbox(registry) -> list[OutgoingMail]:
    with registry.database.transaction() as (_tm, db):
        return list(db.scalars(select(OutgoingMail).order_by(OutgoingMail.id)))


def mail_to(registry, *addresses, fail: bool = False):
    """Notify a new user per address, in one transaction (rolled back when ``fail``)."""
    class Failed(Exception):
        pass

    try:
        with registry.database.transaction() as (tm, db):
            for address in addresses:
                person = f.user(db, email=address, name="Amel", locale="fr")
                notify(registry, person, _("Confirm your e-mail address"),
                       _("Enter a password of at least ${min} characters", mapping={"min": 12}),
                       transaction_manager=tm)
            if fail:
                raise Failed()
    except Failed:
        pass


def test_a_rolled_back_change_sends_nothing_and_a_committed_one_is_sent_at_once(settings, relay):
    registry = smtp_registry(settings, relay.port)
    mail_to(registry, "lost@example.org", fail=True)
    assert outbox(registry) == [] and relay.received == []
    mail_to(registry, "amel@example.org")
    (row,) = outbox(registry)
    (message,) = relay.received
    assert message["To"] == "amel@example.org"
    assert message["Subject"] == "Confirmez votre adresse e-mail"  # her language, not the page's
    assert message["Message-ID"] == row.message_id
    assert row.sent_at is not None and row.next_attempt_at is None and row.attempts == 1


def test_mail_sent_at_once_is_claimed_as_it_is_written_so_a_worker_leaves_it_alone(settings, relay):
    """The rows a transaction writes are claimed in that transaction: a worker that runs
    between the commit and the send at once passes them by, and the send reads nothing
    back: the rows are marked sent in one UPDATE (what a submit's receipt costs after
    its commit)."""
    registry = smtp_registry(settings, relay.port)
    mailer, engine = registry.mailer, registry.database.engine
    early_runs, statements = [], []

    def count(_conn, _cursor, statement, *_args):
        if "mail_outbox" in statement:
            statements.append(statement.split()[0])

    event.listen(engine, "before_cursor_execute", count)
    try:
        with registry.database.transaction() as (tm, db):
            # Registered first, so it runs first after the commit: a worker at the worst moment.
            tm.get().addAfterCommitHook(lambda ok: early_runs.append(mailer.send_pending(engine, purge=False)))
            for address in ("amel@example.org", "karim@example.org"):
                notify(registry, f.user(db, email=address, name="Amel", locale="fr"),
                       _("Confirm your e-mail address"), _("Enter a password of at least ${min} characters",
                                                          mapping={"min": 12}), transaction_manager=tm)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    (early,) = early_runs
    assert early.sent == [] and early.postponed == []  # claimed: not the worker's to send
    assert sorted(m["To"] for m in relay.received) == ["amel@example.org", "karim@example.org"]  # each once
    assert all(r.sent_at is not None and r.attempts == 1 and r.claimed_until is None for r in outbox(registry))
    # The worker's own look (one SELECT that finds nothing due and unclaimed) aside, the
    # outbox costs the INSERT of the rows and the one UPDATE marking them sent.
    assert [s for s in statements if s != "SELECT"] in (["INSERT", "INSERT", "UPDATE"], ["INSERT", "UPDATE"])
    assert statements.count("SELECT") == 1


def test_a_refusing_server_loses_nothing_and_each_mail_goes_once_when_it_accepts(settings, relay):
    registry = smtp_registry(settings, relay.port, **{"mail.retry_delay": "60"})
    relay.refusing = True
    mail_to(registry, "amel@example.org", "karim@example.org")
    rows = outbox(registry)
    assert [r.attempts for r in rows] == [1, 1] and relay.received == []
    assert all("451" in r.last_error and r.sent_at is None for r in rows)
    tried_at = max(r.next_attempt_at for r in rows) - dt.timedelta(seconds=60)

    # Not yet due: the worker leaves them alone, whether or not the server would take them.
    relay.refusing = False
    early = registry.mailer.send_pending(registry.database.engine, now=tried_at + dt.timedelta(seconds=30))
    assert early.sent == [] and relay.received == []

    relay.refusing = True  # refused again: put off twice as long
    again = registry.mailer.send_pending(registry.database.engine, now=tried_at + dt.timedelta(seconds=61))
    assert sorted(again.postponed) == [r.id for r in rows]
    second = outbox(registry)
    assert [r.attempts for r in second] == [2, 2]
    assert all(r.next_attempt_at == tried_at + dt.timedelta(seconds=61 + 120) for r in second)

    relay.refusing = False
    later = tried_at + dt.timedelta(seconds=61 + 121)
    done = registry.mailer.send_pending(registry.database.engine, now=later)
    assert sorted(done.sent) == [r.id for r in rows]
    assert sorted(relay.message_ids()) == sorted(r.message_id for r in rows)
    assert registry.mailer.send_pending(registry.database.engine, now=later + dt.timedelta(hours=1)).sent == []
    assert len(relay.received) == 2  # each once
    assert all(r.sent_at == later and r.attempts == 3 for r in outbox(registry))


def test_a_server_that_is_not_there_stops_the_run_and_the_mail_goes_when_it_is_back(settings):
    port = free_port()  # nothing listens there yet: connection refused
    registry = smtp_registry(settings, port)
    mail_to(registry, "amel@example.org", "karim@example.org")
    rows = outbox(registry)
    assert all(r.sent_at is None and "cannot reach" in r.last_error for r in rows)
    later = max(r.next_attempt_at for r in rows)
    report = registry.mailer.send_pending(registry.database.engine, now=later)
    # One failure to connect ends the run: the second message is not even tried.
    assert len(report.postponed) == 1 and report.stopped and "cannot reach" in report.stopped
    relay = Relay(port).start()
    try:
        report = registry.mailer.send_pending(registry.database.engine, now=later + dt.timedelta(hours=1))
    finally:
        relay.stop()
    assert sorted(report.sent) == [r.id for r in rows]
    assert sorted(relay.message_ids()) == sorted(r.message_id for r in rows)


def test_a_permanent_refusal_is_given_up_and_the_others_still_go(settings, relay):
    relay.unknown = {"nobody@example.org"}
    registry = smtp_registry(settings, relay.port)
    mail_to(registry, "nobody@example.org", "amel@example.org")
    nobody, amel = outbox(registry)
    assert nobody.failed_at is not None and nobody.next_attempt_at is None and "550" in nobody.last_error
    assert amel.sent_at is not None
    report = registry.mailer.send_pending(registry.database.engine, now=nobody.failed_at + dt.timedelta(days=1))
    assert report.sent == [] and report.postponed == []
    assert [m["To"] for m in relay.received] == ["amel@example.org"]


def test_a_mail_refused_too_often_is_given_up(settings, relay):
    relay.refusing = True
    registry = smtp_registry(settings, relay.port, **{"mail.max_attempts": "3", "mail.retry_delay": "0"})
    mail_to(registry, "amel@example.org")
    now = outbox(registry)[0].created_at + dt.timedelta(seconds=1)
    assert registry.mailer.send_pending(registry.database.engine, now=now).postponed  # attempt 2
    report = registry.mailer.send_pending(registry.database.engine, now=now)  # attempt 3: the last
    (row,) = outbox(registry)
    assert report.given_up == [row.id] and row.failed_at == now and row.attempts == 3


def test_after_a_crash_the_mail_goes_again_with_the_same_message_id(settings, relay):
    """At least once: a process that died between the server's 250 and marking the row
    leaves it claimed; once the claim runs out it is sent again, recognisably the same."""
    registry = smtp_registry(settings, relay.port, **{"mail.send_at_once": "false"})
    mail_to(registry, "amel@example.org")
    assert relay.received == []  # left to the worker
    mailer, engine = registry.mailer, registry.database.engine
    now = outbox(registry)[0].created_at
    row_id, _attempts, raw = mailer._claim(engine, now, None, set())
    mailer.send_now(email.message_from_bytes(raw, policy=email.policy.default))  # ...and the process dies here
    assert mailer.send_pending(engine, now=now + dt.timedelta(seconds=CLAIM_SECONDS - 1)).sent == []  # claimed
    assert mailer.send_pending(engine, now=now + dt.timedelta(seconds=CLAIM_SECONDS)).sent == [row_id]
    first, second = relay.received
    assert first["Message-ID"] == second["Message-ID"] == outbox(registry)[0].message_id


def test_workers_in_parallel_send_each_mail_once(settings, relay):
    registry = smtp_registry(settings, relay.port, **{"mail.send_at_once": "false"})
    mail_to(registry, *[f"person{i}@example.org" for i in range(12)])
    now = outbox(registry)[-1].created_at
    reports, errors = [], []

    def work():
        try:
            reports.append(registry.mailer.send_pending(registry.database.engine, now=now))
        except Exception as exc:  # pragma: no cover - shown by the assertion below
            errors.append(exc)

    workers = [threading.Thread(target=work) for _ in range(3)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(60)
    assert errors == []
    assert sorted(i for r in reports for i in r.sent) == [r.id for r in outbox(registry)]
    assert len(relay.received) == 12 and len(set(relay.message_ids())) == 12


def test_sent_mail_is_deleted_after_the_days_it_is_kept(settings, relay):
    registry = smtp_registry(settings, relay.port, **{"mail.keep_sent_days": "30"})
    mail_to(registry, "amel@example.org")
    (row,) = outbox(registry)
    mailer, engine = registry.mailer, registry.database.engine
    assert mailer.send_pending(engine, now=row.sent_at + dt.timedelta(days=29)).purged == 0
    assert mailer.send_pending(engine, now=row.sent_at + dt.timedelta(days=31)).purged == 1
    assert outbox(registry) == []


def test_grants_mail_send_and_grants_tick_send_what_waits(tmp_path, database_url, database, settings, relay):
    registry = smtp_registry(settings, relay.port, **{"mail.send_at_once": "false"})
    mail_to(registry, "amel@example.org")
    ini = write_ini(tmp_path / "mail.ini", database_url, **{"mail.smtp_host": "127.0.0.1",
                                                            "mail.smtp_port": str(relay.port)})
    ini.write_text(ini.read_text().replace("mail.backend = console", "mail.backend = smtp"))
    sent = grants("mail", "send", str(ini))
    assert "mail: 1 message sent" in sent.stdout and len(relay.received) == 1
    assert grants("mail", "send", str(ini)).stdout.strip() == "no mail is waiting"
    mail_to(registry, "karim@example.org")
    ticked = grants("tick", str(ini))
    assert "mail: 1 message sent" in ticked.stdout
    assert [m["To"] for m in relay.received] == ["amel@example.org", "karim@example.org"]
    with registry.database.transaction() as (_tm, db):
        assert db.scalar(select(func.count()).select_from(OutgoingMail).where(OutgoingMail.sent_at.is_(None))) == 0
