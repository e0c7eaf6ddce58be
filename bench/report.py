"""docs/quality.md: the numbers, tables and plots of one run, in plain markdown."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from facelink_local.config import Settings

from .recognition import pulls_label
from .scale import NEW_FACES, PULL_STEPS

HALF_NAME = {"tune": "tuning half", "report": "reporting half", "all": "all people (both halves)"}


def pct(x: float, digits: int = 1) -> str:
    return "n/a" if x != x else f"{100 * x:.{digits}f}%"


def table(header: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def images(names: list[str]) -> str:
    return "\n".join(f"![{Path(n).stem.replace('_', ' ')}]({n})" for n in names)


class Report:
    def __init__(self, out: Path, command: str, engine: str, engine_id: str, machine: dict, date: str) -> None:
        self.out = out
        self.path = out / "quality.md"
        self.command = command
        self.engine = engine
        self.engine_id = engine_id
        self.machine = machine
        self.date = date
        self.summary: list[str] = []
        self.sections: list[str] = []

    # ------------------------------------------------------------ sections

    def dataset(self, folder: Path, people: dict, faces, tune: list[str], report: list[str], min_face_px: int) -> None:
        photos = sum(len(v) for v in people.values())
        lost = [f"`{p.parent.name}/{p.name}`" for p in faces.no_face + faces.undecodable]
        self.split = (tune, report)
        self.sections.append(f"""## The photos

`{folder.name}/`: {len(people)} people, {photos} photos. Each photo goes through the upload pipeline
(`decode_image(data, max_side={_max_side()})` then `engine.analyze`) and keeps its largest face of at least
`min_face_px` = {min_face_px} px. Photos where no face was found: {len(lost)}{': ' + ', '.join(lost) if lost else ''}.

People are split once, with a fixed seed, into a **tuning half** ({len(tune)} people, {_count(faces, tune)} faces),
on which the defaults are chosen, and a **reporting half** ({len(report)} people, {_count(faces, report)} faces),
on which they are reported. Nobody is in both.

- tuning: {', '.join(tune)}
- reporting: {', '.join(report)}

Caveat: the photo set was curated with this same dlib model (photos farther than 0.55 from their folder's
medoid, and near-duplicates, were dropped; see `SOURCES.md`), and most photos are 250x250 LFW press photos.
Real wearable-camera photos will be harder: these numbers are an upper bound, and the margins of safety
below matter more than the last percent.""")

    def verification(self, results: dict, threshold: float, close: list, plots: list[str]) -> None:
        rows = []
        for name, r in results.items():
            p = r["pairs"]
            d = r["at_default"]
            rows.append([HALF_NAME[name], len(p.genuine), f"{len(p.impostor)} (all)" if len(p.impostor) == p.impostor_total
                         else f"{len(p.impostor)} of {p.impostor_total}", f"{pct(r['eer'], 2)} at {r['eer_threshold']:.3f}",
                         f"{pct(r['tar@1e-2'][0])} (t {r['tar@1e-2'][1]:.3f})",
                         f"{pct(r['tar@1e-3'][0])} (t {r['tar@1e-3'][1]:.3f})",
                         pct(d["tar"]), pct(d["far"], 2), pct(d["accuracy"], 2), pct(d["balanced_accuracy"], 2)])
            if name == "report":
                self.summary.append(f"- Verification (reporting half): EER {pct(r['eer'], 2)}; TAR "
                                    f"{pct(r['tar@1e-3'][0])} at FAR 1e-3; at threshold {threshold}: "
                                    f"{pct(d['tar'])} of same-person pairs accepted, {pct(d['far'], 2)} of "
                                    f"different-person pairs accepted.")
        self.sections.append(f"""## Verification: is this pair of photos the same person?

Every same-person pair and every different-person pair of faces (one face per photo) within a half, and
within the whole set; a pair is accepted when its distance is below the threshold. Accuracy counts every
pair (different-person pairs outnumber same-person pairs about 25 to 1); balanced accuracy is the mean of the
two accept/reject rates. Accepting a pair of single photos is a harder test than the product's: the hub
compares a face with the mean of a contact's reference faces (next section), which is why it can use a
threshold well below the EER threshold and still recognize most photos.

Different-person pairs closer than {threshold} (over all people): {len(close)}{": " if close else "."}{", ".join(
    f"`{a.parent.name}/{a.name}` and `{b.parent.name}/{b.name}` ({d:.3f})" for d, a, b in close[:12])}{" ..." if len(close) > 12 else ""}{"." if close else ""}
{"A single photo can be that close to a photo of someone else; a contact is the mean of several references, and a face must also be the margin closer to it than to any other contact." if close else ""}

