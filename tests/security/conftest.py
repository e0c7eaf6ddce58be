"""Fixtures for the security and reliability suite."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from facelink_local.config import Settings
from facelink_local.hub import Hub

from .support import LiveServer, ServerProcess


@pytest.fixture
def make_hub(tmp_path: Path, engine) -> Iterator[Callable[..., Hub]]:
    """Build hubs on real SQLite files in tmp_path with chosen Settings fields."""
    hubs: list[Hub] = []

    def make(name: str = "data", **changes) -> Hub:
        settings = Settings(data_dir=tmp_path / name, bcrypt_rounds=4).with_(**changes)
        hub = Hub(settings, engine=engine)
        hubs.append(hub)
        return hub

    yield make
    for hub in hubs:
        hub.close()


@pytest.fixture
def serve() -> Iterator[Callable[[Hub], LiveServer]]:
    """serve(hub) -> a LiveServer; stopped at the end of the test."""
    servers: list[LiveServer] = []

    def start(hub: Hub) -> LiveServer:
        server = LiveServer(hub)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def server_process(tmp_path: Path) -> Iterator[Callable[..., ServerProcess]]:
    """start(data_dir) -> a ServerProcess; every one is ended after the test."""
    started: list[ServerProcess] = []

    def start(data_dir: Path | None = None) -> ServerProcess:
        server = ServerProcess(data_dir or tmp_path / "data", tmp_path / "server.log")
        started.append(server)
        return server

    yield start
    for server in started:
        if server.proc.poll() is None:
            server.stop()
