"""
Real receivers on 127.0.0.1 for the notification tests: an SMTP server (aiosmtpd: plain,
STARTTLS or implicit TLS, with or without AUTH) and an HTTP receiver for the webhook. Each
keeps what it received, in order; nothing leaves the loopback address.
"""

from __future__ import annotations

import json
import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

USER = "aspider@lab.test"
PASSWORD = "smtp-pw-7d1e0b"  # a marker: it must appear nowhere it should not


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Mail:
    sender: str
    recipients: list[str]
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    def header(self, name: str) -> str:
        return str(self.message[name] or "")

    def text(self) -> str:
        body = self.message.get_body(("plain",))
        return body.get_content() if body is not None else ""

    def html(self) -> str:
        body = self.message.get_body(("html",))
        return body.get_content() if body is not None else ""


@dataclass
class Inbox:
    """What the SMTP server took, and the logins it refused."""

    mails: list[Mail] = field(default_factory=list)
    refused_logins: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content
        assert isinstance(raw, bytes)
        parsed = message_from_bytes(raw, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        with self.lock:
            self.mails.append(Mail(str(envelope.mail_from), list(envelope.rcpt_tos), parsed))
        return "250 OK"

    def authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        ok = (
            isinstance(data, LoginPassword)
            and data.login == USER.encode()
            and data.password == PASSWORD.encode()
        )
        if not ok:
            self.refused_logins += 1
        return AuthResult(success=ok, handled=False)

    def subjects(self) -> list[str]:
        with self.lock:
            return [m.subject for m in self.mails]


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    inbox: Inbox
    ca_file: Path | None  # the CA that signed its certificate (with TLS)
    security: str  # what a client must speak: none, starttls, tls
    auth: bool

    def settings(self, to: list[str], **extra: Any) -> dict[str, Any]:
        """The `notify.email` settings that reach it (the password comes from elsewhere)."""
        found: dict[str, Any] = {
            "host": self.host,
            "port": self.port,
            "security": self.security,
            "sender": USER,
            "to": to,
            "timeout": 20,
        }
        if self.auth:
            found["user"] = USER
        if self.ca_file is not None:
            found["ca_file"] = str(self.ca_file)
        return found | extra


@contextmanager
def smtp_server(
    folder: Path, *, security: str = "none", auth: bool = False
) -> Iterator[SmtpServer]:
    """aiosmtpd on 127.0.0.1: `security` none, starttls (required) or tls (implicit)."""
    inbox = Inbox()
    kwargs: dict[str, Any] = {}
    ca_file = None
    if security != "none":
        ca = trustme.CA()
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert("127.0.0.1").configure_cert(context)
        ca_file = folder / "smtp-ca.pem"
        ca.cert_pem.write_to_path(str(ca_file))
        if security == "tls":
            kwargs["ssl_context"] = context
        else:
            kwargs.update(tls_context=context, require_starttls=True)
    if auth:
        kwargs.update(
            authenticator=inbox.authenticate,
            auth_required=True,
            # aiosmtpd counts only STARTTLS as TLS: over implicit TLS it must not ask for more
            auth_require_tls=security == "starttls",
        )
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    try:
        yield SmtpServer("127.0.0.1", port, inbox, ca_file, security, auth)
    finally:
        controller.stop()


@dataclass
class Post:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


@dataclass
class Receiver:
    """An HTTP receiver of webhooks on 127.0.0.1: every POST kept; `status` answers them."""

    url: str
    posts: list[Post] = field(default_factory=list)
    status: int = 200
    token: str | None = None  # when set, a POST without `Bearer <token>` gets 401


@contextmanager
def webhook_receiver(token: str | None = None) -> Iterator[Receiver]:
    receiver = Receiver("")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            size = int(self.headers.get("Content-Length", "0"))
            body = json.loads(self.rfile.read(size) or b"{}")
            headers = {k.lower(): v for k, v in self.headers.items()}
            expected = f"Bearer {receiver.token}" if receiver.token else None
            status = receiver.status
            if expected is not None and headers.get("authorization") != expected:
                status = 401
            else:
                receiver.posts.append(Post(self.path, headers, body))
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.wfile.write(b"ok" if status < 300 else b"no")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.url = f"http://127.0.0.1:{http.server_address[1]}/hooks/secret-path-91c2"
    receiver.token = token
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        http.shutdown()
        http.server_close()
        thread.join(timeout=10)