{table(["half", "same-person pairs", "different-person pairs", "EER", "TAR at FAR 1e-2", "TAR at FAR 1e-3",
        f"TAR at {threshold}", f"FAR at {threshold}", f"accuracy at {threshold}", "balanced accuracy"], rows)}

{images(plots)}""")

    def identification(self, grids, threshold, margin, thresholds, margins, nearest, nearest_threshold, other_refs,
                       everyone, refs, target, plots) -> None:
        report, tune = grids["report"], grids["tune"]
        o = report[(threshold, margin)]
        self.identified = o
        rows = []
        for t in thresholds:
            a, b = tune[(t, margin)], report[(t, margin)]
            n = nearest["report"][t]
            rows.append([f"**{t}**" if t == threshold else t, pct(a.recognized), f"{a.wrong}", f"{a.strangers_accepted}",
                         pct(b.recognized), pct(b.missed / b.known), f"{b.wrong}", f"{b.strangers_accepted} of {b.strangers}",
                         f"{pct(n.recognized)} / {n.wrong} / {n.strangers_accepted}"])
        margin_rows = []
        for m in margins:
            a, b = tune[(threshold, m)], report[(threshold, m)]
            margin_rows.append([f"**{m}**" if m == margin else m, pct(a.recognized), a.wrong, a.strangers_accepted,
                                pct(b.recognized), b.wrong, b.strangers_accepted])
        # the worst case over all margins: does the margin ever matter here?
        near_o = nearest["report"][nearest_threshold]
        ref_rows = [[r, pct(x.recognized), x.missed, x.wrong, f"{x.strangers_accepted} of {x.strangers}"]
                    for r, x in sorted({**other_refs, refs: o}.items())]
        ok = o.wrong == 0 and o.strangers_accepted == 0 and o.recognized >= target
        self.summary.append(
            f"- Identification at threshold {threshold}, margin {margin} (reporting half, {refs} reference photos "
            f"per contact): {pct(o.recognized)} of {o.known} unseen photos of contacts recognized, {o.missed} missed, "
            f"{o.wrong} given to the wrong contact, {o.strangers_accepted} of {o.strangers} stranger photos "
            f"accepted as a contact: target {'met' if ok else 'NOT met'}"
            + ("" if ok else f" ({', '.join(_shortfalls(o, target))})")
            + ".")
        self.sections.append(f"""## Open-set identification, as an upload does it

Each trial enrols {refs} random photos of each of 60% of the half's people as contacts (a contact's reference
faces), then sends every other photo of them (unseen photos: they should be recognized) and every photo of the
other 40% (strangers: they should stay unknown) through `match_faces`, one photo per call, as uploads do.
20 seeded trials per half, the same trials for every threshold and margin. "Wrong" is an enrolled person
answered as another contact; "strangers accepted" is a never-enrolled person answered as some contact. The
trials reuse the same photos in other roles (each half has about 230 photos of 25 people), so the counts
are not independent draws: "0 strangers accepted" means none of these people's photos was taken for
another of them, not that it can never happen.

At margin {margin}, across thresholds (tuning half: recognized / wrong / strangers accepted; then the
reporting half in full; last column: the matching rule before this evaluation, contact distance = its nearest
reference, on the reporting half):

{table(["threshold", "tune: recognized", "tune: wrong", "tune: strangers", "report: recognized", "report: missed",
        "report: wrong", "report: strangers accepted", "report, nearest-reference rule: recognized / wrong / strangers"],
       rows)}

At threshold {threshold}, across margins:

{table(["margin", "tune: recognized", "tune: wrong", "tune: strangers", "report: recognized", "report: wrong",
        "report: strangers"], margin_rows)}

With fewer or more reference photos per contact (reporting half, threshold {threshold}, margin {margin}):

{table(["references per contact", "recognized", "missed", "wrong", "strangers accepted"], ref_rows)}

