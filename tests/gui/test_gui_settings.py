"""Status: the wearable's settings and the advanced recognition settings
change the hub's run-time settings at once, and what uses them follows."""

from __future__ import annotations

import pytest
from desktop_fixtures import GUI_MARKS, account, desktop, focus, themed, wearable  # noqa: F401

from facelink_local.config import Tuning
from facelink_local.services.tuning import TuningService
from gui.humanize import PRESETS
from gui.qt import QApplication, Qt

pytestmark = GUI_MARKS


def apply(qtbot, form) -> list:
    with qtbot.waitSignal(form.applied, timeout=20_000) as applied:
        qtbot.mouseClick(form.apply_button, Qt.MouseButton.LeftButton)
    return applied.args


def test_each_control_has_the_setting_s_range_a_plain_label_and_a_description(desktop, account):
    status = desktop.window.status
    for form in (status.wearable_form, status.advanced_form):
        for name, box in form.fields.items():
            low, high = Tuning.LIMITS[name]
            assert (box.minimum(), box.maximum()) == (low, high), name
            assert box.value() == getattr(desktop.hub.tuning.current, name)
            assert form.labels[name].buddy() is box and "&" in form.labels[name].text()
            assert box.accessibleName() and box.toolTip() == box.accessibleDescription()
            assert f"Default: {form.fields[name].textFromValue(getattr(Tuning(), name))}" in box.toolTip()
    for box in status.advanced_form.fields.values():
        assert "measured on real photos, docs/quality.md" in box.accessibleDescription()
    assert status.threshold.toolTip().endswith("(measured on real photos, docs/quality.md).")
    assert "stays quiet for that person" in status.wearable_form.fields["haptic_cooldown_s"].toolTip()
    # The words after the number agree with it.
    repeat = status.wearable_form.fields["haptic_repeat"]
    assert repeat.text() == "1 time"
    repeat.setValue(3)
    assert repeat.text() == "3 times"


def test_wearable_settings_reach_the_hub_and_the_wearable(desktop, account, wearable, qtbot):
    status, hub = desktop.window.status, desktop.hub
    form = status.wearable_form
    # Without a wearable yet: kept by the hub, for the bridge that starts later.
    form.fields["haptic_cooldown_s"].setValue(5)
    form.fields["haptic_repeat"].setValue(2)
    form.fields["haptic_intensity"].setValue(120)
    assert apply(qtbot, form) == ["Saved; in effect now.", True]
    tuning = hub.tuning.current
    assert (tuning.haptic_cooldown_s, tuning.haptic_repeat, tuning.haptic_intensity) == (5.0, 2, 120)
    assert TuningService(hub.store).current.haptic_intensity == 120  # stored: the next start has it too

    status.serial.setEditText(str(wearable.link))
    with qtbot.waitSignal(status.applied, timeout=20_000):
        status.apply_button.click()
    qtbot.waitUntil(lambda: desktop.haptics is not None and desktop.haptics.state == "connected", timeout=20_000)
    bridge = desktop.haptics
    assert (bridge.cooldown_s, bridge.repeat, bridge.intensity) == (5.0, 2, 120)

    # With the wearable running: it follows at once, and plays with the new strength and count.
    form.fields["haptic_cooldown_s"].setValue(90)
    form.fields["haptic_repeat"].setValue(3)
    form.fields["haptic_intensity"].setValue(255)
    assert apply(qtbot, form) == ["Saved; in effect now.", True]
    assert (bridge.cooldown_s, bridge.repeat, bridge.intensity) == (90.0, 3, 255)
    heartbeat = dict(PRESETS)["Heartbeat"]
    answers = []
    desktop.test_on_wearable(heartbeat, lambda text, ok: answers.append((text, ok)))
    qtbot.waitUntil(lambda: bool(answers), timeout=20_000)
    assert answers == [("Played on the wearable.", True)]
    played = [r for r in wearable.records() if r.get("type") == "PLAY"]
    assert (played[-1]["pattern"], played[-1]["repeat"], played[-1]["intensity"]) == (heartbeat, 3, 255)


