"""Load: several cameras upload real photos at once to `facelink serve` on 127.0.0.1.

    .venv/bin/python -m bench.bench_load [--devices 4] [--duration 120] [--engine dlib] [--interval 0]

Starts the hub as a child process on a fresh data folder, registers one
account per device, and runs one `CameraClient` (the device client of
`facelink camera`) per device, each uploading photos of its own people from
shared/faces/identities back to back (or one every --interval seconds) for
--duration seconds. The hub's resident memory is sampled every half second.

Prints uploads/s, faces/s, latency percentiles, errors, memory after warm-up,
at the end, its peak and its trend, and checks that every upload answered 200
is in the database with its faces; then writes the figures into
docs/reliability.md (between its bench_load markers).
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import httpx

from facelink_local.camera import CameraClient
from facelink_local.config import Settings

from .common import REPO, faces_dir, load_note, machine, percentiles
from .hubprocess import HubProcess

PASSWORD = "load test password"
WARM_UP_SHARE = 0.2   # memory is compared from the end of the first fifth of the run on
BEGIN, END = "<!-- bench_load:begin -->", "<!-- bench_load:end -->"


@dataclass
class DeviceLog:
    username: str
    latencies_ms: list[float] = field(default_factory=list)
    faces: int = 0
    unknown: int = 0
    errors: list[str] = field(default_factory=list)


@dataclass
class LoadResult:
    devices: list[DeviceLog]
    seconds: float
    rss: list[tuple[float, int]]      # (seconds since start, KiB)

    @property
    def uploads(self) -> int:
        return sum(len(d.latencies_ms) for d in self.devices)

    @property
    def errors(self) -> list[str]:
        return [e for d in self.devices for e in d.errors]

    def latency(self) -> dict[str, float]:
        return percentiles([ms for d in self.devices for ms in d.latencies_ms])

    def memory(self) -> dict[str, float]:
        """MiB: after warm-up, at the end, peak; trend in MiB per minute after warm-up."""
        after = [(t, kib / 1024) for t, kib in self.rss if t >= self.seconds * WARM_UP_SHARE]
        times, mib = [t for t, _ in after], [m for _, m in after]
        slope = statistics.linear_regression(times, mib).slope * 60 if len(after) > 2 else 0.0
        return {"warm": mib[0], "end": mib[-1], "peak": max(m for _, m in ((t, k / 1024) for t, k in self.rss)),
                "growth": mib[-1] - mib[0], "slope_per_min": slope}


def device_photos(folder: Path, devices: int, people_per_device: int = 3) -> list[list[bytes]]:
    """Each device sees its own few people (so faces cluster as in life), in a shuffled but fixed order."""
    people = sorted(p for p in (folder / "identities").iterdir() if p.is_dir())
    out = []
    for i in range(devices):
        chosen = [people[(i * people_per_device + k) % len(people)] for k in range(people_per_device)]
        photos = [photo.read_bytes() for person in chosen for photo in sorted(person.glob("*.jpg"))]
        out.append(photos[::3] + photos[1::3] + photos[2::3])
    return out


def run_load(base: str, accounts: list[tuple[str, str]], photos: list[list[bytes]], duration_s: float,
             rss_kib=None, interval_s: float = 0.0) -> LoadResult:
    """Each account's camera uploads its photos in a loop for `duration_s`; `rss_kib()` is sampled meanwhile."""
    logs = [DeviceLog(username) for username, _ in accounts]
    start = time.monotonic()
    deadline = start + duration_s
    rss: list[tuple[float, int]] = []
    done = threading.Event()

    def camera(index: int) -> None:
        username, password = accounts[index]
        log, frames = logs[index], photos[index]
        with CameraClient(base, username, password, timeout=120) as client:
            sent = 0
            while time.monotonic() < deadline:
                began = time.monotonic()
                try:
                    result = client.upload(frames[sent % len(frames)])
                except Exception as exc:  # noqa: BLE001 - every failure is counted and reported
                    log.errors.append(f"{type(exc).__name__}: {exc}")
                else:
                    log.latencies_ms.append((time.monotonic() - began) * 1000)
                    log.faces += len(result.faces or ())
                    log.unknown += sum(f.status == "unknown" for f in result.faces or ())
                sent += 1
                if interval_s:
                    time.sleep(max(0.0, interval_s - (time.monotonic() - began)))

    def sampler() -> None:
        while not done.is_set():
            rss.append((time.monotonic() - start, rss_kib()))
            done.wait(0.5)

    threads = [threading.Thread(target=camera, args=(i,)) for i in range(len(accounts))]
    watcher = threading.Thread(target=sampler) if rss_kib else None
    if watcher:
        watcher.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.monotonic() - start
    done.set()
    if watcher:
        watcher.join()
        rss.append((seconds, rss_kib()))
    return LoadResult(logs, seconds, rss)


