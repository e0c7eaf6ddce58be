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

PRAGMAS = (
    "PRAGMA foreign_keys = ON",
    "PRAGMA secure_delete = ON",   # deleted biometric data is overwritten, not left in free pages
    "PRAGMA busy_timeout = 10000",
    "PRAGMA synchronous = NORMAL",  # with WAL: a killed process loses no committed transaction
)


class Store:
    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._write_lock = threading.RLock()
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._all_lock = threading.Lock()
        first = not self.path.exists()
        db = self._db()
        if first:
            os.chmod(self.path, 0o600)
        db.execute("PRAGMA journal_mode = WAL")
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

    def checkpoint(self) -> None:
        """Fold the WAL back into the main file (and truncate it)."""
        with self._write_lock:
            self._db().execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def close(self) -> None:
        with self._all_lock:
            for conn in self._all:
                try:
                    conn.close()
                except sqlite3.Error:
                    pass
            self._all.clear()
        self._local = threading.local()
