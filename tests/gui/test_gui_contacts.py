"""Contacts: the pattern editor changes `vib_pattern`, rename, delete asks
first, search; every change checked through the HTTP API."""

from __future__ import annotations

import pytest
from desktop_fixtures import GUI_MARKS, account, desktop, focus, http, photos_of, themed, wait_idle  # noqa: F401

from gui.contacts_view import THUMBNAIL
from gui.humanize import PRESETS
from gui.qt import QMessageBox, QPoint, Qt

pytestmark = [*GUI_MARKS, pytest.mark.faces, pytest.mark.model]


@pytest.fixture
def people(desktop, http, identities, qtbot):
    """Two contacts, named from the timeline the way a user does it."""
    for photo in photos_of(identities, "serena_williams", "kofi_annan", count=1):
        assert http.upload(photo).status_code == 200
    user = desktop.user_id
    for cluster_id, name in zip(desktop.hub.timeline.pull(user), ("Serena", "Kofi")):
        desktop.hub.contacts.create_from_cluster(user, cluster_id, name)
    view = desktop.window.contacts
    with qtbot.waitSignal(view.refreshed, timeout=20_000):
        desktop.contacts_changed.emit()
    desktop.window.show_tab(1)
    wait_idle(qtbot, desktop)  # the tab's own reload too: nothing stale lands during a test
    return view


def pattern_of(http, name: str) -> int:
    return next(c["vib_pattern"] for c in http.contacts() if c["name"] == name)


def select(qtbot, view, name: str) -> None:
    for row in range(view.proxy.rowCount()):
        index = view.proxy.index(row, 0)
        if index.data() == name:
            view.list.setCurrentIndex(index)
            assert view.name_title.text() == name
            return
    pytest.fail(f"{name} is not listed")


def click_slot(qtbot, strip, slot: int) -> None:
    centre = strip.slot_rect(slot).center()
    qtbot.mouseClick(strip, Qt.MouseButton.LeftButton, pos=QPoint(round(centre.x()), round(centre.y())))


def choose_preset(presets, name: str) -> None:
    """What picking an entry with the keyboard or the mouse does: index set, then `activated`."""
    presets.setCurrentIndex(presets.findText(name))
    presets.activated.emit(presets.currentIndex())


def test_the_list_shows_thumbnails_names_last_seen_and_patterns(people, http):
    assert [people.model.item(r).text() for r in range(people.model.rowCount())] == ["Kofi", "Serena"]
    for row in range(people.model.rowCount()):
        item = people.model.item(row)
        assert item.data(THUMBNAIL)[:2] == b"\xff\xd8"  # the face's JPEG thumbnail
        text = item.data(Qt.ItemDataRole.AccessibleTextRole)
        assert "not seen since they were named" in text and "pattern" in text
    assert people.count.text() == "2 contacts"


def test_clicking_slots_changes_vib_pattern(people, http, qtbot):
    select(qtbot, people, "Serena")
    before = pattern_of(http, "Serena")
    strip = people.editor.strip
    click_slot(qtbot, strip, 20)
    click_slot(qtbot, strip, 31)
    expected = before ^ (1 << 20) ^ (1 << 31)
    assert strip.pattern() == expected
    qtbot.waitUntil(lambda: pattern_of(http, "Serena") == expected, timeout=20_000)
    assert pattern_of(http, "Kofi") != expected  # only the selected contact changed


def test_the_keyboard_edits_a_pattern_and_presets_replace_it(people, http, qtbot):
    select(qtbot, people, "Kofi")
    strip, presets = people.editor.strip, people.editor.presets
    choose_preset(presets, "Silent")
    assert strip.pattern() == 0
    focus(qtbot, strip)
    qtbot.keyClick(strip, Qt.Key.Key_Home)
    qtbot.keyClick(strip, Qt.Key.Key_Space)          # slot 0 on
    qtbot.keyClick(strip, Qt.Key.Key_Right)
    qtbot.keyClick(strip, Qt.Key.Key_Right)
    qtbot.keyClick(strip, Qt.Key.Key_Space)          # slot 2 on
    assert strip.pattern() == 0b101
    assert "Slot 3 of 32 is on" in strip.accessibleDescription()
    qtbot.waitUntil(lambda: pattern_of(http, "Kofi") == 0b101, timeout=20_000)

    assert presets.currentText() == "Custom"
    heartbeat = dict(PRESETS)["Heartbeat"]
    choose_preset(presets, "Heartbeat")
    assert strip.pattern() == heartbeat
    qtbot.waitUntil(lambda: pattern_of(http, "Kofi") == heartbeat, timeout=20_000)


