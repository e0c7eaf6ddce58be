"""SerialLink against the simulated wearable over a real pseudo-terminal."""

from __future__ import annotations

import os
import random
import threading
import time

import pytest
from .bridge_helpers import FAST_LINK, StateRecorder, wait_until
from serial.tools.list_ports_common import ListPortInfo

from firmware_bridge.link import SerialLink, rank_ports
from firmware_bridge.protocol import ErrorCode, Hello, Play, Stop, Unknown, encode_frame, encode_payload
from firmware_bridge.simulator import DeviceSimulator


def test_connects_after_the_devices_hello(event_hub, device_states, sim, link):
    assert link.state == "connected"
    assert link.device.name == "facelink-sim" and link.device.version == 1
    assert device_states.states() == ["connecting", "connected"]
    assert device_states.events[-1].port == str(sim.link_path)
    hellos = sim.commands("HELLO")
    assert hellos and hellos[0]["name"] == "facelink-hub"


def test_play_is_acknowledged(sim, link):
    result = link.request(Play(pattern=0b1011, repeat=2, intensity=180))
    assert (result.ok, result.status, result.attempts) == (True, "acked", 1)
    assert 0 < result.rtt_s < 0.1
    (play,) = sim.commands("PLAY")
    assert (play["pattern"], play["repeat"], play["intensity"], play["reply"]) == (0b1011, 2, 180, "ACK")
    assert link.request(Stop()).ok


def test_each_command_gets_a_new_sequence_number(sim, link):
    for _ in range(300):  # wraps around 255
        assert link.ping().ok
    seqs = [r["seq"] for r in sim.commands("PING")]
    assert all(a != b for a, b in zip(seqs, seqs[1:]))
    assert not any(r.get("duplicate") for r in sim.commands())


def test_transient_nack_is_retried(sim, link):
    sim.nack_next(2, ErrorCode.BUSY)
    result = link.request(Play(pattern=0b1))
    assert (result.ok, result.attempts) == (True, 3)
    plays = sim.commands("PLAY")
    assert len({p["seq"] for p in plays}) == 1  # the same frame, sent again
    assert [p["reply"] for p in plays] == ["NACK busy", "NACK busy", "ACK"]


def test_retries_on_nack_are_bounded(sim, link):
    sim.nack_next(100, ErrorCode.BUSY)
    result = link.request(Play(pattern=0b1))
    assert (result.ok, result.status, result.error) == (False, "nacked", ErrorCode.BUSY)
    assert result.attempts == FAST_LINK["retries"] + 1
    assert "busy" in result.detail
    assert len(sim.commands("PLAY")) == FAST_LINK["retries"] + 1
    assert link.connected  # the device answered: the link itself is fine


def test_permanent_nack_is_not_retried(sim, link):
    result = link.request(Unknown(code=0x55, data=b"from the future"))
    assert (result.ok, result.status, result.attempts, result.error) == (False, "nacked", 1, ErrorCode.UNSUPPORTED)
    assert link.ping().ok


def test_lost_frame_is_sent_again(sim, link):
    sim.drop_next(1)
    result = link.request(Play(pattern=0b111))
    assert (result.ok, result.attempts) == (True, 2)
    assert [p.get("fault") for p in sim.commands("PLAY")] == ["dropped", None]


def test_silent_device_costs_bounded_time_then_reconnects(event_hub, device_states, sim, link):
    sim.set_silent()
    started = time.monotonic()
    result = link.request(Play(pattern=0b1))
    elapsed = time.monotonic() - started
    assert (result.ok, result.status, result.attempts) == (False, "timeout", FAST_LINK["retries"] + 1)
    assert elapsed < (FAST_LINK["retries"] + 1) * FAST_LINK["ack_timeout"] + 0.5
    # A device that ignores everything is dropped and asked for HELLO again.
    wait_until(lambda: "error" in device_states.states(), what="handshake to fail")
    assert not link.connected
    assert link.request(Play(pattern=0b1)).status == "not_connected"
    sim.set_silent(False)
    assert link.wait_connected(5)
    assert link.request(Play(pattern=0b1)).ok


def test_unplug_then_replug_reconnects_and_plays_again(event_hub, device_states, sim, link):
    assert link.request(Play(pattern=0b1)).ok
    sim.unplug()
    wait_until(lambda: not link.connected, what="the link to notice the unplug")
    result = link.request(Play(pattern=0b10))
    assert (result.ok, result.status) == (False, "not_connected")
    assert "not connected" in result.detail
    sim.replug()
    replugged = time.monotonic()
    assert link.wait_connected(5)
    reconnect_s = time.monotonic() - replugged
    assert reconnect_s < FAST_LINK["backoff_max"] + 0.5
    assert link.request(Play(pattern=0b100)).ok
    assert [p["pattern"] for p in sim.commands("PLAY")] == [0b1, 0b100]
    states = device_states.states()
    assert states[:2] == ["connecting", "connected"]
    assert "disconnected" in states[2:] and states[-1] == "connected"


def test_repeated_unplugs(sim, link):
    for round_ in range(5):
        sim.unplug()
        wait_until(lambda: not link.connected, what="unplug noticed")
        sim.replug()
        assert link.wait_connected(5), round_
        assert link.request(Play(pattern=round_ + 1)).ok


