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
