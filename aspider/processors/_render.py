"""
A processor's command as shell text, with every `{placeholder}` substituted from given values.

Placeholders follow DAX: `{name}` in `args` (and `opts`/`extraopts`) is replaced by a processor
var, an input resource's destination name, an XNAT attribute, or `assessor` (the label); aspider
adds `project`, `subject`, `session` and `scan`. The caller gives each value in the form it is
inserted (`plan.build` quotes what comes from XNAT); vars are the author's text, as written.

The Singularity line is DAX's: `singularity run|exec <opts> <extraopts> <image> <args>`, with
DAX's default options (clean environment, contained, INPUTS/OUTPUTS bound) when `opts` is absent
and `--contain --cleanenv` put before the author's `opts` otherwise. As in a DAX job, the line
goes into `MAINCMD="..."` and runs as `eval $MAINCMD`: `\\"` and `"` in `args` both become `\\"`
(DAX's escaping), `$VAR` expands when MAINCMD is assigned and `\\$VAR` when it is evaluated (so
a file written for DAX means the same here), and the unquoted `$MAINCMD` is split into words
before `eval` reads it again. pre, command and post are one MAINCMD joined by `&&`, as DAX
writes them. aspider's `shell` commands are run as written, outside MAINCMD.
"""

from __future__ import annotations

import posixpath

from aspider.processors._model import CommandSpec, ProcessorSpec

SINGULARITY_DEFAULT_OPTS = (
    "--contain --cleanenv --home $JOBDIR --bind $INDIR:/INPUTS --bind $OUTDIR:/OUTPUTS "
    "--bind $JOBDIR:/tmp --bind $JOBDIR:/dev/shm"
)
MAINCMD = "MAINCMD"


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


def dax_escape_args(args: str) -> str:
    """DAX's escaping of `args` for `MAINCMD="..."`: `\\"` and `"` both become `\\"`."""
    return args.replace('\\"', '"').replace('"', '\\"')


def double_quoted(text: str) -> str:
    """`text` as itself inside a double-quoted shell string (`\\ " $ `` ` `` escaped)."""
    for char in ("\\", '"', "$", "`"):
        text = text.replace(char, "\\" + char)
    return text


def render_command(
    spec: ProcessorSpec, command: CommandSpec, values: dict[str, str], container_dir: str | None
) -> str:
    """
    One command (pre, main or post) as a line: a shell script as written, or a singularity
    line in its MAINCMD form (`values` must then be safe inside double quotes).
    """
    if command.type == "shell":
        return (command.script or "").format_map(values).strip()
    verb = "run" if command.type == "singularity_run" else "exec"
    opts = f"--contain --cleanenv {command.opts}" if command.opts else SINGULARITY_DEFAULT_OPTS
    parts = ["singularity", verb, opts]
    if command.extraopts:
        parts.append(command.extraopts)
    parts.append(container_path(spec, command, container_dir))  # as written, as in DAX
    if command.args:
        joined = " ".join(ln.strip() for ln in command.args.strip().splitlines())
        parts.append(dax_escape_args(joined))
    return " ".join(parts).format_map(values)


def render_script(
    spec: ProcessorSpec,
    values: dict[str, str],
    container_dir: str | None,
    quoted_values: dict[str, str] | None = None,
) -> str:
    """
    pre && command && post, as DAX chains them. Singularity commands take `quoted_values` (the
    same values made safe inside MAINCMD's double quotes; `values` when not given).
    """
    commands = [c for c in (spec.pre, spec.command, spec.post) if c is not None]
    inner = quoted_values if quoted_values is not None else values
    if all(c.type != "shell" for c in commands):
        line = " && ".join(render_command(spec, c, inner, container_dir) for c in commands)
        return f'{MAINCMD}="{line}"\neval ${MAINCMD}\n'
    steps = []
    for c in commands:
        if c.type == "shell":
            steps.append(render_command(spec, c, values, container_dir))
        else:
            line = render_command(spec, c, inner, container_dir)
            steps.append(f'{MAINCMD}="{line}"; eval ${MAINCMD}')
    if len(steps) == 1:
        return steps[0] + "\n"
    grouped = [f"{{\n{step}\n}}" if "\n" in step or "eval" in step else step for step in steps]
    return " &&\n".join(grouped) + "\n"
