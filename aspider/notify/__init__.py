"""
Notifications: the right person hears about what needs them, once.

Alerts (a task failed, a task blocked for long, a project XNAT will not serve, the cluster
unreachable, a processor file that does not load), each told once and "resolved" when it
clears; a daily digest; at most `notify.alerts_per_hour` alerts per channel. Channels: email
over SMTP (`smtp`) and a webhook of Slack's, Mattermost's or Teams' kind (`webhook`).

A layer between the doors (`aspider.cli`, `aspider.serve`) and the engine (`aspider.run`, whose
`__all__` alone it imports): the run and the service call it after they sweep; it never calls
them. The record of what was said is kept in XNAT beside the project's lease and is read and
written under it (`passes`), so two hosts, or a restarted container, never say a thing twice.

Modules: `problems` (what needs a person, as data), `ledger` (the record), `reconcile` (what to
say, pure), `rate` (the hourly limit), `messages` and `digest` (what a person reads), `channel`,
`smtp`, `webhook` (where it goes), `routing` (who hears what), `stores` (where the record is
kept), `passes` (one pass over a project, under its lease), `after_run` (a run's or a sweep's
pass), `daily` (the digest, once a day across hosts), `trial` (`aspider notify test`).
"""

from aspider.notify._exceptions import DeliveryFailed, NotifyError
from aspider.notify.after_run import (
    ProjectFacts,
    RunFacts,
    cluster_name,
    facts_of_error,
    facts_of_result,
    notify_projects,
)
from aspider.notify.daily import DigestOutcome, send_digest, today
from aspider.notify.digest import ProjectDigest, digest_message, project_digest
from aspider.notify.passes import Notifier
from aspider.notify.trial import TrialResult, try_channels

__all__ = [
    "DeliveryFailed",
    "DigestOutcome",
    "Notifier",
    "NotifyError",
    "ProjectDigest",
    "ProjectFacts",
    "RunFacts",
    "TrialResult",
    "cluster_name",
    "digest_message",
    "facts_of_error",
    "facts_of_result",
    "notify_projects",
    "project_digest",
    "send_digest",
    "today",
    "try_channels",
]
