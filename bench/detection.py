"""Detection on edge cases, and how small a face can still be recognized."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from facelink_local.recognition.matching import Gallery, match_faces

from .photos import Analysis, Analyzer


@dataclass
class EdgeRow:
    file: str
    kind: str
    decoded: str  # "WxH" or the decode error
    found: int  # faces at min_face_px
    found_any: int  # faces at any size
    smallest: int | None  # smallest face side found (px)
    sources_count: int | None  # "dlib HOG faces: N" in SOURCES.md
    expected: int | None  # faces in the photo, where the name or SOURCES.md tells


def sources_counts(sources_md: Path) -> dict[str, tuple[int | None, int | None]]:
    """{file: (dlib count noted in SOURCES.md, faces in the photo)} from its edge table."""
    counts = {}
    if not sources_md.exists():
        return counts
    for line in sources_md.read_text().splitlines():
        cells = [c.strip() for c in line.split("|")]
        if len(cells) < 5 or not cells[1].startswith("`"):
            continue
        name = cells[1].strip("`")
        observed = re.search(r"dlib HOG faces: (\d+)", cells[4])
        annotated = re.search(r"(\d+) faces per", cells[3])
        counts[name] = (int(observed.group(1)) if observed else None, int(annotated.group(1)) if annotated else None)
    return counts


def _kind(name: str) -> str:
    for prefix, kind in (("group_", "group"), ("no_face", "no face"), ("exif_orientation", "EXIF-oriented"),
                         ("rotated_", "rotated pixels, no EXIF"), ("upright_", "EXIF reference"),
                         ("tiny_", "tiny"), ("truncated", "truncated"), ("empty", "broken"),
                         ("corrupted", "broken"), ("not_an_image", "broken")):
        if name.startswith(prefix):
            return kind
    return "other"


def _expected(name: str, annotated: int | None) -> int | None:
    if annotated is not None:
        return annotated
    if name.startswith("no_face") or name.startswith(("empty", "corrupted", "not_an_image", "tiny_1x1")):
        return 0
    match = re.search(r"_(\d+)faces", name) or re.search(r"about_(\d+)_", name)
    if match:
        return int(match.group(1))
    return None


def edge_table(analyses: list[Analysis], sources_md: Path, min_face_px: int) -> list[EdgeRow]:
    counts = sources_counts(sources_md)
    rows = []
    for a in analyses:
        name = a.path.name
        observed, annotated = counts.get(name, (None, None))
        usable = a.usable_faces(min_face_px)
        rows.append(EdgeRow(
            file=name, kind=_kind(name),
            decoded=f"{a.size[0]}x{a.size[1]}" if a.size else "refused: " + re.sub(r" <[^>]*>", "", a.error or ""),
            found=len(usable), found_any=len(a.faces),
            smallest=min((f.side for f in a.faces), default=None),
            sources_count=observed, expected=_expected(name, annotated),
        ))
    return rows


# ---------------------------------------------------------------- face size

def downscaled_jpeg(path: Path, scale: float) -> bytes:
    with Image.open(path) as image:
        image = image.convert("RGB")
        size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        small = image.resize(size, Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    small.save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


@dataclass
class SizeRow:
    target: int  # face side aimed at (px)
    probes: int
    detected: int  # a face found at all
    sides: list[int]  # detected face sides
    right: int  # enrolled: matched to the right contact (at the chosen defaults, ignoring min_face_px)
    wrong: int
    strangers_accepted: int  # the same face against a gallery without its person


def face_size_study(analyzer: Analyzer, analyses: dict[Path, Analysis], people: dict[str, list[Path]],
                    targets: list[int], threshold: float, margin: float, refs: int = 3,
                    probes_per_person: int = 2, progress=None) -> list[SizeRow]:
    """Shrink photos so their face is `target` px wide, run the pipeline, and match
    the face (enrolled: `refs` other full-size photos of each person)."""
    names = sorted(people)
    ref_rows, ref_cids, probes = [], [], []
    for cid, name in enumerate(names):
        photos = people[name]
        if len(photos) < probes_per_person + refs:
            continue
        for p in photos[probes_per_person:probes_per_person + refs]:
            face = analyses[p].largest_face(0)
            if face is not None:
                ref_rows.append(face.embedding)
                ref_cids.append(cid)
        probes += [(cid, p) for p in photos[:probes_per_person] if analyses[p].largest_face(0) is not None]
    refs_matrix = np.stack(ref_rows)
    cids = np.array(ref_cids, dtype=np.int64)
    full = Gallery.build(refs_matrix, cids)
    without = {cid: Gallery.build(refs_matrix[cids != cid], cids[cids != cid]) for cid in set(ref_cids)}
    rows = []
    for target in targets:
        row = SizeRow(target, 0, 0, [], 0, 0, 0)
        for cid, path in probes:
            side = analyses[path].largest_face(0).side
            result = analyzer.analyze_bytes(downscaled_jpeg(path, target / side), path)
            row.probes += 1
            if progress is not None:
                progress.update(1)
            face = result.largest_face(0)
            if face is None:
                continue
            row.detected += 1
            row.sides.append(face.side)
            match = match_faces(face.embedding[None, :], full, threshold, margin)[0]
            if match is not None:
                row.right += match.cid == cid
                row.wrong += match.cid != cid
            row.strangers_accepted += match_faces(face.embedding[None, :], without[cid], threshold, margin)[0] is not None
        rows.append(row)
    return rows
