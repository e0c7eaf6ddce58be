"""Contacts seen -> vibrations on the wearable.

:class:`HapticBridge` subscribes to ``ContactSeen`` events and plays each
contact's pattern on the wearable, one after another:

- a contact seen again within the cooldown (per user and contact) is not
  played again;
- contacts that arrive together (one upload: until its ``FacesArrived``, or
  within ``batch_window_s``) play closest match first;
- a pattern starts only when the previous one has finished, plus a short gap,
  so the wearer can tell them apart;
- at most ``max_queue`` patterns wait; when more arrive the oldest are dropped;
- a silent pattern (0) plays nothing.

Event callbacks only queue work; a thread of its own talks to the link.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from facelink_local.events import ContactSeen, EventHub, FacesArrived

from .link import CommandResult, SerialLink
from .protocol import PATTERN_MAX, Play, Stop, pattern_duration_s

if TYPE_CHECKING:
    from facelink_local.hub import Hub

log = logging.getLogger(__name__)

AUTO_PORT = "auto"  # a port setting meaning "find the wearable among USB serial ports"


def port_from_setting(value: str) -> str | None:
    """A port setting as the link wants it: "auto" finds the wearable (None)."""
    return None if value.strip().lower() == AUTO_PORT else value.strip()


@dataclass(frozen=True)
class _Cue:
    key: tuple[int, int]  # (user_id, cid)
    name: str
    pattern: int
    distance: float


class HapticBridge:
    """Plays contacts' patterns on the wearable; see the module docstring.

    ``port`` is the serial port (None: find the wearable among USB serial
    ports). ``repeat`` and ``intensity`` are the wearable's settings for every
    pattern. ``link_options`` go to :class:`~firmware_bridge.link.SerialLink`
    (timeouts, retries, backoff).
    """

    def __init__(
        self,
        hub: EventHub,
        port: str | None = None,
        cooldown_s: float = 30.0,
        repeat: int = 1,
        intensity: int = 200,
        *,
        gap_s: float = 0.3,
        batch_window_s: float = 0.1,
        max_queue: int = 4,
        link_options: Mapping[str, Any] | None = None,
    ) -> None:
        if not 1 <= repeat <= 255:
            raise ValueError("repeat must be 1-255")
        if not 0 <= intensity <= 255:
            raise ValueError("intensity must be 0-255")
        if cooldown_s < 0 or gap_s < 0 or batch_window_s < 0 or max_queue < 1:
            raise ValueError("cooldown, gap and window must be >= 0, max_queue >= 1")
        self.hub = hub
        self.cooldown_s = cooldown_s
        self.repeat = repeat
        self.intensity = intensity
        self.gap_s = gap_s
        self.batch_window_s = batch_window_s
        self.max_queue = max_queue
        self._link_options = dict(link_options or {})
        self.link = SerialLink(hub, port, **self._link_options)

        self._cond = threading.Condition()
        self._batch: list[_Cue] = []
        self._batch_deadline: float | None = None
        self._queue: deque[_Cue] = deque()
        self._last_accepted: dict[tuple[int, int], float] = {}
        self._ready_at = 0.0  # when the motor is free for the next pattern
        self._running = False
        self._thread: threading.Thread | None = None
        self._unsubscribe: list[Callable[[], None]] = []
        self.played = 0  # patterns the wearable acknowledged
        self.dropped = 0  # accepted, then not played (queue full, wearable away)
        self.suppressed = 0  # contacts seen again within the cooldown

    @classmethod
    def for_hub(cls, hub: Hub, port: str | None = None, **options: Any) -> HapticBridge:
        """A bridge on `hub`'s events whose port, cooldown, repeat count and
        intensity follow its run-time settings (`serial_port`, `haptic_*`).
        `port` (a path, or "auto") overrides the stored `serial_port` and
        becomes the stored setting. Not started."""
        if port:
            hub.tuning.update(serial_port=port)
        tuning = hub.tuning.current
        bridge = cls(hub.events, port_from_setting(tuning.serial_port or AUTO_PORT),
                     cooldown_s=tuning.haptic_cooldown_s, repeat=tuning.haptic_repeat,
                     intensity=tuning.haptic_intensity, **options)

        def follow(changed) -> None:
            bridge.cooldown_s = changed.haptic_cooldown_s
            bridge.repeat = changed.haptic_repeat
            bridge.intensity = changed.haptic_intensity
            if changed.serial_port:
                bridge.set_port(port_from_setting(changed.serial_port))

        hub.tuning.on_change(follow)
        return bridge

    # --- lifecycle -------------------------------------------------------------

    def start(self) -> HapticBridge:
        with self._cond:
            if self._running:
                return self
            self._running = True
        self.link.start()
        self._thread = threading.Thread(target=self._run, name="haptic-player", daemon=True)
        self._thread.start()
        self._unsubscribe = [
            self.hub.subscribe(ContactSeen.TOPIC, self._on_contact_seen),
            self.hub.subscribe(FacesArrived.TOPIC, self._on_faces_arrived),
        ]
        return self

    def stop(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe = []
        with self._cond:
            self._running = False
            self._queue.clear()
            self._batch.clear()
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None
        if self.link.connected and time.monotonic() < self._ready_at:
            self.link.request(Stop(), retries=0)  # do not leave the motor running
        self.link.stop()

    def __enter__(self) -> HapticBridge:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def state(self) -> str:
        """The wearable's link state: "connected", "connecting", "disconnected" or "error"."""
        return self.link.state

    @property
    def detail(self) -> str:
        return self.link.detail

    @property
    def queue_length(self) -> int:
        """Patterns waiting for their turn (an upload still being collected not included)."""
        with self._cond:
            return len(self._queue)

    def set_port(self, port: str | None) -> None:
        """Use another serial port (None: auto-detect) from now on."""
        if port == self.link.port:
            return
        old = self.link
        self.link = SerialLink(self.hub, port, **self._link_options)
        old.stop()
        with self._cond:
            running = self._running
        if running:
            self.link.start()

    # --- the "Test on wearable" button -------------------------------------------

    def test_pattern(self, pattern: int) -> CommandResult:
        """Play ``pattern`` now, bypassing cooldown and queue; blocks until acknowledged.

        The result says clearly when the wearable is not connected
        (``status == "not_connected"``, ``detail`` explains why).
        """
        if not isinstance(pattern, int) or not 0 <= pattern <= PATTERN_MAX:
            raise ValueError("pattern must be an integer in 0..2**32-1")
        if pattern == 0:
            return CommandResult(True, "silent", detail="pattern 0 is silent: nothing to play")
        result = self.link.request(Play(pattern=pattern, repeat=self.repeat, intensity=self.intensity))
        if result.ok:
            self._played(pattern)
        return result

    # --- events (publisher's thread: queue and return) ------------------------------

    def _on_contact_seen(self, event: ContactSeen) -> None:
        if not event.vib_pattern:
            return  # silent contact
        cue = _Cue((event.user_id, event.cid), event.name, event.vib_pattern & PATTERN_MAX, event.distance)
        now = time.monotonic()
        with self._cond:
            if not self._running:
                return
            last = self._last_accepted.get(cue.key)
            if last is not None and now - last < self.cooldown_s:
                self.suppressed += 1
                log.debug("%s seen again within the cooldown", cue.name)
                return
            self._last_accepted[cue.key] = now
            self._batch.append(cue)
            if self._batch_deadline is None:
                self._batch_deadline = now + self.batch_window_s
            self._cond.notify_all()

    def _on_faces_arrived(self, event: FacesArrived) -> None:
        # The server publishes an upload's ContactSeen events before its
        # FacesArrived: that upload's batch is complete.
        with self._cond:
            if any(cue.key[0] == event.user_id for cue in self._batch):
                self._batch_deadline = time.monotonic()
                self._cond.notify_all()

    # --- player thread -------------------------------------------------------------

    def _run(self) -> None:
        while True:
            cue = self._next_cue()
            if cue is None:
                return
            self._play(cue)

    def _next_cue(self) -> _Cue | None:
        """Wait for the next pattern to play, and for the motor to be free."""
        with self._cond:
            while self._running:
                now = time.monotonic()
                if self._batch_deadline is not None and now >= self._batch_deadline:
                    self._enqueue_batch()
                if self._queue and now >= self._ready_at:
                    return self._queue.popleft()
                wakeups = [t for t in (self._batch_deadline, self._ready_at if self._queue else None) if t is not None]
                self._cond.wait(max(0.0, min(wakeups) - now) if wakeups else None)
            return None

    def _enqueue_batch(self) -> None:
        batch = sorted(self._batch, key=lambda cue: cue.distance)
        self._batch, self._batch_deadline = [], None
        for cue in batch[self.max_queue :]:  # more at once than fit: keep the closest
            self._forget(cue, "too many at once")
        self._queue.extend(batch[: self.max_queue])
        while len(self._queue) > self.max_queue:
            self._forget(self._queue.popleft(), "queue full")

    def _forget(self, cue: _Cue, why: str) -> None:
        """Drop ``cue`` unplayed; the contact may play again when next seen."""
        self.dropped += 1
        self._last_accepted.pop(cue.key, None)
        log.info("not playing %s: %s", cue.name, why)

    def _play(self, cue: _Cue) -> None:
        if not self.link.connected:
            with self._cond:
                self._forget(cue, self.link.describe_state())
            return
        result = self.link.request(Play(pattern=cue.pattern, repeat=self.repeat, intensity=self.intensity))
        if result.ok:
            self._played(cue.pattern)
            log.info("played %s (distance %.3f)", cue.name, cue.distance)
        else:
            with self._cond:
                self._forget(cue, result.detail)

    def _played(self, pattern: int) -> None:
        with self._cond:
            self.played += 1
            self._ready_at = time.monotonic() + pattern_duration_s(pattern, self.repeat) + self.gap_s
            self._cond.notify_all()
