"""The wearable end to end: real photos uploaded to the real server make the simulated device buzz.

The server is the real app on Hypercorn on 127.0.0.1 (the `live_server` / `api`
fixtures, and once `facelink serve --serial` as its own process); the wearable
is the simulator on a real pseudo-terminal. A contact is named the way a user
does it: photos of someone arrive as unknown faces, the timeline groups them,
and `create_contact` names the group.
"""

from __future__ import annotations

import os
import random
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bench.hubprocess import wait_healthy
from conftest import REPO, Api
from facelink_local.hub import Hub
from firmware_bridge.haptics import HapticBridge
from firmware_bridge.simulator import DeviceSimulator

from .bridge_helpers import FAST_LINK, StateRecorder, wait_until

pytestmark = [pytest.mark.faces, pytest.mark.model, pytest.mark.slow]

PERSON, NAME = "colin_powell", "Colin Powell"


@pytest.fixture
def wearable(hub: Hub, tmp_path: Path) -> Iterator[tuple[DeviceSimulator, HapticBridge]]:
    """The simulated wearable, and the bridge `facelink serve --serial` starts, on the test's hub."""
    sim = DeviceSimulator(tmp_path / "wearable", tmp_path / "wearable.jsonl").start()
    bridge = HapticBridge.for_hub(hub, str(sim.link_path), gap_s=0.02, link_options=FAST_LINK).start()
    assert bridge.link.wait_connected(5), bridge.detail
    yield sim, bridge
    bridge.stop()
    sim.stop()


def name_contact(api: Api, photos: list[Path], name: str) -> dict:
    """Upload `photos` of one person (unknown to the hub), name their timeline group; the new contact."""
    for photo in photos:
        response = api.upload(photo)
        assert response.status_code == 200, response.text
        assert [f["status"] for f in response.json()["faces"]] == ["unknown"], photo
    timeline = api.timeline()
    cluster_id = max(timeline, key=lambda c: len(timeline[c]))
    assert len(timeline[cluster_id]) == len(photos), timeline
    created = api.create_contact(cluster_id, name)
    assert created.status_code == 200, created.text
    (contact,) = [c for c in api.contacts() if c["cid"] == created.json()["cid"]]
    assert contact["vib_pattern"] != 0
    return contact


def upload_matched(api: Api, photo: Path, name: str = NAME) -> None:
    response = api.upload(photo)
    assert response.status_code == 200, response.text
    faces = response.json()["faces"]
    assert [(f["status"], (f["contact"] or {}).get("name")) for f in faces] == [("matched", name)], photo


def plays(sim: DeviceSimulator) -> list[dict]:
    return [r for r in sim.commands("PLAY") if not r.get("duplicate")]


def stored_uploads(hub: Hub, username: str) -> int:
    return len(hub.uploads.recent(hub.accounts.user_id_for(username), limit=1000))


def test_an_upload_of_a_named_contact_plays_its_pattern(api, hub, wearable, identities):
    sim, bridge = wearable
    photos = identities[PERSON]
    assert api.register("wearer").status_code == 200
    contact = name_contact(api, photos[:3], NAME)
    assert plays(sim) == []  # unknown faces buzz nothing

    upload_matched(api, photos[4])
    (play,) = sim.wait_for_count("PLAY", 1)
    assert (play["pattern"], play["repeat"], play["intensity"]) == (contact["vib_pattern"], 1, 200)
    assert play["reply"] == "ACK"

    # The wearable's settings, changed at run time as the desktop app does, apply to the next pattern.
    hub.tuning.update(haptic_repeat=3, haptic_intensity=90, haptic_cooldown_s=0)
    upload_matched(api, photos[5])
    second = sim.wait_for_count("PLAY", 2)[1]
    assert (second["pattern"], second["repeat"], second["intensity"]) == (contact["vib_pattern"], 3, 90)


def test_the_cooldown_holds_over_repeated_uploads(api, hub, wearable, identities):
    sim, bridge = wearable
    photos = identities[PERSON]
    assert api.register("wearer").status_code == 200
    contact = name_contact(api, photos[:3], NAME)
    for photo in photos[4:8]:  # four photos in a row: the person is still in front of the camera
        upload_matched(api, photo)
    # The cooldown is decided while the upload is processed, before it is answered.
    assert bridge.suppressed == 3
    sim.wait_for_count("PLAY", 1)
    wait_until(lambda: bridge.played == 1, what="the one pattern acknowledged")

    hub.tuning.update(haptic_cooldown_s=0.0)  # the cooldown is over (or made shorter)
    upload_matched(api, photos[8])
    sim.wait_for_count("PLAY", 2)
    wait_until(lambda: bridge.played == 2, what="the second pattern acknowledged")
    assert [p["pattern"] for p in plays(sim)] == [contact["vib_pattern"]] * 2
    assert (bridge.suppressed, bridge.dropped) == (3, 0)


