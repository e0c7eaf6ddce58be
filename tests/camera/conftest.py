"""Camera tests: a real hub on 127.0.0.1, a registered account, and folders of real photos."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from facelink_local.api import create_app
from facelink_local.camera import CameraClient
from facelink_local.hub import Hub
from facelink_local.server import BackgroundServer

from .camera_helpers import PASSWORD, USERNAME, Restartable

# LFW photos: 250x250, one face each, ~0.2 s apiece through dlib.
PEOPLE = ("bill_gates", "colin_powell", "alvaro_uribe")


@pytest.fixture
def people(identities: dict[str, list[Path]]) -> dict[str, list[Path]]:
    missing = [p for p in PEOPLE if len(identities.get(p, [])) < 5]
    if missing:
        pytest.skip(f"the shared photo set lacks {missing}")
    return {p: identities[p] for p in PEOPLE}


@pytest.fixture
def no_face(shared_faces: Path) -> Path:
    path = shared_faces / "edge" / "no_face_cat.jpg"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    return path


@pytest.fixture
def account(api) -> tuple[str, str]:
    assert api.register(USERNAME, PASSWORD).status_code == 200
    return USERNAME, PASSWORD


@pytest.fixture
def camera(live_server: str, account: tuple[str, str]) -> Iterator[CameraClient]:
    client = CameraClient(live_server, *account)
    yield client
    client.close()


@pytest.fixture
def restartable(hub: Hub) -> Iterator[Restartable]:
    """The hub on a server that tests stop and start again; the account is registered."""
    hub.accounts.register(USERNAME, PASSWORD)
    handle = Restartable(hub, BackgroundServer(create_app(hub), "127.0.0.1", 0).start())
    try:
        yield handle
    finally:
        handle.server.stop()
