"""`aspider import-dax`: an aspider settings file from a DAX settings file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
import yaml

from aspider.cli.common import EXIT_OK, EXIT_USAGE, errors, fail, user_errors
from aspider.dax_import import convert
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

    Carries over the processor files (`processorlib` + `yamlprocessors`/`sgpprocessors`), each
    project's processors with their `arguments` as per-project overrides, the image folder,
    the XNAT host and user, the queue limit and the Slurm account. Prints, one line each, what
    it could not map and why (the password is never written). The result is checked by
    loading it as aspider settings.
    """
    with user_errors():
        conversion = convert(_read(dax_settings))
        text = _HEADER.format(source=dax_settings.name) + yaml.safe_dump(
            conversion.settings, sort_keys=False
        )
        if out is not None and out.exists() and not force:
            raise fail(f"{out} exists; use --force to overwrite it", EXIT_USAGE)
        if out is not None:
            out.write_text(text)
            load_settings(out)  # what was written is valid aspider settings
        else:
            typer.echo(text, nl=False)
    for line in conversion.unmapped:
        errors.print(f"not mapped: {line}", highlight=False, markup=False)
    raise typer.Exit(EXIT_OK)


def _read(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise fail(f"{path}: cannot read it ({exc.strerror})", EXIT_USAGE) from exc
    except yaml.YAMLError as exc:
        raise fail(f"{path}: not YAML ({exc})", EXIT_USAGE) from exc
    if not isinstance(data, dict) or "projects" not in data:
        raise fail(f"{path}: not a DAX settings file (no `projects:`)", EXIT_USAGE)
    return data
