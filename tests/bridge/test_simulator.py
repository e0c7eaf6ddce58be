"""The device simulator speaks the protocol like the firmware, over a real pty."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import serial
from .bridge_helpers import HostPort, wait_until

from firmware_bridge.protocol import (
    Ack,
    BadFrame,
    ErrorCode,
    Hello,
    Nack,
    Ping,
    Play,
    Stop,
    crc16,
    cobs_encode,
    encode_payload,
)
from firmware_bridge.simulator import DeviceSimulator


def test_link_points_at_a_pty(sim):
    assert sim.link_path.is_symlink()
    assert os.readlink(sim.link_path).startswith("/dev/pts/")


def test_answers_hello_ping_play_stop(sim, host):
    assert host.exchange(Hello(name="test-host", seq=9)) == Hello(version=1, name="facelink-sim", seq=9)
    assert host.exchange(Ping(seq=10)) == Ack(seq=10)
    assert host.exchange(Play(pattern=0b1101, repeat=2, intensity=120, seq=11)) == Ack(seq=11)
    assert sim.motor.pattern == 0b1101 and sim.motor.intensity == 120
    assert host.exchange(Stop(seq=12)) == Ack(seq=12)
    assert sim.motor.pattern == 0


def test_logs_one_json_line_per_frame(sim, host):
    host.exchange(Hello(seq=1))
    host.exchange(Play(pattern=0xF0F0_F0F0, repeat=1, intensity=200, seq=2))
    lines = [json.loads(line) for line in sim.log_path.read_text().splitlines()]
    assert [line["type"] for line in lines] == ["HELLO", "PLAY"]
    play = lines[1]
    assert {k: play[k] for k in ("seq", "pattern", "repeat", "intensity", "reply")} == {
        "seq": 2,
        "pattern": 0xF0F0_F0F0,
        "repeat": 1,
        "intensity": 200,
        "reply": "ACK",
    }
    assert isinstance(play["time"], float) and isinstance(play["monotonic"], float)


def test_refuses_what_it_cannot_use(sim, host):
    assert host.exchange(encode_payload(0x42, 20, b"future")) == Nack(error=ErrorCode.UNSUPPORTED, seq=20)
    assert host.exchange(encode_payload(Play.TYPE, 21, b"\x01")) == Nack(error=ErrorCode.MALFORMED, seq=21)
    zero_repeat = encode_payload(Play.TYPE, 22, b"\x01\x00\x00\x00\x00\xc8")
    assert host.exchange(zero_repeat) == Nack(error=ErrorCode.BAD_VALUE, seq=22)
    payload = bytes([Ping.TYPE, 23])
    bad_crc = cobs_encode(payload + (crc16(payload) ^ 1).to_bytes(2, "big")) + b"\x00"
    assert host.exchange(bad_crc) == Nack(error=ErrorCode.BAD_CRC, seq=23)
    assert host.exchange(Hello(version=0, seq=24)) == Nack(error=ErrorCode.VERSION, seq=24)
    # Still fine afterwards.
    assert host.exchange(Ping(seq=25)) == Ack(seq=25)
    assert [r["error"] for r in sim.commands("BAD_FRAME")] == ["malformed", "bad_value", "bad_crc"]


def test_retransmission_is_acked_but_not_played_twice(sim, host):
    play = Play(pattern=0b11, seq=30)
    assert host.exchange(play) == Ack(seq=30)
    assert host.exchange(play) == Ack(seq=30)
    plays = sim.commands("PLAY")
    assert [p.get("duplicate", False) for p in plays] == [False, True]


def test_fault_injection(sim, host):
    sim.nack_next(2, ErrorCode.BUSY)
    assert host.exchange(Ping(seq=1)) == Nack(error=ErrorCode.BUSY, seq=1)
    assert host.exchange(Ping(seq=1)) == Nack(error=ErrorCode.BUSY, seq=1)
    assert host.exchange(Ping(seq=1)) == Ack(seq=1)
    sim.drop_next(1)
    host.send(Ping(seq=2))
    with pytest.raises(TimeoutError):
        host.receive(timeout=0.2)
    assert host.exchange(Ping(seq=2)) == Ack(seq=2)
    assert [r.get("fault") for r in sim.commands("PING")] == ["nacked", "nacked", None, "dropped", None]


def test_unplug_and_replug(sim, host):
    sim.unplug()
    assert not sim.link_path.exists()
    with pytest.raises(serial.SerialException):
        wait_until(lambda: host.port.read(1) or None, timeout=1.0)
    sim.replug()
    again = HostPort(str(sim.link_path))
    try:
        assert again.exchange(Ping(seq=3)) == Ack(seq=3)
    finally:
        again.close()


def test_garbage_from_the_host_is_survived(sim, host):
    host.send(os.urandom(3000) + b"\x00")
    wait_until(lambda: any(r["type"] == "BAD_FRAME" for r in sim.commands()), what="a bad frame logged")
    # Drain whatever NACKs the garbage produced, then talk normally.
    while True:
        try:
            item = host.receive(timeout=0.2)
        except TimeoutError:
            break
        assert isinstance(item, (Nack, BadFrame))
    assert host.exchange(Ping(seq=4)) == Ack(seq=4)


def _wait_for_link(path: Path, process: subprocess.Popen, present: bool = True) -> None:
    wait_until(
        lambda: path.is_symlink() == present or process.poll() is not None,
        timeout=10,
        what=f"{path} to {'appear' if present else 'go'}",
    )
    assert process.poll() is None, process.stderr.read()


def test_command_line_simulator(tmp_path):
    link, log_file = tmp_path / "dev", tmp_path / "dev.jsonl"
    process = subprocess.Popen(
        [sys.executable, "-m", "firmware_bridge.simulator", "--link", str(link), "--log", str(log_file)],
        stderr=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).parents[2],
    )
    try:
        _wait_for_link(link, process)
        host = HostPort(str(link))
        assert host.exchange(Play(pattern=0xAA, seq=5)) == Ack(seq=5)
        host.close()
        record = json.loads(log_file.read_text().splitlines()[-1])
        assert (record["type"], record["pattern"]) == ("PLAY", 0xAA)

        process.send_signal(signal.SIGUSR1)  # unplug
        _wait_for_link(link, process, present=False)
        process.send_signal(signal.SIGUSR2)  # replug
        _wait_for_link(link, process)
        host = HostPort(str(link))
        assert host.exchange(Ping(seq=6)) == Ack(seq=6)
        host.close()
    finally:
        process.terminate()
        assert process.wait(timeout=10) == 0
    assert not link.exists()
