"""What an import comes to: the settings, and what a person should read about them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Carried:
    """One aspider setting written, and the DAX setting (file:line) or file it came from."""

    setting: str
    value: str
    source: str


@dataclass
class Conversion:
    """The aspider settings (as data), and what a person should read about them."""

    settings: dict[str, Any] = field(default_factory=dict)
    carried: list[Carried] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # to know, or still to do
    unmapped: list[str] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)  # kept in the file, as YAML comments
