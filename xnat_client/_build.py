"""
Frozen models from values `_rows.py` and `_fold.py` have already parsed and typed.

A 10,000-session snapshot is about 220,000 models. Validating them again costs seconds, and even
`model_construct` walks every field of every model (and gives each one its own set of
set-field names, 0.5-1.2 KB apiece). `builder` does what `model_construct` does for models with
no aliases, private attributes, extras or post-init hook, in four attribute writes, and every
model of a class shares one set of field names: all fields are always passed, so the set is
the same for all of them. Pydantic never edits that set on a frozen model (copies get their own).
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from pydantic import BaseModel

_M = TypeVar("_M", bound=BaseModel)
_set = object.__setattr__


def builder(model: type[_M]) -> Callable[[dict[str, Any]], _M]:
    """A function making `model` instances from a dict holding every field, unvalidated."""
    if (
        model.__pydantic_post_init__
        or model.__private_attributes__
        or model.model_config.get("extra") == "allow"
        or any(f.alias or f.validation_alias for f in model.model_fields.values())
    ):
        raise TypeError(f"{model.__name__} needs model_construct")
    names = set(model.model_fields)
    new = object.__new__

    def build(values: dict[str, Any]) -> _M:
        instance: _M = new(model)
        _set(instance, "__dict__", values)
        _set(instance, "__pydantic_fields_set__", names)
        _set(instance, "__pydantic_extra__", None)
        _set(instance, "__pydantic_private__", None)
        return instance

    return build


_pause_lock = threading.Lock()
_pauses = 0
_was_enabled = False


@contextmanager
def gc_paused() -> Iterator[None]:
    """
    No cyclic garbage collection while a snapshot is folded and built (about 2 s at 10,000
    sessions; garbage is collected right after).

    A snapshot allocates hundreds of thousands of models and containers that all stay alive;
    the collector would rescan that growing heap again and again for nothing, which costs as
    much as the fold itself. Pauses nest and overlap (concurrent snapshots, the build thread):
    the first one in turns collection off, the last one out restores what it found.
    """
    global _pauses, _was_enabled
    with _pause_lock:
        if _pauses == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _pauses += 1
    try:
        yield
    finally:
        with _pause_lock:
            _pauses -= 1
            if _pauses == 0 and _was_enabled:
                gc.enable()
