"""Durability: `facelink serve` killed with SIGKILL in the middle of uploads and
of create_contact, then restarted on the same data folder.

Each user's uploads come from one device, one at a time, so at the moment of
the kill at most one upload per user is unanswered. After every kill the
database must pass SQLite's integrity and foreign-key checks and the hub's own
rules (no contact without faces, no cluster half moved to a contact, nothing
linked across users); every upload answered 200 must have its row with its
faces (at most the one unanswered upload more); every contact answered 200
must be there, whole; and the restarted hub must serve it all.

FACELINK_CRASH_ROUNDS sets the number of kills (the figures in
docs/reliability.md come from a longer run).
"""

from __future__ import annotations

import os
import random
import sqlite3
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from .support import ServerProcess, bearer, consistency_problems, register

pytestmark = [pytest.mark.model, pytest.mark.faces, pytest.mark.slow]

ROUNDS = int(os.environ.get("FACELINK_CRASH_ROUNDS", "2"))
DEVICES = 4
PEOPLE_PER_ROUND = 2  # new people each round, so that there is always a cluster to name


@dataclass
class Device:
    """One user's camera, and what the hub answered it (over every round)."""

    username: str
    auth: dict[str, str]
    people: list[list[Path]]     # each person's photos, in the order the device meets them
    photos: list[Path] = field(default_factory=list)  # this round's
    answered: list[tuple[int, int]] = field(default_factory=list)  # (faces, unknown) of each upload answered 200
    unanswered: int = 0          # uploads cut off by the kill (each may or may not have been stored)
    contacts: dict[int, str] = field(default_factory=dict)  # cid -> name, of create_contact answered 200
    unanswered_contacts: int = 0
    sent: int = 0


def upload_loop(device: Device, base: str, stop: threading.Event, naming: threading.Event) -> None:
    with httpx.Client(base_url=base, timeout=60) as http:
        while not stop.is_set():
            photo = device.photos[device.sent % len(device.photos)]
            device.sent += 1
            try:
                response = http.post("/api/v1/upload_image", content=photo.read_bytes(),
                                     headers={**device.auth, "Content-Type": "image/jpeg"})
            except httpx.TransportError:
                device.unanswered += 1
                return
            assert response.status_code == 200, response.text
            faces = response.json()["faces"]
            device.answered.append((len(faces), sum(f["status"] == "unknown" for f in faces)))


def naming_loop(device: Device, base: str, stop: threading.Event, naming: threading.Event) -> None:
    """Name the device's clusters as they appear, as the desktop app would; `naming` is set
    as each create_contact request goes out."""
    with httpx.Client(base_url=base, timeout=60) as http:
        while not stop.is_set():
            try:
                timeline = http.get("/api/v1/pull_timeline", headers=device.auth).json()
            except httpx.TransportError:
                return
            for cluster_id in sorted(timeline)[:1]:
                name = f"{device.username} friend {len(device.contacts) + device.unanswered_contacts + 1}"
                naming.set()
                try:
                    response = http.post("/api/v1/create_contact", headers=device.auth,
                                         json={"cluster_id": cluster_id, "contact_name": name})
                except httpx.TransportError:
                    device.unanswered_contacts += 1
                    return
                assert response.status_code == 200, response.text
                device.contacts[response.json()["cid"]] = name
            time.sleep(0.05)


