"""`aspider config show`: the effective configuration, secrets masked, and where it came from."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import typer
import yaml

from aspider._environ import is_secret
from aspider.cli.common import JSON_OPTION, SETTINGS_OPTION, console, print_json, user_errors
from aspider.settings import (
    DEFAULT_SETTINGS_FILES,
    ENV_PREFIX,
    SETTINGS_ENV,
    find_settings_file,
    load_settings,
    masked_dict,
)

config_app = typer.Typer(help="Show the settings in effect.", no_args_is_help=True)


@config_app.command("show")
def show(settings_file: Path | None = SETTINGS_OPTION, as_json: bool = JSON_OPTION) -> None:
    """
    Print the settings in effect, secrets masked.

    Names the settings file read and the ASPIDER_* variables that apply (the environment wins
    over the file, options over both).
    """
    with user_errors(as_json):
        path = find_settings_file(settings_file)
        settings = load_settings(settings_file)
        data = masked_dict(settings)
    if settings.xnat.url:  # what the proxy setting comes to for this XNAT, environment included
        data["xnat"]["effective_proxy"] = _proxy_shown(settings.xnat.effective_proxy())
    if as_json:
        print_json(data)
        return
    for line in _sources(path):
        console.print(line, highlight=False, markup=False)
    console.print(yaml.safe_dump(data, sort_keys=False), highlight=False, markup=False)


def _proxy_shown(proxy: str | None) -> str:
    """A proxy URL without any password it carries (`http://user:****@host:port`)."""
    if not proxy:
        return "none (direct)"
    url = httpx.URL(proxy)
    return str(url.copy_with(password="****")) if url.password else proxy


def _sources(path: Path | None) -> list[str]:
    """Where the values came from, as YAML comments (so the output stays valid YAML)."""
    if path is not None:
        lines = [f"# settings file: {path.resolve()}"]
    else:
        looked = ", ".join(str(p) for p in DEFAULT_SETTINGS_FILES)
        lines = [f"# no settings file found (--settings, ${SETTINGS_ENV}, {looked})"]
    names = sorted(n for n in os.environ if n.upper().startswith(ENV_PREFIX) and not is_secret(n))
    if names:
        lines.append(f"# from the environment: {', '.join(names)}")
    return lines
