"""`aspider demo`: the whole loop offline on the built-in sandbox (see aspider.demo)."""

from __future__ import annotations

import shlex
import shutil
import sys
from pathlib import Path

import anyio
import typer

from aspider.cli.common import console, errors
from aspider.cli.logs import setup_logging
from aspider.cli.progress import RunDisplay
from aspider.cli.report import print_status, print_summary
from aspider.demo import DEMO_PROJECT, DemoResult, run_demo
from aspider.processors import Processor


def demo(
    sessions: int = typer.Option(20, help="Sessions in the synthetic project."),
    seed: int = typer.Option(7, help="Seed of the synthetic project."),
) -> None:
    """
    See the whole loop offline, in a few seconds.

    An XNAT-compatible server in this process with a synthetic project, two small processors
    that really run here, the local executor: sweeps until every task is COMPLETE.
    """
    setup_logging("text")

    def started(procs: list[Processor], work_root: str) -> None:
        names = ", ".join(p.proctype for p in procs)
        console.print(
            f"aspider demo: project {DEMO_PROJECT}, {sessions} sessions, processors {names}, "
            f"local executor in {work_root}",
            highlight=False,
        )

    display = RunDisplay(live=errors.is_terminal, log_format="text", wait=True, interval=0.3)
    with display as bars:
        result = anyio.run(lambda: run_demo(sessions, seed, progress=bars, on_start=started))
    _show(result)
    raise typer.Exit(0 if result.ok else 1)


def _show(result: DemoResult) -> None:
    print_summary(console, result.run.reports)
    print_status(console, result.snapshot)
    if result.report_text:
        console.print(f"\nREPORT of {result.report_label}, downloaded from XNAT:", highlight=False)
        console.print(result.report_text, highlight=False, markup=False)
    console.print(
        f"{len(result.run.reports)} sweep(s), {result.requests} XNAT requests, "
        f"{result.seconds:.1f} s.",
        highlight=False,
    )
    console.print(next_steps(_activation_needed()), highlight=False, markup=False)


# The same loop over real HTTP, as lines to paste into the shell that ran the demo
# (tests/aspider/test_quick_start.py pastes them after `make demo`). Then docs/deploy.md.
NEXT_STEPS = """
Next, the same loop against an XNAT-compatible server over HTTP, in a new
folder. Paste these lines into this shell {why}:
{activate}  cd "$(mktemp -d)"
  aspider sandbox --port 8080 --sessions 5 &
  aspider init --xnat-url http://127.0.0.1:8080 --user admin \\
      --project DEMO --demo-processors
  ASPIDER_XNAT__PASSWORD=admin aspider run DEMO --wait --interval 2
  kill %1
For your own XNAT and cluster: `aspider init --xnat-url https://... --cluster-host ...`,
then docs/deploy.md."""


def next_steps(activate: Path | None) -> str:
    """The hint, opening with the venv's activation when this aspider is not on PATH."""
    if activate is None:
        return NEXT_STEPS.format(why="(the last stops the sandbox)", activate="")
    return NEXT_STEPS.format(
        why="(the first puts aspider on PATH,\nthe last stops the sandbox)",
        activate=f"  source {shlex.quote(str(activate))}\n",
    )


def _activation_needed() -> Path | None:
    """The venv's `activate` when the `aspider` on PATH is not this one (as after `make demo`)."""
    on_path = shutil.which("aspider")
    bin_dir = Path(sys.executable).parent
    if on_path and Path(on_path).parent.resolve() == bin_dir.resolve():
        return None
    activate = bin_dir / "activate"
    return activate.absolute() if activate.exists() else None
