"""A tiny in-process publish/subscribe hub.

The server publishes what happened (faces arrived, a contact was seen, the
wearable connected); the haptic bridge and the desktop app subscribe. Callbacks
run synchronously in the publishing thread, so they must be quick: hand the
event to a queue or a Qt signal and return.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

log = logging.getLogger(__name__)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class ContactSeen:
    """A known contact was recognized in an uploaded photo."""

    TOPIC = "contact_seen"
    user_id: int
    cid: int
    name: str
    vib_pattern: int
    distance: float
    at: datetime = field(default_factory=utcnow)


@dataclass(frozen=True)
class FacesArrived:
    """An upload was processed: how many faces, how many unknown were stored."""

    TOPIC = "faces_arrived"
    user_id: int
    faces: int
    unknown_stored: int
    matched: int
    at: datetime = field(default_factory=utcnow)


@dataclass(frozen=True)
class DeviceState:
    """The haptic wearable's link changed state (connected, disconnected, ...)."""

    TOPIC = "device_state"
    state: str  # "connected" | "disconnected" | "connecting" | "error"
    port: str | None = None
    detail: str = ""
    at: datetime = field(default_factory=utcnow)


Callback = Callable[[Any], None]


class EventHub:
    """Thread-safe topic -> callbacks registry."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscribers: dict[str, list[Callback]] = {}

    def subscribe(self, topic: str, callback: Callback) -> Callable[[], None]:
        """Register `callback` for `topic`; returns a function that unsubscribes."""
        with self._lock:
            self._subscribers.setdefault(topic, []).append(callback)

        def unsubscribe() -> None:
            with self._lock:
                callbacks = self._subscribers.get(topic, [])
                if callback in callbacks:
                    callbacks.remove(callback)

        return unsubscribe

    def publish(self, event: Any) -> None:
        """Deliver `event` to every subscriber of `event.TOPIC`.

        A failing subscriber is logged and never breaks the publisher (an
        upload must not fail because the wearable is unplugged).
        """
        with self._lock:
            callbacks = list(self._subscribers.get(event.TOPIC, []))
        for callback in callbacks:
            try:
                callback(event)
            except Exception:  # noqa: BLE001 - isolate subscribers from the publisher
                log.exception("subscriber of %s failed", event.TOPIC)
