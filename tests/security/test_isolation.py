"""Isolation: a user can never read, change, delete or name anything of another
user's. Every endpoint is tried with the other user's ids against the real
server; each answer must be exactly the answer for an id that does not exist,
and the other user's data must be byte for byte what it was."""

from __future__ import annotations

import hashlib

import pytest

from facelink_local.events import ContactSeen

from .support import PASSWORD, bearer, consistency_problems, http, register

pytestmark = [pytest.mark.model, pytest.mark.faces]

NO_SUCH_CID = 987654321
NO_SUCH_CLUSTER = "c_doesNotExist0000"


def upload(base: str, auth: dict, photo) -> dict:
    response = http.post(f"{base}/api/v1/upload_image", content=photo.read_bytes(),
                         headers={**auth, "Content-Type": "image/jpeg"})
    assert response.status_code == 200, response.text
    return response.json()


def snapshot(hub, user_id: int) -> dict[str, list]:
    """Every row of a user's, with blobs as digests: compared before and after."""
    db = hub.store.read()

    def rows(query: str) -> list:
        return [tuple(hashlib.sha256(v).hexdigest() if isinstance(v, bytes) else v for v in row)
                for row in db.execute(query, [user_id]).fetchall()]

    return {
        "user": rows("SELECT id, username, password_hash, created_at FROM users WHERE id = ?"),
        "contacts": rows("SELECT * FROM contacts WHERE user_id = ? ORDER BY cid"),
        "faces": rows("SELECT * FROM faces WHERE user_id = ? ORDER BY id"),
        "clusters": rows("SELECT * FROM clusters WHERE user_id = ? ORDER BY id"),
        "members": rows("SELECT m.* FROM cluster_members m JOIN clusters c ON c.id = m.cluster_id "
                        "WHERE c.user_id = ? ORDER BY m.cluster_id, m.face_id"),
        "uploads": rows("SELECT * FROM uploads WHERE user_id = ? ORDER BY id"),
    }


def answer(response) -> tuple[int, dict | list]:
    return response.status_code, response.json()


def test_no_endpoint_reaches_another_users_data(hub, live_server, identities):
    base = live_server
    # Bob: a contact (Colin Powell) and a person still on his timeline (Halle Berry).
    bob = bearer(register(base, "bob")["access_token"])
    for photo in identities["colin_powell"][:2]:
        upload(base, bob, photo)
    (bob_first_cluster,) = http.get(f"{base}/api/v1/pull_timeline", headers=bob).json()
    created = http.post(f"{base}/api/v1/create_contact", headers=bob,
                        json={"cluster_id": bob_first_cluster, "contact_name": "Bob's friend"})
    bob_cid = created.json()["cid"]
    for photo in identities["halle_berry"][:2]:
        upload(base, bob, photo)
    (bob_cluster,) = http.get(f"{base}/api/v1/pull_timeline", headers=bob).json()
    bob_id = hub.accounts.user_id_for("bob")
    # Alice: her own contact and timeline, so that her requests are well-formed and authorized.
    alice = bearer(register(base, "alice")["access_token"])
    for photo in identities["ariel_sharon"][:2]:
        upload(base, alice, photo)
    (alice_cluster,) = http.get(f"{base}/api/v1/pull_timeline", headers=alice).json()
    alice_cid = http.post(f"{base}/api/v1/create_contact", headers=alice,
                          json={"cluster_id": alice_cluster, "contact_name": "Alice's friend"}).json()["cid"]
    before = snapshot(hub, bob_id)
    bob_views = (http.get(f"{base}/api/v1/pull_contacts", headers=bob).json(),
                 http.get(f"{base}/api/v1/pull_timeline", headers=bob).json())
    seen: list[ContactSeen] = []
    hub.events.subscribe(ContactSeen.TOPIC, seen.append)

    # Changing, deleting and naming with Bob's ids answers exactly what a missing id answers.
    attempts = [
        ("PATCH", "/api/v1/edit_contact", {"cid": bob_cid, "name": "Mallory"},
         {"cid": NO_SUCH_CID, "name": "Mallory"}),
        ("PATCH", "/api/v1/edit_contact", {"cid": bob_cid, "vib_pattern": 0},
         {"cid": NO_SUCH_CID, "vib_pattern": 0}),
        ("PATCH", "/api/v1/edit_contact", {"cid": bob_cid}, {"cid": NO_SUCH_CID}),
        ("DELETE", f"/api/v1/delete_contact/{bob_cid}", None, f"/api/v1/delete_contact/{NO_SUCH_CID}"),
        ("POST", "/api/v1/create_contact", {"cluster_id": bob_cluster, "contact_name": "Mine now"},
         {"cluster_id": NO_SUCH_CLUSTER, "contact_name": "Mine now"}),
        ("POST", "/api/v1/create_contact", {"cluster_id": bob_first_cluster, "contact_name": "Mine now"},
         {"cluster_id": NO_SUCH_CLUSTER, "contact_name": "Mine now"}),
    ]
    for method, path, body, missing in attempts:
        theirs = http.request(method, base + path, json=body, headers=alice)
        if isinstance(missing, str):  # the id is in the path
            missing = http.request(method, base + missing, headers=alice)
        else:
            missing = http.request(method, base + path, json=missing, headers=alice)
        assert theirs.status_code == 404, (method, path, theirs.text)
        assert answer(theirs) == answer(missing), (method, path)
    # Reading: Alice sees her own things only.
    contacts = http.get(f"{base}/api/v1/pull_contacts", headers=alice).json()
    assert [c["cid"] for c in contacts] == [alice_cid]
    assert bob_cluster not in http.get(f"{base}/api/v1/pull_timeline", headers=alice).json()
    # Uploading Bob's contact's face: unknown to Alice, and Bob's contact is not "seen".
    result = upload(base, alice, identities["colin_powell"][2])
    assert [f["status"] for f in result["faces"]] == ["unknown"]
    assert all(event.user_id != bob_id for event in seen)
    # Taking over Bob's account: his username (any case) is taken, his password is not Alice's.
    for name in ("bob", "BOB", " Bob "):
        taken = http.post(f"{base}/api/v1/register", json={"username": name, "password": "another password 1"})
        assert answer(taken) == (401, {"msg": "Username already taken"}), name
    refused = http.post(f"{base}/api/v1/login", json={"username": "bob", "password": PASSWORD + "!"})
    assert refused.status_code == 401

    assert snapshot(hub, bob_id) == before
    assert (http.get(f"{base}/api/v1/pull_contacts", headers=bob).json(),
            http.get(f"{base}/api/v1/pull_timeline", headers=bob).json()) == bob_views
    # Bob can still do everything Alice could not.
    assert http.post(f"{base}/api/v1/create_contact", headers=bob,
                     json={"cluster_id": bob_cluster, "contact_name": "Halle"}).status_code == 200
    assert http.delete(f"{base}/api/v1/delete_contact/{bob_cid}", headers=bob).status_code == 200
    assert consistency_problems(hub.store.read(), whole_clusters=True) == []


