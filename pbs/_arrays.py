"""
Job arrays: many jobs that ask for the same resources, submitted with one command.

A scheduler runs an array's elements from one script. Ours is a dispatcher: element `i` reads
line `i + 1` of the array's manifest (a job directory) and runs that directory's own `job.sh`,
rendered exactly as a single job's. So every element keeps the job contract of a single job
(its directory, its `status/` files, its log) and only the submission is shared.

```
<work root>/.arrays/<array name>/
    array.sh      the directives of the first element's job.sh, then the dispatcher
    manifest      one job directory per line; line i + 1 is element i
    scheduler.*   the scheduler's own output per element
```

A held array leaves a marker in every element's job directory (`.held`, the element's id),
written in the same remote command once the scheduler has taken the array: each element is
then adopted, released or forgotten on its own, as a held single job is (`_holds`).

Element ids are what the schedulers print for one element: Slurm's `123_7`, PBS Pro's and
Torque's `123[7].server`; the array itself is `123` and `123[].server`.
"""

from __future__ import annotations

import io
import re
import shlex
import tarfile
from collections.abc import Mapping, Sequence
from pathlib import PurePosixPath

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from . import _names
from ._exceptions import InvalidValue
from ._holds import HELD_MARKER
from ._jobdirs import STATUS_FILES
from ._spec import JobSpec
from ._submit import PREPARE_FAILED, PREPARE_MARKER

#: Where arrays keep their dispatcher and manifest, under the work root (a dot directory:
#: never taken for a job directory by the listings of the work root).
ARRAYS_DIR = ".arrays"
ARRAY_SCRIPT = "array.sh"
MANIFEST = "manifest"

_COMPRESSED = re.compile(r"^(?P<base>[0-9]+)_\[(?P<ranges>[0-9,\-]+)(?:%[0-9]+)?\]$")


def request_of(spec: JobSpec) -> tuple[object, ...]:
    """What an array's elements must share: everything the scheduler is asked for."""
    return (
        spec.walltime,
        spec.memory_mb,
        spec.cpus,
        spec.queue,
        spec.account,
        spec.qos,
        spec.mail_events,
        spec.mail_users,
        spec.extra_directives,
    )


class ArraySpec(BaseModel):
    """
    An array: its name (the scheduler's job name for all its elements), its directory, and its
    elements, which must ask for the same resources (`request_of`).

    `parallel` caps how many elements run at once (Slurm's and Torque's `%M`); None: no cap.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    array_dir: PurePosixPath
    elements: tuple[JobSpec, ...] = Field(min_length=1)
    parallel: int | None = Field(default=None, ge=1)
    hold: bool = False

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return _names.check_job_name(value)

    @field_validator("array_dir", mode="before")
    @classmethod
    def _dir(cls, value: object) -> PurePosixPath:
        return _names.check_path(str(value), "array directory")

    @model_validator(mode="after")
    def _one_request(self) -> ArraySpec:
        first = request_of(self.elements[0])
        for spec in self.elements[1:]:
            if request_of(spec) != first:
                raise ValueError(
                    f"element {spec.name} asks for other resources than {self.elements[0].name}"
                )
        dirs = [str(spec.job_dir) for spec in self.elements]
        if len(set(dirs)) != len(dirs):
            raise ValueError("two elements share a job directory")
        return self

    @property
    def header(self) -> JobSpec:
        """The array as one job: the shared request, the array's name and directory."""
        return self.elements[0].model_copy(
            update={"name": self.name, "job_dir": self.array_dir, "hold": self.hold}
        )

    @property
    def index_range(self) -> str:
        """`0-<n-1>`, and `%<parallel>` when capped: the value of `--array`, `-J` and `-t`."""
        cap = f"%{self.parallel}" if self.parallel else ""
        return f"0-{len(self.elements) - 1}{cap}"


def element_ids(answer: str, count: int) -> list[str]:
    """
    The elements' ids from the submit command's answer: `123` (Slurm, and the Slurm
    wrappers' qsub) gives `123_0`...; `123[].server` (PBS Pro, Torque) `123[0].server`...
    The array's submit script writes the same ids into the markers.
    """
    array_id = _names.check_job_id(answer.split(";", 1)[0].strip())
    if "[]" in array_id:
        head, _, tail = array_id.partition("[]")
        return [f"{head}[{i}]{tail}" for i in range(count)]
    if not array_id.isdigit():
        raise InvalidValue("array id", array_id, "expected <number> or <number>[].<server>")
    return [f"{array_id}_{i}" for i in range(count)]


def array_of(element_id: str) -> str:
    """The array an element belongs to (`123_7` -> `123`, `123[7].s` -> `123[].s`); else itself."""
    job_id = _names.check_job_id(element_id)
    found = _names.ELEMENT_ID.match(job_id)
    if found is None or (found["index"] is None and found["bracket"] is None):
        return job_id
    if found["index"] is not None:
        return found["base"]
    return f"{found['base']}[]{job_id[found.end() :]}"


