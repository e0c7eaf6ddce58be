"""The hub's events as Qt signals, always emitted on the GUI thread.

The server thread, the wearable's link thread and worker threads publish
events on the hub's `EventHub`. Their callbacks must not touch widgets, so
`HubBridge` only queues each event to itself (a queued signal is safe from
any thread) and re-emits it on the GUI thread as one of its typed signals.
"""

from __future__ import annotations

import threading

from facelink_local.events import ContactSeen, DeviceState, EventHub, FacesArrived
from facelink_local.services.pairing import PairingChanged
from facelink_local.services.reembed import ReembedProgress

from .qt import QObject, Qt, Signal, Slot


class HubBridge(QObject):
    """Signals (GUI thread): faces_arrived(FacesArrived), contact_seen(ContactSeen),
    device_state(DeviceState), pairing_changed(PairingChanged),
    reembed_progress(ReembedProgress)."""

    faces_arrived = Signal(object)
    contact_seen = Signal(object)
    device_state = Signal(object)
    pairing_changed = Signal(object)
    reembed_progress = Signal(object)

    _queued = Signal(object)  # from any thread, to `_dispatch` on the GUI thread

    def __init__(self, events: EventHub, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._lock = threading.Lock()
        self._open = True
        self._queued.connect(self._dispatch, Qt.ConnectionType.QueuedConnection)
        self._by_topic = {
            FacesArrived.TOPIC: self.faces_arrived,
            ContactSeen.TOPIC: self.contact_seen,
            DeviceState.TOPIC: self.device_state,
            PairingChanged.TOPIC: self.pairing_changed,
            ReembedProgress.TOPIC: self.reembed_progress,
        }
        self._unsubscribe = [events.subscribe(topic, self._forward) for topic in self._by_topic]

    def _forward(self, event: object) -> None:
        """The publisher's thread: queue and return at once."""
        with self._lock:
            if self._open:
                self._queued.emit(event)

    @Slot(object)
    def _dispatch(self, event) -> None:
        signal = self._by_topic.get(event.TOPIC)
        if signal is not None and self._open:
            signal.emit(event)

    def close(self) -> None:
        """Stop listening (before the window goes away)."""
        with self._lock:
            self._open = False
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe = []
