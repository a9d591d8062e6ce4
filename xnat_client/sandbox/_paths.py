"""
The `/data/...` URL grammar, parsed once into a `Target`.

`/REST/...` and the `/archive` infix are the same resources (XNATApplication attaches them
all), so `canonical_path` folds them onto `/data/...` before parsing.
"""

from __future__ import annotations

from dataclasses import dataclass


def canonical_path(path: str) -> str:
    """`/REST/x` and `/data/archive/x` are `/data/x`."""
    if path == "/REST" or path.startswith("/REST/"):
        path = "/data" + path[len("/REST") :]
    if path == "/data/archive" or path.startswith("/data/archive/"):
        path = "/data" + path[len("/data/archive") :]
    return path


@dataclass(slots=True)
class Target:
    """What a data URL addresses: `kind` names the last level, the rest are its ancestors."""

    kind: str = ""
    project: str | None = None
    subject: str | None = None
    experiment: str | None = None
    scan: str | None = None
    assessor: str | None = None
    io: str = ""  # "out" or "in" for an assessor's output or input resources
    share: str | None = None  # `.../experiments/{e}/projects/{p}`: share e into p
    resource: str | None = None
    file: str | None = None


class _Parser:
    def __init__(self, segments: list[str]) -> None:
        self.seg = segments
        self.i = 0
        self.t = Target()

    def take(self) -> str | None:
        if self.i >= len(self.seg):
            return None
        self.i += 1
        return self.seg[self.i - 1]

    def done(self) -> bool:
        return self.i >= len(self.seg)

    def collection(self, kind: str) -> str | None:
        """Mark the collection `kind`; return the item key that follows, if any."""
        self.t.kind = kind
        key = self.take()
        if key is not None:
            self.t.kind = kind[:-1]
        return key


def parse(path: str) -> Target | None:
    """A Target for a canonical `/data/...` path, or None when the grammar has no such URL."""
    segments = path.split("/")[2:]
    if segments and segments[-1] == "":
        segments.pop()
    if not segments or any(s == "" for s in segments):
        return None
    p = _Parser(segments)
    head = p.take()
    ok = {"projects": _project, "subjects": _subject, "experiments": _experiment}.get(head or "")
    if ok is None or not ok(p):
        return None
    return p.t


def _project(p: _Parser) -> bool:
    p.t.project = p.collection("projects")
    if p.t.project is None or p.done():
        return True
    nxt = p.take()
    if nxt == "subjects":
        return _subject(p)
    if nxt == "experiments":
        return _experiment(p)
    return _resources(p, nxt)


def _subject(p: _Parser) -> bool:
    p.t.subject = p.collection("subjects")
    if p.t.subject is None or p.done():
        return True
    nxt = p.take()
    if nxt == "experiments":
        return _experiment(p)
    return _resources(p, nxt)


def _experiment(p: _Parser) -> bool:
    p.t.experiment = p.collection("experiments")
    if p.t.experiment is None or p.done():
        return True
    nxt = p.take()
    if nxt == "scans":
        p.t.scan = p.collection("scans")
        return p.t.scan is None or p.done() or _resources(p, p.take())
    if nxt == "projects":  # `.../experiments/{e}/projects/{other}`: sharing
        p.t.share = p.take()
        p.t.kind = "share"
        return p.t.share is not None and p.done()
    if nxt == "assessors":
        p.t.assessor = p.collection("assessors")
        if p.t.assessor is None or p.done():
            return True
        nxt = p.take()
        if nxt in ("out", "in"):
            p.t.io = nxt
            nxt = p.take()
        return _resources(p, nxt)
    return _resources(p, nxt)


def _resources(p: _Parser, nxt: str | None) -> bool:
    if nxt == "files":
        return _files(p)
    if nxt != "resources":
        return False
    p.t.resource = p.collection("resources")
    if p.t.resource is None or p.done():
        return True
    return p.take() == "files" and _files(p)


def _files(p: _Parser) -> bool:
    p.t.kind = "files"
    rest = p.seg[p.i :]
    if rest:
        p.t.kind = "file"
        p.t.file = "/".join(rest)
        p.i = len(p.seg)
    return True
