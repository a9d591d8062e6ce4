"""
Retries (pure): a job the scheduler stopped for a cause its processor's retry policy names is
submitted again with a scaled request, and every attempt is recorded on the assessor.

The record is the head of the assessor's `note`, the one `proc:genProcData` field that the
snapshot reads and a person sees in XNAT, in one form:

    [attempt 1: 2048 MB, 01:00:00, job 4711, memory; attempt 2: 4096 MB, 01:00:00] <reason>

one entry per attempt, in order: its number, the memory it asked for (`-` for none) and its
walltime, and, once it ended, its job id and why it ended (a `pbs.EndCause` word). A note
without a head is attempt 1, with the processor's own request. While a task's attempts count
(submitted, queued, running, uploading), every note the engine writes for it keeps the head
(`aspider.run.records.assessor_writes.Records.write`); a rerun (QC Rerun, or NEED_TO_RUN set by
hand on a task with outputs or a log) writes a note without one, so its count starts afresh.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace

from aspider.processors import RetryPolicy, format_duration

_HEAD = re.compile(r"^\[(attempt \d+: [^\[\]]*)\] ?")
_ENTRY = re.compile(
    r"^attempt (\d+): (\d+|-) MB, (\d+):(\d\d):(\d\d)(?:, job ([^,;\s\[\]]+), ([a-z_]+))?$"
)


@dataclass(frozen=True, slots=True)
class Attempt:
    """One job of a task: what it asked for and, once it ended, its job id and why."""

    number: int
    memory_mb: int  # 0: no memory request
    walltime_seconds: int
    job_id: str = ""
    cause: str = ""  # "" while it runs (or before it is submitted)

    @property
    def memory_text(self) -> str:
        return f"{self.memory_mb} MB" if self.memory_mb else "no memory request"

    @property
    def walltime_text(self) -> str:
        return format_duration(self.walltime_seconds)

    def text(self) -> str:
        memory = str(self.memory_mb) if self.memory_mb else "-"
        head = f"attempt {self.number}: {memory} MB, {self.walltime_text}"
        return f"{head}, job {self.job_id or '-'}, {self.cause}" if self.cause else head


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

    def ended(self, job_id: str, cause: str) -> Attempts:
        """The current attempt closed with its job and its cause."""
        return Attempts((*self.entries[:-1], replace(self.current, job_id=job_id, cause=cause)))

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
        n, memory, hours, minutes, seconds, job_id, cause = entry.groups()
        entries.append(
            Attempt(
                number=int(n),
                memory_mb=0 if memory == "-" else int(memory),
                walltime_seconds=int(hours) * 3600 + int(minutes) * 60 + int(seconds),
                job_id="" if job_id in (None, "-") else job_id,
                cause=cause or "",
            )
        )
    return Attempts(tuple(entries))


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