def check_database(path: Path, devices: list[Device]) -> tuple[int, int]:
    """Asserts the rules above; returns how many unanswered uploads and contacts had been stored."""
    stored_unanswered = stored_contacts = 0
    db = sqlite3.connect(path)
    try:
        assert consistency_problems(db, whole_clusters=True) == []
        for device in devices:
            (user_id,) = db.execute("SELECT id FROM users WHERE username = ?", [device.username]).fetchone()
            rows = db.execute("SELECT id, faces, unknown FROM uploads WHERE user_id = ? ORDER BY id",
                              [user_id]).fetchall()
            # Every answered upload is there (and at most the unanswered ones more).
            assert len(device.answered) <= len(rows) <= len(device.answered) + device.unanswered, device.username
            assert not Counter(device.answered) - Counter((faces, unknown) for _, faces, unknown in rows)
            stored_unanswered += len(rows) - len(device.answered)
            for upload_id, _, unknown in rows:  # each with every unknown face it stored
                stored = db.execute("SELECT count(*) FROM faces WHERE upload_id = ?", [upload_id]).fetchone()[0]
                assert stored == unknown, (device.username, upload_id)
            contacts = dict(db.execute("SELECT cid, name FROM contacts WHERE user_id = ?", [user_id]).fetchall())
            assert device.contacts.items() <= contacts.items(), device.username
            assert len(contacts) <= len(device.contacts) + device.unanswered_contacts
            stored_contacts += len(contacts) - len(device.contacts)
    finally:
        db.close()
    return stored_unanswered, stored_contacts


def test_sigkill_during_uploads_and_create_contact_loses_nothing_answered(tmp_path, identities):
    rng = random.Random()
    seed = rng.randrange(2**32)
    rng.seed(seed)
    data_dir = tmp_path / "data"
    people = [photos[:4] for photos in identities.values() if len(photos) >= 6]
    server = ServerProcess(data_dir, tmp_path / "server.log")
    devices = []
    for i in range(DEVICES):
        met = rng.sample(people, len(people))
        devices.append(Device(f"device{i}", bearer(register(server.base, f"device{i}")["access_token"]), met))
    kills = []
    for round_number in range(ROUNDS):
        for device in devices:
            first = round_number * PEOPLE_PER_ROUND % len(device.people)
            device.photos = [p for person in device.people[first:first + PEOPLE_PER_ROUND] for p in person]
            rng.shuffle(device.photos)
        stop, naming = threading.Event(), threading.Event()
        threads = [threading.Thread(target=loop, args=(device, server.base, stop, naming))
                   for device in devices for loop in (upload_loop, naming_loop)]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        if round_number % 2:  # aim at create_contact: a random moment just after one is sent
            assert naming.wait(30), "no cluster to name"
            time.sleep(rng.uniform(0.0, 0.5))
        else:  # a random moment, whatever the hub is doing (uploads, mostly)
            time.sleep(rng.uniform(1.0, 3.0))
        moment = time.monotonic() - started
        server.kill()  # SIGKILL, in the middle of whatever it was doing
        stop.set()
        for thread in threads:
            thread.join(60)
        kills.append(moment)
        context = f"seed {seed}, round {round_number + 1}, kill after {moment:.2f} s"
        try:
            check_database(data_dir / "facelink.db", devices)
        except AssertionError as exc:
            raise AssertionError(f"{context}: {exc}") from exc
        # The restarted hub serves what was answered before the kill.
        server = ServerProcess(data_dir, tmp_path / "server.log")
        for device in devices:
            listed = httpx.get(f"{server.base}/api/v1/pull_contacts", headers=device.auth, timeout=60)
            assert listed.status_code == 200, context
            assert set(device.contacts) <= {c["cid"] for c in listed.json()}, context
            assert httpx.get(f"{server.base}/api/v1/pull_timeline", headers=device.auth, timeout=60).status_code == 200
    server.stop()
    stored_unanswered, stored_contacts = check_database(data_dir / "facelink.db", devices)
    uploads = sum(len(d.answered) for d in devices)
    contacts = sum(len(d.contacts) for d in devices)
    print(f"\ncrash rounds: {ROUNDS} (seed {seed}), kills after {', '.join(f'{k:.2f}' for k in kills)} s; "
          f"{uploads} uploads and {contacts} contacts answered, all kept; "
          f"{sum(d.unanswered for d in devices)} uploads ({stored_unanswered} of them stored before the kill) "
          f"and {sum(d.unanswered_contacts for d in devices)} create_contact calls ({stored_contacts} stored before "
          "the kill) cut off by the kills")
    # The kills did land in the middle of real work: uploads were in flight each time.
    assert sum(d.unanswered for d in devices) >= ROUNDS and uploads >= 1
