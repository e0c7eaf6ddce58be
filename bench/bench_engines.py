"""Compare the "dlib" and "onnx" face engines on the shared photo set.

    python -m bench.bench_engines            # from the repository root
    python bench/bench_engines.py --quick    # 3 photos per person, fewer repeats

1. Conversion: time to build the ONNX model from the .dat (cold) and to find
   it again (warm).
2. Every photo of identities/ goes through decode -> HOG -> 5-point chip; both
   embedders embed the same chips, one at a time and in batches of 16 (dlib's
   own batch size). Prints the largest difference between the descriptors
   and the time per face of each engine.
3. End-to-end analyze (decode + detect + align + embed) of a 250x250 photo and
   a 640x480 photo, one face each.
4. Threads: the onnx engine with 1 and 2 intra-op threads, alone and under
   two concurrent uploads (two threads calling analyze), as on the server.
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # measure this checkout, not an installed copy

import numpy as np  # noqa: E402
from tqdm import tqdm  # noqa: E402

from facelink_local.faces import FaceEngine, decode_image, make_engine  # noqa: E402
from facelink_local.faces import onnx_models  # noqa: E402
from facelink_local.faces.dlib_models import FivePointAligner, HogDetector  # noqa: E402
from facelink_local.faces.onnx_models import OnnxResNetEmbedder  # noqa: E402

BATCH = 16
MAX_SIDE = 1600  # uploads are decoded at most this large
PHOTO_250 = "identities/george_w_bush/01.jpg"  # LFW, 250x250
PHOTO_640_SOURCE = "identities/jennifer_aniston/03.jpg"  # 1100x825, scaled to 640x480


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


def photo_640x480(folder: Path) -> bytes:
    from PIL import Image

    with Image.open(folder / PHOTO_640_SOURCE) as image:
        buffer = io.BytesIO()
        image.convert("RGB").resize((640, 480), Image.Resampling.LANCZOS).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


# ---------------------------------------------------------------------------


def bench_conversion() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        path = onnx_models.build_or_load(tmp, packaged_dir=Path(tmp) / "none")
        cold = time.perf_counter() - start
        start = time.perf_counter()
        onnx_models.build_or_load(tmp, packaged_dir=Path(tmp) / "none")
        warm = time.perf_counter() - start
        size = path.stat().st_size
    print(f"conversion: build {cold:.2f} s, cached lookup {warm * 1000:.0f} ms, {size / 1e6:.1f} MB ({path.name})")


def collect_chips(folder: Path, photos: list[Path]) -> tuple[np.ndarray, list[str]]:
    detector, aligner = HogDetector(), FivePointAligner()
    chips, names = [], []
    for photo in tqdm(photos, desc="detect + align", unit="photo"):
        rgb = decode_image(photo.read_bytes(), max_side=MAX_SIDE)
        for face in detector.detect(rgb):
            chips.append(aligner.align(rgb, face).chip)
            names.append(str(photo.relative_to(folder)))
    return np.stack(chips), names


def bench_embedding(dlib_engine: FaceEngine, onnx_engine: FaceEngine, chips: np.ndarray,
                    names: list[str]) -> dict[str, float]:
    d, o = dlib_engine.embedder, onnx_engine.embedder
    d.embed(chips[:1]), o.embed(chips[:1])  # warm up
    single = {"dlib": [], "onnx": []}
    ref, out = [], []
    for i in tqdm(range(len(chips)), desc="embed one at a time", unit="face"):
        chip = chips[i:i + 1]
        # Alternate which engine goes first so background load hits both alike.
        order = (("dlib", d, ref), ("onnx", o, out)) if i % 2 == 0 else (("onnx", o, out), ("dlib", d, ref))
        for name, embedder, sink in order:
            start = time.perf_counter()
            sink.append(embedder.embed(chip)[0])
            single[name].append(time.perf_counter() - start)
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
    diff_b = np.abs(out_b - ref_b).max()
    print(f"\nequality over {len(chips)} faces of {len(set(names))} photos:")
    print(f"  max abs diff, one at a time: {diff.max():.2e} (worst face: {names[worst]})")
    print(f"  max abs diff, batched:       {diff_b:.2e}")
    print(f"  max L2 distance onnx-dlib:   {np.linalg.norm(out - ref, axis=1).max():.2e}")
    print(f"  onnx batched vs one at a time: {np.abs(out_b - out).max():.2e}")

    result = {}
    print(f"\nembedding time per face ({len(chips)} faces):")
    for mode, samples in (("one at a time", single), (f"batches of {BATCH}", batched)):
        s_d, s_o = stats(samples["dlib"]), stats(samples["onnx"])
        print(f"  {mode:16s} dlib {fmt(s_d)}")
        print(f"  {'':16s} onnx {fmt(s_o)}")
        print(f"  {'':16s} dlib/onnx: p50 {s_d['p50'] / s_o['p50']:.1f}x, p95 {s_d['p95'] / s_o['p95']:.1f}x")
        result[mode] = s_o["p50"]
    return result


def bench_analyze(engines: dict[str, FaceEngine], photos: dict[str, bytes], repeat: int) -> None:
    print(f"\nanalyze = decode + detect + align + embed, {repeat} runs each:")
    for label, data in photos.items():
        rgb = decode_image(data)
        found = {name: len(engine.analyze(rgb)) for name, engine in engines.items()}
        results = {}
        for name, engine in engines.items():
            engine.analyze(decode_image(data, max_side=MAX_SIDE))  # warm up
        samples = {name: [] for name in engines}
        for _ in tqdm(range(repeat), desc=f"analyze {label}", unit="run", leave=False):
            for name, engine in engines.items():
                start = time.perf_counter()
                engine.analyze(decode_image(data, max_side=MAX_SIDE))
                samples[name].append(time.perf_counter() - start)
        for name in engines:
            results[name] = stats(samples[name])
            print(f"  {label} {name:4s} {fmt(results[name])}  faces={found[name]}")
        d, o = results["dlib"], results["onnx"]
        print(f"  {label} dlib/onnx: p50 {d['p50'] / o['p50']:.2f}x, p95 {d['p95'] / o['p95']:.2f}x")


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


def bench_threads(chips: np.ndarray, photos: list[bytes], cache_dir: Path, rounds: int) -> None:
    print(f"\nonnx intra-op threads, alone and under two concurrent uploads ({len(photos)} photos, "
          f"{rounds} uploads per thread; embed = time per face inside analyze):")
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
        print(f"  threads={threads} alone:     embed   {fmt(alone)}")
        print(f"  threads={threads} 2 uploads: embed   {fmt(stats(embedder.per_face))}")
        print(f"  threads={threads} 2 uploads: analyze {fmt(stats(analyze_s))}  "
              f"{len(analyze_s) / wall:.2f} photos/s  ({load_average()})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--faces", help="shared photo folder (default: ../shared/faces)")
    parser.add_argument("--quick", action="store_true", help="3 photos per person and fewer repeats")
    parser.add_argument("--repeat", type=int, default=40, help="runs per analyze measurement")
    parser.add_argument("--no-threads", action="store_true", help="skip the thread comparison")
    args = parser.parse_args(argv)

    folder = faces_dir(args.faces)
    people = sorted(p for p in (folder / "identities").iterdir() if p.is_dir())
    photos = [photo for person in people for photo in sorted(person.glob("*.jpg"))[: 3 if args.quick else None]]
    repeat = 10 if args.quick else args.repeat

    print(f"command: python -m bench.bench_engines {' '.join(sys.argv[1:] if argv is None else argv)}".rstrip())
    print(f"machine: {machine()}")
    print(f"start: {load_average()}")
    bench_conversion()

    with tempfile.TemporaryDirectory() as cache:
        dlib_engine = make_engine("dlib")
        onnx_engine = make_engine("onnx", cache_dir=Path(cache))
        for engine in (dlib_engine, onnx_engine):
            start = time.perf_counter()
            engine.load()
            print(f"load {engine.name}: {time.perf_counter() - start:.2f} s  id={engine.id}")
        print(f"onnx intra_op_threads={onnx_engine.embedder.intra_op_threads}")

        chips, names = collect_chips(folder, photos)
        print(f"{len(photos)} photos of {len(people)} people -> {len(chips)} faces")
        bench_embedding(dlib_engine, onnx_engine, chips, names)

        small = (folder / PHOTO_250).read_bytes()
        bench_analyze({"dlib": dlib_engine, "onnx": onnx_engine},
                      {"250x250": small, "640x480": photo_640x480(folder)}, repeat)

        if not args.no_threads:
            upload_photos = [p.read_bytes() for p in photos[:: max(1, len(photos) // 40)]]
            bench_threads(chips, upload_photos, Path(cache), rounds=12 if args.quick else 40)
    print(f"\nend: {load_average()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