def test_preview_runs_a_playhead_across_the_strip(people, qtbot):
    select(qtbot, people, "Serena")
    editor = people.editor
    seen = []
    editor._animation.valueChanged.connect(lambda value: seen.append(float(value)))
    with qtbot.waitSignal(editor._animation.finished, timeout=5_000):
        qtbot.mouseClick(editor.preview_button, Qt.MouseButton.LeftButton)
        assert editor.previewing and editor.preview_button.text() == "Stop pre&view"
    assert seen and seen[-1] == 32.0 and seen == sorted(seen)
    assert editor.strip._playhead == -1.0 and editor.preview_button.text() == "Pre&view"


def test_rename(people, http, qtbot):
    select(qtbot, people, "Kofi")
    people.name_edit.clear()
    qtbot.keyClicks(people.name_edit, "Kofi A.")
    with qtbot.waitSignal(people.saved, timeout=20_000):
        qtbot.keyClick(people.name_edit, Qt.Key.Key_Return)
    assert sorted(c["name"] for c in http.contacts()) == ["Kofi A.", "Serena"]
    qtbot.waitUntil(lambda: people.name_title.text() == "Kofi A.", timeout=20_000)


def test_delete_asks_first(people, http, qtbot):
    select(qtbot, people, "Serena")
    people.delete_button.click()
    box = people.confirm
    assert box is not None and box.isVisible()
    assert "Serena" in box.text() and "cannot be undone" in box.informativeText()
    assert box.defaultButton() is box.button(QMessageBox.StandardButton.Cancel)  # Enter does not delete
    qtbot.mouseClick(box.button(QMessageBox.StandardButton.Cancel), Qt.MouseButton.LeftButton)
    wait_idle(qtbot, people.ctx)
    assert sorted(c["name"] for c in http.contacts()) == ["Kofi", "Serena"]

    focus(qtbot, people.list)
    qtbot.keyClick(people.list, Qt.Key.Key_Delete)  # the keyboard asks the same question
    box = people.confirm
    assert box is not None and box.isVisible()
    with qtbot.waitSignal(people.saved, timeout=20_000):
        qtbot.mouseClick(box.button(QMessageBox.StandardButton.Yes), Qt.MouseButton.LeftButton)
    assert [c["name"] for c in http.contacts()] == ["Kofi"]
    qtbot.waitUntil(lambda: people.model.rowCount() == 1 and people.name_title.text() == "Kofi", timeout=20_000)


def test_search_filters_by_name(people, qtbot):
    qtbot.keyClicks(people.search, "ser")
    assert people.proxy.rowCount() == 1
    assert people.proxy.index(0, 0).data() == "Serena"
    assert people.name_title.text() == "Serena"
    assert people.count.text() == "1 of 2 contacts match"
    people.search.clear()
    assert people.proxy.rowCount() == 2
    qtbot.keyClicks(people.search, "nobody")
    assert people.proxy.rowCount() == 0
    assert not people.detail_body.isVisible()


def test_an_edit_survives_a_reload_that_lands_before_it_is_saved(people, http, qtbot):
    select(qtbot, people, "Serena")
    expected = pattern_of(http, "Serena") ^ (1 << 30)
    click_slot(qtbot, people.editor.strip, 30)
    with qtbot.waitSignal(people.refreshed, timeout=20_000):
        people.refresh()  # e.g. a recognition arrived: the list reloads within the save delay
    assert people.editor.pattern() == expected
    qtbot.waitUntil(lambda: pattern_of(http, "Serena") == expected, timeout=20_000)
    assert people.editor.pattern() == expected
