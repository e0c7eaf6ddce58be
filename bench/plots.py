"""The report's PNG plots (matplotlib, Agg). Each function returns the file names it wrote."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from .recognition import pulls_label  # noqa: E402

HALF_STYLE = {"tune": dict(color="tab:gray", linestyle="--"), "report": dict(color="tab:blue"),
              "all": dict(color="tab:green", linestyle=":")}
HALF_NAME = {"tune": "tuning half", "report": "reporting half", "all": "all people"}
PULL_COLORS = ("tab:blue", "tab:orange", "tab:green", "tab:purple", "tab:brown")


def _save(fig, out: Path, name: str) -> str:
    folder = out / "quality"
    folder.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(folder / name, dpi=110)
    plt.close(fig)
    return f"quality/{name}"


def verification(out: Path, results: dict, threshold: float, engine: str) -> list[str]:
    fig, ax = plt.subplots(figsize=(6, 4.2))
    for name, r in results.items():
        _, far, tar = r["roc"]
        keep = far > 0
        ax.plot(far[keep], tar[keep], label=f"{HALF_NAME[name]} (EER {r['eer']:.2%})", **HALF_STYLE[name])
    for far in (1e-3, 1e-2):
        ax.axvline(far, color="0.85", linewidth=0.8)
    ax.set_xscale("log")
    ax.set_xlim(1e-4, 1)
    ax.set_ylim(0.5, 1.005)
    ax.set_xlabel("false accept rate (different-person pairs accepted)")
    ax.set_ylabel("true accept rate (same-person pairs accepted)")
    ax.set_title(f"Verification ROC, {engine} engine")
    ax.legend(loc="lower right")
    ax.grid(alpha=0.3)
    roc_png = _save(fig, out, "verification_roc.png")

    fig, ax = plt.subplots(figsize=(6, 3.6))
    pairs = results["report"]["pairs"]
    bins = np.linspace(0, 1.2, 61)
    ax.hist(pairs.genuine, bins=bins, density=True, alpha=0.6, label=f"same person ({len(pairs.genuine)} pairs)")
    ax.hist(pairs.impostor, bins=bins, density=True, alpha=0.6,
            label=f"different people ({len(pairs.impostor)} pairs)")
    ax.axvline(threshold, color="k", linestyle=":", label=f"match threshold {threshold}")
    ax.set_xlabel("Euclidean distance between two photos' embeddings")
    ax.set_ylabel("density")
    ax.set_title("Pair distances, reporting half")
    ax.legend(fontsize=8)
    hist_png = _save(fig, out, "verification_distances.png")
    return [roc_png, hist_png]


def identification(out: Path, grids: dict, nearest: dict, threshold: float, margin: float,
                   thresholds: list[float], margins: list[float]) -> list[str]:
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(6.4, 6.4), sharex=True)
    for name, grid in grids.items():
        style = HALF_STYLE[name]
        top.plot(thresholds, [grid[(t, margin)].recognized for t in thresholds], marker=".",
                 label=f"{name} half, mean of references", **style)
        top.plot(thresholds, [nearest[name][t].recognized for t in thresholds], alpha=0.5, marker="x",
                 label=f"{name} half, nearest reference (old rule)", color=style["color"], linestyle=":")
        bottom.plot(thresholds, [grid[(t, margin)].strangers_accepted / grid[(t, margin)].strangers
                                 for t in thresholds], marker=".", label=f"{name}: strangers accepted", **style)
        bottom.plot(thresholds, [grid[(t, margin)].wrong / grid[(t, margin)].known for t in thresholds],
                    marker="s", markersize=3, alpha=0.6, label=f"{name}: wrong person",
                    color=style["color"], linestyle="-.")
    for ax in (top, bottom):
        ax.axvline(threshold, color="k", linestyle=":")
        ax.grid(alpha=0.3)
    top.axhline(0.9, color="tab:red", linewidth=0.8)
    top.set_ylabel("unseen photos of contacts\nrecognized")
    top.set_title(f"Open-set identification (margin {margin})")
    top.legend(fontsize=7, loc="lower right")
    bottom.set_ylabel("share of probes")
    bottom.set_xlabel("match threshold")
    bottom.legend(fontsize=7, loc="upper left")
    first = _save(fig, out, "identification.png")

    fig, axes = plt.subplots(2, 2, figsize=(10, 6), sharex=True, sharey="row")
    colors = plt.cm.viridis(np.linspace(0, 0.9, len(margins)))
    for column, name in enumerate(("tune", "report")):
        grid = grids[name]
        for m, color in zip(margins, colors):
            width = 2.2 if m == margin else 1.0
            axes[0, column].plot(thresholds, [grid[(t, m)].recognized for t in thresholds], color=color,
                                 linewidth=width, label=f"margin {m}")
            axes[1, column].plot(thresholds, [(grid[(t, m)].strangers_accepted + grid[(t, m)].wrong)
                                              / (grid[(t, m)].strangers + grid[(t, m)].known) for t in thresholds],
                                 color=color, linewidth=width, label=f"margin {m}")
        axes[0, column].set_title(f"{HALF_NAME[name]}")
        axes[1, column].set_xlabel("match threshold")
        for ax in axes[:, column]:
            ax.axvline(threshold, color="k", linestyle=":")
            ax.grid(alpha=0.3)
    axes[0, 0].axhline(0.9, color="tab:red", linewidth=0.8)
    axes[0, 1].axhline(0.9, color="tab:red", linewidth=0.8)
    axes[0, 0].set_ylabel("unseen photos of contacts\nrecognized")
    axes[1, 0].set_ylabel("probes answered with a wrong\ncontact or a stranger accepted")
    axes[0, 0].legend(fontsize=7, loc="lower right")
    fig.suptitle("Open-set identification across thresholds and margins")
    second = _save(fig, out, "identification_margins.png")
    return [first, second]


def clustering(out: Path, sweeps: dict, chosen: float, pulls: list[int], thresholds: list[float]) -> list[str]:
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    colors = dict(zip(pulls, PULL_COLORS))
    for ax, name in zip(axes, ("tune", "report")):
        runs = sweeps[name]
        for p in pulls:
            ax.plot(thresholds, [runs[(t, p)].mean("pairwise_precision") for t in thresholds], color=colors[p],
                    marker=".", label=f"precision, {pulls_label(p)}")
            ax.plot(thresholds, [runs[(t, p)].mean("pairwise_recall") for t in thresholds], color=colors[p],
                    linestyle="--", label=f"recall, {pulls_label(p)}")
        ax.axvline(chosen, color="k", linestyle=":")
        ax.axhline(0.99, color="tab:red", linewidth=0.6)
        ax.axhline(0.9, color="tab:red", linewidth=0.6, linestyle="--")
        ax.set_ylim(0.3, 1.01)
        ax.set_title(f"Pairwise precision / recall, {HALF_NAME[name]}")
        ax.set_xlabel("cluster threshold")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7, loc="lower left")
    first = _save(fig, out, "clustering_pairwise.png")

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    runs = sweeps["report"]
    for p in pulls:
        axes[0].plot(thresholds, [runs[(t, p)].mean("bcubed_f") for t in thresholds], marker=".", color=colors[p],
                     label=pulls_label(p))
        axes[1].plot(thresholds, [runs[(t, p)].mean("clusters_per_person") for t in thresholds], marker=".",
                     color=colors[p], label=f"clusters per person, {pulls_label(p)}")
        axes[1].plot(thresholds, [runs[(t, p)].mean("people_merged") for t in thresholds], linestyle="--",
                     color=colors[p], label=f"people merged, {pulls_label(p)}")
    for ax in axes:
        ax.axvline(chosen, color="k", linestyle=":")
        ax.grid(alpha=0.3)
        ax.set_xlabel("cluster threshold")
    axes[0].set_title("BCubed F, reporting half")
    axes[1].set_title("Splits and merges, reporting half")
    axes[0].legend(fontsize=7)
    axes[1].legend(fontsize=6)
    second = _save(fig, out, "clustering_bcubed.png")
    return [first, second]


def face_size(out: Path, rows: dict, min_face_px: int) -> list[str]:
    fig, ax = plt.subplots(figsize=(6, 3.8))
    for name, half in rows.items():
        style = HALF_STYLE[name]
        targets = [r.target for r in half]
        ax.plot(targets, [r.detected / r.probes for r in half], marker="o", label=f"{name}: face found", **style)
        ax.plot(targets, [r.right / r.probes for r in half], marker="s", alpha=0.7, label=f"{name}: recognized",
                color=style["color"], linestyle=":")
        ax.plot(targets, [r.strangers_accepted / r.probes for r in half], marker="x",
                label=f"{name}: accepted as a stranger's contact", color=style["color"], linestyle="-.")
    ax.axvline(min_face_px, color="k", linestyle=":", label=f"min_face_px {min_face_px}")
    ax.set_xlabel("face width in the photo (px)")
    ax.set_ylabel("share of probes")
    ax.set_title("Small faces: found and recognized")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    return [_save(fig, out, "face_size.png")]


def scale(out: Path, pulls: dict, matching: dict, uploads: list) -> list[str]:
    sizes = sorted(pulls)
    steps = list(pulls[sizes[0]])
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for step, marker, color in zip(steps, ("o", "s", "^"), PULL_COLORS):
        axes[0].plot(sizes, [pulls[n][step]["seconds"] for n in sizes], marker=marker, color=color,
                     label=f"pull, {step}")
        axes[1].plot(sizes, [pulls[n][step]["peak_rss_mib"] for n in sizes], marker=marker, color=color,
                     label=f"peak RSS of the process, {step}")
        axes[1].plot(sizes, [pulls[n][step]["tracemalloc_peak_mib"] for n in sizes], marker=marker, color=color,
                     linestyle=":", label=f"tracemalloc peak, {step}")
    middle = len(sizes) // 2
    _reference_slope(axes[0], sizes, pulls[sizes[middle]]["incremental"]["seconds"], "linear", at=middle)
    _reference_slope(axes[0], sizes, pulls[sizes[middle]]["first"]["seconds"], "quadratic", power=2, at=middle)
    axes[0].set_ylabel("seconds")
    axes[1].set_ylabel("MiB")
    for ax in axes:
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("loose faces in the store")
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=6)
    axes[0].set_title("pull_timeline time")
    axes[1].set_title("pull_timeline memory")
    pull_png = _save(fig, out, "scale_pull.png")

    counts = sorted(matching)
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(counts, [matching[c]["match_1_face_s"] * 1e3 for c in counts], marker="o", label="match_faces, 1 face")
    ax.plot(counts, [matching[c]["match_5_faces_s"] * 1e3 for c in counts], marker="s", label="match_faces, 5 faces")
    ax.plot(counts, [matching[c]["gallery_build_s"] * 1e3 for c in counts], marker="^",
            label="Gallery.build (once per change)")
    _reference_slope(ax, counts, matching[counts[-1]]["match_1_face_s"] * 1e3, "linear", at=len(counts) - 1)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("contacts (5 reference faces each)")
    ax.set_ylabel("milliseconds")
    ax.set_title("Matching time")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7)
    match_png = _save(fig, out, "scale_match.png")

    fig, ax = plt.subplots(figsize=(7, 2.8))
    stages = list(uploads[0].stages)
    left = np.zeros(len(uploads))
    for stage in stages:
        widths = np.array([u.stages[stage] * 1e3 for u in uploads])
        ax.barh(range(len(uploads)), widths, left=left, label=stage)
        left += widths
    ax.set_yticks(range(len(uploads)), [f"{u.photo}\n{u.decoded[0]}x{u.decoded[1]} decoded" for u in uploads],
                  fontsize=7)
    ax.set_xlabel("milliseconds (median)")
    ax.set_title("One upload, stage by stage")
    ax.legend(fontsize=7, ncol=6, loc="upper center", bbox_to_anchor=(0.5, -0.3))
    upload_png = _save(fig, out, "upload_stages.png")
    return [pull_png, match_png, upload_png]


def _reference_slope(ax, xs: list, y0: float, label: str, power: float = 1.0, at: int = 0) -> None:
    """A line of slope `power` on log-log axes through (xs[at], y0)."""
    where = "first" if at == 0 else "last" if at == len(xs) - 1 else "middle"
    xs = np.array(xs, dtype=float)
    ax.plot(xs, y0 * (xs / xs[at]) ** power, color="0.55" if power == 1 else "0.8", linewidth=0.9, linestyle="-.",
            label=f"{label} growth through the {where} point")


def realism(out: Path, result: dict) -> list[str]:
    fig, ax = plt.subplots(figsize=(6, 3.6))
    bins = np.linspace(0, 1.3, 66)
    for kind, color in (("real", "tab:blue"), ("synthetic", "tab:orange")):
        r = result[kind]
        ax.hist(r["same_d"], bins=bins, density=True, histtype="step", color=color, linewidth=1.4,
                label=f"{kind}: same person")
        ax.hist(r["different_d"], bins=bins, density=True, histtype="step", color=color, linestyle="--",
                label=f"{kind}: different people")
    ax.set_xlabel("distance between two faces' embeddings")
    ax.set_ylabel("density")
    ax.set_title("Synthetic faces for the scale runs against real ones")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    return [_save(fig, out, "synthetic_realism.png")]