def test_unplug_and_replug_reconnects_and_plays_again(api, hub, wearable, identities):
    sim, bridge = wearable
    states = StateRecorder(hub.events)
    photos = identities[PERSON]
    assert api.register("wearer").status_code == 200
    contact = name_contact(api, photos[:3], NAME)
    hub.tuning.update(haptic_cooldown_s=0)
    upload_matched(api, photos[4])
    sim.wait_for_count("PLAY", 1)
    wait_until(lambda: bridge.played == 1, what="the pattern acknowledged")  # before the cable goes

    sim.unplug()  # the pty closes: the cable is pulled
    wait_until(lambda: bridge.state != "connected", what="the unplug noticed")
    upload_matched(api, photos[5])  # recognized and stored, though nothing can buzz
    wait_until(lambda: bridge.dropped == 1, what="the pattern given up")

    sim.replug()
    assert bridge.link.wait_connected(5), bridge.detail
    upload_matched(api, photos[6])
    sim.wait_for_count("PLAY", 2)
    assert [p["pattern"] for p in plays(sim)] == [contact["vib_pattern"]] * 2
    assert stored_uploads(hub, "wearer") == 6
    seen = states.states()
    assert "disconnected" in seen and seen[-1] == "connected"


def test_garbage_or_silence_from_the_device_never_costs_an_upload(api, hub, wearable, identities):
    sim, bridge = wearable
    rng = random.Random(5)
    photos = identities[PERSON]
    assert api.register("wearer").status_code == 200
    contact = name_contact(api, photos[:3], NAME)
    hub.tuning.update(haptic_cooldown_s=0)
    answered = 3

    # Garbage on the line while patterns are sent: they still get through.
    for photo in photos[4:6]:
        sim.send_raw(rng.randbytes(300))
        sim.send_raw(rng.randbytes(40) + b"\x00")
        upload_matched(api, photo)
        answered += 1
    sim.wait_for_count("PLAY", 2)
    wait_until(lambda: bridge.played == 2, what="both patterns acknowledged")

    # A hung device: it answers nothing. Uploads are answered all the same, and stored.
    sim.set_silent()
    for photo in photos[6:9]:
        sim.send_raw(rng.randbytes(100))
        upload_matched(api, photo)
        answered += 1
    wait_until(lambda: bridge.state != "connected", timeout=10, what="the silent device given up")
    assert httpx.get(f"{api.base}/health", timeout=5).status_code == 200
    assert stored_uploads(hub, "wearer") == answered

    # It comes back to life: the bridge reconnects and plays again.
    sim.set_silent(False)
    assert bridge.link.wait_connected(10), bridge.detail
    before = len(plays(sim))
    upload_matched(api, photos[9])
    sim.wait_for(lambda rs: len([r for r in rs if r["type"] == "PLAY" and not r.get("duplicate")]) > before)
    assert plays(sim)[-1]["pattern"] == contact["vib_pattern"]
    assert stored_uploads(hub, "wearer") == answered + 1


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_facelink_serve_serial_drives_the_wearable(tmp_path, identities):
    """The command a user runs, with the wearable's settings given on the command line."""
    sim = DeviceSimulator(tmp_path / "wearable", tmp_path / "wearable.jsonl").start()
    port = _free_port()
    command = [sys.executable, "-m", "facelink_local", "serve", "--host", "127.0.0.1", "--port", str(port),
               "--data-dir", str(tmp_path / "data"), "--serial", str(sim.link_path),
               "--haptic-repeat", "2", "--haptic-intensity", "120"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("FACELINK_")}
    server = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    api = Api(f"http://127.0.0.1:{port}")
    try:
        wait_healthy(api.base, timeout=60)
        assert api.register("wearer").status_code == 200
        photos = identities[PERSON]
        contact = name_contact(api, photos[:3], NAME)
        upload_matched(api, photos[4])
        (play,) = sim.wait_for_count("PLAY", 1, timeout=10)
        assert (play["pattern"], play["repeat"], play["intensity"]) == (contact["vib_pattern"], 2, 120)
    finally:
        api.close()
        server.terminate()
        output = server.communicate(timeout=30)[0]
        sim.stop()
    assert "Haptic wearable: " + str(sim.link_path) in output, output
    assert "repeat 2, intensity 120" in output
