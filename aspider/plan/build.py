"""
From candidate to task (pure): the command with every placeholder bound, and everything else
the executor needs.

Placeholders follow DAX: `{name}` in `args` (and `opts`/`extraopts`) is replaced by a processor
var, an input resource's destination name, an XNAT attribute, or `assessor` (the label); aspider
adds `project`, `subject`, `session` and `scan`. Values that come from XNAT (labels, attributes)
are shell-quoted, so a hostile label cannot inject a command; vars are the processor author's own
text and are inserted as written (a var may hold several options).
"""

from __future__ import annotations

import shlex

from aspider.plan.tasks import OutputDecl, Task, TaskCandidate, TaskRequirements
from aspider.processors import (
    Processor,
    ProcessorSpec,
    container_path,
    iter_inputs,
    render_script,
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
