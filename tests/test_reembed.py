"""Changing the face engine: stored faces are re-embedded from their chips, or kept dormant."""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx
import numpy as np
import pytest
from click.testing import CliRunner

from facelink_local.api import create_app
from facelink_local.cli import main
from facelink_local.config import Settings
from facelink_local.hub import Hub
from facelink_local.server import BackgroundServer
from facelink_local.services.gallery import embedding_from_blob
from facelink_local.services.reembed import ReembedProgress, engine_parts, same_chips
from bench.hubprocess import wait_healthy

pytestmark = [pytest.mark.faces, pytest.mark.model]

PEOPLE = ["colin_powell", "hugo_chavez"]  # colin becomes a contact, hugo stays a stranger
PASSWORD = "correct horse battery"


def test_engines_cut_the_same_chips_when_detector_and_aligner_agree():
    a = "dlib-hog-20+dlib-sp5-chip150p0.25-20+dlib-resnet-v1-20"
    assert engine_parts(a) == ("dlib-hog-20", "dlib-sp5-chip150p0.25-20", "dlib-resnet-v1-20")
    assert same_chips(a, "dlib-hog-20+dlib-sp5-chip150p0.25-20+onnx-dlib-resnet-v1-ab-ort1.2")
    assert not same_chips(a, "yunet-1+dlib-sp5-chip150p0.25-20+dlib-resnet-v1-20")
    assert not same_chips(a, "dlib-hog-20+dlib-sp5-chip112p0.25-20+dlib-resnet-v1-20")
    assert not same_chips(a, "not an engine id")


@pytest.fixture(scope="module")
def stored(tmp_path_factory, dlib_engine, identities) -> dict:
    """A data folder whose faces the "dlib" engine made: three photos of each person, colin named."""
    folder = tmp_path_factory.mktemp("dlib-data")
    hub = Hub(Settings(data_dir=folder, bcrypt_rounds=4), engine=dlib_engine)
    hub.accounts.register("ann", PASSWORD)
    user = hub.accounts.user_id_for("ann")
    for person in PEOPLE:
        for photo in identities[person][:3]:
            faces = hub.uploads.process(user, photo.read_bytes())["faces"]
            assert [f["status"] for f in faces] == ["unknown"], photo
    hub.timeline.pull(user)
    rows = hub.store.read().execute("SELECT id, cluster_id, embedding FROM faces ORDER BY id").fetchall()
    colin_cluster, hugo_cluster = rows[0][1], rows[-1][1]
    cid = hub.contacts.create_from_cluster(user, colin_cluster, "Colin")["cid"]
    timeline = set(hub.timeline.pull(user))
    assert hugo_cluster in timeline and colin_cluster not in timeline
    embeddings = {r[0]: embedding_from_blob(r[2]) for r in rows}
    hub.close()
    return {"folder": folder, "user": user, "cid": cid, "timeline": timeline, "hugo_cluster": hugo_cluster,
            "embeddings": embeddings, "dlib_id": dlib_engine.id}


@pytest.fixture
def data(stored, tmp_path, onnx_cache) -> Settings:
    """A copy of the stored data folder, with the converted model where the hub looks for it."""
    folder = tmp_path / "data"
    shutil.copytree(stored["folder"], folder)
    shutil.copytree(onnx_cache / "models", folder / "models")
    return Settings(data_dir=folder, bcrypt_rounds=4)


def faces_by_engine(hub: Hub) -> dict[str, int]:
    return hub.reembed.stored_engines()


