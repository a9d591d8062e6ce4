"""The transfer limit holds large files to its slots and lets small ones through."""

from __future__ import annotations

import anyio
import pytest

from aspider.run.tasks.transfers import TransferLimit

pytestmark = pytest.mark.anyio


async def _most_at_once(limit: TransferLimit, sizes: list[int | None]) -> int:
    """Start every file at once, each waiting until all have started or the rest are held."""
    inside = 0
    most = 0
    entered = anyio.Event()

    async def move(size: int | None) -> None:
        nonlocal inside, most
        async with limit.moving_file(size):
            inside += 1
            most = max(most, inside)
            if inside == len(sizes):
                entered.set()
            with anyio.move_on_after(0.2):  # held ones cannot enter: give up waiting for them
                await entered.wait()
            inside -= 1

    with anyio.fail_after(10):
        async with anyio.create_task_group() as tg:
            for size in sizes:
                tg.start_soon(move, size)
    return most


async def test_small_files_are_not_held_by_the_slots() -> None:
    """Ten files below the threshold all move at once through two slots."""
    assert await _most_at_once(TransferLimit(2, small=1000), [999] * 10) == 10


async def test_large_and_unknown_files_take_slots() -> None:
    """Files at the threshold or of unknown size move at most two at a time with two slots."""
    assert await _most_at_once(TransferLimit(2, small=1000), [1000, None, 5000, 10**9] * 2) == 2
