"""The serial link to the wearable: port, handshake, acknowledged commands, reconnects.

One thread owns the port: it opens it (configured, or found among USB serial
ports), waits for the device's HELLO, then reads and dispatches frames until
the port fails, and reconnects with capped exponential backoff. Callers send
commands from their own threads with :meth:`SerialLink.request`, which blocks
until the device acknowledges (retrying a bounded number of times). State
changes are published as :class:`~facelink_local.events.DeviceState` events.
"""

from __future__ import annotations

import errno
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

import serial
import serial.tools.list_ports
from serial.tools.list_ports_common import ListPortInfo

from facelink_local.events import DeviceState, EventHub

from .protocol import (
    PROTOCOL_VERSION,
    Ack,
    BadFrame,
    ErrorCode,
    FrameDecoder,
    Hello,
    Message,
    Nack,
    Ping,
    Unknown,
    encode_frame,
    error_name,
)

log = logging.getLogger(__name__)

BAUDRATE = 115200
HOST_NAME = "facelink-hub"

# USB vendor (and product) ids of boards and USB-serial chips a wearable is
# built on; None matches any product of that vendor.
KNOWN_USB_IDS: dict[tuple[int, int | None], str] = {
    (0x2341, None): "Arduino",
    (0x2A03, None): "Arduino",
    (0x239A, None): "Adafruit",
    (0x1B4F, None): "SparkFun",
    (0x2886, None): "Seeed",
    (0x303A, None): "Espressif",
    (0x2E8A, None): "Raspberry Pi",
    (0x1A86, 0x7523): "CH340",
    (0x1A86, 0x55D4): "CH9102",
    (0x10C4, 0xEA60): "CP210x",
    (0x0403, 0x6001): "FTDI FT232R",
    (0x0403, 0x6015): "FTDI FT231X",
}
DESCRIPTION_HINTS = ("facelink", "wearable", "arduino", "feather", "xiao", "esp32")

# NACKs worth sending the same frame again for; the others will not change.
RETRYABLE = frozenset({ErrorCode.BAD_CRC, ErrorCode.BUSY})


def rank_ports(ports: Iterable[ListPortInfo]) -> list[str]:
    """Serial ports that may be the wearable, most likely first.

    A port whose USB product names FaceLink comes first, then known board or
    USB-serial chip ids, then ports whose description looks like a
    microcontroller board. Other ports (built-in UARTs, modems) are left out.
    """
    scored = []
    for port in ports:
        text = " ".join(filter(None, (port.description, port.product, port.manufacturer))).lower()
        if "facelink" in text:
            score = 3
        elif port.vid is not None and (
            (port.vid, port.pid) in KNOWN_USB_IDS or (port.vid, None) in KNOWN_USB_IDS
        ):
            score = 2
        elif any(hint in text for hint in DESCRIPTION_HINTS):
            score = 1
        else:
            continue
        scored.append((-score, port.device))
    return [device for _, device in sorted(scored)]


@dataclass(frozen=True)
class CommandResult:
    """What became of a command sent to the wearable."""

    ok: bool
    status: str  # "acked" | "nacked" | "timeout" | "not_connected" | "disconnected" | "silent"
    attempts: int = 0
    error: int | None = None  # the NACK's error code
    rtt_s: float | None = None  # first write to acknowledgement
    detail: str = ""


@dataclass(frozen=True)
class DeviceInfo:
    """What the device said in its HELLO."""

    port: str
    name: str
    version: int


class _Pending:
    def __init__(self, seq: int) -> None:
        self.seq = seq
        self.event = threading.Event()
        self.reply: Ack | Nack | None = None
        self.lost: str | None = None  # set when the connection dropped meanwhile


