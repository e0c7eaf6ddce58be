"""Blocking service calls off the GUI thread.

`Tasks.run(fn, *args, done=..., failed=...)` runs `fn` on a worker thread and
calls `done(result)` or `failed(error)` back on the GUI thread. Writes
(`write=True`) run one at a time, in the order they were asked for, so two
quick edits of the same contact land in that order. A callback whose widget has
been closed meanwhile is skipped.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from .qt import QObject, QRunnable, QThreadPool, Qt, Signal, Slot, alive

log = logging.getLogger(__name__)


class _Relay(QObject):
    """Lives on the GUI thread; the worker emits `finished` on it (a queued call)."""

    finished = Signal(object, object)  # (result, error)

    def __init__(self, tasks: Tasks, done, failed, context) -> None:
        super().__init__()
        self._tasks = tasks
        self._done = done
        self._failed = failed
        self._context = context
        self.finished.connect(self._deliver, Qt.ConnectionType.QueuedConnection)

    @Slot(object, object)
    def _deliver(self, result: Any, error: BaseException | None) -> None:
        try:
            if self._context is not None and not alive(self._context):
                return
            if error is None:
                if self._done is not None:
                    self._done(result)
            elif self._failed is not None:
                self._failed(error)
            else:
                self._tasks.failed.emit(error)
        finally:
            self._tasks._finish(self)


class _Job(QRunnable):
    def __init__(self, fn: Callable[..., Any], args: tuple, kwargs: dict, relay: _Relay) -> None:
        super().__init__()
        self.setAutoDelete(True)
        self._call = (fn, args, kwargs)
        self._signal = relay.finished

    def run(self) -> None:
        fn, args, kwargs = self._call
        try:
            result, error = fn(*args, **kwargs), None
        except Exception as exc:  # noqa: BLE001 - handed to the GUI thread, which shows it
            log.debug("task %s failed: %s", getattr(fn, "__qualname__", fn), exc)
            result, error = None, exc
        self._signal.emit(result, error)


class Tasks(QObject):
    """Worker threads for the hub's blocking calls; see the module docstring."""

    failed = Signal(object)  # an error nobody asked to handle: the window shows it
    idle = Signal()          # the last pending task has been delivered

    def __init__(self, parent: QObject | None = None, readers: int = 2) -> None:
        super().__init__(parent)
        self._readers = QThreadPool(self)
        self._readers.setMaxThreadCount(readers)
        self._writer = QThreadPool(self)
        self._writer.setMaxThreadCount(1)
        self._relays: set[_Relay] = set()

    def run(self, fn: Callable[..., Any], *args: Any, done: Callable[[Any], None] | None = None,
            failed: Callable[[BaseException], None] | None = None, write: bool = False,
            context: QObject | None = None, **kwargs: Any) -> None:
        """Run `fn(*args, **kwargs)` on a worker; `done`/`failed` run on the GUI thread.

        `context`: the widget the answer is for; when it has been deleted by
        then, the callbacks are skipped.
        """
        relay = _Relay(self, done, failed, context)
        self._relays.add(relay)
        (self._writer if write else self._readers).start(_Job(fn, args, kwargs, relay))

    @property
    def pending(self) -> int:
        """Tasks asked for whose answer has not been delivered yet."""
        return len(self._relays)

    def _finish(self, relay: _Relay) -> None:
        self._relays.discard(relay)
        relay.deleteLater()
        if not self._relays:
            self.idle.emit()

    def wait(self, timeout_ms: int = 10_000) -> bool:
        """Block until the worker threads are done (at shutdown)."""
        return self._writer.waitForDone(timeout_ms) and self._readers.waitForDone(timeout_ms)
