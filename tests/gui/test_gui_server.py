"""The app embeds the hub's HTTP server: it answers while the window is open,
stops when it closes, moves to another port from the Status view, and
`facelink gui` quits cleanly on Ctrl+C."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys

import httpx
import pytest
from conftest import REPO
from desktop_fixtures import GUI_MARKS, account, desktop, themed  # noqa: F401

from gui.app import DesktopApp
from gui.prefs import Prefs
from gui.qt import Qt

pytestmark = GUI_MARKS


def refused(url: str) -> bool:
    try:
        httpx.get(f"{url}/health", timeout=2)
    except httpx.ConnectError:
        return True
    return False


def test_the_server_answers_while_the_window_is_open_and_stops_when_it_closes(desktop, qtbot):
    url = desktop.server.local_url
    assert httpx.get(f"{url}/health", timeout=10).json()["status"] == "ok"
    assert desktop.window.isVisible()
    desktop.window.close()
    assert not desktop.server.running
    assert refused(url)


def test_a_new_port_from_the_status_view_moves_the_server(desktop, account, qtbot):
    status = desktop.window.status
    old_url = desktop.server.local_url
    new_port = free_port()  # free a moment ago
    status.port.setValue(new_port)
    with qtbot.waitSignal(status.applied, timeout=20_000) as applied:
        qtbot.mouseClick(status.apply_button, Qt.MouseButton.LeftButton)
    assert applied.args == [f"The hub now serves on port {new_port}.", True]
    assert desktop.server.port == new_port
    assert httpx.get(f"http://127.0.0.1:{new_port}/health", timeout=10).status_code == 200
    assert refused(old_url)
    assert desktop.prefs.port == new_port  # and the next start uses it
    assert str(new_port) in desktop.window.server_label.text()


def test_a_busy_port_keeps_the_server_where_it_was(desktop, account, qtbot):
    status = desktop.window.status
    port = desktop.server.port
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        status.port.setValue(taken.getsockname()[1])
        with qtbot.waitSignal(status.applied, timeout=20_000) as applied:
            status.apply_button.click()
    message, ok = applied.args
    assert not ok
    assert "is in use by another program" in message and f"keeps serving on port {port}" in message
    assert desktop.server.port == port
    assert httpx.get(f"http://127.0.0.1:{port}/health", timeout=10).status_code == 200


@pytest.mark.slow
def test_ctrl_c_in_the_terminal_quits_cleanly(tmp_path):
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "facelink_local", "gui", "--host", "127.0.0.1", "--port", "0",
         "--data-dir", str(tmp_path / "data")],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        lines = []
        for line in process.stdout:  # blocks until the app prints its address
            lines.append(line)
            if line.strip().startswith("http://127.0.0.1:"):
                url = line.strip()
                break
        else:
            pytest.fail("the app never printed its address:\n" + "".join(lines))
        assert httpx.get(f"{url}/health", timeout=30).status_code == 200
        process.send_signal(signal.SIGINT)
        rest, _ = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, "".join(lines) + rest
    assert "FaceLink closed." in rest
    assert "Traceback" not in "".join(lines) + rest
    assert refused(url)


def test_a_busy_port_at_start_is_explained_and_another_can_be_chosen(hub, qtbot, themed):
    hub.accounts.register("ann", "correct horse battery")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        busy = taken.getsockname()[1]
        app = DesktopApp(hub, "127.0.0.1", busy, prefs=Prefs(username="ann"))
        window = app.start()  # no exception: the window opens and says what is wrong
        qtbot.addWidget(window)
        try:
            assert not app.server.running
            assert app.server_error == f"Port {busy} is in use by another program."
            assert window.server_label.text() == "Not serving"
            assert window.status.panel.note.text() == app.server_error
            window.status.port.setValue(free_port())
            with qtbot.waitSignal(window.status.applied, timeout=20_000) as applied:
                window.status.apply_button.click()
            assert applied.args[1], applied.args
            assert httpx.get(f"{app.server.local_url}/health", timeout=10).status_code == 200
            assert window.server_label.text().startswith("Serving at http://127.0.0.1:")
            assert window.status.panel.note.text() != app.server_error
        finally:
            app.shutdown()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