def test_a_new_engine_re_embeds_stored_faces_contacts_first(stored, data, engine, identities):
    hub = Hub(data, engine=engine)
    hub.reembed.batch_size = 2
    compatible, dormant = hub.reembed.plan()
    assert compatible == {stored["dlib_id"]: len(stored["embeddings"])} and dormant == {}
    seen: list[tuple[str, int, int]] = []

    def record(event: ReembedProgress) -> None:
        converted = hub.store.read().execute(
            "SELECT count(*) FILTER (WHERE contact_id IS NOT NULL), count(*) FILTER (WHERE contact_id IS NULL) "
            "FROM faces WHERE engine = ?", [engine.id]).fetchone()
        seen.append((event.status.state, event.status.done, *converted))

    hub.events.subscribe(ReembedProgress.TOPIC, record)
    server = BackgroundServer(create_app(hub), "127.0.0.1", 0).start()  # serving starts the job
    try:
        wait_healthy(f"http://127.0.0.1:{server.port}")
        status = hub.reembed.wait(60)
        assert (status.state, status.done, status.skipped) == ("done", len(stored["embeddings"]), 0)
        assert status.total == status.done and status.fraction == 1.0 and status.finished_at is not None

        # Progress: announced, then batch by batch; the contact's faces went first.
        assert seen[0][:2] == ("running", 0) and seen[-1][:2] == ("done", status.done)
        assert [s[1] for s in seen] == sorted(s[1] for s in seen)
        contact_faces = seen[-1][2]
        assert contact_faces == 3
        assert all(loose == 0 for _, _, contacts, loose in seen if contacts < contact_faces)

        # The same numbers as dlib's, from the chips; nothing of the old engine is left.
        assert faces_by_engine(hub) == {engine.id: len(stored["embeddings"])}
        rows = hub.store.read().execute("SELECT id, embedding FROM faces").fetchall()
        assert max(np.abs(embedding_from_blob(blob) - stored["embeddings"][face_id]).max()
                   for face_id, blob in rows) < 1e-4

        # People met keep their groups; the contact is recognized on the running server.
        assert set(hub.timeline.pull(stored["user"])) == stored["timeline"]
        token = hub.accounts.login("ann", PASSWORD)["access_token"]
        answer = httpx.post(f"http://127.0.0.1:{server.port}/api/v1/upload_image",
                            content=identities["colin_powell"][5].read_bytes(),
                            headers={"Authorization": f"Bearer {token}"}, timeout=60).json()
        assert [(f["status"], (f["contact"] or {}).get("cid")) for f in answer["faces"]] == [("matched", stored["cid"])]
    finally:
        server.stop()
        hub.close()


def test_a_job_cut_short_carries_on_at_the_next_start(stored, data, engine):
    total = len(stored["embeddings"])
    hub = Hub(data, engine=engine)
    hub.reembed.batch_size = 2
    hub.events.subscribe(ReembedProgress.TOPIC,
                         lambda event: hub.reembed.stop() if event.status.done >= 2 else None)
    hub.reembed.start()
    status = hub.reembed.wait(60)
    assert status.state == "stopped" and 2 <= status.done < total
    assert faces_by_engine(hub) == {engine.id: status.done, stored["dlib_id"]: total - status.done}
    hub.close()

    hub = Hub(data, engine=engine)  # the next start: only what is left
    final = hub.reembed.run()
    assert (final.state, final.total, final.done) == ("done", total - status.done, total - status.done)
    assert faces_by_engine(hub) == {engine.id: total}
    hub.close()


class FailsOnSecondBatch:
    """The real engine, except that its second batch of chips fails."""

    def __init__(self, engine) -> None:
        self._engine, self.batches = engine, 0

    def __getattr__(self, name):
        return getattr(self._engine, name)

    def embed_chips(self, chips):
        self.batches += 1
        if self.batches == 2:
            raise RuntimeError("out of memory")
        return self._engine.embed_chips(chips)


def test_a_failed_batch_keeps_the_batches_before_it(stored, data, engine):
    hub = Hub(data, engine=FailsOnSecondBatch(engine))
    hub.reembed.batch_size = 2
    status = hub.reembed.run()
    assert (status.state, status.done) == ("failed", 2) and "out of memory" in status.error
    assert faces_by_engine(hub) == {engine.id: 2, stored["dlib_id"]: len(stored["embeddings"]) - 2}
    assert hub.reembed.run().state == "done"  # tried again: the rest
    assert faces_by_engine(hub) == {engine.id: len(stored["embeddings"])}
    hub.close()


