"""
Right-sizing (pure): what each processor's jobs used against what they asked for, and the
request that would have served them.

Everything is read from the snapshot a sweep already holds: every job's attempt record in its
assessor's note (`aspider.plan.retry`: what each attempt asked for, why it ended, and what it
used), and, for results without one (written before the record, or by DAX), the assessor's
`memused` and `walltimeused`. So every host sees the same numbers, and asking costs no request.

The suggestion (`TunePolicy`): the 95th percentile of what successful jobs used, times a
margin, rounded up to a step a scheduler likes; never below the most any successful job used,
nor at or below a request a job was killed for exceeding (it needed more); never above the
retry policy's maximum. Until `min_jobs` jobs have succeeded there is none, and the processor's
own request stands.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from aspider.plan.endings import policy_of
from aspider.plan.retry import Usage, read_attempts
from aspider.processors import Processor, RetryPolicy, TunePolicy
from xnat_client.models import Assessor, ProjectSnapshot

_MEMUSED = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*([KMGT]?)B?\s*$", re.IGNORECASE)
_POWER = {"K": -1, "": 0, "M": 0, "G": 1, "T": 2}
_CLOCK = re.compile(r"^(?:(\d+)-)?(\d+):(\d\d):(\d\d)$")


@dataclass(frozen=True, slots=True)
class JobRecord:
    """One ended job of a processor, as its assessor records it."""

    label: str
    cause: str  # a `pbs.EndCause` word: success, memory, walltime, ...
    asked_memory_mb: int | None  # None: not recorded (a result from before the record)
    asked_walltime_seconds: int | None
    used: Usage | None
    started: date | None = None
    tuned_from: int = 0  # right-sizing chose its memory from this many jobs (0: it did not)

    @property
    def succeeded(self) -> bool:
        return self.cause == "success"


def job_records(snapshots: Iterable[ProjectSnapshot], proctype: str) -> list[JobRecord]:
    """Every ended job of `proctype` in these projects: each attempt of each task."""
    found: list[JobRecord] = []
    for snapshot in snapshots:
        for _, a in snapshot.every_assessor():
            if a.proctype == proctype:
                found += records_of(a)
    return found


def records_of(a: Assessor) -> list[JobRecord]:
    """An assessor's ended jobs: its attempt record, else its `memused`/`walltimeused`."""
    started = _date(a.jobstartdate)
    attempts = read_attempts(a.note)
    if attempts is not None:
        return [
            JobRecord(
                a.label,
                attempt.cause,
                attempt.memory_mb or None,
                attempt.walltime_seconds,
                attempt.used,
                started,
                attempt.memory_tuned_from,
            )
            for attempt in attempts.entries
            if attempt.cause
        ]
    if a.procstatus != "COMPLETE":
        return []
    used = Usage(memory_mb=memused_mb(a.memused), walltime_seconds=_seconds(a.walltimeused))
    if used == Usage():
        return []
    return [JobRecord(a.label, "success", None, None, used, started)]


def memused_mb(text: str) -> int | None:
    """`150 MB` (aspider), `2.5 GB`, `3160K`; None for anything else (never a guess)."""
    found = _MEMUSED.match(text or "")
    if not found or (not found.group(2) and "b" not in text.lower()):
        return None
    number, unit = found.group(1), found.group(2)
    return math.ceil(float(number) * 1024.0 ** _POWER[unit.upper()])


def _seconds(text: str) -> int | None:
    found = _CLOCK.match((text or "").strip())
    if not found:
        return None
    days, hours, minutes, seconds = (int(g or 0) for g in found.groups())
    return ((days * 24 + hours) * 60 + minutes) * 60 + seconds


def _date(text: str) -> date | None:
    try:
        return date.fromisoformat((text or "")[:10])
    except ValueError:
        return None


def since(records: Sequence[JobRecord], days: int, today: date) -> list[JobRecord]:
    """The jobs of the last `days` days (a job with no start date is left out)."""
    first = today - timedelta(days=days)
    return [r for r in records if r.started is not None and r.started >= first]


