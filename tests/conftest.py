"""Shared fixtures: real SQLite files in tmp_path, the real face engine, the
real HTTP server on 127.0.0.1, and the shared photo set (skipped without it)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bench.hubprocess import wait_healthy
from facelink_local.api import create_app
from facelink_local.config import Settings
from facelink_local.faces import FaceEngine, make_engine
from facelink_local.faces.onnx_models import build_or_load
from facelink_local.hub import Hub
from facelink_local.server import BackgroundServer

REPO = Path(__file__).resolve().parent.parent
PASSWORD = "correct horse battery"


def _shared_faces_dir() -> Path:
    configured = os.environ.get("FACELINK_SHARED_FACES")
    return Path(configured) if configured else REPO.parent / "shared" / "faces"


@pytest.fixture(scope="session")
def shared_faces() -> Path:
    """The shared labeled photos (identities/, edge/), read in place, never copied."""
    folder = _shared_faces_dir()
    if not (folder / "identities").is_dir():
        pytest.skip(f"shared photo set not found at {folder} (set FACELINK_SHARED_FACES to use another)")
    return folder


@pytest.fixture(scope="session")
def identities(shared_faces: Path) -> dict[str, list[Path]]:
    """{person: [photos in name order]} of shared/faces/identities."""
    return {
        d.name: sorted(d.glob("*.jpg"))
        for d in sorted((shared_faces / "identities").iterdir()) if d.is_dir()
    }


@pytest.fixture(scope="session")
def onnx_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cache folder holding the converted ONNX descriptor, built once per test session."""
    cache = tmp_path_factory.mktemp("onnx-cache")
    build_or_load(cache, packaged_dir=cache / "no-packaged-models")
    return cache


@pytest.fixture(scope="session")
def engine(onnx_cache: Path) -> FaceEngine:
    """The default engine ("onnx": dlib's detector and aligner, dlib's descriptor on onnxruntime),
    loaded once per test session. tests/test_onnx_engine.py checks it against "dlib"."""
    face_engine = make_engine("onnx", cache_dir=onnx_cache)
    face_engine.load()
    return face_engine


@pytest.fixture(scope="session")
def dlib_engine() -> FaceEngine:
    """The "dlib" engine (dlib-bin runs all three models), loaded once per test session."""
    face_engine = make_engine("dlib")
    face_engine.load()
    return face_engine


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    # Cheap bcrypt keeps the suite fast; production uses 12 rounds.
    return Settings(data_dir=tmp_path / "data", bcrypt_rounds=4)


@pytest.fixture
def hub(settings: Settings, engine: FaceEngine) -> Iterator[Hub]:
    the_hub = Hub(settings, engine=engine)
    yield the_hub
    the_hub.close()


@pytest.fixture
async def client(hub: Hub):
    """Quart's test client, with serving hooks run (one endpoint at a time)."""
    app = create_app(hub)
    async with app.test_app() as test_app:
        yield test_app.test_client()


@pytest.fixture
def live_server(hub: Hub) -> Iterator[str]:
    """The real app on Hypercorn, on 127.0.0.1 and a free port; yields its base URL."""
    server = BackgroundServer(create_app(hub), "127.0.0.1", 0).start()
    base = f"http://127.0.0.1:{server.port}"
    try:
        wait_healthy(base)
        yield base
    finally:
        server.stop()


class Api:
    """A thin synchronous client of api-v1 for end-to-end tests."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.http = httpx.Client(base_url=base, timeout=60)
        self.token: str | None = None
        self.refresh_token: str | None = None

    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def register(self, username: str, password: str = PASSWORD) -> httpx.Response:
        response = self.http.post("/api/v1/register", json={"username": username, "password": password})
        if response.status_code == 200:
            self.token = response.json()["access_token"]
            self.refresh_token = response.json()["refresh_token"]
        return response

    def login(self, username: str, password: str = PASSWORD) -> httpx.Response:
        response = self.http.post("/api/v1/login", json={"username": username, "password:": password})
        if response.status_code == 200:
            self.token = response.json()["access_token"]
            self.refresh_token = response.json()["refresh_token"]
        return response

    def upload(self, photo: Path | bytes, content_type: str = "application/octet-stream") -> httpx.Response:
        data = photo if isinstance(photo, bytes) else Path(photo).read_bytes()
        return self.http.post("/api/v1/upload_image", content=data,
                              headers={**self._auth(), "Content-Type": content_type})

    def timeline(self) -> dict[str, list[str]]:
        response = self.http.get("/api/v1/pull_timeline", headers=self._auth())
        assert response.status_code == 200, response.text
        return response.json()

    def contacts(self) -> list[dict]:
        response = self.http.get("/api/v1/pull_contacts", headers=self._auth())
        assert response.status_code == 200, response.text
        return response.json()

    def create_contact(self, cluster_id: str, name: str) -> httpx.Response:
        return self.http.post("/api/v1/create_contact", json={"cluster_id": cluster_id, "contact_name": name},
                              headers=self._auth())

    def edit_contact(self, **body) -> httpx.Response:
        return self.http.patch("/api/v1/edit_contact", json=body, headers=self._auth())

    def delete_contact(self, cid: int | str) -> httpx.Response:
        return self.http.delete(f"/api/v1/delete_contact/{cid}", headers=self._auth())

    def close(self) -> None:
        self.http.close()


@pytest.fixture
def api(live_server: str) -> Iterator[Api]:
    client = Api(live_server)
    yield client
    client.close()
