"""Vibration patterns: 32 slots of 50 ms, bit i (least significant first) = slot i.

A new contact gets the pattern that differs most (largest minimum Hamming
distance) from the user's other contacts, chosen among rhythmic candidates
that feel like distinct buzzes rather than noise. 0 (silent) is never chosen.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache

SLOTS = 32
SLOT_MS = 50
MAX_PATTERN = (1 << SLOTS) - 1


def slots_to_pattern(slots: Iterable[bool]) -> int:
    return sum(1 << i for i, on in enumerate(slots) if on)


def pattern_to_slots(pattern: int) -> list[bool]:
    return [bool(pattern >> i & 1) for i in range(SLOTS)]


def hamming(a: int, b: int) -> int:
    return (a ^ b).bit_count()


@cache
def candidates() -> tuple[int, ...]:
    """Patterns of 1-4 pulses of 2-8 slots with 2-6 slot gaps, in a stable order."""
    found: list[int] = []
    seen: set[int] = set()

    def build(start: int, pulses_left: int, pattern: int) -> None:
        for length in (2, 4, 6, 8):
            end = start + length
            if end > SLOTS:
                break
            with_pulse = pattern | (((1 << length) - 1) << start)
            if with_pulse not in seen:
                seen.add(with_pulse)
                found.append(with_pulse)
            if pulses_left > 1:
                for gap in (2, 4, 6):
                    build(end + gap, pulses_left - 1, with_pulse)

    build(0, 4, 0)
    return tuple(found)


def most_distinct_pattern(existing: Iterable[int]) -> int:
    """The candidate whose nearest existing pattern is farthest away."""
    others = [p for p in existing if p]
    if not others:
        return 0b0000_0000_0000_0000_0000_0011_0000_0011  # short-short: a friendly first buzz
    best, best_score = candidates()[0], -1
    for candidate in candidates():
        score = min(hamming(candidate, other) for other in others)
        if score > best_score:
            best, best_score = candidate, score
    return best
