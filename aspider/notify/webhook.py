"""
A webhook: each message as JSON POSTed to a URL, with a bearer token when one is set.

The body is what Slack's, Mattermost's and Microsoft Teams' incoming webhooks take: `text`
(the whole message, which each shows), Slack/Mattermost `attachments` with `fields` (each fact
as a title and a value), and, for a receiver of your own, the same facts under `aspider`:

    {"text": "[aspider] P1: fs7_v1 failed on S1\\n...",
     "attachments": [{"fallback": "...", "color": "#d73a49", "title": "...",
                      "fields": [{"title": "reason", "value": "...", "short": false}, ...]}],
     "aspider": {"kind": "alert", "project": "P1", "problem": "failed:P1-x-...",
                 "subject": "...", "fields": {"reason": "...", ...}}}

A webhook URL often holds its secret in its path (Slack's do): logs and `aspider notify test`
show only its scheme and host.
"""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import urlsplit

import httpx
from pydantic import SecretStr

from aspider.notify._exceptions import DeliveryFailed
from aspider.notify.messages import Message

_COLOURS = {
    "alert": "#d73a49",
    "resolved": "#28a745",
    "held_back": "#f0ad4e",
    "digest": "#0366d6",
    "test": "#6f42c1",
}


def payload(message: Message) -> dict[str, Any]:
    """The JSON body for one message (see the module docstring)."""
    text = f"{message.subject}\n{message.text}"
    fields = [
        {"title": name, "value": value, "short": len(value) < 40 and "\n" not in value}
        for name, value in message.fields
    ]
    attachment = {
        "fallback": message.subject,
        "color": _COLOURS[message.kind],
        "title": message.subject,
        "fields": fields,
    }
    own = {
        "kind": message.kind,
        "project": message.project,
        "problem": message.key,
        "subject": message.subject,
        "fields": dict(message.fields),
    }
    return {"text": text, "attachments": [attachment], "aspider": own}


def shown(url: str) -> str:
    """The URL as logs show it: scheme and host, never the path (it may be the secret)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}/…"


class WebhookChannel:
    """Messages POSTed to one URL."""

    def __init__(
        self,
        url: str,
        token: SecretStr | None,
        timeout: float,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._url = url
        self._token = token
        self._timeout = timeout
        self._transport = transport
        self.id = "webhook:" + hashlib.sha256(url.encode()).hexdigest()[:16]
        self.where = shown(url)
        self.label = "webhook"  # its address is `where`, said beside it

    async def send(self, message: Message) -> None:
        headers = {"User-Agent": "aspider"}
        if self._token is not None:
            headers["Authorization"] = f"Bearer {self._token.get_secret_value()}"
        try:
            async with httpx.AsyncClient(
                transport=self._transport, timeout=self._timeout, follow_redirects=False
            ) as client:
                answer = await client.post(self._url, json=payload(message), headers=headers)
        except httpx.TimeoutException as exc:
            reason = f"no answer within {self._timeout:g}s: check notify.webhook.url"
            raise DeliveryFailed(self.label, self.where, reason) from exc
        except httpx.HTTPError as exc:
            raise DeliveryFailed(self.label, self.where, _network_reason(exc)) from exc
        if answer.status_code >= 300:
            raise DeliveryFailed(self.label, self.where, _refusal(answer))


def _network_reason(exc: httpx.HTTPError) -> str:
    cause: BaseException | None = exc
    while cause is not None and not isinstance(cause, OSError):
        cause = cause.__cause__ or cause.__context__
    why = (cause.strerror if isinstance(cause, OSError) else None) or str(exc) or "failed"
    return f"cannot connect ({why}): is the receiver up, and is notify.webhook.url right?"


def _refusal(answer: httpx.Response) -> str:
    said = " ".join(answer.text.split())[:200]
    hint = (
        ": check the token (ASPIDER_NOTIFY__WEBHOOK__TOKEN or notify.webhook.token_file)"
        if answer.status_code in (401, 403)
        else ""
    )
    return f"the receiver answered {answer.status_code}" + (f" ({said})" if said else "") + hint
