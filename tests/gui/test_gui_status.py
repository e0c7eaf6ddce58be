"""Status: addresses, recent uploads and recognitions, and settings that take
effect without editing files."""

from __future__ import annotations

import pytest
from desktop_fixtures import GUI_MARKS, account, desktop, http, themed, wait_idle  # noqa: F401

from gui.prefs import Prefs

pytestmark = GUI_MARKS


def test_settings_take_effect_at_once(desktop, account, qtbot):
    status = desktop.window.status
    desktop.window.show_tab(2)
    status.retention.setValue(3)
    status.threshold.setValue(0.42)
    with qtbot.waitSignal(status.applied, timeout=20_000) as applied:
        status.apply_button.click()
    assert applied.args == ["Settings saved; they apply now.", True]
    tuning = desktop.hub.tuning.current
    assert (tuning.retention_days, tuning.match_threshold) == (3.0, 0.42)
    # Stored in the hub's database: a hub opened on the same folder has them too.
    from facelink_local.services.tuning import TuningService

    assert TuningService(desktop.hub.store).current.match_threshold == 0.42


def test_nothing_changed_says_so(desktop, account, qtbot):
    with qtbot.waitSignal(desktop.window.status.applied) as applied:
        desktop.window.status.apply_button.click()
    assert applied.args == ["Nothing to change.", True]


def test_addresses_for_devices(desktop, account):
    status = desktop.window.status
    assert status.panel.address.text() == desktop.server.local_url
    assert status.panel.qr.text() == desktop.server.local_url
    assert status.panel.account.text() == "Account: ann"
    assert "Only this computer can connect" in status.panel.note.text()


@pytest.mark.faces
@pytest.mark.model
def test_uploads_and_recognitions_appear_by_themselves(desktop, http, identities, qtbot):
    status = desktop.window.status
    desktop.window.show_tab(2)
    kofi = identities["kofi_annan"]
    assert http.upload(kofi[0]).status_code == 200
    cluster_id = next(iter(http.timeline()))
    assert http.create_contact(cluster_id, "Kofi").status_code == 200
    assert http.upload(kofi[1]).json()["faces"][0]["status"] == "matched"
    qtbot.waitUntil(lambda: status.uploads.rowCount() == 2 and status.seen.rowCount() == 1, timeout=20_000)
    assert status.uploads.isVisible() and not status.no_uploads.isVisible()
    newest = [status.uploads.item(0, c).text() for c in range(4)]
    assert newest[0].startswith("today ") and newest[1:] == ["1", "1", "0"]
    assert [status.seen.item(0, 0).text(), status.seen.item(0, 1).text()] == ["Kofi", "just now"]


def test_the_tray_choice_is_kept_with_the_app(desktop, account, qtbot):
    desktop.save_prefs(keep_serving_in_tray=True)
    assert Prefs.load(desktop.hub.settings.data_dir).keep_serving_in_tray
    # Without a system tray (as here, offscreen) closing the window still stops the hub.
    assert not desktop.tray_available
    desktop.window.close()
    assert not desktop.server.running
