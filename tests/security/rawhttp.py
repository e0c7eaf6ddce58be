"""HTTP/1.1 by hand over a socket, for what a normal client will not do:
send a body byte by byte, lie about its length, or never finish the headers."""

from __future__ import annotations

import json
import select
import socket
import time
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass
class RawOutcome:
    status: int | None        # None: the server cut the connection without an answer
    body: dict | None
    elapsed: float            # seconds from the first byte sent to the answer or the cut
    sent: int                 # body bytes the server took before answering or cutting
    closed: bool              # the server closed the connection afterwards


def head(method: str, path: str, headers: dict[str, str]) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def chunked(pieces: Iterable[bytes]) -> Iterable[bytes]:
    """Transfer-Encoding: chunked framing of `pieces` (no final empty chunk: the body never ends)."""
    for piece in pieces:
        yield b"%x\r\n" % len(piece) + piece + b"\r\n"


def trickle(port: int, start: bytes, pieces: Iterable[bytes], delay: float, give_up_after: float) -> RawOutcome:
    """Send `start` (request line and headers, possibly partial), then `pieces`
    one every `delay` seconds, until the server answers or cuts us off.
    Gives up (a test failure) after `give_up_after` seconds."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=give_up_after)
    began = time.monotonic()
    sent = 0
    received = b""
    try:
        sock.sendall(start)
        for piece in pieces:
            if _readable(sock, 0):
                break
            try:
                sock.sendall(piece)
            except OSError:  # reset or broken pipe: the server cut us off
                break
            sent += len(piece)
            if time.monotonic() - began > give_up_after:
                raise AssertionError(f"the server still took the body after {give_up_after} s")
            if delay:
                _readable(sock, delay)
        received = _read_answer(sock, began + give_up_after)
        elapsed = time.monotonic() - began
        closed = _closed(sock, began + give_up_after)
    finally:
        sock.close()
    status, body = _parse(received)
    return RawOutcome(status, body, elapsed, sent, closed or status is None)


def _readable(sock: socket.socket, timeout: float) -> bool:
    return bool(select.select([sock], [], [], timeout)[0])


def _read_answer(sock: socket.socket, deadline: float) -> bytes:
    data = b""
    while time.monotonic() < deadline:
        if not _readable(sock, max(0.0, deadline - time.monotonic())):
            break
        try:
            piece = sock.recv(65536)
        except OSError:
            break
        if not piece:
            break
        data += piece
        header_end = data.find(b"\r\n\r\n")
        if header_end >= 0:
            length = _content_length(data[:header_end])
            if length is not None and len(data) >= header_end + 4 + length:
                break
    return data


def _closed(sock: socket.socket, deadline: float) -> bool:
    """True when the server closes the connection (EOF or reset) before `deadline`."""
    while time.monotonic() < deadline:
        if not _readable(sock, max(0.0, deadline - time.monotonic())):
            return False
        try:
            if not sock.recv(65536):
                return True
        except OSError:
            return True
    return False


def _content_length(header: bytes) -> int | None:
    for line in header.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value.strip())
    return None


def _parse(data: bytes) -> tuple[int | None, dict | None]:
    if not data.startswith(b"HTTP/1.1 "):
        return None, None
    status = int(data.split(b" ", 2)[1])
    body = data.partition(b"\r\n\r\n")[2]
    try:
        return status, json.loads(body)
    except ValueError:
        return status, None
