"""Per-user cache of contacts' reference embeddings, for fast matching.

Loading every reference face from SQLite on each upload would cost more than
the match itself once there are thousands of contacts, so each user's gallery
is kept in memory and dropped whenever their contacts' faces change.
"""

from __future__ import annotations

import threading

import numpy as np

from ..recognition.matching import Gallery
from ..store import Store


def embedding_from_blob(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype="<f4")


def embedding_to_blob(embedding: np.ndarray) -> bytes:
    return np.asarray(embedding, dtype="<f4").tobytes()


class GalleryCache:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._lock = threading.Lock()
        self._galleries: dict[tuple[int, str], Gallery] = {}
        self._generation: dict[int, int] = {}

    def invalidate(self, user_id: int) -> None:
        with self._lock:
            self._generation[user_id] = self._generation.get(user_id, 0) + 1
            for key in [k for k in self._galleries if k[0] == user_id]:
                del self._galleries[key]

    def holds(self, user_id: int) -> bool:
        """Whether a gallery of this user is in memory."""
        with self._lock:
            return any(k[0] == user_id for k in self._galleries)

    def invalidate_all(self) -> None:
        with self._lock:
            for user_id in {k[0] for k in self._galleries}:
                self._generation[user_id] = self._generation.get(user_id, 0) + 1
            self._galleries.clear()

    def get(self, user_id: int, engine_id: str) -> Gallery:
        key = (user_id, engine_id)
        with self._lock:
            if key in self._galleries:
                return self._galleries[key]
            generation = self._generation.get(user_id, 0)
        rows = self.store.read().execute(
            "SELECT f.contact_id, f.embedding FROM faces f JOIN contacts c ON c.cid = f.contact_id "
            "WHERE f.user_id = ? AND c.user_id = ? AND f.engine = ?",
            [user_id, user_id, engine_id],
        ).fetchall()
        if rows:
            gallery = Gallery.build(
                np.stack([embedding_from_blob(r[1]) for r in rows]),
                np.array([r[0] for r in rows], dtype=np.int64),
            )
        else:
            gallery = Gallery(np.zeros((0, 128), np.float32), np.zeros(0, np.int64))
        with self._lock:
            if self._generation.get(user_id, 0) == generation:  # nothing changed while loading
                self._galleries[key] = gallery
        return gallery
