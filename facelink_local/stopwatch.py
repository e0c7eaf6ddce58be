"""Wall time per named stage of one piece of work (an upload: decode, detect, ...).

The upload path takes an optional `Stopwatch`, so benchmarks time the code the
server runs rather than a copy of it; without one nothing is recorded.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext


class Stopwatch:
    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - start


def stage(stopwatch: Stopwatch | None, name: str):
    """`stopwatch.stage(name)`, or a no-op when there is no stopwatch."""
    return stopwatch.stage(name) if stopwatch is not None else nullcontext()
