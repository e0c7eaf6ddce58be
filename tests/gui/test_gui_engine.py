"""The face engine in Status: switching re-embeds the stored faces (real
photos, both real engines) with a progress bar, says how it ended, and the
choice is kept for the next start of `facelink gui`."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO
from desktop_fixtures import GUI_MARKS, account, desktop, http, themed, wait_idle  # noqa: F401

from facelink_local.hub import Hub
from facelink_local.services.reembed import ReembedStatus
from gui.app import DesktopApp
from gui.prefs import FILENAME, Prefs
from gui.qt import QMessageBox, Qt

pytestmark = GUI_MARKS


def choose(qtbot, panel, name: str) -> None:
    panel.choice.setCurrentIndex(panel.choice.findData(name))
    assert panel.use_button.isEnabled()
    qtbot.mouseClick(panel.use_button, Qt.MouseButton.LeftButton)


def done(event) -> bool:
    return event.status.state == "done"


def test_the_choice_names_both_engines_and_the_one_in_use(desktop, account):
    panel = desktop.window.status.engine
    desktop.window.show_tab(2)
    texts = [panel.choice.itemText(i) for i in range(panel.choice.count())]
    assert texts == ["Fast (ONNX), recommended", "Reference (dlib)"]
    assert panel.choice.currentData() == desktop.hub.settings.engine == "onnx"
    assert panel.in_use.text() == "In use: Fast (ONNX), recommended."
    assert panel.in_use.accessibleDescription() == f"Engine id: {desktop.hub.engine.id}"
    assert not panel.use_button.isEnabled()  # nothing to switch to yet
    assert not panel.progress.isVisible() and not panel.result.isVisible()
    assert panel.choice.accessibleName() == "Face engine" and panel.choice.accessibleDescription()


@pytest.mark.faces
@pytest.mark.model
def test_switching_engines_re_embeds_stored_faces_and_recognition_carries_on(desktop, http, identities, qtbot,
                                                                            dlib_engine):
    hub, panel = desktop.hub, desktop.window.status.engine
    desktop.window.show_tab(2)
    kofi = identities["kofi_annan"]
    for photo in kofi[:2]:
        assert http.upload(photo).status_code == 200
    cluster_id = next(iter(http.timeline()))
    assert http.create_contact(cluster_id, "Kofi").status_code == 200
    assert http.upload(identities["serena_williams"][0]).status_code == 200
    onnx_id = hub.engine.id
    assert hub.reembed.stored_engines() == {onnx_id: 3}

    hub.reembed.batch_size = 1  # one face a batch: the bar moves in steps a test can see
    seen = []
    desktop.bridge.reembed_progress.connect(
        lambda event: seen.append((event.status.state, panel.progress.isVisible(),
                                   panel.progress.accessibleDescription())))
    with qtbot.waitSignal(panel.settled, timeout=60_000) as settled:
        with qtbot.waitSignal(desktop.bridge.reembed_progress, timeout=60_000, check_params_cb=done):
            choose(qtbot, panel, "dlib")
            assert panel.progress.isVisible() and panel.progress_text.text() == "Loading the reference engine…"
            assert not panel.choice.isEnabled() and not panel.use_button.isEnabled()
    status: ReembedStatus = settled.args[0]
    assert (status.state, status.total, status.done, status.skipped) == ("done", 3, 3, 0)

    dlib_id = hub.engine.id
    assert dlib_id == dlib_engine.id != onnx_id
    assert hub.reembed.stored_engines() == {dlib_id: 3}  # every row now carries the new engine's id
    running = [text for state, visible, text in seen if state == "running" and visible]
    assert running and running[-1].startswith("Re-embedding stored faces for the reference engine:")
    assert panel.result.text() == "Done: 3 stored faces re-embedded; the reference engine is in use."
    assert panel.result.property("role") == "ok" and not panel.progress.isVisible()
    assert panel.in_use.text() == "In use: Reference (dlib)." and panel.choice.isEnabled()
    assert Prefs.load(hub.settings.data_dir).engine == "dlib"  # the next start uses it

    # Recognition goes on with the new engine: Kofi is known, Serena still waits in the timeline.
    answer = http.upload(kofi[2]).json()
    assert [(f["status"], (f["contact"] or {}).get("name")) for f in answer["faces"]] == [("matched", "Kofi")]
    assert len(http.timeline()) == 1


def test_an_engine_that_cannot_load_leaves_the_old_one_in_use(desktop, account, qtbot):
    hub, panel = desktop.hub, desktop.window.status.engine
    desktop.window.show_tab(2)
    assert hub.settings.engine == "onnx"
    # Switching to dlib and back to onnx needs the converted model in the data folder,
    # which cannot be written where a file stands in the way.
    (hub.settings.data_dir / "models").write_text("not a folder")
    with qtbot.waitSignal(panel.settled, timeout=60_000):
        choose(qtbot, panel, "dlib")
    with qtbot.waitSignal(panel.switch_failed, timeout=60_000) as failed:
        choose(qtbot, panel, "onnx")
    message = failed.args[0]
    assert message.startswith("Could not switch to the fast engine: ")
    assert message.endswith("Still using the reference engine.")
    assert panel.result.text() == message and panel.result.property("role") == "bad"
    assert hub.settings.engine == "dlib" and panel.choice.currentData() == "dlib"
    assert not panel.progress.isVisible() and panel.choice.isEnabled()
    assert Prefs.load(hub.settings.data_dir).engine == "dlib"


def test_how_re_embedding_ended_is_said_plainly(desktop, account):
    panel = desktop.window.status.engine
    desktop.window.show_tab(2)
    engine_id = desktop.hub.engine.id
    panel._show_status(ReembedStatus("running", engine_id, total=40, done=12))
    assert panel.progress.isVisible() and (panel.progress.value(), panel.progress.maximum()) == (12, 40)
    assert panel.progress.accessibleDescription() == "Re-embedding stored faces for the fast engine: 12 of 40."
    panel._show_status(ReembedStatus("failed", engine_id, total=40, done=12, error="OSError: disk full"))
    assert not panel.progress.isVisible()
    assert panel.result.text().startswith("Re-embedding failed: OSError: disk full.")
    assert panel.result.property("role") == "bad"
    panel._show_status(ReembedStatus("stopped", engine_id, total=40, done=12))
    assert panel.result.text() == "Re-embedding stopped after 12 of 40; the rest is done at the next start."
    panel._show_status(ReembedStatus("done", engine_id, total=40, done=39, skipped=1))
    assert panel.result.text() == ("Done: 39 stored faces re-embedded; the fast engine is in use. "
                                   "1 stored face could not be read and stay unused.")


@pytest.mark.faces
@pytest.mark.model
def test_faces_of_another_face_finder_are_explained_and_deleted_on_request(desktop, account, identities, qtbot):
    hub, panel, user = desktop.hub, desktop.window.status.engine, desktop.user_id
    desktop.window.show_tab(2)
    hub.uploads.process(user, identities["kofi_annan"][0].read_bytes())
    cid = hub.contacts.create_from_cluster(user, next(iter(hub.timeline.pull(user))), "Kofi")["cid"]
    other = "blazeface-1+" + "+".join(hub.engine.id.split("+")[1:])
    with hub.store.write() as db:  # as if they were stored by an engine with another detector
        db.execute("UPDATE faces SET engine = ?", [other])
    panel.refresh()
    wait_idle(qtbot, desktop)
    assert panel.notes.isVisible()
    assert panel.notes.text() == ("1 stored face were made with another face finder: they are kept, never "
                                  "compared, and used again if you switch back to it. Not recognized with this "
                                  "engine until they get new photos: Kofi.")
    assert panel.purge_button.isVisible()
    qtbot.mouseClick(panel.purge_button, Qt.MouseButton.LeftButton)
    box = panel.confirm
    assert box is not None and box.defaultButton() is box.button(QMessageBox.StandardButton.Cancel)
    box.button(QMessageBox.StandardButton.Yes).click()
    wait_idle(qtbot, desktop)
    assert panel.result.text() == "Deleted 1 stored face made with another face finder."
    assert hub.reembed.stored_engines() == {}
    assert hub.reembed.contacts_needing_faces(user) == [cid]
    assert not panel.purge_button.isVisible()
    assert panel.notes.text() == "Not recognized with this engine until they get new photos: Kofi."


def test_the_panel_shows_the_engine_the_hub_started_with(settings, dlib_engine, qtbot, themed):
    hub = Hub(settings.with_(engine="dlib"), engine=dlib_engine)
    app = DesktopApp(hub, "127.0.0.1", 0, prefs=Prefs())
    try:
        window = app.start(show=False)
        qtbot.addWidget(window)
        panel = window.status.engine
        assert panel.choice.currentData() == "dlib" and panel.in_use.text() == "In use: Reference (dlib)."
    finally:
        app.shutdown()
        hub.close()


def start_gui(data_dir: Path, *options: str, env: dict | None = None) -> list[str]:
    """`facelink gui` on `data_dir`, until it serves; then Ctrl+C. Returns what it printed."""
    environment = {k: v for k, v in os.environ.items() if k != "FACELINK_ENGINE"}
    environment.update({"QT_QPA_PLATFORM": "offscreen", "PYTHONUNBUFFERED": "1", **(env or {})})
    process = subprocess.Popen(
        [sys.executable, "-m", "facelink_local", "gui", "--host", "127.0.0.1", "--port", "0",
         "--data-dir", str(data_dir), *options],
        cwd=REPO, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    lines = []
    try:
        for line in process.stdout:
            lines.append(line)
            if line.strip().startswith("http://127.0.0.1:"):
                break
        process.send_signal(signal.SIGINT)
        rest, _ = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    output = "".join(lines) + rest
    assert process.returncode == 0 and "Traceback" not in output, output
    return output.splitlines()


def engine_line(lines: list[str]) -> str:
    return next(line for line in lines if line.startswith("Face engine: "))


@pytest.mark.slow
def test_the_choice_is_used_at_the_next_start_unless_an_engine_is_given(tmp_path, onnx_cache, dlib_engine):
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    shutil.copytree(onnx_cache / "models", data / "models")
    Prefs(username="ann", engine="dlib").save(data)  # what a switch in the app left
    assert engine_line(start_gui(data)) == f"Face engine: {dlib_engine.id}"
    onnx = engine_line(start_gui(data, env={"FACELINK_ENGINE": "onnx"}))
    assert "+onnx-dlib-resnet" in onnx
    assert engine_line(start_gui(data, "--engine", "onnx")) == onnx
    assert (data / FILENAME).is_file() and Prefs.load(data).engine == "dlib"  # an explicit engine is not saved
