"""
Parsers for Slurm's `squeue --Format` and `sacct --parsable2` output, in the fields the Slurm
client asks for. Pure functions of the text, tested on recorded samples.

`squeue` reports the exit code as a raw wait status (768 = exit 3, 9 = killed by signal 9);
`sacct` as `code:signal`. A state such as `CANCELLED by 1000` names who cancelled. Memory used
(`MaxRSS`) is on the step rows (`123.batch`), not the job's. Array elements are `123_7` in
both; sacct prints the elements still waiting as one row, `123_[0,2-4]`, read as one each.

Where memory is enforced by sampling (`JobAcctGatherParams=OverMemoryKill`, no cgroups), an
over-memory job is SIGKILLed and ends FAILED, not OUT_OF_MEMORY; sacct then shows a peak at or
above the request (`ReqMem`), which is read as the memory kill it was.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta

from .._arrays import expand_elements
from .._causes import slurm_cause
from .._exceptions import BadSchedulerOutput
from .._models import EndCause, JobInfo, JobState

#: The fields asked of squeue, `|` after each; the name last, since other jobs' names may
#: hold a `|`. `JobArrayID` is a job's id, and an array element's `1234_7` (`JobID` would be
#: the element's own number once it runs, an id nobody recorded).
SQUEUE_FIELDS = ("JobArrayID", "State", "Reason", "exit_code", "BatchHost", "TimeUsed", "Partition")
SQUEUE_FORMAT = ",".join(f"{field}:|" for field in (*SQUEUE_FIELDS, "Name"))
#: The fields asked of sacct, the name last for the same reason.
SACCT_FIELDS = (
    "JobID",
    "State",
    "ExitCode",
    "Elapsed",
    "MaxRSS",
    "NodeList",
    "Partition",
    "ReqMem",
    "TotalCPU",
    "AllocCPUS",
    "Timelimit",
)
SACCT_FORMAT = ",".join((*SACCT_FIELDS, "JobName"))

_ACTIVE = {
    "PENDING": JobState.QUEUED,
    "REQUEUED": JobState.QUEUED,
    "REQUEUE_FED": JobState.QUEUED,
    "REQUEUE_HOLD": JobState.HELD,
    "RESV_DEL_HOLD": JobState.HELD,
    "CONFIGURING": JobState.RUNNING,
    "RUNNING": JobState.RUNNING,
    "RESIZING": JobState.RUNNING,
    "COMPLETING": JobState.EXITING,
    "SIGNALING": JobState.EXITING,
    "STAGE_OUT": JobState.EXITING,
    "SUSPENDED": JobState.SUSPENDED,
    "STOPPED": JobState.SUSPENDED,
}
_NO_HOST = {"", "n/a", "(null)", "None assigned"}
_COMPRESSED = re.compile(r"^([^\[,]*)\[([0-9]+)")
_MEMORY = re.compile(r"^([0-9]+(?:\.[0-9]+)?)([KMGTP]?)$", re.IGNORECASE)
_POWERS = {"": 0, "K": 1, "M": 2, "G": 3, "T": 4, "P": 5}


def slurm_memory(text: str) -> int | None:
    """`3160K`, `12000M`, `2.50G` (powers of 1024, as sacct prints them) -> bytes."""
    found = _MEMORY.match(text.strip())
    if not found:
        return None
    number, unit = found.groups()
    return int(float(number) * 1024 ** _POWERS[unit.upper()])


def slurm_duration(text: str | None) -> timedelta | None:
    """`[D-]HH:MM:SS`, `MM:SS`, `M:SS.mmm` -> timedelta; None for anything else."""
    if not text:
        return None
    days, _, clock = text.strip().rpartition("-")
    parts = clock.split(":")
    if (days and not days.isdigit()) or not 1 <= len(parts) <= 3:
        return None
    try:
        numbers = [float(part) for part in parts]
    except ValueError:
        return None
    seconds = 0.0
    for number in numbers:
        seconds = seconds * 60 + number
    return timedelta(days=int(days or 0), seconds=int(seconds))


def first_node(nodelist: str) -> str | None:
    """`node07` -> `node07`; `node[03-05,09]` -> `node03`; `n1,n2` -> `n1`."""
    if nodelist in _NO_HOST:
        return None
    compressed = _COMPRESSED.match(nodelist)
    if compressed:
        return compressed.group(1) + compressed.group(2)
    return nodelist.split(",", 1)[0]


def _state(word: str, reason: str) -> JobState:
    if word == "PENDING" and reason.startswith("JobHeld"):
        return JobState.HELD
    if word in _ACTIVE:
        return _ACTIVE[word]
    return JobState.COMPLETED if slurm_cause(word, None) is not None else JobState.UNKNOWN


def _ended(info: JobInfo, word: str, code: int | None, signal: int | None) -> JobInfo:
    if info.state is not JobState.COMPLETED:
        return info
    return replace(
        info, exit_status=code, exit_signal=signal or None, end_cause=slurm_cause(word, signal)
    )


def _split(line: str, fixed: int, what: str) -> tuple[list[str], str]:
    parts = line.split("|")
    if len(parts) < fixed + 1:
        raise BadSchedulerOutput(f"a {what} line with fewer than {fixed + 1} fields", output=line)
    return parts[:fixed], "|".join(parts[fixed:])


def parse_squeue(text: str) -> list[JobInfo]:
    """`squeue --noheader --Format=<SQUEUE_FORMAT>` -> one JobInfo per line."""
    jobs = []
    for line in text.splitlines():
        if not line.strip():
            continue
        fields, name = _split(line, len(SQUEUE_FIELDS), "squeue")
        job_id, word, reason, status, host, used, partition = (f.strip() for f in fields)
        wait_status = int(status) if status.isdigit() else None
        info = JobInfo(
            job_id=job_id,
            state=_state(word, reason),
            name=name.removesuffix("|"),
            raw_state=word,
            queue=partition or None,
            exec_host=None if host in _NO_HOST else host,
            walltime_used=slurm_duration(used),
        )
        code = None if wait_status is None else (wait_status >> 8) & 0xFF
        signal = None if wait_status is None else wait_status & 0x7F
        jobs.append(_ended(info, word, code, signal))
    return jobs


def _exit_code(text: str) -> tuple[int | None, int | None]:
    code, _, signal = text.partition(":")
    return (
        int(code) if code.isdigit() else None,
        int(signal) if signal.isdigit() else None,
    )


def _requested(text: str) -> int | None:
    """`ReqMem` for the whole job (`50M`, or older Slurm's `50Mn`); per-CPU (`c`) is None."""
    if text.endswith("c"):
        return None
    return slurm_memory(text.removesuffix("n"))


def _over_memory(info: JobInfo, peak: int | None) -> JobInfo:
    requested = info.memory_requested_bytes
    if info.end_cause is EndCause.KILLED and peak and requested and peak >= requested:
        return replace(info, end_cause=EndCause.MEMORY)
    return info


def _sacct_rows(text: str) -> Iterator[tuple[str, str, list[str], str]]:
    for line in text.splitlines():
        if line.strip():
            fields, name = _split(line, len(SACCT_FIELDS), "sacct")
            job_id, _, step = fields[0].partition(".")
            yield job_id, step, fields, name


def _count(text: str) -> int | None:
    return int(text) if text.strip().isdigit() and int(text) > 0 else None


def parse_sacct(text: str) -> list[JobInfo]:
    """`sacct --noheader --parsable2 --format=<SACCT_FORMAT>` -> one JobInfo per job."""
    jobs: dict[str, JobInfo] = {}
    peak: dict[str, int] = {}
    steps_cpu: dict[str, timedelta] = {}
    for job_id, step, fields, name in _sacct_rows(text):
        if step:
            rss = slurm_memory(fields[4])
            if rss is not None:
                peak[job_id] = max(peak.get(job_id, 0), rss)
            used = slurm_duration(fields[8])
            if used is not None:
                steps_cpu[job_id] = steps_cpu.get(job_id, timedelta(0)) + used
            continue
        word = fields[1].split(" ", 1)[0]
        code, signal = _exit_code(fields[2])
        info = JobInfo(
            job_id=job_id,
            state=_state(word, ""),
            name=name,
            raw_state=fields[1],
            queue=fields[6] or None,
            exec_host=first_node(fields[5]),
            walltime_used=slurm_duration(fields[3]),
            cpu_time=slurm_duration(fields[8]),
            cpus=_count(fields[9]),
            memory_requested_bytes=_requested(fields[7]),
            walltime_requested=slurm_duration(fields[10]),  # UNLIMITED: None
        )
        for element in expand_elements(job_id):
            jobs[element] = _ended(replace(info, job_id=element), word, code, signal)
    return [
        _over_memory(_used(info, peak.get(n), steps_cpu.get(n)), peak.get(n))
        for n, info in jobs.items()
    ]


def _used(info: JobInfo, peak: int | None, steps_cpu: timedelta | None) -> JobInfo:
    """The job row with its steps' peak memory, and their CPU time where its own is not kept."""
    cpu = info.cpu_time if info.cpu_time else steps_cpu or info.cpu_time
    return replace(info, memory_used_bytes=peak, cpu_time=cpu)
