"""
The digest (pure): per project, what completed since the last digest, what failed and why,
what is blocked and on what, and the queue; as plain text and as HTML (one template).

It reads a snapshot of the project as XNAT holds it now, with the same vocabulary as every
status view (`aspider.plan`'s states; failed, blocked and an upload cut short are what
`NEEDS_ATTENTION` names), so its counts are those of `aspider status` for the same snapshot.
Lists are cut at `LIST_LIMIT` lines, with how many more and where to see them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from aspider.notify.messages import PREFIX, Message
from aspider.notify.problems import assessor_link, moment
from aspider.plan import JobObservation, ProcStatus, Staleness, normalise_procstatus
from aspider.run import reason_of
from xnat_client import Assessor, ProjectSnapshot

LIST_LIMIT = 50
FIRST_SPAN = timedelta(days=1)  # "completed" of a project's first digest: the last day

_ENV = Environment(
    loader=PackageLoader("aspider.notify", "templates"),
    autoescape=select_autoescape(enabled_extensions=("html.j2",), default=False),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


@dataclass(frozen=True)
class DigestTask:
    proctype: str
    where: str  # the session (or subject) label
    label: str
    status: str
    reason: str = ""
    link: str = ""


@dataclass(frozen=True)
class ProjectDigest:
    project: str
    since: str  # the start of "completed since" (ISO)
    completed: list[DigestTask] = field(default_factory=list)
    failed: list[DigestTask] = field(default_factory=list)
    blocked: list[DigestTask] = field(default_factory=list)
    uploading: list[DigestTask] = field(default_factory=list)  # an upload cut short
    stale: list[DigestTask] = field(default_factory=list)  # COMPLETE, made from what changed
    queue: dict[str, int] = field(default_factory=dict)  # what is on its way, by step
    counts: dict[str, dict[str, int]] = field(default_factory=dict)  # proctype -> status -> n

    @property
    def quiet(self) -> bool:
        busy = self.completed or self.failed or self.blocked or self.uploading or self.stale
        return not busy and not any(self.queue.values())


def project_digest(
    snapshot: ProjectSnapshot,
    proctypes: Iterable[str],
    *,
    since: datetime,
    link_base: str = "",
    observations: Mapping[str, JobObservation] | None = None,
    staleness: Staleness | None = None,
) -> ProjectDigest:
    """
    The digest of one project's tasks of these processors, as the snapshot holds them, with
    the stale results `aspider.plan.find_stale` found in it (None: not looked for).
    """
    wanted = set(proctypes)
    found = [(w, a) for w, a in snapshot.every_assessor() if a.proctype in wanted]
    lists: dict[ProcStatus, list[DigestTask]] = {s: [] for s in ProcStatus}
    recent: list[DigestTask] = []
    for where, a in sorted(found, key=lambda wa: (wa[1].proctype, wa[0], wa[1].label)):
        status = normalise_procstatus(a.procstatus)
        if status is None:
            continue
        task = _task(where, a, status, link_base)
        lists[status].append(task)
        if status is ProcStatus.COMPLETE and (moment(a.last_modified) or since) >= since:
            recent.append(task)
    return ProjectDigest(
        project=snapshot.project,
        since=since.isoformat(timespec="minutes"),
        completed=recent,
        failed=lists[ProcStatus.JOB_FAILED],
        blocked=lists[ProcStatus.NEED_INPUTS],
        uploading=lists[ProcStatus.UPLOADING],
        stale=[
            DigestTask(
                r.proctype,
                r.session,
                r.label,
                ProcStatus.COMPLETE.value,
                r.text(),
                assessor_link(link_base, r.assessor) if link_base else "",
            )
            for r in (staleness.stale if staleness is not None else ())
            if r.proctype in wanted
        ],
        queue=_queue(found, observations),
        counts=_counts(a for _, a in found),
    )


def _task(where: str, a: Assessor, status: ProcStatus, link_base: str) -> DigestTask:
    reason = ""
    if status is ProcStatus.JOB_FAILED:
        reason = reason_of(a.note) or "no reason recorded"
    elif status in (ProcStatus.NEED_INPUTS, ProcStatus.UPLOADING):
        reason = " ".join(a.note.split()) or "no reason recorded"
    link = assessor_link(link_base, a) if link_base else ""
    return DigestTask(a.proctype, where, a.label, status.value, reason, link)


def _queue(
    found: Sequence[tuple[str, Assessor]], observations: Mapping[str, JobObservation] | None
) -> dict[str, int]:
    statuses = Counter(normalise_procstatus(a.procstatus) for _, a in found)
    queue = {"waiting to be submitted": statuses[ProcStatus.NEED_TO_RUN]}
    running = [a for _, a in found if normalise_procstatus(a.procstatus) is ProcStatus.JOB_RUNNING]
    if observations is None:
        queue["submitted (queued or running)"] = len(running)
    else:
        states = Counter(_job_state(observations.get(a.label)) for a in running)
        queue["queued"], queue["running"] = states["queued"], states["running"]
        queue["ended, to be collected"] = states["ended"]
    queue["to be uploaded"] = statuses[ProcStatus.READY_TO_UPLOAD]
    return queue


def _job_state(seen: JobObservation | None) -> str:
    if seen is None:
        return "queued"
    if seen.exit_code is not None or seen.end_cause is not None:
        return "ended"
    return "running" if seen.scheduler_state == "running" else "queued"


def _counts(found: Iterable[Assessor]) -> dict[str, dict[str, int]]:
    counts: dict[str, Counter[str]] = {}
    for a in found:
        counts.setdefault(a.proctype, Counter())[a.procstatus or "(none)"] += 1
    return {p: dict(sorted(c.items())) for p, c in sorted(counts.items())}


def digest_message(
    projects: Sequence[ProjectDigest], *, now: datetime, status_url: str = ""
) -> Message:
    """One digest message for these projects: text, and HTML for email."""
    failed = sum(len(p.failed) for p in projects)
    blocked = sum(len(p.blocked) for p in projects)
    done = sum(len(p.completed) for p in projects)
    names = ", ".join(p.project for p in projects)
    subject = (
        f"{PREFIX} digest {now.date().isoformat()}: {names}: {done} completed, "
        f"{failed} failed, {blocked} blocked"
    )
    context = {
        "projects": projects,
        "now": now.isoformat(timespec="minutes"),
        "status_url": status_url,
        "limit": LIST_LIMIT,
    }
    text = _ENV.get_template("digest.txt.j2").render(**context)
    html = _ENV.get_template("digest.html.j2").render(subject=subject, **context)
    facts = (("completed", str(done)), ("failed", str(failed)), ("blocked", str(blocked)))
    return Message("digest", subject, text, html, fields=facts)
