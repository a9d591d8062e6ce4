"""The public surface of `aspider.notify` is exactly its `__all__`."""

from __future__ import annotations

import aspider.notify


def test_every_exported_name_is_there_once() -> None:
    """Each name of __all__ imports, none twice, none private."""
    names = aspider.notify.__all__
    assert len(set(names)) == len(names)
    for name in names:
        assert not name.startswith("_")
        assert getattr(aspider.notify, name) is not None
