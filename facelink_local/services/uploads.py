"""An uploaded photo: find faces, recognize contacts, keep the unknown ones."""

from __future__ import annotations

import io
import json
import threading
from dataclasses import dataclass

import numpy as np
from PIL import Image

from ..events import ContactSeen, EventHub, FacesArrived
from ..faces import FaceEngine, InvalidImage, decode_image
from ..faces.image import encode_jpeg, encode_png
from ..faces.schemas import AnalyzedFace, Box
from ..recognition.matching import Match, match_faces
from ..stopwatch import Stopwatch, stage
from ..store import Store
from ..timefmt import iso, now_utc
from .errors import BadRequest
from .gallery import GalleryCache, embedding_to_blob
from .tuning import TuningService

THUMBNAIL_PX = 128
# Photos decoded at once. A photo at the pixel limit takes up to 160 MB while it
# is decoded; the worker pool has more threads than that, so many big uploads
# arriving together wait here instead of multiplying the memory.
MAX_CONCURRENT_DECODES = 2


def face_thumbnail(rgb: np.ndarray, box: Box) -> bytes:
    """A square JPEG around the face with some context, THUMBNAIL_PX wide."""
    height, width = rgb.shape[:2]
    side = int(max(box.w, box.h) * 1.5)
    cx, cy = box.x + box.w // 2, box.y + box.h // 2
    x0, y0 = max(0, cx - side // 2), max(0, cy - side // 2)
    crop = rgb[y0:min(height, y0 + side), x0:min(width, x0 + side)]
    image = Image.fromarray(crop)
    image.thumbnail((THUMBNAIL_PX, THUMBNAIL_PX), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()


@dataclass
class _Stored:
    face: AnalyzedFace
    thumbnail: bytes
    chip: bytes


class UploadService:
    def __init__(self, store: Store, engine: FaceEngine, events: EventHub, tuning: TuningService,
                 gallery: GalleryCache, max_decode_side: int = 1600) -> None:
        self.store = store
        self.engine = engine
        self.events = events
        self.tuning = tuning
        self.gallery = gallery
        self.max_decode_side = max_decode_side
        self._decoding = threading.BoundedSemaphore(MAX_CONCURRENT_DECODES)

    def process(self, user_id: int, data: bytes, stopwatch: Stopwatch | None = None) -> dict:
        """Runs on a worker thread (CPU-bound). Answers the contract's body plus `faces`.

        `stopwatch` (benchmarks) gets the time of each stage: decode, detect,
        align, embed, match, store.
        """
        try:
            with self._decoding, stage(stopwatch, "decode"):
                rgb = decode_image(data, max_side=self.max_decode_side)
        except InvalidImage as exc:
            raise BadRequest("Invalid image stream") from exc
        engine = self.engine  # one engine for the whole upload, even if the hub switches meanwhile
        # Boxes of `faces` are in analysis.image: the photo, or the photo turned upright when only
        # turned did it show a face. Thumbnails come from that image; answers give photo boxes.
        analysis = engine.analyze_any_way_up(rgb, stopwatch)
        faces = analysis.faces
        usable = [f for f in faces if not f.too_small]
        tuning = self.tuning.current
        with stage(stopwatch, "match"):
            matches = match_faces(
                np.stack([f.embedding for f in usable]) if usable else np.zeros((0, 128), np.float32),
                self.gallery.get(user_id, engine.id), tuning.match_threshold, tuning.match_margin,
            )
        match_of = {id(f): m for f, m in zip(usable, matches)}
        with stage(stopwatch, "store"):
            unknown = [
                _Stored(analysis.in_photo(f), face_thumbnail(analysis.image, f.box), encode_png(f.chip))
                for f in usable if match_of[id(f)] is None
            ]
            seen_at = iso(now_utc())
            names = self._save(user_id, engine.id, seen_at, faces, unknown, [m for m in matches if m])
        self._publish(user_id, faces, unknown, [m for m in matches if m], names)
        return {"message": "Image uploaded successfully",
                "faces": [self._describe(f, analysis.in_photo(f).box, match_of, names) for f in faces]}

    def recent(self, user_id: int, limit: int = 20) -> list[dict]:
        """The user's latest uploads, newest first (the desktop app's activity list)."""
        rows = self.store.read().execute(
            "SELECT id, received_at, faces, matched, unknown FROM uploads WHERE user_id = ? "
            "ORDER BY received_at DESC, id DESC LIMIT ?", [user_id, limit],
        ).fetchall()
        return [{"upload_id": r[0], "received_at": r[1], "faces": r[2], "matched": r[3], "unknown": r[4]}
                for r in rows]

    def _save(self, user_id: int, engine_id: str, seen_at: str, faces: list[AnalyzedFace], unknown: list[_Stored],
              matched: list[Match]) -> dict[int, tuple[str, int]]:
        """One transaction: the upload record, its unknown faces, contacts' last_seen."""
        with self.store.write() as db:
            upload_id = db["uploads"].insert({
                "user_id": user_id, "received_at": seen_at, "faces": len(faces),
                "matched": len(matched), "unknown": len(unknown),
            }).last_pk
            if unknown:
                db["faces"].insert_all([{
                    "user_id": user_id, "contact_id": None, "cluster_id": None, "upload_id": upload_id,
                    "engine": engine_id, "embedding": embedding_to_blob(s.face.embedding),
                    "seen_at": seen_at, "box": json.dumps(s.face.box.as_list()), "score": s.face.score,
                    "thumbnail": s.thumbnail, "chip": s.chip,
                } for s in unknown])
            names: dict[int, tuple[str, int]] = {}
            for match in matched:
                row = db.execute(
                    "UPDATE contacts SET last_seen = ? WHERE cid = ? AND user_id = ? RETURNING name, vib_pattern",
                    [seen_at, match.cid, user_id],
                ).fetchone()
                if row:  # the contact may have been deleted a moment ago
                    names[match.cid] = (row[0], row[1])
        return names

    def _publish(self, user_id, faces, unknown, matched: list[Match], names) -> None:
        for match in sorted(matched, key=lambda m: m.distance):
            if match.cid in names:
                name, pattern = names[match.cid]
                self.events.publish(ContactSeen(user_id, match.cid, name, pattern, match.distance))
        self.events.publish(FacesArrived(user_id, len(faces), len(unknown), len(names)))

    @staticmethod
    def _describe(face: AnalyzedFace, box: Box, match_of: dict, names: dict) -> dict:
        if face.too_small:
            return {"box": box.as_list(), "status": "too_small", "contact": None, "distance": None}
        match = match_of[id(face)]
        if match is None or match.cid not in names:
            return {"box": box.as_list(), "status": "unknown", "contact": None, "distance": None}
        return {
            "box": box.as_list(), "status": "matched",
            "contact": {"cid": match.cid, "name": names[match.cid][0]}, "distance": round(match.distance, 4),
        }
