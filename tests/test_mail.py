"""The mail transports: console, maildir (used throughout the suite) and SMTP, the last
against a minimal SMTP listener on loopback.  The outbox in front of them:
tests/test_mail_outbox.py."""
from __future__ import annotations

import email
import email.policy
import socket
import threading

import pytest

from grants.mail import Mailer


class SMTPSink:
    """Just enough of RFC 5321 to accept messages: EHLO, MAIL, RCPT, DATA, QUIT."""

    def __init__(self):
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(1)
        self.port = self.server.getsockname()[1]
        self.messages: list[tuple[str, list[str], bytes]] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        conn, _ = self.server.accept()
        with conn, conn.makefile("rb") as lines:
            def say(text):
                conn.sendall(text.encode() + b"\r\n")

            say("220 sink ready")
            sender, recipients = "", []
            for raw in lines:
                command = raw.decode().strip()
                verb = command[:4].upper()
                if verb in ("EHLO", "HELO"):
                    say("250 sink")
                elif verb == "MAIL":
                    sender, recipients = command.split(":", 1)[1].strip(" <>"), []
                    say("250 OK")
                elif verb == "RCPT":
                    recipients.append(command.split(":", 1)[1].strip(" <>"))
                    say("250 OK")
                elif verb == "DATA":
                    say("354 end with .")
                    body = b""
                    for data in lines:
                        if data in (b".\r\n", b".\n"):
                            break
                        body += data
                    self.messages.append((sender, recipients, body))
                    say("250 queued")
                elif verb == "QUIT":
                    say("221 bye")
                    return
                else:
                    say("250 OK")

    def close(self):
        self.thread.join(10)
        self.server.close()


def test_smtp_backend_delivers_what_it_is_given():
    # Waiting for the commit is the outbox's part: tests/test_mail_outbox.py.
    sink = SMTPSink()
    mailer = Mailer({"mail.backend": "smtp", "mail.smtp_host": "127.0.0.1", "mail.smtp_port": str(sink.port),
                     "mail.sender": "grants@example.org"})
    mailer.send_now(mailer.message("amel@example.org", "Décision", "مرحبا — votre candidature"))
    sink.close()
    ((sender, recipients, body),) = sink.messages
    assert (sender, recipients) == ("grants@example.org", ["amel@example.org"])
    message = email.message_from_bytes(body, policy=email.policy.default)
    assert message["Subject"] == "Décision"
    assert message.get_content().strip() == "مرحبا — votre candidature"


def test_maildir_backend_delivers_each_message_whole_in_order_as_a_maildir_reader_sees_it(tmp_path):
    """Written under tmp/ and moved to new/ (the Maildir way), in a folder made if missing,
    the bytes it is given as they are; Python's own Maildir reader finds the messages."""
    import mailbox

    folder = tmp_path / "var" / "mail"
    mailer = Mailer({"mail.backend": "maildir", "mail.maildir": str(folder), "mail.sender": "grants@example.org"})
    first = mailer.message("amel@example.org", "Décision", "مرحبا — votre candidature")
    mailer.send_now(first, first.as_bytes())
    mailer.send_now(mailer.message("karim@example.org", "Second", "Bonjour"))
    assert [m["Subject"] for m in mailer.sent()] == ["Décision", "Second"]
    assert list((folder / "tmp").iterdir()) == []
    (written,) = [p for p in (folder / "new").iterdir() if p.read_bytes() == first.as_bytes()]
    assert len(mailbox.Maildir(folder, create=False)) == 2 and written.name.split(".M")[0].isdigit()


def test_console_backend_prints_the_message(capsys):
    mailer = Mailer({"mail.backend": "console"})
    mailer.send_now(mailer.message("leila@example.org", "Report due", "Your quarterly report is due."))
    err = capsys.readouterr().err
    assert "To: leila@example.org" in err and "Your quarterly report is due." in err


def test_unknown_backend_is_refused_at_start():
    with pytest.raises(ValueError, match="mail.backend must be maildir, console or smtp"):
        Mailer({"mail.backend": "pigeon"})
