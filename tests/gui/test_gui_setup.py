"""First run: the setup creates the wearable's account (or picks one), shows
where devices connect with a QR code a camera can read, and opens pairing."""

from __future__ import annotations

import cv2
import numpy as np
from conftest import PASSWORD, Api
from desktop_fixtures import GUI_MARKS, desktop, themed, wait_idle  # noqa: F401

from gui.app import DesktopApp
from gui.prefs import Prefs
from gui.qt import QImage, Qt

pytestmark = GUI_MARKS


def decode_qr(image: QImage) -> str:
    """Read the code back with OpenCV's detector, as a phone camera would."""
    image = image.convertToFormat(QImage.Format.Format_Grayscale8)
    pixels = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.bytesPerLine())
    text, _points, _ = cv2.QRCodeDetector().detectAndDecode(np.ascontiguousarray(pixels[:, :image.width()]))
    return text


def test_first_run_creates_the_wearables_account(desktop, qtbot):
    window, setup = desktop.window, desktop.window.setup
    assert window.pages.currentWidget() is setup
    assert not setup.existing_choice.isVisible()  # nothing to pick from yet
    qtbot.keyClicks(setup.username, "ann")
    qtbot.keyClicks(setup.password, PASSWORD)
    qtbot.keyClicks(setup.repeat, PASSWORD + "!")
    qtbot.mouseClick(setup.account_button, Qt.MouseButton.LeftButton)
    assert setup.account_error.text() == "The two passwords differ."
    assert desktop.hub.accounts.usernames() == []

    setup.repeat.clear()
    qtbot.keyClicks(setup.repeat, PASSWORD)
    with qtbot.waitSignal(desktop.user_changed, timeout=20_000):
        qtbot.keyClick(setup.repeat, Qt.Key.Key_Return)
    assert setup.steps.currentIndex() == 1
    url = desktop.server.local_url
    assert setup.panel.address.text() == url
    assert setup.panel.account.text() == "Account: ann"
    assert f"Port {desktop.server.port}" in setup.panel.others.text()
    assert decode_qr(setup.panel.qr.image()) == url
    assert "Only this computer can connect" in setup.panel.note.text()  # the tests listen on 127.0.0.1

    # The wearable logs in with that account, through the app's own server.
    client = Api(url)
    try:
        assert client.login("ann").status_code == 200
    finally:
        client.close()
    qtbot.mouseClick(setup.finish_button, Qt.MouseButton.LeftButton)
    assert window.pages.currentIndex() == 1
    assert window.account_label.text() == "Account: ann"


def test_a_refused_password_is_explained(desktop, qtbot):
    setup = desktop.window.setup
    qtbot.keyClicks(setup.username, "ann")
    qtbot.keyClicks(setup.password, "short")
    qtbot.keyClicks(setup.repeat, "short")
    setup.account_button.click()
    qtbot.waitUntil(lambda: setup.account_button.isEnabled(), timeout=20_000)
    assert setup.account_error.text() == "Password must have at least 8 characters."
    assert setup.steps.currentIndex() == 0


def test_an_existing_account_is_picked_and_remembered(desktop, hub, qtbot):
    hub.accounts.register("bob", PASSWORD)
    setup = desktop.window.setup
    setup.reset()
    assert setup.existing_choice.isChecked() and setup.existing.currentText() == "bob"
    with qtbot.waitSignal(desktop.user_changed):
        setup.account_button.click()
    assert desktop.username == "bob" and desktop.user_id == hub.accounts.user_id_for("bob")
    assert Prefs.load(hub.settings.data_dir).username == "bob"

    again = DesktopApp(hub, "127.0.0.1", 0)  # the next start skips the setup
    try:
        window = again.start(show=False)
        assert again.username == "bob" and window.pages.currentIndex() == 1
    finally:
        again.shutdown()


def test_pair_a_new_device_opens_the_hubs_pairing_window(desktop, qtbot):
    control = desktop.window.header_pairing
    other = desktop.window.status.pairing
    assert not desktop.hub.pairing.is_open()
    with qtbot.waitSignal(desktop.bridge.pairing_changed):
        qtbot.mouseClick(control.button, Qt.MouseButton.LeftButton)
    assert desktop.hub.pairing.is_open()
    assert 295 < desktop.hub.pairing.remaining() <= 300
    assert control.state.text().startswith("Pairing open, 5:00 left") or "4:59" in control.state.text()
    qtbot.waitUntil(lambda: other.button.text() == "Stop &pairing")  # every pairing control follows
    assert "may now create its account" in other.state.text()
    with qtbot.waitSignal(desktop.bridge.pairing_changed):
        qtbot.mouseClick(other.button, Qt.MouseButton.LeftButton)
    assert not desktop.hub.pairing.is_open()
    qtbot.waitUntil(lambda: control.button.text() == "&Pair a new device")
