"""Contacts: list, create from a cluster of unknown faces, edit, delete."""

from __future__ import annotations

import unicodedata

from ..recognition.patterns import MAX_PATTERN, most_distinct_pattern
from ..store import Store
from ..store.db import ERASE_WAIT_S
from ..timefmt import iso, now_utc
from .errors import BadRequest, NotFound
from .gallery import GalleryCache

MAX_NAME = 64


def clean_name(name: str) -> str:
    name = unicodedata.normalize("NFC", name).strip()
    if not 1 <= len(name) <= MAX_NAME:
        raise BadRequest(f"name must be 1-{MAX_NAME} characters after trimming")
    if any(unicodedata.category(c) in ("Cc", "Cs") for c in name):
        raise BadRequest("name must not contain control characters")
    return name


def check_pattern(pattern: object) -> int:
    if isinstance(pattern, bool) or not isinstance(pattern, int) or not 0 <= pattern <= MAX_PATTERN:
        raise BadRequest("vib_pattern must be an integer from 0 to 4294967295")
    return pattern


class ContactService:
    def __init__(self, store: Store, gallery: GalleryCache) -> None:
        self.store = store
        self.gallery = gallery

    def list(self, user_id: int) -> list[dict]:
        rows = self.store.read().execute(
            "SELECT cid, name, last_seen, vib_pattern FROM contacts WHERE user_id = ? ORDER BY cid", [user_id]
        ).fetchall()
        return [{"cid": r[0], "name": r[1], "last_seen": r[2], "vib_pattern": r[3]} for r in rows]

    def get(self, user_id: int, cid: int) -> dict:
        row = self.store.read().execute(
            "SELECT cid, name, last_seen, vib_pattern FROM contacts WHERE user_id = ? AND cid = ?", [user_id, cid]
        ).fetchone()
        if row is None:
            raise NotFound("Contact not found")
        return {"cid": row[0], "name": row[1], "last_seen": row[2], "vib_pattern": row[3]}

    def create_from_cluster(self, user_id: int, cluster_id: str, contact_name: str) -> dict:
        """The cluster's loose faces become the new contact's reference faces, in one transaction."""
        name = clean_name(contact_name)
        with self.store.write() as db:
            face_ids = [r[0] for r in db.execute(
                "SELECT f.id FROM clusters c JOIN cluster_members m ON m.cluster_id = c.id "
                "JOIN faces f ON f.id = m.face_id "
                "WHERE c.id = ? AND c.user_id = ? AND f.user_id = ? AND f.contact_id IS NULL",
                [cluster_id, user_id, user_id],
            )]
            if not face_ids:
                raise NotFound("Cluster not found")
            patterns = [r[0] for r in db.execute("SELECT vib_pattern FROM contacts WHERE user_id = ?", [user_id])]
            cid = db["contacts"].insert({
                "user_id": user_id,
                "name": name,
                "vib_pattern": most_distinct_pattern(patterns),
                "last_seen": None,
                "created_at": iso(now_utc()),
            }).last_pk
            db.conn.executemany(
                "UPDATE faces SET contact_id = ?, cluster_id = NULL WHERE id = ? AND user_id = ?",
                [(cid, face_id, user_id) for face_id in face_ids],
            )
            # The id is used up: a pull_timeline running meanwhile cannot add a new face to it.
            db.execute("DELETE FROM clusters WHERE id = ? AND user_id = ?", [cluster_id, user_id])
        self.gallery.invalidate(user_id)
        return {"cid": cid, "contact_name": name, "faces": len(face_ids)}

    def edit(self, user_id: int, cid: int, name: str | None = None, vib_pattern: int | None = None) -> None:
        changes = {}
        if name is not None:
            changes["name"] = clean_name(name)
        if vib_pattern is not None:
            changes["vib_pattern"] = check_pattern(vib_pattern)
        with self.store.write() as db:
            exists = db.execute("SELECT 1 FROM contacts WHERE cid = ? AND user_id = ?", [cid, user_id]).fetchone()
            if not exists:
                raise NotFound("Contact not updated successfully")
            if changes:
                assignments = ", ".join(f"{column} = ?" for column in changes)
                db.execute(f"UPDATE contacts SET {assignments} WHERE cid = ? AND user_id = ?",
                           [*changes.values(), cid, user_id])

    def delete(self, user_id: int, cid: int) -> None:
        """Remove the contact and, by cascade, every reference face (embedding, thumbnail, chip)."""
        with self.store.write() as db:
            cursor = db.execute("DELETE FROM contacts WHERE cid = ? AND user_id = ?", [cid, user_id])
            if cursor.rowcount == 0:
                raise NotFound("Contact not found or could not be deleted")
        self.gallery.invalidate(user_id)
        self.store.checkpoint(wait_s=ERASE_WAIT_S)  # no old copy of the faces stays in the WAL

    def thumbnail(self, user_id: int, cid: int) -> bytes | None:
        """The JPEG thumbnail of the contact's most confident reference face."""
        row = self.store.read().execute(
            "SELECT thumbnail FROM faces WHERE user_id = ? AND contact_id = ? ORDER BY score DESC LIMIT 1",
            [user_id, cid],
        ).fetchone()
        return row[0] if row else None
