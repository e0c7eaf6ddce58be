"""Wire protocol between the hub and the haptic wearable (see PROTOCOL.md).

Pure encode/decode, no I/O: a frame is ``type | seq | body | crc16`` (CRC-16/
CCITT-FALSE, sent most significant byte first), COBS-encoded and terminated by
a single 0x00 byte. :class:`FrameDecoder` turns a byte stream cut anywhere back
into messages.
"""

from __future__ import annotations

import binascii
import struct
from dataclasses import dataclass, field
from enum import IntEnum
from typing import ClassVar

PROTOCOL_VERSION = 1
DELIMITER = 0x00
MAX_BODY = 60
MAX_NAME = 32
# type + seq + body + crc, before COBS; COBS adds one byte per 254 (one here).
MAX_FRAME = 2 + MAX_BODY + 2
MAX_ENCODED = MAX_FRAME + 1

SLOT_S = 0.05  # one bit of a vibration pattern lasts 50 ms
PATTERN_SLOTS = 32  # a pattern is 32 slots, 1.6 s
PATTERN_MAX = 0xFFFF_FFFF


class MsgType(IntEnum):
    HELLO = 0x01
    PING = 0x02
    ACK = 0x03
    NACK = 0x04
    PLAY = 0x10
    STOP = 0x11


class ErrorCode(IntEnum):
    """Why a frame was refused (the body of a NACK)."""

    BAD_CRC = 0x01
    MALFORMED = 0x02
    UNSUPPORTED = 0x03
    BAD_VALUE = 0x04
    BUSY = 0x05
    VERSION = 0x06


def error_name(code: int) -> str:
    try:
        return ErrorCode(code).name.lower()
    except ValueError:
        return f"error_0x{code:02x}"


class ProtocolError(ValueError):
    """A frame that cannot be turned into a message."""

    def __init__(self, code: ErrorCode, detail: str, seq: int | None = None) -> None:
        super().__init__(detail)
        self.code = code
        self.seq = seq


def crc16(data: bytes) -> int:
    """CRC-16/CCITT-FALSE: poly 0x1021, init 0xFFFF, no reflection, no final xor."""
    return binascii.crc_hqx(data, 0xFFFF)


def cobs_encode(data: bytes) -> bytes:
    """Consistent Overhead Byte Stuffing: the result contains no 0x00 byte.

    Each zero-free run is sent as a code byte (run length + 1) and the run; a
    code of 0xFF stands for 254 bytes not followed by a zero. Like the
    reference encoder, a message that ends with a full 254-byte run gets no
    extra empty block.
    """
    out = bytearray()
    blocks = data.split(b"\x00")
    last = len(blocks) - 1
    for i, block in enumerate(blocks):
        while len(block) >= 254:
            out.append(0xFF)
            out += block[:254]
            block = block[254:]
            if not block and i == last:
                return bytes(out)
        out.append(len(block) + 1)
        out += block
    return bytes(out)


def cobs_decode(data: bytes) -> bytes:
    """Inverse of :func:`cobs_encode`; raises ProtocolError on a malformed block."""
    out = bytearray()
    i, n = 0, len(data)
    while i < n:
        code = data[i]
        if code == 0:
            raise ProtocolError(ErrorCode.MALFORMED, "zero byte inside a COBS frame")
        end = i + code
        if end > n:
            raise ProtocolError(ErrorCode.MALFORMED, "COBS block runs past the frame")
        block = data[i + 1 : end]
        if 0 in block:
            raise ProtocolError(ErrorCode.MALFORMED, "zero byte inside a COBS frame")
        out += block
        i = end
        if code != 0xFF and i < n:
            out.append(0)
    return bytes(out)


# --- messages ---------------------------------------------------------------


