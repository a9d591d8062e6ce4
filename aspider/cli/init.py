"""
`aspider init`: write a starter settings file for an XNAT and a cluster, so the first real
sweep is one command away. The full reference, every key commented, is
`examples/settings.yaml` (`aspider init --example` prints it, from a checkout or a wheel).
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from aspider._config_errors import xnat_url_problem
from aspider.cli.common import EXIT_USAGE, console, fail, user_errors
from aspider.demo import DEMO_PROCESSORS
from aspider.settings import load_settings

_PACKAGE = Path(__file__).resolve().parents[1]
# In a wheel the examples travel inside the package; in a checkout they sit beside it.
_EXAMPLES = next(
    (p for p in (_PACKAGE / "examples", _PACKAGE.parent / "examples") if p.is_dir()),
    _PACKAGE / "examples",
)

_STARTER = """\
# aspider settings, written by `aspider init`. Every key, commented: `aspider init --example`.
# Check what is in effect with `aspider config show`.

# Folders of processor files (<name>_v<X.Y.Z>.yaml).
processor_paths:
  - {processors}

# The projects `aspider run --all` sweeps ({{}}: every processor).
projects:
{projects}
xnat:
  url: {url}
  user: {user}
  # The password never goes here: set ASPIDER_XNAT__PASSWORD, or password_file: (a mounted
  # secret), or an entry for the host in ~/.netrc.

cluster:
  executor: {executor}  # slurm, pbs (PBS Pro or Torque), or local: jobs run on this machine
{cluster}  work_root: {work_root}  # one directory per job{work_root_note}
"""

_SSH = """\
  host: {host}
  user: {user}
  # key_path: /home/me/.ssh/id_ed25519      # default: the SSH agent and ~/.ssh's keys
  # known_hosts: /home/me/.ssh/known_hosts  # the host key must be in it (ssh-keyscan)
"""


class Executor(StrEnum):
    """What `--executor` may name: the schedulers aspider drives, and this machine."""

    slurm = "slurm"
    pbs = "pbs"
    local = "local"


def _q(value: str) -> str:
    """A YAML scalar for any string (JSON strings are YAML)."""
    return json.dumps(value)


def init(
    path: Annotated[
        Path, typer.Argument(help="The settings file to write (found by later commands).")
    ] = Path("aspider.yaml"),
    xnat_url: str = typer.Option(
        "", "--xnat-url", help="XNAT's URL, e.g. https://xnat.example.org"
    ),
    user: str = typer.Option("", "--user", help="The XNAT account aspider acts as."),
    project: Annotated[
        list[str] | None, typer.Option("--project", help="A project to sweep; repeatable.")
    ] = None,
    cluster_host: str = typer.Option(
        "", "--cluster-host", help="The cluster's login node (SSH); none: run jobs here."
    ),
    cluster_user: str = typer.Option("", "--cluster-user", help="Your user on the cluster."),
    executor: Annotated[
        Executor | None,
        typer.Option(
            "--executor",
            help="slurm, pbs or local (default: slurm with --cluster-host, else local).",
        ),
    ] = None,
    processors: Annotated[
        Path | None,
        typer.Option("--processors", help="Folder of processor files (default: ./processors)."),
    ] = None,
    demo_processors: bool = typer.Option(
        False, "--demo-processors", help="Copy the demo's two processors into that folder."
    ),
    force: bool = typer.Option(False, "--force", help="Overwrite the file if it exists."),
    example: bool = typer.Option(
        False, "--example", help="Print the full commented example settings and exit."
    ),
) -> None:
    """
    Write a starter settings file (./aspider.yaml).

    It says where XNAT is, which projects to sweep and where jobs run; then `aspider run PROJ
    --dry-run` shows what a first sweep would do. `--example` prints the reference settings,
    every key commented.
    """
    if example:
        console.print((_EXAMPLES / "settings.yaml").read_text(), markup=False, highlight=False)
        return
    if not xnat_url:
        raise fail("give XNAT's address: aspider init --xnat-url https://xnat.example.org")
    problem = xnat_url_problem(xnat_url)
    if problem is not None:
        raise fail(problem.replace("xnat.url", "--xnat-url"), EXIT_USAGE)
    if path.exists() and not force:
        raise fail(f"{path} exists; pass --force to overwrite it", EXIT_USAGE)
    folder = (processors or path.resolve().parent / "processors").resolve()
    folder.mkdir(parents=True, exist_ok=True)
    if demo_processors:
        for file in sorted(DEMO_PROCESSORS.glob("*.yaml")):
            shutil.copy(file, folder / file.name)
    chosen = executor or (Executor.slurm if cluster_host else Executor.local)
    if chosen is Executor.local and cluster_host:
        raise fail(
            "--executor local runs jobs on this machine, not on --cluster-host: choose "
            "--executor slurm or pbs, or leave --cluster-host out",
            EXIT_USAGE,
        )
    cluster = _Cluster(chosen.value, cluster_host, cluster_user)
    text = _render(xnat_url, user, project or [], cluster, folder, path)
    path.write_text(text, encoding="utf-8")
    with user_errors():
        load_settings(path)  # what was written is valid, or we say why now
    _next_steps(path, folder, project or [], user)


@dataclass(frozen=True)
class _Cluster:
    executor: str
    host: str  # the login node over SSH; "": the scheduler's commands run on this machine
    user: str


def _render(
    url: str, user: str, projects: list[str], cluster: _Cluster, folder: Path, path: Path
) -> str:
    over_ssh = bool(cluster.host)
    ssh = _SSH.format(host=_q(cluster.host), user=_q(cluster.user) if cluster.user else "null")
    work_root = "aspider-work" if over_ssh else str(path.resolve().parent / "aspider-work")
    note = "\n  # (relative: under your home directory on the cluster)" if over_ssh else ""
    listed = "".join(f"  {_q(p)}: {{}}\n" for p in projects) or "  {}\n"
    return _STARTER.format(
        processors=_q(str(folder)),
        projects=listed,
        url=_q(url.rstrip("/")),
        user=_q(user) if user else "null",
        executor=cluster.executor,
        cluster=ssh if over_ssh else "",
        work_root=_q(work_root),
        work_root_note=note,
    )


def _next_steps(path: Path, folder: Path, projects: list[str], user: str) -> None:
    has_processors = any(folder.glob("*.y*ml"))
    first = projects[0] if projects else "PROJ"
    lines = [f"Wrote {path}."]
    if path.resolve() != Path("aspider.yaml").resolve():
        lines.append(f"Other commands find it with: export ASPIDER_SETTINGS={path.resolve()}")
    if not has_processors:
        lines.append(f"Put your processor files in {folder}; examples to start from are in")
        lines.append(f"  {_EXAMPLES / 'processors'} (or use --demo-processors).")
    if user:
        lines.append("Give the password with ASPIDER_XNAT__PASSWORD=... or ~/.netrc, then:")
    lines += [
        f"  aspider run {first} --dry-run    # what a first sweep would do",
        f"  aspider run {first}              # do it",
    ]
    for line in lines:
        console.print(line, highlight=False, markup=False)
