"""Helpers shared by the bridge tests (fixtures live in conftest.py)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
import serial

from facelink_local.events import DeviceState, EventHub
from firmware_bridge.protocol import BadFrame, FrameDecoder, Message, encode_frame

# Short timings so failure paths (retries, reconnects) stay fast in tests.
FAST_LINK = dict(
    ack_timeout=0.1,
    retries=2,
    retry_delay=0.01,
    hello_timeout=0.5,
    hello_interval=0.1,
    backoff_initial=0.02,
    backoff_max=0.1,
    read_timeout=0.05,
)


def wait_until(predicate: Callable[[], object], timeout: float = 5.0, what: str = "condition") -> object:
    """Poll ``predicate`` until it returns something truthy; fail the test at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.005)


class StateRecorder:
    """Collects DeviceState events published on a hub."""

    def __init__(self, hub: EventHub) -> None:
        self.events: list[DeviceState] = []
        self._lock = threading.Lock()
        hub.subscribe(DeviceState.TOPIC, self._on_event)

    def _on_event(self, event: DeviceState) -> None:
        with self._lock:
            self.events.append(event)

    def states(self) -> list[str]:
        with self._lock:
            return [e.state for e in self.events]


class HostPort:
    """A bare pyserial port speaking frames, to drive the simulator by hand."""

    def __init__(self, path: str) -> None:
        self.port = serial.Serial(path, 115200, timeout=0.05)
        self.decoder = FrameDecoder()

    def send(self, data: Message | bytes) -> None:
        self.port.write(data if isinstance(data, bytes) else encode_frame(data))

    def receive(self, timeout: float = 2.0) -> Message | BadFrame:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            items = self.decoder.feed(self.port.read(1))
            if items:
                assert len(items) == 1, items
                return items[0]
        raise TimeoutError("no frame from the device")

    def exchange(self, data: Message | bytes) -> Message | BadFrame:
        self.send(data)
        return self.receive()

    def close(self) -> None:
        self.port.close()
