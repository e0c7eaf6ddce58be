"""Low vision: contrast, names for screen readers, sizes that follow the
system font, and the keyboard everywhere."""

from __future__ import annotations

import re

import pytest
from desktop_fixtures import GUI_MARKS, USERNAME, account, desktop, focus, themed, wait_idle  # noqa: F401

from gui import theme
from gui.app import DesktopApp
from gui.prefs import Prefs
from gui.qt import (
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QFont,
    QLabel,
    QScrollArea,
    QScrollBar,
    QTabBar,
    Qt,
    QWidget,
)

pytestmark = GUI_MARKS


@pytest.mark.parametrize("scheme", [theme.LIGHT, theme.DARK], ids=["light", "dark"])
def test_text_and_controls_have_enough_contrast(scheme):
    colors = theme.colors(scheme)
    for fg, bg in theme.TEXT_PAIRS:
        assert theme.contrast(colors[fg], colors[bg]) >= 7.0, (fg, bg)  # WCAG AAA body text
    for fg, bg in theme.UI_PAIRS:
        assert theme.contrast(colors[fg], colors[bg]) >= 3.0, (fg, bg)  # WCAG non-text contrast


def test_contrast_formula_matches_wcag():
    assert theme.contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert theme.contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)


def focusable(root: QWidget) -> list[QWidget]:
    """Widgets a Tab press can reach, leaving out the inner parts of compound controls."""
    found = []
    for widget in root.findChildren(QWidget):
        if not widget.isVisibleTo(root) or not widget.isEnabled():
            continue
        if not widget.focusPolicy() & Qt.FocusPolicy.TabFocus:
            continue
        if isinstance(widget.parent(), (QAbstractSpinBox, QComboBox)) or isinstance(widget, QScrollBar):
            continue
        if isinstance(widget, QScrollArea) or type(widget).__name__ == "QScrollAreaViewport":
            continue
        found.append(widget)
    return found


@pytest.mark.faces
@pytest.mark.model
def test_every_control_has_a_name_for_screen_readers(desktop, account, qtbot, identities):
    user = desktop.user_id
    hub = desktop.hub
    hub.uploads.process(user, identities["kofi_annan"][0].read_bytes())
    hub.contacts.create_from_cluster(user, next(iter(hub.timeline.pull(user))), "Kofi")
    hub.uploads.process(user, identities["kofi_annan"][1].read_bytes())  # recognized: listed in Status
    hub.uploads.process(user, identities["serena_williams"][0].read_bytes())  # unknown: a timeline card
    window = desktop.window
    window.refresh_all()
    missing = []
    for index, at_least in enumerate((5, 11, 12)):  # a card; the contact's editor; settings and tables
        window.show_tab(index)
        wait_idle(qtbot, desktop)
        qtbot.waitUntil(lambda: len(focusable(window)) >= at_least)  # new widgets show on the next event
        controls = focusable(window)
        for widget in controls:
            if isinstance(widget, QTabBar):
                assert all(widget.tabText(i) for i in range(widget.count()))
                continue
            if not widget.accessibleName():
                missing.append(f"{type(widget).__name__} {getattr(widget, 'text', lambda: '')()!r}")
    window.show_setup()
    for widget in focusable(window.setup):
        if not widget.accessibleName():
            missing.append(f"{type(widget).__name__} {getattr(widget, 'text', lambda: '')()!r}")
    assert not missing, missing


def test_labels_with_a_mnemonic_lead_to_their_field(desktop, account):
    for label in desktop.window.findChildren(QLabel):
        if re.search(r"&\w", label.text()):
            assert label.buddy() is not None, label.text()


def test_no_pixel_font_sizes(desktop, account):
    assert not re.search(r"font[^;]*\dpx", QApplication.instance().styleSheet())
    for widget in desktop.window.findChildren(QWidget):
        assert widget.font().pixelSize() == -1, type(widget).__name__


def test_sizes_follow_the_system_font(hub, qtbot, themed):
    hub.accounts.register(USERNAME, "correct horse battery")
    sizes = {}
    original = QFont(themed.font())
    try:
        for points in (9.0, 18.0):
            font = QFont(original)
            font.setPointSizeF(points)
            themed.setFont(font)
            app = DesktopApp(hub, "127.0.0.1", 0, prefs=Prefs(username=USERNAME))
            window = app.start(show=False)
            qtbot.addWidget(window)
            contacts = window.contacts
            sizes[points] = (contacts.editor.strip.sizeHint().height(), contacts.photo.side(),
                             window.status.panel.qr.sizeHint().width(), contacts.search.sizeHint().height())
            app.shutdown()
    finally:
        themed.setFont(original)
    for small, large in zip(sizes[9.0], sizes[18.0]):
        assert large >= 1.6 * small, sizes


@pytest.mark.faces
@pytest.mark.model
def test_the_keyboard_reaches_everything_in_contacts(desktop, account, qtbot, identities):
    user = desktop.user_id
    desktop.hub.uploads.process(user, identities["kofi_annan"][0].read_bytes())
    desktop.hub.contacts.create_from_cluster(user, next(iter(desktop.hub.timeline.pull(user))), "Kofi")
    window, view = desktop.window, desktop.window.contacts
    with qtbot.waitSignal(view.refreshed, timeout=20_000):
        desktop.contacts_changed.emit()
    focus(qtbot, window.tabs.tabBar())
    qtbot.keyClick(window, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
    assert window.tabs.currentWidget() is view
    wait_idle(qtbot, desktop)
    qtbot.keyClick(window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert view.search.hasFocus()
    visited = [view.search]
    for _ in range(12):
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
        visited.append(QApplication.focusWidget())
    order = [view.search, view.list, view.name_edit, view.rename_button, view.editor.strip,
             view.editor.presets, view.editor.preview_button, view.editor.test_button, view.delete_button]
    positions = [visited.index(w) for w in order]
    assert positions == sorted(positions), [type(w).__name__ for w in visited]

    qtbot.keyClick(window, Qt.Key.Key_F2)
    assert view.name_edit.hasFocus()
    qtbot.keyClick(window, Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)
    assert window.tabs.currentWidget() is window.status
    qtbot.keyClick(window, Qt.Key.Key_F1)
    assert window.shortcuts_box.isVisible() and "Ctrl+F" in window.shortcuts_box.text()
    window.shortcuts_box.close()
