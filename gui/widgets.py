"""Small widgets shared by the views: headings, thumbnails, the QR code, the
sightings strip. Sizes come from the font, so they grow with it."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import qrcode

from facelink_local.timefmt import parse_iso

from . import theme
from .humanize import times, when
from .qt import (
    QColor,
    QFont,
    QFontMetrics,
    QFrame,
    QImage,
    QLabel,
    QPainter,
    QPen,
    QPixmap,
    QPushButton,
    QRectF,
    QSize,
    QSizePolicy,
    Qt,
    QVBoxLayout,
    QWidget,
)


def named(widget: QWidget, name: str, description: str | None = None) -> QWidget:
    """Give `widget` the name (and description) screen readers announce."""
    widget.setAccessibleName(name)
    if description:
        widget.setAccessibleDescription(description)
        if not widget.toolTip():
            widget.setToolTip(description)
    return widget


def line_height(widget: QWidget) -> int:
    return widget.fontMetrics().height()


def scaled_font(base: QFont, factor: float, bold: bool = False) -> QFont:
    """`base` made `factor` times larger, in points (never pixels)."""
    font = QFont(base)
    if font.pointSizeF() > 0:
        font.setPointSizeF(font.pointSizeF() * factor)
    font.setBold(bold)
    return font


def heading(text: str, level: int = 1, parent: QWidget | None = None) -> QLabel:
    label = QLabel(text, parent)
    label.setFont(scaled_font(label.font(), {1: 1.6, 2: 1.25, 3: 1.08}[level], bold=True))
    label.setAccessibleName(text.replace("&", ""))
    label.setWordWrap(True)
    return label


def muted(text: str = "", parent: QWidget | None = None, wrap: bool = True) -> QLabel:
    label = QLabel(text, parent)
    label.setProperty("role", "muted")
    label.setWordWrap(wrap)
    return label


def set_role(label: QLabel, role: str) -> None:
    """"ok", "bad" or "muted": a style-sheet colour; re-polished so it shows at once."""
    label.setProperty("role", role)
    label.style().unpolish(label)
    label.style().polish(label)


def primary(button: QPushButton) -> QPushButton:
    button.setProperty("primary", True)
    return button


def card() -> QFrame:
    frame = QFrame()
    frame.setObjectName("card")
    frame.setFrameShape(QFrame.Shape.NoFrame)
    return frame


def section(title: str) -> tuple[QFrame, QVBoxLayout]:
    """A card with a heading; add the section's content to the returned layout."""
    frame = card()
    layout = QVBoxLayout(frame)
    lh = line_height(frame)
    margin = round(lh * 0.9)
    layout.setContentsMargins(margin, round(lh * 0.7), margin, margin)
    layout.setSpacing(round(lh * 0.45))
    layout.addWidget(heading(title, 2))
    frame.setAccessibleName(title)
    return frame, layout


def pixmap_from_jpeg(data: bytes | None) -> QPixmap | None:
    if not data:
        return None
    pixmap = QPixmap()
    return pixmap if pixmap.loadFromData(data) else None


def placeholder_pixmap(side: int) -> QPixmap:
    """A neutral head silhouette for contacts without a kept face."""
    s = theme.scheme()
    pixmap = QPixmap(side, side)
    pixmap.fill(QColor(s.slot_off))
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(s.border))
    painter.drawEllipse(QRectF(side * 0.32, side * 0.16, side * 0.36, side * 0.4))
    painter.drawEllipse(QRectF(side * 0.14, side * 0.62, side * 0.72, side * 0.6))
    painter.end()
    return pixmap


def rounded(pixmap: QPixmap, side: int) -> QPixmap:
    """`pixmap` cropped to a square of `side` pixels with rounded corners."""
    scaled = pixmap.scaled(side, side, Qt.AspectRatioMode.KeepAspectRatioByExpanding,
                           Qt.TransformationMode.SmoothTransformation)
    out = QPixmap(side, side)
    out.fill(Qt.GlobalColor.transparent)
    painter = QPainter(out)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setBrush(scaled)
    painter.setPen(Qt.PenStyle.NoPen)
    offset = ((scaled.width() - side) / 2, (scaled.height() - side) / 2)
    painter.translate(-offset[0], -offset[1])
    painter.drawRoundedRect(QRectF(offset[0], offset[1], side, side), side * 0.12, side * 0.12)
    painter.end()
    return out


class Thumbnail(QLabel):
    """A face, `lines` text lines tall (so it follows the font size)."""

    def __init__(self, data: bytes | None, lines: float = 4.5, description: str = "", parent=None) -> None:
        super().__init__(parent)
        self._data = data
        self._lines = lines
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setAccessibleName(description or "face")
        self._render()

    def side(self) -> int:
        return max(32, round(line_height(self) * self._lines))

    def set_data(self, data: bytes | None) -> None:
        self._data = data
        self._render()

    def _render(self) -> None:
        side = self.side()
        source = pixmap_from_jpeg(self._data) or placeholder_pixmap(side)
        self.setPixmap(rounded(source, side))
        self.setFixedSize(side, side)

    def changeEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().changeEvent(event)
        if event.type() == event.Type.FontChange:
            self._render()


