"""Photos through the real pipeline (decode_image -> engine.analyze), cached.

Every photo is analysed once per engine with `min_face_px=0`, so every face
the detector finds gets an embedding; the product's `min_face_px` is applied
afterwards (`usable_faces`), which is exactly what `FaceEngine.analyze` does
with a larger value. Results are cached in `bench/out/` keyed by the SHA-256
of the bytes and the engine id, so reruns skip the ~110 ms per face.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from facelink_local.config import Settings
from facelink_local.faces import FaceEngine, InvalidImage, decode_image, make_engine

OUT = Path(__file__).resolve().parent / "out"
PHOTO_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp"}


@dataclass(frozen=True)
class Face:
    box: tuple[int, int, int, int]  # x, y, w, h in the upright (decoded) image
    score: float
    embedding: np.ndarray  # (128,) float32

    @property
    def side(self) -> int:
        return min(self.box[2], self.box[3])


@dataclass(frozen=True)
class Analysis:
    """What the pipeline made of one file."""

    path: Path
    size: tuple[int, int] | None  # decoded (width, height); None when the file did not decode
    faces: tuple[Face, ...]
    error: str | None = None

    def usable_faces(self, min_face_px: int) -> list[Face]:
        return [f for f in self.faces if f.side >= min_face_px]

    def largest_face(self, min_face_px: int) -> Face | None:
        usable = self.usable_faces(min_face_px)
        return max(usable, key=lambda f: f.box[2] * f.box[3]) if usable else None


class Analyzer:
    """Runs `decode_image` + `engine.analyze` on bytes, with an on-disk cache."""

    def __init__(self, engine_name: str = "dlib", max_decode_side: int | None = None,
                 cache_dir: Path = OUT, use_cache: bool = True) -> None:
        self.max_decode_side = max_decode_side or Settings().max_decode_side
        self.engine: FaceEngine = make_engine(engine_name, min_face_px=0)
        self.cache_path = cache_dir / f"faces-{hashlib.sha256(self.engine.id.encode()).hexdigest()[:12]}.jsonl"
        self._cache: dict[str, dict] = {}
        if not use_cache:
            self.cache_path.unlink(missing_ok=True)  # rewritten as the photos are analysed again
        elif self.cache_path.exists():
            for line in self.cache_path.read_text().splitlines():
                if line.strip():
                    record = json.loads(line)
                    self._cache[record["key"]] = record
        self.computed = 0

    def _key(self, data: bytes) -> str:
        return f"{hashlib.sha256(data).hexdigest()}|{self.engine.id}|side{self.max_decode_side}"

    def analyze_bytes(self, data: bytes, path: Path) -> Analysis:
        key = self._key(data)
        record = self._cache.get(key)
        if record is None:
            record = self._compute(data)
            record["key"] = key
            self._cache[key] = record
            self.cache_path.parent.mkdir(parents=True, exist_ok=True)
            with self.cache_path.open("a") as out:
                out.write(json.dumps(record) + "\n")
            self.computed += 1
        faces = tuple(
            Face(tuple(f["box"]), f["score"], np.frombuffer(base64.b64decode(f["embedding"]), dtype="<f4").copy())
            for f in record["faces"]
        )
        size = tuple(record["size"]) if record["size"] else None
        return Analysis(path, size, faces, record.get("error"))

    def _compute(self, data: bytes) -> dict:
        try:
            rgb = decode_image(data, max_side=self.max_decode_side)
        except InvalidImage as exc:
            return {"size": None, "faces": [], "error": str(exc)[:200]}
        analysis = self.engine.analyze_any_way_up(rgb)  # as uploads do: turned photos too
        faces = [analysis.in_photo(f) for f in analysis.faces]
        return {
            "size": [int(rgb.shape[1]), int(rgb.shape[0])],
            "faces": [{
                "box": f.box.as_list(), "score": round(float(f.score), 6),
                "embedding": base64.b64encode(np.asarray(f.embedding, dtype="<f4").tobytes()).decode(),
            } for f in faces if f.embedding is not None],
        }

    def analyze_files(self, paths: list[Path], desc: str) -> list[Analysis]:
        return [self.analyze_bytes(p.read_bytes(), p) for p in tqdm(paths, desc=desc, unit="photo", leave=False)]


def list_identities(folder: Path) -> dict[str, list[Path]]:
    """{person: [photo paths in name order]} of a `<person>/<photo>` folder."""
    people = {}
    for person in sorted(p for p in folder.iterdir() if p.is_dir()):
        photos = sorted(p for p in person.iterdir() if p.suffix.lower() in PHOTO_SUFFIXES)
        if photos:
            people[person.name] = photos
    return people


@dataclass
class LabeledFaces:
    """One face per photo (the largest), with the person's name; and what was lost."""

    embeddings: np.ndarray  # (N, 128)
    people: list[str]  # (N,)
    photos: list[Path]  # (N,)
    no_face: list[Path]  # photos with no usable face
    undecodable: list[Path]

    def subset(self, keep: set[str]) -> "LabeledFaces":
        idx = [i for i, p in enumerate(self.people) if p in keep]
        return LabeledFaces(self.embeddings[idx], [self.people[i] for i in idx], [self.photos[i] for i in idx],
                            [p for p in self.no_face if p.parent.name in keep],
                            [p for p in self.undecodable if p.parent.name in keep])


def labeled_faces(analyses: list[Analysis], min_face_px: int) -> LabeledFaces:
    embeddings, people, photos, no_face, undecodable = [], [], [], [], []
    for a in analyses:
        if a.size is None:
            undecodable.append(a.path)
            continue
        face = a.largest_face(min_face_px)
        if face is None:
            no_face.append(a.path)
            continue
        embeddings.append(face.embedding)
        people.append(a.path.parent.name)
        photos.append(a.path)
    matrix = np.stack(embeddings) if embeddings else np.zeros((0, 128), np.float32)
    return LabeledFaces(matrix.astype(np.float32), people, photos, no_face, undecodable)
