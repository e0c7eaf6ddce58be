"""The firmware's C protocol code, compiled with the host's C compiler, against the Python side.

The shared vectors (firmware_bridge/firmware/test_vectors.json) are made by the
Python encoder and the simulator; the C code must decode, encode and answer
them byte for byte. A small C harness (firmware_harness.c) runs the checks in
one process, built with -Werror and, where the compiler has them, the address
and undefined-behaviour sanitizers.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from firmware_bridge import vectors
from firmware_bridge.protocol import (
    PATTERN_SLOTS,
    PROTOCOL_VERSION,
    Ack,
    ErrorCode,
    FrameDecoder,
    Hello,
    MsgType,
    Nack,
    Ping,
    Play,
    Stop,
    Unknown,
    decode_frame,
    encode_frame,
)

HERE = Path(__file__).parent
SKETCH = vectors.SKETCH_DIR
SOURCES = [SKETCH / "fl_protocol.c", SKETCH / "fl_device.c"]
HEADERS = [SKETCH / "fl_protocol.h", SKETCH / "fl_device.h"]
WARNINGS = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-Wpedantic", "-Wconversion", "-Wshadow",
            "-Wcast-qual", "-Wstrict-prototypes", "-Wmissing-prototypes"]
SANITIZERS = ["-fsanitize=address,undefined", "-fno-sanitize-recover=all"]
SLOT_MS = 50


def _compiler() -> str:
    for name in (os.environ.get("CC"), "gcc", "cc", "clang"):
        if name and shutil.which(name):
            return shutil.which(name)
    pytest.skip("no C compiler found (install gcc: scripts/system-deps.sh does, as root); "
                "the firmware's C code cannot be checked against the Python encoder")


@dataclass
class Harness:
    path: Path
    sanitized: bool

    def ask(self, commands: list[str]) -> list[str]:
        """One answer per command; the harness must exit cleanly (sanitizers abort it otherwise)."""
        text = "".join(c + "\n" for c in commands)
        env = {**os.environ, "ASAN_OPTIONS": "abort_on_error=0:detect_leaks=1", "UBSAN_OPTIONS": "print_stacktrace=1"}
        run = subprocess.run([str(self.path)], input=text, capture_output=True, text=True, env=env, timeout=60)
        assert run.returncode == 0, run.stderr[-4000:]
        answers = run.stdout.splitlines()
        assert len(answers) == len(commands), (len(answers), len(commands), run.stderr[-2000:])
        return answers


@pytest.fixture(scope="module")
def harness(tmp_path_factory) -> Harness:
    cc = _compiler()
    out = tmp_path_factory.mktemp("firmware") / "harness"
    base = [cc, *WARNINGS, "-Wno-missing-prototypes", "-O1", "-g", "-I", str(SKETCH),
            str(HERE / "firmware_harness.c"), *map(str, SOURCES), "-o", str(out)]
    sanitized = subprocess.run(base[:1] + SANITIZERS + base[1:], capture_output=True, text=True)
    if sanitized.returncode == 0 and subprocess.run([str(out)], input="crc -\n", capture_output=True, text=True).returncode == 0:
        return Harness(out, sanitized=True)
    plain = subprocess.run(base, capture_output=True, text=True)  # no sanitizer runtime here
    assert plain.returncode == 0, plain.stderr
    return Harness(out, sanitized=False)


@pytest.fixture(scope="module")
def shared() -> dict:
    return json.loads(vectors.VECTORS_PATH.read_text(encoding="utf-8"))


# --- what the harness prints, computed from the Python side -----------------------


def _hex(data: bytes | str) -> str:
    text = data.hex() if isinstance(data, bytes) else data
    return text or "-"


def message_line(f: dict) -> str:
    line = f"msg type={f['type']} seq={f['seq']}"
    kind = f["kind"]
    if kind == "HELLO":
        line += f" version={f['version']} name={_hex(f['name'].encode())}"
    elif kind == "NACK":
        line += f" error={f['error']}"
    elif kind == "PLAY":
        line += f" pattern={f['pattern']} repeat={f['repeat']} intensity={f['intensity']}"
    elif kind == "UNKNOWN":
        line += f" body={_hex(f['body'])}"
    return line


def result_line(r: dict) -> str:
    if "kind" in r:
        return message_line(r)
    return f"bad={r['error']} seq={'-' if r['seq'] is None else r['seq']}"


def feed_line(results: list[dict]) -> str:
    return "; ".join(result_line(r) for r in results) or "-"


def encode_command(f: dict) -> str:
    kind, head = f["kind"], f"encode {f['type']} {f['seq']}"
    if kind == "HELLO":
        return f"{head} {f['version']} {_hex(f['name'].encode())}"
    if kind == "NACK":
        return f"{head} {f['error']}"
    if kind == "PLAY":
        return f"{head} {f['pattern']} {f['repeat']} {f['intensity']}"
    if kind == "UNKNOWN":
        return f"{head} {_hex(f['body'])}"
    return head


# --- the vectors themselves -------------------------------------------------------


def test_checked_in_vectors_match_the_python_encoder():
    assert vectors.VECTORS_PATH.read_text(encoding="utf-8") == vectors.render(vectors.build()), (
        "firmware_bridge/firmware/test_vectors.json no longer matches the Python encoder: "
        "run `python -m firmware_bridge.vectors`, then make the firmware pass this test file again"
    )


def test_vectors_cover_every_message_type_and_error_code(shared):
    kinds = {m["fields"]["kind"] for m in shared["messages"]}
    assert kinds == {t.name for t in MsgType} | {"UNKNOWN"}
    errors = {m["fields"]["error"] for m in shared["messages"] if m["fields"]["kind"] == "NACK"}
    assert errors == {int(e) for e in ErrorCode}
    assert {b["error"] for b in shared["bad_frames"]} == {ErrorCode.BAD_CRC, ErrorCode.MALFORMED, ErrorCode.BAD_VALUE}


# --- C against the vectors ------------------------------------------------------------


def test_crc16_and_cobs(harness, shared):
    crcs = shared["crc16"]
    cobs = shared["cobs"]
    answers = harness.ask([f"crc {_hex(v['data'])}" for v in crcs]
                          + [f"cobs_encode {_hex(v['raw'])}" for v in cobs]
                          + [f"cobs_decode {_hex(v['encoded'])}" for v in cobs])
    assert answers[: len(crcs)] == [f"crc={v['crc']:04x}" for v in crcs]
    assert answers[len(crcs) : len(crcs) + len(cobs)] == [_hex(v["encoded"]) for v in cobs]
    assert answers[len(crcs) + len(cobs) :] == [_hex(v["raw"]) for v in cobs]
    assert "crc=29b1" in answers  # the CRC-16/CCITT-FALSE check value of "123456789"


def test_c_decodes_every_python_frame_to_the_same_fields(harness, shared):
    frames = shared["messages"] + shared["appended_fields"]
    commands = []
    for v in frames:
        commands += [f"decode {v['wire'][:-2]}", "reset", f"feed {v['wire']}"]
    answers = harness.ask(commands)
    for i, v in enumerate(frames):
        expected = message_line(v["fields"])
        assert answers[3 * i] == expected, v["name"]
        assert answers[3 * i + 2] == expected, v["name"]


def test_c_encodes_byte_identical_to_python(harness, shared):
    answers = harness.ask([encode_command(v["fields"]) for v in shared["messages"]])
    assert answers == [v["wire"] for v in shared["messages"]]


def test_c_encoder_refuses_what_python_refuses(harness):
    answers = harness.ask([
        f"encode {Play.TYPE} 1 5 0 200",  # repeat 0
        f"encode {Hello.TYPE} 1 1 {'61' * 33}",  # a name of 33 bytes
        f"payload 66 1 {'01' * 61}",  # a body of 61 bytes
        f"payload 66 1 {'01' * 60}",
    ])
    assert answers[:3] == ["err", "err", "err"]
    assert bytes.fromhex(answers[3]) == encode_frame(Unknown(code=66, data=b"\x01" * 60, seq=1))


def test_c_refuses_bad_frames_like_python(harness, shared):
    commands = []
    for v in shared["bad_frames"]:
        commands += [f"decode {v['encoded']}", "reset", f"feed {v['encoded']}00"]
    answers = harness.ask(commands)
    for i, v in enumerate(shared["bad_frames"]):
        expected = result_line(v)
        assert answers[3 * i] == expected, v["name"]
        assert answers[3 * i + 2] == expected, v["name"]


def test_c_decoder_reassembles_streams_cut_anywhere(harness, shared):
    commands, expected = [], []
    for stream in shared["streams"]:
        data = stream["bytes"]
        whole = feed_line(stream["results"])
        commands += ["reset", f"feed {_hex(data)}"]
        expected += ["ok", whole]
        for cut in range(0, len(data) // 2 + 1, 3):  # every third split offset
            commands += ["reset", f"feed {_hex(data[: 2 * cut])}", f"feed {_hex(data[2 * cut :])}"]
            expected += ["ok", "*", "*"]
    answers = harness.ask(commands)
    for i, (want, got) in enumerate(zip(expected, answers)):
        if want != "*":
            assert got == want, commands[i][:80]
    # A split stream gives the same frames as the whole one.
    index = 0
    for stream in shared["streams"]:
        index += 2
        whole = feed_line(stream["results"])
        for _ in range(0, len(stream["bytes"]) // 2 + 1, 3):
            parts = [p for p in answers[index + 1 : index + 3] if p != "-"]
            assert ("; ".join(parts) or "-") == whole, stream["name"]
            index += 3


def test_c_device_answers_like_the_simulator(harness, shared):
    device = shared["device"]
    exchanges = device["exchanges"]
    commands = [f"device_init {device['name'].encode().hex()}"]
    for i, exchange in enumerate(exchanges):
        commands += [f"device {1000 + 10 * i} {exchange['host']}", "state"]
    answers = harness.ask(commands)
    assert answers[0] == device["boot"]
    for i, exchange in enumerate(exchanges):
        reply, state = answers[1 + 2 * i : 3 + 2 * i]
        assert reply == _hex(exchange["reply"]), exchange["name"]
        motor = exchange["motor"]
        assert state == f"pattern={motor['pattern']} repeat={motor['repeat']} intensity={motor['intensity']}", exchange["name"]


# --- random frames, both directions -------------------------------------------------


def _random_message(rng: random.Random):
    seq = rng.randrange(256)
    kind = rng.randrange(7)
    if kind == 0:
        return Hello(version=rng.randrange(256), name="".join(rng.choice("abcé-1 ") for _ in range(rng.randrange(12))), seq=seq)
    if kind == 1:
        return Nack(error=rng.randrange(256), seq=seq)
    if kind == 2:
        return Play(pattern=rng.getrandbits(32), repeat=rng.randrange(1, 256), intensity=rng.randrange(256), seq=seq)
    if kind == 3:
        return Unknown(code=rng.choice([0, 0x05, 0x12, 0x42, 0xFF]), data=rng.randbytes(rng.randrange(61)), seq=seq)
    return [Ping, Stop][kind % 2](seq=seq)


def test_random_frames_both_directions(harness):
    rng = random.Random(2024)
    messages = [_random_message(rng) for _ in range(400)]
    answers = harness.ask([encode_command(vectors.fields(m)) for m in messages]
                          + [f"decode {encode_frame(m)[:-1].hex()}" for m in messages])
    c_frames, c_decoded = answers[: len(messages)], answers[len(messages) :]
    for message, c_frame, c_fields in zip(messages, c_frames, c_decoded):
        assert decode_frame(bytes.fromhex(c_frame)[:-1]) == message  # Python reads what C wrote
        assert c_frame == encode_frame(message).hex()
        assert c_fields == message_line(vectors.fields(message))  # C reads what Python wrote


def test_random_garbage_is_decoded_like_python(harness):
    rng = random.Random(99)
    streams = []
    for _ in range(60):
        parts = []
        for _ in range(rng.randrange(1, 6)):
            choice = rng.randrange(3)
            if choice == 0:
                parts.append(rng.randbytes(rng.randrange(0, 120)))
            elif choice == 1:
                frame = bytearray(encode_frame(_random_message(rng)))
                if rng.random() < 0.5:
                    frame[rng.randrange(len(frame) - 1)] ^= 1 << rng.randrange(8)  # one flipped bit
                parts.append(bytes(frame))
            else:
                parts.append(b"\x00" * rng.randrange(1, 3))
        streams.append(b"".join(parts))
    commands = []
    for data in streams:
        commands += ["reset", f"feed {_hex(data)}"]
    answers = harness.ask(commands)
    for i, data in enumerate(streams):
        python = [vectors._result(item) for item in FrameDecoder().feed(data)]
        assert answers[2 * i + 1] == feed_line(python), data.hex()


# --- the device's motor -------------------------------------------------------------


def _play(seq: int, pattern: int, repeat: int = 1, intensity: int = 200) -> str:
    return encode_frame(Play(pattern=pattern, repeat=repeat, intensity=intensity, seq=seq)).hex()


def _expected_duty(pattern: int, repeat: int, intensity: int, elapsed_ms: int) -> int:
    slot = elapsed_ms // SLOT_MS
    if slot >= repeat * PATTERN_SLOTS:
        return 0
    return intensity if pattern >> (slot % PATTERN_SLOTS) & 1 else 0


def test_motor_plays_the_pattern_slot_by_slot(harness):
    pattern, repeat, intensity, start = 0b1011_0000_0000_0000_0000_0000_0000_1011, 2, 180, 5000
    times = [start + t for slot in range(repeat * PATTERN_SLOTS + 3) for t in (slot * 50, slot * 50 + 49)]
    answers = harness.ask(["device_init 6464", f"device {start} {_play(1, pattern, repeat, intensity)}"]
                          + [f"motor {t}" for t in times])
    assert answers[1] == encode_frame(Ack(seq=1)).hex()
    duties = [int(re.match(r"duty=(\d+)", a).group(1)) for a in answers[2:]]
    assert duties == [_expected_duty(pattern, repeat, intensity, t - start) for t in times]
    assert answers[-1].endswith("playing=0")  # done after repeat x 1.6 s


def test_motor_duplicates_stop_silence_and_the_millisecond_wrap(harness):
    wrap = 2**32
    start = wrap - 120  # millis() wraps 120 ms into the pattern
    commands = [
        "device_init 6464",
        f"device {start} {_play(1, 0xFFFF_FFFF, 1, 99)}",
        f"motor {wrap - 1}", "motor 0", "motor 1000",
        f"device 1100 {_play(1, 0xFFFF_FFFF, 1, 99)}",  # a retransmission: not restarted
        f"motor {1600 - 120 - 1}", f"motor {1600 - 120}",
        f"device 2000 {_play(2, 0b1, 1, 50)}",
        "motor 2000", f"device 2010 {encode_frame(Stop(seq=3)).hex()}", "motor 2011",
        f"device 3000 {_play(4, 0, 1, 200)}", "motor 3000",  # a silent pattern
        f"device 3100 {_play(5, 0b10, 1, 70)}", "motor 3149", "motor 3150",
        f"device 3160 {_play(6, 0b1, 1, 60)}", "motor 3161",  # a new PLAY replaces the one playing
    ]
    answers = dict(zip(range(len(commands)), harness.ask(commands)))
    duty = {commands[i]: answers[i] for i in answers if commands[i].startswith("motor")}
    assert duty[f"motor {wrap - 1}"] == "duty=99 playing=1"
    assert duty["motor 0"] == duty["motor 1000"] == "duty=99 playing=1"
    assert duty[f"motor {1600 - 120 - 1}"] == "duty=99 playing=1"
    assert duty[f"motor {1600 - 120}"] == "duty=0 playing=0"  # 1.6 s after the first PLAY, not the copy
    assert duty["motor 2000"] == "duty=50 playing=1"
    assert duty["motor 2011"] == "duty=0 playing=0"
    assert duty["motor 3000"] == "duty=0 playing=0"
    assert duty["motor 3149"] == "duty=0 playing=1" and duty["motor 3150"] == "duty=70 playing=1"
    assert duty["motor 3161"] == "duty=60 playing=1"


# --- the sources ------------------------------------------------------------------------


def test_the_portable_code_needs_nothing_but_the_c_library_basics(tmp_path):
    cc = _compiler()
    allowed_includes = {"<stddef.h>", "<stdint.h>", "<string.h>", '"fl_protocol.h"', '"fl_device.h"'}
    for source in SOURCES + HEADERS:
        text = re.sub(r"/\*.*?\*/", "", source.read_text(encoding="utf-8"), flags=re.S)  # code, not comments
        includes = set(re.findall(r"^#include\s+(\S+)", text, re.M))
        assert includes <= allowed_includes, (source.name, includes - allowed_includes)
        assert not re.search(r"\b(malloc|calloc|realloc|free|printf|Serial|Arduino)\b", text), source.name
    undefined = set()
    for source in SOURCES:
        obj = tmp_path / (source.stem + ".o")
        build = subprocess.run([cc, *WARNINGS, "-O2", "-c", str(source), "-o", str(obj)], capture_output=True, text=True)
        assert build.returncode == 0, build.stderr
        nm = shutil.which("nm")
        if nm:
            listing = subprocess.run([nm, "-u", str(obj)], capture_output=True, text=True, check=True).stdout
            undefined |= {line.split()[-1] for line in listing.splitlines() if line.strip()}
    assert {s for s in undefined if not s.startswith("fl_")} <= {"memcpy", "memset", "memmove", "strlen"}


def test_the_sketch_only_glues_serial_and_the_pin_to_the_c_code():
    text = (SKETCH / "facelink_wearable.ino").read_text(encoding="utf-8")
    assert set(re.findall(r"^#include\s+(\S+)", text, re.M)) == {'"fl_device.h"', '"fl_protocol.h"'}
    assert not re.search(r"crc|cobs|0x1021", text, re.I)  # no protocol logic of its own
    for call in ("fl_device_init", "fl_device_hello", "fl_device_receive", "fl_device_motor",
                 "Serial.begin(115200)", "analogWrite(MOTOR_PIN"):
        assert call in text, call
    assert f'DEVICE_NAME[] = "{vectors.DEVICE_NAME}"' in text


def test_c_header_python_and_protocol_doc_agree():
    header = (SKETCH / "fl_protocol.h").read_text(encoding="utf-8")
    defines = {name: int(value, 0) for name, value in re.findall(r"^#define (FL_\w+) (0x[0-9A-Fa-f]+|\d+)u?\b", header, re.M)}
    doc = (vectors.SKETCH_DIR.parents[1] / "PROTOCOL.md").read_text(encoding="utf-8")
    doc_types = {name: int(code, 16) for code, name in re.findall(r"^\| (0x[0-9a-f]{2}) \| ([A-Z]+) \|", doc, re.M)}
    doc_errors = {name: int(code, 16) for code, name in re.findall(r"^\| (0x[0-9a-f]{2}) \| `(\w+)` \|", doc, re.M)}
    assert doc_types == {t.name: int(t) for t in MsgType}
    assert doc_errors == {e.name.lower(): int(e) for e in ErrorCode}
    assert {n: defines[f"FL_{n}"] for n in doc_types} == doc_types
    assert {n: defines[f"FL_ERR_{n.upper()}"] for n in doc_errors} == doc_errors
    assert defines["FL_PROTOCOL_VERSION"] == PROTOCOL_VERSION
    assert f"version {PROTOCOL_VERSION}" in doc.splitlines()[0]
    assert (defines["FL_MAX_BODY"], defines["FL_MAX_NAME"]) == (60, 32)
    assert "| `body` | 0-60 |" in doc and "(0-32 bytes UTF-8)" in doc


def test_the_portable_code_builds_for_an_8_bit_avr(tmp_path):
    avr_gcc = shutil.which("avr-gcc")
    if avr_gcc is None:
        pytest.skip("avr-gcc not installed (Debian: gcc-avr avr-libc); it checks the code with a 16-bit int")
    for source in SOURCES:
        build = subprocess.run([avr_gcc, "-mmcu=atmega328p", *WARNINGS, "-Os", "-c", str(source),
                                "-o", str(tmp_path / (source.stem + ".o"))], capture_output=True, text=True)
        assert build.returncode == 0, build.stderr
