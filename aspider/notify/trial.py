"""`aspider notify test`: one test message on every channel, and what each did with it."""

from __future__ import annotations

import socket
from dataclasses import dataclass

from aspider.notify import messages
from aspider.notify._exceptions import DeliveryFailed
from aspider.notify.passes import Notifier


@dataclass(frozen=True)
class TrialResult:
    channel: str  # its label (never a secret)
    where: str
    error: str = ""  # "" when it took the message

    @property
    def ok(self) -> bool:
        return not self.error


async def try_channels(notifier: Notifier) -> list[TrialResult]:
    """A test message to each channel the settings name (the site's and each project's)."""
    results = []
    host = socket.gethostname()
    for channel in notifier.routes.every():
        try:
            await channel.send(messages.test(host, channel.label))
        except DeliveryFailed as exc:
            results.append(TrialResult(channel.label, channel.where, exc.reason))
        else:
            results.append(TrialResult(channel.label, channel.where))
    return results
