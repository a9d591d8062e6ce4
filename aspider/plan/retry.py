"""
Retries (pure): a job the scheduler stopped for a cause its processor's retry policy names is
submitted again with a scaled request, and every attempt is recorded on the assessor.

The record is the head of the assessor's `note`, the one `proc:genProcData` field that the
snapshot reads and a person sees in XNAT, in one form:

    [attempt 1: 2048 MB, 01:00:00, job 4711, memory; attempt 2: 4096 MB, 01:00:00] <reason>

one entry per attempt, in order: its number, the memory it asked for (`-` for none) and its
walltime, and, once it ended, its job id and why it ended (a `pbs.EndCause` word), then what it
used where the scheduler says (`used 150 MB in 00:12:00, cpu 00:10:00 on 2`). A request that
right-sizing chose says so and from how many jobs (`512 MB tuned/8`, `tuning`). Every job's end
is recorded so, and a note without a head is attempt 1, with the processor's own request. While
a task's attempts count (submitted, queued, running, uploading), every note the engine writes
for it keeps the head (`aspider.run.records.assessor_writes.Records.write`); a rerun (QC Rerun,
or NEED_TO_RUN set by hand on a task with outputs or a log) writes a note without one, so its
count starts afresh. The head of a COMPLETE or JOB_FAILED task is what `aspider tune` reads.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace

from aspider.processors import RetryPolicy, format_duration

_HEAD = re.compile(r"^\[(attempt \d+: [^\[\]]*)\] ?")
_CLOCK = r"(\d+):(\d\d):(\d\d)"
_ENTRY = re.compile(
    rf"^attempt (\d+): (\d+|-) MB(?: tuned/(\d+))?, {_CLOCK}(?: tuned/(\d+))?"
    r"(?:, job ([^,;\s\[\]]+), ([a-z_]+))?"
    rf"(?:, used (\d+|-) MB in {_CLOCK}(?:, cpu {_CLOCK} on (\d+))?)?$"
)


def _seconds(hours: str, minutes: str, seconds: str) -> int:
    return int(hours) * 3600 + int(minutes) * 60 + int(seconds)


@dataclass(frozen=True, slots=True)
class Usage:
    """What an ended job used, as the scheduler accounted it (None where it does not say)."""

    memory_mb: int | None = None
    walltime_seconds: int | None = None
    cpu_seconds: int | None = None
    cpus: int | None = None

    @property
    def cpu_efficiency(self) -> float | None:
        """CPU time over elapsed time times cores (1.0: every core busy all along)."""
        if not (self.cpu_seconds is not None and self.walltime_seconds and self.cpus):
            return None
        return self.cpu_seconds / (self.walltime_seconds * self.cpus)

    def text(self) -> str:
        memory = "-" if self.memory_mb is None else str(self.memory_mb)
        used = f"used {memory} MB in {format_duration(self.walltime_seconds or 0)}"
        if self.cpu_seconds is None or not self.cpus:
            return used
        return f"{used}, cpu {format_duration(self.cpu_seconds)} on {self.cpus}"


@dataclass(frozen=True, slots=True)
class Attempt:
    """One job of a task: what it asked for and, once it ended, its job id and why."""

    number: int
    memory_mb: int  # 0: no memory request
    walltime_seconds: int
    job_id: str = ""
    cause: str = ""  # "" while it runs (or before it is submitted)
    used: Usage | None = None  # once it ended, where the scheduler accounted for it
    # Right-sizing chose the memory / walltime from this many earlier jobs (0: it did not)
    memory_tuned_from: int = 0
    walltime_tuned_from: int = 0

    @property
    def memory_text(self) -> str:
        return f"{self.memory_mb} MB" if self.memory_mb else "no memory request"

    @property
    def walltime_text(self) -> str:
        return format_duration(self.walltime_seconds)

    def text(self) -> str:
        memory = str(self.memory_mb) if self.memory_mb else "-"
        memory += f" MB tuned/{self.memory_tuned_from}" if self.memory_tuned_from else " MB"
        walltime = self.walltime_text
        walltime += f" tuned/{self.walltime_tuned_from}" if self.walltime_tuned_from else ""
        head = f"attempt {self.number}: {memory}, {walltime}"
        if not self.cause:
            return head
        ended = f"{head}, job {self.job_id or '-'}, {self.cause}"
        return f"{ended}, {self.used.text()}" if self.used is not None else ended


@dataclass(frozen=True, slots=True)
class Attempts:
    """Every attempt of a task so far, in order; the last one is under way or just ended."""

    entries: tuple[Attempt, ...]

    @property
    def current(self) -> Attempt:
        return self.entries[-1]

    @property
    def ended_job_ids(self) -> frozenset[str]:
        """Jobs of attempts that ended: found again by name, they are not the one to follow."""
        return frozenset(a.job_id for a in self.entries if a.cause and a.job_id)

    def head(self) -> str:
        """The record as the note starts with it."""
        return "[" + "; ".join(a.text() for a in self.entries) + "]"

    def ended(self, job_id: str, cause: str, used: Usage | None = None) -> Attempts:
        """The current attempt closed with its job, its cause and what it used."""
        closed = replace(self.current, job_id=job_id, cause=cause, used=used)
        return Attempts((*self.entries[:-1], closed))

    def then(self, attempt: Attempt) -> Attempts:
        return Attempts((*self.entries, attempt))


def first_attempt(memory_mb: int, walltime_seconds: int) -> Attempts:
    """The record of a task's first job, with the processor's own request."""
    return Attempts((Attempt(1, memory_mb, walltime_seconds),))


def read_attempts(note: str) -> Attempts | None:
    """The record at the head of a note; None when it has none (or one this cannot read)."""
    found = _HEAD.match(note)
    if found is None:
        return None
    entries = []
    for number, part in enumerate(found.group(1).split("; "), start=1):
        entry = _ENTRY.match(part)
        if entry is None or int(entry.group(1)) != number:
            return None
        entries.append(_attempt(entry))
    return Attempts(tuple(entries))


def _attempt(entry: re.Match[str]) -> Attempt:
    (n, memory, memory_tuned, hours, minutes, seconds, walltime_tuned, job_id, cause) = (
        entry.groups()[:9]
    )
    used_mb, *used_clock = entry.groups()[9:13]
    *cpu_clock, cpus = entry.groups()[13:17]
    used = None
    if used_mb is not None:
        used = Usage(
            memory_mb=None if used_mb == "-" else int(used_mb),
            walltime_seconds=_seconds(*used_clock),
            cpu_seconds=_seconds(*cpu_clock) if cpus is not None else None,
            cpus=int(cpus) if cpus is not None else None,
        )
    return Attempt(
        number=int(n),
        memory_mb=0 if memory == "-" else int(memory),
        walltime_seconds=_seconds(hours, minutes, seconds),
        job_id="" if job_id in (None, "-") else job_id,
        cause=cause or "",
        used=used,
        memory_tuned_from=int(memory_tuned or 0),
        walltime_tuned_from=int(walltime_tuned or 0),
    )


def without_head(note: str) -> str:
    """The note's text after its record, if it has one."""
    return _HEAD.sub("", note, count=1)


