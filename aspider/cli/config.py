"""`aspider config show`: the effective configuration, secrets masked."""

from __future__ import annotations

from pathlib import Path

import typer
import yaml

from aspider.cli.common import JSON_OPTION, SETTINGS_OPTION, console, print_json, user_errors
from aspider.settings import load_settings, masked_dict

config_app = typer.Typer(help="Inspect the configuration.", no_args_is_help=True)


@config_app.command("show")
def show(settings_file: Path | None = SETTINGS_OPTION, as_json: bool = JSON_OPTION) -> None:
    """Print the effective configuration (file < environment < options), secrets masked."""
    with user_errors():
        data = masked_dict(load_settings(settings_file))
    if as_json:
        print_json(data)
    else:
        console.print(yaml.safe_dump(data, sort_keys=False), highlight=False, markup=False)
