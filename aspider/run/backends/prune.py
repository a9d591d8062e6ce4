"""
Failed tasks' job directories go once nothing in them has changed for a while.
"""

from __future__ import annotations

from pathlib import PurePosixPath

from aspider.run.backends.base import job_names
from pbs import Transport, job_dirs

_PRUNE = """\
root=$1
minutes=$2
shift 2
for name in "$@"; do
    d="$root/$name"
    [ -d "$d" ] || continue
    if [ -z "$(find "$d" -maxdepth 2 -mmin "-$minutes" 2>/dev/null | head -n 1)" ]
    then rm -rf -- "$d" && echo "$name"
    fi
done
"""


async def prune_job_dirs(
    transport: Transport, work_root: PurePosixPath, labels: list[str], older_than_days: float
) -> list[str]:
    """
    Remove the job directories of failed tasks in which nothing has changed for
    `older_than_days`, in one command: they are kept that long so a person can look at what
    the job left. "Nothing changed" (no entry of the directory, its `status/`, `INPUTS/` or
    `OUTPUTS/` newer) covers jobs that never wrote `status/finished`: killed outright, or
    never started because the submission failed.
    """
    if not labels:
        return []
    names = job_names(labels)
    by_name = {name: label for label, name in names.items()}
    job_dirs(work_root, by_name)  # checks every name before it reaches a shell
    minutes = str(max(0, int(older_than_days * 24 * 60)))
    argv = ["sh", "-c", _PRUNE, "sh", str(work_root), minutes, *by_name]
    result = await transport.run(argv)
    return [by_name[name] for name in result.stdout.split() if name in by_name]
