"""
Job directories that have served their purpose go: one listing of the work root, and one
command for whatever is to be removed.

- A COMPLETE task's directory normally goes the moment its outputs are verified in XNAT; one
  that stays (the engine killed half-way through removing it, a file the cluster would not
  delete then) is a leftover, removed by the next sweep.
- A failed task's directory is kept for a person to read until nothing in it has changed for
  `older_than_days`: "nothing changed" (no entry of the directory, its `status/`, `INPUTS/` or
  `OUTPUTS/` newer) covers jobs that never wrote `status/finished`: killed outright, or never
  started because the submission failed.

The work root is listed rather than every finished task's directory probed, so a sweep of a
project with 20,000 COMPLETE tasks sends no argument list that grows with them.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import PurePosixPath

from aspider.run.backends.base import job_names
from pbs import Transport, job_dirs

_LIST = """\
cd "$1" 2>/dev/null || exit 0
for d in */; do [ -d "$d" ] && printf '%s\\n' "${d%/}"; done
"""

_REMOVE = """\
root=$1
minutes=$2
shift 2
for entry in "$@"; do
    kind=${entry%%:*}
    name=${entry#*:}
    d="$root/$name"
    [ -d "$d" ] || continue
    if [ "$kind" = done ] ||
        [ -z "$(find "$d" -maxdepth 2 -mmin "-$minutes" 2>/dev/null | head -n 1)" ]
    then rm -rf -- "$d" && echo "$name"
    fi
done
"""


async def prune_job_dirs(
    transport: Transport,
    work_root: PurePosixPath,
    failed: Iterable[str],
    older_than_days: float,
    complete: Iterable[str] = (),
) -> list[str]:
    """
    Remove old failed tasks' and leftover COMPLETE tasks' directories; the labels removed.
    The work root is listed first: a root holding no job directory (the quiet night) costs
    that one command and no job name is worked out for the project's tasks.
    """
    failed, complete = list(failed), list(complete)
    if not (failed or complete):
        return []
    listed = await transport.run(["sh", "-c", _LIST, "sh", str(work_root)])
    names = [name for name in listed.stdout.split("\n") if name]
    if not names:
        return []
    wanted = {**_tagged(failed, "old"), **_tagged(complete, "done")}
    present = [name for name in names if name in wanted]
    if not present:
        return []
    job_dirs(work_root, present)  # checks every name before it reaches a shell
    minutes = str(max(0, int(older_than_days * 24 * 60)))
    entries = [f"{wanted[name][1]}:{name}" for name in present]
    result = await transport.run(["sh", "-c", _REMOVE, "sh", str(work_root), minutes, *entries])
    return [wanted[name][0] for name in result.stdout.split() if name in wanted]


def _tagged(labels: Iterable[str], kind: str) -> dict[str, tuple[str, str]]:
    """job name -> (label, kind)."""
    return {name: (label, kind) for label, name in job_names(labels).items()}
