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
_OPEN = "[made from "
_MADE = re.compile(r"^\[made from ([^\[\]]*)\] ?")
_HEX = re.compile(r"[0-9a-f]+")


def _name(text: str) -> str:
    return quote(text, safe="")


def number_text(value: int | None) -> str:
    """A count or size as the record writes it ("-": not known)."""
    return "-" if value is None else str(value)


def _read_number(text: str) -> int | None:
    if text == "-":
        return None
    if not text.isdigit():
        raise ValueError(text)
    return int(text)


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
        files, size = number_text(self.files), number_text(self.size)
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


def record_text(note: str) -> str | None:
    """
    The inside of a note's record (`processor ...; ...`), unread; None without one. A sweep
    looks at every COMPLETE result's: it finds, and compares, without building anything.
    """
    start = note.find(_OPEN)
    if start < 0 or (start and not _only_head(note[:start])):
        return None
    end = note.find("]", start)
    return None if end < 0 else note[start + len(_OPEN) : end]


def read_made_from(note: str) -> MadeFrom | None:
    """The record in a note (after its attempt record); None without one it can read."""
    inside = record_text(note)
    if inside is None:
        return None
    parts = inside.split("; ")
    kind, _, processor = parts[0].partition(" ")
    if kind != "processor" or not _HEX.fullmatch(processor):
        return None
    marks: list[InputMark] = []
    for part in parts[1:]:
        mark = _mark(part)
        if mark is None:
            return None
        marks.append(mark)
    return MadeFrom(processor, tuple(marks))


def _only_head(before: str) -> bool:
    """Whether what comes before the record is the attempt record alone."""
    head = before.rstrip()
    return head.startswith("[attempt ") and head.endswith("]") and head.count("[") == 1


def _mark(part: str) -> InputMark | None:
    words = part.split(" ")
    try:
        if len(words) == 5 and words[2] == "files" and words[4] == "bytes":
            name, slash, resource = words[0].partition("/")
            if not slash:
                return None
            files, size = _read_number(words[1]), _read_number(words[3])
            return InputMark(_unquoted(name), _unquoted(resource), files, size)
        if len(words) == 3 and words[1] == "job":
            job = "" if words[2] == "-" else _unquoted(words[2])
            return InputMark(_unquoted(words[0]), job=job)
    except ValueError:  # a count that is no number
        return None
    return None


def _unquoted(text: str) -> str:
    return unquote(text) if "%" in text else text


def note_text(note: str) -> str:
    """A note's words for a person: without its attempt record and its made-from record."""
    return _MADE.sub("", without_head(note), count=1)