With all {len(self.split[0]) + len(self.split[1])} people together (both halves, so more look-alikes per gallery; threshold {threshold},
margin {margin}, {refs} references): {pct(everyone.recognized)} of {everyone.known} unseen photos recognized, {everyone.missed}
missed, {everyone.wrong} wrong, {everyone.strangers_accepted} of {everyone.strangers} stranger photos accepted (see "How much of
this is the split?" below).

The old rule (nearest reference), tuned the same way on the tuning half, stops at threshold
{nearest_threshold} and then recognizes {pct(near_o.recognized)} on the reporting half ({near_o.wrong} wrong,
{near_o.strangers_accepted} strangers): one reference photo close by chance to a stranger is enough for it to
accept the stranger, while the mean of several references is a steadier picture of the person.

{images(plots)}""")

    def clustering(self, sweeps, chosen, pulls, thresholds, target_p, target_r, min_sizes, plots) -> None:
        rep, tune = sweeps["report"], sweeps["tune"]
        rows = []
        for t in thresholds:
            row = [f"**{t}**" if t == chosen else t]
            for p in pulls:
                a, b = tune[(t, p)], rep[(t, p)]
                row += [f"{a.mean('pairwise_precision'):.3f} / {a.mean('pairwise_recall'):.3f}",
                        f"{b.mean('pairwise_precision'):.3f} / {b.mean('pairwise_recall'):.3f}"]
            rows.append(row)
        header = ["threshold"] + [f"{h}, {pulls_label(p)}: P / R" for p in pulls for h in ("tune", "report")]
        detail = []
        verdicts = []
        for p in pulls:
            r = rep[(chosen, p)]
            ok = r.mean("pairwise_precision") >= target_p and r.mean("pairwise_recall") >= target_r
            verdicts.append((p, r, ok))
            detail.append([pulls_label(p), f"{r.mean('pairwise_precision'):.4f} (worst {r.worst('pairwise_precision'):.4f})",
                           f"{r.mean('pairwise_recall'):.3f} (worst {r.worst('pairwise_recall'):.3f})",
                           f"{r.mean('bcubed_precision'):.3f} / {r.mean('bcubed_recall'):.3f} / {r.mean('bcubed_f'):.3f}",
                           f"{r.mean('clusters'):.1f} for {r.scores[0].people} people",
                           f"{r.mean('clusters_per_person'):.2f} (worst {r.worst('clusters_per_person'):.2f})",
                           f"{r.mean('people_merged'):.1f} (worst {r.worst('people_merged'):.0f})",
                           "met" if ok else "**not met**"])
        self.clustered = verdicts
        parts = "; ".join(f"{pulls_label(p)}: {r.mean('pairwise_precision'):.3f} / {r.mean('pairwise_recall'):.3f}"
                          for p, r, _ in verdicts)
        missed = [(p, r) for p, r, ok in verdicts if not ok]
        self.summary.append(
            f"- Clustering at threshold {chosen} (reporting half), pairwise precision / recall by how the faces "
            f"arrive: {parts}. Target (precision >= {target_p}, recall >= {target_r}) "
            + ("met for every arrival pattern (means over 10 arrival orders; the worst single order had precision "
               f"{min(r.worst('pairwise_precision') for _, r, _ in verdicts):.3f} and recall "
               f"{min(r.worst('pairwise_recall') for _, r, _ in verdicts):.3f})." if not missed else
               "missed for " + ", ".join(
                   f"{pulls_label(p)} (precision short by {max(0, target_p - r.mean('pairwise_precision')):.3f}, "
                   f"recall short by {max(0, target_r - r.mean('pairwise_recall')):.3f})" for p, r in missed) + "."))
        size_rows = []
        for p in pulls:
            for row in min_sizes["report"][p]:
                size_rows.append([pulls_label(p), row.min_cluster_size, f"{row.clusters_shown:.1f}",
                                  pct(row.faces_hidden), f"{row.clusters_per_person:.2f}", f"{row.people_hidden:.1f}"])
        self.min_size_rows = min_sizes
        self.sections.append(f"""## Clustering of unknown faces, as pull_timeline does it

Each run stores all faces of a half as loose (unknown) faces in a real SQLite store, in a random arrival order
(10 seeded orders), and calls `TimelineService.pull`, the code behind `pull_timeline`: it purges expired
faces, lets new faces join the existing cluster they are closest to and groups the rest with average-linkage
agglomerative clustering. The clusters are read back from the store. "1 pull" stores every face first and
pulls once; "5 pulls" and "20 pulls" store the faces in 5 and 20 batches with a pull after each; "a pull per
face" pulls after every single face (only the joining step runs, never the agglomerative one). A cluster once
made is never merged with another, so the more often the app pulls, the more one person is split. Means
over the arrival orders:

{table(header, rows)}

At the chosen threshold {chosen}, reporting half:

{table(["arrival", "pairwise precision", "pairwise recall", "BCubed P / R / F", "clusters", "clusters per person",
        "people merged (in a cluster with another person)", "target"], detail)}

`min_cluster_size` hides clusters with fewer faces from the timeline (reporting half, threshold {chosen};
"people hidden" have no cluster shown at all):

{table(["arrival", "min_cluster_size", "clusters shown", "faces hidden", "shown clusters per person",
        "people hidden"], size_rows)}

{images(plots)}""")

    def robustness(self, main_seed, threshold, margin, cluster, report_grid, report_sweep, splits, pulls,
                   everyone, mistakes, target, target_p, target_r) -> None:
        main = report_grid[(threshold, margin)]
        main_c = report_sweep[(cluster, pulls)]
        rows = [[f"**{main_seed}** (above)", threshold, _outcome(main), _outcome(main), cluster,
                 f"{main_c.mean('pairwise_precision'):.3f} / {main_c.mean('pairwise_recall'):.3f}"]]
        for r in splits:
            c = r["clusters_at_own"]
            rows.append([r["seed"], r["threshold"], _outcome(r["at_own"]), _outcome(r["at_defaults"]),
                         r["cluster_threshold"], f"{c.mean('pairwise_precision'):.3f} / {c.mean('pairwise_recall'):.3f}"])
        every_rows = [[f"**{t}**" if t == threshold else t, pct(o.recognized), o.wrong,
                       f"{o.strangers_accepted} of {o.strangers}"] for t, o in sorted(everyone.items())]
        safe = [t for t, o in sorted(everyone.items()) if o.wrong == 0 and o.strangers_accepted == 0]
        at = everyone[threshold]
        listed = ", ".join(f"`{who}` taken for `{contact}` {n}x" for (who, contact), n in mistakes.most_common())
        if safe:
            best = everyone[safe[-1]]
            safe_text = (f"The highest threshold with no mistake over all people is {safe[-1]}, where "
                         f"{pct(best.recognized)} of unseen photos are recognized")
            if best.recognized < target:
                safe_text += f", {pct(target - best.recognized)} short of the {pct(target, 0)} target"
        else:
            safe_text = "No threshold tried is free of mistakes over all people"
        own_bad = [r for r in splits if r["at_own"].wrong or r["at_own"].strangers_accepted
                   or r["at_own"].recognized < target]
        c_bad = [r for r in splits if r["clusters_at_own"].mean("pairwise_precision") < target_p
                 or r["clusters_at_own"].mean("pairwise_recall") < target_r]
        self.summary.append(
            f"- Robustness: on {len(splits)} other half/half splits the same rules chose match thresholds "
            f"{', '.join(str(r['threshold']) for r in splits)} and cluster thresholds "
            f"{', '.join(str(r['cluster_threshold']) for r in splits)}; the identification target failed on the "
            f"reporting half of {len(own_bad)} of them, the clustering target on {len(c_bad)} ({pulls} pulls). "
            f"With all people of both halves in one gallery, the defaults accept {at.strangers_accepted} of "
            f"{at.strangers} stranger photos ({pct(at.strangers_accepted / at.strangers, 2)})"
            + (f": {listed}" if listed else "") + f". {safe_text}.")
        self.sections.append(f"""## How much of this is the split?

The defaults come from one seeded split of the people. The same rules on {len(splits)} other splits (their
tuning half chooses, their reporting half reports; identification at margin {margin}; clustering with {pulls}
pulls over 3 arrival orders), and the reporting half of each at this report's defaults ({threshold}, margin
{margin}). Identification outcomes are recognized / wrong / strangers accepted:

