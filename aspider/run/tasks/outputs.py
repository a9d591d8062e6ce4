"""
Outputs: from a finished job's `OUTPUTS/` into the assessor's resources, verified.

Success is decided here, not from which files happen to exist: the job exited 0 (the planner
only finalizes those) **and** every declared output exists and is not empty. Each file (the
job's log among them, as OUTLOG) is streamed from the job directory to XNAT, and then one
listing of all the assessor's output files is compared with what was sent (names and sizes).
Only then may the caller write COMPLETE; any failure raises and leaves the assessor as it was,
to be tried again next sweep.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath

from aspider._exceptions import OutputsMissing, UploadMismatch
from aspider.plan.tasks import OutputDecl
from aspider.run.tasks.transfers import TransferLimit
from pbs import PbsError, Transport
from xnat_client import FileEntry, ResourceRef, XnatClient

LOG_RESOURCE = "OUTLOG"
LOG_TAIL_BYTES = 4096
#: A log larger than this goes up on its own (one request more) rather than read whole into
#: the zip that carries it with the files beside it (`upload_outputs`' `beside_log`)
LOG_IN_ZIP_LIMIT = 64 * 2**20
_UNLIMITED = TransferLimit(1, small=2**63)


@dataclass(frozen=True, slots=True)
class OutputFile:
    source: PurePosixPath  # on the transport
    resource: str
    name: str  # path inside the resource
    size: int


async def _walk(transport: Transport, root: PurePosixPath, prefix: str = "") -> list[OutputFile]:
    files: list[OutputFile] = []
    for name in await transport.list_dir(str(root)):
        path = root / name
        found = await transport.stat(str(path))
        if found is None:
            continue
        rel = f"{prefix}{name}"
        if found.is_dir:
            files.extend(await _walk(transport, path, rel + "/"))
        elif found.size > 0:  # XNAT refuses empty uploads
            files.append(OutputFile(path, "", rel, found.size))
    return files


async def collect_outputs(
    transport: Transport, outputs_dir: PurePosixPath, declared: tuple[OutputDecl, ...]
) -> list[OutputFile]:
    """The files to upload for every declared output; OutputsMissing if any is absent/empty."""
    missing: list[str] = []
    files: list[OutputFile] = []
    for out in declared:
        path = outputs_dir / out.path
        found = await transport.stat(str(path))
        if found is None or (not found.is_dir and found.size == 0):
            missing.append(out.path)
            continue
        if found.is_dir:
            inner = await _walk(transport, path)
            if not inner:
                missing.append(out.path)
            files += [OutputFile(f.source, out.resource, f.name, f.size) for f in inner]
        else:
            files.append(OutputFile(path, out.resource, path.name, found.size))
    if missing:
        raise OutputsMissing(missing, len(declared))
    return files


async def upload_outputs(
    xnat: XnatClient,
    transport: Transport,
    session_id: str,
    assessor_id: str,
    files: list[OutputFile],
    limit: TransferLimit | None = None,
    beside_log: Mapping[str, bytes] | None = None,
) -> list[FileEntry]:
    """
    Stream every file to its resource (replacing an earlier partial upload), then verify;
    returns that verifying listing (every output file of the assessor, as XNAT holds them).

    Verification is one listing of the assessor's output files after every file is in
    (`verify=False` on each upload): N files cost N + 1 requests, whatever their resources.
    `beside_log` (name -> bytes: the provenance record) goes into OUTLOG with the job's log,
    both in one zip XNAT unpacks, so it costs no request of its own.
    """
    sent = {(f.resource, f.name): f.size for f in files}
    if beside_log:
        files = await _upload_with_log(xnat, transport, session_id, assessor_id, files, beside_log)
        sent |= {(LOG_RESOURCE, name): len(data) for name, data in beside_log.items()}
    for f in files:
        ref = ResourceRef.assessor_output(session_id, assessor_id, f.resource)
        async with (limit or _UNLIMITED).moving_file(f.size):
            source = transport.download(str(f.source))
            await xnat.upload_file(ref, f.name, source, overwrite=True, verify=False)
    entries = await xnat.list_output_files(session_id, assessor_id)
    listed = {(e.resource, e.name): e.size for e in entries}
    for (resource, name), size in sent.items():
        if listed.get((resource, name)) != size:
            got = listed.get((resource, name))
            raise UploadMismatch(f"{resource}/{name}: XNAT lists {got} bytes, sent {size}")
    return entries


async def _upload_with_log(
    xnat: XnatClient,
    transport: Transport,
    session_id: str,
    assessor_id: str,
    files: list[OutputFile],
    beside_log: Mapping[str, bytes],
) -> list[OutputFile]:
    """Send the job's log (when not too big) and `beside_log` as one zip; the files left."""
    log = next((f for f in files if f.resource == LOG_RESOURCE), None)
    members = dict(beside_log)
    if log is not None and log.size <= LOG_IN_ZIP_LIMIT:
        members = {log.name: await transport.read_bytes(str(log.source)), **members}
        files = [f for f in files if f is not log]
    ref = ResourceRef.assessor_output(session_id, assessor_id, LOG_RESOURCE)
    archive = zipped(members)
    await xnat.upload_zip(ref, archive, name="outlog.zip", overwrite=True, verify=False)
    return files


def zipped(members: Mapping[str, bytes]) -> bytes:
    """A zip of these files (name -> bytes), for XNAT to unpack into one resource."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


async def log_file(transport: Transport, job_dir: PurePosixPath) -> OutputFile | None:
    """job.log as the OUTLOG output, when the job left a non-empty one (XNAT refuses empty)."""
    log = job_dir / "job.log"
    found = await transport.stat(str(log))
    if found is None or found.size == 0:
        return None
    return OutputFile(log, LOG_RESOURCE, "job.log", found.size)


async def upload_log(
    xnat: XnatClient,
    transport: Transport,
    job_dir: PurePosixPath,
    session_id: str,
    assessor_id: str,
    limit: TransferLimit | None = None,
) -> bool:
    """Upload job.log as resource OUTLOG, when the job left a non-empty one."""
    log = await log_file(transport, job_dir)
    if log is None:
        return False
    ref = ResourceRef.assessor_output(session_id, assessor_id, log.resource)
    async with (limit or _UNLIMITED).moving_file(log.size):
        await xnat.upload_file(ref, log.name, transport.download(str(log.source)), overwrite=True)
    return True


async def log_tail(transport: Transport, job_dir: PurePosixPath, limit: int = 600) -> str:
    """The end of job.log, for a failed task's reason (at most `limit` characters)."""
    try:
        raw = await transport.read_bytes(str(job_dir / "job.log"))
    except PbsError:  # a missing or unreadable log just means no tail
        return ""
    text = raw[-LOG_TAIL_BYTES:].decode("utf-8", errors="replace").strip()
    lines = [ln for ln in text.splitlines() if ln.strip()][-8:]
    tail = " | ".join(lines)
    return tail[-limit:]
