"""
Parsers for `qstat` output: Torque/PBS text (`-f`, `-f -1`, PBS Pro's `-f -w`), Torque XML
(`-x`) and PBS Pro JSON (`-f -F json`). Pure functions of the text, tested on recorded samples.

Each returns the jobs it found; ids the caller asked about but that are missing are the
client's business (they are `gone`).
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Mapping
from datetime import timedelta
from typing import Any

from ._exceptions import BadSchedulerOutput
from ._models import STATE_LETTERS, JobInfo, JobState

_JOB_ID_LINE = re.compile(r"^Job Id:\s*(\S+)\s*$")
_ATTRIBUTE = re.compile(r"^\s+([A-Za-z_][\w.]*)\s=\s?(.*)$")
_MEMORY = re.compile(r"^\s*(\d+)\s*([kmgtp]?)(b|w)?\s*$", re.IGNORECASE)
_UNIT_POWER = {"": 0, "k": 1, "m": 2, "g": 3, "t": 4, "p": 5}


def parse_memory(text: str | None) -> int | None:
    """`3145728kb` -> bytes (PBS units are powers of 1024; a word is 8 bytes)."""
    if text is None:
        return None
    found = _MEMORY.match(str(text))
    if not found:
        return None
    number, prefix, unit = found.groups()
    size: int = int(number) * 1024 ** _UNIT_POWER[prefix.lower()]
    return size * 8 if (unit or "b").lower() == "w" else size


def parse_duration(text: str | None) -> timedelta | None:
    """`HH:MM:SS` (hours unbounded), `MM:SS` or plain seconds."""
    if text is None:
        return None
    parts = str(text).strip().split(":")
    if not parts or not all(p.isdigit() for p in parts) or len(parts) > 3:
        return None
    seconds = 0
    for part in parts:
        seconds = seconds * 60 + int(part)
    return timedelta(seconds=seconds)


def first_host(exec_host: str | None) -> str | None:
    """`node01/0*4+node02/0` -> `node01`; `vm/1` -> `vm`."""
    if not exec_host:
        return None
    host = str(exec_host).split("+")[0].split("/")[0].strip("() ")
    return host or None


def _int_or_none(value: object) -> int | None:
    try:
        return int(str(value).strip())
    except ValueError:
        return None


def job_info(job_id: str, attrs: Mapping[str, Any]) -> JobInfo:
    """One job from its attributes (flattened: `resources_used.walltime`)."""
    lowered = {key.lower(): value for key, value in attrs.items()}
    letter = str(lowered.get("job_state", "")).strip()
    exit_status = lowered.get("exit_status")
    name = lowered.get("job_name")
    return JobInfo(
        job_id=job_id,
        state=STATE_LETTERS.get(letter, JobState.UNKNOWN),
        name=None if name is None else str(name),
        raw_state=letter or None,
        queue=None if lowered.get("queue") is None else str(lowered["queue"]),
        exec_host=first_host(lowered.get("exec_host")),
        exit_status=None if exit_status is None else _int_or_none(exit_status),
        walltime_used=parse_duration(lowered.get("resources_used.walltime")),
        memory_used_bytes=parse_memory(lowered.get("resources_used.mem")),
        cpu_time=parse_duration(lowered.get("resources_used.cput")),
        cpus=_cpus(lowered),
        memory_requested_bytes=_requested_memory(lowered),
        walltime_requested=parse_duration(_text_or_none(lowered.get("resource_list.walltime"))),
    )


def _text_or_none(value: object) -> str | None:
    return None if value is None else str(value)


_PPN = re.compile(r"ppn=(\d+)")


def _select(lowered: Mapping[str, Any]) -> tuple[int | None, int | None]:
    """
    PBS Pro's `select=2:ncpus=4:mem=8gb+1:ncpus=1`, totalled over its chunks: (cores, bytes);
    None for what no chunk names.
    """
    cpus = memory = None
    for chunk in str(lowered.get("resource_list.select", "")).split("+"):
        count, *parts = chunk.split(":")
        times = int(count) if count.isdigit() else 1
        named = dict(part.partition("=")[::2] for part in parts)
        if "ncpus" in named and named["ncpus"].isdigit():
            cpus = (cpus or 0) + times * int(named["ncpus"])
        found = parse_memory(named["mem"]) if "mem" in named else None
        if found is not None:
            memory = (memory or 0) + times * found
    return cpus, memory


def _requested_memory(lowered: Mapping[str, Any]) -> int | None:
    asked = parse_memory(_text_or_none(lowered.get("resource_list.mem")))
    return asked if asked is not None else _select(lowered)[1]


def _cpus(lowered: Mapping[str, Any]) -> int | None:
    """Cores of the job: PBS Pro's ncpus (used or asked) or select, else Torque's ppn."""
    for key in ("resources_used.ncpus", "resource_list.ncpus"):
        found = _int_or_none(lowered[key]) if key in lowered else None
        if found:
            return found
    selected = _select(lowered)[0]
    if selected:
        return selected
    match = _PPN.search(str(lowered.get("resource_list.nodes", "")))
    return int(match.group(1)) if match else None


def _text_records(text: str) -> Iterator[tuple[str, dict[str, str]]]:
    job_id: str | None = None
    attrs: dict[str, str] = {}
    last: str | None = None
    for line in text.splitlines():
        head = _JOB_ID_LINE.match(line)
        if head:
            if job_id is not None:
                yield job_id, attrs
            job_id, attrs, last = head.group(1), {}, None
            continue
        if job_id is None or not line.strip():
            continue
        attribute = _ATTRIBUTE.match(line)
        if attribute:
            last = attribute.group(1)
            attrs[last] = attribute.group(2).strip()
        elif last is not None and line[:1] == "\t":
            attrs[last] += line[1:].rstrip()  # Torque folds long values onto TAB lines
    if job_id is not None:
        yield job_id, attrs


def parse_text(text: str) -> list[JobInfo]:
    """`qstat -f` (folded or `-1`), PBS Pro's `qstat -f -w`, and the Slurm wrappers' form."""
    jobs = [job_info(job_id, attrs) for job_id, attrs in _text_records(text)]
    if not jobs and text.strip():
        raise BadSchedulerOutput("no 'Job Id:' record in qstat -f output", output=text)
    return jobs


def _xml_attrs(job: ET.Element) -> dict[str, str]:
    attrs: dict[str, str] = {}
    for child in job:
        if len(child):
            for leaf in child:
                attrs[f"{child.tag}.{leaf.tag}"] = (leaf.text or "").strip()
        else:
            attrs[child.tag] = (child.text or "").strip()
    return attrs


def parse_xml(text: str) -> list[JobInfo]:
    """Torque's `qstat -x`: `<Data><Job><Job_Id>..</Job_Id>...</Job></Data>`."""
    if not text.strip():
        return []
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise BadSchedulerOutput(f"qstat -x output is not XML ({exc})", output=text) from exc
    jobs = []
    for job in root.iter("Job"):
        attrs = _xml_attrs(job)
        if "Job_Id" not in attrs:
            raise BadSchedulerOutput("a <Job> without <Job_Id>", output=text)
        jobs.append(job_info(attrs["Job_Id"], attrs))
    return jobs


def _flatten(attrs: Mapping[str, Any]) -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in attrs.items():
        if isinstance(value, Mapping):
            for inner, leaf in value.items():
                flat[f"{key}.{inner}"] = leaf
        else:
            flat[key] = value
    return flat


def parse_json(text: str) -> list[JobInfo]:
    """PBS Pro's `qstat -f -F json`: `{"Jobs": {"<id>": {...}}}` (no `Jobs` when none match)."""
    if not text.strip():
        return []
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadSchedulerOutput(f"qstat -F json output is not JSON ({exc})", output=text) from exc
    if not isinstance(document, dict):
        raise BadSchedulerOutput("qstat -F json output is not an object", output=text)
    jobs = document.get("Jobs") or {}
    if not isinstance(jobs, dict):
        raise BadSchedulerOutput("'Jobs' is not an object", output=text)
    return [job_info(str(job_id), _flatten(attrs)) for job_id, attrs in jobs.items()]