{table(["split seed", "match threshold chosen", "reporting half at it", f"reporting half at {threshold}",
        "cluster threshold chosen", "reporting half P / R at it"], rows)}

Every person at once: the same kind of trials with all people of both halves (60% enrolled as contacts, the
others strangers), at margin {margin}. This mixes the tuning half in, so it is no clean test of the choice,
but it puts more look-alikes in one gallery, as a user with many contacts will have:

{table(["threshold", "recognized", "wrong", "strangers accepted"], every_rows)}

At the defaults: {listed or "no mistakes"}. {safe_text}.""")

    def detection(self, rows, min_face_px: int, analyses) -> None:
        body = []
        for r in rows:
            body.append([f"`{r.file}`", r.kind, r.decoded, r.found, r.found_any,
                         r.smallest if r.smallest is not None else "",
                         "" if r.sources_count is None else r.sources_count,
                         "" if r.expected is None else r.expected])
        groups = [r for r in rows if r.kind == "group"]
        no_face = [r for r in rows if r.kind == "no face"]
        exif = [r for r in rows if r.kind == "EXIF-oriented"]
        rotated = [r for r in rows if r.kind == "rotated pixels, no EXIF"]
        upright = next((r for r in rows if r.kind == "EXIF reference"), None)
        same_photo = [r for r in exif if "grayscale_2faces" in r.file]
        same_as_upright = upright is not None and all(r.found == upright.found for r in same_photo)
        counted = [r for r in groups if r.expected is not None]
        found = sum(r.found for r in counted)
        found_any = sum(r.found_any for r in counted)
        expected = sum(r.expected for r in counted)
        sources = sum(r.sources_count or 0 for r in counted)
        false_faces = sum(r.found_any for r in no_face)
        dropped = "; ".join(f"{r.found_any - r.found} of the {r.found_any} found in `{r.file}`"
                            for r in groups if r.found_any > r.found) or "none"
        self.summary.append(
            f"- Detection (edge/): {found_any} faces detected in {len(counted)} group photos with known counts "
            f"({expected} faces in them, {sources} noted in SOURCES.md for dlib), {found} of them at least "
            f"min_face_px wide; {false_faces} false faces on {len(no_face)} no-face photos; "
            f"{sum(r.found > 0 for r in exif)} of {len(exif)} EXIF-oriented photos have their face found"
            + (f" (the three orientations of the 2-face photo give the same {upright.found} face(s) as its upright "
               f"copy)" if same_as_upright and same_photo else "")
            + f"; {sum(r.found > 0 for r in rotated)} of {len(rotated)} photos rotated without EXIF do.")
        self.sections.append(f"""## Detection on edge cases (`edge/`)

