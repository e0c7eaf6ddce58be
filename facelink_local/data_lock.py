"""One hub per data folder.

A running hub (`facelink serve` or `facelink gui`) holds an operating-system lock on
`hub.lock` in its data folder for as long as it runs; the commands that change what a
running hub keeps in memory (re-embedding, re-clustering) take the same lock, so they refuse
to run beside it instead of changing the database under it. The lock goes with the process,
also when it is killed, so a crash never leaves the folder locked.
"""

from __future__ import annotations

import os
from pathlib import Path

from filelock import FileLock, Timeout

LOCK_NAME = "hub.lock"


class DataFolderInUse(Exception):
    """Another process holds the data folder's lock."""

    def __init__(self, data_dir: Path, pid: int | None) -> None:
        self.data_dir = data_dir
        self.pid = pid
        who = f"process {pid}" if pid else "another process"
        super().__init__(f"a FaceLink hub ({who}) is already running with the data folder {data_dir}")


def _write_pid(fd: int) -> None:
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode())


def hold_data_folder(data_dir: Path) -> FileLock:
    """The data folder's lock, held by this process until released; DataFolderInUse if taken."""
    path = Path(data_dir) / LOCK_NAME
    lock = FileLock(path, timeout=0, mode=0o600, thread_local=False, fallback_to_soft=False,
                    preserve_lock_file=True, on_acquired=_write_pid)
    try:
        lock.acquire()
    except Timeout:
        raise DataFolderInUse(Path(data_dir), _read_pid(path)) from None
    return lock


def _read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None
