"""
render_job_script: the job contract as a POSIX sh script. Pure: same spec, same text.

The wrapper records `status/started`, runs the command in the background (so a trapped signal
is handled at once, not when the command ends) with its output in `job.log`, then writes
`status/exit_code` atomically and `status/finished`, after `status/cpu`: the CPU seconds the
command used (user and system, the shell's `times` for its children), the record of a job's
use where no scheduler accounts for it (the local executor). On SIGTERM (walltime, or a
polite qdel) it stops the command and records `status/signal` and `status/finished` but no exit
code: "ended without an exit code" means the job was killed. SIGKILL cannot be trapped and leaves
nothing.

Only the exit code and the signal are written to a temporary name and renamed (an `mv`, one more
process per write). A time read before it is whole reads as no time yet, and `finished` comes
after the exit code, so an exit code is never seen half-written and an end never without it.
"""

from __future__ import annotations

import shlex

from ._dialects import Dialect
from ._spec import JobSpec

_WRAPPER = """\
JOBDIR={jobdir}
INPUTS="$JOBDIR/INPUTS"
OUTPUTS="$JOBDIR/OUTPUTS"
export JOBDIR INPUTS OUTPUTS
{exports}\
_status="$JOBDIR/status"
_record() {{
    printf '%s\\n' "$2" > "$_status/.$1.$$" && mv -f "$_status/.$1.$$" "$_status/$1"
}}
_stamp() {{
    date +%s > "$_status/$1"
}}
_stop() {{
    trap - TERM INT HUP
    [ -n "${{_child:-}}" ] && kill -TERM "$_child" 2>/dev/null
    _record signal "$1"
    _stamp finished
    exit "$2"
}}
cd "$JOBDIR" || exit 1
for _d in "$_status" "$INPUTS" "$OUTPUTS"; do
    [ -d "$_d" ] || mkdir -p "$_d" || exit 1
done
trap '_stop TERM 143' TERM
trap '_stop INT 130' INT
trap '_stop HUP 129' HUP
_stamp started
(
{command}
) > "$JOBDIR/job.log" 2>&1 < /dev/null &
_child=$!
wait "$_child"
_code=$?
trap - TERM INT HUP
times > "$_status/.times" 2>/dev/null && awk 'NR == 2 {{ split($1, u, "m"); split($2, s, "m");
    printf "%d\\n", u[1] * 60 + u[2] + s[1] * 60 + s[2] + 0.5 }}' "$_status/.times" > "$_status/cpu"
rm -f "$_status/.times"
_record exit_code "$_code"
_stamp finished
exit "$_code"
"""


def render_wrapper(spec: JobSpec) -> str:
    """The job contract as sh text (no directives): what every scheduler's job.sh runs."""
    exports = "".join(
        f"export {key}={shlex.quote(value)}\n" for key, value in sorted(spec.environment.items())
    )
    return _WRAPPER.format(
        jobdir=shlex.quote(str(spec.job_dir)),
        exports=exports,
        command=spec.command.rstrip("\n"),
    )


def render_job_script(spec: JobSpec, dialect: Dialect) -> str:
    """The job's `job.sh`: #PBS directives for this dialect, then the wrapper."""
    lines = ["#!/bin/sh"]
    lines += [f"#PBS {flag} {value}" for flag, value in dialect.submit_options(spec)]
    lines += [f"#PBS {directive}" for directive in spec.extra_directives]
    return "\n".join(lines) + "\n" + render_wrapper(spec)