Each file through `decode_image` and the engine. "found" counts faces of at least `min_face_px` = {min_face_px}
px (embedded and matched); "any size" counts every face the detector returned. "SOURCES.md" is the count noted
there for dlib HOG (upsample 1); "in the photo" is the number of faces from the file name or its annotations.

- Group photos with a known count: {found_any} faces detected of {expected} in them ({sources} noted in
  SOURCES.md for the same detector), {found} of them at least `min_face_px` wide. The detector's smallest box is
  about {min((r.smallest for r in groups if r.smallest), default=0)} px, and the faces under `min_face_px` are reported `too_small`: {dropped}.
  The crowd photo's ~20 faces are about 20 px: too small for HOG at one upsampling.
- No-face photos: {false_faces} false faces.
- EXIF-oriented photos: faces found in {sum(r.found > 0 for r in exif)} of {len(exif)} (decode_image applies
  the orientation){f"; the 2-face photo in its three EXIF orientations gives {upright.found} face(s) each, as its upright copy without EXIF does (the second person is in profile, which a frontal detector does not find), so orientation costs nothing" if same_as_upright and same_photo else ""}.
  Pixels rotated without an EXIF tag: faces found in {sum(r.found > 0 for r in rotated)} of {len(rotated)}. A frontal
  detector does not find sideways or upside-down faces, so when a photo shows no face at all the hub glances at
  it turned each other way up (a 480 px copy, no upsampling) and analyses it again turned the way that shows a
  clear face (`FaceEngine.analyze_any_way_up`); boxes are given in the photo as sent.

{table(["file", "kind", "decoded", "found", "any size", "smallest (px)", "SOURCES.md", "in the photo"], body)}""")

    def face_size(self, rows: dict, min_face_px: int, plots: list[str]) -> None:
        body = []
        for name in ("tune", "report"):
            for r in rows[name]:
                sides = f"{int(np.median(r.sides))}" if r.sides else ""
                body.append([name, r.target, sides, f"{r.detected} of {r.probes}", r.right, r.wrong,
                             r.strangers_accepted])
        self.sections.append(f"""## How small a face still works (`min_face_px`)

Two photos of each person (with at least 5 photos) are shrunk so that their face is about N px wide, sent
through the pipeline, and matched (ignoring `min_face_px`) against contacts enrolled with 3 other full-size
photos of everyone in the half; the same face is also matched against the contacts without its own person,
where any match is a stranger accepted.

{table(["half", "face width aimed at (px)", "found width (median px)", "face found", "recognized", "wrong contact",
        "accepted as a stranger's contact"], body)}

