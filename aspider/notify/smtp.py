"""
Email over SMTP: the standard library's `smtplib` and `email`, in a worker thread.

STARTTLS (port 587) or implicit TLS (465), the server's certificate verified (against
`ca_file` when a private CA signed it), then AUTH when a user is set. A password never goes
over a connection without TLS, except to this machine's own relay (127.0.0.0/8, ::1). Every
failure becomes one `DeliveryFailed` sentence naming the setting to check; none holds the
password (smtplib's errors carry the server's reply, which never echoes it).
"""

from __future__ import annotations

import ipaddress
import smtplib
import socket
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from functools import partial

import anyio.to_thread
from pydantic import SecretStr

from aspider._exceptions import ConfigError
from aspider.notify._exceptions import DeliveryFailed
from aspider.notify.messages import Message
from aspider.settings import EmailSection

_PORTS = {"starttls": 587, "tls": 465, "none": 25}


@dataclass(frozen=True)
class SmtpServer:
    """How to reach the server and log in (the password resolved once, kept secret)."""

    host: str
    port: int
    security: str
    user: str | None
    password: SecretStr | None
    sender: str
    ca_file: str | None
    timeout: float

    @classmethod
    def from_settings(cls, email: EmailSection) -> SmtpServer:
        """
        Raises:
            ConfigError: no server, a login half set, or a password that would go in clear.
        """
        if not email.host:
            raise ConfigError("notify.email.host is not set: name the SMTP server")
        password = email.resolved_password()
        sender = email.sender or f"aspider@{socket.getfqdn()}"
        user = email.user or (sender if password is not None else None)
        if user is not None and password is None:
            raise ConfigError(
                f"notify.email.user is {user!r} but there is no password: set "
                "ASPIDER_NOTIFY__EMAIL__PASSWORD, or notify.email.password_file to a mounted secret"
            )
        if password is not None and email.security == "none" and not _loopback(email.host):
            raise ConfigError(
                f"notify.email.security is none: the password would go to {email.host} in "
                "clear; use starttls (port 587) or tls (port 465)"
            )
        port = email.port or _PORTS[email.security]
        ca_file = str(email.ca_file) if email.ca_file else None
        return cls(email.host, port, email.security, user, password, sender, ca_file, email.timeout)

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port}"


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class EmailChannel:
    """Messages to some recipients through one SMTP server."""

    def __init__(self, server: SmtpServer, recipients: tuple[str, ...]) -> None:
        self.server = server
        self.recipients = recipients
        self.id = "email:" + ",".join(sorted(recipients))
        self.label = "email to " + ", ".join(recipients)
        self.where = server.where

    async def send(self, message: Message) -> None:
        email = render(message, self.server.sender, self.recipients)
        await anyio.to_thread.run_sync(partial(_deliver, self.server, email, self.label))


def render(message: Message, sender: str, recipients: tuple[str, ...]) -> EmailMessage:
    """The message as an email: plain text, and HTML beside it when there is some."""
    email = EmailMessage()
    domain = sender.rpartition("@")[2] or "aspider.invalid"
    email["Subject"] = " ".join(message.subject.split())
    email["From"] = sender
    email["To"] = ", ".join(recipients)
    email["Date"] = formatdate(localtime=True)
    email["Auto-Submitted"] = "auto-generated"  # RFC 3834: no out-of-office replies to it
    email["X-Aspider-Kind"] = message.kind
    if message.project:
        email["X-Aspider-Project"] = message.project
    if message.key:
        email["X-Aspider-Problem"] = message.key
    thread = f"<{message.thread}@{domain}>" if message.thread else ""
    if thread and message.opens_thread:
        email["Message-ID"] = thread
    else:
        email["Message-ID"] = make_msgid(domain=domain)
        if thread:
            email["In-Reply-To"] = thread
            email["References"] = thread
    email.set_content(message.text)
    if message.html is not None:
        email.add_alternative(message.html, subtype="html")
    return email


def _deliver(server: SmtpServer, email: EmailMessage, label: str) -> None:
    """One SMTP conversation (in a worker thread); every failure as `DeliveryFailed`."""
    try:
        _converse(server, email)
    except smtplib.SMTPException as exc:
        raise DeliveryFailed(label, server.where, _smtp_reason(exc, server)) from exc
    except ssl.SSLError as exc:
        raise DeliveryFailed(label, server.where, _tls_reason(exc)) from exc
    except OSError as exc:
        raise DeliveryFailed(label, server.where, _network_reason(exc, server)) from exc


def _converse(server: SmtpServer, email: EmailMessage) -> None:
    context = ssl.create_default_context(cafile=server.ca_file)
    client: smtplib.SMTP
    if server.security == "tls":
        client = smtplib.SMTP_SSL(server.host, server.port, timeout=server.timeout, context=context)
    else:
        client = smtplib.SMTP(server.host, server.port, timeout=server.timeout)
    with client:
        client.ehlo()
        if server.security == "starttls":
            client.starttls(context=context)
            client.ehlo()
        if server.user is not None and server.password is not None:
            client.login(server.user, server.password.get_secret_value())
        client.send_message(email)


def _smtp_reason(exc: smtplib.SMTPException, server: SmtpServer) -> str:
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        said = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else ""
        return (
            f"the server refused the login of {server.user!r} ({exc.smtp_code} {said}): check "
            "the password in ASPIDER_NOTIFY__EMAIL__PASSWORD or notify.email.password_file"
        )
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        missing = "STARTTLS" if "STARTTLS" in str(exc) else "a login (AUTH)"
        return (
            f"the server does not offer {missing} here: check notify.email.security "
            "(starttls on 587, tls on 465, none) and notify.email.user"
        )
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        refused = ", ".join(sorted(exc.recipients))
        return f"the server refused the recipients {refused}"
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return "the server closed the connection: check notify.email.security and port"
    return f"the server said: {exc}"


def _tls_reason(exc: ssl.SSLError) -> str:
    if isinstance(exc, ssl.SSLCertVerificationError):
        return (
            f"its certificate is not trusted ({exc.verify_message}): set notify.email.ca_file "
            "to the CA that signed it"
        )
    return (
        f"TLS failed ({exc.reason or exc}): check notify.email.security "
        "(tls on port 465, starttls on 587)"
    )


def _network_reason(exc: OSError, server: SmtpServer) -> str:
    if isinstance(exc, TimeoutError):
        return f"no answer within {server.timeout:g}s: check notify.email.host and port"
    if isinstance(exc, socket.gaierror):
        return f"unknown host {server.host!r}: check notify.email.host"
    why = exc.strerror or str(exc) or type(exc).__name__
    return f"cannot connect ({why}): is the SMTP server up, are notify.email.host and port right?"
