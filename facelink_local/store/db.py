"""Connections to the hub's SQLite file.

Readers get one connection per thread; writers queue on one lock and run in
an IMMEDIATE transaction, so concurrent uploads never interleave half-writes
and never see "database is locked".
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlite_utils import Database

from .schema import migrations

BUSY_TIMEOUT_MS = 10000
# After a deletion the WAL is folded in and truncated (checkpoint). A long reader may
# hold that up; then the next checkpoint does it (the rows are overwritten with zeros anyway).
ERASE_WAIT_S = 2.0
PRAGMAS = (
    "PRAGMA foreign_keys = ON",
    "PRAGMA secure_delete = ON",   # deleted biometric data is overwritten, not left in free pages
    f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}",
    "PRAGMA synchronous = NORMAL",  # with WAL: a killed process loses no committed transaction
)


class Store:
    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._write_lock = threading.RLock()
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._all_lock = threading.Lock()
        if not self.path.exists():  # made owner-only before SQLite writes a byte into it
            os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600))
        db = self._db()
        db.execute("PRAGMA journal_mode = WAL")
        self.restrict_files()
        with self._write_lock:
            migrations.apply(db)

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=10)
        for pragma in PRAGMAS:
            conn.execute(pragma)
        with self._all_lock:
            self._all.append(conn)
        return conn

    def _db(self) -> Database:
        db = getattr(self._local, "db", None)
        if db is None:
            db = Database(self._connect())
            self._local.db = db
        return db

    def read(self) -> Database:
        """This thread's connection, for reads (it sees the last committed state)."""
        return self._db()

    @contextmanager
    def write(self) -> Iterator[Database]:
        """One atomic write: everything inside commits together or not at all."""
        with self._write_lock:
            db = self._db()
            if db.conn.in_transaction:  # nested write(): join the outer transaction
                yield db
                return
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.rollback()
                raise
            else:
                db.execute("COMMIT")

    def restrict_files(self) -> None:
        """The database and its -wal and -shm files: owner-only (SQLite gives the
        latter two the database's mode; this also fixes files made by older versions)."""
        for path in (self.path, self.path.with_name(self.path.name + "-wal"),
                     self.path.with_name(self.path.name + "-shm")):
            try:
                os.chmod(path, 0o600)
            except FileNotFoundError:
                pass

    def checkpoint(self, wait_s: float | None = None) -> bool:
        """Fold the WAL back into the main file and truncate it, so that no older
        copy of a page (say, of a deleted face) stays in the WAL. False when a
        reader (another connection or process) kept it from completing within
        `wait_s` seconds (default: the busy timeout)."""
        with self._write_lock:
            db = self._db()
            if wait_s is not None:
                db.execute(f"PRAGMA busy_timeout = {int(wait_s * 1000)}")
            try:
                busy, _, _ = db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            finally:
                if wait_s is not None:
                    db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        return busy == 0

    def close(self) -> None:
        with self._all_lock:
            for conn in self._all:
                try:
                    conn.close()
                except sqlite3.Error:
                    pass
            self._all.clear()
        self._local = threading.local()
