"""
What a person reads (pure): one `Message` per alert, resolution, held-back note, digest or
test, which every channel renders its own way (an email; a webhook's JSON).

`thread` ties a problem's messages together (the email of its resolution answers the email of
its alert); it is a digest of the project, the key and when the problem was opened, the same
on every host.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Literal

from aspider.notify.ledger import Entry
from aspider.notify.problems import Cause, Problem

Kind = Literal["alert", "resolved", "held_back", "digest", "test"]
PREFIX = "[aspider]"

# What a person does next, per cause.
_NEXT = {
    Cause.FAILED: "read the log tail above (the whole log is the task's OUTLOG resource in "
    "XNAT); to run it again: aspider rerun {project} --status JOB_FAILED",
    Cause.BLOCKED: "the task waits for what is named above; "
    "`aspider explain {project} SESSION` says what each input needs",
    Cause.XNAT: "check that XNAT is up and that aspider's account can read project {project}",
    Cause.CLUSTER: "check the login node and the SSH settings (cluster:); "
    "`aspider run {project} --dry-run` tries it",
    Cause.PROCESSOR: "fix the file (`aspider processors` names the line); "
    "until then its tasks are not run",
}


@dataclass(frozen=True)
class Message:
    kind: Kind
    subject: str
    text: str
    html: str | None = None
    fields: tuple[tuple[str, str], ...] = ()
    project: str = ""
    key: str = ""
    thread: str = ""  # the problem's thread id ("" for none)
    opens_thread: bool = True  # the first message of its thread (an alert), or a reply


def thread_of(entry: Entry) -> str:
    raw = f"{entry.project}\0{entry.key}\0{entry.opened}".encode()
    return hashlib.sha256(raw).hexdigest()[:24]


def _page(status_url: str, project: str) -> str:
    if status_url:
        return f"status page: {status_url}"
    return f"status: aspider status {project}" if project else "status: aspider status PROJECT"


def alert(problem: Problem, entry: Entry, status_url: str) -> Message:
    """A problem that needs a person, with its facts and what to do next."""
    subject = f"{PREFIX} {problem.project}: {problem.title}"
    facts = (("project", problem.project), *problem.details)
    lines = [f"{problem.title} (project {problem.project})", ""]
    lines += _fact_lines(facts)
    lines += ["", "next: " + _NEXT[problem.cause].format(project=problem.project)]
    lines += [_page(status_url, problem.project), _footer(entry)]
    return Message(
        "alert",
        subject,
        "\n".join(lines),
        fields=facts,
        project=problem.project,
        key=problem.key,
        thread=thread_of(entry),
    )


def resolved(entry: Entry, status_url: str) -> Message:
    """A problem that was told has cleared."""
    subject = f"{PREFIX} resolved: {entry.project}: {entry.title}"
    facts = (
        ("project", entry.project),
        ("what", entry.title),
        ("opened", entry.opened),
        ("resolved", entry.resolved),
    )
    lines = [f"resolved: {entry.title} (project {entry.project})", ""]
    lines += _fact_lines(facts[2:])
    lines += ["", _page(status_url, entry.project)]
    return Message(
        "resolved",
        subject,
        "\n".join(lines),
        fields=facts,
        project=entry.project,
        key=entry.key,
        thread=thread_of(entry),
        opens_thread=False,
    )


def held_back(count: int, per_hour: int, status_url: str) -> Message:
    """The note past the rate limit: how many alerts were not sent, and where to look."""
    subject = f"{PREFIX} {count} more alert(s) held back"
    limit = f"at most {per_hour} go to this channel per hour (notify.alerts_per_hour)"
    lines = [
        f"{count} alert(s) were held back: {limit}.",
        "They will not be sent later; every problem is on the status page and in the digest.",
        _page(status_url, ""),
    ]
    return Message("held_back", subject, "\n".join(lines), fields=(("held back", str(count)),))


def test(host: str, channel: str) -> Message:
    """`aspider notify test`: proof that a channel reaches its people."""
    subject = f"{PREFIX} test message from {host}"
    text = (
        f"This is a test of aspider's notifications from {host}, through {channel}.\n"
        "Alerts (a task failed or blocked for long, a project XNAT will not serve, the cluster "
        "unreachable, a processor file that does not load) and the daily digest come this way."
    )
    return Message("test", subject, text, fields=(("host", host), ("channel", channel)))


def _fact_lines(facts: tuple[tuple[str, str], ...]) -> list[str]:
    lines: list[str] = []
    for name, value in facts:
        first, *rest = value.splitlines() or [""]
        lines.append(f"{name}: {first}")
        lines += [f"    {line}" for line in rest]
    return lines


def _footer(entry: Entry) -> str:
    return f"first seen {entry.first_seen}; aspider says this once, and again when it clears"