@pytest.mark.faces
@pytest.mark.model
def test_advanced_settings_change_recognition_and_the_measured_defaults_come_back(desktop, account, identities,
                                                                                 qtbot):
    status, hub = desktop.window.status, desktop.hub
    form = status.advanced_form
    form.fields["match_margin"].setValue(0.1)
    form.fields["cluster_threshold"].setValue(0.5)
    form.fields["min_cluster_size"].setValue(2)
    assert apply(qtbot, form) == ["Saved; in effect now.", True]
    tuning = hub.tuning.current
    assert (tuning.match_margin, tuning.cluster_threshold, tuning.min_cluster_size) == (0.1, 0.5, 2)
    assert form.fields["min_cluster_size"].text() == "2 faces"

    # The hub uses them at once: someone seen in one photo is not shown while groups need two faces.
    user = desktop.user_id
    hub.uploads.process(user, identities["serena_williams"][0].read_bytes())
    assert hub.timeline.pull(user) == {}

    with qtbot.waitSignal(form.applied, timeout=20_000) as applied:
        qtbot.mouseClick(form.defaults_button, Qt.MouseButton.LeftButton)
    assert applied.args == ["Saved; in effect now.", True]
    defaults = Tuning()
    tuning = hub.tuning.current
    assert (tuning.match_margin, tuning.cluster_threshold, tuning.min_cluster_size) == (
        defaults.match_margin, defaults.cluster_threshold, defaults.min_cluster_size)
    assert [box.value() for box in form.fields.values()] == [0.04, 0.56, 1]
    assert len(hub.timeline.pull(user)) == 1  # and the person shows again


def test_the_keyboard_alone_changes_a_wearable_setting(desktop, account, qtbot):
    window, status = desktop.window, desktop.window.status
    form = status.wearable_form
    window.show_tab(2)
    focus(qtbot, status.port)
    qtbot.keyClick(status.port, Qt.Key.Key_B, Qt.KeyboardModifier.AltModifier)  # "Buzz again after"
    box = form.fields["haptic_cooldown_s"]
    assert box.hasFocus()
    box.selectAll()
    qtbot.keyClicks(box, "12")
    assert box.text() == "12 seconds"
    qtbot.keyClick(box, Qt.Key.Key_Tab)
    assert QApplication.focusWidget() is form.fields["haptic_repeat"]
    with qtbot.waitSignal(form.applied, timeout=20_000) as applied:
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_L, Qt.KeyboardModifier.AltModifier)
    assert applied.args == ["Saved; in effect now.", True]
    assert desktop.hub.tuning.current.haptic_cooldown_s == 12.0
    assert form.result.isVisible() and form.result.property("role") == "ok"


def test_nothing_changed_says_so_and_values_keep_to_the_limits(desktop, account, qtbot):
    form = desktop.window.status.advanced_form
    assert apply(qtbot, form) == ["Nothing to change.", True]
    box = form.fields["min_cluster_size"]
    box.setValue(10_000)
    assert box.value() == Tuning.LIMITS["min_cluster_size"][1]
    assert apply(qtbot, form) == ["Saved; in effect now.", True]
    assert desktop.hub.tuning.current.min_cluster_size == Tuning.LIMITS["min_cluster_size"][1]


def test_tab_reaches_every_new_control_in_reading_order(desktop, account, qtbot):
    window, status = desktop.window, desktop.window.status
    window.show_tab(2)
    focus(qtbot, status.apply_button)
    visited = [status.apply_button]
    for _ in range(16):
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
        visited.append(QApplication.focusWidget())
    # Left column, then right (the tables between are hidden while nothing has arrived).
    order = [status.apply_button, *status.advanced_form.widgets(), *status.wearable_form.widgets(),
             status.engine.choice]
    positions = [visited.index(w) for w in order]
    assert positions == sorted(positions), [type(w).__name__ for w in visited]