@dataclass(frozen=True, slots=True)
class Spread:
    """The 50th and 95th percentiles and the maximum of some numbers (nearest rank)."""

    p50: int
    p95: int
    max: int

    @classmethod
    def of(cls, values: Sequence[int]) -> Spread | None:
        if not values:
            return None
        ranked = sorted(values)
        return cls(_rank(ranked, 0.50), _rank(ranked, 0.95), ranked[-1])


def _rank(ranked: Sequence[int], q: float) -> int:
    return ranked[max(0, math.ceil(q * len(ranked)) - 1)]


@dataclass(frozen=True, slots=True)
class Suggestion:
    """The request right-sizing would make, and what it would have done to the past jobs."""

    memory_mb: int | None
    walltime_seconds: int | None
    from_jobs: int  # how many successful jobs it stands on
    would_have_killed: int  # of the past jobs with a known use, how many used more
    saved_gb_hours_per_100: float  # memory asked and not used, per 100 jobs, against today's


@dataclass(frozen=True, slots=True)
class ProcessorUsage:
    """What `aspider tune` says about one processor."""

    proctype: str
    jobs: int
    succeeded: int
    memory_used: Spread | None  # MB, successful jobs
    memory_asked: Spread | None
    walltime_used: Spread | None  # seconds, successful jobs
    walltime_asked: Spread | None
    cpu_efficiency: float | None  # median over the jobs that report it
    wasted_gb_hours: float  # memory asked and not used, over the jobs with a known use
    failures: dict[str, int] = field(default_factory=dict)  # cause -> jobs
    suggestion: Suggestion | None = None
    why_none: str = ""  # why there is no suggestion


@dataclass(frozen=True, slots=True)
class Request:
    """What the processor asks for today, and the caps its retry policy sets."""

    memory_mb: int
    walltime_seconds: int
    max_memory_mb: int | None = None
    max_walltime_seconds: int | None = None

    @classmethod
    def of(cls, memory_mb: int, walltime_seconds: int, retry: RetryPolicy) -> Request:
        return cls(memory_mb, walltime_seconds, retry.max_memory_mb, retry.max_walltime_seconds)


