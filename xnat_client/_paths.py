"""
Building URL paths from labels, IDs and file names, safely.

Every name becomes exactly one path segment: it is percent-quoted with nothing left "safe", so
spaces, `+`, `#`, `%`, `?` and unicode reach XNAT as themselves. Names that would change the
shape of the path instead (a `/`, `.` or `..`, an empty name, control characters) are refused
with `InvalidName` before any request is sent. File paths inside a resource may have folders, so
they are split on `/` and each part is checked the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal
from urllib.parse import quote

from ._exceptions import InvalidName


def segment(name: str, what: str = "name", *, backslash: bool = False) -> str:
    """
    Check one label or ID and return it quoted as a single path segment.

    A backslash is refused in labels and IDs (XNAT forbids it there) but is an ordinary
    character of a file name (`backslash=True`), sent as `%5C`.
    """
    if not isinstance(name, str) or not name:
        raise InvalidName(f"empty {what}: XNAT cannot address it")
    if "/" in name:
        raise InvalidName(f"{what} {name!r} contains a slash: XNAT cannot address it by label")
    if "\\" in name and not backslash:
        raise InvalidName(f"{what} {name!r} contains a backslash, which XNAT forbids there")
    if name in (".", ".."):
        raise InvalidName(f"{what} {name!r} is a relative path segment")
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in name):
        raise InvalidName(f"{what} {name!r} contains a control character")
    return quote(name, safe="")


def file_path(path: str) -> str:
    """Check a file path relative to its resource (`sub/dir/f.nii.gz`) and quote each part."""
    if not isinstance(path, str) or not path or path.startswith("/"):
        raise InvalidName(f"file path {path!r} must be relative and non-empty")
    return "/".join(segment(part, "file name", backslash=True) for part in path.split("/"))


OwnerKind = Literal["scan", "assessor", "session", "project"]


@dataclass(frozen=True, slots=True)
class ResourceRef:
    """
    Where a resource (a folder of files) lives, addressed by IDs as XNAT recommends.

    Build one with `ResourceRef.scan(...)`, `ResourceRef.assessor_output(...)`,
    `ResourceRef.session(...)` or `ResourceRef.project(...)`; every part is validated when the
    ref is made, so a bad name fails at the call site, not deep inside a request. For a project
    resource, `session_id` holds the project ID.
    """

    kind: OwnerKind
    session_id: str
    owner_id: str  # the scan ID or assessor ID; "" for a session resource
    label: str

    def __post_init__(self) -> None:
        segment(self.session_id, "project ID" if self.kind == "project" else "session ID")
        segment(self.label, "resource label")
        if self.kind not in ("session", "project"):
            segment(self.owner_id, f"{self.kind} ID")

    @classmethod
    def scan(cls, session_id: str, scan_id: str, label: str) -> ResourceRef:
        return cls("scan", session_id, scan_id, label)

    @classmethod
    def assessor_output(cls, session_id: str, assessor_id: str, label: str) -> ResourceRef:
        """
        An output resource of an assessor (XNAT's `out/file`). A subject assessor
        (`proc:subjGenProcData`, no session: `session_id=""`) keeps its resources as any
        experiment does, `/data/experiments/<its ID>/resources/<label>`.
        """
        if not session_id:
            return cls("session", assessor_id, "", label)
        return cls("assessor", session_id, assessor_id, label)

    @classmethod
    def session(cls, session_id: str, label: str) -> ResourceRef:
        return cls("session", session_id, "", label)

    @classmethod
    def project(cls, project_id: str, label: str) -> ResourceRef:
        """A resource of the project itself (`/data/projects/{id}/resources/{label}`)."""
        return cls("project", project_id, "", label)

    @property
    def owner_path(self) -> str:
        if self.kind == "project":
            return f"/data/projects/{segment(self.session_id)}"
        base = f"/data/experiments/{segment(self.session_id)}"
        if self.kind == "scan":
            return f"{base}/scans/{segment(self.owner_id)}"
        if self.kind == "assessor":
            return f"{base}/assessors/{segment(self.owner_id)}/out"
        return base

    @property
    def path(self) -> str:
        """The resource's URL path below the server root, e.g. `/data/experiments/E1/.../DICOM`."""
        return f"{self.owner_path}/resources/{segment(self.label)}"

    def file(self, path: str) -> str:
        """The URL path of one file in this resource."""
        return f"{self.path}/files/{file_path(path)}"
