"""
Staging: stream a task's inputs from XNAT into `<job dir>/INPUTS/` before it is submitted.

The job never talks to XNAT (it holds no credentials), so the engine brings the inputs to it:
each file is streamed from XNAT's download straight into the transport's upload (SFTP for a
cluster, the local disk for the local backend) through a small in-memory pipe, so a multi-GB
image costs a few chunks of memory, never its size. Every staged file's size is checked
against XNAT's listing.

A resource whose every file a folder input takes, or that holds one small file, needs no
listing to choose from: it comes as one zip download (`XnatClient.receive_zipped`), unpacked as
it streams, each member's CRC checked, each file placed as it arrives (`zipped` decides). A
DICOM series of 200 files, or an upstream's folder of outputs, costs 1 request instead of 201;
a one-file resource under 1 MiB, 1 instead of 2 (a larger single file is listed and fetched as
it is: XNAT deflates what it zips).

Where a file lands is where a DAX job would find it (`aspider.plan.inputs_layout`): FILE as
`INPUTS/<fdest>`, DIRJ flat in `INPUTS/<fdest>/`, DIR in XNAT's simplified zip layout under
`INPUTS/<fdest>/` (an assessor's resource as `INPUTS/<fdest>/<RESOURCE>/...`).
"""

from __future__ import annotations

import logging
import posixpath
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, replace
from pathlib import PurePosixPath

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream

from aspider._exceptions import InputsMissing, StagingError, first_error
from aspider.plan.inputs_layout import place
from aspider.plan.tasks import EDITS_RESOURCE, InputResource, ResolvedInput, Task
from aspider.run.tasks.transfers import TransferLimit
from pbs import Transport
from xnat_client import BadResponse, FileEntry, ResourceRef, XnatClient

log = logging.getLogger("aspider.run.tasks.staging")


@dataclass(frozen=True, slots=True)
class StagedFile:
    source: ResourceRef
    path: str  # inside the resource
    size: int | None
    target: str  # relative to INPUTS/
    varname: str = ""  # the placeholder of the input resource it stages


def staged_names(files: list[StagedFile]) -> dict[str, str]:
    """varname -> the name of the one file a FILE input staged (what its placeholder holds)."""
    return {f.varname: posixpath.basename(f.target) for f in files if f.varname}


def _ref(item: ResolvedInput, res: InputResource) -> ResourceRef:
    if item.kind == "scan":
        return ResourceRef.scan(item.session_id, item.scan_id or "", res.resource)
    return ResourceRef.assessor_output(item.session_id, item.assessor_id or "", res.resource)


def _refuse_unsafe_names(where: str, files: list[FileEntry]) -> None:
    """A control character in a file name would reach paths and the job's shell: say so."""
    for f in files:
        if any(ord(c) < 0x20 or ord(c) == 0x7F for c in f.name):
            raise InputsMissing(
                f"{where}: file {f.name!r} has a control character in its name and cannot be "
                "staged safely; rename it in XNAT"
            )


def _targets(item: ResolvedInput, res: InputResource, files: list[FileEntry]) -> list[StagedFile]:
    ref = _ref(item, res)
    placed = place(item, res, files)
    _refuse_unsafe_names(f"{item.name}: resource {res.resource}", [p.entry for p in placed])
    varname = res.varname if res.ftype == "FILE" else ""
    return [StagedFile(ref, p.entry.name, p.entry.size, p.target, varname) for p in placed]


def _known_files(
    item: ResolvedInput, res: InputResource, known: Mapping[str, list[FileEntry]] | None
) -> list[FileEntry] | None:
    """An upstream assessor's files in this resource, as this sweep just listed them, if it did."""
    upstream = (known or {}).get(item.assessor_id or "") if item.kind != "scan" else None
    return None if upstream is None else [e for e in upstream if e.resource == res.resource]


#: A one-file resource below this size comes zipped: XNAT deflates it in about the time it
#: answers the listing the zip saves. A larger single file is listed and fetched as it is.
ZIP_ONE_FILE_BELOW = 1 << 20


def zipped(res: InputResource, known_files: list[FileEntry] | None = None) -> bool:
    """
    Whether one zip download stages this resource: nothing needs a listing to be chosen. A
    folder input that takes every file is zipped at any size (one request, where a listing
    and a download per file cost a request each); one file is zipped only when the snapshot
    says it is small, since XNAT deflates what it zips and a large file moves as it is with
    one listing and one download. `known_files`: the resource as this sweep just listed it
    (an upstream's verified upload): then a download per file is zipped only when there are
    several.
    """
    if res.filepath is not None:
        return False
    takes_all = res.ftype != "FILE" and res.fmatch in (None, "*")
    if known_files is not None:
        return takes_all and len(known_files) > 1
    if takes_all:
        return res.file_count != 0
    return res.file_count == 1 and res.file_size is not None and res.file_size < ZIP_ONE_FILE_BELOW


