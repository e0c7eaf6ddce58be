"""Fixtures for the desktop app's tests: the real app (real widgets, offscreen)
on a real hub in tmp_path, serving on 127.0.0.1, and a real simulated wearable.

This folder has no conftest.py and no __init__.py: a package here would be
named `gui` and hide the app's own package, and a second conftest module would
hide the root one. Test modules import these fixtures by name.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import PASSWORD, REPO, Api

from facelink_local.hub import Hub
from gui import theme
from gui.app import DesktopApp
from gui.prefs import Prefs

USERNAME = "ann"

# Every GUI test module: `pytestmark = GUI_MARKS`.
GUI_MARKS = [
    pytest.mark.qt_log_level_fail("WARNING"),
    # The offscreen platform cannot resize windows to their hints; harmless there.
    pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints"),
    pytest.mark.filterwarnings("error"),
]


@pytest.fixture
def themed(qapp):
    theme.apply(qapp, dark=False)
    return qapp


@pytest.fixture
def desktop(hub: Hub, qtbot, themed) -> Iterator[DesktopApp]:
    """The app, window shown, serving on 127.0.0.1 and a free port; no account chosen yet."""
    app = DesktopApp(hub, "127.0.0.1", 0, prefs=Prefs())
    window = app.start()
    qtbot.addWidget(window)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)  # keyboard focus needs an active window
    yield app
    app.shutdown()


@pytest.fixture
def account(desktop: DesktopApp, qtbot) -> str:
    """An account made on this machine, chosen in the app, main views shown."""
    desktop.hub.accounts.register(USERNAME, PASSWORD)
    desktop.use_account(USERNAME)
    desktop.window.show_main()
    wait_idle(qtbot, desktop)
    return USERNAME


@pytest.fixture
def http(desktop: DesktopApp, account: str) -> Iterator[Api]:
    """The api-v1 client, logged in, talking to the app's own embedded server."""
    client = Api(desktop.server.local_url)
    assert client.login(account).status_code == 200
    yield client
    client.close()


def wait_idle(qtbot, desktop: DesktopApp, timeout: int = 20_000) -> None:
    """Until every blocking call the views asked for has been answered."""
    qtbot.waitUntil(lambda: desktop.tasks.pending == 0, timeout=timeout)


def focus(qtbot, widget) -> None:
    """Give `widget` the keyboard focus, its window activated first (a closed dialog may have
    taken the activation with it)."""
    window = widget.window()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    widget.setFocus()
    qtbot.waitUntil(widget.hasFocus)


def photos_of(identities: dict[str, list[Path]], *people: str, count: int = 2) -> list[Path]:
    """The first `count` photos of each person (these cluster cleanly, one group each)."""
    return [photo for person in people for photo in identities[person][:count]]


class Simulator:
    """`python -m firmware_bridge.simulator`: a simulated wearable on a pty, in its own process."""

    def __init__(self, folder: Path) -> None:
        self.link = folder / "wearable"
        self.log = folder / "wearable.jsonl"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "firmware_bridge.simulator", "--link", str(self.link), "--log", str(self.log)],
            cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )

    def records(self) -> list[dict]:
        import json

        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text(encoding="utf-8").splitlines() if line.strip()]

    def plays(self) -> list[int]:
        return [r["pattern"] for r in self.records() if r.get("type") == "PLAY"]

    def unplug(self) -> None:
        os.kill(self.process.pid, signal.SIGUSR1)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process.stderr.close()


@pytest.fixture
def wearable(tmp_path: Path, qtbot) -> Iterator[Simulator]:
    sim = Simulator(tmp_path)
    qtbot.waitUntil(lambda: sim.link.exists() or sim.process.poll() is not None, timeout=20_000)
    assert sim.process.poll() is None, sim.process.stderr.read().decode()
    yield sim
    sim.stop()
