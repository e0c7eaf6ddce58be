"""Framing, CRC and message codecs of the wearable protocol, fed bytes directly."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest
import serial

from firmware_bridge.protocol import (
    MAX_ENCODED,
    Ack,
    BadFrame,
    ErrorCode,
    FrameDecoder,
    Hello,
    Nack,
    Ping,
    Play,
    ProtocolError,
    Stop,
    Unknown,
    cobs_decode,
    cobs_encode,
    crc16,
    decode_frame,
    encode_frame,
    encode_payload,
    pattern_duration_s,
)

MESSAGES = [
    Hello(version=1, name="facelink-hub", seq=0),
    Hello(version=1, name="", seq=255),
    Ping(seq=1),
    Ack(seq=2),
    Nack(error=ErrorCode.UNSUPPORTED, seq=3),
    Play(pattern=0xDEADBEEF, repeat=3, intensity=255, seq=4),
    Play(pattern=0, repeat=1, intensity=0, seq=0),
    Play(pattern=0x0000_0001, repeat=1, intensity=200, seq=0x00),
    Stop(seq=6),
    Unknown(code=0x42, data=b"\x00\x01future", seq=7),
]
STREAM = b"".join(encode_frame(m) for m in MESSAGES)


def test_crc16_ccitt_false_check_value():
    assert crc16(b"123456789") == 0x29B1
    assert crc16(b"") == 0xFFFF


@pytest.mark.parametrize(
    ("raw", "encoded"),
    [
        (b"", b"\x01"),
        (b"\x00", b"\x01\x01"),
        (b"\x00\x00", b"\x01\x01\x01"),
        (b"\x00\x11\x00", b"\x01\x02\x11\x01"),
        (b"\x11\x22\x00\x33", b"\x03\x11\x22\x02\x33"),
        (b"\x11\x22\x33\x44", b"\x05\x11\x22\x33\x44"),
        (b"\x11\x00\x00\x00", b"\x02\x11\x01\x01\x01"),
        (bytes(range(1, 255)), b"\xff" + bytes(range(1, 255))),
        (b"\x00" + bytes(range(1, 255)), b"\x01\xff" + bytes(range(1, 255))),
        (bytes(range(1, 256)), b"\xff" + bytes(range(1, 255)) + b"\x02\xff"),
        (bytes(range(2, 256)) + b"\x00", b"\xff" + bytes(range(2, 256)) + b"\x01\x01"),
        (bytes(range(3, 256)) + b"\x00\x01", b"\xfe" + bytes(range(3, 256)) + b"\x02\x01"),
    ],
)
def test_cobs_reference_examples(raw, encoded):
    assert cobs_encode(raw) == encoded
    assert cobs_decode(encoded) == raw


def test_cobs_round_trips_and_never_emits_zero():
    rng = random.Random(1)
    for n in range(0, 700, 7):
        for data in (rng.randbytes(n), bytes(rng.choice((0, 0, 1, 255)) for _ in range(n)), b"\x01" * n, b"\x00" * n):
            encoded = cobs_encode(data)
            assert 0 not in encoded
            assert cobs_decode(encoded) == data


@pytest.mark.parametrize("bad", [b"\x05\x11\x22", b"\x03\x11\x00", b"\x00"])
def test_cobs_rejects_malformed_blocks(bad):
    with pytest.raises(ProtocolError) as info:
        cobs_decode(bad)
    assert info.value.code == ErrorCode.MALFORMED


@pytest.mark.parametrize("message", MESSAGES, ids=lambda m: type(m).__name__)
def test_every_message_round_trips(message):
    frame = encode_frame(message)
    assert frame.endswith(b"\x00") and 0 not in frame[:-1]
    assert len(frame) - 1 <= MAX_ENCODED
    assert decode_frame(frame[:-1]) == message


def test_documented_example_matches_encoder():
    text = (Path(__file__).parents[2] / "firmware_bridge" / "PROTOCOL.md").read_text()
    wire = re.search(r"^wire\s+([0-9a-f ]+)$", text, re.M).group(1)
    assert encode_frame(Play(pattern=0xB, repeat=1, intensity=200, seq=7)) == bytes.fromhex(wire)


def test_newer_peers_may_append_fields():
    frame = encode_payload(Play.TYPE, 9, Play(pattern=5).body() + b"\x99\x98")
    assert decode_frame(frame[:-1]) == Play(pattern=5, seq=9)


def test_short_body_is_malformed_and_keeps_seq():
    frame = encode_payload(Play.TYPE, 12, b"\x01\x02")
    with pytest.raises(ProtocolError) as info:
        decode_frame(frame[:-1])
    assert (info.value.code, info.value.seq) == (ErrorCode.MALFORMED, 12)


def test_play_with_zero_repeat_is_a_bad_value():
    frame = encode_payload(Play.TYPE, 3, b"\x01\x00\x00\x00\x00\xc8")
    with pytest.raises(ProtocolError) as info:
        decode_frame(frame[:-1])
    assert (info.value.code, info.value.seq) == (ErrorCode.BAD_VALUE, 3)


def test_bad_crc_is_reported_with_the_seq_hint():
    payload = bytes([Ping.TYPE, 77])
    raw = payload + ((crc16(payload) ^ 0x0100).to_bytes(2, "big"))
    with pytest.raises(ProtocolError) as info:
        decode_frame(cobs_encode(raw))
    assert (info.value.code, info.value.seq) == (ErrorCode.BAD_CRC, 77)


@pytest.mark.parametrize(
    "build",
    [
        lambda: Play(pattern=1 << 32),
        lambda: Play(pattern=-1),
        lambda: Play(pattern=1, repeat=0),
        lambda: Play(pattern=1, intensity=256),
        lambda: Ping(seq=256),
        lambda: Hello(name="x" * 33),
    ],
)
def test_out_of_range_fields_are_refused_on_the_host(build):
    with pytest.raises(ValueError):
        build()


def _messages(items):
    return [i for i in items if not isinstance(i, BadFrame)]


def test_decoder_reassembles_at_every_split_offset():
    for cut in range(len(STREAM) + 1):
        decoder = FrameDecoder()
        items = decoder.feed(STREAM[:cut]) + decoder.feed(STREAM[cut:])
        assert items == MESSAGES, cut


def test_decoder_reassembles_at_every_pair_of_split_offsets():
    stream = STREAM[:60]  # the first frames; every (i, j) pair is ~1,800 cases
    expected = FrameDecoder().feed(stream)
    for i in range(len(stream) + 1):
        for j in range(i, len(stream) + 1):
            decoder = FrameDecoder()
            items = decoder.feed(stream[:i]) + decoder.feed(stream[i:j]) + decoder.feed(stream[j:])
            assert items == expected, (i, j)


def test_decoder_byte_by_byte():
    decoder = FrameDecoder()
    items = [item for byte in STREAM for item in decoder.feed(bytes([byte]))]
    assert items == MESSAGES
    assert decoder.frames == len(MESSAGES) and decoder.errors == 0


def test_decoder_resynchronises_after_garbage():
    rng = random.Random(7)
    stream = bytearray()
    for message in MESSAGES:
        stream += rng.randbytes(rng.randrange(0, 40)) + b"\x00"  # garbage, then a delimiter
        stream += encode_frame(message)
    stream += b"\xff\xfe"  # trailing half frame, never completed
    for cut in range(0, len(stream) + 1, 5):
        decoder = FrameDecoder()
        items = decoder.feed(bytes(stream[:cut])) + decoder.feed(bytes(stream[cut:]))
        assert _messages(items) == MESSAGES, cut
        assert all(isinstance(i, BadFrame) for i in items if i not in MESSAGES)


def test_decoder_drops_corrupted_frames_and_keeps_the_rest():
    frames = [encode_frame(m) for m in MESSAGES]
    for index, frame in enumerate(frames):
        for pos in range(len(frame) - 1):
            for mask in (0x01, 0x80, 0xFF):
                broken = bytearray(frame)
                broken[pos] ^= mask
                stream = b"".join(frames[:index]) + bytes(broken) + b"".join(frames[index + 1 :])
                items = FrameDecoder().feed(stream)
                others = MESSAGES[:index] + MESSAGES[index + 1 :]
                # A corrupted frame never turns into some other message.
                assert _messages(items) == others, (index, pos, mask)


def test_decoder_reports_crc_errors():
    frame = bytearray(encode_frame(Play(pattern=0b101, seq=40)))
    frame[3] ^= 0x10
    decoder = FrameDecoder()
    items = decoder.feed(bytes(frame) + encode_frame(Ping(seq=41)))
    assert items[0] == BadFrame(ErrorCode.BAD_CRC, "CRC mismatch", 40)
    assert items[1] == Ping(seq=41)
    assert decoder.errors == 1 and decoder.frames == 1


def test_overlong_run_is_dropped_with_bounded_memory():
    decoder = FrameDecoder()
    items = []
    for _ in range(100):
        items += decoder.feed(b"\x55" * 1000)  # 100 kB without a delimiter
        assert len(decoder._buf) <= MAX_ENCODED
    items += decoder.feed(b"\x00" + encode_frame(Stop(seq=1)))
    assert items == [BadFrame(ErrorCode.MALFORMED, "frame too long"), Stop(seq=1)]


def test_empty_frames_are_ignored():
    assert FrameDecoder().feed(b"\x00\x00\x00" + encode_frame(Ack(seq=5)) + b"\x00") == [Ack(seq=5)]


def test_frames_through_a_pyserial_loopback_in_small_reads():
    port = serial.serial_for_url("loop://", timeout=0.5)
    try:
        port.write(STREAM)
        decoder, items = FrameDecoder(), []
        while len(items) < len(MESSAGES):
            chunk = port.read(7)
            assert chunk, "loopback ran dry"
            items += decoder.feed(chunk)
        assert items == MESSAGES
    finally:
        port.close()


@pytest.mark.parametrize(
    ("pattern", "repeat", "seconds"),
    [(0, 1, 0.0), (0, 5, 0.0), (1, 1, 0.05), (0b1011, 1, 0.2), (1 << 31, 1, 1.6), (1, 3, 3.25)],
)
def test_pattern_duration(pattern, repeat, seconds):
    assert pattern_duration_s(pattern, repeat) == pytest.approx(seconds)
