"""The vibration pattern editor: 32 slots of 50 ms (bit i = slot i, least
significant first, 0 silent), presets, a live preview and "Test on wearable"."""

from __future__ import annotations

from facelink_local.recognition.patterns import MAX_PATTERN, SLOT_MS, SLOTS

from . import theme
from .humanize import PRESETS, describe_pattern, preset_name
from .qt import (
    QAbstractAnimation,
    QColor,
    QComboBox,
    QEasingCurve,
    QHBoxLayout,
    QLabel,
    QPainter,
    QPen,
    QPushButton,
    QRectF,
    QSize,
    QSizePolicy,
    Qt,
    QVariantAnimation,
    QVBoxLayout,
    QWidget,
    Signal,
)
from .widgets import line_height, muted, named, set_role

PATTERN_MS = SLOTS * SLOT_MS


def paint_pattern(painter: QPainter, rect: QRectF, pattern: int, playhead: float = -1.0) -> None:
    """The 32 slots of `pattern` in `rect` (used by the editor and the contact list)."""
    s = theme.scheme()
    gap = max(1.0, rect.width() / SLOTS * 0.14)
    width = (rect.width() - gap * (SLOTS - 1)) / SLOTS
    radius = min(width, rect.height()) * 0.25
    painter.setPen(Qt.PenStyle.NoPen)
    for i in range(SLOTS):
        cell = QRectF(rect.left() + i * (width + gap), rect.top(), width, rect.height())
        on = bool(pattern >> i & 1)
        played = 0 <= playhead and i <= playhead < SLOTS + 1
        if on:
            painter.setBrush(QColor(s.playhead if played and int(playhead) == i else s.accent))
        else:
            painter.setBrush(QColor(s.slot_off))
        painter.drawRoundedRect(cell, radius, radius)
        if not on:  # empty slots keep a visible edge (3:1) for people who cannot see faint fills
            painter.setPen(QPen(QColor(s.border), 1))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(cell.adjusted(0.5, 0.5, -0.5, -0.5), radius, radius)
            painter.setPen(Qt.PenStyle.NoPen)


