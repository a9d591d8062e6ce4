"""When the next full sweep is due: every day at `serve.full_sweep_at` (local time, HH:MM)."""

from __future__ import annotations

from datetime import datetime, time, timedelta


def next_full_sweep(now: datetime, at: str) -> datetime | None:
    """
    The first `at` o'clock strictly after `now` (same tz as `now`); None when `at` is "".

    Computed on the wall clock, so a daylight-saving change moves it with the clock, as cron.
    """
    if not at:
        return None
    hour, minute = (int(part) for part in at.split(":"))
    today = datetime.combine(now.date(), time(hour, minute), tzinfo=now.tzinfo)
    return today if today > now else today + timedelta(days=1)
