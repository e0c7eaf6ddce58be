"""Privacy: `facelink export` gives a user everything kept of them; `facelink
delete-user` and delete_contact remove it for good. The deleted bytes (the
account, contact names, every embedding, thumbnail and chip, and a marker
planted inside a chip) are searched for in the raw database, -wal and -shm
files: none may remain, while the other user's bytes are still found there.
The data folder and everything in it is owner-only."""

from __future__ import annotations

import json
import os
import stat
import uuid
import zipfile
from pathlib import Path

import pytest

from facelink_local.config import Settings
from facelink_local.hub import Hub

from .support import bearer, consistency_problems, facelink_cli, http, register

pytestmark = [pytest.mark.model, pytest.mark.faces]

FILES = ("facelink.db", "facelink.db-wal", "facelink.db-shm")


def upload(base: str, auth: dict, photo: Path) -> None:
    response = http.post(f"{base}/api/v1/upload_image", content=photo.read_bytes(),
                         headers={**auth, "Content-Type": "image/jpeg"})
    assert response.status_code == 200, response.text


@pytest.fixture
def people(hub, live_server, identities):
    """Carol: a contact, a cluster on her timeline, and a marker planted in a chip. Dave: two faces."""
    marker = uuid.uuid4().hex
    carol_name = f"carol-{marker}"
    carol = bearer(register(live_server, carol_name)["access_token"])
    for photo in identities["colin_powell"][:3] + identities["halle_berry"][:2]:
        upload(live_server, carol, photo)
    clusters = sorted(http.get(f"{live_server}/api/v1/pull_timeline", headers=carol).json())
    assert len(clusters) == 2
    contact_name = f"Aunt {marker}"
    named = http.post(f"{live_server}/api/v1/create_contact", headers=carol,
                      json={"cluster_id": clusters[0], "contact_name": contact_name})
    assert named.status_code == 200
    dave = bearer(register(live_server, "dave")["access_token"])
    for photo in identities["ariel_sharon"][:2]:
        upload(live_server, dave, photo)
    carol_id = hub.accounts.user_id_for(carol_name)
    planted = f"PLANTED-{marker}".encode()
    with hub.store.write() as db:
        db.execute("UPDATE faces SET chip = CAST(chip || ? AS BLOB) WHERE id = (SELECT min(id) FROM faces "
                   "WHERE user_id = ? AND contact_id IS NULL)", [planted, carol_id])
    return {"carol": carol, "carol_name": carol_name, "carol_id": carol_id, "cid": named.json()["cid"],
            "contact_name": contact_name, "planted": planted, "dave": dave,
            "dave_id": hub.accounts.user_id_for("dave")}


def raw_files(data_dir: Path) -> bytes:
    return b"".join((data_dir / name).read_bytes() for name in FILES if (data_dir / name).exists())


