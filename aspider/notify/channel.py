"""
A channel: one place messages go (an SMTP server and its recipients, a webhook URL).

Each has a stable `id` (what the record of a problem says was told; the same on every host
with the same settings, and never a secret) and a `label` a person reads in logs and in the
output of `aspider notify test` (never a password, a token or a webhook's secret path).
"""

from __future__ import annotations

from typing import Protocol

from aspider.notify.messages import Message


class Channel(Protocol):
    id: str
    label: str
    where: str  # the server, for messages about it

    async def send(self, message: Message) -> None:
        """
        Deliver one message.

        Raises:
            DeliveryFailed: the server could not be reached or did not take it.
        """
        ...