class QrCode(QWidget):
    """The QR code of a text (a URL), drawn crisp at any size, dark on white."""

    def __init__(self, text: str = "", parent=None) -> None:
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self._matrix: list[list[bool]] = []
        self.set_text(text)

    def set_text(self, text: str) -> None:
        self._text = text
        if text:
            code = qrcode.QRCode(border=3, error_correction=qrcode.constants.ERROR_CORRECT_M)
            code.add_data(text)
            code.make(fit=True)
            self._matrix = code.get_matrix()
        else:
            self._matrix = []
        self.setAccessibleName(f"QR code of {text}" if text else "QR code")
        self.setAccessibleDescription("Scan it with the device's camera to open this address")
        self.setToolTip(text)
        self.updateGeometry()
        self.update()

    def text(self) -> str:
        return self._text

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt override
        side = max(len(self._matrix) * 4, line_height(self) * 10)
        return QSize(side, side)

    def image(self, module_px: int = 8) -> QImage:
        """The code as an image (for tests: decodable by any QR reader)."""
        n = len(self._matrix)
        img = QImage(n * module_px, n * module_px, QImage.Format.Format_RGB32)
        img.fill(QColor("#ffffff"))
        painter = QPainter(img)
        self._paint_modules(painter, module_px)
        painter.end()
        return img

    def _paint_modules(self, painter: QPainter, module: float, x0: float = 0, y0: float = 0) -> None:
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor("#000000"))
        for y, row in enumerate(self._matrix):
            for x, dark in enumerate(row):
                if dark:
                    painter.drawRect(QRectF(x0 + x * module, y0 + y * module, module, module))

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt override
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor("#ffffff"))  # QR codes need a light background
        n = len(self._matrix)
        if n:
            module = max(1, min(self.width(), self.height()) // n)  # whole pixels: crisp edges
            x0 = (self.width() - module * n) / 2
            y0 = (self.height() - module * n) / 2
            self._paint_modules(painter, module, x0, y0)
        painter.end()


class SightingsStrip(QWidget):
    """When someone was seen: a tick per sighting over the last `days` days, today at the right."""

    def __init__(self, stamps: list[str], days: float = 14, parent=None) -> None:
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.set_sightings(stamps, days)

    def set_sightings(self, stamps: list[str], days: float = 14, now: datetime | None = None) -> None:
        self._now = now or datetime.now(timezone.utc)
        self._days = max(1.0, float(days))
        self._moments = [parse_iso(s) for s in stamps]
        span = f"the last {self._days:g} days"
        text = f"Seen {times(len(stamps))} in {span}"
        if stamps:
            text += f", first {when(stamps[0])}, last {when(stamps[-1])}"
        self.setAccessibleName("Sightings over time")
        self.setAccessibleDescription(text)
        self.setToolTip(text)
        self.update()

    def _label_font(self) -> QFont:
        return scaled_font(self.font(), 0.85)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt override
        lh = line_height(self)
        return QSize(lh * 16, round(lh * 1.2) + QFontMetrics(self._label_font()).height() + 4)

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt override
        return QSize(line_height(self) * 8, self.sizeHint().height())

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt override
        s = theme.scheme()
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        bar_height = round(line_height(self) * 1.2)
        r = QRectF(1, 1, self.width() - 2, bar_height - 2)
        painter.setPen(QPen(QColor(s.card_border), 1))
        painter.setBrush(QColor(s.window))
        painter.drawRoundedRect(r, r.height() / 4, r.height() / 4)
        # One faint mark per day, so the strip reads as a calendar.
        whole_days = int(self._days)
        for d in range(1, whole_days):
            x = r.left() + r.width() * d / self._days
            painter.drawLine(round(x), round(r.top() + r.height() * 0.7), round(x), round(r.bottom() - 2))
        start = self._now - timedelta(days=self._days)
        tick = max(3.0, r.width() / 180)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(s.accent))
        for moment in self._moments:
            fraction = (moment - start).total_seconds() / (self._days * 86400)
            fraction = min(1.0, max(0.0, fraction))
            x = r.left() + 3 + (r.width() - 6 - tick) * fraction
            painter.drawRoundedRect(QRectF(x, r.top() + 3, tick, r.height() - 6), tick / 2, tick / 2)
        # What the ends mean.
        painter.setFont(self._label_font())
        painter.setPen(QColor(s.muted))
        labels = QRectF(r.left() + 2, r.bottom() + 2, r.width() - 4, self.height() - r.bottom() - 2)
        painter.drawText(labels, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop, f"{self._days:g} days ago")
        painter.drawText(labels, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop, "now")
        painter.end()