class PatternStrip(QWidget):
    """Click or drag across slots to turn them on or off; with the keyboard,
    Left/Right/Home/End choose a slot and Space or Enter toggles it."""

    changed = Signal(object)  # the user edited the pattern (an int up to 2**32 - 1: not a C int)

    def __init__(self, pattern: int = 0, parent=None) -> None:
        super().__init__(parent)
        self._pattern = pattern & MAX_PATTERN
        self._cursor = 0
        self._playhead = -1.0
        self._drag_value: bool | None = None
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setMouseTracking(False)
        self.setAccessibleName("Vibration pattern, 32 slots of 50 milliseconds")
        self._describe()

    # --- state -------------------------------------------------------------------

    def pattern(self) -> int:
        return self._pattern

    def set_pattern(self, pattern: int) -> None:
        """Show `pattern` (no `changed` signal: that is for the user's edits)."""
        self._pattern = pattern & MAX_PATTERN
        self._describe()
        self.update()

    def cursor(self) -> int:
        return self._cursor

    def set_playhead(self, slot: float) -> None:
        self._playhead = slot
        self.update()

    def toggle(self, slot: int, value: bool | None = None) -> None:
        on = not (self._pattern >> slot & 1) if value is None else value
        pattern = self._pattern | (1 << slot) if on else self._pattern & ~(1 << slot)
        if pattern != self._pattern:
            self._pattern = pattern
            self._describe()
            self.update()
            self.changed.emit(pattern)

    def _describe(self) -> None:
        state = "on" if self._pattern >> self._cursor & 1 else "off"
        self.setAccessibleDescription(
            f"{describe_pattern(self._pattern)}. Slot {self._cursor + 1} of {SLOTS} is {state}. "
            "Left and right arrows choose a slot, space turns it on or off."
        )
        self.setToolTip(describe_pattern(self._pattern))

    # --- geometry ------------------------------------------------------------------

    def _height(self) -> int:
        # strip (2.2 lines) + gap + the time axis (1.2 lines) + margins
        return round(line_height(self) * 3.7) + 8

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt override
        return QSize(round(SLOTS * line_height(self) * 1.1), self._height())

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt override
        return QSize(round(SLOTS * line_height(self) * 0.55), self._height())

    def _strip_rect(self) -> QRectF:
        lh = line_height(self)
        return QRectF(3, 3, self.width() - 6, lh * 2.2)

    def slot_rect(self, slot: int) -> QRectF:
        r = self._strip_rect()
        width = r.width() / SLOTS
        return QRectF(r.left() + slot * width, r.top(), width, r.height())

    def slot_at(self, x: float) -> int | None:
        r = self._strip_rect()
        if not r.left() <= x < r.right():
            return None
        return min(SLOTS - 1, int((x - r.left()) / (r.width() / SLOTS)))

    # --- input ---------------------------------------------------------------------

    def mousePressEvent(self, event) -> None:  # noqa: N802 - Qt override
        if event.button() != Qt.MouseButton.LeftButton:
            return super().mousePressEvent(event)
        slot = self.slot_at(event.position().x())
        if slot is None:
            return None
        self._cursor = slot
        self._drag_value = not (self._pattern >> slot & 1)
        self.toggle(slot, self._drag_value)
        return None

    def mouseMoveEvent(self, event) -> None:  # noqa: N802 - Qt override
        if self._drag_value is None:
            return
        slot = self.slot_at(event.position().x())
        if slot is not None:
            self._cursor = slot
            self.toggle(slot, self._drag_value)

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802 - Qt override
        self._drag_value = None

    def keyPressEvent(self, event) -> None:  # noqa: N802 - Qt override
        key = event.key()
        moves = {Qt.Key.Key_Left: -1, Qt.Key.Key_Right: 1}
        if key in moves:
            self._cursor = max(0, min(SLOTS - 1, self._cursor + moves[key]))
        elif key == Qt.Key.Key_Home:
            self._cursor = 0
        elif key == Qt.Key.Key_End:
            self._cursor = SLOTS - 1
        elif key in (Qt.Key.Key_Space, Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.toggle(self._cursor)
        else:
            return super().keyPressEvent(event)
        self._describe()
        self.update()
        return None

    # --- painting ------------------------------------------------------------------

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt override
        s = theme.scheme()
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        strip = self._strip_rect()
        paint_pattern(painter, strip, self._pattern, self._playhead)
        if 0 <= self._playhead <= SLOTS:
            x = strip.left() + strip.width() * self._playhead / SLOTS
            painter.setPen(QPen(QColor(s.playhead), max(2.0, line_height(self) / 8)))
            painter.drawLine(round(x), round(strip.top() - 2), round(x), round(strip.bottom() + 2))
        if self.hasFocus():
            cell = self.slot_rect(self._cursor).adjusted(-1, -2, 1, 2)
            painter.setPen(QPen(QColor(s.focus), max(2.0, line_height(self) / 7)))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(cell, 3, 3)
        # The time axis under the strip.
        painter.setPen(QColor(s.muted))
        text_top = strip.bottom() + line_height(self) * 0.25
        height = line_height(self) * 1.2
        for ms, align in ((0, Qt.AlignmentFlag.AlignLeft), (PATTERN_MS // 2, Qt.AlignmentFlag.AlignHCenter),
                          (PATTERN_MS, Qt.AlignmentFlag.AlignRight)):
            label = f"{ms / 1000:g} s"
            x = strip.left() + strip.width() * ms / PATTERN_MS
            width = line_height(self) * 4
            left = {Qt.AlignmentFlag.AlignLeft: x, Qt.AlignmentFlag.AlignHCenter: x - width / 2,
                    Qt.AlignmentFlag.AlignRight: x - width}[align]
            painter.drawText(QRectF(left, text_top, width, height), align | Qt.AlignmentFlag.AlignTop, label)
        painter.end()


class PatternEditor(QWidget):
    """The strip, the presets, "Preview" and "Test on wearable".

    `pattern_edited(int)` fires on every change the user makes (slots or
    preset); `test_requested(int)` when "Test on wearable" is pressed. The owner
    answers with `show_test_result`.
    """

    pattern_edited = Signal(object)
    test_requested = Signal(object)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.strip = PatternStrip()
        self.presets = QComboBox()
        self.presets.addItem("Custom", None)
        for name, value in PRESETS:
            self.presets.addItem(name, value)
        named(self.presets, "Pattern preset", "Choose a ready-made pattern")
        presets_label = QLabel("Pre&set:")
        presets_label.setBuddy(self.presets)

        self.preview_button = named(QPushButton("Pre&view"), "Preview the pattern",
                                    "Plays the pattern on screen: a line runs across the slots")
        self.test_button = named(QPushButton("&Test on wearable"), "Test on wearable",
                                 "Plays the pattern once on the wearable")
        self.result = muted()
        self.result.setAccessibleName("Wearable test result")
        self.wearable = muted()
        self.wearable.setAccessibleName("Wearable connection")

        row = QHBoxLayout()
        row.addWidget(presets_label)
        row.addWidget(self.presets, 1)
        row.addSpacing(line_height(self))
        row.addWidget(self.preview_button)
        row.addWidget(self.test_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.strip)
        layout.addLayout(row)
        layout.addWidget(self.wearable)
        layout.addWidget(self.result)

        self._animation = QVariantAnimation(self)
        self._animation.setStartValue(0.0)
        self._animation.setEndValue(float(SLOTS))
        self._animation.setDuration(PATTERN_MS)
        self._animation.setEasingCurve(QEasingCurve.Type.Linear)
        self._animation.valueChanged.connect(self._on_playhead)
        self._animation.finished.connect(self._preview_done)

        self.strip.changed.connect(self._on_strip_changed)
        self.presets.activated.connect(self._on_preset)
        self.preview_button.clicked.connect(self.toggle_preview)
        self.test_button.clicked.connect(lambda: self.test_requested.emit(self.strip.pattern()))
        self.setTabOrder(self.strip, self.presets)
        self.setTabOrder(self.presets, self.preview_button)
        self.setTabOrder(self.preview_button, self.test_button)

    def pattern(self) -> int:
        return self.strip.pattern()

    def set_pattern(self, pattern: int) -> None:
        self.strip.set_pattern(pattern)
        self._sync_preset()
        self.result.clear()

    def _sync_preset(self) -> None:
        name = preset_name(self.strip.pattern())
        self.presets.setCurrentIndex(self.presets.findText(name) if name else 0)

    def _on_strip_changed(self, pattern: int) -> None:
        self._sync_preset()
        self.pattern_edited.emit(pattern)

    def _on_preset(self, index: int) -> None:
        value = self.presets.itemData(index)
        if value is None or value == self.strip.pattern():
            return
        self.strip.set_pattern(value)
        self.pattern_edited.emit(value)

    # --- preview -----------------------------------------------------------------------

    @property
    def previewing(self) -> bool:
        return self._animation.state() == QAbstractAnimation.State.Running

    def toggle_preview(self) -> None:
        if self.previewing:
            self._animation.stop()
            self._preview_done()
            return
        self.preview_button.setText("Stop pre&view")
        self._animation.start()

    def _on_playhead(self, value) -> None:
        self.strip.set_playhead(float(value))

    def _preview_done(self) -> None:
        self.strip.set_playhead(-1.0)
        self.preview_button.setText("Pre&view")

    # --- the wearable --------------------------------------------------------------------

    def show_wearable_state(self, text: str, connected: bool) -> None:
        self.wearable.setText(text)
        set_role(self.wearable, "ok" if connected else "muted")

    def show_test_result(self, text: str, ok: bool) -> None:
        self.result.setText(text)
        set_role(self.result, "ok" if ok else "bad")