def _by_zip(
    task: Task, known: Mapping[str, list[FileEntry]] | None
) -> list[tuple[ResolvedInput, InputResource]]:
    return [
        (item, res)
        for item in task.inputs
        for res in item.resources
        if zipped(res, _known_files(item, res, known))
    ]


async def plan_staging(
    xnat: XnatClient, task: Task, known: Mapping[str, list[FileEntry]] | None = None
) -> list[StagedFile]:
    """
    List every input resource once and decide which file goes where. An upstream assessor
    in `known` (assessor ID -> its output files, as listed by this sweep right after it
    uploaded them) is not listed again; a resource that comes as one zip (`zipped`) is not
    listed at all (see `stage_zipped`).
    """
    staged: list[StagedFile] = []
    for item in task.inputs:
        for res in item.resources:
            files = _known_files(item, res, known)
            if zipped(res, files):
                continue
            if files is None:
                files = await xnat.list_files(_ref(item, res))
            staged.extend(_targets(item, res, files))
    taken: set[str] = set()
    for f in staged:
        _claim(taken, f.target)
    return staged


def _claim(taken: set[str], target: str) -> None:
    """`target` (under INPUTS/) for one file only: a second one blocks the task."""
    if target in taken:
        raise InputsMissing(f"two inputs would be staged to INPUTS/{target}")
    taken.add(target)


_UNLIMITED = TransferLimit(1, small=2**63)


async def _drain(receive: MemoryObjectReceiveStream[bytes]) -> AsyncIterator[bytes]:
    async with receive:
        async for chunk in receive:
            yield chunk


async def copy_file(
    xnat: XnatClient, transport: Transport, source: ResourceRef, path: str, target: str
) -> int:
    """Stream one XNAT file into a path on the transport; returns the bytes moved."""
    send, receive = anyio.create_memory_object_stream[bytes](max_buffer_size=4)
    total = 0
    try:
        async with anyio.create_task_group() as tg:
            tg.start_soon(transport.upload, target, _drain(receive))
            async with send:
                total = await xnat.download_file(source, path, send.send)
    except BaseExceptionGroup as group:
        raise first_error(group) from group
    return total


async def stage_inputs(
    xnat: XnatClient,
    transport: Transport,
    inputs_dir: PurePosixPath,
    task: Task,
    limit: TransferLimit | None = None,
    known: Mapping[str, list[FileEntry]] | None = None,
) -> list[StagedFile]:
    """
    Stage every input of the task into `inputs_dir`, verifying sizes; returns what moved.
    `known`: upstream assessors' files this sweep has just listed (see `plan_staging`).
    """
    limit = limit or _UNLIMITED
    files = await plan_staging(xnat, task, known)
    await transport.make_dirs(str(inputs_dir))
    folders = _Folders(transport, {inputs_dir})
    await _copy_all(xnat, transport, inputs_dir, folders, files, limit)
    taken = {f.target for f in files}
    for item, res in _by_zip(task, known):
        async with limit.moving_file(res.file_size):
            unzipped = await stage_zipped(xnat, transport, inputs_dir, folders, item, res, taken)
        if unzipped is None:  # XNAT's zip was of no use: the listing and a download per file
            unzipped = _targets(item, res, await xnat.list_files(_ref(item, res)))
            for f in unzipped:
                _claim(taken, f.target)
            await _copy_all(xnat, transport, inputs_dir, folders, unzipped, limit)
        files += unzipped
    return files


async def _copy_all(
    xnat: XnatClient,
    transport: Transport,
    inputs_dir: PurePosixPath,
    folders: _Folders,
    files: list[StagedFile],
    limit: TransferLimit,
) -> None:
    for f in files:
        target = inputs_dir / f.target
        await folders.make(target.parent)
        async with limit.moving_file(f.size):
            await verified_copy(xnat, transport, f.source, f.path, f.size, target)


@dataclass
class _Folders:
    """The folders made under INPUTS/ so far: each is made once."""

    transport: Transport
    made: set[PurePosixPath]

    async def make(self, folder: PurePosixPath) -> None:
        if folder not in self.made:
            await self.transport.make_dirs(str(folder))
            self.made.add(folder)


async def _counted(chunks: AsyncIterator[bytes], into: list[int]) -> AsyncIterator[bytes]:
    async for chunk in chunks:
        into[0] += len(chunk)
        yield chunk