{images(plots)}""")
        self.face_size_rows = rows

    def _face_size_reason(self, min_face_px: int) -> str:
        rows = getattr(self, "face_size_rows", None)
        if not rows:
            return ""

        def share(name: str, small: bool) -> tuple[int, int, int]:
            picked = [r for r in rows[name] if r.sides and (np.median(r.sides) < min_face_px) == small]
            return (sum(r.right for r in picked), sum(r.detected for r in picked),
                    sum(r.strangers_accepted for r in picked))

        parts = []
        for name in ("tune", "report"):
            small, large = share(name, True), share(name, False)
            parts.append(f"{name} half: {pct(small[0] / max(small[1], 1), 0)} of the faces found below it recognized "
                         f"({small[2]} accepted as a stranger's contact) against {pct(large[0] / max(large[1], 1), 0)} "
                         f"of the larger ones ({large[2]})")
        return ("HOG at one upsampling finds nothing much smaller than its ~37 px window, and the faces it finds "
                "there are recognized less often (" + "; ".join(parts) + "). Lowering it would match more faces in "
                "group photos, but with noisier embeddings, for the users most hurt by a wrong match; the data does "
                "not make a case for it.")

    def defaults(self, chosen: dict, tuning, grids, sweeps, verification, pulls, min_face_px: int) -> None:
        current = {k: getattr(tuning, k) for k in chosen}
        same = all(abs(current[k] - v) < 1e-9 for k, v in chosen.items())
        rows = [[k, v, current[k]] for k, v in chosen.items()]
        self.chosen = chosen
        threshold, margin, cluster = chosen["match_threshold"], chosen["match_margin"], chosen["cluster_threshold"]
        tune = grids["tune"]
        thresholds = sorted({t for t, _ in tune})
        above = [t for t in thresholds if t > threshold]
        o = tune[(threshold, margin)]
        match_why = (f"On the tuning half, threshold {threshold} with margin {margin} recognized {pct(o.recognized)} of "
                     f"unseen photos with no stranger accepted and no wrong contact" if not (o.wrong or o.strangers_accepted)
                     else f"No threshold and margin tried was free of mistakes on the tuning half; threshold {threshold} "
                          f"with margin {margin} had the fewest ({o.wrong} wrong, {o.strangers_accepted} strangers "
                          f"accepted) and recognized {pct(o.recognized)}")
        if above:
            n = tune[(above[0], margin)]
            match_why += (f"; the next step, {above[0]}, accepted {n.strangers_accepted} of {n.strangers} stranger "
                          f"photos for {pct(n.recognized - o.recognized)} more recognized")
        ties = [m for (t, m), x in tune.items() if t == threshold and x.right == o.right and x.wrong == 0
                and x.strangers_accepted == 0]
        wrong_anywhere = sum(x.wrong for x in tune.values())
        match_why += (f". Margins {', '.join(str(m) for m in sorted(ties))} did equally well there; the largest of "
                      f"them is kept, because the margin is what refuses a face that is nearly as close to a second "
                      f"contact"
                      + (" (no wrong contact occurred at any threshold and margin tried on the tuning half)."
                         if not wrong_anywhere else
                         f" ({wrong_anywhere} wrong contacts over all thresholds and margins tried on the tuning half).")
                      if len(ties) > 1 else ".")
        runs = sweeps["tune"]
        cthresholds = sorted({t for t, _ in runs})
        def worst(t, name, fn=min):
            return fn(runs[(t, p)].mean(name) for p in pulls)
        c_above = [t for t in cthresholds if t > cluster]
        cluster_why = (f"On the tuning half, threshold {cluster} kept pairwise precision at "
                       f"{worst(cluster, 'pairwise_precision'):.3f} or more for every arrival pattern, with recall "
                       f"{worst(cluster, 'pairwise_recall'):.3f} or more")
        if c_above:
            cluster_why += (f"; at {c_above[0]} precision fell to {worst(c_above[0], 'pairwise_precision'):.3f} for "
                            f"the worst arrival pattern")
        cluster_why += "."
        size_why = ""
        rows_1 = getattr(self, "min_size_rows", {}).get("report")
        if rows_1:
            by_size = {r.min_cluster_size: r for r in rows_1[pulls[-1]]}
            if 1 in by_size and 2 in by_size:
                size_why = (f" With {pulls_label(pulls[-1])}, min_cluster_size 2 would cut the clusters shown per "
                            f"person from {by_size[1].clusters_per_person:.2f} to {by_size[2].clusters_per_person:.2f} "
                            f"by hiding {pct(by_size[2].faces_hidden)} of the faces, but it hides every person "
                            f"seen in one photo only, whom these folders (4 to 10 photos each) cannot show: an extra "
                            f"card can be ignored, a hidden person cannot be named at all.")
        self.defaults_section = f"""## The defaults, and why

Chosen on the tuning half only, by these rules, then reported on the other half:

