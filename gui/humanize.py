"""Times and vibration patterns in words people read at a glance (no Qt)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from facelink_local.recognition.patterns import SLOT_MS, SLOTS
from facelink_local.timefmt import parse_iso

# (name, pattern). Bit i = 50 ms slot i, least significant first.


def _slots(*runs: tuple[int, int]) -> int:
    """A pattern from (first slot, length) runs."""
    return sum(((1 << length) - 1) << start for start, length in runs)


PRESETS: list[tuple[str, int]] = [
    ("Short-short", _slots((0, 2), (8, 2))),                      # 771, a new contact's first pattern
    ("Three short", _slots((0, 2), (5, 2), (10, 2))),
    ("Long", _slots((0, 16))),
    ("Long-short", _slots((0, 8), (12, 2))),
    ("Short-long", _slots((0, 2), (6, 8))),
    ("Heartbeat", _slots((0, 2), (3, 3), (16, 2), (19, 3))),
    ("Rising", _slots((0, 1), (3, 2), (7, 3), (12, 5))),
    ("Waves", _slots(*((i, 2) for i in range(0, SLOTS, 4)))),
    ("Silent", 0),
]


def preset_name(pattern: int) -> str | None:
    return next((name for name, value in PRESETS if value == pattern), None)


def pulses(pattern: int) -> list[tuple[int, int]]:
    """The runs of "on" slots: [(first slot, length), ...]."""
    runs, start = [], None
    for i in range(SLOTS + 1):
        on = i < SLOTS and bool(pattern >> i & 1)
        if on and start is None:
            start = i
        elif not on and start is not None:
            runs.append((start, i - start))
            start = None
    return runs


def describe_pattern(pattern: int) -> str:
    """E.g. "2 buzzes: short, short" (for screen readers and tooltips)."""
    runs = pulses(pattern)
    if not runs:
        return "silent: never buzzes"
    kinds = ["short" if length * SLOT_MS <= 100 else "medium" if length * SLOT_MS <= 250 else "long"
             for _, length in runs]
    count = "1 buzz" if len(runs) == 1 else f"{len(runs)} buzzes"
    name = preset_name(pattern)
    return f"{name}: {count}" if name else f"{count}: {', '.join(kinds)}"


def _as_datetime(moment: str | datetime) -> datetime:
    return parse_iso(moment) if isinstance(moment, str) else moment


def ago(moment: str | datetime | None, now: datetime | None = None) -> str:
    """"just now", "5 minutes ago", "yesterday", "3 days ago", "on 2 Nov 2026"."""
    if moment is None:
        return "not yet"
    now = now or datetime.now(timezone.utc)
    seconds = (now - _as_datetime(moment)).total_seconds()
    if seconds < 45:
        return "just now"
    minutes = seconds / 60
    if minutes < 1.5:
        return "a minute ago"
    if minutes < 45:
        return f"{round(minutes)} minutes ago"
    hours = minutes / 60
    if hours < 1.5:
        return "an hour ago"
    if hours < 22:
        return f"{round(hours)} hours ago"
    days = hours / 24
    if days < 1.5:
        return "yesterday"
    if days < 7:
        return f"{round(days)} days ago"
    local = _as_datetime(moment).astimezone()
    return f"on {local.day} {local:%b %Y}"


def when(moment: str | datetime, now: datetime | None = None) -> str:
    """A local time: "today 14:02", "yesterday 09:15", "Tue 14:02", "3 Dec 14:02"."""
    local = _as_datetime(moment).astimezone()
    today = (now or datetime.now(timezone.utc)).astimezone().date()
    clock = f"{local:%H:%M}"
    if local.date() == today:
        return f"today {clock}"
    if local.date() == today - timedelta(days=1):
        return f"yesterday {clock}"
    if timedelta(0) < today - local.date() < timedelta(days=7):
        return f"{local:%a} {clock}"
    if local.year == today.year:
        return f"{local.day} {local:%b} {clock}"
    return f"{local.day} {local:%b %Y} {clock}"


def times(count: int) -> str:
    return "once" if count == 1 else "twice" if count == 2 else f"{count} times"