def usage(
    proctype: str, records: Sequence[JobRecord], request: Request, policy: TunePolicy
) -> ProcessorUsage:
    """The processor's jobs summed up, with the suggestion when enough of them succeeded."""
    good = [r for r in records if r.succeeded and r.used is not None]
    memory = [r.used.memory_mb for r in good if r.used and r.used.memory_mb is not None]
    walltime = [
        r.used.walltime_seconds for r in good if r.used and r.used.walltime_seconds is not None
    ]
    efficiency = sorted(e for r in records if r.used and (e := r.used.cpu_efficiency) is not None)
    suggestion, why_none = _suggest(records, memory, walltime, request, policy)
    return ProcessorUsage(
        proctype=proctype,
        jobs=len(records),
        succeeded=sum(1 for r in records if r.succeeded),
        memory_used=Spread.of(memory),
        memory_asked=Spread.of([r.asked_memory_mb for r in records if r.asked_memory_mb]),
        walltime_used=Spread.of(walltime),
        walltime_asked=Spread.of(
            [r.asked_walltime_seconds for r in records if r.asked_walltime_seconds]
        ),
        cpu_efficiency=efficiency[len(efficiency) // 2] if efficiency else None,
        wasted_gb_hours=sum(_waste(r, r.asked_memory_mb) for r in records),
        failures=dict(Counter(r.cause for r in records if not r.succeeded)),
        suggestion=suggestion,
        why_none=why_none,
    )


def processors_usage(
    snapshots: Sequence[ProjectSnapshot],
    procs: Sequence[Processor],
    retry: RetryPolicy,
    policy: TunePolicy,
    *,
    since_days: int | None = None,
    today: date | None = None,
) -> list[ProcessorUsage]:
    """
    `usage` of each processor over its jobs in these projects (those of the last `since_days`
    days): what `aspider tune`, the status page and the API show alike.
    """
    wanted = {p.proctype for p in procs}
    by_type: dict[str, list[JobRecord]] = {t: [] for t in wanted}
    for snapshot in snapshots:  # one pass over the assessors, whatever the processors
        for _, a in snapshot.every_assessor():
            if a.proctype in wanted:
                by_type[a.proctype] += records_of(a)
    found = []
    for proc in procs:
        records = by_type[proc.proctype]
        if since_days is not None:
            records = since(records, since_days, today or date.today())
        req = proc.spec.requirements
        request = Request.of(req.memory_mb, req.walltime_seconds, policy_of(proc, retry))
        found.append(usage(proc.proctype, records, request, policy))
    return found


def _waste(record: JobRecord, asked_mb: int | None) -> float:
    """GB-hours of memory asked for and not used by one job (0 where either is unknown)."""
    used = record.used
    if used is None or used.memory_mb is None or not used.walltime_seconds or not asked_mb:
        return 0.0
    return max(0, asked_mb - used.memory_mb) / 1024 * used.walltime_seconds / 3600


def _suggest(
    records: Sequence[JobRecord],
    memory: Sequence[int],
    walltime: Sequence[int],
    request: Request,
    policy: TunePolicy,
) -> tuple[Suggestion | None, str]:
    if len(memory) < policy.min_jobs and len(walltime) < policy.min_jobs:
        known = max(len(memory), len(walltime))
        return None, (
            f"{known} successful job(s) with a known use, fewer than the {policy.min_jobs} "
            "it takes (tune.min_jobs): the processor's own request stands"
        )
    memory_mb: int | None = None
    walltime_seconds: int | None = None
    if len(memory) >= policy.min_jobs:
        oom = [r.asked_memory_mb or 0 for r in records if r.cause == "memory"]
        memory_mb = _bounded(
            _memory_step(_rank(sorted(memory), 0.95) * policy.memory_margin),
            floor=max(max(memory), max(oom, default=0) + 1),
            step=_memory_step,
            cap=request.max_memory_mb,
        )
    if len(walltime) >= policy.min_jobs:
        late = [r.asked_walltime_seconds or 0 for r in records if r.cause == "walltime"]
        walltime_seconds = _bounded(
            _walltime_step(_rank(sorted(walltime), 0.95) * policy.walltime_margin),
            floor=max(max(walltime), max(late, default=0) + 1),
            step=_walltime_step,
            cap=request.max_walltime_seconds,
        )
    over = sum(1 for r in records if _exceeds(r.used, memory_mb, walltime_seconds))
    return Suggestion(
        memory_mb=memory_mb,
        walltime_seconds=walltime_seconds,
        from_jobs=len(memory) if memory_mb is not None else len(walltime),
        would_have_killed=over,
        saved_gb_hours_per_100=_saved(records, request.memory_mb, memory_mb),
    ), ""


def _bounded(value: int, *, floor: int, step: Callable[[float], int], cap: int | None) -> int:
    bounded = max(value, step(floor))
    return bounded if cap is None else min(bounded, cap)


def _exceeds(used: Usage | None, memory_mb: int | None, walltime_seconds: int | None) -> bool:
    if used is None:
        return False
    too_much = memory_mb is not None and (used.memory_mb or 0) > memory_mb
    too_long = walltime_seconds is not None and (used.walltime_seconds or 0) > walltime_seconds
    return too_much or too_long


def _saved(records: Sequence[JobRecord], today_mb: int, suggested_mb: int | None) -> float:
    """GB-hours of memory a hundred successful jobs would not hold under the suggestion."""
    hours = [
        r.used.walltime_seconds / 3600
        for r in records
        if r.succeeded and r.used and r.used.walltime_seconds
    ]
    if suggested_mb is None or not hours or suggested_mb >= today_mb:
        return 0.0
    return (today_mb - suggested_mb) / 1024 * (sum(hours) / len(hours)) * 100


def _memory_step(mb: float) -> int:
    """Up to a multiple of 128 MB below 1 GB, of 512 MB below 8 GB, of 1 GB above."""
    step = 128 if mb <= 1024 else 512 if mb <= 8192 else 1024
    return max(step, math.ceil(mb / step) * step)


def _walltime_step(seconds: float) -> int:
    """Up to 5 minutes below an hour, 15 minutes below a day, an hour above."""
    step = 300 if seconds <= 3600 else 900 if seconds <= 86400 else 3600
    return max(step, math.ceil(seconds / step) * step)
