"""Cost at scale: pull_timeline, match_faces and one upload, stage by stage.

pull_timeline runs the real `TimelineService` on a real SQLite `Store` in a
temporary folder, filled with synthetic loose faces (see `synthetic.py`).
Each measurement runs in a fresh Python process (`python -m bench.scale pull
...`) so that its memory is its own: the peak resident set size of each pull
is read from /proc/self/status (VmHWM, reset before the pull through
/proc/self/clear_refs), and a second process repeats the pulls under
tracemalloc for the peak of Python+numpy allocations.
"""

from __future__ import annotations

import argparse
import gc
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import numpy as np

from facelink_local.hub import limit_native_threads
from facelink_local.recognition.matching import Gallery, match_faces
from facelink_local.timefmt import iso, now_utc

FACES_PER_PERSON = 5  # loose faces of one stranger, on average, in the scale runs
NEW_FACES = 20  # faces added before the incremental pull
REPO = Path(__file__).resolve().parent.parent


def _status_mib(field: str) -> float | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return None


def rss_mib() -> float:
    """The resident set size now (MiB)."""
    now = _status_mib("VmRSS")
    return now if now is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def reset_peak_rss() -> bool:
    """Start a new peak-RSS window (Linux >= 4.0); False where that is not possible."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def peak_rss_mib() -> float:
    """The peak resident set size since `reset_peak_rss` (or since the start)."""
    peak = _status_mib("VmHWM")
    return peak if peak is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def engine_id(name: str = "dlib") -> str:
    from facelink_local.faces import make_engine

    return make_engine(name).id  # names the models; does not load them


# ---------------------------------------------------------------- pull_timeline

def _open(db_path: Path):
    from facelink_local.services.timeline import TimelineService
    from facelink_local.services.tuning import TuningService
    from facelink_local.store import Store

    store = Store(db_path)
    return store, TimelineService(store, TuningService(store), engine_id())


def _insert_loose(store, user_id: int, embeddings: np.ndarray, engine: str, start_minutes: int) -> None:
    base = now_utc() - timedelta(days=1)
    rows = [(user_id, engine, np.asarray(e, dtype="<f4").tobytes(),
             iso(base + timedelta(minutes=start_minutes + i)), "[0, 0, 100, 100]", 1.0, b"", b"")
            for i, e in enumerate(embeddings)]
    with store.write() as db:
        db.conn.executemany(
            "INSERT INTO faces (user_id, contact_id, cluster_id, upload_id, engine, embedding, seen_at, box, "
            "score, thumbnail, chip) VALUES (?, NULL, NULL, NULL, ?, ?, ?, ?, ?, ?, ?)", rows)


def fill(db_path: Path, model_path: Path, n: int, seed: int) -> None:
    """A store with one user and `n` loose faces; the next NEW_FACES go to a .npy beside it."""
    from .synthetic import FaceModel, synthetic_like

    model = FaceModel.load(model_path)
    embeddings, _ = synthetic_like(model, max(1, n // FACES_PER_PERSON), FACES_PER_PERSON, n + NEW_FACES, seed)
    store, _ = _open(db_path)
    with store.write() as db:
        db.execute("INSERT INTO users (username, password_hash, created_at) VALUES ('bench', 'x', ?)",
                   [iso(now_utc())])
    _insert_loose(store, 1, embeddings[:n], engine_id(), 0)
    np.save(db_path.with_suffix(".new.npy"), embeddings[n:])
    store.checkpoint()
    store.close()


class _Timer:
    """Wall time spent inside chosen functions (for the breakdown of one pull)."""

    def __init__(self) -> None:
        self.spent: dict[str, float] = {}

    def wrap(self, owner, name: str, label: str) -> None:
        original = getattr(owner, name)

        def timed(*args, **kwargs):
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.spent[label] = self.spent.get(label, 0.0) + time.perf_counter() - start

        setattr(owner, name, timed)


PULL_STEPS = {
    "first": "every face new (as after `recluster`, or faces arriving with no pull between)",
    "incremental": f"{NEW_FACES} new faces among the clustered ones (the usual pull)",
    "no new faces": "nothing new since the last pull (the app polling)",
}


def measure_pull(db_path: Path, trace: bool) -> dict:
    """First pull over everything, then NEW_FACES more faces and a second pull,
    then a third pull with nothing new."""
    from facelink_local.services import timeline as timeline_module

    limit_native_threads()
    timer = _Timer()
    if not trace:
        timer.wrap(timeline_module.TimelineService, "purge_expired", "purge")
        timer.wrap(timeline_module.TimelineService, "_loose", "load faces")
        timer.wrap(timeline_module.clustering, "assign", "cluster")
        timer.wrap(timeline_module.TimelineService, "_record", "write clusters")
    store, service = _open(db_path)
    new = np.load(db_path.with_suffix(".new.npy"))
    result = {}
    for step in PULL_STEPS:
        if step == "incremental":
            n_before = store.read().execute("SELECT count(*) FROM faces").fetchone()[0]
            _insert_loose(store, 1, new, engine_id(), n_before)
        gc.collect()
        timer.spent.clear()
        rss_before = rss_mib()
        windowed = reset_peak_rss()
        if trace:
            tracemalloc.start()
        start = time.perf_counter()
        answer = service.pull(1)
        seconds = time.perf_counter() - start
        entry = {"seconds": seconds, "clusters": len(answer), "faces": sum(len(v) for v in answer.values()),
                 "rss_before_mib": rss_before, "peak_rss_mib": peak_rss_mib(), "peak_windowed": windowed,
                 "breakdown": dict(timer.spent)}
        if not trace:
            entry["breakdown"]["answer"] = seconds - sum(timer.spent.values())
        if trace:
            entry["tracemalloc_peak_mib"] = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
        result[step] = entry
    store.close()
    return result


def run_pulls(sizes: list[int], model_path: Path, seed: int, progress) -> dict[int, dict]:
    """Each size: fill once, then an untraced and a traced run, each on its own copy."""
    results = {}
    for n in sizes:
        with tempfile.TemporaryDirectory(prefix="facelink-bench-") as tmp:
            filled = Path(tmp) / "filled.db"
            _child(["fill", "--db", str(filled), "--model", str(model_path), "--n", str(n), "--seed", str(seed)])
            runs = {}
            for trace in (False, True):
                copy = Path(tmp) / f"run-{trace}.db"
                shutil.copy(filled, copy)
                shutil.copy(filled.with_suffix(".new.npy"), copy.with_suffix(".new.npy"))
                args = ["pull", "--db", str(copy)] + (["--trace"] if trace else [])
                runs[trace] = json.loads(_child(args))
                progress.update(1)
            merged = runs[False]
            for step in merged:
                merged[step]["tracemalloc_peak_mib"] = runs[True][step]["tracemalloc_peak_mib"]
                merged[step]["seconds_traced"] = runs[True][step]["seconds"]
            results[n] = merged
    return results


def _child(args: list[str]) -> str:
    done = subprocess.run([sys.executable, "-m", "bench.scale", *args], cwd=REPO, capture_output=True,
                          text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"bench.scale {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return done.stdout


# ---------------------------------------------------------------- matching

def _median_seconds(fn, repeats: int) -> float:
    fn()  # warm
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def measure_matching(model, contact_counts: list[int], refs: int, threshold: float, margin: float,
                     seed: int) -> dict[int, dict]:
    results = {}
    for contacts in contact_counts:
        rng = np.random.default_rng(seed)
        person = np.repeat(np.arange(contacts), refs)  # exactly `refs` references each
        centres = model.people(contacts, rng)
        embeddings = model.faces(centres, person, rng)
        gallery = Gallery.build(embeddings, person.astype(np.int64))
        probe_1 = model.faces(centres, np.array([0]), rng)
        probe_5 = model.faces(centres, np.array([1, 2, 3, 4, 5]) % contacts, rng)
        repeats = 200 if contacts <= 1000 else 30
        results[contacts] = {
            "references": len(person),
            "match_1_face_s": _median_seconds(lambda: match_faces(probe_1, gallery, threshold, margin), repeats),
            "match_5_faces_s": _median_seconds(lambda: match_faces(probe_5, gallery, threshold, margin), repeats),
            "gallery_build_s": _median_seconds(lambda: Gallery.build(embeddings, person.astype(np.int64)), 10),
            "gallery_mib": embeddings.nbytes / 2**20,
        }
    return results


# ---------------------------------------------------------------- one upload

@dataclass
class StageTimes:
    photo: str
    decoded: tuple[int, int]
    faces: int
    stages: dict[str, float]
    process_s: float  # UploadService.process end to end, for comparison


def measure_upload(photos: list[Path], model, gallery_contacts: int, refs: int, repeats: int,
                   seed: int, engine_name: str = "dlib") -> list[StageTimes]:
    """decode -> detect -> align -> embed -> match -> store, timed inside the hub's own
    `UploadService.process` (its Stopwatch), with the real engine and a real Store
    holding `gallery_contacts` contacts."""
    from facelink_local.config import Settings
    from facelink_local.faces import decode_image, make_engine
    from facelink_local.stopwatch import Stopwatch

    settings = Settings()
    engine = make_engine(engine_name, min_face_px=settings.min_face_px)
    engine.load()
    results = []
    with tempfile.TemporaryDirectory(prefix="facelink-bench-") as tmp:
        from facelink_local.hub import Hub

        hub = Hub(settings.with_(data_dir=Path(tmp) / "data", bcrypt_rounds=4), engine=engine)
        user_id = _bench_user(hub)
        _add_contacts(hub, user_id, model, gallery_contacts, refs, seed)
        start = time.perf_counter()
        hub.gallery.get(user_id, engine.id)
        gallery_load = time.perf_counter() - start
        for path in photos:
            data = path.read_bytes()
            rgb = decode_image(data, max_side=settings.max_decode_side)
            samples: dict[str, list[float]] = {}
            totals, faces = [], 0
            for _ in range(repeats):
                stopwatch = Stopwatch()
                t0 = time.perf_counter()
                answer = hub.uploads.process(user_id, data, stopwatch)
                totals.append(time.perf_counter() - t0)
                faces = sum(f["status"] != "too_small" for f in answer["faces"])
                for name in ("decode", "detect", "align", "embed", "match", "store"):
                    samples.setdefault(name, []).append(stopwatch.seconds.get(name, 0.0))
            results.append(StageTimes(path.name if len(path.parts) < 2 else f"{path.parent.name}/{path.name}",
                                      (int(rgb.shape[1]), int(rgb.shape[0])), faces,
                                      {k: float(np.median(v)) for k, v in samples.items()},
                                      float(np.median(totals))))
        hub.close()
    return results, gallery_load


def _bench_user(hub) -> int:
    with hub.store.write() as db:
        return db["users"].insert({"username": "bench", "password_hash": "x", "created_at": iso(now_utc())}).last_pk


def _add_contacts(hub, user_id: int, model, contacts: int, refs: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    centres = model.people(contacts, rng)
    person = np.repeat(np.arange(contacts), refs)
    embeddings = model.faces(centres, person, rng)
    now = iso(now_utc())
    with hub.store.write() as db:
        first = db.execute("SELECT coalesce(max(cid), 0) FROM contacts").fetchone()[0] + 1
        db.conn.executemany("INSERT INTO contacts (cid, user_id, name, vib_pattern, created_at) VALUES (?, ?, ?, 3, ?)",
                            [(first + c, user_id, f"contact {c}", now) for c in range(contacts)])
        db.conn.executemany(
            "INSERT INTO faces (user_id, contact_id, engine, embedding, seen_at, box, score, thumbnail, chip) "
            "VALUES (?, ?, ?, ?, ?, '[0, 0, 100, 100]', 1.0, x'', x'')",
            [(user_id, first + int(p), hub.engine.id, np.asarray(e, "<f4").tobytes(), now)
             for p, e in zip(person, embeddings)])
    hub.gallery.invalidate(user_id)


# ---------------------------------------------------------------- child entry point

def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    f = sub.add_parser("fill")
    f.add_argument("--db", type=Path, required=True)
    f.add_argument("--model", type=Path, required=True)
    f.add_argument("--n", type=int, required=True)
    f.add_argument("--seed", type=int, default=0)
    p = sub.add_parser("pull")
    p.add_argument("--db", type=Path, required=True)
    p.add_argument("--trace", action="store_true")
    args = parser.parse_args(argv)
    if args.command == "fill":
        fill(args.db, args.model, args.n, args.seed)
    else:
        print(json.dumps(measure_pull(args.db, args.trace)))


if __name__ == "__main__":
    main()
