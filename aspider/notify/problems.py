"""
What needs a person, as data (no I/O): a problem is (project, task or component, cause).

A pass of notifications looks at some things (the tasks of some processors, the cluster, the
processor files, XNAT) and says which problems it saw; an `Observation` is that, with the
`domains` it looked at. A problem it did not see is gone only if its domain was looked at: a
run of one processor says nothing about another processor's failures, and a host says nothing
about another host's cluster or processor files.

Domains:

- `proctype:<proctype>`: the tasks of one processor (failed, blocked for long);
- `cluster:<executor>:<user@host>`: the cluster one engine reaches;
- `processors:<host>`: the processor files of the engine on that host;
- `xnat:<url>`: whether XNAT serves the project (kept on this host: XNAT cannot keep it).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from urllib.parse import quote

from aspider.plan import IN_FLIGHT, ProcStatus, normalise_procstatus
from aspider.run import job_directory_of, log_tail_of, reason_of
from xnat_client import Assessor, ProjectSnapshot

# A task sent back to run again (by a person, or a retry) is neither failed nor cleared yet:
# its failure stays open, with no new message, until it completes or fails again.
_RETRYING = IN_FLIGHT | {ProcStatus.NEED_TO_RUN}


class Cause(StrEnum):
    FAILED = "failed"  # a task JOB_FAILED
    BLOCKED = "blocked"  # a task NEED_INPUTS for longer than notify.blocked_after_days
    XNAT = "xnat"  # XNAT will not serve the project
    CLUSTER = "cluster"  # the cluster cannot be reached
    PROCESSOR = "processor"  # a processor file does not load


# Problems about the site rather than one project's tasks: they go to the site's recipients.
SITE_CAUSES = frozenset({Cause.XNAT, Cause.CLUSTER, Cause.PROCESSOR})


@dataclass(frozen=True)
class Problem:
    """
    One thing that needs a person. `subject` is the task's label or the component's name;
    `details` are the facts a message shows (name, value); `patience` is how long it must
    stand before it is told (0: at once).
    """

    project: str
    subject: str
    cause: Cause
    domain: str
    title: str
    details: tuple[tuple[str, str], ...] = ()
    patience: timedelta = timedelta(0)

    @property
    def key(self) -> str:
        return f"{self.cause.value}:{self.subject}"

    @property
    def site(self) -> bool:
        return self.cause in SITE_CAUSES


@dataclass(frozen=True)
class Observation:
    """
    What one pass saw of one project: the problems standing, the domains it looked at, and
    the keys it cannot judge yet (left as they are: a failed task running again).
    """

    project: str
    problems: tuple[Problem, ...] = ()
    domains: frozenset[str] = frozenset()
    undecided: frozenset[str] = frozenset()

    def __add__(self, other: Observation) -> Observation:
        if other.project != self.project:
            raise ValueError(f"observations of {self.project} and {other.project}")
        return Observation(
            self.project,
            self.problems + other.problems,
            self.domains | other.domains,
            self.undecided | other.undecided,
        )


def proctype_domain(proctype: str) -> str:
    return f"proctype:{proctype}"


def assessor_link(base: str, assessor: Assessor) -> str:
    """The assessor's page in XNAT's web interface."""
    return f"{base.rstrip('/')}/data/experiments/{quote(assessor.id, safe='')}?format=html"


def moment(text: str) -> datetime | None:
    """An ISO time (XNAT's, without a zone, is local time); None when unreadable."""
    try:
        found = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return found if found.tzinfo is not None else found.astimezone()


@dataclass(frozen=True)
class TaskRules:
    """How tasks are judged: when blocked is too long, and where their pages are."""

    now: datetime
    blocked_after: timedelta
    link_base: str
    log_lines: int = 8


def task_problems(
    snapshot: ProjectSnapshot, proctypes: Iterable[str], rules: TaskRules
) -> Observation:
    """The failed and long-blocked tasks of these processors in the snapshot."""
    wanted = set(proctypes)
    found: list[Problem] = []
    undecided: set[str] = set()
    for where, assessor in snapshot.every_assessor():
        if assessor.proctype not in wanted:
            continue
        session = where if assessor.session_id else ""  # a subject's own task has no session
        status = normalise_procstatus(assessor.procstatus)
        if status is ProcStatus.JOB_FAILED:
            found.append(_failed(snapshot.project, session, assessor, rules))
        elif status is ProcStatus.NEED_INPUTS:
            blocked = _blocked(snapshot.project, session, assessor, rules)
            if blocked is None:
                undecided.add(f"{Cause.BLOCKED.value}:{assessor.label}")
            else:
                found.append(blocked)
        if status in _RETRYING:
            undecided.add(f"{Cause.FAILED.value}:{assessor.label}")
    domains = frozenset(proctype_domain(p) for p in wanted)
    return Observation(snapshot.project, tuple(found), domains, frozenset(undecided))


def _failed(project: str, session: str, a: Assessor, rules: TaskRules) -> Problem:
    reason = reason_of(a.note) or "failed (no reason recorded)"
    tail = log_tail_of(a.note)
    details = [("reason", reason), *_where(session, a, rules)]
    directory = job_directory_of(a.note)
    if directory:
        details.append(("job directory", directory))
    if tail:
        lines = [line.strip() for line in tail.split(" | ") if line.strip()]
        details.append(("log tail", "\n".join(lines[-rules.log_lines :])))
    return Problem(
        project,
        a.label,
        Cause.FAILED,
        proctype_domain(a.proctype),
        f"{a.proctype} failed" + (f" on {session}" if session else ""),
        tuple(details),
    )


def _blocked(project: str, session: str, a: Assessor, rules: TaskRules) -> Problem | None:
    since = moment(a.last_modified)
    if since is None or rules.now - since < rules.blocked_after:
        return None
    days = (rules.now - since) / timedelta(days=1)
    details = [
        ("waiting for", a.note or "its inputs"),
        ("since", f"{since.isoformat(timespec='minutes')} ({days:.0f} day(s))"),
        *_where(session, a, rules),
    ]
    return Problem(
        project,
        a.label,
        Cause.BLOCKED,
        proctype_domain(a.proctype),
        f"{a.proctype} blocked" + (f" on {session}" if session else "") + f" for {days:.0f} day(s)",
        tuple(details),
    )


def _where(session: str, a: Assessor, rules: TaskRules) -> list[tuple[str, str]]:
    found = [("session", session)] if session else []
    found += [("task", a.label), ("processor", a.proctype)]
    if a.jobid:
        found.append(("job", a.jobid))
    if rules.link_base:
        found.append(("in XNAT", assessor_link(rules.link_base, a)))
    return found


@dataclass(frozen=True)
class Component:
    """A part of the site a pass looked at: its domain, and how it failed (None: it works)."""

    domain: str
    name: str
    failure: str | None = None
    patience: timedelta = field(default=timedelta(0))


def component_problems(project: str, cause: Cause, component: Component) -> Observation:
    """What a pass saw of one component for one project: its failure, or that it works."""
    if component.failure is None:
        return Observation(project, (), frozenset({component.domain}))
    what = {
        Cause.XNAT: f"XNAT does not serve project {project}",
        Cause.CLUSTER: f"the cluster cannot be reached ({component.name})",
        Cause.PROCESSOR: f"processor file {component.name} does not load",
    }[cause]
    problem = Problem(
        project,
        component.name,
        cause,
        component.domain,
        what,
        (("error", component.failure),),
        component.patience,
    )
    return Observation(project, (problem,), frozenset({component.domain}))


def processor_problems(project: str, host: str, issues: Sequence[tuple[str, str]]) -> Observation:
    """The processor files of this host that do not load ((path, what is wrong) each)."""
    domain = f"processors:{host}"
    seen = Observation(project, (), frozenset({domain}))
    by_file: dict[str, list[str]] = {}
    for path, message in issues:
        by_file.setdefault(path, []).append(message)
    for path, said in sorted(by_file.items()):
        failure = Component(domain, f"{path} on {host}", "\n".join(said))
        seen += component_problems(project, Cause.PROCESSOR, failure)
    return seen