def test_new_faces_are_grouped_once_the_stored_ones_are_re_embedded(stored, data, engine, identities):
    hub = Hub(data, engine=engine)
    hub.reembed.batch_size = 1
    user = stored["user"]
    during: dict = {}

    def meanwhile(event: ReembedProgress) -> None:
        if event.status.running and event.status.done == 0:  # the job's thread, before any batch
            hub.uploads.process(user, identities["hugo_chavez"][4].read_bytes())
            during["timeline"] = hub.timeline.pull(user)
            during["new"] = hub.store.read().execute(
                "SELECT cluster_id FROM faces WHERE engine = ?", [engine.id]).fetchall()

    hub.events.subscribe(ReembedProgress.TOPIC, meanwhile)
    hub.reembed.start()
    assert hub.reembed.wait(60).state == "done"
    # Meanwhile the old groups stayed in the timeline and the new face waited, ungrouped.
    assert stored["hugo_cluster"] in during["timeline"] and len(during["timeline"][stored["hugo_cluster"]]) == 3
    assert during["new"] == [(None,)]
    # Then it joined hugo's group.
    assert len(hub.timeline.pull(user)[stored["hugo_cluster"]]) == 4
    hub.close()


def test_faces_of_another_detector_stay_dormant_until_purged(stored, data, engine, identities):
    other = "blazeface-1+" + "+".join(engine_parts(stored["dlib_id"])[1:])
    hub = Hub(data, engine=engine)
    user, cid = stored["user"], stored["cid"]
    with hub.store.write() as db:  # the contact's faces and hugo's were made by another detector
        db.execute("UPDATE faces SET engine = ? WHERE contact_id = ? OR cluster_id = ?", [other, cid,
                                                                                         stored["hugo_cluster"]])
    compatible, dormant = hub.reembed.plan()
    assert compatible == {} and dormant == {other: 6}
    assert hub.reembed.start().state == "idle"

    # Never compared, never shown: the contact needs new reference faces.
    assert hub.timeline.pull(user) == {}
    assert hub.reembed.contacts_needing_faces(user) == [cid]
    answer = hub.uploads.process(user, identities["colin_powell"][5].read_bytes())
    assert [f["status"] for f in answer["faces"]] == ["unknown"]

    # Purged on request; the empty group goes too.
    assert hub.reembed.purge_dormant() == 6
    assert other not in faces_by_engine(hub)
    clusters = {r[0] for r in hub.store.read().execute("SELECT id FROM clusters")}
    assert stored["hugo_cluster"] not in clusters
    hub.close()


def test_switching_engines_at_run_time_and_back(stored, data, dlib_engine, engine):
    hub = Hub(data, engine=dlib_engine)
    assert hub.reembed.plan() == ({}, {})
    status = hub.switch_engine("onnx")
    assert status.running and status.engine == hub.engine.id != dlib_engine.id
    assert hub.uploads.engine is hub.engine and hub.timeline.engine_id == hub.engine.id
    assert hub.reembed.wait(60).state == "done"
    assert faces_by_engine(hub) == {hub.engine.id: len(stored["embeddings"])}

    hub.switch_engine("dlib")  # and back: dlib's own numbers again, from the same chips
    assert hub.reembed.wait(60).state == "done"
    rows = hub.store.read().execute("SELECT id, engine, embedding FROM faces").fetchall()
    assert {r[1] for r in rows} == {dlib_engine.id}
    assert max(np.abs(embedding_from_blob(r[2]) - stored["embeddings"][r[0]]).max() for r in rows) < 1e-5
    with pytest.raises(ValueError, match="unknown face engine"):
        hub.switch_engine("mmod")
    hub.close()


def test_facelink_reembed_shows_and_runs_the_job(stored, data):
    total = len(stored["embeddings"])
    folder = str(data.data_dir)
    result = CliRunner().invoke(main, ["reembed", "--status", "--data-dir", folder, "--engine", "onnx"])
    assert result.exit_code == 0, result.output
    assert f"{total} to re-embed, from {stored['dlib_id']}" in result.output
    result = CliRunner().invoke(main, ["reembed", "--data-dir", folder, "--engine", "onnx"])
    assert result.exit_code == 0, result.output
    assert f"Re-embedded {total} faces." in result.output
    result = CliRunner().invoke(main, ["reembed", "--status", "--data-dir", folder, "--engine", "onnx"])
    assert f"{total} stored faces made by it" in result.output and "to re-embed" not in result.output
