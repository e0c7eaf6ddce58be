"""The embedded server starts, answers and stops cleanly, many times over."""

from __future__ import annotations

import os

import socket

import httpx
import pytest
from quart import Quart

from facelink_local.server import BackgroundServer


def tiny_app() -> Quart:
    app = Quart("tiny")

    @app.get("/health")
    async def health():
        return {"status": "ok"}

    return app


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_stop_closes_the_socket_once_and_leaks_nothing() -> None:
    app = tiny_app()
    before = open_fds()
    for _ in range(3):
        server = BackgroundServer(app, "127.0.0.1", 0).start()
        with httpx.Client(base_url=f"http://127.0.0.1:{server.port}") as client:
            assert client.get("/health").status_code == 200
        server.stop()  # Hypercorn closed its descriptor: this must not close it again (EBADF)
        assert not server.running
    assert open_fds() == before


def test_the_port_is_free_again_after_stop() -> None:
    server = BackgroundServer(tiny_app(), "127.0.0.1", 0).start()
    port = server.port
    server.stop()
    again = BackgroundServer(tiny_app(), "127.0.0.1", port).start()
    try:
        assert httpx.get(f"http://127.0.0.1:{port}/health").status_code == 200
    finally:
        again.stop()


def test_a_busy_port_raises_and_leaks_no_socket() -> None:
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen(1)
    before = open_fds()
    try:
        with pytest.raises(OSError):
            BackgroundServer(tiny_app(), "127.0.0.1", taken.getsockname()[1])
        assert open_fds() == before
    finally:
        taken.close()
