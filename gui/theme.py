"""Colours with checked contrast, and a style sheet sized in font units.

Sizes in the style sheet are in `em`, so everything grows with the system font
size; nothing sets a pixel font size. Every text colour is at least 7:1
against the background it is drawn on (WCAG AAA for body text), and controls'
borders, slots and focus rings at least 3:1 (WCAG's rule for UI parts);
`tests/gui/test_accessibility.py` checks every pair listed in `TEXT_PAIRS` and
`UI_PAIRS`. A dark desktop gets the dark scheme.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from .qt import QApplication, QColor, QPalette, Qt


@dataclass(frozen=True)
class Scheme:
    window: str        # page background
    card: str          # cards, lists, inputs
    text: str
    muted: str         # secondary text
    accent: str        # primary buttons, selection, "on" slots
    on_accent: str     # text on accent
    border: str        # control borders
    focus: str         # focus ring
    slot_off: str      # an empty slot in the pattern strip
    playhead: str
    ok: str            # "connected", "saved"
    bad: str           # errors, "not connected"
    button: str
    card_border: str
    selection: str     # a selected list row (text keeps its own colours)


LIGHT = Scheme(
    window="#eef1f5", card="#ffffff", text="#14181f", muted="#3f4957", accent="#0b4fa8",
    on_accent="#ffffff", border="#6a7585", focus="#b0410a", slot_off="#e3e8ee", playhead="#b0410a",
    ok="#0f5a27", bad="#9b1c14", button="#e1e6ed", card_border="#c3cad4", selection="#d6e4f8",
)
DARK = Scheme(
    window="#15191f", card="#1f252d", text="#f2f5f8", muted="#c4ccd6", accent="#8cc4ff",
    on_accent="#0a1726", border="#8792a2", focus="#ffb066", slot_off="#343c47", playhead="#ffb066",
    ok="#8fe3a6", bad="#ffaaa3", button="#2c343e", card_border="#47505c", selection="#22395a",
)

# (foreground, background) that carry text: at least 7:1.
TEXT_PAIRS = [("text", "window"), ("text", "card"), ("muted", "window"), ("muted", "card"),
              ("on_accent", "accent"), ("text", "button"), ("ok", "card"), ("bad", "card"),
              ("ok", "window"), ("bad", "window"), ("accent", "card"),
              ("text", "selection"), ("muted", "selection")]
# UI parts that must stand out from their background: at least 3:1.
UI_PAIRS = [("border", "card"), ("border", "window"), ("focus", "card"), ("focus", "window"),
            ("accent", "slot_off"), ("playhead", "card"), ("border", "slot_off"), ("focus", "button"),
            ("accent", "selection"), ("focus", "selection")]


def relative_luminance(color: str) -> float:
    """WCAG 2 relative luminance of "#rrggbb"."""
    channels = [int(color[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    la, lb = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


_current = LIGHT


def scheme() -> Scheme:
    """The scheme in use (after `apply`)."""
    return _current


def system_prefers_dark(app: QApplication) -> bool:
    try:
        return app.styleHints().colorScheme() == Qt.ColorScheme.Dark
    except AttributeError:  # older Qt
        return False


def palette_for(s: Scheme) -> QPalette:
    p = QPalette()
    role = QPalette.ColorRole
    for group in (QPalette.ColorGroup.Active, QPalette.ColorGroup.Inactive):
        for r, value in ((role.Window, s.window), (role.WindowText, s.text), (role.Base, s.card),
                         (role.AlternateBase, s.window), (role.Text, s.text), (role.Button, s.button),
                         (role.ButtonText, s.text), (role.Highlight, s.accent),
                         (role.HighlightedText, s.on_accent), (role.ToolTipBase, s.card),
                         (role.ToolTipText, s.text), (role.PlaceholderText, s.muted), (role.Link, s.accent),
                         (role.Mid, s.border), (role.Dark, s.border)):
            p.setColor(group, r, QColor(value))
    # Disabled text stays readable (4.5:1 is kept by `muted`).
    for r, value in ((role.WindowText, s.muted), (role.Text, s.muted), (role.ButtonText, s.muted),
                     (role.Window, s.window), (role.Base, s.card), (role.Button, s.button)):
        p.setColor(QPalette.ColorGroup.Disabled, r, QColor(value))
    return p


def style_sheet(s: Scheme) -> str:
    return f"""