def face_bytes(hub, where: str, args: list) -> list[bytes]:
    """48 bytes from the middle of each embedding, thumbnail and chip (past any common header)."""
    rows = hub.store.read().execute(f"SELECT embedding, thumbnail, chip FROM faces WHERE {where}", args).fetchall()
    return [blob[len(blob) // 2:len(blob) // 2 + 48] for row in rows for blob in row]


def found(haystack: bytes, needles: list[bytes]) -> int:
    return sum(needle in haystack for needle in needles)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# --- export ------------------------------------------------------------------------------------

def exported_files(output: Path) -> dict[str, bytes]:
    if output.suffix == ".zip":
        with zipfile.ZipFile(output) as archive:
            return {name: archive.read(name) for name in archive.namelist()}
    return {str(p.relative_to(output)): p.read_bytes() for p in output.rglob("*") if p.is_file()}


def test_export_holds_everything_of_the_user_and_nothing_else(hub, people, tmp_path):
    data_dir = hub.settings.data_dir
    for output in (tmp_path / "carol.zip", tmp_path / "carol-folder"):
        result = facelink_cli("export", "--username", people["carol_name"], "--output", str(output),
                              "--data-dir", str(data_dir))
        assert result.returncode == 0, result.stderr
        assert "5 faces" in result.stdout and "1 contact," in result.stdout
        files = exported_files(output)
        account = json.loads(files["account.json"])
        assert account["username"] == people["carol_name"] and account["format"] == 1
        assert account["counts"] == {"contacts": 1, "faces": 5, "clusters": 1, "uploads": 5}
        (contact,) = json.loads(files["contacts.json"])
        assert contact["cid"] == people["cid"] and contact["name"] == people["contact_name"]
        faces = json.loads(files["faces.json"])
        rows = hub.store.read().execute("SELECT id, contact_id, cluster_id, embedding, thumbnail, chip FROM faces "
                                        "WHERE user_id = ? ORDER BY id", [people["carol_id"]]).fetchall()
        assert [f["id"] for f in faces] == [r[0] for r in rows]
        assert sorted(contact["faces"]) == [r[0] for r in rows if r[1] == people["cid"]]
        for face, (face_id, contact_id, cluster_id, embedding, thumbnail, chip) in zip(faces, rows):
            assert (face["contact_id"], face["cluster_id"]) == (contact_id, cluster_id)
            assert face["embedding"] == list(memoryview(embedding).cast("f"))  # float32, exactly
            assert files[face["thumbnail"]] == thumbnail and files[face["chip"]] == chip
        assert people["planted"] in b"".join(files.values())  # the chip as stored, marker and all
        (cluster,) = json.loads(files["clusters.json"])
        assert sorted(cluster["faces"] + contact["faces"]) == [r[0] for r in rows]
        assert len(json.loads(files["uploads.json"])) == 5
        # Never the password hash, nothing of Dave's.
        password_hash = hub.store.read().execute("SELECT password_hash FROM users WHERE id = ?",
                                                 [people["carol_id"]]).fetchone()[0]
        everything = b"".join(files.values())
        assert b"password" not in everything and password_hash.encode() not in everything
        assert found(everything, face_bytes(hub, "user_id = ?", [people["dave_id"]])) == 0
        # Owner-only, whatever the umask.
        if output.suffix == ".zip":
            assert mode(output) == 0o600
        else:
            assert mode(output) == mode(output / "faces") == 0o700
            assert {mode(p) for p in output.rglob("*") if p.is_file()} == {0o600}
    # Never written over, and a user that does not exist is an error.
    again = facelink_cli("export", "--username", people["carol_name"], "--output", str(tmp_path / "carol.zip"),
                         "--data-dir", str(data_dir))
    assert again.returncode == 1 and "already exists" in again.stderr
    nobody = facelink_cli("export", "--username", "nobody", "--output", str(tmp_path / "x.zip"),
                          "--data-dir", str(data_dir))
    assert nobody.returncode == 1 and "no user named" in nobody.stderr and not (tmp_path / "x.zip").exists()


# --- deletion ----------------------------------------------------------------------------------

def test_delete_user_overwrites_everything_of_the_user_on_a_running_hub(hub, live_server, people):
    data_dir = hub.settings.data_dir
    carol = [people["carol_name"].encode(), people["contact_name"].encode(), people["planted"],
             *face_bytes(hub, "user_id = ?", [people["carol_id"]])]
    dave = face_bytes(hub, "user_id = ?", [people["dave_id"]])
    hub.store.checkpoint()
    assert found(raw_files(data_dir), carol) == len(carol)  # the search sees them while they exist
    hub.gallery.get(people["carol_id"], hub.engine.id)  # her contacts' faces, in memory as uploads load them

    result = facelink_cli("delete-user", "--username", people["carol_name"], "--yes", "--data-dir", str(data_dir))
    assert result.returncode == 0, result.stderr
    assert "1 contact, 5 faces, 1 cluster and 5 uploads, overwritten" in result.stdout

    refused = http.get(f"{live_server}/api/v1/pull_contacts", headers=people["carol"])
    assert refused.status_code == 401 and refused.json() == {"msg": "User no longer exists"}
    assert not hub.gallery.holds(people["carol_id"])  # the running hub forgot them when her device came back
    assert http.get(f"{live_server}/api/v1/pull_timeline", headers=people["dave"]).status_code == 200
    db = hub.store.read()
    assert db.execute("SELECT count(*) FROM users").fetchone()[0] == 1
    for table in ("contacts", "faces", "clusters", "uploads"):
        assert db.execute(f"SELECT count(*) FROM {table} WHERE user_id = ?", [people["carol_id"]]).fetchone()[0] == 0
    assert db.execute("SELECT count(*) FROM cluster_members").fetchone()[0] == 2  # Dave's only
    assert consistency_problems(db) == []
    wal = data_dir / "facelink.db-wal"
    assert not wal.exists() or wal.stat().st_size == 0  # the command folded the WAL in
    assert db.execute("PRAGMA freelist_count").fetchone()[0] > 0  # the freed pages are in the file...
    hub.store.checkpoint()
    raw = raw_files(data_dir)
    assert found(raw, carol) == 0  # ...overwritten, like the rows
    assert found(raw, dave) == len(dave)


def test_delete_user_asks_first(hub):
    hub.accounts.register("frank", "correct horse battery")
    data_dir = str(hub.settings.data_dir)
    declined = facelink_cli("delete-user", "--username", "frank", "--data-dir", data_dir, input="n\n")
    assert declined.returncode == 1 and "Aborted" in declined.stderr
    assert "Delete frank for good, with 0 contacts, 0 faces, 0 clusters and 0 uploads?" in declined.stdout
    assert hub.accounts.user_id_for("frank") is not None
    accepted = facelink_cli("delete-user", "--username", "frank", "--data-dir", data_dir, input="y\n")
    assert accepted.returncode == 0, accepted.stderr
    assert hub.accounts.user_id_for("frank") is None
    unknown = facelink_cli("delete-user", "--username", "nobody", "--yes", "--data-dir", data_dir)
    assert unknown.returncode == 1 and "no user named" in unknown.stderr


def test_delete_contact_overwrites_its_name_and_faces(hub, live_server, people):
    contact = [people["contact_name"].encode(), *face_bytes(hub, "contact_id = ?", [people["cid"]])]
    others = face_bytes(hub, "contact_id IS NULL", [])
    hub.store.checkpoint()
    assert found(raw_files(hub.settings.data_dir), contact) == len(contact)
    response = http.delete(f"{live_server}/api/v1/delete_contact/{people['cid']}", headers=people["carol"])
    assert response.status_code == 200
    raw = raw_files(hub.settings.data_dir)  # as the server left it: no checkpoint here
    assert found(raw, contact) == 0
    assert found(raw, others) == len(others)


def test_faces_past_the_retention_period_are_overwritten_when_the_timeline_purges_them(hub, live_server, identities):
    auth = bearer(register(live_server, "gina")["access_token"])
    for photo in identities["colin_powell"][:2] + identities["halle_berry"][:1]:
        upload(live_server, auth, photo)
    with hub.store.write() as db:  # two of them were seen 30 days ago
        db.execute("UPDATE faces SET seen_at = '2000-01-01T00:00:00.000Z' WHERE id IN "
                   "(SELECT id FROM faces ORDER BY id LIMIT 2)")
    old = face_bytes(hub, "seen_at < '2001'", [])
    recent = face_bytes(hub, "seen_at > '2001'", [])
    hub.store.checkpoint()
    assert found(raw_files(hub.settings.data_dir), old) == len(old) == 6
    timeline = http.get(f"{live_server}/api/v1/pull_timeline", headers=auth).json()
    assert sum(len(stamps) for stamps in timeline.values()) == 1
    raw = raw_files(hub.settings.data_dir)  # as the server left it
    assert found(raw, old) == 0
    assert found(raw, recent) == len(recent)


def test_without_secure_delete_the_same_search_finds_the_deleted_faces(tmp_path, engine, identities, monkeypatch):
    """Control: the byte search is sensitive; it is secure_delete that makes it come back empty."""
    import facelink_local.store.db as store_db

    monkeypatch.setattr(store_db, "PRAGMAS", tuple(p.replace("secure_delete = ON", "secure_delete = OFF")
                                                   for p in store_db.PRAGMAS))
    hub = Hub(Settings(data_dir=tmp_path / "data", bcrypt_rounds=4), engine=engine)
    try:
        user = hub.accounts.authenticate(hub.accounts.register("erin", "correct horse battery")["access_token"])
        for photo in identities["colin_powell"][:3]:
            hub.uploads.process(user, photo.read_bytes())
        needles = face_bytes(hub, "user_id = ?", [user])
        hub.privacy.delete_user(user)
        assert found(raw_files(hub.settings.data_dir), needles) > len(needles) // 2
    finally:
        hub.close()


# --- permissions -------------------------------------------------------------------------------

def test_the_data_folder_and_its_files_are_owner_only(hub, live_server):
    register(live_server, "ann")
    data_dir = hub.settings.data_dir
    assert (data_dir / "facelink.db-wal").exists() and (data_dir / "facelink.db-shm").exists()
    assert mode(data_dir) == 0o700
    for name in (*FILES, "jwt-secret.key"):
        assert mode(data_dir / name) == 0o600, name


def test_loose_permissions_from_before_are_tightened_at_start(tmp_path, engine):
    data_dir = tmp_path / "data"
    Hub(Settings(data_dir=data_dir, bcrypt_rounds=4), engine=engine).close()
    os.chmod(data_dir, 0o755)
    for path in data_dir.iterdir():
        os.chmod(path, 0o644)
    (data_dir / "models").mkdir(mode=0o755)
    hub = Hub(Settings(data_dir=data_dir, bcrypt_rounds=4), engine=engine)
    try:
        hub.accounts.register("ann", "correct horse battery")
        assert mode(data_dir) == mode(data_dir / "models") == 0o700
        assert {mode(p) for p in data_dir.iterdir() if p.is_file()} == {0o600}
    finally:
        hub.close()



def test_the_descriptor_built_into_a_data_folder_is_owner_only(onnx_cache, engine):
    """A hub started for the first time converts dlib's descriptor into its data folder's models/
    (the session's engine did so into `onnx_cache`): that copy is the owner's only, like the rest."""
    (built,) = (onnx_cache / "models").glob("*.onnx")
    assert mode(onnx_cache / "models") == 0o700 and mode(built) == 0o600
