"""
YAML loading that remembers where every value came from.

Validation errors must name the line a user has to fix, so the document is composed into PyYAML's
node tree (which carries start marks) and turned into plain Python values by a short walk that
records the line of every mapping key and every value under its path, e.g.
`("inputs", "xnat", "scans", 0, "types") -> 14`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

Path = tuple[str | int, ...]


@dataclass
class LineMap:
    """Line numbers (1-based) of values and keys, by their path in the document."""

    lines: dict[Path, int] = field(default_factory=dict)

    def line_of(self, path: Path) -> int:
        """The line of `path`, or of its nearest ancestor the document has (1 at worst)."""
        probe = tuple(path)
        while probe:
            if probe in self.lines:
                return self.lines[probe]
            probe = probe[:-1]
        return self.lines.get((), 1)


class YamlSyntaxError(ValueError):
    """The text is not YAML; carries the line PyYAML reported."""

    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.line = line


def load_yaml_with_lines(text: str) -> tuple[Any, LineMap]:
    """Parse one YAML document into plain values plus the line of every path in it."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        raise YamlSyntaxError(str(exc.problem or exc), line) from exc
    finally:
        loader.dispose()
    lines = LineMap()
    if node is None:
        return None, lines
    return _walk(loader, node, (), lines), lines


def _walk(loader: yaml.SafeLoader, node: yaml.Node, path: Path, lines: LineMap) -> Any:
    lines.lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            child = (*path, str(key))
            lines.lines[child] = key_node.start_mark.line + 1
            out[key] = _walk(loader, value_node, child, lines)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_walk(loader, item, (*path, i), lines) for i, item in enumerate(node.value)]
    return loader.construct_object(node, deep=True)
