"""Status: where devices reach the hub, the wearable's connection and
settings, recent uploads and recognitions, the face engine, and the settings
that take effect at once (the advanced recognition settings among them)."""

from __future__ import annotations

import serial.tools.list_ports

from facelink_local.config import Tuning

from .humanize import ago, when
from .connect_panel import ConnectPanel
from .engine_panel import EnginePanel
from .pairing import PairingControl
from .qt import (
    QAbstractItemView,
    QApplication,
    QBoxLayout,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QScrollArea,
    QSpinBox,
    Qt,
    QTableWidget,
    QTableWidgetItem,
    QTimer,
    QVBoxLayout,
    QWidget,
    Signal,
)
from .tuning_form import Spec, TuningForm
from .widgets import heading, line_height, muted, named, primary, section, set_role

RECENT = 8
NO_PORT = "Not used"
MEASURED = "measured on real photos, docs/quality.md"

WEARABLE_SETTINGS = [
    Spec("haptic_cooldown_s", "&Buzz again after:",
         "After the wearable buzzes for someone, it stays quiet for that person this long, even while they are "
         "still in view. 0 buzzes for every photo they are recognized in.", ("second", "seconds"), step=5),
    Spec("haptic_repeat", "Pla&y each pattern:",
         "How many times the wearable plays a contact's pattern when it buzzes for them; one play takes 1.6 "
         "seconds.", ("time", "times")),
    Spec("haptic_intensity", "Vibration stre&ngth:",
         "How strongly the motor vibrates, from 1 (faintest) to 255 (strongest).", ("of 255", "of 255"), step=5),
]
ADVANCED_SETTINGS = [
    Spec("match_margin", "Ma&rgin over the next contact:",
         "A face is taken for a contact only when it is at least this much closer to them than to any other "
         "contact. Larger refuses faces that look like two of your contacts; smaller names more faces, and "
         "sometimes the wrong person.", decimals=2, step=0.01, default_note=MEASURED),
    Spec("cluster_threshold", "&Group faces closer than:",
         "Unknown faces closer than this distance are grouped as one person in the Timeline. Lower splits one "
         "person over more cards; higher may put two people on one card.", decimals=2, step=0.01,
         default_note=MEASURED),
    Spec("min_cluster_size", "Smallest gro&up shown:",
         "The Timeline shows a person once this many of their faces are grouped. 1 shows everyone met, even "
         "once; more hides people seen only briefly, who then cannot be named.", ("face", "faces"),
         default_note=MEASURED),
]


def load_activity(hub, user_id: int) -> dict:
    """Worker thread: recent uploads, recent recognitions, serial ports present."""
    contacts = [c for c in hub.contacts.list(user_id) if c["last_seen"]]
    contacts.sort(key=lambda c: c["last_seen"], reverse=True)
    ports = [p.device for p in serial.tools.list_ports.comports()]
    return {"uploads": hub.uploads.recent(user_id, RECENT), "seen": contacts[:RECENT], "ports": ports}


def _table(headers: list[str], name: str) -> QTableWidget:
    table = QTableWidget(0, len(headers))
    table.setHorizontalHeaderLabels(headers)
    table.verticalHeader().hide()
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setShowGrid(False)
    table.setAlternatingRowColors(False)
    table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
    for column in range(1, len(headers)):
        table.horizontalHeader().setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
    table.setAccessibleName(name)
    table.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
    table.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    table.setWordWrap(False)
    return table


def _cell(text: str, align_right: bool = False) -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    if align_right:
        item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    return item


