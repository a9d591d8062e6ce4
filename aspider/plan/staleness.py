"""
Stale results (pure): a COMPLETE result whose inputs, upstream or processor changed since its
job was submitted, told from the snapshot alone.

Each result aspider completes says in its note what its job was made from
(`aspider.plan.made_from`); the snapshot already holds every input resource's file count and
size and every assessor's job id. A result is stale when:

- `inputs`: an input resource it used has a different file count or size;
- `upstream`: an upstream result it used was rerun (another job id), or is stale itself
  ("upstream stale": staleness follows the chain);
- `processor`: its processor's definition changed (another digest for the same proctype);
- `gone`: an input it used is no longer there.

A result with no record (DAX made it, or an aspider before this one) is "provenance unknown":
counted, never stale. Staleness is not a procstatus: the assessor stays COMPLETE, and DAX
readers see nothing new. A policy (`rerun_stale`) may send stale results back (`reruns`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Literal

from aspider.plan.made_from import (
    DIGEST_CHARS,
    InputMark,
    MadeFrom,
    number_text,
    read_made_from,
    record_text,
)
from aspider.plan.settled import SettledMemo
from aspider.plan.states import ProcStatus, normalise_procstatus
from aspider.processors import Processor
from xnat_client.models import Assessor, ProjectSnapshot, Scan, Session

COMPLETE = ProcStatus.COMPLETE

StaleKindOrGone = Literal["inputs", "upstream", "processor", "gone"]


@dataclass(frozen=True, slots=True)
class StaleReason:
    kind: StaleKindOrGone
    text: str
    # the assessor ID of a stale upstream this result is stale through ("": its own reason)
    through: str = ""


@dataclass(frozen=True, slots=True)
class StaleResult:
    """One stale COMPLETE result, and every reason it is stale."""

    project: str
    session: str  # the session's label (a subject's own result: the subject's)
    session_id: str  # "" for a subject's own result
    subject_id: str
    assessor: Assessor
    reasons: tuple[StaleReason, ...]

    @property
    def label(self) -> str:
        return self.assessor.label

    @property
    def proctype(self) -> str:
        return self.assessor.proctype

    @property
    def kinds(self) -> frozenset[str]:
        return frozenset(r.kind for r in self.reasons)

    def text(self) -> str:
        """Its reasons in one line."""
        return "; ".join(f"{r.kind}: {r.text}" for r in self.reasons)


@dataclass(frozen=True)
class Staleness:
    """A sweep's stale results (upstream before downstream), and what could not be told."""

    stale: tuple[StaleResult, ...] = ()
    checked: tuple[tuple[str, int], ...] = ()  # proctype -> COMPLETE results with a record
    unknown: tuple[tuple[str, int], ...] = ()  # proctype -> COMPLETE results with none

    def per_processor(self) -> dict[str, int]:
        return dict(Counter(r.proctype for r in self.stale))

    @classmethod
    def joined(cls, parts: Iterable[Staleness]) -> Staleness:
        """The staleness of several projects' plans as one."""
        stale: list[StaleResult] = []
        checked: Counter[str] = Counter()
        unknown: Counter[str] = Counter()
        for part in parts:
            stale += part.stale
            checked.update(dict(part.checked))
            unknown.update(dict(part.unknown))
        return cls(tuple(stale), tuple(sorted(checked.items())), tuple(sorted(unknown.items())))


class _Project:
    """One snapshot's inputs by their DAX path, for looking up what a result was made from."""

    def __init__(self, snapshot: ProjectSnapshot) -> None:
        self.snapshot = snapshot

    @cached_property
    def sessions(self) -> dict[str, Session]:  # label -> session; built when first asked
        return {s.label: s for s in self.snapshot.sessions}

    @cached_property
    def subject_results(self) -> dict[str, Assessor]:  # label -> a subject's own result
        return {a.label: a for a in self.snapshot.subject_assessors}

    def find(self, path: str) -> Scan | Assessor | None:
        """The scan or assessor a DAX input path names in this project; None: not here."""
        parts = path.split("/")[1:]
        if len(parts) == 6 and parts[0] == "projects" and parts[4] == "experiments":
            return self.subject_results.get(parts[5])  # a subject's own result
        if len(parts) != 8 or parts[0] != "projects" or parts[4] != "experiments":
            return None
        session = self.sessions.get(parts[5])
        if session is None or session.subject_label != parts[3]:
            return None
        if parts[6] == "scans":
            return session.scan(parts[7])
        if parts[6] == "assessors":
            return next((a for a in session.assessors if a.label == parts[7]), None)
        return None