def test_the_services_behind_the_desktop_app_are_isolated_too(hub, identities):
    """The desktop app calls the services directly: the same ids give nothing there either."""
    from facelink_local.services.errors import NotFound

    bob = hub.accounts.authenticate(hub.accounts.register("bob", PASSWORD)["access_token"])
    alice = hub.accounts.authenticate(hub.accounts.register("alice", PASSWORD)["access_token"])
    for photo in identities["colin_powell"][:2]:
        hub.uploads.process(bob, photo.read_bytes())
    (cluster,) = hub.timeline.pull(bob)
    assert hub.timeline.cluster_faces(alice, cluster) == []
    assert hub.timeline.cluster_faces(bob, cluster)
    cid = hub.contacts.create_from_cluster(bob, cluster, "Colin")["cid"]
    with pytest.raises(NotFound):
        hub.contacts.get(alice, cid)
    assert hub.contacts.thumbnail(alice, cid) is None
    assert hub.contacts.thumbnail(bob, cid)
    assert hub.uploads.recent(alice) == []
    assert len(hub.uploads.recent(bob)) == 2
    assert hub.gallery.get(alice, hub.engine.id).embeddings.shape[0] == 0


def test_a_cluster_named_while_the_timeline_is_being_updated_takes_no_new_face(hub, identities, monkeypatch):
    """pull_timeline reads the loose faces, create_contact names a cluster, then
    pull_timeline records its grouping: the new face must not join the used-up id."""
    user = hub.accounts.authenticate(hub.accounts.register("ann", PASSWORD)["access_token"])
    photos = identities["colin_powell"]
    for photo in photos[:2]:
        hub.uploads.process(user, photo.read_bytes())
    (cluster,) = hub.timeline.pull(user)
    hub.uploads.process(user, photos[2].read_bytes())  # the same person again, not yet grouped
    read_loose = hub.timeline._loose

    def named_meanwhile(user_id):
        loose = read_loose(user_id)
        hub.contacts.create_from_cluster(user_id, cluster, "Colin")
        return loose

    monkeypatch.setattr(hub.timeline, "_loose", named_meanwhile)
    hub.timeline.update_clusters(user)
    monkeypatch.undo()
    db = hub.store.read()
    assert db.execute("SELECT count(*) FROM faces WHERE contact_id IS NOT NULL").fetchone()[0] == 2
    assert db.execute("SELECT cluster_id FROM faces WHERE contact_id IS NULL").fetchall() == [(None,)]
    timeline = hub.timeline.pull(user)  # the face gets a cluster of its own now
    assert len(timeline) == 1 and cluster not in timeline
    assert consistency_problems(db, whole_clusters=True) == []