@dataclass(frozen=True)
class Message:
    """Base of all messages; ``seq`` is the frame's sequence number (0-255)."""

    TYPE: ClassVar[int]
    seq: int = field(default=0, kw_only=True)

    def __post_init__(self) -> None:
        _check_range("seq", self.seq, 0, 255)

    @property
    def type_code(self) -> int:
        return self.TYPE

    def body(self) -> bytes:
        return b""

    @classmethod
    def from_body(cls, body: bytes, seq: int) -> Message:
        return cls(seq=seq)


@dataclass(frozen=True)
class Hello(Message):
    """Both sides introduce themselves with the protocol version they speak."""

    TYPE = MsgType.HELLO
    version: int = PROTOCOL_VERSION
    name: str = ""

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_range("version", self.version, 0, 255)
        if len(self.name.encode()) > MAX_NAME:
            raise ValueError(f"name longer than {MAX_NAME} bytes")

    def body(self) -> bytes:
        return bytes([self.version]) + self.name.encode()

    @classmethod
    def from_body(cls, body: bytes, seq: int) -> Hello:
        _need(body, 1, "HELLO", seq)
        name = body[1 : 1 + MAX_NAME].decode("utf-8", errors="replace")
        return cls(version=body[0], name=name, seq=seq)


@dataclass(frozen=True)
class Ping(Message):
    TYPE = MsgType.PING


@dataclass(frozen=True)
class Ack(Message):
    """Accepted; ``seq`` is the sequence number of the frame being answered."""

    TYPE = MsgType.ACK


@dataclass(frozen=True)
class Nack(Message):
    """Refused; ``seq`` is the sequence number of the frame being answered."""

    TYPE = MsgType.NACK
    error: int = ErrorCode.MALFORMED

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_range("error", self.error, 0, 255)

    def body(self) -> bytes:
        return bytes([self.error])

    @classmethod
    def from_body(cls, body: bytes, seq: int) -> Nack:
        _need(body, 1, "NACK", seq)
        return cls(error=body[0], seq=seq)


@dataclass(frozen=True)
class Play(Message):
    """Vibrate ``pattern`` (bit i = 50 ms slot i) ``repeat`` times at ``intensity``."""

    TYPE = MsgType.PLAY
    pattern: int = 0
    repeat: int = 1
    intensity: int = 200

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_range("pattern", self.pattern, 0, PATTERN_MAX)
        _check_range("repeat", self.repeat, 1, 255)
        _check_range("intensity", self.intensity, 0, 255)

    def body(self) -> bytes:
        return struct.pack("<IBB", self.pattern, self.repeat, self.intensity)

    @classmethod
    def from_body(cls, body: bytes, seq: int) -> Play:
        _need(body, 6, "PLAY", seq)
        pattern, repeat, intensity = struct.unpack_from("<IBB", body)
        if repeat == 0:
            raise ProtocolError(ErrorCode.BAD_VALUE, "PLAY repeat must be 1-255", seq)
        return cls(pattern=pattern, repeat=repeat, intensity=intensity, seq=seq)


@dataclass(frozen=True)
class Stop(Message):
    TYPE = MsgType.STOP


@dataclass(frozen=True)
class Unknown(Message):
    """A well-formed frame of a type this side does not know (a newer peer)."""

    code: int = 0
    data: bytes = b""

    @property
    def type_code(self) -> int:
        return self.code

    def body(self) -> bytes:
        return self.data


MESSAGE_TYPES: dict[int, type[Message]] = {
    cls.TYPE: cls for cls in (Hello, Ping, Ack, Nack, Play, Stop)
}


def _check_range(name: str, value: int, low: int, high: int) -> None:
    if not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{name} must be an integer in {low}..{high}, got {value!r}")


def _need(body: bytes, size: int, what: str, seq: int) -> None:
    if len(body) < size:
        raise ProtocolError(ErrorCode.MALFORMED, f"{what} body shorter than {size} bytes", seq)


# --- frames -----------------------------------------------------------------


