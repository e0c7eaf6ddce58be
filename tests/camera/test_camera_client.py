"""CameraClient against a real hub: uploads, recognition, login errors and token renewal."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
import time

import pytest
from .camera_helpers import PASSWORD, USERNAME

from facelink_local.api import create_app
from facelink_local.camera import CameraClient, Feeder, FolderSource, FrameRejected, LoginRefused
from facelink_local.camera.client import SeenFace, Token, UploadResult, token_lifetime
from facelink_local.hub import Hub
from facelink_local.server import BackgroundServer

pytestmark = [pytest.mark.faces, pytest.mark.model]


def test_upload_says_what_the_hub_saw(camera, people, no_face):
    result = camera.upload(people["bill_gates"][0].read_bytes())
    assert [f.status for f in result.faces] == ["unknown"]
    assert result.summary() == "unknown x1"
    assert camera.upload(no_face.read_bytes()).summary() == "no face"
    assert camera.counts.logins == 1


def test_a_named_contact_is_recognized(camera, api, people, tmp_path):
    for photo in people["colin_powell"][:3]:
        camera.upload(photo.read_bytes())
    clusters = api.timeline()
    cluster_id, seen = max(clusters.items(), key=lambda item: len(item[1]))
    assert len(seen) == 3
    assert api.create_contact(cluster_id, "Colin").status_code == 200

    folder = tmp_path / "later"
    folder.mkdir()
    (folder / "a.jpg").write_bytes(people["colin_powell"][4].read_bytes())
    (folder / "b.jpg").write_bytes(people["bill_gates"][1].read_bytes())
    lines, results = [], []
    Feeder(camera, FolderSource(folder), interval=0, report=lines.append,
           on_sent=lambda frame, result: results.append(result)).run()

    assert results[0].names == ["Colin"]
    assert results[1].names == []
    assert "frame 1 (a.jpg): Colin (0." in lines[0]
    assert lines[1].endswith("frame 2 (b.jpg): unknown x1")
    assert api.contacts()[0]["last_seen"] is not None


def test_wrong_password_is_refused(live_server, account):
    with CameraClient(live_server, USERNAME, "not the password") as client:
        with pytest.raises(LoginRefused, match="Bad username or password"):
            client.upload(b"never sent")


def test_a_frame_that_is_not_an_image_is_rejected(camera):
    with pytest.raises(FrameRejected, match="400.*Invalid image stream"):
        camera.upload(b"these bytes are no photo")


# -- tokens -----------------------------------------------------------------------------------------

@pytest.fixture
def short_tokens(settings, engine) -> Iterator[tuple[str, Hub]]:
    """A hub whose access tokens live 2 s and refresh tokens 4 s."""
    hub = Hub(settings.with_(access_token_ttl=timedelta(seconds=2), refresh_token_ttl=timedelta(seconds=4)),
              engine=engine)
    hub.accounts.register(USERNAME, PASSWORD)
    server = BackgroundServer(create_app(hub), "127.0.0.1", 0).start()
    try:
        yield f"http://127.0.0.1:{server.port}", hub
    finally:
        server.stop()
        hub.close()


def test_token_lifetime_is_read_from_the_claims(short_tokens):
    _, hub = short_tokens
    assert token_lifetime(hub.tokens.issue(1, "access")) == 2
    assert token_lifetime(hub.tokens.issue(1, "refresh")) == 4
    assert token_lifetime("not a jwt") is None
    token = Token("x", received=100.0, lifetime=2.0)
    assert not token.stale(now=100.9)
    assert token.stale(now=101.0)  # refreshed a second early: claims have one-second resolution


def test_access_token_is_refreshed_before_it_expires(short_tokens, people):
    url, _ = short_tokens
    with CameraClient(url, USERNAME, PASSWORD) as client:
        client.upload(people["bill_gates"][0].read_bytes())
        time.sleep(1.3)
        client.upload(people["bill_gates"][1].read_bytes())
        assert (client.counts.logins, client.counts.refreshes, client.counts.unauthorized) == (1, 1, 0)


def test_an_expired_access_token_is_refreshed_after_a_401(short_tokens, people):
    url, _ = short_tokens
    with CameraClient(url, USERNAME, PASSWORD, refresh_ahead=False) as client:
        client.upload(people["bill_gates"][0].read_bytes())
        time.sleep(2.1)
        assert client.upload(people["bill_gates"][1].read_bytes()).summary() == "unknown x1"
        assert (client.counts.logins, client.counts.refreshes, client.counts.unauthorized) == (1, 1, 1)


def test_logs_in_again_when_the_refresh_token_is_refused(short_tokens, people):
    url, hub = short_tokens
    with CameraClient(url, USERNAME, PASSWORD) as client:
        client.upload(people["bill_gates"][0].read_bytes())
        hub.tokens.rotate()  # every issued token stops working
        client.upload(people["bill_gates"][1].read_bytes())
        assert (client.counts.logins, client.counts.refreshes, client.counts.unauthorized) == (2, 0, 1)


def test_logs_in_again_when_the_refresh_token_expires(short_tokens, people):
    url, _ = short_tokens
    with CameraClient(url, USERNAME, PASSWORD) as client:
        client.upload(people["bill_gates"][0].read_bytes())
        time.sleep(3.1)
        client.upload(people["bill_gates"][1].read_bytes())
        assert (client.counts.logins, client.counts.refreshes, client.counts.unauthorized) == (2, 0, 0)


# -- answers ----------------------------------------------------------------------------------------

def test_summary_lists_names_by_distance_then_counts():
    faces = (
        SeenFace("unknown", (0, 0, 50, 50)),
        SeenFace("matched", (60, 0, 50, 50), name="Bob", cid=2, distance=0.41),
        SeenFace("too_small", (0, 60, 20, 20)),
        SeenFace("matched", (120, 0, 50, 50), name="Alice", cid=1, distance=0.3849),
        SeenFace("unknown", (0, 120, 50, 50)),
    )
    result = UploadResult("Image uploaded successfully", faces)
    assert result.summary() == "Alice (0.38), Bob (0.41), unknown x2, too small x1"
    assert result.names == ["Alice", "Bob"]
    assert UploadResult("ok", ()).summary() == "no face"
    assert UploadResult.from_json({"message": "Image uploaded successfully"}).summary() == "Image uploaded successfully"