class _Checker:
    def __init__(self, project: _Project, digests: Mapping[str, str]) -> None:
        self.project = project
        self.digests = digests  # proctype -> head of its definition digest
        self.done: dict[str, tuple[StaleReason, ...] | None] = {}  # assessor ID -> reasons
        self.order: list[StaleResult] = []
        self.checked: Counter[str] = Counter()
        self.unknown: Counter[str] = Counter()

    def reasons(self, a: Assessor) -> tuple[StaleReason, ...] | None:
        """Why `a` is stale (empty: it is not); None: it is not ours, or not COMPLETE."""
        if a.id in self.done:
            return self.done[a.id]
        self.done[a.id] = None  # a cycle reads as "not stale", never loops
        digest = self.digests.get(a.proctype)
        if digest is None:
            return None
        if a.procstatus != "COMPLETE" and normalise_procstatus(a.procstatus) is not COMPLETE:
            return None
        inside = record_text(a.note)
        if inside is not None and self._unchanged(a, inside, digest):
            self.checked[a.proctype] += 1  # most nights, every result: nothing built
            self.done[a.id] = ()
            return ()
        made = None if inside is None else read_made_from(a.note)
        if made is None:
            self.unknown[a.proctype] += 1
            return None
        self.checked[a.proctype] += 1
        found = self._reasons(a, made, digest)
        self.done[a.id] = found
        if found:
            self.order.append(StaleResult(self.project.snapshot.project, "", "", "", a, found))
        return found

    def placed(self, results: list[StaleResult]) -> list[StaleResult]:
        """The results with their session (or subject) named: looked up for the few only."""
        if not results:
            return []
        snap = self.project.snapshot
        sessions = {s.id: s for s in snap.sessions}
        subjects = {s.id: s.label for s in snap.subjects}
        placed = []
        for r in results:
            a = r.assessor
            session = sessions.get(a.session_id) if a.session_id else None
            if session is not None:
                where = (session.label, session.id, session.subject_id)
            else:
                where = (subjects.get(a.subject_id, a.subject_id), "", a.subject_id)
            placed.append(StaleResult(r.project, *where, a, r.reasons))
        return placed

    def _unchanged(self, a: Assessor, inside: str, digest: str) -> bool:
        """
        Whether everything the record names is as the snapshot shows it now, compared as text
        (False also when in doubt: the full reading then says why, or finds nothing).
        """
        parts = inside.split("; ")
        if parts[0] != "processor " + digest:
            return False
        paths = a.inputs or {}
        for part in parts[1:]:
            words = part.split(" ")
            name = words[0].partition("/")[0] if len(words) == 5 else words[0]
            path = paths.get(name)
            now = self.project.find(path) if isinstance(path, str) and "%" not in part else None
            if len(words) == 5 and isinstance(now, Scan):
                res = now.resource(words[0].partition("/")[2])
                if res is None or (words[1], words[3]) != (
                    number_text(res.file_count),
                    number_text(res.file_size),
                ):
                    return False
            elif len(words) == 3 and isinstance(now, Assessor):
                if words[2] != (now.jobid or "-") or self.reasons(now):
                    return False
            else:
                return False
        return True

    def _reasons(self, a: Assessor, made: MadeFrom, digest: str) -> tuple[StaleReason, ...]:
        found: list[StaleReason] = []
        if made.processor != digest:
            found.append(StaleReason("processor", f"{a.proctype}'s definition changed"))
        paths = a.inputs or {}
        for mark in made.inputs:
            path = paths.get(mark.name)
            if not isinstance(path, str):
                continue  # the record names an input its `inputs` field does not
            now = self.project.find(path)
            found += self._mark(mark, now)
        return tuple(found)

    def _mark(self, mark: InputMark, now: Scan | Assessor | None) -> list[StaleReason]:
        name = mark.name
        if mark.upstream:
            if not isinstance(now, Assessor):
                return [StaleReason("gone", f"{name}: its upstream result is gone")]
            if now.jobid != mark.job:
                jobs = f"job {mark.job or 'none'} -> {now.jobid or 'none yet'}"
                return [StaleReason("upstream", f"{name}: upstream rerun ({now.label}: {jobs})")]
            upstream = self.reasons(now)
            if upstream:
                return [StaleReason("upstream", f"{name}: upstream stale ({now.label})", now.id)]
            return []
        if not isinstance(now, Scan):
            return [StaleReason("gone", f"{name}: its scan is gone")]
        res = now.resource(mark.resource)
        if res is None:
            return [StaleReason("gone", f"{name}: scan {now.id}'s {mark.resource} is gone")]
        pairs = ((mark.files, res.file_count), (mark.size, res.file_size))
        if any(was is not None and is_ is not None and was != is_ for was, is_ in pairs):
            was = _files(mark.files, mark.size)
            is_ = _files(res.file_count, res.file_size)
            text = f"{name}: scan {now.id}'s {mark.resource} changed ({was} -> {is_})"
            return [StaleReason("inputs", text)]
        return []


