"""The reference firmware itself: the sketch built for an Arduino Uno, run in the simavr emulator.

This is the whole device: the Arduino core's Serial, millis() and analogWrite, the sketch and
the portable C code, as they would be flashed. The emulator's UART is a pseudo-terminal, so the
hub's own SerialLink talks to it; its motor pin's duty is logged in emulated milliseconds.

Optional: needs the Arduino AVR core with arduino-cli or arduino-builder, and simavr (on Debian:
gcc-avr avr-libc arduino-core-avr arduino-builder simavr libsimavr-dev). Skipped, with the
reason, when one is missing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import serial

from facelink_local.events import EventHub
from firmware_bridge import vectors
from firmware_bridge.link import SerialLink
from firmware_bridge.protocol import PATTERN_SLOTS, SLOT_S, ErrorCode, Nack, Play, Stop, Unknown, encode_frame

pytestmark = pytest.mark.slow

HERE = Path(__file__).parent
DEBIAN_CORE = Path("/usr/share/arduino/hardware/arduino/avr")
SIMAVR_HEADER = Path("/usr/include/simavr/sim_avr.h")
BARRIER = Unknown(code=0x7E, data=b"", seq=0xEE)  # answered NACK unsupported; changes nothing on the device


def _build_sketch(out: Path) -> Path:
    sketch = vectors.SKETCH_DIR
    out.mkdir(parents=True, exist_ok=True)
    cli = shutil.which("arduino-cli")
    if cli and "arduino:avr" in subprocess.run([cli, "core", "list"], capture_output=True, text=True).stdout:
        command = [cli, "compile", "--fqbn", "arduino:avr:uno", "--output-dir", str(out), str(sketch)]
    elif shutil.which("arduino-builder") and DEBIAN_CORE.is_dir():
        # Debian's AVR core 1.8.7 with its gcc-avr 5.4 misses DECIMAL_DIG in WString.cpp.
        command = ["arduino-builder", "-compile", "-hardware", str(DEBIAN_CORE.parents[1]),
                   "-hardware", "/usr/share/arduino-builder", "-tools", "/usr/bin", "-fqbn", "arduino:avr:uno",
                   "-build-path", str(out), "-prefs=compiler.cpp.extra_flags=-DDECIMAL_DIG=9",
                   str(sketch / "facelink_wearable.ino")]
    else:
        pytest.skip("no Arduino AVR toolchain (arduino-cli with the arduino:avr core, or Debian's "
                    "arduino-builder and arduino-core-avr): the sketch cannot be built for an Uno")
    build = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    (elf,) = out.glob("*.ino.elf")
    return elf


@pytest.fixture(scope="module")
def emulator_binary(tmp_path_factory) -> tuple[Path, Path]:
    cc = shutil.which(os.environ.get("CC", "gcc")) or shutil.which("cc")
    if cc is None or not SIMAVR_HEADER.exists():
        pytest.skip("simavr's library and headers not installed (Debian: simavr libsimavr-dev)")
    out = tmp_path_factory.mktemp("avr")
    runner = out / "simavr_wearable"
    build = subprocess.run([cc, "-O2", "-Wall", "-Wextra", "-Werror", "-I", str(SIMAVR_HEADER.parent),
                            str(HERE / "simavr_wearable.c"), "-o", str(runner),
                            "-lsimavrparts", "-lsimavr", "-lpthread", "-lutil"], capture_output=True, text=True)
    assert build.returncode == 0, build.stderr
    return runner, _build_sketch(out / "build")


@pytest.fixture
def device(emulator_binary, tmp_path) -> Iterator[tuple[str, Path]]:
    """The emulated Uno running the firmware: its pty, and the motor's log."""
    runner, elf = emulator_binary
    motor_log = tmp_path / "motor.log"
    process = subprocess.Popen([str(runner), str(elf), str(motor_log)], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    try:
        said = []
        while not (said and said[-1].startswith("pty /dev/")):  # simavr talks first
            line = process.stdout.readline()
            assert line, f"the emulator stopped: {said}"
            said.append(line)
        pty = said[-1].split()[1]
        yield pty, motor_log
    finally:
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
        link = Path("/tmp/simavr-uart0")  # simavr's own link to the pty it made
        if link.is_symlink() and os.readlink(link) == pty:
            link.unlink()


def _read_until(port: serial.Serial, end: bytes, timeout: float = 10.0) -> bytes:
    data = bytearray()
    deadline = time.monotonic() + timeout
    while not data.endswith(end):
        if time.monotonic() > deadline:
            raise TimeoutError(f"the firmware sent {bytes(data).hex()} and then nothing")
        data += port.read(port.in_waiting or 1)
    return bytes(data)


def test_the_firmware_answers_the_shared_device_session_byte_for_byte(device):
    pty, _ = device
    session = vectors.device_vectors()
    barrier_reply = encode_frame(Nack(error=ErrorCode.UNSUPPORTED, seq=BARRIER.seq))
    with serial.Serial(pty, 115200, timeout=0.05) as port:
        # Whatever the firmware said at boot after the port was open (all, none, or the end of
        # its hello when the port opened midway), then a barrier to line up.
        port.write(b"\x00" + encode_frame(BARRIER))
        boot = _read_until(port, barrier_reply)[: -len(barrier_reply)]
        assert bytes.fromhex(session["boot"]).endswith(boot), boot.hex()
        for exchange in session["exchanges"]:
            host = bytes.fromhex(exchange["host"])
            if not host.endswith(b"\x00"):  # half a frame: a barrier would only complete it
                port.write(host)
                time.sleep(0.3)
                assert port.read(port.in_waiting).hex() == exchange["reply"], exchange["name"]
                continue
            port.write(host + encode_frame(BARRIER))
            answer = _read_until(port, barrier_reply)[: -len(barrier_reply)]
            assert answer.hex() == exchange["reply"], exchange["name"]


def _segments(motor_log: Path, since_ms: float) -> list[tuple[float, float, int]]:
    """(start, end, duty) of each stretch the motor was on, from the emulator's log."""
    events = [(float(t), int(d)) for t, d in (line.split() for line in motor_log.read_text().splitlines())]
    events = [e for e in events if e[0] >= since_ms]
    return [(t, events[i + 1][0], d) for i, (t, d) in enumerate(events[:-1]) if d > 0]


def _expected_segments(pattern: int, repeat: int) -> list[tuple[float, float]]:
    slots = [pattern >> (i % PATTERN_SLOTS) & 1 for i in range(repeat * PATTERN_SLOTS)]
    out, start = [], None
    for i, on in enumerate(slots + [0]):
        if on and start is None:
            start = i
        elif not on and start is not None:
            out.append((start * SLOT_S * 1000, i * SLOT_S * 1000))
            start = None
    return out


def test_the_hubs_link_drives_the_firmware_and_the_motor_follows_the_pattern(device):
    pty, motor_log = device
    pattern, repeat, intensity = 0x8000_00B5, 2, 180  # slots 0, 2, 4-5, 7 and 31 (31 runs into 0)
    with SerialLink(EventHub(), pty) as link:
        assert link.wait_connected(20), link.detail
        assert (link.device.name, link.device.version) == (vectors.DEVICE_NAME, 1)
        assert link.ping().ok
        result = link.request(Unknown(code=0x42, data=b"future"))
        assert (result.status, result.error) == ("nacked", ErrorCode.UNSUPPORTED)
        assert link.request(Play(pattern=pattern, repeat=repeat, intensity=intensity)).ok
        expected = _expected_segments(pattern, repeat)
        deadline = time.monotonic() + 60

        def played() -> list[tuple[float, float, int]]:
            return _segments(motor_log, 0.0)

        while len(played()) < len(expected):
            assert time.monotonic() < deadline, played()
            time.sleep(0.05)
        assert link.request(Stop()).ok
    segments = played()
    origin = segments[0][0]
    # millis() on a 16 MHz Uno ticks in steps of 1.024 ms: allow 2 ms either way.
    measured = [edge - origin for start, end, _ in segments for edge in (start, end)]
    assert measured == pytest.approx([edge for pair in expected for edge in pair], abs=2)
    assert {d for _, _, d in segments} == {intensity}
