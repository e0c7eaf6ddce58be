"""The wearable in the app: its serial port is chosen in Status, "Test on
wearable" plays on the simulated device (`python -m firmware_bridge.simulator`),
and the app says clearly when the wearable is not connected."""

from __future__ import annotations

import pytest
from desktop_fixtures import GUI_MARKS, account, desktop, themed, wait_idle, wearable  # noqa: F401

from gui.humanize import PRESETS
from gui.qt import Qt

pytestmark = [*GUI_MARKS, pytest.mark.faces, pytest.mark.model]


def contact(desktop, identities, name: str = "Serena", pattern: int = 771) -> int:
    """A contact made the way the app makes one: a photo, its face's group named."""
    user = desktop.user_id
    desktop.hub.uploads.process(user, identities["serena_williams"][0].read_bytes())
    cluster_id = next(iter(desktop.hub.timeline.pull(user)))
    cid = desktop.hub.contacts.create_from_cluster(user, cluster_id, name)["cid"]
    desktop.hub.contacts.edit(user, cid, vib_pattern=pattern)
    return cid


def show_contact(qtbot, desktop, cid: int):
    view = desktop.window.contacts
    with qtbot.waitSignal(view.refreshed, timeout=20_000):
        desktop.contacts_changed.emit()
    desktop.window.show_tab(1)
    view.select_cid(cid)
    return view


def choose_port(qtbot, desktop, port: str) -> None:
    status = desktop.window.status
    status.serial.setEditText(port)
    with qtbot.waitSignal(status.applied, timeout=20_000) as applied:
        qtbot.mouseClick(status.apply_button, Qt.MouseButton.LeftButton)
    assert applied.args[1], applied.args


def test_without_a_port_the_button_says_the_wearable_is_not_connected(desktop, account, identities, qtbot):
    view = show_contact(qtbot, desktop, contact(desktop, identities))
    editor = view.editor
    assert "not connected" in editor.wearable.text() and "no serial port" in editor.wearable.text()
    qtbot.mouseClick(editor.test_button, Qt.MouseButton.LeftButton)
    assert editor.result.text().startswith("Not sent: the wearable is not connected.")
    assert editor.result.property("role") == "bad"


def test_test_on_wearable_reaches_the_simulator(desktop, account, identities, wearable, qtbot):
    heartbeat = dict(PRESETS)["Heartbeat"]
    view = show_contact(qtbot, desktop, contact(desktop, identities, pattern=heartbeat))
    choose_port(qtbot, desktop, str(wearable.link))
    assert desktop.hub.tuning.current.serial_port == str(wearable.link)
    qtbot.waitUntil(lambda: desktop.haptics is not None and desktop.haptics.state == "connected", timeout=20_000)
    status = desktop.window.status
    qtbot.waitUntil(lambda: "connected on" in status.wearable_state.text(), timeout=5_000)
    assert "connected on" in view.editor.wearable.text()

    editor = view.editor
    assert editor.pattern() == heartbeat
    qtbot.mouseClick(editor.test_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: editor.result.text() == "Played on the wearable.", timeout=20_000)
    assert wearable.plays() == [heartbeat]  # the device's own log: it received exactly this pattern

    # Unplugged: the app notices, and the button says so instead of pretending.
    wearable.unplug()
    qtbot.waitUntil(lambda: desktop.haptics.state != "connected", timeout=20_000)
    qtbot.waitUntil(lambda: "not connected" in editor.wearable.text(), timeout=5_000)
    qtbot.mouseClick(editor.test_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: editor.result.text().startswith("Not sent: the wearable is not connected"),
                    timeout=20_000)
    assert wearable.plays() == [heartbeat]


def test_clearing_the_port_stops_the_bridge(desktop, account, wearable, qtbot):
    choose_port(qtbot, desktop, str(wearable.link))
    qtbot.waitUntil(lambda: desktop.haptics is not None and desktop.haptics.state == "connected", timeout=20_000)
    status = desktop.window.status
    status.serial.setCurrentIndex(status.serial.findData(""))  # "Not used"
    with qtbot.waitSignal(desktop.haptics_changed, timeout=20_000):
        status.apply_button.click()
    assert desktop.haptics is None
    assert desktop.hub.tuning.current.serial_port == ""
    assert "no serial port" in status.wearable_state.text()
