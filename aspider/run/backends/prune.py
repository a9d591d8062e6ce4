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
- A job array's directory (`<work root>/.arrays/<name>`: its dispatcher, its manifest, its
  elements' scheduler output) serves as long as one of its elements' job directories is there:
  an element runs, or a person may still read a failed one with its scheduler log. It goes
  once none of the directories its manifest lists remains (each removed as above, or reused by
  a later job of its own), left alone a few minutes after it was written, because a submission
  writes the manifest a moment before the elements' directories.

The work root is listed rather than every finished task's directory probed, so a sweep of a
project with 20,000 COMPLETE tasks sends no argument list that grows with them; the same
listing names the spent arrays.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import PurePosixPath

from aspider.run.backends.base import job_names
from pbs import ARRAY_MANIFEST, ARRAYS_DIR, Transport, job_dirs

log = logging.getLogger("aspider.run.backends.prune")

#: Minutes an array's directory is left alone after its last change, whatever its manifest
#: says: its submission writes the manifest before its elements' job directories.
ARRAY_GRACE_MINUTES = 10

# The job directories, then `.arrays/<name>` for each array none of whose elements' job
# directories remains (and unchanged for $2 minutes). Dot directories are no job's.
_LIST = f"""\
cd "$1" 2>/dev/null || exit 0
for d in */; do [ -d "$d" ] && printf '%s\\n' "${{d%/}}"; done
for a in {ARRAYS_DIR}/*/; do
    a=${{a%/}}
    [ -d "$a" ] || continue
    [ -z "$(find "$a" -maxdepth 1 -mmin "-$2" 2>/dev/null | head -n 1)" ] || continue
    live=
    if [ -f "$a/{ARRAY_MANIFEST}" ]; then
        while IFS= read -r d; do [ -d "$d" ] && {{ live=1; break; }}; done < "$a/{ARRAY_MANIFEST}"
    fi
    [ -n "$live" ] || printf '%s\\n' "$a"
done
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
    if [ "$kind" = array ]; then rm -rf -- "$d"; continue; fi  # a spent array: no label
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
    Remove old failed tasks' and leftover COMPLETE tasks' directories, and spent arrays'
    directories; the labels removed. The work root is listed first: a root holding no job
    directory and no spent array (the quiet night) costs that one command and no job name is
    worked out for the project's tasks.
    """
    failed, complete = list(failed), list(complete)
    if not (failed or complete):
        return []
    grace = str(ARRAY_GRACE_MINUTES)
    listed = await transport.run(["sh", "-c", _LIST, "sh", str(work_root), grace])
    names, arrays = _split_listing(listed.stdout)
    if not (names or arrays):
        return []
    wanted = {**_tagged(failed, "old"), **_tagged(complete, "done")}
    present = [name for name in names if name in wanted]
    if not (present or arrays):
        return []
    job_dirs(work_root, present)  # checks every name before it reaches a shell
    job_dirs(work_root / ARRAYS_DIR, arrays)
    minutes = str(max(0, int(older_than_days * 24 * 60)))
    entries = [f"{wanted[name][1]}:{name}" for name in present]
    entries += [f"array:{ARRAYS_DIR}/{name}" for name in arrays]
    result = await transport.run(["sh", "-c", _REMOVE, "sh", str(work_root), minutes, *entries])
    if arrays:
        log.info("removed %d job array director(ies) none of whose jobs remain", len(arrays))
    return [wanted[name][0] for name in result.stdout.split() if name in wanted]


def _split_listing(stdout: str) -> tuple[list[str], list[str]]:
    """The listing's job directory names, and its spent arrays' names."""
    lines = [line for line in stdout.split("\n") if line]
    prefix = f"{ARRAYS_DIR}/"
    arrays = [line.removeprefix(prefix) for line in lines if line.startswith(prefix)]
    return [line for line in lines if not line.startswith(prefix)], arrays


def _tagged(labels: Iterable[str], kind: str) -> dict[str, tuple[str, str]]:
    """job name -> (label, kind)."""
    return {name: (label, kind) for label, name in job_names(labels).items()}
