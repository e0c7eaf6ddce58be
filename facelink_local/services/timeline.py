"""The timeline: unknown faces grouped into the people the wearer met."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import timedelta

import numpy as np

from ..recognition import clustering
from ..store import Store
from ..store.db import ERASE_WAIT_S
from ..timefmt import iso, now_utc
from .tuning import TuningService


def new_cluster_id() -> str:
    return "c_" + secrets.token_urlsafe(12)


class TimelineService:
    """Groups and lists a user's unknown faces.

    Only faces of the current engine are compared (`engine_id`). While stored
    faces are being re-embedded for it (services/reembed.py), the hub sets
    `shown_engines` to the engines whose faces are on their way (they stay in
    the timeline meanwhile) and `hold_new_faces` to tell whether a user still
    has faces waiting (new faces are grouped once they are done).
    """

    def __init__(self, store: Store, tuning: TuningService, engine_id: str) -> None:
        self.store = store
        self.tuning = tuning
        self.engine_id = engine_id
        self.shown_engines: Callable[[], list[str]] = lambda: [self.engine_id]
        self.hold_new_faces: Callable[[int], bool] = lambda user_id: False

    def purge_expired(self, user_id: int) -> int:
        cutoff = iso(now_utc() - timedelta(days=self.tuning.current.retention_days))
        with self.store.write() as db:
            deleted = db.execute(
                "DELETE FROM faces WHERE user_id = ? AND contact_id IS NULL AND seen_at < ?", [user_id, cutoff]
            ).rowcount
            db.execute("DELETE FROM clusters WHERE user_id = ? AND id NOT IN "
                       "(SELECT cluster_id FROM cluster_members)", [user_id])
        if deleted:
            self.store.checkpoint(wait_s=ERASE_WAIT_S)  # no old copy of the faces stays in the WAL
        return deleted

    def _loose(self, user_id: int):
        # Streamed into one buffer: holding every row's blob as its own bytes object
        # as well would double the memory of a pull over many faces.
        ids, cluster_ids, blobs = [], [], bytearray()
        for face_id, cluster_id, blob in self.store.read().execute(
            "SELECT id, cluster_id, embedding FROM faces "
            "WHERE user_id = ? AND contact_id IS NULL AND engine = ? ORDER BY id",
            [user_id, self.engine_id],
        ):
            ids.append(face_id)
            cluster_ids.append(cluster_id)
            blobs += blob
        embeddings = (np.frombuffer(blobs, dtype="<f4").reshape(len(ids), -1)
                      if ids else np.zeros((0, 128), np.float32))
        return np.array(ids, dtype=np.int64), cluster_ids, embeddings

    def _any_new(self, user_id: int) -> bool:
        return bool(self.store.read().execute(
            "SELECT EXISTS (SELECT 1 FROM faces WHERE user_id = ? AND contact_id IS NULL AND cluster_id IS NULL "
            "AND engine = ?)", [user_id, self.engine_id]).fetchone()[0])

    def update_clusters(self, user_id: int) -> int:
        """Put new loose faces into clusters (joining existing ones first). Returns how many."""
        if self.hold_new_faces(user_id) or not self._any_new(user_id):  # the usual poll: nothing to load
            return 0
        ids, cluster_ids, embeddings = self._loose(user_id)
        new = np.array([c is None for c in cluster_ids], dtype=bool)
        if not new.any():
            return 0
        names = sorted({c for c in cluster_ids if c is not None})
        label_of = {name: i for i, name in enumerate(names)}
        existing_labels = np.array([label_of[c] for c in cluster_ids if c is not None], dtype=np.int64)
        labels = clustering.assign(embeddings[~new], existing_labels, embeddings[new],
                                   self.tuning.current.cluster_threshold)
        fresh = {int(label): new_cluster_id() for label in set(labels.tolist()) if label >= len(names)}
        assigned = [(names[label] if label < len(names) else fresh[label], int(face_id))
                    for label, face_id in zip(labels.tolist(), ids[new].tolist())]
        self._record(user_id, assigned, fresh.values())
        return len(assigned)

    def _record(self, user_id: int, assigned: list[tuple[str, int]], created) -> None:
        now = iso(now_utc())
        with self.store.write() as db:
            db.conn.executemany("INSERT OR IGNORE INTO clusters (id, user_id, created_at) VALUES (?, ?, ?)",
                           [(cid, user_id, now) for cid in created])
            # Meanwhile a face may have become a contact's, and a cluster may have been
            # named (create_contact deletes it): only loose faces move, into living clusters.
            db.conn.executemany(
                "UPDATE faces SET cluster_id = ?1 WHERE id = ?2 AND user_id = ?3 AND contact_id IS NULL "
                "AND EXISTS (SELECT 1 FROM clusters WHERE id = ?1 AND user_id = ?3)",
                [(cluster_id, face_id, user_id) for cluster_id, face_id in assigned])
            db.conn.executemany(
                "INSERT OR IGNORE INTO cluster_members (cluster_id, face_id) "
                "SELECT ?1, id FROM faces WHERE id = ?2 AND cluster_id = ?1", assigned)

    def recluster(self, user_id: int) -> int:
        """Cluster every loose face from scratch; ids carry over where a group mostly survives."""
        ids, old_ids, embeddings = self._loose(user_id)
        if not len(ids):
            return 0
        labels = clustering.assign(np.zeros((0, embeddings.shape[1]), np.float32), np.zeros(0, np.int64),
                                   embeddings, self.tuning.current.cluster_threshold)
        inherited = clustering.inherit_ids(old_ids, labels)
        names = {int(label): inherited.get(int(label)) or new_cluster_id() for label in set(labels.tolist())}
        assigned = [(names[int(label)], int(face_id)) for label, face_id in zip(labels, ids)]
        self._record(user_id, assigned, [n for n in names.values() if n not in inherited.values()])
        return len(set(names.values()))

    def pull(self, user_id: int) -> dict[str, list[str]]:
        """The contract's answer: {cluster_id: [sorted ISO-8601 UTC timestamps]}."""
        self.purge_expired(user_id)
        self.update_clusters(user_id)
        engines = self.shown_engines()
        rows = self.store.read().execute(
            "SELECT cluster_id, seen_at FROM faces WHERE user_id = ? AND contact_id IS NULL "
            f"AND cluster_id IS NOT NULL AND engine IN ({', '.join('?' * len(engines))}) "
            "ORDER BY cluster_id, seen_at", [user_id, *engines]
        ).fetchall()
        timeline: dict[str, list[str]] = {}
        for cluster_id, seen_at in rows:
            timeline.setdefault(cluster_id, []).append(seen_at)
        minimum = self.tuning.current.min_cluster_size
        return {cid: stamps for cid, stamps in timeline.items() if len(stamps) >= minimum}

    def cluster_faces(self, user_id: int, cluster_id: str, limit: int = 4) -> list[dict]:
        """The best few faces of a cluster (for the desktop app's cards)."""
        rows = self.store.read().execute(
            "SELECT id, seen_at, score, thumbnail FROM faces WHERE user_id = ? AND cluster_id = ? "
            "AND contact_id IS NULL ORDER BY score DESC LIMIT ?", [user_id, cluster_id, limit]
        ).fetchall()
        return [{"face_id": r[0], "seen_at": r[1], "score": r[2], "thumbnail": r[3]} for r in rows]
