"""
A processor's command as shell text, with every `{placeholder}` substituted from given values.

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

from aspider.processors._model import CommandSpec, ProcessorSpec

SINGULARITY_DEFAULT_OPTS = (
    "--contain --cleanenv --home $JOBDIR --bind $INDIR:/INPUTS --bind $OUTDIR:/OUTPUTS "
    "--bind $JOBDIR:/tmp --bind $JOBDIR:/dev/shm"
)


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