- `match_threshold`, `match_margin`: of all (threshold, margin) pairs with **no stranger accepted and no wrong
  contact** on the tuning half, the one that recognizes the most unseen photos; ties go to the lower threshold,
  then the larger margin. A stranger taken for a contact is the worst mistake here (the wearable would buzz a
  known person's pattern for a stranger), so the rule never trades one for recognition. {match_why}
- `cluster_threshold`: among the thresholds whose mean pairwise precision is >= 0.99 on the tuning half for
  every arrival pattern (one pull, 5 or 20 pulls, a pull per face), the one with the best recall for the worst
  arrival pattern. A merge is worse than a split: a merged cluster, once named, makes one contact of two people,
  and the wearable then buzzes that contact's pattern for both; a split only leaves an extra card in the
  timeline. And the hub cannot know how often the app will pull. {cluster_why}
- `min_cluster_size`: 1.{size_why}
- `min_face_px`: kept at {min_face_px}. {self._face_size_reason(min_face_px)}

{table(["setting", "chosen from the data", "in facelink_local/config.py"], rows)}

{"config.py holds these values (and the README's settings table)." if same else "**config.py differs from the chosen values.**"}"""

    def scale(self, realism, pulls, matching, uploads, gallery_load, plots) -> None:
        real, synthetic = realism["real"], realism["synthetic"]
        realism_rows = [[k, " / ".join(f"{v:.3f}" for v in real[k]), " / ".join(f"{v:.3f}" for v in synthetic[k])]
                        for k in ("same", "different", "norm")]
        sizes = sorted(pulls)
        pull_rows = []
        for n in sizes:
            for step in PULL_STEPS:
                r = pulls[n][step]
                parts = ", ".join(f"{k} {v:.2f}" for k, v in r["breakdown"].items() if v >= 0.005) or "-"
                pull_rows.append([f"{n:,}", step, f"{r['seconds']:.2f}", parts, f"{r['rss_before_mib']:.0f}",
                                  f"{r['peak_rss_mib']:.0f}", f"{r['tracemalloc_peak_mib']:.0f}", f"{r['clusters']:,}"])
        growth = []
        for a, b in zip(sizes, sizes[1:]):
            ratio = b / a
            growth.append(f"{a:,} to {b:,} faces ({ratio:.0f}x): first pull x{pulls[b]['first']['seconds'] / pulls[a]['first']['seconds']:.0f}, "
                          f"incremental x{pulls[b]['incremental']['seconds'] / pulls[a]['incremental']['seconds']:.0f}, "
                          f"peak RSS x{pulls[b]['first']['peak_rss_mib'] / pulls[a]['first']['peak_rss_mib']:.1f}")
        windowed = all(pulls[n][step]["peak_windowed"] for n in sizes for step in PULL_STEPS)
        match_rows = [[f"{c:,}", f"{m['references']:,}", f"{m['match_1_face_s'] * 1e3:.2f}",
                       f"{m['match_5_faces_s'] * 1e3:.2f}", f"{m['gallery_build_s'] * 1e3:.1f}",
                       f"{m['gallery_mib']:.1f}"] for c, m in sorted(matching.items())]
        upload_rows = [[u.photo, f"{u.decoded[0]}x{u.decoded[1]}", u.faces]
                       + [f"{v * 1e3:.1f}" for v in u.stages.values()]
                       + [f"{sum(u.stages.values()) * 1e3:.0f}", f"{u.process_s * 1e3:.0f}"] for u in uploads]
        big = pulls[sizes[-1]]
        self.summary.append(
            f"- pull_timeline over {sizes[-1]:,} loose faces (real TimelineService and SQLite, synthetic "
            f"embeddings): {big['incremental']['seconds']:.2f} s for a usual pull ({NEW_FACES} new faces), "
            f"{big['no new faces']['seconds']:.2f} s with nothing new, {big['first']['seconds']:.1f} s when all "
            f"{sizes[-1]:,} are new at once; peak RSS of the process {max(big[s]['peak_rss_mib'] for s in PULL_STEPS):.0f} MiB.")
        self.summary.append(
            "- match_faces, one face: " + "; ".join(f"{c:,} contacts {m['match_1_face_s'] * 1e3:.2f} ms"
                                                    for c, m in sorted(matching.items()))
            + ". One upload, end to end: " + "; ".join(f"{u.decoded[0]}x{u.decoded[1]} photo {u.process_s * 1e3:.0f} ms"
                                                      for u in uploads) + ".")
        self.sections.append(f"""## Scale

Timing numbers depend on the machine and on what else runs on it; see the note at the top.

### Synthetic faces that look like real ones

The scale runs need far more faces than there are photos, so they use synthetic embeddings (only there).
People's centres are drawn from a Gaussian fitted (Ledoit-Wolf) to the real per-person mean embeddings, and
each face adds noise from a Gaussian fitted to the real faces' offsets from their person's mean (the measured
same-person spread), scaled per person and per face by factors drawn from the real ones. Distance quantiles
(5% / 50% / 95%), real photos against the same number of synthetic faces of as many synthetic people:

{table(["", "real", "synthetic"], [["same-person distance", *realism_rows[0][1:]],
                                    ["different-person distance", *realism_rows[1][1:]],
                                    ["embedding norm", *realism_rows[2][1:]]])}

### pull_timeline

The real `TimelineService` on a real `Store` (SQLite in a temporary folder), one user, N loose faces of N/5
synthetic people inserted as `faces` rows, then three pulls: **first**, {PULL_STEPS["first"]}; **incremental**,
{PULL_STEPS["incremental"]}; **no new faces**, {PULL_STEPS["no new faces"]}. Each size runs in a fresh
process; "RSS before" is the process's resident memory before the pull (Python, numpy, scikit-learn, SQLite
loaded), "peak RSS" its high-water mark during the pull{"" if windowed else " (since the process started: this kernel cannot reset the mark)"}, and a second process repeats the
pulls under tracemalloc for the peak of Python and numpy allocations. Seconds are from the untraced run;
"answer" is the rest of the pull (mostly the query that returns every loose face's timestamp).

{table(["loose faces", "pull", "seconds", "where the time went (s)", "RSS before (MiB)", "peak RSS (MiB)",
        "tracemalloc peak (MiB)", "clusters"], pull_rows)}

Growth: {"; ".join(growth)}. The usual pull loads every loose face of the user and writes only the new ones,
so it grows linearly; with nothing new it only reads the timestamps. The first pull compares each new face
with every cluster made so far (one matrix product per block of faces) and runs the agglomerative step on
chunks of faces that joined nothing, so its time grows with faces x clusters, that is quadratically once the
matrix products dominate. It happens only when that many faces arrive without a pull in between, or on
`facelink recluster`. Memory grows linearly: the embeddings, plus one block of distances at a time.

### match_faces

Synthetic contacts with 5 reference faces each; median of many calls. `Gallery.build` runs once after the
contacts change (the hub caches the gallery, with each contact's mean); loading the gallery of 1,000
contacts from SQLite took {gallery_load * 1e3:.0f} ms.

{table(["contacts", "references", "1 face (ms)", "5 faces (ms)", "Gallery.build (ms)", "gallery (MiB)"], match_rows)}

### One upload, stage by stage

The real engine and a real store with 1,000 contacts (5 references each), 5 runs of `UploadService.process`
(the code behind `upload_image`) per photo, each stage timed inside it by its `Stopwatch` (medians), on a
photo of the set's most common size, its largest photo and the edge photo with the most faces: decode (`decode_image`, max side {_max_side()}), detect (HOG),
align (5 landmarks + chip), embed (ResNet), match (`match_faces`), store (thumbnail, PNG chip and the
database transaction). The last column is the whole of `UploadService.process` (median of the same runs).

{table(["photo", "decoded", "faces", *uploads[0].stages.keys(), "sum (ms)", "process (ms)"], upload_rows)}

{images(plots)}""")

    # ------------------------------------------------------------ output

    def write(self, run_seconds: float, computed: int, phases: dict[str, float], load: tuple[str, str]) -> None:
        m = self.machine
        took = ", ".join(f"{name} {seconds / 60:.1f} min" if seconds >= 60 else f"{name} {seconds:.0f} s"
                         for name, seconds in phases.items())
        head = f"""# Recognition quality and scale

Generated by `{self.command}` on {self.date}, in {run_seconds / 60:.1f} minutes ({took}). {computed} images
went through the engine (the photos, and the shrunk copies the face-size part makes); any others came from the
embedding cache in `bench/out/`, keyed by each image's bytes and the engine id. `make quality` runs this
benchmark with the cache; `make quality QUALITY_ARGS=--no-cache` analyses everything again.

- Engine: `{self.engine}`, id `{self.engine_id}` (the server's default engine is `{Settings().engine}`; `onnx`
  and `dlib` run the same descriptor network and give the same embeddings within 1e-4, see `docs/engines.md`).
- Machine: {m['cpu']}, {m['cores']} cores, {m['memory']} memory; {m['os']}
- Python {m['python']}, numpy {m['numpy']}, scikit-learn {m['scikit-learn']}, dlib {m['dlib']}, onnxruntime
  {m['onnxruntime']}; one BLAS thread, as the hub runs.
- Load average (1 / 5 / 15 min) at the start: {load[0]}; at the end: {load[1]}.

**Accuracy numbers** (verification, identification, clustering, detection) are deterministic: the same
photos, engine and seed give the same numbers on any machine. **Timing numbers** (the Scale section, and the
run time above) are only as good as the machine was quiet: a load average above the number of cores means
other work shared the CPU and the times are too high, by up to the ratio of the two.

## Summary

{chr(10).join(self.summary)}

{getattr(self, 'defaults_section', '')}
"""
        self.out.mkdir(parents=True, exist_ok=True)
        self.path.write_text(head + "\n\n".join([""] + self.sections) + "\n")


def _outcome(o) -> str:
    return f"{pct(o.recognized)} / {o.wrong} / {o.strangers_accepted}"


def _shortfalls(o, target: float) -> list[str]:
    found = []
    if o.recognized < target:
        found.append(f"recognized short of {pct(target, 0)} by {pct(target - o.recognized)}")
    if o.wrong:
        found.append(f"{o.wrong} wrong")
    if o.strangers_accepted:
        found.append(f"{o.strangers_accepted} strangers accepted")
    return found


def _count(faces, names: list[str]) -> int:
    keep = set(names)
    return sum(p in keep for p in faces.people)


def _max_side() -> int:
    from facelink_local.config import Settings

    return Settings().max_decode_side