def with_head(attempts: Attempts | None, text: str) -> str:
    """`text` as a note of a task with these attempts: the record first, then the text."""
    body = without_head(text)
    if attempts is None:
        return body
    return f"{attempts.head()} {body}".rstrip()


def next_attempt(policy: RetryPolicy, current: Attempt, cause: str) -> Attempt | str | None:
    """
    What follows `current`, which ended for `cause`.

    Returns:
        None when the policy does not retry (`attempts: 1`) or not this cause; the next
        `Attempt` (its request scaled for a memory or walltime kill); or, when none is left,
        why (to add to the reason).
    """
    if policy.attempts == 1 or cause not in policy.on:
        return None
    if current.number >= policy.attempts:
        return f"no attempt left ({current.number} of {policy.attempts})"
    memory, walltime = current.memory_mb, current.walltime_seconds
    if cause == "memory":
        if not memory:
            return "the job asked for no memory, so there is no request to raise"
        memory = _grown(memory, policy.memory_factor, policy.max_memory_mb)
        if memory <= current.memory_mb:
            return f"its memory request is at the maximum ({current.memory_text})"
    elif cause == "walltime":
        walltime = _grown(walltime, policy.walltime_factor, policy.max_walltime_seconds)
        if walltime <= current.walltime_seconds:
            return f"its walltime is at the maximum ({current.walltime_text})"
    return Attempt(current.number + 1, memory, walltime)


def _grown(value: int, factor: float, cap: int | None) -> int:
    grown = math.ceil(value * factor)
    return grown if cap is None else min(grown, max(cap, value))
