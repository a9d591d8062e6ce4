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

from collections.abc import Callable
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