QWidget {{ color: {s.text}; }}
QMainWindow, QStackedWidget#pages, QScrollArea, QScrollArea > QWidget > QWidget#scrollBody {{ background: {s.window}; }}
QLabel[role="muted"] {{ color: {s.muted}; }}
QLabel[role="ok"] {{ color: {s.ok}; font-weight: bold; }}
QLabel[role="bad"] {{ color: {s.bad}; font-weight: bold; }}
QFrame#card {{ background: {s.card}; border: 1px solid {s.card_border}; border-radius: 0.6em; }}
QFrame#card QLabel {{ background: transparent; }}
QFrame#header {{ background: {s.card}; border-bottom: 1px solid {s.card_border}; }}
QPushButton {{
    background: {s.button}; color: {s.text}; border: 1px solid {s.border};
    border-radius: 0.35em; padding: 0.4em 1em; min-height: 1.3em;
}}
QPushButton:hover {{ border-color: {s.text}; }}
QPushButton:focus {{ border: 2px solid {s.focus}; }}
QPushButton:disabled {{ color: {s.muted}; border-color: {s.card_border}; }}
QPushButton[primary="true"] {{ background: {s.accent}; color: {s.on_accent}; border-color: {s.accent}; font-weight: bold; }}
QPushButton[primary="true"]:focus {{ border: 2px solid {s.focus}; }}
QPushButton[primary="true"]:disabled {{ background: {s.button}; color: {s.muted}; border-color: {s.card_border}; }}
QLineEdit {{
    background: {s.card}; color: {s.text}; border: 1px solid {s.border};
    border-radius: 0.3em; padding: 0.3em 0.4em; min-height: 1.3em;
    selection-background-color: {s.accent}; selection-color: {s.on_accent};
}}
QLineEdit:focus {{ border: 2px solid {s.focus}; }}
QSpinBox, QDoubleSpinBox, QComboBox {{ min-height: 1.7em; min-width: 6em; }}
QListView, QTableWidget {{ background: {s.card}; border: 1px solid {s.card_border}; border-radius: 0.4em; }}
QTableWidget::item {{ padding: 0.3em 0.4em; }}
QListView:focus, QTableWidget:focus {{ border: 2px solid {s.focus}; }}
QTabWidget::pane {{ border: none; }}
QTabBar::tab {{
    background: {s.window}; color: {s.muted}; padding: 0.55em 1.4em; margin-right: 0.2em;
    border: 1px solid transparent; border-bottom: 3px solid transparent;
}}
QTabBar::tab:selected {{ color: {s.text}; border-bottom: 3px solid {s.accent}; font-weight: bold; }}
QTabBar::tab:focus {{ border: 2px solid {s.focus}; border-radius: 0.35em; }}
QCheckBox:focus, QRadioButton:focus {{ color: {s.text}; border: 1px dashed {s.focus}; }}
QToolTip {{ background: {s.card}; color: {s.text}; border: 1px solid {s.border}; }}
QStatusBar {{ background: {s.card}; border-top: 1px solid {s.card_border}; }}
"""


def apply(app: QApplication, dark: bool | None = None) -> Scheme:
    """Fusion, the scheme's palette and style sheet; `dark` None follows the desktop."""
    global _current
    dark = system_prefers_dark(app) if dark is None else dark
    _current = DARK if dark else LIGHT
    app.setStyle("Fusion")
    app.setPalette(palette_for(_current))
    app.setStyleSheet(style_sheet(_current))
    return _current


def colors(s: Scheme) -> dict[str, str]:
    return {f.name: getattr(s, f.name) for f in fields(s)}
