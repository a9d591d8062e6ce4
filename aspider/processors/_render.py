"""
From candidate to task: the command line with every placeholder substituted, and the rest.

Placeholders follow DAX: `{name}` in `args` (and `opts`/`extraopts`) is replaced by a processor
var, an input resource's destination name, an XNAT attribute, or `assessor` (the label); aspider
adds `project`, `subject`, `session` and `scan`. Values that come from XNAT (labels, attributes)
are shell-quoted, so a hostile label cannot inject a command; vars are the processor author's own
text and are inserted as written (a var may hold several options).

The Singularity line is DAX's: `singularity run|exec <opts> <extraopts> <image> <args>`, with
DAX's default options (clean environment, contained, INPUTS/OUTPUTS bound) when `opts` is absent
and `--contain --cleanenv` put before the author's `opts` otherwise. DAX escapes double quotes in
`args` because it wraps the line in `MAINCMD="..."`; aspider writes the line into the script
itself, so it needs no escaping.
"""

from __future__ import annotations

import posixpath
import shlex

from aspider.processors._checks import iter_inputs
from aspider.processors._model import CommandSpec, ProcessorSpec
from aspider.processors._python import Processor
from aspider.tasks import OutputDecl, Task, TaskCandidate, TaskRequirements

SINGULARITY_DEFAULT_OPTS = (
    "--contain --cleanenv --home $JOBDIR --bind $INDIR:/INPUTS --bind $OUTDIR:/OUTPUTS "
    "--bind $JOBDIR:/tmp --bind $JOBDIR:/dev/shm"
)


def placeholder_values(spec: ProcessorSpec, candidate: TaskCandidate) -> dict[str, str]:
    """Every `{name}` a command may use, bound for one candidate."""
    values = {
        "assessor": candidate.label,
        "project": candidate.project,
        "subject": candidate.subject_label,
        "session": candidate.session_label,
        "scan": candidate.scan_id or "",
    }
    values = {k: shlex.quote(v) if v else "" for k, v in values.items()}
    present = {item.name for item in candidate.inputs}
    for _, item in iter_inputs(spec):
        for r, res in enumerate(item.all_resources):
            varname = res.varname or f"{item.name}-{res.resource}-{r}"
            dest = res.fdest or res.resource
            values[varname] = shlex.quote(dest) if item.name in present else ""
    for key, value in spec.inputs.vars.items():
        values[key] = "" if value is None or value is False or value is True else str(value)
    for key, value in candidate.attrs:
        values[key] = shlex.quote(value)
    return values


def container_path(spec: ProcessorSpec, command: CommandSpec, container_dir: str | None) -> str:
    """The image a singularity command runs; relative paths sit under `container_dir`."""
    name = command.container
    chosen = next((c for c in spec.containers if c.name == name), None)
    if chosen is None:
        chosen = spec.containers[0]  # validated: exactly one container when none is named
    path = chosen.path
    if container_dir and not posixpath.isabs(path) and "://" not in path:
        path = posixpath.join(container_dir, path)
    return path


def render_command(
    spec: ProcessorSpec, command: CommandSpec, values: dict[str, str], container_dir: str | None
) -> str:
    """One command (pre, main or post) as a shell line."""
    if command.type == "shell":
        return (command.script or "").format_map(values).strip()
    verb = "run" if command.type == "singularity_run" else "exec"
    opts = f"--contain --cleanenv {command.opts}" if command.opts else SINGULARITY_DEFAULT_OPTS
    parts = ["singularity", verb, opts]
    if command.extraopts:
        parts.append(command.extraopts)
    parts.append(shlex.quote(container_path(spec, command, container_dir)))
    if command.args:
        parts.append(" ".join(ln.strip() for ln in command.args.strip().splitlines()))
    return " ".join(parts).format_map(values)


def render_script(spec: ProcessorSpec, values: dict[str, str], container_dir: str | None) -> str:
    """pre && command && post, as DAX chains them; multi-line parts are grouped in braces."""
    commands = [c for c in (spec.pre, spec.command, spec.post) if c is not None]
    lines = [render_command(spec, c, values, container_dir) for c in commands]
    if len(lines) == 1:
        return lines[0] + "\n"
    grouped = [f"{{\n{line}\n}}" if "\n" in line else line for line in lines]
    return " &&\n".join(grouped) + "\n"


def build_task(
    processor: Processor, candidate: TaskCandidate, container_dir: str | None = None
) -> Task:
    """Everything the executor needs for one candidate (pure)."""
    spec = processor.spec
    values = placeholder_values(spec, candidate)
    main = spec.command
    container = None if main.type == "shell" else container_path(spec, main, container_dir)
    req = spec.requirements
    outputs = tuple(OutputDecl(*o.resolved()) for o in spec.outputs)
    vars_ = tuple((k, values[k]) for k in spec.inputs.vars)
    return Task(
        label=candidate.label,
        proctype=processor.proctype,
        procversion=processor.procversion,
        level=candidate.level,
        priority=processor.priority,
        project=candidate.project,
        subject_id=candidate.subject_id,
        subject_label=candidate.subject_label,
        session_id=candidate.session_id,
        session_label=candidate.session_label,
        scan_id=candidate.scan_id,
        inputs=candidate.inputs,
        inputs_json=candidate.inputs_json,
        command_script=render_script(spec, values, container_dir),
        container=container,
        requirements=TaskRequirements(
            str(req.walltime), req.walltime_seconds, req.memory_mb, req.ppn
        ),
        outputs=outputs,
        vars=vars_,
    )
