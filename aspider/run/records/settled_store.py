"""
The settled-session memo between sweeps, kept in the work root next to the leases.

`<workroot>/.aspider/settled/<hash of the project ID>.json` holds the fingerprints of the
sessions the last sweep found settled (`aspider.plan.settled.SettledMemo`). It holds no secret and
nothing a sweep cannot rebuild: a missing, unreadable or foreign file is an empty memo (the
sweep then checks every session, as without it). Written whole to a temporary file, then
renamed, so a reader never sees half of one.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
from collections.abc import Mapping

from pbs import PbsError, Transport

log = logging.getLogger("aspider.plan.settled")

_VERSION = 1


def memo_path(root: str, project: str) -> str:
    name = hashlib.sha256(project.encode()).hexdigest()[:32]
    return f"{root.rstrip('/')}/.aspider/settled/{name}.json"


async def load_memo(transport: Transport, root: str, project: str) -> dict[str, str]:
    """Session ID -> fingerprint from the last sweep of `project`; empty when there is none."""
    path = memo_path(root, project)
    try:
        data = json.loads(await transport.read_bytes(path))
    except PbsError:
        return {}
    except ValueError as exc:
        log.warning("ignoring an unreadable settled-session memo %s: %s", path, exc)
        return {}
    if not isinstance(data, dict) or data.get("version") != _VERSION:
        return {}
    sessions = data.get("sessions")
    if data.get("project") != project or not isinstance(sessions, dict):
        return {}
    return {str(k): str(v) for k, v in sessions.items()}


async def save_memo(
    transport: Transport, root: str, project: str, sessions: Mapping[str, str]
) -> None:
    """Replace the memo; a failure only costs the next sweep its shortcut, so it is logged."""
    path = memo_path(root, project)
    directory = path.rsplit("/", 1)[0]
    body = {"version": _VERSION, "project": project, "sessions": dict(sessions)}
    temporary = f"{path}.{secrets.token_hex(4)}.tmp"
    try:
        await transport.make_dirs(directory)
        await transport.write_bytes(temporary, json.dumps(body).encode())
        await transport.rename(temporary, path)
    except PbsError as exc:
        log.warning("cannot keep the settled-session memo %s: %s", path, exc)
