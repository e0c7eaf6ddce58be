"""pull_timeline and create_contact semantics on a real store."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from facelink_local.services.errors import NotFound
from facelink_local.services.gallery import embedding_to_blob
from facelink_local.timefmt import iso, now_utc
from test_recognition import people


@pytest.fixture
def user(hub) -> int:
    hub.accounts.register("ann", "correct horse battery")
    return hub.accounts.user_id_for("ann")


def add_faces(hub, user: int, embeddings, age: timedelta = timedelta(0)) -> list[int]:
    seen_at = iso(now_utc() - age)
    with hub.store.write() as db:
        return [db["faces"].insert({
            "user_id": user, "engine": hub.engine.id, "embedding": embedding_to_blob(e), "seen_at": seen_at,
            "box": "[0, 0, 100, 100]", "score": 1.0, "thumbnail": b"\xff\xd8jpeg", "chip": b"png",
        }).last_pk for e in embeddings]


def test_clusters_keep_their_ids_as_faces_arrive(hub, user):
    faces, truth = people(3, 8, spread=0.3)
    add_faces(hub, user, faces[truth < 2][::2])
    first = hub.timeline.pull(user)
    assert len(first) == 2
    add_faces(hub, user, faces[truth < 2][1::2])
    second = hub.timeline.pull(user)
    assert set(second) == set(first)
    assert sorted(len(v) for v in second.values()) == [8, 8]
    add_faces(hub, user, faces[truth == 2])
    third = hub.timeline.pull(user)
    assert set(first) < set(third) and len(third) == 3
    for stamps in third.values():
        assert stamps == sorted(stamps) and all(s.endswith("Z") for s in stamps)


def test_naming_a_cluster_moves_its_faces_to_the_contact(hub, user):
    faces, truth = people(2, 5, spread=0.3)
    add_faces(hub, user, faces)
    cluster_id = max(hub.timeline.pull(user).items(), key=lambda kv: len(kv[1]))[0]
    created = hub.contacts.create_from_cluster(user, cluster_id, "  Ana María  ")
    assert created["contact_name"] == "Ana María" and created["faces"] == 5
    assert cluster_id not in hub.timeline.pull(user)
    with pytest.raises(NotFound):
        hub.contacts.create_from_cluster(user, cluster_id, "Again")
    assert hub.store.read().execute(
        "SELECT count(*) FROM faces WHERE contact_id = ?", [created["cid"]]).fetchone()[0] == 5


def test_an_old_cluster_id_still_names_the_faces_it_had(hub, user):
    faces, _ = people(1, 6, spread=0.2)
    ids = add_faces(hub, user, faces)
    (cluster_id,) = hub.timeline.pull(user)
    with hub.store.write() as db:  # some of its faces expire or are deleted meanwhile
        db.execute("DELETE FROM faces WHERE id IN (?, ?)", ids[:2])
    created = hub.contacts.create_from_cluster(user, cluster_id, "Remaining")
    assert created["faces"] == 4


def test_expired_faces_are_purged(hub, user):
    faces, _ = people(2, 3, spread=0.2)
    add_faces(hub, user, faces[:3], age=timedelta(days=20))
    add_faces(hub, user, faces[3:])
    timeline = hub.timeline.pull(user)
    assert sum(len(v) for v in timeline.values()) == 3
    hub.tuning.update(retention_days=30)
    assert hub.store.read().execute("SELECT count(*) FROM faces").fetchone()[0] == 3


def test_min_cluster_size_hides_small_clusters(hub, user):
    faces, truth = people(2, 4, spread=0.2)
    add_faces(hub, user, np.concatenate([faces[truth == 0], faces[truth == 1][:1]]))
    hub.tuning.update(min_cluster_size=2)
    assert [len(v) for v in hub.timeline.pull(user).values()] == [4]


def test_recluster_keeps_ids_of_groups_that_survive(hub, user):
    faces, truth = people(3, 6, spread=0.3)
    add_faces(hub, user, faces)
    before = hub.timeline.pull(user)
    hub.timeline.recluster(user)
    assert set(hub.timeline.pull(user)) == set(before)


def test_other_users_never_see_or_take_a_cluster(hub, user):
    faces, _ = people(1, 3, spread=0.2)
    add_faces(hub, user, faces)
    (cluster_id,) = hub.timeline.pull(user)
    hub.accounts.register("eve", "another good password")
    eve = hub.accounts.user_id_for("eve")
    assert hub.timeline.pull(eve) == {}
    with pytest.raises(NotFound):
        hub.contacts.create_from_cluster(eve, cluster_id, "Stolen")
