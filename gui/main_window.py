"""The main window: a header (account, server, pairing), the Timeline,
Contacts and Status views, menus with shortcuts, and the tray icon."""

from __future__ import annotations

from .contacts_view import ContactsView
from .pairing import PairingControl
from .qt import (
    QAction,
    QApplication,
    QFrame,
    QHBoxLayout,
    QKeySequence,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QSize,
    QStackedWidget,
    QStyle,
    QSystemTrayIcon,
    Qt,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)
from .setup_view import SetupView
from .status_view import StatusView
from .timeline_view import TimelineView
from .widgets import line_height, muted, scaled_font, set_role

SHORTCUTS = [
    ("Ctrl+1", "Timeline: the people you met"),
    ("Ctrl+2", "Contacts"),
    ("Ctrl+3", "Status and settings"),
    ("Ctrl+F", "Search contacts"),
    ("F5", "Refresh the current view"),
    ("F2", "Rename the selected contact"),
    ("Delete", "Delete the selected contact (asks first)"),
    ("Alt + underlined letter", "Press that button or go to that field"),
    ("Tab / Shift+Tab", "Next / previous control"),
    ("Left / Right, Space", "In a pattern: choose a slot, turn it on or off"),
    ("Ctrl+Q", "Quit FaceLink (the hub stops serving)"),
]


