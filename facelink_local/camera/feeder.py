"""The camera loop: take a frame every interval, skip repeats, send, ride out outages.

Every `interval` seconds the feeder takes one frame from its source. A frame
nearly identical to the last frame kept is skipped (comparing with the last
kept rather than the previous frame lets a slow change add up until it counts). Frames wait in a small
queue of the newest `queue_size` frames; one upload at a time goes to the hub,
oldest first, and never two within one interval.

When the hub cannot be reached the feeder keeps taking frames (the oldest
fall out of the full queue) and retries with exponential backoff. When the hub
answers again the queued frames go first, one per interval; no new frame is
taken until the queue is empty, so a backlog drains within `queue_size`
intervals instead of trailing behind forever.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from .client import CameraClient, FrameRejected, HubUnreachable, ServerError, UploadResult
from .sources import Frame, Unreadable, difference

MAX_SERVER_ERRORS = 3  # a frame answered 500 this many times in a row is dropped


class GaveUp(HubUnreachable):
    """The hub stayed unreachable for longer than the feeder was told to wait."""


@dataclass
class Backoff:
    """Retry delays: first, first*factor, ... capped at `cap` seconds."""

    first: float = 0.5
    factor: float = 2.0
    cap: float = 30.0
    failures: int = 0

    def next_delay(self) -> float:
        delay = min(self.cap, self.first * self.factor ** self.failures)
        self.failures += 1
        return delay

    def reset(self) -> None:
        self.failures = 0


@dataclass
class FeederStats:
    frames: int = 0        # taken from the source
    sent: int = 0          # answered by the hub
    similar: int = 0       # skipped: nearly identical to the frame before
    dropped: int = 0       # fell out of the full queue while the hub was away
    rejected: int = 0      # refused by the hub (not retried)
    unreadable: int = 0    # files that are not photos
    queued: int = 0        # still waiting when the feeder stopped

    def summary(self) -> str:
        parts = [f"{self.frames} frames", f"{self.sent} sent", f"{self.similar} similar skipped"]
        for count, what in ((self.dropped, "dropped while the hub was away"), (self.rejected, "rejected"),
                            (self.unreadable, "not images"), (self.queued, "unsent")):
            if count:
                parts.append(f"{count} {what}")
        return ", ".join(parts)


class Feeder:
    """Feeds a source's frames to the hub through `client`; `run()` blocks, `stop()` ends it."""

    def __init__(self, client: CameraClient, source: Iterable[Frame | Unreadable], *, interval: float = 1.0,
                 threshold: float = 3.0, queue_size: int = 8, backoff: Backoff | None = None,
                 give_up_after: float | None = None, report: Callable[[str], None] | None = None,
                 on_sent: Callable[[Frame, UploadResult], None] | None = None) -> None:
        if interval < 0 or threshold < 0 or queue_size < 1:
            raise ValueError("interval and threshold must be >= 0, queue_size >= 1")
        self.client = client
        self.source = source
        self.interval = interval
        self.threshold = threshold
        self.queue: deque[Frame] = deque(maxlen=queue_size)
        self.backoff = backoff or Backoff()
        self.give_up_after = give_up_after
        self.report = report or (lambda line: None)
        self.on_sent = on_sent
        self.stats = FeederStats()
        self._stopping = threading.Event()
        self._last: Frame | None = None          # the last frame kept (queued or sent)
        self._down_since: float | None = None    # monotonic time of the first failure of this outage
        self._retry_at = 0.0
        self._server_errors = 0                  # answers 500 to the frame at the head of the queue

    @property
    def hub_down(self) -> bool:
        return self._down_since is not None

    def stop(self) -> None:
        """Ask `run()` to return after the upload in progress, if any; safe from any thread or signal handler."""
        self._stopping.set()

    def _say(self, text: str) -> None:
        self.report(f"{time.strftime('%H:%M:%S')} {text}")

    @staticmethod
    def _name(frame: Frame) -> str:
        return f"frame {frame.number}" + (f" ({frame.label})" if frame.label else "")

    # -- taking frames -----------------------------------------------------------------------------

    def _take(self, frames: Iterator[Frame | Unreadable]) -> bool:
        """Take the next frame into the queue (unless it repeats the last one); False once the source ended."""
        for item in frames:
            if isinstance(item, Unreadable):
                self.stats.unreadable += 1
                self._say(f"{item.label}: skipped, {item.reason}")
                continue
            self.stats.frames += 1
            if self._last is not None and difference(item.signature, self._last.signature) < self.threshold:
                self.stats.similar += 1
                self._say(f"{self._name(item)}: same as frame {self._last.number}, not sent")
                return True
            if len(self.queue) == self.queue.maxlen:
                lost = self.queue[0]
                self.stats.dropped += 1
                self._say(f"{self._name(lost)}: dropped, the queue keeps the newest {self.queue.maxlen}")
            self.queue.append(item)
            self._last = item
            return True
        return False

    # -- sending -----------------------------------------------------------------------------------

    def _send_oldest(self) -> None:
        frame = self.queue[0]
        try:
            result = self.client.upload(frame.jpeg)
        except ServerError as exc:
            self._server_errors += 1
            if self._server_errors < MAX_SERVER_ERRORS:
                self._hub_failed(exc)
            else:  # this frame, not the hub, is the trouble: do not let it block the queue
                self._reject(frame, f"{exc} ({self._server_errors} times), dropped")
            return
        except HubUnreachable as exc:
            self._hub_failed(exc)
            return
        except FrameRejected as exc:
            self._reject(frame, str(exc))
            return
        self.queue.popleft()
        self._server_errors = 0
        self.stats.sent += 1
        if self.hub_down:
            self._say(f"hub is back after {time.monotonic() - self._down_since:.0f} s"
                      + (f"; {len(self.queue)} more queued frames follow" if self.queue else ""))
            self._down_since = None
            self.backoff.reset()
        late = time.time() - frame.captured_at
        when = f" (taken {time.strftime('%H:%M:%S', time.localtime(frame.captured_at))})" if late > 2 else ""
        self._say(f"{self._name(frame)}: {result.summary()}{when}")
        if self.on_sent is not None:
            self.on_sent(frame, result)

    def _reject(self, frame: Frame, reason: str) -> None:
        """Drop the frame at the head of the queue; the hub did answer, so it is not away."""
        self.queue.popleft()
        self._server_errors = 0
        self._down_since = None
        self._retry_at = 0.0
        self.backoff.reset()
        self.stats.rejected += 1
        self._say(f"{self._name(frame)}: {reason}")

    def _hub_failed(self, error: HubUnreachable) -> None:
        now = time.monotonic()
        first = self._down_since is None
        if first:
            self._down_since = now
        waited = now - self._down_since
        if self.give_up_after is not None and waited >= self.give_up_after:
            raise GaveUp(f"gave up after {waited:.1f} s: {error}") from error
        delay = max(self.backoff.next_delay(), error.retry_after or 0.0)
        if self.give_up_after is not None:  # one last try when the time is up
            delay = min(delay, self.give_up_after - waited)
        self._retry_at = now + delay
        when = f"in {delay:.1f} s" if delay >= 0.1 else "at once"
        if first:
            self._say(f"{error}; retrying {when}, keeping the newest {self.queue.maxlen} frames")
        else:
            self._say(f"still unreachable; retrying {when} ({len(self.queue)} frames queued)")

    # -- the loop ----------------------------------------------------------------------------------

    def _sleep_until(self, moment: float) -> bool:
        """Wait for the monotonic `moment`; False if asked to stop meanwhile."""
        return not self._stopping.wait(max(0.0, moment - time.monotonic()))

    def run(self) -> FeederStats:
        """Feed until the source ends and the queue is empty, or until `stop()`.

        Raises LoginRefused (wrong password), GaveUp (hub away longer than
        `give_up_after`), CameraError (the hub answers nonsense) and SourceError.
        """
        frames = iter(self.source)
        ended = False
        last_upload = -self.interval
        try:
            while not self._stopping.is_set():
                tick = time.monotonic()
                if not ended and (self.hub_down or not self.queue):
                    ended = not self._take(frames)
                if self.queue and time.monotonic() >= self._retry_at:
                    if not self._sleep_until(last_upload + self.interval):  # taking the frame took a while
                        break
                    last_upload = time.monotonic()
                    self._send_oldest()
                if ended and not self.queue:
                    break
                self._sleep_until(tick + self.interval)
        finally:
            close = getattr(frames, "close", None)
            if close is not None:
                close()
            self.stats.queued = len(self.queue)
        return self.stats
