"""Helpers of the camera tests (named apart from other test folders' helpers)."""

from __future__ import annotations

import io
import socket
import shutil
from dataclasses import dataclass
from pathlib import Path

import cv2
from PIL import Image

from facelink_local.api import create_app
from facelink_local.camera import Backoff
from facelink_local.hub import Hub
from facelink_local.server import BackgroundServer

USERNAME = "wearer"
PASSWORD = "correct horse battery"


def fast_backoff() -> Backoff:
    return Backoff(first=0.1, cap=0.3)


def folder_of(tmp_path: Path, *photos: Path, name: str = "photos") -> Path:
    """A folder holding copies of `photos` named 01_<name>, 02_<name>... so name order is the given order."""
    folder = tmp_path / name
    folder.mkdir()
    for i, photo in enumerate(photos, 1):
        shutil.copy(photo, folder / f"{i:02d}_{photo.parent.name}_{photo.name}")
    return folder


def reencoded(photo: Path, quality: int = 75) -> bytes:
    """The same picture saved again: different bytes, nearly the same pixels."""
    buffer = io.BytesIO()
    Image.open(photo).save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def upload_count(hub: Hub) -> int:
    return hub.store.read().execute("SELECT count(*) FROM uploads").fetchone()[0]


@dataclass
class Restartable:
    """A hub's server that can go away and come back on the same port."""

    hub: Hub
    server: BackgroundServer

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.port}"

    def stop(self) -> None:
        self.server.stop()

    def start(self) -> None:
        """Listening again at once; requests wait in the backlog until the app has started."""
        self.server = BackgroundServer(create_app(self.hub), "127.0.0.1", self.server.port).start()


def write_video(path: Path, scenes: list[tuple[Path, int]], fps: int = 10) -> Path:
    """An MJPG video showing each photo for its number of frames."""
    images = [(cv2.imread(str(photo)), count) for photo, count in scenes]
    height, width = images[0][0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (width, height))
    assert writer.isOpened(), "OpenCV cannot write MJPG video here"
    for image, count in images:
        for _ in range(count):
            writer.write(cv2.resize(image, (width, height)))
    writer.release()
    return path


def free_port() -> int:
    """A port nothing listens on (the hub is "unreachable" there)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
