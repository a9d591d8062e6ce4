"""
What a result was made from, in its assessor's `note` (pure): the record staleness is read from.

A sweep must tell a stale result from the snapshot alone, with no request per assessor, and
the snapshot's assessor listing returns `note` (`inputs` is DAX's, and matched by equality, so
it cannot carry more). So a COMPLETE assessor's note holds, after its attempt record, what the
job was submitted with, as the snapshot showed it then:

    [attempt 1: ...] [made from processor 8f4438150159; scan_t1/NIFTI 3 files 12582912 bytes;
    assr_fs job 4711]

the head of the processor's definition digest (`Processor.definition_digest`), then each input:
a scan resource's file count and size, or an upstream result's job id. Names are
percent-encoded, so no label can break the record. The full record (every file staged, the
container, the job) is `provenance.json` (`aspider.plan.provenance`); this is its summary.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote, unquote

from aspider.plan.retry import without_head
from aspider.plan.tasks import Task

DIGEST_CHARS = 12  # of the processor's digest kept in the note: 48 bits
_MADE = re.compile(r"^\[made from ([^\[\]]*)\] ?")
_SCAN = re.compile(r"^(\S+)/(\S+) (\d+|-) files (\d+|-) bytes$")
_UPSTREAM = re.compile(r"^(\S+) job (\S+)$")
_PROCESSOR = re.compile(r"^processor ([0-9a-f]+)$")


def _name(text: str) -> str:
    return quote(text, safe="")


def _number(value: int | None) -> str:
    return "-" if value is None else str(value)


def _read_number(text: str) -> int | None:
    return None if text == "-" else int(text)


@dataclass(frozen=True, slots=True)
class InputMark:
    """One input as its job was submitted: a scan resource's files, or an upstream's job."""

    name: str  # the processor's input name (`scan_t1`)
    resource: str = ""  # a scan's resource label; "" for an upstream result
    files: int | None = None
    size: int | None = None
    job: str = ""  # an upstream result's job id ("" when it had none)

    @property
    def upstream(self) -> bool:
        return not self.resource

    def text(self) -> str:
        if self.upstream:
            job = "%2D" if self.job == "-" else _name(self.job) or "-"  # "-": it had none
            return f"{_name(self.name)} job {job}"
        files, size = _number(self.files), _number(self.size)
        return f"{_name(self.name)}/{_name(self.resource)} {files} files {size} bytes"


@dataclass(frozen=True, slots=True)
class MadeFrom:
    processor: str  # the head of the processor's definition digest
    inputs: tuple[InputMark, ...] = ()

    def text(self) -> str:
        parts = [f"processor {self.processor}", *(m.text() for m in self.inputs)]
        return "[made from " + "; ".join(parts) + "]"


def made_from(task: Task) -> MadeFrom | None:
    """What the task's job is submitted with; None for a task built without its processor."""
    if not task.processor_digest:
        return None
    marks: list[InputMark] = []
    for item in task.inputs:
        if item.kind == "assessor":
            marks.append(InputMark(item.name, job=item.job_id))
            continue
        marks += (
            InputMark(item.name, r.resource, r.file_count, r.file_size) for r in item.resources
        )
    return MadeFrom(task.processor_digest[:DIGEST_CHARS], tuple(marks))


def read_made_from(note: str) -> MadeFrom | None:
    """The record in a note (after its attempt record); None without one it can read."""
    found = _MADE.match(without_head(note))
    if found is None:
        return None
    parts = found.group(1).split("; ")
    processor = _PROCESSOR.match(parts[0])
    if processor is None:
        return None
    marks: list[InputMark] = []
    for part in parts[1:]:
        scan, upstream = _SCAN.match(part), _UPSTREAM.match(part)
        if scan is not None:
            name, resource, files, size = scan.groups()
            marks.append(
                InputMark(unquote(name), unquote(resource), _read_number(files), _read_number(size))
            )
        elif upstream is not None:
            job = upstream.group(2)
            marks.append(
                InputMark(unquote(upstream.group(1)), job=unquote(job) if job != "-" else "")
            )
        else:
            return None
    return MadeFrom(processor.group(1), tuple(marks))


def note_text(note: str) -> str:
    """A note's words for a person: without its attempt record and its made-from record."""
    return _MADE.sub("", without_head(note), count=1)
