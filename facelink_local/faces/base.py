"""A lazily loaded, lock-guarded model: the shape every backend follows.

Subclasses set `identity` (name and version, recorded with every embedding)
and implement `_load()`; callers use `load()` once or let the first call load.
"""

from __future__ import annotations

import threading
from typing import Any


class FaceModel:
    identity: str = "abstract"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._model: Any = None

    def load(self) -> Any:
        if self._model is None:
            with self._lock:
                if self._model is None:
                    self._model = self._load()
        return self._model

    @property
    def loaded(self) -> bool:
        return self._model is not None

    def _load(self) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError
