"""`aspider demo`: the whole loop offline on the built-in sandbox (see aspider.demo)."""

from __future__ import annotations

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
    console.print(NEXT_STEPS, highlight=False, markup=False)


# The same loop over real HTTP, as commands that work as typed (tests/aspider/test_init.py
# runs them). Then docs/deploy.md for a real XNAT and cluster.
NEXT_STEPS = """
Next, the same loop against an XNAT-compatible server over HTTP, from a folder of your own:
  aspider sandbox --port 8080 --sessions 5 &
  aspider init --xnat-url http://127.0.0.1:8080 --user admin \\
      --project DEMO --demo-processors
  ASPIDER_XNAT__PASSWORD=admin aspider run DEMO --wait --interval 2
For your own XNAT and cluster: `aspider init --xnat-url https://... --cluster-host ...`,
then docs/deploy.md."""
