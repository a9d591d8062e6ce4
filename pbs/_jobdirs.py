"""
Reading many job directories' `status/` files in one command.

The script is fixed text; the work root and the names travel as separate argv items
(`sh -c SCRIPT sh ROOT NAME...`), so no name is ever parsed by a shell. It uses only builtins
(`read`, `[`, `printf`), so a poll of thousands of jobs forks one shell, not thousands of `cat`s.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import PurePosixPath

from . import _names
from ._batches import chunked, unique
from ._exceptions import BadSchedulerOutput
from ._models import JobDirState
from ._transport import Transport

STATUS_FILES = ("started", "exit_code", "finished", "signal", "cpu")

READ_STATES_SCRIPT = """\
root=$1
shift
for name in "$@"; do
    d="$root/$name"
    if [ -d "$d" ]; then line=1; else line=0; fi
    for f in started exit_code finished signal cpu; do
        v=
        if [ -f "$d/status/$f" ]; then IFS= read -r v < "$d/status/$f" || :; fi
        case $v in *[!0-9A-Za-z-]*) v=? ;; esac
        line="$line $v."
    done
    printf '%s\\n' "$line"
done
"""


def read_states_argv(root: str, names: Sequence[str]) -> list[str]:
    """argv that prints one line per name, in order."""
    return ["sh", "-c", READ_STATES_SCRIPT, "sh", root, *names]


def _field(value: str) -> str | None:
    # Each value is printed with a trailing '.' so an empty one survives splitting.
    text = value.removesuffix(".")
    return text or None


def _int(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        return None


def _time(value: str | None) -> datetime | None:
    seconds = _int(value)
    return None if seconds is None else datetime.fromtimestamp(seconds, tz=UTC)


def parse_states(output: str, names: Sequence[str]) -> dict[str, JobDirState]:
    """Pair the script's lines with the names it was given."""
    lines = output.splitlines()
    if len(lines) != len(names):
        raise BadSchedulerOutput(
            f"expected {len(names)} status lines, got {len(lines)}", output=output
        )
    states: dict[str, JobDirState] = {}
    for name, line in zip(names, lines, strict=True):
        parts = line.split(" ")
        if len(parts) != 1 + len(STATUS_FILES) or parts[0] not in ("0", "1"):
            raise BadSchedulerOutput(f"bad status line for {name}", output=line)
        started, exit_code, finished, signal, cpu = (_field(p) for p in parts[1:])
        states[name] = JobDirState(
            exists=parts[0] == "1",
            started=_time(started),
            exit_code=_int(exit_code),
            finished=_time(finished),
            signal=signal,
            cpu_seconds=_int(cpu),
        )
    return states


async def read_states(
    transport: Transport, work_root: str | PurePosixPath, names: Iterable[str]
) -> dict[str, JobDirState]:
    """`<work_root>/<name>/status/` for every name, in one command per chunk of names."""
    root = str(_names.check_path(work_root, "work root"))
    wanted = [_names.check_job_name(name) for name in unique(names)]
    states: dict[str, JobDirState] = {}
    for chunk in chunked(wanted):
        result = await transport.run(read_states_argv(root, chunk), check=True)
        states.update(parse_states(result.stdout, chunk))
    return states