def encode_payload(type_code: int, seq: int, body: bytes = b"") -> bytes:
    """Frame raw fields: COBS(type, seq, body, crc16) + 0x00 (for any type)."""
    if len(body) > MAX_BODY:
        raise ValueError(f"body longer than {MAX_BODY} bytes")
    payload = bytes([type_code, seq]) + body
    return cobs_encode(payload + crc16(payload).to_bytes(2, "big")) + b"\x00"


def encode_frame(message: Message) -> bytes:
    """The bytes to write on the wire for ``message``, delimiter included."""
    return encode_payload(message.type_code, message.seq, message.body())


def decode_frame(encoded: bytes) -> Message:
    """Decode one frame (COBS bytes without the 0x00 delimiter).

    Raises ProtocolError: MALFORMED (COBS, too short or too long, short body),
    BAD_CRC, BAD_VALUE. A frame of an unknown type decodes to :class:`Unknown`.
    """
    if len(encoded) > MAX_ENCODED:
        raise ProtocolError(ErrorCode.MALFORMED, "frame too long")
    raw = cobs_decode(encoded)
    if len(raw) < 4:
        raise ProtocolError(ErrorCode.MALFORMED, "frame shorter than 4 bytes")
    payload, sent_crc = raw[:-2], int.from_bytes(raw[-2:], "big")
    type_code, seq, body = payload[0], payload[1], payload[2:]
    if crc16(payload) != sent_crc:
        # The seq byte may be the corrupted one: callers treat it as a hint.
        raise ProtocolError(ErrorCode.BAD_CRC, "CRC mismatch", seq)
    cls = MESSAGE_TYPES.get(type_code)
    if cls is None:
        return Unknown(code=type_code, data=bytes(body), seq=seq)
    return cls.from_body(bytes(body), seq)


@dataclass(frozen=True)
class BadFrame:
    """A delimited chunk of bytes that was not a valid frame."""

    error: ErrorCode
    detail: str
    seq: int | None = None  # the sequence byte, when one could be read (untrusted)


class FrameDecoder:
    """Reassembles frames from byte chunks split anywhere.

    ``feed`` returns, in order, the messages and bad frames completed by the
    chunk. Garbage is confined to the frame it lands in: decoding restarts
    after every 0x00, and an over-long run is dropped up to the next 0x00.
    Empty frames (0x00 0x00) are ignored; senders may use a lone 0x00 to
    resynchronise the receiver.
    """

    def __init__(self) -> None:
        self._buf = bytearray()
        self._overflow = False
        self.frames = 0
        self.errors = 0

    def reset(self) -> None:
        self._buf.clear()
        self._overflow = False

    def feed(self, data: bytes) -> list[Message | BadFrame]:
        out: list[Message | BadFrame] = []
        start = 0
        while True:
            end = data.find(DELIMITER, start)
            self._append(data[start:] if end < 0 else data[start:end])
            if end < 0:
                return out
            item = self._finish()
            if item is not None:
                out.append(item)
            start = end + 1

    def _append(self, chunk: bytes) -> None:
        if self._overflow or not chunk:
            return
        self._buf += chunk
        if len(self._buf) > MAX_ENCODED:
            self._overflow = True
            self._buf.clear()

    def _finish(self) -> Message | BadFrame | None:
        if self._overflow:
            self._overflow = False
            self.errors += 1
            return BadFrame(ErrorCode.MALFORMED, "frame too long")
        if not self._buf:
            return None
        encoded = bytes(self._buf)
        self._buf.clear()
        try:
            message = decode_frame(encoded)
        except ProtocolError as exc:
            self.errors += 1
            return BadFrame(exc.code, str(exc), exc.seq)
        self.frames += 1
        return message


def pattern_duration_s(pattern: int, repeat: int = 1) -> float:
    """How long the motor is busy: full 1.6 s periods, then up to the last set bit.

    Trailing silence of the last repetition is not waited for; a silent pattern
    takes no time.
    """
    if pattern == 0:
        return 0.0
    return (repeat - 1) * PATTERN_SLOTS * SLOT_S + pattern.bit_length() * SLOT_S
