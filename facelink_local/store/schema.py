"""The schema, as named migrations recorded in `_sqlite_migrations`.

Never edit a migration once released: add a new one.
"""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

migrations = Migrations("facelink")


@migrations()
def m001_initial(db: Database) -> None:
    db.executescript(
        """
        CREATE TABLE users (
            id            INTEGER PRIMARY KEY AUTOINCREMENT,
            username      TEXT NOT NULL UNIQUE COLLATE NOCASE,
            password_hash TEXT NOT NULL,
            created_at    TEXT NOT NULL
        );

        -- AUTOINCREMENT: a deleted contact's cid is never given to a new one.
        CREATE TABLE contacts (
            cid         INTEGER PRIMARY KEY AUTOINCREMENT,
            user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            name        TEXT NOT NULL,
            vib_pattern INTEGER NOT NULL CHECK (vib_pattern BETWEEN 0 AND 4294967295),
            last_seen   TEXT,
            created_at  TEXT NOT NULL
        );
        CREATE INDEX contacts_user ON contacts(user_id);

        -- One row per face seen. contact_id NULL: a loose (unknown) face;
        -- otherwise one of the contact's reference faces.
        CREATE TABLE faces (
            id         INTEGER PRIMARY KEY AUTOINCREMENT,
            user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            contact_id INTEGER REFERENCES contacts(cid) ON DELETE CASCADE,
            cluster_id TEXT REFERENCES clusters(id) ON DELETE SET NULL,
            upload_id  INTEGER REFERENCES uploads(id) ON DELETE SET NULL,
            engine     TEXT NOT NULL,
            embedding  BLOB NOT NULL,   -- float32 little-endian
            seen_at    TEXT NOT NULL,   -- ISO-8601 UTC
            box        TEXT NOT NULL,   -- JSON [x, y, w, h]
            score      REAL NOT NULL,
            thumbnail  BLOB NOT NULL,   -- small JPEG for the desktop app
            chip       BLOB NOT NULL    -- aligned 150x150 chip, PNG (lossless)
        );
        CREATE INDEX faces_loose ON faces(user_id, seen_at) WHERE contact_id IS NULL;
        CREATE INDEX faces_contact ON faces(contact_id);
        CREATE INDEX faces_cluster ON faces(cluster_id);

        -- Opaque, stable cluster ids. An id names the faces it had when it
        -- was returned by pull_timeline (cluster_members keeps that record).
        CREATE TABLE clusters (
            id         TEXT PRIMARY KEY,
            user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            created_at TEXT NOT NULL
        );
        CREATE INDEX clusters_user ON clusters(user_id);
        CREATE TABLE cluster_members (
            cluster_id TEXT NOT NULL REFERENCES clusters(id) ON DELETE CASCADE,
            face_id    INTEGER NOT NULL REFERENCES faces(id) ON DELETE CASCADE,
            PRIMARY KEY (cluster_id, face_id)
        ) WITHOUT ROWID;
        CREATE INDEX cluster_members_face ON cluster_members(face_id);

        -- Every accepted upload, so that nothing answered 200 goes missing.
        CREATE TABLE uploads (
            id          INTEGER PRIMARY KEY AUTOINCREMENT,
            user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            received_at TEXT NOT NULL,
            faces       INTEGER NOT NULL,
            matched     INTEGER NOT NULL,
            unknown     INTEGER NOT NULL
        );
        CREATE INDEX uploads_user ON uploads(user_id, received_at);

        -- Hub-wide settings changed at run time (desktop app, CLI).
        CREATE TABLE settings (
            key   TEXT PRIMARY KEY,
            value TEXT NOT NULL     -- JSON
        );
        """
    )


@migrations()
def m002_faces_engine_index(db: Database) -> None:
    # Finding the faces another engine made (re-embedding, counts by engine) without a full scan.
    db.execute("CREATE INDEX IF NOT EXISTS faces_engine ON faces(engine)")


def schema_version(db: Database) -> int:
    """How many named migrations this database has applied."""
    return len(migrations.applied(db))
