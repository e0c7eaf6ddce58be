"""Delay from an upload to the wearable: the real server on 127.0.0.1, the simulated wearable on a pty.

    .venv/bin/python -m bench.bench_haptics [--rounds 20] [--engine dlib]

The simulator runs as a process of its own (`python -m firmware_bridge.simulator`),
like a device at the other end of a cable, and logs the moment each frame
arrived. Both processes read CLOCK_MONOTONIC (`time.monotonic()`), so the times
compare directly. Four people are named as contacts the way a user does it;
then photos of them not seen before are uploaded one at a time, each when the
motor is free again (with the cooldown at 0), and for each upload:

- recognized -> device: the server publishes "contact seen" -> the PLAY frame arrives;
- answered -> device: the upload's HTTP answer arrives at the client -> the PLAY
  arrives (negative when the wearable buzzes before the answer is back);
- sent -> device: the client starts the upload -> the PLAY arrives.

The aim is under 300 ms from recognition to the device. Prints the numbers and
writes them as a section of docs/benchmarks.md (the rest is left as it is).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import httpx

from facelink_local.api import create_app
from facelink_local.config import Settings
from facelink_local.events import ContactSeen
from facelink_local.hub import Hub
from facelink_local.server import BackgroundServer
from firmware_bridge.haptics import HapticBridge
from firmware_bridge.protocol import pattern_duration_s

from .common import REPO, faces_dir, load_note, machine, percentiles, write_report

PASSWORD = "benchmark password"
PEOPLE = ["colin_powell", "george_w_bush", "hugo_chavez", "serena_williams"]
ENROL = 3  # photos per person that become the contact
AIM_MS = 300
SECTION = "## Haptic wearable: upload to device"


class DeviceLog:
    """Follows the simulator's JSON-lines log."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0

    def next_play(self, timeout: float = 10.0) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.path.exists():
                with self.path.open(encoding="utf-8") as fh:
                    fh.seek(self.offset)
                    while line := fh.readline():
                        if not line.endswith("\n"):
                            break  # half written: read it next time
                        self.offset += len(line.encode())
                        record = json.loads(line)
                        if record["type"] == "PLAY" and not record.get("duplicate"):
                            return record
            time.sleep(0.001)
        raise TimeoutError("the wearable received no PLAY")


def wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.01)


