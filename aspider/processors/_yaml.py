"""
YAML loading that remembers where every value came from.

Validation errors must name the line a user has to fix, so the document is composed into PyYAML's
node tree (which carries start marks) and turned into plain Python values by a short walk that
records the line of every mapping key and every value under its path, e.g.
`("inputs", "xnat", "scans", 0, "types") -> 14`.

Whatever the bytes, reading ends in values or in one `YamlSyntaxError` (a line and a sentence
with the fix): a file that is not UTF-8, a control character, a syntax error, a tag that is not
plain YAML (`!!python/object`, which the safe loader never builds), a value PyYAML cannot make.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

KeyPath = tuple[str | int, ...]
_PLAIN_MAP = "tag:yaml.org,2002:map"
_PLAIN_SEQ = "tag:yaml.org,2002:seq"
_NOT_TEXT_FIX = "if it is YAML, save it as UTF-8; if not (a binary file), move it elsewhere"


@dataclass
class LineMap:
    """Line numbers (1-based) of values and keys, by their path in the document."""

    lines: dict[KeyPath, int] = field(default_factory=dict)

    def line_of(self, path: KeyPath) -> int:
        """The line of `path`, or of its nearest ancestor the document has (1 at worst)."""
        probe = tuple(path)
        while probe:
            if probe in self.lines:
                return self.lines[probe]
            probe = probe[:-1]
        return self.lines.get((), 1)


class YamlSyntaxError(ValueError):
    """The text cannot be read as plain YAML; the message says why and what to change."""

    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.line = line


def read_yaml_with_lines(path: Path) -> tuple[Any, LineMap]:
    """
    One YAML file as plain values plus the line of every path in it.

    Raises:
        OSError: the file cannot be read (the caller names it in its own words).
        YamlSyntaxError: not UTF-8 text, or not plain YAML.
    """
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        byte = raw[exc.start]
        message = f"not UTF-8 text (byte 0x{byte:02x}, {exc.reason}): {_NOT_TEXT_FIX}"
        raise YamlSyntaxError(message, line) from exc
    return load_yaml_with_lines(text)


def load_yaml_with_lines(text: str) -> tuple[Any, LineMap]:
    """
    Parse one YAML document into plain values plus the line of every path in it.

    Raises:
        YamlSyntaxError: not YAML, or not plain YAML (a tag such as `!!python/object`).
    """
    try:
        loader = yaml.SafeLoader(text)
    except yaml.reader.ReaderError as exc:  # the reader checks the whole text first
        raise _unprintable(exc, text) from exc
    try:
        node = _compose(loader)
        lines = LineMap()
        if node is None:
            return None, lines
        return _walk(loader, node, (), lines), lines
    except RecursionError as exc:
        message = "invalid YAML: nested too deeply, or an alias (*name) inside its own anchor"
        raise YamlSyntaxError(message, 1) from exc
    finally:
        loader.dispose()


def _compose(loader: yaml.SafeLoader) -> yaml.Node | None:
    try:
        return loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        raise _invalid(exc, 1) from exc


def _invalid(exc: yaml.MarkedYAMLError, line: int) -> YamlSyntaxError:
    """PyYAML's error, on one line: the line of its mark (else `line`)."""
    mark = exc.problem_mark or exc.context_mark
    return YamlSyntaxError(f"invalid YAML: {exc.problem or exc}", mark.line + 1 if mark else line)


def _unprintable(exc: yaml.reader.ReaderError, text: str) -> YamlSyntaxError:
    line = text.count("\n", 0, max(exc.position, 0)) + 1
    return YamlSyntaxError(
        f"character #x{exc.character:04x} is not allowed in YAML ({exc.reason}): delete it; "
        "if the file is not YAML (a binary file), move it elsewhere",
        line,
    )


def _walk(loader: yaml.SafeLoader, node: yaml.Node, path: KeyPath, lines: LineMap) -> Any:
    line = node.start_mark.line + 1
    lines.lines.setdefault(path, line)
    if isinstance(node, yaml.MappingNode) and node.tag == _PLAIN_MAP:
        return _walk_mapping(loader, node, path, lines)
    if isinstance(node, yaml.SequenceNode) and node.tag == _PLAIN_SEQ:
        return [_walk(loader, item, (*path, i), lines) for i, item in enumerate(node.value)]
    return _construct(loader, node)


def _walk_mapping(
    loader: yaml.SafeLoader, node: yaml.MappingNode, path: KeyPath, lines: LineMap
) -> dict[Any, Any]:
    try:
        loader.flatten_mapping(node)  # merge keys (`<<: *base`), as the safe loader reads them
    except yaml.MarkedYAMLError as exc:  # `<<:` and no mapping to merge
        raise _invalid(exc, node.start_mark.line + 1) from exc
    out: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = _construct(loader, key_node)
        line = key_node.start_mark.line + 1
        if not isinstance(key, Hashable):
            raise YamlSyntaxError(
                "invalid YAML: a key is a list or a mapping: write keys as text", line
            )
        child = (*path, str(key))
        lines.lines[child] = line
        out[key] = _walk(loader, value_node, child, lines)
    return out


def _construct(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    """A value as the safe loader makes it; an unknown tag or a bad value is one error line."""
    line = node.start_mark.line + 1
    if node.tag not in loader.yaml_constructors:
        tag = node.tag.replace("tag:yaml.org,2002:", "!!")
        raise YamlSyntaxError(
            f"the tag {tag} is not plain YAML (text, numbers, true/false, lists, mappings), "
            "which is all aspider reads (it builds no objects from tags): delete the tag",
            line,
        )
    try:
        return loader.construct_object(node, deep=True)
    except yaml.MarkedYAMLError as exc:
        raise _invalid(exc, line) from exc
    except (ValueError, TypeError) as exc:  # e.g. a date with month 13
        raise YamlSyntaxError(f"invalid YAML: {exc}", line) from exc