class MainWindow(QMainWindow):
    def __init__(self, ctx) -> None:
        super().__init__()
        self.ctx = ctx
        self.setWindowTitle("FaceLink")
        self._quitting = False

        self.setup = SetupView(ctx)
        self.timeline = TimelineView(ctx)
        self.contacts = ContactsView(ctx)
        self.status = StatusView(ctx)
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self.timeline, "&Timeline")
        self.tabs.addTab(self.contacts, "&Contacts")
        self.tabs.addTab(self.status, "&Status")
        self.tabs.setAccessibleName("Views")
        self.tabs.tabBar().setAccessibleName("Views: Timeline, Contacts, Status")
        self.tabs.currentChanged.connect(self._tab_changed)

        main = QWidget()
        main_layout = QVBoxLayout(main)
        main_layout.setContentsMargins(0, 0, 0, 0)
        main_layout.setSpacing(0)
        main_layout.addWidget(self._header())
        main_layout.addWidget(self.tabs, 1)
        self.pages = QStackedWidget()
        self.pages.setObjectName("pages")
        self.pages.addWidget(self.setup)
        self.pages.addWidget(main)
        self.setCentralWidget(self.pages)
        self._menus()
        self.statusBar().setSizeGripEnabled(False)

        ctx.message.connect(lambda text: self.statusBar().showMessage(text, 8000))
        ctx.tasks.failed.connect(lambda exc: self.statusBar().showMessage(f"Something went wrong: {exc}", 10000))
        ctx.user_changed.connect(self._show_header)
        ctx.server_changed.connect(self._show_header)
        self.setup.done.connect(self.show_main)

        lh = line_height(self)
        self.resize(QSize(lh * 62, lh * 40))
        if ctx.user_id is None:
            self.show_setup()
        else:
            self.show_main()

    # --- layout ------------------------------------------------------------------------

    def _header(self) -> QWidget:
        header = QFrame()
        header.setObjectName("header")
        lh = line_height(self)
        self.brand = QLabel("FaceLink")
        self.brand.setFont(scaled_font(self.brand.font(), 1.45, bold=True))
        self.account_label = muted(wrap=False)
        self.account_label.setAccessibleName("Account")
        self.server_label = QLabel()
        self.server_label.setAccessibleName("Server")
        self.server_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.header_pairing = PairingControl(self.ctx, compact=True)
        layout = QHBoxLayout(header)
        layout.setContentsMargins(round(lh * 1.2), round(lh * 0.6), round(lh * 1.2), round(lh * 0.6))
        layout.setSpacing(round(lh * 1.2))
        layout.addWidget(self.brand)
        layout.addWidget(self.account_label)
        layout.addStretch(1)
        layout.addWidget(self.server_label)
        layout.addWidget(self.header_pairing)
        self._show_header()
        return header

    def _show_header(self) -> None:
        ctx = self.ctx
        self.account_label.setText(f"Account: {ctx.username}" if ctx.username else "")
        urls = ctx.server.urls()
        if ctx.server.running and urls:
            self.server_label.setText(f"Serving at {urls[0]}")
            set_role(self.server_label, "ok")
        else:
            self.server_label.setText("Not serving")
            set_role(self.server_label, "bad")

    def _menus(self) -> None:
        bar = self.menuBar()
        app_menu = bar.addMenu("&FaceLink")
        self._action(app_menu, "Set up a &device or account…", self.show_setup)
        app_menu.addSeparator()
        self._action(app_menu, "&Quit", self.quit, QKeySequence.StandardKey.Quit)
        view = bar.addMenu("&View")
        for i, name in enumerate(("&Timeline", "&Contacts", "&Status")):
            self._action(view, name, lambda _=False, i=i: self.show_tab(i), QKeySequence(f"Ctrl+{i + 1}"))
        view.addSeparator()
        self._action(view, "&Refresh", self.refresh_current, QKeySequence(Qt.Key.Key_F5))
        help_menu = bar.addMenu("&Help")
        self._action(help_menu, "&Keyboard shortcuts", self.show_shortcuts, QKeySequence(Qt.Key.Key_F1))

    def _action(self, menu: QMenu, text: str, slot, shortcut=None) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(shortcut)
        action.triggered.connect(slot)
        menu.addAction(action)
        self.addAction(action)  # works while the menu bar is hidden, too
        return action

    # --- navigation ---------------------------------------------------------------------

    def show_setup(self) -> None:
        self.setup.reset()
        self.pages.setCurrentWidget(self.setup)

    def show_main(self) -> None:
        self.pages.setCurrentIndex(1)
        self._show_header()
        self.refresh_all()
        self.tabs.tabBar().setFocus()  # Left/Right switch views from here

    def show_tab(self, index: int) -> None:
        if self.pages.currentIndex() == 1:
            self.tabs.setCurrentIndex(index)

    def refresh_all(self) -> None:
        self.timeline.refresh()
        self.contacts.refresh()
        self.status.refresh()

    def refresh_current(self) -> None:
        current = self.tabs.currentWidget()
        if self.pages.currentIndex() == 1 and hasattr(current, "refresh"):
            current.refresh()

    def _tab_changed(self, _index: int) -> None:
        self.refresh_current()

    def show_shortcuts(self) -> None:
        rows = "".join(f"<tr><td><b>{key}</b>&nbsp;&nbsp;</td><td>{what}</td></tr>" for key, what in SHORTCUTS)
        box = QMessageBox(QMessageBox.Icon.Information, "Keyboard shortcuts",
                          f"<table cellpadding='3'>{rows}</table>", QMessageBox.StandardButton.Close, self)
        box.setAccessibleName("Keyboard shortcuts")
        box.open()
        self.shortcuts_box = box

    # --- closing --------------------------------------------------------------------------

    def quit(self) -> None:
        self._quitting = True
        self.close()

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt override
        ctx = self.ctx
        if not self._quitting and ctx.prefs.keep_serving_in_tray and ctx.tray_available:
            self._to_tray()
            event.ignore()
            return
        event.accept()
        ctx.quit()

    def _to_tray(self) -> None:
        ctx = self.ctx
        if ctx.tray is None:
            icon = QApplication.windowIcon()
            if icon.isNull():  # no app icon installed: a tray icon without one would be invisible
                icon = self.style().standardIcon(QStyle.StandardPixmap.SP_ComputerIcon)
            tray = QSystemTrayIcon(icon, self)
            menu = QMenu(self)
            open_action = menu.addAction("&Open FaceLink")
            open_action.triggered.connect(self._from_tray)
            quit_action = menu.addAction("&Quit (stop serving)")
            quit_action.triggered.connect(self.quit)
            tray.setContextMenu(menu)
            tray.activated.connect(lambda reason: self._from_tray()
                                   if reason == QSystemTrayIcon.ActivationReason.Trigger else None)
            tray.setToolTip("FaceLink is serving your wearable")
            ctx.tray = tray
            self._tray_menu = menu
        ctx.tray.show()
        self.hide()
        ctx.tray.showMessage("FaceLink keeps serving", "Your wearable still reaches the hub. Quit from this icon.",
                             QSystemTrayIcon.MessageIcon.Information, 4000)

    def _from_tray(self) -> None:
        self.show()
        self.raise_()
        self.activateWindow()
