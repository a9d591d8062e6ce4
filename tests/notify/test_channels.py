"""
The channels against real servers on 127.0.0.1: SMTP plain, with STARTTLS and AUTH, with
implicit TLS and AUTH, and with AUTH on loopback; the webhook with its token. Each failure is
one sentence that names what to check, and never holds the password or the token.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import pytest
from pydantic import SecretStr

from aspider._exceptions import ConfigError
from aspider.notify import DeliveryFailed
from aspider.notify.messages import Message
from aspider.notify.smtp import EmailChannel, SmtpServer
from aspider.notify.webhook import WebhookChannel
from aspider.settings import EmailSection
from tests.notify.conftest import AUTH_WITHOUT_STARTTLS
from tests.notify.receivers import PASSWORD, free_port, smtp_server, webhook_receiver

MESSAGE = Message(
    "alert",
    "[aspider] P1: fs7_v1 failed on S1",
    "fs7_v1 failed on S1\nreason: job 7 exited with code 1",
    fields=(("reason", "job 7 exited with code 1"),),
    project="P1",
    key="failed:P1-x-S1-x-fs7_v1-x-0a1b2c3d",
    thread="0123456789abcdef01234567",
)


def _send(email: dict[str, Any], to: tuple[str, ...] = ("ops@lab.test",)) -> None:
    channel = EmailChannel(SmtpServer.from_settings(EmailSection(**email)), to)
    anyio.run(channel.send, MESSAGE)


@pytest.mark.parametrize(
    ("security", "auth"),
    [
        ("none", False),
        ("starttls", False),
        ("starttls", True),
        pytest.param("tls", True, marks=AUTH_WITHOUT_STARTTLS),
        pytest.param("none", True, marks=AUTH_WITHOUT_STARTTLS),  # a relay on this machine
    ],
)
def test_email_reaches_the_server(tmp_path: Path, security: str, auth: bool) -> None:
    """Each way of talking to an SMTP server delivers the message, headers and all."""
    with smtp_server(tmp_path, security=security, auth=auth) as server:
        extra = {"password": PASSWORD} if auth else {}
        _send(server.settings(["ops@lab.test"], **extra))
    (mail,) = server.inbox.mails
    assert mail.recipients == ["ops@lab.test"]
    assert mail.subject == MESSAGE.subject
    assert mail.header("X-Aspider-Problem") == MESSAGE.key
    assert mail.header("Message-ID") == "<0123456789abcdef01234567@lab.test>"
    assert mail.header("Auto-Submitted") == "auto-generated"
    assert "exited with code 1" in mail.text()


def test_a_wrong_password_is_refused_in_one_sentence(tmp_path: Path) -> None:
    """The server says no: which user, and where the password comes from; not the password."""
    with (
        smtp_server(tmp_path, security="starttls", auth=True) as server,
        pytest.raises(DeliveryFailed) as refused,
    ):
        _send(server.settings(["ops@lab.test"], password="not-the-password-x"))
    assert server.inbox.mails == []
    said = str(refused.value)
    assert "refused the login of 'aspider@lab.test'" in said
    assert "ASPIDER_NOTIFY__EMAIL__PASSWORD" in said
    assert "not-the-password-x" not in said


def test_a_certificate_from_an_unknown_ca_is_refused(tmp_path: Path) -> None:
    """Without the CA that signed the server's certificate, nothing is sent: it says ca_file."""
    with smtp_server(tmp_path, security="starttls", auth=True) as server:
        email = server.settings(["ops@lab.test"], password=PASSWORD)
        del email["ca_file"]
        with pytest.raises(DeliveryFailed, match=r"not trusted.*notify\.email\.ca_file"):
            _send(email)
    assert server.inbox.mails == []


def test_a_closed_port_is_one_sentence() -> None:
    """Nothing listens: connection refused, and which settings to check."""
    email = {"host": "127.0.0.1", "port": free_port(), "security": "none", "sender": "a@b.c"}
    with pytest.raises(DeliveryFailed) as failed:
        _send(email)
    assert failed.value.where == f"127.0.0.1:{email['port']}"
    assert "cannot connect (Connection refused)" in failed.value.reason
    assert "\n" not in str(failed.value)


def test_a_password_never_goes_in_clear_to_another_host() -> None:
    """security: none with a password is refused for any host but this machine's."""
    email = EmailSection(host="smtp.lab.test", security="none", user="u", password=PASSWORD)
    with pytest.raises(ConfigError, match="in clear"):
        SmtpServer.from_settings(email)


def test_a_user_without_a_password_names_where_it_goes() -> None:
    """A login half set is a configuration error naming the variable and the secret file."""
    with pytest.raises(ConfigError, match="ASPIDER_NOTIFY__EMAIL__PASSWORD"):
        SmtpServer.from_settings(EmailSection(host="smtp.lab.test", user="u"))


def test_the_webhook_carries_text_fields_and_the_token() -> None:
    """Slack/Mattermost/Teams shape: text, attachments with fields, and `Bearer <token>`."""
    with webhook_receiver(token="tok-1") as receiver:
        channel = WebhookChannel(receiver.url, SecretStr("tok-1"), 10)
        anyio.run(channel.send, MESSAGE)
    (post,) = receiver.posts
    assert post.path == "/hooks/secret-path-91c2"
    assert post.headers["authorization"] == "Bearer tok-1"
    assert post.body["text"].startswith(MESSAGE.subject + "\n")
    (attachment,) = post.body["attachments"]
    assert attachment["fields"] == [
        {"title": "reason", "value": "job 7 exited with code 1", "short": True}
    ]
    assert post.body["aspider"]["problem"] == MESSAGE.key
    assert (channel.label, channel.where) == ("webhook", receiver.url.split("/hooks/")[0] + "/…")


def test_a_webhook_refusal_names_the_token_and_hides_the_path() -> None:
    """A 401 says to check the token; the URL's path (its secret) is in no message."""
    with webhook_receiver(token="right") as receiver:
        channel = WebhookChannel(receiver.url, SecretStr("wrong"), 10)
        with pytest.raises(DeliveryFailed) as refused:
            anyio.run(channel.send, MESSAGE)
    assert "answered 401" in str(refused.value)
    assert "ASPIDER_NOTIFY__WEBHOOK__TOKEN" in str(refused.value)
    assert "secret-path" not in str(refused.value)
    assert "wrong" not in str(refused.value)