class StatusView(QWidget):
    """`refreshed` fires after the activity tables reloaded; `applied(message, ok)`
    after "Apply settings"."""

    refreshed = Signal()
    applied = Signal(str, bool)

    def __init__(self, ctx, parent=None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        lh = line_height(self)

        # --- connect a device ---
        connect, connect_layout = section("Connect a device")
        self.panel = ConnectPanel(ctx, "The hub is serving while FaceLink is open.")
        self.copy_button = named(QPushButton("&Copy address"), "Copy the address")
        self.pairing = PairingControl(ctx)
        copy_row = QHBoxLayout()
        copy_row.addWidget(self.copy_button)
        copy_row.addStretch(1)
        self.panel.text_column.addLayout(copy_row)
        connect_layout.addWidget(muted("On the wearable or phone, enter this address and the account:"))
        connect_layout.addWidget(self.panel)
        connect_layout.addWidget(self.pairing)

        # --- the wearable ---
        wearable, wearable_layout = section("Wearable")
        self.wearable_state = QLabel()
        self.wearable_state.setWordWrap(True)
        self.wearable_state.setAccessibleName("Wearable connection")
        self.wearable_form = TuningForm(ctx, WEARABLE_SETTINGS, "App&ly wearable settings", "Apply wearable settings",
                                        self)
        wearable_layout.addWidget(self.wearable_state)
        wearable_layout.addSpacing(round(lh * 0.3))
        wearable_layout.addWidget(heading("Wearable settings", 3))
        wearable_layout.addWidget(muted("They apply to the next buzz, and stay set for later runs."))
        wearable_layout.addLayout(self.wearable_form.form())
        wearable_layout.addLayout(self.wearable_form.buttons())
        wearable_layout.addWidget(self.wearable_form.result)

        # --- settings ---
        settings, settings_layout = section("Settings")
        self.port = named(QSpinBox(), "Port", "The TCP port devices connect to. The hub moves to it at once.")
        self.port.setRange(1, 65535)
        self.retention = named(QDoubleSpinBox(), "Keep unknown faces for, in days",
                               "Unknown faces older than this are deleted")
        low, high = Tuning.LIMITS["retention_days"]
        self.retention.setRange(max(1.0, low), high)
        self.retention.setDecimals(0)
        self.retention.setSuffix(" days")
        self.threshold = named(QDoubleSpinBox(), "Match threshold",
                               "Largest face distance that can still be a contact. Lower is stricter: fewer faces "
                               f"are named, and fewer strangers taken for a contact. Default: "
                               f"{Tuning().match_threshold:.2f} ({MEASURED}).")
        low, high = Tuning.LIMITS["match_threshold"]
        self.threshold.setRange(low, high)
        self.threshold.setDecimals(2)
        self.threshold.setSingleStep(0.01)
        self.serial = named(QComboBox(), "Wearable serial port",
                            "The USB serial port of the haptic wearable; auto finds it; Not used turns it off")
        self.serial.setEditable(True)
        self.tray = named(QCheckBox("&Keep serving from the tray when the window is closed"),
                          "Keep serving from the tray when the window is closed")
        if not ctx.tray_available:
            self.tray.setEnabled(False)
            self.tray.setToolTip("This desktop has no system tray: closing the window stops the hub.")
            self.tray.setAccessibleDescription(self.tray.toolTip())
        self.apply_button = primary(named(QPushButton("&Apply settings"), "Apply settings"))
        self.settings_result = muted()
        self.settings_result.setAccessibleName("Settings result")

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        for text, field in (("P&ort:", self.port), ("&Keep unknown faces:", self.retention),
                            ("&Match threshold:", self.threshold), ("&Wearable port:", self.serial)):
            label = QLabel(text)
            label.setBuddy(field)
            form.addRow(label, field)
        form.addRow(self.tray)
        apply_row = QHBoxLayout()
        apply_row.addWidget(self.apply_button)
        apply_row.addWidget(self.settings_result, 1)
        settings_layout.addLayout(form)
        settings_layout.addLayout(apply_row)

        # --- the face engine ---
        engine, engine_layout = section("Face engine")
        self.engine = EnginePanel(ctx)
        engine_layout.addWidget(self.engine)

        # --- advanced: recognition ---
        advanced, advanced_layout = section("Advanced: recognition")
        self.advanced_form = TuningForm(ctx, ADVANCED_SETTINGS, "Apply a&dvanced settings",
                                        "Apply advanced settings", self, defaults_text="Restore measured defaults")
        advanced_layout.addWidget(muted(
            "These decide who is recognized and how unknown faces are grouped. The defaults were measured on "
            "451 real photos of 50 people (docs/quality.md): change them only if recognition makes mistakes."))
        advanced_layout.addLayout(self.advanced_form.form())
        advanced_layout.addLayout(self.advanced_form.buttons())
        advanced_layout.addWidget(self.advanced_form.result)

        # --- activity ---
        uploads, uploads_layout = section("Recent uploads")
        self.uploads = _table(["Received", "Faces", "Recognized", "Unknown"], "Recent uploads")
        self.no_uploads = muted("No photo has arrived yet.")
        uploads_layout.addWidget(self.uploads)
        uploads_layout.addWidget(self.no_uploads)
        seen, seen_layout = section("Recently recognized")
        self.seen = _table(["Who", "When"], "Recently recognized contacts")
        self.no_seen = muted("Nobody recognized yet.")
        seen_layout.addWidget(self.seen)
        seen_layout.addWidget(self.no_seen)

        body = QWidget()
        body.setObjectName("scrollBody")
        page = QVBoxLayout(body)
        margin = round(lh * 1.2)
        page.setContentsMargins(margin, margin, margin, margin)
        page.setSpacing(round(lh * 0.5))
        page.addWidget(heading("Status", 1))
        gap = round(lh * 0.9)
        self.cards = {"connect": connect, "settings": settings, "advanced": advanced, "wearable": wearable,
                      "uploads": uploads, "seen": seen, "engine": engine}
        self.columns = []
        for cards in ((connect, settings, advanced), (wearable, uploads, seen, engine)):
            column = QWidget()
            column_layout = QVBoxLayout(column)
            column_layout.setContentsMargins(0, 0, 0, 0)
            column_layout.setSpacing(gap)
            for card in cards:
                column_layout.addWidget(card)
            column_layout.addStretch(1)
            self.columns.append(column)
        # Side by side when there is room; one above the other with large text or a narrow window.
        self.column_box = QBoxLayout(QBoxLayout.Direction.LeftToRight)
        self.column_box.setSpacing(margin)
        for column in self.columns:
            self.column_box.addWidget(column, 1)
        page.addLayout(self.column_box)
        page.addStretch(1)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setWidget(body)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.scroll)

        self.setTabOrder(self.copy_button, self.pairing.button)
        self.setTabOrder(self.pairing.button, self.port)
        self.setTabOrder(self.port, self.retention)
        self.setTabOrder(self.retention, self.threshold)
        self.setTabOrder(self.threshold, self.serial)
        self.setTabOrder(self.serial, self.tray)
        self.setTabOrder(self.tray, self.apply_button)
        order = [self.apply_button, *self.advanced_form.widgets(), *self.wearable_form.widgets(), self.uploads,
                 self.seen, self.engine.choice, self.engine.use_button, self.engine.purge_button]
        for before, after in zip(order, order[1:]):
            self.setTabOrder(before, after)

        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(500)
        self._debounce.timeout.connect(self.refresh)
        self._clock = QTimer(self)
        self._clock.setInterval(30_000)
        self._clock.timeout.connect(self.refresh)
        self._clock.start()
        self.copy_button.clicked.connect(self._copy)
        self.apply_button.clicked.connect(self.apply_settings)
        ctx.server_changed.connect(self.show_server)
        ctx.user_changed.connect(self.refresh)
        ctx.user_changed.connect(self.show_server)
        ctx.haptics_changed.connect(self.show_wearable)
        ctx.bridge.device_state.connect(lambda _event: self.show_wearable())
        ctx.bridge.faces_arrived.connect(lambda _event: self._debounce.start())
        self.show_server()
        self.show_wearable()
        self.load_settings()

    # --- what is shown ---------------------------------------------------------------

    TWO_COLUMNS_LINES = 60  # the view's width, in text lines, from which the cards go in two columns

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        wide = self.width() >= self.TWO_COLUMNS_LINES * line_height(self)
        direction = QBoxLayout.Direction.LeftToRight if wide else QBoxLayout.Direction.TopToBottom
        if self.column_box.direction() != direction:
            self.column_box.setDirection(direction)
            self.column_box.setSpacing(round(line_height(self) * (1.2 if wide else 0.9)))

    def show_server(self) -> None:
        self.copy_button.setEnabled(self.ctx.server.running)

    def show_wearable(self) -> None:
        text, connected = self.ctx.wearable_summary()
        self.wearable_state.setText(text)
        set_role(self.wearable_state, "ok" if connected else "bad")

    def load_settings(self) -> None:
        tuning = self.ctx.hub.tuning.current
        self.port.setValue(self.ctx.server.port or self.ctx.server.requested_port or 5055)
        self.retention.setValue(tuning.retention_days)
        self.threshold.setValue(tuning.match_threshold)
        self._fill_ports([], tuning.serial_port)
        self.tray.setChecked(self.ctx.prefs.keep_serving_in_tray and self.ctx.tray_available)

    def _fill_ports(self, ports: list[str], current: str) -> None:
        typed = self.serial.currentText() if self.serial.count() else None
        self.serial.clear()
        self.serial.addItem(NO_PORT, "")
        self.serial.addItem("auto (find the wearable)", "auto")
        for port in ports:
            self.serial.addItem(port, port)
        chosen = current if typed is None else self._serial_value(typed)
        index = self.serial.findData(chosen)
        if index < 0 and chosen:
            self.serial.addItem(chosen, chosen)
            index = self.serial.count() - 1
        self.serial.setCurrentIndex(max(0, index))

    def _serial_value(self, text: str) -> str:
        index = self.serial.findText(text)
        if index >= 0:
            return self.serial.itemData(index)
        return text.strip()

    def refresh(self) -> None:
        if self.ctx.user_id is None:
            return
        self.engine.refresh()
        self.ctx.tasks.run(load_activity, self.ctx.hub, self.ctx.user_id, done=self._show_activity, context=self)

    def _show_activity(self, activity: dict) -> None:
        uploads = activity["uploads"]
        self.uploads.setRowCount(len(uploads))
        for row, upload in enumerate(uploads):
            self.uploads.setItem(row, 0, _cell(when(upload["received_at"])))
            self.uploads.setItem(row, 1, _cell(str(upload["faces"]), True))
            self.uploads.setItem(row, 2, _cell(str(upload["matched"]), True))
            self.uploads.setItem(row, 3, _cell(str(upload["unknown"]), True))
        self.uploads.setVisible(bool(uploads))
        self.no_uploads.setVisible(not uploads)
        seen = activity["seen"]
        self.seen.setRowCount(len(seen))
        for row, contact in enumerate(seen):
            self.seen.setItem(row, 0, _cell(contact["name"]))
            self.seen.setItem(row, 1, _cell(ago(contact["last_seen"])))
        self.seen.setVisible(bool(seen))
        self.no_seen.setVisible(not seen)
        for table in (self.uploads, self.seen):  # at most RECENT rows: show them all, no scrolling
            table.resizeRowsToContents()
            rows = sum(table.rowHeight(r) for r in range(table.rowCount()))
            table.setFixedHeight(table.horizontalHeader().sizeHint().height() + rows + 2 * table.frameWidth() + 2)
        if not self.serial.hasFocus():
            self._fill_ports(activity["ports"], self.ctx.hub.tuning.current.serial_port)
        self.refreshed.emit()

    def _copy(self) -> None:
        address = self.panel.address.text()
        QApplication.clipboard().setText(address)
        self.ctx.message.emit(f"Copied {address}")

    # --- settings --------------------------------------------------------------------

    def apply_settings(self) -> None:
        hub = self.ctx.hub
        current = hub.tuning.current
        changes = {}
        if round(self.retention.value(), 2) != round(current.retention_days, 2):
            changes["retention_days"] = float(self.retention.value())
        if round(self.threshold.value(), 3) != round(current.match_threshold, 3):
            changes["match_threshold"] = round(float(self.threshold.value()), 3)
        serial_port = self._serial_value(self.serial.currentText())
        if serial_port != current.serial_port:
            changes["serial_port"] = serial_port
        keep = self.tray.isChecked()
        tray_changed = keep != self.ctx.prefs.keep_serving_in_tray
        if tray_changed:
            self.ctx.save_prefs(keep_serving_in_tray=keep)
        port = self.port.value()
        port_changed = port != self.ctx.server.port
        self.apply_button.setEnabled(False)
        notes: list[str] = []
        outcome = {"ok": True, "waiting": int(bool(changes)) + int(port_changed)}

        def finish_one(text: str, ok: bool) -> None:
            notes.append(text)
            outcome["ok"] &= ok
            outcome["waiting"] -= 1
            if outcome["waiting"] <= 0:
                self._applied(" ".join(notes), outcome["ok"])

        def tuned(_tuning) -> None:
            if "serial_port" in changes:
                self.ctx.follow_serial_setting()
                self.show_wearable()
            finish_one("Settings saved; they apply now.", True)

        def refused(exc: BaseException) -> None:
            finish_one(f"Not saved: {getattr(exc, 'message', exc)}", False)

        if not changes and not port_changed:
            self._applied("Saved." if tray_changed else "Nothing to change.", True)
            return
        if changes:
            self.ctx.tasks.run(hub.tuning.update, write=True, done=tuned, failed=refused, **changes)
        if port_changed:
            self.ctx.change_port(port, finish_one)

    def _applied(self, text: str, ok: bool) -> None:
        self.apply_button.setEnabled(True)
        self.settings_result.setText(text)
        set_role(self.settings_result, "ok" if ok else "bad")
        self.load_settings_after_apply()
        self.applied.emit(text, ok)

    def load_settings_after_apply(self) -> None:
        tuning = self.ctx.hub.tuning.current
        self.retention.setValue(tuning.retention_days)
        self.threshold.setValue(tuning.match_threshold)
        if self.ctx.server.port:
            self.port.setValue(self.ctx.server.port)
