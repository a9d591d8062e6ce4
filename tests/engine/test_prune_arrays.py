"""
Job arrays' directories (`<work root>/.arrays/<name>`) are pruned with the job directories:
an array goes once none of the job directories its manifest lists remains, and not in the
minutes after it was written.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from aspider.run.backends.prune import ARRAY_GRACE_MINUTES, prune_job_dirs
from pbs import ARRAY_MANIFEST, ARRAYS_DIR, LocalTransport

pytestmark = pytest.mark.anyio


def _array(root: Path, name: str, elements: list[str], *, manifest: bool = True) -> Path:
    """An array's directory listing these job directories, its files as a submission leaves
    them; untouched since before the grace period unless made again."""
    directory = root / ARRAYS_DIR / name
    directory.mkdir(parents=True)
    (directory / "array.sh").write_text("#!/bin/sh\n")
    (directory / "scheduler.0.log").write_text("")
    if manifest:
        (directory / ARRAY_MANIFEST).write_text("".join(f"{root / e}\n" for e in elements))
    _age(directory, minutes=ARRAY_GRACE_MINUTES + 5)
    return directory


def _age(directory: Path, minutes: float) -> None:
    then = time.time() - minutes * 60
    for path in [*directory.rglob("*"), directory]:
        os.utime(path, (then, then))


async def test_an_array_goes_once_none_of_its_job_directories_remains(tmp_path: Path) -> None:
    """Of four arrays: the one whose jobs' directories are all gone goes, as does one whose
    manifest was never written; one with a job directory left, and one just written, stay."""
    root = tmp_path / "work"
    for label in ("kept-failed", "still-running"):
        (root / label / "status").mkdir(parents=True)
    spent = _array(root, "spent", ["done-1", "done-2"])
    cut_short = _array(root, "cut-short", [], manifest=False)
    serving = _array(root, "serving", ["done-3", "still-running"])
    fresh = _array(root, "fresh", ["not-yet-1", "not-yet-2"])
    os.utime(fresh / ARRAY_MANIFEST)  # written a moment ago: its directories come next
    async with LocalTransport() as transport:
        removed = await prune_job_dirs(transport, root, ["kept-failed"], older_than_days=1)
    assert removed == []  # labels only: the failed job's directory is not old yet
    present = {p.name for p in (root / ARRAYS_DIR).iterdir()}
    assert present == {serving.name, fresh.name}
    assert not spent.exists()
    assert not cut_short.exists()
    assert (root / "kept-failed").exists()


async def test_spent_arrays_go_with_the_job_directories_pruned_beside_them(
    tmp_path: Path,
) -> None:
    """An old failed job's directory and a spent array go in the same sweep's one removal."""
    root = tmp_path / "work"
    (root / "old-failed" / "status").mkdir(parents=True)
    _age(root / "old-failed", minutes=3 * 24 * 60)
    spent = _array(root, "spent", ["gone"])
    async with LocalTransport() as transport:
        removed = await prune_job_dirs(transport, root, ["old-failed"], older_than_days=1)
    assert removed == ["old-failed"]
    assert not spent.exists()
    assert not (root / "old-failed").exists()
