"""
The errors of notifications, for whoever sends them to act on.

```
AspiderError
└── NotifyError            a notification could not go out
    └── DeliveryFailed         a channel did not take a message (.channel, .where, .reason)
```

Foreign errors (smtplib's, ssl's, httpx's, OSError) are translated once, where a channel meets
them (`smtp`, `webhook`); what they say never holds a password or a token.
"""

from __future__ import annotations

from aspider._exceptions import AspiderError


class NotifyError(AspiderError):
    """Base of the errors of notifications."""


class DeliveryFailed(NotifyError):
    """
    A channel did not take a message: the server refused it, or could not be reached.

    `channel` says which (`email to a@lab.org`, `webhook`, never
    a secret), `where` the server, `reason` what went wrong and, when there is one, the fix.
    """

    def __init__(self, channel: str, where: str, reason: str) -> None:
        super().__init__(f"{channel} via {where}: {reason}")
        self.channel = channel
        self.where = where
        self.reason = reason
