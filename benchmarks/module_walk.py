"""
How a reader's path through the engine's modules goes: the demo's whole loop on one session
(lease, snapshot, poll, plan, submission, staging, the job, finalize, upload), traced, as the
modules of aspider's functions in the order the loop first calls each, and how often that walk
returns to a module it already left.

A return is a step into a module the walk was in before and left; a layout whose concerns sit
together has fewer. Run it on two commits to compare layouts (docs/architecture.md):

    .venv/bin/python -m benchmarks.module_walk [--sessions 1] [--show]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from types import FrameType
from typing import Any

import anyio

import aspider
from aspider.demo import run_demo

ROOT = Path(aspider.__file__).resolve().parent


def _walk(sessions: int) -> list[str]:
    """
    The module of each `aspider` function, in the order the loop first calls it (a reader
    following the run reads each function once), consecutive repeats folded.
    """
    seen: list[str] = []
    called: set[object] = set()
    prefix = str(ROOT) + "/"

    def profile(frame: FrameType, event: str, _arg: Any) -> None:
        code = frame.f_code
        if event != "call" or code in called or not code.co_filename.startswith(prefix):
            return
        called.add(code)
        if code.co_name == "<module>":
            return  # an import, not a step of the loop
        module = code.co_filename[len(prefix) : -len(".py")].replace("/", ".")
        if not seen or seen[-1] != module:
            seen.append(module)

    sys.setprofile(profile)
    try:
        anyio.run(lambda: run_demo(sessions=sessions, seed=7))
    finally:
        sys.setprofile(None)
    return seen


def returns(walk: list[str]) -> int:
    """Steps into a module already entered and left earlier in the walk."""
    entered: set[str] = set()
    count = 0
    for module in walk:
        if module in entered:
            count += 1
        entered.add(module)
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=1)
    parser.add_argument("--show", action="store_true", help="print the walk itself")
    args = parser.parse_args()
    walk = _walk(args.sessions)
    engine = [m for m in walk if m.startswith("run.")]
    folded = [m for i, m in enumerate(engine) if i == 0 or engine[i - 1] != m]
    if args.show:
        print("\n".join(walk))
    print(f"modules entered: {len(set(walk))} ({len(set(engine))} of them in aspider.run)")
    print(f"steps: {len(walk)}; returns to a module already left: {returns(walk)}")
    print(f"aspider.run alone: steps {len(folded)}, returns {returns(folded)}")


if __name__ == "__main__":
    main()
