"""Outgoing mail: a local maildir or the console in development, SMTP when configured.

Mail is only ever sent after the database transaction commits (``send_after_commit``),
so a refused or rolled-back action never tells anyone it happened.

Settings: ``mail.backend`` = ``maildir`` (``mail.maildir`` = folder), ``console`` or
``smtp`` (``mail.smtp_host``, ``mail.smtp_port``, ``mail.smtp_user``,
``mail.smtp_password``, ``mail.smtp_starttls``); ``mail.sender``.
"""
from __future__ import annotations

import email
import email.policy
import email.utils
import logging
import mailbox
import smtplib
import sys
from email.message import EmailMessage
from pathlib import Path

import transaction

log = logging.getLogger(__name__)


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
            "starttls": settings.get("mail.smtp_starttls", "false").lower() in ("1", "true", "yes"),
        }
        if self.backend not in ("maildir", "console", "smtp"):
            raise ValueError(f"mail.backend must be maildir, console or smtp, not {self.backend!r}")

    def message(self, to: str, subject: str, body: str) -> EmailMessage:
        msg = EmailMessage()
        msg["From"] = self.sender
        msg["To"] = to
        msg["Subject"] = subject
        msg["Date"] = email.utils.formatdate(localtime=False)
        msg["Message-ID"] = email.utils.make_msgid(domain=self.sender.rpartition("@")[2] or None)
        msg.set_content(body)
        return msg

    def send_now(self, msg: EmailMessage) -> None:
        if self.backend == "maildir":
            Path(self.maildir).parent.mkdir(parents=True, exist_ok=True)
            # Maildir makes tmp/new/cur only when it creates the folder itself.
            mailbox.Maildir(self.maildir, create=True).add(msg)
        elif self.backend == "console":
            print(f"--- mail ---\n{msg}", file=sys.stderr)
        else:
            with smtplib.SMTP(self.smtp["host"], self.smtp["port"], timeout=30) as smtp:
                if self.smtp["starttls"]:
                    smtp.starttls()
                if self.smtp["user"]:
                    smtp.login(self.smtp["user"], self.smtp["password"] or "")
                smtp.send_message(msg)

    def send_after_commit(self, msg: EmailMessage, transaction_manager=None) -> None:
        tm = transaction_manager or transaction.manager

        def hook(success: bool) -> None:
            if not success:
                return
            try:
                self.send_now(msg)
            except Exception:  # the data is committed; report, do not undo
                log.exception("could not send mail to %s", msg["To"])

        tm.get().addAfterCommitHook(hook)

    def sent(self) -> list[EmailMessage]:
        """What a maildir holds (development and tests)."""
        if self.backend != "maildir" or not Path(self.maildir).exists():
            return []
        box = mailbox.Maildir(self.maildir, factory=_read_message, create=False)
        return [box[key] for key in sorted(box.keys(), key=_delivery_order)]


def notify(registry, user, subject, body, transaction_manager=None) -> None:
    """Mail ``user`` in their own language (their account's, not the page's that caused
    it), once the transaction commits.  ``subject`` and ``body`` are TranslationStrings."""
    from grants.i18n import translate_for

    def tr(message):
        return translate_for(registry, user.locale, message)

    mailer = registry.mailer
    mailer.send_after_commit(mailer.message(user.email, tr(subject), tr(body)), transaction_manager=transaction_manager)


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
