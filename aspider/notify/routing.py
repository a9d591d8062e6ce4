"""
Who hears what: the channels of the site and of each project, from the settings.

- A project's tasks (failed, blocked) and its part of the digest go to the project's own
  recipients (`projects.<P>.notify.to`, `.webhook_url`), each in place of the site's
  (`notify.email.to`, `notify.webhook.url`) when set.
- The site's problems (XNAT not serving a project, the cluster unreachable, a processor file
  that does not load) go to the site's channels: whoever runs aspider fixes those.
- A project with `notify.enabled: false` is never spoken of.
"""

from __future__ import annotations

from collections.abc import Iterable

import httpx

from aspider._exceptions import ConfigError
from aspider.notify.channel import Channel
from aspider.notify.ledger import Entry
from aspider.notify.problems import SITE_CAUSES
from aspider.notify.smtp import EmailChannel, SmtpServer
from aspider.notify.webhook import WebhookChannel
from aspider.settings import AspiderSettings


class Routes:
    """The channels, made once from the settings (secrets resolved here, once)."""

    def __init__(
        self, settings: AspiderSettings, webhook_transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        notify = settings.notify
        wants_email = notify.email.to or any(p.notify.to for p in settings.projects.values())
        if wants_email and not notify.email.host:
            raise ConfigError(
                "notify: email recipients are set but notify.email.host is not: name the SMTP "
                "server (or remove the recipients)"
            )
        self._settings = settings
        self._server = SmtpServer.from_settings(notify.email) if notify.email.host else None
        self._token = notify.webhook.resolved_token()
        self._transport = webhook_transport
        self._channels: dict[str, Channel] = {}
        self.site = self._make(notify.email.to, notify.webhook.url)

    def _make(self, recipients: Iterable[str], url: str) -> tuple[Channel, ...]:
        made: list[Channel] = []
        recipients = tuple(recipients)
        if recipients and self._server is not None:
            made.append(EmailChannel(self._server, recipients))
        if url:
            hook = self._settings.notify.webhook
            made.append(WebhookChannel(url, self._token, hook.timeout, self._transport))
        return tuple(self._channels.setdefault(c.id, c) for c in made)

    def muted(self, project: str) -> bool:
        section = self._settings.projects.get(project)
        return section is not None and not section.notify.enabled

    def project(self, project: str) -> tuple[Channel, ...]:
        """Where a project's tasks and digest go."""
        if self.muted(project):
            return ()
        notify = self._settings.notify
        section = self._settings.projects.get(project)
        own = section.notify if section is not None else None
        recipients = (own.to if own is not None else ()) or notify.email.to
        url = (own.webhook_url if own is not None else "") or notify.webhook.url
        return self._make(recipients, url)

    def for_entry(self, entry: Entry) -> tuple[str, ...]:
        """The ids of the channels a problem goes to (`reconcile.Route`)."""
        if self.muted(entry.project):
            return ()
        chosen = self.site if entry.cause in SITE_CAUSES else self.project(entry.project)
        return tuple(c.id for c in chosen)

    def channel(self, channel_id: str) -> Channel:
        return self._channels[channel_id]

    def every(self) -> list[Channel]:
        """Every channel any message may go to: the site's and each project's."""
        for project in self._settings.projects:
            self.project(project)
        return list(self._channels.values())
