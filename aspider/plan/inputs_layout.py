"""
Where each input file lands under INPUTS/, as in a DAX job (pure: a resource's listing in,
(file, target) pairs out).

A DAX v3 job downloads each input with curl and unzip (its `job_template_v3.txt`), so a
processor written for DAX reads its inputs at these paths:

- FILE: the one file `fmatch` (or `filepath`) picks becomes `INPUTS/<fdest>`; without `fdest`
  it keeps its own file name. Several matches block the task unless `fmulti: any1`, which
  takes the first in XNAT's listing order.
- DIRJ: the resource as a zip unpacked flat (`unzip -j`): `INPUTS/<fdest>/<file name>`.
- DIR: the resource as a zip in XNAT's `structure=simplified` layout (`<assessor>/out/
  <RESOURCE>/<path>`), unpacked into `INPUTS/<fdest>/`, after which the job moves `*/out/*` up
  a level: `INPUTS/<fdest>/<RESOURCE>/<path>`. A scan's resource lands there too. (A DAX job's
  move finds nothing in a scan's zip, `<session>/scans/<ID>/<RESOURCE>/<path>`, and leaves that
  whole layout, session label included; the template's evident intent is the assessor's, and a
  session label has no business in a path, so a scan follows it here.)
- `ddest` puts the input in a folder of that name under INPUTS/ (what DAX's project analyses do
  with it; a DAX 2.21 session job instead fails its download on any `ddest`).
"""

from __future__ import annotations

import fnmatch
import posixpath
import re
from dataclasses import dataclass

from aspider._exceptions import InputsMissing
from aspider.plan.tasks import InputResource, ResolvedInput
from xnat_client.models import FileEntry


@dataclass(frozen=True, slots=True)
class Placed:
    """One listed file and where it lands, relative to INPUTS/."""

    entry: FileEntry
    target: str


def matches(entry: FileEntry, pattern: str | None) -> bool:
    """DAX's `fmatch`: one shell pattern over the path inside the resource (`*` crosses `/`)."""
    return pattern is None or re.match(fnmatch.translate(pattern), entry.name) is not None


def safe_relative(path: str) -> str:
    """A destination inside INPUTS/: relative, no `..`, no empty parts."""
    parts = [p for p in path.split("/") if p not in ("", ".")]
    if not parts or ".." in parts or path.startswith("/"):
        raise InputsMissing(f"refusing to stage to {path!r}: not a plain relative path")
    return "/".join(parts)


def _chosen(item: ResolvedInput, res: InputResource, files: list[FileEntry]) -> list[FileEntry]:
    where = f"{item.name}: resource {res.resource}"
    if res.filepath is not None:
        found = [f for f in files if f.name == res.filepath.strip("/")]
        if not found and res.required:
            raise InputsMissing(f"{where} has no file {res.filepath}")
        return found
    chosen = [f for f in files if matches(f, res.fmatch)]
    if not chosen and res.required:
        raise InputsMissing(f"{where} has no file matching {res.fmatch or '*'}")
    if res.ftype == "FILE" and len(chosen) > 1:
        if res.fmulti != "any1":
            names = ", ".join(f.name for f in chosen[:5])
            raise InputsMissing(
                f"{res.varname or where}: multiple files ({len(chosen)} match "
                f"{res.fmatch or '*'}: {names})"
            )
        return chosen[:1]  # the first in XNAT's listing, as DAX takes it
    return chosen


def place(item: ResolvedInput, res: InputResource, files: list[FileEntry]) -> list[Placed]:
    """Where every file of one input resource lands (DAX's layout, above)."""
    chosen = _chosen(item, res, files)
    base = f"{res.ddest.strip('/')}/" if res.ddest else ""
    if res.ftype == "FILE":
        return [
            Placed(f, safe_relative(base + (res.fdest or posixpath.basename(f.name))))
            for f in chosen
        ]
    folder = base + (res.fdest or res.resource)
    if res.ftype == "DIRJ":
        return [Placed(f, safe_relative(f"{folder}/{posixpath.basename(f.name)}")) for f in chosen]
    return [Placed(f, safe_relative(f"{folder}/{res.resource}/{f.name}")) for f in chosen]