def lost_uploads(db_path: Path, result: LoadResult) -> list[str]:
    """Answered uploads missing from the database, or stored without their unknown faces: [] when none."""
    problems = []
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as db:
        for log in result.devices:
            rows, unknown, faces = db.execute(
                "SELECT count(*), coalesce(sum(u.unknown), 0), "
                "(SELECT count(*) FROM faces f JOIN users x ON x.id = f.user_id WHERE x.username = ?) "
                "FROM uploads u JOIN users x ON x.id = u.user_id WHERE x.username = ?",
                [log.username, log.username]).fetchone()
            if (rows, unknown, faces) != (len(log.latencies_ms), log.unknown, log.unknown):
                problems.append(f"{log.username}: {len(log.latencies_ms)} answered with {log.unknown} unknown "
                                f"faces; stored {rows} uploads, {unknown} unknown, {faces} face rows")
    return problems


def report(result: LoadResult, lost: list[str], command: str, engine_id: str, interval_s: float, load: str) -> str:
    latency, memory = result.latency(), result.memory()
    faces = sum(d.faces for d in result.devices)
    pace = f"one every {interval_s:g} s each" if interval_s else "back to back (each waits for its answer)"
    lines = [
        BEGIN,
        f"Command: `{command}`  ",
        f"Date: {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC  ",
        f"Machine: {machine()}; {load}  ",
        f"Engine: `{engine_id}`",
        "",
        f"{len(result.devices)} cameras, uploads {pace}, for {result.seconds:.0f} s:",
        "",
        "| figure | value |",
        "|---|---|",
        f"| uploads answered 200 | {result.uploads} |",
        f"| errors | {len(result.errors)} |",
        f"| uploads missing from the database | {len(lost)} |",
        f"| throughput | {result.uploads / result.seconds:.2f} uploads/s, {faces / result.seconds:.2f} faces/s |",
        f"| latency p50 / p95 / max | {latency['p50']:.0f} / {latency['p95']:.0f} / {latency['max']:.0f} ms |",
        f"| hub memory (RSS) after warm-up / at the end / peak | {memory['warm']:.0f} / {memory['end']:.0f} / "
        f"{memory['peak']:.0f} MiB |",
        f"| memory trend after warm-up | {memory['growth']:+.1f} MiB over the run, {memory['slope_per_min']:+.2f} "
        "MiB/min |",
        END,
    ]
    return "\n".join(lines)


def write_section(path: Path, section: str) -> None:
    text = path.read_text(encoding="utf-8")
    if BEGIN not in text or END not in text:
        raise SystemExit(f"{path} has no {BEGIN} ... {END} section to replace")
    before, rest = text.split(BEGIN, 1)
    after = rest.split(END, 1)[1]
    path.write_text(before + section + after, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--devices", type=int, default=4)
    parser.add_argument("--duration", type=float, default=300.0, help="seconds (memory needs a few minutes to settle)")
    parser.add_argument("--interval", type=float, default=0.0, help="seconds between one camera's uploads (0: back to back)")
    parser.add_argument("--engine", default=Settings().engine, help="face engine [the server's default]")
    parser.add_argument("--output", type=Path, default=REPO / "docs" / "reliability.md")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    load = load_note()
    photos = device_photos(faces_dir(), args.devices)
    with tempfile.TemporaryDirectory() as tmp:
        hub = HubProcess(Path(tmp) / "data", Path(tmp) / "hub.log", "--engine", args.engine)
        try:
            accounts = [(f"camera{i}", PASSWORD) for i in range(args.devices)]
            for username, password in accounts:
                httpx.post(f"{hub.base}/api/v1/register", json={"username": username, "password": password},
                           timeout=60).raise_for_status()
            print(f"{args.devices} cameras for {args.duration:g} s against {hub.base} ...")
            result = run_load(hub.base, accounts, photos, args.duration, hub.rss_kib, args.interval)
        finally:
            hub.stop()
        lost = lost_uploads(Path(tmp) / "data" / "facelink.db", result)
        engine_id = (Path(tmp) / "hub.log").read_text().split("Face engine: ", 1)[-1].split("\n", 1)[0]
    command = (f".venv/bin/python -m bench.bench_load --devices {args.devices} --duration {args.duration:g}"
               + (f" --interval {args.interval:g}" if args.interval else "") + f" --engine {args.engine}")
    section = report(result, lost, command, engine_id, args.interval, load)
    print("hub memory, every 10 s: " + ", ".join(
        f"{t:.0f} s {kib / 1024:.0f} MiB" for t, kib in result.rss[::20]))
    print(section)
    for problem in result.errors[:10] + lost:
        print("PROBLEM:", problem)
    if not args.no_write:
        write_section(args.output, section)
        print(f"written to {args.output}")


if __name__ == "__main__":
    main()
