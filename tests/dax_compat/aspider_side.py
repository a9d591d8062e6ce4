"""
The aspider side of the differential tests: `aspider run` as a person runs it (a process, a
settings file, the password in the environment) against the same sandbox over TCP.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio

from tests.dax_compat.sandbox import PROJECT, USER

ASPIDER = Path(sys.executable).with_name("aspider")
RUN_TIMEOUT = 300.0


@dataclass(frozen=True)
class Planned:
    """What a dry run would do about one task: run it, or record why it waits."""

    session: str
    label: str
    proctype: str
    inputs: dict[str, Any]
    procstatus: str  # what it is created with (NEED_TO_RUN, NEED_INPUTS), "" for no create
    reason: str
    submits: bool


def settings(root: Path, files: list[Path]) -> Path:
    """aspider settings naming the same processor files, jobs on this machine under `root`."""
    path = root / "aspider.yaml"
    cluster = {"executor": "local", "work_root": str(root / "work"), "container_dir": "/images"}
    doc = {"processor_paths": [str(f) for f in files], "cluster": cluster}
    doc["limits"] = {"max_queued": 100}  # as DAX's queue_limit: every task may go at once
    path.write_text(json.dumps(doc))
    return path


def environment(url: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASPIDER_")}
    env |= {"ASPIDER_XNAT__URL": url, "ASPIDER_XNAT__USER": USER[0]}
    env |= {"ASPIDER_XNAT__PASSWORD": USER[1], "NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1"}
    return env | (extra or {})


async def dry_run(url: str, files: list[Path], root: Path) -> list[Planned]:
    """`aspider run PROJECT --dry-run --json`, read back per task."""
    argv = [str(ASPIDER), "run", PROJECT, "--dry-run", "--json", "--settings", ""]
    argv[-1] = str(settings(root, files))
    with anyio.fail_after(RUN_TIMEOUT):
        done = await anyio.run_process(argv, env=environment(url), check=False)
    if done.returncode != 0:
        raise AssertionError(f"aspider --dry-run exited {done.returncode}: {done.stderr!r}")
    return planned(json.loads(done.stdout))


def planned(plan: dict[str, Any]) -> list[Planned]:
    tasks: dict[str, dict[str, Any]] = {}
    for session in plan["sessions"]:
        for action in session["actions"]:
            task = action["task"]
            row = tasks.setdefault(
                task["label"],
                {
                    "session": session["session_label"],
                    "label": task["label"],
                    "proctype": task["proctype"],
                    "inputs": json.loads(task["inputs_json"]),
                    "procstatus": "",
                    "reason": "",
                    "submits": False,
                },
            )
            if action["kind"] == "create":
                row["procstatus"], row["reason"] = action["procstatus"], action["reason"]
            elif action["kind"] == "submit":
                row["submits"] = True
    return sorted((Planned(**r) for r in tasks.values()), key=lambda p: (p.session, p.proctype))


async def real_run(url: str, files: list[Path], root: Path, stub: Path, out: Path) -> int:
    """`aspider run PROJECT --wait` with the local executor, `singularity` being our stub."""
    argv = [str(ASPIDER), "run", PROJECT, "--wait", "--interval", "0.5", "--json"]
    argv += ["--settings", str(settings(root, files))]
    extra = {"PATH": f"{stub}:/usr/bin:/bin", "STUB_OUT": str(out)}  # as DAX's jobs have it
    with anyio.fail_after(RUN_TIMEOUT):
        done = await anyio.run_process(argv, env=environment(url, extra), check=False)
    return done.returncode
