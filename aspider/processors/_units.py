"""Walltime and memory as DAX processors write them, turned into numbers a scheduler takes."""

from __future__ import annotations

import re

_MEMORY = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?\s*$", re.IGNORECASE)
_MB_PER_UNIT = {"k": 1 / 1024, "": 1, "m": 1, "g": 1024, "t": 1024 * 1024}


def parse_walltime(value: str | int) -> int:
    """
    Seconds from a Slurm-style walltime, the form DAX processors use.

    Accepted: minutes as a number, `MM:SS`, `HH:MM:SS`, `D-HH`, `D-HH:MM`, `D-HH:MM:SS`.

    Raises:
        ValueError: the text is none of those forms.
    """
    if isinstance(value, int):
        return _positive(value * 60, value)
    text = value.strip()
    days = 0
    if "-" in text:
        head, _, text = text.partition("-")
        days = _int(head, value)
        parts = [_int(p, value) for p in text.split(":")]
        parts += [0] * (3 - len(parts))
        if len(parts) != 3:
            raise ValueError(f"walltime {value!r} is not D-HH[:MM[:SS]]")
        hours, minutes, seconds = parts
    else:
        parts = [_int(p, value) for p in text.split(":")]
        if len(parts) == 1:
            hours, minutes, seconds = 0, parts[0], 0
        elif len(parts) == 2:
            hours, minutes, seconds = 0, parts[0], parts[1]
        elif len(parts) == 3:
            hours, minutes, seconds = parts
        else:
            raise ValueError(f"walltime {value!r} is not MM, MM:SS, HH:MM:SS or D-HH:MM:SS")
    return _positive(((days * 24 + hours) * 60 + minutes) * 60 + seconds, value)


def parse_memory_mb(value: str | int) -> int:
    """
    Megabytes from `16G`, `16GB`, `8000M`, `2T` or a bare number (megabytes).

    Raises:
        ValueError: the text is not a size.
    """
    if isinstance(value, int):
        return _positive(value, value)
    match = _MEMORY.match(value)
    if match is None:
        raise ValueError(f"memory {value!r} is not a size such as 16G, 8000M or 8000")
    number, unit = float(match.group(1)), match.group(2).lower()
    return _positive(max(1, round(number * _MB_PER_UNIT[unit])), value)


def format_duration(seconds: int) -> str:
    """
    `HH:MM:SS`: how aspider writes every duration a person reads (a walltime asked for or
    used, a retry's request), the form every PBS flavour accepts in `-l walltime=` too.
    """
    hours, rest = divmod(max(0, seconds), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}"


def _int(text: str, whole: str | int) -> int:
    if not text.strip().isdigit():
        raise ValueError(f"walltime {whole!r} has a part that is not a number: {text!r}")
    return int(text)


def _positive(number: int, whole: str | int) -> int:
    if number <= 0:
        raise ValueError(f"{whole!r} must be more than zero")
    return number
