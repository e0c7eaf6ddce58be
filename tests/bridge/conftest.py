"""Fixtures for the wearable bridge: a simulated device on a real pty, a link to it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from .bridge_helpers import FAST_LINK, HostPort, StateRecorder

from facelink_local.events import EventHub
from firmware_bridge.link import SerialLink
from firmware_bridge.simulator import DeviceSimulator


@pytest.fixture
def event_hub() -> EventHub:
    return EventHub()


@pytest.fixture
def device_states(event_hub: EventHub) -> StateRecorder:
    return StateRecorder(event_hub)


@pytest.fixture
def sim(tmp_path) -> Iterator[DeviceSimulator]:
    simulator = DeviceSimulator(tmp_path / "wearable", tmp_path / "wearable.jsonl")
    simulator.start()
    yield simulator
    simulator.stop()


@pytest.fixture
def link(sim: DeviceSimulator, event_hub: EventHub) -> Iterator[SerialLink]:
    serial_link = SerialLink(event_hub, str(sim.link_path), **FAST_LINK)
    serial_link.start()
    assert serial_link.wait_connected(5), serial_link.detail
    yield serial_link
    serial_link.stop()


@pytest.fixture
def host(sim: DeviceSimulator) -> Iterator[HostPort]:
    port = HostPort(str(sim.link_path))
    yield port
    port.close()
