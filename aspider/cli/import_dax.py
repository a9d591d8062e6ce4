"""`aspider import-dax`: an aspider settings file from a DAX settings file."""

from __future__ import annotations

import shlex
import tempfile
from pathlib import Path
from typing import Annotated

import typer
import yaml

from aspider.cli.common import EXIT_OK, EXIT_USAGE, errors, fail, user_errors
from aspider.dax_import import Conversion, DaxEnvironment, convert, read_dax_settings
from aspider.settings import load_settings

_HEADER = "# aspider settings, written by `aspider import-dax {source}`.\n"


def import_dax(
    dax_settings: Annotated[Path, typer.Argument(help="A DAX settings file (YAML).")],
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write here (default: standard output).")
    ] = None,
    force: bool = typer.Option(False, "--force", help="Overwrite --out if it exists."),
) -> None:
    """
    Write aspider settings from a DAX settings file.

    Carries over the processor files (`processorlib` + `yamlprocessors`/`sgpprocessors`, each
    loaded and checked), each project's processors with their `arguments` as per-project
    overrides, the XNAT host and user (from the file, else `XNAT_HOST` and `~/.netrc`, as DAX
    reads them), `cluster.executor: slurm`, the job template, the image folder, the queue
    limit and the Slurm account. Never a password: it says where aspider will read it. Prints,
    one line each, what was carried and from where, what could not be and why, and the
    commands that check the result. A malformed entry or a missing or invalid file is an error
    (file:line, and the fix), and nothing is written.
    """
    with user_errors():
        if out is not None and out.exists() and not force:
            raise fail(f"{out} exists; use --force to overwrite it", EXIT_USAGE)
        conversion = convert(read_dax_settings(dax_settings), DaxEnvironment.current())
        text = _settings_text(conversion, dax_settings.name)
        _check(text)
        if out is None:
            typer.echo(text, nl=False)
        else:
            _write(out, text)
    _report(conversion, out)
    raise typer.Exit(EXIT_OK)


def _settings_text(conversion: Conversion, source: str) -> str:
    """The settings file: a header, the settings, then what is kept as comments."""
    body = yaml.safe_dump(conversion.settings, sort_keys=False) if conversion.settings else ""
    kept = "".join(f"# {line}\n" for line in conversion.comments)
    return _HEADER.format(source=source) + body + kept


def _check(text: str) -> None:
    """What will be written loads as aspider settings (checked before anything is written)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "aspider.yaml"
        path.write_text(text, encoding="utf-8")
        load_settings(path)


def _write(out: Path, text: str) -> None:
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise fail(f"{out}: cannot write it ({exc.strerror})", EXIT_USAGE) from exc


def _report(conversion: Conversion, out: Path | None) -> None:
    """What was carried (and from where), what to know, what was left, then how to check."""
    lines = [f"carried: {c.setting} = {c.value}, from {c.source}" for c in conversion.carried]
    lines += [f"note: {note}" for note in conversion.notes]
    lines += [f"not mapped: {line}" for line in conversion.unmapped]
    lines += _check_commands(conversion, out)
    for line in lines:
        errors.print(line, highlight=False, markup=False)


def _check_commands(conversion: Conversion, out: Path | None) -> list[str]:
    """The commands that check the written settings, the last lines of the output."""
    settings = shlex.quote(str(out) if out is not None else "aspider.yaml")
    first = (
        "check it" if out is not None else "save it as aspider.yaml (or use --out), then check it"
    )
    lines = [f"{first}:", f"  aspider config show --settings {settings}"]
    projects = list(conversion.settings.get("projects", {}))
    if projects:
        project = shlex.quote(projects[0])
        lines.append(f"  aspider run {project} --dry-run --settings {settings}")
    else:
        lines.append(f"  aspider processors --validate --settings {settings}")
    return lines
