"""
The page's two charts as geometry (no I/O, no markup): bars per day, and lines over time.

The template draws the shapes as inline SVG, so the page needs no script and no external asset.
Scales start at zero and round the top up to a whole number, so a bar's height reads as a count.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from aspider.serve.history import QueueSample
from aspider.serve.status import DayCount

WIDTH, HEIGHT, MARGIN = 560, 160, 28


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    value: int
    label: str  # the day, MM-DD


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    top: int  # the value at the top of the scale
    bars: tuple[Bar, ...] = ()
    lines: tuple[tuple[str, str], ...] = ()  # (name, SVG points)
    first: str = ""  # the x axis' first and last labels
    last: str = ""


def _top(values: Sequence[int]) -> int:
    return max(1, *values) if values else 1


def day_bars(days: Sequence[DayCount]) -> Chart:
    """One bar per day, left to right, oldest first."""
    top = _top([d.count for d in days])
    inner_w, inner_h = WIDTH - 2 * MARGIN, HEIGHT - 2 * MARGIN
    step = inner_w / max(1, len(days))
    bars = []
    for n, d in enumerate(days):
        h = inner_h * d.count / top
        x = MARGIN + n * step + step * 0.1
        bars.append(
            Bar(
                round(x, 1),
                round(MARGIN + inner_h - h, 1),
                round(step * 0.8, 1),
                round(h, 1),
                d.count,
                d.day[5:],
            )
        )
    first, last = (days[0].day, days[-1].day) if days else ("", "")
    return Chart(WIDTH, HEIGHT, top, bars=tuple(bars), first=first, last=last)


def queue_lines(samples: Sequence[QueueSample]) -> Chart:
    """Jobs queued and running over time, one polyline each."""
    if not samples:
        return Chart(WIDTH, HEIGHT, 1)
    top = _top([max(s.queued, s.running) for s in samples])
    start, end = samples[0].at, samples[-1].at
    span = max(end - start, 1.0)
    inner_w, inner_h = WIDTH - 2 * MARGIN, HEIGHT - 2 * MARGIN

    def points(values: Sequence[int]) -> str:
        return " ".join(
            f"{MARGIN + inner_w * (s.at - start) / span:.1f},"
            f"{MARGIN + inner_h - inner_h * v / top:.1f}"
            for s, v in zip(samples, values, strict=True)
        )

    lines = (
        ("queued", points([s.queued for s in samples])),
        ("running", points([s.running for s in samples])),
    )
    fmt = "%m-%d %H:%M"
    return Chart(
        WIDTH,
        HEIGHT,
        top,
        lines=lines,
        first=datetime.fromtimestamp(start).strftime(fmt),
        last=datetime.fromtimestamp(end).strftime(fmt),
    )
