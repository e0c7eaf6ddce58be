"""HapticBridge: contacts seen on the event hub become PLAY commands on the simulated wearable."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from .bridge_helpers import FAST_LINK, wait_until

from facelink_local.events import ContactSeen, EventHub, FacesArrived
from firmware_bridge.haptics import HapticBridge
from firmware_bridge.protocol import pattern_duration_s
from firmware_bridge.simulator import DeviceSimulator

SENTINEL = 0b1_0000_0001  # a contact played last, to know earlier events were handled


@pytest.fixture
def make_bridge(event_hub: EventHub, sim: DeviceSimulator) -> Iterator:
    bridges = []

    def make(**options) -> HapticBridge:
        options = {"port": str(sim.link_path), "gap_s": 0.02, "link_options": FAST_LINK, **options}
        bridge = HapticBridge(event_hub, **options).start()
        bridges.append(bridge)
        if options["port"] == str(sim.link_path):
            assert bridge.link.wait_connected(5), bridge.detail
        return bridge

    yield make
    for bridge in bridges:
        bridge.stop()


def seen(hub: EventHub, cid: int, pattern: int, distance: float = 0.3, user: int = 1) -> None:
    hub.publish(ContactSeen(user, cid, f"contact {cid}", pattern, distance))


def played(sim: DeviceSimulator) -> list[int]:
    return [r["pattern"] for r in sim.commands("PLAY") if not r.get("duplicate")]


def settle(hub: EventHub, sim: DeviceSimulator, user: int = 1) -> list[int]:
    """Publish a sentinel contact, wait until it plays, return all patterns played."""
    seen(hub, 999, SENTINEL, distance=0.49, user=user)
    hub.publish(FacesArrived(user, 1, 0, 1))
    sim.wait_for(lambda rs: any(r.get("pattern") == SENTINEL for r in rs), timeout=5)
    return played(sim)


def test_plays_the_contacts_pattern_with_device_settings(event_hub, sim, make_bridge):
    bridge = make_bridge(repeat=2, intensity=150)
    assert bridge.state == "connected"
    seen(event_hub, 7, 0b1011)
    (play,) = sim.wait_for_count("PLAY", 1)
    assert (play["pattern"], play["repeat"], play["intensity"]) == (0b1011, 2, 150)


def test_cooldown_holds(event_hub, sim, make_bridge):
    bridge = make_bridge(cooldown_s=30.0)
    for _ in range(3):
        seen(event_hub, 7, 0b11)
    sim.wait_for_count("PLAY", 1)
    seen(event_hub, 7, 0b11)
    assert settle(event_hub, sim) == [0b11, SENTINEL]
    assert bridge.suppressed == 3


def test_cooldown_is_per_user_and_contact(event_hub, sim, make_bridge):
    make_bridge(cooldown_s=30.0)
    seen(event_hub, 7, 0b11, user=1)
    seen(event_hub, 7, 0b101, user=2)
    seen(event_hub, 8, 0b1001, user=1)
    event_hub.publish(FacesArrived(1, 2, 0, 2))
    event_hub.publish(FacesArrived(2, 1, 0, 1))
    sim.wait_for_count("PLAY", 3)
    assert sorted(played(sim)) == [0b11, 0b101, 0b1001]


def test_cooldown_expires(event_hub, sim, make_bridge):
    make_bridge(cooldown_s=0.2)
    first = time.monotonic()
    seen(event_hub, 7, 0b11)
    sim.wait_for_count("PLAY", 1)
    wait_until(lambda: time.monotonic() - first > 0.25, what="the cooldown to pass")
    seen(event_hub, 7, 0b11)
    sim.wait_for_count("PLAY", 2)
    assert played(sim) == [0b11, 0b11]


def test_silent_pattern_plays_nothing(event_hub, sim, make_bridge):
    bridge = make_bridge()
    seen(event_hub, 7, 0)
    assert settle(event_hub, sim) == [SENTINEL]
    result = bridge.test_pattern(0)
    assert (result.ok, result.status) == (True, "silent")
    assert played(sim) == [SENTINEL]


def test_several_contacts_play_closest_first_without_overlap(event_hub, sim, make_bridge):
    bridge = make_bridge(gap_s=0.05)
    for cid, pattern, distance in [(1, 0b1, 0.42), (2, 0b11, 0.12), (3, 0b111, 0.31)]:
        seen(event_hub, cid, pattern, distance)
    event_hub.publish(FacesArrived(1, 3, 0, 3))
    plays = sim.wait_for_count("PLAY", 3)
    assert [p["pattern"] for p in plays] == [0b11, 0b111, 0b1]
    assert not any(p["preempted"] for p in plays)
    for before, after in zip(plays, plays[1:]):
        spacing = after["monotonic"] - before["monotonic"]
        assert spacing >= pattern_duration_s(before["pattern"]) + bridge.gap_s - 0.005


def test_contacts_arriving_within_the_window_are_ordered_too(event_hub, sim, make_bridge):
    make_bridge(batch_window_s=0.15)
    seen(event_hub, 1, 0b1, 0.45)
    seen(event_hub, 2, 0b11, 0.05)  # no FacesArrived: the window closes the batch
    plays = sim.wait_for_count("PLAY", 2)
    assert [p["pattern"] for p in plays] == [0b11, 0b1]


def test_upload_batch_closes_at_faces_arrived_not_the_window(event_hub, sim, make_bridge):
    make_bridge(batch_window_s=3.0)
    started = time.monotonic()
    seen(event_hub, 1, 0b1)
    event_hub.publish(FacesArrived(1, 1, 0, 1))
    sim.wait_for_count("PLAY", 1)
    assert time.monotonic() - started < 1.0


def test_a_crowd_is_trimmed_to_the_closest(event_hub, sim, make_bridge):
    bridge = make_bridge(max_queue=3)
    for cid in range(1, 11):
        seen(event_hub, cid, cid, distance=1.0 - cid / 20)  # contact 10 is the closest
    event_hub.publish(FacesArrived(1, 10, 0, 10))
    sim.wait_for_count("PLAY", 3)
    assert settle(event_hub, sim) == [10, 9, 8, SENTINEL]
    assert bridge.dropped == 7


def test_queue_drops_the_oldest_when_full(event_hub, sim, make_bridge):
    bridge = make_bridge(max_queue=2)
    seen(event_hub, 1, 1 << 31)  # keeps the motor busy for 1.6 s, time enough to queue four more
    event_hub.publish(FacesArrived(1, 1, 0, 1))
    sim.wait_for_count("PLAY", 1)
    for uploads, cid in enumerate((2, 3, 4, 5), start=1):  # four uploads while it plays
        seen(event_hub, cid, cid)
        event_hub.publish(FacesArrived(1, 1, 0, 1))
        wait_until(lambda: bridge.queue_length + bridge.dropped == uploads, what="the upload queued")
    assert bridge.dropped == 2
    plays = sim.wait_for_count("PLAY", 3, timeout=5)
    assert [p["pattern"] for p in plays] == [1 << 31, 4, 5]
    assert plays[1]["monotonic"] - plays[0]["monotonic"] >= pattern_duration_s(1 << 31)


def test_publishing_never_waits_for_the_wearable(event_hub, sim, make_bridge):
    make_bridge(cooldown_s=0.0)
    sim.set_silent()  # every command now times out
    started = time.monotonic()
    for cid in range(500):
        seen(event_hub, cid, 0b1)
    assert time.monotonic() - started < 0.5


def test_test_pattern_when_connected_and_not(event_hub, sim, make_bridge):
    bridge = make_bridge(intensity=90)
    result = bridge.test_pattern(0xF0F0)
    assert (result.ok, result.status) == (True, "acked")
    assert sim.commands("PLAY")[-1]["intensity"] == 90
    sim.unplug()
    wait_until(lambda: bridge.state != "connected", what="unplug noticed")
    result = bridge.test_pattern(0xF0F0)
    assert (result.ok, result.status) == (False, "not_connected")
    assert result.detail.startswith("wearable not connected")
    with pytest.raises(ValueError):
        bridge.test_pattern(1 << 32)


def test_contacts_seen_while_unplugged_are_dropped_then_play_after_replug(event_hub, sim, make_bridge):
    bridge = make_bridge()
    seen(event_hub, 1, 0b1)
    wait_until(lambda: bridge.played == 1, what="the first contact acknowledged")
    sim.unplug()
    wait_until(lambda: bridge.state != "connected", what="unplug noticed")
    seen(event_hub, 2, 0b11)
    event_hub.publish(FacesArrived(1, 1, 0, 1))
    wait_until(lambda: bridge.dropped == 1, what="the cue dropped")
    sim.replug()
    assert bridge.link.wait_connected(5)
    seen(event_hub, 2, 0b11)  # not in cooldown: it never played
    event_hub.publish(FacesArrived(1, 1, 0, 1))
    sim.wait_for(lambda rs: any(r.get("pattern") == 0b11 for r in rs))
    assert played(sim) == [0b1, 0b11]


def test_stop_silences_the_motor_and_unsubscribes(event_hub, sim, make_bridge):
    bridge = make_bridge()
    seen(event_hub, 1, 1 << 31)  # 1.6 s
    sim.wait_for_count("PLAY", 1)
    bridge.stop()
    assert sim.commands()[-1]["type"] == "STOP"
    assert bridge.state == "disconnected"
    seen(event_hub, 2, 0b1)  # nobody listens any more
    assert played(sim) == [1 << 31]


def test_wearable_that_is_not_there(event_hub, tmp_path, make_bridge):
    bridge = make_bridge(port=str(tmp_path / "absent"))
    wait_until(lambda: "cannot open" in bridge.detail, what="a failed open")
    assert bridge.state == "disconnected"
    seen(event_hub, 1, 0b1)
    event_hub.publish(FacesArrived(1, 1, 0, 1))
    wait_until(lambda: bridge.dropped == 1, what="the cue dropped")
    assert not bridge.test_pattern(0b1).ok


def test_switching_ports(event_hub, sim, tmp_path, make_bridge):
    bridge = make_bridge()
    with DeviceSimulator(tmp_path / "other") as other:
        bridge.set_port(str(other.link_path))
        assert bridge.link.wait_connected(5)
        assert bridge.test_pattern(0b101).ok
        assert [r["pattern"] for r in other.commands("PLAY")] == [0b101]
    assert played(sim) == []


@pytest.mark.parametrize("bad", [dict(repeat=0), dict(intensity=256), dict(cooldown_s=-1), dict(max_queue=0)])
def test_bad_settings_are_refused(event_hub, bad):
    with pytest.raises(ValueError):
        HapticBridge(event_hub, **bad)