def _files(count: int | None, size: int | None) -> str:
    files = "?" if count is None else str(count)
    return f"{files} files, {'?' if size is None else size} bytes"


def find_stale(
    snapshots: Iterable[ProjectSnapshot],
    processors: Sequence[Processor],
    memo: SettledMemo | None = None,
) -> Staleness:
    """
    Every stale result of these processors in these projects, upstream first. With a sweep's
    settled `memo`: the results of its unchanged sessions were fresh at the last sweep and
    nothing they depend on has changed, so they are not read again; a session with a stale
    result is taken out of what the memo will remember.
    """
    skip = memo.unchanged if memo is not None else set()
    skipped = memo.unchanged_proctypes if memo is not None else frozenset()
    digests = {p.proctype: p.definition_digest[:DIGEST_CHARS] for p in processors}
    stale: list[StaleResult] = []
    checked: Counter[str] = Counter()
    unknown: Counter[str] = Counter()
    every_skipped = set(digests) <= skipped
    for snap in snapshots:
        checker = _Checker(_Project(snap), digests)
        for s in snap.sessions:
            if s.id in skip and every_skipped:
                continue  # a quiet night: most sessions, not even their assessors walked
            for a in s.assessors:
                if a.proctype in digests and not (s.id in skip and a.proctype in skipped):
                    checker.reasons(a)
        for a in snap.subject_assessors:
            if a.proctype in digests:
                checker.reasons(a)
        found = checker.placed(checker.order)
        stale += found
        if memo is not None:
            for r in found:
                memo.found.pop(r.session_id, None)
        checked.update(checker.checked)
        unknown.update(checker.unknown)
    return Staleness(tuple(stale), tuple(sorted(checked.items())), tuple(sorted(unknown.items())))


def reruns(staleness: Staleness, policy: Callable[[str], frozenset[str]]) -> list[StaleResult]:
    """
    The stale results a policy sends back (`policy(proctype)`: the kinds it reruns), upstream
    first. A result stale only through a stale upstream goes back only with that upstream:
    rerun on the old upstream, it would be stale again the next sweep.
    """
    chosen: dict[str, StaleResult] = {}
    for result in staleness.stale:  # upstream before downstream
        wanted = policy(result.proctype)
        for reason in result.reasons:
            if reason.kind not in wanted:
                continue
            if not reason.through or reason.through in chosen:
                chosen[result.assessor.id] = result
                break
    return list(chosen.values())
