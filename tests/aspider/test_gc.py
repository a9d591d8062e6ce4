"""The engine's collector pause: nests, overlaps, and leaves a disabled collector alone."""

from __future__ import annotations

import gc

from aspider._gc import gc_paused


def test_gc_pauses_nest_and_restore_the_previous_state() -> None:
    """Overlapping pauses keep collection off until the last ends; a disabled gc stays off."""
    assert gc.isenabled()
    outer, inner = gc_paused(), gc_paused()
    outer.__enter__()
    inner.__enter__()
    outer.__exit__(None, None, None)
    assert not gc.isenabled()
    inner.__exit__(None, None, None)
    assert gc.isenabled()
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_a_snapshot_step_freezes_what_it_built_until_the_sweep_thaws_it() -> None:
    """Objects built in a step leave the collector's walk, and come back when the sweep ends."""
    from aspider._gc import snapshot_step, thawed_after

    gc.unfreeze()
    with thawed_after():
        with snapshot_step():
            built = [[n] for n in range(1000)]
        assert gc.get_freeze_count() >= len(built)
        assert gc.isenabled()
    assert gc.get_freeze_count() == 0
