"""Re-embedding stored faces when the face engine changes.

Every stored face keeps the id of the engine that made its embedding
(`detector+aligner+embedder`, with versions) and its aligned chip (a lossless
PNG). Matching and clustering only ever use faces of the current engine. When
the hub runs another engine than the one that made some stored faces:

- if that engine finds and aligns faces the same way (same detector and
  aligner ids: the chips are what the current engine would have cut), the
  faces are re-embedded from their chips by a background job, so that contacts
  and people met carry over;
- otherwise the chips themselves would differ, so the faces stay as they are,
  "dormant": never compared, never shown, still there if the hub goes back to
  their engine. Unknown ones expire with the retention period as usual;
  `purge_dormant()` deletes them all at once. A contact whose reference faces
  are all dormant cannot be recognized until it gets new ones
  (`contacts_needing_faces`).

The job works in batches (up to 32 faces, or fewer if embedding them would hold
the engine longer than a quarter of a second: 2 faces with dlib-bin's
descriptor): read their chips, embed them (taking one of the engine's two
slots, so an upload always finds the other), and write the new embeddings in
one transaction, each row only if it still has the old engine id. Contacts' reference faces go first, so that recognition
comes back within a few batches. Progress lives in the database itself (a face
is done when its engine id is the current one), so a job cut short by a crash
or a shutdown simply carries on at the next start. While it runs, new unknown
faces of a user with faces still waiting are not grouped yet (they would
otherwise start groups of their own beside the people they belong to).

Progress is published on the EventHub as `ReembedProgress` events and can be
read at any time with `status()`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime

import numpy as np

from ..events import EventHub, utcnow
from ..faces import FaceEngine
from ..faces.image import decode_png
from ..faces.schemas import CHIP_SIZE
from ..store import Store
from .gallery import GalleryCache, embedding_to_blob

log = logging.getLogger(__name__)

BATCH_SIZE = 32         # at most this many faces per batch (one transaction)
BATCH_SECONDS = 0.25    # and no more than this much embedding: an upload never waits longer for a slot
YIELD_FRACTION = 0.5    # after each batch, rest half as long as it took: uploads keep a core


def engine_parts(engine_id: str) -> tuple[str, str, str] | None:
    """(detector, aligner, embedder) of an engine id, or None if it is not one."""
    parts = engine_id.split("+")
    return (parts[0], parts[1], parts[2]) if len(parts) == 3 else None


def same_chips(engine_id: str, other_id: str) -> bool:
    """Whether two engines cut the same chips (same detector and aligner)."""
    a, b = engine_parts(engine_id), engine_parts(other_id)
    return a is not None and b is not None and a[:2] == b[:2]


@dataclass(frozen=True)
class ReembedStatus:
    """Where re-embedding stands.

    state: "idle" (nothing was to do), "running", "done", "stopped" (the hub
    shut down; the rest is done at the next start) or "failed" (see `error`).
    `total` counts the faces this run set out to re-embed, `done` those it has
    re-embedded, `skipped` those whose chip could not be read (they stay
    dormant). `dormant` counts the faces of engines with another detector or
    aligner, by engine id.
    """

    state: str
    engine: str
    total: int = 0
    done: int = 0
    skipped: int = 0
    dormant: dict[str, int] = field(default_factory=dict)
    error: str | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None

    @property
    def remaining(self) -> int:
        return max(0, self.total - self.done - self.skipped)

    @property
    def fraction(self) -> float:
        return 1.0 if self.total == 0 else (self.done + self.skipped) / self.total

    @property
    def running(self) -> bool:
        return self.state == "running"


@dataclass(frozen=True)
class ReembedProgress:
    """Re-embedding started, advanced by a batch, or ended (the desktop app shows a progress bar)."""

    TOPIC = "reembed_progress"
    status: ReembedStatus
    at: datetime = field(default_factory=utcnow)


class ReembedService:
    """Brings stored faces over to the current engine; see the module docstring.

    `start()` runs the job on a background thread (the hub calls it when it
    starts serving and when the engine is switched), `run()` runs it in the
    calling thread (`facelink reembed`). Both are safe to call at any time:
    a job already running for the same engine is left alone.
    """

    def __init__(self, store: Store, engine: FaceEngine, events: EventHub, gallery: GalleryCache,
                 batch_size: int = BATCH_SIZE, batch_seconds: float = BATCH_SECONDS,
                 yield_fraction: float = YIELD_FRACTION) -> None:
        self.store = store
        self.engine = engine
        self.events = events
        self.gallery = gallery
        self.batch_size = batch_size
        self.batch_seconds = batch_seconds
        self.yield_fraction = yield_fraction
        self._seconds_per_face: float | None = None  # measured on the job's batches
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._status = ReembedStatus("idle", engine.id)

    # --- what there is to do ------------------------------------------------

    def stored_engines(self) -> dict[str, int]:
        """How many stored faces each engine made."""
        rows = self.store.read().execute("SELECT engine, count(*) FROM faces GROUP BY engine").fetchall()
        return {engine_id: count for engine_id, count in rows}

    def plan(self) -> tuple[dict[str, int], dict[str, int]]:
        """({engine: faces} to re-embed, {engine: faces} dormant) for the current engine."""
        target = self.engine.id
        stale = {e: n for e, n in self.stored_engines().items() if e != target}
        compatible = {e: n for e, n in stale.items() if same_chips(e, target)}
        dormant = {e: n for e, n in stale.items() if e not in compatible}
        return compatible, dormant

    def status(self) -> ReembedStatus:
        with self._lock:
            return self._status

    def pending_for(self, user_id: int) -> bool:
        """Whether a running job still has unknown faces of this user to re-embed."""
        status = self.status()
        if not status.running:
            return False
        sources = self.sources()
        if not sources:
            return False
        marks = ", ".join("?" * len(sources))
        return self.store.read().execute(
            f"SELECT 1 FROM faces WHERE user_id = ? AND contact_id IS NULL AND engine IN ({marks}) LIMIT 1",
            [user_id, *sources],
        ).fetchone() is not None

    def contacts_needing_faces(self, user_id: int) -> list[int]:
        """The user's contacts without one reference face of the current engine (they cannot be recognized)."""
        rows = self.store.read().execute(
            "SELECT c.cid FROM contacts c WHERE c.user_id = ? AND NOT EXISTS "
            "(SELECT 1 FROM faces f WHERE f.contact_id = c.cid AND f.engine = ?) ORDER BY c.cid",
            [user_id, self.engine.id],
        ).fetchall()
        return [r[0] for r in rows]

    # --- running ------------------------------------------------------------

    def start(self, settle_s: float = 0.0) -> ReembedStatus:
        """Start the job in the background if there is work and none is running; returns the status.

        `settle_s`: after the last batch, look once more this much later (for
        faces that uploads in flight during an engine switch store late).
        """
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return self._status
            compatible, dormant = self.plan()
            if not compatible:
                self._status = ReembedStatus("idle", self.engine.id, dormant=dormant)
                return self._status
            self._stop.clear()
            self._thread = threading.Thread(target=self._run_safely, args=(settle_s,), name="reembed", daemon=True)
            self._status = self._begin(compatible, dormant)
            self._thread.start()
            return self._status

    def run(self, progress: Callable[[ReembedStatus], None] | None = None) -> ReembedStatus:
        """Run the whole job in this thread (no rests between batches); returns the final status."""
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                raise RuntimeError("re-embedding is already running in the background")
            compatible, dormant = self.plan()
            if not compatible:
                self._status = ReembedStatus("idle", self.engine.id, dormant=dormant)
                return self._status
            self._stop.clear()
            self._status = self._begin(compatible, dormant)
        unsubscribe = None
        if progress is not None:
            unsubscribe = self.events.subscribe(ReembedProgress.TOPIC, lambda event: progress(event.status))
        try:
            self._run_safely(settle_s=0.0, rest=False)
        finally:
            if unsubscribe:
                unsubscribe()
        return self.status()

    def wait(self, timeout: float | None = None) -> ReembedStatus:
        """Wait for a background job to end (or `timeout` seconds); returns the status."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        return self.status()

    def stop(self, timeout: float = 10.0) -> None:
        """Ask a running job to stop after its current batch, and wait for it (hub shutdown)."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def retarget(self, engine: FaceEngine, settle_s: float = 1.0) -> ReembedStatus:
        """The hub switched engines: stop any job for the old one, then start over for `engine`."""
        self.stop()
        with self._lock:
            self.engine = engine
            self._status = ReembedStatus("idle", engine.id)
        return self.start(settle_s=settle_s)

    def purge_dormant(self) -> int:
        """Delete every stored face of an engine with another detector or aligner; returns how many."""
        _, dormant = self.plan()
        if not dormant:
            return 0
        marks = ", ".join("?" * len(dormant))
        with self.store.write() as db:
            deleted = db.execute(f"DELETE FROM faces WHERE engine IN ({marks})", list(dormant)).rowcount
            db.execute("DELETE FROM clusters WHERE id NOT IN (SELECT cluster_id FROM cluster_members)")
        self.gallery.invalidate_all()
        with self._lock:
            self._status = replace(self._status, dormant={})
        log.info("deleted %d dormant faces of %s", deleted, ", ".join(dormant))
        return deleted

    # --- the job ------------------------------------------------------------

    def _begin(self, compatible: dict[str, int], dormant: dict[str, int]) -> ReembedStatus:
        self._seconds_per_face = None
        log.info("re-embedding %d stored faces for %s (from %s)", sum(compatible.values()), self.engine.id,
                 ", ".join(compatible))
        return ReembedStatus("running", self.engine.id, total=sum(compatible.values()), dormant=dormant,
                             started_at=utcnow())

    def sources(self) -> list[str]:
        """Engines whose stored faces wait to be re-embedded for the current one."""
        target = self.engine.id
        return [e for e in self.stored_engines() if e != target and same_chips(e, target)]

    def _run_safely(self, settle_s: float, rest: bool = True) -> None:
        self.events.publish(ReembedProgress(self.status()))
        try:
            self._work(settle_s, rest)
        except Exception as exc:  # noqa: BLE001 - reported in the status, retried at the next start
            log.exception("re-embedding failed")
            self._finish("failed", error=f"{type(exc).__name__}: {exc}")
        else:
            self._finish("stopped" if self._stop.is_set() else "done")

    def _finish(self, state: str, error: str | None = None) -> None:
        with self._lock:
            self._status = replace(self._status, state=state, error=error, finished_at=utcnow())
            status = self._status
        log.info("re-embedding %s: %d of %d faces%s", state, status.done, status.total,
                 f" ({status.skipped} unreadable chips)" if status.skipped else "")
        self.events.publish(ReembedProgress(status))

    def _work(self, settle_s: float, rest: bool) -> None:
        engine = self.engine
        unreadable: set[int] = set()
        settled = settle_s <= 0
        while not self._stop.is_set():
            sources = self.sources()
            # Contacts' reference faces first (recognition depends on them), then everything left.
            did = any([self._pass(engine, sources, contacts_only=True, unreadable=unreadable, rest=rest),
                       self._pass(engine, sources, contacts_only=False, unreadable=unreadable, rest=rest)])
            if did:
                continue
            if settled:
                return
            settled = True
            self._stop.wait(settle_s)

    def _pass(self, engine: FaceEngine, sources: list[str], contacts_only: bool, unreadable: set[int],
              rest: bool) -> bool:
        """Re-embed the faces of `sources` in id order, batch by batch; True if there were any."""
        if not sources:
            return False
        marks = ", ".join("?" * len(sources))
        query = (f"SELECT id, user_id, contact_id, engine, chip FROM faces WHERE engine IN ({marks}) AND id > ?"
                 + (" AND contact_id IS NOT NULL" if contacts_only else "") + " ORDER BY id LIMIT ?")
        last_id, worked = 0, False
        while not self._stop.is_set():
            rows = self.store.read().execute(query, [*sources, last_id, self._next_batch_size()]).fetchall()
            if not rows:
                break
            last_id = rows[-1][0]
            todo = [r for r in rows if r[0] not in unreadable]
            if todo:
                worked = True
                started = time.perf_counter()
                self._batch(engine, todo, unreadable)
                if rest and self.yield_fraction > 0:
                    self._stop.wait((time.perf_counter() - started) * self.yield_fraction)
        return worked

    def _next_batch_size(self) -> int:
        if self._seconds_per_face is None:
            return min(self.batch_size, 2)  # the first batch measures the engine
        return max(1, min(self.batch_size, int(self.batch_seconds / self._seconds_per_face)))

    def _batch(self, engine: FaceEngine, rows: list[tuple], unreadable: set[int]) -> None:
        chips, good = [], []
        for row in rows:
            chip = _chip(row[4])
            if chip is None:
                unreadable.add(row[0])
            else:
                chips.append(chip)
                good.append(row)
        unread = len(rows) - len(good)
        if good:
            started = time.perf_counter()
            embeddings = engine.embed_chips(np.stack(chips))
            self._seconds_per_face = (time.perf_counter() - started) / len(good)
            with self.store.write() as db:
                db.conn.executemany(
                    "UPDATE faces SET engine = ?, embedding = ? WHERE id = ? AND engine = ?",
                    [(engine.id, embedding_to_blob(e), row[0], row[3]) for row, e in zip(good, embeddings)],
                )
            for user_id in {row[1] for row in good if row[2] is not None}:
                self.gallery.invalidate(user_id)
        with self._lock:
            done, skipped = self._status.done + len(good), self._status.skipped + unread
            # Faces stored meanwhile by uploads still running the old engine join the count.
            self._status = replace(self._status, done=done, skipped=skipped,
                                   total=max(self._status.total, done + skipped))
            status = self._status
        self.events.publish(ReembedProgress(status))


def _chip(blob: bytes | None) -> np.ndarray | None:
    """A stored chip as (150, 150, 3) uint8 RGB, or None if it cannot be read."""
    if not blob:
        return None
    try:
        chip = decode_png(blob)
    except Exception:  # noqa: BLE001 - a damaged chip is skipped, never fatal
        return None
    return chip if chip.shape == (CHIP_SIZE, CHIP_SIZE, 3) else None
