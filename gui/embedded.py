"""The hub's HTTP server inside the desktop app (no Qt here).

Hypercorn runs on a thread of its own with its own event loop
(`BackgroundServer`); LAN devices use it while the app runs. `restart(port)`
moves it to another port: the new socket is bound first, so a busy port leaves
the old server serving.
"""

from __future__ import annotations

import logging
import threading

from facelink_local.api import create_app
from facelink_local.hub import Hub
from facelink_local.server import BackgroundServer, lan_urls

log = logging.getLogger(__name__)


class EmbeddedServer:
    def __init__(self, hub: Hub, host: str, port: int) -> None:
        self.hub = hub
        self.host = host
        self.requested_port = port
        self._server: BackgroundServer | None = None
        self._lock = threading.Lock()

    def start(self) -> EmbeddedServer:
        """Bind and serve; raises OSError when the port is taken."""
        with self._lock:
            if self._server is None:
                self._server = self._launch(self.requested_port)
        return self

    def _launch(self, port: int) -> BackgroundServer:
        server = BackgroundServer(create_app(self.hub), self.host, port).start()
        if not server.running:
            server.stop()
            raise OSError(f"the server did not start: {server.error}")
        log.info("serving on %s:%d", self.host, server.port)
        return server

    def restart(self, port: int) -> int:
        """Serve on `port` instead (0: any free port); returns the port. The old
        server keeps serving when the new port cannot be bound."""
        with self._lock:
            old = self._server
            if old is not None and old.running and port == old.port:
                return port
            new = self._launch(port)  # raises before anything changes
            self._server = new
        if old is not None:
            old.stop()
        return new.port

    def stop(self) -> None:
        with self._lock:
            server, self._server = self._server, None
        if server is not None:
            server.stop()
            log.info("server stopped")

    @property
    def running(self) -> bool:
        server = self._server
        return server is not None and server.running

    @property
    def port(self) -> int | None:
        server = self._server
        return server.port if server is not None else None

    @property
    def local_url(self) -> str | None:
        port = self.port
        if port is None:
            return None
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else "[::1]" if self.host == "::" else self.host
        return f"http://{host}:{port}"

    def urls(self) -> list[str]:
        """Addresses for LAN devices, the best first (empty when not serving)."""
        port = self.port
        return lan_urls(self.host, port) if port is not None else []

    @property
    def lan_reachable(self) -> bool:
        """False when the server listens on loopback only."""
        return not self.host.startswith("127.") and self.host not in ("localhost", "::1")
