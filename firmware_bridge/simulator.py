"""A software stand-in for the haptic wearable, on a pseudo-terminal.

    python -m firmware_bridge.simulator --link /tmp/wearable --log /tmp/wearable.jsonl

opens a pty in raw mode, points ``--link`` at its slave side (open it like any
serial port), says HELLO and then speaks the protocol as the firmware does:
ACK or NACK for every frame, HELLO in answer to HELLO, PLAY/STOP drive a
virtual motor. Every frame received is written to ``--log`` as one JSON line.

In the command-line form, SIGUSR1 unplugs the device (the pty closes and the
link disappears) and SIGUSR2 plugs it back in (a new pty behind the same
link). In-process, :class:`DeviceSimulator` offers the same plus fault
injection for tests.
"""

from __future__ import annotations

import argparse
import errno
import json
import logging
import os
import select
import signal
import threading
import time
import tty
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .protocol import (
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
    encode_frame,
    error_name,
    pattern_duration_s,
)

log = logging.getLogger(__name__)

Record = dict[str, Any]


@dataclass
class _Pty:
    """One plugged-in session: the pty pair and the thread serving it."""

    master: int
    slave: int
    wake_r: int
    wake_w: int
    stopping: bool = False
    closed: bool = False
    thread: threading.Thread | None = None


@dataclass
class _Faults:
    drop: int = 0  # swallow the next N frames without answering
    nack: int = 0  # refuse the next N commands with nack_error
    nack_error: ErrorCode = ErrorCode.BUSY
    silent: bool = False  # answer nothing at all


@dataclass
class _Motor:
    pattern: int = 0
    repeat: int = 0
    intensity: int = 0
    until: float = 0.0  # monotonic time the current pattern ends

    def busy(self, now: float) -> bool:
        return now < self.until


