"""Serving the app with Hypercorn: in the foreground (`facelink serve`) or on a
background thread with its own event loop (the desktop app embeds it)."""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import signal
import socket
import threading

from hypercorn.asyncio import serve
from hypercorn.config import Config

log = logging.getLogger(__name__)


def lan_urls(host: str, port: int) -> list[str]:
    """Addresses a device on the LAN can use to reach this hub."""
    if host not in ("0.0.0.0", "::", ""):
        return [f"http://{host}:{port}"]
    addresses: set[str] = set()
    try:
        for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET):
            addresses.add(info[4][0])
    except OSError:
        pass
    lan = sorted(a for a in addresses if not a.startswith("127."))
    return [f"http://{a}:{port}" for a in lan] + [f"http://{socket.gethostname()}.local:{port}",
                                                    f"http://127.0.0.1:{port}"]


def make_socket(host: str, port: int) -> socket.socket:
    """Bind before serving, so the port is known (and taken) before start."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
        sock.set_inheritable(True)
    except BaseException:
        sock.close()  # a busy port must not leak the socket
        raise
    return sock


def hypercorn_config(sock: socket.socket) -> Config:
    """Hypercorn serves a duplicate of `sock` and closes it; the owner closes the original."""
    config = Config()
    config.bind = [f"fd://{os.dup(sock.fileno())}"]
    config.accesslog = None
    config.errorlog = logging.getLogger("hypercorn.error")
    config.graceful_timeout = 5
    config.h11_max_incomplete_size = 64 * 1024
    return config


def bind_error(port: int, exc: OSError, by_facelink: bool = False) -> str:
    """What to tell a person whose port could not be taken."""
    if exc.errno in (errno.EADDRINUSE, 10048):  # 10048: Windows
        holder = "another FaceLink hub" if by_facelink else "another program"
        return f"Port {port} is in use by {holder}."
    if exc.errno in (errno.EACCES, 10013):
        return f"Port {port} needs administrator rights; choose one above 1023."
    return f"Could not serve on port {port}: {exc.strerror or exc}."


def serve_forever(app, sock: socket.socket) -> None:
    """Serve on `sock` (from make_socket; its owner closes it) in the foreground until SIGINT/SIGTERM."""

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(sig, stop.set)
            except (NotImplementedError, RuntimeError):  # Windows
                signal.signal(sig, lambda *_: loop.call_soon_threadsafe(stop.set))
        await serve(app, hypercorn_config(sock), shutdown_trigger=stop.wait)

    asyncio.run(main())


class BackgroundServer:
    """Hypercorn on a thread of its own; `stop()` shuts it down cleanly."""

    def __init__(self, app, host: str = "127.0.0.1", port: int = 0) -> None:
        self.app = app
        self.sock = make_socket(host, port)
        self.host = host
        self.port = self.sock.getsockname()[1]
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._run, name="facelink-server", daemon=True)
        self.error: BaseException | None = None

    def _run(self) -> None:
        async def main() -> None:
            self._loop = asyncio.get_running_loop()
            self._stop = asyncio.Event()
            self._started.set()
            await serve(self.app, hypercorn_config(self.sock), shutdown_trigger=self._stop.wait)

        try:
            asyncio.run(main())
        except BaseException as exc:  # noqa: BLE001 - reported to the owner thread
            self.error = exc
            log.exception("server thread failed")
        finally:
            self._started.set()

    def start(self) -> "BackgroundServer":
        self._thread.start()
        self._started.wait(10)
        return self

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def stop(self, timeout: float = 10) -> None:
        if self._loop is not None and self._stop is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout)
        self.sock.close()

    def __enter__(self) -> "BackgroundServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
