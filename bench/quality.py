"""Recognition quality and scale, measured through the real pipeline.

    python -m bench.quality [--faces DIR | --identities DIR] [--engine dlib|onnx] [--skip-scale]

Reads `<faces>/identities/<person>/<photo>` (or any `<person>/<photo>` folder
given with --identities) and `<faces>/edge/` when there, and writes
`docs/quality.md` with its plots in `docs/quality/`. Every photo goes through
the upload pipeline (decode_image, then the engine's detect, align, embed);
matching, clustering and the scale runs call the server's own code
(match_faces, TimelineService on a real SQLite store). Defaults are chosen on
a seeded half of the people and reported on the other half.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from tqdm import tqdm

from facelink_local.config import Settings, Tuning
from facelink_local.hub import limit_native_threads

from . import detection, plots, recognition, scale
from .common import cpu_name
from .metrics import equal_error_rate, rates_at, roc, tar_at_far
from .photos import OUT, Analyzer, labeled_faces, list_identities
from .recognition import EVERY_FACE
from .report import Report
from .synthetic import FaceModel, compare

REPO = Path(__file__).resolve().parent.parent
THRESHOLDS = [round(t, 2) for t in np.arange(0.36, 0.625, 0.02)]
MARGINS = [0.0, 0.02, 0.04, 0.06, 0.08, 0.10]
CLUSTER_THRESHOLDS = [round(t, 2) for t in np.arange(0.44, 0.665, 0.02)]
PULLS = [1, 5, 20, EVERY_FACE]  # how many pull_timeline calls the faces arrive over
MIN_CLUSTER_SIZES = [1, 2, 3]
OTHER_SPLITS = [1, 2, 3, 4]  # seeds of the other half/half splits in the robustness check
ROBUST_PULLS = 20  # the arrival pattern of the robustness check's clustering (3 arrival orders)
REFS = 3  # reference faces per enrolled contact in the main protocol
TARGET_RECOGNIZED = 0.90
TARGET_PRECISION = 0.99
TARGET_RECALL = 0.90


def machine() -> dict[str, str]:
    import dlib
    import onnxruntime
    import sklearn

    memory = "unknown"
    try:
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f"{kib / 2**20:.1f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return {"cpu": cpu_name(), "cores": str(os.cpu_count()), "memory": memory, "python": platform.python_version(),
            "numpy": np.__version__, "scikit-learn": sklearn.__version__, "dlib": dlib.__version__,
            "onnxruntime": onnxruntime.__version__, "os": platform.platform()}


def load_average() -> str:
    try:
        return " / ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


# ---------------------------------------------------------------- choices

def choose_matching(grid: dict) -> tuple[float, float]:
    """Most photos recognized with no stranger accepted and no wrong person;
    ties go to the lower threshold, then the larger margin (both safer)."""
    safe = [(k, o) for k, o in grid.items() if o.wrong == 0 and o.strangers_accepted == 0]
    if not safe:  # harder photos than any threshold tried: the fewest mistakes, then as above
        fewest = min(o.wrong + o.strangers_accepted for o in grid.values())
        safe = [(k, o) for k, o in grid.items() if o.wrong + o.strangers_accepted == fewest]
    (threshold, margin), _ = max(safe, key=lambda ko: (ko[1].recognized, -ko[0][0], ko[0][1]))
    return threshold, margin


def choose_clustering(runs: dict, pulls: list[int]) -> float:
    """The threshold with the best pairwise recall for the worst number of pulls,
    among those whose pairwise precision (mean over arrival orders) is >= the
    target for every number of pulls: however often the app pulls."""
    ok = [t for t in CLUSTER_THRESHOLDS
          if all(runs[(t, p)].mean("pairwise_precision") >= TARGET_PRECISION for p in pulls)]
    if not ok:  # no threshold tried is precise enough: the most precise one
        return max(CLUSTER_THRESHOLDS, key=lambda t: (min(runs[(t, p)].mean("pairwise_precision") for p in pulls), -t))
    return max(ok, key=lambda t: (min(runs[(t, p)].mean("pairwise_recall") for p in pulls), -t))


def nearest_reference_identify(trials, threshold: float, margin: float) -> recognition.Outcomes:
    """The matching rule before this evaluation (contact distance = nearest
    reference), for comparison; otherwise the same decision as match_faces."""
    from facelink_local.recognition.distances import pairwise

    total = recognition.Outcomes()
    for trial in trials:
        g = trial.gallery
        starts = np.flatnonzero(np.r_[True, g.contact_ids[1:] != g.contact_ids[:-1]])
        per_contact = np.minimum.reduceat(pairwise(trial.probes, g.embeddings), starts, axis=1)
        cids = g.contact_ids[starts]
        for row, truth in zip(per_contact, trial.truth):
            order = np.argsort(row)
            d1, d2 = row[order[0]], (row[order[1]] if len(row) > 1 else np.inf)
            match = cids[order[0]] if d1 < threshold and d2 - d1 >= margin else None
            if truth < 0:
                total.strangers += 1
                total.strangers_accepted += match is not None
            else:
                total.known += 1
                total.missed += match is None
                total.right += match is not None and match == truth
                total.wrong += match is not None and match != truth
    return total


def upload_photos(paths: list[Path], by_path: dict, edge: list, min_face_px: int) -> list[Path]:
    """The photos timed stage by stage: one of the most common size, the largest,
    and the edge photo with the most usable faces."""
    with_face = [p for p in paths if by_path[p].faces]
    sizes = Counter(by_path[p].size for p in with_face)
    common = next(p for p in with_face if by_path[p].size == sizes.most_common(1)[0][0])
    largest = max(with_face, key=lambda p: by_path[p].size[0] * by_path[p].size[1])
    chosen = [common] + ([largest] if largest != common else [])
    group = max(edge, key=lambda a: len(a.usable_faces(min_face_px)), default=None)
    if group is not None and len(group.usable_faces(min_face_px)) > 1:
        chosen.append(group.path)
    return chosen


def other_splits(faces, seeds: list[int], margin: float, defaults: tuple[float, float], engine_id: str,
                 progress) -> list[dict]:
    """The same choice on other half/half splits of the people: is the main
    split's answer luck? Identification at the chosen margin; clustering with
    ROBUST_PULLS pulls over 3 arrival orders."""
    rows = []
    for seed in seeds:
        tune_people, report_people = recognition.split_people(faces.people, seed)
        tune, rep = faces.subset(set(tune_people)), faces.subset(set(report_people))
        trials = {name: recognition.identification_trials(half, repeats=20, refs=REFS, enrolled_share=0.6,
                                                          seed=seed + 1) for name, half in (("tune", tune), ("report", rep))}
        grid = {(t, margin): recognition.identify(trials["tune"], t, margin) for t in THRESHOLDS}
        threshold, _ = choose_matching(grid)
        sweeps = {name: recognition.clustering_sweep(half, CLUSTER_THRESHOLDS, [ROBUST_PULLS], orders=3,
                                                     seed=seed + 2, engine_id=engine_id, desc=f"split {seed} ({name})")
                  for name, half in (("tune", tune), ("report", rep))}
        cluster = choose_clustering(sweeps["tune"], [ROBUST_PULLS])
        rows.append({
            "seed": seed, "threshold": threshold, "cluster_threshold": cluster,
            "at_own": recognition.identify(trials["report"], threshold, margin),
            "at_defaults": recognition.identify(trials["report"], *defaults),
            "clusters_at_own": sweeps["report"][(cluster, ROBUST_PULLS)],
        })
        progress.update(1)
    return rows


# ---------------------------------------------------------------- main

def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.quality", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--faces", type=Path, default=REPO.parent / "shared" / "faces",
                        help="folder with identities/<person>/<photo> (and optionally edge/)")
    parser.add_argument("--identities", type=Path, default=None,
                        help="a <person>/<photo> folder to use instead of FACES/identities")
    parser.add_argument("--engine", default=Settings().engine,
                        help="face engine, as `facelink serve --engine` (default: the server's, %(default)s)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=REPO / "docs")
    parser.add_argument("--no-cache", action="store_true",
                        help="analyse every photo again instead of reading bench/out/ (the cache is keyed by "
                             "the photo's bytes and the engine id, so it never gives stale results)")
    parser.add_argument("--skip-scale", action="store_true", help="quality only (faster)")
    parser.add_argument("--pull-sizes", default="1000,10000,100000")
    parser.add_argument("--contact-counts", default="100,1000,10000")
    args = parser.parse_args(argv)

    started = time.monotonic()
    phases: dict[str, float] = {}
    load_start = load_average()

    def phase(name: str, since: float) -> float:
        now = time.monotonic()
        phases[name] = now - since
        return now

    limit_native_threads()  # as the hub does: one BLAS thread
    settings, tuning = Settings(), Tuning()
    identities_dir = args.identities or args.faces / "identities"
    people = list_identities(identities_dir)
    analyzer = Analyzer(args.engine, settings.max_decode_side, use_cache=not args.no_cache)
    report = Report(args.out, command=_command(argv), engine=args.engine, engine_id=analyzer.engine.id,
                    machine=machine(), date=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"))

    # -- the photos through the pipeline
    t = time.monotonic()
    paths = [p for photos in people.values() for p in photos]
    analyses = analyzer.analyze_files(paths, "embedding identities")
    by_path = {a.path: a for a in analyses}
    faces = labeled_faces(analyses, settings.min_face_px)
    tune_people, report_people = recognition.split_people(faces.people, args.seed)
    halves = {"tune": faces.subset(set(tune_people)), "report": faces.subset(set(report_people))}
    report.dataset(identities_dir, people, faces, tune_people, report_people, settings.min_face_px)
    t = phase("embedding the photos", t)

    # -- open-set identification (chooses the match threshold and margin)
    trials = {name: recognition.identification_trials(half, repeats=20, refs=REFS, enrolled_share=0.6,
                                                       seed=args.seed + 1)
              for name, half in halves.items()}
    grids = {name: recognition.identification_grid(t_, THRESHOLDS, MARGINS, f"identification ({name})")
             for name, t_ in trials.items()}
    threshold, margin = choose_matching(grids["tune"])
    nearest = {name: {th: nearest_reference_identify(trials[name], th, margin) for th in THRESHOLDS}
               for name in trials}
    nearest_threshold = max((th for th in THRESHOLDS if nearest["tune"][th].strangers_accepted == 0
                             and nearest["tune"][th].wrong == 0), default=THRESHOLDS[0])
    other_refs = {}
    for refs in (1, 5):
        t_refs = recognition.identification_trials(halves["report"], repeats=20, refs=refs, enrolled_share=0.6,
                                                   seed=args.seed + 1)
        other_refs[refs] = recognition.identify(t_refs, threshold, margin)
    t = phase("identification", t)

    # -- verification
    verification = {}
    for name, half in (*halves.items(), ("all", faces)):
        pairs = recognition.verification_pairs(half, seed=args.seed)
        eer, eer_threshold = equal_error_rate(pairs.genuine, pairs.impostor)
        verification[name] = {
            "pairs": pairs, "roc": roc(pairs.genuine, pairs.impostor), "eer": eer, "eer_threshold": eer_threshold,
            "tar@1e-2": tar_at_far(pairs.genuine, pairs.impostor, 1e-2),
            "tar@1e-3": tar_at_far(pairs.genuine, pairs.impostor, 1e-3),
            "at_default": rates_at(pairs.genuine, pairs.impostor, threshold),
        }
    t = phase("verification", t)

    # -- clustering, through TimelineService.pull on a real store
    sweeps = {name: recognition.clustering_sweep(half, CLUSTER_THRESHOLDS, PULLS, orders=10, seed=args.seed + 2,
                                                 engine_id=analyzer.engine.id, desc=f"clustering ({name})")
              for name, half in halves.items()}
    cluster_threshold = choose_clustering(sweeps["tune"], PULLS)
    min_sizes = {name: {p: recognition.min_cluster_size_effect(halves[name], sweeps[name][(cluster_threshold, p)],
                                                               MIN_CLUSTER_SIZES) for p in PULLS}
                 for name in halves}
    t = phase("clustering", t)

    # -- the same choices on other splits, and every person at once
    with tqdm(total=len(OTHER_SPLITS), desc="other splits", leave=False) as bar:
        splits = other_splits(faces, OTHER_SPLITS, margin, (threshold, margin), analyzer.engine.id, bar)
    all_trials = recognition.identification_trials(faces, repeats=20, refs=REFS, enrolled_share=0.6,
                                                   seed=args.seed + 1)
    everyone = {t_: recognition.identify(all_trials, t_, margin) for t_ in THRESHOLDS}
    everyone_mistakes = recognition.mistakes(all_trials, threshold, margin)
    t = phase("other splits", t)

    report.verification(verification, threshold, recognition.close_impostors(faces, threshold),
                        plots.verification(args.out, verification, threshold, args.engine))
    report.identification(grids, threshold, margin, THRESHOLDS, MARGINS, nearest, nearest_threshold, other_refs,
                          everyone[threshold], REFS, TARGET_RECOGNIZED,
                          plots.identification(args.out, grids, nearest, threshold, margin, THRESHOLDS, MARGINS))
    report.clustering(sweeps, cluster_threshold, PULLS, CLUSTER_THRESHOLDS, TARGET_PRECISION, TARGET_RECALL,
                      min_sizes, plots.clustering(args.out, sweeps, cluster_threshold, PULLS, CLUSTER_THRESHOLDS))
    report.robustness(args.seed, threshold, margin, cluster_threshold, grids["report"], sweeps["report"], splits,
                      ROBUST_PULLS, everyone, everyone_mistakes, TARGET_RECOGNIZED, TARGET_PRECISION, TARGET_RECALL)

    # -- detection and face size
    edge_dir = args.faces / "edge"
    edge = []
    if edge_dir.is_dir():
        edge = analyzer.analyze_files(sorted(p for p in edge_dir.iterdir() if p.is_file()), "edge photos")
        rows = detection.edge_table(edge, args.faces / "SOURCES.md", settings.min_face_px)
        report.detection(rows, settings.min_face_px, edge)
    targets = [24, 32, 40, 48, 56, 64, 80, 96]
    size_rows = {}
    probes = sum(2 for photos in people.values() if len(photos) >= 5)
    with tqdm(total=len(targets) * probes, desc="face size", leave=False) as bar:
        for name, names in (("tune", tune_people), ("report", report_people)):
            size_rows[name] = detection.face_size_study(analyzer, by_path, {n: people[n] for n in names}, targets,
                                                        threshold, margin, progress=bar)
    report.face_size(size_rows, settings.min_face_px, plots.face_size(args.out, size_rows, settings.min_face_px))
    t = phase("detection and face size", t)

    # -- the defaults
    chosen = {"match_threshold": threshold, "match_margin": margin, "cluster_threshold": cluster_threshold,
              "min_cluster_size": MIN_CLUSTER_SIZES[0]}
    report.defaults(chosen, tuning, grids, sweeps, verification, PULLS, settings.min_face_px)

    # -- scale
    if not args.skip_scale:
        model = FaceModel.fit(faces)
        model_path = OUT / "face-model.npz"
        model_path.parent.mkdir(parents=True, exist_ok=True)
        model.save(model_path)
        realism = compare(model, faces, seed=args.seed)
        sizes = [int(s) for s in args.pull_sizes.split(",")]
        with tqdm(total=2 * len(sizes), desc="pull_timeline", leave=False) as bar:
            pulls = scale.run_pulls(sizes, model_path, args.seed, bar)
        contacts = [int(c) for c in args.contact_counts.split(",")]
        matching = scale.measure_matching(model, contacts, refs=5, threshold=tuning.match_threshold,
                                          margin=tuning.match_margin, seed=args.seed)
        uploads, gallery_load = scale.measure_upload(upload_photos(paths, by_path, edge, settings.min_face_px),
                                                     model, gallery_contacts=1000, refs=5, repeats=5,
                                                     seed=args.seed, engine_name=args.engine)
        report.scale(realism, pulls, matching, uploads, gallery_load,
                     plots.scale(args.out, pulls, matching, uploads) + plots.realism(args.out, realism))
        t = phase("scale", t)

    report.write(run_seconds=time.monotonic() - started, computed=analyzer.computed, phases=phases,
                 load=(load_start, load_average()))
    print(f"wrote {report.path} in {time.monotonic() - started:.0f} s "
          f"({analyzer.computed} photos analysed, the rest from {analyzer.cache_path.name})")


def _command(argv: list[str] | None) -> str:
    import sys

    rest = argv if argv is not None else sys.argv[1:]
    return " ".join(["python -m bench.quality", *rest])


if __name__ == "__main__":
    main()