class DeviceSimulator:
    """The wearable's protocol behaviour behind a pty at ``link_path``.

    Use as a context manager or call :meth:`start` / :meth:`stop`.
    :meth:`unplug` and :meth:`replug` simulate the USB cable. Every frame
    received is appended to :attr:`records` (and to ``log_path`` as JSON
    lines); :meth:`wait_for` blocks until a record matches.
    """

    def __init__(
        self,
        link_path: str | os.PathLike[str],
        log_path: str | os.PathLike[str] | None = None,
        *,
        name: str = "facelink-sim",
        version: int = PROTOCOL_VERSION,
    ) -> None:
        self.link_path = Path(link_path)
        self.log_path = Path(log_path) if log_path is not None else None
        self.name = name
        self.version = version
        self.records: list[Record] = []
        self.faults = _Faults()
        self.motor = _Motor()
        self._cond = threading.Condition()
        self._write_lock = threading.Lock()
        self._log_lock = threading.Lock()
        self._pty: _Pty | None = None
        self._last_done: tuple[int, int] | None = None  # (type, seq) last executed
        self._offline_decoder = FrameDecoder()  # for answer()

    # --- lifecycle -----------------------------------------------------------

    def start(self) -> DeviceSimulator:
        self.replug()
        return self

    def stop(self) -> None:
        self.unplug()

    def __enter__(self) -> DeviceSimulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def plugged(self) -> bool:
        return self._pty is not None

    def replug(self) -> None:
        """Plug in: a fresh pty that has said its boot HELLO, then ``link_path`` to it."""
        if self._pty is not None:
            return
        master, slave = os.openpty()
        tty.setraw(slave)
        os.set_blocking(master, False)
        wake_r, wake_w = os.pipe()
        # The simulator keeps the slave open, like a device that stays powered
        # whether or not the host has the port open.
        session = _Pty(master, slave, wake_r, wake_w)
        # A real device says HELLO when it boots, before the host can open the
        # port; opening flushes it, so the host asks again with its own HELLO.
        self._write(session, encode_frame(Hello(version=self.version, name=self.name, seq=0)))
        with self._cond:
            self._last_done = None
            self.motor = _Motor()
            self._pty = session
        session.thread = threading.Thread(
            target=self._serve, args=(session,), name="wearable-sim", daemon=True
        )
        session.thread.start()
        tmp = self.link_path.with_name(f".{self.link_path.name}.{os.getpid()}.tmp")
        tmp.unlink(missing_ok=True)
        os.symlink(os.ttyname(slave), tmp)
        os.replace(tmp, self.link_path)

    def unplug(self) -> None:
        """Pull the cable: remove the link and close the pty (the host sees EIO)."""
        with self._cond:
            session, self._pty = self._pty, None
        if session is None:
            return
        # The link goes first: once the pty is closed its /dev/pts number is
        # free, and a host reopening a stale link could land on someone else's.
        if os.path.realpath(self.link_path) == os.ttyname(session.slave):
            self.link_path.unlink(missing_ok=True)
        session.stopping = True
        os.write(session.wake_w, b"x")
        if session.thread is not None:
            session.thread.join(timeout=5)
        with self._write_lock:
            session.closed = True
            for fd in (session.master, session.slave, session.wake_r, session.wake_w):
                os.close(fd)

    # --- test helpers ------------------------------------------------------

    def send_raw(self, data: bytes) -> None:
        """Write arbitrary bytes to the host (garbage, hand-made frames)."""
        session = self._pty
        if session is not None:
            self._write(session, data)

    def drop_next(self, count: int = 1) -> None:
        """Swallow the next ``count`` frames without answering (lost on the wire)."""
        with self._cond:
            self.faults.drop = count

    def nack_next(self, count: int = 1, error: ErrorCode = ErrorCode.BUSY) -> None:
        """Refuse the next ``count`` commands with ``error``."""
        with self._cond:
            self.faults.nack, self.faults.nack_error = count, error

    def set_silent(self, silent: bool = True) -> None:
        """Stop (or resume) answering anything, like a hung firmware."""
        with self._cond:
            self.faults.silent = silent

    def commands(self, kind: str | None = None) -> list[Record]:
        with self._cond:
            return [r for r in self.records if kind is None or r["type"] == kind]

    def wait_for(
        self, predicate: Callable[[list[Record]], bool], timeout: float = 5.0
    ) -> list[Record]:
        """Block until ``predicate(records)`` holds; return the records or raise TimeoutError."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not predicate(self.records):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"simulator records never matched: {self.records!r}")
                self._cond.wait(left)
            return list(self.records)

    def wait_for_count(self, kind: str, count: int, timeout: float = 5.0) -> list[Record]:
        self.wait_for(lambda rs: sum(r["type"] == kind for r in rs) >= count, timeout)
        return self.commands(kind)

    def answer(self, data: bytes) -> bytes:
        """What the device writes back for ``data`` received, without a pty.

        Frames may be cut anywhere across calls. Behaves (and records) as
        if ``data`` had arrived on the port; the firmware's test vectors are
        made with it.
        """
        return self._replies(self._offline_decoder, data)

    # --- device behaviour ----------------------------------------------------

    def _replies(self, decoder: FrameDecoder, data: bytes) -> bytes:
        out = bytearray()
        for item in decoder.feed(data):
            reply = self._handle(item)
            if reply is not None:
                out += encode_frame(reply)
        return bytes(out)

    def _serve(self, session: _Pty) -> None:
        decoder = FrameDecoder()
        while not session.stopping:
            ready, _, _ = select.select([session.master, session.wake_r], [], [])
            if session.wake_r in ready or session.stopping:
                break
            try:
                data = os.read(session.master, 4096)
            except BlockingIOError:
                continue
            except OSError as exc:  # EIO: no slave open; cannot happen while we hold it
                if exc.errno != errno.EIO:
                    raise
                time.sleep(0.01)
                continue
            replies = self._replies(decoder, data)
            if replies:
                self._write(session, replies)

    def _handle(self, item: Message | BadFrame) -> Message | None:
        now = time.monotonic()
        record: Record = {"time": time.time(), "monotonic": now}
        reply: Message | None
        if isinstance(item, BadFrame):
            record.update(type="BAD_FRAME", error=error_name(item.error), detail=item.detail)
        else:
            record.update(_describe(item))
        with self._cond:
            if self.faults.silent:
                reply, record["fault"] = None, "silent"
            elif self.faults.drop > 0:
                self.faults.drop -= 1
                reply, record["fault"] = None, "dropped"
            elif isinstance(item, BadFrame):
                reply = Nack(error=item.error, seq=item.seq or 0)
            else:
                reply = self._execute(item, now, record)
            record["reply"] = _reply_text(reply)
            self.records.append(record)
            self._cond.notify_all()
        self._log(record)
        return reply

    def _execute(self, msg: Message, now: float, record: Record) -> Message | None:
        """What the firmware does with a valid frame; returns the reply."""
        if isinstance(msg, Hello):
            self._last_done = None
            if msg.version < 1:
                return Nack(error=ErrorCode.VERSION, seq=msg.seq)
            return Hello(version=self.version, name=self.name, seq=msg.seq)
        if isinstance(msg, (Ack, Nack)):
            return None  # the device never asks anything, so answers are stray
        if isinstance(msg, Unknown):
            return Nack(error=ErrorCode.UNSUPPORTED, seq=msg.seq)
        if self.faults.nack > 0:
            self.faults.nack -= 1
            record["fault"] = "nacked"
            return Nack(error=self.faults.nack_error, seq=msg.seq)
        key = (msg.type_code, msg.seq)
        if key == self._last_done:
            # A retransmission whose ACK was lost: acknowledge, do not repeat.
            record["duplicate"] = True
            return Ack(seq=msg.seq)
        if isinstance(msg, Play):
            record["preempted"] = self.motor.busy(now)
            self.motor = _Motor(
                msg.pattern, msg.repeat, msg.intensity, now + pattern_duration_s(msg.pattern, msg.repeat)
            )
        elif isinstance(msg, Stop):
            self.motor = _Motor()
        elif not isinstance(msg, Ping):
            return Nack(error=ErrorCode.UNSUPPORTED, seq=msg.seq)
        self._last_done = key
        return Ack(seq=msg.seq)

    def _write(self, session: _Pty, data: bytes) -> None:
        with self._write_lock:
            if session.closed:
                return
            try:
                os.write(session.master, data)
            except (BlockingIOError, OSError) as exc:
                # Nobody is reading and the tty buffer is full, or the pty is
                # gone: a UART would drop the bytes too.
                log.debug("simulator dropped %d bytes: %s", len(data), exc)

    def _log(self, record: Record) -> None:
        if self.log_path is None:
            return
        with self._log_lock, self.log_path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(record) + "\n")


def _describe(msg: Message) -> Record:
    try:
        kind = MsgType(msg.type_code).name
    except ValueError:
        kind = f"UNKNOWN_0x{msg.type_code:02x}"
    out: Record = {"type": kind, "seq": msg.seq}
    if isinstance(msg, Play):
        out.update(pattern=msg.pattern, repeat=msg.repeat, intensity=msg.intensity)
    elif isinstance(msg, Hello):
        out.update(version=msg.version, name=msg.name)
    elif isinstance(msg, Nack):
        out.update(error=error_name(msg.error))
    return out


def _reply_text(reply: Message | None) -> str | None:
    if reply is None:
        return None
    if isinstance(reply, Nack):
        return f"NACK {error_name(reply.error)}"
    return MsgType(reply.type_code).name


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m firmware_bridge.simulator",
        description="Simulate the FaceLink haptic wearable on a pseudo-terminal.",
        epilog="Signals: SIGUSR1 unplugs the device, SIGUSR2 plugs it back in, SIGTERM/SIGINT quit.",
    )
    parser.add_argument("--link", required=True, help="symlink to create, pointing at the pty (the port to open)")
    parser.add_argument("--log", help="append one JSON line per frame received to this file")
    parser.add_argument("--name", default="facelink-sim", help="device name sent in HELLO")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")

    sim = DeviceSimulator(args.link, args.log, name=args.name)
    done = threading.Event()
    requests: list[str] = []

    def on_signal(signum: int, _frame: object) -> None:
        requests.append({signal.SIGUSR1: "unplug", signal.SIGUSR2: "replug"}.get(signum, "quit"))
        done.set()

    for sig in (signal.SIGUSR1, signal.SIGUSR2, signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, on_signal)
    sim.start()
    log.info("wearable simulator on %s -> %s", args.link, os.path.realpath(args.link))
    try:
        while True:
            if not done.wait(1.0):
                continue
            done.clear()
            while requests:
                action = requests.pop(0)
                if action == "quit":
                    return 0
                getattr(sim, action)()
                log.info("%s %s", action, args.link)
    finally:
        sim.stop()


if __name__ == "__main__":
    raise SystemExit(main())
