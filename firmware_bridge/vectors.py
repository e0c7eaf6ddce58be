"""Test vectors shared by the hub (Python) and the firmware (C).

    python -m firmware_bridge.vectors           # rewrite firmware/test_vectors.json
    python -m firmware_bridge.vectors --check   # exit 1 if the file differs from what the encoder makes

Everything in the file is computed here, from ``protocol.py`` and the
simulator's behaviour; the test suite checks that the checked-in file still
matches (so a change to the encoder shows up as a change to the vectors) and
that the firmware's C code decodes, encodes and answers exactly the same.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path
from typing import Any

from .protocol import (
    MAX_ENCODED,
    PROTOCOL_VERSION,
    Ack,
    BadFrame,
    ErrorCode,
    FrameDecoder,
    Hello,
    Message,
    MsgType,
    Nack,
    Ping,
    Play,
    Stop,
    Unknown,
    cobs_encode,
    crc16,
    encode_frame,
    encode_payload,
)
from .simulator import DeviceSimulator

VECTORS_PATH = Path(__file__).parent / "firmware" / "test_vectors.json"
SKETCH_DIR = Path(__file__).parent / "firmware" / "facelink_wearable"
# The name the reference firmware sends in HELLO (DEVICE_NAME in the sketch).
DEVICE_NAME = "facelink-wearable 1.0"

Record = dict[str, Any]


def fields(message: Message) -> Record:
    """A message as plain JSON fields: ``type`` (code), ``kind``, ``seq``, then its own."""
    try:
        kind = MsgType(message.type_code).name
    except ValueError:
        kind = "UNKNOWN"
    out: Record = {"kind": kind, "type": message.type_code, "seq": message.seq}
    if isinstance(message, Hello):
        out.update(version=message.version, name=message.name)
    elif isinstance(message, Nack):
        out.update(error=int(message.error))
    elif isinstance(message, Play):
        out.update(pattern=message.pattern, repeat=message.repeat, intensity=message.intensity)
    elif isinstance(message, Unknown):
        out.update(body=message.data.hex())
    return out


def _result(item: Message | BadFrame) -> Record:
    if isinstance(item, BadFrame):
        return {"error": int(item.error), "seq": item.seq}
    return fields(item)


def _bad_crc(type_code: int, seq: int, body: bytes = b"") -> bytes:
    payload = bytes([type_code, seq]) + body
    return cobs_encode(payload + (crc16(payload) ^ 0x0101).to_bytes(2, "big"))


# --- the vectors ----------------------------------------------------------------


def crc_vectors() -> list[Record]:
    rng = random.Random(16)
    data = [b"", b"123456789", b"\x00", b"\xff", b"\x10\x07\x0b\x00\x00\x00\x01\xc8", bytes(range(64))]
    data += [rng.randbytes(n) for n in (1, 2, 7, 31, 64)]
    return [{"data": d.hex(), "crc": crc16(d)} for d in data]


def cobs_vectors() -> list[Record]:
    rng = random.Random(254)
    data = [
        b"", b"\x00", b"\x00\x00", b"\x00\x11\x00", b"\x11\x22\x00\x33", b"\x11\x22\x33\x44",
        b"\x11\x00\x00\x00", bytes(range(1, 255)), b"\x00" + bytes(range(1, 255)), bytes(range(1, 256)),
        bytes(range(2, 256)) + b"\x00", bytes(range(3, 256)) + b"\x00\x01", b"\x01" * 600, b"\x00" * 70,
    ]
    data += [bytes(rng.choice((0, 0, 1, 0x55, 0xFF)) for _ in range(n)) for n in (3, 64, 300)]
    return [{"raw": d.hex(), "encoded": cobs_encode(d).hex()} for d in data]


MESSAGES: list[tuple[str, Message]] = [
    ("hello from the hub", Hello(version=1, name="facelink-hub", seq=1)),
    ("hello from the device, boot", Hello(version=1, name=DEVICE_NAME, seq=0)),
    ("hello, empty name, seq 255", Hello(version=1, name="", seq=255)),
    ("hello, longest name", Hello(version=1, name="n" * 32, seq=2)),
    ("hello, UTF-8 name", Hello(version=1, name="Zoë’s wearable", seq=3)),
    ("hello, a future version", Hello(version=7, name="hub 9", seq=4)),
    ("ping", Ping(seq=5)),
    ("ping, seq 0", Ping(seq=0)),
    ("ack", Ack(seq=6)),
    ("ack, seq 255", Ack(seq=255)),
    ("nack bad_crc", Nack(error=ErrorCode.BAD_CRC, seq=7)),
    ("nack malformed", Nack(error=ErrorCode.MALFORMED, seq=0)),
    ("nack unsupported", Nack(error=ErrorCode.UNSUPPORTED, seq=8)),
    ("nack bad_value", Nack(error=ErrorCode.BAD_VALUE, seq=9)),
    ("nack busy", Nack(error=ErrorCode.BUSY, seq=10)),
    ("nack version", Nack(error=ErrorCode.VERSION, seq=11)),
    ("play, the documented example", Play(pattern=0xB, repeat=1, intensity=200, seq=7)),
    ("play, all slots, loudest", Play(pattern=0xFFFF_FFFF, repeat=255, intensity=255, seq=12)),
    ("play, silent", Play(pattern=0, repeat=1, intensity=0, seq=13)),
    ("play, last slot only", Play(pattern=1 << 31, repeat=2, intensity=1, seq=14)),
    ("play, zero bytes inside", Play(pattern=0x0100_0001, repeat=1, intensity=0, seq=0)),
    ("play, 0xdeadbeef", Play(pattern=0xDEAD_BEEF, repeat=3, intensity=128, seq=200)),
    ("stop", Stop(seq=15)),
    ("unknown type, from a newer peer", Unknown(code=0x42, data=b"\x00\x01future", seq=16)),
    ("unknown type, empty body", Unknown(code=0x7F, data=b"", seq=17)),
    ("unknown type, longest body", Unknown(code=0xFE, data=bytes(range(60)), seq=18)),
]


def message_vectors() -> list[Record]:
    return [{"name": name, "fields": fields(m), "wire": encode_frame(m).hex()} for name, m in MESSAGES]


def appended_field_vectors() -> list[Record]:
    """Frames of a newer peer: known types with bytes appended, decoded as the known fields."""
    cases = [
        ("play with two appended bytes", Play(pattern=5, seq=9), b"\x99\x98"),
        ("hello with a name of 40 bytes (first 32 kept)", Hello(name="", seq=3), b"abcdefghij" * 4),
        ("nack with a detail byte", Nack(error=ErrorCode.BUSY, seq=4), b"\x10"),
        ("stop with a body", Stop(seq=5), b"\x01\x02"),
        ("ping with a body", Ping(seq=6), b"\x00"),
    ]
    out = []
    for name, message, extra in cases:
        wire = encode_payload(message.type_code, message.seq, message.body() + extra)
        (decoded,) = FrameDecoder().feed(wire)
        out.append({"name": name, "fields": fields(decoded), "wire": wire.hex()})
    return out


def bad_frame_vectors() -> list[Record]:
    """Single frames (COBS bytes, no delimiter) that must be refused, and why."""
    cases = [
        ("bad crc, ping", _bad_crc(Ping.TYPE, 77)),
        ("bad crc, play", _bad_crc(Play.TYPE, 78, Play(pattern=3).body())),
        ("play body too short", encode_payload(Play.TYPE, 12, b"\x01\x02")[:-1]),
        ("hello without a version", encode_payload(Hello.TYPE, 13)[:-1]),
        ("nack without an error code", encode_payload(Nack.TYPE, 14)[:-1]),
        ("play with repeat 0", encode_payload(Play.TYPE, 3, b"\x01\x00\x00\x00\x00\xc8")[:-1]),
        ("cobs block runs past the end", b"\x05\x11\x22"),
        ("one byte", b"\x01"),
        ("three bytes", cobs_encode(b"\x02\x05\x00")),
        ("longer than any frame", b"\x55" * (MAX_ENCODED + 1)),
    ]
    out = []
    for name, encoded in cases:
        (item,) = FrameDecoder().feed(encoded + b"\x00")
        assert isinstance(item, BadFrame), name
        out.append({"name": name, "encoded": encoded.hex(), "error": int(item.error), "seq": item.seq})
    return out


def stream_vectors() -> list[Record]:
    """Byte streams and what a decoder makes of them, frame by frame."""
    rng = random.Random(7)
    frames = [encode_frame(m) for _, m in MESSAGES]
    garbage_between = bytearray()
    for frame in frames[:12]:
        garbage_between += rng.randbytes(rng.randrange(0, 40)) + b"\x00" + frame
    corrupted = bytearray(frames[16])
    corrupted[4] ^= 0x10
    streams = [
        ("every message back to back", b"".join(frames)),
        ("garbage, a delimiter, then a frame, twelve times", bytes(garbage_between)),
        ("empty frames around a frame", b"\x00\x00\x00" + frames[8] + b"\x00"),
        ("a corrupted frame among good ones", frames[6] + bytes(corrupted) + frames[22]),
        ("an overlong run, then a frame", b"\x55" * 1000 + b"\x00" + frames[22]),
        ("a run just one byte too long, then one just right",
         b"\x37" * (MAX_ENCODED + 1) + b"\x00" + encode_payload(0x42, 1, b"\x01" * 60)),
        ("a trailing half frame is not reported", frames[6] + frames[16][:5]),
        ("random bytes", rng.randbytes(400)),
        ("random bytes with many zeros", bytes(rng.choice((0, 1, 2, 0x55, 0xFF)) for _ in range(400))),
    ]
    return [{"name": name, "bytes": data.hex(), "results": [_result(i) for i in FrameDecoder().feed(data)]}
            for name, data in streams]


def device_vectors() -> Record:
    """A session with the device: what the host sends, what the device must answer.

    The answers are the simulator's; the firmware must answer byte for byte the
    same, and leave its motor with the same pattern, repeat and intensity (all 0
    after STOP).
    """
    sim = DeviceSimulator("unused-link", name=DEVICE_NAME)
    boot = encode_frame(Hello(version=PROTOCOL_VERSION, name=DEVICE_NAME, seq=0))
    play = encode_frame(Play(pattern=0b1011, repeat=2, intensity=180, seq=3))
    ping = encode_frame(Ping(seq=20))
    steps: list[tuple[str, bytes]] = [
        ("hello, after a lone delimiter", b"\x00" + encode_frame(Hello(version=1, name="facelink-hub", seq=1))),
        ("ping", encode_frame(Ping(seq=2))),
        ("play", play),
        ("the same play again (its ack was lost): acked, not played", play),
        ("stop", encode_frame(Stop(seq=4))),
        ("the same stop again", encode_frame(Stop(seq=4))),
        ("play with the stop's seq: a new command", encode_frame(Play(pattern=0xF0, seq=4))),
        ("unknown type", encode_payload(0x42, 5, b"future")),
        ("play body too short", encode_payload(Play.TYPE, 6, b"\x01")),
        ("play with repeat 0", encode_payload(Play.TYPE, 7, b"\x01\x00\x00\x00\x00\xc8")),
        ("bad crc", _bad_crc(Ping.TYPE, 8) + b"\x00"),
        ("garbage that is not COBS", b"\x09\x01\x02\x00"),
        ("an overlong run", b"\x55" * 200 + b"\x00"),
        ("empty frames", b"\x00\x00"),
        ("an ack from the host: no answer", encode_frame(Ack(seq=9))),
        ("a nack from the host: no answer", encode_frame(Nack(error=ErrorCode.BUSY, seq=9))),
        ("hello of version 0", encode_frame(Hello(version=0, seq=10))),
        ("hello of a newer host", encode_frame(Hello(version=2, name="future hub", seq=11))),
        ("after a hello the same seq is new again", encode_frame(Play(pattern=0x0F, seq=4))),
        ("half a ping", ping[:3]),
        ("the other half", ping[3:]),
        ("two commands in one write", encode_frame(Ping(seq=21)) + encode_frame(Stop(seq=22))),
        ("play from a newer host, with appended fields",
         encode_payload(Play.TYPE, 23, Play(pattern=0x3, repeat=1, intensity=90).body() + b"\x01\x02\x03")),
        ("a play that fills every slot", encode_frame(Play(pattern=0xFFFF_FFFF, repeat=1, intensity=255, seq=24))),
    ]
    exchanges = []
    for name, data in steps:
        reply = sim.answer(data).hex()
        # What the motor was told last: shows whether a command was executed or taken for a copy.
        motor = {"pattern": sim.motor.pattern, "repeat": sim.motor.repeat, "intensity": sim.motor.intensity}
        exchanges.append({"name": name, "host": data.hex(), "reply": reply, "motor": motor})
    return {"name": DEVICE_NAME, "boot": boot.hex(), "exchanges": exchanges}


def build() -> Record:
    return {
        "about": "Shared test vectors of the FaceLink wearable protocol: made by `python -m "
                 "firmware_bridge.vectors` from the Python encoder and the simulator; the C firmware "
                 "must decode, encode and answer byte for byte the same. Hex strings; seq null = unreadable.",
        "protocol_version": PROTOCOL_VERSION,
        "crc16": crc_vectors(),
        "cobs": cobs_vectors(),
        "messages": message_vectors(),
        "appended_fields": appended_field_vectors(),
        "bad_frames": bad_frame_vectors(),
        "streams": stream_vectors(),
        "device": device_vectors(),
    }


def render(vectors: Record) -> str:
    return json.dumps(vectors, indent=1, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m firmware_bridge.vectors", description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="compare with the checked-in file instead of writing it")
    parser.add_argument("--path", type=Path, default=VECTORS_PATH)
    args = parser.parse_args(argv)
    text = render(build())
    if args.check:
        current = args.path.read_text(encoding="utf-8") if args.path.exists() else ""
        if current != text:
            print(f"{args.path} is out of date: run python -m firmware_bridge.vectors", file=sys.stderr)
            return 1
        print(f"{args.path} matches the encoder")
        return 0
    args.path.write_text(text, encoding="utf-8")
    print(f"wrote {args.path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