class SerialLink:
    """Owns the serial port to the wearable; see the module docstring.

    ``port`` is a device path or pyserial URL; None finds the wearable among
    USB serial ports on every connection attempt.
    """

    def __init__(
        self,
        hub: EventHub | None = None,
        port: str | None = None,
        *,
        baudrate: int = BAUDRATE,
        ack_timeout: float = 0.25,
        retries: int = 3,
        retry_delay: float = 0.05,
        hello_timeout: float = 3.0,
        hello_interval: float = 0.5,
        backoff_initial: float = 0.25,
        backoff_max: float = 5.0,
        read_timeout: float = 0.1,
        list_ports: Callable[[], Iterable[ListPortInfo]] = serial.tools.list_ports.comports,
    ) -> None:
        self.hub = hub
        self.port = port
        self.baudrate = baudrate
        self.ack_timeout = ack_timeout
        self.retries = retries
        self.retry_delay = retry_delay
        self.hello_timeout = hello_timeout
        self.hello_interval = hello_interval
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self.read_timeout = read_timeout
        self._list_ports = list_ports

        self._state = "disconnected"
        self._detail = "not started"
        self._state_port: str | None = None
        self._state_lock = threading.Lock()
        self._publish_lock = threading.Lock()
        self._connected = threading.Condition(self._state_lock)
        self.device: DeviceInfo | None = None

        self._serial: serial.Serial | None = None
        self._write_lock = threading.Lock()
        self._request_lock = threading.Lock()
        self._pending_lock = threading.Lock()
        self._pending: _Pending | None = None
        self._seq = 0
        self._unresponsive = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._candidate = 0  # round-robin over auto-detected ports

    # --- lifecycle -------------------------------------------------------------

    def start(self) -> SerialLink:
        if self._thread is not None:
            return self
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="wearable-link", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        ser = self._serial
        if ser is not None:
            try:
                ser.cancel_read()
            except (OSError, serial.SerialException):
                pass
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        self._set_state("disconnected", self._state_port, "stopped")

    def __enter__(self) -> SerialLink:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def state(self) -> str:
        return self._state

    @property
    def detail(self) -> str:
        return self._detail

    @property
    def connected(self) -> bool:
        return self._state == "connected"

    def wait_connected(self, timeout: float) -> bool:
        """Block until the device has answered HELLO (True) or ``timeout`` passes."""
        with self._connected:
            return self._connected.wait_for(lambda: self._state == "connected", timeout)

    # --- commands --------------------------------------------------------------

    def request(self, message: Message, *, retries: int | None = None) -> CommandResult:
        """Send ``message`` and wait for its ACK, retrying on silence or a transient NACK.

        At most ``1 + retries`` frames are written, each waiting ``ack_timeout``
        for the answer. Never raises for link problems: the result says what
        happened. A command that gets no answer at all makes the link
        re-handshake, since a device that ignores everything is not usable.
        """
        retries = self.retries if retries is None else retries
        with self._request_lock:
            if not self.connected:
                return CommandResult(False, "not_connected", detail=self.describe_state())
            message = replace(message, seq=self._next_seq())
            frame = encode_frame(message)
            started = time.monotonic()
            status, error, detail, answered = "timeout", None, "no answer from the wearable", False
            for attempt in range(1, retries + 2):
                pending = self._arm(message.seq)
                try:
                    if not self._write(frame):
                        return CommandResult(False, "not_connected", attempt, detail=self.describe_state())
                    pending.event.wait(self.ack_timeout)
                finally:
                    self._disarm(pending)
                if pending.lost is not None:
                    return CommandResult(False, "disconnected", attempt, detail=pending.lost)
                reply = pending.reply
                if isinstance(reply, Ack):
                    return CommandResult(True, "acked", attempt, rtt_s=time.monotonic() - started)
                if isinstance(reply, Nack):
                    answered = True
                    status, error = "nacked", reply.error
                    detail = f"wearable refused the command: {error_name(reply.error)}"
                    if reply.error not in RETRYABLE:
                        return CommandResult(False, status, attempt, error, detail=detail)
                    if attempt <= retries and self._stop.wait(self.retry_delay):
                        break
            if not answered:
                self._unresponsive.set()
                self._wake_reader()
            return CommandResult(False, status, retries + 1, error, detail=detail)

    def ping(self) -> CommandResult:
        return self.request(Ping())

    def _next_seq(self) -> int:
        self._seq = (self._seq + 1) & 0xFF
        return self._seq

    def _arm(self, seq: int) -> _Pending:
        pending = _Pending(seq)
        with self._pending_lock:
            self._pending = pending
        return pending

    def _disarm(self, pending: _Pending) -> None:
        with self._pending_lock:
            if self._pending is pending:
                self._pending = None

    def _fail_pending(self, why: str) -> None:
        with self._pending_lock:
            pending, self._pending = self._pending, None
        if pending is not None:
            pending.lost = why
            pending.event.set()

    def _write(self, data: bytes) -> bool:
        with self._write_lock:
            ser = self._serial
            if ser is None:
                return False
            try:
                ser.write(data)
            except (OSError, serial.SerialException) as exc:
                log.info("write to wearable failed: %s", exc)
                self._wake_reader()
                return False
            return True

    def _wake_reader(self) -> None:
        ser = self._serial
        if ser is not None:
            try:
                ser.cancel_read()
            except (OSError, serial.SerialException):
                pass

    # --- connection thread -------------------------------------------------------

    def _run(self) -> None:
        delay = self.backoff_initial
        while not self._stop.is_set():
            port = self._pick_port()
            if port is None:
                self._set_state("disconnected", None, "no wearable found among USB serial ports")
            elif self._session(port):
                delay = self.backoff_initial  # it worked once: retry quickly after a loss
            if self._stop.wait(delay):
                break
            delay = min(delay * 2, self.backoff_max)

    def _pick_port(self) -> str | None:
        if self.port is not None:
            return self.port
        candidates = rank_ports(self._list_ports())
        if not candidates:
            return None
        port = candidates[self._candidate % len(candidates)]
        self._candidate += 1  # a port that fails the handshake: try the next one next time
        return port

    def _session(self, port: str) -> bool:
        """One connection: open, handshake, read until it fails. True if it got connected."""
        try:
            ser = serial.serial_for_url(
                port, baudrate=self.baudrate, timeout=self.read_timeout, write_timeout=1.0
            )
        except (OSError, serial.SerialException) as exc:
            denied = getattr(exc, "errno", None) in (errno.EACCES, errno.EPERM)
            self._set_state("error" if denied else "disconnected", port, f"cannot open {port}: {_reason(exc)}")
            return False
        self._unresponsive.clear()
        with self._write_lock:
            self._serial = ser
        decoder = FrameDecoder()
        connected = False
        try:
            hello = self._handshake(ser, decoder)
            if hello is None:
                if not self._stop.is_set():
                    self._set_state("error", port, f"no HELLO from a wearable on {port}")
                return False
            if hello.version < 1:
                self._set_state("error", port, f"wearable speaks protocol version {hello.version}, need >= 1")
                return False
            self.device = DeviceInfo(port, hello.name, hello.version)
            connected = True
            self._set_state("connected", port, f"{hello.name or 'wearable'}, protocol v{hello.version}")
            while not self._stop.is_set():
                if self._unresponsive.is_set():
                    self._set_state("disconnected", port, "wearable stopped answering; reconnecting")
                    break
                data = ser.read(ser.in_waiting or 1)
                for item in decoder.feed(data):
                    self._dispatch(item)
        except (OSError, serial.SerialException) as exc:
            if not self._stop.is_set():
                log.info("lost %s: %s", port, exc)
                self._set_state("disconnected", port, "connection lost (wearable unplugged?)")
        finally:
            with self._write_lock:
                self._serial = None
            self._fail_pending("connection to the wearable was lost")
            self.device = None
            try:
                ser.close()
            except (OSError, serial.SerialException):
                pass
        return connected

    def _handshake(self, ser: serial.Serial, decoder: FrameDecoder) -> Hello | None:
        """Say HELLO until the device answers with its own (or boots and says it).

        Opening the port flushed anything the device sent before, so the host
        asks; a device that resets on open answers once it has booted.
        """
        self._set_state("connecting", ser.port, "waiting for the wearable's HELLO")
        deadline = time.monotonic() + self.hello_timeout
        next_hello = 0.0
        while not self._stop.is_set():
            now = time.monotonic()
            if now >= deadline:
                return None
            if now >= next_hello:
                # The leading 0x00 ends any half frame the device holds.
                hello = Hello(version=PROTOCOL_VERSION, name=HOST_NAME, seq=self._next_seq())
                with self._write_lock:
                    ser.write(b"\x00" + encode_frame(hello))
                next_hello = now + self.hello_interval
            for item in decoder.feed(ser.read(ser.in_waiting or 1)):
                if isinstance(item, Hello):
                    return item
                if isinstance(item, Nack) and item.error == ErrorCode.VERSION:
                    log.warning("wearable refused protocol version %d", PROTOCOL_VERSION)
        return None

    def _dispatch(self, item: Message | BadFrame) -> None:
        if isinstance(item, (Ack, Nack)):
            with self._pending_lock:
                pending = self._pending
                if pending is not None and pending.seq == item.seq and pending.reply is None:
                    pending.reply = item
                    pending.event.set()
                    return
            log.debug("stray %r from the wearable", item)
        elif isinstance(item, BadFrame):
            log.debug("bad frame from the wearable: %s", item.detail)
        elif isinstance(item, Hello):
            log.info("wearable said HELLO again (it restarted): %s v%d", item.name, item.version)
        elif isinstance(item, Unknown):
            self._write(encode_frame(Nack(error=ErrorCode.UNSUPPORTED, seq=item.seq)))
        else:
            log.debug("unexpected %r from the wearable", item)

    # --- state -------------------------------------------------------------------

    def _set_state(self, state: str, port: str | None, detail: str) -> None:
        # One lock around change and publication keeps subscribers' view in order.
        # Waiters wake after the event is out, so they find it published.
        with self._publish_lock:
            with self._state_lock:
                if (state, port, detail) == (self._state, self._state_port, self._detail):
                    return
                self._state, self._state_port, self._detail = state, port, detail
            log.info("wearable %s%s%s", state, f" on {port}" if port else "", f": {detail}" if detail else "")
            if self.hub is not None:
                self.hub.publish(DeviceState(state=state, port=port, detail=detail))
            with self._state_lock:
                self._connected.notify_all()

    def describe_state(self) -> str:
        """Why commands cannot be sent now, for people: "wearable not connected (...)"."""
        detail = f": {self._detail}" if self._detail else ""
        return f"wearable not connected ({self._state}{detail})"


def _reason(exc: BaseException) -> str:
    code = getattr(exc, "errno", None)
    return os.strerror(code) if isinstance(code, int) else str(exc) or type(exc).__name__
