"""
From candidate to task (pure): the command with every placeholder bound, and everything else
the executor needs.

Placeholders follow DAX: `{name}` in `args` (and `opts`/`extraopts`) is replaced by a processor
var, an input resource's destination name, an XNAT attribute, or `assessor` (the label); aspider
adds `project`, `subject`, `session` and `scan`. Values that come from XNAT (labels, attributes)
are shell-quoted, and inside a singularity command's `MAINCMD="..."` also escaped for the double
quotes, so a hostile label cannot inject a command at either reading; vars are the processor
author's own text and are inserted as written (a var may hold several options, or `$X`).
"""

from __future__ import annotations

import posixpath
import re
import shlex
from pathlib import Path

from aspider.plan.tasks import OutputDecl, Task, TaskCandidate, TaskRequirements
from aspider.processors import (
    Processor,
    ProcessorSpec,
    ResourceSpec,
    attr_field,
    container_path,
    double_quoted,
    iter_inputs,
    render_script,
)


def _var_text(value: object) -> str:
    """DAX's vars: `true` is an empty value (a flag); false, null and 'None' are empty too."""
    if value is None or value is True or value is False or value == "None":
        return ""
    return str(value)


def _own_attr(spec: ProcessorSpec, candidate: TaskCandidate, procversion: str) -> dict[str, str]:
    """The new assessor's attributes (`object: assessor` without `ref`), from the candidate."""
    known = {
        "label": candidate.label,
        "project": candidate.project,
        "subject_label": candidate.subject_label,
        "session_label": candidate.session_label,
        "proctype": candidate.proctype,
        "procversion": procversion,
    }
    return {
        a.varname: known[attr_field(a.object, False, a.attr)]
        for a in spec.inputs.xnat.attrs
        if a.object == "assessor" and a.ref is None
    }


def bound_values(
    spec: ProcessorSpec, candidate: TaskCandidate, procversion: str = ""
) -> tuple[dict[str, str], dict[str, str]]:
    """
    Every `{name}` a command may use, bound for one candidate: as a shell word, and the same
    for inside MAINCMD's double quotes. Vars are the author's text in both.
    """
    from_xnat = {
        "assessor": candidate.label,
        "project": candidate.project,
        "subject": candidate.subject_label,
        "session": candidate.session_label,
        "scan": candidate.scan_id or "",
    }
    present = {item.name for item in candidate.inputs}
    staged: set[str] = set()  # FILE inputs named by the file staging picks
    for _, item in iter_inputs(spec):
        for r, res in enumerate(item.all_resources):
            varname = res.varname or f"{item.name}-{res.resource}-{r}"
            name = _dest_name(res) if item.name in present else ""
            if name is None:
                staged.add(varname)
            from_xnat[varname] = name or ""
    from_xnat.update(candidate.attrs)
    from_xnat.update(_own_attr(spec, candidate, procversion))
    edited = {edit.varname for edit in spec.inputs.xnat.edits} - set(from_xnat)
    staged |= edited  # filled once staging knows whether the assessor has such an edit
    words = {k: shlex.quote(v) if v else "" for k, v in from_xnat.items()}
    quoted = {k: double_quoted(v) for k, v in words.items()}
    for varname in staged:
        words[varname], quoted[varname] = file_token(varname, False), file_token(varname, True)
    for key, value in spec.inputs.vars.items():
        words[key] = quoted[key] = _var_text(value)
    return words, quoted


def _dest_name(res: ResourceSpec) -> str | None:
    """
    What a resource's placeholder holds, as in DAX: its `fdest`, else the name of the file it
    stages (known from `filepath`, or an `fmatch` without wildcards), else the resource label
    (DIR, DIRJ); None for a FILE named by the file staging finds (filled in after staging).
    """
    if res.fdest:
        return res.fdest
    if res.ftype != "FILE":
        return res.resource
    if res.filepath:
        return posixpath.basename(res.filepath)
    if res.fmatch and not any(c in res.fmatch for c in "*?["):
        return posixpath.basename(res.fmatch)
    return None


_TOKEN = "@@aspider-file:{kind}:{varname}@@"
_LEFT_TOKEN = re.compile(r"@@aspider-file:[qw]:.*?@@")


def file_token(varname: str, in_maincmd: bool) -> str:
    """The stand-in for a FILE input's name until staging has chosen the file."""
    return _TOKEN.format(kind="q" if in_maincmd else "w", varname=varname)


def fill_file_names(script: str, names: dict[str, str]) -> str:
    """
    The command with each staged FILE input's stand-in replaced by the file's name (varname ->
    name), quoted for where it stands: a shell word, or inside MAINCMD's double quotes.
    """
    for varname, name in names.items():
        word = shlex.quote(name) if name else ""  # nothing staged: empty, as an unset value
        script = script.replace(file_token(varname, False), word)
        script = script.replace(file_token(varname, True), double_quoted(word) if word else "")
    # An input that staged nothing (an optional resource that is not there) is empty too: no
    # stand-in ever reaches a job.
    return _LEFT_TOKEN.sub("", script)


def placeholder_values(spec: ProcessorSpec, candidate: TaskCandidate) -> dict[str, str]:
    """Every `{name}` a command may use, bound for one candidate (as shell words)."""
    return bound_values(spec, candidate)[0]


def jobtemplate_path(processor: Processor) -> str | None:
    """The processor's DAX job template as an absolute path (relative: beside its file)."""
    name = processor.spec.jobtemplate
    if not name:
        return None
    path = Path(name)
    if not path.is_absolute() and processor.source and ":" not in processor.source:
        path = Path(processor.source).parent / path
    return str(path)


def build_task(
    processor: Processor, candidate: TaskCandidate, container_dir: str | None = None
) -> Task:
    """Everything the executor needs for one candidate (pure)."""
    spec = processor.spec
    values, quoted = bound_values(spec, candidate, processor.procversion)
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
        command_script=render_script(spec, values, container_dir, quoted),
        container=container,
        requirements=TaskRequirements(
            str(req.walltime), req.walltime_seconds, req.memory_mb, req.ppn
        ),
        outputs=outputs,
        vars=vars_,
        jobtemplate=jobtemplate_path(processor),
        edits=tuple((e.fpref, e.varname) for e in spec.inputs.xnat.edits),
        processor_digest=processor.definition_digest,
        processor_file=processor.source,
        processor_file_digest=processor.file_digest,
    )