def expand_elements(job_id: str) -> list[str]:
    """
    Slurm's compressed pending elements (`123_[0,2-4%2]`, as sacct and squeue without
    `--array` print them) as one id each; any other id as itself.
    """
    found = _COMPRESSED.match(job_id)
    if found is None:
        return [job_id]
    ids: list[str] = []
    for part in found["ranges"].split(","):
        first, _, last = part.partition("-")
        if not first.isdigit() or (last and not last.isdigit()):
            return [job_id]
        ids += [f"{found['base']}_{i}" for i in range(int(first), int(last or first) + 1)]
    return ids


# -- the remote side ---------------------------------------------------------------------------

_DISPATCH = """\
i=${{SLURM_ARRAY_TASK_ID:-${{PBS_ARRAY_INDEX:-${{PBS_ARRAYID:-}}}}}}
case $i in ''|*[!0-9]*) echo "aspider-pbs: no array index in the environment" >&2; exit 1 ;; esac
d=$(sed -n "$((i + 1))p" {manifest})
[ -n "$d" ] && [ -f "$d/job.sh" ] || {{ echo "aspider-pbs: no job for element $i" >&2; exit 1; }}
IFS= read -r first < "$d/job.sh" || first=
case $first in '#!'*) run=${{first#??}} ;; *) run=/bin/sh ;; esac
exec $run "$d/job.sh"
"""


def dispatcher(first_script: str, array: ArraySpec) -> str:
    """
    The array's script: the leading directives of the first element's job.sh (a site
    template's too: they apply to every element alike), then the dispatch to element `i`'s
    own job.sh, run by the interpreter its `#!` line names.
    """
    lines = first_script.splitlines()
    directives = []
    for line in lines[1:]:
        if line.strip() and not line.startswith("#"):
            break  # a scheduler reads directives only before the first command
        if line.startswith(("#SBATCH", "#PBS")):
            directives.append(line)
    manifest = shlex.quote(str(array.array_dir / MANIFEST))
    return "\n".join(["#!/bin/sh", *directives, _DISPATCH.format(manifest=manifest)])


def payload(array: ArraySpec, scripts: Sequence[str], dispatch: str) -> bytes:
    """
    The files one array submission writes, as a tar stream (paths relative to `/`): the
    dispatcher, the manifest and every element's job.sh.
    """
    manifest = "".join(f"{spec.job_dir}\n" for spec in array.elements)
    files: dict[PurePosixPath, str] = {
        array.array_dir / ARRAY_SCRIPT: dispatch,
        array.array_dir / MANIFEST: manifest,
    }
    files.update(
        (spec.job_dir / "job.sh", script)
        for spec, script in zip(array.elements, scripts, strict=True)
    )
    return _tar(files)


def _tar(files: Mapping[PurePosixPath, str]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for path, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(str(path).lstrip("/"))
            info.size, info.mode = len(data), 0o644
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


_STALE = " ".join(f'"$d/status/{name}"' for name in STATUS_FILES)

# Unpack the array's files, prepare every element's job directory as a single submission
# does, submit; then, held, mark every element with its id. The array directory and the
# submit argv arrive as arguments; the files on stdin.
ARRAY_SUBMIT_SCRIPT = f"""\
a=$1
shift
ok=1
{{ mkdir -p "$a" && tar -xf - -C / ; }} || ok=0
if [ "$ok" = 1 ]; then
    while IFS= read -r d; do
        mkdir -p "$d/INPUTS" "$d/OUTPUTS" "$d/status" && rm -f {_STALE} "$d/{HELD_MARKER}" || ok=0
    done < "$a/{MANIFEST}"
fi
[ "$ok" = 1 ] || {{ echo "{PREPARE_MARKER} $a" >&2; exit {PREPARE_FAILED}; }}
answer=$("$@") || {{ status=$?; printf '%s\\n' "$answer"; exit $status; }}
if [ -n "$ASPIDER_HOLD" ]; then
    id=$(printf '%s\\n' "$answer" | awk 'NF {{ last = $0 }} END {{ print last }}')
    id=${{id%%;*}}
    case $id in
        *'[]'*) pre="${{id%%\\[\\]*}}["; post="]${{id#*\\[\\]}}" ;;
        *) pre="${{id}}_"; post= ;;
    esac
    i=0
    while IFS= read -r d; do
        printf '%s%s%s\\n' "$pre" "$i" "$post" > "$d/{HELD_MARKER}"
        i=$((i + 1))
    done < "$a/{MANIFEST}"
fi
printf '%s\\n' "$answer"
"""


def array_submit_argv(array: ArraySpec, command: Sequence[str]) -> list[str]:
    """argv that unpacks the payload (stdin), prepares the elements and runs command."""
    hold = ["env", "ASPIDER_HOLD=1"] if array.hold else ["env", "-u", "ASPIDER_HOLD"]
    return [*hold, "sh", "-c", ARRAY_SUBMIT_SCRIPT, "sh", str(array.array_dir), *command]