def enrol(http: httpx.Client, headers: dict, photos: list[Path], name: str) -> int:
    for photo in photos:
        response = http.post("/api/v1/upload_image", content=photo.read_bytes(), headers=headers)
        assert response.status_code == 200, response.text
    timeline = http.get("/api/v1/pull_timeline", headers=headers).json()
    cluster_id = max(timeline, key=lambda c: len(timeline[c]))
    response = http.post("/api/v1/create_contact", json={"cluster_id": cluster_id, "contact_name": name},
                         headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["cid"]


def run(rounds: int, engine: str, folder: Path) -> tuple[dict[str, dict], dict]:
    identities = {p: sorted((folder / "identities" / p).glob("*.jpg")) for p in PEOPLE}
    recognized: list[tuple[float, int]] = []
    lock = threading.Lock()

    def on_seen(event: ContactSeen) -> None:
        with lock:
            recognized.append((time.monotonic(), event.cid))

    with tempfile.TemporaryDirectory() as tmp:
        link, log_path = Path(tmp) / "wearable", Path(tmp) / "wearable.jsonl"
        simulator = subprocess.Popen([sys.executable, "-m", "firmware_bridge.simulator", "--link", str(link),
                                      "--log", str(log_path)], cwd=REPO, stderr=subprocess.DEVNULL)
        hub = Hub(Settings(data_dir=Path(tmp) / "data", engine=engine, bcrypt_rounds=4))
        hub.warm_up()
        server = bridge = None
        try:
            wait_for(link.is_symlink, 10, "the simulator's link")
            hub.tuning.update(haptic_cooldown_s=0.0)  # every upload buzzes
            bridge = HapticBridge.for_hub(hub, str(link)).start()
            if not bridge.link.wait_connected(10):
                raise SystemExit(f"the wearable did not connect: {bridge.detail}")
            hub.events.subscribe(ContactSeen.TOPIC, on_seen)
            server = BackgroundServer(create_app(hub), "127.0.0.1", 0).start()
            with httpx.Client(base_url=f"http://127.0.0.1:{server.port}", timeout=60) as http:
                token = http.post("/api/v1/register", json={"username": "bench", "password": PASSWORD}).json()
                headers = {"Authorization": f"Bearer {token['access_token']}",
                           "Content-Type": "application/octet-stream"}
                cids = {enrol(http, headers, identities[p][:ENROL], p): p for p in PEOPLE}
                device = DeviceLog(log_path)
                unseen = [(p, identities[p][i]) for i in range(ENROL, 10) for p in PEOPLE if i < len(identities[p])]
                samples = {"recognized -> device": [], "answered -> device": [], "sent -> device": [],
                           "upload round trip": []}
                free_at = 0.0
                done = 0
                skipped: list[str] = []
                for person, photo in (unseen * (rounds // len(unseen) + 1)):
                    if done == rounds:
                        break
                    time.sleep(max(0.0, free_at - time.monotonic()))
                    data = photo.read_bytes()
                    with lock:
                        recognized.clear()
                    sent = time.monotonic()
                    response = http.post("/api/v1/upload_image", content=data, headers=headers)
                    answered = time.monotonic()
                    faces = response.json()["faces"]
                    matched = [f for f in faces if f["status"] == "matched"]
                    if response.status_code != 200 or not matched:
                        print(f"skipped {photo.name} of {person}: {[f['status'] for f in faces]}")
                        skipped.append(f"{person}/{photo.name}")
                        continue
                    play = device.next_play()
                    with lock:
                        seen_at = recognized[0][0]
                    arrived = play["monotonic"]
                    assert cids[matched[0]["contact"]["cid"]] == person
                    samples["recognized -> device"].append((arrived - seen_at) * 1000)
                    samples["answered -> device"].append((arrived - answered) * 1000)
                    samples["sent -> device"].append((arrived - sent) * 1000)
                    samples["upload round trip"].append((answered - sent) * 1000)
                    free_at = arrived + pattern_duration_s(play["pattern"], play["repeat"]) + bridge.gap_s + 0.05
                    done += 1
            context = {"engine": hub.engine.id, "load": os.getloadavg(), "skipped": skipped}
        finally:
            if server is not None:
                server.stop()
            if bridge is not None:
                bridge.stop()
            hub.close()
            simulator.terminate()
            simulator.wait(10)
    return {name: percentiles(values) for name, values in samples.items()}, context


def section(results: dict[str, dict], context: dict, command: str) -> str:
    load = ", ".join(f"{x:.1f}" for x in context["load"])
    lines = [
        SECTION,
        "",
        f"Command: `{command}`  ",
        f"Date: {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC  ",
        f"Machine: {machine()}; {context['load_note']}, {load} (1, 5, 15 min) when it finished  ",
        f"Engine: `{context['engine']}`; wearable: the simulator as its own process on a pty, 115200 baud",
        "",
        "One upload at a time of a photo of a named contact (not one of the photos it was named from),",
        "each when the motor was free again; times from `time.monotonic()` in the hub and in the simulator's log.",
        f"Photos whose face was not recognized are left out: {', '.join(context['skipped']) or 'none'}.",
        "",
        "| delay | uploads | p50 ms | p95 ms | max ms | aim ms | p50 / aim | p95 / aim |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, r in results.items():
        aim = AIM_MS if name in ("recognized -> device", "answered -> device") else None
        ratios = f"{r['p50'] / aim:.2f} | {r['p95'] / aim:.2f}" if aim else "- | -"
        lines.append(f"| {name} | {r['n']} | {r['p50']:.1f} | {r['p95']:.1f} | {r['max']:.1f} | "
                     f"{aim or '-'} | {ratios} |")
    lines += [
        "",
        "\"recognized -> device\" is the bridge's own share: the event, the player thread, the PLAY frame on",
        "the pty and the simulator reading it. \"answered -> device\" is negative when the wearable buzzed before",
        "the upload's answer was back at the client. The aim is for recognition to device.",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--engine", default=Settings().engine, help="face engine [the server's default]")
    parser.add_argument("--output", type=Path, default=REPO / "docs" / "benchmarks.md")
    args = parser.parse_args()
    before = load_note()
    results, context = run(args.rounds, args.engine, faces_dir())
    context["load_note"] = before
    text = section(results, context,
                   f".venv/bin/python -m bench.bench_haptics --rounds {args.rounds} --engine {args.engine}")
    print(text)
    write_report(args.output, text)


if __name__ == "__main__":
    main()
