"""The SQLite store: migrations, atomic writes, owner-only files."""

from __future__ import annotations

import stat
import threading

import pytest

from facelink_local.store import Store, schema_version
from facelink_local.store.schema import migrations


def test_fresh_database_has_the_schema(tmp_path):
    store = Store(tmp_path / "hub.db")
    db = store.read()
    assert {"users", "contacts", "faces", "clusters", "cluster_members", "uploads", "settings"} <= set(db.table_names())
    assert schema_version(db) == len(migrations.applied(db)) >= 1
    assert migrations.pending(db) == []
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA secure_delete").fetchone()[0] == 1
    assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert stat.S_IMODE((tmp_path / "hub.db").stat().st_mode) == 0o600
    store.close()


def test_reopening_applies_nothing_twice(tmp_path):
    Store(tmp_path / "hub.db").close()
    store = Store(tmp_path / "hub.db")
    assert migrations.pending(store.read()) == []
    store.close()


def test_a_failed_write_leaves_nothing_behind(tmp_path):
    store = Store(tmp_path / "hub.db")
    with pytest.raises(RuntimeError):
        with store.write() as db:
            db["users"].insert({"username": "ann", "password_hash": "x", "created_at": "now"})
            raise RuntimeError("crash in the middle of a request")
    assert store.read().execute("SELECT count(*) FROM users").fetchone()[0] == 0
    store.close()


def test_concurrent_writers_lose_nothing(tmp_path):
    store = Store(tmp_path / "hub.db")
    with store.write() as db:
        user = db["users"].insert({"username": "ann", "password_hash": "x", "created_at": "now"}).last_pk

    def worker(n: int) -> None:
        for i in range(50):
            with store.write() as db:
                db["uploads"].insert({"user_id": user, "received_at": f"{n}-{i}", "faces": 0, "matched": 0,
                                      "unknown": 0})

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert store.read().execute("SELECT count(*) FROM uploads").fetchone()[0] == 300
    store.close()


def test_deleting_a_user_cascades(tmp_path):
    store = Store(tmp_path / "hub.db")
    with store.write() as db:
        user = db["users"].insert({"username": "ann", "password_hash": "x", "created_at": "now"}).last_pk
        db["contacts"].insert({"user_id": user, "name": "A", "vib_pattern": 1, "created_at": "now"})
    with store.write() as db:
        db.execute("DELETE FROM users WHERE id = ?", [user])
    assert store.read().execute("SELECT count(*) FROM contacts").fetchone()[0] == 0
    store.close()
