"""A user's data: all of it exported, or all of it deleted for good.

The export holds everything the hub keeps of one user, as JSON files and
images, in a zip file or a new folder, readable by its owner only:

    account.json    username, created_at, exported_at, format, counts (never the password hash)
    contacts.json   [{cid, name, vib_pattern, last_seen, created_at, faces: [face ids]}]
    faces.json      [{id, contact_id, cluster_id, upload_id, engine, seen_at, box, score,
                      embedding: [128 floats], thumbnail: "faces/<id>-thumbnail.jpg", chip: "faces/<id>-chip.png"}]
    clusters.json   [{id, created_at, faces: [face ids]}]
    uploads.json    [{id, received_at, faces, matched, unknown}]
    faces/          each face's JPEG thumbnail and lossless aligned chip

Deleting removes the account, and by cascade every contact, face (embedding,
thumbnail, chip), cluster and upload record of it. `secure_delete` is on, so
SQLite overwrites the deleted rows and freed pages with zeros; a checkpoint
then copies the WAL into the database file and truncates it, so no old copy
of a page stays in the WAL either.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ..store import Store
from ..store.db import ERASE_WAIT_S
from ..timefmt import iso, now_utc
from .errors import NotFound
from .gallery import GalleryCache, embedding_from_blob

EXPORT_FORMAT = 1
CHECKPOINT_TRIES = 5  # of ERASE_WAIT_S each: a running hub's readers can hold up a checkpoint a moment


class ExportExists(FileExistsError):
    """An export is never written over an existing file or folder."""


@dataclass(frozen=True)
class Deleted:
    username: str
    counts: dict[str, int]
    checkpointed: bool  # False: a reader kept the WAL busy; the next checkpoint completes the overwrite


class _ZipWriter:
    def __init__(self, path: Path) -> None:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        self._file = os.fdopen(fd, "wb")
        self._zip = zipfile.ZipFile(self._file, "w")

    def write(self, name: str, data: bytes, compress: bool) -> None:
        info = zipfile.ZipInfo(name, date_time=time.gmtime()[:6])
        info.external_attr = 0o600 << 16
        info.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
        self._zip.writestr(info, data)

    def close(self) -> None:
        self._zip.close()
        self._file.close()


class _FolderWriter:
    def __init__(self, path: Path) -> None:
        os.mkdir(path, 0o700)
        os.chmod(path, 0o700)  # whatever the umask
        self.root = path

    def write(self, name: str, data: bytes, compress: bool) -> None:
        target = self.root / name
        if not target.parent.exists():
            os.mkdir(target.parent, 0o700)
            os.chmod(target.parent, 0o700)
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(data)

    def close(self) -> None:
        pass


def _json(value) -> bytes:
    return json.dumps(value, ensure_ascii=False, indent=1).encode("utf-8")


class PrivacyService:
    def __init__(self, store: Store, gallery: GalleryCache | None = None) -> None:
        self.store = store
        self.gallery = gallery

    def user_id_for(self, username: str) -> int:
        row = self.store.read().execute("SELECT id FROM users WHERE username = ?", [username.strip()]).fetchone()
        if row is None:
            raise NotFound(f"no user named {username!r}")
        return row[0]

    # -- export ---------------------------------------------------------------------------------

    def export(self, user_id: int, output: Path) -> dict[str, int]:
        """Write everything kept of the user to `output` (a name ending in .zip: a zip
        file; anything else: a new folder). Returns how many of each were written."""
        output = Path(output)
        if output.exists():
            raise ExportExists(f"{output} already exists: an export is never written over anything")
        writer = _ZipWriter(output) if output.suffix.lower() == ".zip" else _FolderWriter(output)
        try:
            with self._snapshot() as db:
                counts = self._write_all(db, user_id, writer)
            writer.close()
        except BaseException:
            writer.close()
            if output.is_dir():
                shutil.rmtree(output, ignore_errors=True)
            else:
                output.unlink(missing_ok=True)
            raise
        return counts

    @contextmanager
    def _snapshot(self):
        """One read transaction: the export is consistent even while the hub is writing."""
        db = self.store.read()
        db.execute("BEGIN")
        try:
            yield db
        finally:
            db.execute("COMMIT")

    def _write_all(self, db, user_id: int, writer) -> dict[str, int]:
        account = db.execute("SELECT username, created_at FROM users WHERE id = ?", [user_id]).fetchone()
        if account is None:
            raise NotFound(f"no user with id {user_id}")
        faces = []
        for (face_id, contact_id, cluster_id, upload_id, engine, embedding, seen_at, box, score, thumbnail,
             chip) in db.execute(
                "SELECT id, contact_id, cluster_id, upload_id, engine, embedding, seen_at, box, score, thumbnail, "
                "chip FROM faces WHERE user_id = ? ORDER BY id", [user_id]):
            names = {"thumbnail": f"faces/{face_id}-thumbnail.jpg", "chip": f"faces/{face_id}-chip.png"}
            writer.write(names["thumbnail"], thumbnail, compress=False)
            writer.write(names["chip"], chip, compress=False)
            faces.append({
                "id": face_id, "contact_id": contact_id, "cluster_id": cluster_id, "upload_id": upload_id,
                "engine": engine, "seen_at": seen_at, "box": json.loads(box), "score": score,
                "embedding": embedding_from_blob(embedding).tolist(), **names,
            })
        faces_of: dict[int, list[int]] = {}
        for face in faces:
            if face["contact_id"] is not None:
                faces_of.setdefault(face["contact_id"], []).append(face["id"])
        contacts = [
            {"cid": cid, "name": name, "vib_pattern": pattern, "last_seen": last_seen, "created_at": created_at,
             "faces": faces_of.get(cid, [])}
            for cid, name, pattern, last_seen, created_at in db.execute(
                "SELECT cid, name, vib_pattern, last_seen, created_at FROM contacts WHERE user_id = ? ORDER BY cid",
                [user_id])
        ]
        members: dict[str, list[int]] = {}
        for cluster_id, face_id in db.execute(
                "SELECT m.cluster_id, m.face_id FROM cluster_members m JOIN clusters c ON c.id = m.cluster_id "
                "WHERE c.user_id = ? ORDER BY m.cluster_id, m.face_id", [user_id]):
            members.setdefault(cluster_id, []).append(face_id)
        clusters = [{"id": cluster_id, "created_at": created_at, "faces": members.get(cluster_id, [])}
                    for cluster_id, created_at in db.execute(
                        "SELECT id, created_at FROM clusters WHERE user_id = ? ORDER BY created_at, id", [user_id])]
        uploads = [{"id": r[0], "received_at": r[1], "faces": r[2], "matched": r[3], "unknown": r[4]}
                   for r in db.execute("SELECT id, received_at, faces, matched, unknown FROM uploads "
                                       "WHERE user_id = ? ORDER BY id", [user_id])]
        counts = {"contacts": len(contacts), "faces": len(faces), "clusters": len(clusters), "uploads": len(uploads)}
        for name, value in (("contacts.json", contacts), ("faces.json", faces), ("clusters.json", clusters),
                            ("uploads.json", uploads)):
            writer.write(name, _json(value), compress=True)
        writer.write("account.json", _json({
            "username": account[0], "created_at": account[1], "exported_at": iso(now_utc()),
            "format": EXPORT_FORMAT, "counts": counts,
        }), compress=True)
        return counts

    # -- deletion -------------------------------------------------------------------------------

    def counts(self, user_id: int) -> dict[str, int]:
        return self._counts(self.store.read(), user_id)

    @staticmethod
    def _counts(db, user_id: int) -> dict[str, int]:
        return {table: db.execute(f"SELECT count(*) FROM {table} WHERE user_id = ?", [user_id]).fetchone()[0]
                for table in ("contacts", "faces", "clusters", "uploads")}

    def delete_user(self, user_id: int) -> Deleted:
        """Delete the account and everything of it; overwrite it in the database and the WAL."""
        with self.store.write() as db:
            row = db.execute("SELECT username FROM users WHERE id = ?", [user_id]).fetchone()
            if row is None:
                raise NotFound(f"no user with id {user_id}")
            counts = self._counts(db, user_id)
            db.execute("DELETE FROM users WHERE id = ?", [user_id])  # cascades to everything of the user
        if self.gallery is not None:
            self.gallery.invalidate(user_id)
        checkpointed = any(self.store.checkpoint(wait_s=ERASE_WAIT_S) for _ in range(CHECKPOINT_TRIES))
        return Deleted(row[0], counts, checkpointed)