def test_garbage_from_the_device_does_not_break_commands(sim, link):
    rng = random.Random(3)
    for i in range(30):
        garbage = rng.randbytes(rng.randrange(1, 200))
        sim.send_raw(garbage if i % 2 else garbage + b"\x00")
        result = link.request(Play(pattern=i + 1))
        assert result.ok, result
    assert link.connected
    executed = [p["pattern"] for p in sim.commands("PLAY") if not p.get("duplicate")]
    assert executed == list(range(1, 31))


def test_unknown_messages_from_the_device_are_refused_politely(sim, link):
    sim.send_raw(encode_payload(0x60, 99, b"button pressed"))
    nack = sim.wait_for_count("NACK", 1)[0]
    assert (nack["seq"], nack["error"]) == (99, "unsupported")
    sim.send_raw(encode_frame(Hello(name="rebooted", seq=0)))  # the device restarted
    assert link.ping().ok and link.connected


def test_not_connected_says_so_clearly(event_hub, tmp_path):
    missing = tmp_path / "no-such-port"
    with SerialLink(event_hub, str(missing), **FAST_LINK) as link:
        wait_until(lambda: "cannot open" in link.detail, what="a failed open")
        result = link.request(Play(pattern=1))
        assert (result.ok, result.status) == (False, "not_connected")
        assert "not connected" in result.detail and "no-such-port" in result.detail


def test_a_port_without_a_wearable_is_an_error_and_stop_is_prompt(event_hub, device_states, tmp_path):
    # A pty nobody answers on: opens fine, never says HELLO.
    master, slave = os.openpty()
    link = SerialLink(event_hub, os.ttyname(slave), **FAST_LINK).start()
    try:
        wait_until(lambda: link.state == "error", what="handshake timeout")
        assert "no HELLO" in link.detail
    finally:
        started = time.monotonic()
        link.stop()
        assert time.monotonic() - started < 1.0
        os.close(master)
        os.close(slave)
    assert device_states.events[-1].state == "disconnected"


def test_old_protocol_version_is_refused(event_hub, tmp_path):
    with DeviceSimulator(tmp_path / "old", version=0) as old:
        with SerialLink(event_hub, str(old.link_path), **FAST_LINK) as link:
            wait_until(lambda: link.state == "error", what="version check")
            assert "version 0" in link.detail


def test_concurrent_callers_are_serialised(sim, link):
    results = []

    def worker(base):
        for i in range(20):
            results.append(link.request(Play(pattern=base + i)).ok)

    threads = [threading.Thread(target=worker, args=(n * 100 + 1,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert results == [True] * 80
    assert len(sim.commands("PLAY")) == 80


def _port(device, vid=None, pid=None, description="n/a", product=None):
    info = ListPortInfo(device, skip_link_detection=True)
    info.vid, info.pid, info.description, info.product = vid, pid, description, product
    return info


def test_rank_ports_prefers_the_wearable_then_known_boards():
    ports = [
        _port("/dev/ttyS0"),
        _port("/dev/ttyACM1", 0x1234, 0x0001, "USB Modem"),
        _port("/dev/ttyUSB0", 0x1A86, 0x7523, "USB Serial"),
        _port("/dev/ttyACM0", 0x2341, 0x0043, "Arduino Uno"),
        _port("/dev/ttyACM2", 0x239A, 0x8029, "Feather", product="FaceLink Wearable"),
        _port("/dev/ttyUSB1", 0x1A86, 0x9999, "Seeed XIAO"),
    ]
    assert rank_ports(ports) == ["/dev/ttyACM2", "/dev/ttyACM0", "/dev/ttyUSB0", "/dev/ttyUSB1"]
    assert rank_ports([_port("/dev/ttyS0"), _port("/dev/ttyACM1", 0x1234, 1, "USB Modem")]) == []


def test_auto_detect_tries_candidates_until_one_answers(event_hub, sim, tmp_path):
    master, slave = os.openpty()  # a board that is not ours: never answers HELLO
    ports = [
        _port(os.ttyname(slave), 0x2341, 0x0043, "Arduino Uno"),
        _port(str(sim.link_path), 0x239A, 0x8029, "Feather"),
    ]
    try:
        with SerialLink(event_hub, None, list_ports=lambda: ports, **FAST_LINK) as link:
            assert link.wait_connected(5)
            assert link.device.port == str(sim.link_path)
            assert link.request(Play(pattern=1)).ok
    finally:
        os.close(master)
        os.close(slave)


def test_no_candidate_port_is_reported(event_hub, device_states):
    with SerialLink(event_hub, None, list_ports=lambda: [_port("/dev/ttyS0")], **FAST_LINK) as link:
        wait_until(lambda: link.state == "disconnected" and "no wearable found" in link.detail, what="report")


@pytest.mark.parametrize("first", ["open", "plug"])
def test_link_started_before_the_device_appears(event_hub, tmp_path, first):
    sim = DeviceSimulator(tmp_path / "late")
    if first == "plug":
        sim.start()
    with SerialLink(event_hub, str(sim.link_path), **FAST_LINK) as link:
        if first == "open":
            wait_until(lambda: "cannot open" in link.detail, what="failed open")
            sim.start()
        assert link.wait_connected(5)
        assert link.request(Play(pattern=1)).ok
    sim.stop()