async def stage_zipped(
    xnat: XnatClient,
    transport: Transport,
    inputs_dir: PurePosixPath,
    folders: _Folders,
    item: ResolvedInput,
    res: InputResource,
    taken: set[str],
) -> list[StagedFile] | None:
    """
    Stage one resource from its zip (`zipped` said it may): each file placed as DAX would
    place it, streamed to its target as it is unpacked, its landed size checked. `taken`: the
    targets already staged, which no file may land on again.

    Returns None when XNAT's answer was no zip this can read (another layout, a damaged
    first member) before any file landed: the caller lists the resource instead, so a server
    that zips differently costs requests, never a task.

    Raises:
        InputsMissing: a required file is not there, a FILE input finds several, or a name
            is unsafe or would land outside INPUTS/.
        StagingError: fewer or more bytes landed than the zip held.
        BadResponse: the zip broke off or was damaged after files had landed.
    """
    where = f"{item.name}: resource {res.resource}"
    ref = _ref(item, res)
    staged: list[StagedFile] = []
    each = replace(res, required=False)  # one file at a time: "none matched" is told at the end

    async def receive(entry: FileEntry, chunks: AsyncIterator[bytes]) -> None:
        _refuse_unsafe_names(where, [entry])
        placed = place(item, each, [entry])
        if not placed:
            return
        if res.ftype == "FILE" and staged:
            if res.fmulti == "any1":
                return  # the first, as DAX takes it
            raise InputsMissing(f"{res.varname or where}: multiple files in the resource")
        target = placed[0].target
        _claim(taken, target)
        path = inputs_dir / target
        await folders.make(path.parent)
        moved = [0]
        await transport.upload(str(path), _counted(chunks, moved))
        landed = await transport.stat(str(path))
        if landed is None or landed.size != moved[0]:
            got = landed.size if landed else "nothing"
            raise StagingError(f"staging {entry.name}: expected {moved[0]} bytes, got {got}")
        varname = res.varname if res.ftype == "FILE" else ""
        staged.append(StagedFile(ref, entry.name, moved[0], target, varname))

    try:
        await xnat.receive_zipped(ref, receive)
    except BadResponse as exc:
        if staged:
            raise
        log.warning("%s: XNAT's zip was not usable (%s); listing it instead", where, exc)
        return None
    if not staged:
        place(item, res, [])  # a required input says what it found no file for
    return staged


async def verified_copy(
    xnat: XnatClient,
    transport: Transport,
    source: ResourceRef,
    path: str,
    size: int | None,
    target: PurePosixPath,
) -> None:
    """
    `copy_file`, then the landed file's size checked against XNAT's listing.

    Raises:
        StagingError: fewer or more bytes arrived than XNAT listed.
    """
    moved = await copy_file(xnat, transport, source, path, str(target))
    landed = await transport.stat(str(target))
    expected = size if size is not None else moved
    if landed is None or landed.size != expected or moved != expected:
        got = landed.size if landed else "nothing"
        raise StagingError(f"staging {path}: expected {expected} bytes, got {got}")


async def stage_edits(
    xnat: XnatClient,
    transport: Transport,
    inputs_dir: PurePosixPath,
    task: Task,
    edits_of: ResourceRef | None,
    staged: list[StagedFile],
) -> dict[str, str]:
    """
    DAX's `edits`, as a DAX job gets them: for each (prefix, varname), the last file by name
    in the assessor's EDITS resource whose name starts with the prefix, staged as
    `INPUTS/<prefix>`, its varname `/INPUTS/<prefix>`; empty when there is no such file, or no
    EDITS resource (`edits_of` None: a new assessor has none, and then nothing is asked).
    One listing when there is a resource, one download per edit found.
    """
    names = dict.fromkeys((varname for _, varname in task.edits), "")
    if not task.edits or edits_of is None:
        return names
    files = await xnat.list_files(edits_of)
    _refuse_unsafe_names(f"{EDITS_RESOURCE} resource", files)
    taken = {f.target for f in staged}
    for prefix, varname in task.edits:
        found = sorted(
            (f for f in files if posixpath.basename(f.name).startswith(prefix)),
            key=lambda f: posixpath.basename(f.name),
        )
        if not found:
            continue
        if prefix in taken:
            raise InputsMissing(f"the edit {prefix!r} and an input would both be INPUTS/{prefix}")
        last = found[-1]
        await verified_copy(xnat, transport, edits_of, last.name, last.size, inputs_dir / prefix)
        taken.add(prefix)
        names[varname] = f"/INPUTS/{prefix}"
    return names
