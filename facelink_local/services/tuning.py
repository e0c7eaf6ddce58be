"""Run-time settings kept in the database's `settings` table."""

from __future__ import annotations

import json
import threading

from ..config import Tuning
from ..store import Store
from .errors import BadRequest


class TuningService:
    def __init__(self, store: Store, defaults: Tuning | None = None) -> None:
        self.store = store
        self.defaults = defaults or Tuning()
        self._lock = threading.Lock()
        self._current = self._load()
        self._listeners: list = []

    def _load(self) -> Tuning:
        stored = {k: json.loads(v) for k, v in self.store.read().execute("SELECT key, value FROM settings")}
        known = {k: v for k, v in stored.items() if k in Tuning.names()}
        try:
            return self.defaults.validated(**known)
        except ValueError:
            return self.defaults

    @property
    def current(self) -> Tuning:
        return self._current

    def update(self, **changes) -> Tuning:
        try:
            updated = self._current.validated(**changes)
        except ValueError as exc:
            raise BadRequest(str(exc)) from exc
        with self._lock, self.store.write() as db:
            for key, value in changes.items():
                db.execute("INSERT OR REPLACE INTO settings (key, value) VALUES (?, ?)",
                           [key, json.dumps(getattr(updated, key))])
            self._current = updated
        for listener in list(self._listeners):
            listener(updated)
        return updated

    def on_change(self, listener) -> None:
        self._listeners.append(listener)
